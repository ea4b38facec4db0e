using Scheduler.Infrastructure.Telemetry;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class DagSeriesFilterTests
{
    private const string Exposition = """
        # HELP target_info Target metadata
        # TYPE target_info gauge
        target_info{service_name="scheduler"} 1
        # TYPE scheduler_runs_created_total counter
        # HELP scheduler_runs_created_total Runs created
        scheduler_runs_created_total{otel_scope_name="Scheduler",run_type="manual",dag="a1"} 2 1700000000000
        scheduler_runs_created_total{otel_scope_name="Scheduler",run_type="manual",dag="b1"} 5 1700000000000
        # TYPE scheduler_task_duration_seconds histogram
        scheduler_task_duration_seconds_bucket{dag="b1",le="0.005"} 1
        scheduler_task_duration_seconds_count{dag="b1"} 1
        # TYPE scheduler_task_instances gauge
        scheduler_task_instances{state="queued",pool="default"} 3
        # TYPE http_server_request_duration_seconds histogram
        http_server_request_duration_seconds_count{http_route="/api/v1/dags/{name}",xdag="a1"} 9
        # EOF

        """;

    [Fact]
    public void KeepsOnlyTheGivenDagsSeries_WithTheirFamilysHeaders()
    {
        var kept = DagSeriesFilter.Keep(Exposition, new HashSet<string> { "a1" });
        Assert.Equal("""
            # TYPE scheduler_runs_created_total counter
            # HELP scheduler_runs_created_total Runs created
            scheduler_runs_created_total{otel_scope_name="Scheduler",run_type="manual",dag="a1"} 2 1700000000000
            # EOF

            """, kept);
    }

    [Fact]
    public void NoDags_LeavesOnlyTheEnd()
    {
        Assert.Equal("# EOF\n", DagSeriesFilter.Keep(Exposition, new HashSet<string>()));
        Assert.Equal("", DagSeriesFilter.Keep("x 1\n# TYPE y counter\ny{dag=\"a\"} 1\n", new HashSet<string>()));
    }

    [Theory]
    [InlineData("m{dag=\"a\"} 1", "a")]
    [InlineData("m{state=\"x\",dag=\"etl_daily\"} 1", "etl_daily")]
    [InlineData("m{route=\"/d,dag=\\\"b\\\"\",dag=\"c\"} 1", "c")]
    [InlineData("m{xdag=\"a\"} 1", null)]
    [InlineData("m 1", null)]
    [InlineData("m{dag=\"unterminated} 1", null)]
    [InlineData("m{dag=a} 1", null)]
    public void DagOf_ReadsTheDagLabel_AndNothingLikeIt(string line, string? dag) =>
        Assert.Equal(dag, DagSeriesFilter.DagOf(line));
}
