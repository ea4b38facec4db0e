# shellcheck shell=bash
# Sourced by test.sh. The email tests send through MailKit to a real SMTP server on loopback:
# Debian's aiosmtpd, which the package installs for Debian's /usr/bin/python3 (a python3
# earlier on PATH, pyenv say, does not see it). smtp_sink_setup installs it when missing.

# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

smtp_sink_setup() {
  /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 && return 0
  apt_install aiosmtpd python3-aiosmtpd || return 1
  /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || { printf '[smtp] installed, but /usr/bin/python3 cannot import aiosmtpd\n' >&2; return 1; }
}
