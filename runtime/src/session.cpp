//===- session.cpp - catfish_session_t: arena, inputs, running steps -------===//

#include "data_dependent.h"
#include "memory_limit.h"
#include "model.h"
#include "packing.h"
#include "status.h"
#include "thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace fa = catfish::artifact;
using catfish::artifact::humanBytes;
using catfish::rt::makeStatus;
using catfish::rt::makeStatusCat;
using catfish::rt::packNibbles;
using catfish::rt::unpackNibbles;

namespace {

struct FreeDeleter {
  void operator()(uint8_t *p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<uint8_t, FreeDeleter>;

/// At least `size` bytes (and at least one alignment unit), 64-byte aligned; null on failure.
AlignedBytes allocateAligned(uint64_t size) {
  constexpr uint64_t alignment = fa::kArenaAlignment;
  uint64_t rounded = std::max<uint64_t>(size, 1);
  if (rounded > UINT64_MAX - alignment + 1)
    return nullptr;
  rounded = (rounded + alignment - 1) / alignment * alignment;
  if (rounded > SIZE_MAX)
    return nullptr;
  void *p = nullptr;
  if (posix_memalign(&p, alignment, static_cast<size_t>(rounded)) != 0)
    return nullptr;
  return AlignedBytes(static_cast<uint8_t *>(p));
}

std::string shapeText(const catfish_tensor_info_t &info) {
  if (info.rank == 0)
    return "scalar";
  std::string text;
  for (size_t i = 0; i < info.rank; ++i)
    text += (i ? "x" : "") + std::to_string(info.dims[i]);
  return text;
}

} // namespace

/// Owned by one thread at a time (see runtime.h).
struct catfish_session_t {
  const catfish_model_t *model = nullptr;
  AlignedBytes arena;
  /// All inputs, each at a 64-byte aligned offset.
  AlignedBytes inputStorage;
  std::vector<uint8_t *> inputData;
  std::vector<bool> inputSet;
  /// The session on the GPU, for a CUDA device; the host storage above is then unused.
  catfish::rt::cuda::GpuSessionPtr gpu;
  /// The argument pointers of all calls, back to back.
  std::vector<void *> argTable;
  /// Every call of every step, in order.
  struct BoundCall {
    catfish::artifact::CpuKernelFn fn;
    int64_t tasks;
    size_t argOffset;
    /// Set for a launch the CUDA emulator runs; fn is then runEmulatedCall.
    catfish::rt::EmulatedCall *emulated;
    /// The kernel, for errors.
    uint32_t kernel;
  };
  std::vector<BoundCall> calls;
  /// Per step in order: the calls that run it, or its control (the addresses of its args).
  struct BoundStep {
    size_t firstCall, endCall;
    fa::Control control;
    uint32_t target;
    std::vector<uint8_t *> buffers;
    std::vector<uint64_t> sizes;
  };
  std::vector<BoundStep> steps;
  std::vector<std::unique_ptr<catfish::rt::EmulatedCall>> emulatedCalls;
  std::vector<const void *> outputData;
  /// Outputs of packed dtypes (I4, U4, F4E2M1): the kernels' buffer of one byte per element,
  /// its element count, and the packed copy run() makes, which outputData points at.
  struct PackedOutput {
    const uint8_t *unpacked;
    uint64_t count;
    std::vector<uint8_t> packed;
  };
  std::vector<PackedOutput> packedOutputs;
  /// Outputs with data-dependent dims: the padded tensor, where the kernels write each size (in
  /// the order of the manifest's list), and the actual dims and compacted copy that run() makes,
  /// which outputData points at.
  struct DynamicOutput {
    size_t index;
    const uint8_t *padded;
    std::vector<const int64_t *> sizes;
    std::vector<int64_t> dims;
    std::vector<uint8_t> compacted;
  };
  std::vector<DynamicOutput> dynamicOutputs;
  /// Per output, its dims and byte size after the last run (the actual ones for an output with
  /// data-dependent dims, which point into dynamicOutputs).
  std::vector<const int64_t *> outputDims;
  std::vector<size_t> outputBytes;
  catfish::rt::ThreadPool pool;
  bool hasRun = false;
};

namespace {

catfish_status_t *createSession(const catfish_model_t *model, catfish_session_t **outSession) {
  if (!model || !outSession)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_create: model and out_session must not be NULL");
  const fa::ArtifactFile &file = *model->file;
  const fa::Manifest &m = file.manifest();
  std::unique_ptr<catfish_session_t> session(new catfish_session_t());
  session->model = model;
  session->inputSet.assign(model->inputs.size(), false);
  if (model->gpu) {
    if (catfish_status_t *status = catfish::rt::cuda::createSession(*model, session->gpu))
      return status;
    *outSession = session.release();
    return nullptr;
  }

  // Linux would grant an arena larger than what is free and kill the process on touching it.
  uint64_t arenaSize = m.arena_size();
  uint64_t available = catfish::rt::availableMemory();
  if (arenaSize > available)
    return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, file.path(), ": the arena of ",
                         humanBytes(arenaSize), " (", arenaSize, " bytes) is more than the ",
                         humanBytes(available), " of memory available now");
  session->arena = allocateAligned(arenaSize);
  if (!session->arena)
    return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, file.path(),
                         ": cannot allocate the arena of ", humanBytes(arenaSize), " (", arenaSize,
                         " bytes)");

