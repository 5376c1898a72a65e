//===- cuda_backend_tests.cpp - the CUDA backend's parts that need no GPU --===//
//
// cuBLASLt descriptors for every kind of product the plan can ask for, built through the real
// libcublasLt (descriptor creation works without a GPU): the layouts and operations read back
// from them, evaluated with cuBLASLt's documented column-major semantics, must give what the
// plan's row-major definition (artifact.fbs, CudaMatmul) gives. Also the refusals of what
// cuBLASLt is not asked yet, and the fatbin image choice.
//
// Then the backend end to end on fake_cuda_driver.c, a libcuda stand-in that runs launches on
// the host: loading (image choice, weights upload), sessions, CUDA Graph capture and replay,
// device-pointer bindings, outputs with data-dependent dims, the refusals of a wrong arch,
// ordinal or function.
//
// The cuBLASLt part is skipped, visibly ("SKIP:"), where libcublasLt.so.13 cannot be opened.
//
//===----------------------------------------------------------------------===//

#include "artifact_writer.h"
#include "check.h"
#include "cuda/backend.h"
#include "cuda/cublaslt.h"
#include "cuda/driver.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace fa = catfish::artifact;
using namespace catfish::rt::cuda;

namespace {

int failures = 0;

struct Product {
  const char *name;
  uint64_t m, n, k, batch;
  bool transposeA, transposeB;
  uint64_t lda, ldb, ldc, strideA, strideB, strideC, offsetA, offsetB, offsetC;
  float alpha = 1, beta = 0;
  fa::DType dtype = fa::DType::F32;
  const char *compute = "f32";
  const char *epilogue = "none";
};

/// The plan's CudaMatmul table for `p`, in `builder`'s buffer.
const fa::CudaMatmul &table(flatbuffers::FlatBufferBuilder &builder, const Product &p) {
  auto offset = fa::CreateCudaMatmulDirect(
      builder, 0, 1, 2, p.m, p.n, p.k, p.batch, p.transposeA, p.transposeB, p.lda, p.ldb, p.ldc,
      p.strideA, p.strideB, p.strideC, p.offsetA, p.offsetB, p.offsetC, p.dtype, p.compute,
      p.alpha, p.beta, p.epilogue);
  builder.Finish(offset);
  return *flatbuffers::GetRoot<fa::CudaMatmul>(builder.GetBufferPointer());
}

/// Elements a buffer needs for batch b's matrix of `rows` stored rows `ld` apart.
uint64_t extent(uint64_t offset, uint64_t stride, uint64_t batch, uint64_t rows, uint64_t ld) {
  return offset + stride * (batch - 1) + rows * ld;
}

/// The plan's definition: row-major, op(A_b) m x k, op(B_b) k x n.
std::vector<double> rowMajorReference(const Product &p, const std::vector<float> &a,
                                      const std::vector<float> &b, const std::vector<float> &c) {
  std::vector<double> out(c.begin(), c.end());
  for (uint64_t bt = 0; bt < p.batch; ++bt)
    for (uint64_t i = 0; i < p.m; ++i)
      for (uint64_t j = 0; j < p.n; ++j) {
        double sum = 0;
        for (uint64_t l = 0; l < p.k; ++l) {
          uint64_t ai = p.offsetA + bt * p.strideA + (p.transposeA ? l * p.lda + i : i * p.lda + l);
          uint64_t bi = p.offsetB + bt * p.strideB + (p.transposeB ? j * p.ldb + l : l * p.ldb + j);
          sum += double(a[ai]) * double(b[bi]);
        }
        uint64_t ci = p.offsetC + bt * p.strideC + i * p.ldc + j;
        out[ci] = p.alpha * sum + p.beta * double(c[ci]);
      }
  return out;
}

struct Layout {
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0, stride = 0;
  int32_t batch = 1;
};

Layout readLayout(const CublasLt &lt, cublasLtMatrixLayout_t layout) {
  Layout l;
  size_t written = 0;
  lt.cublasLtMatrixLayoutGetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_ROWS, &l.rows, sizeof(l.rows),
                                      &written);
  lt.cublasLtMatrixLayoutGetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_COLS, &l.cols, sizeof(l.cols),
                                      &written);
  lt.cublasLtMatrixLayoutGetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_LD, &l.ld, sizeof(l.ld),
                                      &written);
  lt.cublasLtMatrixLayoutGetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &l.batch,
                                      sizeof(l.batch), &written);
  lt.cublasLtMatrixLayoutGetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                      &l.stride, sizeof(l.stride), &written);
  return l;
}

