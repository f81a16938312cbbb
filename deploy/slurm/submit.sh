#!/usr/bin/env bash
# Submits a sharded rkvs benchmark to Slurm: a job array of N shards (bench-array.sbatch), then a
# merge job that starts once every shard succeeded (--dependency=afterok) and runs rkvs merge (and
# rkvs check on the merged history when the shards ran with --history).
#
#   deploy/slurm/submit.sh [--shards N] [--wait]
#
# --shards N   tasks of the array, one shard each (default 3)
# --wait       wait for the merge job to end and exit with its exit code (sbatch --wait)
# Environment: RKVS_RUN_ID (default slurm-<UTC date-time>), RKVS_CONFIG, RKVS_SUITE, RKVS_OUT,
# RKVS_BENCH_ARGS, RKVS_MERGE_ARGS, RKVS_DIR (default: this repository); see bench-array.sbatch.
# Slurm's own variables apply (SLURM_CONF for the cluster of deploy/slurm/cluster.sh). Prints the
# job ids and where the merged report will be.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
shards=3
wait=
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=${2:?--shards needs a number}; shift 2 ;;
    --shards=*) shards=${1#--shards=}; shift ;;
    --wait) wait=--wait; shift ;;
    *) echo "submit.sh: unknown option $1 (use --shards N, --wait)" >&2; exit 2 ;;
  esac
done
case "$shards" in '' | *[!0-9]* | 0) echo "submit.sh: --shards: expected an integer >= 1, got \"$shards\"" >&2; exit 2 ;; esac
command -v sbatch >/dev/null 2>&1 || { echo "submit.sh: sbatch not found: install Slurm (apt-get install slurm-wlm munge) or start deploy/slurm/cluster.sh" >&2; exit 3; }
export RKVS_DIR=${RKVS_DIR:-$(cd "$HERE/../.." && pwd)}
export RKVS_RUN_ID=${RKVS_RUN_ID:-slurm-$(date -u +%Y%m%d-%H%M%S)}
out=${RKVS_OUT:-$RKVS_DIR/reports}
mkdir -p "$out"
export RKVS_OUT=$(cd "$out" && pwd)
export RKVS_SHARDS=$shards
logs=$RKVS_OUT/$RKVS_RUN_ID-slurm
mkdir -p "$logs"
array=$(sbatch --parsable --array="0-$((shards - 1))" --chdir="$RKVS_DIR" --output="$logs/shard-%a.out" --export=ALL "$HERE/bench-array.sbatch")
array=${array%%;*}
echo "submitted job array $array: $shards shard(s) of run $RKVS_RUN_ID (logs in $logs)"
if [ -n "$wait" ]; then
  echo "merge job: after every shard succeeded; waiting for it ..."
  code=0
  sbatch --parsable --wait --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$RKVS_DIR" --output="$logs/merge.out" --export=ALL "$HERE/merge.sbatch" || code=$?
  cat "$logs/merge.out" 2>/dev/null || true
  exit $code
fi
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$RKVS_DIR" --output="$logs/merge.out" --export=ALL "$HERE/merge.sbatch")
echo "submitted merge job ${merge%%;*} (after every shard succeeded): report $RKVS_OUT/$RKVS_RUN_ID"