  // Input sizes were verified to total at most 2^40, so the aligned offsets cannot overflow.
  std::vector<uint64_t> inputOffsets;
  uint64_t inputBytes = 0;
  for (size_t i = 0; i < model->inputs.size(); ++i) {
    inputOffsets.push_back(inputBytes);
    inputBytes += (file.inputBufferSize(i) + fa::kArenaAlignment - 1) / fa::kArenaAlignment *
                  fa::kArenaAlignment;
  }
  session->inputStorage = allocateAligned(inputBytes);
  if (!session->inputStorage)
    return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, file.path(), ": cannot allocate ",
                         humanBytes(inputBytes), " for the inputs");
  for (uint64_t offset : inputOffsets)
    session->inputData.push_back(session->inputStorage.get() + offset);

  auto bufferAddress = [&](uint32_t index) -> uint8_t * {
    const fa::Buffer &b = *m.buffers()->Get(index);
    switch (b.kind()) {
    case fa::BufferKind::Input:
      return session->inputData[static_cast<size_t>(b.input_index())];
    case fa::BufferKind::Weight:
      // Kernels must not write weights; the mapping is read-only.
      return const_cast<uint8_t *>(file.weights()) + b.offset();
    case fa::BufferKind::Arena:
      return session->arena.get() + b.offset();
    }
    return nullptr; // Unreachable: the kinds were verified.
  };

