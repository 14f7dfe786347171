#!/usr/bin/env bash
# Make sure the Debian packages a make target needs are installed (idempotent):
#
#   scripts/ensure-debian-packages.sh dovecot-imapd [more packages]
#
# As root, missing packages are installed with apt-get (as .ci/run does); as another user the
# script stops with the exact command to run. On a system without dpkg it only warns: the tests
# that need a package then fail with the same command in their message.
set -euo pipefail

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "warning: not a Debian system; the tests need: $* (Debian: apt-get install -y $*)" >&2
  exit 0
fi
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "apt-get install -y ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
