# OpenVDP: virtio drivers for Windows, cross-built on Linux.
#
#   make            build every driver for x64 and x86 (and the signed pack)
#   make check      build, then run every test; prints "N passed, N failed"
#   make install    install the pack under $(DESTDIR)$(PREFIX)
#   make dist       source tarball that builds offline
#   make clean      remove out/
#   V=1             show full commands
#
# Components declare themselves in fragments (see HACKING.md); this file
# holds the toolchains, the flags and the rule templates in mk/.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
# Fragments are read before the driver list is complete; prerequisites that
# need it are written $$(ALL_SYS) and expanded a second time.
.SECONDEXPANSION:

O       ?= out
PREFIX  ?= /usr/local
DESTDIR ?=
V       ?= 0
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

# Reproducibility: every timestamp that reaches an output comes from here.
# From the file `make dist` puts in a tarball, else from git.
SOURCE_DATE_EPOCH ?= $(shell cat .source-date-epoch 2>/dev/null || git log -1 --format=%ct 2>/dev/null || echo 1735689600)
export SOURCE_DATE_EPOCH
export TZ := UTC
export LC_ALL := C

# The brand (names, IDs, version, certificate) the pack is built for.
BRAND ?= brand/default.conf
VERSION := $(shell sed -n 's/^VERSION *= *"\{0,1\}\([0-9.]*\).*/\1/p' $(BRAND))
PACK_DIR := $(O)/pack

ARCHES := x64 x86
TRIPLET_x64 := x86_64-w64-mingw32
TRIPLET_x86 := i686-w64-mingw32

HOSTCC ?= gcc
HOST_OBJ := $(O)/host/obj
HOST_LIB := $(O)/host/lib
HOST_BIN := $(O)/host/bin
HOST_TESTBIN := $(O)/host/tests
CHECK_DIR := $(O)/check

WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wundef -Wno-multichar \
	-Werror=incompatible-pointer-types -Werror=implicit-function-declaration

# Kernel-mode code (drivers and the libraries they link).
KCFLAGS := -std=gnu11 -O2 $(WARN) -Wframe-larger-than=2048 \
	-ffreestanding -fno-stack-protector -fno-strict-aliasing -fno-common \
	-fno-ident -mgeneral-regs-only -ffile-prefix-map=$(CURDIR)/= \
	-DNTDDI_VERSION=0x0A000000 -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 \
	-Iinclude/ddk -Iinclude
KCFLAGS_x64 := -D_AMD64_ -D_WIN64
# The x86 kernel has no x87/SSE state to spare, and no DWARF unwinder.
KCFLAGS_x86 := -D_X86_ -fno-asynchronous-unwind-tables -fno-exceptions

# Native NT image: fixed base, no timestamp, NX and relocatable, entry DriverEntry.
KLDFLAGS := -nostdlib -nostartfiles -Wl,--subsystem,native:6.1 \
	-Wl,--major-os-version,6 -Wl,--minor-os-version,1 \
	-Wl,--dynamicbase -Wl,--nxcompat -Wl,--no-insert-timestamp \
	-Wl,--file-alignment,0x200 -Wl,--section-alignment,0x1000 -s
KLDFLAGS_x64 := -Wl,--entry,DriverEntry -Wl,--image-base,0x140000000 -Wl,--high-entropy-va
KLDFLAGS_x86 := -Wl,--entry,_DriverEntry@8 -Wl,--image-base,0x10000
KLDFLAGS_wdm := -Wl,--wdmdriver

# User-mode Windows programs (unit tests run under Wine, INF checker).
UCFLAGS := -std=gnu11 -O2 $(WARN) -fno-ident -ffile-prefix-map=$(CURDIR)/= \
	-D__USE_MINGW_ANSI_STDIO=1 -Iinclude

HOSTCFLAGS := -std=gnu11 -O2 -g $(WARN) -ffile-prefix-map=$(CURDIR)/= -Iinclude
HOSTLDFLAGS :=

# Components. Each fragment only declares; mk/rules.mk turns declarations into rules.
WINLIBS :=
HOSTLIBS :=
DRIVERS :=
HOSTPROGS :=
HOSTTESTS :=
WINETESTS :=
CHECKS :=

include mk/check.mk
# Every component's fragment, found by location so adding one needs no edit here.
FRAGMENTS := $(sort $(wildcard tools/*.mk src/*/*.mk tests/*/*.mk inf/*.mk sign/*.mk res/*.mk ci/*/*.mk))
include $(FRAGMENTS)

include mk/rules.mk

all: drivers pack

.PHONY: all drivers pack clean distclean install dist check

clean:
	rm -rf $(O)

distclean: clean

# ---------------------------------------------------------------- install, dist
# The pack tree ($(PACK_DIR), filled by the pack fragments) is what installs:
# a distribution ships it under $(PREFIX)/share/openvdp.
install: all
	$(Q)test -d $(PACK_DIR) || { echo "install: no pack in $(PACK_DIR)" >&2; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/share/openvdp
	cp -R --no-preserve=ownership $(PACK_DIR)/. $(DESTDIR)$(PREFIX)/share/openvdp/
	chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/share/openvdp

# A reproducible source tarball of the tracked files: sorted, owned by root,
# dated SOURCE_DATE_EPOCH, gzip without a name or time stamp.
DIST_NAME := openvdp-$(VERSION)
dist:
	$(Q)git rev-parse --git-dir >/dev/null 2>&1 || { echo "dist: needs a git checkout" >&2; exit 1; }
	$(Q)mkdir -p $(O)
	$(Q)echo $(SOURCE_DATE_EPOCH) >$(O)/.source-date-epoch
	$(Q){ git ls-files -z; printf '$(O)/.source-date-epoch\0'; } | \
		tar --null -T - --transform 's,^$(O)/\.source,.source,' --transform 's,^,$(DIST_NAME)/,' \
		--sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner \
		--mode=u+rw,go=rX,a-s -cf - | gzip -9n >$(O)/$(DIST_NAME).tar.gz
	@echo "  DIST     $(O)/$(DIST_NAME).tar.gz"
