//===- model.cpp - catfish_model_t: loading and introspection --------------===//

#include "model.h"

#include "memory_limit.h"
#include "status.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

namespace {
using catfish::artifact::ArtifactFile;
using catfish::artifact::CpuKernelFn;
using catfish::artifact::humanBytes;
using catfish::rt::makeStatusCat;
namespace fa = catfish::artifact;

static_assert(int(fa::DType::F32) == CATFISH_DTYPE_F32 && int(fa::DType::F16) == CATFISH_DTYPE_F16 &&
                  int(fa::DType::BF16) == CATFISH_DTYPE_BF16 &&
                  int(fa::DType::F64) == CATFISH_DTYPE_F64 &&
                  int(fa::DType::I64) == CATFISH_DTYPE_I64 &&
                  int(fa::DType::I32) == CATFISH_DTYPE_I32 &&
                  int(fa::DType::I16) == CATFISH_DTYPE_I16 && int(fa::DType::I8) == CATFISH_DTYPE_I8 &&
                  int(fa::DType::U64) == CATFISH_DTYPE_U64 &&
                  int(fa::DType::U32) == CATFISH_DTYPE_U32 &&
                  int(fa::DType::U16) == CATFISH_DTYPE_U16 && int(fa::DType::U8) == CATFISH_DTYPE_U8 &&
                  int(fa::DType::Bool) == CATFISH_DTYPE_BOOL &&
                  int(fa::DType::F8E4M3FN) == CATFISH_DTYPE_F8E4M3FN &&
                  int(fa::DType::F8E5M2) == CATFISH_DTYPE_F8E5M2 &&
                  int(fa::DType::I4) == CATFISH_DTYPE_I4 &&
                  int(fa::DType::F8E4M3FNUZ) == CATFISH_DTYPE_F8E4M3FNUZ &&
                  int(fa::DType::F8E5M2FNUZ) == CATFISH_DTYPE_F8E5M2FNUZ &&
                  int(fa::DType::U4) == CATFISH_DTYPE_U4 &&
                  int(fa::DType::F4E2M1) == CATFISH_DTYPE_F4E2M1 &&
                  int(fa::DType::MAX) == CATFISH_DTYPE_F4E2M1,
              "catfish_dtype_t must match the schema's DType");

const char *orEmpty(const flatbuffers::String *text) { return text ? text->c_str() : ""; }

/// The dims of rank-0 tensors: a valid pointer, never read.
const int64_t kNoDims[1] = {0};

void describeTensors(const ArtifactFile &file, bool outputs,
                     std::vector<catfish_tensor_info_t> &out) {
  const auto *tensors = outputs ? file.manifest().outputs() : file.manifest().inputs();
  size_t count = tensors ? tensors->size() : 0;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const fa::TensorInfo &t = *tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
    catfish_tensor_info_t info;
    info.name = t.name()->c_str();
    info.dtype = static_cast<catfish_dtype_t>(t.dtype());
    info.rank = t.shape() ? t.shape()->size() : 0;
    info.dims = info.rank ? t.shape()->data() : kNoDims;
    info.byte_size = static_cast<size_t>(outputs ? file.outputByteSize(i) : file.inputByteSize(i));
    info.data_dependent_dims = 0;
    if (t.data_dependent_dims())
      for (const fa::DataDependentDim *dim : *t.data_dependent_dims())
        info.data_dependent_dims |= uint64_t(1) << dim->dim();
    out.push_back(info);
  }
}

std::string targetLabel(const ArtifactFile &file, uint32_t index) {
  const fa::Target &t = *file.manifest().targets()->Get(index);
  std::string label = "'" + file.path() + "' target " + std::to_string(index) + " (" +
                      t.name()->str();
  if (t.arch() && t.arch()->size())
    label += " " + t.arch()->str();
  return label + ")";
}

