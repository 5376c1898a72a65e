//===- backend.cpp - the CUDA device: loading plans and running them ------===//

#include "cuda/backend.h"

#include "cuda/cublaslt.h"
#include "cuda/driver.h"
#include "data_dependent.h"
#include "model.h"
#include "packing.h"
#include "status.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

namespace fa = catfish::artifact;
using catfish::artifact::humanBytes;

namespace catfish::rt::cuda {

namespace {
/// cuBLASLt's recommended workspace on Hopper; one per session.
constexpr uint64_t kMatmulWorkspaceBytes = uint64_t(32) << 20;

/// "kernel 3 (catfish_kernel_3 from /layer0/MatMul)" for errors.
std::string kernelLabel(const fa::Manifest &m, uint32_t k) {
  const fa::Kernel &kernel = *m.kernels()->Get(k);
  std::string label = "kernel " + std::to_string(k) + " (" + kernel.symbol()->str();
  if (kernel.location() && kernel.location()->size())
    label += " from " + kernel.location()->str();
  return label + ")";
}

/// The largest power of two up to 64 dividing `offsetBytes`: the alignment of an operand that
/// starts that far into a 64-byte aligned buffer.
uint32_t alignmentOf(uint64_t offsetBytes) {
  uint32_t alignment = 64;
  while (alignment > 1 && offsetBytes % alignment)
    alignment /= 2;
  return alignment;
}

/// Makes `context` current on the calling thread.
catfish_status_t *useContext(const Driver &driver, CUcontext context) {
  CATFISH_CU_CHECK(driver, driver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  return nullptr;
}

} // namespace

struct GpuModel {
  const Driver *driver = nullptr;
  const CublasLt *lt = nullptr;
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string description;
  bool useGraphs = true;
  CUmodule module = nullptr;
  CUdeviceptr weights = 0;
  cublasLtHandle_t ltHandle = nullptr;

  struct Launch {
    CUfunction function;
    uint32_t grid[3], block[3];
    uint32_t dynamicSharedBytes;
    /// Positions in Step.args of the kernel's parameters.
    std::vector<uint32_t> args;
    std::string name;
  };
  struct Matmul {
    std::unique_ptr<LtMatmul> lt;
    cublasLtMatmulAlgo_t algorithm;
    /// Positions in Step.args of the plan's A, B and C, and byte offsets into them.
    uint32_t a, b, c;
    uint64_t offsetA, offsetB, offsetC;
    float alpha, beta;
  };
  struct Call {
    std::unique_ptr<Launch> launch;
    std::unique_ptr<Matmul> matmul;
  };
  /// Per kernel index, the calls of its plan; empty for kernels no step uses.
  std::vector<std::vector<Call>> calls;
  bool hasMatmuls = false;

  ~GpuModel() {
    if (!driver || !context)
      return;
    driver->cuCtxSetCurrent(context);
    if (ltHandle)
      lt->cublasLtDestroy(ltHandle);
    if (weights)
      driver->cuMemFree(weights);
    if (module)
      driver->cuModuleUnload(module);
    driver->cuDevicePrimaryCtxRelease(device);
  }
};

void GpuModelDeleter::operator()(GpuModel *model) const { delete model; }

std::string pickImage(const std::string &images, int major, int minor) {
  std::istringstream list(images);
  std::string image, bestCubin, bestPtx;
  int bestCubinArch = -1, bestPtxArch = -1, device = major * 10 + minor;
  while (list >> image) {
    bool ptx = image.rfind("ptx:compute_", 0) == 0;
    std::string digits = image.substr(ptx ? 12 : 3);
    bool archSpecific = !digits.empty() && (digits.back() == 'a' || digits.back() == 'f');
    if (archSpecific)
      digits.pop_back();
    if ((!ptx && image.rfind("sm_", 0) != 0) || digits.empty() ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    int arch = std::stoi(digits);
    if (ptx) {
      if (arch <= device && arch > bestPtxArch)
        bestPtxArch = arch, bestPtx = image;
      continue;
    }
    bool runs = archSpecific ? arch == device : arch / 10 == major && arch <= device;
    // An arch-specific cubin of the exact arch beats a generic one of it.
    if (runs && (arch > bestCubinArch || (arch == bestCubinArch && archSpecific)))
      bestCubinArch = arch, bestCubin = image;
  }
  if (!bestCubin.empty())
    return "cubin " + bestCubin;
  if (!bestPtx.empty())
    return "PTX " + bestPtx.substr(4) + " (JIT-compiled by the driver)";
  return "";
}


bool gpuAvailable(std::string &why) {
  const Driver *driver = nullptr;
  if (catfish_status_t *status = openDriver(driver)) {
    why = catfish_status_message(status);
    catfish_status_free(status);
    return false;
  }
  int count = 0;
  if (CUresult result = driver->cuDeviceGetCount(&count); result != CUDA_SUCCESS) {
    why = "cuDeviceGetCount: " + resultText(*driver, result);
    return false;
  }
  if (count == 0) {
    why = "the NVIDIA driver shows no GPU";
    return false;
  }
  return true;
}

namespace {

/// Opens device `ordinal`, retains its primary context and says which fatbin image it runs.
catfish_status_t *openDevice(const catfish_model_t &model, GpuModel &gpu) {
  const Driver &driver = *gpu.driver;
  const std::string &path = model.file->path();
  int count = 0;
  CATFISH_CU_CHECK(driver, driver.cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (gpu.ordinal >= count)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "device cuda:", gpu.ordinal,
                         " does not exist; this machine has ", count, " GPU",
                         count == 1 ? "" : "s", " (cuda:0 to cuda:", count - 1, ")");
  CATFISH_CU_CHECK(driver, driver.cuDeviceGet(&gpu.device, gpu.ordinal), "cuDeviceGet");
  char name[256] = {};
  driver.cuDeviceGetName(name, sizeof(name) - 1, gpu.device);
  int major = 0, minor = 0, sms = 0;
  driver.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, gpu.device);
  driver.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, gpu.device);
  driver.cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, gpu.device);
  std::string arch = "sm_" + std::to_string(major * 10 + minor);

