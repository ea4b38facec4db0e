# shellcheck shell=bash
# Sourced by test.sh. The OpenID Connect tests run a real provider on loopback: npm's
# oidc-provider in tests/oidc/provider.mjs (Node.js). oidc_setup installs Node.js with apt-get
# when missing and the locked node packages (npm ci) when tests/oidc/node_modules is missing.

# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

oidc_setup() {
  local folder
  folder="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/oidc" && pwd)" || return 1
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install "Node.js (the OpenID provider of the SSO tests)" nodejs npm || return 1
  fi
  [ -d "$folder/node_modules/oidc-provider" ] && return 0
  printf '[oidc] installing the node packages of tests/oidc (npm ci, once)\n' >&2
  (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error >&2) || { printf '[oidc] npm ci in tests/oidc failed\n' >&2; return 1; }
}
