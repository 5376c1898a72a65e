//===- MapReductionsToGpu.cpp - the catfish-map-reductions-to-gpu pass ----===//
//
// A reduction (a linalg.generic with reduction loops and one result) becomes a kernel that
// reduces each output point, a "row", with a warp, or with a whole block when the row is long:
// every thread folds a strided share of the row into a register of the accumulation type (f32
// for f16 and bf16), warp shuffles combine the lanes, per-warp partials meet in shared memory
// after a barrier (block rows), and one thread folds the total into the output, which holds the
// reduction's initial value.
//
//===----------------------------------------------------------------------===//
#include "GpuKernels.h"

#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include "llvm/ADT/TypeSwitch.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHMAPREDUCTIONSTOGPU
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

constexpr int64_t kWarpSize = 32;
constexpr int64_t kBlockSize = 256;
constexpr int64_t kWarpsPerBlock = kBlockSize / kWarpSize;

/// How a reduction's body folds one value into the output.
struct Combiner {
  arith::AtomicRMWKind kind;
  Operation *op;
  /// The value folded in (the combiner's operand that is not the output).
  Value folded;
};

std::optional<arith::AtomicRMWKind> kindOf(Operation *op) {
  using Kind = arith::AtomicRMWKind;
  return TypeSwitch<Operation *, std::optional<Kind>>(op)
      .Case([](arith::AddFOp) { return Kind::addf; })
      .Case([](arith::MulFOp) { return Kind::mulf; })
      .Case([](arith::MaximumFOp) { return Kind::maximumf; })
      .Case([](arith::MinimumFOp) { return Kind::minimumf; })
      .Case([](arith::MaxNumFOp) { return Kind::maxnumf; })
      .Case([](arith::MinNumFOp) { return Kind::minnumf; })
      .Case([](arith::AddIOp) { return Kind::addi; })
      .Case([](arith::MulIOp) { return Kind::muli; })
      .Case([](arith::MaxSIOp) { return Kind::maxs; })
      .Case([](arith::MinSIOp) { return Kind::mins; })
      .Case([](arith::MaxUIOp) { return Kind::maxu; })
      .Case([](arith::MinUIOp) { return Kind::minu; })
      .Case([](arith::AndIOp) { return Kind::andi; })
      .Case([](arith::OrIOp) { return Kind::ori; })
      .Default([](Operation *) { return std::nullopt; });
}

/// The combiner of `generic` (one result), or an error at it saying why it cannot be a
/// reduction kernel.
FailureOr<Combiner> matchCombiner(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  BlockArgument out = body.getArgument(generic.getNumDpsInputs());
  Operation *op = body.getTerminator()->getOperand(0).getDefiningOp();
  std::optional<arith::AtomicRMWKind> kind = op ? kindOf(op) : std::nullopt;
  if (!kind || !out.hasOneUse() || op->getNumOperands() != 2 ||
      !llvm::is_contained(op->getOperands(), out))
    return generic.emitError("the CUDA target cannot generate this reduction: its result is not "
                             "an associative combination of the output and one value");
  Value folded = op->getOperand(0) == out ? op->getOperand(1) : op->getOperand(0);
  return Combiner{*kind, op, folded};
}

/// f16 and bf16 rows are accumulated in f32.
Type accumulationType(Type element) {
  if (auto fp = dyn_cast<FloatType>(element); fp && fp.getWidth() < 32)
    return Float32Type::get(element.getContext());
  return element;
}

