#!/usr/bin/env bash
# A single-node OpenStack Swift with its s3api middleware and tempauth, on 127.0.0.1 with free
# ports, under one temporary directory: a production S3 implementation for tests and benchmarks.
#
#   scripts/swift-s3api.sh install                  # apt-get install the Debian packages when missing
#   eval "$(scripts/swift-s3api.sh start)"          # start (installs first when missing); prints export lines
#   scripts/swift-s3api.sh status [DIR]             # what runs
#   scripts/swift-s3api.sh stop [DIR]               # stop every process, delete DIR
#
# start options: --dir DIR (use DIR, which must be empty or absent, instead of a new temp directory),
# --no-install (fail instead of installing missing packages). DIR defaults to $RKVS_SWIFT_S3_DIR,
# which start prints. start prints, on stdout and nothing else:
#   export RKVS_SWIFT_S3_ENDPOINT=http://127.0.0.1:<port>
#   export RKVS_SWIFT_S3_ACCESS_KEY_ID=test:tester
#   export RKVS_SWIFT_S3_SECRET_ACCESS_KEY=testing
#   export RKVS_SWIFT_S3_REGION=us-east-1
#   export RKVS_SWIFT_S3_DIR=<the directory>
# Progress and errors go to stderr. Exit codes: 0 ok, 1 failure, 2 usage error,
# 3 Swift is not installed (start --no-install) or cannot be installed (not root).
#
# Layout of DIR: etc/ (swift.conf, rings, the four server configs), srv/d1 (storage: a plain
# directory, mount_check = false), log/ (one log per process), pids. Every process carries
# RKVS_SWIFT_S3API_INSTANCE=DIR in its environment: stop kills exactly the processes that carry it.
set -euo pipefail

PACKAGES=(swift swift-proxy swift-object swift-container swift-account python3-swift memcached)
COMMANDS=(swift-proxy-server swift-account-server swift-container-server swift-object-server memcached)
ACCESS_KEY_ID='test:tester'
SECRET_ACCESS_KEY='testing'
REGION='us-east-1'
MARKER='.rkvs-swift-s3api'
START_TIMEOUT_S="${RKVS_SWIFT_S3_START_TIMEOUT_S:-180}"

