//===- DataMovement.cpp - shape and indexing ops -> linalg / tensor ------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

RankedTensorType resultTypeOf(Operation *op, unsigned index = 0) {
  return cast<RankedTensorType>(op->getResult(index).getType());
}

/// An index value from an element of an index tensor, wrapped into [0, dim) when negative.
Value normalizedIndex(OpBuilder &b, Location loc, Value element, int64_t dim) {
  Value index = arith::IndexCastOp::create(b, loc, b.getIndexType(), element);
  Value size = arith::ConstantIndexOp::create(b, loc, dim);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, zero);
  Value wrapped = arith::AddIOp::create(b, loc, index, size);
  Value result = arith::SelectOp::create(b, loc, negative, wrapped, index);
  // Out-of-range indices are undefined in ONNX; clamp so a bad index never reads outside.
  Value last = arith::ConstantIndexOp::create(b, loc, dim - 1);
  return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, result, zero), last);
}

SmallVector<Value> loopIndices(OpBuilder &b, Location loc, int64_t rank) {
  SmallVector<Value> indices;
  for (int64_t i = 0; i < rank; ++i)
    indices.push_back(linalg::IndexOp::create(b, loc, i));
  return indices;
}

struct ConstantLowering final : LoweringPattern<ConstantOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ConstantOp op, PatternRewriter &rewriter) const override {
    return SmallVector<Value>{
        arith::ConstantOp::create(rewriter, op.getLoc(), cast<TypedAttr>(op.getValue()))};
  }
};

struct ReshapeLowering final : LoweringPattern<ReshapeOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ReshapeOp op, PatternRewriter &rewriter) const override {
    return SmallVector<Value>{reshapeTo(rewriter, op.getLoc(), op.getInput(), op.getType())};
  }
};

struct TransposeLowering final : LoweringPattern<TransposeOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(TransposeOp op, PatternRewriter &rewriter) const override {
    // Result dim i reads input dim perm[i]: the input map sends input dim perm[i] to d_i.
    ArrayRef<int64_t> perm = op.getPerm();
    SmallVector<AffineExpr> exprs(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      exprs[p] = rewriter.getAffineDimExpr(i);
    auto map = AffineMap::get(perm.size(), 0, exprs, rewriter.getContext());
    return SmallVector<Value>{
        buildParallelGeneric(rewriter, op.getLoc(), op.getType(), op.getInput(), map,
                             [](OpBuilder &, Location, ValueRange args) { return args[0]; })};
  }
};

struct BroadcastLowering final : LoweringPattern<BroadcastOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(BroadcastOp op, PatternRewriter &rewriter) const override {
    return SmallVector<Value>{
        buildBroadcastGeneric(rewriter, op.getLoc(), op.getType(), op.getInput(),
                              [](OpBuilder &, Location, ValueRange args) { return args[0]; })};
  }
};

struct TileLowering final : LoweringPattern<TileOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(TileOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    SmallVector<AffineExpr> exprs;
    for (auto [i, dim] : llvm::enumerate(input.getShape()))
      exprs.push_back(rewriter.getAffineDimExpr(i) % dim);
    auto map = AffineMap::get(input.getRank(), 0, exprs, rewriter.getContext());
    return SmallVector<Value>{
        buildParallelGeneric(rewriter, op.getLoc(), op.getType(), op.getInput(), map,
                             [](OpBuilder &, Location, ValueRange args) { return args[0]; })};
  }
};

/// Element [..., i, j] is kept when j - i >= k (upper) or j - i <= k (lower), else 0.
struct TriluLowering final : LoweringPattern<TriluOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(TriluOp op, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank < 2)
      return rewriter.notifyMatchFailure(op, "trilu needs at least 2 dims");
    auto map = rewriter.getMultiDimIdentityMap(rank);
    int64_t k = op.getK();
    bool upper = op.getUpper();
    return SmallVector<Value>{buildParallelGeneric(
        rewriter, op.getLoc(), type, op.getInput(), map,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value row = linalg::IndexOp::create(b, loc, rank - 2);
          Value col = linalg::IndexOp::create(b, loc, rank - 1);
          Value diagonal = arith::SubIOp::create(b, loc, col, row);
          Value kValue = arith::ConstantIndexOp::create(b, loc, k);
          Value keep = arith::CmpIOp::create(
              b, loc, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diagonal,
              kValue);
          return arith::SelectOp::create(b, loc, keep, args[0],
                                         scalarConstant(b, loc, args[0].getType(), 0));
        })};
  }
};

