#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine lacks, creates the test venv, configures and
# builds Catfish into build/. Idempotent: with everything in place it only runs the (no-op) build.
# CATFISH_WERROR=ON (CI sets it) makes warnings in Catfish's own code errors.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

apt_packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libfmt-dev libonnx-dev libprotobuf-dev protobuf-compiler
  libflatbuffers-dev flatbuffers-compiler libxxhash-dev
  cmake ninja-build ccache g++ python3-venv
)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# Python test tooling, pinned. The stamp makes a second run skip pip entirely.
python=${PYTHON:-python3}
requirements=test/requirements.txt
stamp=.venv/.requirements.stamp
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if ! cmp -s "$requirements" "$stamp"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE="$root/.venv/bin/python" \
    -DCATFISH_WERROR="${CATFISH_WERROR:-OFF}"
fi
cmake --build build
