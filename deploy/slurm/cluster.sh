#!/usr/bin/env bash
# A single-host Slurm cluster for trying sharded rkvs runs (and for the test that runs a job array
# through Slurm): munged, slurmctld and slurmd on this machine as root, one node at 127.0.0.1 with
# this machine's CPUs, every file (munge key and socket, slurm.conf, state, spool, logs) under one
# temporary directory, the daemons on free ports. Needs Debian's slurm-wlm and munge (22.05):
#   apt-get install -y --no-install-recommends slurm-wlm munge
#
#   eval "$(deploy/slurm/cluster.sh start)"   # prints `export SLURM_CONF=...` for sbatch/squeue/scontrol
#   deploy/slurm/cluster.sh status
#   deploy/slurm/cluster.sh stop              # cancels the jobs, stops every daemon, removes the directory
#
# The cluster is recorded in a state file (default .rkvs/slurm-cluster, or RKVS_SLURM_STATE) holding
# its directory; `stop` reads it (or the directory given as second argument) and ends with no process
# of the cluster left (it checks) and no directory. Exit codes: 0 done, 1 failed, 2 usage,
# 3 Slurm or munge not installed, 4 not root.
#
# Single host only: ProctrackType=proctrack/linuxproc and TaskPlugin=task/none (no cgroups needed),
# SelectType=select/cons_tres with CR_Core, and a partition with OverSubscribe=FORCE:4 so a job array
# with more tasks than this machine has cores still runs all its tasks at once (the shards of a run
# meet at a barrier: they must all run together).
set -euo pipefail

STATE_FILE=${RKVS_SLURM_STATE:-$PWD/.rkvs/slurm-cluster}
NODE=rkvs-node
TAG=RKVS_SLURM_CLUSTER

say() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() { say "$2"; exit "$1"; }

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_tools() {
  local missing=()
  for t in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die 3 "missing ${missing[*]}: install Slurm and munge with: apt-get install -y --no-install-recommends slurm-wlm munge"
  fi
  [ "$(id -u)" = 0 ] || die 4 "run as root: slurmd starts jobs as their users and munged serves every user of this machine"
}

# Two free TCP ports on 127.0.0.1 (bound and released by node, which the project needs anyway).
free_ports() {
  node -e '
    const net = require("node:net");
    const one = () => new Promise((r) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
    (async () => { const a = await one(); let b = await one(); while (b === a) b = await one(); console.log(a, b); })();'
}

# pids of the processes of cluster directory $1: the daemons (tagged at start), the job steps they
# started (they inherit the tag), and job processes (SLURM_JOB_ID set, with this cluster's SLURM_CONF).
cluster_pids() {
  local dir=$1
  {
    grep -lszx -- "$TAG=$dir" /proc/[0-9]*/environ
    grep -lszx -- "SLURM_CONF=$dir/slurm.conf" /proc/[0-9]*/environ | xargs -r grep -lsz -- '^SLURM_JOB_ID='
  } 2>/dev/null | sed -n 's#^/proc/\([0-9]*\)/environ$#\1#p' | sort -un | grep -vx -- "$$" || true
}

wait_gone() { # pid... : waits up to 15 s for them to exit
  local i p alive
  for i in $(seq 1 150); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

start() {
  need_tools
  if [ -f "$STATE_FILE" ] && [ -d "$(cat "$STATE_FILE")" ]; then
    die 1 "a cluster is already recorded in $STATE_FILE ($(cat "$STATE_FILE")); stop it first: $0 stop"
  fi
  local dir host cpus ports ctl_port node_port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/rkvs-slurm.XXXXXX")
  chmod 700 "$dir"
  mkdir -p "$(dirname "$STATE_FILE")"
  echo "$dir" >"$STATE_FILE"
  # from here on, a failure stops what was started
  trap 'say "start failed; logs: $dir/log"; tail -n 20 "$dir"/log/*.log >&2 2>/dev/null || true; stop_dir "$dir" >/dev/null 2>&1 || true; rm -f "$STATE_FILE"' ERR
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  host=$(hostname -s)
  cpus=$(nproc)
  read -r ctl_port node_port < <(free_ports)

  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null
  chmod 600 "$dir/munge/munge.key"
  env "$TAG=$dir" munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" 2>>"$dir/log/munged.log"

  cat >"$dir/slurm.conf" <<EOF
# single-host cluster written by deploy/slurm/cluster.sh
ClusterName=rkvs
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=5
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus State=UNKNOWN
PartitionName=rkvs Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
  export SLURM_CONF="$dir/slurm.conf"
  env "$TAG=$dir" slurmctld -f "$SLURM_CONF"
  local i
  for i in $(seq 1 100); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.2; done
  scontrol ping 2>/dev/null | grep -q 'is UP' || { say "slurmctld did not come up"; false; }
  env "$TAG=$dir" slurmd -f "$SLURM_CONF" -N "$NODE"
  local node_state=''
  for i in $(seq 1 150); do
    node_state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case "$node_state" in idle*|mixed*|allocated*) break ;; esac
    sleep 0.2
  done
  case "$node_state" in idle*|mixed*|allocated*) ;; *) say "the node did not become idle (state: ${node_state:-none})"; false ;; esac
  trap - ERR
  echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env"
  say "cluster up: $cpus CPU(s) on node $NODE, slurmctld port $ctl_port, slurmd port $node_port, files in $dir (state: $STATE_FILE)"
  echo "export SLURM_CONF=$dir/slurm.conf"
}

