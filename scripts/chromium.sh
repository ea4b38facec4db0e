# shellcheck shell=bash
# Sourced by test.sh. The browser tests drive Debian's Chromium (/usr/bin/chromium) headless
# through Playwright; Playwright's own browser downloads are never used (`playwright install`
# needs the network). chromium_setup installs chromium and chromium-driver with apt-get when
# /usr/bin/chromium is missing (with sudo when not root), as scripts/db.sh does for PostgreSQL.

chromium_log() { printf '[chromium] %s\n' "$*" >&2; }

chromium_setup() {
  [ -x /usr/bin/chromium ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      chromium_log "/usr/bin/chromium is missing, you are not root and there is no sudo: install it (apt-get install chromium chromium-driver)"
      return 1
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || { chromium_log "/usr/bin/chromium is missing and there is no apt-get; install Chromium at /usr/bin/chromium"; return 1; }
  chromium_log "installing chromium and chromium-driver with apt-get (once)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 \
    && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver </dev/null >&2 \
    || { chromium_log "apt-get install chromium chromium-driver failed"; return 1; }
  [ -x /usr/bin/chromium ] || { chromium_log "chromium installed but /usr/bin/chromium is missing"; return 1; }
}
