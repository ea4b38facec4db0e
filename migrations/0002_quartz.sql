-- Tables for Quartz.NET 4.7's ADO job store (clustered) on PostgreSQL, in their own schema.
-- Quartz is configured with the table prefix 'quartz.qrtz_' and validates these tables at
-- start-up (SchemaProvisioning.Validate), so a mismatch fails the start, not a firing.
-- Quartz writes unquoted upper-case names, which PostgreSQL folds to these lower-case ones.
-- Times are .NET ticks (bigint).
create schema if not exists quartz;

create table quartz.qrtz_job_details (
    sched_name         text not null,
    job_name           text not null,
    job_group          text not null,
    description        text null,
    job_class_name     text not null,
    is_durable         boolean not null,
    is_nonconcurrent   boolean not null,
    is_update_data     boolean not null,
    requests_recovery  boolean not null,
    job_data           bytea null,
    primary key (sched_name, job_name, job_group)
);

create table quartz.qrtz_triggers (
    sched_name               text not null,
    trigger_name             text not null,
    trigger_group            text not null,
    job_name                 text not null,
    job_group                text not null,
    description              text null,
    next_fire_time           bigint null,
    prev_fire_time           bigint null,
    priority                 integer null,
    trigger_state            text not null,
    trigger_type             text not null,
    start_time               bigint not null,
    end_time                 bigint null,
    calendar_name            text null,
    misfire_instr            smallint null,
    misfire_orig_fire_time   bigint null,
    execution_group          varchar null,
    preferred_node           varchar null,
    preferred_node_auto      boolean not null default false,
    retry_policy             varchar null,
    retry_attempt            integer null,
    continues_trigger_name   text null,
    continues_trigger_group  text null,
    continuation_condition   integer null,
    overlap_policy           integer null,
    pause_reason             varchar null,
    paused_by                varchar null,
    paused_at                bigint null,
    misfire_threshold        bigint null,
    fixed_delay              boolean null,
    job_data                 bytea null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, job_name, job_group) references quartz.qrtz_job_details (sched_name, job_name, job_group)
);

create table quartz.qrtz_simple_triggers (
    sched_name       text not null,
    trigger_name     text not null,
    trigger_group    text not null,
    repeat_count     bigint not null,
    repeat_interval  bigint not null,
    times_triggered  bigint not null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) on delete cascade
);

create table quartz.qrtz_simprop_triggers (
    sched_name     text not null,
    trigger_name   text not null,
    trigger_group  text not null,
    str_prop_1     text null,
    str_prop_2     text null,
    str_prop_3     text null,
    int_prop_1     integer null,
    int_prop_2     integer null,
    long_prop_1    bigint null,
    long_prop_2    bigint null,
    dec_prop_1     numeric null,
    dec_prop_2     numeric null,
    bool_prop_1    boolean null,
    bool_prop_2    boolean null,
    time_zone_id   text null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) on delete cascade
);

create table quartz.qrtz_cron_triggers (
    sched_name       text not null,
    trigger_name     text not null,
    trigger_group    text not null,
    cron_expression  text not null,
    time_zone_id     text null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) on delete cascade
);

create table quartz.qrtz_blob_triggers (
    sched_name     text not null,
    trigger_name   text not null,
    trigger_group  text not null,
    blob_data      bytea null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group) on delete cascade
);

create table quartz.qrtz_calendars (
    sched_name     text not null,
    calendar_name  text not null,
    calendar       bytea not null,
    primary key (sched_name, calendar_name)
);

create table quartz.qrtz_paused_trigger_grps (
    sched_name     text not null,
    trigger_group  text not null,
    pause_reason   varchar null,
    paused_by      varchar null,
    paused_at      bigint null,
    primary key (sched_name, trigger_group)
);

create table quartz.qrtz_paused_job_grps (
    sched_name    text not null,
    job_group     text not null,
    pause_reason  varchar null,
    paused_by     varchar null,
    paused_at     bigint null,
    primary key (sched_name, job_group)
);

