using Scheduler.Infrastructure;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Health;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Logging;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Infrastructure.Quartz;
using Scheduler.Infrastructure.Rpc;
using Scheduler.Infrastructure.Security;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Modules.Access;
using Scheduler.Modules.Audit;
using Scheduler.Modules.Dags;
using Scheduler.Modules.Notifications;
using Scheduler.Modules.Runs;
using Scheduler.Modules.Workers;
using Scheduler.Pages;

var builder = WebApplication.CreateBuilder(args);
builder.UseAppSettingsNextToBinary();

builder.AddLogging();
builder.AddRpc();                         // gRPC on its own h2c port (Grpc:Port, default 5081), reflection on
builder.Services
    .AddPlatform(builder.Configuration)   // time, database, Mediator + validation, problem documents
    .AddOpenApiDocument()
    .AddTracing(builder.Configuration)    // OpenTelemetry traces when OTEL_EXPORTER_OTLP_ENDPOINT is set
    .AddHealth()
    .AddMetrics(builder.Configuration)    // OpenTelemetry metrics, Prometheus scrape endpoint
    .AddAccess(builder.Configuration)     // API keys, admin users + cookie, SSO (OIDC, LDAP), role policies
    .AddAudit()                           // the audit trail: its writer, list and retention
    .AddAdminPages()                      // Razor Pages at /admin
    .AddDags(builder.Configuration)       // catalogue, versions, schedules, DAG files from git
    .AddRuns(builder.Configuration)       // runs, task state machine, retries, the scheduler loop
    .AddWorkers(builder.Configuration)    // worker pool, executors, leases, logs
    .AddNotifications(builder.Configuration) // channels, rules, outbox delivery via Hangfire, monitors
    .AddClusteredQuartz(builder.Configuration, SchedulerJobs.Add); // retention

var app = builder.Build();
app.HideSecretsFromTasks();               // secrets read into configuration leave /proc/<pid>/environ

await app.MigrateAsync();
app.EnsureKeyRing();                      // the Data Protection key exists before the first request
await BootstrapAdminKey.EnsureAsync(app.Services, app.Configuration);
await BootstrapAdminUser.EnsureAsync(app.Services, app.Configuration);

app.UsePlatform();
app.UseOpenApiDocument();
app.UseAuthentication();
app.UseAuthorization();
app.UseStorableInput();                   // text PostgreSQL refuses (NUL, ...) is a 400 naming the field
app.UseJobsDashboard();                   // Hangfire's dashboard at /admin/jobs, admins only

app.MapHealth();
app.MapMetrics();                         // GET /metrics (Metrics:Enabled, Metrics:Path), anonymous
app.MapGet("/", () => Results.Redirect("/swagger")).AllowAnonymous().ExcludeFromDescription();
// Api:Enabled=false: a worker-only replica (with Scheduler:Enabled=false) serves health and
// metrics only, no REST API and no admin pages.
if (app.Configuration.GetValue("Api:Enabled", true))
{
    var api = app.MapGroup("/api/v1").ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
    api.MapAccess();
    api.MapAudit();
    api.MapDags();
    api.MapRuns();
    api.MapWorkers();
    api.MapNotifications();
    app.MapAdminPages();
    app.MapRpc(rpc =>                     // DagService, RunService: the REST handlers behind gRPC
    {
        rpc.MapDagsRpc();
        rpc.MapRunsRpc();
    });
}

app.Run();
