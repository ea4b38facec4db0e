using Quartz;
using Scheduler.Infrastructure.Database;

namespace Scheduler.Infrastructure.Quartz;

/// <summary>
/// Quartz.NET in clustered mode on the ADO store in PostgreSQL (tables in migration 0002).
/// Every replica runs a scheduler instance; the store's row locks make each trigger fire on
/// exactly one of them, and a replica that stops checking in for the misfire threshold has
/// its work taken over by the others. Only the hourly retention lives here: run scheduling
/// is the scheduler loop (<c>Modules/Runs/SchedulerLoop.cs</c>), not one Quartz trigger per
/// DAG (Quartz's clustered store fires ~100-120 triggers/s on PostgreSQL) nor a Quartz job on
/// a period (a firing costs the store ~25 statements).
/// </summary>
internal static class QuartzSetup
{
    public static IServiceCollection AddClusteredQuartz(this IServiceCollection services, IConfiguration configuration, Action<IQuartzBuilder> jobs)
    {
        var enabled = configuration.GetValue("Scheduler:Enabled", true);
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "scheduler";
                s.GenerateInstanceId = true;
                // Its only trigger fires hourly: look for due triggers every few minutes, not
                // every 30 s (acquisition reads triggers due within this window ahead, so a
                // firing is not late for it).
                s.IdleWaitTime = TimeSpan.FromMinutes(5);
            });
            q.UseDefaultThreadPool(pool => pool.MaxConcurrency = 4);
            q.UsePersistentStore(store =>
            {
                // Quartz keeps no session state either: skip the reset round trip on every return.
                store.UsePostgres(new Npgsql.NpgsqlConnectionStringBuilder(DatabaseSetup.ConnectionString(configuration)) { ApplicationName = "scheduler-quartz", NoResetOnClose = true }.ConnectionString);
                store.ConfigureStore(o =>
                {
                    o.TablePrefix = "quartz.qrtz_";
                    o.StoreJobDataAsStrings = true;
                    // The tables come from our migrations; Quartz only checks them at start-up,
                    // so a schema that does not match fails loudly instead of at the first firing.
                    o.SchemaProvisioning = configuration.GetValue("Scheduler:QuartzSchemaProvisioning", SchemaProvisioning.Validate);
                });
                // Fail-over: a dead replica's firing is recovered once a survivor, checking in,
                // sees it silent for its interval + CheckinMisfireThreshold. Only the hourly
                // retention depends on it (the scheduler loop fails over by its own lock), so a
                // minute's check-in is plenty; at 5 s it cost ~1 statement/s per replica.
                store.UseClustering(c =>
                {
                    c.CheckinInterval = TimeSpan.FromSeconds(configuration.GetValue("Scheduler:CheckinSeconds", 60.0));
                    c.CheckinMisfireThreshold = TimeSpan.FromSeconds(configuration.GetValue("Scheduler:CheckinMisfireSeconds", 15.0));
                });
            });
            jobs(q);
        });
        if (enabled)
            services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
        return services;
    }
}