/// Loads the shared object of target `t` into model.code[t].
catfish_status_t *loadTargetCode(catfish_model_t &model, size_t t) {
  const ArtifactFile &file = *model.file;
  const fa::Target &target = *file.manifest().targets()->Get(static_cast<flatbuffers::uoffset_t>(t));
  std::string label = targetLabel(file, static_cast<uint32_t>(t));
  std::string format = orEmpty(target.format());
  if (format != "elf-shared-object")
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, label, ": code format '", format,
                         "' is not one this runtime loads (elf-shared-object)");
  std::string missing;
  if (!catfish::rt::hostSupportsCpuArch(orEmpty(target.arch()), missing))
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, label,
                         ": this CPU cannot run the code; it lacks ", missing);
  const fa::SectionEntry &section = file.section(target.section());
  return catfish::rt::SharedObject::load(file.sectionData(target.section()), section.size, label,
                                         model.code[t]);
}

/// The address of `symbol` in the loaded code of target `t`, or a DATA_LOSS status naming
/// kernel `k`.
catfish_status_t *findSymbol(const catfish_model_t &model, size_t t, size_t k, const char *symbol,
                             void *&address) {
  address = model.code[t]->symbol(symbol);
  if (address)
    return nullptr;
  const fa::Kernel &kernel = *model.file->manifest().kernels()->Get(static_cast<flatbuffers::uoffset_t>(k));
  std::string from = kernel.location() && kernel.location()->size()
                         ? " from " + kernel.location()->str()
                         : std::string();
  return makeStatusCat(CATFISH_STATUS_DATA_LOSS, model.file->path(), ": kernel ", k, " (",
                       kernel.symbol()->string_view(), from, "): symbol '", symbol,
                       "' is missing from the code of ",
                       targetLabel(*model.file, static_cast<uint32_t>(t)));
}

/// "sm_80 sm_90a" of every target named `name` that a step uses, for messages.
std::string archsOf(const fa::Manifest &m, const std::vector<bool> &targetUsed,
                    const std::string &name) {
  std::vector<std::string> archs;
  for (size_t t = 0; t < targetUsed.size(); ++t) {
    const fa::Target &target = *m.targets()->Get(static_cast<flatbuffers::uoffset_t>(t));
    if (!targetUsed[t] || target.name()->str() != name)
      continue;
    std::string arch = target.arch() && target.arch()->size() ? target.arch()->str() : "any arch";
    if (std::find(archs.begin(), archs.end(), arch) == archs.end())
      archs.push_back(arch);
  }
  std::string list;
  for (const std::string &arch : archs)
    list += (list.empty() ? "" : ", ") + arch;
  return list;
}

/// Device cpu: every step's kernel must be CPU code, run as one call. `noGpu` says why device
/// auto did not take the GPU, if it looked for one.
catfish_status_t *loadCpuCode(catfish_model_t &model, const std::vector<bool> &kernelUsed,
                              const std::vector<bool> &targetUsed, const std::string &noGpu) {
  const ArtifactFile &file = *model.file;
  const fa::Manifest &m = file.manifest();
  for (size_t t = 0; t < targetUsed.size(); ++t) {
    std::string name = m.targets()->Get(static_cast<flatbuffers::uoffset_t>(t))->name()->str();
    if (!targetUsed[t] || name == "cpu")
      continue;
    bool emulated = false;
    for (size_t e = 0; e < targetUsed.size(); ++e)
      emulated |= m.targets()->Get(static_cast<flatbuffers::uoffset_t>(e))->name()->string_view() ==
                  fa::kCudaEmulatorTarget;
    std::string hint;
    if (name == "cuda")
      hint = (noGpu.empty() ? "; device cuda runs it on a GPU" : "; no GPU here: " + noGpu) +
             (emulated ? "; device cuda-emulator runs its CUDA plan on the host"
                       : "; compile with --cuda-emulation to run its CUDA plan on the host "
                         "(device cuda-emulator)");
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, file.path(), ": this artifact needs target ",
                         name, " (", archsOf(m, targetUsed, name), ") which the CPU cannot run",
                         hint);
  }
  for (size_t t = 0; t < targetUsed.size(); ++t)
    if (targetUsed[t])
      if (catfish_status_t *status = loadTargetCode(model, t))
        return status;
  for (size_t k = 0; k < kernelUsed.size(); ++k) {
    if (!kernelUsed[k])
      continue;
    const fa::Kernel &kernel = *m.kernels()->Get(static_cast<flatbuffers::uoffset_t>(k));
    void *address;
    if (catfish_status_t *status =
            findSymbol(model, kernel.target(), k, kernel.symbol()->c_str(), address))
      return status;
    model.calls[k].push_back({reinterpret_cast<CpuKernelFn>(address), kernel.max_tasks(), {},
                              nullptr, nullptr});
  }
  return nullptr;
}

