#!/usr/bin/env bash
# Starts the real servers the test suite needs on 127.0.0.1 and free ports, or stops them by pid.
#   scripts/test-services.sh start   -> writes $TEST_SERVICES_DIR/env (REDIS_URL, MONGODB_URL, TEST_REDIS_CLUSTER_NODES
#                                       (3 primaries, one replica each), TEST_REDIS_SENTINELS, TEST_REDIS_SENTINEL_NAME)
#   scripts/test-services.sh stop
# TEST_MONGO=ferretdb-pg (what `npm run bench` uses): FerretDB on PostgreSQL 15, whose point reads use indexes;
# the default is FerretDB on SQLite, which scans a collection for every read but starts in a blink.
# TEST_SERVICES_DIR (default .test-services/default) holds data, logs and pids, so several runs can live side by side.
# REDIS_URL / MONGODB_URL already set: those servers are used and not started here.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state="${TEST_SERVICES_DIR:-$root/.test-services/default}"
ferret_version=v1.24.2
ferret_bin="${FERRETDB_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/otp-gate/ferretdb-$ferret_version}"

die () { echo "test-services: $*" >&2; exit 1; }

# shared with the other test-service script: free_port, ensure_redis
. "$(dirname "${BASH_SOURCE[0]}")/service-lib.sh"

wait_for_port () { # port name
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$2 did not open 127.0.0.1:$1 (see $state/$2.log)"
}