  size_t stepCount = m.steps() ? m.steps()->size() : 0;
  for (size_t s = 0; s < stepCount; ++s) {
    const fa::Step &step = *m.steps()->Get(static_cast<flatbuffers::uoffset_t>(s));
    catfish_session_t::BoundStep bound{session->calls.size(), session->calls.size(),
                                       step.control(), step.target(), {}, {}};
    if (step.control() != fa::Control::None) {
      for (uint32_t buffer : *step.args()) {
        bound.buffers.push_back(bufferAddress(buffer));
        bound.sizes.push_back(m.buffers()->Get(buffer)->size());
      }
      session->steps.push_back(std::move(bound));
      continue;
    }
    uint32_t kernel = model->stepKernels[s];
    for (const catfish_model_t::Call &call : model->calls[kernel]) {
      int64_t tasks = std::min(call.maxTasks, model->maxStepTasks);
      // Launch and matmul positions were verified against every step of the kernel at load.
      std::vector<void *> args;
      if (call.launch || call.matmul) {
        for (uint32_t position : call.stepArgs)
          args.push_back(bufferAddress(step.args()->Get(position)));
      } else if (step.args()) {
        for (uint32_t buffer : *step.args())
          args.push_back(bufferAddress(buffer));
      }
      if (call.launch || call.matmul) {
        auto emulated = std::make_unique<catfish::rt::EmulatedCall>();
        emulated->launch = call.launch.get();
        emulated->matmul = call.matmul.get();
        emulated->params = std::move(args);
        session->calls.push_back({catfish::rt::runEmulatedCall, tasks, session->argTable.size(),
                                  emulated.get(), kernel});
        session->argTable.push_back(emulated.get());
        session->emulatedCalls.push_back(std::move(emulated));
        continue;
      }
      session->calls.push_back({call.fn, tasks, session->argTable.size(), nullptr, kernel});
      session->argTable.insert(session->argTable.end(), args.begin(), args.end());
    }
    bound.endCall = session->calls.size();
    session->steps.push_back(std::move(bound));
  }
  for (size_t o = 0; o < model->outputs.size(); ++o) {
    const fa::TensorInfo &info = *m.outputs()->Get(static_cast<flatbuffers::uoffset_t>(o));
    uint8_t *address = bufferAddress(info.buffer());
    const catfish_tensor_info_t &described = model->outputs[o];
    session->outputDims.push_back(described.dims);
    session->outputBytes.push_back(described.byte_size);
    if (fa::isPackedDType(info.dtype())) {
      uint64_t count = m.buffers()->Get(info.buffer())->size();
      session->packedOutputs.push_back(
          {address, count, std::vector<uint8_t>(described.byte_size, 0)});
      session->outputData.push_back(session->packedOutputs.back().packed.data());
    } else if (described.data_dependent_dims) {
      catfish_session_t::DynamicOutput dynamic{
          o, address, {}, std::vector<int64_t>(described.dims, described.dims + described.rank),
          std::vector<uint8_t>(described.byte_size)};
      for (const fa::DataDependentDim *dim : *info.data_dependent_dims())
        dynamic.sizes.push_back(
            reinterpret_cast<const int64_t *>(bufferAddress(dim->size_buffer())));
      // Moving the vectors into place keeps their storage, so these pointers stay valid.
      session->outputDims.back() = dynamic.dims.data();
      session->outputData.push_back(dynamic.compacted.data());
      session->dynamicOutputs.push_back(std::move(dynamic));
    } else {
      session->outputData.push_back(address);
    }
  }

  if (model->maxStepTasks > 1)
    if (catfish_status_t *status = session->pool.start(model->maxStepTasks - 1))
      return status;
  *outSession = session.release();
  return nullptr;
}

catfish_status_t *setInput(catfish_session_t *session, size_t index, const void *data,
                           size_t byteSize) {
  if (!session)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_set_input: session must not be NULL");
  const catfish_model_t &model = *session->model;
  if (index >= model.inputs.size())
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "input index ", index,
                         " is out of range; the model has ", model.inputs.size(), " inputs");
  const catfish_tensor_info_t &info = model.inputs[index];
  if (byteSize != info.byte_size)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "input '", info.name, "' (index ", index,
                         ") expects ", info.byte_size, " bytes (", catfish_dtype_name(info.dtype),
                         " ", shapeText(info), "), got ", byteSize);
  if (!data && byteSize != 0)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "input '", info.name,
                         "': data must not be NULL");
  if (session->gpu) {
    if (catfish_status_t *status = catfish::rt::cuda::setInput(*session->gpu, index, data, byteSize))
      return status;
  } else if (fa::isPackedDType(static_cast<fa::DType>(info.dtype))) {
    unpackNibbles(static_cast<const uint8_t *>(data), session->model->file->inputBufferSize(index),
                  session->inputData[index]);
  } else if (byteSize != 0) {
    std::memcpy(session->inputData[index], data, byteSize);
  }
  session->inputSet[index] = true;
  return nullptr;
}

/// Runs one kernel call of a step.
catfish_status_t *runCall(catfish_session_t &session, const catfish_session_t::BoundCall &call) {
  void *const *args = session.argTable.data() + call.argOffset;
  if (call.tasks <= 1)
    call.fn(args, 0, 1);
  else
    session.pool.run(call.fn, args, call.tasks);
  if (!call.emulated || !call.emulated->failed.load())
    return nullptr;
  const fa::Kernel &kernel = *session.model->file->manifest().kernels()->Get(call.kernel);
  std::string error = call.emulated->error;
  call.emulated->failed = false;
  return makeStatusCat(CATFISH_STATUS_INTERNAL, "the CUDA emulator stopped in kernel ",
                       call.kernel, " (", kernel.symbol()->string_view(),
                       kernel.location() && kernel.location()->size()
                           ? " from " + kernel.location()->str()
                           : std::string(),
                       "): ", error);
}