/// What cuBLASLt computes with the descriptors as read back: column-major,
/// D = alpha op(A) op(B) + beta C, A = the plan's B buffer at offset_b, B = the plan's A.
std::vector<double> columnMajorFromDescriptors(const CublasLt &lt, const LtMatmul &mm,
                                               const Product &p, const std::vector<float> &a,
                                               const std::vector<float> &b,
                                               const std::vector<float> &c) {
  cublasOperation_t opA = CUBLAS_OP_N, opB = CUBLAS_OP_N;
  size_t written = 0;
  lt.cublasLtMatmulDescGetAttribute(mm.operation(), CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA),
                                    &written);
  lt.cublasLtMatmulDescGetAttribute(mm.operation(), CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB),
                                    &written);
  Layout la = readLayout(lt, mm.layoutA()), lb = readLayout(lt, mm.layoutB()),
         lc = readLayout(lt, mm.layoutC());
  uint64_t rows = lc.rows, cols = lc.cols;
  uint64_t inner = opA == CUBLAS_OP_N ? la.cols : la.rows;
  CHECK((opB == CUBLAS_OP_N ? lb.rows : lb.cols) == inner);
  CHECK((opA == CUBLAS_OP_N ? la.rows : la.cols) == rows);
  CHECK((opB == CUBLAS_OP_N ? lb.cols : lb.rows) == cols);
  CHECK(la.batch == lb.batch && lb.batch == lc.batch && uint64_t(lc.batch) == p.batch);
  std::vector<double> out(c.begin(), c.end());
  for (int32_t bt = 0; bt < lc.batch; ++bt)
    for (uint64_t i = 0; i < rows; ++i)
      for (uint64_t j = 0; j < cols; ++j) {
        double sum = 0;
        for (uint64_t l = 0; l < inner; ++l) {
          // Element (r, s) of a column-major matrix is at r + s * ld.
          uint64_t ai = p.offsetB + bt * la.stride + (opA == CUBLAS_OP_N ? i + l * la.ld : l + i * la.ld);
          uint64_t bi = p.offsetA + bt * lb.stride + (opB == CUBLAS_OP_N ? l + j * lb.ld : j + l * lb.ld);
          sum += double(b[ai]) * double(a[bi]);
        }
        uint64_t ci = p.offsetC + bt * lc.stride + i + j * lc.ld;
        out[ci] = p.alpha * sum + p.beta * double(c[ci]);
      }
  return out;
}