Value convert(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  if (type.getIntOrFloatBitWidth() > value.getType().getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}

/// `value` of lane (lane ^ offset) of the warp. 64-bit values go as two 32-bit halves, narrow
/// integers widened.
Value shuffleXor(OpBuilder &b, Location loc, Value value, int64_t offset) {
  Type type = value.getType();
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  Value lanes = arith::ConstantIntOp::create(b, loc, i32, offset);
  Value width = arith::ConstantIntOp::create(b, loc, i32, kWarpSize);
  auto shuffle = [&](Value v) {
    return gpu::ShuffleOp::create(b, loc, v, lanes, width, gpu::ShuffleMode::XOR)
        .getShuffleResult();
  };
  unsigned bits = type.getIntOrFloatBitWidth();
  if (bits == 32)
    return shuffle(value);
  if (bits < 32)
    return arith::TruncIOp::create(b, loc, type,
                                   shuffle(arith::ExtUIOp::create(b, loc, i32, value)));
  Value asInt = isa<FloatType>(type) ? arith::BitcastOp::create(b, loc, i64, value) : value;
  Value low = arith::TruncIOp::create(b, loc, i32, asInt);
  Value high = arith::TruncIOp::create(
      b, loc, i32,
      arith::ShRUIOp::create(b, loc, asInt, arith::ConstantIntOp::create(b, loc, i64, 32)));
  Value joined = arith::OrIOp::create(
      b, loc, arith::ExtUIOp::create(b, loc, i64, shuffle(low)),
      arith::ShLIOp::create(b, loc, arith::ExtUIOp::create(b, loc, i64, shuffle(high)),
                            arith::ConstantIntOp::create(b, loc, i64, 32)));
  return isa<FloatType>(type) ? Value(arith::BitcastOp::create(b, loc, type, joined)) : joined;
}

/// Folds the values of the lanes (lane ^ offset) for offset = from, from/2, ..., 1 into `acc`.
Value reduceAcrossLanes(OpBuilder &b, Location loc, Value acc, arith::AtomicRMWKind kind,
                        int64_t from) {
  for (int64_t offset = from; offset >= 1; offset /= 2)
    acc = arith::getReductionOp(kind, b, loc, acc, shuffleXor(b, loc, acc, offset));
  return acc;
}

/// The indices an indexing map gives for the loop indices `loops`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map, ValueRange loops) {
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      indices.push_back(loops[dim.getPosition()]);
    else
      indices.push_back(affine::AffineApplyOp::create(
          b, loc, AffineMap::get(map.getNumDims(), map.getNumSymbols(), expr), loops));
  }
  return indices;
}

/// An ordered selection: which result carries the element's value, which its index.
struct Selection {
  unsigned valueResult;
  std::optional<unsigned> indexResult;
  /// The condition reads no output: each result is that of the last element taken (a
  /// scatter's pull), so states combine by "the later if it took any".
  bool lastMatch;
};

/// Whether `value` is computed in `body` from one of `arguments`.
bool dependsOn(Value value, ArrayRef<BlockArgument> arguments) {
  SmallVector<Value> work = {value};
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!work.empty()) {
    Value next = work.pop_back_val();
    if (auto argument = dyn_cast<BlockArgument>(next)) {
      if (llvm::is_contained(arguments, argument))
        return true;
      continue;
    }
    Operation *op = next.getDefiningOp();
    if (op && seen.insert(op).second)
      work.append(op->operand_begin(), op->operand_end());
  }
  return false;
}

/// A reduction kernel being built: its rows, and the values every row kernel starts with.
struct RowKernel {
  gpu::GPUFuncOp kernel;
  OpBuilder builder;
  IRMapping mapping;
  SmallVector<int64_t> reductionExtents;
  int64_t length = 1, blocks = 1;
  /// A warp per row (eight to a block) or a block per row.
  bool warpRows = true;
  Value thread, lane, warp, rowInRange;
  /// The row's indices (row 0's for warps past the last row).
  affine::AffineDelinearizeIndexOp rowIndices;

  /// The loop indices of the row's element at `reductions` (one index per reduction loop).
  SmallVector<Value> loopsAt(ArrayRef<utils::IteratorType> iterators,
                             ValueRange reductions) {
    SmallVector<Value> loops;
    unsigned nextRow = 0, nextReduction = 0;
    for (utils::IteratorType iterator : iterators)
      loops.push_back(iterator == utils::IteratorType::parallel
                          ? rowIndices.getResult(nextRow++)
                          : reductions[nextReduction++]);
    return loops;
  }
};