int64_t loadI64(const uint8_t *address) {
  int64_t value;
  std::memcpy(&value, address, sizeof(value));
  return value;
}

void storeI64(uint8_t *address, int64_t value) { std::memcpy(address, &value, sizeof(value)); }

/// Runs control step `next` (its sizes were verified at load) and moves `next` to the step
/// that runs after it.
catfish_status_t *runControl(const catfish_session_t::BoundStep &step, size_t &next) {
  const std::vector<uint8_t *> &b = step.buffers;
  size_t current = next++;
  switch (step.control) {
  case fa::Control::Copy:
    std::memmove(b[1], b[0], step.sizes[0]);
    break;
  case fa::Control::CopyToSlice: {
    int64_t iteration = loadI64(b[2]);
    uint64_t size = step.sizes[0];
    if (iteration < 0 || (size && static_cast<uint64_t>(iteration) >= step.sizes[1] / size))
      return makeStatusCat(CATFISH_STATUS_INTERNAL, "step ", current, ": loop iteration ",
                           iteration, " is past the ", size ? step.sizes[1] / size : 0,
                           " its scan output holds");
    std::memcpy(b[1] + iteration * size, b[0], size);
    break;
  }
  case fa::Control::LoopBegin:
    storeI64(b[0], 0);
    *b[1] = b.size() < 3 || *b[2] != 0;
    break;
  case fa::Control::LoopTest:
    if (*b[1] == 0 || (b.size() == 3 && loadI64(b[0]) >= loadI64(b[2])))
      next = step.target;
    break;
  case fa::Control::LoopNext:
    storeI64(b[0], loadI64(b[0]) + 1);
    next = step.target;
    break;
  default:
    break;
  }
  return nullptr;
}

catfish_status_t *run(catfish_session_t *session, bool wait) {
  if (!session)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_run: session must not be NULL");
  const catfish_model_t &model = *session->model;
  for (size_t i = 0; i < model.inputs.size(); ++i)
    if (!session->inputSet[i] &&
        !(session->gpu && catfish::rt::cuda::inputBound(*session->gpu, i)))
      return makeStatusCat(CATFISH_STATUS_FAILED_PRECONDITION, "input '", model.inputs[i].name,
                           "' has not been set");
  if (session->gpu) {
    if (catfish_status_t *status = catfish::rt::cuda::run(*session->gpu, wait))
      return status;
    session->hasRun = true;
    return nullptr;
  }
  const fa::Manifest &m = model.file->manifest();
  for (size_t next = 0; next < session->steps.size();) {
    const catfish_session_t::BoundStep &step = session->steps[next];
    if (step.control != fa::Control::None) {
      if (catfish_status_t *status = runControl(step, next))
        return status;
      continue;
    }
    for (size_t c = step.firstCall; c < step.endCall; ++c)
      if (catfish_status_t *status = runCall(*session, session->calls[c]))
        return status;
    ++next;
  }
  for (catfish_session_t::PackedOutput &output : session->packedOutputs)
    packNibbles(output.unpacked, output.count, output.packed.data());
  for (catfish_session_t::DynamicOutput &output : session->dynamicOutputs) {
    const catfish_tensor_info_t &info = model.outputs[output.index];
    int64_t sizes[64];
    for (size_t i = 0; i < output.sizes.size(); ++i)
      sizes[i] = *output.sizes[i];
    if (catfish_status_t *status = catfish::rt::setActualDims(
            info, *m.outputs()->Get(static_cast<flatbuffers::uoffset_t>(output.index)), sizes,
            output.dims.data())) {
      // The outputs are half updated: none may be read until a run succeeds.
      session->hasRun = false;
      return status;
    }
    session->outputBytes[output.index] = catfish::rt::compactOutput(
        info, output.dims.data(), output.padded, output.compacted.data());
  }
  session->hasRun = true;
  return nullptr;
}

