#!/usr/bin/env bash
# Runs a command with the test services up (scripts/test-services.sh) and stops them afterwards, whatever happens.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.test-services"
TEST_SERVICES_DIR=$(mktemp -d "$root/.test-services/run.XXXXXX")
export TEST_SERVICES_DIR
trap 'bash "$root/scripts/test-services.sh" stop; rm -rf "$TEST_SERVICES_DIR"' EXIT
trap 'exit 130' INT TERM
bash "$root/scripts/test-services.sh" start
set -a
# shellcheck disable=SC1091
. "$TEST_SERVICES_DIR/env"
set +a
"$@"