log() { printf 'swift-s3api: %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }
usage() {
  cat >&2 <<'EOF'
usage: scripts/swift-s3api.sh install
       scripts/swift-s3api.sh start [--dir DIR] [--no-install]
       scripts/swift-s3api.sh status [DIR]
       scripts/swift-s3api.sh stop [DIR]
DIR defaults to $RKVS_SWIFT_S3_DIR (printed by start).
EOF
  exit 2
}

# --- installation -----------------------------------------------------------------------------

# The Python that runs Swift: the interpreter of its scripts (Debian: /usr/bin/python3), which
# may differ from the python3 first on PATH (pyenv, a virtualenv).
swift_python() {
  local proxy line
  proxy="$(command -v swift-proxy-server 2>/dev/null)" || { echo /usr/bin/python3; return; }
  read -r line <"$proxy" || true
  line="${line#\#!}"
  line="${line# }"
  [[ -x "${line%% *}" ]] && echo "${line%% *}" || echo /usr/bin/python3
}

missing_parts() {
  local c
  for c in "${COMMANDS[@]}"; do command -v "$c" >/dev/null 2>&1 || printf '%s ' "$c"; done
  if ! "$(swift_python)" -c 'import swift.common.middleware.s3api' >/dev/null 2>&1; then
    printf 'python3-swift '
  fi
}

install_hint() {
  echo "apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}  (or: sudo scripts/swift-s3api.sh install)"
}

cmd_install() {
  local missing
  missing="$(missing_parts)"
  if [[ -z "$missing" ]]; then
    log "installed: ${PACKAGES[*]}"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "missing: ${missing}; installing needs root: $(install_hint)" 3
  command -v apt-get >/dev/null 2>&1 || die "missing: ${missing}; apt-get not found: install OpenStack Swift ${PACKAGES[*]} with your package manager" 3
  log "installing ${PACKAGES[*]} (missing: ${missing})"
  # Packages must not start system-wide services (a proxy on :8080, memcached on :11211): the
  # Debian way to say so is a policy-rc.d answering 101, put in place only for this install.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, written by scripts/swift-s3api.sh install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  local rc=0
  {
    export DEBIAN_FRONTEND=noninteractive
    # force-unsafe-io: dpkg skips its per-file fsync (what Debian's container images do); the
    # install takes about half as long on a busy disk, and a crash mid-install is redone anyway.
    apt-get update -qq &&
      apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io "${PACKAGES[@]}" >/dev/null
  } || rc=$?
  [[ "$own_policy" == 1 ]] && rm -f "$policy"
  [[ "$rc" == 0 ]] || die "apt-get failed (exit $rc); try by hand: $(install_hint)"
  missing="$(missing_parts)"
  [[ -z "$missing" ]] || die "still missing after install: ${missing}" 3
  log "installed: ${PACKAGES[*]}"
}

# --- processes of one instance --------------------------------------------------------------

# Pids of every process whose environment carries this instance's marker (workers included).
instance_pids() {
  local dir="$1" f pid
  # One grep over every readable environ (entries are NUL-separated: -z, whole entry: -x).
  for f in $(grep -lzxF "RKVS_SWIFT_S3API_INSTANCE=$dir" /proc/[0-9]*/environ 2>/dev/null); do
    pid="${f#/proc/}"
    pid="${pid%/environ}"
    [[ "$pid" == "$$" ]] || echo "$pid"
  done
}

kill_instance() {
  local dir="$1" pids i
  pids="$(instance_pids "$dir")"
  [[ -z "$pids" ]] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    pids="$(instance_pids "$dir")"
    [[ -z "$pids" ]] && return 0
    sleep 0.1
  done
  log "processes still running after 10 s, killing: $(echo $pids)"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ -z "$(instance_pids "$dir")" ]] && return 0
    sleep 0.1
  done
  die "could not stop processes $(instance_pids "$dir" | tr '\n' ' ')of $dir"
}

resolve_dir() {
  local dir="${1:-${RKVS_SWIFT_S3_DIR:-}}"
  [[ -n "$dir" ]] || die "which instance? give its directory (printed by start as RKVS_SWIFT_S3_DIR), or set RKVS_SWIFT_S3_DIR" 2
  dir="$(cd "$dir" 2>/dev/null && pwd -P)" || die "no such directory: ${1:-$RKVS_SWIFT_S3_DIR}" 1
  [[ -f "$dir/$MARKER" ]] || die "$dir was not made by scripts/swift-s3api.sh start (no $MARKER file); refusing to touch it" 2
  echo "$dir"
}

cmd_stop() {
  local dir
  if [[ -n "${1:-${RKVS_SWIFT_S3_DIR:-}}" && ! -e "${1:-${RKVS_SWIFT_S3_DIR:-}}" ]]; then
    log "${1:-$RKVS_SWIFT_S3_DIR} does not exist: nothing to stop"
    return 0
  fi
  dir="$(resolve_dir "${1:-}")"
  kill_instance "$dir"
  rm -rf "$dir"
  log "stopped; removed $dir"
}

cmd_status() {
  local dir pids
  dir="$(resolve_dir "${1:-}")"
  pids="$(instance_pids "$dir")"
  if [[ -z "$pids" ]]; then
    echo "not running ($dir)"
    return 1
  fi
  echo "running ($dir): endpoint $(cat "$dir/endpoint" 2>/dev/null || echo '?'), pids $(echo $pids)"
}

# --- start ------------------------------------------------------------------------------------

