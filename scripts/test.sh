#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, build, lint, type check, tests.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
npx tsc -p tsconfig.json --noEmit || { echo "typecheck failed"; exit 1; }
npm run --silent lint || { echo "lint failed (biome): run npm run format, or fix what it names"; exit 1; }
# setup.sh has built dist/ (what npm pack ships and the e2e tests run).
rm -f .test-report.json
npx vitest run --reporter=default --reporter=json --outputFile=.test-report.json "$@"
rc=$?
node scripts/test-summary.mjs .test-report.json || rc=1
exit $rc
