#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README quick start's first command installs what building and running flamed need, not
# the test tools (issue 21: it used to pull chromium, golang-go, prometheus and rustc, 516 MB).
# Planned by apt for a fresh machine: the minimal Debian root of tests/system/mkroot.sh (cached),
# its dpkg status against this host's package lists, so nothing is installed or downloaded.
# The figures are apt's download sizes (Size:) and installed sizes, as `apt-get install` prints
# them before it asks. Root only (mkroot.sh); `make test-system`.
. "$(dirname "$0")/../e2e/lib.sh"

if ! need_root "quick start plan" || ! need_tool "quick start plan" apt-get apt-cache; then
	finish
	exit
fi
trap 'rm -rf "$T"' EXIT

if ! ROOTFS=$(bash "$ROOT/tests/system/mkroot.sh"); then
	fail "container root: cannot be built (see above)"
	finish
	exit
fi

# plan NAME PKG...: apt's plan for the fresh root into $T/NAME.plan (one "pkg=version" per new
# package); $T/NAME.size: "DOWNLOAD_MB INSTALLED_MB".
plan() {
	local name=$1
	shift
	apt-get -s -o Dir::State::status="$ROOTFS/var/lib/dpkg/status" install \
		--no-install-recommends "$@" >"$T/$name.apt" 2>&1 || return 1
	# "Inst pkg (ver ...)" is new; "Inst pkg [old] (ver ...)" an upgrade of what the root has.
	awk '$1 == "Inst" && $3 !~ /^\[/ { v = $3; sub(/^\(/, "", v); print $2 "=" v }' \
		"$T/$name.apt" >"$T/$name.plan"
	[ -s "$T/$name.plan" ] || return 1
	xargs apt-cache show --no-all-versions <"$T/$name.plan" 2>/dev/null |
		awk '/^Size:/ { d += $2 } /^Installed-Size:/ { s += $2 }
		     END { printf "%.0f %.0f\n", d / 1e6, s * 1024 / 1e6 }' >"$T/$name.size"
}
has() { grep -q "^$2=" "$T/$1.plan"; }

read -r -a build <<<"$(bash "$ROOT/.ci/install-deps" --list)"
# rustc is added by --test only where no rustc exists; a fresh machine has none.
read -r -a all <<<"$(bash "$ROOT/.ci/install-deps" --list --test) rustc"
check "quick start: apt plans the build packages for a fresh minimal root" plan build "${build[@]}"
check "make test: apt plans the build and test packages for it" plan all "${all[@]}"
read -r b_dl b_inst <"$T/build.size"
read -r a_dl a_inst <"$T/all.size"
echo "     build packages: $(wc -l <"$T/build.plan") packages, ${b_dl} MB to download, ${b_inst} MB installed"
echo "     with the test tools: $(wc -l <"$T/all.plan") packages, ${a_dl} MB to download, ${a_inst} MB installed"
# The README says "about 145 MB"; the bound leaves room for point releases, not for a test tool
# (chromium alone is over 60 MB to download).
check "quick start: at most 180 MB to download (${b_dl} MB)" test "$b_dl" -le 180
for p in chromium golang-go nodejs prometheus rustc php8.2-cli ruby3.1 linux-perf g++ libclang-rt-14-dev; do
	check "quick start: $p is not installed" bash -c "! grep -q '^$p=' '$T/build.plan'"
	check "make test: $p is installed" has all "$p"
done
for p in clang libbpf-dev libdw-dev bpftool python3; do
	check "quick start: $p is installed" has build "$p"
done
check "make test: the test tools are most of the download (${a_dl} MB in all)" \
	test "$a_dl" -ge $((2 * b_dl))
# make test and .ci/run install the test tools first, and say which (install-deps prints them).
check "make test: runs install-deps --test first" \
	bash -c "make -n -C '$ROOT' test | grep -q 'install-deps --test'"
check ".ci/run: runs install-deps --test first" grep -q 'install-deps --test' "$ROOT/.ci/run"
finish
