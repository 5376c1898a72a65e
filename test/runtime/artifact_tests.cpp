//===- artifact_tests.cpp - runtime tests on artifacts built in memory ----===//
//
// Builds small artifacts with the FlatBuffers builder around a real shared object (add_kernel.c),
// then loads and runs them through the C API, and checks that damaged and inconsistent files are
// rejected with the right message. `--write-examples DIR` writes artifacts and input files for the
// tool tests (tool_tests.cmake) instead.
//
//===----------------------------------------------------------------------===//

#include "artifact_writer.h"
#include "check.h"
#include "catfish/artifact_file.h"
#include "catfish/runtime.h"
#include "npy.h"
#include "onnx_tensor.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace catfish::artifact;
using namespace catfish::artifact::testing;

namespace {

int failures = 0;
std::string workDir;

constexpr int64_t kLength = 1003;
constexpr uint64_t kBytes = kLength * sizeof(float);
constexpr uint64_t kAlignedBytes = (kBytes + 63) / 64 * 64;

std::vector<uint8_t> fileBytes(const char *path) {
  std::vector<uint8_t> bytes;
  FILE *file = std::fopen(path, "rb");
  if (!file) {
    std::fprintf(stderr, "cannot open %s\n", path);
    std::exit(1);
  }
  uint8_t chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  std::fclose(file);
  return bytes;
}

std::vector<uint8_t> kernelCode() { return fileBytes(CATFISH_TEST_KERNEL_SO); }

float weightValue(int64_t i) { return 0.25f * static_cast<float>(i % 7); }

/// c = (a + b) + w, in two steps through an arena temporary, split into up to 4 tasks.
ModelDesc addModel() {
  ModelDesc d;
  d.compilerVersion = "catfish-test 0.1";
  d.modelSha256 = std::string(64, 'a');
  d.modelName = "add";
  d.inputs = {{"a", DType::F32, {kLength}, 0}, {"b", DType::F32, {kLength}, 1}};
  d.outputs = {{"c", DType::F32, {kLength}, 4}};
  d.buffers = {{BufferKind::Input, 0, kBytes, 0},
               {BufferKind::Input, 0, kBytes, 1},
               {BufferKind::Weight, 0, kBytes},
               {BufferKind::Arena, 0, kBytes},
               {BufferKind::Arena, kAlignedBytes, kBytes}};
  d.targets = {{"cpu", "x86-64", "elf-shared-object", 1}};
  d.kernels = {{"catfish_test_add_f32", "generated", "node 'Add_0'", 0, 4}};
  d.steps = {{0, {0, 1, 3}}, {0, {3, 2, 4}}};
  d.arenaSize = 2 * kAlignedBytes;
  d.code = {kernelCode()};
  d.weights.resize(kBytes);
  for (int64_t i = 0; i < kLength; ++i) {
    float w = weightValue(i);
    std::memcpy(d.weights.data() + i * sizeof(float), &w, sizeof(w));
  }
  d.weightsSize = d.weights.size();
  return d;
}

std::string writeTemp(const std::string &name, const std::vector<uint8_t> &bytes) {
  std::string path = workDir + "/" + name;
  if (!writeBytes(path, bytes)) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
  return path;
}

struct LoadResult {
  catfish_status_code_t code;
  std::string message;
};

LoadResult tryLoad(const std::string &path, uint32_t threads = 0) {
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.num_threads = threads;
  catfish_model_t *model = nullptr;
  catfish_status_t *status = catfish_model_load_with_options(path.c_str(), &options, &model);
  LoadResult result{catfish_status_code(status), catfish_status_message(status)};
  catfish_status_free(status);
  catfish_model_release(model);
  return result;
}

bool contains(const std::string &text, const std::string &part) {
  if (text.find(part) != std::string::npos)
    return true;
  std::fprintf(stderr, "  expected \"%s\" in \"%s\"\n", part.c_str(), text.c_str());
  return false;
}

/// Loads `desc` and expects failure with `code` and `message` in the text.
void expectLoadError(const ModelDesc &desc, catfish_status_code_t code, const std::string &message) {
  LoadResult result = tryLoad(writeTemp("bad.catfish", buildArtifact(desc)));
  if (result.code != code)
    std::fprintf(stderr, "  expected %s, got %s: %s\n", catfish_status_code_name(code),
                 catfish_status_code_name(result.code), result.message.c_str());
  CHECK(result.code == code);
  CHECK(contains(result.message, message));
}

/// Whether `status` has `code` and `message` in its text; frees it.
bool expectStatus(catfish_status_t *status, catfish_status_code_t code,
                  const std::string &message) {
  bool right = catfish_status_code(status) == code;
  if (!right)
    std::fprintf(stderr, "  expected %s, got %s: %s\n", catfish_status_code_name(code),
                 catfish_status_code_name(catfish_status_code(status)),
                 catfish_status_message(status));
  right = contains(catfish_status_message(status), message) && right;
  catfish_status_free(status);
  return right;
}

std::vector<float> inputValues(int64_t salt) {
  std::vector<float> values(kLength);
  for (int64_t i = 0; i < kLength; ++i)
    values[i] = static_cast<float>((i * 31 + salt * 17) % 101) - 50.0f;
  return values;
}

/// Runs one session `runs` times with inputs derived from `salt` and checks c = a + b + w.
bool runAndCheck(const catfish_model_t *model, int64_t salt, int runs) {
  catfish_session_t *session = nullptr;
  if (catfish_status_t *status = catfish_session_create(model, &session)) {
    std::fprintf(stderr, "session: %s\n", catfish_status_message(status));
    catfish_status_free(status);
    return false;
  }
  bool ok = true;
  for (int r = 0; r < runs && ok; ++r) {
    std::vector<float> a = inputValues(salt + r), b = inputValues(salt + r + 1000);
    catfish_status_t *status = catfish_session_set_input(session, 0, a.data(), kBytes);
    if (!status)
      status = catfish_session_set_input(session, 1, b.data(), kBytes);
    if (!status)
      status = catfish_session_run(session);
    const void *data = nullptr;
    size_t size = 0;
    if (!status)
      status = catfish_session_output(session, 0, &data, &size);
    if (status) {
      std::fprintf(stderr, "run: %s\n", catfish_status_message(status));
      catfish_status_free(status);
      ok = false;
      break;
    }
    ok = size == kBytes && reinterpret_cast<uintptr_t>(data) % 64 == 0;
    const float *c = static_cast<const float *>(data);
    for (int64_t i = 0; ok && i < kLength; ++i)
      ok = c[i] == (a[i] + b[i]) + weightValue(i);
  }
  catfish_session_release(session);
  return ok;
}

/// Loads `path` (NULL `options`: the defaults); a failure is printed and CHECKed.
catfish_model_t *loadChecked(const std::string &path, const catfish_model_options_t *options) {
  catfish_model_t *model = nullptr;
  catfish_status_t *status = catfish_model_load_with_options(path.c_str(), options, &model);
  if (status)
    std::fprintf(stderr, "load: %s\n", catfish_status_message(status));
  CHECK(status == nullptr);
  catfish_status_free(status);
  return model;
}

void testRun() {
  std::string path = writeTemp("add.catfish", buildArtifact(addModel()));
  for (uint32_t threads : {1u, 2u, 4u, 0u}) {
    catfish_model_options_t options;
    catfish_model_options_initialize(&options);
    options.num_threads = threads;
    catfish_model_t *model = loadChecked(path, &options);
    if (!model)
      return;
    CHECK(runAndCheck(model, threads, 3));
    catfish_model_release(model);
  }
}

/// The add artifact from memory runs as from its file; damage and NULLs are refused.
void testLoadFromMemory() {
  std::vector<uint8_t> bytes = buildArtifact(addModel());
  catfish_model_t *model = nullptr;
  catfish_status_t *status = catfish_model_load_from_memory(bytes.data(), bytes.size(), nullptr,
                                                            &model);
  CHECK(status == nullptr);
  catfish_status_free(status);
  // The runtime keeps a copy: the caller's buffer may go.
  std::fill(bytes.begin(), bytes.end(), 0);
  if (model)
    CHECK(runAndCheck(model, 5, 2));
  catfish_model_release(model);

  auto expectRefused = [](const std::vector<uint8_t> &data, size_t size,
                          catfish_status_code_t code, const std::string &message) {
    catfish_model_t *refused = nullptr;
    catfish_status_t *error =
        catfish_model_load_from_memory(data.empty() ? nullptr : data.data(), size, nullptr,
                                       &refused);
    CHECK(catfish_status_code(error) == code && refused == nullptr);
    CHECK(contains(catfish_status_message(error), message));
    catfish_status_free(error);
  };
  std::vector<uint8_t> damaged = buildArtifact(addModel());
  const SectionEntry *table = reinterpret_cast<const SectionEntry *>(damaged.data() + 32);
  damaged[table[0].offset + 8] ^= 0x40;
  expectRefused(damaged, damaged.size(), CATFISH_STATUS_DATA_LOSS,
                "<memory>: section 0 (manifest) is damaged: checksum mismatch");
  expectRefused(damaged, 20, CATFISH_STATUS_DATA_LOSS,
                "<memory>: not a Catfish artifact (the buffer is 20 bytes");
  expectRefused({}, 0, CATFISH_STATUS_INVALID_ARGUMENT, "data and out_model must not be NULL");
}

void testIntrospectionAndSessionErrors() {
  std::string path = writeTemp("add.catfish", buildArtifact(addModel()));
  catfish_model_t *model = nullptr;
  CHECK(catfish_model_load(path.c_str(), &model) == nullptr);
  if (!model)
    return;
  CHECK(catfish_model_input_count(model) == 2);
  CHECK(catfish_model_output_count(model) == 1);
  catfish_tensor_info_t info;
  CHECK(catfish_model_input_info(model, 1, &info) == nullptr);
  CHECK(std::strcmp(info.name, "b") == 0 && info.dtype == CATFISH_DTYPE_F32 && info.rank == 1 &&
        info.dims[0] == kLength && info.byte_size == kBytes);
  catfish_status_t *status = catfish_model_input_info(model, 2, &info);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_INVALID_ARGUMENT);
  catfish_status_free(status);
  size_t index = 99;
  CHECK(catfish_model_find_input(model, "b", &index) == nullptr && index == 1);
  status = catfish_model_find_input(model, "q", &index);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_NOT_FOUND);
  CHECK(contains(catfish_status_message(status), "no input 'q'; valid inputs: 'a', 'b'"));
  catfish_status_free(status);
  catfish_target_info_t target;
  CHECK(catfish_model_target_count(model) == 1);
  CHECK(catfish_model_target_info(model, 0, &target) == nullptr);
  CHECK(std::strcmp(target.name, "cpu") == 0 && std::strcmp(target.arch, "x86-64") == 0 &&
        std::strcmp(target.format, "elf-shared-object") == 0 && target.code_size > 0);
  CHECK(catfish_model_kernel_count(model) == 1 && catfish_model_step_count(model) == 2);
  CHECK(catfish_model_arena_size(model) == 2 * kAlignedBytes);
  CHECK(catfish_model_weights_size(model) == kBytes);
  CHECK(catfish_model_format_version(model) == kFirstFormatVersion);
  CHECK(std::strcmp(catfish_model_compiler_version(model), "catfish-test 0.1") == 0);
  CHECK(std::strcmp(catfish_model_sha256(model), std::string(64, 'a').c_str()) == 0);
  CHECK(std::strcmp(catfish_model_name(model), "add") == 0);

  catfish_session_t *session = nullptr;
  CHECK(catfish_session_create(model, &session) == nullptr);
  std::vector<float> a = inputValues(1);
  status = catfish_session_set_input(session, 0, a.data(), kBytes - 12);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_INVALID_ARGUMENT);
  CHECK(contains(catfish_status_message(status),
                 "input 'a' (index 0) expects 4012 bytes (f32 1003), got 4000"));
  catfish_status_free(status);
  status = catfish_session_set_input(session, 5, a.data(), kBytes);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_INVALID_ARGUMENT);
  catfish_status_free(status);
  CHECK(catfish_session_set_input(session, 0, a.data(), kBytes) == nullptr);
  status = catfish_session_run(session);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_FAILED_PRECONDITION);
  CHECK(contains(catfish_status_message(status), "input 'b' has not been set"));
  catfish_status_free(status);
  const void *data;
  size_t size;
  status = catfish_session_output(session, 0, &data, &size);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_FAILED_PRECONDITION);
  catfish_status_free(status);
  catfish_session_release(session);
  catfish_model_release(model);
}

