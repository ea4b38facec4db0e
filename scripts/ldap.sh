# shellcheck shell=bash
# Sourced by test.sh. The LDAP sign-in tests (tests/Scheduler.IntegrationTests/Access/Sso) start
# Debian's slapd on a free loopback port with a temporary config and a seeded directory;
# System.DirectoryServices.Protocols needs OpenLDAP's client library (libldap) on Linux.
# ldap_setup installs slapd and libldap with apt-get when missing.

# shellcheck source=scripts/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

ldap_setup() {
  if [ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapadd ] && ldconfig -p | grep -q 'libldap'; then
    return 0
  fi
  # slapd's postinst would configure a directory of its own: the tests never use it.
  apt_install "slapd (LDAP server for the LDAP sign-in tests)" slapd libldap-2.5-0 || apt_install slapd slapd libldap2 || return 1
  [ -x /usr/sbin/slapd ] || { printf '[ldap] installed, but /usr/sbin/slapd is missing\n' >&2; return 1; }
}
