//===- ArtifactWriter.cpp - memory planning and the .catfish writer ------===//
#include "catfish/Artifact/Artifact.h"
#include "catfish/Dialect/Catfish.h"

#include "catfish/artifact_format.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include "artifact_generated.h"

#include <map>

#define XXH_INLINE_ALL
#include <xxhash.h>

using namespace mlir;
using namespace mlir::catfish;
namespace fb = ::catfish::artifact;
namespace format = ::catfish::artifact;

#ifndef CATFISH_VERSION
#define CATFISH_VERSION "0.0.0"
#endif

namespace {

llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

uint64_t alignTo(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

std::optional<fb::DType> dtypeOf(Type type) {
  if (type.isF32())
    return fb::DType::F32;
  if (type.isF16())
    return fb::DType::F16;
  if (type.isBF16())
    return fb::DType::BF16;
  if (type.isF64())
    return fb::DType::F64;
  if (isa<Float8E4M3FNType>(type))
    return fb::DType::F8E4M3FN;
  if (isa<Float8E5M2Type>(type))
    return fb::DType::F8E5M2;
  if (isa<Float8E4M3FNUZType>(type))
    return fb::DType::F8E4M3FNUZ;
  if (isa<Float8E5M2FNUZType>(type))
    return fb::DType::F8E5M2FNUZ;
  if (isa<Float4E2M1FNType>(type))
    return fb::DType::F4E2M1;
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return std::nullopt;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1:
    return fb::DType::Bool;
  case 4:
    return isUnsigned ? fb::DType::U4 : fb::DType::I4;
  case 8:
    return isUnsigned ? fb::DType::U8 : fb::DType::I8;
  case 16:
    return isUnsigned ? fb::DType::U16 : fb::DType::I16;
  case 32:
    return isUnsigned ? fb::DType::U32 : fb::DType::I32;
  case 64:
    return isUnsigned ? fb::DType::U64 : fb::DType::I64;
  default:
    return std::nullopt;
  }
}

/// Bytes of one element in memory (i1 is one byte, as the kernels store it).
uint64_t elementBytes(Type type) {
  unsigned bits = type.getIntOrFloatBitWidth();
  return bits < 8 ? 1 : bits / 8;
}

/// Byte size of a static tensor; fails on overflow or dynamic shapes.
FailureOr<uint64_t> byteSize(RankedTensorType type) {
  if (!type.hasStaticShape())
    return failure();
  uint64_t size = elementBytes(type.getElementType());
  for (int64_t dim : type.getShape())
    if (dim != 0 && size > (UINT64_MAX >> 1) / static_cast<uint64_t>(dim))
      return failure();
    else
      size *= static_cast<uint64_t>(dim);
  return size;
}

/// Calls `sink` with the bytes of a weight, laid out as the kernels read it.
llvm::Error emitWeightBytes(ElementsAttr attr, uint64_t size,
                            function_ref<void(ArrayRef<char>)> sink) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return makeError("weight '" + resource.getRawHandle().getKey() + "' has no data");
    ArrayRef<char> data = blob->getData();
    if (data.size() != size)
      return makeError("weight '" + resource.getRawHandle().getKey() + "' holds " +
                       Twine(data.size()) + " bytes, its type needs " + Twine(size));
    sink(data);
    return llvm::Error::success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return makeError("unsupported constant kind");
  Type element = dense.getElementType();
  if (element.isInteger(1)) {
    std::vector<char> bytes;
    bytes.reserve(size);
    for (bool value : dense.getValues<bool>())
      bytes.push_back(value ? 1 : 0);
    sink(bytes);
    return llvm::Error::success();
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    for (int64_t i = 0, e = dense.getNumElements(); i < e; ++i)
      sink(raw);
    return llvm::Error::success();
  }
  if (raw.size() != size)
    return makeError("constant holds " + Twine(raw.size()) + " bytes, its type needs " +
                     Twine(size));
  sink(raw);
  return llvm::Error::success();
}

