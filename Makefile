# SPDX-License-Identifier: GPL-2.0-only
#
# make                  build build/flamed (BPF object, skeleton, loader)
# make test             installs the missing test tools (.ci/install-deps --test, as root), then
#                       unit tests, then end-to-end tests (root: real profiling)
# make test SANITIZE=1  the same, everything built with ASan+UBSan into build-san/
# make vmlinux          regenerate vmlinux/<arch>/vmlinux.h from this kernel's BTF
# make bench            run the benchmarks in bench/
# V=1                   show full commands

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CC ?= cc
CLANG ?= clang
RUSTC ?= $(firstword $(shell command -v rustc) $(wildcard $(HOME)/.cargo/bin/rustc) rustc)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local

ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

# Linked: what every run uses. Opened at first use (src/base/lazylib.h), headers only here:
# libcurl, libdebuginfod, libmicrohttpd and libsystemd, 30 of the 48 libraries otherwise mapped
# before main (17 ms and 7 MiB of every start).
PKGS_LINKED := libbpf libelf libdw zlib libprotobuf-c liblzma
PKGS_LAZY := libsystemd libdebuginfod libcurl libmicrohttpd
PKGS := $(PKGS_LINKED) $(PKGS_LAZY)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_LINKED) 2>/dev/null)

CFLAGS ?= -O2 -g
WARNFLAGS := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
# -MMD -MP: each object depends on exactly the headers it includes (build/**/*.d).
# Functions in sections of their own, so that flamed's link drops what only tests and bench use
# (the libdw reference unwind-table builder).
override CFLAGS += -ffunction-sections -fdata-sections -MMD -MP -std=gnu11 $(WARNFLAGS) -D_GNU_SOURCE -I$(BUILD) -Isrc $(PKG_CFLAGS) $(SANFLAGS)
override LDFLAGS += $(SANFLAGS)
LDLIBS := $(PKG_LIBS) -liberty -lm

BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# src/<stage>/*.c: one folder per pipeline stage (docs/ARCHITECTURE.md).
LIB_SRCS := $(filter-out src/service/main.c,$(wildcard src/*/*.c))
LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
# tests/unit/<stage>/, tests/fuzz/<stage>/, bench/<stage>/: tests follow the same folders.
UNIT_SRCS := tests/unit/harness.c $(wildcard tests/unit/*/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test test-run unit e2e vmlinux bench install format

all: $(BUILD)/flamed

$(BUILD) $(BUILD)/obj $(BUILD)/unit:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c bpf/*.h vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Generated headers are order-only: they must exist before the first compile, and after it the
# .d files name them for the objects that really include them.
PROTOS := $(wildcard src/*/*.proto)
GEN_HDRS := $(SKELS) $(patsubst %.proto,$(BUILD)/%.pb-c.h,$(notdir $(PROTOS))) \
	$(BUILD)/history_page.h $(BUILD)/min_btf.h
vpath %.proto $(sort $(dir $(PROTOS)))

# The kernel types the BPF object's CO-RE relocations need, cut from this kernel's BTF (a few
# hundred bytes): libbpf parses them instead of /sys/kernel/btf/vmlinux (5 MB, 45-60 ms of every
# start) when flamed runs on the kernel it was built on: the header names it by its notes (the
# build id) and its BTF's size. Built without BTF, notes or bpftool's min_core_btf, the header
# is empty and the full BTF is always read.
$(BUILD)/min_btf.h: $(BUILD)/profile.bpf.o
	$(call msg,GEN,$@)
	$(Q)if [ -s /sys/kernel/notes ] && \
	    $(BPFTOOL) gen min_core_btf /sys/kernel/btf/vmlinux $(BUILD)/min.btf $< 2>/dev/null; then \
	  { printf 'static const char min_btf_kernel[] = "%s\\n%s";\n' \
	      "$$(od -An -v -tx1 /sys/kernel/notes | tr -d ' \n')" \
	      "$$(stat -c %s /sys/kernel/btf/vmlinux)"; \
	    echo 'static const unsigned char min_btf[] = {'; \
	    od -An -v -tx1 $(BUILD)/min.btf | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '};'; } > $@; \
	else \
	  printf 'static const char min_btf_kernel[] = "";\nstatic const unsigned char min_btf[1];\n' > $@; \
	fi

# The --listen history page, written as HTML, built in as one C string.
$(BUILD)/history_page.h: src/export/history_page.html | $(BUILD)
	$(call msg,GEN,$@)
	$(Q){ echo 'static const char history_page[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/\t"/; s/$$/\\n"/' $<; echo ';'; } > $@

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libflamed.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/flamed: $(BUILD)/obj/service/main.o $(BUILD)/libflamed.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -Wl,--gc-sections $^ $(LDLIBS) -o $@

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

# The tests' own HTTP clients call libcurl directly.
$(BUILD)/unit-tests: $(UNIT_OBJS) $(BUILD)/libflamed.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(shell $(PKG_CONFIG) --libs libcurl) -o $@

unit: $(BUILD)/unit-tests
	$(Q)$(BUILD)/unit-tests

e2e: $(BUILD)/flamed workloads
	$(Q)for t in tests/e2e/test_*.sh; do BUILD=$(BUILD) bash $$t || exit 1; done

# The test tools first (the workloads need g++ and rustc), then everything the suites run.
test:
	$(Q)bash .ci/install-deps --test
	$(Q)$(MAKE) --no-print-directory test-run

test-run: $(BUILD)/flamed $(BUILD)/unit-tests workloads
	$(Q)BUILD=$(BUILD) SANITIZE=$(SANITIZE) bash tests/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

bench: $(BUILD)/flamed
	$(Q)BUILD=$(BUILD) bash bench/run.sh

format:
	clang-format -i src/*/*.c src/*/*.h bpf/*.c bpf/*.h tests/unit/*.[ch] tests/unit/*/*.c

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary, the systemd unit (its paths
# rewritten for BINDIR and SYSCONFDIR), the man page, and the default config unless one exists.
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system

# The binary is installed without its debug info (INSTALL_STRIP= keeps it: debian/rules, whose
# dh_strip splits it into the -dbgsym package).
INSTALL_STRIP ?= 1
STRIP ?= strip

install: $(BUILD)/flamed
	install -D -m 0755 $(BUILD)/flamed $(DESTDIR)$(BINDIR)/flamed
	$(if $(INSTALL_STRIP),$(STRIP) --strip-debug $(DESTDIR)$(BINDIR)/flamed)
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/local/bin/flamed|$(BINDIR)/flamed|' -e 's|/etc/flamed/|$(SYSCONFDIR)/flamed/|' \
		systemd/flamed.service > $(DESTDIR)$(UNITDIR)/flamed.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/flamed.service
	install -D -m 0644 docs/flamed.8 $(DESTDIR)$(MANDIR)/man8/flamed.8
	test -e $(DESTDIR)$(SYSCONFDIR)/flamed/flamed.conf || \
		install -D -m 0644 systemd/flamed.conf $(DESTDIR)$(SYSCONFDIR)/flamed/flamed.conf

clean:
	rm -rf build build-san

# pprof: protoc-c generates C from src/render/pprof.proto into $(BUILD) (never the source tree); the
# object joins libflamed.a, and objects that include the generated header wait for it.
PROTOC_C ?= protoc-c

$(BUILD)/%.pb-c.c $(BUILD)/%.pb-c.h: %.proto | $(BUILD)
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --proto_path=$(<D) --c_out=$(BUILD) $<

$(BUILD)/obj/pprof.pb-c.o: $(BUILD)/pprof.pb-c.c $(BUILD)/pprof.pb-c.h | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libflamed.a: $(BUILD)/obj/pprof.pb-c.o

# Pyroscope's push request (src/export/push.proto), the same way.
$(BUILD)/obj/push.pb-c.o: $(BUILD)/push.pb-c.c $(BUILD)/push.pb-c.h | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libflamed.a: $(BUILD)/obj/push.pb-c.o

# OTLP profiles' export request (src/export/otlp.proto), the same way.
$(BUILD)/obj/otlp.pb-c.o: $(BUILD)/otlp.pb-c.c $(BUILD)/otlp.pb-c.h | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libflamed.a: $(BUILD)/obj/otlp.pb-c.o

# Workloads with known call chains, profiled by the end-to-end tests and benchmarks.
WORKLOADS := $(BUILD)/workloads/chain $(BUILD)/workloads/sys $(BUILD)/workloads/nofp \
	$(BUILD)/workloads/fpgcc $(BUILD)/workloads/deep $(BUILD)/workloads/deepfp \
	$(BUILD)/workloads/cppprog $(BUILD)/workloads/rustprog $(BUILD)/workloads/vdso \
	$(BUILD)/workloads/signal $(BUILD)/workloads/ctxstack $(BUILD)/workloads/dlopener \
	$(BUILD)/workloads/plugin.so $(BUILD)/workloads/offcpu $(BUILD)/workloads/tids \
	$(BUILD)/workloads/pyembed $(BUILD)/workloads/fakeframe
.PHONY: workloads
workloads: $(WORKLOADS)
$(WORKLOADS) $(BUILD)/workloads/hostile $(BUILD)/workloads/manystacks: tests/workloads/workload.h

$(BUILD)/workloads/chain: tests/workloads/chain.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@

# Two threads in spin_a and spin_b, for -t.
$(BUILD)/workloads/tids: tests/workloads/tids.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@ -lpthread

$(BUILD)/workloads/sys: tests/workloads/sys.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O2 -g $< -o $@

# gcc -O2 without frame pointers (Debian's default), and with them (gcc still omits leaf frames).
NOFP_WORKLOADS := $(addprefix $(BUILD)/workloads/,nofp vdso signal ctxstack dlopener deep offcpu \
	pyembed)
$(NOFP_WORKLOADS): $(BUILD)/workloads/%: tests/workloads/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc -O2 -g -fomit-frame-pointer $< -o $@ -lrt -lpthread

$(BUILD)/workloads/fakeframe: tests/workloads/fakeframe.c tests/workloads/workload.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc -O2 -g -fomit-frame-pointer -mno-red-zone $< -o $@

$(BUILD)/workloads/fpgcc: tests/workloads/nofp.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc -O2 -g -fno-omit-frame-pointer $< -o $@

$(BUILD)/workloads/plugin.so: tests/workloads/plugin.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc -O2 -g -fomit-frame-pointer -fPIC -shared $< -o $@

$(BUILD)/workloads/deepfp: tests/workloads/deep.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@

$(BUILD)/workloads/cppprog: tests/workloads/cppprog.cpp
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)g++ -O2 -g $< -o $@

$(BUILD)/workloads/rustprog: tests/workloads/rustprog.rs
	$(call msg,RUSTC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(RUSTC) -O -C force-frame-pointers=no -o $@ $<

# Fuzzing (tests/fuzz/): one libFuzzer target per parser of outside bytes.
# make fuzz            libFuzzer binaries (clang, ASan+UBSan) into $(BUILD)/fuzz/
# make fuzz-replay     the same targets over tests/fuzz/replay.c: the saved corpus as a test
# bash tests/fuzz/run.sh [SECS]   runs each target for SECS seconds, two at a time
FUZZ_SRCS := $(wildcard tests/fuzz/*/fuzz_*.c)
FUZZ_TARGETS := $(patsubst %.c,%,$(notdir $(FUZZ_SRCS)))
vpath fuzz_%.c $(sort $(dir $(FUZZ_SRCS)))
FUZZ_CC ?= clang
FUZZ_CFLAGS := -MMD -MP -O1 -g -std=gnu11 -D_GNU_SOURCE -I$(BUILD) -Isrc -Itests/fuzz $(PKG_CFLAGS) \
	-Wall -Wno-unused-parameter -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_PB := $(patsubst %.proto,%.pb-c,$(notdir $(PROTOS)))
FUZZ_LIB_OBJS := $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS)) \
	$(patsubst %,$(BUILD)/fuzz/obj/%.o,$(FUZZ_PB))
.PHONY: fuzz fuzz-replay

fuzz: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/obj/%.o: src/%.c | $(GEN_HDRS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/obj/%.pb-c.o: $(BUILD)/%.pb-c.c $(BUILD)/%.pb-c.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/libflamed.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/fuzz/libflamed.a
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(BUILD)/fuzz/libflamed.a $(LDLIBS) -o $@

fuzz-replay: $(patsubst %,$(BUILD)/fuzz-replay/%,$(FUZZ_TARGETS))

$(BUILD)/fuzz-replay/fuzz_%: fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(BUILD)/libflamed.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) $< tests/fuzz/replay.c $(BUILD)/libflamed.a \
		$(LDLIBS) -o $@

test-run e2e: fuzz-replay

# Hostile names (tests/e2e/test_security.sh): clang, whose assembler quotes any symbol name.
workloads: $(BUILD)/workloads/hostile
$(BUILD)/workloads/hostile: tests/workloads/hostile.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@

# Thousands of distinct stacks, to overflow small in-kernel maps (--max-stacks).
workloads: $(BUILD)/workloads/manystacks
$(BUILD)/workloads/manystacks: tests/workloads/manystacks.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@

# A JIT with a hostile perf map (tests/e2e/test_hostile_perfmap.sh): code in anonymous memory.
workloads: $(BUILD)/workloads/jitmap
$(BUILD)/workloads/jitmap: tests/workloads/jitmap.c tests/workloads/workload.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -fno-omit-frame-pointer $< -o $@

# Static checks (docs/SECURITY.md says why these and not others): cppcheck's warnings, and the
# clang-tidy checks below; both must stay clean. make lint-analyzer runs the clang static
# analyzer's path-sensitive checks too, as advice (it reports paths the code rules out).
LINT_CHECKS := -*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-narrowing-conversions,$\
	-bugprone-reserved-identifier,-bugprone-assignment-in-if-condition,$\
	-bugprone-suspicious-string-compare,-bugprone-branch-clone,$\
	-bugprone-not-null-terminated-result,-bugprone-suspicious-memory-comparison,$\
	-bugprone-sizeof-expression,-bugprone-misplaced-widening-cast,$\
	cert-*,-cert-err33-c,-cert-err34-c,-cert-exp42-c,-cert-flp37-c,-cert-dcl37-c,-cert-dcl51-cpp
LINT_ANALYZER := -*,clang-analyzer-*,$\
	-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,$\
	-clang-analyzer-security.insecureAPI.strcpy,-clang-analyzer-optin.performance.Padding,$\
	-clang-analyzer-valist.Uninitialized
LINT_TIDY_CONFIG := {}
LINT_INC := -std=gnu11 -D_GNU_SOURCE -I$(BUILD) -Isrc $(PKG_CFLAGS)
.PHONY: lint lint-analyzer

lint: $(GEN_HDRS) $(patsubst %,$(BUILD)/%.h,$(FUZZ_PB))
	$(call msg,LAYERS,src)
	$(Q)bash tests/layers.sh
	$(call msg,LINT,tests)
	$(Q)bash tests/lint_tests.sh
	$(call msg,CPPCHECK,src)
	$(Q)cppcheck -q --error-exitcode=1 --enable=warning,portability --std=c11 \
		-D_GNU_SOURCE -Isrc --inline-suppr --suppress=missingIncludeSystem \
		--suppress=internalAstError --suppress=uninitvar:src/render/svg.c \
		--suppress=shiftNegativeLHS:src/unwind/unwind_table.c -j $(shell nproc) src/*/*.c
	$(call msg,TIDY,src)
	$(Q)ls src/*/*.c | xargs -P $(shell nproc) -n 4 sh -c 'clang-tidy -quiet \
		--checks="$(LINT_CHECKS)" --warnings-as-errors="*" --config="$(LINT_TIDY_CONFIG)" \
		"$$@" -- $(LINT_INC)' clang-tidy >$(BUILD)/lint-tidy.txt 2>&1; \
		rc=$$?; grep -v 'warnings\? generated' $(BUILD)/lint-tidy.txt; exit $$rc

lint-analyzer: $(SKELS) $(patsubst %,$(BUILD)/%.h,$(FUZZ_PB))
	$(Q)ls src/*/*.c | xargs -P $(shell nproc) -n 4 sh -c 'clang-tidy -quiet \
		--checks="$(LINT_ANALYZER)" "$$@" -- $(LINT_INC)' clang-tidy 2>&1 | \
		grep -v 'warnings\? generated'; true

# make test-system: the unit booted under systemd in a systemd-nspawn container (root only;
# tests/system/). Installs debootstrap and systemd-container if missing, and says so; builds
# and caches the container's Debian root under /var/cache/flamed-test on first use.
.PHONY: test-system
test-system: $(BUILD)/flamed workloads
	$(Q)bash tests/system/deps.sh
	$(Q)BUILD=$(BUILD) bash tests/system/test_system.sh
	$(Q)bash tests/system/test_quickstart.sh

# make deb: a Debian package built with debhelper (debian/) into $(BUILD)/deb/, from a copy of
# the tree (so debian/rules' `make clean` stays out of build/), then checked by lintian, which
# must have nothing to say. Not part of `make`; tests/system/deps.sh installs the tools.
.PHONY: deb
deb:
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/flamed
	$(Q)tar -c --exclude=./build --exclude='./build-*' --exclude=./.git --exclude=./.output . | \
		tar -x -C $(BUILD)/deb/flamed
	$(call msg,DEB,$(BUILD)/deb)
	$(Q)cd $(BUILD)/deb/flamed && DEB_BUILD_OPTIONS="parallel=$(shell nproc)" \
		dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo "make deb: build failed ($(BUILD)/deb/build.log)"; exit 1; }
	$(call msg,LINTIAN,$(BUILD)/deb)
	$(Q)lintian --fail-on error,warning,info $(BUILD)/deb/*.changes
	$(Q)ls $(BUILD)/deb/*.deb

# make uninstall [PREFIX=... DESTDIR=...]: removes what make install put in place, with the same
# variables. The config file goes only if it is still the default: an edited one is the admin's.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/flamed $(DESTDIR)$(UNITDIR)/flamed.service \
		$(DESTDIR)$(MANDIR)/man8/flamed.8
	if cmp -s systemd/flamed.conf $(DESTDIR)$(SYSCONFDIR)/flamed/flamed.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/flamed/flamed.conf; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/flamed 2>/dev/null || true; \
	else \
		echo "uninstall: keeping $(DESTDIR)$(SYSCONFDIR)/flamed/flamed.conf (changed)"; \
	fi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