/// Creates the kernel for `generic` (replaced later by its launch) and its thread, lane, warp and
/// row values: rows of at most 1024 elements take a warp each, longer ones a block.
FailureOr<RowKernel> startRowKernel(func::FuncOp func, linalg::GenericOp generic,
                                    gpu::GPUModuleOp gpuModule) {
  if (!generic.hasPureBufferSemantics())
    return generic.emitError("the CUDA target maps bufferized reductions only");
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return generic.emitError("the CUDA target needs static loop bounds");
  RowKernel k{{}, OpBuilder(generic), {}, {}, 1, 1, true, {}, {}, {}, {}, {}};
  SmallVector<int64_t> rowExtents;
  int64_t rows = 1;
  for (auto [range, iterator] : llvm::zip(ranges, generic.getIteratorTypesArray())) {
    bool parallel = iterator == utils::IteratorType::parallel;
    (parallel ? rowExtents : k.reductionExtents).push_back(range);
    (parallel ? rows : k.length) *= range;
  }
  k.warpRows = k.length <= 1024;
  k.blocks = std::max<int64_t>(1, k.warpRows ? (rows + kWarpsPerBlock - 1) / kWarpsPerBlock : rows);
  Location loc = generic.getLoc();
  OpBuilder &b = k.builder;
  k.kernel = createKernel(func, generic, gpuModule, nextKernelName(gpuModule, func), kBlockSize,
                          k.blocks, k.mapping, b);
  auto constant = [&](int64_t value) { return arith::ConstantIndexOp::create(b, loc, value); };
  k.thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  k.lane = arith::RemUIOp::create(b, loc, k.thread, constant(kWarpSize));
  k.warp = arith::DivUIOp::create(b, loc, k.thread, constant(kWarpSize));
  Value row = k.warpRows ? Value(arith::AddIOp::create(
                               b, loc, arith::MulIOp::create(b, loc, block, constant(kWarpsPerBlock)),
                               k.warp))
                         : block;
  k.rowInRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, constant(rows));
  k.rowIndices = affine::AffineDelinearizeIndexOp::create(
      b, loc, arith::SelectOp::create(b, loc, k.rowInRange, row, constant(0)),
      getAsIndexOpFoldResult(b.getContext(), rowExtents), /*hasOuterBound=*/true);
  return k;
}

