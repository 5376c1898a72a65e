#!/usr/bin/env bash
# The GPU checks in one command, for the GPU machine (an H100 or H200 with a CUDA 13 driver, nvcc,
# CMake, ninja, python3 with torch, onnx, onnxruntime and numpy; no MLIR, no network).
#
#   scripts/gpu-check.sh --prepare   # here: writes build/gpu-bundle (what the GPU machine lacks)
#   scripts/gpu-check.sh             # there, with build/gpu-bundle carried: the checks
#   scripts/gpu-check.sh --dry-run   # here: every step up to the first device call
#
# The bundle holds the portable compiler (scripts/build-portable-compiler.sh), the FlatBuffers
# and xxHash headers with the generated manifest header (the runtime builds without flatc), and
# the ONNX node tests of the pinned onnx (test/requirements.txt), so the GPU runs the same tests
# as the CUDA emulator's figures. The checks: the runtime built standalone and its tests, the
# e2e models against onnxruntime on the GPU (test/e2e/run_e2e.py --device cuda), loops run by
# the plan (test/control/control_flow.py --device cuda), the ONNX node
# tests on the GPU (test/conformance/run_node_tests.py --device cuda), and the benchmarks against
# PyTorch eager and torch.compile (bench/gpu_bench.py). Results go to $OUT (what the device tool
# brings back) or build/gpu-check: results.md (dated, naming the GPU) and a log per step.
# GPU_CHECK_BUDGET_S (default 480) bounds the whole run; the benchmarks skip what would not fit.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bundle=$root/build/gpu-bundle
mode=${1:-check}
python=${PYTHON:-python3}
started=$(date +%s)
deadline=$((started + ${GPU_CHECK_BUDGET_S:-480}))

prepare() {
  set -e
  [ -f build/build.ninja ] || scripts/setup.sh
  cmake --build build --target catfish-compile catfish-run
  if [ ! -f build/portable/catfish-compile.xz ] ||
     [ build/bin/catfish-compile -nt build/portable/catfish-compile.xz ]; then
    scripts/build-portable-compiler.sh
  fi
  rm -rf "$bundle"
  mkdir -p "$bundle/include" "$bundle/generated"
  cp build/portable/catfish-compile.xz "$bundle/"
  cp -r /usr/include/flatbuffers "$bundle/include/"
  cp /usr/include/xxhash.h "$bundle/include/"
  cp build/runtime/generated/artifact_generated.h "$bundle/generated/"
  local onnx_dir
  onnx_dir=$(.venv/bin/python -c "import onnx, os; print(os.path.dirname(onnx.__file__))")
  tar -C "$onnx_dir/backend/test/data" -cJf "$bundle/node-tests.tar.xz" node
  .venv/bin/python -c "import onnx; print(onnx.__version__)" > "$bundle/node-tests.version"
  du -sh "$bundle" | awk '{print "gpu-check: bundle " $1 " in build/gpu-bundle"}'
}

if [ "$mode" = "--prepare" ]; then
  prepare
  exit $?
fi
if [ "$mode" != "check" ] && [ "$mode" != "--dry-run" ]; then
  echo "usage: scripts/gpu-check.sh [--prepare | --dry-run]" >&2
  exit 2
fi
dry=$([ "$mode" = "--dry-run" ] && echo 1 || echo 0)
[ -f "$bundle/catfish-compile.xz" ] ||
  { echo "gpu-check: no build/gpu-bundle; run scripts/gpu-check.sh --prepare first" >&2; exit 1; }

# The portable compiler finds ptxas, fatbinary and libdevice through CUDA_HOME.
if [ -z "${CUDA_HOME:-}" ] && command -v nvcc > /dev/null; then
  CUDA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
  export CUDA_HOME
fi

out=${OUT:-$root/build/gpu-check}
mkdir -p "$out"
work=$(mktemp -d /tmp/catfish-gpu-check-XXXXXX)
results=$out/results.md
bin=$work/build/bin
failures=0

