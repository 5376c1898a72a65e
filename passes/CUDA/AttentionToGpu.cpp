//===- AttentionToGpu.cpp - the catfish-attention-to-gpu pass -------------===//
//
// Each attention region becomes one flash-attention kernel: a block of four warps takes up to
// 16 query rows of one (batch, head); key/value tiles of 32 rows pass through shared memory;
// each lane scores one key of the tile, the warp's shuffles give the row's running max and
// sum (online softmax), and each lane accumulates its own output columns. The score matrix
// never leaves registers.
//
//===----------------------------------------------------------------------===//
#include "GpuKernels.h"

#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHATTENTIONTOGPU
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

constexpr int64_t kWarpSize = 32;
constexpr int64_t kWarps = 4;
constexpr int64_t kBlockSize = kWarps * kWarpSize;
/// A lane per key of a tile.
constexpr int64_t kTileKeys = kWarpSize;
constexpr int64_t kMaxRowsPerWarp = 4;
/// Q, K and V tiles of this head dim fit in the 48 KiB of static shared memory.
constexpr int64_t kMaxHeadDim = 128;

/// What the kernel computes, all static.
struct Problem {
  int64_t batch, heads, kvHeads, queries, keys, dim, valueDim;
  float scale, softcap;
  bool causal;
  /// For each of [batch, heads, queries, keys]: the mask dim that indexes it, or -1 when the
  /// mask broadcasts along it (or there is no mask).
  std::array<int64_t, 4> maskDims = {-1, -1, -1, -1};
  int64_t rowsPerWarp;

  int64_t rowsPerBlock() const { return kWarps * rowsPerWarp; }
  int64_t queryBlocks() const { return (queries + rowsPerBlock() - 1) / rowsPerBlock(); }
  int64_t valueColumnsPerLane() const { return (valueDim + kWarpSize - 1) / kWarpSize; }
};

/// The function argument whose contents `tensor` is, or null.
BlockArgument argumentOf(Value tensor) {
  auto read = tensor ? tensor.getDefiningOp<bufferization::ToTensorOp>() : nullptr;
  return read ? dyn_cast<BlockArgument>(read.getBuffer()) : BlockArgument();
}

FailureOr<Problem> analyze(AttentionOp op) {
  auto shape = [](Value v) { return cast<RankedTensorType>(v.getType()).getShape(); };
  ArrayRef<int64_t> q = shape(op.getQuery()), k = shape(op.getKey()), v = shape(op.getValue());
  Problem p{q[0], q[1], k[1], q[2], k[2], q[3], v[3], op.getScale().convertToFloat(),
            op.getSoftcap().convertToFloat(), op.getIsCausal()};
  if (k[0] != p.batch || v[0] != p.batch || v[1] != p.kvHeads || v[2] != p.keys ||
      k[3] != p.dim)
    return op.emitOpError("Q, K and V shapes do not agree");
  if (p.kvHeads == 0 || p.heads % p.kvHeads != 0)
    return op.emitOpError() << "query heads (" << p.heads << ") must be a multiple of key heads ("
                            << p.kvHeads << ")";
  if (p.dim > kMaxHeadDim || p.valueDim > kMaxHeadDim)
    return op.emitOpError() << "the CUDA flash-attention kernel takes head dims up to "
                            << kMaxHeadDim << ", got " << p.dim << " (Q, K) and " << p.valueDim
                            << " (V)";
  for (Value value : {op.getQuery(), op.getKey(), op.getValue(), op.getOutput()}) {
    Type type = getElementTypeOrSelf(value);
    if (!type.isF32() && !type.isF16() && !type.isBF16())
      return op.emitOpError() << "the CUDA flash-attention kernel takes f32, f16 and bf16, got "
                              << type;
  }
  if (Value mask = op.getMask()) {
    ArrayRef<int64_t> m = shape(mask);
    Type type = getElementTypeOrSelf(mask);
    if (!type.isInteger(1) && !isa<FloatType>(type))
      return op.emitOpError() << "the attention mask must be boolean or float, got " << type;
    int64_t full[4] = {p.batch, p.heads, p.queries, p.keys};
    if (m.size() > 4)
      return op.emitOpError("the attention mask has more than 4 dims");
    for (auto [i, size] : llvm::enumerate(m)) {
      int64_t dim = 4 - static_cast<int64_t>(m.size()) + static_cast<int64_t>(i);
      if (size == full[dim] && size != 1)
        p.maskDims[dim] = static_cast<int64_t>(i);
      else if (size != 1)
        return op.emitOpError() << "the attention mask's dim " << i << " (" << size
                                << ") does not broadcast to " << full[dim];
    }
  }
  p.rowsPerWarp = std::clamp<int64_t>((p.queries + kWarps - 1) / kWarps, 1, kMaxRowsPerWarp);
  return p;
}

