#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Deliberate breaks (issue 22, "Every check can fail"): for each entry, a copy of the tree at
# HEAD gets one small edit that breaks the product (or, where the product cannot be broken
# sensibly, the test's input), is rebuilt, and the narrowest test covering it is run with
# CI=true. The entry holds only if a FAIL line of that test names the expected check: a check
# that still passes on a broken product proves nothing.
#
#   bash tests/breaks.sh            every entry
#   bash tests/breaks.sh ID...      those entries
#   bash tests/breaks.sh --list     ids and what each breaks
#   bash tests/breaks.sh --diff [ID...]  each edit as a diff, nothing built or run
#
# Per entry: "broken as expected", "NOT DETECTED", "does not build", or "stale" (the edit no
# longer changes the file: the code moved on, the break must be rewritten, never counted as a
# pass). Exit 1 if any entry is not "broken as expected". Logs stay in $BREAKS_LOGS (default a
# temp dir).
# Needs what the tests need: root, the test tools (.ci/install-deps --test).
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$repo" rev-parse --short HEAD)

declare -a ids=()
declare -A file tool expr cmd want
# add ID FILE sed|perl EXPR CMD EXPECT: EXPR is applied with `sed -i -e` or `perl -0pi -e`
# (whole file: it may span lines); EXPECT is a fixed string of a FAIL line of CMD.
add() {
	ids+=("$1")
	file[$1]=$2 tool[$1]=$3 expr[$1]=$4 cmd[$1]=$5 want[$1]=$6
}

# Kernel frames emitted before the user frames (the two loops swapped).
add kernel-first src/symbolize/symbolize.c perl \
	's/(\t\tfor \(j = nu; j-- > 0;\) \{\n.*?\n\t\t\}\n)(\t\tfor \(j = nk; j-- > 0;\)\n[^\n]*\n)/$2$1/s' \
	"bash tests/e2e/test_profile.sh" "sys: kernel frames come after user frames"
# privs__drop returns at once: every capability kept, no no_new_privs.
add caps-kept src/service/privs.c perl \
	's/(\nint privs__drop\(const char \*write_dir\)\n\{\n)/$1\treturn 0;\n/' \
	"bash tests/e2e/test_security.sh" "capabilities not dropped"
# rootfs opens devices and FIFOs for reading (the regular-file test gone).
add rootfs-nonregular src/base/rootfs.c sed \
	's/^\tif (!S_ISREG(sb.st_mode))$/\tif (0)/' \
	"build/unit-tests rootfs_users_perfmap_debuglink_mapping" \
	"rootfs_users_perfmap_debuglink_mapping"
# --unwind fp ignored: the BPF program unwinds with DWARF tables anyway.
add unwind-fp-ignored src/service/session.c sed \
	's/\.dwarf = o->unwind != UNWIND_FP,/.dwarf = true,/' \
	"bash tests/e2e/test_unwind.sh" "--unwind fp really uses frame pointers only"
# Frame-pointer stacks kept whole: garbage with a runtime tag's top bits becomes a frame.
add fp-garbage-kept src/sample/sampler.c sed \
	's/^\tif (flags \& USTACK_UNWOUND)$/\tif (1)/' \
	"bash tests/e2e/test_unwind.sh" "garbage frame pointers: no runtime frame made of them"
# The built-in kernel types never used: the running kernel never matches the build's.
add btf-builtin-unused src/sample/sampler.c sed \
	's/^\t    strcmp(id, min_btf_kernel))$/\t    1)/' \
	"bash tests/e2e/test_profile.sh" "kernel types builtin: exit 0, -v says"
# libcurl opened at every start again (a constructor loads it before main).
add lazy-curl-at-start src/export/push.c sed \
	's/^LAZYLIB(curl, "libcurl.so.4", CURL_SYMS);$/&\n__attribute__((constructor)) static void eager(void) { lazylib__load(\&curl); }/' \
	"bash tests/e2e/test_profile.sh" "lazy libraries: a one-shot run maps no"
# The PHP layout check misreads every zend_string: the right layout is refused.
add php-layout-refused src/runtime/php.c sed \
	's/return (type_info \& 0xf) == PHP_IS_STRING ? 0 : -EPROTO;/return -EPROTO;/' \
	"bash tests/e2e/test_php.sh" "the 8.2 layout fits php8.2: no process refused"