  // The steps' kernels are all of one cuda target (checked by the caller).
  const fa::Manifest &m = model.file->manifest();
  uint32_t target = m.kernels()->Get(model.firstKernel())->target();
  std::string images = m.targets()->Get(target)->arch() ? m.targets()->Get(target)->arch()->str()
                                                        : "";
  std::string image = pickImage(images, major, minor);
  if (image.empty())
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, path, ": device cuda:", gpu.ordinal, " (",
                         name, ") is ", arch, ", and the artifact's code is for ", images,
                         "; compile it with --arch ", arch);
  gpu.description = std::string(name) + " (" + arch + ", " + std::to_string(sms) +
                    " SMs), code: " + image;
  CATFISH_CU_CHECK(driver, driver.cuDevicePrimaryCtxRetain(&gpu.context, gpu.device),
                   "cuDevicePrimaryCtxRetain");
  return useContext(driver, gpu.context);
}

/// Loads the fatbin: the driver picks the cubin or JIT-compiles the PTX.
catfish_status_t *loadModule(const catfish_model_t &model, GpuModel &gpu) {
  const Driver &driver = *gpu.driver;
  const fa::Manifest &m = model.file->manifest();
  uint32_t target = m.kernels()->Get(model.firstKernel())->target();
  const uint8_t *fatbin = model.file->sectionData(m.targets()->Get(target)->section());
  char log[4096] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log) - 1))};
  CUresult result = driver.cuModuleLoadDataEx(&gpu.module, fatbin, 2, options, values);
  if (result != CUDA_SUCCESS)
    return makeStatusCat(result == CUDA_ERROR_OUT_OF_MEMORY ? CATFISH_STATUS_RESOURCE_EXHAUSTED
                                                            : CATFISH_STATUS_UNSUPPORTED,
                         model.file->path(), ": loading the CUDA code on ", gpu.description,
                         ": cuModuleLoadDataEx: ", resultText(driver, result),
                         log[0] ? std::string("; ") + log : std::string());
  return nullptr;
}

/// Weights once per model and device.
catfish_status_t *uploadWeights(const catfish_model_t &model, GpuModel &gpu) {
  const Driver &driver = *gpu.driver;
  uint64_t size = model.file->weightsSize();
  CATFISH_CU_CHECK(driver, driver.cuMemAlloc(&gpu.weights, std::max<uint64_t>(size, 1)),
                   model.file->path() + ": allocating " + humanBytes(size) +
                       " of weights on cuda:" + std::to_string(gpu.ordinal));
  if (size)
    CATFISH_CU_CHECK(driver, driver.cuMemcpyHtoD(gpu.weights, model.file->weights(), size),
                     model.file->path() + ": uploading the weights");
  return nullptr;
}

