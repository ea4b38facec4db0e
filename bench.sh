#!/usr/bin/env bash
# Measures the server as a user would run it: a Release build started here on a fresh
# database of the local cluster, driven only through the public API (plus PostgreSQL's own
# statistics for P5). Targets missed are reported, not failures; the script fails only if
# it cannot measure.   Usage: ./bench.sh [quick|full|smoke] [scenario...]
# smoke: the smallest sizes, every scenario once, so the harness itself is exercised (test.sh
# runs it); its figures mean nothing. Scenarios (default: all; the peak RSS is always reported): P5idle P1 (P1, P3 and P5 busy
# run together; P2 and P3 are aliases) MAP (a 1,024-way mapped noop task) P4 burst P7 P6 P8 grid P11 W1 P9 P10 (P10, R1 and R3 run together; R1 and
# R3 are aliases). Sizes can be overridden from the environment, e.g. P6_DAGS=3000 P6_FIRINGS=2;
# BENCH_TOP_STATEMENTS=20 ends with the 20 statements that took the most database time.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-quick}"
shift || true
only=" $* "
want() { [ "$only" = "  " ] && return 0; local s; for s in "$@"; do [[ "$only" == *" $s "* ]] && return 0; done; return 1; }
case "$mode" in
  quick) dags=1000;  chain_repeats=2; runs=20;  width=50;  p7_dags=20;  p7_seconds=10; idle_seconds=10; grid_runs=5;  grid_tasks=1000; rep_runs=20;  rep_tasks=50;  chaos_dags=2; chaos_seconds=20; kill_every=5; p6_dags=1000; p6_firings=2; p6_cron='* * * * *'; burst_clients=50; burst_seconds=5 ;;
  smoke) dags=30;    chain_repeats=1; runs=2;   width=5;   p7_dags=2;   p7_seconds=5;  idle_seconds=2;  grid_runs=2;  grid_tasks=20;   rep_runs=2;   rep_tasks=5;   chaos_dags=1; chaos_seconds=4;  kill_every=3; p6_dags=5; p6_firings=3; p6_cron='* * * * * *'; burst_clients=4; burst_seconds=2 ;;
  full)  dags=10000; chain_repeats=5; runs=200; width=100; p7_dags=100; p7_seconds=60; idle_seconds=60; grid_runs=25; grid_tasks=5000; rep_runs=100; rep_tasks=100; chaos_dags=20; chaos_seconds=300; kill_every=30; p6_dags=10000; p6_firings=5; p6_cron='* * * * *'; burst_clients=50; burst_seconds=10 ;;
  *) echo "usage: ./bench.sh [quick|full|smoke] [scenario...]" >&2; exit 2 ;;
esac
case "$mode" in smoke) p11_dates=50 ;; *) p11_dates=10000 ;; esac; p11_dates="${P11_DATES:-$p11_dates}"
p6_dags="${P6_DAGS:-$p6_dags}"; p6_firings="${P6_FIRINGS:-$p6_firings}"; p6_cron="${P6_CRON:-$p6_cron}"
runs="${P3_RUNS:-$runs}"; width="${P3_WIDTH:-$width}"; dags="${P8_DAGS:-$dags}"

unset ConnectionStrings__Scheduler
source scripts/db.sh
db_setup
source scripts/master-key.sh
master_key_setup
export PGPASSWORD=scheduler
psql_admin() { psql -h 127.0.0.1 -p "$SCHEDULER_PG_PORT" -U scheduler "$@"; }
db="bench_$(date +%s)"
psql_admin -d postgres -qc "create database $db" >/dev/null
psql_admin -d "$db" -qc "create extension if not exists pg_stat_statements" >/dev/null 2>&1 || true
echo "[bench] building (Release)" >&2
dotnet build src/Scheduler -c Release -nologo -v q >/dev/null
dotnet build bench/HangfireBaseline -c Release -nologo -v q >/dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
key="sk_bench_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
password="pw_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
ConnectionStrings__Scheduler="Host=127.0.0.1;Port=$SCHEDULER_PG_PORT;Username=scheduler;Password=scheduler;Database=$db" \
Auth__BootstrapAdminKey="$key" Auth__BootstrapAdminUser=bench Auth__BootstrapAdminPassword="$password" ASPNETCORE_ENVIRONMENT=Production Serilog__MinimumLevel__Default=Warning Grpc__Port=off \
  dotnet src/Scheduler/bin/Release/net10.0/Scheduler.dll --urls "http://127.0.0.1:$port" > ".local/bench-server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; psql_admin -d postgres -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true; psql_admin -d postgres -qc "drop database if exists ${db}_replicas with (force)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "[bench] the server did not start; see .local/bench-server.log" >&2; exit 1; }
url="http://127.0.0.1:$port"

