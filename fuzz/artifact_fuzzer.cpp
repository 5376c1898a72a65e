//===- artifact_fuzzer.cpp - the artifact loader and a session on it --------===//
//
// Any bytes go to catfish_model_load_from_memory twice:
//   - as they are: what loads (in practice a seed, since every byte is under a checksum) gets
//     a session on each device, its inputs set to zeros, and a run;
//   - with the header's and the non-code sections' checksums recomputed, so that mutations
//     reach the section layout and manifest checks: what loads is queried and gets a session,
//     but does not run. An artifact with valid checksums is trusted like the shared library it
//     carries (docs/artifact-format.md, "Trust"); its code sections keep their checksums
//     here, because loading a mutated shared object tests the system's dynamic loader.
//
//===----------------------------------------------------------------------===//

#include "catfish/artifact_format.h"
#include "catfish/runtime.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

using namespace catfish::artifact;

namespace {

void check(catfish_status_t *status) {
  // Every error carries a message and a code other than OK.
  if (status && (catfish_status_code(status) == CATFISH_STATUS_OK ||
                 !*catfish_status_message(status)))
    std::abort();
  catfish_status_free(status);
}

void exercise(const catfish_model_t *model, bool run) {
  for (size_t i = 0; i < catfish_model_input_count(model); ++i) {
    catfish_tensor_info_t info;
    check(catfish_model_input_info(model, i, &info));
    size_t index = 0;
    check(catfish_model_find_input(model, info.name, &index));
  }
  for (size_t i = 0; i < catfish_model_output_count(model); ++i) {
    catfish_tensor_info_t info;
    check(catfish_model_output_info(model, i, &info));
  }
  for (size_t i = 0; i < catfish_model_target_count(model); ++i) {
    catfish_target_info_t info;
    check(catfish_model_target_info(model, i, &info));
  }
  catfish_session_t *session = nullptr;
  catfish_status_t *status = catfish_session_create(model, &session);
  if (status) {
    check(status);
    return;
  }
  if (run) {
    bool inputsSet = true;
    for (size_t i = 0; i < catfish_model_input_count(model); ++i) {
      catfish_tensor_info_t info;
      check(catfish_model_input_info(model, i, &info));
      std::vector<uint8_t> zeros(info.byte_size);
      catfish_status_t *set = catfish_session_set_input(session, i, zeros.data(), zeros.size());
      inputsSet &= set == nullptr;
      check(set);
    }
    catfish_status_t *ran = catfish_session_run(session);
    bool ok = ran == nullptr;
    check(ran);
    if (inputsSet && ok)
      for (size_t i = 0; i < catfish_model_output_count(model); ++i) {
        const void *data = nullptr;
        size_t bytes = 0;
        check(catfish_session_output(session, i, &data, &bytes));
      }
  }
  catfish_session_release(session);
}

void loadAndExercise(const std::vector<uint8_t> &bytes, bool run) {
  for (const char *device : {"cpu", "cuda-emulator"}) {
    catfish_model_options_t options;
    catfish_model_options_initialize(&options);
    options.num_threads = 1;
    options.device = device;
    catfish_model_t *model = nullptr;
    catfish_status_t *status =
        catfish_model_load_from_memory(bytes.data(), bytes.size(), &options, &model);
    if (status) {
      check(status);
      continue;
    }
    exercise(model, run);
    catfish_model_release(model);
  }
}

/// Recomputes the checksums of the header and of every section in bounds that is not code;
/// false if the bytes are too short for a header and section table.
bool repairChecksums(std::vector<uint8_t> &bytes) {
  if (bytes.size() < sizeof(FileHeader))
    return false;
  FileHeader header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  uint64_t tableEnd = sizeof(FileHeader) + uint64_t(header.sectionCount) * sizeof(SectionEntry);
  if (header.sectionCount > 1024 || tableEnd > bytes.size())
    return false;
  for (uint32_t i = 0; i < header.sectionCount; ++i) {
    SectionEntry entry;
    uint8_t *at = bytes.data() + sizeof(FileHeader) + i * sizeof(SectionEntry);
    std::memcpy(&entry, at, sizeof(entry));
    if (entry.kind == static_cast<uint32_t>(SectionKind::Code) || entry.offset > bytes.size() ||
        entry.size > bytes.size() - entry.offset)
      continue;
    entry.checksum = XXH64(bytes.data() + entry.offset, entry.size, 0);
    std::memcpy(at, &entry, sizeof(entry));
  }
  header.headerChecksum = 0;
  std::memcpy(bytes.data(), &header, sizeof(header));
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  XXH64_update(&state, bytes.data(), tableEnd);
  header.headerChecksum = XXH64_digest(&state);
  std::memcpy(bytes.data(), &header, sizeof(header));
  return true;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // No GPU is touched, whatever the machine has.
  setenv("CATFISH_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  loadAndExercise(bytes, /*run=*/true);
  if (repairChecksums(bytes))
    loadAndExercise(bytes, /*run=*/false);
  return 0;
}