/// Builds the body of one flash-attention gpu.func.
class KernelBuilder {
public:
  KernelBuilder(ImplicitLocOpBuilder &b, const Problem &p) : b(b), p(p) {}

  void build(Value query, Value key, Value value, Value mask, Value output,
             gpu::GPUFuncOp kernel) {
    Type f32 = b.getF32Type();
    auto shared = [&](ArrayRef<int64_t> shape) {
      auto space = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
      return kernel.addWorkgroupAttribution(MemRefType::get(shape, f32, nullptr, space),
                                            b.getLoc());
    };
    // K rows padded by one element: lane j reads row j, so the lanes hit distinct banks.
    Value qTile = shared({p.rowsPerBlock(), p.dim});
    Value kTile = shared({kTileKeys, p.dim + 1});
    Value vTile = shared({kTileKeys, p.valueDim});

    Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    warp = arith::DivUIOp::create(b, thread, index(kWarpSize));
    lane = arith::RemUIOp::create(b, thread, index(kWarpSize));
    Value queryBlock = arith::RemUIOp::create(b, block, index(p.queryBlocks()));
    Value batchHead = arith::DivUIOp::create(b, block, index(p.queryBlocks()));
    head = arith::RemUIOp::create(b, batchHead, index(p.heads));
    batch = arith::DivUIOp::create(b, batchHead, index(p.heads));
    Value kvHead = arith::DivUIOp::create(b, head, index(p.heads / p.kvHeads));
    rowBase = arith::MulIOp::create(b, queryBlock, index(p.rowsPerBlock()));

    // The block's query rows, as f32; rows past the end read as zeros.
    loadTile(query, head, rowBase, p.queries, p.rowsPerBlock(), p.dim, thread, qTile);

    int64_t columns = p.valueColumnsPerLane();
    SmallVector<Value> init;
    for (int64_t r = 0; r < p.rowsPerWarp; ++r) {
      init.push_back(constant(-INFINITY)); // running max
      init.push_back(constant(0));         // running sum
      for (int64_t c = 0; c < columns; ++c)
        init.push_back(constant(0)); // output columns lane, lane + 32, ...
    }
    auto tiles = scf::ForOp::create(b, index(0), tileCount(), index(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(tiles.getBody());
      Value keyBase = arith::MulIOp::create(b, tiles.getInductionVar(), index(kTileKeys));
      loadTile(key, kvHead, keyBase, p.keys, kTileKeys, p.dim, thread, kTile);
      loadTile(value, kvHead, keyBase, p.keys, kTileKeys, p.valueDim, thread, vTile);
      gpu::BarrierOp::create(b);
      SmallVector<Value> state(tiles.getRegionIterArgs());
      SmallVector<Value> next;
      for (int64_t r = 0; r < p.rowsPerWarp; ++r) {
        ArrayRef<Value> row = ArrayRef<Value>(state).slice(r * (2 + columns), 2 + columns);
        llvm::append_range(next, updateRow(r, row, keyBase, qTile, kTile, vTile, mask));
      }
      // Everyone is done with the tiles before the next iteration overwrites them.
      gpu::BarrierOp::create(b);
      scf::YieldOp::create(b, next);
    }

    for (int64_t r = 0; r < p.rowsPerWarp; ++r) {
      Value row = rowOf(r);
      Value sum = tiles.getResult(r * (2 + columns) + 1);
      for (int64_t c = 0; c < columns; ++c) {
        Value column = arith::AddIOp::create(b, lane, index(c * kWarpSize));
        Value inside = arith::AndIOp::create(b, less(row, p.queries), less(column, p.valueDim));
        auto store = scf::IfOp::create(b, inside, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&store.getThenRegion().front());
        Value result =
            arith::DivFOp::create(b, tiles.getResult(r * (2 + columns) + 2 + c), sum);
        Type type = cast<MemRefType>(output.getType()).getElementType();
        memref::StoreOp::create(b, convert(result, type), output,
                                ValueRange{batch, head, row, column});
      }
    }
  }

private:
  ImplicitLocOpBuilder &b;
  const Problem &p;
  Value warp, lane, batch, head, rowBase;

  Value index(int64_t value) { return arith::ConstantIndexOp::create(b, value); }
  Value constant(double value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(static_cast<float>(value)));
  }
  Value less(Value a, int64_t bound) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, a, index(bound));
  }
  /// `a` clamped to [0, size): for loads whose value is then discarded.
  Value clamp(Value a, int64_t size) { return arith::MinUIOp::create(b, a, index(size - 1)); }
  Value convert(Value value, Type type) {
    if (value.getType() == type)
      return value;
    if (type.getIntOrFloatBitWidth() > value.getType().getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, type, value);
    return arith::TruncFOp::create(b, type, value);
  }
  /// The query row of this thread's warp's row `r`.
  Value rowOf(int64_t r) {
    Value inBlock = arith::AddIOp::create(
        b, arith::MulIOp::create(b, warp, index(p.rowsPerWarp)), index(r));
    return arith::AddIOp::create(b, rowBase, inBlock);
  }

  /// How many key tiles the block reads: with a causal mask, none past its last query row.
  Value tileCount() {
    int64_t all = (p.keys + kTileKeys - 1) / kTileKeys;
    if (!p.causal)
      return index(all);
    Value last = arith::MinUIOp::create(
        b, arith::AddIOp::create(b, rowBase, index(p.rowsPerBlock() - 1)), index(p.queries - 1));
    Value needed =
        arith::AddIOp::create(b, arith::DivUIOp::create(b, last, index(kTileKeys)), index(1));
    return arith::MinUIOp::create(b, needed, index(all));
  }

  /// rows [first, first + rows) of head `head` of `source` ([batch, heads, seq, width]) into
  /// `tile` as f32, the block's threads striding over the elements (consecutive threads on
  /// consecutive elements); rows at or past `size` read as zeros.
  void loadTile(Value source, Value sourceHead, Value first, int64_t size, int64_t rows,
                int64_t width, Value thread, Value tile) {
    auto loop = scf::ForOp::create(b, thread, index(rows * width), index(kBlockSize));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value element = loop.getInductionVar();
    Value r = arith::DivUIOp::create(b, element, index(width));
    Value c = arith::RemUIOp::create(b, element, index(width));
    Value row = arith::AddIOp::create(b, first, r);
    Value x = memref::LoadOp::create(b, source, ValueRange{batch, sourceHead, clamp(row, size), c});
    x = arith::SelectOp::create(b, less(row, size), convert(x, b.getF32Type()), constant(0));
    memref::StoreOp::create(b, x, tile, ValueRange{r, c});
  }

  /// The combination of `value` over the warp's lanes by `combine`.
  Value warpReduce(Value value, function_ref<Value(Value, Value)> combine) {
    for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
      Value other = gpu::ShuffleOp::create(b, value, offset, kWarpSize, gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = combine(value, other);
    }
    return value;
  }

  /// This lane's score for its key of the tile and query row `row`: scale * q.k, the mask,
  /// the causal mask, the softcap; -inf for keys past the end.
  Value score(Value row, Value tileRow, Value keyBase, Value qTile, Value kTile, Value mask) {
    auto dot = scf::ForOp::create(b, index(0), index(p.dim), index(1), ValueRange{constant(0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(dot.getBody());
      Value d = dot.getInductionVar();
      Value qd = memref::LoadOp::create(b, qTile, ValueRange{tileRow, d});
      Value kd = memref::LoadOp::create(b, kTile, ValueRange{lane, d});
      Value sum = math::FmaOp::create(b, qd, kd, dot.getRegionIterArgs()[0]);
      scf::YieldOp::create(b, sum);
    }
    Value s = arith::MulFOp::create(b, dot.getResult(0), constant(p.scale));
    Value keyIndex = arith::AddIOp::create(b, keyBase, lane);
    Value minusInf = constant(-INFINITY);
    if (mask) {
      Value full[4] = {batch, head, clamp(row, p.queries), clamp(keyIndex, p.keys)};
      auto type = cast<MemRefType>(mask.getType());
      SmallVector<Value> indices(type.getRank(), index(0));
      for (auto [dim, maskDim] : llvm::enumerate(p.maskDims))
        if (maskDim >= 0)
          indices[maskDim] = full[dim];
      Value m = memref::LoadOp::create(b, mask, indices);
      s = type.getElementType().isInteger(1)
              ? Value(arith::SelectOp::create(b, m, s, minusInf))
              : Value(arith::AddFOp::create(b, s, convert(m, b.getF32Type())));
    }
    if (p.causal) {
      Value visible = arith::CmpIOp::create(b, arith::CmpIPredicate::ule, keyIndex, row);
      s = arith::SelectOp::create(b, visible, s, minusInf);
    }
    if (p.softcap > 0) {
      Value cap = constant(p.softcap);
      s = arith::MulFOp::create(b, math::TanhOp::create(b, arith::DivFOp::create(b, s, cap)),
                                cap);
    }
    return arith::SelectOp::create(b, less(keyIndex, p.keys), s, minusInf);
  }

  /// One tile's online-softmax step for the warp's row `r`: `state` is its running max, sum
  /// and output columns; returns them updated.
  SmallVector<Value> updateRow(int64_t r, ArrayRef<Value> state, Value keyBase, Value qTile,
                               Value kTile, Value vTile, Value mask) {
    Value tileRow = arith::AddIOp::create(
        b, arith::MulIOp::create(b, warp, index(p.rowsPerWarp)), index(r));
    Value row = arith::AddIOp::create(b, rowBase, tileRow);
    Value s = score(row, tileRow, keyBase, qTile, kTile, mask);
    Value runningMax = state[0];
    Value newMax = arith::MaximumFOp::create(
        b, runningMax,
        warpReduce(s, [&](Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }));
    // While every score so far is -inf, subtract 0: exp gives 0, not exp(-inf + inf) = NaN. A
    // row that stays so ends as 0 / 0 = NaN, as softmax over -inf is.
    Value nothingYet =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, constant(-INFINITY));
    Value shift = arith::SelectOp::create(b, nothingYet, constant(0), newMax);
    Value weight = math::ExpOp::create(b, arith::SubFOp::create(b, s, shift));
    Value rescale = math::ExpOp::create(b, arith::SubFOp::create(b, runningMax, shift));
    Value tileSum =
        warpReduce(weight, [&](Value x, Value y) { return arith::AddFOp::create(b, x, y); });
    Value sum = math::FmaOp::create(b, state[1], rescale, tileSum);

    SmallVector<Value> columns;
    for (Value column : state.drop_front(2))
      columns.push_back(arith::MulFOp::create(b, column, rescale));
    // out[c] += sum over the tile's keys j of weight_j * V[j][c], weight_j from lane j.
    auto keys = scf::ForOp::create(b, index(0), index(kTileKeys), index(1), columns);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(keys.getBody());
      Value j = keys.getInductionVar();
      Value source = arith::IndexCastOp::create(b, b.getI32Type(), j);
      Value width = arith::ConstantIntOp::create(b, b.getI32Type(), kWarpSize);
      Value wj = gpu::ShuffleOp::create(b, weight, source, width, gpu::ShuffleMode::IDX)
                     .getShuffleResult();
      SmallVector<Value> updated;
      for (auto [c, acc] : llvm::enumerate(keys.getRegionIterArgs())) {
        Value column = arith::AddIOp::create(b, lane, index(c * kWarpSize));
        if (p.valueDim % kWarpSize != 0)
          column = clamp(column, p.valueDim);
        Value vj = memref::LoadOp::create(b, vTile, ValueRange{j, column});
        updated.push_back(math::FmaOp::create(b, wj, vj, acc));
      }
      scf::YieldOp::create(b, updated);
    }
    SmallVector<Value> result = {newMax, sum};
    llvm::append_range(result, keys.getResults());
    return result;
  }
};

