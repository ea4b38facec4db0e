# shellcheck shell=bash
# Sourced by scripts/db.sh and scripts/chromium.sh. apt_install WHAT PACKAGE...: installs the
# packages with apt-get (with sudo when not root); non-zero with an "[apt]" line when that is
# impossible (not root and no sudo, no apt-get) or fails.

apt_install() {
  local what="$1" sudo=""
  shift
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      printf '[apt] %s is not installed, you are not root and there is no sudo: install it (apt-get install %s)\n' "$what" "$*" >&2
      return 1
    fi
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || { printf '[apt] %s is not installed and there is no apt-get; install it (%s)\n' "$what" "$*" >&2; return 1; }
  printf '[apt] installing %s with apt-get (once)\n' "$what" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 \
    && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >&2 \
    || { printf '[apt] apt-get install %s failed\n' "$*" >&2; return 1; }
}