struct MapReductionsToGpu final
    : catfish::impl::CatfishMapReductionsToGpuBase<MapReductionsToGpu> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<func::FuncOp, linalg::GenericOp>> reductions;
    for (auto func : module.getOps<func::FuncOp>()) {
      auto kind = func->getAttrOfType<FusionKindAttr>("catfish.kind");
      if (!kind || kind.getValue() == FusionKind::attention)
        continue;
      for (auto generic : func.getBody().front().getOps<linalg::GenericOp>())
        if (generic.getNumReductionLoops() > 0)
          reductions.push_back({func, generic});
    }
    if (reductions.empty())
      return;
    gpu::GPUModuleOp gpuModule = getOrCreateGpuModule(module);
    for (auto [func, generic] : reductions)
      if (failed(mapReduction(func, generic, gpuModule)))
        return signalPassFailure();
  }

  /// Matches `generic` as a fold or an ordered selection, then builds its kernel and launch.
  LogicalResult mapReduction(func::FuncOp func, linalg::GenericOp generic,
                             gpu::GPUModuleOp gpuModule) {
    FailureOr<Combiner> combiner = failure();
    FailureOr<Selection> selection = failure();
    Block &body = generic.getRegion().front();
    auto select = body.getTerminator()->getOperand(0).getDefiningOp<arith::SelectOp>();
    bool selects = select && select.getFalseValue() == body.getArgument(generic.getNumDpsInputs());
    if (generic.getNumDpsInits() > 1 || selects)
      selection = matchSelection(generic);
    else
      combiner = matchCombiner(generic);
    if (failed(combiner) && failed(selection))
      return failure();
    FailureOr<RowKernel> rowKernel = startRowKernel(func, generic, gpuModule);
    if (failed(rowKernel))
      return failure();
    if (succeeded(selection))
      emitSelection(generic, *rowKernel, *selection);
    else
      emitFold(generic, *rowKernel, *combiner);
    replaceByLaunch(generic, func, rowKernel->kernel, rowKernel->blocks, kBlockSize);
    return success();
  }

  /// A fold (sum, max, ...): strided shares per thread, shuffles, partials in shared memory.
  void emitFold(linalg::GenericOp generic, RowKernel &k, const Combiner &combiner) {
    OpBuilder &b = k.builder;
    Location loc = generic.getLoc();
    IRMapping &mapping = k.mapping;
    gpu::GPUFuncOp kernel = k.kernel;
    bool warpRows = k.warpRows;
    int64_t length = k.length;
    Value thread = k.thread, lane = k.lane, warp = k.warp, rowInRange = k.rowInRange;
    SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
    ArrayRef<int64_t> reductionExtents = k.reductionExtents;
    Type element = combiner.op->getResult(0).getType();
    Type accType = accumulationType(element);
    auto constant = [&](int64_t value) { return arith::ConstantIndexOp::create(b, loc, value); };
    // Warps past the last row fold nothing but still take part in the shuffles.
    Value end = arith::SelectOp::create(b, loc, rowInRange, constant(length), constant(0));
    Value identity = arith::getIdentityValue(combiner.kind, accType, b, loc);

    // Each thread folds elements start, start + stride, ... of its row.
    auto loop = scf::ForOp::create(b, loc, warpRows ? lane : thread, end,
                                   constant(warpRows ? kWarpSize : kBlockSize), identity);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      auto reductionIndices = affine::AffineDelinearizeIndexOp::create(
          b, loc, loop.getInductionVar(),
          getAsIndexOpFoldResult(b.getContext(), reductionExtents), /*hasOuterBound=*/true);
      SmallVector<Value> loops = k.loopsAt(iterators, reductionIndices.getResults());
      Block &body = generic.getRegion().front();
      for (OpOperand *input : generic.getDpsInputOperands()) {
        Value buffer = mapping.lookupOrDefault(input->get());
        SmallVector<Value> indices =
            applyMap(b, loc, generic.getMatchingIndexingMap(input), loops);
        mapping.map(body.getArgument(input->getOperandNumber()),
                    memref::LoadOp::create(b, loc, buffer, indices));
      }
      for (Operation &op : body.without_terminator()) {
        if (&op == combiner.op)
          continue;
        if (auto index = dyn_cast<linalg::IndexOp>(op)) {
          mapping.map(index.getResult(), loops[index.getDim()]);
          continue;
        }
        b.clone(op, mapping);
      }
      Value value = convert(b, loc, mapping.lookupOrDefault(combiner.folded), accType);
      Value acc = arith::getReductionOp(combiner.kind, b, loc, loop.getRegionIterArg(0), value);
      scf::YieldOp::create(b, loc, acc);
    }
    Value acc = reduceAcrossLanes(b, loc, loop.getResult(0), combiner.kind, kWarpSize / 2);
    Value zero = constant(0);
    Value leader;
    if (warpRows) {
      leader = arith::AndIOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, zero), rowInRange);
    } else {
      // The warps' partials meet in shared memory; every warp then folds all of them.
      Attribute workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                       gpu::AddressSpace::Workgroup);
      auto sharedType = MemRefType::get({kWarpsPerBlock}, accType, AffineMap(), workgroup);
      Value partials = kernel.addWorkgroupAttribution(sharedType, loc);
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, zero);
      auto store = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&store.getThenRegion().front());
        memref::StoreOp::create(b, loc, acc, partials, warp);
      }
      gpu::BarrierOp::create(b, loc);
      Value owned = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, lane,
                                          constant(kWarpsPerBlock));
      auto read = scf::IfOp::create(b, loc, TypeRange{accType}, owned, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&read.getThenRegion().front());
        scf::YieldOp::create(b, loc, ValueRange{memref::LoadOp::create(b, loc, partials, lane)});
        b.setInsertionPointToStart(&read.getElseRegion().front());
        scf::YieldOp::create(b, loc, identity);
      }
      acc = reduceAcrossLanes(b, loc, read.getResult(0), combiner.kind, kWarpsPerBlock / 2);
      leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, thread, zero);
    }

    // The leader folds the row's total into the output's initial value.
    auto write = scf::IfOp::create(b, loc, leader, /*withElseRegion=*/false);
    b.setInsertionPointToStart(&write.getThenRegion().front());
    SmallVector<Value> loops =
        k.loopsAt(iterators, SmallVector<Value>(reductionExtents.size(), zero));
    OpOperand *init = generic.getDpsInitOperand(0);
    Value output = mapping.lookupOrDefault(init->get());
    SmallVector<Value> indices = applyMap(b, loc, generic.getMatchingIndexingMap(init), loops);
    Value initial = convert(b, loc, memref::LoadOp::create(b, loc, output, indices), accType);
    Value total = arith::getReductionOp(combiner.kind, b, loc, initial, acc);
    memref::StoreOp::create(b, loc, convert(b, loc, total, element), output, indices);

  }

  /// An ordered selection (argmax, argmin, hardmax, a top-k pick, a scatter's pull): every
  /// result is `select(c, x, out)` with one condition c and x the element (of the first input)
  /// or its index along the one reduction loop. Further inputs the same along the row (a top-k
  /// pick's previous pick) are read once per row; inputs that change along it (a scatter's
  /// indices) are read with each element, and only when c reads no output. Each thread
  /// folds a contiguous chunk of the row, from the output's initial values, with the body
  /// itself; lanes and then warps combine in index order (xor 1, 2, 4, ...), the earlier state
  /// as the output and the later one as the element, so ties resolve as in sequence. A flag
  /// passes over states that folded nothing.
  FailureOr<Selection> matchSelection(linalg::GenericOp generic) {
    auto refuse = [&]() {
      return generic.emitError("the CUDA target cannot generate this reduction with several "
                               "results (only ordered selections such as argmax and argmin)");
    };
    if (generic.getNumDpsInputs() < 1 || generic.getNumReductionLoops() != 1)
      return refuse();
    SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
    unsigned reductionDim = llvm::find(iterators, utils::IteratorType::reduction) -
                            iterators.begin();
    bool varying = false;
    for (OpOperand *input : generic.getDpsInputOperands())
      varying |= input->getOperandNumber() > 0 &&
                 generic.getMatchingIndexingMap(input).isFunctionOfDim(reductionDim);
    Block &body = generic.getRegion().front();
    BlockArgument element = body.getArgument(0);
    unsigned results = generic.getNumDpsInits();
    unsigned inputs = generic.getNumDpsInputs();
    Value condition;
    // Which result carries the element's value, and which its index.
    std::optional<unsigned> valueResult, indexResult;
    for (unsigned j = 0; j < results; ++j) {
      auto select = body.getTerminator()->getOperand(j).getDefiningOp<arith::SelectOp>();
      if (!select || (condition && select.getCondition() != condition) ||
          select.getFalseValue() != body.getArgument(inputs + j))
        return refuse();
      condition = select.getCondition();
      Value chosen = select.getTrueValue();
      if (auto cast = chosen.getDefiningOp<arith::IndexCastOp>())
        chosen = cast.getIn();
      auto index = chosen.getDefiningOp<linalg::IndexOp>();
      if (select.getTrueValue() == element && !valueResult)
        valueResult = j;
      else if (index && index.getDim() == reductionDim && !indexResult)
        indexResult = j;
      else
        return refuse();
    }
    if (!valueResult)
      return refuse();
    SmallVector<BlockArgument> outputs(body.getArguments().drop_front(inputs));
    bool lastMatch = !dependsOn(condition, outputs);
    if (varying && !lastMatch)
      return refuse();
    return Selection{*valueResult, indexResult, lastMatch};
  }

  void emitSelection(linalg::GenericOp generic, RowKernel &k, const Selection &selection) {
    SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
    Block &body = generic.getRegion().front();
    unsigned results = generic.getNumDpsInits();
    unsigned inputs = generic.getNumDpsInputs();
    unsigned valueResult = selection.valueResult;
    std::optional<unsigned> indexResult = selection.indexResult;
    OpBuilder &b = k.builder;
    Location loc = generic.getLoc();
    auto constant = [&](int64_t value) { return arith::ConstantIndexOp::create(b, loc, value); };
    Value zero = constant(0);
    // The one reduction loop's index.
    auto loopsAt = [&](Value reduction) { return k.loopsAt(iterators, reduction); };
    // The outputs hold the initial state.
    SmallVector<Value> outputs, outputIndices;
    SmallVector<Value> initial;
    for (OpOperand &init : generic.getDpsInitsMutable()) {
      Value output = k.mapping.lookupOrDefault(init.get());
      outputs.push_back(output);
      SmallVector<Value> indices =
          applyMap(b, loc, generic.getMatchingIndexingMap(&init), loopsAt(zero));
      initial.push_back(memref::LoadOp::create(b, loc, output, indices));
    }
    // Inputs after the first that are the same along the row are read once; the others with
    // each element (the first one included).
    unsigned reductionDim = llvm::find(iterators, utils::IteratorType::reduction) -
                            iterators.begin();
    auto readsAlongRow = [&](OpOperand *input) {
      return generic.getMatchingIndexingMap(input).isFunctionOfDim(reductionDim);
    };
    IRMapping invariants;
    for (OpOperand *input : generic.getDpsInputOperands())
      if (input->getOperandNumber() > 0 && !readsAlongRow(input))
        invariants.map(body.getArgument(input->getOperandNumber()),
                       memref::LoadOp::create(
                           b, loc, k.mapping.lookupOrDefault(input->get()),
                           applyMap(b, loc, generic.getMatchingIndexingMap(input),
                                    loopsAt(zero))));
    SmallVector<Value> rowLoops = loopsAt(zero);
    Value condition = body.getTerminator()
                          ->getOperand(valueResult)
                          .getDefiningOp<arith::SelectOp>()
                          .getCondition();
    /// The body applied to `state` (as the outputs) and an element (the values of the inputs
    /// read along the row) and its index; then the condition.
    auto apply = [&](ValueRange state, ValueRange element, Value index) {
      IRMapping mapping = k.mapping;
      for (auto [from, to] : invariants.getValueMap())
        mapping.map(from, to);
      unsigned next = 0;
      for (OpOperand *input : generic.getDpsInputOperands())
        if (input->getOperandNumber() == 0 || readsAlongRow(input))
          mapping.map(body.getArgument(input->getOperandNumber()), element[next++]);
      for (unsigned j = 0; j < results; ++j)
        mapping.map(body.getArgument(inputs + j), state[j]);
      for (Operation &op : body.without_terminator()) {
        // The reduction loop's index is the element's; the others are the row's.
        if (auto position = dyn_cast<linalg::IndexOp>(op)) {
          mapping.map(position.getResult(), position.getDim() == reductionDim
                                                ? index
                                                : rowLoops[position.getDim()]);
          continue;
        }
        b.clone(op, mapping);
      }
      SmallVector<Value> yielded;
      for (Value value : body.getTerminator()->getOperands())
        yielded.push_back(mapping.lookupOrDefault(value));
      yielded.push_back(mapping.lookupOrDefault(condition));
      return yielded;
    };

    // Each thread: the contiguous chunk [position * chunk, (position + 1) * chunk) of its row.
    int64_t lanes = k.warpRows ? kWarpSize : kBlockSize;
    int64_t chunk = (k.length + lanes - 1) / lanes;
    Value position = k.warpRows ? k.lane : k.thread;
    Value begin = arith::MulIOp::create(b, loc, position, constant(chunk));
    Value end = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, begin, constant(chunk)), constant(k.length));
    end = arith::SelectOp::create(b, loc, k.rowInRange, arith::MaxUIOp::create(b, loc, begin, end),
                                  begin);
    SmallVector<Value> start(initial);
    start.push_back(arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0));
    auto loop = scf::ForOp::create(b, loc, begin, end, constant(1), start);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kk = loop.getInductionVar();
      SmallVector<Value> loaded;
      for (OpOperand *input : generic.getDpsInputOperands())
        if (input->getOperandNumber() == 0 || readsAlongRow(input))
          loaded.push_back(memref::LoadOp::create(
              b, loc, k.mapping.lookupOrDefault(input->get()),
              applyMap(b, loc, generic.getMatchingIndexingMap(input), loopsAt(kk))));
      SmallVector<Value> next = apply(loop.getRegionIterArgs().drop_back(), loaded, kk);
      // The flag: the state holds an element (a last match: an element was taken).
      Value taken = next.pop_back_val();
      Value flag = loop.getRegionIterArgs().back();
      next.push_back(selection.lastMatch ? arith::OrIOp::create(b, loc, flag, taken).getResult()
                                         : arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)
                                               .getResult());
      scf::YieldOp::create(b, loc, next);
    }
    SmallVector<Value> state(loop.getResults());

    // earlier combined with later; a side that folded nothing is passed over.
    auto combine = [&](ArrayRef<Value> earlier, ArrayRef<Value> later) {
      SmallVector<Value> result;
      if (selection.lastMatch) {
        for (unsigned j = 0; j < results; ++j)
          result.push_back(arith::SelectOp::create(b, loc, later.back(), later[j], earlier[j]));
        result.push_back(arith::OrIOp::create(b, loc, earlier.back(), later.back()));
        return result;
      }
      Value index = later[indexResult ? *indexResult : valueResult];
      if (indexResult && !index.getType().isIndex())
        index = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
      SmallVector<Value> both = apply(earlier.drop_back(), later[valueResult], index);
      both.pop_back();
      for (unsigned j = 0; j < results; ++j)
        result.push_back(arith::SelectOp::create(
            b, loc, later.back(),
            arith::SelectOp::create(b, loc, earlier.back(), both[j], later[j]), earlier[j]));
      result.push_back(arith::OrIOp::create(b, loc, earlier.back(), later.back()));
      return result;
    };
    auto acrossLanes = [&](SmallVector<Value> own, int64_t upTo) {
      for (int64_t offset = 1; offset <= upTo; offset *= 2) {
        SmallVector<Value> other;
        for (Value value : own)
          other.push_back(shuffleXor(b, loc, value, offset));
        Value lower = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq,
            arith::AndIOp::create(b, loc, k.lane, constant(offset)), zero);
        SmallVector<Value> earlier, later;
        for (auto [mine, theirs] : llvm::zip(own, other)) {
          earlier.push_back(arith::SelectOp::create(b, loc, lower, mine, theirs));
          later.push_back(arith::SelectOp::create(b, loc, lower, theirs, mine));
        }
        own = combine(earlier, later);
      }
      return own;
    };
    state = acrossLanes(state, kWarpSize / 2);
    Value leader;
    if (k.warpRows) {
      leader = arith::AndIOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k.lane, zero),
          k.rowInRange);
    } else {
      // Warps' states through shared memory, in warp order.
      Attribute workgroup =
          gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
      SmallVector<Value> partials;
      for (Value value : state)
        partials.push_back(k.kernel.addWorkgroupAttribution(
            MemRefType::get({kWarpsPerBlock}, value.getType(), AffineMap(), workgroup), loc));
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k.lane, zero);
      auto store = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&store.getThenRegion().front());
        for (auto [value, partial] : llvm::zip(state, partials))
          memref::StoreOp::create(b, loc, value, partial, k.warp);
      }
      gpu::BarrierOp::create(b, loc);
      Value owned = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k.lane,
                                          constant(kWarpsPerBlock));
      SmallVector<Value> empty(initial);
      empty.push_back(arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0));
      auto read = scf::IfOp::create(b, loc, ValueRange(state).getTypes(), owned,
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&read.getThenRegion().front());
        SmallVector<Value> loaded;
        for (Value partial : partials)
          loaded.push_back(memref::LoadOp::create(b, loc, partial, k.lane));
        scf::YieldOp::create(b, loc, loaded);
        b.setInsertionPointToStart(&read.getElseRegion().front());
        scf::YieldOp::create(b, loc, empty);
      }
      state = acrossLanes(SmallVector<Value>(read.getResults()), kWarpsPerBlock / 2);
      leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, k.thread, zero);
    }
    auto write = scf::IfOp::create(b, loc, leader, /*withElseRegion=*/false);
    b.setInsertionPointToStart(&write.getThenRegion().front());
    for (auto [j, init] : llvm::enumerate(generic.getDpsInitsMutable()))
      memref::StoreOp::create(b, loc, state[j], outputs[j],
                              applyMap(b, loc, generic.getMatchingIndexingMap(&init),
                                       loopsAt(zero)));
  }
};

} // namespace
