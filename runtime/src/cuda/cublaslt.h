//===- cublaslt.h - cuBLASLt, opened at run time, and the plan's matmuls -*- C++ -*-===//
//
// libcublasLt is opened with dlopen when a model's plan has a matrix product, and its entry
// points are taken into one table. The plan states each product in row-major terms
// (artifact.fbs, CudaMatmul); cuBLASLt works in column-major ones, so a row-major
// C = op(A) op(B) is asked as the column-major C^T = op(B)^T op(A)^T: cuBLASLt's A is the
// plan's B, its B the plan's A, its m the plan's n. Descriptors need no GPU (unit-tested
// here); handles, heuristics and execution do.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_CUDA_CUBLASLT_H
#define CATFISH_RUNTIME_SRC_CUDA_CUBLASLT_H

#include "artifact_generated.h"
#include "catfish/runtime.h"

#include <cublasLt.h>

#include <cstdint>
#include <memory>
#include <string>

namespace catfish::rt::cuda {

#define CATFISH_CUBLASLT_FUNCTIONS(X)                                                              \
  X(cublasLtCreate)                                                                                \
  X(cublasLtDestroy)                                                                               \
  X(cublasLtGetVersion)                                                                            \
  X(cublasLtGetStatusName)                                                                         \
  X(cublasLtGetStatusString)                                                                       \
  X(cublasLtMatmulDescCreate)                                                                      \
  X(cublasLtMatmulDescDestroy)                                                                     \
  X(cublasLtMatmulDescSetAttribute)                                                                \
  X(cublasLtMatmulDescGetAttribute)                                                                \
  X(cublasLtMatrixLayoutCreate)                                                                    \
  X(cublasLtMatrixLayoutDestroy)                                                                   \
  X(cublasLtMatrixLayoutSetAttribute)                                                              \
  X(cublasLtMatrixLayoutGetAttribute)                                                              \
  X(cublasLtMatmulPreferenceCreate)                                                                \
  X(cublasLtMatmulPreferenceDestroy)                                                               \
  X(cublasLtMatmulPreferenceSetAttribute)                                                          \
  X(cublasLtMatmulAlgoGetHeuristic)                                                                \
  X(cublasLtMatmul)

/// cuBLASLt's entry points. Filled once per process, immutable afterwards.
struct CublasLt {
#define CATFISH_CUBLASLT_MEMBER(name) decltype(&::name) name = nullptr;
  CATFISH_CUBLASLT_FUNCTIONS(CATFISH_CUBLASLT_MEMBER)
#undef CATFISH_CUBLASLT_MEMBER
  /// The library that was opened, for messages.
  std::string library;
};

/// The process's cuBLASLt table, opened on the first call (libcublasLt.so.13 from the loader's
/// path, else the toolkit's under $CUDA_HOME or /usr/local/cuda); later calls return the same
/// table or the same error.
catfish_status_t *openCublasLt(const CublasLt *&out);

/// "CUBLAS_STATUS_NOT_SUPPORTED (...)" for `status`.
std::string statusText(const CublasLt &lt, cublasStatus_t status);

/// The descriptors of one plan matmul, in cuBLASLt's column-major terms. Owns them.
class LtMatmul {
public:
  LtMatmul(const LtMatmul &) = delete;
  LtMatmul &operator=(const LtMatmul &) = delete;
  ~LtMatmul();

  /// Describes `mm` for cuBLASLt: the operation (compute and scale types, transposes, epilogue)
  /// and the layouts of its A (the plan's B), B (the plan's A) and C = D, with batch counts and
  /// strides. UNSUPPORTED for an element type, compute type or epilogue it cannot ask for.
  static catfish_status_t *create(const CublasLt &lt, const artifact::CudaMatmul &mm,
                                  std::unique_ptr<LtMatmul> &out);

  cublasLtMatmulDesc_t operation() const { return operation_; }
  /// cuBLASLt's A, B and C (= D) layouts.
  cublasLtMatrixLayout_t layoutA() const { return a_; }
  cublasLtMatrixLayout_t layoutB() const { return b_; }
  cublasLtMatrixLayout_t layoutC() const { return c_; }
  /// Bytes per element of A, B and C.
  uint32_t elementBytes() const { return elementBytes_; }

  /// The best algorithm of the heuristic for this product with at most `workspaceBytes` of
  /// workspace and operands aligned to `alignA`, `alignB`, `alignC` bytes (cuBLASLt's A, B,
  /// C). Needs a handle, so a GPU.
  catfish_status_t *pickAlgorithm(cublasLtHandle_t handle, uint64_t workspaceBytes,
                                  uint32_t alignA, uint32_t alignB, uint32_t alignC,
                                  cublasLtMatmulAlgo_t &out) const;

private:
  explicit LtMatmul(const CublasLt &lt) : lt_(lt) {}
  const CublasLt &lt_;
  cublasLtMatmulDesc_t operation_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, c_ = nullptr;
  uint32_t elementBytes_ = 0;
};

} // namespace catfish::rt::cuda

#endif // CATFISH_RUNTIME_SRC_CUDA_CUBLASLT_H