# Stops the cluster of directory $1 and removes it; fails when a process of it is left.
stop_dir() {
  local dir=$1 p f
  case "$dir" in "${TMPDIR:-/tmp}"/rkvs-slurm.*) ;; *) die 2 "$dir is not a cluster directory made by $0 start" ;; esac
  [ -d "$dir" ] || { say "no cluster directory $dir: nothing to stop"; return 0; }
  export SLURM_CONF="$dir/slurm.conf"
  local slurm_pids=() munge_pid=''
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [ -f "$f" ] && slurm_pids+=("$(cat "$f")")
  done
  [ -f "$dir/munge/munged.pid" ] && munge_pid=$(cat "$dir/munge/munged.pid")
  if [ -f "$SLURM_CONF" ] && scontrol ping 2>/dev/null | grep -q 'is UP'; then
    # cancel every job, then let the daemons shut down
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for _ in $(seq 1 100); do [ -z "$(squeue -h -o %A 2>/dev/null || true)" ] && break; sleep 0.2; done
    fi
    scontrol shutdown >/dev/null 2>&1 || true
    wait_gone "${slurm_pids[@]}" || true
  fi
  # what did not stop on shutdown, then munged (which Slurm needed until now), on SIGTERM
  for p in "${slurm_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait_gone "${slurm_pids[@]}" || true
  if [ -n "$munge_pid" ]; then
    kill -TERM "$munge_pid" 2>/dev/null || true
    wait_gone "$munge_pid" || true
  fi
  mapfile -t left < <(cluster_pids "$dir")
  if [ ${#left[@]} -gt 0 ]; then
    say "ending ${#left[@]} process(es) of the cluster left behind: ${left[*]}"
    kill -TERM "${left[@]}" 2>/dev/null || true
    wait_gone "${left[@]}" || kill -KILL "${left[@]}" 2>/dev/null || true
    wait_gone "${left[@]}" || true
  fi
  mapfile -t left < <(cluster_pids "$dir")
  [ ${#left[@]} -eq 0 ] || die 1 "process(es) ${left[*]} of the cluster in $dir are still running"
  rm -rf "$dir"
  say "stopped: no process of the cluster left, $dir removed"
}

stop() {
  local dir=${1:-}
  if [ -z "$dir" ]; then
    [ -f "$STATE_FILE" ] || { say "no cluster recorded in $STATE_FILE: nothing to stop"; return 0; }
    dir=$(cat "$STATE_FILE")
  fi
  stop_dir "$dir"
  if [ -f "$STATE_FILE" ] && [ "$(cat "$STATE_FILE")" = "$dir" ]; then rm -f "$STATE_FILE"; fi
}

status() {
  [ -f "$STATE_FILE" ] || { echo "no cluster recorded in $STATE_FILE (start one with: $0 start)"; return 1; }
  local dir
  dir=$(cat "$STATE_FILE")
  export SLURM_CONF="$dir/slurm.conf"
  echo "cluster directory: $dir"
  echo "export SLURM_CONF=$SLURM_CONF"
  scontrol ping || true
  sinfo || true
  squeue || true
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  status) status ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
