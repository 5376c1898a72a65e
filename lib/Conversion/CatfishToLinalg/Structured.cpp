//===- Structured.cpp - matmul, convolution, pooling -> linalg.generic ---===//
//
// Contractions and windows are linalg.generic ops with reduction iterators; broadcasting of
// batch dims, groups, strides and dilations are all in the indexing maps, so the code
// generator's tiling and vectorization see one structured op per kernel.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

Value widenTo(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  if (isa<FloatType>(to))
    return isa<FloatType>(from) ? Value(arith::ExtFOp::create(b, loc, to, v))
                                : Value(arith::SIToFPOp::create(b, loc, to, v));
  return arith::ExtSIOp::create(b, loc, to, v);
}

/// The generic contraction for ONNX MatMul semantics (numpy batch broadcasting, 1-D
/// operands promoted and their dim dropped).
struct MatMulLowering final : LoweringPattern<MatMulOp> {
  using LoweringPattern<MatMulOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(MatMulOp op, PatternRewriter &rewriter) const override {
    auto lhs = cast<RankedTensorType>(op.getLhs().getType());
    auto rhs = cast<RankedTensorType>(op.getRhs().getType());
    RankedTensorType result = op.getType();
    int64_t rank = result.getRank();
    bool hasM = lhs.getRank() >= 2, hasN = rhs.getRank() >= 2;
    int64_t batch = rank - hasM - hasN;
    MLIRContext *context = rewriter.getContext();
    AffineExpr k = getAffineDimExpr(rank, context);
    auto operandMap = [&](RankedTensorType type, bool isLhs) {
      SmallVector<AffineExpr> exprs;
      if (type.getRank() == 1) {
        exprs.push_back(k);
      } else {
        int64_t own = type.getRank() - 2;
        for (int64_t i = 0; i < own; ++i) {
          int64_t dim = batch - own + i;
          exprs.push_back(type.getDimSize(i) == 1 && result.getDimSize(dim) != 1
                              ? getAffineConstantExpr(0, context)
                              : getAffineDimExpr(dim, context));
        }
        if (isLhs) {
          exprs.push_back(getAffineDimExpr(batch, context));
          exprs.push_back(k);
        } else {
          exprs.push_back(k);
          exprs.push_back(getAffineDimExpr(rank - 1, context));
        }
      }
      return AffineMap::get(rank + 1, 0, exprs, context);
    };
    SmallVector<AffineMap> maps = {
        operandMap(lhs, true), operandMap(rhs, false),
        AffineMap::getMultiDimIdentityMap(rank + 1, context).getMajorSubMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Location loc = op.getLoc();
    Type element = result.getElementType();
    Value init =
        buildFilled(rewriter, loc, result.getShape(), scalarConstant(rewriter, loc, element, 0));
    auto generic =
        linalg::GenericOp::create(rewriter, loc, result, ValueRange{op.getLhs(), op.getRhs()}, init,
                                  maps, iterators, [&](OpBuilder &b, Location l, ValueRange a) {
                                    Value product = mulScalar(b, l, widenTo(b, l, a[0], element),
                                                              widenTo(b, l, a[1], element));
                                    linalg::YieldOp::create(b, l, addScalar(b, l, a[2], product));
                                  });
    return SmallVector<Value>{generic.getResult(0)};
  }
};

/// The packed contraction on a grid [..., M, N / P, P] of the result (loops: batch..., m,
/// panel, column, k), so every indexing map stays a projected permutation and the last n
/// loop walks the panel's contiguous columns; the grid collapses to [..., M, N] for free.
struct PackedMatMulLowering final : LoweringPattern<PackedMatMulOp> {
  using LoweringPattern<PackedMatMulOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(PackedMatMulOp op, PatternRewriter &rewriter) const override {
    auto packed = cast<RankedTensorType>(op.getPacked().getType());
    auto result = cast<RankedTensorType>(op.getType());
    if (!result.hasStaticShape() || !packed.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "packed_matmul needs static shapes");
    int64_t rank = result.getRank(), batch = rank - 2;
    MLIRContext *context = rewriter.getContext();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    // Loops: batch..., then m, panel, column and k.
    int64_t m = batch, panel = batch + 1, column = batch + 2, k = batch + 3;
    SmallVector<AffineExpr> lhsExprs, gridExprs;
    for (int64_t i = 0; i < batch; ++i) {
      lhsExprs.push_back(d(i));
      gridExprs.push_back(d(i));
    }
    lhsExprs.append({d(m), d(k)});
    gridExprs.append({d(m), d(panel), d(column)});
    SmallVector<AffineMap> maps = {AffineMap::get(k + 1, 0, lhsExprs, context),
                                   AffineMap::get(k + 1, 0, {d(panel), d(k), d(column)}, context),
                                   AffineMap::get(k + 1, 0, gridExprs, context)};
    SmallVector<int64_t> gridShape(result.getShape().drop_back());
    gridShape.append({packed.getDimSize(0), packed.getDimSize(2)});
    Type element = result.getElementType();
    auto gridType = RankedTensorType::get(gridShape, element);
    SmallVector<utils::IteratorType> iterators(k, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Location loc = op.getLoc();
    Value init = buildFilled(rewriter, loc, gridShape, scalarConstant(rewriter, loc, element, 0));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, gridType, ValueRange{op.getLhs(), op.getPacked()}, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(b, l, addScalar(b, l, a[2], mulScalar(b, l, a[0], a[1])));
        });
    SmallVector<ReassociationIndices> groups;
    for (int64_t i = 0; i < rank - 1; ++i)
      groups.push_back({i});
    groups.push_back({rank - 1, rank});
    Value collapsed =
        tensor::CollapseShapeOp::create(rewriter, loc, result, generic.getResult(0), groups);
    return SmallVector<Value>{collapsed};
  }
};

