#!/usr/bin/env bash
# Sourced by test.sh: what the tests need beyond the .NET SDK and PostgreSQL (which
# scripts/db.sh installs). Installs with apt-get once, as root or through sudo.

deps_log() { echo "[deps] $*" >&2; }

# apt-get install the given Debian packages; quiet, non-interactive.
deps_apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { deps_log "need root or sudo to install: $*"; return 1; }
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || { deps_log "no apt-get; install these yourself: $*"; return 1; }
  deps_log "installing $* with apt-get (once)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >&2 \
    || { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 \
         && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >&2; }
}

# The SMTP server the email tests deliver to: Debian's aiosmtpd, for Debian's python3.
ensure_smtp_sink() {
  /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 && return 0
  deps_apt_install python3-aiosmtpd && /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1
}
