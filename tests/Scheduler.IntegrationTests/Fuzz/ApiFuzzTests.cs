using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>
/// Every operation of the OpenAPI document, called by every role (no key, viewer, operator,
/// admin) with generated bad input (<see cref="RequestGenerator"/>). Each answer must be below
/// 500; every 4xx a problem document; 401 and 403 exactly as <see cref="RoleMatrix"/> says; and a
/// refused request must leave the database as it was (<see cref="DatabaseFingerprint"/>).
/// <c>SCHEDULER_FUZZ_REQUESTS</c> sets how many requests (default 3,000) and
/// <c>SCHEDULER_FUZZ_SEED</c> replays a run (a failure prints its seed). The admin pages are not
/// in the OpenAPI document and are not fuzzed here; an event stream that is accepted is judged by its status and type, not read.
/// </summary>
public sealed class ApiFuzzTests(ServerFixture server, ITestOutputHelper output) : ServerTest(server)
{
    private const int DefaultRequests = 3000;
    private const int ReseedEvery = 300;

    [Fact]
    public async Task EveryOperationAndRole_AnswersBadInputWithA4xxProblem_AndRefusalsChangeNothing()
    {
        var seed = Environment.GetEnvironmentVariable("SCHEDULER_FUZZ_SEED") is { Length: > 0 } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();
        var count = Environment.GetEnvironmentVariable("SCHEDULER_FUZZ_REQUESTS") is { Length: > 0 } n ? int.Parse(n, CultureInfo.InvariantCulture) : DefaultRequests;
        output.WriteLine($"seed {seed} (replay: SCHEDULER_FUZZ_SEED={seed}), {count} requests");

        var document = await Anonymous.GetAsync("swagger/v1/swagger.json").ExpectAsync(HttpStatusCode.OK);
        var operations = new OpenApiOperations(document).All;
        Assert.NotEmpty(operations);
        var targets = await SeedAsync();
        var random = new Random(seed);
        var generator = new RequestGenerator(document, targets, random);
        using var anonymous = Server.NewClient(null);
        var clients = new Dictionary<string, HttpClient> { [RoleMatrix.None] = anonymous, [RoleMatrix.Viewer] = Viewer, [RoleMatrix.Operator] = Operator, [RoleMatrix.Admin] = Admin };

        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        string? fingerprint = null;
        for (var i = 0; i < count && failures.Count < 25; i++)
        {
            if (i > 0 && i % ReseedEvery == 0)
            {
                targets = await SeedAsync(targets);
                generator = new RequestGenerator(document, targets, random);
                fingerprint = null;
            }
            // Every operation with every role in turn; what each request holds is the generator's.
            var operation = operations[i / RoleMatrix.Roles.Count % operations.Count];
            var role = RoleMatrix.Roles[i % RoleMatrix.Roles.Count];
            var request = generator.Generate(operation);
            fingerprint ??= await DatabaseFingerprint.TakeAsync();
            var (status, mediaType, text) = await SendAsync(clients[role], request);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;

            var problems = Check(request, role, status, mediaType, text);
            if (status >= 400)
            {
                var after = await DatabaseFingerprint.TakeAsync();
                if (after != fingerprint)
                    problems.Add("a refused request changed the database");
            }
            else
            {
                fingerprint = null; // it may have changed something: take it again before the next one
            }
            if (problems.Count > 0)
                failures.Add($"#{i} as {role}: {request}\n  -> {status} {mediaType}: {Cut(text, 800)}\n  {string.Join("; ", problems)}");
        }
        output.WriteLine($"{count} requests in {clock.Elapsed.TotalSeconds:F1} s; statuses: {string.Join(", ", statuses.Select(kv => $"{kv.Key}x{kv.Value}"))}");
        Assert.True(failures.Count == 0, $"seed {seed} (replay with SCHEDULER_FUZZ_SEED={seed}): {failures.Count} failures\n" + string.Join("\n", failures));
    }

    private static List<string> Check(FuzzRequest request, string role, int status, string? mediaType, string text)
    {
        var problems = new List<string>();
        var operation = request.Operation;
        if (status >= 500)
            problems.Add("a 5xx");
        if (status >= 400 && mediaType != "application/problem+json")
            problems.Add("an error that is not application/problem+json");
        if (status >= 400 && mediaType == "application/problem+json" && !IsProblem(text, status))
            problems.Add("a problem document without its status, type and title");
        // A body of another media type: routing picks no endpoint (415), before any authorization,
        // as it does for a path no route has (404) or a method the path lacks (405).
        if (status == 415 && request.ContentType is not (null or "application/json"))
            return problems;
        if (!request.RouteMatches)
        {
            // No endpoint has this path: without a key that is 401 (the fallback policy), with one 404/405.
            var expected = role == RoleMatrix.None ? status == 401 : status is 404 or 405;
            if (!expected)
                problems.Add($"a path matching no route should be {(role == RoleMatrix.None ? "401" : "404 or 405")}");
            return problems;
        }
        var refusal = RoleMatrix.Refusal(operation.Method, operation.Template, role);
        if (refusal is { } refused && status != (int)refused)
            problems.Add($"the role matrix says {(int)refused} for {role}");
        if (refusal is null && RoleMatrix.For(operation.Method, operation.Template) != RoleMatrix.Token && status is 401 or 403)
            problems.Add($"{role} may call this, but got {status}");
        return problems;
    }

