#!/usr/bin/env bash
# The package under a real systemd (252, Debian 12) where the host does not boot one:
# a minimal Debian 12 root (debootstrap, from Debian's mirror, kept in
# ${ORK_NSPAWN_ROOT:-/var/tmp/ork-nspawn-root} for the next run) booted with
# systemd-nspawn. The package is installed in it without starting ORK, a drop-in adds
# --dry-run (ORK never runs armed here), then the container boots and a check unit:
#   - ork.service is active (Type=notify: READY=1 reached systemd) with the unit's
#     capabilities, and ORK's start line has no warning the sandbox caused;
#   - `systemctl reload ork` after a change of /etc/ork/ork.toml: reloaded (RELOADING=1,
#     READY=1), and ORK's `reload result=ok` carries the new value;
#   - 40 s > WatchdogSec=30s: the loop's pings keep it (no restart);
#   - the daemon SIGSTOPped: systemd's watchdog aborts and restarts it;
#   - `systemctl stop ork`: ORK's stop line (STOPPING=1), inactive.
# Needs root, systemd-container and debootstrap (scripts/deps.sh package) and
# the network to Debian's mirror the first time. Prints "ok" last on success.
#   scripts/package-systemd-test.sh [DEB]   (default: scripts/package.sh builds one)
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "package-systemd-test: FAIL: $*" >&2; exit 1; }
say() { echo "package-systemd-test: $*" >&2; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
command -v systemd-nspawn >/dev/null && command -v debootstrap >/dev/null \
  || fail "needs systemd-nspawn and debootstrap (scripts/deps.sh package)"

deb=${1:-$(scripts/package.sh | tail -1)}
root=${ORK_NSPAWN_ROOT:-/var/tmp/ork-nspawn-root}
if [ ! -x "$root/lib/systemd/systemd" ]; then
  rm -rf "$root"
  say "debootstrap bookworm into $root (once)"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps bookworm "$root" \
    http://deb.debian.org/debian >"$root.log" 2>&1 || fail "debootstrap (log: $root.log)"
fi
nspawn=(systemd-nspawn -q -D "$root" --register=no --keep-unit)

# Installed without starting (no systemd runs in the root while it is installed), then
# disarmed: the drop-in makes the unit start ORK with --dry-run.
cp "$deb" "$root/ork.deb"
"${nspawn[@]}" --pipe /bin/sh -c '
  dpkg --purge ork >/dev/null 2>&1 || true
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /ork.deb >/dev/null
' || fail "installing the package in the container"
mkdir -p "$root/etc/systemd/system/ork.service.d"
cat >"$root/etc/systemd/system/ork.service.d/test.conf" <<'CONF'
# package-systemd-test.sh: never armed here; a short abort so the watchdog check is quick.
[Service]
ExecStart=
ExecStart=/usr/sbin/ork daemon --quiet --dry-run
TimeoutAbortSec=5s
CONF
cat >"$root/check.sh" <<'CHECK'
#!/bin/bash
exec >/check.out 2>&1
show() { echo "$1 $(systemctl show ork -p ActiveState -p SubState -p NRestarts -p ReloadResult | tr '\n' ' ')"; }
sleep 5; show BOOT
grep -E '^CapEff' /proc/$(systemctl show ork -p MainPID --value)/status
sed -i 's/^#soft_percent = 10.0/soft_percent = 12.0/' /etc/ork/ork.toml
systemctl reload ork && echo RELOAD_RC=0; sleep 2; show RELOADED
sleep 40; show ALIVE
kill -STOP "$(systemctl show ork -p MainPID --value)"; sleep 45; show AFTER_STALL
systemctl stop ork; show STOPPED
journalctl -b --no-pager -o cat -u ork | sed 's/^/JOURNAL /'
sed 's/^/KMSG /' /dev/kmsg
echo CHECK_DONE
systemctl poweroff
CHECK
chmod +x "$root/check.sh"
cat >"$root/etc/systemd/system/ork-check.service" <<'UNIT'
[Unit]
Description=ORK package check (package-systemd-test.sh)
After=ork.service
[Service]
Type=oneshot
ExecStart=/check.sh
UNIT
ln -sf /etc/systemd/system/ork-check.service "$root/etc/systemd/system/multi-user.target.wants/ork-check.service"
rm -f "$root/check.out"
: >"$root/dev/kmsg" 2>/dev/null || true
say "booting the container (about 2 minutes)"
# CAP_IPC_LOCK and CAP_NET_ADMIN are not in nspawn's default set; CAP_SYS_RESOURCE is
# passed on when this host has it.
timeout 300 "${nspawn[@]}" --capability=CAP_IPC_LOCK,CAP_NET_ADMIN,CAP_SYS_RESOURCE -b >"$root.boot.log" 2>&1 || true
rm -f "$root/etc/systemd/system/multi-user.target.wants/ork-check.service"
out=$(cat "$root/check.out" 2>/dev/null || true)
echo "$out" | grep -E '^(BOOT|RELOADED|ALIVE|AFTER_STALL|STOPPED|CapEff)' >&2 || true
grep -q CHECK_DONE <<<"$out" || fail "the check did not finish (boot log: $root.boot.log)"
grep -q '^BOOT .*ActiveState=active SubState=running' <<<"$out" || fail "ork.service did not start"
grep -q 'RELOAD_RC=0' <<<"$out" || fail "systemctl reload ork failed"
grep -q 'KMSG .*event=reload .*result=ok .*soft_kib' <<<"$out" || fail "no reload result=ok line"
grep -q '^ALIVE .*NRestarts=0 .*ActiveState=active' <<<"$out" \
  || grep -q '^ALIVE .*ActiveState=active.*NRestarts=0' <<<"$out" || fail "restarted while its loop turned"
grep -q 'JOURNAL .*Watchdog timeout' <<<"$out" || fail "systemd's watchdog did not fire on a stopped loop"
grep -q '^AFTER_STALL .*NRestarts=1' <<<"$out" || fail "not restarted after the watchdog fired"
grep -q 'KMSG .*event=stop signal=15' <<<"$out" || fail "no stop line"
grep -q '^STOPPED .*ActiveState=inactive' <<<"$out" || fail "not stopped"
if grep -E 'KMSG .*what=(disk_degraded|mlockall_failed|sd_notify_failed|watchdog_unavailable|kmsg_unavailable)' <<<"$out" >&2; then
  fail "a warning the sandbox caused"
fi
say "ok"