/// Pads the spatial dims (2..) of an NC... tensor by `low` / `high` with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                 ArrayRef<int64_t> high, Value value) {
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<OpFoldResult> lo(2, b.getIndexAttr(0)), hi(2, b.getIndexAttr(0));
  for (size_t i = 0; i < low.size(); ++i) {
    shape[i + 2] += low[i] + high[i];
    lo.push_back(b.getIndexAttr(low[i]));
    hi.push_back(b.getIndexAttr(high[i]));
  }
  auto padded = RankedTensorType::get(shape, type.getElementType());
  return tensor::PadOp::create(b, loc, padded, input, lo, hi, value);
}

/// High padding so that every window of the output reads inside the padded input (ceil mode
/// can place the last window past the end padding).
SmallVector<int64_t> effectiveHighPads(RankedTensorType input, RankedTensorType output,
                                       ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                                       ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations) {
  size_t spatial = kernel.size();
  SmallVector<int64_t> high;
  for (size_t i = 0; i < spatial; ++i) {
    int64_t needed = (output.getDimSize(i + 2) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] +
                     1 - input.getDimSize(i + 2) - pads[i];
    high.push_back(std::max(pads[i + spatial], needed));
  }
  return high;
}

/// A convolution's accumulator start value of `type`: `bias` read through `biasMap`, or zeros
/// without a bias.
Value accumulatorInit(OpBuilder &b, Location loc, RankedTensorType type, Value bias,
                      AffineMap biasMap) {
  if (!bias)
    return buildFilled(b, loc, type.getShape(), scalarConstant(b, loc, type.getElementType(), 0));
  return buildParallelGeneric(b, loc, type, bias, biasMap,
                              [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

/// The output grid a convolution is computed on: its output dims, the innermost widened (by
/// zero padding the input further) to whole vectors of the micro-kernel, 16 or else 8 columns
/// where that wastes at most a quarter (56 becomes 64, 14 becomes 16, 7 becomes 8).
SmallVector<int64_t> vectorFriendlyGrid(ArrayRef<int64_t> outputDims) {
  SmallVector<int64_t> grid(outputDims);
  int64_t inner = grid.back();
  for (int64_t multiple : {16, 8}) {
    int64_t widened = llvm::alignTo(inner, multiple);
    if (4 * (widened - inner) <= inner) {
      grid.back() = widened;
      break;
    }
  }
  return grid;
}

/// The operand a convolution without groups contracts its weights with, on the output grid
/// `grid` (the output dims, or their vectorFriendlyGrid): the input padded (the innermost dim
/// further where the grid is wider, so its extra columns read zeros) and, unless the
/// convolution is pointwise with unit strides, its windows copied out (im2col), kept in
/// [N, C, K..., O...] order so no reshape separates the copy from the contraction and both
/// fuse into each task.
struct ConvColumns {
  Value value;
  bool pointwise;

  /// The indexing map of the operand, or of a view of it whose output dims are `outputs`
  /// dims (one where they are flattened), in a contraction whose loops `n`, `c`, `k` (the
  /// first of `spatial` kernel dims) and `o` (the first output dim) are dims of `numDims`.
  AffineMap map(int64_t numDims, int64_t n, int64_t c, int64_t k, int64_t o, int64_t spatial,
                int64_t outputs) const {
    MLIRContext *context = value.getContext();
    SmallVector<AffineExpr> exprs = {getAffineDimExpr(n, context), getAffineDimExpr(c, context)};
    for (int64_t i = 0; !pointwise && i < spatial; ++i)
      exprs.push_back(getAffineDimExpr(k + i, context));
    for (int64_t i = 0; i < outputs; ++i)
      exprs.push_back(getAffineDimExpr(o + i, context));
    return AffineMap::get(numDims, 0, exprs, context);
  }
};
ConvColumns convColumns(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> kernel,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                        ArrayRef<int64_t> dilations, ArrayRef<int64_t> grid,
                        int64_t outputColumns) {
  MLIRContext *context = b.getContext();
  int64_t spatial = kernel.size();
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  SmallVector<int64_t> high(pads.drop_front(spatial));
  high.back() += (grid.back() - outputColumns) * strides.back();
  Value padded = padSpatial(b, loc, input, pads.take_front(spatial), high,
                            scalarConstant(b, loc, element, 0));
  bool pointwise = llvm::all_of(kernel, [](int64_t k) { return k == 1; }) &&
                   llvm::all_of(strides, [](int64_t s) { return s == 1; });
  if (pointwise)
    return {padded, true};
  auto paddedType = cast<RankedTensorType>(padded.getType());
  // cols[n, c, k..., o...] = padded[n, c, o * stride + k * dilation].
  auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
  SmallVector<int64_t> shape = {paddedType.getDimSize(0), paddedType.getDimSize(1)};
  llvm::append_range(shape, kernel);
  llvm::append_range(shape, grid);
  SmallVector<AffineExpr> read = {d(0), d(1)};
  for (int64_t i = 0; i < spatial; ++i)
    read.push_back(d(2 + spatial + i) * strides[i] + d(2 + i) * dilations[i]);
  auto colsType = RankedTensorType::get(shape, element);
  Value cols = buildParallelGeneric(b, loc, colsType, padded,
                                    AffineMap::get(colsType.getRank(), 0, read, context),
                                    [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  return {cols, false};
}

/// A convolution without groups as a contraction the CPU micro-kernels handle:
/// out[n, f, o...] = bias[f] + sum over c, k... of w[f, c, k...] * cols[n, c, k..., o...]
/// (convColumns), the output channels its rows and the output grid's innermost dim its
/// columns, widened to whole vectors (vectorFriendlyGrid) and cut off at the end.
Value lowerConvAsContraction(OpBuilder &b, Location loc, ConvOp op) {
  MLIRContext *context = b.getContext();
  auto weight = cast<RankedTensorType>(op.getWeight().getType());
  RankedTensorType result = op.getType();
  Type element = result.getElementType();
  int64_t rank = result.getRank(), spatial = rank - 2;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };

  SmallVector<int64_t> grid = vectorFriendlyGrid(result.getShape().drop_front(2));
  ConvColumns cols = convColumns(b, loc, op.getInput(), weight.getShape().drop_front(2),
                                 op.getStrides(), op.getPads(), op.getDilations(), grid,
                                 result.getShape().back());

  // Contraction dims: (n, f, o..., c, k...).
  int64_t numDims = 3 + 2 * spatial;
  int64_t oDim = 2, cDim = 2 + spatial, kDim = 3 + spatial;
  SmallVector<AffineExpr> wExprs = {d(1), d(cDim)};
  SmallVector<AffineExpr> outExprs = {d(0), d(1)};
  for (int64_t i = 0; i < spatial; ++i) {
    wExprs.push_back(d(kDim + i));
    outExprs.push_back(d(oDim + i));
  }
  SmallVector<int64_t> gridShape = {result.getDimSize(0), result.getDimSize(1)};
  llvm::append_range(gridShape, grid);
  auto gridType = RankedTensorType::get(gridShape, element);
  Value init = accumulatorInit(b, loc, gridType, op.getBias(),
                               AffineMap::get(rank, 0, {d(1)}, context));
  SmallVector<AffineMap> maps = {AffineMap::get(numDims, 0, wExprs, context),
                                 cols.map(numDims, 0, cDim, kDim, oDim, spatial, spatial),
                                 AffineMap::get(numDims, 0, outExprs, context)};
  SmallVector<utils::IteratorType> iterators(2 + spatial, utils::IteratorType::parallel);
  iterators.append(1 + spatial, utils::IteratorType::reduction);
  auto generic =
      linalg::GenericOp::create(b, loc, gridType, ValueRange{op.getWeight(), cols.value}, init,
                                maps, iterators, [&](OpBuilder &nb, Location l, ValueRange a) {
                                  Value product =
                                      mulScalar(nb, l, widenTo(nb, l, a[0], element), a[1]);
                                  linalg::YieldOp::create(nb, l, addScalar(nb, l, a[2], product));
                                });
  if (gridShape == result.getShape())
    return generic.getResult(0);
  return extractSlice(b, loc, result, generic.getResult(0), SmallVector<int64_t>(rank, 0),
                      SmallVector<int64_t>(rank, 1));
}

/// Output rows narrower than this are flattened with the dims before them into the rows of
/// a packed convolution's contraction: a 7x7 output is 49 rows (six whole 8-row register
/// blocks and one row), where 7 columns would be blocks of 4, 2 and 1 rows.
constexpr int64_t kMinUnflattenedRow = 16;

/// A convolution by packed weights [F / P, C, k..., P] as a contraction whose columns are the
/// output channels and whose rows are the output positions: grid[n, o..., f / P, f % P] =
/// bias[f] + sum over c, k... of cols[n, c, k..., o...] * packed[f / P, c, k..., f % P], cols
/// being convColumns' operand. Output rows narrower than kMinUnflattenedRow are flattened
/// with the other output dims into one (cols viewed as [n, c, k..., positions]). A second
/// loop writes the result [N, F, O...] from the grid; an epilogue (activation, residual add)
/// fuses into it.
struct PackedConvLowering final : LoweringPattern<PackedConvOp> {
  using LoweringPattern<PackedConvOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(PackedConvOp op, PatternRewriter &rewriter) const override {
    auto packed = cast<RankedTensorType>(op.getPacked().getType());
    RankedTensorType result = op.getType();
    if (!result.hasStaticShape() || !packed.hasStaticShape() ||
        !cast<RankedTensorType>(op.getInput().getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "packed_conv needs static shapes");
    MLIRContext *context = rewriter.getContext();
    Location loc = op.getLoc();
    Type element = result.getElementType();
    int64_t rank = result.getRank(), spatial = rank - 2;
    int64_t panels = packed.getDimSize(0), panel = packed.getDimSize(spatial + 2);
    ArrayRef<int64_t> outputDims = result.getShape().drop_front(2);
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };

    ConvColumns cols =
        convColumns(rewriter, loc, op.getInput(), packed.getShape().slice(2, spatial),
                    op.getStrides(), op.getPads(), op.getDilations(), outputDims,
                    outputDims.back());
    SmallVector<int64_t> rows(outputDims);
    Value lhs = cols.value;
    bool flattened = outputDims.back() < kMinUnflattenedRow && spatial > 1;
    if (flattened) {
      auto colsType = cast<RankedTensorType>(lhs.getType());
      int64_t firstOutput = colsType.getRank() - spatial;
      SmallVector<ReassociationIndices> flatten;
      for (int64_t i = 0; i < firstOutput; ++i)
        flatten.push_back({i});
      flatten.emplace_back();
      for (int64_t i = 0; i < spatial; ++i)
        flatten.back().push_back(firstOutput + i);
      rows = {ShapedType::getNumElements(outputDims)};
      SmallVector<int64_t> flatShape(colsType.getShape().take_front(firstOutput));
      flatShape.push_back(rows.front());
      lhs = tensor::CollapseShapeOp::create(
          rewriter, loc, RankedTensorType::get(flatShape, element), lhs, flatten);
    }
    int64_t numRows = rows.size();

    // Contraction dims: (n, rows..., fp, fc, c, k...).
    int64_t fpDim = 1 + numRows, fcDim = fpDim + 1, cDim = fcDim + 1, kDim = cDim + 1;
    int64_t numDims = kDim + spatial;
    SmallVector<AffineExpr> packedExprs = {d(fpDim), d(cDim)};
    for (int64_t i = 0; i < spatial; ++i)
      packedExprs.push_back(d(kDim + i));
    SmallVector<AffineExpr> gridExprs = {d(0)};
    for (int64_t i = 0; i < numRows; ++i)
      gridExprs.push_back(d(1 + i));
    packedExprs.push_back(d(fcDim));
    gridExprs.append({d(fpDim), d(fcDim)});
    SmallVector<int64_t> gridShape = {result.getDimSize(0)};
    llvm::append_range(gridShape, rows);
    gridShape.append({panels, panel});
    auto gridType = RankedTensorType::get(gridShape, element);
    Value init;
    if (Value bias = op.getBias()) {
      Value panelled = reshapeTo(rewriter, loc, bias,
                                 RankedTensorType::get({panels, panel}, element));
      init = accumulatorInit(rewriter, loc, gridType, panelled,
                             AffineMap::get(fcDim + 1, 0, {d(fpDim), d(fcDim)}, context));
    } else {
      init = accumulatorInit(rewriter, loc, gridType, Value(), AffineMap());
    }
    SmallVector<AffineMap> maps = {cols.map(numDims, 0, cDim, kDim, 1, spatial, numRows),
                                   AffineMap::get(numDims, 0, packedExprs, context),
                                   AffineMap::get(numDims, 0, gridExprs, context)};
    SmallVector<utils::IteratorType> iterators(fcDim + 1, utils::IteratorType::parallel);
    iterators.append(1 + spatial, utils::IteratorType::reduction);
    auto contraction = linalg::GenericOp::create(
        rewriter, loc, gridType, ValueRange{lhs, op.getPacked()}, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(b, l, addScalar(b, l, a[2], mulScalar(b, l, a[0], a[1])));
        });

    // out[n, f, o...] = grid[n, rows..., f floordiv P, f mod P], the rows being o... or their
    // row-major position.
    SmallVector<AffineExpr> read = {d(0)};
    if (flattened) {
      AffineExpr position = getAffineConstantExpr(0, context);
      for (int64_t i = 0; i < spatial; ++i)
        position = position * outputDims[i] + d(2 + i);
      read.push_back(position);
    } else {
      for (int64_t i = 0; i < spatial; ++i)
        read.push_back(d(2 + i));
    }
    read.append({d(1).floorDiv(panel), d(1) % panel});
    Value out = buildParallelGeneric(rewriter, loc, result, contraction.getResult(0),
                                     AffineMap::get(rank, 0, read, context),
                                     [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    return SmallVector<Value>{out};
  }
};

/// RotaryEmbedding: each output element of the first rotary_dim features of a head is
/// cos * x1 - sin * x2 (the first of its pair) or sin * x1 + cos * x2 (the second), the pair
/// being adjacent (interleaved) or half the rotary dim apart; the other features pass through.
/// The input is [batch, heads, seq, head] or [batch, seq, heads * head].
struct RotaryEmbeddingLowering final : LoweringPattern<RotaryEmbeddingOp> {
  using LoweringPattern<RotaryEmbeddingOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(RotaryEmbeddingOp op,
                                      PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank != 3 && rank != 4)
      return rewriter.notifyMatchFailure(op, "rotary input must be 3-D or 4-D");
    int64_t headSize = rank == 4 ? type.getDimSize(3) : 0;
    if (rank == 3) {
      if (op.getNumHeads() <= 0 || type.getDimSize(2) % op.getNumHeads() != 0)
        return rewriter.notifyMatchFailure(op, "3-D rotary input needs num_heads");
      headSize = type.getDimSize(2) / op.getNumHeads();
    }
    int64_t rotary = op.getRotaryDim() > 0 ? op.getRotaryDim() : headSize;
    int64_t half = rotary / 2;
    bool interleaved = op.getInterleaved();
    Value x = op.getInput(), cosCache = op.getCosCache(), sinCache = op.getSinCache(),
          positions = op.getPositionIds();
    Type element = type.getElementType();
    Value result = buildParallelGeneric(
        rewriter, op.getLoc(), type, {}, {}, [&](OpBuilder &b, Location l, ValueRange) -> Value {
          auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
          auto cmp = [&](arith::CmpIPredicate p, Value a, Value c) -> Value {
            return arith::CmpIOp::create(b, l, p, a, c);
          };
          SmallVector<Value> loops;
          for (int64_t i = 0; i < rank; ++i)
            loops.push_back(linalg::IndexOp::create(b, l, i));
          Value batch = loops[0], seq = rank == 4 ? loops[2] : loops[1];
          Value last = loops[rank - 1];
          Value d = rank == 4 ? last : arith::RemUIOp::create(b, l, last, index(headSize));
          Value headStart = arith::SubIOp::create(b, l, last, d);
          // Position in the pair (second?) and the pair's index into the caches.
          Value second, pair;
          if (interleaved) {
            second =
                cmp(arith::CmpIPredicate::eq, arith::RemUIOp::create(b, l, d, index(2)), index(1));
            pair = arith::DivUIOp::create(b, l, d, index(2));
          } else {
            second = cmp(arith::CmpIPredicate::uge, d, index(half));
            pair = arith::SelectOp::create(b, l, second,
                                           arith::SubIOp::create(b, l, d, index(half)), d);
          }
          Value rotated = cmp(arith::CmpIPredicate::ult, d, index(rotary));
          // Clamp so that the pass-through features read in-bounds cache entries.
          pair = arith::MinUIOp::create(b, l, pair, index(std::max<int64_t>(half - 1, 0)));
          Value firstD = interleaved ? arith::MulIOp::create(b, l, pair, index(2)) : pair;
          Value secondD = arith::AddIOp::create(b, l, firstD, index(interleaved ? 1 : half));
          auto read = [&](Value feature) -> Value {
            SmallVector<Value> at(loops);
            at[rank - 1] = arith::AddIOp::create(b, l, headStart, feature);
            return tensor::ExtractOp::create(b, l, x, at);
          };
          SmallVector<Value> cacheAt = {batch, seq};
          if (positions) {
            Value p = tensor::ExtractOp::create(b, l, positions, ValueRange{batch, seq});
            cacheAt = {arith::IndexCastOp::create(b, l, b.getIndexType(), p)};
          }
          cacheAt.push_back(pair);
          Value cos = tensor::ExtractOp::create(b, l, cosCache, cacheAt);
          Value sin = tensor::ExtractOp::create(b, l, sinCache, cacheAt);
          Value x1 = read(firstD), x2 = read(secondD);
          Value real = arith::SubFOp::create(b, l, arith::MulFOp::create(b, l, cos, x1),
                                             arith::MulFOp::create(b, l, sin, x2));
          Value imag = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, sin, x1),
                                             arith::MulFOp::create(b, l, cos, x2));
          Value out = arith::SelectOp::create(b, l, second, imag, real);
          Value self = tensor::ExtractOp::create(b, l, x, loops);
          return convertScalar(b, l, arith::SelectOp::create(b, l, rotated, out, self), element);
        });
    return SmallVector<Value>{result};
  }
};

/// ConvTranspose as a convolution: the input with stride - 1 zeros between its elements,
/// padded by the dilated kernel extent - 1 - pads (cropped where that is negative), convolved
/// at stride 1 with the spatially flipped kernel whose channel dims are swapped per group.
struct ConvTransposeLowering final : LoweringPattern<ConvTransposeOp> {
  using LoweringPattern<ConvTransposeOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ConvTransposeOp op,
                                      PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto weight = cast<RankedTensorType>(op.getWeight().getType());
    int64_t spatial = input.getRank() - 2;
    int64_t groups = static_cast<int64_t>(op.getGroups());
    int64_t c = input.getDimSize(1), cg = c / groups, mg = weight.getDimSize(1);
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(), pads = op.getPads(),
                      outPad = op.getOutputPadding();
    Location loc = op.getLoc();
    Type element = input.getElementType();

    SmallVector<int64_t> shape(input.getShape().take_front(2)),
        offsets = {0, 0}, steps = {1, 1}, cropOffsets = {0, 0},
        cropSizes(input.getShape().take_front(2));
    bool crop = false;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t extent = (weight.getDimSize(i + 2) - 1) * dilations[i] + 1;
      int64_t lo = extent - 1 - pads[i];
      int64_t hi = extent - 1 - pads[i + spatial] + outPad[i];
      int64_t dilated = (input.getDimSize(i + 2) - 1) * strides[i] + 1;
      shape.push_back(dilated + std::max<int64_t>(lo, 0) + std::max<int64_t>(hi, 0));
      offsets.push_back(std::max<int64_t>(lo, 0));
      steps.push_back(strides[i]);
      cropOffsets.push_back(std::max<int64_t>(-lo, 0));
      cropSizes.push_back(dilated + lo + hi);
      crop |= lo < 0 || hi < 0;
    }
    Value zeros = buildFilled(rewriter, loc, shape, scalarConstant(rewriter, loc, element, 0));
    Value spread = tensor::InsertSliceOp::create(
        rewriter, loc, op.getInput(), zeros, ValueRange{}, ValueRange{}, ValueRange{},
        rewriter.getDenseI64ArrayAttr(offsets), rewriter.getDenseI64ArrayAttr(input.getShape()),
        rewriter.getDenseI64ArrayAttr(steps));
    if (crop)
      spread = extractSlice(rewriter, loc, RankedTensorType::get(cropSizes, element), spread,
                            cropOffsets, SmallVector<int64_t>(input.getRank(), 1));

    // Flipped weight [M, C/G, k...]: element [m, c, k] is weight[g * C/G + c, m % M/G, K-1-k]
    // with g = m / (M/G).
    SmallVector<int64_t> flippedShape = {mg * groups, cg};
    llvm::append_range(flippedShape, weight.getShape().drop_front(2));
    Value w = op.getWeight();
    Value flipped = buildParallelGeneric(
        rewriter, loc, RankedTensorType::get(flippedShape, weight.getElementType()), {}, {},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
          Value m = linalg::IndexOp::create(b, l, 0);
          Value group = arith::DivUIOp::create(b, l, m, index(mg));
          Value at0 = arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, group, index(cg)),
                                            linalg::IndexOp::create(b, l, 1));
          SmallVector<Value> at = {at0, arith::RemUIOp::create(b, l, m, index(mg))};
          for (int64_t i = 0; i < spatial; ++i)
            at.push_back(arith::SubIOp::create(b, l, index(weight.getDimSize(i + 2) - 1),
                                               linalg::IndexOp::create(b, l, i + 2)));
          return tensor::ExtractOp::create(b, l, w, at);
        });
    SmallVector<int64_t> ones(spatial, 1), zeroPads(2 * spatial, 0);
    Value conv =
        ConvOp::create(rewriter, loc, op.getType(), spread, flipped, op.getBias(),
                       rewriter.getDenseI64ArrayAttr(ones), rewriter.getDenseI64ArrayAttr(zeroPads),
                       rewriter.getDenseI64ArrayAttr(dilations), op.getGroupsAttr());
    return SmallVector<Value>{conv};
  }
};

