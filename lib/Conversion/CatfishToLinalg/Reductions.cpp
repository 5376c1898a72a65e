//===- Reductions.cpp - reductions and normalizations -> linalg ----------===//
//
// Reductions become linalg.generic ops with reduction iterators into a rank-reduced tensor;
// softmax and the norms decompose into such reductions plus elementwise generics, which the
// elementwise fusion that follows merges where the shapes allow.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

Value cst(OpBuilder &b, Location loc, Type type, double value) {
  return scalarConstant(b, loc, type, value);
}

/// The input type with `axes` removed.
RankedTensorType dropDims(RankedTensorType type, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!llvm::is_contained(axes, i))
      shape.push_back(type.getDimSize(i));
  return RankedTensorType::get(shape, type.getElementType());
}

/// The input type with `axes` set to 1.
RankedTensorType keepDims(RankedTensorType type, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t axis : axes)
    shape[axis] = 1;
  return RankedTensorType::get(shape, type.getElementType());
}

Value sumOver(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
              function_ref<Value(OpBuilder &, Location, Value)> map = nullptr) {
  Type element = getElementTypeOrSelf(x);
  return buildReduction(
      b, loc, x, axes, cst(b, loc, element, 0),
      [](OpBuilder &nb, Location nl, ValueRange a) { return addScalar(nb, nl, a[0], a[1]); }, map);
}

Value maxOver(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes) {
  return buildReduction(
      b, loc, x, axes, lowestValue(b, loc, getElementTypeOrSelf(x)),
      [](OpBuilder &nb, Location nl, ValueRange a) { return maxScalar(nb, nl, a[0], a[1]); });
}

SmallVector<int64_t> trailingAxes(int64_t from, int64_t rank) {
  return llvm::to_vector(llvm::seq<int64_t>(from, rank));
}

struct ReduceLowering final : LoweringPattern<ReduceOp> {
  using LoweringPattern<ReduceOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ReduceOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    SmallVector<int64_t> axes;
    for (int64_t axis : op.getAxes())
      axes.push_back(positiveAxis(axis, input.getRank()));
    if (axes.empty())
      axes = trailingAxes(0, input.getRank());
    llvm::sort(axes);
    axes.erase(llvm::unique(axes), axes.end());
    Location loc = op.getLoc();
    Type element = input.getElementType();
    Value reduced;
    switch (op.getKind()) {
    case ReduceKind::sum:
    case ReduceKind::mean:
      reduced = sumOver(rewriter, loc, op.getInput(), axes);
      break;
    case ReduceKind::max:
      reduced = maxOver(rewriter, loc, op.getInput(), axes);
      break;
    case ReduceKind::min:
      reduced = buildReduction(
          rewriter, loc, op.getInput(), axes, highestValue(rewriter, loc, element),
          [](OpBuilder &b, Location l, ValueRange a) { return minScalar(b, l, a[0], a[1]); });
      break;
    case ReduceKind::prod:
      reduced = buildReduction(
          rewriter, loc, op.getInput(), axes, cst(rewriter, loc, element, 1),
          [](OpBuilder &b, Location l, ValueRange a) { return mulScalar(b, l, a[0], a[1]); });
      break;
    }
    if (op.getKind() == ReduceKind::mean) {
      int64_t count = 1;
      for (int64_t axis : axes)
        count *= input.getDimSize(axis);
      auto reducedType = cast<RankedTensorType>(reduced.getType());
      reduced = buildBroadcastGeneric(
          rewriter, loc, reducedType, reduced,
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (isa<FloatType>(element))
              return arith::DivFOp::create(b, l, a[0], cst(b, l, element, count));
            return arith::DivSIOp::create(b, l, a[0], cst(b, l, element, count));
          });
    }
    return SmallVector<Value>{reshapeTo(rewriter, loc, reduced, op.getType())};
  }
};