void testProducts(const CublasLt &lt) {
  // m, n, k, batch, transposes, lda, ldb, ldc, strides, offsets (elements), alpha, beta.
  const Product products[] = {
      {"plain", 5, 7, 3, 1, false, false, 3, 7, 7, 0, 0, 0, 0, 0, 0},
      {"padded leading dims", 4, 6, 5, 1, false, false, 8, 9, 10, 0, 0, 0, 0, 0, 0},
      {"A transposed", 5, 4, 6, 1, true, false, 5, 4, 4, 0, 0, 0, 0, 0, 0},
      {"B transposed (x W^T)", 3, 8, 5, 1, false, true, 5, 5, 8, 0, 0, 0, 0, 0, 0},
      {"both transposed", 6, 3, 4, 1, true, true, 6, 4, 3, 0, 0, 0, 0, 0, 0},
      {"strided batch", 3, 4, 5, 3, false, false, 5, 4, 4, 15, 20, 12, 0, 0, 0},
      {"broadcast weight (stride 0)", 4, 3, 2, 4, false, true, 2, 2, 3, 8, 0, 12, 0, 0, 0},
      {"offsets (outer batch call)", 2, 3, 4, 2, false, false, 4, 3, 3, 8, 12, 6, 16, 24, 12},
      {"beta 1 (bias in C), alpha 0.5", 3, 5, 4, 1, false, false, 4, 5, 5, 0, 0, 0, 0, 0, 0, 0.5f,
       1.0f},
  };
  std::mt19937 random(7);
  std::uniform_real_distribution<float> value(-1, 1);
  for (const Product &p : products) {
    flatbuffers::FlatBufferBuilder builder;
    std::unique_ptr<LtMatmul> mm;
    catfish_status_t *status = LtMatmul::create(lt, table(builder, p), mm);
    if (status)
      std::fprintf(stderr, "%s: %s\n", p.name, catfish_status_message(status));
    CHECK(status == nullptr);
    catfish_status_free(status);
    if (!mm)
      continue;
    CHECK(mm->elementBytes() == 4);
    std::vector<float> a(extent(p.offsetA, p.strideA, p.batch, p.transposeA ? p.k : p.m, p.lda));
    std::vector<float> b(extent(p.offsetB, p.strideB, p.batch, p.transposeB ? p.n : p.k, p.ldb));
    std::vector<float> c(extent(p.offsetC, p.strideC, p.batch, p.m, p.ldc));
    for (std::vector<float> *v : {&a, &b, &c})
      for (float &x : *v)
        x = value(random);
    std::vector<double> want = rowMajorReference(p, a, b, c);
    std::vector<double> got = columnMajorFromDescriptors(lt, *mm, p, a, b, c);
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i)
      worst = std::max(worst, std::fabs(want[i] - got[i]));
    if (worst > 1e-9)
      std::fprintf(stderr, "%s: descriptors compute a different product (max error %g)\n",
                   p.name, worst);
    CHECK(worst <= 1e-9);
  }

  // f16 and bf16 operands: 2-byte elements, f32 compute.
  for (fa::DType dtype : {fa::DType::F16, fa::DType::BF16}) {
    Product p = products[0];
    p.dtype = dtype;
    flatbuffers::FlatBufferBuilder builder;
    std::unique_ptr<LtMatmul> mm;
    catfish_status_t *status = LtMatmul::create(lt, table(builder, p), mm);
    CHECK(status == nullptr && mm && mm->elementBytes() == 2);
    catfish_status_free(status);
  }
}

void expectRefusal(const CublasLt &lt, Product p, const char *message) {
  flatbuffers::FlatBufferBuilder builder;
  std::unique_ptr<LtMatmul> mm;
  catfish_status_t *status = LtMatmul::create(lt, table(builder, p), mm);
  CHECK(catfish_status_code(status) == CATFISH_STATUS_UNSUPPORTED);
  std::string text = catfish_status_message(status);
  if (text.find(message) == std::string::npos)
    std::fprintf(stderr, "expected \"%s\" in \"%s\"\n", message, text.c_str());
  CHECK(text.find(message) != std::string::npos);
  CHECK(!mm);
  catfish_status_free(status);
}

void testRefusals(const CublasLt &lt) {
  Product p = {"", 2, 2, 2, 1, false, false, 2, 2, 2, 0, 0, 0, 0, 0, 0};
  Product i8 = p;
  i8.dtype = fa::DType::I8;
  expectRefusal(lt, i8, "cuBLASLt matmul of element type I8 is not supported (f32, f16, bf16)");
  Product tf32 = p;
  tf32.compute = "tf32";
  expectRefusal(lt, tf32, "cuBLASLt compute type 'tf32' is not supported (f32)");
  Product relu = p;
  relu.epilogue = "relu_bias";
  expectRefusal(lt, relu, "cuBLASLt epilogue 'relu_bias' is not supported (none)");
}

void testImageChoice() {
  const std::string portable = "sm_80 sm_90a ptx:compute_80";
  CHECK(pickImage(portable, 9, 0) == "cubin sm_90a");
  CHECK(pickImage(portable, 8, 0) == "cubin sm_80");
  // sm_86 and sm_89 run sm_80 cubins; sm_100 and sm_120 JIT the PTX.
  CHECK(pickImage(portable, 8, 9) == "cubin sm_80");
  CHECK(pickImage(portable, 10, 0) == "PTX compute_80 (JIT-compiled by the driver)");
  CHECK(pickImage(portable, 7, 5).empty());
  CHECK(pickImage("sm_90a", 9, 0) == "cubin sm_90a");
  CHECK(pickImage("sm_90a", 10, 0).empty());
  CHECK(pickImage("sm_90 sm_90a", 9, 0) == "cubin sm_90a");
  CHECK(pickImage("sm_86 ptx:compute_86", 8, 0).empty());
}