void testConcurrentSessions() {
  std::string path = writeTemp("add.catfish", buildArtifact(addModel()));
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.num_threads = 3;
  catfish_model_t *model = nullptr;
  CHECK(catfish_model_load_with_options(path.c_str(), &options, &model) == nullptr);
  if (!model)
    return;
  std::vector<int> ok(6, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] { ok[t] = runAndCheck(model, t * 100, 50); });
  for (std::thread &thread : threads)
    thread.join();
  for (int t = 0; t < 6; ++t)
    CHECK(ok[t]);
  catfish_model_release(model);
}

/// Every single damaged byte must be rejected at load, never crash, never load.
void testEveryFlippedByte() {
  std::vector<uint8_t> bytes = buildArtifact(addModel());
  std::string path = writeTemp("flip.catfish", bytes);
  int fd = open(path.c_str(), O_RDWR);
  CHECK(fd >= 0);
  size_t stride = bytes.size() > 200000 ? 7 : 1;
  size_t accepted = 0;
  for (size_t i = 0; i < bytes.size(); i += stride) {
    for (uint8_t mask : {uint8_t(0xff), uint8_t(1u << (i % 8))}) {
      uint8_t flipped = bytes[i] ^ mask;
      CHECK(pwrite(fd, &flipped, 1, static_cast<off_t>(i)) == 1);
      LoadResult result = tryLoad(path, 1);
      if (result.code == CATFISH_STATUS_OK) {
        if (accepted++ < 5)
          std::fprintf(stderr, "  flipping byte %zu with 0x%02x was not detected\n", i, mask);
      }
      CHECK(pwrite(fd, &bytes[i], 1, static_cast<off_t>(i)) == 1);
    }
  }
  close(fd);
  CHECK(accepted == 0);
  CHECK(tryLoad(path).code == CATFISH_STATUS_OK);
}