free_ports() {
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

write_configs() {
  local dir="$1" proxy="$2" account="$3" container="$4" object="$5" memcache="$6" user
  user="$(id -un)"
  local etc="$dir/etc"
  local hash
  hash="$(basename "$dir")"
  cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = rkvs-$hash
swift_hash_path_suffix = rkvs-$hash

[storage-policy:0]
name = Policy-0
default = yes
EOF
  # Settings every server shares: loopback only, one worker, this user, no mount checks, and
  # timeouts raised for a loaded machine (Swift's defaults assume dedicated hardware).
  local common
  common="$(cat <<EOF
bind_ip = 127.0.0.1
bind_timeout = 5
workers = 1
user = $user
swift_dir = $etc
devices = $dir/srv
mount_check = false
log_level = INFO
conn_timeout = 5
node_timeout = 60
EOF
)"
  local server port
  for server in account container object; do
    case "$server" in
      account) port="$account" ;;
      container) port="$container" ;;
      object) port="$object" ;;
    esac
    {
      echo "[DEFAULT]"
      echo "bind_port = $port"
      echo "$common"
      echo
      echo "[pipeline:main]"
      echo "pipeline = healthcheck $server-server"
      echo
      echo "[app:$server-server]"
      echo "use = egg:swift#$server"
      if [[ "$server" == object ]]; then
        # The object server updates the container listing synchronously within this time, else
        # leaves it to an updater we do not run: keep listings complete on a loaded machine.
        echo "container_update_timeout = 60"
      fi
      echo
      echo "[filter:healthcheck]"
      echo "use = egg:swift#healthcheck"
    } >"$etc/$server-server.conf"
  done
  cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_port = $proxy
$common

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
client_timeout = 120

[filter:s3api]
use = egg:swift#s3api
location = $REGION
dns_compliant_bucket_names = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $SECRET_ACCESS_KEY .admin

# memcached holds tempauth's tokens and the account/container info cache. Its client's defaults
# (connect 0.3 s) fail on a loaded machine, and ten failures take memcached out for a minute,
# during which authentication fails: allow far longer.
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcache
memcache_max_connections = 16
connect_timeout = 5.0
pool_timeout = 10.0
io_timeout = 10.0
tries = 3

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
EOF
  # Rings: one device (d1) on this node, one replica, 2^6 partitions.
  "$PY" - "$etc" "$account" "$container" "$object" <<'EOF'
import sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], dict(zip(("account", "container", "object"), map(int, sys.argv[2:5])))
for name, port in ports.items():
    b = RingBuilder(6, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
               "device": "d1", "weight": 100, "meta": ""})
    b.rebalance()
    b.get_ring().save(f"{etc}/{name}.ring.gz")
    b.save(f"{etc}/{name}.builder")
EOF
}

launch() {
  local dir="$1" name="$2"
  shift 2
  # setsid: its own session, so no terminal signal reaches it; the marker lets stop find it.
  RKVS_SWIFT_S3API_INSTANCE="$dir" setsid "$@" </dev/null >>"$dir/log/$name.log" 2>&1 &
  echo "$! $name" >>"$dir/pids"
}

