#!/usr/bin/env bash
# Builds ORK's Debian package from this tree (debian/, dpkg-buildpackage, debhelper 13)
# and prints the path of the .deb as its last line.
#   scripts/package.sh [OUTDIR]     (default: build/package)
# The tree is copied (without build dirs and .git) to a scratch directory, so the build
# leaves nothing in the tree; only ork and ork-virt are compiled (Release, hardened
# flags from dpkg-buildflags). Needs the build dependencies of debian/control
# (scripts/deps.sh package installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-$root/build/package}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^project(ork VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb_version=$(sed -n '1s/^ork (\([^)]*\)).*/\1/p' debian/changelog)
if [ "$version" != "$deb_version" ]; then
  echo "package.sh: CMakeLists.txt says $version, debian/changelog $deb_version: add a changelog entry" >&2
  exit 1
fi

# A fixed scratch path: the compiler's command lines (-ffile-prefix-map) are the same
# from one build to the next, so ccache hits.
scratch=${TMPDIR:-/tmp}/ork-package-$(id -u)
rm -rf "$scratch"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT
src="$scratch/ork-$version"
mkdir -p "$src"
tar -C "$root" --exclude='./build*' --exclude='./.git' --exclude='./obj-*' --exclude='./debian/ork' \
  --exclude='./debian/.debhelper' --exclude='./debian/files' --exclude='./debian/*.substvars' \
  --exclude='./debian/*.log' --exclude='./debian/debhelper-build-stamp' -cf - . | tar -C "$src" -xf -

export CCACHE_BASEDIR="$src"
log="$out/build.log"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc -j"${ORK_PACKAGE_JOBS:-2}") >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "package.sh: dpkg-buildpackage failed (whole log: $log)" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
deb="ork_${version}_${arch}.deb"
for f in "$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes; do
  [ -e "$f" ] && cp "$f" "$out/"
done
echo "$out/$deb"
