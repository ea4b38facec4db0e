# shellcheck shell=bash
# Sourced by run.sh and test.sh. Guarantees, on return: a PostgreSQL server reachable on
# loopback and ConnectionStrings__Scheduler exported (plus SCHEDULER_PG_ADMIN_CONNECTION for
# tools that create databases). With ConnectionStrings__Scheduler already set, that external
# database is used and nothing is started.
#
# The local cluster lives in .local/pg (git-ignored). PostgreSQL refuses to run as root, so
# as root the cluster belongs to the 'postgres' OS user; when that user cannot reach the
# clone (e.g. under /root, mode 700) the cluster lives in /var/tmp/scheduler-pg-<hash> and
# .local/pg points there.

db_log() { printf '[db] %s\n' "$*" >&2; }

db_repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

db_find_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

db_install_postgres() {
  db_log "PostgreSQL server not found; installing it with apt"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      db_log "not root and no sudo: install PostgreSQL (apt-get install postgresql) or set ConnectionStrings__Scheduler"; return 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2 || return 1
}

# Runs a command as the cluster's owner.
db_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

db_setup() {
  local root port pgbin data link hash
  root="$(db_repo_root)"
  port="${SCHEDULER_PG_PORT:-55432}"
  local dbname="${SCHEDULER_DB_NAME:-scheduler}"

  if [ -n "${ConnectionStrings__Scheduler:-}" ]; then
    db_log "using the external database from ConnectionStrings__Scheduler"
    export SCHEDULER_EXTERNAL_DB=1
    return 0
  fi

  pgbin="$(db_find_bin)" || { db_install_postgres && pgbin="$(db_find_bin)"; } || { db_log "no PostgreSQL server binaries"; return 1; }
  command -v psql >/dev/null 2>&1 || { db_log "psql missing"; db_install_postgres || return 1; }

  mkdir -p "$root/.local"
  link="$root/.local/pg"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
    if [ -L "$link" ]; then
      data="$(readlink "$link")"
    elif [ -d "$link" ]; then
      data="$link"
    else
      # Reachable only if every directory on the way is traversable by postgres.
      if runuser -u postgres -- test -x "$root/.local" 2>/dev/null && runuser -u postgres -- test -r "$root/.local" 2>/dev/null; then
        mkdir -p "$link" && chown postgres "$link" && chmod 700 "$link"
        if runuser -u postgres -- test -w "$link"; then data="$link"; else rmdir "$link"; fi
      fi
      if [ -z "${data:-}" ]; then
        hash="$(printf '%s' "$root" | sha256sum | cut -c1-12)"
        data="/var/tmp/scheduler-pg-$hash"
        mkdir -p "$data" && chown postgres "$data" && chmod 700 "$data"
        ln -sfn "$data" "$link"
        db_log "the clone is not reachable by the postgres user; cluster in $data"
      fi
    fi
    chown postgres "$data"
  else
    data="$link"
    mkdir -p "$data" && chmod 700 "$data"
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    db_log "creating a PostgreSQL cluster in $data"
    local pwfile
    pwfile="$(mktemp)"; echo "scheduler" > "$pwfile"; chmod 644 "$pwfile"
    db_as_owner "$pgbin/initdb" -D "$data" -U scheduler --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null \
      || db_as_owner "$pgbin/initdb" -D "$data" -U scheduler --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null \
      || { rm -f "$pwfile"; db_log "initdb failed"; return 1; }
    rm -f "$pwfile"
    cat >> "$data/postgresql.conf" <<CONF
# scheduler: project-local development cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
max_connections = 300
shared_buffers = 256MB
shared_preload_libraries = 'pg_stat_statements'
CONF
  fi
  # Running means answering, not a PID file: a postmaster killed with SIGKILL can linger as
  # a zombie (or its PID be reused), and then pg_ctl status would still say "running".
  local pid actual
  pid="$(sed -n 1p "$data/postmaster.pid" 2>/dev/null || true)"
  actual="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ps -o stat= -p "$pid" | grep -q Z \
     && [ -n "$actual" ] && "$pgbin/pg_isready" -h 127.0.0.1 -p "$actual" -q; then
    if [ "$actual" != "$port" ]; then
      db_log "the cluster is already running on port $actual; using that"
      port="$actual"
    fi
  else
    if [ -n "$pid" ]; then
      db_log "removing the stale lock of a PostgreSQL that is gone (PID $pid)"
      rm -f "$data/postmaster.pid"
    fi
    db_log "starting PostgreSQL on 127.0.0.1:$port"
    if ! db_as_owner "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 30 start >/dev/null; then
      # pg_stat_statements comes with contrib; start without it rather than not at all.
      if grep -q "pg_stat_statements" "$data/server.log" 2>/dev/null; then
        sed -i "s/^shared_preload_libraries = 'pg_stat_statements'/#&/" "$data/postgresql.conf"
        db_as_owner "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 30 start >/dev/null || true
      fi
    fi
  fi
  local i
  for i in $(seq 1 60); do
    if "$pgbin/pg_isready" -h 127.0.0.1 -p "$port" -q; then break; fi
    sleep 0.5
  done
  if ! "$pgbin/pg_isready" -h 127.0.0.1 -p "$port" -q; then
    db_log "PostgreSQL did not become ready on port $port; last log lines:"
    tail -n 20 "$data/server.log" >&2 2>/dev/null || true
    return 1
  fi

  export PGPASSWORD=scheduler
  if ! psql -h 127.0.0.1 -p "$port" -U scheduler -d postgres -tAc "select 1 from pg_database where datname = '$dbname'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U scheduler -d postgres -qc "create database \"$dbname\"" >/dev/null
  fi
  psql -h 127.0.0.1 -p "$port" -U scheduler -d "$dbname" -qc "create extension if not exists pg_stat_statements" >/dev/null 2>&1 || true

  export SCHEDULER_PG_PORT="$port"
  export ConnectionStrings__Scheduler="Host=127.0.0.1;Port=$port;Username=scheduler;Password=scheduler;Database=$dbname"
  export SCHEDULER_PG_ADMIN_CONNECTION="Host=127.0.0.1;Port=$port;Username=scheduler;Password=scheduler;Database=postgres"
}
