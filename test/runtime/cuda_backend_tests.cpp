//===- cuda_backend_tests.cpp - the CUDA backend's parts that need no GPU --===//
//
// cuBLASLt descriptors for every kind of product the plan can ask for, built through the real
// libcublasLt (descriptor creation works without a GPU): the layouts and operations read back
// from them, evaluated with cuBLASLt's documented column-major semantics, must give what the
// plan's row-major definition (artifact.fbs, CudaMatmul) gives. Also the refusals of what
// cuBLASLt is not asked yet, and the fatbin image choice.
//
// Exit 77 (skipped, visibly) where libcublasLt.so.13 cannot be opened.
//
//===----------------------------------------------------------------------===//

#include "cuda/backend.h"
#include "cuda/cublaslt.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace fa = catfish::artifact;
using namespace catfish::rt::cuda;

namespace {

int failures = 0;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (false)

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

} // namespace

int main() {
  testImageChoice();
  std::printf("%s: fatbin image choice\n", failures ? "FAIL" : "PASS");
  const CublasLt *lt = nullptr;
  if (catfish_status_t *status = openCublasLt(lt)) {
    std::printf("SKIP: cuBLASLt descriptors: %s\n", catfish_status_message(status));
    catfish_status_free(status);
    return failures ? 1 : 77;
  }
  int before = failures;
  testProducts(*lt);
  testRefusals(*lt);
  std::printf("%s: cuBLASLt descriptors (%s)\n", failures == before ? "PASS" : "FAIL",
              lt->library.c_str());
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
