#!/usr/bin/env bash
# Starts everything: PostgreSQL (installed with apt when missing; a project-local cluster
# unless ConnectionStrings__Scheduler is set, see scripts/db.sh) and the server in Release,
# which applies the SQL migrations itself at start-up.
#
# Environment: SCHEDULER_PORT (HTTP, default 5080), SCHEDULER_PG_PORT (local PostgreSQL,
# default 55432), SCHEDULER_DB_NAME (default scheduler), ConnectionStrings__Scheduler
# (external database), Auth__BootstrapAdminKey (else generated once into
# .local/bootstrap-admin-key, mode 600, and reused on every later call), Auth__BootstrapAdminUser
# (default admin) and Auth__BootstrapAdminPassword (else generated once into
# .local/bootstrap-admin-password, mode 600): the first user of the admin pages,
# ASPNETCORE_ENVIRONMENT (default Development: Swagger UI and readable console logs),
# Secrets__MasterKey / Secrets__MasterKeyFile / Secrets__CertificateFile (else generated once
# into .local/master.key, mode 600: the key that encrypts the key ring in the database).
# The PostgreSQL cluster keeps running after the server stops; the next call reuses it.
set -euo pipefail
cd "$(dirname "$0")"

# shellcheck source=scripts/db.sh
source scripts/db.sh
db_setup
# The master key of the key ring: Secrets__MasterKey/MasterKeyFile/CertificateFile, else
# generated once into .local/master.key (mode 600).
# shellcheck source=scripts/master-key.sh
source scripts/master-key.sh
master_key_setup

port="${SCHEDULER_PORT:-5080}"
# A secret generated once into .local/<file> (mode 600) and reused on every later call:
# $2 random bytes as url-safe base64 (no padding) after the prefix $3.
local_secret() {
  local file=".local/$1"
  if [ ! -s "$file" ]; then
    mkdir -p .local
    (umask 077; printf '%s%s\n' "${3:-}" "$(head -c "$2" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')" > "$file")
  fi
  chmod 600 "$file"
  tr -d '\n' < "$file"
}
# 30 random bytes = 40 url-safe base64 characters.
[ -n "${Auth__BootstrapAdminKey:-}" ] || Auth__BootstrapAdminKey="$(local_secret bootstrap-admin-key 30 sk_)"
# The first user of the admin pages: admin, with a generated password unless one is set.
export Auth__BootstrapAdminUser="${Auth__BootstrapAdminUser:-admin}"
[ -n "${Auth__BootstrapAdminPassword:-}" ] || Auth__BootstrapAdminPassword="$(local_secret bootstrap-admin-password 18)"
export Auth__BootstrapAdminKey Auth__BootstrapAdminPassword
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

base="http://127.0.0.1:$port"
cat <<INFO
Scheduler ($ASPNETCORE_ENVIRONMENT) on $base
  API          $base/api/v1   (header X-Api-Key: <key>)
  Swagger UI   $base/swagger   (OpenAPI document: $base/swagger/v1/swagger.json)
  Health       $base/health/ready
  Admin pages  $base/admin   (user $Auth__BootstrapAdminUser, password in .local/bootstrap-admin-password unless set)
  Admin key    $Auth__BootstrapAdminKey
INFO
# Built, then the server replaces this shell: `dotnet run` would stay on as its parent with
# the secrets above in its environment, readable by a shell task through /proc.
dotnet build src/Scheduler -c Release -nologo -v q -clp:ErrorsOnly
exec dotnet src/Scheduler/bin/Release/net10.0/Scheduler.dll --urls "$base"