/// The launches' functions and the matmuls' descriptors and algorithms, per used kernel.
/// Identical products share the heuristic's answer.
catfish_status_t *prepareCalls(const catfish_model_t &model, GpuModel &gpu) {
  const Driver &driver = *gpu.driver;
  const fa::Manifest &m = model.file->manifest();
  gpu.calls.resize(m.kernels()->size());
  std::map<std::string, cublasLtMatmulAlgo_t> algorithms;
  std::vector<bool> done(m.kernels()->size());
  for (uint32_t k : model.stepKernels) {
    if (k == catfish_model_t::kNoKernel || done[k])
      continue;
    done[k] = true;
    const fa::Kernel &kernel = *m.kernels()->Get(k);
    if (!kernel.calls())
      continue;
    for (const fa::CudaCall *call : *kernel.calls()) {
      GpuModel::Call prepared;
      if (const fa::CudaLaunch *launch = call->launch()) {
        auto l = std::make_unique<GpuModel::Launch>();
        l->name = launch->function()->str();
        CATFISH_CU_CHECK(driver,
                         driver.cuModuleGetFunction(&l->function, gpu.module, l->name.c_str()),
                         kernelLabel(m, k) + ": function '" + l->name + "'");
        for (flatbuffers::uoffset_t i = 0; i < 3; ++i) {
          l->grid[i] = launch->grid()->Get(i);
          l->block[i] = launch->block()->Get(i);
        }
        l->dynamicSharedBytes = launch->dynamic_shared_bytes();
        if (l->dynamicSharedBytes > 48 * 1024)
          CATFISH_CU_CHECK(driver,
                           driver.cuFuncSetAttribute(
                               l->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                               int(l->dynamicSharedBytes)),
                           kernelLabel(m, k) + ": " + std::to_string(l->dynamicSharedBytes) +
                               " bytes of dynamic shared memory for '" + l->name + "'");
        if (launch->args())
          l->args.assign(launch->args()->begin(), launch->args()->end());
        prepared.launch = std::move(l);
      } else {
        const fa::CudaMatmul &mm = *call->matmul();
        if (!gpu.lt) {
          if (catfish_status_t *status = openCublasLt(gpu.lt))
            return status;
          cublasStatus_t created = gpu.lt->cublasLtCreate(&gpu.ltHandle);
          if (created != CUBLAS_STATUS_SUCCESS)
            return makeStatusCat(CATFISH_STATUS_INTERNAL, "cublasLtCreate: ",
                                 statusText(*gpu.lt, created));
        }
        auto p = std::make_unique<GpuModel::Matmul>();
        if (catfish_status_t *status = LtMatmul::create(*gpu.lt, mm, p->lt))
          return withPrefix(status, model.file->path() + ": " + kernelLabel(m, k) + ": ");
        uint32_t bytes = p->lt->elementBytes();
        p->a = mm.a(), p->b = mm.b(), p->c = mm.c();
        p->offsetA = mm.offset_a() * bytes;
        p->offsetB = mm.offset_b() * bytes;
        p->offsetC = mm.offset_c() * bytes;
        p->alpha = mm.alpha(), p->beta = mm.beta();
        // cuBLASLt's A is the plan's B.
        uint32_t alignA = alignmentOf(p->offsetB), alignB = alignmentOf(p->offsetA),
                 alignC = alignmentOf(p->offsetC);
        std::ostringstream key;
        key << int(mm.dtype()) << ' ' << mm.m() << ' ' << mm.n() << ' ' << mm.k() << ' '
            << mm.batch() << ' ' << mm.transpose_a() << mm.transpose_b() << ' ' << mm.lda()
            << ' ' << mm.ldb() << ' ' << mm.ldc() << ' ' << mm.stride_a() << ' '
            << mm.stride_b() << ' ' << mm.stride_c() << ' ' << alignA << alignB << alignC;
        auto found = algorithms.find(key.str());
        if (found == algorithms.end()) {
          cublasLtMatmulAlgo_t algorithm;
          if (catfish_status_t *status = p->lt->pickAlgorithm(
                  gpu.ltHandle, kMatmulWorkspaceBytes, alignA, alignB, alignC, algorithm))
            return withPrefix(status, strCat(model.file->path(), ": ", kernelLabel(m, k), ": ",
                                             mm.m(), "x", mm.n(), "x", mm.k(), " (batch ",
                                             mm.batch(), ") on ", gpu.description, ": "));
          found = algorithms.emplace(key.str(), algorithm).first;
        }
        p->algorithm = found->second;
        prepared.matmul = std::move(p);
        gpu.hasMatmuls = true;
      }
      gpu.calls[k].push_back(std::move(prepared));
    }
  }
  return nullptr;
}

} // namespace

catfish_status_t *loadModel(const catfish_model_t &model, int ordinal, bool useGraphs,
                            GpuModelPtr &out) {
  GpuModelPtr gpu(new GpuModel());
  gpu->ordinal = ordinal;
  gpu->useGraphs = useGraphs;
  if (catfish_status_t *status = openDriver(gpu->driver))
    return withPrefix(status, strCat(model.file->path(), ": device cuda:", ordinal,
                                     " is not available: "));
  if (model.firstKernel() == catfish_model_t::kNoKernel)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, model.file->path(),
                         ": the artifact has no steps to run on a GPU");
  if (catfish_status_t *status = openDevice(model, *gpu))
    return status;
  if (catfish_status_t *status = loadModule(model, *gpu))
    return status;
  if (catfish_status_t *status = uploadWeights(model, *gpu))
    return status;
  if (catfish_status_t *status = prepareCalls(model, *gpu))
    return status;
  out = std::move(gpu);
  return nullptr;
}

const std::string &describe(const GpuModel &model) { return model.description; }

//===----------------------------------------------------------------------===//
// Sessions
//===----------------------------------------------------------------------===//

struct GpuSession {
  const catfish_model_t *model = nullptr;
  const GpuModel *gpu = nullptr;
  CUstream ownStream = nullptr;
  CUstream stream = nullptr;
  CUdeviceptr arena = 0, inputs = 0, workspace = 0;
  /// Each input's own device buffer, and what the caller bound instead (0: none).
  std::vector<CUdeviceptr> inputBuffers, boundInputs, boundOutputs;
  /// Per buffer of the manifest, its device address in this session's current bindings.
  std::vector<CUdeviceptr> addresses;
  /// Outputs whose buffer is not theirs alone (an input, a weight, another output's): copied
  /// to their bound memory after the plan.
  std::vector<bool> copyBoundOutput;

