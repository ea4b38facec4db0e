using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Serilog.Core;
using Serilog.Events;

namespace Scheduler.IntegrationTests.Access;

/// <summary>A server started with no admin key anywhere generates one into a 0600 file and logs only its prefix and the path.</summary>
public sealed class BootstrapKeyTests(ServerFixture server) : ServerTest(server)
{
    private sealed class LogSink : ILogEventSink
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public void Emit(LogEvent logEvent)
        {
            using var text = new StringWriter();
            logEvent.RenderMessage(text);
            Lines.Enqueue(text + " " + string.Join(" ", logEvent.Properties.Select(p => $"{p.Key}={p.Value}")) + " " + logEvent.Exception);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task GeneratedKey_GoesToA0600File_AndTheLogShowsOnlyItsPrefix()
    {
        await TestDatabase.ScalarAsync<int>("delete from access.api_keys");
        var folder = Path.Combine(Directory.CreateTempSubdirectory("scheduler-it-bootstrap-").FullName, "secrets");
        var path = Path.Combine(folder, "admin-key");
        var sink = new LogSink();
        await using (var fresh = new ExtraServer(
            new Dictionary<string, string?> { ["Auth:BootstrapAdminKey"] = null, ["Auth:BootstrapKeyFile"] = path },
            services => services.AddSingleton<ILogEventSink>(sink)))
        {
            Assert.True(File.Exists(path), "no key file");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            var key = (await File.ReadAllTextAsync(path)).Trim();
            Assert.StartsWith("sk_", key);
            Assert.Equal([path], Directory.EnumerateFiles(folder));

            using var client = fresh.NewClient(key);
            var keys = await client.GetAsync("api-keys").ExpectAsync(HttpStatusCode.OK);
            var generated = keys.GetProperty("items").EnumerateArray().Single();
            Assert.Equal("admin", generated.GetProperty("role").GetString());

            var logged = string.Join("\n", sink.Lines);
            Assert.DoesNotContain(key, logged);
            var line = Assert.Single(sink.Lines, l => l.Contains("generated one", StringComparison.Ordinal));
            Assert.Contains(key[..10], line);
            Assert.Contains(path, line);
        }

        // A restart finds the admin key and generates none: the file stays as it was.
        var written = File.GetLastWriteTimeUtc(path);
        await using (var again = new ExtraServer(new Dictionary<string, string?> { ["Auth:BootstrapAdminKey"] = null, ["Auth:BootstrapKeyFile"] = path }))
            Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from access.api_keys"));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
    }
}