struct ConvLowering final : LoweringPattern<ConvOp> {
  using LoweringPattern<ConvOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ConvOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto weight = cast<RankedTensorType>(op.getWeight().getType());
    RankedTensorType result = op.getType();
    int64_t spatial = input.getRank() - 2;
    int64_t groups = static_cast<int64_t>(op.getGroups());
    int64_t n = input.getDimSize(0), c = input.getDimSize(1), f = weight.getDimSize(0);
    int64_t cg = c / groups, fg = f / groups;
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(), pads = op.getPads();
    Location loc = op.getLoc();
    Type element = result.getElementType();
    MLIRContext *context = rewriter.getContext();

    if (groups == 1)
      return SmallVector<Value>{lowerConvAsContraction(rewriter, loc, op)};
    Value padded = padSpatial(rewriter, loc, op.getInput(), pads.take_front(spatial),
                              pads.drop_front(spatial), scalarConstant(rewriter, loc, element, 0));
    auto paddedType = cast<RankedTensorType>(padded.getType());

    // Expanded views: input [N, G, C/G, in...], weight [G, F/G, C/G, k...],
    // output [N, G, F/G, out...].
    SmallVector<int64_t> inShape = {n, groups, cg};
    SmallVector<int64_t> wShape = {groups, fg, cg};
    SmallVector<int64_t> outShape = {n, groups, fg};
    for (int64_t i = 0; i < spatial; ++i) {
      inShape.push_back(paddedType.getDimSize(i + 2));
      wShape.push_back(weight.getDimSize(i + 2));
      outShape.push_back(result.getDimSize(i + 2));
    }
    Value in = reshapeTo(rewriter, loc, padded, RankedTensorType::get(inShape, element));
    Value w = reshapeTo(rewriter, loc, op.getWeight(),
                        RankedTensorType::get(wShape, weight.getElementType()));
    auto outType = RankedTensorType::get(outShape, element);

