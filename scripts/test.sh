#!/usr/bin/env bash
# The whole test suite: install what is missing, type-check src and tests, unit tests, integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc -p tsconfig.json --noEmit
npx vitest run --project unit
npx vitest run --project integration