void testTruncatedAndForeignFiles() {
  std::vector<uint8_t> bytes = buildArtifact(addModel());
  for (size_t length : {size_t(0), size_t(1), size_t(31), size_t(32), size_t(100), bytes.size() / 2,
                        bytes.size() - 1}) {
    LoadResult result = tryLoad(
        writeTemp("short.catfish", std::vector<uint8_t>(bytes.begin(), bytes.begin() + length)));
    CHECK(result.code == CATFISH_STATUS_DATA_LOSS);
    if (length < sizeof(FileHeader))
      CHECK(contains(result.message, "not a Catfish artifact"));
    else
      CHECK(contains(result.message, "truncated"));
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  CHECK(contains(tryLoad(writeTemp("long.catfish", longer)).message, "trailing data"));
  std::vector<uint8_t> text(200, 'x');
  LoadResult foreign = tryLoad(writeTemp("text.catfish", text));
  CHECK(foreign.code == CATFISH_STATUS_DATA_LOSS);
  CHECK(contains(foreign.message, "text.catfish: not a Catfish artifact (bad magic)"));
  LoadResult missing = tryLoad(workDir + "/does-not-exist.catfish");
  CHECK(missing.code == CATFISH_STATUS_IO_ERROR);
  CHECK(contains(missing.message, "cannot open"));
  // A damaged code section names the section.
  std::vector<uint8_t> damaged = bytes;
  const SectionEntry *table = reinterpret_cast<const SectionEntry *>(bytes.data() + 32);
  damaged[table[1].offset + 100] ^= 0x40;
  CHECK(contains(tryLoad(writeTemp("damaged.catfish", damaged)).message,
                 "section 1 (code) is damaged: checksum mismatch"));
}

void testVersionsAndTargets() {
  ModelDesc newer = addModel();
  newer.formatVersion = kFormatVersion + 1;
  expectLoadError(newer, CATFISH_STATUS_UNSUPPORTED,
                  "artifact format version " + std::to_string(kFormatVersion + 1) +
                      " is newer than this runtime supports (" + std::to_string(kFormatVersion) +
                      "); rebuild the runtime");

  ModelDesc cuda = addModel();
  cuda.targets.push_back({"cuda", "sm_90a", "cubin", 2});
  cuda.targets.push_back({"cuda", "sm_80", "cubin", 2});
  cuda.code.push_back({1, 2, 3, 4});
  cuda.kernels.push_back({"gpu_add", "generated", "", 1, 1});
  cuda.kernels.push_back({"gpu_add", "generated", "", 2, 1});
  cuda.steps[1].kernel = 1;
  cuda.steps.push_back({2, {3, 2, 4}});
  expectLoadError(cuda, CATFISH_STATUS_UNSUPPORTED,
                  "this artifact needs target cuda (sm_90a, sm_80) which the CPU cannot run");

  // A cuda target no step uses does not stop a CPU run.
  ModelDesc unused = addModel();
  unused.targets.push_back({"cuda", "sm_90a", "cubin", 2});
  unused.code.push_back({1, 2, 3, 4});
  unused.kernels.push_back({"gpu_add", "generated", "", 1, 1});
  CHECK(tryLoad(writeTemp("unused.catfish", buildArtifact(unused))).code == CATFISH_STATUS_OK);

  ModelDesc format = addModel();
  format.targets[0].format = "ptx";
  expectLoadError(format, CATFISH_STATUS_UNSUPPORTED, "code format 'ptx'");
  ModelDesc symbol = addModel();
  symbol.kernels[0].symbol = "no_such_kernel";
  expectLoadError(symbol, CATFISH_STATUS_DATA_LOSS,
                  "kernel 0 (no_such_kernel from node 'Add_0'): symbol 'no_such_kernel' is "
                  "missing from the code of");
  ModelDesc notElf = addModel();
  notElf.code[0] = std::vector<uint8_t>(256, 7);
  expectLoadError(notElf, CATFISH_STATUS_DATA_LOSS, "not a 64-bit ELF shared object");
}

/// Of two CPU codes the runtime runs the higher x86-64 level the machine supports: target 0
/// (x86-64) holds no ELF at all, so loading it would fail; target 1 (x86-64-v2) the kernels.
void testCpuArchChoice() {
  ModelDesc d = addModel();
  d.targets.push_back({"cpu", "x86-64-v2", "elf-shared-object", 2});
  d.code.push_back(d.code[0]);
  d.code[0] = std::vector<uint8_t>(256, 7);
  d.kernels.push_back({"catfish_test_add_f32", "generated", "node 'Add_0'", 1, 4});
  for (StepDesc &step : d.steps)
    step.alternatives = {1};
  catfish_model_t *model = loadChecked(writeTemp("archs.catfish", buildArtifact(d)), nullptr);
  if (!model)
    return;
  CHECK(std::strcmp(catfish_model_device_description(model),
                    "x86-64-v2 code (the artifact has x86-64, x86-64-v2)") == 0);
  CHECK(runAndCheck(model, 7, 2));
  catfish_model_release(model);
}

void testInconsistentManifests() {
  ModelDesc d = addModel();
  d.arenaSize = (uint64_t(1) << 40) + 64;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "is absurd");

  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0 && uint64_t(pages) * uint64_t(pageSize) < (uint64_t(1) << 40)) {
    d = addModel();
    d.arenaSize = uint64_t(1) << 40;
    expectLoadError(d, CATFISH_STATUS_RESOURCE_EXHAUSTED,
                    "a session needs 1.0 TiB of arena (1099511627776 bytes) and 3.9 KiB of "
                    "weights (4012 bytes), more than this machine's memory allows");
  }
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Under `ulimit -v` (the sanitizers reserve terabytes of address space, so not with them).
  pid_t child = fork();
  if (child == 0) {
    struct rlimit limit = {uint64_t(1) << 31, uint64_t(1) << 31};
    setrlimit(RLIMIT_AS, &limit);
    d = addModel();
    d.arenaSize = uint64_t(3) << 30;
    expectLoadError(d, CATFISH_STATUS_RESOURCE_EXHAUSTED, "more than RLIMIT_AS (ulimit -v) allows "
                                                          "(2.0 GiB)");
    std::_Exit(failures == 0 ? 0 : 1);
  }
  int childStatus = 0;
  CHECK(child > 0 && waitpid(child, &childStatus, 0) == child && WIFEXITED(childStatus) &&
        WEXITSTATUS(childStatus) == 0);