    // Iteration: (n, g, f', o..., c', k...).
    int64_t numDims = 3 + 2 * spatial + 1;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    int64_t cDim = 3 + spatial, kDim = 4 + spatial;
    SmallVector<AffineExpr> inExprs = {d(0), d(1), d(cDim)};
    SmallVector<AffineExpr> wExprs = {d(1), d(2), d(cDim)};
    SmallVector<AffineExpr> outExprs = {d(0), d(1), d(2)};
    for (int64_t i = 0; i < spatial; ++i) {
      inExprs.push_back(d(3 + i) * strides[i] + d(kDim + i) * dilations[i]);
      wExprs.push_back(d(kDim + i));
      outExprs.push_back(d(3 + i));
    }
    SmallVector<AffineMap> maps = {AffineMap::get(numDims, 0, inExprs, context),
                                   AffineMap::get(numDims, 0, wExprs, context),
                                   AffineMap::get(numDims, 0, outExprs, context)};
    SmallVector<utils::IteratorType> iterators(3 + spatial, utils::IteratorType::parallel);
    iterators.append(1 + spatial, utils::IteratorType::reduction);

    // The accumulator starts at the bias (or zero).
    Value bias = op.getBias();
    if (bias)
      bias = reshapeTo(rewriter, loc, bias, RankedTensorType::get({groups, fg}, element));
    Value init = accumulatorInit(rewriter, loc, outType, bias,
                                 AffineMap::get(outType.getRank(), 0, {d(1), d(2)}, context));
    auto generic =
        linalg::GenericOp::create(rewriter, loc, outType, ValueRange{in, w}, init, maps, iterators,
                                  [&](OpBuilder &b, Location l, ValueRange a) {
                                    Value product =
                                        mulScalar(b, l, a[0], widenTo(b, l, a[1], element));
                                    linalg::YieldOp::create(b, l, addScalar(b, l, a[2], product));
                                  });
    return SmallVector<Value>{reshapeTo(rewriter, loc, generic.getResult(0), result)};
  }
};