# The server's user+system CPU time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat" 2>/dev/null || echo 0; }
# The same for this cluster's PostgreSQL processes (the postmaster's children; pooled
# connections live through a scenario, so their time is counted).
pg_ticks() {
  local pm; pm="$(head -1 .local/pg/postmaster.pid 2>/dev/null)" || { echo 0; return; }
  for p in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
stats() { psql_admin -d "$db" -tAc "select coalesce((select sum(calls) from pg_stat_statements where dbid = (select oid from pg_database where datname = '$db')), 0), (select xact_commit from pg_stat_database where datname = '$db')"; }
if want P5idle; then
  echo "[bench] P5 idle ($idle_seconds s)" >&2
  sleep 5
  psql_admin -d "$db" -qc "select pg_stat_statements_reset()" >/dev/null 2>&1 || true
  s0="$(stats)"; sleep "$idle_seconds"; s1="$(stats)"
  echo "$s0 $s1" | awk -F'[| ]' -v t="$idle_seconds" '{printf "P5 idle: %.1f statements/s, %.1f commits/s (target <= 2 statements/s)\n", ($3-$1)/t, ($4-$2)/t}'
fi

if want P1 P2 P3 P4; then
  # A new process spends a quarter of its CPU and more in the JIT during its first tens of
  # thousands of tasks (tiered compilation with PGO re-compiles the hot paths twice): the
  # first rounds run at a third of the steady rate. Warm-up rounds until two in a row agree
  # within 10% (at least 2, at most 8), so P1 and P3 measure the steady state of every build.
  prev=0
  for round in 1 2 3 4 5 6 7 8; do
    echo "[bench] warm-up round $round ($((runs / 2)) runs x $width noop)" >&2
    line="$(python3 bench/engine.py --url "$url" --key "$key" --repeats 0 --runs "$((runs / 2))" --tasks "$width" --prefix "warm${round}_$(date +%s)" | grep '^P3' | sed 's/^P3/warm-up (not P3):/')"
    echo "$line"
    rate="$(echo "$line" | grep -o '[0-9]* tasks/s' | grep -o '[0-9]*')"
    if [ "$round" -ge 2 ] && [ -n "$rate" ] && awk -v a="$prev" -v b="$rate" 'BEGIN { exit !(a > 0 && b / a < 1.1 && a / b < 1.1) }'; then
      break
    fi
    prev="${rate:-0}"
  done
  echo "[bench] P1 and P3" >&2
  s0="$(stats)"; c0="$(cpu_ticks)"; g0="$(pg_ticks)"
  python3 bench/engine.py --url "$url" --key "$key" --repeats "$chain_repeats" --runs "$runs" --tasks "$width" | tee ".local/bench-engine.txt"
  s1="$(stats)"; c1="$(cpu_ticks)"; g1="$(pg_ticks)"
  echo "$s0 $s1" | awk -F'[| ]' -v n="$((runs * width + chain_repeats * 140))" '{printf "P5 busy: %.2f statements/task, %.2f commits/task (target <= 6, <= 2)\n", ($3-$1)/n, ($4-$2)/n}'
  # CPU time is steadier than wall time on a shared machine: compare it between builds.
  awk -v a="$c0" -v b="$c1" -v c="$g0" -v d="$g1" -v hz="$(getconf CLK_TCK)" -v n="$((runs * width + chain_repeats * 140))" \
    'BEGIN { printf "P3 CPU per task: server %.0f us, PostgreSQL %.0f us (user+system, incl. the API calls of the client)\n", (b - a) / hz / n * 1e6, (d - c) / hz / n * 1e6 }'
fi

if want MAP; then
  # One run of a noop task mapped over 1,024 items (the default max_map_length): the
  # expansion is one INSERT; the instances then run as any queued tasks of one run do.
  case "$mode" in smoke) map_items=20; map_repeats=1 ;; *) map_items=1024; map_repeats=3 ;; esac
  echo "[bench] MAP ($map_items-way mapped noop task, $map_repeats runs)" >&2
  python3 bench/engine.py --url "$url" --key "$key" --map "$map_items" --map-repeats "$map_repeats" --prefix "map_$(date +%s)"
fi

if want P4; then
  # P4: the same number of trivial jobs through raw Hangfire.PostgreSql (20 workers, jobs
  # enqueued first), on this machine and this database (its own schema), in this invocation.
  hf_jobs=$((runs * width))
  echo "[bench] P4 Hangfire.PostgreSql baseline ($hf_jobs jobs)" >&2
  hf="$(dotnet bench/HangfireBaseline/bin/Release/net10.0/HangfireBaseline.dll "Host=127.0.0.1;Port=$SCHEDULER_PG_PORT;Username=scheduler;Password=scheduler;Database=$db" "$hf_jobs" 20)"
  echo "$hf"
  ours="$(sed -n 's/^P3 .*: \([0-9.]*\) tasks\/s.*/\1/p' .local/bench-engine.txt)"
  theirs="$(echo "$hf" | sed -n 's/.*, \([0-9.]*\) jobs\/s processed/\1/p')"
  awk -v o="${ours:-0}" -v t="${theirs:-0}" 'BEGIN { if (t > 0) printf "P4 ratio: %.1fx (this engine %s tasks/s / Hangfire %s jobs/s; target >= 10x)\n", o / t, o, t; else print "P4 ratio: not measured" }'
fi

