using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// A real SMTP server on loopback: Debian's aiosmtpd (python3-aiosmtpd, installed by test.sh)
/// with its Mailbox handler, which stores every message it accepts in a Maildir.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _maildir;

    public int Port { get; }

    private SmtpSink(Process process, string maildir, int port) => (_process, _maildir, Port) = (process, maildir, port);

    public static async Task<SmtpSink> StartAsync()
    {
        var port = Loopback.FreePort();
        var maildir = Directory.CreateTempSubdirectory("scheduler-smtp-").FullName;
        // Debian's interpreter: the package installs the module for /usr/bin/python3 only.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", Path.Combine(maildir, "box") })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            Assert.False(process.HasExited, "aiosmtpd exited at start: is python3-aiosmtpd installed? (test.sh installs it)");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new SmtpSink(process, maildir, port);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task<List<MimeMessage>> WaitForMessagesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        var folder = Path.Combine(_maildir, "box", "new");
        while (true)
        {
            var files = Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
            if (files.Length >= count || DateTime.UtcNow > deadline)
            {
                Assert.True(files.Length >= count, $"expected {count} mails, got {files.Length}");
                return files.Select(f => MimeMessage.Load(f)).ToList();
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
