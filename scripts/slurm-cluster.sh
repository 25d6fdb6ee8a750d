#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1 for the tests, without systemd, in its own run folder.
#
#   slurm-cluster.sh install        install Slurm 22.05 and munge from Debian when missing
#   slurm-cluster.sh start RUN_DIR  start munged, slurmctld and slurmd; wait until the node is idle;
#                                   prints the slurm.conf path (export it as SLURM_CONF)
#   slurm-cluster.sh stop RUN_DIR   stop what start started, by the pids in RUN_DIR
#
# RUN_DIR must be reachable by the munge user (e.g. under /tmp, not under /root): munged runs as
# munge and its socket folder must be owned by munge with mode 711. Every daemon writes a pid file
# in RUN_DIR; stop (and a failed start) signals exactly those pids. Run as root (Slurm's daemons
# run as root here, and so do the jobs). Progress goes to stderr.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)

log() { echo "slurm-cluster: $*" >&2; }

installed() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null &&
        command -v munged >/dev/null && [ -f /etc/munge/munge.key ]
}

install() {
    if installed; then
        log "Slurm and munge: already installed ($(dpkg-query -W -f '${Version}' slurmctld))"
        return 0
    fi
    bash "$(dirname "$0")/apt-install.sh" "${PACKAGES[@]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    # Debian's munge package makes the key in its postinst; make one if it did not.
    if [ ! -f /etc/munge/munge.key ]; then
        $sudo mungekey --create --keyfile /etc/munge/munge.key
        $sudo chown munge:munge /etc/munge/munge.key
        $sudo chmod 400 /etc/munge/munge.key
    fi
    installed || { log "Slurm/munge still missing after installing ${PACKAGES[*]}"; return 1; }
    log "installed Slurm $(dpkg-query -W -f '${Version}' slurmctld)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pid_of() { [ -s "$1" ] && cat "$1" || true; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop() {
    local run="$1" name pid i jobs
    # Jobs still queued or running are cancelled first, so that no job step outlives slurmd.
    if [ -f "$run/slurm.conf" ] && alive "$(pid_of "$run/pids/slurmctld.pid")"; then
        jobs=$(SLURM_CONF="$run/slurm.conf" squeue -h -o %i 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            log "cancelling jobs: $(echo $jobs)"
            # shellcheck disable=SC2086
            SLURM_CONF="$run/slurm.conf" scancel $jobs 2>/dev/null || true
            for i in $(seq 1 50); do
                [ -z "$(SLURM_CONF="$run/slurm.conf" squeue -h -o %i 2>/dev/null)" ] && break
                sleep 0.2
            done
        fi
    fi
    # Reverse start order: slurmd, slurmctld, munged.
    for name in slurmd slurmctld munged; do
        pid=$(pid_of "$run/pids/$name.pid")
        alive "$pid" || continue
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            alive "$pid" || break
            sleep 0.2
        done
        if alive "$pid"; then
            log "$name (pid $pid) did not stop in 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$run"/pids/*.pid
}

start() {
    local run="$1"
    mkdir -p "$run"
    run=$(cd "$run" && pwd)
    if alive "$(pid_of "$run/pids/slurmctld.pid")"; then
        log "a cluster started from $run is still running; stop it first"
        return 1
    fi
    installed || { log "Slurm/munge missing: run '$0 install' first"; return 1; }
    # Whatever happens from here on, a failed start stops what it started.
    trap 'log "start failed; stopping what was started"; stop "$run"' ERR
    mkdir -p "$run/pids" "$run/state" "$run/spool" "$run/log" "$run/munge"
    chmod 755 "$run" "$run/pids"
    # munged checks its folders: owned by munge, socket folder mode 711, nothing group/world-writable.
    chown munge:munge "$run/munge" "$run/pids"
    chmod 711 "$run/munge"
    local socket="$run/munge/munge.socket"
    runuser -u munge -- munged --socket="$socket" --pid-file="$run/pids/munged.pid" \
        --log-file="$run/munge/munged.log" --seed-file="$run/munge/munged.seed"
    local i
    for i in $(seq 1 50); do
        [ -S "$socket" ] && break
        sleep 0.1
    done
    [ -S "$socket" ] || { log "munged did not create $socket"; false; }
    munge -n --socket="$socket" | unmunge --socket="$socket" >/dev/null

    local cpus memory ctld_port slurmd_port
    cpus=$(nproc)
    # Memory Slurm may hand out: what the machine has, less 1 GB for everything else.
    memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    cat >"$run/slurm.conf" <<EOF
# One-node test cluster written by scripts/slurm-cluster.sh; everything lives in $run.
ClusterName=deseq2n
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
CommunicationParameters=NoInAddrAny
StateSaveLocation=$run/state
SlurmdSpoolDir=$run/spool
SlurmctldPidFile=$run/pids/slurmctld.pid
SlurmdPidFile=$run/pids/slurmd.pid
SlurmctldLogFile=$run/log/slurmctld.log
SlurmdLogFile=$run/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=2000
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$run/slurm.conf"
    slurmctld
    slurmd -N localhost
    local state=""
    for i in $(seq 1 100); do
        state=$(sinfo -h -N -o '%T' 2>/dev/null || true)
        [ "$state" = "idle" ] && break
        sleep 0.2
    done
    [ "$state" = "idle" ] || {
        log "the node is '$state', not idle, after 20 s; log tails:"
        tail -n 20 "$run/log/slurmctld.log" "$run/log/slurmd.log" >&2 || true
        false
    }
    trap - ERR
    log "cluster up: node localhost ($cpus CPUs, $memory MB), munged $(pid_of "$run/pids/munged.pid"), slurmctld $(pid_of "$run/pids/slurmctld.pid"), slurmd $(pid_of "$run/pids/slurmd.pid")"
    echo "$SLURM_CONF"
}

case "${1:-}" in
install) install ;;
start) start "${2:?usage: $0 start RUN_DIR}" ;;
stop) stop "${2:?usage: $0 stop RUN_DIR}" ;;
*)
    echo "usage: $0 install | start RUN_DIR | stop RUN_DIR" >&2
    exit 2
    ;;
esac