#endif

  d = addModel();
  d.steps[0].kernel = 5;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "step 0 uses kernel 5 but there are 1");
  d = addModel();
  d.steps[1].args[2] = 9;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "step 1 argument 2 is buffer 9 but there are 5");
  d = addModel();
  d.buffers[2].offset = 64;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "extends past the end of the weights section");
  d = addModel();
  d.buffers[4].offset = UINT64_MAX - 63;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "extends past the end of the arena");
  d = addModel();
  d.buffers[3].offset = 8;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "not a multiple of 64");
  d = addModel();
  d.outputs[0].shape = {kLength + 1};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "output 'c' needs 4016 bytes but its buffer 4 has 4012");
  d = addModel();
  d.outputs[0].shape = {INT64_MAX, INT64_MAX};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "invalid dtype");
  d = addModel();
  d.inputs[1].buffer = 3;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "which is not an Input buffer");
  d = addModel();
  d.inputs[1].name = "a";
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "two inputs are called 'a'");
  d = addModel();
  d.weightsSize = 8192;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "weights_size is 8192");
  d = addModel();
  d.targets[0].section = 0;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "which is a manifest section, not code");
  d = addModel();
  d.kernels[0].target = 3;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "uses target 3 but there are 1");
  d = addModel();
  d.kernels[0].maxTasks = 0;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "max_tasks 0");
  d = addModel();
  d.modelSha256 = "XYZ";
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "model_sha256");
  d = addModel();
  d.buffers[0].inputIndex = 7;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "input 'a' uses buffer 0, which is not an Input buffer");

  // A manifest that is not a FlatBuffer, with valid checksums.
  std::vector<SectionBytes> sections = {{SectionKind::Manifest, std::vector<uint8_t>(64, 0xab)}};
  LoadResult garbage = tryLoad(writeTemp("garbage.catfish", writeArtifactFile(sections)));
  CHECK(garbage.code == CATFISH_STATUS_DATA_LOSS);
  CHECK(contains(garbage.message, "manifest is malformed"));
  // No manifest at all.
  LoadResult none = tryLoad(writeTemp("none.catfish", writeArtifactFile({})));
  CHECK(contains(none.message, "no manifest section"));

  // A model without steps or weights whose output is its input; the packed i4 input is
  // unpacked into a buffer of a byte per element and packed again on the way out.
  ModelDesc identity;
  identity.inputs = {{"x", DType::I4, {3}, 0}};
  identity.outputs = {{"y", DType::I4, {3}, 0}};
  identity.buffers = {{BufferKind::Input, 0, 3, 0}};
  std::string path = writeTemp("identity.catfish", buildArtifact(identity));
  catfish_model_t *model = nullptr;
  CHECK(catfish_model_load(path.c_str(), &model) == nullptr);
  catfish_session_t *session = nullptr;
  if (model && catfish_session_create(model, &session) == nullptr) {
    uint8_t packed[2] = {0x21, 0x0f};
    const void *data = nullptr;
    size_t size = 0;
    CHECK(catfish_session_set_input(session, 0, packed, 2) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    CHECK(catfish_session_output(session, 0, &data, &size) == nullptr);
    CHECK(size == 2 && std::memcmp(data, packed, 2) == 0);
    catfish_session_release(session);
  }
  catfish_model_release(model);
}

void testTensorFiles() {
  using namespace catfish::tools;
  int64_t dims[2] = {2, 3};
  float values[6] = {1, -2, 3.5f, 0, 5, 6};
  std::vector<uint8_t> npy = encodeNpy(CATFISH_DTYPE_F32, dims, 2,
                                       reinterpret_cast<const uint8_t *>(values), sizeof(values));
  CHECK((npy.size() - sizeof(values)) % 64 == 0);
  HostTensor tensor;
  std::string error;
  CHECK(parseNpy(npy.data(), npy.size(), "x.npy", tensor, error));
  CHECK(tensor.dtype == CATFISH_DTYPE_F32 && tensor.shape == std::vector<int64_t>({2, 3}));
  CHECK(tensor.data.size() == sizeof(values) &&
        std::memcmp(tensor.data.data(), values, sizeof(values)) == 0);
  std::vector<uint8_t> truncated(npy.begin(), npy.end() - 1);
  CHECK(!parseNpy(truncated.data(), truncated.size(), "x.npy", tensor, error));
  CHECK(contains(error, "'x.npy' is not a valid .npy file"));
  uint8_t i4[2] = {0x9f, 0x07}; // -1, -7, 7
  int64_t three = 3;
  npy = encodeNpy(CATFISH_DTYPE_I4, &three, 1, i4, 2);
  HostTensor unpacked;
  CHECK(parseNpy(npy.data(), npy.size(), "i4.npy", unpacked, error));
  CHECK(unpacked.dtype == CATFISH_DTYPE_I8 && unpacked.data.size() == 3 &&
        int8_t(unpacked.data[0]) == -1 && int8_t(unpacked.data[1]) == -7 &&
        int8_t(unpacked.data[2]) == 7);
  npy = encodeNpy(CATFISH_DTYPE_I64, nullptr, 0, reinterpret_cast<const uint8_t *>("\5\0\0\0\0\0\0\0"), 8);
  CHECK(parseNpy(npy.data(), npy.size(), "s.npy", tensor, error));
  CHECK(tensor.shape.empty() && tensor.dtype == CATFISH_DTYPE_I64);

  // TensorProto: dims [2] (packed), data_type FLOAT, float_data packed, name "t".
  std::vector<uint8_t> pb = {0x0a, 0x01, 0x02, 0x10, 0x01, 0x22, 0x08};
  float two[2] = {1.5f, -3};
  pb.insert(pb.end(), reinterpret_cast<uint8_t *>(two), reinterpret_cast<uint8_t *>(two) + 8);
  pb.insert(pb.end(), {0x42, 0x01, 't'});
  std::string name;
  CHECK(parseTensorProto(pb.data(), pb.size(), "t.pb", tensor, name, error));
  CHECK(name == "t" && tensor.dtype == CATFISH_DTYPE_F32 &&
        tensor.shape == std::vector<int64_t>({2}) && std::memcmp(tensor.data.data(), two, 8) == 0);
  // Unpacked dims 1 and 3, FLOAT16 in int32_data (0x3c00 = 1.0, 0xc000 = -2.0, 0 = 0.0).
  pb = {0x08, 0x01, 0x08, 0x03, 0x10, 0x0a, 0x28, 0x80, 0x78, 0x28, 0x80, 0x80, 0x03, 0x28, 0x00};
  CHECK(parseTensorProto(pb.data(), pb.size(), "h.pb", tensor, name, error));
  CHECK(tensor.dtype == CATFISH_DTYPE_F16 && tensor.shape == std::vector<int64_t>({1, 3}));
  CHECK(elementValue(CATFISH_DTYPE_F16, tensor.data.data(), 0) == 1.0 &&
        elementValue(CATFISH_DTYPE_F16, tensor.data.data(), 1) == -2.0);
  // raw_data INT64 [2].
  pb = {0x0a, 0x01, 0x02, 0x10, 0x07, 0x4a, 0x10};
  for (int i = 0; i < 16; ++i)
    pb.push_back(i == 0 ? 9 : i == 8 ? 0xff : i > 8 ? 0xff : 0);
  CHECK(parseTensorProto(pb.data(), pb.size(), "r.pb", tensor, name, error));
  CHECK(elementValue(CATFISH_DTYPE_I64, tensor.data.data(), 0) == 9 &&
        elementValue(CATFISH_DTYPE_I64, tensor.data.data(), 1) == -1);
  pb = {0x10, 0x08, 0x32, 0x01, 'x'};
  CHECK(!parseTensorProto(pb.data(), pb.size(), "s.pb", tensor, name, error));
  CHECK(contains(error, "string"));
  pb = {0x10, 0x01, 0x70, 0x01};
  CHECK(!parseTensorProto(pb.data(), pb.size(), "e.pb", tensor, name, error));
  CHECK(contains(error, "external data"));
  pb = {0x0a, 0x05, 0x01};
  CHECK(!parseTensorProto(pb.data(), pb.size(), "m.pb", tensor, name, error));
  CHECK(contains(error, "malformed"));

  uint64_t bytes = 0;
  int64_t oddDims[1] = {5};
  CHECK(tensorByteSize(DType::I4, oddDims, 1, bytes) && bytes == 3);
  CHECK(tensorBufferSize(DType::I4, oddDims, 1, bytes) && bytes == 5);
  int64_t huge[2] = {INT64_MAX, 4};
  CHECK(!tensorByteSize(DType::F32, huge, 2, bytes));
}

