//===- driver.h - the CUDA driver API, opened at run time -------*- C++ -*-===//
//
// The runtime never links libcuda: it opens libcuda.so.1 with dlopen on first use and takes
// every entry point it calls through cuGetProcAddress (asking for the versions of the toolkit
// headers it was built with) into one table, so one binary runs on machines with and without
// an NVIDIA driver. The types come from the toolkit's cuda.h; no function of it is linked.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_CUDA_DRIVER_H
#define CATFISH_RUNTIME_SRC_CUDA_DRIVER_H

#include "catfish/runtime.h"

#include <cuda.h>

#include <string>

namespace catfish::rt::cuda {

// Every driver function the runtime calls. cuda.h #defines several of these names to their
// current versions (cuMemAlloc -> cuMemAlloc_v2); the table's member takes the same spelling,
// while the name asked of cuGetProcAddress is the unversioned one (stringized before
// expansion), which the driver resolves for CUDA_VERSION.
#define CATFISH_CUDA_DRIVER_FUNCTIONS(X)                                                           \
  X(cuInit)                                                                                        \
  X(cuDriverGetVersion)                                                                            \
  X(cuGetErrorName)                                                                                \
  X(cuGetErrorString)                                                                              \
  X(cuDeviceGetCount)                                                                              \
  X(cuDeviceGet)                                                                                   \
  X(cuDeviceGetName)                                                                               \
  X(cuDeviceGetAttribute)                                                                          \
  X(cuDevicePrimaryCtxRetain)                                                                      \
  X(cuDevicePrimaryCtxRelease)                                                                     \
  X(cuCtxSetCurrent)                                                                               \
  X(cuCtxGetCurrent)                                                                               \
  X(cuModuleLoadDataEx)                                                                            \
  X(cuModuleUnload)                                                                                \
  X(cuModuleGetFunction)                                                                           \
  X(cuFuncSetAttribute)                                                                            \
  X(cuMemAlloc)                                                                                    \
  X(cuMemFree)                                                                                     \
  X(cuMemHostAlloc)                                                                                \
  X(cuMemFreeHost)                                                                                 \
  X(cuMemcpyHtoD)                                                                                  \
  X(cuMemcpyHtoDAsync)                                                                             \
  X(cuMemcpyDtoHAsync)                                                                             \
  X(cuMemcpyDtoDAsync)                                                                             \
  X(cuPointerGetAttribute)                                                                         \
  X(cuStreamCreate)                                                                                \
  X(cuStreamDestroy)                                                                               \
  X(cuStreamSynchronize)                                                                           \
  X(cuStreamBeginCapture)                                                                          \
  X(cuStreamEndCapture)                                                                            \
  X(cuGraphInstantiateWithFlags)                                                                   \
  X(cuGraphLaunch)                                                                                 \
  X(cuGraphDestroy)                                                                                \
  X(cuGraphExecDestroy)                                                                            \
  X(cuEventCreate)                                                                                 \
  X(cuEventDestroy)                                                                                \
  X(cuEventRecord)                                                                                 \
  X(cuEventSynchronize)                                                                            \
  X(cuEventElapsedTime)                                                                            \
  X(cuLaunchKernel)

/// The driver's entry points. Filled once per process; immutable afterwards, so any thread may
/// call through it.
struct Driver {
#define CATFISH_CUDA_DRIVER_MEMBER(name) decltype(&::name) name = nullptr;
  CATFISH_CUDA_DRIVER_FUNCTIONS(CATFISH_CUDA_DRIVER_MEMBER)
#undef CATFISH_CUDA_DRIVER_MEMBER
  /// The driver's CUDA version (12080 for 12.8).
  int version = 0;
  /// The library that was opened, for messages.
  std::string library;
};

/// The process's driver table, opened and initialized (cuInit) on the first call; later calls
/// return the same table or the same error. The library is libcuda.so.1, or the file named by
/// the environment variable CATFISH_CUDA_DRIVER (tests point it at the toolkit's stub). The
/// error says what is missing: no driver library, a driver older than the toolkit the runtime
/// was built with, an entry point it lacks, or cuInit failing (no device, a stub library).
catfish_status_t *openDriver(const Driver *&out);

/// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" for `result`.
std::string resultText(const Driver &driver, CUresult result);

/// A status with `code` for a failed driver call: "<what>: <resultText>".
catfish_status_t *driverError(const Driver &driver, CUresult result, const std::string &what);

/// The status for a failed driver call `call` (an expression yielding CUresult), naming `what`;
/// nullptr when it succeeded.
#define CATFISH_CU_CHECK(driver, call, what)                                                       \
  do {                                                                                             \
    CUresult catfishResult = (call);                                                               \
    if (catfishResult != CUDA_SUCCESS)                                                             \
      return ::catfish::rt::cuda::driverError((driver), catfishResult, (what));                    \
  } while (false)

} // namespace catfish::rt::cuda

#endif // CATFISH_RUNTIME_SRC_CUDA_DRIVER_H
