#!/usr/bin/env bash
# Starts a replicated Redis set on 127.0.0.1 and free ports into DIR, or stops one by pid.
#   scripts/redis-sets.sh sentinel start DIR  -> a primary, SENTINEL_REPLICAS (1) replicas, three sentinels watching `otp-gate`
#   scripts/redis-sets.sh cluster start DIR   -> a Cluster of 3 primaries with CLUSTER_REPLICAS (1) replicas each
#   scripts/redis-sets.sh stop DIR
#   scripts/redis-sets.sh restart DIR PORT  -> starts a server of the set again as it was started (after a SIGKILL)
# DIR/env holds what a client needs (REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES) and the ports a fault
# test aims at; every process has DIR/<name>.pid (the Redis servers' are redis-<port>.pid), so a test can SIGKILL one.
# Timings are short so that failovers finish within a test: SENTINEL_DOWN_AFTER_MS (2000), SENTINEL_FAILOVER_TIMEOUT_MS
# (3000), CLUSTER_NODE_TIMEOUT_MS (2000). Not below 2000 for down-after: a sentinel reconnects to an address at most
# once a second, and after a switch it may wait that second before it pings the new primary, which it counts as
# unanswered from the switch on; at 1000 it sometimes called a just-promoted primary down and failed over again
# (3 of 15 runs of `FAULTS_ONLY=b npm run faults`).
set -euo pipefail

die () { echo "redis-sets: $*" >&2; exit 1; }

# shared with the other test-service script: free_port, ensure_redis
. "$(dirname "${BASH_SOURCE[0]}")/service-lib.sh"

