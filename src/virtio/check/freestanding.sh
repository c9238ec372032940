#!/bin/sh
# TAP check: the virtio core compiles with no include path but gcc's own
# freestanding headers and include/, so no libc or Windows header can creep
# in. Host gcc only: mingw's <stddef.h> chains into the mingw CRT headers.
set -u
n=0
fail=0
for cc in ${HOSTCC:-gcc}; do
	inc=$($cc -print-file-name=include)
	for src in src/virtio/*.c; do
		n=$((n + 1))
		if out=$($cc -std=gnu11 -Wall -Wextra -Werror -ffreestanding -nostdinc -isystem "$inc" \
			-Iinclude -mgeneral-regs-only -fsyntax-only "$src" 2>&1); then
			echo "ok $n - $cc $src freestanding"
		else
			echo "not ok $n - $cc $src freestanding"
			echo "$out" | sed 's/^/# /'
			fail=1
		fi
	done
done
echo "1..$n"
exit $fail
