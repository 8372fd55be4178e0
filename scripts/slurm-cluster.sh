#!/usr/bin/env bash
# slurm-cluster.sh -- a throw-away single-node SLURM cluster for mmu-emu's CI, no
# systemd. The project's copy of shared/recipes/slurm-single-node.sh, without its
# self-test: scripts/slurm-sweep-test.sh starts it, runs a sweep on it, stops it.
#
# Target: Debian 12 (bookworm): slurm-wlm 22.05.8 + munge 0.5.15 from the Debian
# archive.  Runs as root (re-executes itself through sudo when it is not root).
# Daemons are started by hand in their normal daemon mode and stopped by PID.
#
# Usage:  slurm-cluster.sh [install|configure|start|stop|status]
#   all (default)  install, configure, start, test, stop  (prints timings)
#   install        apt-get the packages; package scripts are kept from starting services
#   configure      write /etc/slurm/slurm.conf and create the directories under /tmp
#   start          start munged, slurmctld, slurmd; wait (with timeout) until node is idle
#   test           4-task job array, sbatch --wait, scancel; checks the results
#   stop           cancel all jobs, stop the daemons by PID, wait until they are gone
# The phases can be spread over several CI steps (start ... own jobs ... stop): the
# daemons detach from the calling shell, their PIDs are kept in $SLURM_CI_DIR.
#
# Environment (all optional):
#   SLURM_CI_DIR=/tmp/slurm-ci    state, spool, logs, PID files
#   SLURM_CI_OUT=/tmp/slurmtest   where the test jobs write
#   SLURM_CI_TIMEOUT=60           seconds to wait for the node / a job
#   SLURM_CI_KEEP_STATE=0         1: keep the saved controller state between starts
#                                 (job ids continue); 0: wipe it (fresh cluster)
#   SLURM_CI_AUTH=munge           munge (default) or none: auth/none + cred/none,
#                                 needs no munged at all (22.05 still ships it;
#                                 insecure, acceptable only on a throw-away box)
#   SLURM_CI_SKIP_INSTALL=1       with "all": do not run apt-get
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    exec sudo -E "$0" "$@"
fi

DIR=${SLURM_CI_DIR:-/tmp/slurm-ci}
OUT=${SLURM_CI_OUT:-/tmp/slurmtest}
TIMEOUT=${SLURM_CI_TIMEOUT:-60}
KEEP_STATE=${SLURM_CI_KEEP_STATE:-0}
AUTH=${SLURM_CI_AUTH:-munge}
CONF=/etc/slurm/slurm.conf      # compiled-in default path of the Debian build:
                                # no SLURM_CONF needed for sbatch/squeue/...
NODE=localhost
PKGS="slurm-wlm slurmctld slurmd slurm-client munge"

log()  { printf '[slurm-ci %s] %s\n' "$(date +%T)" "$*" >&2; }
die()  { log "ERROR: $*"; dump_logs; exit 1; }
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

dump_logs() {
    for f in "$DIR/slurmctld.log" "$DIR/slurmd.log"; do
        [ -f "$f" ] && { echo "----- tail $f" >&2; tail -n 25 "$f" >&2; }
    done
    command -v sinfo >/dev/null && sinfo -R >&2 2>/dev/null || true
}

