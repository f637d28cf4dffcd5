#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prints the path of a minimal Debian root for tests/system/test_system.sh, building it on first
# use: debootstrap of this host's release from the mirror apt already uses, with systemd and the
# libraries flamed links. The root is cached under $FLAMED_TEST_CACHE (/var/cache/flamed-test),
# named for a hash of its package list and REVISION, so changing either builds a new one. Containers
# boot it with --volatile=overlay: a run never changes it.
set -eu
CACHE=${FLAMED_TEST_CACHE:-/var/cache/flamed-test}
# Bump when the way the root is made changes.
REVISION=1
# systemd boots the container; procps has /bin/kill (ExecReload=); util-linux (essential) has
# findmnt. The rest are the shared libraries flamed links or opens (the .deb's Depends).
INCLUDE="systemd,systemd-sysv,dbus,procps,libbpf1,libelf1,libdw1,zlib1g,libprotobuf-c1,libsystemd0,\
liblzma5,libdebuginfod1,libcurl4,libmicrohttpd12"

. /etc/os-release
SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
# The first apt source (one-line or deb822) that serves $SUITE, the security archive aside.
mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$SUITE" '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[|\]$/) i++
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" } {
			uri = ""; ok = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uri = u[2] }
				if ($i ~ /^Suites:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == s) ok = 1 }
				if ($i ~ /^Enabled: *no/) ok = 0
			}
			if (ok && uri != "") { print uri; exit } }' "$f"
	done
}
MIRROR=${FLAMED_TEST_MIRROR:-$(mirror | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

key=$(echo "$REVISION $INCLUDE $SUITE $(dpkg --print-architecture)" | sha256sum | cut -c1-12)
ROOT="$CACHE/root-$SUITE-$key"
if [ -x "$ROOT/usr/lib/systemd/systemd" ]; then
	echo "$ROOT"
	exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ ! -x "$ROOT/usr/lib/systemd/systemd" ]; then
	echo "test-system: building the container root $ROOT from $MIRROR (once; a few minutes)" >&2
	tmp="$ROOT.tmp"
	rm -rf "$tmp"
	if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$MIRROR" \
		>"$CACHE/debootstrap.log" 2>&1; then
		tail -n 20 "$CACHE/debootstrap.log" >&2
		echo "test-system: debootstrap failed (whole log: $CACHE/debootstrap.log)" >&2
		exit 1
	fi
	# Fewer units to wait for at boot: no getty on a console no one reads.
	rm -f "$tmp/etc/systemd/system/getty.target.wants/"*
	rm -rf "$tmp/var/cache/apt/archives/"*.deb
	mv "$tmp" "$ROOT"
fi
echo "$ROOT"
