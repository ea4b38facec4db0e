using System.Text.Json;
using Scheduler.Infrastructure.Json;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.UnitTests.Dags;

public sealed class DagDefinitionValidatorTests
{
    private sealed class FixedTypes(params string[] types) : ITaskTypeSource
    {
        public ValueTask<IReadOnlySet<string>> GetTypesAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlySet<string>>(new HashSet<string>(types));
    }

    private sealed class FixedCalendars(params string[] names) : ICalendarNames
    {
        public ValueTask<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> asked, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlySet<string>>(asked.Where(names.Contains).ToHashSet());
    }

    private static readonly DagDefinitionValidator Validator = new(new FixedTypes("noop", "shell", "http", "sql", "spark"), new ScheduleRulesValidator(new FixedCalendars("holidays")));

    private static Dictionary<string, string[]> Errors(string json)
    {
        var definition = JsonSerializer.Deserialize<DagDefinition>(json, JsonConventions.Options)!;
        return Validator.ValidateAsync(definition).GetAwaiter().GetResult().Errors.GroupBy(e => e.PropertyName).ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray());
    }

    [Fact]
    public void Validate_AcceptsSeedSample()
    {
        Assert.Empty(Errors("""{"name":"daily_report","cron":"0 9 * * *","tasks":[{"id":"fetch_data","type":"http","uri":"http://127.0.0.1:9/data"},{"id":"transform","depends_on":["fetch_data"]},{"id":"send_report","depends_on":["transform"]}]}"""));
    }

    [Fact]
    public void Validate_KeysErrorsByJsonPath_WhenNested()
    {
        var errors = Errors("""{"name":"d","tasks":[{"id":"a"},{"id":"b","depends_on":["a",""]},{"id":"c","retries":101}]}""");
        Assert.Contains("tasks[1].depends_on[1]", errors.Keys);
        Assert.Contains("tasks[2].retries", errors.Keys);
    }

    [Fact]
    public void Validate_AcceptsPluginTypeWithOwnFields_ButNotOnBuiltIns()
    {
        Assert.Empty(Errors("""{"name":"d","tasks":[{"id":"a","type":"spark","jar":"x.jar"}]}"""));
        Assert.Equal(["unknown field 'jar'."], Errors("""{"name":"d","tasks":[{"id":"a","type":"shell","command":"true","jar":"x.jar"}]}""")["tasks[0].jar"]);
    }

    [Fact]
    public void Validate_DoesNotReportCycle_WhenDependenciesAreUnknown()
    {
        var errors = Errors("""{"name":"d","tasks":[{"id":"a","depends_on":["b","zz"]},{"id":"b","depends_on":["a"]}]}""");
        Assert.Contains("tasks[0].depends_on[1]", errors.Keys);
        Assert.DoesNotContain(errors.Values.SelectMany(v => v), m => m.Contains("cycle"));
    }

    [Fact]
    public void Validate_ReportsCycle_WhenGraphOtherwiseValid()
    {
        var errors = Errors("""{"name":"d","tasks":[{"id":"a","depends_on":["b"]},{"id":"b","depends_on":["a"]}]}""");
        Assert.Equal(["dependency cycle: a -> b -> a."], errors["tasks[0].depends_on"]);
    }

    [Theory]
    [InlineData("""{"name":"d","interval":"PT1.5S","tasks":[{"id":"a"}]}""", "interval")]
    [InlineData("""{"name":"d","max_active_runs":0,"tasks":[{"id":"a"}]}""", "max_active_runs")]
    [InlineData("""{"name":"d","max_catchup_runs":100000,"tasks":[{"id":"a"}]}""", "max_catchup_runs")]
    [InlineData("""{"name":"d","tasks":[{"id":"a","type":"http","uri":"http://127.0.0.1/","method":"FETCH"}]}""", "tasks[0].method")]
    [InlineData("""{"name":"d","tasks":[{"id":"a","type":"http","uri":"http://127.0.0.1/","expect_status":[700]}]}""", "tasks[0].expect_status[0]")]
    [InlineData("""{"name":"d","tasks":[{"id":"a","timeout":"PT0S"}]}""", "tasks[0].timeout")]
    [InlineData("""{"name":"d","tasks":[{"id":"a","pool":"has space"}]}""", "tasks[0].pool")]
    [InlineData("""{"name":"d","tasks":[{"id":"a","type":"shell","command":"x","skip_exit_code":0}]}""", "tasks[0].skip_exit_code")]
    [InlineData("""{"name":"d","defaults":{"retries":1,"colour":"red"},"tasks":[{"id":"a"}]}""", "defaults.colour")]
    public void Validate_RejectsOutOfRangeFields(string json, string key)
    {
        Assert.Contains(key, Errors(json).Keys);
    }

    [Fact]
    public void Validate_ChecksAssetFields_KeyedByPath()
    {
        Assert.Empty(Errors("""{"name":"d","cron":"0 * * * *","schedule_on_assets":["s3://a","s3://b"],"tasks":[{"id":"a","outlets":["s3://c"]}]}"""));
        var errors = Errors("""{"name":"d","schedule_on_assets":["s3://a","s3://a","nope"],"tasks":[{"id":"a","outlets":["s3://c",""]}]}""");
        Assert.Equal(["'s3://a' is listed twice."], errors["schedule_on_assets[1]"]);
        Assert.Contains("schedule_on_assets[2]", errors.Keys);
        Assert.Contains("tasks[0].outlets[1]", errors.Keys);
        Assert.Equal(["at most 100 assets."], Errors($$"""{"name":"d","schedule_on_assets":[{{string.Join(",", Enumerable.Range(0, 101).Select(i => $"\"s3://a/{i}\""))}}],"tasks":[{"id":"a"}]}""")["schedule_on_assets"]);
    }
}
