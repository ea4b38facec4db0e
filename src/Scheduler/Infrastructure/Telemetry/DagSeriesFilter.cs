using System.Text;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// Cuts a Prometheus text exposition (0.0.4, or OpenMetrics) down to the series whose
/// <c>dag</c> label names one of a set of DAGs: what a team-only caller of <c>/metrics</c> may
/// see (<see cref="MetricsAccess"/>). Series without a <c>dag</c> label describe the whole
/// cluster or this process and are left out too. A family's <c># HELP</c>, <c># TYPE</c> and
/// <c># UNIT</c> lines are kept only when one of its samples is; <c># EOF</c> always is.
/// </summary>
internal static class DagSeriesFilter
{
    public static string Keep(string exposition, IReadOnlySet<string> dags)
    {
        var output = new StringBuilder();
        var header = new List<string>();
        var headerWritten = false;
        var inSamples = false;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length == 0)
                continue;
            if (line.StartsWith("# EOF", StringComparison.Ordinal))
            {
                output.Append(line).Append('\n');
                continue;
            }
            if (line[0] == '#')
            {
                if (inSamples)
                {
                    header.Clear();
                    headerWritten = false;
                    inSamples = false;
                }
                header.Add(line);
                continue;
            }
            inSamples = true;
            if (DagOf(line) is not { } dag || !dags.Contains(dag))
                continue;
            if (!headerWritten)
            {
                foreach (var h in header)
                    output.Append(h).Append('\n');
                headerWritten = true;
            }
            output.Append(line).Append('\n');
        }
        return output.ToString();
    }

    /// <summary>The value of the <c>dag</c> label of one sample line, or null when it has none (or the line is malformed).</summary>
    public static string? DagOf(string sample)
    {
        var open = sample.IndexOf('{');
        var space = sample.IndexOf(' ');
        if (open < 0 || (space >= 0 && space < open))
            return null;
        var i = open + 1;
        while (i < sample.Length && sample[i] != '}')
        {
            var equals = sample.IndexOf('=', i);
            if (equals < 0 || equals + 1 >= sample.Length || sample[equals + 1] != '"')
                return null;
            var name = sample[i..equals].Trim();
            var value = new StringBuilder();
            var j = equals + 2;
            for (; j < sample.Length && sample[j] != '"'; j++)
            {
                if (sample[j] == '\\' && j + 1 < sample.Length)
                {
                    j++;
                    value.Append(sample[j] == 'n' ? '\n' : sample[j]);
                }
                else
                    value.Append(sample[j]);
            }
            if (j >= sample.Length)
                return null;
            if (name == "dag")
                return value.ToString();
            i = j + 1;
            if (i < sample.Length && sample[i] == ',')
                i++;
        }
        return null;
    }
}
