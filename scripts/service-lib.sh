# Shell functions the test-service scripts share (test-services.sh, redis-sets.sh), sourced after the caller
# defines die (its message prefix).

# a free port on 127.0.0.1 below the ephemeral range (why: scripts/free-port.ts)
free_port () { node "$(dirname "${BASH_SOURCE[0]}")/free-port.ts"; }

ensure_redis () { # log dir
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "$(basename "$0" .sh): installing redis-server with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >"$1/apt.log" 2>&1 \
      || die "apt-get install redis-server failed (see $1/apt.log)"
  else
    die "redis-server is missing: install it (Debian/Ubuntu: apt-get install redis-server), or set REDIS_URL for the test services"
  fi
}
