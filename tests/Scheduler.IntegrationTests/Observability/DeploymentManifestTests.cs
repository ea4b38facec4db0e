using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Observability;

/// <summary>
/// deploy/: the Kubernetes manifests checked field by field where a mistake would only show
/// in a cluster (kinds and API versions, selectors that match, probe paths the real server
/// answers, ports, the grace period against the shutdown timeout, the KEDA query), rendered
/// by kubectl's Kustomize where kubectl is installed; the compose file's wiring; and every
/// metric the dashboard, the rules and the autoscaler name is one the real server exposes.
/// </summary>
public sealed partial class DeploymentManifestTests(ServerFixture server) : ServerTest(server)
{
    private static readonly HashSet<string> KnownKinds =
    [
        "v1/ConfigMap", "v1/Secret", "v1/Service", "apps/v1/Deployment", "policy/v1/PodDisruptionBudget",
        "autoscaling/v2/HorizontalPodAutoscaler", "keda.sh/v1alpha1/ScaledObject",
    ];

    /// <summary>Configuration sections the server reads (README, "Configuration").</summary>
    private static readonly string[] KnownSettings = ["ASPNETCORE_", "ConnectionStrings__", "Auth__", "Database__", "Workers__", "Scheduler__", "Metrics__", "Notifications__", "Runs__", "Serilog__", "Secrets__", "Audit__"];

    private static string Deploy(params string[] parts) => Repository.PathOf(["deploy", .. parts]);

    [Theory]
    [InlineData("base")]
    [InlineData("workers")]
    public async Task Kustomization_RendersResourcesThatFitTogether_AndTheServer(string overlay)
    {
        var directory = Deploy("kubernetes", overlay);
        var resources = Manifests.Kustomize(directory);
        if (Manifests.KubectlKustomize(directory) is { } rendered)
            Assert.Equal(resources.Select(Manifests.Id).Order(), rendered);

        foreach (var r in resources)
        {
            Assert.Contains($"{r["apiVersion"]}/{r["kind"]}", KnownKinds);
            Assert.False(string.IsNullOrEmpty((string?)r["metadata"]?["name"]), $"{Manifests.Id(r)} has no name");
        }
        var config = Single(resources, "ConfigMap")["data"]!.AsObject();
        var secret = Single(resources, "Secret")["stringData"]!.AsObject();
        foreach (var key in config.Select(kv => kv.Key).Concat(secret.Select(kv => kv.Key)))
            Assert.True(KnownSettings.Any(p => key.StartsWith(p, StringComparison.Ordinal)), $"{key} is no setting of the server");
        Assert.True(secret.ContainsKey("ConnectionStrings__Scheduler"));

        var deployments = resources.Where(r => (string?)r["kind"] == "Deployment").ToList();
        Assert.Contains(deployments, d => (string?)d["metadata"]!["name"] == "scheduler");
        foreach (var deployment in deployments)
            await CheckDeploymentAsync(deployment, resources, config);

        // The Service routes to the server replicas only (a worker-only replica is not an API).
        var service = Single(resources, "Service");
        var selected = deployments.Where(d => Selects(service["spec"]!["selector"]!.AsObject(), TemplateLabels(d))).Select(d => (string)d["metadata"]!["name"]!).ToList();
        Assert.Equal(["scheduler"], selected);
        var target = (string)service["spec"]!["ports"]![0]!["targetPort"]!;
        Assert.Contains(Containers(deployments.Single(d => (string?)d["metadata"]!["name"] == "scheduler")).SelectMany(c => c["ports"]!.AsArray()), p => (string?)p!["name"] == target);

        foreach (var pdb in resources.Where(r => (string?)r["kind"] == "PodDisruptionBudget"))
            Assert.Single(deployments, d => Selects(pdb["spec"]!["selector"]!["matchLabels"]!.AsObject(), TemplateLabels(d)));

        var hpa = Single(resources, "HorizontalPodAutoscaler");
        Assert.Equal("scheduler", (string?)hpa["spec"]!["scaleTargetRef"]!["name"]);
        // Above the PodDisruptionBudget's minimum, so a drain can always take a replica.
        Assert.True(int.Parse((string)hpa["spec"]!["minReplicas"]!) > int.Parse((string)Single(resources, "PodDisruptionBudget", "scheduler")["spec"]!["minAvailable"]!));

        if (overlay == "workers")
            await CheckWorkersAsync(resources, deployments, config);
    }

