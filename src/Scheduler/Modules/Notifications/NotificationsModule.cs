using Hangfire;
using Hangfire.PostgreSql;
using Scheduler.Infrastructure.Database;
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
                QueuePollInterval = TimeSpan.FromSeconds(15),
                InvisibilityTimeout = TimeSpan.FromMinutes(5),
                UseSlidingInvisibilityTimeout = true,
            }));
        if (options.RunDeliveryServer)
            services.AddHangfireServer(server =>
            {
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                server.Queues = [DeliveryJob.Queue];
                server.WorkerCount = Math.Max(1, options.DeliveryWorkers);
                server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
                server.ShutdownTimeout = TimeSpan.FromSeconds(10);
            });

        services.AddHttpClient(ChannelSender.ClientName, client => client.Timeout = options.SendTimeout);
        services.AddSingleton<ChannelStore>();
        services.AddSingleton<ChannelSender>();
        services.AddScoped<DeliveryJob>();
        services.AddSingleton<Dispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        return services;
    }

    public static void MapNotifications(this RouteGroupBuilder api)
    {
        ManageChannels.Map(api);
        Deliveries.Map(api);
        ManageMonitors.Map(api);
    }
}