struct PlannedBuffer {
  fb::BufferKind kind;
  uint64_t offset = 0;
  uint64_t size = 0;
  int32_t inputIndex = -1;
  // Arena buffers: live from the step defining them to their last use (inclusive).
  int64_t firstStep = 0, lastStep = 0;
  ElementsAttr weight;
  // An arena buffer that a step's result computes in place over: it has this buffer's bytes.
  std::optional<uint32_t> inPlaceOf;
};

/// Whether an op after `fusion` (or its block's terminator) reads `value`'s bytes, directly or
/// through a view sharing them. A value from outside the fusion's block, or a loop's carried
/// value, counts as read later: a loop body runs again.
bool lastUseLater(Value value, FusionOp fusion) {
  while (Operation *producer = value.getDefiningOp()) {
    if (!isBufferView(producer))
      break;
    value = producer->getOperand(0);
  }
  Block *block = fusion->getBlock();
  if (isa<BlockArgument>(value) || value.getParentBlock() != block)
    return true;
  SmallVector<Value> sharing = {value};
  while (!sharing.empty()) {
    for (Operation *user : sharing.pop_back_val().getUsers()) {
      // A use inside a loop counts at the loop's place.
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (isBufferView(user))
        sharing.push_back(user->getResult(0));
      else if (ancestor != fusion && fusion->isBeforeInBlock(ancestor))
        return true;
    }
  }
  return false;
}

/// Whether every use of `constant` is the dims operand of a view, which reads no data.
bool onlyViewDims(ConstantOp constant) {
  return !constant->use_empty() && llvm::all_of(constant->getUses(), [](OpOperand &use) {
    return isBufferView(use.getOwner()) && use.getOperandNumber() == 1;
  });
}

/// The input of `fusion` whose bytes its single result may overwrite: the region is one
/// elementwise op and constants (one loop that reads every input element at the index it
/// writes) and the input has the result's type. Larger regions may keep intermediates in the result's buffer
/// before they read the inputs, so they never compute in place.
std::optional<unsigned> inPlaceInput(FusionOp fusion) {
  Block &body = fusion.getBody().front();
  Operation *op = nullptr;
  for (Operation &inner : body.without_terminator()) {
    if (isa<ConstantOp>(inner))
      continue;
    if (op)
      return std::nullopt;
    op = &inner;
  }
  if (!op || fusion->getNumResults() != 1 ||
      !op->hasTrait<OpTrait::catfish::BroadcastElementwise>() || op->getNumResults() != 1 ||
      op->getResult(0) != body.getTerminator()->getOperand(0))
    return std::nullopt;
  Type resultType = op->getResult(0).getType();
  for (BlockArgument argument : body.getArguments())
    if (argument.getType() == resultType)
      return argument.getArgNumber();
  return std::nullopt;
}

/// First-fit offsets for arena buffers, largest first, so buffers whose lifetimes overlap
/// never share bytes; a buffer computed in place takes its root's offset.
uint64_t planArena(MutableArrayRef<PlannedBuffer> buffers) {
  // A buffer computed in place shares its root's bytes, which live until both are dead.
  for (PlannedBuffer &buffer : buffers)
    if (buffer.inPlaceOf) {
      PlannedBuffer &root = buffers[*buffer.inPlaceOf];
      root.lastStep = std::max(root.lastStep, buffer.lastStep);
    }
  SmallVector<PlannedBuffer *> arena;
  for (PlannedBuffer &buffer : buffers)
    if (buffer.kind == fb::BufferKind::Arena && !buffer.inPlaceOf)
      arena.push_back(&buffer);
  llvm::stable_sort(arena, [](PlannedBuffer *a, PlannedBuffer *b) { return a->size > b->size; });
  SmallVector<PlannedBuffer *> placed;
  uint64_t total = 0;
  for (PlannedBuffer *buffer : arena) {
    SmallVector<std::pair<uint64_t, uint64_t>> busy;
    for (PlannedBuffer *other : placed)
      if (other->firstStep <= buffer->lastStep && buffer->firstStep <= other->lastStep)
        busy.push_back({other->offset, other->offset + other->size});
    llvm::sort(busy);
    uint64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + buffer->size <= begin)
        break;
      offset = std::max(offset, alignTo(end, format::kArenaAlignment));
    }
    buffer->offset = offset;
    total = std::max(total, offset + buffer->size);
    placed.push_back(buffer);
  }
  for (PlannedBuffer &buffer : buffers)
    if (buffer.inPlaceOf)
      buffer.offset = buffers[*buffer.inPlaceOf].offset;
  return alignTo(total, format::kArenaAlignment);
}