    private async Task CheckDeploymentAsync(JsonObject deployment, List<JsonObject> resources, JsonObject config)
    {
        var name = Manifests.Id(deployment);
        var spec = deployment["spec"]!;
        Assert.True(Selects(spec["selector"]!["matchLabels"]!.AsObject(), TemplateLabels(deployment)), $"{name}: the selector does not match the pod template");
        Assert.Equal("0", (string?)spec["strategy"]?["rollingUpdate"]?["maxUnavailable"]);
        // Running tasks finish (or are handed back, ~10 s) before Kubernetes kills the pod.
        var shutdown = double.Parse((string)config["Workers__ShutdownTimeoutSeconds"]!);
        Assert.True(double.Parse((string)spec["template"]!["spec"]!["terminationGracePeriodSeconds"]!) >= shutdown + 15, $"{name}: the grace period is not longer than the shutdown timeout");
        var container = Containers(deployment).Single();
        var port = Dockerfile().Port;
        var ports = container["ports"]!.AsArray();
        Assert.Contains(ports, p => (string?)p!["containerPort"] == port.ToString());
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            var get = container[probe]?["httpGet"] ?? throw new Xunit.Sdk.XunitException($"{name}: no {probe}");
            Assert.Contains(ports, p => (string?)p!["name"] == (string?)get["port"]);
            await Anonymous.GetAsync(((string)get["path"]!).TrimStart('/')).ExpectAsync(HttpStatusCode.OK);
        }
        Assert.Equal("/health/ready", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        // The image's own health check (docker, compose) asks the same question.
        Assert.EndsWith(":" + port + "/health/ready", Dockerfile().Healthcheck);
        Assert.NotNull(container["resources"]?["requests"]?["cpu"]);
        Assert.NotNull(container["resources"]?["requests"]?["memory"]);
        foreach (var source in container["envFrom"]!.AsArray())
        {
            var (kind, reference) = source!["configMapRef"] is { } c ? ("ConfigMap", c) : ("Secret", source["secretRef"]!);
            Single(resources, kind, (string)reference["name"]!);
        }
        // Scraped where the server serves metrics.
        var annotations = spec["template"]!["metadata"]!["annotations"]!;
        Assert.Equal((string?)config["Metrics__Path"], (string?)annotations["prometheus.io/path"]);
        Assert.Equal(port.ToString(), (string?)annotations["prometheus.io/port"]);
        await MetricsScrape.GetAsync(Anonymous, (string)annotations["prometheus.io/path"]!);
    }

    private async Task CheckWorkersAsync(List<JsonObject> resources, List<JsonObject> deployments, JsonObject config)
    {
        var worker = deployments.Single(d => (string?)d["metadata"]!["name"] == "scheduler-worker");
        var env = Containers(worker).Single()["env"]!.AsArray();
        Assert.Contains(env, e => (string?)e!["name"] == "Scheduler__Enabled" && (string?)e["value"] == "false");
        var scaled = Single(resources, "ScaledObject");
        Assert.Equal("scheduler-worker", (string?)scaled["spec"]!["scaleTargetRef"]!["name"]);
        var trigger = scaled["spec"]!["triggers"]![0]!;
        Assert.Equal("prometheus", (string?)trigger["type"]);
        // One replica per Workers__Slots queued or running tasks.
        Assert.Equal((string?)config["Workers__Slots"], (string?)trigger["metadata"]!["threshold"]);
        await AssertExposedAsync([(string)trigger["metadata"]!["query"]!]);
    }

