#!/usr/bin/env bash
# The whole-run speed figures of issue #15 (benches/README.md), for one or more
# release binaries side by side in one run: wall and CPU time (best of 3
# processes, user + system over all threads) and host instructions per access
# (valgrind cachegrind, all threads), on a real program's recording and on the
# L1-hit traces H1/H3.
#
# Usage:
#   scripts/speed-figures.sh WORKDIR BIN [BIN...]
#
# WORKDIR keeps the inputs between runs: big.lackey.zst (recorded with
# scripts/record-trace.sh from scripts/sortwords.c with 10000 keys when
# missing: needs valgrind and gcc-multilib), its native and binary conversions,
# and H1/H3 (+ .bin). Each BIN is a release build of mmu-sim; a BIN without the
# binary format (before #15) is given the native files only. Run from the
# repository root (the configs are configs/bench-cheapest.ron and
# configs/bench-full.ron). Needs valgrind, GNU time (/usr/bin/time) and python3
# (to write H1/H3); recording also needs what scripts/record-trace.sh needs.
# The conversions use the first BIN that has `convert`.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
work=$1
shift
mkdir -p "$work"
first=
for bin in "$@"; do
    if "$bin" convert --help >/dev/null 2>&1; then first=$bin; break; fi
done
[ -n "$first" ] || { echo "speed-figures: no BIN has \`convert\` (issue #15's binary format)" >&2; exit 2; }
cheap=configs/bench-cheapest.ron
full=configs/bench-full.ron

if [ ! -s "$work/big.lackey.zst" ]; then
    scripts/record-trace.sh "$work/big.lackey.zst" scripts/sortwords.c 10000
fi
[ -s "$work/big.native" ] || "$first" convert --to native "$work/big.lackey.zst" "$work/big.native" >/dev/null
[ -s "$work/big.bin" ] || "$first" convert "$work/big.lackey.zst" "$work/big.bin" >/dev/null
if [ ! -s "$work/H3" ]; then
    python3 -c 'k="XRXWXRXRWX"; [print(k[i%10], "0x%08x" % ((0x10000000 if k[i%10]=="X" else 0x20000000) + (5*i%8)*4096 + 52*i%4096)) for i in range(3000000)]' >"$work/H3"
    head -n 1000000 "$work/H3" >"$work/H1"
fi
for h in H1 H3; do
    [ -s "$work/$h.bin" ] || "$first" convert "$work/$h" "$work/$h.bin" >/dev/null
done

# Best of 3 processes: "wall cpu" in seconds.
best_of_3() {
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %U %S" "$@" 2>&1 >/dev/null | tail -n 1
    done | awk '{c = $2 + $3; if (NR == 1 || $1 < w) w = $1; if (NR == 1 || c < u) u = c}
                END {printf "%.2f %.2f\n", w, u}'
}

# Host instructions of one process, all threads.
instructions() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        awk '/I *refs:/ {gsub(",", "", $NF); print $NF}'
}

accesses=$("$first" inspect "$work/big.native" | awk '$1 == "accesses" {print $2 + 0}')
echo "recording: $accesses accesses; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %-52s %6s %6s %10s\n' binary command wall cpu instr/acc
for bin in "$@"; do
    inputs=(big.native)
    if "$bin" convert --help >/dev/null 2>&1; then inputs+=(big.bin); fi
    for input in "${inputs[@]}"; do
        for cmd in "inspect" "run $cheap --trace" "run $full --trace"; do
            read -r -a words <<<"$cmd"
            args=("${words[@]}" "$work/$input")
            read -r wall cpu < <(best_of_3 "$bin" "${args[@]}")
            n=$(instructions "$bin" "${args[@]}")
            per=$(awk -v n="$n" -v a="$accesses" 'BEGIN {if (a > 0) printf "%.1f", n / a; else print "?"}')
            printf '%-24s %-52s %6s %6s %10s\n' "$bin" "$cmd $input" "$wall" "$cpu" "$per"
        done
    done
    # The L1-hit figure: (I(H3) - I(H1)) / 2 M, for run C and inspect.
    for suffix in "" .bin; do
        [ -z "$suffix" ] || [[ " ${inputs[*]} " == *" big.bin "* ]] || continue
        r1=$(instructions "$bin" run "$cheap" --trace "$work/H1$suffix")
        r3=$(instructions "$bin" run "$cheap" --trace "$work/H3$suffix")
        i1=$(instructions "$bin" inspect "$work/H1$suffix")
        i3=$(instructions "$bin" inspect "$work/H3$suffix")
        awk -v b="$bin" -v s="${suffix:-native}" -v r1="$r1" -v r3="$r3" -v i1="$i1" -v i3="$i3" 'BEGIN {
            r = (r3 - r1) / 2e6; i = (i3 - i1) / 2e6
            printf "%-24s L1 hit, H %-7s: run C %.1f, inspect %.1f, run beyond inspect %.1f\n", b, s, r, i, r - i }'
    done
done