struct PlannedStep {
  uint32_t kernel = 0;
  std::vector<uint32_t> args;
  fb::Control control = fb::Control::None;
  uint32_t target = 0;
};

/// The steps and buffers of a program: one step per fusion region in program order, and the
/// control steps of each loop around its body's steps.
class Planner {
public:
  explicit Planner(ArrayRef<TargetKernels> kernelSets) : kernelSets(kernelSets) {}

  llvm::Error addBuffer(Value value, PlannedBuffer buffer) {
    auto size = byteSize(cast<RankedTensorType>(value.getType()));
    if (failed(size))
      return makeError("tensor of type " + llvm::formatv("{0}", value.getType()).str() +
                       " has no static size that fits in memory");
    buffer.size = *size;
    bufferOf[value] = buffers.size();
    buffers.push_back(buffer);
    return llvm::Error::success();
  }

  llvm::Error emitBlock(Block &block) {
    for (Operation &op : block.without_terminator()) {
      if (auto constant = dyn_cast<ConstantOp>(op)) {
        if (onlyViewDims(constant))
          continue;
        PlannedBuffer buffer{fb::BufferKind::Weight};
        buffer.weight = constant.getValue();
        if (auto error = addBuffer(constant.getResult(), buffer))
          return error;
        PlannedBuffer &placed = buffers.back();
        placed.offset = alignTo(weightsSize, format::kWeightAlignment);
        weightsSize = placed.offset + placed.size;
        continue;
      }
      if (isBufferView(&op)) {
        bufferOf[op.getResult(0)] = bufferOf.lookup(op.getOperand(0));
        continue;
      }
      if (auto loop = dyn_cast<LoopOp>(op)) {
        if (auto error = emitLoop(loop))
          return error;
        continue;
      }
      auto fusion = dyn_cast<FusionOp>(op);
      if (!fusion)
        return makeError("internal error: '" + op.getName().getStringRef() +
                         "' is outside a fusion region");
      if (auto error = emitFusion(fusion))
        return error;
    }
    return llvm::Error::success();
  }

  /// Loops' arena buffers that a loop body reads but that were made before the loop live until
  /// the loop ends: the next iteration reads them again.
  void extendAcrossLoops() {
    // Inner loops close first, so a buffer extended to an inner loop's end is then seen by
    // the loops around it.
    for (auto [first, last] : loops)
      for (PlannedBuffer &buffer : buffers)
        if (buffer.kind == fb::BufferKind::Arena && buffer.firstStep < first &&
            buffer.lastStep >= first && buffer.lastStep <= last)
          buffer.lastStep = last;
  }

  std::vector<PlannedBuffer> buffers;
  llvm::DenseMap<Value, uint32_t> bufferOf;
  std::vector<PlannedStep> steps;
  uint64_t weightsSize = 0;
  size_t kernelCount = 0;

private:
  /// Buffer `id`, read or written by the step about to be added.
  uint32_t touch(uint32_t id) {
    buffers[id].lastStep = std::max<int64_t>(buffers[id].lastStep, steps.size());
    return id;
  }

  /// The buffer of `value`, read by the step about to be added.
  uint32_t use(Value value) { return touch(bufferOf.lookup(value)); }

  /// A new arena buffer of `bytes`, live from the step about to be added.
  uint32_t newArenaBuffer(uint64_t bytes) {
    PlannedBuffer buffer{fb::BufferKind::Arena};
    buffer.size = bytes;
    buffer.firstStep = buffer.lastStep = steps.size();
    buffers.push_back(buffer);
    return buffers.size() - 1;
  }