# A signal sent once the loop has stopped stays pending and is delivered when evloop__free
# restores the mask (a SIGTERM during a daemon's last window ended it by the signal).
add signal-after-stop src/base/evloop.c sed \
	's/while (sigtimedwait(&taken, NULL, &now) > 0)/while (0 \&\& sigtimedwait(\&taken, NULL, \&now) > 0)/' \
	"build/unit-tests evloop_free_takes_a_signal_sent_after_the_stop" \
	"evloop_free_takes_a_signal_sent_after_the_stop"
# New runtime stacks are not announced: code is named at the drain only, after a short
# script has exited.
add new-stacks-silent src/service/session.c perl \
	's/\.announce_new_stacks = !o->no_python \|\| !o->no_php \|\| !o->no_v8 \|\| !o->no_ruby \|\|\n\s*!o->no_perl,/.announce_new_stacks = false,/' \
	"bash tests/e2e/test_php.sh" "script shorter than a drain: <= 5% with an unnamed function"
# The Ruby layout check fails on the live interpreter: the right layout is refused.
add ruby-layout-refused src/runtime/ruby.c sed \
	's/^\treturn named ? 0 : -EAGAIN;$/\treturn -EPROTO;/' \
	"bash tests/e2e/test_ruby.sh" "the 3.1 layout fits ruby 3.1: no process refused"
# The one-shot run's drains do not warm the symbolizer: every symbol file is read after the
# command exits.
add warm-never src/service/session.c sed \
	's/^\tif (s->warm)$/\tif (0 \&\& s->warm)/' \
	"bash tests/e2e/test_profile.sh" "symbol files read while the command ran"
# Ruby's start-up (a ractor whose thread list is still zeroed) read as a layout that does not
# fit: a run refused at start-up (one in twenty on a busy machine) had no Ruby frame at all.
add ruby-start-up-refused src/runtime/ruby.c sed \
	's/^\tif (!node || node == head)$/\tif (node == head)/' \
	"build/unit-tests ruby_check_live_waits_for_start_up" "ruby_check_live_waits_for_start_up"
# A singleton method's class named as an instance method's ("Shapes::Box#build").
add ruby-singleton-as-instance src/runtime/ruby.c sed \
	's/single ? "." : "#"/"#"/' \
	"bash tests/e2e/test_ruby.sh" "classes: >= 90% of samples"
# A failed store of a method entry not counted: a full map hidden.
add ruby-methods-lost-uncounted bpf/ruby_unwind.h sed \
	's/^\t\t\t\t\tstat_inc(STAT_RUBY_METHODS_LOST);$/\t\t\t\t\t;/' \
	"bash tests/e2e/test_ruby.sh" "many methods: -v counts the method entries not kept"
# Every thread of a Ruby process is given the GVL holder's frames (the tid check gone).
add ruby-gvl-holder-frames bpf/ruby_unwind.h sed \
	's/^\tif (tid == (__s32)cur) {$/\tif (1) {/' \
	"bash tests/e2e/test_ruby.sh" "nogvl: no sample of the worker has the main thread's frames"
# VM_FRAME_FLAG_FINISH ignored: one rb_vm_exec emits the Ruby frames of every activation.
add ruby-finish-ignored bpf/ruby_unwind.h sed \
	's/^\tif (flags \& RUBY_FRAME_FLAG_FINISH)$/\tif (0)/' \
	"bash tests/e2e/test_ruby.sh" "block: >= 90% of samples are"
# The Perl layout check fails on the live interpreter: the right layout is refused.
add perl-layout-refused src/runtime/perl.c perl \
	's/(\t\tif \(err\)\n\t\t\treturn -EPROTO;\n\t\}\n)\treturn 0;/$1\treturn -EPROTO;/' \
	"bash tests/e2e/test_perl.sh" "the 5.36 layout fits perl 5.36: no process refused"
# A stackinfo's bottom never ends a runops activation: the sort block's runops emits every
# Perl frame, its callers' too, below pp_sort.
add perl-si-bottom-ignored bpf/perl_unwind.h sed \
	's/^\t\tif (st->pl_after_sub)$/\t\tif (1)/' \
	"bash tests/e2e/test_perl.sh" "sort: >= 85% of samples are"
# A stackinfo's bottom always ends a runops activation, also right after a sub called from C
# on its own stackinfo (List::Util::first's MULTICALL block): its callers are never emitted.
add perl-after-sub-ignored bpf/perl_unwind.h sed \
	's/^\t\tif (st->pl_after_sub)$/\t\tif (0)/' \
	"bash tests/e2e/test_perl.sh" "MULTICALL: >= 90% of samples are"
