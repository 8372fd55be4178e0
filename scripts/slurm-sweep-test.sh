#!/usr/bin/env bash
# slurm-sweep-test.sh MMU_SIM -- a sweep spread over a real single-node SLURM
# cluster must give exactly the bytes of the same sweep run locally.
#
# Starts the cluster with scripts/slurm-cluster.sh (installing Debian's slurm-wlm
# and munge if needed), has `mmu-sim sweep --emit-slurm` write a job array,
# submits it, waits for it, merges the shards with `mmu-sim merge`, compares
# with the local sweep byte for byte, and stops the cluster whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
MMU_SIM=$(realpath "${1:-target/debug/mmu-sim}")
CLUSTER=scripts/slurm-cluster.sh
WORK=$(mktemp -d /tmp/mmu-sim-slurm.XXXXXX)
chmod 755 "$WORK"
TIMEOUT=${SLURM_SWEEP_TIMEOUT:-180}

log() { printf '[slurm-sweep %s] %s\n' "$(date +%T)" "$*" >&2; }

bash "$CLUSTER" install
bash "$CLUSTER" configure
trap 'bash "$CLUSTER" stop' EXIT
bash "$CLUSTER" start

grid=(sweep configs/sv32-small.ron --vary 'tlb.l1[0].entries=16,32,64' --vary 'tlb.l1[0].ways=1,4'
      --vary 'dram.timing=Fixed(latency: 50),Fixed(latency: 100)')
"$MMU_SIM" "${grid[@]}" --jobs 2 --out "$WORK/local.csv"
"$MMU_SIM" "${grid[@]}" --emit-slurm "$WORK/job" --shards 4
grep -q '^#SBATCH --array=0-3$' "$WORK/job/sweep.sbatch"

jid=$(sbatch --parsable "$WORK/job/sweep.sbatch")
log "submitted array job $jid"
end=$(( EPOCHSECONDS + TIMEOUT ))
while [ -n "$(squeue -h -j "$jid" 2>/dev/null)" ]; do
    [ "$EPOCHSECONDS" -lt "$end" ] || { log "job $jid not done after $TIMEOUT s"; squeue; exit 1; }
    sleep 0.2
done
bad=$(scontrol -o show job "$jid" 2>/dev/null | grep -v 'JobState=COMPLETED' || true)
[ -z "$bad" ] || { log "array tasks not COMPLETED: $bad"; cat "$WORK"/job/slurm-*.log >&2 || true; exit 1; }

# The manifest's own merge line.
merge_line=$(sed -n 's/^merge: //p' "$WORK/job/manifest.txt")
eval "$merge_line"
cmp "$WORK/local.csv" "$WORK/job/sweep.out"
log "the SLURM sweep ($(($(wc -l < "$WORK/local.csv") - 1)) points in 4 array tasks) equals the local sweep byte for byte"
rm -rf "$WORK"
