#!/usr/bin/env bash
# The whole test suite: install what is missing, type-check src and tests, lint, unit tests, integration tests,
# then one closing line with the totals of both test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-runtime.sh
bash scripts/install-deps.sh
npx tsc -p tsconfig.json --noEmit
npx tsc -p ui/tsconfig.json --noEmit
npm run --silent lint
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$reports/unit.json"
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$reports/integration.json"
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' "$reports/unit.json" "$reports/integration.json"
