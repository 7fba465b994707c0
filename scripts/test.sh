#!/usr/bin/env bash
# The whole test suite: install what is missing, type-check src and tests, lint, unit tests, integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc -p tsconfig.json --noEmit
npm run --silent lint
npx vitest run --project unit
npx vitest run --project integration
