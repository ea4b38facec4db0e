# shellcheck shell=bash
# Sourced by run.sh, test.sh and bench.sh, which then call db_setup. Works under
# `set -euo pipefail` and without it; every failure path returns non-zero with a "[db]" line.
#
# Guarantees when db_setup returns 0:
#   - ConnectionStrings__Scheduler is exported (Npgsql syntax). If it was already set, that
#     external database is used as is: nothing is installed, started or created, and
#     SCHEDULER_EXTERNAL_DB=1 is exported so callers know not to drop anything.
#   - Otherwise a project-local PostgreSQL cluster answers on 127.0.0.1:$SCHEDULER_PG_PORT
#     (default 55432), role/superuser 'scheduler' with password 'scheduler' (scram over TCP),
#     database ${SCHEDULER_DB_NAME:-scheduler} exists (with pg_stat_statements when the
#     module is installed), and these are exported:
#       ConnectionStrings__Scheduler   ...;Database=<db>
#       SCHEDULER_PG_ADMIN_CONNECTION  ...;Database=postgres (for creating databases)
#       SCHEDULER_PG_PORT              the port actually used (an already running cluster
#                                      of this clone keeps the port it was started on)
#       PGPASSWORD=scheduler           so `psql -h 127.0.0.1 -p "$SCHEDULER_PG_PORT" -U scheduler`
#                                      works (libpq does not read the Npgsql strings).
#
# Where the cluster lives: .local/pg in the clone (git-ignored). PostgreSQL refuses to run as
# root, so as root the cluster belongs to the 'postgres' OS user (created if missing) and all
# server commands run through `runuser -u postgres`. When that user cannot reach the clone
# (e.g. a clone under /root, mode 700) the cluster lives in /var/tmp/scheduler-pg-<hash of the
# clone path> and .local/pg is a symlink to it. Trade-off: /var/tmp survives reboots but a
# tmp cleaner may delete it; then the next call simply creates a fresh cluster.
#
# The server listens on TCP 127.0.0.1 only (unix_socket_directories = ''): no socket path
# length limit for deep clones, and no socket lock file that a killed postmaster leaves behind.
# The settings the project depends on live in scheduler.conf in the data folder, rewritten on
# every start and included last from postgresql.conf, so changes here reach old clusters.

db_log() { printf '[db] %s\n' "$*" >&2; }

db_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P); }

# Server binaries: PostgreSQL 15 preferred, else the highest installed major.
db_find_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_isready" ]; then
      echo "$dir"; return 0
    fi
  done
  return 1
}

# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# apt install. Debian's package may create and start its own 'main' cluster on 5432; that
# cluster is never used here and does not get in the way (different port and folder).
db_install_postgres() {
  apt_install PostgreSQL postgresql postgresql-contrib \
    || { db_log "install PostgreSQL 15 or set ConnectionStrings__Scheduler"; return 1; }
}