  void addControl(fb::Control control, std::vector<uint32_t> args, uint32_t target = 0) {
    for (uint32_t id : args)
      touch(id);
    steps.push_back({0, std::move(args), control, target});
  }

  llvm::Error emitFusion(FusionOp fusion) {
    int64_t index = steps.size();
    PlannedStep step{static_cast<uint32_t>(kernelCount), {}};
    for (Value input : fusion.getInputs())
      step.args.push_back(use(input));
    std::optional<unsigned> inPlace = inPlaceInput(fusion);
    for (Value result : fusion.getResults()) {
      PlannedBuffer buffer{fb::BufferKind::Arena};
      buffer.firstStep = buffer.lastStep = index;
      // In place over an arena input that no later step reads (its last use is this one).
      if (inPlace) {
        uint32_t id = bufferOf.lookup(fusion.getInputs()[*inPlace]);
        if (buffers[id].kind == fb::BufferKind::Arena &&
            !lastUseLater(fusion.getInputs()[*inPlace], fusion))
          buffer.inPlaceOf = buffers[id].inPlaceOf.value_or(id);
      }
      if (auto error = addBuffer(result, buffer))
        return error;
      step.args.push_back(bufferOf.lookup(result));
    }
    for (const TargetKernels &set : kernelSets) {
      if (kernelCount >= set.kernels.size())
        continue;
      // A CPU kernel ignores the arguments after its results: only one set may add scratch.
      if (!set.kernels[kernelCount].scratchBytes.empty() &&
          step.args.size() != fusion.getInputs().size() + fusion.getNumResults())
        return makeError("internal error: two targets' kernels " + Twine(kernelCount) +
                         " take scratch buffers");
      for (uint64_t bytes : set.kernels[kernelCount].scratchBytes)
        step.args.push_back(newArenaBuffer(bytes));
    }
    ++kernelCount;
    steps.push_back(std::move(step));
    return llvm::Error::success();
  }

  /// The loop's carried values live in one buffer each (the body's arguments and the loop's
  /// results): the initial values are copied in, each iteration's yields copied over them.
  llvm::Error emitLoop(LoopOp loop) {
    Block &body = loop.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    size_t carried = loop.getInitial().size();
    std::vector<uint32_t> carriedBuffers;
    for (auto [k, initial] : llvm::enumerate(loop.getInitial())) {
      uint32_t source = use(initial);
      uint32_t id = newArenaBuffer(buffers[source].size);
      bufferOf[body.getArgument(2 + k)] = bufferOf[loop.getResult(k)] = id;
      carriedBuffers.push_back(id);
      addControl(fb::Control::Copy, {source, id});
    }
    int64_t first = steps.size();
    uint32_t iteration = newArenaBuffer(8), condition = newArenaBuffer(1);
    bufferOf[body.getArgument(0)] = iteration;
    bufferOf[body.getArgument(1)] = condition;
    std::vector<uint32_t> scanBuffers;
    for (Value result : loop.getResults().drop_front(carried)) {
      PlannedBuffer buffer{fb::BufferKind::Arena};
      buffer.firstStep = buffer.lastStep = first;
      if (auto error = addBuffer(result, buffer))
        return error;
      scanBuffers.push_back(bufferOf.lookup(result));
    }
    std::vector<uint32_t> begin = {iteration, condition};
    if (loop.getCondition())
      begin.push_back(use(loop.getCondition()));
    addControl(fb::Control::LoopBegin, begin);
    size_t test = steps.size();
    std::vector<uint32_t> testArgs = {iteration, condition};
    if (loop.getTripCount())
      testArgs.push_back(use(loop.getTripCount()));
    addControl(fb::Control::LoopTest, testArgs);
    if (auto error = emitBlock(body))
      return error;
    ValueRange yielded = yield.getValues();
    for (auto [j, scan] : llvm::enumerate(yielded.drop_front(1 + carried)))
      addControl(fb::Control::CopyToSlice, {use(scan), scanBuffers[j], iteration});
    // The yields replace the carried values (and the condition, which only a loop with an
    // initial condition reads) all at once: a yield that is itself a carried value (or the
    // condition) is saved first, as its buffer may be overwritten before it is read.
    std::vector<std::pair<uint32_t, uint32_t>> copies;
    if (loop.getCondition())
      copies.push_back({bufferOf.lookup(yielded[0]), condition});
    for (size_t k = 0; k < carried; ++k)
      copies.push_back({bufferOf.lookup(yielded[1 + k]), carriedBuffers[k]});
    llvm::erase_if(copies, [](auto copy) { return copy.first == copy.second; });
    for (auto &[source, destination] : copies)
      if (llvm::any_of(copies, [&](auto other) { return other.second == source; })) {
        uint32_t saved = newArenaBuffer(buffers[source].size);
        addControl(fb::Control::Copy, {source, saved});
        source = saved;
      }
    for (auto [source, destination] : copies)
      addControl(fb::Control::Copy, {source, destination});
    addControl(fb::Control::LoopNext, {iteration}, test);
    steps[test].target = steps.size();
    int64_t last = steps.size() - 1;
    for (uint32_t id : carriedBuffers)
      buffers[id].lastStep = std::max(buffers[id].lastStep, last);
    for (uint32_t id : scanBuffers)
      buffers[id].lastStep = std::max(buffers[id].lastStep, last);
    buffers[iteration].lastStep = buffers[condition].lastStep = last;
    loops.push_back({first, last});
    return llvm::Error::success();
  }

