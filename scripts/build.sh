#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with Ninja and ccache,
# then installs ferry (program, man page, bash completion) under PREFIX
# (default /usr/local), so `man ferry`, completion and `ferry cp HOST:PATH`
# on this host as an ssh target all work.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" --quiet 2>/dev/null || ninja -C "$BUILD_DIR"
cmake --install "$BUILD_DIR" --component ferry --prefix "${PREFIX:-/usr/local}" >/dev/null
