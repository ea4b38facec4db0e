using System.Text.RegularExpressions;

namespace Scheduler.Infrastructure.Validation;

/// <summary>The one pattern for names used in URLs: DAGs, tasks, pools, channels, connections.</summary>
internal static partial class Names
{
    public const string PatternText = "^[A-Za-z0-9_.-]{1,200}$";

    [GeneratedRegex(PatternText)]
    public static partial Regex Pattern();
}