//===----------------------------------------------------------------------===//
// The backend on the fake driver
//===----------------------------------------------------------------------===//

constexpr int64_t kLength = 256;
constexpr uint64_t kBytes = kLength * sizeof(float);

struct Counters {
  int launches = 0, graphLaunches = 0, captures = 0, liveAllocations = 0;
};

struct Fake {
  void (*counters)(int *, int *, int *, int *) = nullptr;
  CUdeviceptr (*alloc)(size_t) = nullptr;
  void (*free)(CUdeviceptr) = nullptr;
  Counters read() const {
    Counters c;
    counters(&c.launches, &c.graphLaunches, &c.captures, &c.liveAllocations);
    return c;
  }
} fake;

float weight(int64_t i) { return 0.5f * float(i % 5); }

/// y = 2 x + w: one launch of catfish_test_axpw over 2 blocks of 128 threads, behind a
/// portable fatbin's arch list.
std::vector<uint8_t> axpwArtifact(const std::string &function = "catfish_test_axpw") {
  using namespace catfish::artifact;
  using namespace catfish::artifact::testing;
  ModelDesc d;
  d.compilerVersion = "catfish-test 0.1";
  d.modelSha256 = std::string(64, 'f');
  d.modelName = "axpw";
  d.inputs = {{"x", DType::F32, {kLength}, 0}};
  d.outputs = {{"y", DType::F32, {kLength}, 2}};
  d.buffers = {{BufferKind::Input, 0, kBytes, 0},
               {BufferKind::Weight, 0, kBytes},
               {BufferKind::Arena, 0, kBytes}};
  d.targets = {{"cuda", "sm_80 sm_90a ptx:compute_80", "fatbin", 1}};
  LaunchDesc launch{function, {2, 1, 1}, {128, 1, 1}, {0, 1, 2}};
  d.kernels = {{"catfish_kernel_0", "generated", "node 'Axpw'", 0, 1, {launch}}};
  d.steps = {{0, {0, 1, 2}}};
  d.arenaSize = kBytes;
  d.code = {{0x50, 0xed, 0x55, 0xba}};
  d.weights.resize(kBytes);
  for (int64_t i = 0; i < kLength; ++i) {
    float w = weight(i);
    std::memcpy(d.weights.data() + i * sizeof(float), &w, sizeof(float));
  }
  d.weightsSize = kBytes;
  return buildArtifact(d);
}

/// h <- 2h + w, `trips` times from h = x, by a loop of control steps around the axpw launch
/// (the carried h is the output; each iteration writes a temporary copied back over it).
std::vector<uint8_t> loopArtifact(int64_t trips) {
  using namespace catfish::artifact;
  using namespace catfish::artifact::testing;
  ModelDesc d;
  d.formatVersion = kControlStepsFormatVersion;
  d.compilerVersion = "catfish-test 0.1";
  d.modelSha256 = std::string(64, 'f');
  d.modelName = "loop";
  d.inputs = {{"x", DType::F32, {kLength}, 0}};
  d.outputs = {{"y", DType::F32, {kLength}, 2}};
  // Buffers: 0 x, 1 w, 2 h, 3 temporary, 4 iteration, 5 condition, 6 trip count.
  d.buffers = {{BufferKind::Input, 0, kBytes, 0},      {BufferKind::Weight, 0, kBytes},
               {BufferKind::Arena, 0, kBytes},         {BufferKind::Arena, kBytes, kBytes},
               {BufferKind::Arena, 2 * kBytes, 8},     {BufferKind::Arena, 2 * kBytes + 64, 1},
               {BufferKind::Weight, kBytes, 8}};
  d.targets = {{"cuda", "sm_80 sm_90a ptx:compute_80", "fatbin", 1}};
  LaunchDesc launch{"catfish_test_axpw", {2, 1, 1}, {128, 1, 1}, {0, 1, 2}};
  d.kernels = {{"catfish_kernel_0", "generated", "node 'Axpw'", 0, 1, {launch}}};
  d.steps = {{0, {0, 2}, {}, Control::Copy},
             {0, {4, 5}, {}, Control::LoopBegin},
             {0, {4, 5, 6}, {}, Control::LoopTest, 6},
             {0, {2, 1, 3}},
             {0, {3, 2}, {}, Control::Copy},
             {0, {4}, {}, Control::LoopNext, 2}};
  d.arenaSize = 2 * kBytes + 128;
  d.code = {{0x50, 0xed, 0x55, 0xba}};
  d.weights.resize(kBytes + 8);
  for (int64_t i = 0; i < kLength; ++i) {
    float w = weight(i);
    std::memcpy(d.weights.data() + i * sizeof(float), &w, sizeof(float));
  }
  std::memcpy(d.weights.data() + kBytes, &trips, sizeof(trips));
  d.weightsSize = d.weights.size();
  return buildArtifact(d);
}