/// UNSUPPORTED unless every used kernel is code for target cuda, which `device` runs.
catfish_status_t *requireCudaPlans(const catfish_model_t &model,
                                   const std::vector<bool> &kernelUsed, const std::string &device) {
  const fa::Manifest &m = model.file->manifest();
  for (size_t k = 0; k < kernelUsed.size(); ++k) {
    if (!kernelUsed[k])
      continue;
    const fa::Kernel &kernel = *m.kernels()->Get(static_cast<flatbuffers::uoffset_t>(k));
    const fa::Target &target = *m.targets()->Get(kernel.target());
    if (target.name()->string_view() != "cuda")
      return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, model.file->path(), ": kernel ", k, " (",
                           kernel.symbol()->string_view(), ") is code for target ",
                           target.name()->string_view(), "; device ", device,
                           " runs CUDA plans only (compile with --target cuda or cpu,cuda)");
  }
  return nullptr;
}

/// Device cuda-emulator: every step's kernel must be a CUDA plan; each launch runs the host code
/// of the artifact's cuda-emulator target with the launch table's grid and block.
catfish_status_t *loadEmulatedCode(catfish_model_t &model, const std::vector<bool> &kernelUsed) {
  const ArtifactFile &file = *model.file;
  const fa::Manifest &m = file.manifest();
  size_t targetCount = m.targets() ? m.targets()->size() : 0;
  size_t emulator = targetCount;
  for (size_t t = 0; t < targetCount; ++t)
    if (m.targets()->Get(static_cast<flatbuffers::uoffset_t>(t))->name()->string_view() ==
        fa::kCudaEmulatorTarget)
      emulator = t;
  if (emulator == targetCount)
    return makeStatusCat(CATFISH_STATUS_FAILED_PRECONDITION, file.path(),
                         ": device cuda-emulator needs host code for the CUDA plan, and this "
                         "artifact has none (compile it with --target cuda --cuda-emulation)");
  if (catfish_status_t *status = loadTargetCode(model, emulator))
    return status;
  if (catfish_status_t *status = requireCudaPlans(model, kernelUsed, "cuda-emulator"))
    return status;
  for (size_t k = 0; k < kernelUsed.size(); ++k) {
    if (!kernelUsed[k])
      continue;
    const fa::Kernel &kernel = *m.kernels()->Get(static_cast<flatbuffers::uoffset_t>(k));
    // A region over empty tensors has no calls.
    if (!kernel.calls())
      continue;
    for (const fa::CudaCall *step : *kernel.calls()) {
      if (const fa::CudaMatmul *mm = step->matmul()) {
        using catfish::rt::MatmulElement;
        MatmulElement element = mm->dtype() == fa::DType::F16    ? MatmulElement::F16
                                : mm->dtype() == fa::DType::BF16 ? MatmulElement::BF16
                                                                 : MatmulElement::F32;
        auto emulated = std::make_shared<catfish::rt::EmulatedMatmul>(catfish::rt::EmulatedMatmul{
            element, mm->m(), mm->n(), mm->k(), mm->batch(), mm->transpose_a(), mm->transpose_b(),
            mm->lda(), mm->ldb(), mm->ldc(), mm->stride_a(), mm->stride_b(), mm->stride_c(),
            mm->offset_a(), mm->offset_b(), mm->offset_c(), mm->alpha(), mm->beta()});
        uint64_t rows = mm->batch() * mm->m();
        model.calls[k].push_back({nullptr,
                                  static_cast<uint32_t>(std::min<uint64_t>(rows, UINT32_MAX)),
                                  {mm->a(), mm->b(), mm->c()}, nullptr, std::move(emulated)});
        continue;
      }
      const fa::CudaLaunch *launch = step->launch();
      void *address;
      if (catfish_status_t *status =
              findSymbol(model, emulator, k, launch->function()->c_str(), address))
        return status;
      auto emulated = std::make_shared<catfish::rt::EmulatedLaunch>();
      emulated->thread = reinterpret_cast<CpuKernelFn>(address);
      emulated->function = launch->function()->str();
      for (flatbuffers::uoffset_t i = 0; i < 3; ++i) {
        emulated->dims[i] = launch->grid()->Get(i);
        emulated->dims[3 + i] = launch->block()->Get(i);
      }
      emulated->cooperative = launch->cooperative();
      emulated->sharedBytes = launch->static_shared_bytes();
      uint32_t tasks =
          static_cast<uint32_t>(std::min<uint64_t>(emulated->blockCount(), UINT32_MAX));
      catfish_model_t::Call call{nullptr, tasks, {}, std::move(emulated), nullptr};
      if (launch->args())
        call.stepArgs.assign(launch->args()->begin(), launch->args()->end());
      model.calls[k].push_back(std::move(call));
    }
  }
  return nullptr;
}

