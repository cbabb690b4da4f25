#!/usr/bin/env bash
# Prints /etc/ork/ork.toml as the Debian package installs it: every setting of ORK's
# compiled-in table (`ork check-config --defaults`, the one source of the defaults),
# commented out at its default, under its section and its description. The file is
# valid as it is (empty sections) and means exactly the defaults.
#   scripts/conffile.sh [PATH/TO/ork]
set -euo pipefail
ork=${1:-build/ork}
cat <<'HEAD'
# /etc/ork/ork.toml: the configuration of ORK, the Out of Resource Killer.
#
# ORK needs none of it: every setting below is commented out at its compiled-in
# default. To change one, remove its '#' and set the value. Check the file with
# `ork check-config`, apply it with `systemctl reload ork` (SIGHUP: an invalid file is
# refused and the running configuration kept). The keys: ork.toml(5), and
# /usr/share/doc/ork/configuration.md.

HEAD
"$ork" check-config --defaults | sed -E 's/^([a-z_0-9]+ = )/#\1/'
