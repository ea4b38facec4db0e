namespace Scheduler.Modules.Runs.Engine;

internal enum TriggerDecision
{
    /// <summary>Not decidable yet: upstream tasks are still to finish.</summary>
    Wait,
    Run,
    Skip,
    UpstreamFailed,
}

/// <summary>
/// Airflow's trigger rules, decided from the states of a task's upstream tasks. Rules that
/// can be decided early are (<c>one_success</c> fires on the first success, <c>one_failed</c>
/// on the first failure, <c>always</c> at once); the others wait for every upstream task to
/// finish. A cancelled upstream counts as failed.
/// </summary>
internal static class TriggerRuleEvaluator
{
    public static TriggerDecision Evaluate(string rule, IReadOnlyCollection<string> upstreamStates)
    {
        if (rule == "always" || upstreamStates.Count == 0)
            return TriggerDecision.Run;

        int success = 0, failed = 0, skipped = 0, done = 0;
        foreach (var state in upstreamStates)
        {
            if (!TaskStates.IsFinal(state))
                continue;
            done++;
            if (state == TaskStates.Success)
                success++;
            else if (state == TaskStates.Skipped)
                skipped++;
            else
                failed++; // failed, upstream_failed, cancelled
        }
        var allDone = done == upstreamStates.Count;

        switch (rule)
        {
            case "one_success":
                if (success > 0)
                    return TriggerDecision.Run;
                if (!allDone)
                    return TriggerDecision.Wait;
                return failed > 0 ? TriggerDecision.UpstreamFailed : TriggerDecision.Skip;
            case "one_failed":
                if (failed > 0)
                    return TriggerDecision.Run;
                return allDone ? TriggerDecision.Skip : TriggerDecision.Wait;
        }
        if (!allDone)
            return TriggerDecision.Wait;
        return rule switch
        {
            "all_success" => failed > 0 ? TriggerDecision.UpstreamFailed : skipped > 0 ? TriggerDecision.Skip : TriggerDecision.Run,
            "all_failed" => failed == done ? TriggerDecision.Run : TriggerDecision.Skip,
            "all_done" => TriggerDecision.Run,
            "none_failed" => failed > 0 ? TriggerDecision.UpstreamFailed : TriggerDecision.Run,
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown trigger rule"),
        };
    }
}