/// y = NonZero(x) for x f32 2x3: y is i64 [2, <=6], its size in the 8-byte arena buffer 2; CPU
/// code. With `setSize`, an input n and a second step overwrite that size with n.
ModelDesc nonzeroModel(bool setSize = false) {
  ModelDesc d;
  d.formatVersion = kFormatVersion;
  d.compilerVersion = "catfish-test 0.1";
  d.modelName = "nonzero";
  d.inputs = {{"x", DType::F32, {2, 3}, 0}};
  d.outputs = {{"y", DType::I64, {2, 6}, 1, {{1, 2}}}};
  d.buffers = {{BufferKind::Input, 0, 24, 0},
               {BufferKind::Arena, 0, 96},
               {BufferKind::Arena, 128, 8}};
  d.targets = {{"cpu", "x86-64", "elf-shared-object", 1}};
  d.kernels = {{"catfish_test_nonzero", "generated", "node 'NonZero_0'", 0, 1}};
  d.steps = {{0, {0, 1, 2}}};
  d.arenaSize = 192;
  d.code = {fileBytes(CATFISH_TEST_EMULATED_SO)};
  if (setSize) {
    d.inputs.push_back({"n", DType::I64, {}, 3});
    d.buffers.push_back({BufferKind::Input, 0, 8, 1});
    d.kernels.push_back({"catfish_test_set_size", "generated", "", 0, 1});
    d.steps.push_back({1, {3, 2}});
  }
  return d;
}

/// nonzeroModel() as a CUDA plan of one launch of one thread, for the CUDA emulator.
ModelDesc emulatedNonzeroModel() {
  ModelDesc d = nonzeroModel();
  d.targets = {{"cuda", "sm_80", "fatbin", 1},
               {kCudaEmulatorTarget, "x86-64", "elf-shared-object", 2}};
  d.code.insert(d.code.begin(), std::vector<uint8_t>{0x50, 0xed, 0x55, 0xba});
  LaunchDesc launch{"catfish_test_nonzero", {1, 1, 1}, {1, 1, 1}, {0, 1, 2}};
  d.kernels = {{"catfish_kernel_0", "generated", "node 'NonZero_0'", 0, 1, {launch}}};
  return d;
}

/// Loads `desc` on `device` and creates a session; both null after a failed CHECK.
void openSession(const ModelDesc &desc, const char *device, catfish_model_t *&model,
                 catfish_session_t *&session) {
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.device = device;
  std::string path = writeTemp("data-dependent.catfish", buildArtifact(desc));
  model = nullptr;
  session = nullptr;
  catfish_status_t *status = catfish_model_load_with_options(path.c_str(), &options, &model);
  if (!status)
    status = catfish_session_create(model, &session);
  if (status)
    std::fprintf(stderr, "  %s\n", catfish_status_message(status));
  CHECK(status == nullptr);
  catfish_status_free(status);
}

/// Whether the last run's y has the dims `dims` and holds `values`, compacted.
bool nonzeroOutputIs(const catfish_session_t *session, const std::vector<int64_t> &dims,
                     const std::vector<int64_t> &values) {
  int64_t actual[2] = {-1, -1};
  const void *data = nullptr;
  size_t size = 0;
  catfish_status_t *status = catfish_session_output_shape(session, 0, actual, 2);
  if (!status)
    status = catfish_session_output(session, 0, &data, &size);
  if (status) {
    std::fprintf(stderr, "  %s\n", catfish_status_message(status));
    catfish_status_free(status);
    return false;
  }
  return actual[0] == dims[0] && actual[1] == dims[1] && size == values.size() * sizeof(int64_t) &&
         (size == 0 || std::memcmp(data, values.data(), size) == 0);
}

/// NonZero on the CPU and on the CUDA emulator: the bound in the signature, the actual shape
/// and the compacted data after each run (rows of 4 taken from rows of 6, an empty result, a
/// full one), and the refusals of a short out_dims and of a device binding.
void testDataDependentOutputs() {
  for (const char *device : {"cpu", "cuda-emulator"}) {
    catfish_model_t *model;
    catfish_session_t *session;
    openSession(device == std::string("cpu") ? nonzeroModel() : emulatedNonzeroModel(), device,
                model, session);
    if (!session) {
      catfish_model_release(model);
      continue;
    }
    catfish_tensor_info_t info;
    CHECK(catfish_model_output_info(model, 0, &info) == nullptr);
    CHECK(info.data_dependent_dims == 0b10 && info.rank == 2 && info.dims[0] == 2 &&
          info.dims[1] == 6 && info.byte_size == 96);
    CHECK(catfish_model_input_info(model, 0, &info) == nullptr && info.data_dependent_dims == 0);
    int64_t dims[2];
    CHECK(expectStatus(catfish_session_output_shape(session, 0, dims, 2),
                       CATFISH_STATUS_FAILED_PRECONDITION,
                       "output 'y' is not available before the first run"));
    float sparse[6] = {1, 0, 2, 0, 3, 4}, zeros[6] = {}, ones[6] = {1, 1, 1, 1, 1, 1};
    CHECK(catfish_session_set_input(session, 0, sparse, sizeof(sparse)) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    CHECK(nonzeroOutputIs(session, {2, 4}, {0, 0, 1, 1, 0, 2, 1, 2}));
    CHECK(catfish_session_set_input(session, 0, zeros, sizeof(zeros)) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    CHECK(nonzeroOutputIs(session, {2, 0}, {}));
    CHECK(catfish_session_set_input(session, 0, ones, sizeof(ones)) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    CHECK(nonzeroOutputIs(session, {2, 6}, {0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 1, 2}));

    CHECK(expectStatus(catfish_session_output_shape(session, 0, dims, 1),
                       CATFISH_STATUS_INVALID_ARGUMENT,
                       "output 'y' has rank 2; out_dims has room for 1"));
    CHECK(expectStatus(catfish_session_bind_output_device(session, 0, 0x1000, 96),
                       CATFISH_STATUS_INVALID_ARGUMENT,
                       "output 'y' has data-dependent dims, whose sizes the runtime reads after "
                       "each run; it must be read through catfish_session_output"));
    catfish_session_release(session);
    catfish_model_release(model);
  }

  // A static output: no bit set, its static shape.
  catfish_model_t *model;
  catfish_session_t *session;
  openSession(addModel(), "cpu", model, session);
  if (session) {
    std::vector<float> a = inputValues(1);
    CHECK(catfish_session_set_input(session, 0, a.data(), kBytes) == nullptr);
    CHECK(catfish_session_set_input(session, 1, a.data(), kBytes) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    catfish_tensor_info_t info;
    CHECK(catfish_model_output_info(model, 0, &info) == nullptr && info.data_dependent_dims == 0);
    int64_t dims[1] = {0};
    CHECK(catfish_session_output_shape(session, 0, dims, 1) == nullptr && dims[0] == kLength);
    CHECK(expectStatus(catfish_session_output_shape(session, 0, nullptr, 0),
                       CATFISH_STATUS_INVALID_ARGUMENT, "output 'c' has rank 1"));
  }
  catfish_session_release(session);
  catfish_model_release(model);
}

/// A size outside [0, bound] fails the run, naming the output, dim, value and bound, and leaves
/// no output readable; a size within it is used.
void testDataDependentSizeOutOfRange() {
  catfish_model_t *model;
  catfish_session_t *session;
  openSession(nonzeroModel(true), "cpu", model, session);
  if (!session) {
    catfish_model_release(model);
    return;
  }
  float x[6] = {1, 0, 2, 0, 3, 4};
  int64_t n = 3;
  CHECK(catfish_session_set_input(session, 0, x, sizeof(x)) == nullptr);
  CHECK(catfish_session_set_input(session, 1, &n, sizeof(n)) == nullptr);
  CHECK(catfish_session_run(session) == nullptr);
  CHECK(nonzeroOutputIs(session, {2, 3}, {0, 0, 1, 0, 2, 1}));
  for (int64_t bad : {int64_t(7), int64_t(-1), INT64_MAX}) {
    CHECK(catfish_session_set_input(session, 1, &bad, sizeof(bad)) == nullptr);
    CHECK(expectStatus(catfish_session_run(session), CATFISH_STATUS_INTERNAL,
                       "output 'y': the run gave data-dependent dim 1 the size " +
                           std::to_string(bad) +
                           ", outside its bound [0, 6] (a wrong kernel or a damaged artifact)"));
    const void *data;
    size_t size;
    CHECK(expectStatus(catfish_session_output(session, 0, &data, &size),
                       CATFISH_STATUS_FAILED_PRECONDITION, "not available before the first run"));
  }
  catfish_session_release(session);
  catfish_model_release(model);
}

/// Data-dependent dims only on outputs, in range, once each, with an 8-byte arena size buffer,
/// at rank 64 at most, not packed, and in a version-2 file.
void testDataDependentRefusals() {
  ModelDesc d = nonzeroModel();
  d.inputs[0].dataDependentDims = {{0, 2}};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "input 'x' has data-dependent dims; only outputs may");
  d = nonzeroModel();
  d.outputs[0].dataDependentDims = {{2, 2}};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' has data-dependent dim 2 but its rank is 2");
  d.outputs[0].dataDependentDims = {{1, 2}, {1, 2}};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "output 'y' lists data-dependent dim 1 twice");
  d.outputs[0].dataDependentDims = {{1, 7}};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' has the size of dim 1 in buffer 7 but there are 3");
  d.outputs[0].dataDependentDims = {{1, 0}};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' has the size of dim 1 in buffer 0, which is not an 8-byte arena "
                  "buffer");
  d = nonzeroModel();
  d.buffers[2].size = 16;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' has the size of dim 1 in buffer 2, which is not an 8-byte arena "
                  "buffer");
  d = nonzeroModel();
  d.outputs[0].shape = std::vector<int64_t>(65, 1);
  d.buffers[1].size = 8;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' has data-dependent dims and rank 65; the limit is 64");
  d = nonzeroModel();
  d.outputs[0].dtype = DType::I4;
  d.buffers[1].size = 12;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' is i4, packed two per byte, and cannot have data-dependent dims");
  d = nonzeroModel();
  d.formatVersion = kFirstFormatVersion;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "output 'y' has data-dependent dims, which format version 1 cannot describe");
}