/// Einsum as one generic over every label: the output's labels are parallel loops, the
/// others reductions; the body multiplies the operands' elements and accumulates. A repeated
/// label reads a diagonal; a size-1 operand dim broadcasts.
struct EinsumLowering final : LoweringPattern<EinsumOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(EinsumOp op, PatternRewriter &rewriter) const override {
    FailureOr<EinsumLabels> labels =
        resolveEinsum(op.getLoc(), op.getEquation(), op.getInputs().getTypes());
    if (failed(labels))
      return failure();
    SmallVector<int64_t> loops = labels->output;
    for (ArrayRef<int64_t> dims : labels->inputs)
      for (int64_t label : dims)
        if (!llvm::is_contained(loops, label))
          loops.push_back(label);
    auto loopOf = [&](int64_t label) { return llvm::find(loops, label) - loops.begin(); };
    MLIRContext *context = rewriter.getContext();
    int64_t numLoops = loops.size();
    SmallVector<AffineMap> maps;
    for (auto [input, dims] : llvm::zip(op.getInputs(), labels->inputs)) {
      auto type = cast<RankedTensorType>(input.getType());
      SmallVector<AffineExpr> exprs;
      for (auto [d, label] : llvm::enumerate(dims))
        exprs.push_back(type.getDimSize(d) == 1 && labels->sizes[label] != 1
                            ? getAffineConstantExpr(0, context)
                            : getAffineDimExpr(loopOf(label), context));
      maps.push_back(AffineMap::get(numLoops, 0, exprs, context));
    }
    maps.push_back(AffineMap::getMultiDimIdentityMap(numLoops, context)
                       .getSubMap(llvm::to_vector(llvm::seq<unsigned>(0, labels->output.size()))));
    SmallVector<utils::IteratorType> iterators(labels->output.size(),
                                               utils::IteratorType::parallel);
    iterators.append(numLoops - labels->output.size(), utils::IteratorType::reduction);
    auto result = cast<RankedTensorType>(op.getType());
    Location loc = op.getLoc();
    Value init = buildFilled(rewriter, loc, result.getShape(),
                             scalarConstant(rewriter, loc, result.getElementType(), 0));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, result, op.getInputs(), init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value product = a[0];
          for (Value factor : a.drop_front().drop_back())
            product = mulScalar(b, l, product, factor);
          linalg::YieldOp::create(b, l, addScalar(b, l, a.back(), product));
        });
    return SmallVector<Value>{generic.getResult(0)};
  }
};