# Every thread of a Perl process is given the main interpreter's frames (the thread check
# gone): an ithread's runops shows the main thread's subs.
add perl-any-thread bpf/perl_unwind.h sed \
	's/^\tif ((__u32)bpf_get_current_pid_tgid() != tgid) {$/\tif (0) {/' \
	"bash tests/e2e/test_perl.sh" "ithreads: the ithread sampled"
# The leaf's line is not PL_curcop's: every leaf frame without its line.
add perl-leaf-line-lost bpf/perl_unwind.h perl \
	's/\tst->pl_line = line;\n\tst->pl_main_cv/\tst->pl_line = 0;\n\tst->pl_main_cv/' \
	"bash tests/e2e/test_perl.sh" "--lines: >= 90% of samples are"
# Stacks with Perl frames are not announced (new_stacks): a short script's subs are named at
# the drain only, after it has exited.
add perl-new-stacks-silent bpf/profile.bpf.c sed \
	's/^\t\t\t     st->pl_frames) \&\&$/\t\t\t     0) \&\&/' \
	"bash tests/e2e/test_perl.sh" "script shorter than a drain: <= 5% with an unnamed sub"
# Test input: the "off" run is given a server after all (the product only reads the
# environment, and with no server named there is nothing it could fetch from).
add debuginfod-off tests/e2e/test_symbols.sh sed \
	's|env -u DEBUGINFOD_URLS "\$FLAMED"|DEBUGINFOD_URLS="http://127.0.0.1:$port" "$FLAMED"|' \
	"bash tests/e2e/test_symbols.sh" "debuginfod off without DEBUGINFOD_URLS"
# --debuginfod-timeout ignored: the built-in 10 s instead of 3 s.
add debuginfod-timeout src/symbolize/debuginfo.c sed \
	's/(o \&\& o->timeout_s ? o->timeout_s : 10)/10/' \
	"bash tests/e2e/test_symbols.sh" "silent debuginfod server: bounded by the 3 s timeout"
# Test input: the container's command is not node (a node given a missing script still lives
# long enough to be found). The check is the test's own guard; no product code decides it.
add container-node tests/e2e/test_symbols.sh sed \
	's|exec node --perf-basic-prof /tmp/sym_node.js 600|exec no-such-node --perf-basic-prof /tmp/sym_node.js 600|' \
	"bash tests/e2e/test_symbols.sh" "container node: found its pid"
# An exited process loses its mappings at its exit record, before its samples are named.
add exited-unnamed src/sample/procs.c perl \
	's/(case PERF_RECORD_EXIT: \{.*?\t\t\tpr->exited = true;\n)/$1\t\t\tpr->nr_maps = 0;\n/s' \
	"bash tests/e2e/test_symbols.sh" "short-lived processes: ~1,199 samples named short_work"
# Over its bound, the spool drops the newest window (the one just added) instead of the oldest.
add spool-drops-newest src/export/spool.c perl \
	's/size_t victim = s->pinned \? 1 : 0;\n\n\t\tif \(victim \+ 1 >= s->n\)/size_t victim = s->n - 1;\n\n\t\tif (victim < (s->pinned ? 1u : 0u) || s->n < 2)/' \
	"bash tests/e2e/test_fleet.sh" "tiny spool: what arrived are the newest windows, in order"
# Pushes the whole profile, pid, process and thread labels included, whatever sample-labels says.
add push-labels src/service/fleet.c perl \
	's/if \(f->\S*sample_labels != \(FLEET_LABEL_PROCESS \| FLEET_LABEL_PID \| FLEET_LABEL_THREAD\)\) \{/if (0) {/' \
	"bash tests/e2e/test_fleet.sh" "no sample labels by default"
# /latest.svg answered with only the first half of the newest window's file.
add latest-svg-cut src/export/httpd.c sed \
	's|MHD_create_response_from_fd64(st.st_size, fd)|MHD_create_response_from_fd64(st.st_size / 2, fd)|' \
	"bash tests/e2e/test_fleet.sh" "http: /latest.svg is the newest window's flame graph"
# /metrics reports 0 lost samples whatever the windows lost.
add metrics-lost-zero src/service/fleet.c sed \
	's/(unsigned long long)f->lost\[i\]);/0ULL);/' \
	"bash tests/e2e/test_storm.sh" "storm: lost samples counted in /metrics"
