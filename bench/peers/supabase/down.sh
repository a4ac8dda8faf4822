#!/usr/bin/env bash
# Stops what up.sh started and drops its data. PostgreSQL runs under runuser, which does not pass a signal on:
# the server is stopped with pg_ctl, the rest by pid (gotrue finishes its requests on SIGTERM: killed after 3 s).
root=$(cd "$(dirname "$0")/../../.." && pwd)
state=$root/.test-services/supabase
[ -f "$state/env" ] && . "$state/env"
for name in gotrue sinks; do
  [ -f "$state/$name.pid" ] || continue
  pid=$(cat "$state/$name.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$state/$name.pid"
done
if [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ]; then
  as_postgres () { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  as_postgres /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$PG_DATA"
fi
rm -f "$state/postgres.pid" "$state/env"
