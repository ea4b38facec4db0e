using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.Client.Api;
using Scheduler.Client.Builder;

namespace Scheduler.Client;

/// <summary>
/// The Scheduler REST API: <see cref="Api"/> has every operation with typed models (generated
/// from the server's OpenAPI document); the methods here send DAG definitions as the JSON the
/// caller holds (a builder's, a file's), so no field is lost to a model that does not know it.
/// </summary>
public sealed class SchedulerClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>A client over <paramref name="http"/>, whose base address is the server's root
    /// (<c>http://host:5080/</c>) and which sends the API key (see <see cref="SchedulerHttp"/>).</summary>
    public SchedulerClient(HttpClient http) : this(http, ownsHttp: false)
    {
    }

    private SchedulerClient(HttpClient http, bool ownsHttp)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        Api = new SchedulerApi(http);
    }

    /// <summary>A client of its own, with retries on 429 and 503 (<see cref="SchedulerHttp.Create"/>).</summary>
    public static SchedulerClient Create(Uri serverUrl, string apiKey, SchedulerClientOptions? options = null) =>
        new(SchedulerHttp.Create(serverUrl, apiKey, options), ownsHttp: true);

    /// <summary>Every operation of the REST API.</summary>
    public ISchedulerApi Api { get; }

    /// <summary>Creates or replaces the DAG (PUT /dags/{name}); an identical definition changes nothing.</summary>
    public Task<DagApplied> ApplyDagAsync(DagBuilder dag, CancellationToken cancellationToken = default) =>
        ApplyDagAsync(dag.ToJson(), cancellationToken);

    /// <summary>Creates or replaces the DAG named in <paramref name="definition"/>; an identical definition changes nothing.</summary>
    public async Task<DagApplied> ApplyDagAsync(JsonObject definition, CancellationToken cancellationToken = default)
    {
        var name = definition["name"]?.GetValue<string>() ?? throw new ArgumentException("The definition has no 'name'.", nameof(definition));
        using var response = await _http.PutAsJsonAsync($"api/v1/dags/{Uri.EscapeDataString(name)}", definition, cancellationToken);
        var dag = await ReadAsync<DagDetails>(response, cancellationToken);
        return new DagApplied(dag, response.StatusCode == System.Net.HttpStatusCode.Created);
    }

    /// <summary>Validates a definition without saving it (POST /dags/validate): its hash equals the stored DAG's when nothing would change.</summary>
    public Task<ValidateDagResponse> ValidateDagAsync(DagBuilder dag, CancellationToken cancellationToken = default) =>
        ValidateDagAsync(dag.ToJson(), cancellationToken);

    /// <inheritdoc cref="ValidateDagAsync(DagBuilder, CancellationToken)"/>
    public async Task<ValidateDagResponse> ValidateDagAsync(JsonObject definition, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsJsonAsync("api/v1/dags/validate", definition, cancellationToken);
        return await ReadAsync<ValidateDagResponse>(response, cancellationToken);
    }

    /// <summary>The DAG's details with its definition as the server stores it, or null when there is no such DAG.</summary>
    public async Task<(DagDetails Dag, JsonObject Definition)?> FindDagAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync($"api/v1/dags/{Uri.EscapeDataString(name)}", cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return null;
        var body = await ReadAsync<JsonObject>(response, cancellationToken);
        var definition = body["definition"] as JsonObject ?? [];
        return (body.Deserialize<DagDetails>()!, definition);
    }

    /// <summary>
    /// Any request with a JSON body, for endpoints newer than this client's models; the answer's
    /// JSON (null when empty). A non-success answer throws <see cref="SchedulerApiException"/>.
    /// </summary>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
            request.Content = JsonContent.Create(body);
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw ProblemException.From(response, text);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw ProblemException.From(response, text);
        return JsonSerializer.Deserialize<T>(text) ?? throw new SchedulerApiException("The server answered with an empty body.", (int)response.StatusCode, text, new Dictionary<string, IEnumerable<string>>(), null);
    }

    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }
}

/// <summary>The outcome of an apply: the DAG as stored, and whether it was new.</summary>
public sealed record DagApplied(DagDetails Dag, bool Created);
