//===- cublaslt.cpp - opening cuBLASLt and describing the plan's matmuls --===//

#include "cuda/cublaslt.h"

#include "status.h"

#include <cstdlib>
#include <mutex>
#include <vector>

#include <dlfcn.h>

namespace catfish::rt::cuda {
namespace fa = catfish::artifact;
namespace {

catfish_status_t *loadCublasLt(CublasLt &lt) {
  std::vector<std::string> candidates = {"libcublasLt.so.13"};
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    candidates.push_back(std::string(home) + "/lib64/libcublasLt.so.13");
  candidates.push_back("/usr/local/cuda/lib64/libcublasLt.so.13");
  void *handle = nullptr;
  std::string tried;
  for (const std::string &candidate : candidates) {
    handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      lt.library = candidate;
      break;
    }
    const char *why = dlerror();
    tried += (tried.empty() ? "" : "; ") + std::string(why ? why : candidate);
  }
  if (!handle)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED,
                         "the plan calls cuBLASLt, and libcublasLt.so.13 cannot be opened (", tried,
                         "); install CUDA 13's cuBLAS");
  // The handle stays open for the life of the process: the table points into the library.
  std::string missing;
#define CATFISH_CUBLASLT_LOOKUP(name)                                                              \
  if (void *address = dlsym(handle, #name))                                                        \
    lt.name = reinterpret_cast<decltype(lt.name)>(address);                                        \
  else                                                                                             \
    missing += (missing.empty() ? "" : ", ") + std::string(#name);
  CATFISH_CUBLASLT_FUNCTIONS(CATFISH_CUBLASLT_LOOKUP)
#undef CATFISH_CUBLASLT_LOOKUP
  if (!missing.empty())
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, lt.library, " lacks ", missing);
  return nullptr;
}

/// The CUDA data type of a plan matmul's operands, and their size.
bool dataType(fa::DType dtype, cudaDataType_t &type, uint32_t &bytes) {
  switch (dtype) {
  case fa::DType::F32:
    type = CUDA_R_32F, bytes = 4;
    return true;
  case fa::DType::F16:
    type = CUDA_R_16F, bytes = 2;
    return true;
  case fa::DType::BF16:
    type = CUDA_R_16BF, bytes = 2;
    return true;
  default:
    return false;
  }
}

/// A column-major `rows` x `cols` layout with leading dimension `ld` and `batch` matrices
/// `stride` elements apart.
catfish_status_t *makeLayout(const CublasLt &lt, cudaDataType_t type, uint64_t rows,
                             uint64_t cols, uint64_t ld, uint64_t batch, uint64_t stride,
                             const char *which, cublasLtMatrixLayout_t &out) {
  cublasStatus_t status = lt.cublasLtMatrixLayoutCreate(&out, type, rows, cols, int64_t(ld));
  if (status == CUBLAS_STATUS_SUCCESS && batch > 1) {
    int32_t count = int32_t(batch);
    int64_t offset = int64_t(stride);
    status = lt.cublasLtMatrixLayoutSetAttribute(out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                                 sizeof(count));
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt.cublasLtMatrixLayoutSetAttribute(
          out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &offset, sizeof(offset));
  }
  if (status != CUBLAS_STATUS_SUCCESS)
    return makeStatusCat(CATFISH_STATUS_INTERNAL, "cuBLASLt layout of ", which, " (", rows, " x ",
                         cols, ", ld ", ld, ", batch ", batch, "): ", statusText(lt, status));
  return nullptr;
}

} // namespace

catfish_status_t *openCublasLt(const CublasLt *&out) {
  static CublasLt lt;
  static catfish_status_t *error = nullptr;
  static std::once_flag once;
  std::call_once(once, [] { error = loadCublasLt(lt); });
  if (error)
    return makeStatus(catfish_status_code(error), catfish_status_message(error));
  out = &lt;
  return nullptr;
}

std::string statusText(const CublasLt &lt, cublasStatus_t status) {
  const char *name = lt.cublasLtGetStatusName ? lt.cublasLtGetStatusName(status) : nullptr;
  const char *text = lt.cublasLtGetStatusString ? lt.cublasLtGetStatusString(status) : nullptr;
  std::string out = name ? name : "cuBLAS status " + std::to_string(int(status));
  if (text)
    out += std::string(" (") + text + ")";
  return out;
}

LtMatmul::~LtMatmul() {
  if (a_)
    lt_.cublasLtMatrixLayoutDestroy(a_);
  if (b_)
    lt_.cublasLtMatrixLayoutDestroy(b_);
  if (c_)
    lt_.cublasLtMatrixLayoutDestroy(c_);
  if (operation_)
    lt_.cublasLtMatmulDescDestroy(operation_);
}

catfish_status_t *LtMatmul::create(const CublasLt &lt, const fa::CudaMatmul &mm,
                                   std::unique_ptr<LtMatmul> &out) {
  cudaDataType_t type;
  uint32_t bytes;
  if (!dataType(mm.dtype(), type, bytes))
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "cuBLASLt matmul of element type ",
                         fa::EnumNameDType(mm.dtype()), " is not supported (f32, f16, bf16)");
  std::string compute = mm.compute() ? mm.compute()->str() : "";
  if (compute != "f32")
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "cuBLASLt compute type '", compute,
                         "' is not supported (f32)");
  std::string epilogue = mm.epilogue() ? mm.epilogue()->str() : "";
  if (!epilogue.empty() && epilogue != "none")
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "cuBLASLt epilogue '", epilogue,
                         "' is not supported (none)");

  std::unique_ptr<LtMatmul> result(new LtMatmul(lt));
  result->elementBytes_ = bytes;
  cublasStatus_t status =
      lt.cublasLtMatmulDescCreate(&result->operation_, CUBLAS_COMPUTE_32F, CUDA_R_32F);
  // Column-major C^T = op(B)^T op(A)^T: cuBLASLt's A is the plan's B, transposed when B is.
  cublasOperation_t transA = mm.transpose_b() ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t transB = mm.transpose_a() ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (status == CUBLAS_STATUS_SUCCESS)
    status = lt.cublasLtMatmulDescSetAttribute(result->operation_, CUBLASLT_MATMUL_DESC_TRANSA,
                                               &transA, sizeof(transA));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = lt.cublasLtMatmulDescSetAttribute(result->operation_, CUBLASLT_MATMUL_DESC_TRANSB,
                                               &transB, sizeof(transB));
  if (status != CUBLAS_STATUS_SUCCESS)
    return makeStatusCat(CATFISH_STATUS_INTERNAL, "cuBLASLt matmul descriptor: ",
                         statusText(lt, status));

  // A row-major R x C matrix with rows ld apart is the column-major C x R one with ld ld.
  // The plan's B is stored k x n (n x k when transposed); its A m x k (k x m).
  uint64_t m = mm.m(), n = mm.n(), k = mm.k(), batch = mm.batch();
  if (catfish_status_t *s = makeLayout(lt, type, mm.transpose_b() ? k : n,
                                       mm.transpose_b() ? n : k, mm.ldb(), batch, mm.stride_b(),
                                       "B", result->a_))
    return s;
  if (catfish_status_t *s = makeLayout(lt, type, mm.transpose_a() ? m : k,
                                       mm.transpose_a() ? k : m, mm.lda(), batch, mm.stride_a(),
                                       "A", result->b_))
    return s;
  if (catfish_status_t *s = makeLayout(lt, type, n, m, mm.ldc(), batch, mm.stride_c(), "C",
                                       result->c_))
    return s;
  out = std::move(result);
  return nullptr;
}