/// INVALID_ARGUMENT for an output index out of range, FAILED_PRECONDITION before the first run.
catfish_status_t *checkOutputReadable(const catfish_session_t &session, size_t index) {
  const catfish_model_t &model = *session.model;
  if (index >= model.outputs.size())
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "output index ", index,
                         " is out of range; the model has ", model.outputs.size(), " outputs");
  if (!session.hasRun)
    return makeStatusCat(CATFISH_STATUS_FAILED_PRECONDITION, "output '", model.outputs[index].name,
                         "' is not available before the first run");
  return nullptr;
}

/// Output `index` after the last run (checked readable): its data, byte size and dims.
catfish_status_t *readOutput(const catfish_session_t &session, size_t index, const void **outData,
                             size_t *outByteSize, const int64_t **outDims) {
  if (session.gpu)
    return catfish::rt::cuda::output(*session.gpu, index, outData, outByteSize, outDims);
  *outData = session.outputData[index];
  *outByteSize = session.outputBytes[index];
  *outDims = session.outputDims[index];
  return nullptr;
}

catfish_status_t *output(const catfish_session_t *session, size_t index, const void **outData,
                         size_t *outByteSize) {
  if (!session || !outData || !outByteSize)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_output: session, out_data and out_byte_size must not be "
                      "NULL");
  if (catfish_status_t *status = checkOutputReadable(*session, index))
    return status;
  const void *data;
  size_t byteSize;
  const int64_t *dims;
  if (catfish_status_t *status = readOutput(*session, index, &data, &byteSize, &dims))
    return status;
  *outData = data;
  *outByteSize = byteSize;
  return nullptr;
}

catfish_status_t *outputShape(const catfish_session_t *session, size_t index, int64_t *outDims,
                              size_t capacity) {
  if (!session)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_output_shape: session must not be NULL");
  if (catfish_status_t *status = checkOutputReadable(*session, index))
    return status;
  const catfish_tensor_info_t &info = session->model->outputs[index];
  if (capacity < info.rank)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "output '", info.name, "' has rank ",
                         info.rank, "; out_dims has room for ", capacity);
  if (info.rank && !outDims)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_output_shape: out_dims must not be NULL");
  // A static output's shape needs nothing from the device.
  const int64_t *dims = info.dims;
  if (info.data_dependent_dims) {
    const void *data;
    size_t byteSize;
    if (catfish_status_t *status = readOutput(*session, index, &data, &byteSize, &dims))
      return status;
  }
  std::copy(dims, dims + info.rank, outDims);
  return nullptr;
}

/// The session's GPU half, or FAILED_PRECONDITION naming `function` for the CPU devices.
catfish_status_t *gpuOf(catfish_session_t *session, const char *function,
                        catfish::rt::cuda::GpuSession *&out) {
  if (!session)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, function, ": session must not be NULL");
  if (!session->gpu)
    return makeStatusCat(CATFISH_STATUS_FAILED_PRECONDITION, function,
                         " needs a session on a CUDA device; this one runs on ",
                         session->model->device);
  out = session->gpu.get();
  return nullptr;
}

/// Checks a device-pointer binding of input or output `index`, then makes it.
catfish_status_t *bindDevice(catfish_session_t *session, bool output, size_t index,
                             uint64_t address, size_t byteSize) {
  const char *function =
      output ? "catfish_session_bind_output_device" : "catfish_session_bind_input_device";
  if (!session)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, function, ": session must not be NULL");
  const catfish_model_t &model = *session->model;
  const std::vector<catfish_tensor_info_t> &tensors = output ? model.outputs : model.inputs;
  const char *what = output ? "output" : "input";
  if (index >= tensors.size())
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " index ", index,
                         " is out of range; the model has ", tensors.size(), " ", what, "s");
  const catfish_tensor_info_t &info = tensors[index];
  if (info.data_dependent_dims)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, "output '", info.name,
                         "' has data-dependent dims, whose sizes the runtime reads after each "
                         "run; it must be read through catfish_session_output");
  if (byteSize != info.byte_size)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " '", info.name, "' (index ",
                         index, ") is ", info.byte_size, " bytes (", catfish_dtype_name(info.dtype),
                         " ", shapeText(info), "), the bound memory ", byteSize);
  if (address % fa::kArenaAlignment != 0)
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " '", info.name,
                         "': device memory must be ", fa::kArenaAlignment,
                         "-byte aligned (the kernels use 128-bit accesses); 0x", std::hex, address,
                         " is not");
  if (fa::isPackedDType(static_cast<fa::DType>(info.dtype)))
    return makeStatusCat(CATFISH_STATUS_INVALID_ARGUMENT, what, " '", info.name, "' is ",
                         catfish_dtype_name(info.dtype),
                         ", packed two per byte, which the kernels do not read or write; "
                         "pass it through host memory");
  catfish::rt::cuda::GpuSession *gpu = nullptr;
  if (catfish_status_t *status = gpuOf(session, function, gpu))
    return status;
  return catfish::rt::cuda::bind(*gpu, output, index, address);
}

} // namespace