/// Artifacts and input files for tool_tests.cmake.
/// c = a + trips * b by a loop of control steps around the add kernel: the carried sum starts
/// as a, each iteration adds b into a temporary that is copied back. The trip count is a
/// weight (after the add model's f32 weights).
ModelDesc loopModel(int64_t trips) {
  ModelDesc d = addModel();
  d.formatVersion = kControlStepsFormatVersion;
  uint64_t tripOffset = (d.weights.size() + 63) / 64 * 64;
  d.weights.resize(tripOffset + 8);
  std::memcpy(d.weights.data() + tripOffset, &trips, sizeof(trips));
  d.weightsSize = d.weights.size();
  // Buffers: 0 a, 1 b, 2 w (unused), 3 carried sum (the output), 4 temporary, 5 iteration,
  // 6 condition, 7 trip count.
  d.buffers = {{BufferKind::Input, 0, kBytes, 0},
               {BufferKind::Input, 0, kBytes, 1},
               {BufferKind::Weight, 0, kBytes},
               {BufferKind::Arena, 0, kBytes},
               {BufferKind::Arena, kAlignedBytes, kBytes},
               {BufferKind::Arena, 2 * kAlignedBytes, 8},
               {BufferKind::Arena, 2 * kAlignedBytes + 64, 1},
               {BufferKind::Weight, tripOffset, 8}};
  d.outputs = {{"c", DType::F32, {kLength}, 3}};
  d.arenaSize = 2 * kAlignedBytes + 128;
  d.steps = {{0, {0, 3}, {}, Control::Copy},
             {0, {5, 6}, {}, Control::LoopBegin},
             {0, {5, 6, 7}, {}, Control::LoopTest, 6},
             {0, {3, 1, 4}},
             {0, {4, 3}, {}, Control::Copy},
             {0, {5}, {}, Control::LoopNext, 2}};
  return d;
}

void testControlSteps() {
  for (int64_t trips : {0, 1, 3}) {
    catfish_model_t *model =
        loadChecked(writeTemp("loop.catfish", buildArtifact(loopModel(trips))), nullptr);
    if (!model)
      continue;
    catfish_session_t *session = nullptr;
    CHECK(catfish_session_create(model, &session) == nullptr);
    std::vector<float> a = inputValues(1), b = inputValues(2);
    const void *data = nullptr;
    size_t size = 0;
    CHECK(catfish_session_set_input(session, 0, a.data(), kBytes) == nullptr);
    CHECK(catfish_session_set_input(session, 1, b.data(), kBytes) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    CHECK(catfish_session_output(session, 0, &data, &size) == nullptr);
    bool right = size == kBytes;
    for (int64_t i = 0; right && i < kLength; ++i) {
      float want = a[i];
      for (int64_t t = 0; t < trips; ++t)
        want += b[i];
      right = static_cast<const float *>(data)[i] == want;
    }
    CHECK(right);
    catfish_session_release(session);
    catfish_model_release(model);
  }

  ModelDesc d = loopModel(2);
  d.formatVersion = kDataDependentDimsFormatVersion;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "step 0 is a control step, which format version 2 cannot describe");
  d = loopModel(2);
  d.steps[0].args = {0, 5};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "step 0 (Copy) has a destination of 8 bytes, not 4012");
  d = loopModel(2);
  d.steps[4].args = {4, 2};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "step 4 (Copy) writes its destination into a buffer that is not in the arena");
  d = loopModel(2);
  d.steps[2].target = 1;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "step 2 (LoopTest) leaves the loop for step 1, which does not follow it");
  d = loopModel(2);
  d.steps[5].target = 6;
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "step 5 (LoopNext) repeats from step 6, which does not precede it");
  d = loopModel(2);
  d.steps[2].args = {5, 6, 7, 7};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "step 2 (LoopTest) takes 2 or 3 buffers, not 4");
  d = loopModel(2);
  d.steps[2].args = {5, 6, 1};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS,
                  "step 2 (LoopTest) has a trip count of 4012 bytes, not 8");
  d = loopModel(2);
  d.steps[1].control = static_cast<Control>(77);
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "step 1 (");
  d = loopModel(2);
  d.steps[1].args = {5, 6, 99};
  expectLoadError(d, CATFISH_STATUS_DATA_LOSS, "step 1 (LoopBegin) uses buffer 99 but there are 8");
}