catfish_status_t *LtMatmul::pickAlgorithm(cublasLtHandle_t handle, uint64_t workspaceBytes,
                                          uint32_t alignA, uint32_t alignB, uint32_t alignC,
                                          cublasLtMatmulAlgo_t &out) const {
  cublasLtMatmulPreference_t preference = nullptr;
  cublasStatus_t status = lt_.cublasLtMatmulPreferenceCreate(&preference);
  auto set = [&](cublasLtMatmulPreferenceAttributes_t attribute, const auto &value) {
    if (status == CUBLAS_STATUS_SUCCESS)
      status = lt_.cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value,
                                                        sizeof(value));
  };
  set(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, workspaceBytes);
  // Without these the heuristic assumes 256-byte aligned operands.
  set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignA);
  set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignB);
  set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignC);
  set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignC);
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  if (status == CUBLAS_STATUS_SUCCESS)
    status = lt_.cublasLtMatmulAlgoGetHeuristic(handle, operation_, a_, b_, c_, c_, preference, 1,
                                                &result, &found);
  if (preference)
    lt_.cublasLtMatmulPreferenceDestroy(preference);
  if (status != CUBLAS_STATUS_SUCCESS)
    return makeStatusCat(CATFISH_STATUS_INTERNAL, "cuBLASLt heuristic: ", statusText(lt_, status));
  if (found == 0 || result.state != CUBLAS_STATUS_SUCCESS)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED,
                         "cuBLASLt has no algorithm for this product on this GPU");
  out = result.algo;
  return nullptr;
}

} // namespace catfish::rt::cuda
