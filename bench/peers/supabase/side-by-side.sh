#!/usr/bin/env bash
# One sitting: Supabase Auth (send by email and by SMS, refresh), otp-gate's start and refresh beside their floors
# (`npm run bench`, one round), Supabase Auth again. SUPABASE_AUTH_SRC as for up.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export PATH=$root/node_modules/.bin:$PATH
trap 'bash "$here/down.sh"' EXIT
for pass in 1 2; do
  bash "$here/up.sh"
  echo "== Supabase Auth, pass $pass, $(date +%T)"
  node "$here/bench.ts"
  bash "$here/down.sh"
  if [ "$pass" = 1 ]; then
    echo "== otp-gate, $(date +%T)"
    (cd "$root" && BENCH_ONLY=start,floor-start,refresh,floor-refresh BENCH_ROUNDS=1 npm run -s bench | grep -E '^(start|floor-start|refresh|floor-refresh) |^delivery worker:')
  fi
done