std::string writeArtifact(const std::vector<uint8_t> &bytes, const char *name) {
  std::string path = std::string("/tmp/catfish-cuda-backend-") + std::to_string(getpid()) + "-" +
                     name + ".catfish";
  CHECK(catfish::artifact::testing::writeBytes(path, bytes));
  return path;
}

struct Loaded {
  catfish_model_t *model = nullptr;
  catfish_status_t *status = nullptr;
};

Loaded load(const std::string &path, const char *device, int graphs = 1) {
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.device = device;
  options.cuda_graphs = graphs;
  Loaded l;
  l.status = catfish_model_load_with_options(path.c_str(), &options, &l.model);
  return l;
}

bool expectStatus(catfish_status_t *status, catfish_status_code_t code, const std::string &text) {
  std::string message = catfish_status_message(status);
  bool right = catfish_status_code(status) == code && message.find(text) != std::string::npos;
  if (!right)
    std::fprintf(stderr, "expected %s \"%s\", got %s \"%s\"\n", catfish_status_code_name(code),
                 text.c_str(), catfish_status_code_name(catfish_status_code(status)),
                 message.c_str());
  catfish_status_free(status);
  return right;
}

/// y must be 2 x + w for x[i] = i + shift.
bool rightOutput(const float *y, float shift) {
  for (int64_t i = 0; i < kLength; ++i)
    if (y[i] != 2 * (float(i) + shift) + weight(i))
      return false;
  return true;
}

void testFakeDriverRuns(const std::string &path, int graphs) {
  Counters before = fake.read();
  Loaded l = load(path, "auto", graphs);
  if (l.status)
    std::fprintf(stderr, "load: %s\n", catfish_status_message(l.status));
  CHECK(l.status == nullptr);
  if (!l.model)
    return;
  CHECK(std::strcmp(catfish_model_device(l.model), "cuda:0") == 0);
  CHECK(std::strcmp(catfish_model_device_description(l.model),
                    "Fake GPU (sm_90, 4 SMs), code: cubin sm_90a") == 0);
  catfish_session_t *session = nullptr;
  CHECK(catfish_session_create(l.model, &session) == nullptr);
  std::vector<float> x(kLength);
  for (int64_t i = 0; i < kLength; ++i)
    x[i] = float(i);
  CHECK(catfish_session_set_input(session, 0, x.data(), kBytes) == nullptr);
  for (int run = 0; run < 3; ++run) {
    CHECK(catfish_session_run(session) == nullptr);
    const void *data = nullptr;
    size_t size = 0;
    CHECK(catfish_session_output(session, 0, &data, &size) == nullptr && size == kBytes);
    CHECK(data && rightOutput(static_cast<const float *>(data), 0));
  }
  float ms = 0;
  CHECK(catfish_session_gpu_time_ms(session, &ms) == nullptr && ms == 0.25f);
  Counters after = fake.read();
  if (graphs) {
    // Captured once, replayed on every run; nothing launched outside the graph.
    CHECK(after.captures - before.captures == 1);
    CHECK(after.graphLaunches - before.graphLaunches == 3);
    CHECK(after.launches == before.launches);
  } else {
    CHECK(after.captures == before.captures && after.graphLaunches == before.graphLaunches);
    CHECK(after.launches - before.launches == 3);
  }

  // Zero copy: the plan reads x from bound memory and writes y to bound memory; a new binding
  // makes a new graph.
  CUdeviceptr boundX = fake.alloc(kBytes), boundY = fake.alloc(kBytes);
  for (int64_t i = 0; i < kLength; ++i)
    reinterpret_cast<float *>(boundX)[i] = float(i) + 10;
  CHECK(catfish_session_bind_input_device(session, 0, boundX, kBytes) == nullptr);
  CHECK(catfish_session_bind_output_device(session, 0, boundY, kBytes) == nullptr);
  CHECK(catfish_session_run_async(session) == nullptr);
  CHECK(catfish_session_wait(session) == nullptr);
  CHECK(rightOutput(reinterpret_cast<const float *>(boundY), 10));
  const void *data = nullptr;
  size_t size = 0;
  CHECK(expectStatus(catfish_session_output(session, 0, &data, &size),
                     CATFISH_STATUS_FAILED_PRECONDITION,
                     "output 'y' is bound to device memory; read it there"));
  if (graphs)
    CHECK(fake.read().captures - after.captures == 1);
  // Host memory is not device memory; unbinding goes back to the session's own buffers.
  std::vector<float> host(kLength + 16);
  uint64_t hostAddress = (reinterpret_cast<uint64_t>(host.data()) + 63) / 64 * 64;
  CHECK(expectStatus(catfish_session_bind_input_device(session, 0, hostAddress, kBytes),
                     CATFISH_STATUS_INVALID_ARGUMENT, "is not CUDA memory"));
  CHECK(catfish_session_bind_output_device(session, 0, 0, kBytes) == nullptr);
  CHECK(catfish_session_set_input(session, 0, x.data(), kBytes) == nullptr);
  CHECK(catfish_session_run(session) == nullptr);
  CHECK(catfish_session_output(session, 0, &data, &size) == nullptr);
  CHECK(data && rightOutput(static_cast<const float *>(data), 0));
  catfish_session_release(session);
  catfish_model_release(l.model);
  fake.free(boundX);
  fake.free(boundY);
}