if want burst; then
  # Manual triggers of one DAG from many clients at once: trigger rate and latency, and the
  # slowest run end after its queueing (a lost wake-up shows as a max of tens of seconds).
  echo "[bench] trigger burst ($burst_clients clients, $burst_seconds s)" >&2
  python3 bench/burst.py --url "$url" --key "$key" --clients "$burst_clients" --seconds "$burst_seconds"
fi

if want P7; then
  echo "[bench] P7 ($p7_dags DAGs, $p7_seconds s)" >&2
  python3 bench/punctuality.py --url "$url" --key "$key" --dags "$p7_dags" --seconds "$p7_seconds"
fi

if want P6; then
  echo "[bench] P6 ($p6_dags DAGs on '$p6_cron', $p6_firings firings)" >&2
  python3 bench/cron_scale.py --url "$url" --key "$key" --dags "$p6_dags" --firings "$p6_firings" --cron "$p6_cron"
fi

if want P8; then
  echo "[bench] P8 catalogue ($dags DAGs)" >&2
  python3 bench/catalogue.py --url "$url" --key "$key" --dags "$dags" --pages 100
fi

if want grid P8; then
  echo "[bench] P8 admin grid ($grid_runs runs x $grid_tasks tasks)" >&2
  python3 bench/admin_grid.py --url "$url" --key "$key" --user bench --password "$password" --runs "$grid_runs" --tasks "$grid_tasks"
fi

if want W1; then
  # W1: 10,000 parked signal waits (smoke: 200) beside P3-style noop work; throughput with and without them.
  case "$mode" in smoke) w1="--waiters 200 --runs 4 --p3-runs 2 --p3-tasks 20 --signals 20" ;; *) w1="--waiters 10000 --runs 100 --p3-runs 40 --p3-tasks 100" ;; esac
  echo "[bench] W1 waits beside noop work" >&2
  python3 bench/waits.py --url "$url" --key "$key" $w1
fi

if want P11; then
  # P11: a backfill's runs created in bulk (dry run first, then the real call; cancelled after).
  echo "[bench] P11 backfill ($p11_dates dates)" >&2
  python3 bench/backfill.py --url "$url" --key "$key" --dates "$p11_dates"
fi

if want P9; then
  # P9 as performance.md states it: RSS with $dags DAGs, idle, and at its peak under P3 load.
  have="$(psql_admin -d "$db" -tAc "select count(*) from dags.dags")"
  if [ "${have:-0}" -lt "$dags" ]; then
    echo "[bench] P9: creating $((dags - have)) DAGs" >&2
    python3 bench/catalogue.py --url "$url" --key "$key" --dags "$((dags - have))" --pages 1 >/dev/null
  fi
  echo "[bench] P9 (idle, then P3 load)" >&2
  sleep 5
  idle_rss="$(awk '/VmRSS/ {print $2}' "/proc/$server/status")"
  ( while kill -0 "$server" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$server/status"; sleep 0.1; done ) > .local/bench-rss.txt 2>/dev/null &
  sampler=$!
  python3 bench/engine.py --url "$url" --key "$key" --repeats 0 --runs "$runs" --tasks "$width" --prefix "p9_$(date +%s)" >/dev/null
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  load_rss="$(sort -n .local/bench-rss.txt | tail -1)"
  echo "P9 with $((have > dags ? have : dags)) DAGs: RSS idle $((idle_rss / 1024)) MB, peak under P3 load ($((runs * width)) tasks) $((${load_rss:-0} / 1024)) MB (target <= 300 MB)"
fi

if true; then # the peak over everything that ran, always reported
  peak="$(grep VmHWM "/proc/$server/status" 2>/dev/null | awk '{print $2}')"
  [ -n "$peak" ] || peak="$(ps -o rss= -p "$(pgrep -P "$server" | head -1)" 2>/dev/null || echo 0)"
  echo "P9 peak RSS over this invocation: $((peak / 1024)) MB"
fi

if want P10 R1 R3; then
  # P10, R1, R3: several server processes on a database of their own; R3 stops and starts the
  # local cluster under them (the server above sees that too, harmlessly).
  echo "[bench] P10, R1, R3 (replicas)" >&2
  psql_admin -d postgres -qc "create database ${db}_replicas" >/dev/null
  python3 bench/replicas.py --dll src/Scheduler/bin/Release/net10.0/Scheduler.dll \
    --db "Host=127.0.0.1;Port=$SCHEDULER_PG_PORT;Username=scheduler;Password=scheduler;Database=${db}_replicas" \
    --runs "$rep_runs" --tasks "$rep_tasks" --dags "$chaos_dags" --seconds "$chaos_seconds" --kill-every "$kill_every" \
    --restart-db "bash -c 'unset ConnectionStrings__Scheduler; source scripts/db.sh; db_stop; sleep 5; db_setup'"
fi

if [ -n "${BENCH_TOP_STATEMENTS:-}" ]; then
  # For profiling: where the database time went over the whole invocation (server database only).
  psql_admin -d "$db" -c "select calls, round(total_exec_time) as total_ms, round(mean_exec_time::numeric, 3) as mean_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) as query from pg_stat_statements where dbid = (select oid from pg_database where datname = '$db') order by total_exec_time desc limit ${BENCH_TOP_STATEMENTS}"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d)"