  ArrayRef<TargetKernels> kernelSets;
  /// [first, last] steps of each loop, inner loops first.
  std::vector<std::pair<int64_t, int64_t>> loops;
};

std::string sha256OfFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return "";
  llvm::SHA256 hash;
  hash.update(llvm::arrayRefFromStringRef((*buffer)->getBuffer()));
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

std::string stringName(func::FuncOp main, unsigned index, bool isResult) {
  DictionaryAttr attrs = isResult ? main.getResultAttrDict(index) : main.getArgAttrDict(index);
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>("catfish.name"))
      return name.str();
  return (isResult ? "output_" : "input_") + std::to_string(index);
}

/// Writes bytes at increasing offsets, zero-filling gaps, hashing each section.
class SectionWriter {
public:
  // The state is reset here too: padding written before the first begin() is hashed.
  explicit SectionWriter(llvm::raw_pwrite_stream &os) : os(os) { begin(); }

  void padTo(uint64_t offset) {
    static const char zeros[4096] = {};
    while (position < offset) {
      uint64_t n = std::min<uint64_t>(sizeof(zeros), offset - position);
      write(ArrayRef<char>(zeros, n));
    }
  }
  void begin() { XXH64_reset(&state, 0); }
  void write(ArrayRef<char> bytes) {
    os.write(bytes.data(), bytes.size());
    XXH64_update(&state, bytes.data(), bytes.size());
    position += bytes.size();
  }
  uint64_t end() { return XXH64_digest(&state); }
  uint64_t tell() const { return position; }

private:
  llvm::raw_pwrite_stream &os;
  XXH64_state_t state;
  uint64_t position = 0;
};

} // namespace