struct SliceLowering final : LoweringPattern<SliceOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(SliceOp op, PatternRewriter &rewriter) const override {
    auto dims = op.getResolvedDims();
    if (!dims)
      return rewriter.notifyMatchFailure(op, "starts, ends, axes and steps must be constant");
    if (llvm::all_of(*dims, [](const SliceDim &d) { return d.step > 0; })) {
      SmallVector<int64_t> offsets, strides;
      for (const SliceDim &d : *dims) {
        offsets.push_back(d.start);
        strides.push_back(d.step);
      }
      return SmallVector<Value>{
          extractSlice(rewriter, op.getLoc(), op.getType(), op.getInput(), offsets, strides)};
    }
    // Negative steps: a generic reading input[start + i * step]; the loop bounds come from
    // the result, since no input dim is read directly.
    SmallVector<AffineExpr> exprs;
    for (auto [i, d] : llvm::enumerate(*dims))
      exprs.push_back(rewriter.getAffineDimExpr(i) * d.step + d.start);
    auto map = AffineMap::get(dims->size(), 0, exprs, rewriter.getContext());
    return SmallVector<Value>{
        buildParallelGeneric(rewriter, op.getLoc(), op.getType(), op.getInput(), map,
                             [](OpBuilder &, Location, ValueRange args) { return args[0]; })};
  }
};

struct ConcatLowering final : LoweringPattern<ConcatOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ConcatOp op, PatternRewriter &rewriter) const override {
    int64_t axis = positiveAxis(op.getAxis(), op.getType().getRank());
    SmallVector<Value> inputs;
    for (Value input : op.getInputs())
      if (cast<ShapedType>(input.getType()).getNumElements() != 0)
        inputs.push_back(input);
    if (inputs.size() == 1)
      return SmallVector<Value>{inputs.front()};
    if (inputs.empty())
      return SmallVector<Value>{tensor::EmptyOp::create(
          rewriter, op.getLoc(), op.getType().getShape(), op.getType().getElementType())};
    return SmallVector<Value>{
        tensor::ConcatOp::create(rewriter, op.getLoc(), op.getType(), axis, inputs)};
  }
};

struct SplitLowering final : LoweringPattern<SplitOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(SplitOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = positiveAxis(op.getAxis(), input.getRank());
    SmallVector<Value> results;
    int64_t offset = 0;
    for (Value result : op.getOutputs()) {
      auto type = cast<RankedTensorType>(result.getType());
      SmallVector<int64_t> offsets(input.getRank(), 0), strides(input.getRank(), 1);
      offsets[axis] = offset;
      offset += type.getDimSize(axis);
      results.push_back(extractSlice(rewriter, op.getLoc(), type, op.getInput(), offsets, strides));
    }
    return results;
  }
};

/// The input index that output index `o` of a dim padded by `before` reads in an edge,
/// reflect or wrap pad over an input dim of `size`.
Value paddedSource(OpBuilder &b, Location loc, PadMode mode, Value o, int64_t before,
                   int64_t size) {
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value i = arith::SubIOp::create(b, loc, o, index(before));
  auto positiveMod = [&](Value v, int64_t m) -> Value {
    Value r = arith::RemSIOp::create(b, loc, v, index(m));
    Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, index(0));
    return arith::SelectOp::create(b, loc, negative, arith::AddIOp::create(b, loc, r, index(m)), r);
  };
  if (mode == PadMode::wrap)
    return positiveMod(i, size);
  if (mode == PadMode::reflect && size > 1) {
    // Reflection (without repeating the edge) has period 2 * (size - 1).
    int64_t period = 2 * (size - 1);
    Value r = positiveMod(i, period);
    Value upper = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, r, index(size));
    return arith::SelectOp::create(b, loc, upper, arith::SubIOp::create(b, loc, index(period), r),
                                   r);
  }
  return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, i, index(0)),
                                index(size - 1));
}

