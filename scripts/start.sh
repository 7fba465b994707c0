#!/usr/bin/env bash
# Quick start: install what is missing, then run a single-node cluster on the embedded store.
# Extra arguments go to `certplane start` (e.g. --data-dir, --api-port).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-runtime.sh
bash scripts/install-deps.sh
exec node dist/src/cli/main.js start "$@"
