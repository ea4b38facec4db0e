namespace Scheduler.Pages.Admin;

/// <summary>
/// A line diff of two definitions (canonical JSON, indented): common prefix and suffix are
/// cut first, then the middle is diffed by longest common subsequence. The table is capped
/// so a huge rewrite costs bounded time; beyond the cap the middle shows as removed + added.
/// </summary>
internal static class TextDiff
{
    public enum Op { Same, Removed, Added }

    public sealed record Line(Op Op, string Text);

    public const long MaxCells = 4_000_000;

    public static IReadOnlyList<Line> Compare(string before, string after)
    {
        var a = before.Split('\n');
        var b = after.Split('\n');
        var start = 0;
        while (start < a.Length && start < b.Length && a[start] == b[start])
            start++;
        int endA = a.Length, endB = b.Length;
        while (endA > start && endB > start && a[endA - 1] == b[endB - 1])
        {
            endA--;
            endB--;
        }
        var result = new List<Line>();
        result.AddRange(a[..start].Select(t => new Line(Op.Same, t)));
        var n = endA - start;
        var m = endB - start;
        if ((long)n * m > MaxCells)
        {
            result.AddRange(a[start..endA].Select(t => new Line(Op.Removed, t)));
            result.AddRange(b[start..endB].Select(t => new Line(Op.Added, t)));
        }
        else
        {
            var lcs = new int[n + 1, m + 1];
            for (var i = n - 1; i >= 0; i--)
                for (var j = m - 1; j >= 0; j--)
                    lcs[i, j] = a[start + i] == b[start + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            int x = 0, y = 0;
            while (x < n || y < m)
            {
                if (x < n && y < m && a[start + x] == b[start + y])
                {
                    result.Add(new Line(Op.Same, a[start + x]));
                    x++;
                    y++;
                }
                else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
                    result.Add(new Line(Op.Removed, a[start + x++]));
                else
                    result.Add(new Line(Op.Added, b[start + y++]));
            }
        }
        result.AddRange(a[endA..].Select(t => new Line(Op.Same, t)));
        return result;
    }
}
