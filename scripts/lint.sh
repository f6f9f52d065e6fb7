#!/usr/bin/env bash
# Formatting and static analysis; any finding fails. Needs a configured build
# (compile_commands.json in build/).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
mapfile -t sources < <(git ls-files 'src/*.cc' 'src/*.h' 'apps/*.cc' 'apps/*.h' 'tools/*.cc' 'tests/*.cc' 'tests/*.h')
clang-format --dry-run --Werror "${sources[@]}"
# clang-tidy on the code (tests are left to the compiler's -Werror).
printf '%s\n' "${sources[@]}" | grep -E '^(src|apps|tools)/.*\.cc$' |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$BUILD_DIR" --quiet \
    --extra-arg=-Wno-unknown-warning-option 2>/dev/null
bash scripts/check_syscalls.sh
echo "lint: clean"