# The commit writes the target in place (opened, truncated, written) instead of temp + rename.
add commit-in-place src/base/output.c perl \
	's/if \(!fstatat(\(o->dirfd, base, &st, AT_SYMLINK_NOFOLLOW\) &&.*?geteuid\(\)\))\) \{/if (1 || (!fstatat$1)) {/s; s/(openat\(o->dirfd, base, O_WRONLY) \| (O_CLOEXEC \| O_NOFOLLOW \| O_NOCTTY \| O_NONBLOCK)\)/$1 | O_CREAT | O_TRUNC | $2, mode)/' \
	"build/unit-tests output_sigkill_during_commit" "output_sigkill_during_commit"
# The watchdog pinged at the whole WATCHDOG_USEC instead of half of it.
add watchdog-period src/service/notify.c sed \
	's/return usec \* 1000;/return usec * 2000;/' \
	"bash tests/e2e/test_daemon.sh" "notify: WATCHDOG=1 every 0.2 s"
# The SVG's script computes depths twice too deep: the driver's frame lookups find nothing and
# its steps throw.
add svg-script-depth src/render/svg_script.h sed \
	's|Math.abs(f.y - base) / fh)|Math.abs(f.y - base) / fh * 2)|' \
	"bash tests/e2e/test_svg_browser.sh" "browser: all"
# A Python code object's cached name is never checked again (the drain generation never moves).
add python-reuse src/runtime/python.c perl \
	's/(void python__new_drain\(struct python \*py\)\n\{\n\tif \(py\)\n\t\t)py->gen\+\+;/$1(void)py->gen;/' \
	"bash tests/e2e/test_python_shapes.sh" "reuse: window 2 names beta_fn"
# docs/SECURITY.md: hostile names. '<' in a name written as is into the SVG.
add svg-lt-unescaped src/render/svg.c sed \
	's/return "&lt;";/return "<";/' \
	"bash tests/e2e/test_security.sh" "hostile svg: well-formed XML (xmllint)"
# docs/SECURITY.md: a perf map is used only when owned by the process's user.
add perfmap-any-owner src/symbolize/perfmap.c sed \
	's/if (alive && sb->st_uid != status_last(pid, "Uid", 1)) {/if (alive \&\& sb->st_uid != status_last(pid, "Uid", 1) \&\& 0) {/' \
	"bash tests/e2e/test_hostile_perfmap.sh" "root-owned map of a nobody process names nothing"
# docs/SECURITY.md: a debuglink candidate beside a chrooted binary followed through symlinks
# from our root.
add debuglink-escape src/symbolize/debuginfo.c sed \
	's/true, crc, rootfd >= 0)/true, crc, true)/g' \
	"bash tests/e2e/test_hostile_elf.sh" "debuglink escape: the host's debug file is not used"
# docs/SECURITY.md: a debuglink candidate over 512 MiB that is not root's is refused before its
# CRC is computed (the cap gone).
add debuglink-crc-cap src/symbolize/debuginfo.c sed \
	's/(uint64_t)sb.st_size > ELFIMAGE_FILE_MAX) {/(uint64_t)sb.st_size > ELFIMAGE_FILE_MAX \&\& 0) {/' \
	"bash tests/e2e/test_hostile_debuglink.sh" "600 MiB candidate: refused before the CRC"
# The symbol cache's memory cap never applied: every file kept, none evicted.
add cache-cap-ignored src/symbolize/symbolize.c sed \
	's/^\twhile (f \&\& s->cache_bytes > s->cache_cap) {$/\twhile (0 \&\& f) {/' \
	"build/unit-tests symbolizer_lines_and_cache_cap" "symbolizer_lines_and_cache_cap"
# Symbol files never dropped for idleness: a busy host's one-off binaries held to the cap.
add idle-files-kept src/symbolize/symbolize.c sed \
	's/^\tfor (; f \&\& s->window - f->window > FILE_IDLE_WINDOWS; f = newer) {$/\tfor (; 0 \&\& f; f = newer) {/' \
	"build/unit-tests symbolizer_drops_files_idle_for_windows" \
	"symbolizer_drops_files_idle_for_windows"
# A HotSpot scope's bci read without InvocationEntryBci's +1: every compiled Java line is the
# next bytecode's.
add hotspot-bci-off-by-one src/runtime/hotspot.c sed \
	's/^\ts->bci = (int32_t)(bci - 1);$/\ts->bci = (int32_t)bci;/' \
	"build/unit-tests hotspot_scope_header_decodes" "hotspot_scope_header_decodes"
