#!/usr/bin/env bash
# Builds build/portable/catfish-compile: the compiler as one statically linked, stripped binary
# (Debian's static LLVM/MLIR archives, protobuf, zstd, zlib, glibc) that runs on a machine
# without Debian's LLVM/MLIR, such as the GPU machine. It links the objects of build/ (run
# scripts/setup.sh first) and compiles third_party/onnx/onnx-ml.proto, as Debian ships
# libonnx_proto only shared. What the binary needs where it runs: the CUDA toolkit (ptxas,
# fatbinary, libdevice; --cuda-path, default /usr/local/cuda) for --target cuda, and a C
# compiler `cc` for --target cpu.
#
#   scripts/build-portable-compiler.sh   # -> build/portable/catfish-compile (+ .xz)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Static zstd (LLVM's Support library compresses with it) is the one archive setup.sh lacks.
if ! dpkg-query -W -f='${Status}' libzstd-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libzstd-dev
fi
[ -f build/build.ninja ] || { echo "build-portable-compiler: run scripts/setup.sh first" >&2; exit 1; }
cmake --build build --target catfish-compile

out=build/portable
mkdir -p "$out/proto/onnx"
cp third_party/onnx/onnx-ml.proto "$out/proto/onnx/"
(cd "$out/proto" && protoc --cpp_out=dllexport_decl=ONNX_API:. onnx/onnx-ml.proto)
# The generated header must be Debian's, which the importer was compiled against.
cmp -s "$out/proto/onnx/onnx-ml.pb.h" /usr/include/onnx/onnx-ml.pb.h ||
  { echo "build-portable-compiler: onnx-ml.pb.h differs from /usr/include/onnx's" >&2; exit 1; }
c++ -O2 -std=c++17 -DONNX_API= -I"$out/proto" -c "$out/proto/onnx/onnx-ml.pb.cc" \
  -o "$out/onnx-ml.pb.o"

llvm=/usr/lib/llvm-22/lib
lib=/usr/lib/x86_64-linux-gnu
start=$(date +%s)
c++ -static -O2 -fuse-ld=lld -Wl,--gc-sections -s -o "$out/catfish-compile" \
  build/tools/catfish-compile/CMakeFiles/catfish-compile.dir/catfish-compile.cpp.o \
  -Wl,--start-group build/lib/libCatfish*.a "$out/onnx-ml.pb.o" "$llvm"/libMLIR*.a \
  "$llvm"/libLLVM*.a -Wl,--end-group \
  "$lib/libprotobuf.a" "$lib/libzstd.a" "$lib/libz.a" -lpthread -ldl 2> "$out/link.log" ||
  { cat "$out/link.log" >&2; exit 1; }
echo "build-portable-compiler: linked in $(( $(date +%s) - start )) s"
# glibc's warnings about dlopen/getpwnam in a static binary are expected; show anything else.
grep -v -e "statically linked applications requires at runtime" -e "^$" "$out/link.log" || true
xz -T0 -6 -k -f "$out/catfish-compile"
ls -l "$out/catfish-compile" "$out/catfish-compile.xz" | awk '{print $5, $9}'
