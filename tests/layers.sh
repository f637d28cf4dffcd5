#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The dependency rule between the folders of src/ (docs/ARCHITECTURE.md): a file includes
# headers of its own stage and of earlier ones only. Prints each include that breaks it; exits 1
# if any does. Run by `make lint`.
set -u
cd "$(dirname "$0")/.."
order=(base sample unwind aggregate symbolize runtime render export service)
rank() {
	local i
	for i in "${!order[@]}"; do
		[ "${order[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}
bad=0
for f in src/*/*.[ch]; do
	stage=${f#src/}
	stage=${stage%%/*}
	r=$(rank "$stage")
	if [ "$r" = -1 ]; then
		echo "$f: folder '$stage' is not a stage of the pipeline"
		bad=1
		continue
	fi
	while read -r inc; do
		s=${inc%%/*}
		ri=$(rank "$s")
		[ "$ri" = -1 ] && continue	# generated (pprof.pb-c.h) or outside src/
		if [ "$ri" -gt "$r" ]; then
			echo "$f: includes $inc, a later stage ($s after $stage)"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([a-z_]*\/[a-z_]*\.h\)".*/\1/p' "$f")
done
# One event loop (base/evloop.c): nothing else makes an epoll instance, a timerfd or a signalfd.
# libcurl's sockets and libmicrohttpd's epoll fd are the loop's fds too (export/push.c, httpd.c).
while read -r hit; do
	case "${hit%%:*}" in
	src/base/evloop.c) continue ;;
	esac
	echo "$hit: register with the loop (base/evloop.h) instead"
	bad=1
done < <(grep -nE '\b(epoll_create1?|timerfd_create|signalfd)[[:space:]]*\(' src/*/*.c)
# Settings once: the config module fills each module's options struct; only the two drivers
# that own a config (main.c one-shot, daemon.c continuous) include it.
while read -r f; do
	case "$f" in
	src/service/config.[ch] | src/service/main.c | src/service/daemon.[ch]) continue ;;
	esac
	echo "$f: includes service/config.h; take an options struct filled by config__fill*() instead"
	bad=1
done < <(grep -l '#include "service/config.h"' src/*/*.[ch])
exit $bad