/// Whether `device` is "cuda" or "cuda:N"; sets the ordinal N (0 for "cuda"), or -1 for a
/// malformed number.
bool parseCudaDevice(const std::string &device, int &ordinal) {
  if (device == "cuda") {
    ordinal = 0;
    return true;
  }
  if (device.rfind("cuda:", 0) != 0)
    return false;
  std::string digits = device.substr(5);
  ordinal = digits.empty() || digits.size() > 4 ||
                    digits.find_first_not_of("0123456789") != std::string::npos
                ? -1
                : std::stoi(digits);
  return true;
}

/// Whether some step has a kernel (or alternative) for target `name`.
bool hasTargetCode(const fa::Manifest &m, const char *name) {
  size_t stepCount = m.steps() ? m.steps()->size() : 0;
  for (size_t s = 0; s < stepCount; ++s) {
    const fa::Step &step = *m.steps()->Get(static_cast<flatbuffers::uoffset_t>(s));
    if (step.control() != fa::Control::None)
      continue;
    auto is = [&](uint32_t kernel) {
      return m.targets()->Get(m.kernels()->Get(kernel)->target())->name()->string_view() == name;
    };
    if (is(step.kernel()))
      return true;
    if (step.alternatives())
      for (uint32_t candidate : *step.alternatives())
        if (is(candidate))
          return true;
  }
  return false;
}

/// Device cuda:N: every step's kernel must be a CUDA plan, loaded onto GPU N.
catfish_status_t *loadGpuCode(catfish_model_t &model, int ordinal, bool useGraphs,
                              const std::vector<bool> &kernelUsed) {
  if (catfish_status_t *status = requireCudaPlans(model, kernelUsed, model.device))
    return status;
  return catfish::rt::cuda::loadModel(model, ordinal, useGraphs, model.gpu);
}

/// Of the artifact's cpu targets, the one with the most capable code this machine runs
/// (cpuArchRank; the first of equals), or -1 if it runs none of them.
int64_t preferredCpuTarget(const fa::Manifest &m) {
  int64_t best = -1;
  int bestRank = -1;
  size_t targetCount = m.targets() ? m.targets()->size() : 0;
  for (size_t t = 0; t < targetCount; ++t) {
    const fa::Target &target = *m.targets()->Get(static_cast<flatbuffers::uoffset_t>(t));
    std::string arch = orEmpty(target.arch()), missing;
    if (target.name()->string_view() != "cpu" ||
        !catfish::rt::hostSupportsCpuArch(arch, missing))
      continue;
    int rank = catfish::rt::cpuArchRank(arch);
    if (rank > bestRank) {
      best = static_cast<int64_t>(t);
      bestRank = rank;
    }
  }
  return best;
}