int writeExamples(const std::string &dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), error.message().c_str());
    return 1;
  }
  workDir = dir;
  ModelDesc add = addModel();
  writeTemp("add.catfish", buildArtifact(add));
  ModelDesc cuda = addModel();
  cuda.targets = {{"cuda", "sm_90a", "cubin", 1}};
  cuda.code = {{1, 2, 3, 4}};
  writeTemp("cuda.catfish", buildArtifact(cuda));
  std::vector<uint8_t> damaged = buildArtifact(add);
  const SectionEntry *table = reinterpret_cast<const SectionEntry *>(damaged.data() + 32);
  damaged[table[1].offset + 200] ^= 1;
  writeTemp("damaged.catfish", damaged);
  ModelDesc odd = addModel();
  odd.outputs[0].name = "out/c:0";
  writeTemp("odd-names.catfish", buildArtifact(odd));
  writeTemp("nonzero.catfish", buildArtifact(nonzeroModel()));
  float sparse[6] = {1, 0, 2, 0, 3, 4};
  int64_t sparseShape[2] = {2, 3};
  writeTemp("nonzero-x.npy",
            catfish::tools::encodeNpy(CATFISH_DTYPE_F32, sparseShape, 2,
                                      reinterpret_cast<const uint8_t *>(sparse), sizeof(sparse)));

  std::vector<float> a(kLength, 1.0f), b(kLength, 2.0f);
  int64_t shape[2] = {2, 4};
  writeTemp("a.npy", catfish::tools::encodeNpy(CATFISH_DTYPE_F32, &kLength, 1,
                                              reinterpret_cast<const uint8_t *>(a.data()), kBytes));
  writeTemp("bad-shape.npy", catfish::tools::encodeNpy(CATFISH_DTYPE_F32, shape, 2,
                                                       reinterpret_cast<const uint8_t *>(a.data()),
                                                       8 * sizeof(float)));
  std::vector<double> wide(kLength, 1.0);
  writeTemp("bad-dtype.npy",
            catfish::tools::encodeNpy(CATFISH_DTYPE_F64, &kLength, 1,
                                      reinterpret_cast<const uint8_t *>(wide.data()),
                                      kLength * sizeof(double)));
  writeTemp("garbage.npy", std::vector<uint8_t>(100, 'g'));
  // TensorProto: dims [1003] (varint 0xeb 0x07), FLOAT, raw_data of 4012 bytes (varint 0xac 0x1f).
  std::vector<uint8_t> pb = {0x08, 0xeb, 0x07, 0x10, 0x01, 0x4a, 0xac, 0x1f};
  pb.insert(pb.end(), reinterpret_cast<uint8_t *>(b.data()),
            reinterpret_cast<uint8_t *>(b.data()) + kBytes);
  writeTemp("b.pb", pb);
  return 0;
}

/// y = f(x) for 256 floats: one CUDA launch of `function` (2 blocks of 128 threads) from
/// emulated_kernels.c, behind a cuda target whose fatbin the emulator never reads.
ModelDesc emulatedModel(const std::string &function) {
  constexpr uint64_t bytes = 256 * sizeof(float);
  ModelDesc d;
  d.compilerVersion = "catfish-test 0.1";
  d.modelSha256 = std::string(64, 'e');
  d.modelName = "emulated";
  d.inputs = {{"x", DType::F32, {256}, 0}};
  d.outputs = {{"y", DType::F32, {256}, 1}};
  d.buffers = {{BufferKind::Input, 0, bytes, 0}, {BufferKind::Arena, 0, bytes}};
  d.targets = {{"cuda", "sm_80", "fatbin", 1}, {kCudaEmulatorTarget, "x86-64", "elf-shared-object", 2}};
  LaunchDesc launch{function, {2, 1, 1}, {128, 1, 1}, {0, 1}, true, 128 * sizeof(float)};
  d.kernels = {{"catfish_kernel_0", "generated", "node 'F'", 0, 1, {launch}}};
  d.steps = {{0, {0, 1}}};
  d.arenaSize = bytes;
  d.code = {{0x50, 0xed, 0x55, 0xba}, fileBytes(CATFISH_TEST_EMULATED_SO)};
  return d;
}

/// Runs `desc` on the CUDA emulator with x[i] = i; the status, and y in `y`.
LoadResult runEmulated(const ModelDesc &desc, std::vector<float> &y, uint32_t threads) {
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.num_threads = threads;
  options.device = "cuda-emulator";
  catfish_model_t *model = nullptr;
  catfish_session_t *session = nullptr;
  std::string path = writeTemp("emulated.catfish", buildArtifact(desc));
  catfish_status_t *status = catfish_model_load_with_options(path.c_str(), &options, &model);
  if (!status)
    status = catfish_session_create(model, &session);
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i)
    x[i] = static_cast<float>(i);
  if (!status)
    status = catfish_session_set_input(session, 0, x.data(), x.size() * sizeof(float));
  if (!status)
    status = catfish_session_run(session);
  const void *data = nullptr;
  size_t size = 0;
  if (!status)
    status = catfish_session_output(session, 0, &data, &size);
  if (!status) {
    const float *values = static_cast<const float *>(data);
    y.assign(values, values + size / sizeof(float));
  }
  LoadResult result{catfish_status_code(status), catfish_status_message(status)};
  catfish_status_free(status);
  catfish_session_release(session);
  catfish_model_release(model);
  return result;
}

/// The emulator runs a launch's threads as the GPU would have them meet: a barrier makes the
/// reversal right, its absence makes it wrong, shuffles exchange lanes' values, lanes of a warp
/// that wait at different places are reported (a GPU would hang).
void testCudaEmulator() {
  for (uint32_t threads : {1u, 2u}) {
    std::vector<float> y;
    LoadResult result = runEmulated(emulatedModel("catfish_test_reverse"), y, threads);
    if (result.code != CATFISH_STATUS_OK)
      std::fprintf(stderr, "  %s\n", result.message.c_str());
    CHECK(result.code == CATFISH_STATUS_OK);
    bool reversed = y.size() == 256;
    for (int i = 0; reversed && i < 256; ++i)
      reversed = y[i] == static_cast<float>(i / 128 * 128 + 127 - i % 128);
    CHECK(reversed);

    result = runEmulated(emulatedModel("catfish_test_warp_sum"), y, threads);
    CHECK(result.code == CATFISH_STATUS_OK);
    bool summed = y.size() == 256;
    for (int i = 0; summed && i < 256; ++i) {
      int first = i / 32 * 32;
      summed = y[i] == static_cast<float>(32 * first + 31 * 32 / 2);
    }
    CHECK(summed);
  }

  std::vector<float> y;
  LoadResult result =
      runEmulated(emulatedModel("catfish_test_reverse_unsynchronized"), y, 1);
  CHECK(result.code == CATFISH_STATUS_OK);
  bool reversed = y.size() == 256;
  for (int i = 0; reversed && i < 256; ++i)
    reversed = y[i] == static_cast<float>(i / 128 * 128 + 127 - i % 128);
  CHECK(!reversed);

  result = runEmulated(emulatedModel("catfish_test_divergent"), y, 1);
  CHECK(result.code == CATFISH_STATUS_INTERNAL);
  CHECK(contains(result.message, "the CUDA emulator stopped in kernel 0 (catfish_kernel_0 from "
                                 "node 'F'): catfish_test_divergent block 0: warp 0: some lanes "
                                 "wait at a shuffle, others at a barrier"));

  // Errors at load: no host code, a missing function, a CPU run of a CUDA plan.
  ModelDesc noHostCode = emulatedModel("catfish_test_reverse");
  noHostCode.targets.pop_back();
  noHostCode.code.pop_back();
  CHECK(runEmulated(noHostCode, y, 1).code == CATFISH_STATUS_FAILED_PRECONDITION);
  CHECK(contains(runEmulated(emulatedModel("catfish_test_missing"), y, 1).message,
                 "symbol 'catfish_test_missing' is missing from the code of"));
  expectLoadError(emulatedModel("catfish_test_reverse"), CATFISH_STATUS_UNSUPPORTED,
                  "device cuda-emulator runs its CUDA plan on the host");
  ModelDesc tooWide = emulatedModel("catfish_test_reverse");
  tooWide.kernels[0].launches[0].block = {2048, 1, 1};
  expectLoadError(tooWide, CATFISH_STATUS_DATA_LOSS, "has 2048 threads per block; CUDA allows 1024");
  ModelDesc badArg = emulatedModel("catfish_test_reverse");
  badArg.kernels[0].launches[0].args = {0, 2};
  expectLoadError(badArg, CATFISH_STATUS_DATA_LOSS,
                  "step 0 launches catfish_test_reverse with its argument 2 but the step has 2");
}

} // namespace