/// Negative pads crop first; constant padding becomes tensor.pad, the other modes a generic
/// reading the input at the reflected, wrapped or clamped index.
struct PadLowering final : LoweringPattern<PadOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(PadOp op, PatternRewriter &rewriter) const override {
    auto pads = getConstantIntValues(op.getPads());
    if (!pads)
      return rewriter.notifyMatchFailure(op, "pads must be constant");
    auto input = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = input.getRank();
    Location loc = op.getLoc();
    Type element = input.getElementType();
    Value source = op.getInput();
    if (llvm::any_of(*pads, [](int64_t p) { return p < 0; })) {
      SmallVector<int64_t> offsets, sizes;
      for (int64_t i = 0; i < rank; ++i) {
        int64_t lo = std::min<int64_t>((*pads)[i], 0), hi = std::min<int64_t>((*pads)[i + rank], 0);
        offsets.push_back(-lo);
        sizes.push_back(input.getDimSize(i) + lo + hi);
      }
      source = extractSlice(rewriter, loc, RankedTensorType::get(sizes, element), source,
                            offsets, SmallVector<int64_t>(rank, 1));
    }
    auto sourceType = cast<RankedTensorType>(source.getType());
    if (op.getMode() != PadMode::constant) {
      if (sourceType.getNumElements() == 0)
        return rewriter.notifyMatchFailure(op, "edge, reflect or wrap padding of nothing");
      PadMode mode = op.getMode();
      return SmallVector<Value>{buildParallelGeneric(
          rewriter, loc, op.getType(), {}, {}, [&](OpBuilder &b, Location l, ValueRange) -> Value {
            SmallVector<Value> at;
            for (int64_t i = 0; i < rank; ++i)
              at.push_back(paddedSource(b, l, mode, linalg::IndexOp::create(b, l, i),
                                        std::max<int64_t>((*pads)[i], 0),
                                        sourceType.getDimSize(i)));
            return tensor::ExtractOp::create(b, l, source, at);
          })};
    }
    Value padValue = op.getValue() ? scalarOf(rewriter, loc, op.getValue())
                                   : scalarConstant(rewriter, loc, element, 0);
    SmallVector<OpFoldResult> low, high;
    for (int64_t i = 0; i < rank; ++i) {
      low.push_back(rewriter.getIndexAttr(std::max<int64_t>((*pads)[i], 0)));
      high.push_back(rewriter.getIndexAttr(std::max<int64_t>((*pads)[i + rank], 0)));
    }
    return SmallVector<Value>{
        tensor::PadOp::create(rewriter, loc, op.getType(), source, low, high, padValue)};
  }
};

/// A fill too large to fold into a constant (ConstantOfShape of a big shape).
struct FillLowering final : LoweringPattern<FillOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(FillOp op, PatternRewriter &rewriter) const override {
    Value value = arith::ConstantOp::create(rewriter, op.getLoc(), op.getValueAttr());
    return SmallVector<Value>{buildFilled(rewriter, op.getLoc(), op.getType().getShape(), value)};
  }
};

/// Element i of a range is start + i * delta (its length is static by now). A bounded range
/// (start, limit and delta known only at run time) is zero from its run-time length on. The
/// scalars are inputs of the loop, so every target reads them where it computes an element.
struct RangeLowering final : LoweringPattern<RangeOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(RangeOp op, PatternRewriter &rewriter) const override {
    SmallVector<Value> scalars = {op.getStart(), op.getDelta(), op.getLimit()};
    SmallVector<AffineMap> maps;
    for (Value scalar : scalars) {
      int64_t rank = cast<RankedTensorType>(scalar.getType()).getRank();
      maps.push_back(AffineMap::get(1, 0,
                                    SmallVector<AffineExpr>(rank, rewriter.getAffineConstantExpr(0)),
                                    rewriter.getContext()));
    }
    bool bounded = op.getBound().has_value();
    return SmallVector<Value>{buildParallelGeneric(
        rewriter, op.getLoc(), op.getType(), scalars, maps,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value start = args[0], delta = args[1];
          Value i =
              arith::IndexCastOp::create(b, l, b.getI64Type(), linalg::IndexOp::create(b, l, 0));
          Value step = convertScalar(b, l, i, start.getType());
          Value value = addScalar(b, l, start, mulScalar(b, l, step, delta));
          if (!bounded)
            return value;
          // The length, max(0, ceil((limit - start) / delta)), in f64 like the importer's.
          Type f64 = b.getF64Type();
          Value span = arith::SubFOp::create(b, l, convertScalar(b, l, args[2], f64),
                                             convertScalar(b, l, start, f64));
          Value steps = math::CeilOp::create(
              b, l, arith::DivFOp::create(b, l, span, convertScalar(b, l, delta, f64)));
          Value inside = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT,
                                               convertScalar(b, l, i, f64), steps);
          Value zero = arith::ConstantOp::create(b, l, b.getZeroAttr(value.getType()));
          return Value(arith::SelectOp::create(b, l, inside, value, zero));
        })};
  }
};

struct GatherLowering final : LoweringPattern<GatherOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(GatherOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    RankedTensorType result = op.getType();
    int64_t axis = positiveAxis(op.getAxis(), input.getRank());
    int64_t indexRank = indices.getRank();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(rewriter.getAffineDimExpr(axis + i));
    auto map = AffineMap::get(result.getRank(), 0, indexExprs, rewriter.getContext());
    Value data = op.getInput();
    return SmallVector<Value>{buildParallelGeneric(
        rewriter, op.getLoc(), result, op.getIndices(), map,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          SmallVector<Value> loops = loopIndices(b, loc, result.getRank());
          SmallVector<Value> at(loops.begin(), loops.begin() + axis);
          at.push_back(normalizedIndex(b, loc, args[0], input.getDimSize(axis)));
          at.append(loops.begin() + axis + indexRank, loops.end());
          return tensor::ExtractOp::create(b, loc, data, at);
        })};
  }
};

