#!/usr/bin/env bash
# The second README command: installs what is missing, builds, checks
# formatting and lint, and runs every test (unit and end-to-end) with CTest,
# two at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-test-tools
bash scripts/build.sh
bash scripts/lint.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
