#!/usr/bin/env bash
# Fuzzes every parser of untrusted bytes for SECONDS each (default 60):
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets (fuzz/): onnx-import, artifact, npy, tensor-proto. Builds them with clang-22,
# libFuzzer, ASan and UBSan into build/fuzzing (installing clang-22 if missing), seeds each corpus
# from the test models, the ONNX node tests' models and tensors, runtime test artifacts and
# compiled example models, then runs each target. Exits non-zero when any target crashed,
# leaked, timed out or ran out of memory; the input that did it is in
# build/fuzzing/crashes/TARGET/ (copy it into fuzz/regressions/TARGET/ with the fix). The corpora
# stay in build/fuzzing/corpus/ for the next run; build/fuzzing/summary-TARGETS.md has the
# figures. FUZZ_KEEP_GOING=1 runs each target in libFuzzer's fork mode, which goes on after a
# finding and collects every one in crashes/ (the run still fails).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(onnx-import artifact npy tensor-proto)

scripts/setup.sh > /dev/null
missing=()
for pkg in clang-22 libclang-rt-22-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

fuzz=build/fuzzing
if [ ! -f "$fuzz/build.ninja" ]; then
  cmake -S . -B "$fuzz" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DCATFISH_FUZZ=ON \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE="$root/.venv/bin/python" > "$fuzz.configure.log"
fi
cmake --build "$fuzz" --target catfish-fuzzers

# Seeds, made once.
seeds=$fuzz/seeds
if [ ! -f "$seeds/.done" ]; then
  rm -rf "$seeds"
  mkdir -p "$seeds"/{onnx-import,artifact,npy,tensor-proto}
  for case in $(.venv/bin/python test/Import/Inputs/make_model.py --list); do
    case $case in large_weights|external_data|bad_external_*) continue ;; esac
    .venv/bin/python test/Import/Inputs/make_model.py "$case" "$seeds/onnx-import/$case.onnx"
  done
  node=$(.venv/bin/python -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node"))')
  for dir in "$node"/*/; do
    name=$(basename "$dir")
    [ "$(stat -c %s "$dir/model.onnx")" -le 65536 ] && cp "$dir/model.onnx" "$seeds/onnx-import/$name.onnx"
    for pb in "$dir"/test_data_set_0/*.pb; do
      [ "$(stat -c %s "$pb")" -le 16384 ] && cp "$pb" "$seeds/tensor-proto/$name.$(basename "$pb")"
    done
  done
  build/bin/catfish-runtime-tests --write-examples "$seeds/examples" > /dev/null
  cp "$seeds"/examples/*.catfish "$seeds/artifact/"
  cp "$seeds"/examples/*.npy "$seeds/npy/"
  for case in mlp cnn topk norms; do
    .venv/bin/python test/Import/Inputs/make_model.py "$case" "$seeds/$case.onnx"
    build/bin/catfish-compile "$seeds/$case.onnx" -o "$seeds/artifact/$case.catfish" > /dev/null
    build/bin/catfish-compile "$seeds/$case.onnx" -o "$seeds/artifact/$case-emulated.catfish" \
      --target cpu,cuda --cuda-emulation > /dev/null
  done
  .venv/bin/python - "$seeds/npy" <<'PY'
import sys, numpy as np
out = sys.argv[1]
for i, dtype in enumerate(["<f4", "<f2", "<f8", "<i8", "<i4", "|i1", "|u1", "|b1", ">f4"]):
    np.save(f"{out}/seed{i}.npy", (np.arange(12) % 3).astype(dtype).reshape(3, 4))
np.save(f"{out}/fortran.npy", np.asfortranarray(np.ones((2, 3), np.float32)))
np.save(f"{out}/scalar.npy", np.float32(1.5))
np.save(f"{out}/empty.npy", np.zeros((0, 5), np.float32))
PY
  touch "$seeds/.done"
fi

# LLVM's BumpPtrAllocator poisons new slabs from its inline code, which the fuzz targets compile
# with ASan, and unpoisons what it hands out in Debian's uninstrumented libMLIR.so, which does
# not: MLIR's own attributes would read as poisoned. Manual poisoning is ignored; ASan's own
# checks of the heap and stack stay.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0}

summary=$fuzz/summary-$(IFS=-; echo "${targets[*]}").md
{
  echo "# scripts/fuzz.sh $seconds, $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "| target | executions | per second | corpus | result |"
  echo "|---|---:|---:|---:|---|"
} > "$summary"
failed=0
for target in "${targets[@]}"; do
  corpus=$fuzz/corpus/$target
  crashes=$fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes" "$fuzz/logs"
  dict=()
  [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
  log=$fuzz/logs/$target.log
  regressions=()
  [ -d "fuzz/regressions/$target" ] && regressions=("fuzz/regressions/$target")
  echo "fuzz: $target for ${seconds} s"
  keep_going=()
  [ "${FUZZ_KEEP_GOING:-0}" = 1 ] &&
    keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  set +e
  "$fuzz/bin/catfish-fuzz-$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "${keep_going[@]}" \
    "$corpus" "$seeds/$target" "${regressions[@]}" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  if [ "$rc" = 0 ] && [ -z "$(ls -A "$crashes")" ]; then
    result=ok
  else
    result="FAILED (exit $rc, see $log)"
    failed=1
    grep -E "ERROR:|SUMMARY:|==[0-9]+==" "$log" | head -5 || true
  fi
  echo "| $target | ${runs:-?} | ${rate:-?} | $size | $result |" >> "$summary"
done
cat "$summary"
exit "$failed"