struct GatherElementsLowering final : LoweringPattern<GatherElementsOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(GatherElementsOp op,
                                      PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = positiveAxis(op.getAxis(), input.getRank());
    Value data = op.getInput();
    auto result = op.getType();
    return SmallVector<Value>{
        buildParallelGeneric(rewriter, op.getLoc(), result, op.getIndices(),
                             rewriter.getMultiDimIdentityMap(result.getRank()),
                             [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                               SmallVector<Value> at = loopIndices(b, loc, result.getRank());
                               at[axis] = normalizedIndex(b, loc, args[0], input.getDimSize(axis));
                               return tensor::ExtractOp::create(b, loc, data, at);
                             })};
  }
};

/// The value a scatter writes at `at` of `target`: `update`, or its reduction with the
/// element already there.
Value combineScattered(OpBuilder &b, Location l, ScatterReduction reduction, Value target,
                       ValueRange at, Value update) {
  if (reduction == ScatterReduction::none)
    return update;
  Value old = tensor::ExtractOp::create(b, l, target, at);
  switch (reduction) {
  case ScatterReduction::add:
    return addScalar(b, l, old, update);
  case ScatterReduction::mul:
    return mulScalar(b, l, old, update);
  case ScatterReduction::max:
    return maxScalar(b, l, old, update);
  case ScatterReduction::min:
    return minScalar(b, l, old, update);
  case ScatterReduction::none:
    break;
  }
  return update;
}

struct ScatterElementsLowering final : LoweringPattern<ScatterElementsOp> {
  ScatterElementsLowering(MLIRContext *context, bool asSelections)
      : LoweringPattern(context), asSelections(asSelections) {}

  FailureOr<SmallVector<Value>> lower(ScatterElementsOp op,
                                      PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    int64_t axis = positiveAxis(op.getAxis(), input.getRank());
    ScatterReduction reduction = op.getReduction();
    bool covers = true;
    for (int64_t d = 0; d < input.getRank(); ++d)
      covers &= d == axis || indices.getDimSize(d) == input.getDimSize(d);
    if (asSelections && reduction == ScatterReduction::none && covers)
      return lowerAsSelection(op, axis, rewriter);
    Value indexTensor = op.getIndices(), updates = op.getUpdates();
    // Copy the input, then write the updates one by one in order (later ones win): a
    // sequential kernel, one GPU thread on the CUDA target.
    Location loc = op.getLoc();
    Value copy = buildParallelGeneric(rewriter, loc, input, op.getInput(),
                                      rewriter.getMultiDimIdentityMap(input.getRank()),
                                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    SmallVector<Value> result = buildLoop(
        rewriter, loc, arith::ConstantIndexOp::create(rewriter, loc, 0),
        arith::ConstantIndexOp::create(rewriter, loc, indices.getNumElements()), copy,
        [&](OpBuilder &b, Location l, Value iv, ValueRange carried) -> SmallVector<Value> {
          SmallVector<Value> at = delinearize(b, l, iv, indices.getShape());
          Value update = tensor::ExtractOp::create(b, l, updates, at);
          Value index = tensor::ExtractOp::create(b, l, indexTensor, at);
          at[axis] = normalizedIndex(b, l, index, input.getDimSize(axis));
          Value value = combineScattered(b, l, reduction, carried[0], at, update);
          return {tensor::InsertOp::create(b, l, value, carried[0], at)};
        });
    markSequential(op);
    return result;
  }

  /// out[p] = the last update j (along the axis) whose index names p[axis], else input[p]: a
  /// generic over (p..., j) with j a reduction, the updates and indices read at p with the
  /// axis coordinate j, and `select(aimed, update, out)` its body.
  SmallVector<Value> lowerAsSelection(ScatterElementsOp op, int64_t axis,
                                      PatternRewriter &rewriter) const {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = input.getRank();
    Location loc = op.getLoc();
    SmallVector<AffineExpr> atUpdate;
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    for (int64_t d = 0; d < rank; ++d)
      atUpdate.push_back(rewriter.getAffineDimExpr(d == axis ? rank : d));
    AffineMap updateMap = AffineMap::get(rank + 1, 0, atUpdate, rewriter.getContext());
    AffineMap outMap = AffineMap::get(rank + 1, 0,
                                      rewriter.getMultiDimIdentityMap(rank + 1).getResults()
                                          .drop_back(),
                                      rewriter.getContext());
    Value copy = buildParallelGeneric(rewriter, loc, input, op.getInput(),
                                      rewriter.getMultiDimIdentityMap(rank),
                                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{input}, ValueRange{op.getUpdates(), op.getIndices()},
        ValueRange{copy}, {updateMap, updateMap, outMap}, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value target = normalizedIndex(b, l, a[1], input.getDimSize(axis));
          Value aimed = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, target,
                                              linalg::IndexOp::create(b, l, axis));
          linalg::YieldOp::create(b, l, ValueRange{arith::SelectOp::create(b, l, aimed, a[0],
                                                                            a[2])});
        });
    return {generic.getResult(0)};
  }

  bool asSelections;
};

