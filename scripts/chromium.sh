# shellcheck shell=bash
# Sourced by test.sh. The browser tests drive Debian's Chromium (/usr/bin/chromium) headless
# through Playwright; Playwright's own browser downloads are never used (`playwright install`
# needs the network). chromium_setup installs chromium and chromium-driver with apt-get when
# /usr/bin/chromium is missing (with sudo when not root), as scripts/db.sh does for PostgreSQL.

# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

chromium_setup() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install Chromium chromium chromium-driver || return 1
  [ -x /usr/bin/chromium ] || { printf '[chromium] installed, but /usr/bin/chromium is missing\n' >&2; return 1; }
}