/// "x86-64-v4 code (the artifact has x86-64-v3, x86-64-v4)": CPU target `t` among the cpu
/// targets of `m`.
std::string describeCpuCode(const fa::Manifest &m, uint32_t t) {
  std::string all;
  for (const fa::Target *target : *m.targets())
    if (target->name()->string_view() == "cpu")
      all += (all.empty() ? "" : ", ") + std::string(orEmpty(target->arch()));
  return std::string(orEmpty(m.targets()->Get(t)->arch())) + " code (the artifact has " + all +
         ")";
}

/// Loads the code the steps run on `device`, and the calls of every kernel a step uses.
catfish_status_t *loadCode(catfish_model_t &model, std::string device, bool useGraphs) {
  const ArtifactFile &file = *model.file;
  const fa::Manifest &m = file.manifest();
  size_t targetCount = m.targets() ? m.targets()->size() : 0;
  size_t kernelCount = m.kernels() ? m.kernels()->size() : 0;
  size_t stepCount = m.steps() ? m.steps()->size() : 0;

  const char *kDevices = "devices: auto, cpu, cuda, cuda:N, cuda-emulator";
  int ordinal = 0;
  bool cuda = parseCudaDevice(device, ordinal);
  if (cuda ? ordinal < 0 : device != "auto" && device != "cpu" && device != "cuda-emulator")
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "unknown device '", device, "' (",
                         kDevices, ")");
  // auto: the GPU when the artifact has CUDA code and the machine a GPU, else the CPU code.
  std::string noGpu;
  if (device == "auto" && hasTargetCode(m, "cuda") &&
      catfish::rt::cuda::gpuAvailable(noGpu)) {
    device = "cuda:0";
    cuda = true;
  }

  // Each step runs its kernel for the device's target: the CUDA plan on a GPU or the emulator,
  // the CPU code otherwise; a step without one keeps its first kernel, which loading then
  // refuses. On the CPU, of several CPU codes (x86-64-v3 and x86-64-v4), the best this
  // machine runs.
  const char *wanted = cuda || device == "cuda-emulator" ? "cuda" : "cpu";
  int64_t preferred = std::string_view(wanted) == "cpu" ? preferredCpuTarget(m) : -1;
  auto fit = [&](uint32_t kernel) {
    uint32_t target = m.kernels()->Get(kernel)->target();
    return (m.targets()->Get(target)->name()->string_view() == wanted) +
           (static_cast<int64_t>(target) == preferred);
  };
  std::vector<bool> kernelUsed(kernelCount), targetUsed(targetCount);
  model.stepKernels.clear();
  for (size_t s = 0; s < stepCount; ++s) {
    const fa::Step &step = *m.steps()->Get(static_cast<flatbuffers::uoffset_t>(s));
    if (step.control() != fa::Control::None) {
      model.stepKernels.push_back(catfish_model_t::kNoKernel);
      continue;
    }
    uint32_t kernel = step.kernel();
    if (step.alternatives())
      for (uint32_t candidate : *step.alternatives())
        if (fit(candidate) > fit(kernel))
          kernel = candidate;
    model.stepKernels.push_back(kernel);
    kernelUsed[kernel] = true;
    targetUsed[m.kernels()->Get(kernel)->target()] = true;
  }
  model.code.resize(targetCount);
  model.calls.resize(kernelCount);
  if (cuda) {
    model.device = "cuda:" + std::to_string(ordinal);
    if (catfish_status_t *status = loadGpuCode(model, ordinal, useGraphs, kernelUsed))
      return status;
  } else if (device == "cuda-emulator") {
    model.device = device;
    if (catfish_status_t *status = loadEmulatedCode(model, kernelUsed))
      return status;
  } else {
    model.device = "cpu";
    if (catfish_status_t *status = loadCpuCode(model, kernelUsed, targetUsed, noGpu))
      return status;
    if (preferred >= 0)
      model.cpuDescription = describeCpuCode(m, static_cast<uint32_t>(preferred));
  }
  for (const std::vector<catfish_model_t::Call> &calls : model.calls)
    for (const catfish_model_t::Call &call : calls)
      model.maxStepTasks = std::max(model.maxStepTasks, std::min(call.maxTasks, model.numThreads));
  return nullptr;
}