  struct BoundCall {
    const GpuModel::Launch *launch = nullptr;
    const GpuModel::Matmul *matmul = nullptr;
    /// A launch's parameter values and the pointers to them cuLaunchKernel takes.
    std::vector<CUdeviceptr> values;
    std::vector<void *> params;
    /// A matmul's operands (cuBLASLt's A = the plan's B).
    CUdeviceptr a = 0, b = 0, c = 0;
    uint32_t kernel = 0, step = 0;
  };
  std::vector<BoundCall> calls;
  /// Per step in order: its calls in `calls`, or its control with its buffers' manifest
  /// indices, device addresses and sizes.
  struct BoundStep {
    size_t firstCall = 0, endCall = 0;
    fa::Control control = fa::Control::None;
    uint32_t target = 0;
    std::vector<uint32_t> buffers;
    std::vector<CUdeviceptr> addresses;
    std::vector<uint64_t> sizes;
  };
  std::vector<BoundStep> steps;
  /// The plan has control steps: it runs step by step from the host, never as a CUDA Graph.
  bool hasControl = false;
  /// Per buffer, the host's copy of a loop's iteration number (the host counts, the body's
  /// kernels read the device copy).
  std::vector<int64_t> iterations;
  bool bindingsChanged = true;

  CUgraph graph = nullptr;
  CUgraphExec graphExec = nullptr;
  CUevent started = nullptr, finished = nullptr;

  /// Host copies of the outputs with their byte sizes and dims (the actual ones for an output
  /// with data-dependent dims); valid after a run when fresh[o].
  std::vector<std::vector<uint8_t>> hostOutputs;
  std::vector<size_t> hostBytes;
  std::vector<std::vector<int64_t>> hostDims;
  std::vector<bool> fresh;

  void dropGraph() {
    const Driver &driver = *gpu->driver;
    if (graphExec)
      driver.cuGraphExecDestroy(graphExec);
    if (graph)
      driver.cuGraphDestroy(graph);
    graphExec = nullptr;
    graph = nullptr;
  }

  ~GpuSession() {
    if (!gpu)
      return;
    const Driver &driver = *gpu->driver;
    driver.cuCtxSetCurrent(gpu->context);
    if (stream)
      driver.cuStreamSynchronize(stream);
    dropGraph();
    for (CUevent event : {started, finished})
      if (event)
        driver.cuEventDestroy(event);
    if (ownStream)
      driver.cuStreamDestroy(ownStream);
    for (CUdeviceptr memory : {arena, inputs, workspace})
      if (memory)
        driver.cuMemFree(memory);
  }
};

void GpuSessionDeleter::operator()(GpuSession *session) const { delete session; }

