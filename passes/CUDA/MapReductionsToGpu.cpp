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

/// The combiner of `generic`, or an error at it saying why it cannot be a reduction kernel.
FailureOr<Combiner> matchCombiner(linalg::GenericOp generic) {
  if (generic.getNumDpsInits() != 1)
    return generic.emitError("the CUDA target cannot generate reductions with several results "
                             "(argmax, argmin, topk) yet");
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

  LogicalResult mapReduction(func::FuncOp func, linalg::GenericOp generic,
                             gpu::GPUModuleOp gpuModule) {
    FailureOr<Combiner> combiner = matchCombiner(generic);
    if (failed(combiner))
      return failure();
    if (!generic.hasPureBufferSemantics())
      return generic.emitError("the CUDA target maps bufferized reductions only");
    SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return generic.emitError("the CUDA target needs static loop bounds");
    SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
    SmallVector<int64_t> rowExtents, reductionExtents;
    int64_t rows = 1, length = 1;
    for (auto [range, iterator] : llvm::zip(ranges, iterators)) {
      bool parallel = iterator == utils::IteratorType::parallel;
      (parallel ? rowExtents : reductionExtents).push_back(range);
      (parallel ? rows : length) *= range;
    }
    // Short rows: a warp each, eight to a block. Long rows: a block each.
    bool warpRows = length <= 1024;
    int64_t blocks = std::max<int64_t>(
        1, warpRows ? (rows + kWarpsPerBlock - 1) / kWarpsPerBlock : rows);
    Location loc = generic.getLoc();
    IRMapping mapping;
    OpBuilder b(generic);
    gpu::GPUFuncOp kernel = createKernel(func, generic, gpuModule,
                                         nextKernelName(gpuModule, func), kBlockSize, blocks,
                                         mapping, b);
    Type element = combiner->op->getResult(0).getType();
    Type accType = accumulationType(element);
    auto constant = [&](int64_t value) { return arith::ConstantIndexOp::create(b, loc, value); };

    Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    Value lane = arith::RemUIOp::create(b, loc, thread, constant(kWarpSize));
    Value warp = arith::DivUIOp::create(b, loc, thread, constant(kWarpSize));
    Value row = warpRows ? Value(arith::AddIOp::create(
                               b, loc, arith::MulIOp::create(b, loc, block, constant(kWarpsPerBlock)),
                               warp))
                         : block;
    Value rowInRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, constant(rows));
    // Warps past the last row fold nothing but still take part in the shuffles.
    Value end = arith::SelectOp::create(b, loc, rowInRange, constant(length), constant(0));
    Value identity = arith::getIdentityValue(combiner->kind, accType, b, loc);
    auto rowIndices = affine::AffineDelinearizeIndexOp::create(
        b, loc, arith::SelectOp::create(b, loc, rowInRange, row, constant(0)),
        getAsIndexOpFoldResult(b.getContext(), rowExtents), /*hasOuterBound=*/true);

    // Each thread folds elements start, start + stride, ... of its row.
    auto loop = scf::ForOp::create(b, loc, warpRows ? lane : thread, end,
                                   constant(warpRows ? kWarpSize : kBlockSize), identity);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      auto reductionIndices = affine::AffineDelinearizeIndexOp::create(
          b, loc, loop.getInductionVar(),
          getAsIndexOpFoldResult(b.getContext(), reductionExtents), /*hasOuterBound=*/true);
      SmallVector<Value> loops;
      unsigned nextRow = 0, nextReduction = 0;
      for (utils::IteratorType iterator : iterators)
        loops.push_back(iterator == utils::IteratorType::parallel
                            ? rowIndices.getResult(nextRow++)
                            : reductionIndices.getResult(nextReduction++));
      Block &body = generic.getRegion().front();
      for (OpOperand *input : generic.getDpsInputOperands()) {
        Value buffer = mapping.lookupOrDefault(input->get());
        SmallVector<Value> indices =
            applyMap(b, loc, generic.getMatchingIndexingMap(input), loops);
        mapping.map(body.getArgument(input->getOperandNumber()),
                    memref::LoadOp::create(b, loc, buffer, indices));
      }
      for (Operation &op : body.without_terminator()) {
        if (&op == combiner->op)
          continue;
        if (auto index = dyn_cast<linalg::IndexOp>(op)) {
          mapping.map(index.getResult(), loops[index.getDim()]);
          continue;
        }
        b.clone(op, mapping);
      }
      Value value = convert(b, loc, mapping.lookupOrDefault(combiner->folded), accType);
      Value acc = arith::getReductionOp(combiner->kind, b, loc, loop.getRegionIterArg(0), value);
      scf::YieldOp::create(b, loc, acc);
    }
    Value acc = reduceAcrossLanes(b, loc, loop.getResult(0), combiner->kind, kWarpSize / 2);
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
      acc = reduceAcrossLanes(b, loc, read.getResult(0), combiner->kind, kWarpsPerBlock / 2);
      leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, thread, zero);
    }

    // The leader folds the row's total into the output's initial value.
    auto write = scf::IfOp::create(b, loc, leader, /*withElseRegion=*/false);
    b.setInsertionPointToStart(&write.getThenRegion().front());
    SmallVector<Value> loops;
    unsigned nextRow = 0;
    for (utils::IteratorType iterator : iterators)
      loops.push_back(iterator == utils::IteratorType::parallel ? rowIndices.getResult(nextRow++)
                                                                : zero);
    OpOperand *init = generic.getDpsInitOperand(0);
    Value output = mapping.lookupOrDefault(init->get());
    SmallVector<Value> indices = applyMap(b, loc, generic.getMatchingIndexingMap(init), loops);
    Value initial = convert(b, loc, memref::LoadOp::create(b, loc, output, indices), accType);
    Value total = arith::getReductionOp(combiner->kind, b, loc, initial, acc);
    memref::StoreOp::create(b, loc, convert(b, loc, total, element), output, indices);

    replaceByLaunch(generic, func, kernel, blocks, kBlockSize);
    return success();
  }
};

} // namespace