/// A plan with a loop runs step by step from the host, never as a CUDA Graph (even when graphs
/// are on): the body's launch runs once per iteration, the iteration number and the carried
/// value go through the device.
void testFakeDriverLoop() {
  for (int64_t trips : {0, 1, 3}) {
    std::string path = writeArtifact(loopArtifact(trips), "loop");
    Counters before = fake.read();
    Loaded l = load(path, "cuda", 1);
    if (l.status)
      std::fprintf(stderr, "load: %s\n", catfish_status_message(l.status));
    CHECK(l.status == nullptr && l.model);
    unlink(path.c_str());
    if (!l.model)
      continue;
    catfish_session_t *session = nullptr;
    CHECK(catfish_session_create(l.model, &session) == nullptr);
    std::vector<float> x(kLength), want(kLength);
    for (int64_t i = 0; i < kLength; ++i) {
      x[i] = want[i] = float(i);
      for (int64_t t = 0; t < trips; ++t)
        want[i] = 2 * want[i] + weight(i);
    }
    CHECK(catfish_session_set_input(session, 0, x.data(), kBytes) == nullptr);
    for (int run = 0; run < 2; ++run) {
      CHECK(catfish_session_run(session) == nullptr);
      const void *data = nullptr;
      size_t size = 0;
      CHECK(catfish_session_output(session, 0, &data, &size) == nullptr && size == kBytes);
      CHECK(data && std::memcmp(data, want.data(), kBytes) == 0);
    }
    Counters after = fake.read();
    CHECK(after.captures == before.captures && after.graphLaunches == before.graphLaunches);
    CHECK(after.launches - before.launches == 2 * trips);
    catfish_session_release(session);
    catfish_model_release(l.model);
  }
}

/// Two sessions of one model share its one weights upload; each has its own arena and inputs,
/// and they do not see each other's inputs.
void testFakeDriverSessions(const std::string &path) {
  Counters before = fake.read();
  Loaded l = load(path, "cuda");
  CHECK(l.status == nullptr && l.model);
  if (!l.model)
    return;
  // The weights, once.
  CHECK(fake.read().liveAllocations - before.liveAllocations == 1);
  catfish_session_t *first = nullptr, *second = nullptr;
  CHECK(catfish_session_create(l.model, &first) == nullptr);
  CHECK(catfish_session_create(l.model, &second) == nullptr);
  // Each session: its arena and its inputs (no cuBLASLt workspace: the plan has no matmul).
  CHECK(fake.read().liveAllocations - before.liveAllocations == 1 + 2 * 2);
  std::vector<float> x(kLength), shifted(kLength);
  for (int64_t i = 0; i < kLength; ++i)
    x[i] = float(i), shifted[i] = float(i) + 3;
  CHECK(catfish_session_set_input(first, 0, x.data(), kBytes) == nullptr);
  CHECK(catfish_session_set_input(second, 0, shifted.data(), kBytes) == nullptr);
  CHECK(catfish_session_run(first) == nullptr && catfish_session_run(second) == nullptr);
  const void *a = nullptr, *b = nullptr;
  size_t size = 0;
  CHECK(catfish_session_output(first, 0, &a, &size) == nullptr);
  CHECK(catfish_session_output(second, 0, &b, &size) == nullptr);
  CHECK(a && rightOutput(static_cast<const float *>(a), 0));
  CHECK(b && rightOutput(static_cast<const float *>(b), 3));
  catfish_session_release(first);
  catfish_session_release(second);
  CHECK(fake.read().liveAllocations - before.liveAllocations == 1);
  catfish_model_release(l.model);
}

