using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Net;
using Scheduler.Modules.Notifications.Channels;
using Scheduler.Modules.Notifications.Delivery;
using Scheduler.Modules.Notifications.Monitors;

namespace Scheduler.Modules.Notifications;

internal static class NotificationsModule
{
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("Notifications");
        services.Configure<NotificationOptions>(section);
        var options = section.Get<NotificationOptions>() ?? new NotificationOptions();

        // Hangfire on PostgreSQL (schema 'hangfire', created and upgraded by Hangfire.PostgreSql
        // itself under its own lock): durable delivery jobs, woken by LISTEN/NOTIFY (long polling).
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(DatabaseSetup.ConnectionString(configuration))
        {
            ApplicationName = "scheduler-hangfire",
            // Hangfire.PostgreSql keeps no session state (its locks are rows), so the reset
            // round trip on every return to the pool (DISCARD ALL) is pure cost.
            NoResetOnClose = true,
        }.ConnectionString;
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(pg => pg.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                EnableLongPolling = true,
                // Long polling wakes the workers on enqueue. A wake-up that lands while no worker
                // waits (seen once: a job waited out a 60 s poll) is covered by the dispatcher's
                // second wake-up 2 s after each enqueue (Dispatcher.KickSoon); this poll is the
                // last resort. Each worker polls on its own, one transaction each: at 5 s, four
                // workers cost 2.4 statements/s at idle.
                QueuePollInterval = TimeSpan.FromSeconds(30),
                InvisibilityTimeout = TimeSpan.FromMinutes(5),
                UseSlidingInvisibilityTimeout = true,
            }));
        if (options.RunDeliveryServer)
            services.AddHangfireServer(server =>
            {
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                server.Queues = [DeliveryJob.Queue];
                server.WorkerCount = Math.Max(1, options.DeliveryWorkers);
                server.SchedulePollingInterval = options.SchedulePollingInterval;
                server.ShutdownTimeout = TimeSpan.FromSeconds(10);
            });

        services.AddHttpClient(ChannelSender.ClientName, client => client.Timeout = options.SendTimeout).WithEgressPolicy();
        services.AddSingleton<ChannelStore>();
        services.AddSingleton<MonitorPingLimiter>();
        services.AddSingleton<ChannelSender>();
        services.AddScoped<DeliveryJob>();
        services.AddSingleton<DeliveryEnqueuer>();
        services.AddSingleton<Dispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        return services;
    }

    /// <summary>
    /// Hangfire's dashboard at /admin/jobs, for admins signed in to the admin pages (the
    /// /admin cookie); anyone else gets 401 (not signed in) or 403.
    /// </summary>
    public static void UseJobsDashboard(this WebApplication app) =>
        app.UseHangfireDashboard("/admin/jobs", new DashboardOptions
        {
            Authorization = [],
            AsyncAuthorization = [new AdminsOnly()],
            DashboardTitle = "Scheduler jobs",
            AppPath = "/admin",
            DisplayStorageConnectionString = false,
        });

    private sealed class AdminsOnly : Hangfire.Dashboard.IDashboardAsyncAuthorizationFilter
    {
        public Task<bool> AuthorizeAsync(Hangfire.Dashboard.DashboardContext context) =>
            Infrastructure.Auth.AdminCookie.IsAdminAsync(context.GetHttpContext());
    }

    public static void MapNotifications(this RouteGroupBuilder api)
    {
        // Team-scoped: each endpoint names its role (a team admin manages its team's channels).
        var channels = api.MapGroup("/channels").WithTags("Notifications");
        SaveChannel.Map(channels);
        ListChannels.Map(channels);
        GetChannel.Map(channels);
        DeleteChannel.Map(channels);
        TestChannel.Map(channels);
        Deliveries.Map(api);
        var monitors = api.MapGroup("/monitors").WithTags("Monitors").RequireAuthorization(Policies.TeamViewer);
        SaveMonitor.Map(monitors);
        ListMonitors.Map(monitors);
        GetMonitor.Map(monitors);
        ListMonitorPings.Map(monitors);
        DeleteMonitor.Map(monitors);
        PauseMonitor.Map(monitors);
        RotateMonitorToken.Map(monitors);
        PingMonitor.Map(monitors);
    }
}