/// ScatterND: a copy of the input, then every element of `updates` written in order at the
/// position its index tuple (the last dim of `indices`) and its trailing coordinates name.
struct ScatterNdLowering final : LoweringPattern<ScatterNdOp> {
  ScatterNdLowering(MLIRContext *context, bool asSelections)
      : LoweringPattern(context), asSelections(asSelections) {}

  FailureOr<SmallVector<Value>> lower(ScatterNdOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    auto updatesType = cast<RankedTensorType>(op.getUpdates().getType());
    int64_t tuple = indices.getDimSize(indices.getRank() - 1);
    int64_t leading = indices.getRank() - 1;
    ScatterReduction reduction = op.getReduction();
    if (asSelections && reduction == ScatterReduction::none && updatesType.getNumElements() > 0)
      return lowerAsSelection(op, rewriter);
    Value indexTensor = op.getIndices(), updates = op.getUpdates();
    Location loc = op.getLoc();
    Value copy = buildParallelGeneric(rewriter, loc, input, op.getInput(),
                                      rewriter.getMultiDimIdentityMap(input.getRank()),
                                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    markSequential(op);
    return buildLoop(
        rewriter, loc, arith::ConstantIndexOp::create(rewriter, loc, 0),
        arith::ConstantIndexOp::create(rewriter, loc, updatesType.getNumElements()), copy,
        [&](OpBuilder &b, Location l, Value iv, ValueRange carried) -> SmallVector<Value> {
          SmallVector<Value> u = delinearize(b, l, iv, updatesType.getShape());
          SmallVector<Value> at;
          SmallVector<Value> where(u.begin(), u.begin() + leading);
          where.push_back(Value());
          for (int64_t k = 0; k < tuple; ++k) {
            where.back() = arith::ConstantIndexOp::create(b, l, k);
            at.push_back(normalizedIndex(b, l, tensor::ExtractOp::create(b, l, indexTensor, where),
                                         input.getDimSize(k)));
          }
          at.append(u.begin() + leading, u.end());
          Value update = tensor::ExtractOp::create(b, l, updates, u);
          Value value = combineScattered(b, l, reduction, carried[0], at, update);
          return {tensor::InsertOp::create(b, l, value, carried[0], at)};
        });
  }

  /// out[p] = the last update j whose index tuple is p's leading coordinates (its trailing
  /// ones picking the element of the update's slice), else input[p]: the indices and updates
  /// seen as J tuples and J slices, a generic over (p..., j) with j a reduction, and
  /// `select(aimed, update, out)` its body. Each tuple component is an input of its own.
  SmallVector<Value> lowerAsSelection(ScatterNdOp op, PatternRewriter &rewriter) const {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    int64_t rank = input.getRank();
    int64_t tuple = indices.getDimSize(indices.getRank() - 1);
    int64_t count = indices.getNumElements() / tuple;
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    SmallVector<int64_t> sliceShape = {count};
    llvm::append_range(sliceShape, input.getShape().drop_front(tuple));
    Value tuples = reshapeTo(rewriter, loc, op.getIndices(),
                             RankedTensorType::get({count, tuple}, indices.getElementType()));
    Value slices = reshapeTo(rewriter, loc, op.getUpdates(),
                             RankedTensorType::get(sliceShape, input.getElementType()));
    AffineExpr j = rewriter.getAffineDimExpr(rank);
    SmallVector<AffineExpr> atSlice = {j};
    for (int64_t d = tuple; d < rank; ++d)
      atSlice.push_back(rewriter.getAffineDimExpr(d));
    SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, atSlice, context)};
    SmallVector<Value> inputs = {slices};
    for (int64_t c = 0; c < tuple; ++c) {
      maps.push_back(
          AffineMap::get(rank + 1, 0, {j, rewriter.getAffineConstantExpr(c)}, context));
      inputs.push_back(tuples);
    }
    maps.push_back(AffineMap::getMultiDimIdentityMap(rank + 1, context).getMajorSubMap(rank));
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Value copy = buildParallelGeneric(rewriter, loc, input, op.getInput(),
                                      rewriter.getMultiDimIdentityMap(rank),
                                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{input}, inputs, ValueRange{copy}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value aimed = arith::ConstantIntOp::create(b, l, b.getI1Type(), 1);
          for (int64_t c = 0; c < tuple; ++c) {
            Value target = normalizedIndex(b, l, a[1 + c], input.getDimSize(c));
            aimed = arith::AndIOp::create(
                b, l, aimed,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, target,
                                      linalg::IndexOp::create(b, l, c)));
          }
          linalg::YieldOp::create(
              b, l, ValueRange{arith::SelectOp::create(b, l, aimed, a[0], a[a.size() - 1])});
        });
    return {generic.getResult(0)};
  }

  bool asSelections;
};

