//===- backend.h - running a model's CUDA plan on a GPU ---------*- C++ -*-===//
//
// The runtime's CUDA device. A GpuModel is a model's state on one GPU, made once at load and
// shared read-only by its sessions: the primary context, the fatbin's module (the exact cubin,
// or the PTX JIT-compiled by the driver), every launch's function, the weights uploaded once,
// and per matmul its cuBLASLt descriptors and the heuristic's algorithm (one per distinct
// product). A GpuSession owns one device arena from the memory plan, its input buffers, a
// cuBLASLt workspace, a stream (its own or the caller's) and the CUDA Graph the plan is
// captured into on the first run and replayed afterwards.
//
// This header needs no CUDA headers: the runtime builds without them, and then every entry
// point reports that the CUDA backend was not built.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_CUDA_BACKEND_H
#define CATFISH_RUNTIME_SRC_CUDA_BACKEND_H

#include "catfish/runtime.h"

#include <cstdint>
#include <memory>
#include <string>

struct catfish_model_t;

namespace catfish::rt::cuda {

struct GpuModel;
struct GpuSession;
struct GpuModelDeleter {
  void operator()(GpuModel *model) const;
};
struct GpuSessionDeleter {
  void operator()(GpuSession *session) const;
};
using GpuModelPtr = std::unique_ptr<GpuModel, GpuModelDeleter>;
using GpuSessionPtr = std::unique_ptr<GpuSession, GpuSessionDeleter>;

/// Which image of a fatbin whose images are `images` ("sm_80 sm_90a ptx:compute_80") the
/// driver runs on a GPU of compute capability major.minor, by CUDA's rules: a cubin of the same
/// major and no newer minor (an "a" cubin only on its exact arch), else PTX of no newer arch,
/// JIT-compiled. "cubin sm_90a", "PTX compute_80 (JIT-compiled by the driver)", or "" if none.
std::string pickImage(const std::string &images, int major, int minor);

/// Whether the driver opens and shows at least one GPU; `why` says why not.
bool gpuAvailable(std::string &why);

/// Loads the CUDA plan of `model` (model.stepKernels and its manifest) onto GPU `ordinal`.
/// `useGraphs`: capture the plan into a CUDA Graph on a session's first run.
catfish_status_t *loadModel(const catfish_model_t &model, int ordinal, bool useGraphs,
                            GpuModelPtr &out);

/// "NVIDIA H200 (sm_90, 132 SMs, 140 GiB), code: cubin sm_90a".
const std::string &describe(const GpuModel &model);

catfish_status_t *createSession(const catfish_model_t &model, GpuSessionPtr &out);

/// Copies host data into input `index`'s device buffer (waiting for the session's earlier work,
/// so `data` may be reused at once). `bytes` is the input's byte size, checked by the caller.
catfish_status_t *setInput(GpuSession &session, size_t index, const void *data, size_t bytes);
/// Makes the plan read input `index` from (with `output`, write output `index` to) `address`,
/// device memory of the model's GPU of the tensor's byte size; 0 undoes it. Arguments are
/// checked by the caller except the memory's device.
catfish_status_t *bind(GpuSession &session, bool output, size_t index, uint64_t address);
/// Whether input `index` is bound to device memory (which then needs no set_input).
bool inputBound(const GpuSession &session, size_t index);
/// The stream the session's runs go on (a CUstream); nullptr for the session's own.
catfish_status_t *setStream(GpuSession &session, void *stream);
/// Enqueues the plan (replaying its graph); with `wait`, waits for it and reports its errors.
catfish_status_t *run(GpuSession &session, bool wait);
/// Waits for the session's stream; errors of the enqueued work surface here.
catfish_status_t *wait(GpuSession &session);
/// Host copy of output `index` after the last run, copied from the device on the first ask,
/// with its byte size and dims: for an output with data-dependent dims, its size buffers travel
/// with it and the copy is compacted to the actual dims (INTERNAL for a size out of bounds).
catfish_status_t *output(GpuSession &session, size_t index, const void **outData,
                         size_t *outByteSize, const int64_t **outDims);
/// Milliseconds of GPU time between the start and the end of the last run's plan (the caller
/// checks that there was one).
catfish_status_t *lastGpuMilliseconds(GpuSession &session, float *outMilliseconds);

} // namespace catfish::rt::cuda

#endif // CATFISH_RUNTIME_SRC_CUDA_BACKEND_H
