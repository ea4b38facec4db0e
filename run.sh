#!/usr/bin/env bash
# Starts everything: PostgreSQL (installed with apt when missing, a project-local cluster
# unless ConnectionStrings__Scheduler is set) and the server, which applies migrations.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/db.sh
db_setup

port="${SCHEDULER_PORT:-5080}"
if [ -z "${Auth__BootstrapAdminKey:-}" ]; then
  if [ ! -s .local/bootstrap-admin-key ]; then
    mkdir -p .local
    (umask 077; printf 'sk_%s\n' "$(head -c 30 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" > .local/bootstrap-admin-key)
  fi
  Auth__BootstrapAdminKey="$(tr -d '\n' < .local/bootstrap-admin-key)"
  export Auth__BootstrapAdminKey
fi
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

cat <<INFO
Scheduler on http://127.0.0.1:$port
  API         http://127.0.0.1:$port/api/v1   (header X-Api-Key)
  Swagger UI  http://127.0.0.1:$port/swagger
  Health      http://127.0.0.1:$port/health/ready
  Admin key   $Auth__BootstrapAdminKey
INFO
exec dotnet run --project src/Scheduler -c Release --no-launch-profile --urls "http://127.0.0.1:$port"