enum class PoolKind { Max, Average, Lp };

/// Raises a float scalar to a constant power, with the common powers spelled out.
Value powerOf(OpBuilder &b, Location l, Value x, double p) {
  if (p == 1)
    return x;
  if (p == 2)
    return arith::MulFOp::create(b, l, x, x);
  if (p == 0.5)
    return math::SqrtOp::create(b, l, x);
  return math::PowFOp::create(b, l, x, scalarConstant(b, l, x.getType(), p));
}

/// Max, average or Lp norm over windows: iteration (n, c, o..., k...).
template <typename OpTy, PoolKind Kind> struct PoolLowering final : LoweringPattern<OpTy> {
  static constexpr bool IsMax = Kind == PoolKind::Max;
  using LoweringPattern<OpTy>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(OpTy op, PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 1)
      return rewriter.notifyMatchFailure(op, "pool indices output");
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto result = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t spatial = input.getRank() - 2;
    ArrayRef<int64_t> kernel = op.getKernel(), strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();
    Location loc = op.getLoc();
    Type element = result.getElementType();
    MLIRContext *context = rewriter.getContext();
    SmallVector<int64_t> high = effectiveHighPads(input, result, kernel, strides, pads, dilations);
    bool isUnsigned = hasUnsignedOperands(op);
    Value padValue = IsMax ? lowestValue(rewriter, loc, element, isUnsigned)
                           : scalarConstant(rewriter, loc, element, 0);
    Value padded =
        padSpatial(rewriter, loc, op.getInput(), pads.take_front(spatial), high, padValue);
    int64_t rank = input.getRank();
    int64_t numDims = rank + spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    SmallVector<AffineExpr> inExprs = {d(0), d(1)}, outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < spatial; ++i) {
      inExprs.push_back(d(2 + i) * strides[i] + d(rank + i) * dilations[i]);
      outExprs.push_back(d(2 + i));
    }
    // A window-shaped operand that is never read gives the window loops their bounds (as
    // linalg's named pooling ops do).
    SmallVector<AffineExpr> windowExprs;
    for (int64_t i = 0; i < spatial; ++i)
      windowExprs.push_back(d(rank + i));
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, element);
    SmallVector<AffineMap> maps = {AffineMap::get(numDims, 0, inExprs, context),
                                   AffineMap::get(numDims, 0, windowExprs, context),
                                   AffineMap::get(numDims, 0, outExprs, context)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.append(spatial, utils::IteratorType::reduction);
    Value init = buildFilled(rewriter, loc, result.getShape(), padValue);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, result, ValueRange{padded, window}, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0];
          if constexpr (Kind == PoolKind::Lp)
            x = powerOf(b, l, math::AbsFOp::create(b, l, x), static_cast<double>(op.getP()));
          linalg::YieldOp::create(
              b, l, IsMax ? maxScalar(b, l, a[2], x, isUnsigned) : addScalar(b, l, a[2], x));
        });
    Value pooled = generic.getResult(0);
    if constexpr (Kind == PoolKind::Lp) {
      double inverse = 1.0 / static_cast<double>(op.getP());
      pooled = buildParallelGeneric(
          rewriter, loc, result, pooled, rewriter.getMultiDimIdentityMap(rank),
          [&](OpBuilder &b, Location l, ValueRange a) { return powerOf(b, l, a[0], inverse); });
    }
    if constexpr (Kind == PoolKind::Average) {
      // Divide by the number of window positions inside the input (or inside the padded
      // input with count_include_pad), computed per output position.
      bool includePad = op.getCountIncludePad();
      pooled = buildParallelGeneric(
          rewriter, loc, result, pooled, rewriter.getMultiDimIdentityMap(rank),
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
            Value count = idx(1);
            for (int64_t i = 0; i < spatial; ++i) {
              int64_t lo = includePad ? -pads[i] : 0;
              int64_t hi = input.getDimSize(i + 2) + (includePad ? pads[i + spatial] : 0);
              Value o = linalg::IndexOp::create(b, l, 2 + i);
              Value start = arith::SubIOp::create(
                  b, l, arith::MulIOp::create(b, l, o, idx(strides[i])), idx(pads[i]));
              Value dil = idx(dilations[i]);
              Value kMin = arith::MaxSIOp::create(
                  b, l, idx(0),
                  arith::CeilDivSIOp::create(b, l, arith::SubIOp::create(b, l, idx(lo), start),
                                             dil));
              Value kMax = arith::MinSIOp::create(
                  b, l, idx(kernel[i] - 1),
                  arith::FloorDivSIOp::create(b, l, arith::SubIOp::create(b, l, idx(hi - 1), start),
                                              dil));
              Value n = arith::MaxSIOp::create(
                  b, l, idx(0),
                  arith::AddIOp::create(b, l, arith::SubIOp::create(b, l, kMax, kMin), idx(1)));
              count = arith::MulIOp::create(b, l, count, n);
            }
            Value countF = arith::SIToFPOp::create(
                b, l, element, arith::IndexCastOp::create(b, l, b.getI64Type(), count));
            return arith::DivFOp::create(b, l, a[0], countF);
          });
    }
    return SmallVector<Value>{pooled};
  }
};

} // namespace

void mlir::catfish::populateStructuredToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvTransposeLowering, RotaryEmbeddingLowering, MatMulLowering,
               PackedMatMulLowering, ConvLowering, PackedConvLowering, EinsumLowering, PoolLowering<MaxPoolOp, PoolKind::Max>,
               PoolLowering<AvgPoolOp, PoolKind::Average>, PoolLowering<LpPoolOp, PoolKind::Lp>>(
      patterns.getContext());
}
