using System.Globalization;
using FluentValidation;
using FluentValidation.Results;
using Hangfire;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>Delivery history (status, attempts, last error), a manual retry, and the global rules.</summary>
internal static class Deliveries
{
    public sealed record EventInfo(long Id, string Kind, string? DagName, long? RunId, string? TaskId, int? Attempt, string? Monitor, string? Detail, DateTimeOffset OccurredAt);

    public sealed record Info(long Id, string Channel, string ChannelType, string Status, int Attempts, string? LastError,
        DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, EventInfo Event);

    public sealed record List(int? Limit, string? Cursor, string? Status, string? Channel, string? Dag, long? RunId) : IQuery<Page<Info>>;

    public sealed record Get(long Id) : IQuery<Info?>;

    public sealed record Retry(long Id) : ICommand<Info?>;

    public sealed record Rule(List<string>? On, string? Channel);

    public sealed record RuleSet(List<Rule>? Rules);

    public sealed record GetRules : IQuery<RuleSet>;

    public sealed record SetRules(List<Rule>? Rules) : ICommand<RuleSet>;

    public sealed class ListValidator : AbstractValidator<List>
    {
        public ListValidator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
            RuleFor(q => q.Status).Must(s => s is null or "pending" or "delivered" or "failed").WithMessage("'status' must be pending, delivered or failed.");
        }
    }

    public sealed class SetRulesValidator : AbstractValidator<SetRules>
    {
        public SetRulesValidator()
        {
            RuleFor(s => s.Rules).NotNull().Must(r => r is null || r.Count <= 100).WithMessage("At most 100 rules.");
            RuleForEach(s => s.Rules).NotNull().WithMessage("A rule is an object: {\"on\": [...], \"channel\": \"...\"}.").ChildRules(rule =>
            {
                rule.RuleFor(r => r.On).NotEmpty();
                rule.RuleForEach(r => r.On).Must(e => NotificationEvents.RuleEvents.Contains(e))
                    .WithMessage($"'on' values are {string.Join(", ", NotificationEvents.RuleEvents)}.");
                rule.RuleFor(r => r.Channel).NotEmpty().Matches(Names.Pattern());
            });
        }
    }

    private const string Select = """
        select d.id, c.name, c.type, d.status, d.attempts, d.last_error, d.created_at, d.next_attempt_at, d.delivered_at,
               e.id, e.kind, e.dag_name, e.run_id, e.task_id, e.attempt, m.name, e.detail, e.occurred_at
        from notifications.deliveries d
        join notifications.channels c on c.id = d.channel_id
        join notifications.events e on e.id = d.event_id
        left join notifications.monitors m on m.id = e.monitor_id
        """;

    private static Info Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.IsDBNull(5) ? null : r.GetString(5),
        r.GetFieldValue<DateTimeOffset>(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7), r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8),
        new EventInfo(r.GetInt64(9), r.GetString(10), r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : r.GetInt64(12),
            r.IsDBNull(13) ? null : r.GetString(13), r.IsDBNull(14) ? null : r.GetInt32(14), r.IsDBNull(15) ? null : r.GetString(15),
            r.IsDBNull(16) ? null : r.GetString(16), r.GetFieldValue<DateTimeOffset>(17)));

    public sealed class Handler(NpgsqlDataSource dataSource, IBackgroundJobClient jobs, Dispatcher dispatcher) :
        IQueryHandler<List, Page<Info>>, IQueryHandler<Get, Info?>, ICommandHandler<Retry, Info?>,
        IQueryHandler<GetRules, RuleSet>, ICommandHandler<SetRules, RuleSet>
    {
        public async ValueTask<Page<Info>> Handle(List query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var after);
            await using var cmd = dataSource.CreateCommand($"""
                {Select}
                where (@after::bigint is null or d.id < @after::bigint)
                  and (@status::text is null or d.status = @status::text)
                  and (@channel::text is null or c.name = @channel::text)
                  and (@dag::text is null or e.dag_name = @dag::text)
                  and (@run::bigint is null or e.run_id = @run::bigint)
                order by d.id desc limit {limit + 1}
                """);
            cmd.Parameters.AddWithValue("after", after is { } a ? a : DBNull.Value);
            cmd.Parameters.AddWithValue("status", (object?)query.Status ?? DBNull.Value);
            cmd.Parameters.AddWithValue("channel", (object?)query.Channel ?? DBNull.Value);
            cmd.Parameters.AddWithValue("dag", (object?)query.Dag ?? DBNull.Value);
            cmd.Parameters.AddWithValue("run", (object?)query.RunId ?? DBNull.Value);
            var items = new List<Info>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                items.Add(Read(reader));
            return Cursor.ToPage(items, limit, i => i.Id.ToString(CultureInfo.InvariantCulture));
        }

        public async ValueTask<Info?> Handle(Get query, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand($"{Select} where d.id = @id");
            cmd.Parameters.AddWithValue("id", query.Id);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }

        public async ValueTask<Info?> Handle(Retry command, CancellationToken cancellationToken)
        {
            await using (var cmd = dataSource.CreateCommand("update notifications.deliveries set status = 'pending', next_attempt_at = null, attempts = 0, job_id = '' where id = @id and status = 'failed'"))
            {
                cmd.Parameters.AddWithValue("id", command.Id);
                if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 1)
                {
                    var job = DeliveryJob.Enqueue(jobs, command.Id);
                    dispatcher.KickSoon();
                    await using var set = dataSource.CreateCommand("update notifications.deliveries set job_id = @job where id = @id and job_id = ''");
                    set.Parameters.AddWithValue("job", job);
                    set.Parameters.AddWithValue("id", command.Id);
                    await set.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            return await Handle(new Get(command.Id), cancellationToken);
        }

        public async ValueTask<RuleSet> Handle(GetRules query, CancellationToken cancellationToken)
        {
            var rules = new List<Rule>();
            await using var cmd = dataSource.CreateCommand("select events, channel from notifications.global_rules order by position");
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                rules.Add(new Rule(reader.GetFieldValue<string[]>(0).ToList(), reader.GetString(1)));
            return new RuleSet(rules);
        }

        public async ValueTask<RuleSet> Handle(SetRules command, CancellationToken cancellationToken)
        {
            var rules = command.Rules!;
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            var known = new HashSet<string>(StringComparer.Ordinal);
            await using (var cmd = new NpgsqlCommand("select name from notifications.channels where name = any(@n)", connection, tx))
            {
                cmd.Parameters.AddWithValue("n", rules.Select(r => r.Channel!).Distinct().ToArray());
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    known.Add(reader.GetString(0));
            }
            var errors = rules.Select((r, i) => (r, i)).Where(x => !known.Contains(x.r.Channel!))
                .Select(x => new ValidationFailure($"rules[{x.i}].channel", $"There is no channel named '{x.r.Channel}'.")).ToList();
            if (errors.Count > 0)
                throw new ValidationException(errors);
            await using (var cmd = new NpgsqlCommand("delete from notifications.global_rules", connection, tx))
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            await using (var cmd = new NpgsqlCommand("insert into notifications.global_rules (position, events, channel) select p, string_to_array(e, ','), c from unnest(@p, @e, @c) as x(p, e, c)", connection, tx))
            {
                cmd.Parameters.AddWithValue("p", Enumerable.Range(0, rules.Count).ToArray());
                cmd.Parameters.AddWithValue("e", rules.Select(r => string.Join(',', r.On!.Distinct())).ToArray());
                cmd.Parameters.AddWithValue("c", rules.Select(r => r.Channel!).ToArray());
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return await Handle(new GetRules(), cancellationToken);
        }
    }

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/notifications").WithTags("Notifications");
        group.MapGet("/deliveries", async Task<Ok<Page<Info>>> (ISender sender, CancellationToken ct, int? limit, string? cursor, string? status, string? channel, string? dag, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "run_id")] long? runId) =>
                TypedResults.Ok(await sender.Send(new List(limit, cursor, status, channel, dag, runId), ct)))
            .RequireAuthorization(Policies.Viewer)
            .WithName("ListDeliveries").WithSummary("Delivery history, newest first; filters status, channel, dag, run_id");
        group.MapGet("/deliveries/{id:long}", async Task<Results<Ok<Info>, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
                await sender.Send(new Get(id), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No delivery {id}."))
            .RequireAuthorization(Policies.Viewer)
            .WithName("GetDelivery").WithSummary("One delivery: status, attempts, last error, and its event")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/deliveries/{id:long}/retry", async Task<Results<Ok<Info>, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
                await sender.Send(new Retry(id), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No delivery {id}."))
            .RequireAuthorization(Policies.Operator)
            .WithName("RetryDelivery").WithSummary("Deliver a failed message again (a pending or delivered one is left as it is)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/rules", async Task<Ok<RuleSet>> (ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new GetRules(), ct)))
            .RequireAuthorization(Policies.Viewer)
            .WithName("GetGlobalRules").WithSummary("Rules that apply to every DAG, on top of each DAG's own 'notifications'");
        group.MapPut("/rules", async Task<Ok<RuleSet>> (RuleSet body, ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new SetRules(body.Rules), ct)))
            .RequireAuthorization(Policies.Admin)
            .WithName("SetGlobalRules").WithSummary("Replace the global rules");
    }
}
