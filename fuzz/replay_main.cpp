//===- replay_main.cpp - runs a fuzz target over files, without libFuzzer ---===//
//
// The regular build links each fuzz target with this main() instead of libFuzzer, so the
// regression inputs (fuzz/regressions/TARGET/) run in check-catfish with the regular compiler:
//   catfish-fuzz-TARGET FILE_OR_DIR...
// Each file is one input; a crash or a sanitizer report fails the run.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

bool replay(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy of exactly the input's size, as libFuzzer passes it, so overreads show.
  std::vector<uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
  return true;
}

} // namespace

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  size_t count = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path path(argv[i]);
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      for (const auto &entry : std::filesystem::recursive_directory_iterator(path))
        if (entry.is_regular_file()) {
          ok &= replay(entry.path());
          ++count;
        }
    } else {
      ok &= replay(path);
      ++count;
    }
  }
  std::printf("%zu input(s) replayed\n", count);
  return ok ? 0 : 1;
}
