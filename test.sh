#!/usr/bin/env bash
# Runs every test against a real PostgreSQL: the same set-up as run.sh, then a fresh
# 'scheduler_test' database, then all test projects. The last line is the summed count:
# "N passed, N failed" (", N skipped" when any were).
set -uo pipefail
cd "$(dirname "$0")"
source scripts/db.sh
db_setup || { echo "0 passed, 1 failed"; exit 1; }

if [ -n "${SCHEDULER_EXTERNAL_DB:-}" ]; then
  export SCHEDULER_TEST_CONNECTION="$ConnectionStrings__Scheduler"
else
  export PGPASSWORD=scheduler
  psql -h 127.0.0.1 -p "$SCHEDULER_PG_PORT" -U scheduler -d postgres -qc "drop database if exists scheduler_test with (force)" >/dev/null
  psql -h 127.0.0.1 -p "$SCHEDULER_PG_PORT" -U scheduler -d postgres -qc "create database scheduler_test" >/dev/null
  export SCHEDULER_TEST_CONNECTION="Host=127.0.0.1;Port=$SCHEDULER_PG_PORT;Username=scheduler;Password=scheduler;Database=scheduler_test"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! dotnet build Scheduler.sln -c Release -nologo -v q; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

results="$(mktemp -d)"
status=0
for project in $(grep -l 'Microsoft.NET.Test.Sdk' tests/*/*.csproj); do
  name="$(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" || status=$?
done

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters"); t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  x=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${t:-0} - ${x:-0}))
done
rm -rf "$results"

if [ "$files" -eq 0 ] || [ $((passed + failed)) -eq 0 ]; then
  echo "no test results were produced"
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