namespace {

uint64_t roundUp(uint64_t value) {
  return (value + fa::kArenaAlignment - 1) / fa::kArenaAlignment * fa::kArenaAlignment;
}

/// Resolves every buffer's address from the current bindings and rebuilds the calls' arguments.
void bindBuffers(GpuSession &session) {
  const fa::ArtifactFile &file = *session.model->file;
  const fa::Manifest &m = file.manifest();
  const GpuModel &gpu = *session.gpu;
  session.addresses.assign(m.buffers()->size(), 0);
  for (flatbuffers::uoffset_t i = 0; i < m.buffers()->size(); ++i) {
    const fa::Buffer &b = *m.buffers()->Get(i);
    switch (b.kind()) {
    case fa::BufferKind::Input: {
      size_t input = size_t(b.input_index());
      session.addresses[i] = session.boundInputs[input] ? session.boundInputs[input]
                                                        : session.inputBuffers[input];
      break;
    }
    case fa::BufferKind::Weight:
      session.addresses[i] = gpu.weights + b.offset();
      break;
    case fa::BufferKind::Arena:
      session.addresses[i] = session.arena + b.offset();
      break;
    }
  }
  for (size_t o = 0; o < session.boundOutputs.size(); ++o)
    if (session.boundOutputs[o] && !session.copyBoundOutput[o])
      session.addresses[m.outputs()->Get(flatbuffers::uoffset_t(o))->buffer()] =
          session.boundOutputs[o];

  session.calls.clear();
  session.steps.clear();
  session.hasControl = false;
  session.iterations.assign(m.buffers()->size(), 0);
  for (flatbuffers::uoffset_t s = 0; s < m.steps()->size(); ++s) {
    const fa::Step &step = *m.steps()->Get(s);
    GpuSession::BoundStep boundStep;
    boundStep.firstCall = boundStep.endCall = session.calls.size();
    if (step.control() != fa::Control::None) {
      boundStep.control = step.control();
      boundStep.target = step.target();
      for (uint32_t buffer : *step.args()) {
        boundStep.buffers.push_back(buffer);
        boundStep.addresses.push_back(session.addresses[buffer]);
        boundStep.sizes.push_back(m.buffers()->Get(buffer)->size());
      }
      session.steps.push_back(std::move(boundStep));
      session.hasControl = true;
      continue;
    }
    uint32_t k = session.model->stepKernels[s];
    auto address = [&](uint32_t position) { return session.addresses[step.args()->Get(position)]; };
    for (const GpuModel::Call &call : gpu.calls[k]) {
      GpuSession::BoundCall bound;
      bound.kernel = k;
      bound.step = s;
      if (call.launch) {
        bound.launch = call.launch.get();
        for (uint32_t position : call.launch->args)
          bound.values.push_back(address(position));
      } else {
        const GpuModel::Matmul &mm = *call.matmul;
        bound.matmul = &mm;
        bound.a = address(mm.b) + mm.offsetB;
        bound.b = address(mm.a) + mm.offsetA;
        bound.c = address(mm.c) + mm.offsetC;
      }
      session.calls.push_back(std::move(bound));
    }
    boundStep.endCall = session.calls.size();
    session.steps.push_back(std::move(boundStep));
  }
  // Pointers into `values` are taken once the vector of calls stops moving.
  for (GpuSession::BoundCall &call : session.calls)
    for (CUdeviceptr &value : call.values)
      call.params.push_back(&value);
  session.bindingsChanged = false;
}

/// Puts one call of a step on the session's stream.
catfish_status_t *enqueueCall(GpuSession &session, const GpuSession::BoundCall &call) {
  const Driver &driver = *session.gpu->driver;
  const fa::Manifest &m = session.model->file->manifest();
  {
    auto where = [&] {
      return "step " + std::to_string(call.step) + ", " + kernelLabel(m, call.kernel);
    };
    if (const GpuModel::Launch *l = call.launch) {
      CUresult result = driver.cuLaunchKernel(
          l->function, l->grid[0], l->grid[1], l->grid[2], l->block[0], l->block[1], l->block[2],
          l->dynamicSharedBytes, session.stream, const_cast<void **>(call.params.data()), nullptr);
      if (result != CUDA_SUCCESS)
        return driverError(driver, result, where() + ": launching " + l->name);
      return nullptr;
    }
    const GpuModel::Matmul &mm = *call.matmul;
    const CublasLt &lt = *session.gpu->lt;
    cublasStatus_t status = lt.cublasLtMatmul(
        session.gpu->ltHandle, mm.lt->operation(), &mm.alpha, reinterpret_cast<void *>(call.a),
        mm.lt->layoutA(), reinterpret_cast<void *>(call.b), mm.lt->layoutB(), &mm.beta,
        reinterpret_cast<void *>(call.c), mm.lt->layoutC(), reinterpret_cast<void *>(call.c),
        mm.lt->layoutC(), &mm.algorithm, reinterpret_cast<void *>(session.workspace),
        kMatmulWorkspaceBytes, session.stream);
    if (status != CUBLAS_STATUS_SUCCESS)
      return makeStatusCat(CATFISH_STATUS_INTERNAL, where(), ": cublasLtMatmul: ",
                           statusText(lt, status));
  }
  return nullptr;
}

/// Runs control step `next` of the plan from the host and moves `next` to the step that runs
/// after it. The host keeps each loop's iteration number and uploads it for the body's
/// kernels; a loop test reads the condition and the trip count back, waiting for the stream.
catfish_status_t *runControl(GpuSession &session, size_t &next) {
  const Driver &driver = *session.gpu->driver;
  const GpuSession::BoundStep &step = session.steps[next];
  std::string where = "step " + std::to_string(next) + " (" + fa::EnumNameControl(step.control) +
                      ")";
  const std::vector<CUdeviceptr> &at = step.addresses;
  ++next;
  auto upload = [&](uint32_t buffer) {
    return driver.cuMemcpyHtoDAsync(at[0], &session.iterations[buffer], sizeof(int64_t),
                                    session.stream);
  };
  switch (step.control) {
  case fa::Control::Copy:
    CATFISH_CU_CHECK(driver,
                     driver.cuMemcpyDtoDAsync(at[1], at[0], step.sizes[0], session.stream), where);
    break;
  case fa::Control::CopyToSlice: {
    int64_t iteration = session.iterations[step.buffers[2]];
    uint64_t size = step.sizes[0];
    if (iteration < 0 || (size && uint64_t(iteration) >= step.sizes[1] / size))
      return makeStatusCat(CATFISH_STATUS_INTERNAL, where, ": loop iteration ", iteration,
                           " is past the ", size ? step.sizes[1] / size : 0,
                           " its scan output holds");
    CATFISH_CU_CHECK(driver,
                     driver.cuMemcpyDtoDAsync(at[1] + uint64_t(iteration) * size, at[0], size,
                                              session.stream),
                     where);
    break;
  }
  case fa::Control::LoopBegin: {
    session.iterations[step.buffers[0]] = 0;
    CATFISH_CU_CHECK(driver, upload(step.buffers[0]), where);
    static const uint8_t kTrue = 1;
    CATFISH_CU_CHECK(driver,
                     at.size() == 3
                         ? driver.cuMemcpyDtoDAsync(at[1], at[2], 1, session.stream)
                         : driver.cuMemcpyHtoDAsync(at[1], &kTrue, 1, session.stream),
                     where);
    break;
  }
  case fa::Control::LoopTest: {
    uint8_t condition = 0;
    int64_t trips = 0;
    CATFISH_CU_CHECK(driver, driver.cuMemcpyDtoHAsync(&condition, at[1], 1, session.stream),
                     where);
    if (at.size() == 3)
      CATFISH_CU_CHECK(driver,
                       driver.cuMemcpyDtoHAsync(&trips, at[2], sizeof(trips), session.stream),
                       where);
    CATFISH_CU_CHECK(driver, driver.cuStreamSynchronize(session.stream), where);
    if (!condition || (at.size() == 3 && session.iterations[step.buffers[0]] >= trips))
      next = step.target;
    break;
  }
  case fa::Control::LoopNext:
    ++session.iterations[step.buffers[0]];
    CATFISH_CU_CHECK(driver, upload(step.buffers[0]), where);
    next = step.target;
    break;
  default:
    break;
  }
  return nullptr;
}

/// Puts the plan on the session's stream: every step in order (a loop's steps as often as it
/// runs), then the copies of bound outputs that the plan cannot write in place.
catfish_status_t *enqueuePlan(GpuSession &session) {
  const Driver &driver = *session.gpu->driver;
  const fa::Manifest &m = session.model->file->manifest();
  for (size_t next = 0; next < session.steps.size();) {
    const GpuSession::BoundStep &step = session.steps[next];
    if (step.control != fa::Control::None) {
      if (catfish_status_t *status = runControl(session, next))
        return status;
      continue;
    }
    for (size_t c = step.firstCall; c < step.endCall; ++c)
      if (catfish_status_t *status = enqueueCall(session, session.calls[c]))
        return status;
    ++next;
  }
  for (size_t o = 0; o < session.boundOutputs.size(); ++o) {
    if (!session.boundOutputs[o] || !session.copyBoundOutput[o])
      continue;
    const fa::TensorInfo &info = *m.outputs()->Get(flatbuffers::uoffset_t(o));
    CATFISH_CU_CHECK(driver,
                     driver.cuMemcpyDtoDAsync(session.boundOutputs[o],
                                              session.addresses[info.buffer()],
                                              session.model->outputs[o].byte_size, session.stream),
                     "copying output '" + info.name()->str() + "' to its bound memory");
  }
  return nullptr;
}

/// Captures the plan into a graph and instantiates it.
catfish_status_t *captureGraph(GpuSession &session) {
  const Driver &driver = *session.gpu->driver;
  CATFISH_CU_CHECK(driver,
                   driver.cuStreamBeginCapture(session.stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                   "capturing the plan into a CUDA Graph (cuStreamBeginCapture)");
  catfish_status_t *enqueued = enqueuePlan(session);
  CUresult ended = driver.cuStreamEndCapture(session.stream, &session.graph);
  if (enqueued)
    return enqueued;
  CATFISH_CU_CHECK(driver, ended, "capturing the plan into a CUDA Graph (cuStreamEndCapture)");
  CATFISH_CU_CHECK(driver, driver.cuGraphInstantiateWithFlags(&session.graphExec, session.graph, 0),
                   "instantiating the plan's CUDA Graph");
  return nullptr;
}

} // namespace

catfish_status_t *createSession(const catfish_model_t &model, GpuSessionPtr &out) {
  const GpuModel &gpu = *model.gpu;
  const Driver &driver = *gpu.driver;
  if (catfish_status_t *status = useContext(driver, gpu.context))
    return status;
  GpuSessionPtr session(new GpuSession());
  session->model = &model;
  session->gpu = &gpu;
  const fa::ArtifactFile &file = *model.file;
  const fa::Manifest &m = file.manifest();
  std::string on = " on cuda:" + std::to_string(gpu.ordinal);

  uint64_t arenaSize = m.arena_size();
  CATFISH_CU_CHECK(driver, driver.cuMemAlloc(&session->arena, std::max<uint64_t>(arenaSize, 1)),
                   file.path() + ": allocating the arena of " + humanBytes(arenaSize) + on);
  uint64_t inputBytes = 0;
  std::vector<uint64_t> offsets;
  for (size_t i = 0; i < model.inputs.size(); ++i) {
    offsets.push_back(inputBytes);
    inputBytes += roundUp(file.inputBufferSize(i));
  }
  CATFISH_CU_CHECK(driver, driver.cuMemAlloc(&session->inputs, std::max<uint64_t>(inputBytes, 1)),
                   file.path() + ": allocating " + humanBytes(inputBytes) + " for the inputs" + on);
  for (uint64_t offset : offsets)
    session->inputBuffers.push_back(session->inputs + offset);
  if (gpu.hasMatmuls)
    CATFISH_CU_CHECK(driver, driver.cuMemAlloc(&session->workspace, kMatmulWorkspaceBytes),
                     file.path() + ": allocating the cuBLASLt workspace" + on);
  CATFISH_CU_CHECK(driver, driver.cuStreamCreate(&session->ownStream, CU_STREAM_NON_BLOCKING),
                   "cuStreamCreate");
  session->stream = session->ownStream;
  CATFISH_CU_CHECK(driver, driver.cuEventCreate(&session->started, CU_EVENT_DEFAULT),
                   "cuEventCreate");
  CATFISH_CU_CHECK(driver, driver.cuEventCreate(&session->finished, CU_EVENT_DEFAULT),
                   "cuEventCreate");

  session->boundInputs.assign(model.inputs.size(), 0);
  session->boundOutputs.assign(model.outputs.size(), 0);
  // An output is written in place into bound memory only if its buffer is an arena buffer that
  // no other output shares.
  std::map<uint32_t, int> outputsOfBuffer;
  for (const fa::TensorInfo *info : *m.outputs())
    ++outputsOfBuffer[info->buffer()];
  for (const fa::TensorInfo *info : *m.outputs())
    session->copyBoundOutput.push_back(m.buffers()->Get(info->buffer())->kind() !=
                                           fa::BufferKind::Arena ||
                                       outputsOfBuffer[info->buffer()] > 1);
  for (const catfish_tensor_info_t &info : model.outputs) {
    session->hostOutputs.emplace_back(info.byte_size);
    session->hostBytes.push_back(info.byte_size);
    session->hostDims.emplace_back(info.dims, info.dims + info.rank);
  }
  session->fresh.assign(model.outputs.size(), false);
  bindBuffers(*session);
  out = std::move(session);
  return nullptr;
}

catfish_status_t *setInput(GpuSession &session, size_t index, const void *data, size_t bytes) {
  const Driver &driver = *session.gpu->driver;
  if (catfish_status_t *status = useContext(driver, session.gpu->context))
    return status;
  const catfish_tensor_info_t &info = session.model->inputs[index];
  if (session.boundInputs[index]) {
    session.boundInputs[index] = 0;
    session.bindingsChanged = true;
  }
  std::vector<uint8_t> unpacked;
  if (fa::isPackedDType(static_cast<fa::DType>(info.dtype))) {
    unpacked.resize(session.model->file->inputBufferSize(index));
    unpackNibbles(static_cast<const uint8_t *>(data), unpacked.size(), unpacked.data());
    data = unpacked.data();
    bytes = unpacked.size();
  }
  CATFISH_CU_CHECK(driver, driver.cuStreamSynchronize(session.stream),
                   "waiting for the session's earlier work");
  if (bytes)
    CATFISH_CU_CHECK(driver,
                     driver.cuMemcpyHtoDAsync(session.inputBuffers[index], data, bytes,
                                              session.stream),
                     std::string("copying input '") + info.name + "' to the GPU");
  CATFISH_CU_CHECK(driver, driver.cuStreamSynchronize(session.stream),
                   std::string("copying input '") + info.name + "' to the GPU");
  return nullptr;
}

namespace {

/// Checks that `address` is memory of the session's GPU.
catfish_status_t *checkDeviceMemory(GpuSession &session, uint64_t address, const char *what,
                                    const char *name) {
  const Driver &driver = *session.gpu->driver;
  int ordinal = -1;
  CUresult result = driver.cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                                                 CUdeviceptr(address));
  if (result != CUDA_SUCCESS)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " '", name, "': 0x", std::hex,
                         address, std::dec, " is not CUDA memory (", resultText(driver, result),
                         ")");
  if (ordinal != session.gpu->ordinal)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " '", name, "': 0x", std::hex,
                         address, std::dec, " is memory of cuda:", ordinal,
                         "; the model runs on cuda:", session.gpu->ordinal);
  return nullptr;
}

} // namespace

