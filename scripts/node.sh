#!/usr/bin/env bash
# Runs node (the project's runtime, see node-runtime.sh) with the given arguments: the entry of the npm scripts.
set -euo pipefail
. "$(dirname "$0")/node-runtime.sh"
exec node "$@"