/// Loads the verified artifact in `model->file`.
catfish_status_t *loadModel(std::unique_ptr<catfish_model_t> model,
                            const catfish_model_options_t *options, catfish_model_t **outModel) {
  const ArtifactFile &file = *model->file;

  uint32_t threads = options ? options->num_threads : 0;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  model->numThreads = threads;

  describeTensors(file, false, model->inputs);
  describeTensors(file, true, model->outputs);
  const auto *targets = file.manifest().targets();
  for (size_t t = 0; targets && t < targets->size(); ++t) {
    const fa::Target &target = *targets->Get(static_cast<flatbuffers::uoffset_t>(t));
    model->targets.push_back({target.name()->c_str(), orEmpty(target.arch()),
                              orEmpty(target.format()), file.section(target.section()).size});
  }
  const char *device = options && options->device ? options->device : "auto";
  bool useGraphs = options ? options->cuda_graphs != 0 : true;
  if (catfish_status_t *status = loadCode(*model, device, useGraphs))
    return status;
  // On the host a session holds its arena and reads every weight on each run: together they
  // must fit. (A GPU's arena and weights are device memory, which its allocations check.)
  uint64_t arena = file.manifest().arena_size();
  uint64_t weights = file.weightsSize();
  catfish::rt::MemoryLimit limit = catfish::rt::processMemoryLimit();
  if (!model->gpu && (arena > limit.bytes || weights > limit.bytes - arena))
    return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, file.path(), ": a session needs ",
                         humanBytes(arena), " of arena (", arena, " bytes) and ",
                         humanBytes(weights), " of weights (", weights, " bytes), more than ",
                         limit.source, " allows (", humanBytes(limit.bytes), ")");
  *outModel = model.release();
  return nullptr;
}

catfish_status_t *loadModelFile(const char *path, const catfish_model_options_t *options,
                                catfish_model_t **outModel) {
  if (!path || !outModel)
    return catfish::rt::makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                                   "catfish_model_load: path and out_model must not be NULL");
  std::unique_ptr<catfish_model_t> model(new catfish_model_t());
  if (catfish_status_t *status = ArtifactFile::open(path, model->file))
    return status;
  return loadModel(std::move(model), options, outModel);
}

catfish_status_t *loadModelMemory(const void *data, size_t size,
                                  const catfish_model_options_t *options,
                                  catfish_model_t **outModel) {
  if (!data || !outModel)
    return catfish::rt::makeStatus(
        CATFISH_STATUS_INVALID_ARGUMENT,
        "catfish_model_load_from_memory: data and out_model must not be NULL");
  std::unique_ptr<catfish_model_t> model(new catfish_model_t());
  if (catfish_status_t *status = ArtifactFile::openMemory(data, size, model->file))
    return status;
  return loadModel(std::move(model), options, outModel);
}

catfish_status_t *findTensor(const std::vector<catfish_tensor_info_t> &tensors, const char *what,
                             const char *name, size_t *outIndex) {
  if (!name || !outIndex)
    return catfish::rt::makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                                   "name and out_index must not be NULL");
  std::string valid;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (std::strcmp(tensors[i].name, name) == 0) {
      *outIndex = i;
      return nullptr;
    }
    valid += std::string(valid.empty() ? "'" : ", '") + tensors[i].name + "'";
  }
  return makeStatusCat(CATFISH_STATUS_NOT_FOUND, "the model has no ", what, " '", name, "'",
                       tensors.empty() ? std::string("; it has none")
                                       : "; valid " + std::string(what) + "s: " + valid);
}

catfish_status_t *tensorInfo(const std::vector<catfish_tensor_info_t> &tensors, const char *what,
                             size_t index, catfish_tensor_info_t *outInfo) {
  if (!outInfo)
    return catfish::rt::makeStatus(CATFISH_STATUS_INVALID_ARGUMENT, "out_info must not be NULL");
  if (index >= tensors.size())
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " index ", index,
                         " is out of range; the model has ", tensors.size());
  *outInfo = tensors[index];
  return nullptr;
}

} // namespace

