#!/usr/bin/env bash
# Installs the Debian 12 packages ORK needs to build, test and run its lab, when they
# are missing. Needs root (or sudo) only when something is missing.
set -euo pipefail

build_pkgs=(cmake g++ make pkg-config libtomlplusplus-dev libvirt-dev)
# clang and its runtime libraries (libFuzzer, ASan, UBSan: libclang-rt-14-dev, only a
# recommendation of clang-14) build the parser fuzzers (tests/fuzz/).
test_pkgs=(googletest libgtest-dev libgmock-dev libbenchmark-dev python3 util-linux procps iproute2
           libvirt-daemon-system libvirt-clients clang libclang-rt-14-dev)
# promtool and the Prometheus server: the alert rules' tests, the textfile check and the
# real scrape of ORK's /metrics (tests/integration/metrics).
test_pkgs+=(prometheus iproute2)
lab_pkgs=(qemu-system-x86 busybox-static earlyoom cpio gzip dpkg-dev kmod)
# The Debian package (scripts/package.sh) and its test stage in scripts/test.sh: debhelper
# builds it, go-md2man renders the manual pages from docs/, lintian checks it, man-db
# renders the pages, systemd gives systemd-analyze (verify, security); systemd-container
# and debootstrap boot a Debian 12 root with systemd to run the unit for real
# (scripts/package-systemd-test.sh).
package_pkgs=(debhelper dpkg-dev lintian go-md2man man-db python3 systemd systemd-container debootstrap)

want=("${build_pkgs[@]}")
case "${1:-run}" in
  test) want+=("${test_pkgs[@]}" "${lab_pkgs[@]}" "${package_pkgs[@]}") ;;
  package) want+=("${package_pkgs[@]}") ;;
  lab) want+=("${test_pkgs[@]}" "${lab_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ork: installing missing packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