/// GatherND: output [batch..., indices outer..., slice...] reads input[batch..., tuple...,
/// slice...], the tuple being indices[batch..., outer..., :].
struct GatherNdLowering final : LoweringPattern<GatherNdOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(GatherNdOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    RankedTensorType result = op.getType();
    int64_t batch = op.getBatchDims();
    int64_t tuple = indices.getDimSize(indices.getRank() - 1);
    int64_t outer = indices.getRank() - 1; // batch dims included
    Value data = op.getInput(), indexTensor = op.getIndices();
    return SmallVector<Value>{buildParallelGeneric(
        rewriter, op.getLoc(), result, {}, {}, [&](OpBuilder &b, Location l, ValueRange) -> Value {
          SmallVector<Value> loops = loopIndices(b, l, result.getRank());
          SmallVector<Value> where(loops.begin(), loops.begin() + outer);
          where.push_back(Value());
          SmallVector<Value> at(loops.begin(), loops.begin() + batch);
          for (int64_t k = 0; k < tuple; ++k) {
            where.back() = arith::ConstantIndexOp::create(b, l, k);
            at.push_back(normalizedIndex(b, l, tensor::ExtractOp::create(b, l, indexTensor, where),
                                         input.getDimSize(batch + k)));
          }
          at.append(loops.begin() + outer, loops.end());
          return tensor::ExtractOp::create(b, l, data, at);
        })};
  }
};

/// OneHot: element [..., k, ...] (k at `axis`) is values[1] where the index there (negative
/// ones counting from depth) is k, else values[0].
struct OneHotLowering final : LoweringPattern<OneHotOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(OneHotOp op, PatternRewriter &rewriter) const override {
    RankedTensorType result = op.getType();
    int64_t rank = result.getRank();
    int64_t axis = positiveAxis(op.getAxis(), rank);
    int64_t depth = result.getDimSize(axis);
    Value indices = op.getIndices(), values = op.getValues();
    return SmallVector<Value>{buildParallelGeneric(
        rewriter, op.getLoc(), result, {}, {}, [&](OpBuilder &b, Location l, ValueRange) -> Value {
          SmallVector<Value> loops = loopIndices(b, l, rank);
          SmallVector<Value> at(loops);
          at.erase(at.begin() + axis);
          Value raw = tensor::ExtractOp::create(b, l, indices, at);
          Value index = convertScalar(b, l, raw, b.getI64Type());
          Value depthValue = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(depth));
          Value zero = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0));
          Value negative = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, index, zero);
          index = arith::SelectOp::create(b, l, negative,
                                          arith::AddIOp::create(b, l, index, depthValue), index);
          Value k = arith::IndexCastOp::create(b, l, b.getI64Type(), loops[axis]);
          Value hot = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, index, k);
          Value off = tensor::ExtractOp::create(
              b, l, values, ValueRange{arith::ConstantIndexOp::create(b, l, 0)});
          Value on = tensor::ExtractOp::create(b, l, values,
                                               ValueRange{arith::ConstantIndexOp::create(b, l, 1)});
          return arith::SelectOp::create(b, l, hot, on, off);
        })};
  }
};

/// Whether (v, i) ranks before (w, j) in a top-k: a better value (larger when `largest`), or
/// an equal one at a lower index.
Value ranksBefore(OpBuilder &b, Location l, bool largest, Value v, Value i, Value w, Value j) {
  bool isFloat = isa<FloatType>(v.getType());
  Value strictly =
      isFloat ? Value(arith::CmpFOp::create(
                    b, l, largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, v, w))
              : Value(arith::CmpIOp::create(
                    b, l, largest ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt, v, w));
  Value equal = isFloat ? Value(arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, v, w))
                        : Value(arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, v, w));
  Value lowerIndex = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, j);
  return arith::OrIOp::create(b, l, strictly, arith::AndIOp::create(b, l, equal, lowerIndex));
}

/// The most picks TopK unrolls into ordered selections; a larger k (a sort) stays one loop nest.
constexpr int64_t kMaxSelectionPicks = 64;