db_is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the cluster's owner: postgres when we are root, else ourselves. From /
# so that runuser does not complain about a working directory postgres cannot enter.
db_as_owner() {
  if db_is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# As root: the folder the cluster lives in, reachable and writable by postgres.
db_root_data_dir() {
  local root="$1" link="$1/.local/pg" data="" hash
  if [ -L "$link" ]; then
    data="$(readlink "$link")"
  elif [ -d "$link" ]; then
    if runuser -u postgres -- test -w "$link/." 2>/dev/null || { chown postgres "$link" && runuser -u postgres -- test -w "$link/." 2>/dev/null; }; then
      data="$link"
    elif [ -z "$(ls -A "$link")" ]; then
      rmdir "$link"      # empty and unreachable (the clone moved): use the fallback below
    else
      db_log "$link holds a cluster the postgres user cannot reach (was the clone moved?);"
      db_log "move it away or delete it, or set ConnectionStrings__Scheduler"
      return 1
    fi
  fi
  if [ -z "$data" ] && [ ! -e "$link" ]; then
    # Reachable only if postgres can traverse every directory up to .local; then try for real.
    if runuser -u postgres -- test -x "$root/.local/." 2>/dev/null; then
      mkdir -p "$link" && chown postgres "$link" && chmod 700 "$link"
      if runuser -u postgres -- test -w "$link/." 2>/dev/null; then data="$link"; else rmdir "$link"; fi
    fi
    if [ -z "$data" ]; then
      hash="$(printf '%s' "$root" | sha256sum | cut -c1-12)"
      data="/var/tmp/scheduler-pg-$hash"
      ln -sfn "$data" "$link"
      db_log "the postgres user cannot reach $root; the cluster lives in $data (.local/pg points there)"
    fi
  fi
  # A symlink's target may have been cleaned away: recreate it. Refuse a planted symlink.
  if [ -L "$data" ]; then db_log "$data is a symlink; refusing to use it"; return 1; fi
  mkdir -p "$data" && chown postgres "$data" && chmod 700 "$data" || { db_log "cannot prepare $data"; return 1; }
  printf '%s\n' "$data"
}

# 0 when the postmaster recorded in postmaster.pid is a live process (not a zombie, not a
# recycled PID running something else). Prints its PID and port.
db_live_postmaster() {
  local data="$1" pid port state
  [ -f "$data/postmaster.pid" ] || return 1
  pid="$(sed -n 1p "$data/postmaster.pid" 2>/dev/null || true)"
  port="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)"
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
  [ "$state" != "Z" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "postgres" || return 1
  printf '%s %s\n' "$pid" "$port"
}

db_wait_ready() {
  local pgbin="$1" port="$2" i
  for i in $(seq 1 60); do
    "$pgbin/pg_isready" -h 127.0.0.1 -p "$port" -q && return 0
    sleep 0.5
  done
  return 1
}

db_log_tail() {
  db_log "last lines of $1/server.log:"
  tail -n 25 "$1/server.log" >&2 2>/dev/null || true
}

db_psql() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SCHEDULER_PG_PORT" -U scheduler "$@"; }

db_setup() {
  if [ -n "${ConnectionStrings__Scheduler:-}" ]; then
    db_log "using the external database from ConnectionStrings__Scheduler; starting nothing"
    export SCHEDULER_EXTERNAL_DB=1
    return 0
  fi

  local root port dbname pgbin data live pid preload="" pwfile initlog
  root="$(db_repo_root)"
  port="${SCHEDULER_PG_PORT:-55432}"
  dbname="${SCHEDULER_DB_NAME:-scheduler}"

  pgbin="$(db_find_bin)" || { db_install_postgres && pgbin="$(db_find_bin)"; } \
    || { db_log "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"; return 1; }
  command -v psql >/dev/null 2>&1 || { db_install_postgres && command -v psql >/dev/null 2>&1; } \
    || { db_log "psql is missing"; return 1; }

  mkdir -p "$root/.local" || return 1
  if db_is_root; then
    id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres \
      || { db_log "cannot create the postgres OS user"; return 1; }
    data="$(db_root_data_dir "$root")" || return 1
  else
    data="$root/.local/pg"
    mkdir -p "$data" && chmod 700 "$data" || return 1
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    db_log "creating a PostgreSQL cluster in $data"
    pwfile="$(mktemp)" && printf 'scheduler\n' > "$pwfile" && chmod 644 "$pwfile" && initlog="$(mktemp)" || return 1
    # C.UTF-8 exists on Debian 12; a system without it gets the default locale instead.
    if ! db_as_owner "$pgbin/initdb" -D "$data" -U scheduler --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
           --auth-local=trust --auth-host=scram-sha-256 >"$initlog" 2>&1 \
       && ! db_as_owner "$pgbin/initdb" -D "$data" -U scheduler --pwfile="$pwfile" -E UTF8 \
           --auth-local=trust --auth-host=scram-sha-256 >"$initlog" 2>&1; then
      rm -f "$pwfile"
      db_log "initdb failed:"; tail -n 20 "$initlog" >&2 || true; rm -f "$initlog"
      return 1
    fi
    rm -f "$pwfile" "$initlog"
  fi
  grep -q "^include_if_exists = 'scheduler.conf'" "$data/postgresql.conf" \
    || printf "\n# project settings, rewritten by scripts/db.sh on every start\ninclude_if_exists = 'scheduler.conf'\n" \
         | db_as_owner tee -a "$data/postgresql.conf" >/dev/null || return 1

  if live="$(db_live_postmaster "$data")"; then
    # Running (or still starting/recovering): never touch its lock file, just wait for it.
    pid="${live%% *}"
    if [ -n "${live#* }" ] && [ "${live#* }" != "$port" ]; then
      db_log "the cluster is already running on port ${live#* }; using that"
      port="${live#* }"
    fi
    db_wait_ready "$pgbin" "$port" || { db_log "PostgreSQL (PID $pid) runs but does not answer on 127.0.0.1:$port"; db_log_tail "$data"; return 1; }
  else
    # A postmaster killed with SIGKILL leaves postmaster.pid behind, and in a container
    # without an init it may linger as a zombie whose PID still "exists": the new postmaster
    # would then refuse to start. The process is verifiably gone, so the lock is stale.
    if [ -f "$data/postmaster.pid" ]; then
      db_log "removing the stale lock of a PostgreSQL that is gone"
      rm -f "$data/postmaster.pid" "$data"/.s.PGSQL.*.lock
    fi
    # pg_stat_statements ships with the server package on Debian (postgresql-contrib is only
    # a meta package); preloading a module that is absent would stop the server from starting.
    preload=""
    if [ -f "$pgbin/../lib/pg_stat_statements.so" ]; then preload="pg_stat_statements"; fi
    db_as_owner tee "$data/scheduler.conf" >/dev/null <<CONF || return 1
# Written by scripts/db.sh on every start; edit there.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
shared_preload_libraries = '$preload'
logging_collector = off
CONF
    db_log "starting PostgreSQL on 127.0.0.1:$port"
    if ! db_as_owner "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 30 start >/dev/null 2>&1; then
      db_log "PostgreSQL did not start (port $port busy? set SCHEDULER_PG_PORT)"
      db_log_tail "$data"
      return 1
    fi
    db_wait_ready "$pgbin" "$port" || { db_log "PostgreSQL started but does not answer on 127.0.0.1:$port"; db_log_tail "$data"; return 1; }
  fi

  export SCHEDULER_PG_PORT="$port"
  export PGPASSWORD=scheduler
  if [ "$(db_psql -d postgres -tAc "select 1 from pg_database where datname = '$dbname'")" != "1" ]; then
    db_psql -d postgres -c "create database \"$dbname\"" >/dev/null || { db_log "cannot create database $dbname"; return 1; }
  fi
  if [ -n "$preload" ] || grep -q "shared_preload_libraries = 'pg_stat_statements'" "$data/scheduler.conf" 2>/dev/null; then
    db_psql -d "$dbname" -c "create extension if not exists pg_stat_statements" >/dev/null 2>&1 || true
  fi

  export ConnectionStrings__Scheduler="Host=127.0.0.1;Port=$port;Username=scheduler;Password=scheduler;Database=$dbname"
  export SCHEDULER_PG_ADMIN_CONNECTION="Host=127.0.0.1;Port=$port;Username=scheduler;Password=scheduler;Database=postgres"
}

# Stops this clone's local cluster (fast shutdown). Not called by the scripts: the cluster is
# meant to outlive run.sh/test.sh so the next call starts in well under a second.
db_stop() {
  local root data pgbin
  root="$(db_repo_root)"; data="$root/.local/pg"
  [ -f "$data/PG_VERSION" ] || { db_log "no local cluster in $data"; return 0; }
  pgbin="$(db_find_bin)" || return 1
  db_as_owner "$pgbin/pg_ctl" -D "$(readlink -f "$data")" -m fast -w stop >/dev/null 2>&1 && db_log "stopped the local cluster" || true
}
