#!/usr/bin/env bash
# The scaling-out demonstration of the README, end to end on this machine, reproducible:
#  1. starts a single-host Slurm cluster (deploy/slurm/cluster.sh; root, slurm-wlm and munge);
#  2. starts the S3, Azure and GCS emulators ONCE, shared by every shard (shared-emulators.yaml);
#  3. runs the same suite as Slurm job arrays of 1, 2 and 3 shards, one after the other, each
#     followed by its dependent merge job (rkvs merge, then rkvs check on the merged history);
#  4. prints each cell's throughput at 1, 2 and 3 shards, measured in this one run, with the
#     ratios to 1 shard, and writes it to <out>/<run>/scaling-out.md;
#  5. stops the emulators and the cluster (also on failure or Ctrl-C).
#
#   deploy/slurm/demo.sh                              # suite scaling, 16 clients, 8 s per cell
#   RKVS_SUITE=quick RKVS_BENCH_ARGS="--clients 6" deploy/slurm/demo.sh
#
# Environment: RKVS_RUN_ID (default slurm-demo-<UTC date-time>), RKVS_OUT (default reports),
# RKVS_SUITE (default scaling), RKVS_BENCH_ARGS (more rkvs bench options), RKVS_SHARD_COUNTS
# (default "1 2 3"). Every run's directories are under <out>/<run>/.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
BASE=${RKVS_RUN_ID:-slurm-demo-$(date -u +%Y%m%d-%H%M%S)}
OUT=$(mkdir -p "${RKVS_OUT:-reports}/$BASE" && cd "${RKVS_OUT:-reports}/$BASE" && pwd)
SUITE=${RKVS_SUITE:-scaling}
COUNTS=${RKVS_SHARD_COUNTS:-1 2 3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rkvs-slurm-demo.XXXXXX")
export RKVS_SLURM_STATE=$TMP/cluster-state
export CI=${CI:-1} # plain progress lines in the job logs

cleanup() {
  local code=$?
  node bin/rkvs.js emulators stop --state-dir "$TMP/emulators" >/dev/null 2>&1 || true
  "$HERE/cluster.sh" stop || code=1
  rm -rf "$TMP"
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== 1. a single-host Slurm cluster"
cluster_env=$("$HERE/cluster.sh" start)
eval "$cluster_env"

echo "== 2. the S3, Azure and GCS emulators, started once for every shard"
node bin/rkvs.js emulators start --state-dir "$TMP/emulators" >"$TMP/emulators.txt"
grep -v '^export' "$TMP/emulators.txt" | sed '/^$/d'
eval "$(grep '^export ' "$TMP/emulators.txt")"

export RKVS_CONFIG=$HERE/shared-emulators.yaml RKVS_SUITE=$SUITE RKVS_OUT=$OUT
RKVS_BENCH_ARGS="--workers 1 --history --no-checks ${RKVS_BENCH_ARGS:-}"
export RKVS_BENCH_ARGS=${RKVS_BENCH_ARGS% }
table=()
for n in $COUNTS; do
  echo "== 3. suite $SUITE as a job array of $n shard(s), then its merge job"
  export RKVS_RUN_ID=$BASE-${n}shard
  "$HERE/submit.sh" --shards "$n" --wait
  if [ "$n" = 1 ]; then label="1 shard"; else label="$n shards"; fi
  table+=("$label=$OUT/$RKVS_RUN_ID")
done

echo "== 4. throughput at each shard count, measured in this run"
{
  echo "# Throughput of $(echo "$COUNTS" | sed 's/ /, /g') shard(s)"
  echo
  echo "Suite \`$SUITE\` (\`rkvs bench $RKVS_BENCH_ARGS\`) as Slurm job arrays on a single-host cluster of"
  echo "$(nproc) CPU(s) ($(uname -srm)), against the S3, Azure and GCS emulators started once on the same"
  echo "machine; every run merged by its dependent job and its merged history checked (regular)."
  echo "The shards split each cell's clients (the cell's key, clients included, is the same at every"
  echo "shard count): a ratio above 1 is load one process could not generate."
  echo "Run $BASE, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - started)) s in all; load average"
  echo "(1, 5, 15 min) $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo
  node "$HERE/scaling-table.mjs" "${table[@]}"
} >"$OUT/scaling-out.md"
cat "$OUT/scaling-out.md"
echo
echo "reports: $OUT"
