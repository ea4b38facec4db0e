using System.Text;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// A shell task's environment, within what Linux lets a process start with: one variable's
/// "NAME=value" may hold at most 128 KiB (MAX_ARG_STRLEN), and a larger one makes exec fail
/// with "Argument list too long" before the task runs at all. A value over
/// <see cref="MaxInlineBytes"/> is therefore written to a file in the attempt's folder and
/// <c>NAME_FILE</c> names it, while <c>NAME</c> itself stays unset; <c>SCHEDULER_PARAMS</c>
/// always has its file (<c>SCHEDULER_PARAMS_FILE</c>), so a script can read it one way
/// whatever its size. The folder is the attempt's and is deleted when it ends.
/// </summary>
internal sealed class TaskEnvironment(IDictionary<string, string?> environment, string folder)
{
    /// <summary>Well under the kernel's 128 KiB per variable, leaving room for the rest of the environment.</summary>
    public const int MaxInlineBytes = 64 * 1024;

    private int _files;

    /// <summary><paramref name="name"/>=<paramref name="value"/>, or <c>NAME_FILE</c> naming a file with it when it is too large.</summary>
    public void Set(string name, string value) => Set(name, value, alwaysFile: false);

    /// <summary>Like <see cref="Set(string, string)"/>, and <c>NAME_FILE</c> is there whatever the size.</summary>
    public void SetWithFile(string name, string value) => Set(name, value, alwaysFile: true);

    private void Set(string name, string value, bool alwaysFile)
    {
        var inline = Encoding.UTF8.GetByteCount(value) <= MaxInlineBytes;
        if (inline)
            environment[name] = value;
        else
            environment.Remove(name);
        if (inline && !alwaysFile)
            return;
        // Named by position: a variable's name may hold characters a file name cannot.
        var path = Path.Combine(folder, $"env-{++_files}.value");
        File.WriteAllText(path, value, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        environment[name + "_FILE"] = path;
    }
}