# the browser tests (emails, /demo) drive the system Chromium through playwright-core; TEST_BROWSER=0 (what
# `npm run bench` sets) never installs it
ensure_chromium () {
  [ "${TEST_BROWSER:-1}" = 0 ] && return
  [ -x /usr/bin/chromium ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-services: installing chromium with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >"$state/apt-chromium.log" 2>&1 \
      || die "apt-get install chromium failed (see $state/apt-chromium.log)"
  else
    die "chromium is missing: install it (Debian/Ubuntu: apt-get install chromium)"
  fi
}

ensure_ferretdb () {
  [ -x "$ferret_bin" ] && return
  command -v ferretdb >/dev/null && { ferret_bin=$(command -v ferretdb); return; }
  command -v go >/dev/null || die "no MongoDB-wire server: install Go (to build FerretDB $ferret_version) or set MONGODB_URL to a running mongod"
  echo "test-services: building FerretDB $ferret_version with go (once)" >&2
  # go install refuses this module (its version file is generated at release time), so build a copy with that file written
  local src build
  src=$(go mod download -json "github.com/FerretDB/FerretDB@$ferret_version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))') \
    || die "could not download FerretDB $ferret_version from the Go module proxy"
  build=$(mktemp -d)
  cp -r "$src/." "$build" && chmod -R u+w "$build"
  echo "$ferret_version" >"$build/build/version/version.txt"
  mkdir -p "$(dirname "$ferret_bin")"
  (cd "$build" && go build -o "$ferret_bin" ./cmd/ferretdb) >"$state/ferretdb-build.log" 2>&1 \
    || die "building FerretDB failed (see $state/ferretdb-build.log)"
  rm -rf "$build"
}

pg_bin=/usr/lib/postgresql/15/bin

ensure_postgres () {
  [ -x "$pg_bin/postgres" ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-services: installing postgresql-15 with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >"$state/apt-postgres.log" 2>&1 \
      || die "apt-get install postgresql-15 failed (see $state/apt-postgres.log)"
  else
    die "PostgreSQL 15 is missing: install it (Debian: apt-get install postgresql-15) or use TEST_MONGO=ferretdb-sqlite"
  fi
}

# as the postgres user when root (PostgreSQL refuses to run as root), as oneself otherwise
as_postgres () {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# FerretDB 1.x filters with `_jsonb->'field' @> value`, which its own btree indexes cannot serve: every CREATE INDEX
# it runs gets a GIN (jsonb_path_ops) companion on the same expressions, so point reads are index scans
GIN_COMPANIONS_SQL=$(cat <<'SQL'
CREATE FUNCTION otp_gate_gin_companion() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
  made record;
  expression text;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    SELECT i.indexrelid, i.indnatts, c.relname AS index_name, am.amname, n.nspname, t.relname AS table_name INTO made
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
      JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE i.indexrelid = created.objid;
    CONTINUE WHEN made IS NULL OR made.amname <> 'btree';
    FOR k IN 1..made.indnatts LOOP
      expression := pg_get_indexdef(made.indexrelid, k, true);
      CONTINUE WHEN position('_jsonb' in expression) = 0;
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((%s) jsonb_path_ops)',
        left(made.index_name, 50) || '_gin' || k, made.nspname, made.table_name, expression);
    END LOOP;
  END LOOP;
END
$fn$;
CREATE EVENT TRIGGER otp_gate_gin_companion ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION otp_gate_gin_companion();
SQL
)

start_postgres () { # -> prints the PostgreSQL URL for FerretDB
  ensure_postgres
  local port data; port=$(free_port)
  # outside the state directory: PostgreSQL runs as its own user, who cannot enter a private mktemp directory
  data=$(mktemp -d /tmp/otp-gate-postgres.XXXXXX)
  echo "$data" >"$state/postgres.data"
  [ "$(id -u)" = 0 ] && chown postgres: "$data"
  as_postgres "$pg_bin/initdb" -D "$data" -U postgres -A trust --no-sync >"$state/postgres-init.log" 2>&1 \
    || die "initdb failed (see $state/postgres-init.log)"
  # a disposable server: durability off, enough connections for FerretDB's pool
  as_postgres "$pg_bin/postgres" -D "$data" -p "$port" -k "$data" -c listen_addresses=127.0.0.1 -c max_connections=200 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB \
    -c autovacuum="${TEST_POSTGRES_AUTOVACUUM:-on}" >"$state/postgres.log" 2>&1 &
  echo $! >"$state/postgres.pid"
  wait_for_port "$port" postgres
  for _ in $(seq 1 100); do "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
  "$pg_bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE ferretdb' >>"$state/postgres-init.log" 2>&1
  "$pg_bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d ferretdb -c "$GIN_COMPANIONS_SQL" >>"$state/postgres-init.log" 2>&1 \
    || die "could not install the GIN companion trigger (see $state/postgres-init.log)"
  # for the bench, which vacuums between its runs (bench/store-upkeep.ts)
  printf 'TEST_POSTGRES_URL=%s\nTEST_PSQL=%s\n' "postgres://postgres@127.0.0.1:$port/ferretdb" "$pg_bin/psql" >>"$state/env"
  # FerretDB's pool must be set: at its default of 50 it froze under 50 concurrent updates
  echo "postgres://postgres@127.0.0.1:$port/ferretdb?pool_max_conns=150"
}

start_redis () { # name port [extra args...]
  local name=$1 port=$2; shift 2
  mkdir -p "$state/$name"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$state/$name" --save '' --appendonly no \
    --daemonize no --logfile "$state/$name.log" "$@" &
  echo $! >"$state/$name.pid"
  wait_for_port "$port" "$name"
}

start () {
  mkdir -p "$state"
  [ -f "$state/env" ] && stop
  : >"$state/env"
  ensure_redis "$state"
  ensure_chromium
  if [ -z "${REDIS_URL:-}" ]; then
    local port; port=$(free_port)
    start_redis redis "$port"
    echo "REDIS_URL=redis://127.0.0.1:$port" >>"$state/env"
  fi
  # the replicated sets come from redis-sets.sh, which fault tests also use to start sets of their own; both start
  # side by side, as each spends most of its seconds waiting for its nodes to find each other
  local cluster_pid='' sentinel_pid=''
  if [ -z "${TEST_REDIS_CLUSTER_NODES:-}" ]; then
    bash "$root/scripts/redis-sets.sh" cluster start "$state/cluster" & cluster_pid=$!
  fi
  if [ -z "${TEST_REDIS_SENTINELS:-}" ]; then
    bash "$root/scripts/redis-sets.sh" sentinel start "$state/sentinel" & sentinel_pid=$!
  fi
  if [ -n "$cluster_pid" ]; then
    wait "$cluster_pid" || die "the Redis Cluster did not start (see $state/cluster)"
    echo "TEST_$(grep '^REDIS_CLUSTER_NODES=' "$state/cluster/env")" >>"$state/env"
  fi
  if [ -n "$sentinel_pid" ]; then
    wait "$sentinel_pid" || die "the Redis Sentinel set did not start (see $state/sentinel)"
    grep '^REDIS_SENTINEL' "$state/sentinel/env" | sed 's/^/TEST_/' >>"$state/env"
  fi
  # outage tests start a disposable MongoDB-wire server of their own, so the binary is needed either way
  ensure_ferretdb
  echo "FERRETDB_BIN=$ferret_bin" >>"$state/env"
  if [ -z "${MONGODB_URL:-}" ]; then
    local port; port=$(free_port)
    rm -rf "$state/ferretdb" && mkdir -p "$state/ferretdb"
    local backend
    case "${TEST_MONGO:-ferretdb-sqlite}" in
      ferretdb-sqlite) backend=(--handler=sqlite --sqlite-url="file:$state/ferretdb/") ;;
      ferretdb-pg)
        local pg_url; pg_url=$(start_postgres) || exit 1
        backend=(--handler=postgresql --postgresql-url="$pg_url") ;;
      *) die "TEST_MONGO is ferretdb-sqlite (the default) or ferretdb-pg, not ${TEST_MONGO}" ;;
    esac
    "$ferret_bin" "${backend[@]}" --state-dir="$state/ferretdb" \
      --listen-addr="127.0.0.1:$port" --debug-addr=- --telemetry=disable --log-level=warn >"$state/ferretdb.log" 2>&1 &
    echo $! >"$state/ferretdb.pid"
    wait_for_port "$port" ferretdb
    echo "MONGODB_URL=mongodb://127.0.0.1:$port/otp-gate-test" >>"$state/env"
  fi
}

stop () {
  shopt -s nullglob
  bash "$root/scripts/redis-sets.sh" stop "$state/sentinel"
  bash "$root/scripts/redis-sets.sh" stop "$state/cluster"
  # PostgreSQL runs under runuser, which does not pass a signal on: stop the server itself, then the rest by pid
  if [ -f "$state/postgres.data" ] && [ -d "$(cat "$state/postgres.data")" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$(cat "$state/postgres.data")" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  for pidfile in "$state"/*.pid; do
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  if [ -f "$state/postgres.data" ]; then rm -rf "$(cat "$state/postgres.data")" "$state/postgres.data"; fi
  rm -f "$state/env"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