/// softmax(x) = e^(x - max) / sum(e^(x - max)); log_softmax = x - max - log(sum).
template <typename OpTy, bool IsLog> struct SoftmaxLowering final : LoweringPattern<OpTy> {
  using LoweringPattern<OpTy>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(OpTy op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t axis = positiveAxis(op.getAxis(), type.getRank());
    SmallVector<int64_t> axes = {axis};
    Location loc = op.getLoc();
    Value x = op.getInput();
    Value max = reshapeTo(rewriter, loc, maxOver(rewriter, loc, x, axes), keepDims(type, axes));
    Value shifted = buildBroadcastGeneric(rewriter, loc, type, ValueRange{x, max},
                                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                            return arith::SubFOp::create(b, l, a[0], a[1]);
                                          });
    Value sum = reshapeTo(rewriter, loc,
                          sumOver(rewriter, loc, shifted, axes,
                                  [](OpBuilder &b, Location l, Value v) -> Value {
                                    return math::ExpOp::create(b, l, v);
                                  }),
                          keepDims(type, axes));
    Value result = buildBroadcastGeneric(
        rewriter, loc, type, ValueRange{shifted, sum},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          if (IsLog)
            return arith::SubFOp::create(b, l, a[0], math::LogOp::create(b, l, a[1]));
          return arith::DivFOp::create(b, l, math::ExpOp::create(b, l, a[0]), a[1]);
        });
    return SmallVector<Value>{result};
  }
};

/// The pieces every normalization over `axes` shares: the input centered on its mean (for
/// RMS, the input itself), widened to at least f32 as ONNX Runtime does for half precision,
/// and the sum of its squares with the reduced dims kept as size 1.
struct NormStats {
  Value centered, sumSq;
  Type statElement;
  int64_t count;
};

NormStats normStats(PatternRewriter &rewriter, Location loc, Value x, ArrayRef<int64_t> axes,
                    bool isRms) {
  auto type = cast<RankedTensorType>(x.getType());
  Type element = type.getElementType();
  int64_t count = 1;
  for (int64_t a : axes)
    count *= type.getDimSize(a);
  Type statElement = element.getIntOrFloatBitWidth() < 32 ? rewriter.getF32Type() : element;
  auto widen = [&](OpBuilder &b, Location l, Value v) -> Value {
    return v.getType() == statElement ? v : Value(arith::ExtFOp::create(b, l, statElement, v));
  };
  RankedTensorType statType = keepDims(type, axes);
  RankedTensorType statTypeWide = RankedTensorType::get(statType.getShape(), statElement);
  RankedTensorType wideType = RankedTensorType::get(type.getShape(), statElement);
  Value centered;
  if (!isRms) {
    Value mean = sumOver(rewriter, loc,
                         buildBroadcastGeneric(rewriter, loc, wideType, x,
                                               [&](OpBuilder &b, Location l, ValueRange a) {
                                                 return widen(b, l, a[0]);
                                               }),
                         axes);
    mean = reshapeTo(rewriter, loc, mean, statTypeWide);
    centered = buildBroadcastGeneric(
        rewriter, loc, wideType, ValueRange{x, mean},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value scaled = arith::DivFOp::create(b, l, a[1], cst(b, l, statElement, count));
          return arith::SubFOp::create(b, l, widen(b, l, a[0]), scaled);
        });
  } else {
    centered = buildBroadcastGeneric(
        rewriter, loc, wideType, x,
        [&](OpBuilder &b, Location l, ValueRange a) { return widen(b, l, a[0]); });
  }
  Value sumSq =
      sumOver(rewriter, loc, centered, axes, [](OpBuilder &b, Location l, Value v) -> Value {
        return arith::MulFOp::create(b, l, v, v);
      });
  sumSq = reshapeTo(rewriter, loc, sumSq, statTypeWide);
  return {centered, sumSq, statElement, count};
}

