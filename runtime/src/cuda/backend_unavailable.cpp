//===- backend_unavailable.cpp - the CUDA device of a runtime built without it -===//
//
// Built instead of backend.cpp when the CUDA toolkit's headers were not found at configure time
// (CATFISH_RUNTIME_CUDA=OFF): every entry point says so.

#include "cuda/backend.h"

#include "status.h"

namespace catfish::rt::cuda {

struct GpuModel {};
struct GpuSession {};
void GpuModelDeleter::operator()(GpuModel *model) const { delete model; }
void GpuSessionDeleter::operator()(GpuSession *session) const { delete session; }

namespace {
const char kNotBuilt[] = "this runtime was built without its CUDA backend (no CUDA toolkit "
                         "headers at configure time; see docs/runtime.md)";
catfish_status_t *notBuilt() { return makeStatus(CATFISH_STATUS_UNSUPPORTED, kNotBuilt); }
} // namespace

bool gpuAvailable(std::string &why) {
  why = kNotBuilt;
  return false;
}
catfish_status_t *loadModel(const catfish_model_t &, int, bool, GpuModelPtr &) { return notBuilt(); }
const std::string &describe(const GpuModel &) {
  static const std::string none;
  return none;
}
catfish_status_t *createSession(const catfish_model_t &, GpuSessionPtr &) { return notBuilt(); }
catfish_status_t *setInput(GpuSession &, size_t, const void *, size_t) { return notBuilt(); }
bool inputBound(const GpuSession &, size_t) { return false; }
catfish_status_t *bind(GpuSession &, bool, size_t, uint64_t) { return notBuilt(); }
catfish_status_t *setStream(GpuSession &, void *) { return notBuilt(); }
catfish_status_t *run(GpuSession &, bool) { return notBuilt(); }
catfish_status_t *wait(GpuSession &) { return notBuilt(); }
catfish_status_t *output(GpuSession &, size_t, const void **, size_t *, const int64_t **) {
  return notBuilt();
}
catfish_status_t *lastGpuMilliseconds(GpuSession &, float *) { return notBuilt(); }

} // namespace catfish::rt::cuda