# Waits until every server answers its healthcheck and tempauth issues a token that the proxy
# then accepts (that path goes through memcached). Fails early when a process exits.
wait_ready() {
  local dir="$1" proxy="$2"
  shift 2
  "$PY" - "$dir" "$proxy" "$START_TIMEOUT_S" "$ACCESS_KEY_ID" "$SECRET_ACCESS_KEY" "$@" <<'EOF'
import os, sys, time, urllib.request, urllib.error
dir, proxy, timeout, user, key = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
backends = [int(p) for p in sys.argv[6:]]
pids = [l.split() for l in open(f"{dir}/pids") if l.strip()]
deadline = time.time() + timeout
def get(url, headers=None, method="GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers
last = "nothing answered yet"
while time.time() < deadline:
    for pid, name in pids:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            print(f"DEAD {name}", flush=True)
            sys.exit(1)
    try:
        for port in backends + [proxy]:
            get(f"http://127.0.0.1:{port}/healthcheck")
        _, h = get(f"http://127.0.0.1:{proxy}/auth/v1.0", {"X-Auth-User": user, "X-Auth-Key": key})
        status, _ = get(h["X-Storage-Url"], {"X-Auth-Token": h["X-Auth-Token"]}, method="HEAD")
        if 200 <= status < 300:
            print("READY", flush=True)
            sys.exit(0)
        last = f"account HEAD answered {status}"
    except urllib.error.HTTPError as e:
        last = f"{e.url}: HTTP {e.code}"
    except Exception as e:
        last = f"{type(e).__name__}: {e}"
    time.sleep(0.2)
print(f"TIMEOUT {last}", flush=True)
sys.exit(1)
EOF
}

log_tails() {
  local dir="$1" f
  for f in "$dir"/log/*.log; do
    [[ -s "$f" ]] || continue
    echo "----- $(basename "$f") (last lines)" >&2
    tail -n 15 "$f" >&2
  done
}

cmd_start() {
  local dir="" install=1
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
      --no-install) install=0; shift ;;
      *) usage ;;
    esac
  done
  if [[ -n "$(missing_parts)" ]]; then
    if [[ "$install" == 1 ]]; then
      cmd_install
    else
      die "OpenStack Swift is not installed (missing: $(missing_parts)); install it with: $(install_hint)" 3
    fi
  fi
  PY="$(swift_python)"
  if [[ -n "$dir" ]]; then
    mkdir -p "$dir"
    [[ -z "$(ls -A "$dir")" ]] || die "--dir $dir is not empty; give an empty or absent directory" 2
    dir="$(cd "$dir" && pwd -P)"
  else
    dir="$(mktemp -d "${TMPDIR:-/tmp}/rkvs-swift-XXXXXX")"
    dir="$(cd "$dir" && pwd -P)"
  fi
  touch "$dir/$MARKER"
  trap 'kill_instance "$dir" || true; rm -rf "$dir"' INT TERM

  local attempt ports proxy account container object memcache result user_opt=()
  [[ "$(id -u)" == 0 ]] && user_opt=(-u root)
  for attempt in 1 2 3; do
    mkdir -p "$dir/etc" "$dir/srv/d1" "$dir/log"
    : >"$dir/pids"
    read -r proxy account container object memcache <<<"$(free_ports 5)"
    write_configs "$dir" "$proxy" "$account" "$container" "$object" "$memcache"
    launch "$dir" memcached memcached -l 127.0.0.1 -p "$memcache" -U 0 -m 64 -c 1024 -t 2 "${user_opt[@]}"
    launch "$dir" account swift-account-server "$dir/etc/account-server.conf" -v
    launch "$dir" container swift-container-server "$dir/etc/container-server.conf" -v
    launch "$dir" object swift-object-server "$dir/etc/object-server.conf" -v
    launch "$dir" proxy swift-proxy-server "$dir/etc/proxy-server.conf" -v
    log "starting in $dir (proxy port $proxy, attempt $attempt)"
    result="$(wait_ready "$dir" "$proxy" "$account" "$container" "$object" || true)"
    if [[ "$result" == READY ]]; then
      trap - INT TERM
      echo "http://127.0.0.1:$proxy" >"$dir/endpoint"
      log "ready: http://127.0.0.1:$proxy"
      printf 'export RKVS_SWIFT_S3_ENDPOINT=%s\n' "http://127.0.0.1:$proxy"
      printf 'export RKVS_SWIFT_S3_ACCESS_KEY_ID=%s\n' "$ACCESS_KEY_ID"
      printf 'export RKVS_SWIFT_S3_SECRET_ACCESS_KEY=%s\n' "$SECRET_ACCESS_KEY"
      printf 'export RKVS_SWIFT_S3_REGION=%s\n' "$REGION"
      printf 'export RKVS_SWIFT_S3_DIR=%s\n' "$dir"
      return 0
    fi
    kill_instance "$dir"
    if grep -qs -e 'Address already in use' -e 'Could not bind' "$dir"/log/*.log && [[ "$attempt" -lt 3 ]]; then
      log "a port was taken meanwhile; retrying with other ports"
      rm -rf "$dir/etc" "$dir/srv" "$dir/log"
      continue
    fi
    log "Swift did not become ready: ${result:-no answer}"
    log_tails "$dir"
    rm -rf "$dir"
    exit 1
  done
}

case "${1:-}" in
  install) [[ $# -eq 1 ]] || usage; cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) [[ $# -le 2 ]] || usage; cmd_stop "${2:-}" ;;
  status) [[ $# -le 2 ]] || usage; cmd_status "${2:-}" ;;
  *) usage ;;
esac