wait_until () { # description command... (up to about 20 s)
  local what=$1; shift
  for _ in $(seq 1 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not happen in time (logs in $dir)"
}

# Debian's redis-sentinel package; `redis-server --sentinel` is the same program, used when the package cannot be had
sentinel_cmd=()
ensure_sentinel () {
  if ! command -v redis-sentinel >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "redis-sets: installing redis-sentinel with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-sentinel) >"$dir/apt-sentinel.log" 2>&1 || true
  fi
  if command -v redis-sentinel >/dev/null; then sentinel_cmd=(redis-sentinel); else sentinel_cmd=(redis-server --sentinel); fi
}

ping () { redis-cli -p "$1" ping | grep -q PONG; }

start_redis () { # port [extra args...]; the pid file is the one a fault test kills by
  local port=$1; shift
  mkdir -p "$dir/redis-$port"
  printf '%s\n' "$@" >"$dir/redis-$port.args"
  # a disposable server: no waiting for replicas on SIGTERM; stdio away from the caller's pipes, so a test that runs this script sees it end.
  # A replica that (re)joins is sent the data at once, not after the default 5 s wait for others to join the same
  # transfer: with REDIS_WAIT_REPLICAS set, writes wait for it (docs/operations.md)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/redis-$port" --save '' --appendonly no --shutdown-on-sigterm 'nosave now' \
    --repl-diskless-sync-delay 0 \
    --daemonize no --logfile "$dir/redis-$port.log" "$@" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/redis-$port.pid"
  wait_until "redis on port $port answering" ping "$port"
}

replica_linked () { redis-cli -p "$1" info replication | grep -q 'master_link_status:up'; }

sentinel_ready () { # sentinel port: it sees the replica and both other sentinels
  local info; info=$(redis-cli -p "$1" sentinel master otp-gate | paste - -)
  echo "$info" | grep -qP "^num-slaves\t${SENTINEL_REPLICAS:-1}$" && echo "$info" | grep -qP '^num-other-sentinels\t2$'
}

start_sentinel_set () {
  local primary replica replicas=(); primary=$(free_port)
  start_redis "$primary"
  # SENTINEL_REPLICAS (default 1): with REDIS_WAIT_REPLICAS=1, two keep one replica beside the promoted primary
  for _ in $(seq 1 "${SENTINEL_REPLICAS:-1}"); do
    replica=$(free_port)
    start_redis "$replica" --replicaof 127.0.0.1 "$primary"
    replicas+=("$replica")
  done
  for replica in "${replicas[@]}"; do
    wait_until "replica $replica linked to $primary" replica_linked "$replica"
  done
  replica=${replicas[0]}
  ensure_sentinel
  local sentinels=() port
  for i in 1 2 3; do
    port=$(free_port)
    # a sentinel rewrites its own config file (the set's current state), so each has one in DIR
    cat >"$dir/sentinel-$i.conf" <<CONF
bind 127.0.0.1
port $port
daemonize no
dir $dir
logfile $dir/sentinel-$i.log
sentinel monitor otp-gate 127.0.0.1 $primary 2
sentinel down-after-milliseconds otp-gate ${SENTINEL_DOWN_AFTER_MS:-2000}
sentinel failover-timeout otp-gate ${SENTINEL_FAILOVER_TIMEOUT_MS:-3000}
sentinel parallel-syncs otp-gate 1
CONF
    "${sentinel_cmd[@]}" "$dir/sentinel-$i.conf" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/sentinel-$i.pid"
    sentinels+=("127.0.0.1:$port")
  done
  for s in "${sentinels[@]}"; do
    wait_until "sentinel ${s##*:} seeing the replica and its peers" sentinel_ready "${s##*:}"
  done
  {
    echo "REDIS_SENTINELS=$(IFS=,; echo "${sentinels[*]}")"
    echo "REDIS_SENTINEL_NAME=otp-gate"
    echo "SENTINEL_PRIMARY_PORT=$primary"
    echo "SENTINEL_REPLICA_PORT=$replica"
  } >"$dir/env"
}

cluster_ok () { # every node says ok and every replica is linked, so WAIT 1 can be answered from the first request
  local port
  for port in "$@"; do
    redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || return 1
    if redis-cli -p "$port" info replication | grep -q 'role:slave'; then replica_linked "$port" || return 1; fi
  done
}

slots_name_replicas () { # replicas per primary, port: CLUSTER SLOTS lists them all, as a client's slot map will
  [ "$(redis-cli -p "$2" cluster slots | grep -c '^127\.0\.0\.1$')" -eq $((3 * (1 + $1))) ]
}

start_cluster_set () {
  local nodes=() ports=() port
  # CLUSTER_REPLICAS (default 1) per primary: with REDIS_WAIT_REPLICAS=1, two keep one beside a promoted replica
  local replicas=${CLUSTER_REPLICAS:-1}
  for _ in $(seq 1 $((3 * (1 + replicas)))); do
    port=$(free_port)
    # the bus port too, or it would be port + 10000: in the ephemeral range
    start_redis "$port" --cluster-enabled yes --cluster-port "$(free_port)" --cluster-config-file "$dir/redis-$port/nodes.conf" \
      --cluster-node-timeout "${CLUSTER_NODE_TIMEOUT_MS:-2000}"
    nodes+=("127.0.0.1:$port"); ports+=("$port")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas "$replicas" --cluster-yes >"$dir/cluster-create.log" 2>&1 \
    || die "redis-cli --cluster create failed (see $dir/cluster-create.log)"
  wait_until "cluster_state:ok on all ${#ports[@]} nodes" cluster_ok "${ports[@]}"
  # CLUSTER SLOTS leaves out a replica that has reported no replication offset yet: on a fresh cluster, until the
  # first write. A write on each primary (an empty set: nothing to flush), so clients know the replicas from their
  # first slot map, as on a cluster in service (a promoted replica then has a connection open already)
  for port in "${ports[@]}"; do
    if redis-cli -p "$port" info replication | grep -q 'role:master'; then redis-cli -p "$port" flushall >/dev/null; fi
  done
  for port in "${ports[@]}"; do
    wait_until "CLUSTER SLOTS on $port naming every replica" slots_name_replicas "$replicas" "$port"
  done
  echo "REDIS_CLUSTER_NODES=$(IFS=,; echo "${nodes[*]}")" >"$dir/env"
}

# a server this script started belongs to init once the script ends, and init may reap it late: a zombie is gone
alive () { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $st != Z* ]]; }

stop_set () {
  shopt -s nullglob
  # sentinels first, so stopping the servers starts no failover
  for pidfile in "$dir"/sentinel-*.pid "$dir"/redis-*.pid; do
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  rm -f "$dir/env"
}

usage="usage: $0 sentinel start DIR | cluster start DIR | stop DIR | restart DIR PORT"
case "${1:-}" in
  sentinel|cluster)
    [ "${2:-}" = start ] && [ -n "${3:-}" ] || die "$usage"
    mkdir -p "$3"; dir=$(cd "$3" && pwd)
    ensure_redis "$dir"
    # a set that did not come up whole is stopped, so no half set outlives its start
    trap 'rc=$?; [ "$rc" = 0 ] || stop_set' EXIT
    if [ "$1" = sentinel ]; then start_sentinel_set; else start_cluster_set; fi ;;
  stop)
    [ -n "${2:-}" ] || die "$usage"
    [ -d "$2" ] || exit 0
    dir=$(cd "$2" && pwd)
    stop_set ;;
  restart)
    [ -n "${2:-}" ] && [ -f "$2/redis-${3:-}.args" ] || die "usage: $0 restart DIR PORT (a server this script started in DIR)"
    dir=$(cd "$2" && pwd)
    mapfile -t args <"$dir/redis-$3.args"
    start_redis "$3" "${args[@]}" ;;
  *) die "$usage" ;;
esac