/// centered / sqrt(sumSq / count + epsilon) in `element` (a generic body's scalar step).
Value normalized(OpBuilder &b, Location l, const NormStats &stats, Value centered, Value sumSq,
                 double epsilon, Type element) {
  Type t = stats.statElement;
  Value var = arith::DivFOp::create(b, l, sumSq, cst(b, l, t, stats.count));
  Value inv = math::RsqrtOp::create(b, l, arith::AddFOp::create(b, l, var, cst(b, l, t, epsilon)));
  Value normed = arith::MulFOp::create(b, l, centered, inv);
  return t == element ? normed : Value(arith::TruncFOp::create(b, l, element, normed));
}

/// (x - mean) / sqrt(var + eps) * scale + bias over the dims [axis, rank), or the RMS
/// variant x / sqrt(mean(x^2) + eps) * scale.
template <typename OpTy, bool IsRms> struct NormLowering final : LoweringPattern<OpTy> {
  using LoweringPattern<OpTy>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(OpTy op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Type element = type.getElementType();
    int64_t axis = positiveAxis(op.getAxis(), type.getRank());
    double epsilon = op.getEpsilon().convertToDouble();
    NormStats stats =
        normStats(rewriter, op.getLoc(), op.getInput(), trailingAxes(axis, type.getRank()), IsRms);
    SmallVector<Value> inputs = {stats.centered, stats.sumSq, op.getScale()};
    Value bias;
    if constexpr (!IsRms)
      bias = op.getBias();
    if (bias)
      inputs.push_back(bias);
    Value result = buildBroadcastGeneric(
        rewriter, op.getLoc(), type, inputs, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value normed = normalized(b, l, stats, a[0], a[1], epsilon, element);
          Value scaled = arith::MulFOp::create(b, l, normed, a[2]);
          return bias ? Value(arith::AddFOp::create(b, l, scaled, a[3])) : scaled;
        });
    return SmallVector<Value>{result};
  }
};

/// Group (and instance) norm: the input viewed as [N, groups, rest] normalized over rest, then
/// the per-channel scale and bias.
struct GroupNormLowering final : LoweringPattern<GroupNormOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(GroupNormOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Type element = type.getElementType();
    int64_t n = type.getDimSize(0), groups = op.getNumGroups();
    if (type.getRank() < 2 || groups <= 0 || type.getDimSize(1) % groups != 0)
      return rewriter.notifyMatchFailure(op, "channels must split into the groups");
    Location loc = op.getLoc();
    auto grouped =
        RankedTensorType::get({n, groups, type.getNumElements() / (n * groups)}, element);
    Value x = reshapeTo(rewriter, loc, op.getInput(), grouped);
    NormStats stats = normStats(rewriter, loc, x, {2}, false);
    double epsilon = op.getEpsilon().convertToDouble();
    Value normed =
        buildBroadcastGeneric(rewriter, loc, grouped, ValueRange{stats.centered, stats.sumSq},
                              [&](OpBuilder &b, Location l, ValueRange a) {
                                return normalized(b, l, stats, a[0], a[1], epsilon, element);
                              });
    normed = reshapeTo(rewriter, loc, normed, type);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap channel = AffineMap::get(type.getRank(), 0, {getAffineDimExpr(1, ctx)}, ctx);
    Value result = buildParallelGeneric(
        rewriter, loc, type, ValueRange{normed, op.getScale(), op.getBias()},
        {rewriter.getMultiDimIdentityMap(type.getRank()), channel, channel},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, a[0], a[1]), a[2]);
        });
    return SmallVector<Value>{result};
  }
};