/// y = NonZero(x) for x f32 2x3, y i64 [2, <=6] with its size in arena buffer 2, then the size
/// overwritten with input n: two launches of one thread.
std::vector<uint8_t> nonzeroArtifact() {
  using namespace catfish::artifact;
  using namespace catfish::artifact::testing;
  ModelDesc d;
  d.compilerVersion = "catfish-test 0.1";
  d.formatVersion = kFormatVersion;
  d.modelName = "nonzero";
  d.inputs = {{"x", DType::F32, {2, 3}, 0}, {"n", DType::I64, {}, 3}};
  d.outputs = {{"y", DType::I64, {2, 6}, 1, {{1, 2}}}};
  d.buffers = {{BufferKind::Input, 0, 24, 0},
               {BufferKind::Arena, 0, 96},
               {BufferKind::Arena, 128, 8},
               {BufferKind::Input, 0, 8, 1}};
  d.targets = {{"cuda", "sm_90a", "fatbin", 1}};
  LaunchDesc nonzero{"catfish_test_nonzero", {1, 1, 1}, {1, 1, 1}, {0, 1, 2}};
  LaunchDesc setSize{"catfish_test_set_size", {1, 1, 1}, {1, 1, 1}, {3, 2}};
  d.kernels = {{"catfish_kernel_0", "generated", "node 'NonZero_0'", 0, 1, {nonzero, setSize}}};
  d.steps = {{0, {0, 1, 2, 3}}};
  d.arenaSize = 192;
  d.code = {{0x50, 0xed, 0x55, 0xba}};
  return buildArtifact(d);
}

/// The size buffers travel with their output from the device, which is then compacted; a size
/// out of bounds is reported when the output is read. With and without CUDA Graphs.
void testFakeDriverDataDependent(const std::string &path) {
  for (int graphs : {1, 0}) {
    Loaded l = load(path, "cuda", graphs);
    CHECK(l.status == nullptr && l.model);
    catfish_session_t *session = nullptr;
    if (!l.model || catfish_session_create(l.model, &session) != nullptr) {
      CHECK(session != nullptr);
      catfish_model_release(l.model);
      continue;
    }
    float x[6] = {1, 0, 2, 0, 3, 4};
    CHECK(catfish_session_set_input(session, 0, x, sizeof(x)) == nullptr);
    struct Case {
      int64_t n;
      std::vector<int64_t> y;
    } cases[] = {{4, {0, 0, 1, 1, 0, 2, 1, 2}}, {2, {0, 0, 0, 2}}};
    for (const Case &c : cases) {
      CHECK(catfish_session_set_input(session, 1, &c.n, sizeof(c.n)) == nullptr);
      CHECK(catfish_session_run(session) == nullptr);
      int64_t dims[2] = {};
      const void *data = nullptr;
      size_t size = 0;
      CHECK(catfish_session_output_shape(session, 0, dims, 2) == nullptr && dims[0] == 2 &&
            dims[1] == c.n);
      CHECK(catfish_session_output(session, 0, &data, &size) == nullptr &&
            size == c.y.size() * sizeof(int64_t) && std::memcmp(data, c.y.data(), size) == 0);
    }
    int64_t bad = 9, dims[2];
    CHECK(catfish_session_set_input(session, 1, &bad, sizeof(bad)) == nullptr);
    CHECK(catfish_session_run(session) == nullptr);
    CHECK(expectStatus(catfish_session_output_shape(session, 0, dims, 2), CATFISH_STATUS_INTERNAL,
                       "output 'y': the run gave data-dependent dim 1 the size 9, outside its "
                       "bound [0, 6]"));
    CUdeviceptr bound = fake.alloc(96);
    CHECK(expectStatus(catfish_session_bind_output_device(session, 0, bound, 96),
                       CATFISH_STATUS_INVALID_ARGUMENT,
                       "it must be read through catfish_session_output"));
    fake.free(bound);
    catfish_session_release(session);
    catfish_model_release(l.model);
  }
}

