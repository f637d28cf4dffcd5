#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs what `make test-system` and `make deb` need and are missing, and says so: debootstrap
# (the container's root), systemd-container (systemd-nspawn), debhelper and lintian (the .deb).
set -eu
PKGS="debootstrap systemd-container debhelper lintian fakeroot dpkg-dev"
missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "test-system: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "test-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