struct TopKLowering final : LoweringPattern<TopKOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(TopKOp op, PatternRewriter &rewriter) const override {
    return static_cast<int64_t>(op.getK()) <= kMaxSelectionPicks ? lowerAsPicks(op, rewriter)
                                                                 : lowerAsScans(op, rewriter);
  }

  /// Small k: k ordered selections, which both targets map like argmax (the CUDA target: a warp
  /// or block per row).
  SmallVector<Value> lowerAsPicks(TopKOp op, PatternRewriter &rewriter) const {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto valuesType = resultTypeOf(op, 0), indicesType = resultTypeOf(op, 1);
    int64_t rank = input.getRank();
    int64_t axis = positiveAxis(op.getAxis(), rank);
    int64_t k = static_cast<int64_t>(op.getK());
    bool largest = op.getLargest();
    Type element = input.getElementType();
    Type indexElement = indicesType.getElementType();
    Location loc = op.getLoc();
    // Pick j is an ordered selection over the axis (an argmax with a threshold): the best
    // element that ranks after pick j - 1 (by value, then lower index first), so ties keep
    // ONNX's order and each pick is one reduction, which both targets map like argmax (the
    // CUDA target: a warp or block per row). k picks read the row k times.
    SmallVector<int64_t> rowShape(input.getShape());
    rowShape.erase(rowShape.begin() + axis);
    auto rowType = RankedTensorType::get(rowShape, element);
    auto rowIndexType = RankedTensorType::get(rowType.getShape(), indexElement);
    SmallVector<AffineExpr> rowExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d != axis)
        rowExprs.push_back(rewriter.getAffineDimExpr(d));
    }
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap rowMap = AffineMap::get(rank, 0, rowExprs, rewriter.getContext());
    SmallVector<int64_t> pieceShape(rowType.getShape());
    pieceShape.insert(pieceShape.begin() + axis, 1);
    SmallVector<Value> valuePieces, indexPieces;
    Value previousValue, previousIndex;
    for (int64_t j = 0; j < k; ++j) {
      Value worst = largest ? lowestValue(rewriter, loc, element)
                            : highestValue(rewriter, loc, element);
      Value bestInit = buildFilled(rewriter, loc, rowType.getShape(), worst);
      Value indexInit = buildFilled(rewriter, loc, rowType.getShape(),
                                    scalarConstant(rewriter, loc, indexElement, -1));
      SmallVector<Value> inputs = {op.getInput()};
      SmallVector<AffineMap> maps = {identity};
      if (j > 0) {
        inputs.append({previousValue, previousIndex});
        maps.append({rowMap, rowMap});
      }
      maps.append({rowMap, rowMap});
      auto pick = linalg::GenericOp::create(
          rewriter, loc, TypeRange{rowType, rowIndexType}, inputs, ValueRange{bestInit, indexInit},
          maps, iterators, [&](OpBuilder &b, Location l, ValueRange a) {
            Value v = a[0], best = a[a.size() - 2], bestIndex = a[a.size() - 1];
            Value i = arith::IndexCastOp::create(b, l, indexElement,
                                                 linalg::IndexOp::create(b, l, axis));
            Value none = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, bestIndex,
                                               scalarConstant(b, l, indexElement, 0));
            Value take = arith::OrIOp::create(b, l, none,
                                              ranksBefore(b, l, largest, v, i, best, bestIndex));
            if (j > 0)
              take = arith::AndIOp::create(b, l, take, ranksBefore(b, l, largest, a[1], a[2], v, i));
            linalg::YieldOp::create(b, l,
                                    ValueRange{arith::SelectOp::create(b, l, take, v, best),
                                               arith::SelectOp::create(b, l, take, i, bestIndex)});
          });
      previousValue = pick.getResult(0);
      previousIndex = pick.getResult(1);
      valuePieces.push_back(reshapeTo(rewriter, loc, previousValue,
                                      RankedTensorType::get(pieceShape, element)));
      indexPieces.push_back(reshapeTo(rewriter, loc, previousIndex,
                                      RankedTensorType::get(pieceShape, indexElement)));
    }
    auto join = [&](RankedTensorType type, SmallVector<Value> &pieces) -> Value {
      if (pieces.empty())
        return tensor::EmptyOp::create(rewriter, loc, type.getShape(), type.getElementType());
      if (pieces.size() == 1)
        return pieces.front();
      return tensor::ConcatOp::create(rewriter, loc, type, axis, pieces);
    };
    return {join(valuesType, valuePieces), join(indicesType, indexPieces)};
  }

  /// Large k: one loop nest over the rows; each row's k best are found by k scans, each taking
  /// the best element that ranks after the previous pick (value, then lower index first), so
  /// ties keep ONNX's order and no scratch memory is needed. The CUDA target refuses it.
  SmallVector<Value> lowerAsScans(TopKOp op, PatternRewriter &rewriter) const {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto valuesType = resultTypeOf(op, 0), indicesType = resultTypeOf(op, 1);
    int64_t axis = positiveAxis(op.getAxis(), input.getRank());
    int64_t n = input.getDimSize(axis), k = static_cast<int64_t>(op.getK());
    bool largest = op.getLargest();
    Type element = input.getElementType();
    Location loc = op.getLoc();
    Value data = op.getInput();
    SmallVector<int64_t> rowShape(input.getShape());
    rowShape.erase(rowShape.begin() + axis);
    int64_t rows = 1;
    for (int64_t d : rowShape)
      rows *= d;
    Value values = tensor::EmptyOp::create(rewriter, loc, valuesType.getShape(), element);
    Value idx = tensor::EmptyOp::create(rewriter, loc, indicesType.getShape(),
                                        indicesType.getElementType());
    SmallVector<Value> results = buildLoop(
        rewriter, loc, arith::ConstantIndexOp::create(rewriter, loc, 0),
        arith::ConstantIndexOp::create(rewriter, loc, rows), {values, idx},
        [&](OpBuilder &b, Location l, Value row, ValueRange carried) -> SmallVector<Value> {
          SmallVector<Value> rowAt = delinearize(b, l, row, rowShape);
          auto at = [&](Value i) {
            SmallVector<Value> full(rowAt);
            full.insert(full.begin() + axis, i);
            return full;
          };
          Value noIndex = arith::ConstantIndexOp::create(b, l, -1);
          Value worst = largest ? lowestValue(b, l, element) : highestValue(b, l, element);
          // Carried: output tensors, the previous pick (value, index).
          SmallVector<Value> init = {carried[0], carried[1], worst, noIndex};
          auto picks = scf::ForOp::create(
              b, l, arith::ConstantIndexOp::create(b, l, 0),
              arith::ConstantIndexOp::create(b, l, k), arith::ConstantIndexOp::create(b, l, 1),
              init, [&](OpBuilder &pb, Location pl, Value j, ValueRange state) {
                Value prevV = state[2], prevI = state[3];
                Value first =
                    arith::CmpIOp::create(pb, pl, arith::CmpIPredicate::eq, prevI, noIndex);
                // Best element ranking after (prevV, prevI).
                SmallVector<Value> scanInit = {worst, noIndex};
                auto scan = scf::ForOp::create(
                    pb, pl, arith::ConstantIndexOp::create(pb, pl, 0),
                    arith::ConstantIndexOp::create(pb, pl, n),
                    arith::ConstantIndexOp::create(pb, pl, 1), scanInit,
                    [&](OpBuilder &sb, Location sl, Value i, ValueRange best) {
                      Value v = tensor::ExtractOp::create(sb, sl, data, at(i));
                      Value after =
                          arith::OrIOp::create(sb, sl, first, ranksBefore(sb, sl, largest, prevV, prevI, v, i));
                      Value none =
                          arith::CmpIOp::create(sb, sl, arith::CmpIPredicate::eq, best[1], noIndex);
                      Value wins = arith::OrIOp::create(sb, sl, none,
                                                        ranksBefore(sb, sl, largest, v, i, best[0], best[1]));
                      Value take = arith::AndIOp::create(sb, sl, after, wins);
                      scf::YieldOp::create(
                          sb, sl,
                          ValueRange{arith::SelectOp::create(sb, sl, take, v, best[0]),
                                     arith::SelectOp::create(sb, sl, take, i, best[1])});
                    });
                Value bestV = scan.getResult(0), bestI = scan.getResult(1);
                SmallVector<Value> outAt = at(j);
                Value newValues = tensor::InsertOp::create(pb, pl, bestV, state[0], outAt);
                Value index64 =
                    arith::IndexCastOp::create(pb, pl, indicesType.getElementType(), bestI);
                Value newIndices = tensor::InsertOp::create(pb, pl, index64, state[1], outAt);
                scf::YieldOp::create(pb, pl, ValueRange{newValues, newIndices, bestV, bestI});
              });
          return {picks.getResult(0), picks.getResult(1)};
        });
    return results;
  }
};

} // namespace

void mlir::catfish::populateDataMovementToLinalgPatterns(RewritePatternSet &patterns,
                                                         bool scatterAsSelections) {
  patterns.add<ConstantLowering, ReshapeLowering, TransposeLowering, BroadcastLowering,
               TileLowering, TriluLowering, SliceLowering, ConcatLowering, SplitLowering,
               PadLowering, GatherLowering, GatherElementsLowering, GatherNdLowering,
               OneHotLowering, TopKLowering, RangeLowering, FillLowering>(patterns.getContext());
  patterns.add<ScatterElementsLowering, ScatterNdLowering>(patterns.getContext(),
                                                           scatterAsSelections);
}