void testFakeDriverRefusals(const std::string &path) {
  setenv("FAKE_CUDA_ARCH", "75", 1);
  Loaded l = load(path, "cuda");
  CHECK(!l.model && expectStatus(l.status, CATFISH_STATUS_UNSUPPORTED,
                                 "device cuda:0 (Fake GPU) is sm_75, and the artifact's code is "
                                 "for sm_80 sm_90a ptx:compute_80; compile it with --arch sm_75"));
  setenv("FAKE_CUDA_ARCH", "100", 1);
  l = load(path, "cuda:0");
  CHECK(l.model && std::strcmp(catfish_model_device_description(l.model),
                               "Fake GPU (sm_100, 4 SMs), code: PTX compute_80 (JIT-compiled by "
                               "the driver)") == 0);
  catfish_model_release(l.model);
  unsetenv("FAKE_CUDA_ARCH");
  l = load(path, "cuda:2");
  CHECK(!l.model && expectStatus(l.status, CATFISH_STATUS_INVALID_ARGUMENT,
                                 "device cuda:2 does not exist; this machine has 1 GPU (cuda:0 "
                                 "to cuda:0)"));
  l = load(writeArtifact(axpwArtifact("catfish_test_missing"), "missing"), "cuda");
  CHECK(!l.model &&
        expectStatus(l.status, CATFISH_STATUS_INTERNAL,
                     "kernel 0 (catfish_kernel_0 from node 'Axpw'): function "
                     "'catfish_test_missing': CUDA_ERROR_NOT_FOUND"));
  // Every allocation of the released models and sessions was freed.
  CHECK(fake.read().liveAllocations == 0);
}

} // namespace

int main() {
  testImageChoice();
  std::printf("%s: fatbin image choice\n", failures ? "FAIL" : "PASS");

  // The backend on the fake driver (before anything opens a driver: the table is per process).
  void *driver = dlopen(CATFISH_FAKE_CUDA_DRIVER, RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    std::fprintf(stderr, "cannot open the fake driver: %s\n", dlerror());
    return 1;
  }
  fake.counters = reinterpret_cast<decltype(fake.counters)>(dlsym(driver, "fake_cuda_counters"));
  fake.alloc = reinterpret_cast<decltype(fake.alloc)>(dlsym(driver, "fake_cuda_alloc"));
  fake.free = reinterpret_cast<decltype(fake.free)>(dlsym(driver, "fake_cuda_free"));
  setenv("CATFISH_CUDA_DRIVER", CATFISH_FAKE_CUDA_DRIVER, 1);
  setenv("FAKE_CUDA_KERNELS", CATFISH_TEST_EMULATED_SO, 1);
  int before = failures;
  std::string path = writeArtifact(axpwArtifact(), "axpw");
  testFakeDriverRuns(path, 1);
  testFakeDriverRuns(path, 0);
  testFakeDriverSessions(path);
  std::string nonzero = writeArtifact(nonzeroArtifact(), "nonzero");
  testFakeDriverDataDependent(nonzero);
  unlink(nonzero.c_str());
  testFakeDriverRefusals(path);
  unlink(path.c_str());
  testFakeDriverLoop();
  std::printf("%s: the backend on the fake driver\n", failures == before ? "PASS" : "FAIL");

  const CublasLt *lt = nullptr;
  if (catfish_status_t *status = openCublasLt(lt)) {
    std::printf("SKIP: cuBLASLt descriptors: %s\n", catfish_status_message(status));
    catfish_status_free(status);
    return failures ? 1 : 0;
  }
  before = failures;
  testProducts(*lt);
  testRefusals(*lt);
  std::printf("%s: cuBLASLt descriptors (%s)\n", failures == before ? "PASS" : "FAIL",
              lt->library.c_str());
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