    private static bool IsProblem(string text, int status)
    {
        try
        {
            var problem = JsonDocument.Parse(text).RootElement;
            return problem.GetProperty("status").GetInt32() == status
                && !string.IsNullOrEmpty(problem.GetProperty("type").GetString()) && !string.IsNullOrEmpty(problem.GetProperty("title").GetString());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private static async Task<(int Status, string? MediaType, string Text)> SendAsync(HttpClient client, FuzzRequest request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Operation.Method), request.Path);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null)
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        foreach (var (name, value) in request.Headers)
            message.Headers.TryAddWithoutValidation(name, value);
        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        // An event stream that was accepted never ends: its status and type are the answer.
        if (mediaType == "text/event-stream" && response.IsSuccessStatusCode)
            return ((int)response.StatusCode, mediaType, "");
        return ((int)response.StatusCode, mediaType, await response.Content.ReadAsStringAsync());
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max] + "...";

    /// <summary>
    /// What the requests aim at, created (or put back, when a request deleted or changed it)
    /// through the API: DAGs with finished runs (one failed, so a dead letter and a delivery
    /// exist), a monitor and its token, a channel, a connection, a pool and a key.
    /// </summary>
    private async Task<FuzzTargets> SeedAsync(FuzzTargets? previous = null)
    {
        var channel = """{"type":"webhook","settings":{"url":"http://127.0.0.1:9/hook","secret":"fuzz-secret-0123456789"}}""";
        await Admin.PutJsonAsync("channels/fuzz_chan", channel).ExpectOneOfAsync(HttpStatusCode.OK, HttpStatusCode.Created);
        foreach (var dag in new[]
        {
            """{"name":"fuzz_ok","tags":["fuzz"],"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""",
            """{"name":"fuzz_fail","notifications":[{"on":["failure"],"channel":"fuzz_chan"}],"tasks":[{"id":"f","type":"shell","command":"exit 3"}]}""",
            """{"name":"fuzz_cron","cron":"*/5 * * * *","paused":true,"tasks":[{"id":"a"}]}""",
            """{"name":"fuzz_interval","interval":"PT15M","paused":true,"tasks":[{"id":"a"}]}""",
        })
        {
            var name = JsonDocument.Parse(dag).RootElement.GetProperty("name").GetString();
            await Admin.PutJsonAsync($"dags/{name}", dag).ExpectOneOfAsync(HttpStatusCode.OK, HttpStatusCode.Created);
        }
        var monitor = await Admin.PutJsonAsync("monitors/fuzz_mon", """{"interval":"PT1H"}""").ExpectOneOfAsync(HttpStatusCode.OK, HttpStatusCode.Created);
        var token = monitor.TryGetProperty("token", out var t) ? t.GetString() : previous?.MonitorToken;
        await Admin.PutJsonAsync("connections/fuzz_conn", """{"kind":"postgres","connection_string":"Host=127.0.0.1;Port=9;Database=x;Username=u;Password=p"}""").ExpectOneOfAsync(HttpStatusCode.OK, HttpStatusCode.Created);
        await Admin.PutJsonAsync("pools/fuzz_pool", """{"slots":2}""").ExpectAsync(HttpStatusCode.OK);
        if (previous is not null)
            return previous with { MonitorToken = token };

        var key = await Admin.PostJsonAsync("api-keys", """{"name":"fuzz_key","role":"viewer"}""").ExpectAsync(HttpStatusCode.Created);
        var ok = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("fuzz_ok"));
        var failed = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("fuzz_fail"));
        Assert.Equal("failed", failed.GetProperty("state").GetString());
        var letters = await Viewer.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK);
        var deliveries = default(JsonElement);
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(100))
        {
            deliveries = await Viewer.GetAsync("notifications/deliveries").ExpectAsync(HttpStatusCode.OK);
            if (deliveries.GetProperty("items").GetArrayLength() > 0)
                break;
        }
        return new FuzzTargets(
            ["fuzz_ok", "fuzz_fail", "fuzz_cron", "fuzz_interval"],
            [ok.GetProperty("run_id").GetInt64(), failed.GetProperty("run_id").GetInt64()],
            ["a", "b", "f", "no_such_task"],
            "fuzz_mon", token, "fuzz_chan", "fuzz_conn", "fuzz_pool",
            key.GetProperty("id").GetInt64(),
            deliveries.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt64()).ToArray(),
            letters.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetInt64()).ToArray());
    }
}
