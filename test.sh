#!/usr/bin/env bash
# Runs every test against a real PostgreSQL: the same set-up as run.sh (scripts/db.sh), then a
# fresh 'scheduler_test' database, one Release build, then each test project.
#
# Contract:
#   - SCHEDULER_TEST_CONNECTION: the database the tests use. Locally: scheduler_test, dropped
#     (WITH FORCE) and recreated on every call. With ConnectionStrings__Scheduler set by the
#     caller, that database is used as is and nothing is dropped.
#   - SCHEDULER_PG_ADMIN_CONNECTION: exported for the local cluster (Database=postgres).
#   - The browser tests (tests/Scheduler.IntegrationTests/Admin) need /usr/bin/chromium:
#     installed with apt-get when missing (scripts/chromium.sh); screenshots of every admin
#     page land in TestResults/screenshots.
#   - The Prometheus tests (tests/Scheduler.IntegrationTests/Observability) need Debian's
#     prometheus and promtool: installed with apt-get when missing (scripts/prometheus.sh).
#   - The single sign-on tests (tests/Scheduler.IntegrationTests/Access/Sso) need Debian's slapd
#     and libldap (scripts/ldap.sh) and Node.js with tests/oidc's locked packages (npm's
#     oidc-provider, scripts/oidc.sh): installed when missing.
#   - Extra arguments go to every `dotnet test` call, e.g. ./test.sh --filter "FullyQualifiedName~Cron".
#   - The LAST line is always "N passed, N failed" (plus ", N skipped" when any were), summed
#     over all test projects. Exit status is non-zero when a test failed, the build or the
#     database set-up failed, a test run crashed, or no test ran at all.
#
# Counts come from one trx file per project (<Counters .../>), not from console text, whose
# format changes between SDKs. Projects run one after the other (not `dotnet test
# Scheduler.sln`): each gets a known trx name, and unit and integration tests never compete
# for the CPU or the database.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "test.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# shellcheck source=scripts/db.sh
source scripts/db.sh
db_setup || fail "database set-up failed"
# shellcheck source=scripts/smtp.sh
source scripts/smtp.sh
smtp_sink_setup || fail "could not install python3-aiosmtpd (the SMTP server the email tests send to)"
# shellcheck source=scripts/chromium.sh
source scripts/chromium.sh
chromium_setup || fail "chromium set-up failed (the admin pages' browser tests need /usr/bin/chromium)"
# shellcheck source=scripts/prometheus.sh
source scripts/prometheus.sh
prometheus_setup || fail "prometheus set-up failed (the Prometheus test and promtool's check of deploy/prometheus/alerts.yml need it)"
# shellcheck source=scripts/ldap.sh
source scripts/ldap.sh
ldap_setup || fail "slapd set-up failed (the LDAP sign-in tests start Debian's slapd; System.DirectoryServices.Protocols needs libldap)"
# shellcheck source=scripts/oidc.sh
source scripts/oidc.sh
oidc_setup || fail "OpenID provider set-up failed (the SSO tests run npm's oidc-provider from tests/oidc with Node.js)"

if [ -n "${SCHEDULER_EXTERNAL_DB:-}" ]; then
  export SCHEDULER_TEST_CONNECTION="$ConnectionStrings__Scheduler"
else
  db_psql -d postgres -c "drop database if exists scheduler_test with (force)" >/dev/null \
    && db_psql -d postgres -c "create database scheduler_test" >/dev/null \
    || fail "could not recreate the scheduler_test database"
  export SCHEDULER_TEST_CONNECTION="Host=127.0.0.1;Port=$SCHEDULER_PG_PORT;Username=scheduler;Password=scheduler;Database=scheduler_test"
fi

dotnet build Scheduler.sln -c Release -nologo -v q -clp:ErrorsOnly || fail "build failed"

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
projects=0
for project in tests/*/*.csproj; do
  grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue
  projects=$((projects + 1))
  name="$(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" || status=1
done

# One attribute of the first <Counters> element of a trx file; 0 when absent.
counter() { grep -o '<Counters [^>]*>' "$2" | head -n 1 | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" | grep . || echo 0; }

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  total=$(counter total "$trx"); executed=$(counter executed "$trx")
  passed=$((passed + $(counter passed "$trx")))
  failed=$((failed + $(counter failed "$trx") + $(counter error "$trx") + $(counter timeout "$trx") + $(counter aborted "$trx")))
  # Skipped tests are in total but not executed (trx counts them as notExecuted).
  skipped=$((skipped + total - executed))
done

if [ "$files" -lt "$projects" ]; then
  echo "test.sh: $((projects - files)) of $projects test projects produced no results (crashed test host?)" >&2
  failed=$((failed + projects - files))
fi
if [ $((passed + failed)) -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  status=1
fi
# dotnet test failed without a failed test in the counts (e.g. a crash after the report).
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]; then
  echo "test.sh: dotnet test failed although no test failed" >&2
  failed=1
fi

# The benchmark harness, at its smallest sizes, so it does not rot (no timing is judged):
# counted as one test. Skipped for filtered runs (arguments given) and an external database.
if [ "$#" -eq 0 ] && [ -z "${SCHEDULER_EXTERNAL_DB:-}" ] && [ -z "${SCHEDULER_SKIP_BENCH_SMOKE:-}" ]; then
  smoke="$results/bench-smoke.log"
  if ./bench.sh smoke >"$smoke" 2>&1 \
     && grep -q '^P1 ' "$smoke" && grep -q '^P2 ' "$smoke" && grep -q '^P3 ' "$smoke" && grep -q '^burst run end' "$smoke" && grep -q '^P5 idle' "$smoke" && grep -q '^P5 busy' "$smoke" \
     && grep -q '^P4 ratio' "$smoke" && grep -q '^P6 [0-9]' "$smoke" && grep -q '^P7 ' "$smoke" && grep -q '^P8 admin grid' "$smoke" && grep -q '^P9 ' "$smoke" \
     && grep -q '^P10 ' "$smoke" && grep -q '^R1 ' "$smoke" && grep -q '^R3 ' "$smoke"; then
    passed=$((passed + 1))
    echo "test.sh: benchmark harness smoke passed" >&2
  else
    failed=$((failed + 1))
    echo "test.sh: benchmark harness smoke FAILED; its output:" >&2
    tail -n 40 "$smoke" >&2
  fi
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
