#!/usr/bin/env bash
# Supabase Auth on PostgreSQL 15, for a side-by-side run with `npm run bench` (docs/benchmarks.md#side-by-side-with-supabase-auth).
# SUPABASE_AUTH_SRC: a checkout of github.com/supabase/auth (v2.196.0 for the figures in the docs), built with Go
# outside this project. PostgreSQL runs as the bench's does (durability off); SMTP and the send-SMS hook go to
# loopback sinks (sinks.ts) that answer at once. State, ports and pids in .test-services/supabase/; down.sh stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
state=$root/.test-services/supabase
src=${SUPABASE_AUTH_SRC:?set SUPABASE_AUTH_SRC to a checkout of github.com/supabase/auth}
mkdir -p "$state"
export PATH=$root/node_modules/.bin:$PATH
[ -x "$state/gotrue" ] || (cd "$src" && go build -o "$state/gotrue" .)
pg_bin=/usr/lib/postgresql/15/bin
free_port () { node "$root/scripts/free-port.ts"; }
pg_port=$(free_port); smtp_port=$(free_port); hook_port=$(free_port); api_port=$(free_port)
as_postgres () { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
data=$(mktemp -d /tmp/supabase-postgres.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$data"
as_postgres "$pg_bin/initdb" -D "$data" -U postgres -A trust --no-sync >"$state/initdb.log" 2>&1
as_postgres "$pg_bin/postgres" -D "$data" -p "$pg_port" -k "$data" -c listen_addresses=127.0.0.1 -c max_connections=200 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB >"$state/postgres.log" 2>&1 &
echo $! >"$state/postgres.pid"
for _ in $(seq 1 100); do "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -f "$src/hack/init_postgres.sql" >>"$state/initdb.log" 2>&1
# the roles its grants name, as a Supabase project has them
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres \
  -c 'CREATE ROLE anon; CREATE ROLE authenticated; CREATE ROLE service_role; CREATE ROLE dashboard_user;' >>"$state/initdb.log" 2>&1
node "$root/bench/peers/supabase/sinks.ts" "$smtp_port" "$hook_port" >"$state/sinks.log" 2>&1 &
echo $! >"$state/sinks.pid"
cat >"$state/gotrue.env" <<ENV
GOTRUE_DB_DRIVER=postgres
GOTRUE_DB_DATABASE_URL=postgres://supabase_auth_admin:root@127.0.0.1:$pg_port/postgres
GOTRUE_DB_MIGRATIONS_PATH=$src/migrations
GOTRUE_DB_MAX_POOL_SIZE=100
GOTRUE_DB_MAX_IDLE_POOL_SIZE=100
GOTRUE_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
GOTRUE_JWT_EXP=900
GOTRUE_JWT_AUD=authenticated
GOTRUE_JWT_DEFAULT_GROUP_NAME=authenticated
GOTRUE_JWT_ADMIN_ROLES=service_role
GOTRUE_API_HOST=127.0.0.1
PORT=$api_port
API_EXTERNAL_URL=http://127.0.0.1:$api_port
GOTRUE_SITE_URL=http://127.0.0.1:3000
GOTRUE_LOG_LEVEL=warn
GOTRUE_LOG_SQL=none
GOTRUE_EXTERNAL_EMAIL_ENABLED=true
GOTRUE_MAILER_AUTOCONFIRM=true
GOTRUE_SMTP_HOST=127.0.0.1
GOTRUE_SMTP_PORT=$smtp_port
GOTRUE_SMTP_ADMIN_EMAIL=bench@example.org
GOTRUE_SMTP_MAX_FREQUENCY=1s
GOTRUE_EXTERNAL_PHONE_ENABLED=true
GOTRUE_SMS_MAX_FREQUENCY=1s
GOTRUE_HOOK_SEND_SMS_ENABLED=true
GOTRUE_HOOK_SEND_SMS_URI=http://127.0.0.1:$hook_port/sms
GOTRUE_HOOK_SEND_SMS_SECRETS=v1,whsec_YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC0wMTIz
GOTRUE_RATE_LIMIT_EMAIL_SENT=100000000
GOTRUE_RATE_LIMIT_SMS_SENT=100000000
GOTRUE_RATE_LIMIT_OTP=100000000
GOTRUE_RATE_LIMIT_VERIFY=100000000
GOTRUE_RATE_LIMIT_TOKEN_REFRESH=100000000
GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED=true
GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL=10
ENV
set -a; . "$state/gotrue.env"; set +a
"$state/gotrue" migrate >"$state/migrate.log" 2>&1
"$state/gotrue" serve >"$state/gotrue.log" 2>&1 &
echo $! >"$state/gotrue.pid"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$api_port/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$api_port/health" >/dev/null || { echo "gotrue did not start (see $state/gotrue.log)" >&2; exit 1; }
printf 'PG_PORT=%s\nAPI_URL=http://127.0.0.1:%s\nPG_DATA=%s\n' "$pg_port" "$api_port" "$data" >"$state/env"
