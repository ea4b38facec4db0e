-- The scheduler loop sleeps until the earliest next_run_at of an unpaused DAG. A write that
-- makes a schedule due EARLIER than the loop may know (a DAG created, a schedule changed to
-- an earlier time, a DAG unpaused) wakes it with a NOTIFY, sent at commit. The loop's own
-- advance only moves next_run_at later and sends nothing.
create function dags.notify_schedule_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('scheduler_schedule', '');
    return null;
end $$;

create trigger tr_dags_schedule_inserted after insert on dags.dags
    for each row when (new.next_run_at is not null and not new.paused)
    execute function dags.notify_schedule_changed();

create trigger tr_dags_schedule_moved_earlier after update of next_run_at, paused on dags.dags
    for each row when (new.next_run_at is not null and not new.paused
        and (old.paused or old.next_run_at is null or new.next_run_at < old.next_run_at))
    execute function dags.notify_schedule_changed();

-- The loop is no longer a Quartz job (it holds an advisory lock instead; see SchedulerLoop):
-- drop the old job and its trigger, so Quartz does not try to fire a class that is gone.
delete from quartz.qrtz_fired_triggers where trigger_name = 'scheduler-loop' and trigger_group = 'runs';
delete from quartz.qrtz_simple_triggers where trigger_name = 'scheduler-loop' and trigger_group = 'runs';
delete from quartz.qrtz_triggers where trigger_name = 'scheduler-loop' and trigger_group = 'runs';
delete from quartz.qrtz_job_details where job_class_name like 'Scheduler.Modules.Runs.SchedulerJobs+SchedulerLoop,%';
