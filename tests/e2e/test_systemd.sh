#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The unit's sandbox against what profiling needs, without booting it (tests/system/ boots it):
# no setting that hides /proc/kallsyms or drops CAP_SYSLOG, and no lost hardening score. Then
# make install's stripped binary and make uninstall.
. "$(dirname "$0")/lib.sh"

UNIT="$ROOT/systemd/flamed.service"
# ProtectKernelTunables= and ProcSubset=pid hide /proc/kallsyms, ProtectKernelLogs= drops
# CAP_SYSLOG: each leaves every kernel frame [unknown].
for k in "ProtectKernelTunables=yes" "ProcSubset=pid" "ProtectKernelLogs=yes"; do
	check "unit does not set $k (kernel frames would go unnamed)" \
		bash -c '! grep -qi "^$1" "$2"' _ "$k" "$UNIT"
done
check "unit keeps CAP_SYSLOG (kernel symbol addresses)" \
	grep -q '^CapabilityBoundingSet=.*CAP_SYSLOG' "$UNIT"
check "unit: /proc and /sys read-only, /proc/kcore hidden (ProtectKernelTunables= by hand)" \
	bash -c 'grep -qx "ReadOnlyPaths=/proc /sys" "$1" && grep -qx "InaccessiblePaths=-/proc/kcore" "$1"' \
	_ "$UNIT"

# The exposure systemd-analyze gave the unit before the fix (1.9) is the ceiling.
if need_tool "unit exposure score" systemd-analyze; then
	score=$(systemd-analyze security --offline=yes "$UNIT" 2>/dev/null |
		sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
	check "unit exposure score $score <= 1.9" bash -c \
		'systemd-analyze security --offline=yes --threshold=19 "$1" >/dev/null 2>&1' _ "$UNIT"
fi
# make install: the binary without debug info (still runs, keeps its build id); make uninstall
# removes every file it installed, and the config only while it is the default.
D="$T/dest"
make -s -C "$ROOT" install BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr >"$T/install.out" 2>&1
check "make install DESTDIR: exits 0" test $? = 0
if need_tool "installed binary's sections" readelf; then
	ndebug=$(readelf -S "$D/usr/bin/flamed" | grep -c ' \.debug_')
	check "installed binary: no .debug_* section ($ndebug)" test "$ndebug" = 0
	check "installed binary: keeps its build id" \
		bash -c 'readelf -n "$1" | grep -q "Build ID"' _ "$D/usr/bin/flamed"
	check "build/flamed itself keeps its debug info" \
		bash -c 'readelf -S "$1" | grep -q " \.debug_info"' _ "$FLAMED"
fi
check "installed binary runs" bash -c '"$1" --version | grep -q "^flamed "' _ "$D/usr/bin/flamed"
make -s -C "$ROOT" uninstall DESTDIR="$D" PREFIX=/usr >"$T/uninstall.out" 2>&1
check "make uninstall: exits 0" test $? = 0
left=$(find "$D" -type f | sed "s|^$D||")
check "make uninstall: no installed file left (${left:-none})" test -z "$left"
make -s -C "$ROOT" install BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
echo "# changed by the admin" >>"$D/etc/flamed/flamed.conf"
make -s -C "$ROOT" uninstall DESTDIR="$D" PREFIX=/usr >"$T/uninstall.out" 2>&1
left=$(find "$D" -type f | sed "s|^$D||")
check "make uninstall: an edited config is kept, the rest removed (${left:-none})" \
	test "$left" = /etc/flamed/flamed.conf
check "make uninstall: says it keeps the edited config" grep -q "keeping .*flamed.conf" \
	"$T/uninstall.out"
finish