    [Fact]
    public async Task DashboardRulesAndAutoscaler_NameOnlyMetricsTheServerExposes()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Deploy("grafana", "scheduler.json")))!;
        var panels = dashboard["panels"]!.AsArray().Select(p => p!).Where(p => (string?)p["type"] != "row").ToList();
        var titles = string.Join(" | ", panels.Select(p => (string)p["title"]!)).ToLowerInvariant();
        foreach (var topic in new[] { "queue depth", "throughput", "start delay", "failures by dag", "schedule lag", "workers", "deliveries" })
            Assert.Contains(topic, titles);
        foreach (var panel in panels)
        {
            Assert.NotNull(panel["gridPos"]);
            Assert.Equal("${datasource}", (string?)panel["datasource"]!["uid"]);
            Assert.NotEmpty(panel["targets"]!.AsArray());
        }
        var start = panels.Single(p => ((string)p["title"]!).Contains("start delay", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(["p50", "p99"], start["targets"]!.AsArray().Select(t => (string)t!["legendFormat"]!));

        var expressions = panels.SelectMany(p => p["targets"]!.AsArray().Select(t => (string)t!["expr"]!)).ToList();
        var rules = Manifests.Load(Deploy("prometheus", "alerts.yml")).Single();
        expressions.AddRange(rules["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray().Select(r => (string)r!["expr"]!)));
        await AssertExposedAsync(expressions);
    }

    [Fact]
    public void Compose_WiresPostgresTwoReplicasPrometheusAndGrafana()
    {
        var compose = Manifests.Load(Deploy("compose.yaml")).Single();
        var services = compose["services"]!.AsObject();
        Assert.Equal(["grafana", "postgres", "prometheus", "scheduler-1", "scheduler-2"], services.Select(s => s.Key).Order());
        foreach (var replica in new[] { "scheduler-1", "scheduler-2" })
        {
            var service = services[replica]!;
            // The one image, built from the repository's Dockerfile (merge key of the shared block resolved).
            Assert.True(File.Exists(Path.Combine(Deploy(), (string)service["build"]!["context"]!, (string)service["build"]!["dockerfile"]!)));
            Assert.StartsWith("Host=postgres;", (string?)service["environment"]!["ConnectionStrings__Scheduler"]);
            Assert.Equal("service_healthy", (string?)service["depends_on"]!["postgres"]!["condition"]);
        }
        foreach (var (name, service) in services)
            foreach (var volume in (service!["volumes"]?.AsArray() ?? []).Select(v => (string)v!))
                if (volume.StartsWith("./", StringComparison.Ordinal))
                    Assert.True(Path.Exists(Deploy(volume.Split(':')[0])), $"{name} mounts {volume}, which is missing");
        var grafanaVolumes = services["grafana"]!["volumes"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Contains(grafanaVolumes, v => v.StartsWith("./grafana/scheduler.json:", StringComparison.Ordinal));

        // Prometheus scrapes both replicas on the port the image listens on.
        var prometheus = Manifests.Load(Deploy("prometheus", "prometheus.yml")).Single();
        var targets = prometheus["scrape_configs"]![0]!["static_configs"]![0]!["targets"]!.AsArray().Select(t => (string)t!).Order();
        Assert.Equal([$"scheduler-1:{Dockerfile().Port}", $"scheduler-2:{Dockerfile().Port}"], targets);
        Assert.Equal(["alerts.yml"], prometheus["rule_files"]!.AsArray().Select(f => (string)f!));
    }

    /// <summary>Every metric named in the expressions is in the real server's /metrics (once each histogram has a sample).</summary>
    private async Task AssertExposedAsync(IReadOnlyList<string> expressions)
    {
        await Admin.PostJsonAsync("dags", """{"name":"manifest_metrics","cron":"* * * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var scrape = await MetricsScrape.WaitForAsync(Anonymous, s => s.Has("scheduler_schedule_lag_seconds_count") && s.Has("scheduler_task_start_delay_seconds_count"));
        await Admin.PostJsonAsync("dags/manifest_metrics/pause", "{}").ExpectAsync(HttpStatusCode.OK);
        var named = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).Distinct().ToList();
        Assert.Contains("scheduler_task_instances", named);
        Assert.All(named, name => Assert.True(scrape.Has(name), $"{name} is named in deploy/ but the server does not expose it"));
    }

    private static (int Port, string Healthcheck) Dockerfile()
    {
        var text = File.ReadAllText(Repository.PathOf("Dockerfile"));
        return (int.Parse(Regex.Match(text, @"^EXPOSE (\d+)", RegexOptions.Multiline).Groups[1].Value), Regex.Match(text, @"curl -fsS (\S+)").Groups[1].Value);
    }

    private static JsonObject Single(List<JsonObject> resources, string kind, string? name = null) =>
        resources.Single(r => (string?)r["kind"] == kind && (name is null || (string?)r["metadata"]!["name"] == name));

    private static JsonObject TemplateLabels(JsonObject deployment) => deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();

    private static IEnumerable<JsonNode> Containers(JsonObject deployment) => deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => c!);

    private static bool Selects(JsonObject selector, JsonObject labels) =>
        selector.Count > 0 && selector.All(kv => (string?)labels[kv.Key] == (string?)kv.Value);

    /// <summary>Metric names of the families the deploy files use (recording rules have a colon and are not matched).</summary>
    [GeneratedRegex(@"\b(?:scheduler|http_server|db_client|process|dotnet)_[a-z_]+\b")]
    private static partial Regex MetricName();
}
