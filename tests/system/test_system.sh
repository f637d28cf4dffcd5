#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The shipped unit, booted for real: a minimal Debian root (tests/system/mkroot.sh, cached)
# booted under systemd with systemd-nspawn, the .deb (make deb) installed into it, `systemctl start flamed`,
# then windows with named kernel and user frames, reload (SIGHUP), USR1 and stop. This is the
# test that catches a sandbox setting that breaks profiling (ProtectKernelTunables= hiding
# /proc/kallsyms), which no test outside systemd can see. Root only; `make test-system`.
. "$(dirname "$0")/../e2e/lib.sh"

if ! need_root "system test" ||
	! need_tool "system test" systemd-nspawn debootstrap nsenter; then
	finish
	exit
fi

NSPAWN_PID=
cleanup() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		# SIGTERM: nspawn asks the container's systemd to power off.
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		wait_until 60 eval '! kill -0 "$NSPAWN_PID" 2>/dev/null' ||
			kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

if ! ROOTFS=$(bash "$ROOT/tests/system/mkroot.sh"); then
	fail "container root: cannot be built (see above)"
	finish
	exit
fi
echo "     container root: $ROOTFS"

# What goes into the container, read-only under /run/flamed-test.
S="$T/stage"
mkdir -p "$S"
# The package (make deb: debhelper, then lintian, which must say nothing).
if make -s -C "$ROOT" deb BUILD="$BUILD" >"$T/deb.out" 2>&1; then
	ok "make deb: built, lintian clean"
else
	fail "make deb:"
	cat "$T/deb.out"
	finish
	exit
fi
cp "$BUILD"/deb/flamed_*.deb "$S/flamed.deb"
check "package depends on procps (ExecReload= runs /bin/kill)" \
	bash -c 'dpkg-deb -f "$1" Depends | grep -qw procps' _ "$S/flamed.deb"
# A name of its own: the host may run other chain workloads (tests running alongside). It runs
# from the bind mount: a binary written into the overlay root (tmpfs upper layer) is not
# symbolized, a limit of flamed with overlayfs this test is not about.
WNAME=flamedsyschain
cp "$WL/chain" "$S/$WNAME"
# flamed runs in the container's PID namespace, but BPF reports the host's process IDs: the test
# shows the service the host's /proc, as a service on the host sees it. The unit's own /proc
# settings still apply on top of it (ProtectKernelTunables= hid /proc/kallsyms all the same).
cat >"$S/host-pids.conf" <<'EOF'
[Service]
BindReadOnlyPaths=/run/host-proc:/proc
EOF

# --register=no --keep-unit: no machined here; the filter adds the two system calls nspawn's
# default filter lacks, the capabilities are those the unit grants beyond nspawn's defaults.
systemd-nspawn -b -D "$ROOTFS" -M "flamed-test-$$" --volatile=overlay \
	--register=no --keep-unit --console=passive \
	--system-call-filter="bpf perf_event_open" \
	--capability=CAP_BPF,CAP_PERFMON,CAP_SYSLOG,CAP_CHECKPOINT_RESTORE \
	--bind-ro="$S:/run/flamed-test" --bind-ro=/proc:/run/host-proc \
	>"$T/nspawn.log" 2>&1 &
NSPAWN_PID=$!

# The container's init: the child of nspawn that runs systemd in a PID namespace of its own.
# nspawn forks short-lived helpers first (the first child seen can be gone by the next
# command), so the leader is looked up again until the container has booted.
leader() {
	local c
	for c in $(pgrep -P "$NSPAWN_PID"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] || continue
		[ "$(readlink "/proc/$c/ns/pid" 2>/dev/null)" != "$(readlink /proc/self/ns/pid)" ] || continue
		L=$c
		return 0
	done
	return 1
}
ct() { nsenter -t "$L" -a "$@"; }
booted() {
	local s
	leader || return 1
	s=$(ct systemctl is-system-running 2>/dev/null)
	[ "$s" = running ] || [ "$s" = degraded ]
}
if wait_until 120 leader && wait_until 180 booted; then
	ok "container booted under systemd ($(ct systemctl is-system-running))"
else
	fail "container did not boot:"
	cat "$T/nspawn.log"
	[ -n "${L:-}" ] && ct systemctl --failed --no-pager
	finish
	exit
fi

if ct dpkg -i /run/flamed-test/flamed.deb >"$T/dpkg.out" 2>&1; then
	ok "dpkg -i flamed.deb: exits 0"
else
	fail "dpkg -i flamed.deb (a dependency missing from tests/system/mkroot.sh?):"
	cat "$T/dpkg.out"
fi
check "package installed: unit, binary, config, man page" \
	ct test -s /lib/systemd/system/flamed.service -a -x /usr/bin/flamed \
	-a -s /etc/flamed/flamed.conf -a -s /usr/share/man/man8/flamed.8.gz
# Installing enables and starts nothing: the admin asks (systemctl enable --now flamed).
check "after install: flamed.service disabled" \
	test "$(ct systemctl is-enabled flamed 2>/dev/null)" = disabled
check "after install: flamed.service not started" \
	test "$(ct systemctl is-active flamed 2>/dev/null)" = inactive
ct mkdir -p /etc/systemd/system/flamed.service.d
ct cp /run/flamed-test/host-pids.conf /etc/systemd/system/flamed.service.d/
ct systemctl daemon-reload