extern "C" {

catfish_status_t *catfish_session_create(const catfish_model_t *model,
                                         catfish_session_t **out_session) {
  CATFISH_GUARD(createSession(model, out_session));
}

void catfish_session_release(catfish_session_t *session) { delete session; }

catfish_status_t *catfish_session_set_input(catfish_session_t *session, size_t index,
                                            const void *data, size_t byte_size) {
  CATFISH_GUARD(setInput(session, index, data, byte_size));
}

catfish_status_t *catfish_session_run(catfish_session_t *session) {
  CATFISH_GUARD(run(session, true));
}

catfish_status_t *catfish_session_run_async(catfish_session_t *session) {
  CATFISH_GUARD(run(session, false));
}

catfish_status_t *catfish_session_wait(catfish_session_t *session) {
  if (!session)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_wait: session must not be NULL");
  CATFISH_GUARD(session->gpu ? catfish::rt::cuda::wait(*session->gpu) : nullptr);
}

catfish_status_t *catfish_session_set_stream(catfish_session_t *session, void *stream) {
  catfish::rt::cuda::GpuSession *gpu = nullptr;
  if (catfish_status_t *status = gpuOf(session, "catfish_session_set_stream", gpu))
    return status;
  CATFISH_GUARD(catfish::rt::cuda::setStream(*gpu, stream));
}

catfish_status_t *catfish_session_bind_input_device(catfish_session_t *session, size_t index,
                                                    uint64_t device_ptr, size_t byte_size) {
  CATFISH_GUARD(bindDevice(session, false, index, device_ptr, byte_size));
}

catfish_status_t *catfish_session_bind_output_device(catfish_session_t *session, size_t index,
                                                     uint64_t device_ptr, size_t byte_size) {
  CATFISH_GUARD(bindDevice(session, true, index, device_ptr, byte_size));
}

catfish_status_t *catfish_session_gpu_time_ms(catfish_session_t *session, float *out_ms) {
  catfish::rt::cuda::GpuSession *gpu = nullptr;
  if (catfish_status_t *status = gpuOf(session, "catfish_session_gpu_time_ms", gpu))
    return status;
  if (!out_ms)
    return makeStatus(CATFISH_STATUS_INVALID_ARGUMENT,
                      "catfish_session_gpu_time_ms: out_ms must not be NULL");
  if (!session->hasRun)
    return makeStatus(CATFISH_STATUS_FAILED_PRECONDITION,
                      "catfish_session_gpu_time_ms: no run has been made yet");
  CATFISH_GUARD(catfish::rt::cuda::lastGpuMilliseconds(*gpu, out_ms));
}

catfish_status_t *catfish_session_output(const catfish_session_t *session, size_t index,
                                         const void **out_data, size_t *out_byte_size) {
  CATFISH_GUARD(output(session, index, out_data, out_byte_size));
}

catfish_status_t *catfish_session_output_shape(const catfish_session_t *session, size_t index,
                                               int64_t *out_dims, size_t capacity) {
  CATFISH_GUARD(outputShape(session, index, out_dims, capacity));
}

const catfish_model_t *catfish_session_model(const catfish_session_t *session) {
  return session->model;
}

} // extern "C"