/// Replaces the body of attention kernel `func` by a launch of its flash-attention gpu.func.
LogicalResult lowerAttention(func::FuncOp func, gpu::GPUModuleOp gpuModule) {
  SmallVector<AttentionOp> ops(func.getOps<AttentionOp>());
  if (ops.size() != 1)
    return func.emitError("an attention region must hold exactly one catfish.attention");
  AttentionOp op = ops.front();
  FailureOr<Problem> problem = analyze(op);
  if (failed(problem))
    return failure();
  SmallVector<Value> operands = {op.getQuery(), op.getKey(), op.getValue()};
  if (op.getMask())
    operands.push_back(op.getMask());
  SmallVector<BlockArgument> arguments;
  for (Value operand : operands) {
    BlockArgument argument = argumentOf(operand);
    if (!argument)
      return op.emitOpError("an attention operand must be an input of its region");
    arguments.push_back(argument);
  }
  bufferization::MaterializeInDestinationOp store;
  if (op->hasOneUse())
    store = dyn_cast<bufferization::MaterializeInDestinationOp>(*op->getUsers().begin());
  auto destination = store ? dyn_cast<BlockArgument>(store.getDest()) : BlockArgument();
  if (!destination)
    return op.emitOpError("the attention result must be the region's output");
  arguments.push_back(destination);

  int64_t blocks = problem->batch * problem->heads * problem->queryBlocks();
  IRMapping mapping;
  OpBuilder builder(op);
  gpu::GPUFuncOp kernel = createKernel(func, op, gpuModule, nextKernelName(gpuModule, func),
                                       kBlockSize, blocks, mapping, builder);
  ImplicitLocOpBuilder b(op.getLoc(), builder);
  SmallVector<Value> buffers;
  for (BlockArgument argument : arguments)
    buffers.push_back(mapping.lookup(argument));
  KernelBuilder(b, *problem)
      .build(buffers[0], buffers[1], buffers[2], op.getMask() ? buffers[3] : Value(),
             buffers.back(), kernel);

  store.erase();
  replaceByLaunch(op, func, kernel, blocks, kBlockSize);
  for (Operation &dead : llvm::make_early_inc_range(llvm::reverse(func.getBody().front())))
    if (isa<bufferization::ToTensorOp>(dead) && dead.use_empty())
      dead.erase();
  return success();
}

struct AttentionToGpu final : catfish::impl::CatfishAttentionToGpuBase<AttentionToGpu> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> attentions;
    for (auto func : module.getOps<func::FuncOp>())
      if (auto kind = func->getAttrOfType<FusionKindAttr>("catfish.kind");
          kind && kind.getValue() == FusionKind::attention)
        attentions.push_back(func);
    if (attentions.empty())
      return;
    gpu::GPUModuleOp gpuModule = getOrCreateGpuModule(module);
    for (func::FuncOp func : attentions)
      if (failed(lowerAttention(func, gpuModule)))
        return signalPassFailure();
  }
};

} // namespace