note() { echo "$*" | tee -a "$results"; }
# step NAME COMMAND...: runs COMMAND with its output in $out/NAME.log; notes the outcome.
step() {
  local name=$1 begin=$SECONDS
  shift
  if "$@" > "$out/$name.log" 2>&1; then
    note "- $name: ok ($((SECONDS - begin)) s)"
  else
    note "- $name: FAILED ($((SECONDS - begin)) s), see $name.log: $(grep -m1 -E 'FAIL|error' "$out/$name.log" | cut -c1-300)"
    failures=$((failures + 1))
  fi
}

gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
{
  echo "# GPU check $(date -u +%Y-%m-%d) ($([ "$dry" = 1 ] && echo "dry run, no GPU" || echo "${gpu:-no nvidia-smi}"))"
  echo
  echo "Commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores, node tests of onnx $(cat "$bundle/node-tests.version")."
  echo
} > "$results"

# The runtime standalone, with the bundle's headers; its tests need no GPU.
build_runtime() {
  cmake -S runtime -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCATFISH_SCHEMA_PREGENERATED="$bundle/generated" \
    -DCATFISH_FLATBUFFERS_INCLUDE_DIR="$bundle/include" \
    -DCATFISH_XXHASH_INCLUDE_DIR="$bundle/include" &&
    ninja -C "$work/build" && ctest --test-dir "$work/build" --output-on-failure
}
step runtime build_runtime
xz -dc "$bundle/catfish-compile.xz" > "$bin/catfish-compile" && chmod +x "$bin/catfish-compile"
step compiler "$bin/catfish-compile" examples/mlp.onnx -o "$work/mlp.catfish" --target cuda

# The dry run's first device call: exit 1 and the message of a machine without a GPU.
refused_here() {
  local message
  message=$("$bin/catfish-run" "$work/mlp.catfish" --device cuda 2>&1)
  local rc=$?
  echo "$message"
  [ "$rc" = 1 ] && grep -q "device cuda:0 is not available" <<< "$message"
}

mkdir -p "$work/node"
tar -C "$work/node" -xJf "$bundle/node-tests.tar.xz"
if [ "$dry" = 1 ]; then
  # The first device call, refused here; then the same scripts on the CUDA emulator.
  step first-device-call refused_here
  step e2e "$python" test/e2e/run_e2e.py --bin-dir "$bin" --work-dir "$work/e2e" \
    --device cuda-emulator --models mlp,bert_layer
  step control "$python" test/control/control_flow.py --bin-dir "$bin" \
    --work-dir "$work/control" --device cuda-emulator --cases recurrence
  step node-tests "$python" test/conformance/run_node_tests.py --execute --device cuda-emulator \
    --node-dir "$work/node/node" --compiler "$bin/catfish-compile" --jobs "$(nproc)" \
    --filter '^test_(add|softmax|matmul|conv)' --output "$out/conformance-cuda.md"
  step bench "$python" bench/gpu_bench.py --dry-run --compiler "$bin/catfish-compile" \
    --runner "$bin/catfish-run" --work "$work/bench" --out "$out/bench.md" --only 'BERT|LayerNorm'
else
  nvidia-smi > "$out/nvidia-smi.log" 2>&1
  step e2e "$python" test/e2e/run_e2e.py --bin-dir "$bin" --work-dir "$work/e2e" --device cuda
  step control "$python" test/control/control_flow.py --bin-dir "$bin" \
    --work-dir "$work/control" --device cuda
  step node-tests "$python" test/conformance/run_node_tests.py --execute --device cuda \
    --node-dir "$work/node/node" --compiler "$bin/catfish-compile" --jobs "$(nproc)" \
    --output "$out/conformance-cuda.md"
  step bench "$python" bench/gpu_bench.py --compiler "$bin/catfish-compile" \
    --runner "$bin/catfish-run" --work "$work/bench" --out "$out/bench.md" --deadline "$deadline"
fi

{
  echo
  echo "## e2e"
  grep -E "^(ok|FAIL):" "$out/e2e.log" 2>/dev/null
  echo
  echo "## ONNX node tests"
  grep -E "in scope|match" "$out/node-tests.log" 2>/dev/null | tail -3
  echo
  [ -f "$out/bench.md" ] && sed 's/^# /## /' "$out/bench.md"
  echo
  echo "Total $(( $(date +%s) - started )) s; $failures step(s) failed."
} >> "$results"
cat "$results"
rm -rf "$work"
[ "$failures" = 0 ]