llvm::Expected<ArtifactSummary>
mlir::catfish::writeArtifact(ModuleOp program, ArrayRef<TargetKernels> kernelSets,
                             ArrayRef<TargetCode> targets, StringRef modelPath,
                             StringRef outputPath) {
  if (kernelSets.empty())
    return makeError("internal error: no kernels to write");
  func::FuncOp main = getMainFunction(program);
  if (!main)
    return makeError("the program has no @main function");

  Planner plan(kernelSets);
  for (auto [i, arg] : llvm::enumerate(main.getArguments())) {
    PlannedBuffer buffer{fb::BufferKind::Input};
    buffer.inputIndex = i;
    if (auto error = plan.addBuffer(arg, buffer))
      return std::move(error);
  }
  if (auto error = plan.emitBlock(main.getBody().front()))
    return std::move(error);
  for (const TargetKernels &set : kernelSets)
    if (plan.kernelCount != set.kernels.size())
      return makeError("internal error: " + Twine(plan.kernelCount) + " fusion regions for " +
                       Twine(set.kernels.size()) + " kernels");
  std::vector<PlannedBuffer> &buffers = plan.buffers;
  llvm::DenseMap<Value, uint32_t> &bufferOf = plan.bufferOf;
  const std::vector<PlannedStep> &steps = plan.steps;
  uint64_t weightsSize = plan.weightsSize;
  auto returnOp = cast<func::ReturnOp>(main.getBody().front().getTerminator());
  int64_t lastStep = steps.size();
  for (Value output : returnOp.getOperands())
    buffers[plan.bufferOf.lookup(output)].lastStep = lastStep;
  plan.extendAcrossLoops();
  uint64_t arenaSize = planArena(buffers);

  // The manifest.
  flatbuffers::FlatBufferBuilder fbb;
  // The hidden results holding run-time sizes of outputs' bounded dims, per output.
  std::map<unsigned, std::vector<flatbuffers::Offset<fb::DataDependentDim>>> boundedDims;
  SmallVector<Value> outputValues;
  for (auto [i, value] : llvm::enumerate(returnOp.getOperands())) {
    DictionaryAttr attrs = main.getResultAttrDict(i);
    auto sizeOf = attrs ? attrs.getAs<DenseI64ArrayAttr>(kSizeOfAttr) : DenseI64ArrayAttr();
    if (!sizeOf) {
      outputValues.push_back(value);
      continue;
    }
    if (sizeOf.size() != 2)
      return makeError("internal error: result " + Twine(i) + " has a malformed " + kSizeOfAttr);
    uint32_t buffer = bufferOf.lookup(value);
    if (buffers[buffer].kind != fb::BufferKind::Arena)
      return makeError("internal error: the run-time size of dim " + Twine(sizeOf[1]) +
                       " of output " + Twine(sizeOf[0]) + " is not computed by a kernel");
    boundedDims[sizeOf[0]].push_back(
        fb::CreateDataDependentDim(fbb, static_cast<uint32_t>(sizeOf[1]), buffer));
  }
  auto tensorInfo = [&](Value value, StringRef name,
                        const std::vector<flatbuffers::Offset<fb::DataDependentDim>> *bounded =
                            nullptr) -> llvm::Expected<flatbuffers::Offset<fb::TensorInfo>> {
    auto type = cast<RankedTensorType>(value.getType());
    auto dtype = dtypeOf(type.getElementType());
    if (!dtype)
      return makeError("'" + name + "' has element type " +
                       llvm::formatv("{0}", type.getElementType()).str() +
                       " which artifacts cannot describe");
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    return fb::CreateTensorInfoDirect(fbb, name.str().c_str(), *dtype, &shape,
                                      bufferOf.lookup(value), bounded);
  };
  std::vector<flatbuffers::Offset<fb::TensorInfo>> inputs, outputs;
  for (auto [i, arg] : llvm::enumerate(main.getArguments())) {
    auto info = tensorInfo(arg, stringName(main, i, false));
    if (!info)
      return info.takeError();
    inputs.push_back(*info);
  }
  for (auto [i, value] : llvm::enumerate(outputValues)) {
    auto bounded = boundedDims.find(i);
    auto info = tensorInfo(value, stringName(main, i, true),
                           bounded == boundedDims.end() ? nullptr : &bounded->second);
    if (!info)
      return info.takeError();
    outputs.push_back(*info);
  }
  std::vector<flatbuffers::Offset<fb::Buffer>> bufferTable;
  for (const PlannedBuffer &buffer : buffers)
    bufferTable.push_back(fb::CreateBuffer(fbb, buffer.kind, buffer.offset, buffer.size,
                                           buffer.inputIndex));
  // Sections: 0 manifest, 1.. one code section per target, last weights.
  std::vector<flatbuffers::Offset<fb::Target>> targetTable;
  for (auto [i, target] : llvm::enumerate(targets))
    targetTable.push_back(fb::CreateTargetDirect(fbb, target.name.c_str(), target.arch.c_str(),
                                                 target.format.c_str(), 1 + i));
  std::vector<flatbuffers::Offset<fb::Kernel>> kernelTable;
  for (const TargetKernels &set : kernelSets) {
    for (const KernelInfo &kernel : set.kernels) {
      std::vector<flatbuffers::Offset<fb::CudaCall>> calls;
      for (const CudaCall &call : kernel.calls) {
        flatbuffers::Offset<fb::CudaLaunch> launchOffset;
        flatbuffers::Offset<fb::CudaMatmul> matmulOffset;
        if (const std::optional<CudaLaunch> &launch = call.launch) {
          std::vector<flatbuffers::Offset<fb::CudaResources>> resources;
          for (const CudaResources &r : launch->resources)
            resources.push_back(fb::CreateCudaResourcesDirect(
                fbb, r.arch.c_str(), r.registers, r.spillStoreBytes, r.spillLoadBytes,
                r.stackBytes, r.sharedBytes));
          std::vector<uint32_t> grid(launch->grid.begin(), launch->grid.end());
          std::vector<uint32_t> block(launch->block.begin(), launch->block.end());
          std::vector<uint32_t> args(launch->args.begin(), launch->args.end());
          launchOffset = fb::CreateCudaLaunchDirect(
              fbb, launch->function.c_str(), &grid, &block, launch->dynamicSharedBytes, &args,
              &resources, launch->cooperative, launch->staticSharedBytes);
        }
        if (const std::optional<CudaMatmul> &mm = call.matmul) {
          auto dtype = dtypeOf(mm->elementType);
          if (!dtype)
            return makeError("a GEMM of kernel " + kernel.symbol + " has an element type " +
                             "artifacts cannot describe");
          matmulOffset = fb::CreateCudaMatmulDirect(
              fbb, mm->a, mm->b, mm->c, mm->m, mm->n, mm->k, mm->batch, mm->transposeA,
              mm->transposeB, mm->lda, mm->ldb, mm->ldc, mm->strideA, mm->strideB, mm->strideC,
              mm->offsetA, mm->offsetB, mm->offsetC, *dtype, "f32", mm->alpha, mm->beta, "none");
        }
        calls.push_back(fb::CreateCudaCall(fbb, launchOffset, matmulOffset));
      }
      kernelTable.push_back(fb::CreateKernelDirect(
          fbb, kernel.symbol.c_str(), stringifyFusionKind(kernel.kind).str().c_str(),
          kernel.location.c_str(), set.target, kernel.maxTasks,
          calls.empty() ? nullptr : &calls));
    }
  }
  std::vector<flatbuffers::Offset<fb::Step>> stepTable;
  bool hasControl = false;
  for (const PlannedStep &step : steps) {
    // Kernel i of set s is kernel s * kernelCount + i of the table.
    std::vector<uint32_t> alternatives;
    if (step.control == fb::Control::None)
      for (size_t s = 1; s < kernelSets.size(); ++s)
        alternatives.push_back(static_cast<uint32_t>(s * plan.kernelCount + step.kernel));
    hasControl = hasControl || step.control != fb::Control::None;
    stepTable.push_back(fb::CreateStepDirect(fbb, step.kernel, &step.args,
                                             alternatives.empty() ? nullptr : &alternatives,
                                             step.control, step.target));
  }
  std::string version = "catfish " CATFISH_VERSION " (LLVM/MLIR 22)";
  std::string sha = sha256OfFile(modelPath);
  std::string modelName = llvm::sys::path::filename(modelPath).str();
  auto manifest = fb::CreateManifestDirect(
      fbb, version.c_str(), sha.c_str(), modelName.c_str(), &inputs, &outputs, &bufferTable,
      &targetTable, &kernelTable, &stepTable, arenaSize, weightsSize);
  fb::FinishManifestBuffer(fbb, manifest);

  // Layout.
  size_t sectionCount = 2 + targets.size();
  std::vector<format::SectionEntry> table(sectionCount);
  uint64_t offset = sizeof(format::FileHeader) + sectionCount * sizeof(format::SectionEntry);
  auto place = [&](size_t i, format::SectionKind kind, uint64_t size, uint64_t alignment) {
    offset = alignTo(offset, alignment);
    table[i] = {static_cast<uint32_t>(kind), 0, offset, size, 0};
    offset += size;
  };
  place(0, format::SectionKind::Manifest, fbb.GetSize(), format::kSectionAlignment);
  for (auto [i, target] : llvm::enumerate(targets))
    place(1 + i, format::SectionKind::Code, target.bytes.size(), format::kSectionAlignment);
  place(sectionCount - 1, format::SectionKind::Weights, weightsSize,
        format::kWeightsSectionAlignment);
  uint64_t fileSize = offset;

  // Write to a temporary file next to the output; rename on success.
  SmallString<256> tempPath;
  int fd;
  if (auto ec = llvm::sys::fs::createUniqueFile(outputPath + ".tmp-%%%%%%", fd, tempPath))
    return makeError("cannot write " + outputPath + ": " + ec.message());
  llvm::FileRemover removeTemp(tempPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    SectionWriter writer(os);
    writer.padTo(table[0].offset);
    writer.begin();
    writer.write(ArrayRef<char>(reinterpret_cast<const char *>(fbb.GetBufferPointer()),
                                fbb.GetSize()));
    table[0].checksum = writer.end();
    for (auto [i, target] : llvm::enumerate(targets)) {
      writer.padTo(table[1 + i].offset);
      writer.begin();
      writer.write(ArrayRef<char>(target.bytes.data(), target.bytes.size()));
      table[1 + i].checksum = writer.end();
    }
    format::SectionEntry &weights = table.back();
    writer.padTo(weights.offset);
    writer.begin();
    for (const PlannedBuffer &buffer : buffers) {
      if (buffer.kind != fb::BufferKind::Weight)
        continue;
      static const char zeros[format::kWeightAlignment] = {};
      uint64_t start = weights.offset + buffer.offset;
      if (writer.tell() < start)
        writer.write(ArrayRef<char>(zeros, start - writer.tell()));
      if (auto error = emitWeightBytes(buffer.weight, buffer.size,
                                       [&](ArrayRef<char> bytes) { writer.write(bytes); }))
        return std::move(error);
    }
    weights.checksum = writer.end();

    format::FileHeader header{};
    std::memcpy(header.magic, format::kMagic, sizeof(header.magic));
    header.formatVersion = hasControl              ? format::kControlStepsFormatVersion
                           : !boundedDims.empty() ? format::kDataDependentDimsFormatVersion
                                                  : format::kFirstFormatVersion;
    header.sectionCount = sectionCount;
    header.fileSize = fileSize;
    XXH64_state_t state;
    XXH64_reset(&state, 0);
    XXH64_update(&state, &header, sizeof(header));
    XXH64_update(&state, table.data(), table.size() * sizeof(format::SectionEntry));
    header.headerChecksum = XXH64_digest(&state);
    os.seek(0);
    os.write(reinterpret_cast<const char *>(&header), sizeof(header));
    os.write(reinterpret_cast<const char *>(table.data()),
             table.size() * sizeof(format::SectionEntry));
    os.close();
    if (os.has_error())
      return makeError("cannot write " + outputPath + ": " + os.error().message());
  }
  if (auto ec = llvm::sys::fs::rename(tempPath, outputPath))
    return makeError("cannot write " + outputPath + ": " + ec.message());
  removeTemp.releaseFile();
  ArtifactSummary summary;
  summary.arenaSize = arenaSize;
  summary.weightsSize = weightsSize;
  summary.fileSize = fileSize;
  summary.kernels = plan.kernelCount;
  return summary;
}