# A PID counts as alive if it exists and is not a zombie.  The daemons fork
# into the background, so their parent is PID 1, which may take a moment to
# reap them: a zombie must not be mistaken for a running daemon.
alive() {
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    local st; st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds
wait_for() {
    local t=$1; shift
    local end=$(( ${EPOCHSECONDS} + t ))
    until "$@" >/dev/null 2>&1; do
        [ "$EPOCHSECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# ----------------------------------------------------------------- install
do_install() {
    local t0=$EPOCHREALTIME
    export DEBIAN_FRONTEND=noninteractive
    # Fresh machines have no package lists yet.
    apt-cache show slurmctld >/dev/null 2>&1 || apt-get update
    # On a machine where systemd (or sysvinit) is running, the postinst scripts
    # would start munge/slurmd/slurmctld services.  A policy-rc.d that exits 101
    # forbids that (Docker images ship exactly this file); it is removed again
    # afterwards if we created it.
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    # --no-install-recommends: skips mailutils, libpmix2, etc.; nothing of it is
    # needed here (see MailProg and the harmless PMIx errors in the logs).
    local rc=0
    apt-get install -y --no-install-recommends $PKGS || rc=$?
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || die "apt-get install failed ($rc)"
    log "install took $(secs "$t0") s ($(dpkg-query -W -f '${Version}' slurmctld), munge $(dpkg-query -W -f '${Version}' munge))"
}

# --------------------------------------------------------------- configure
do_configure() {
    mkdir -p "$DIR/state" "$DIR/spool" "$OUT"
    chmod 755 "$DIR" "$DIR/state" "$DIR/spool"

    # Node hardware as slurmd itself detects it (CPUs, sockets, cores, threads,
    # RealMemory), renamed to "localhost".  Declaring more than the hardware has
    # would drain the node ("Low socket*core*thread count", "Low RealMemory").
    # Read it before writing slurm.conf: slurmd -C also reads the config file.
    local hw
    hw=$(slurmd -C | head -n 1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ *UpTime=.*//')
    [ -n "$hw" ] || die "slurmd -C printed nothing"

    local auth=auth/munge cred=cred/munge
    if [ "$AUTH" = none ]; then auth=auth/none; cred=cred/none; fi

    mkdir -p "$(dirname "$CONF")"
    cat > "$CONF" <<EOF
# Generated by mmu-emu's scripts/slurm-cluster.sh: single-node throw-away CI cluster.
ClusterName=ci
# "localhost" is special-cased by Slurm: slurmctld accepts it as its own host
# name and slurmd matches NodeName=localhost even when hostname(1) is something
# else (slurmd is also started with -N localhost).  No DNS entry is needed.
SlurmctldHost=localhost
# Everything runs as root: no "slurm" user permissions on the /tmp dirs to fix.
SlurmUser=root
SlurmdUser=root
AuthType=$auth
CredType=$cred
# Process tracking by parent PID and no task binding: neither needs cgroups,
# systemd or a delegated cgroup tree (proctrack/cgroup and task/cgroup do).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# One core per task: on a 2-core node two array tasks run at the same time
# (select/linear would give each job the whole node, so one at a time).
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# batch_sched_delay defaults to 3 s: newly submitted batch jobs (and the next
# array tasks after a wave finishes) may wait up to 3 s for the scheduler.
# With 0 they start on the controller's next 1 s tick.  (Independently of this,
# slurmctld schedules nothing during its first ~3 s after start.)
SchedulerParameters=batch_sched_delay=0
# A node left DOWN (e.g. slurmd was killed, state restored from
# StateSaveLocation) becomes usable as soon as its slurmd registers again.
ReturnToService=2
# SIGTERM -> SIGKILL grace period for cancelled jobs (default 30 s).
KillWait=5
# Debian's default MailProg (/usr/bin/mail) is not installed without
# recommends; this only silences the "MailProg is invalid" error.
MailProg=/bin/true
# No slurmdbd / database and no job-completion log.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Every file the daemons write lives under $DIR.
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
# Hardware line taken from "slurmd -C".
NodeName=$NODE $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    log "wrote $CONF (node: $hw, auth: $auth)"
}

# ------------------------------------------------------------------- start
munge_ok() { munge -n | unmunge; }

start_munge() {
    if [ "$AUTH" = none ]; then return 0; fi
    if munge_ok >/dev/null 2>&1; then
        log "a munged is already answering; using it"   # e.g. systemd's munge.service
        return 0
    fi
    # /run/munge is normally created by systemd (RuntimeDirectory=) or the init
    # script; without either it is missing.
    install -d -o munge -g munge -m 0755 /run/munge
    # The postinst creates the key; recreate it if a previous step removed it.
    [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
    # Run munged as its own user, like the systemd unit does.  As root it stops
    # with "PRNG seed dir is insecure: invalid ownership of /var/lib/munge"
    # unless --force is given.
    runuser -u munge -- /usr/sbin/munged
    wait_for 10 munge_ok || die "munged does not answer"
    cp /run/munge/munged.pid "$DIR/munged.pid"    # we started it, so we stop it
}

node_idle() { [ "$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null)" = idle ]; }

do_start() {
    [ -f "$CONF" ] || die "$CONF missing: run configure first"
    local p
    for p in slurmctld slurmd; do      # (a running munged is simply reused)
        if [ -f "$DIR/$p.pid.ci" ] && alive "$(cat "$DIR/$p.pid.ci")"; then
            die "$p already running (PID $(cat "$DIR/$p.pid.ci")); run '$0 stop' first"
        fi
    done
    mkdir -p "$DIR/state" "$DIR/spool"
    if [ "$KEEP_STATE" != 1 ]; then
        rm -rf "${DIR:?}/state/"* "${DIR:?}/spool/"*      # fresh cluster, job ids from 1
    fi
    rm -f "$DIR/slurmctld.log" "$DIR/slurmd.log"

    local t0=$EPOCHREALTIME
    start_munge
    # Daemon mode (no -D): each forks into the background and writes its PID file.
    slurmctld
    slurmd -N "$NODE"
    wait_for 10 test -s "$DIR/slurmctld.pid" || die "slurmctld wrote no PID file"
    wait_for 10 test -s "$DIR/slurmd.pid"    || die "slurmd wrote no PID file"
    # slurmd removes its PID file when it exits: keep copies for "stop".
    cp "$DIR/slurmctld.pid" "$DIR/slurmctld.pid.ci"
    cp "$DIR/slurmd.pid" "$DIR/slurmd.pid.ci"

    if ! wait_for "$TIMEOUT" node_idle; then
        sinfo -N >&2 || true
        die "node not idle after $TIMEOUT s"
    fi
    log "node idle $(secs "$t0") s after start (munged $(cat "$DIR/munged.pid" 2>/dev/null || echo -), slurmctld $(cat "$DIR/slurmctld.pid.ci"), slurmd $(cat "$DIR/slurmd.pid.ci"))"
    sinfo
}

queue_empty() { [ -z "$(squeue -h 2>/dev/null)" ]; }

# -------------------------------------------------------------------- stop
# stop_pid NAME PID: SIGTERM, wait up to 30 s, then SIGKILL.
stop_pid() {
    local name=$1 pid=$2
    alive "$pid" || { log "$name (PID $pid) not running"; return 0; }
    kill -TERM "$pid"
    if ! wait_for 30 eval "! alive $pid"; then
        log "$name (PID $pid) ignored SIGTERM; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 5 eval "! alive $pid" || true
    fi
    log "$name (PID $pid) stopped"
}

do_stop() {
    local t0=$EPOCHREALTIME ctld="" slurmd="" munged=""
    [ -f "$DIR/slurmctld.pid.ci" ] && ctld=$(cat "$DIR/slurmctld.pid.ci")
    [ -f "$DIR/slurmd.pid.ci" ] && slurmd=$(cat "$DIR/slurmd.pid.ci")
    [ -f "$DIR/munged.pid" ] && munged=$(cat "$DIR/munged.pid")

    # Cancel everything first so that no slurmstepd/job processes outlive slurmd.
    if alive "$ctld"; then
        local jobs; jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
        if [ -n "${jobs// /}" ]; then
            log "cancelling jobs: $jobs"
            scancel $jobs || true
            wait_for 30 queue_empty || log "jobs still listed: $(squeue -h | wc -l)"
        fi
    fi
    # slurmd first, then the controller (which saves its state on SIGTERM), then munged.
    [ -n "$slurmd" ] && stop_pid slurmd "$slurmd"
    [ -n "$ctld" ]   && stop_pid slurmctld "$ctld"
    [ -n "$munged" ] && stop_pid munged "$munged"
    rm -f "$DIR/slurmctld.pid.ci" "$DIR/slurmd.pid.ci" "$DIR/munged.pid"
    log "stopped in $(secs "$t0") s"
}

do_status() {
    local p pid
    for p in munged slurmctld slurmd; do
        pid=$(cat "$DIR/$p.pid.ci" "$DIR/$p.pid" 2>/dev/null | head -n 1 || true)
        if alive "$pid"; then echo "$p: running (PID $pid)"; else echo "$p: not running"; fi
    done
    sinfo 2>/dev/null || true
}

# -------------------------------------------------------------------- main
cmd=${1:-status}
case "$cmd" in
    install)   do_install ;;
    configure) do_configure ;;
    start)     do_start ;;
    stop)      do_stop ;;
    status)    do_status ;;
    *) echo "usage: $0 [install|configure|start|stop|status]" >&2; exit 2 ;;
esac
