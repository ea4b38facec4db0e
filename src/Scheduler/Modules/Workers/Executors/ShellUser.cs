using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// The OS account shell tasks run as when <c>Workers:Shell:RunAsUser</c> names one: the task
/// is started through <c>setpriv</c> (which changes the real and effective user and group,
/// and the supplementary groups, then execs; no process of its own stays between the server
/// and the task), with that account's HOME, USER and LOGNAME, in a working folder it owns.
/// Another user cannot read the server's /proc entries (environ, memory), its files of mode
/// 0600, or signal it. Switching users needs the server to run as root (or with CAP_SETUID,
/// CAP_SETGID and CAP_CHOWN); without it every shell task fails, with setpriv's reason in its log.
/// </summary>
internal sealed partial record ShellUser(string Name, uint Uid, uint Gid, string Home)
{
    /// <summary>The account named <paramref name="name"/> (from the system's user database), null for none; throws when it does not exist.</summary>
    public static ShellUser? Resolve(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return null;
        var getent = Process.Start(new ProcessStartInfo("getent") { ArgumentList = { "passwd", name.Trim() }, RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("getent could not be started to look up Workers:Shell:RunAsUser.");
        var line = getent.StandardOutput.ReadToEnd().Trim();
        getent.WaitForExit();
        // name:password:uid:gid:gecos:home:shell
        var fields = line.Split(':');
        if (getent.ExitCode != 0 || fields.Length < 7
            || !uint.TryParse(fields[2], CultureInfo.InvariantCulture, out var uid) || !uint.TryParse(fields[3], CultureInfo.InvariantCulture, out var gid))
            throw new InvalidOperationException($"Workers:Shell:RunAsUser names '{name}', which is not a user of this system.");
        return new ShellUser(fields[0], uid, gid, fields[5]);
    }

    /// <summary>Starts <paramref name="start"/>'s program through setpriv as this user, with its identity variables.</summary>
    public void Apply(ProcessStartInfo start)
    {
        var program = start.FileName;
        start.FileName = File.Exists("/usr/bin/setpriv") ? "/usr/bin/setpriv" : "setpriv";
        string[] switchUser = [$"--reuid={Uid}", $"--regid={Gid}", "--init-groups", "--", program];
        for (var i = 0; i < switchUser.Length; i++)
            start.ArgumentList.Insert(i, switchUser[i]);
        start.Environment["HOME"] = Home;
        start.Environment["USER"] = Name;
        start.Environment["LOGNAME"] = Name;
    }

    /// <summary>Gives this user <paramref name="folder"/> and everything in it (the attempt's own folder).</summary>
    public void Own(string folder)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Prepend(folder))
            if (Lchown(path, Uid, Gid) != 0)
                throw new IOException($"could not give {path} to user {Name} (errno {Marshal.GetLastPInvokeError()}): Workers:Shell:RunAsUser needs the server to run as root");
    }

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Lchown(string path, uint owner, uint group);
}