bool inputBound(const GpuSession &session, size_t index) { return session.boundInputs[index]; }

catfish_status_t *bind(GpuSession &session, bool output, size_t index, uint64_t address) {
  if (catfish_status_t *status = useContext(*session.gpu->driver, session.gpu->context))
    return status;
  const catfish_tensor_info_t &info =
      output ? session.model->outputs[index] : session.model->inputs[index];
  if (address)
    if (catfish_status_t *status =
            checkDeviceMemory(session, address, output ? "output" : "input", info.name))
      return status;
  (output ? session.boundOutputs : session.boundInputs)[index] = address;
  session.bindingsChanged = true;
  return nullptr;
}

catfish_status_t *setStream(GpuSession &session, void *stream) {
  const Driver &driver = *session.gpu->driver;
  if (catfish_status_t *status = useContext(driver, session.gpu->context))
    return status;
  CUstream next = stream ? static_cast<CUstream>(stream) : session.ownStream;
  if (next == session.stream)
    return nullptr;
  CATFISH_CU_CHECK(driver, driver.cuStreamSynchronize(session.stream),
                   "waiting for the session's earlier work");
  session.stream = next;
  return nullptr;
}

catfish_status_t *wait(GpuSession &session) {
  const Driver &driver = *session.gpu->driver;
  if (catfish_status_t *status = useContext(driver, session.gpu->context))
    return status;
  CUresult result = driver.cuStreamSynchronize(session.stream);
  if (result != CUDA_SUCCESS)
    return makeStatusCat(
        result == CUDA_ERROR_OUT_OF_MEMORY ? CATFISH_STATUS_RESOURCE_EXHAUSTED
                                           : CATFISH_STATUS_INTERNAL,
        session.model->file->path(), ": the run on cuda:", session.gpu->ordinal,
        " failed: ", resultText(driver, result),
        session.gpu->useGraphs ? "; run without CUDA Graphs to have the failing step named"
                               : "");
  return nullptr;
}