/// LRN: x / (bias + alpha / size * (sum of x^2 over the channel window))^beta, the window
/// reaching floor((size - 1) / 2) channels down and ceil((size - 1) / 2) up.
struct LrnLowering final : LoweringPattern<LrnOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(LrnOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank(), size = op.getSize();
    if (rank < 2 || size <= 0)
      return rewriter.notifyMatchFailure(op, "LRN needs [N, C, ...] and a positive size");
    Location loc = op.getLoc();
    Value squares = buildBroadcastGeneric(rewriter, loc, type, op.getInput(),
                                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                            return arith::MulFOp::create(b, l, a[0], a[0]);
                                          });
    SmallVector<OpFoldResult> low(rank, rewriter.getIndexAttr(0)), high = low;
    low[1] = rewriter.getIndexAttr((size - 1) / 2);
    high[1] = rewriter.getIndexAttr(size - 1 - (size - 1) / 2);
    SmallVector<int64_t> paddedShape(type.getShape());
    paddedShape[1] += size - 1;
    Value padded = tensor::PadOp::create(rewriter, loc, RankedTensorType::get(paddedShape, element),
                                         squares, low, high, cst(rewriter, loc, element, 0));
    // Window sums: loops (d0, ..., d_{rank-1}, k), reading padded[d0, d1 + k, ...].
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> in, out;
    for (int64_t i = 0; i < rank; ++i) {
      AffineExpr d = getAffineDimExpr(i, ctx);
      in.push_back(i == 1 ? d + getAffineDimExpr(rank, ctx) : d);
      out.push_back(d);
    }
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    // A [size] operand gives the window loop its extent.
    Value window = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{size}, element);
    Value init = buildFilled(rewriter, loc, type.getShape(), cst(rewriter, loc, element, 0));
    auto sums = linalg::GenericOp::create(
        rewriter, loc, type, ValueRange{padded, window}, init,
        ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, in, ctx),
                            AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx),
                            AffineMap::get(rank + 1, 0, out, ctx)},
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, a[0], a[2])});
        });
    double alpha = op.getAlpha().convertToDouble(), beta = op.getBeta().convertToDouble(),
           bias = op.getBias().convertToDouble();
    Value result = buildBroadcastGeneric(
        rewriter, loc, type, ValueRange{op.getInput(), sums.getResult(0)},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value base = arith::AddFOp::create(
              b, l, cst(b, l, element, bias),
              arith::MulFOp::create(b, l, a[1], cst(b, l, element, alpha / size)));
          return arith::DivFOp::create(b, l, a[0],
                                       math::PowFOp::create(b, l, base, cst(b, l, element, beta)));
        });
    return SmallVector<Value>{result};
  }
};

/// Inference batch norm: per-channel (dim 1) affine transform.
struct BatchNormLowering final : LoweringPattern<BatchNormOp> {
  using LoweringPattern<BatchNormOp>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(BatchNormOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
    AffineMap channel = AffineMap::get(type.getRank(), 0, rewriter.getAffineDimExpr(1));
    SmallVector<Value> inputs = {op.getInput(), op.getScale(), op.getBias(), op.getMean(),
                                 op.getVariance()};
    SmallVector<AffineMap> maps = {identity, channel, channel, channel, channel};
    double epsilon = op.getEpsilon().convertToDouble();
    Value result = buildParallelGeneric(
        rewriter, op.getLoc(), type, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Type t = a[0].getType();
          Value inv =
              math::RsqrtOp::create(b, l, arith::AddFOp::create(b, l, a[4], cst(b, l, t, epsilon)));
          Value normed = arith::MulFOp::create(b, l, arith::SubFOp::create(b, l, a[0], a[3]), inv);
          return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, normed, a[1]), a[2]);
        });
    return SmallVector<Value>{result};
  }
};

