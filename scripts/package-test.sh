#!/usr/bin/env bash
# The Debian package, end to end, on this machine (scripts/test.sh runs it last):
# builds it (scripts/package.sh), runs lintian (no error may remain; warnings and info
# are printed, docs/packaging.md lists them), installs it with apt-get, checks
# `ork version`, `ork check-config /etc/ork/ork.toml`, the manual pages (rendered with
# man, no warning), the unit (`systemd-analyze verify` on the installed one), that it
# is enabled and that no armed ORK was started, then removes and purges it and checks
# that nothing is left. Needs root.
#
# Safety: installing enables and starts ORK where systemd runs. Here it must not start
# an armed ORK host-wide, so for the duration a policy-rc.d that forbids starting
# services is put in place when there is none (an existing one must forbid it too),
# and the stage fails if ORK runs after the install. A host where the package is
# already installed, or with an /etc/ork of its own, is refused / kept: /etc/ork is
# set aside and put back, so the tests that follow see it as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
say() { echo "package-test: $*" >&2; }

[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg, apt-get)"
if dpkg-query -W -f='${Status}' ork 2>/dev/null | grep -q "installed"; then
  fail "the ork package is already installed on this host: not touching it"
fi

policy=/usr/sbin/policy-rc.d
made_policy=0
etc_backup=""
cleanup() {
  # Whatever happened: the package purged, the host as it was.
  if dpkg-query -W -f='${Status}' ork 2>/dev/null | grep -qv "not-installed"; then
    dpkg --purge ork >/dev/null 2>&1 || true
  fi
  if [ -n "$etc_backup" ]; then
    rm -rf /etc/ork
    mv "$etc_backup" /etc/ork
  fi
  [ "$made_policy" = 1 ] && rm -f "$policy"
  return 0
}
trap cleanup EXIT

if [ -e "$policy" ]; then
  set +e; "$policy" ork.service start >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 101 ] || fail "$policy allows starting services (exit $rc): installing would start an armed ORK"
else
  printf '#!/bin/sh\n# package-test.sh: no service starts while the ork package is tested.\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  made_policy=1
fi
if [ -e /etc/ork ]; then
  etc_backup=$(mktemp -d /tmp/ork-etc-backup.XXXXXX)/ork
  mv /etc/ork "$etc_backup"
  say "/etc/ork set aside in $etc_backup (put back at the end)"
fi

# 1. Build.
deb=$(scripts/package.sh | tail -1)
[ -f "$deb" ] || fail "scripts/package.sh did not print a .deb path (got: $deb)"
say "built $deb"
dpkg-deb -c "$deb" | awk '{print $6}' | sort >"$(dirname "$deb")/contents.txt"
for f in ./usr/sbin/ork ./usr/sbin/ork-virt ./lib/systemd/system/ork.service ./etc/ork/ork.toml \
         ./usr/share/man/man8/ork.8.gz ./usr/share/man/man5/ork.toml.5.gz ./usr/share/man/man8/ork-virt.8.gz \
         ./var/lib/ork/; do
  grep -qx "$f" "$(dirname "$deb")/contents.txt" || fail "$f is not in the package"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/ork/ork.toml || fail "/etc/ork/ork.toml is not a conffile"

# 2. lintian: no error. Warnings and info are shown (docs/packaging.md lists them).
set +e
lintian_out=$(lintian --display-info --fail-on error "$deb" 2>&1)
lintian_rc=$?
set -e
lintian_out=$(printf '%s\n' "$lintian_out" | grep -v '^running with root privileges' || true)
if [ "$lintian_rc" -ne 0 ]; then
  echo "$lintian_out" >&2
  fail "lintian reports errors"
fi
if [ -n "$lintian_out" ]; then
  say "lintian (no errors):"
  echo "$lintian_out" | sed 's/^/  /' >&2
else
  say "lintian: clean"
fi

# 3. Install.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null \
  || fail "apt-get install $deb failed"
version=$(sed -n 's/^project(ork VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ "$(/usr/sbin/ork version)" = "ork $version" ] || fail "ork version: $(/usr/sbin/ork version)"
/usr/sbin/ork check-config /etc/ork/ork.toml | grep -qx "/etc/ork/ork.toml: ok" || fail "ork check-config /etc/ork/ork.toml"
# The conffile holds every setting of the compiled-in table, commented out at its default.
settings=$(/usr/sbin/ork check-config --defaults | grep -cE '^[a-z_0-9]+ = ')
commented=$(grep -cE '^#[a-z_0-9]+ = ' /etc/ork/ork.toml)
[ "$settings" = "$commented" ] || fail "/etc/ork/ork.toml has $commented settings, the defaults $settings"
[ -x /usr/sbin/ork-virt ] || fail "/usr/sbin/ork-virt is not executable"
# ork-virt beside ork (where findVirtHelper() looks first), its libraries all found
# through the package's dependencies, and it runs.
virt_libs=$(ldd /usr/sbin/ork-virt 2>&1 || true)
if grep -q "not found" <<<"$virt_libs"; then fail "ork-virt: $(grep 'not found' <<<"$virt_libs")"; fi
virt_usage=$(/usr/sbin/ork-virt 2>&1 || true)
grep -q "usage: ork-virt serve" <<<"$virt_usage" || fail "/usr/sbin/ork-virt does not run: $virt_usage"
[ -d /var/lib/ork ] || fail "/var/lib/ork missing"
for page in ork.8 ork.toml.5 ork-virt.8; do
  section=${page##*.}
  f=/usr/share/man/man$section/$page.gz
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || fail "man $page: $warnings"
  LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q "^NAME" || fail "man $page renders no NAME"
done
[ "$(man -w 8 ork)" = /usr/share/man/man8/ork.8.gz ] || fail "man -w 8 ork: $(man -w 8 ork)"
[ "$(man -w 5 ork.toml)" = /usr/share/man/man5/ork.toml.5.gz ] || fail "man -w 5 ork.toml"
verify=$(systemd-analyze verify /lib/systemd/system/ork.service 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify says: $verify"
# Enabled (the symlink deb-systemd-helper makes), and not started here.
[ -L /etc/systemd/system/multi-user.target.wants/ork.service ] || fail "ork.service is not enabled"
for p in /proc/[0-9]*; do
  if [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/sbin/ork ]; then
    fail "an ork daemon runs (PID ${p#/proc/}): the install started it"
  fi
done
say "installed: $(/usr/sbin/ork version), conffile ok ($settings settings), man pages ok, unit verified, enabled, not started"

# 4. Remove: the files go, the conffile stays; purge: everything goes.
echo "# a local change" >>/etc/ork/ork.toml
mkdir -p /var/lib/ork && touch /var/lib/ork/frozen-vms
dpkg --remove ork >/dev/null || fail "dpkg --remove ork"
[ ! -e /usr/sbin/ork ] && [ ! -e /usr/sbin/ork-virt ] && [ ! -e /lib/systemd/system/ork.service ] \
  || fail "files left after remove"
grep -q "a local change" /etc/ork/ork.toml || fail "remove did not keep the changed conffile"
dpkg --purge ork >/dev/null || fail "dpkg --purge ork"
for f in /etc/ork /var/lib/ork /etc/systemd/system/multi-user.target.wants/ork.service /usr/share/man/man8/ork.8.gz \
         /usr/share/doc/ork; do
  [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f left after purge"
done
dpkg-query -W -f='${Status}' ork 2>/dev/null | grep -q "not-installed" || \
  ! dpkg-query -W ork >/dev/null 2>&1 || fail "dpkg still knows ork after purge"
say "removed and purged: nothing left"
say "ok"
