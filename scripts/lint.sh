#!/usr/bin/env bash
# ESLint with typescript-eslint's type-aware rules (eslint.config.js). Its tools are installed apart, in
# tools/lint (its package.json says why), and are installed here when missing or older than their lock file.
# Extra arguments go to eslint (npm run lint -- --fix).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-runtime.sh
tools=tools/lint
if [ ! -f "$tools/node_modules/.package-lock.json" ] || [ "$tools/package-lock.json" -nt "$tools/node_modules/.package-lock.json" ]; then
  echo "lint: npm ci --prefix $tools"
  npm ci --prefix "$tools" --no-audit --no-fund
fi
exec "$tools/node_modules/.bin/eslint" --max-warnings 0 "$@" .
