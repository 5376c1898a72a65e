#!/usr/bin/env bash
# Builds the runtime on its own (cmake -S runtime), with warnings as errors, into BUILD_DIR:
#   scripts/build-runtime.sh BUILD_DIR [SANITIZERS]
# SANITIZERS is a -fsanitize= list (address,undefined or thread). CI runs it from the lit suite
# (test/runtime/sanitizers.test), then the runtime's tests and the e2e models on what it built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: scripts/build-runtime.sh BUILD_DIR [SANITIZERS]}
sanitizers=${2:-}
mkdir -p "$(dirname "$build")"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root/runtime" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCATFISH_WERROR=ON -DCATFISH_SANITIZE="$sanitizers" > "$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build"
