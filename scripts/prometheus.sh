# shellcheck shell=bash
# Sourced by test.sh. The Prometheus test (tests/Scheduler.IntegrationTests/Observability)
# runs Debian's prometheus and promtool on loopback against the test server, and promtool
# checks deploy/prometheus/alerts.yml. prometheus_setup installs the package with apt-get
# when either binary is missing. The package's own service is not used: on a machine
# with systemd it may start one on :9090, which the test does not touch (it picks a free port).

# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

prometheus_setup() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && return 0
  apt_install Prometheus prometheus || return 1
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
    || { printf '[prometheus] installed, but prometheus or promtool is not on PATH\n' >&2; return 1; }
}