# The interpreter's bcp register never read: a leaf interpreted frame's line is the one saved
# at its last call (hot's call of mix), wherever it runs.
add hotspot-leaf-bcp-unused bpf/profile.bpf.c sed \
	's/^\t\t\tc.st->hs_leaf_bcp = hotspot_leaf_bcp(ip, sp);$/\t\t\tc.st->hs_leaf_bcp = 0;/' \
	"bash tests/e2e/test_hotspot.sh" "-Xint --lines: the leaf's line moves over hot's loop"
# The builtins node remaps beside V8's code range not told to BPF: a frameless builtin called
# from baseline code is a native frame there, and the function calling it is lost.
add v8-remap-ignored src/runtime/v8.c sed \
	's/^\tif (!f->m.blob_code || f->m.blob_code < f->h.x_vaddr)$/\tif (1)/' \
	"bash tests/e2e/test_node.sh" "Sparkplug: >= 80% of the script's samples are"
# The rest is read whole before it runs (one compound command): editing this file during a
# run cannot change that run.
{
if [ "${1:-}" = --list ]; then
	for id in "${ids[@]}"; do printf '%-20s %s: %s\n' "$id" "${file[$id]}" "${want[$id]}"; done
	exit 0
fi
diff=
[ "${1:-}" = --diff ] && { diff=1; shift; }
sel=("$@")
[ ${#sel[@]} = 0 ] && sel=("${ids[@]}")
for id in "${sel[@]}"; do
	[ -n "${file[$id]:-}" ] || { echo "unknown entry: $id (--list names them)"; exit 2; }
done

# checkout DIR: the tree at HEAD, modes as in a clone (git archive's default umask 002 leaves
# files group-writable, and root's tar keeps that: flamed then refuses systemd/flamed.conf).
checkout() { git -C "$repo" -c tar.umask=0022 archive HEAD | tar -x -C "$1"; }

# One build of HEAD (kept in /tmp for the next run; none for --diff), shared by every entry and
# by runs in parallel (flock): each entry's copy starts from its objects, so make rebuilds only
# what the break touches.
base=/tmp/flamed-breaks-base-$rev
targets=(build/flamed build/unit-tests workloads)
logs=
if [ -z "$diff" ]; then
	logs=${BREAKS_LOGS:-$(mktemp -d /tmp/flamed-breaks-logs.XXXXXX)}
	mkdir -p "$logs"
fi
[ -n "$diff" ] || (
	flock 9
	[ -e "$base/.built" ] && exit 0
	rm -rf "$base" && mkdir -p "$base"
	checkout "$base" &&
		make -C "$base" -j2 "${targets[@]}" >"$logs/base-build.log" 2>&1 &&
		touch "$base/.built"
) 9>"$base.lock" || { echo "build of $rev failed: $logs/base-build.log"; exit 2; }

bad=0
for id in "${sel[@]}"; do
	log="$logs/$id.log"
	tmp=$(mktemp -d /tmp/flamed-break.XXXXXX)
	checkout "$tmp"
	[ -n "$diff" ] || cp -a "$base/build" "$tmp/"
	f="$tmp/${file[$id]}"
	if [ -f "$f" ]; then
		cp "$f" "$tmp/before"
		if [ "${tool[$id]}" = sed ]; then
			sed -i -e "${expr[$id]}" "$f"
		else
			perl -0pi -e "${expr[$id]}" "$f"
		fi
	fi
	if [ ! -f "$f" ] || cmp -s "$f" "$tmp/before"; then
		# The edit found nothing to change (or the file is gone): the entry must be rewritten.
		verdict=stale
	elif [ -n "$diff" ]; then
		diff -u --label "a/${file[$id]}" --label "b/${file[$id]}" "$tmp/before" "$f"
		verdict="edit applies"
	elif ! make -C "$tmp" -j2 "${targets[@]}" >"$log" 2>&1; then
		verdict="does not build (the edit must be rewritten)"
	else
		(cd "$tmp" && CI=true timeout 1800 ${cmd[$id]}) >>"$log" 2>&1
		line=$(grep '^FAIL ' "$log" | grep -F -m1 -- "${want[$id]}")
		if [ -n "$line" ]; then
			verdict="broken as expected: $line"
		else
			verdict="NOT DETECTED"
		fi
	fi
	[ -n "$diff" ] || verdict="$verdict ($log)"
	echo "$id: $verdict"
	case $verdict in broken* | "edit applies"*) ;; *) bad=1 ;; esac
	rm -rf "$tmp"
done
exit $bad
}
