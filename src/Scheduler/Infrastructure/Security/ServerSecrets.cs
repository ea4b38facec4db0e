using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Scheduler.Infrastructure.Security;

/// <summary>
/// The server's own secrets among its environment variables (connection strings, keys,
/// passwords), and keeping them from the tasks it runs: they are left out of a task's
/// environment, and <see cref="ScrubProcessEnvironment"/> erases them from the process's
/// initial environment block, the memory <c>/proc/&lt;pid&gt;/environ</c> shows, so a task
/// running as the same OS user cannot read them there either.
/// </summary>
internal static class ServerSecrets
{
    /// <summary>Variables whose name starts with one of these are secrets.</summary>
    public static readonly string[] Prefixes = ["ConnectionStrings__", "Auth__", "Secrets__", "SCHEDULER_TEST_CONNECTION", "SCHEDULER_PG_ADMIN_CONNECTION", "PGPASSWORD"];

    public static bool IsSecret(string variable) => Prefixes.Any(p => variable.StartsWith(p, StringComparison.Ordinal));

    /// <summary>At start-up, once configuration has read them: <see cref="ScrubProcessEnvironment"/>, and says what it did.</summary>
    public static void HideSecretsFromTasks(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerSecrets));
        switch (ScrubProcessEnvironment())
        {
            case null when OperatingSystem.IsLinux():
                logger.LogWarning("Could not erase the server's secrets from its environment block: a shell task of the same OS user can read them in /proc/{Pid}/environ", Environment.ProcessId);
                break;
            case > 0 and var erased:
                logger.LogInformation("Erased {Count} secret variable(s) from the process environment block (/proc/{Pid}/environ)", erased, Environment.ProcessId);
                break;
        }
    }

    /// <summary>
    /// Overwrites with NUL bytes every secret "NAME=value" of the environment block the kernel
    /// gave the process (from <c>env_start</c> to <c>env_end</c> in <c>/proc/self/stat</c>).
    /// .NET keeps its own copy of the environment, read before this (and forced to be made
    /// here), so configuration, <see cref="Environment.GetEnvironmentVariable(string)"/> and
    /// child processes still see every variable; only what another process of the same user
    /// can read through /proc is gone. Setting a variable to null would not do: the block is
    /// not the C library's or .NET's copy. Returns the variables erased; null when the block
    /// could not be found (not Linux, or it does not match /proc/self/environ), and nothing
    /// was written.
    /// </summary>
    public static int? ScrubProcessEnvironment()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        // Makes .NET copy the environment now if it has not yet: the copy is what it reads from here on.
        Environment.SetEnvironmentVariable("SCHEDULER_ENVIRONMENT_COPIED", "1");
        Environment.SetEnvironmentVariable("SCHEDULER_ENVIRONMENT_COPIED", null);
        if (Block() is not { } block)
            return null;
        var bytes = new byte[block.Length];
        Marshal.Copy(block.Start, bytes, 0, bytes.Length);
        if (!bytes.AsSpan().SequenceEqual(File.ReadAllBytes("/proc/self/environ")))
            return null;
        var erased = 0;
        for (var at = 0; at < bytes.Length;)
        {
            var end = Array.IndexOf(bytes, (byte)0, at);
            if (end < 0)
                end = bytes.Length;
            var entry = Encoding.UTF8.GetString(bytes, at, end - at);
            var name = entry.Split('=', 2)[0];
            if (name.Length > 0 && IsSecret(name))
            {
                Marshal.Copy(new byte[end - at], 0, block.Start + at, end - at);
                erased++;
            }
            at = end + 1;
        }
        return erased;
    }

    /// <summary>The environment block's address and length, from fields 50 and 51 of /proc/self/stat (Linux 3.5 and later).</summary>
    private static (nint Start, int Length)? Block()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // Fields after the command name, which is in parentheses and may hold spaces: field 3 first.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length < 49)
                return null;
            var start = long.Parse(fields[47], CultureInfo.InvariantCulture);
            var end = long.Parse(fields[48], CultureInfo.InvariantCulture);
            return end > start && end - start < 16 * 1024 * 1024 ? ((nint)start, (int)(end - start)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }
}