catfish_status_t *run(GpuSession &session, bool waitForIt) {
  const Driver &driver = *session.gpu->driver;
  if (catfish_status_t *status = useContext(driver, session.gpu->context))
    return status;
  if (session.bindingsChanged) {
    session.dropGraph();
    bindBuffers(session);
  }
  CATFISH_CU_CHECK(driver, driver.cuEventRecord(session.started, session.stream), "cuEventRecord");
  if (session.gpu->useGraphs && !session.hasControl) {
    if (!session.graphExec)
      if (catfish_status_t *status = captureGraph(session)) {
        session.dropGraph();
        return status;
      }
    CATFISH_CU_CHECK(driver, driver.cuGraphLaunch(session.graphExec, session.stream),
                     "launching the plan's CUDA Graph");
  } else if (catfish_status_t *status = enqueuePlan(session)) {
    return status;
  }
  CATFISH_CU_CHECK(driver, driver.cuEventRecord(session.finished, session.stream),
                   "cuEventRecord");
  session.fresh.assign(session.fresh.size(), false);
  return waitForIt ? wait(session) : nullptr;
}

catfish_status_t *output(GpuSession &session, size_t index, const void **outData,
                         size_t *outByteSize, const int64_t **outDims) {
  const Driver &driver = *session.gpu->driver;
  const catfish_tensor_info_t &info = session.model->outputs[index];
  if (session.boundOutputs[index])
    return makeStatusCat(CATFISH_STATUS_FAILED_PRECONDITION, "output '", info.name,
                         "' is bound to device memory; read it there");
  if (!session.fresh[index]) {
    if (catfish_status_t *status = useContext(driver, session.gpu->context))
      return status;
    const fa::Manifest &m = session.model->file->manifest();
    const fa::TensorInfo &tensor = *m.outputs()->Get(flatbuffers::uoffset_t(index));
    uint32_t buffer = tensor.buffer();
    uint64_t size = m.buffers()->Get(buffer)->size();
    auto copying = [&] { return std::string("copying output '") + info.name + "' from the GPU"; };
    // A packed output is packed, and one with data-dependent dims compacted, from a staging copy.
    bool packed = fa::isPackedDType(static_cast<fa::DType>(info.dtype));
    bool dynamic = info.data_dependent_dims != 0;
    std::vector<uint8_t> staged(packed || dynamic ? size : 0);
    uint8_t *target = staged.empty() ? session.hostOutputs[index].data() : staged.data();
    if (size)
      CATFISH_CU_CHECK(driver,
                       driver.cuMemcpyDtoHAsync(target, session.addresses[buffer], size,
                                                session.stream),
                       copying());
    // Loading allowed at most 64 data-dependent dims, each with an 8-byte arena size buffer.
    int64_t sizes[64];
    flatbuffers::uoffset_t sizeCount = 0;
    if (dynamic)
      for (const fa::DataDependentDim *dim : *tensor.data_dependent_dims())
        CATFISH_CU_CHECK(driver,
                         driver.cuMemcpyDtoHAsync(&sizes[sizeCount++],
                                                  session.addresses[dim->size_buffer()],
                                                  sizeof(int64_t), session.stream),
                         copying());
    if (catfish_status_t *status = wait(session))
      return status;
    if (packed)
      packNibbles(staged.data(), size, session.hostOutputs[index].data());
    if (dynamic) {
      std::vector<int64_t> &dims = session.hostDims[index];
      if (catfish_status_t *status = setActualDims(info, tensor, sizes, dims.data()))
        return status;
      session.hostBytes[index] =
          compactOutput(info, dims.data(), staged.data(), session.hostOutputs[index].data());
    }
    session.fresh[index] = true;
  }
  *outData = session.hostOutputs[index].data();
  *outByteSize = session.hostBytes[index];
  *outDims = session.hostDims[index].data();
  return nullptr;
}

catfish_status_t *lastGpuMilliseconds(GpuSession &session, float *outMilliseconds) {
  const Driver &driver = *session.gpu->driver;
  if (catfish_status_t *status = useContext(driver, session.gpu->context))
    return status;
  CATFISH_CU_CHECK(driver, driver.cuEventSynchronize(session.finished), "cuEventSynchronize");
  CATFISH_CU_CHECK(driver,
                   driver.cuEventElapsedTime(outMilliseconds, session.started, session.finished),
                   "cuEventElapsedTime");
  return nullptr;
}

} // namespace catfish::rt::cuda