/// argmax / argmin along one axis; ties take the first (or last) index.
template <typename OpTy, bool IsMax> struct ArgReduceLowering final : LoweringPattern<OpTy> {
  using LoweringPattern<OpTy>::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(OpTy op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = positiveAxis(op.getAxis(), input.getRank());
    bool last = op.getSelectLastIndex();
    Location loc = op.getLoc();
    Type element = input.getElementType();
    RankedTensorType reducedType = dropDims(input, {axis});
    auto indexType = RankedTensorType::get(reducedType.getShape(), rewriter.getI64Type());
    Value bestInit = buildFilled(rewriter, loc, reducedType.getShape(),
                                 IsMax ? lowestValue(rewriter, loc, element)
                                       : highestValue(rewriter, loc, element));
    Value indexInit = buildFilled(rewriter, loc, indexType.getShape(),
                                  cst(rewriter, loc, rewriter.getI64Type(), -1));
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < input.getRank(); ++i) {
      iterators.push_back(i == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (i != axis)
        outExprs.push_back(rewriter.getAffineDimExpr(i));
    }
    AffineMap outMap = AffineMap::get(input.getRank(), 0, outExprs, rewriter.getContext());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{reducedType, indexType}, op.getInput(),
        ValueRange{bestInit, indexInit},
        {rewriter.getMultiDimIdentityMap(input.getRank()), outMap, outMap}, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value v = a[0], best = a[1], bestIndex = a[2];
          Value i =
              arith::IndexCastOp::create(b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          bool isFloat = isa<FloatType>(element);
          auto cmp = [&](arith::CmpFPredicate f, arith::CmpIPredicate s) -> Value {
            if (isFloat)
              return arith::CmpFOp::create(b, l, f, v, best);
            return arith::CmpIOp::create(b, l, s, v, best);
          };
          Value strictly = IsMax ? cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt)
                                 : cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt);
          Value equal = cmp(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq);
          Value none = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, bestIndex,
                                             cst(b, l, b.getI64Type(), 0));
          Value take = arith::OrIOp::create(b, l, none, strictly);
          if (last)
            take = arith::OrIOp::create(b, l, take, equal);
          linalg::YieldOp::create(b, l,
                                  ValueRange{arith::SelectOp::create(b, l, take, v, best),
                                             arith::SelectOp::create(b, l, take, i, bestIndex)});
        });
    return SmallVector<Value>{
        reshapeTo(rewriter, loc, generic.getResult(1), cast<RankedTensorType>(op.getType()))};
  }
};

/// out[..., i, ...] = sum over j of in[..., j, ...] for j <= i (j < i when exclusive; j >= i,
/// j > i when reversed): a generic over (result dims..., j) with j a reduction. Quadratic in
/// the axis length, which suits the short axes (sequence positions, masks) it serves.
struct CumSumLowering final : LoweringPattern<CumSumOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(CumSumOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank == 0)
      return rewriter.notifyMatchFailure(op, "cumsum of a scalar");
    int64_t axis = positiveAxis(op.getAxis(), rank);
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineExpr> inExprs, outExprs;
    for (int64_t i = 0; i < rank; ++i) {
      inExprs.push_back(getAffineDimExpr(i == axis ? rank : i, context));
      outExprs.push_back(getAffineDimExpr(i, context));
    }
    SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, inExprs, context),
                                   AffineMap::get(rank + 1, 0, outExprs, context)};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Location loc = op.getLoc();
    Type element = type.getElementType();
    Value init = buildFilled(rewriter, loc, type.getShape(), cst(rewriter, loc, element, 0));
    using P = arith::CmpIPredicate;
    P predicate = op.getReverse() ? (op.getExclusive() ? P::sgt : P::sge)
                                  : (op.getExclusive() ? P::slt : P::sle);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, op.getInput(), init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value j = linalg::IndexOp::create(b, l, rank);
          Value i = linalg::IndexOp::create(b, l, axis);
          Value counted = arith::CmpIOp::create(b, l, predicate, j, i);
          Value term = arith::SelectOp::create(b, l, counted, a[0], cst(b, l, element, 0));
          linalg::YieldOp::create(b, l, addScalar(b, l, a[1], term));
        });
    return SmallVector<Value>{generic.getResult(0)};
  }
};

} // namespace

void mlir::catfish::populateReductionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ReduceLowering, SoftmaxLowering<SoftmaxOp, false>,
               SoftmaxLowering<LogSoftmaxOp, true>, NormLowering<LayerNormOp, false>,
               NormLowering<RmsNormOp, true>, BatchNormLowering, ArgReduceLowering<ArgMaxOp, true>,
               ArgReduceLowering<ArgMinOp, false>, CumSumLowering, GroupNormLowering, LrnLowering>(
      patterns.getContext());
}