# The workload starts before flamed: processes started later are announced by perf records with
# the container's process IDs, which do not match BPF's (a limit of profiling from inside a
# container, not of the unit).
ct systemd-run -q --unit=flamed-test-chain /run/flamed-test/$WNAME 600
wait_until 60 eval 'WPID=$(pgrep -x $WNAME) && [ -n "$WPID" ]' || fail "workload did not start"
ct systemctl start flamed
check "systemctl start flamed: exits 0" test $? = 0
check "flamed is active (READY=1 sent)" test "$(ct systemctl is-active flamed)" = active

windows() { ct sh -c 'ls /var/lib/flamed/ | grep -c "^flamed-.*\.folded$"'; }
more_windows() { [ "$(windows)" -gt "$1" ]; }
# close_window: USR1 closes the current window; waits until it is written.
close_window() {
	local n
	n=$(windows)
	ct systemctl kill -s USR1 --kill-who=main flamed &&
		wait_until 60 more_windows "$n" &&
		ct cat /var/lib/flamed/latest.folded >"$T/latest.folded"
}
# Each window is closed once the workload has run a second of CPU (100 ticks) in it, so it
# holds about 99 of its samples however busy the machine is.
window_after_cpu() {
	local t0
	t0=$(cpu_ticks "$WPID")
	wait_until 120 eval '[ $(cpu_ticks "$WPID") -ge $((t0 + 100)) ]' && close_window
}
if window_after_cpu; then
	ok "SIGUSR1: a window is written"
else
	fail "SIGUSR1: no window written"
	ct journalctl -u flamed -n 20 --no-pager -o cat
fi
ws=$(samples $WNAME "$T/latest.folded")
check "window holds the workload ($ws samples)" test "$ws" -ge 50

journal() { ct journalctl -u flamed --no-pager -o cat; }
check "journal: no 'cannot read /proc/kallsyms'" \
	bash -c "! grep -q 'cannot read /proc/kallsyms' <<<\"\$1\"" _ "$(journal)"
# Kernel frames: the share of them that have a name, weighted by samples.
kpct=$(awk '{ n = $NF; k += n * gsub(/_\[k\]/, "&"); u += n * gsub(/\[unknown\]_\[k\]/, "&") }
	END { if (k == 0) print 0; else printf "%d\n", 100 * (k - u) / k }' "$T/latest.folded")
check "kernel frames named ($kpct% of kernel frames)" test "$kpct" -ge 90
upct=$(fraction $WNAME 'main;a;b;c$' "$T/latest.folded")
if [ "$upct" -ge 80 ]; then
	ok "user frames named ($upct% of the workload's samples in main;a;b;c)"
else
	fail "user frames named ($upct% of the workload's samples in main;a;b;c):"
	grep "^$WNAME;" "$T/latest.folded" | sort -t' ' -k2 -rn | head -n 5
fi

# The sandbox holds inside the service: /proc read-only (/proc/kcore, hidden too, is absent
# from some kernels: tests/e2e/test_systemd.sh checks the setting).
MP=$(ct systemctl show -P MainPID flamed)
check "service sandbox: /proc/sys read-only" \
	bash -c '[[ ,$1, == *,ro,* ]]' _ "$(ct nsenter -t "$MP" -m findmnt -n -o OPTIONS --target /proc/sys)"

# reload: SIGHUP re-reads the config file; a new format shows in the next window.
ct sed -i 's/^formats = .*/formats = svg,folded,pprof/' /etc/flamed/flamed.conf
ct systemctl reload flamed
check "systemctl reload flamed: exits 0" test $? = 0
has_pprof() { window_after_cpu && ct test -s /var/lib/flamed/latest.pb.gz; }
check "reload: the next window has the new format (pprof)" has_pprof
# A config file with an error is refused whole; the service keeps running.
ct sh -c 'echo "intervall = 5" >>/etc/flamed/flamed.conf'
ct systemctl reload flamed
check "reload of a bad config: refused, service still active" \
	test "$(ct systemctl is-active flamed)" = active
check "reload of a bad config: the journal names the line" \
	bash -c "grep -qE \"flamed.conf:[0-9]+: unknown key \\(did you mean 'interval'\\?\\)\" <<<\"\$1\"" \
	_ "$(journal)"

# stop: SIGTERM writes the partial window and exits 0.
n=$(windows)
ct systemctl stop flamed
check "systemctl stop flamed: exits 0" test $? = 0
check "stop: the partial window is written" more_windows "$n"
check "stop: inactive" test "$(ct systemctl show -P ActiveState flamed)" = inactive
check "stop: result success, exit status 0" \
	test "$(ct systemctl show -P Result flamed)/$(ct systemctl show -P ExecMainStatus flamed)" = success/0

# Removal takes the binary and unit; the admin's config stays until purge.
ct dpkg -r flamed >"$T/dpkg-r.out" 2>&1
check "dpkg -r flamed: exits 0" test $? = 0
check "after remove: binary and unit gone, config kept" \
	ct test ! -e /usr/bin/flamed -a ! -e /lib/systemd/system/flamed.service -a -s /etc/flamed/flamed.conf
ct dpkg -P flamed >/dev/null 2>&1
check "after purge: config gone" ct test ! -e /etc/flamed/flamed.conf
finish