create table quartz.qrtz_fired_triggers (
    sched_name                text not null,
    entry_id                  text not null,
    trigger_name              text not null,
    trigger_group             text not null,
    instance_name             text not null,
    fired_time                bigint not null,
    sched_time                bigint not null,
    priority                  integer not null,
    state                     text not null,
    job_name                  text null,
    job_group                 text null,
    is_nonconcurrent          boolean not null,
    requests_recovery         boolean null,
    execution_group           varchar null,
    progress                  integer null,
    progress_message          varchar null,
    interrupt_requested_time  bigint null,
    primary key (sched_name, entry_id)
);

create table quartz.qrtz_scheduler_state (
    sched_name         text not null,
    instance_name      text not null,
    last_checkin_time  bigint not null,
    checkin_interval   bigint not null,
    quartz_version     varchar null,
    primary key (sched_name, instance_name)
);

create table quartz.qrtz_locks (
    sched_name  text not null,
    lock_name   text not null,
    primary key (sched_name, lock_name)
);

create table quartz.qrtz_execution_history (
    sched_name           text not null,
    entry_id             text not null,
    instance_name        text not null,
    job_name             text not null,
    job_group            text not null,
    trigger_name         text not null,
    trigger_group        text not null,
    fired_time           bigint not null,
    run_time             bigint not null,
    succeeded            boolean not null,
    error_message        text null,
    retry_attempt        integer not null default 0,
    retry_scheduled      boolean not null default false,
    execution_log        text null,
    result               integer null,
    summary              text null,
    metrics              text null,
    manual               boolean null,
    fire_instance_id     text null,
    job_input            text null,
    job_input_too_large  boolean null,
    primary key (sched_name, entry_id)
);

create table quartz.qrtz_misfire_history (
    sched_name     text not null,
    entry_id       text not null,
    instance_name  text not null,
    trigger_name   text not null,
    trigger_group  text not null,
    job_name       text null,
    job_group      text null,
    misfire_time   bigint not null,
    sched_time     bigint null,
    reason         integer null,
    primary key (sched_name, entry_id)
);

create table quartz.qrtz_job_status (
    sched_name            text not null,
    job_group             text not null,
    job_name              text not null,
    first_fired_time      bigint not null,
    last_fired_time       bigint not null,
    last_result           integer not null,
    last_run_time         bigint not null,
    last_instance_name    text not null,
    last_entry_id         text null,
    last_summary          text null,
    last_success_time     bigint null,
    last_failure_time     bigint null,
    last_failure_message  text null,
    consecutive_failures  integer not null default 0,
    run_count             bigint not null default 0,
    failure_count         bigint not null default 0,
    primary key (sched_name, job_group, job_name)
);

-- The lookups the store makes on every acquisition, recovery and check-in.
create index ix_qrtz_triggers_due on quartz.qrtz_triggers (sched_name, trigger_state, next_fire_time, priority desc, misfire_instr);
create index ix_qrtz_triggers_job on quartz.qrtz_triggers (sched_name, job_name, job_group);
create index ix_qrtz_triggers_group on quartz.qrtz_triggers (sched_name, trigger_group, trigger_name);
create index ix_qrtz_triggers_calendar on quartz.qrtz_triggers (sched_name, calendar_name);
create index ix_qrtz_job_details_group on quartz.qrtz_job_details (sched_name, job_group, job_name);
create index ix_qrtz_fired_recovery on quartz.qrtz_fired_triggers (sched_name, instance_name, requests_recovery);
create index ix_qrtz_fired_job on quartz.qrtz_fired_triggers (sched_name, job_name, job_group);
create index ix_qrtz_fired_trigger on quartz.qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
create index ix_qrtz_history_fired on quartz.qrtz_execution_history (sched_name, fired_time);
create index ix_qrtz_history_instance on quartz.qrtz_execution_history (sched_name, instance_name);
create index ix_qrtz_history_fire_instance on quartz.qrtz_execution_history (sched_name, fire_instance_id);
create index ix_qrtz_history_job on quartz.qrtz_execution_history (sched_name, job_group, job_name, fired_time);
create index ix_qrtz_history_trigger on quartz.qrtz_execution_history (sched_name, trigger_group, trigger_name, fired_time);
create index ix_qrtz_misfires_instance on quartz.qrtz_misfire_history (sched_name, instance_name);
create index ix_qrtz_misfires_time on quartz.qrtz_misfire_history (sched_name, misfire_time);