extern "C" {

void catfish_model_options_initialize(catfish_model_options_t *out_options) {
  if (out_options) {
    out_options->num_threads = 0;
    out_options->device = nullptr;
    out_options->cuda_graphs = 1;
  }
}

catfish_status_t *catfish_model_load(const char *path, catfish_model_t **out_model) {
  CATFISH_GUARD(loadModelFile(path, nullptr, out_model));
}

catfish_status_t *catfish_model_load_with_options(const char *path,
                                                  const catfish_model_options_t *options,
                                                  catfish_model_t **out_model) {
  CATFISH_GUARD(loadModelFile(path, options, out_model));
}

catfish_status_t *catfish_model_load_from_memory(const void *data, size_t size,
                                                 const catfish_model_options_t *options,
                                                 catfish_model_t **out_model) {
  CATFISH_GUARD(loadModelMemory(data, size, options, out_model));
}

void catfish_model_release(catfish_model_t *model) { delete model; }

size_t catfish_model_input_count(const catfish_model_t *model) { return model->inputs.size(); }
size_t catfish_model_output_count(const catfish_model_t *model) { return model->outputs.size(); }

catfish_status_t *catfish_model_input_info(const catfish_model_t *model, size_t index,
                                           catfish_tensor_info_t *out_info) {
  CATFISH_GUARD(tensorInfo(model->inputs, "input", index, out_info));
}

catfish_status_t *catfish_model_output_info(const catfish_model_t *model, size_t index,
                                            catfish_tensor_info_t *out_info) {
  CATFISH_GUARD(tensorInfo(model->outputs, "output", index, out_info));
}

catfish_status_t *catfish_model_find_input(const catfish_model_t *model, const char *name,
                                           size_t *out_index) {
  CATFISH_GUARD(findTensor(model->inputs, "input", name, out_index));
}

catfish_status_t *catfish_model_find_output(const catfish_model_t *model, const char *name,
                                            size_t *out_index) {
  CATFISH_GUARD(findTensor(model->outputs, "output", name, out_index));
}

size_t catfish_model_target_count(const catfish_model_t *model) { return model->targets.size(); }

catfish_status_t *catfish_model_target_info(const catfish_model_t *model, size_t index,
                                            catfish_target_info_t *out_info) {
  if (!out_info)
    return catfish::rt::makeStatus(CATFISH_STATUS_INVALID_ARGUMENT, "out_info must not be NULL");
  if (index >= model->targets.size())
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "target index ", index,
                         " is out of range; the model has ", model->targets.size());
  *out_info = model->targets[index];
  return nullptr;
}

uint32_t catfish_model_format_version(const catfish_model_t *model) {
  return model->file->header().formatVersion;
}
const char *catfish_model_compiler_version(const catfish_model_t *model) {
  return orEmpty(model->file->manifest().compiler_version());
}
const char *catfish_model_sha256(const catfish_model_t *model) {
  return orEmpty(model->file->manifest().model_sha256());
}
const char *catfish_model_name(const catfish_model_t *model) {
  return orEmpty(model->file->manifest().model_name());
}
size_t catfish_model_kernel_count(const catfish_model_t *model) {
  const auto *kernels = model->file->manifest().kernels();
  return kernels ? kernels->size() : 0;
}
size_t catfish_model_step_count(const catfish_model_t *model) {
  const auto *steps = model->file->manifest().steps();
  return steps ? steps->size() : 0;
}
uint64_t catfish_model_arena_size(const catfish_model_t *model) {
  return model->file->manifest().arena_size();
}
uint64_t catfish_model_weights_size(const catfish_model_t *model) {
  return model->file->weightsSize();
}
uint32_t catfish_model_num_threads(const catfish_model_t *model) { return model->numThreads; }
const char *catfish_model_device(const catfish_model_t *model) { return model->device.c_str(); }
const char *catfish_model_device_description(const catfish_model_t *model) {
  return model->gpu ? catfish::rt::cuda::describe(*model->gpu).c_str()
                    : model->cpuDescription.c_str();
}

} // extern "C"