/// The CUDA-only session calls on a CPU session: every argument is checked first, then the
/// device is refused; run_async and wait run and wait on the CPU.
void testDeviceApiOnCpu() {
  std::string path = writeTemp("add.catfish", buildArtifact(addModel()));
  catfish_model_t *model = nullptr;
  CHECK(catfish_model_load(path.c_str(), &model) == nullptr);
  if (!model)
    return;
  CHECK(std::strcmp(catfish_model_device(model), "cpu") == 0);
  CHECK(std::strcmp(catfish_model_device_description(model),
                    "x86-64 code (the artifact has x86-64)") == 0);
  catfish_session_t *session = nullptr;
  CHECK(catfish_session_create(model, &session) == nullptr);
  auto expect = [](catfish_status_t *status, catfish_status_code_t code, const char *message) {
    CHECK(catfish_status_code(status) == code);
    if (!contains(catfish_status_message(status), message))
      std::fprintf(stderr, "  expected \"%s\" in \"%s\"\n", message,
                   catfish_status_message(status));
    CHECK(contains(catfish_status_message(status), message));
    catfish_status_free(status);
  };
  expect(catfish_session_bind_input_device(nullptr, 0, 0x1000, kBytes),
         CATFISH_STATUS_INVALID_ARGUMENT, "session must not be NULL");
  expect(catfish_session_bind_input_device(session, 2, 0x1000, kBytes),
         CATFISH_STATUS_INVALID_ARGUMENT, "input index 2 is out of range; the model has 2 inputs");
  expect(catfish_session_bind_input_device(session, 0, 0x1000, kBytes - 4),
         CATFISH_STATUS_INVALID_ARGUMENT,
         "input 'a' (index 0) is 4012 bytes (f32 1003), the bound memory 4008");
  expect(catfish_session_bind_output_device(session, 0, 0x1010, kBytes),
         CATFISH_STATUS_INVALID_ARGUMENT, "output 'c': device memory must be 64-byte aligned");
  expect(catfish_session_bind_output_device(session, 1, 0x1000, kBytes),
         CATFISH_STATUS_INVALID_ARGUMENT, "output index 1 is out of range; the model has 1 outputs");
  expect(catfish_session_bind_input_device(session, 0, 0x1000, kBytes),
         CATFISH_STATUS_FAILED_PRECONDITION,
         "catfish_session_bind_input_device needs a session on a CUDA device; this one runs on cpu");
  expect(catfish_session_set_stream(session, nullptr), CATFISH_STATUS_FAILED_PRECONDITION,
         "catfish_session_set_stream needs a session on a CUDA device");
  float ms = 0;
  expect(catfish_session_gpu_time_ms(session, &ms), CATFISH_STATUS_FAILED_PRECONDITION,
         "catfish_session_gpu_time_ms needs a session on a CUDA device");
  expect(catfish_session_wait(nullptr), CATFISH_STATUS_INVALID_ARGUMENT,
         "session must not be NULL");
  std::vector<float> a = inputValues(1), b = inputValues(2);
  CHECK(catfish_session_set_input(session, 0, a.data(), kBytes) == nullptr);
  CHECK(catfish_session_set_input(session, 1, b.data(), kBytes) == nullptr);
  CHECK(catfish_session_run_async(session) == nullptr);
  CHECK(catfish_session_wait(session) == nullptr);
  const void *data = nullptr;
  size_t size = 0;
  CHECK(catfish_session_output(session, 0, &data, &size) == nullptr && size == kBytes);
  if (data) {
    const float *c = static_cast<const float *>(data);
    for (int64_t i = 0; i < kLength; ++i)
      CHECK(c[i] == (a[i] + b[i]) + weightValue(i));
  }
  catfish_session_release(session);

  // Devices: a malformed ordinal and a GPU that the (absent) driver cannot give.
  for (const char *device : {"cuda:", "cuda:x", "cuda:-1", "gpu"}) {
    catfish_model_options_t options;
    catfish_model_options_initialize(&options);
    options.device = device;
    catfish_model_t *other = nullptr;
    catfish_status_t *status = catfish_model_load_with_options(path.c_str(), &options, &other);
    CHECK(other == nullptr);
    expect(status, CATFISH_STATUS_INVALID_ARGUMENT,
           "(devices: auto, cpu, cuda, cuda:N, cuda-emulator)");
  }
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  CHECK(options.cuda_graphs == 1);
  options.device = "cuda:3";
  catfish_model_t *other = nullptr;
  expect(catfish_model_load_with_options(path.c_str(), &options, &other),
         CATFISH_STATUS_UNSUPPORTED, "kernel 0 (catfish_test_add_f32) is code for target cpu; device cuda:3 "
                                     "runs CUDA plans only");
  catfish_model_release(model);
}

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "--write-examples")
    return writeExamples(argv[2]);
  // Whether this machine has a GPU must not change what the tests expect: no driver opens.
  setenv("CATFISH_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  char pattern[] = "/tmp/catfish-runtime-tests-XXXXXX";
  const char *dir = mkdtemp(pattern);
  if (!dir) {
    std::perror("mkdtemp");
    return 1;
  }
  workDir = dir;

  struct Test {
    const char *name;
    void (*run)();
  } tests[] = {
      {"run", testRun},
      {"load from memory", testLoadFromMemory},
      {"introspection and session errors", testIntrospectionAndSessionErrors},
      {"concurrent sessions", testConcurrentSessions},
      {"every flipped byte", testEveryFlippedByte},
      {"truncated and foreign files", testTruncatedAndForeignFiles},
      {"versions and targets", testVersionsAndTargets},
      {"the best CPU code the machine runs", testCpuArchChoice},
      {"inconsistent manifests", testInconsistentManifests},
      {"tensor files", testTensorFiles},
      {"CUDA emulator", testCudaEmulator},
      {"device API on the CPU", testDeviceApiOnCpu},
      {"data-dependent outputs", testDataDependentOutputs},
      {"data-dependent size out of range", testDataDependentSizeOutOfRange},
      {"data-dependent dims refused", testDataDependentRefusals},
      {"control steps", testControlSteps},
  };
  for (const Test &test : tests) {
    int before = failures;
    test.run();
    std::printf("%s: %s\n", failures == before ? "PASS" : "FAIL", test.name);
  }
  std::error_code ignored;
  std::filesystem::remove_all(workDir, ignored);
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
