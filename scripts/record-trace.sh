#!/usr/bin/env bash
# Records the memory trace of a real 32-bit x86 program with valgrind's lackey
# tool (`--tool=lackey --trace-mem=yes`), compressed, ready for
# `mmu-sim run CONFIG --trace OUT` (the lackey format is detected).
#
# Usage:
#   scripts/record-trace.sh OUT SOURCE.c [ARGS...]   compile SOURCE.c with
#                                                    gcc -m32 -O2 -static, record it
#   scripts/record-trace.sh OUT -- BINARY [ARGS...]  record an i386 binary as is
#
# OUT ending in .zst is zstd-compressed, .gz gzip-compressed, anything else plain.
# The program's own output goes to standard error.
#
# Needs (Debian package names): valgrind (its x86 tools come with it), gcc-multilib
# for gcc -m32 (apt-get install gcc-multilib), and zstd or gzip to compress.
# A static build keeps the dynamic loader's few hundred thousand accesses out of
# the trace. The program runs with address-space randomization off (setarch -R,
# from util-linux) and an empty environment (the stack holds it), so the same
# program and arguments give the same trace, record after record.
#
# The shipped traces/sortwords.lackey.zst was made with:
#   scripts/record-trace.sh traces/sortwords.lackey.zst scripts/sortwords.c 200
set -euo pipefail

usage() {
    sed -n '2,14p' "$0" >&2
    exit 2
}
[ $# -ge 2 ] || usage
out=$1
shift

command -v valgrind >/dev/null || { echo "record-trace: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$1" = "--" ]; then
    shift
    [ $# -ge 1 ] || usage
    program=$1
    shift
else
    source=$1
    shift
    program="$work/$(basename "${source%.c}")"
    if ! gcc -m32 -O2 -static -o "$program" "$source"; then
        echo "record-trace: gcc -m32 failed; install the 32-bit toolchain: apt-get install gcc-multilib" >&2
        exit 1
    fi
fi

# ELF byte 4 (EI_CLASS) is 1 for a 32-bit program, 2 for a 64-bit one.
class=$(od -An -tu1 -j4 -N1 "$(command -v "$program")" | tr -d ' ')
if [ "$class" != "1" ]; then
    echo "record-trace: $program is not a 32-bit ELF program; mmu-emu models 32-bit address spaces." >&2
    echo "  Build it with gcc -m32, or install the i386 build of its Debian package." >&2
    exit 1
fi

setarch "$(uname -m)" -R env -i "$(command -v valgrind)" --tool=lackey --trace-mem=yes --log-file="$work/trace" "$program" "$@" >&2
case "$out" in
    *.zst) zstd -19 -q -f "$work/trace" -o "$out" ;;
    *.gz) gzip -9 -c "$work/trace" >"$out" ;;
    *) cp "$work/trace" "$out" ;;
esac
echo "record-trace: $(grep -vc '^==' "$work/trace") records written to $out" >&2
