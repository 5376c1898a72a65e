//===- ShapeOps.cpp - shape, data movement and indexing ops --------------===//
#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::catfish;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Length of a 1-D shape-like operand, or fails with a diagnostic.
static FailureOr<int64_t> shapeOperandLength(std::optional<Location> loc, Value v,
                                             StringRef what) {
  RankedTensorType type = rankedType(v);
  if (type.getRank() != 1)
    return emitOptionalError(loc, what, " must be a 1-D tensor, got ", type);
  if (type.isDynamicDim(0))
    return emitOptionalError(loc, "the length of ", what, " must be static");
  return type.getDimSize(0);
}

static bool isSmallStatic(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.hasStaticShape() && t.getNumElements() <= kMaxFoldElements;
}

/// Gathers elements of `input` into `resultType` by mapping each result index to a source index.
static Attribute remapElements(Attribute input, Type resultType,
                               function_ref<int64_t(int64_t)> sourceIndex) {
  auto elements = dyn_cast_if_present<DenseElementsAttr>(input);
  if (!elements || !isSmallStatic(resultType))
    return {};
  auto type = cast<RankedTensorType>(resultType);
  if (elements.isSplat())
    return elements.resizeSplat(type);
  auto values = llvm::to_vector(elements.getValues<Attribute>());
  SmallVector<Attribute> result;
  result.reserve(type.getNumElements());
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
    result.push_back(values[sourceIndex(i)]);
  return DenseElementsAttr::get(type, result);
}

/// Row-major strides of a static shape.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

//===----------------------------------------------------------------------===//
// shape, size
//===----------------------------------------------------------------------===//

static std::pair<int64_t, int64_t> shapeRange(int64_t rank, int64_t start,
                                              std::optional<int64_t> end) {
  auto clampDim = [&](int64_t d) { return std::clamp(d < 0 ? d + rank : d, int64_t(0), rank); };
  int64_t s = clampDim(start);
  int64_t e = end ? clampDim(*end) : rank;
  return {s, std::max(s, e)};
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>,
                                        Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto [s, e] = shapeRange(rankedType(adaptor.getInput()).getRank(), adaptor.getStart(),
                           adaptor.getEnd());
  inferred.push_back(RankedTensorType::get({e - s}, IntegerType::get(ctx, 64)));
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  RankedTensorType type = getInput().getType();
  auto [s, e] = shapeRange(type.getRank(), getStart(), getEnd());
  ArrayRef<int64_t> dims = type.getShape().slice(s, e - s);
  if (ShapedType::isDynamicShape(dims))
    return {};
  return DenseIntElementsAttr::get(cast<ShapedType>(getType()), dims);
}

LogicalResult SizeOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  inferred.push_back(RankedTensorType::get({}, IntegerType::get(ctx, 64)));
  return success();
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  RankedTensorType type = getInput().getType();
  if (!type.hasStaticShape())
    return {};
  return DenseIntElementsAttr::get(cast<ShapedType>(getType()), {type.getNumElements()});
}

//===----------------------------------------------------------------------===//
// reshape
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> rank = shapeOperandLength(loc, adaptor.getShape(), "reshape shape");
  if (failed(rank))
    return failure();
  std::optional<SmallVector<int64_t>> requested = getConstantIntValues(adaptor.getShape());
  if (!requested) {
    inferred.push_back(RankedTensorType::get(SmallVector<int64_t>(*rank, kDyn),
                                             input.getElementType()));
    return success();
  }
  SmallVector<int64_t> dims(*requested);
  int64_t inferIndex = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d == 0 && !adaptor.getAllowzero()) {
      if (static_cast<int64_t>(i) >= input.getRank())
        return emitOptionalError(loc, "reshape dim ", i, " is 0 (copy) but the input has rank ",
                                 input.getRank());
      d = input.getDimSize(i);
    }
    if (d == -1) {
      if (inferIndex >= 0)
        return emitOptionalError(loc, "reshape shape has more than one -1");
      inferIndex = i;
      continue;
    }
    if (d < -1)
      return emitOptionalError(loc, "reshape dim ", i, " is negative (", d, ")");
    if (ShapedType::isDynamic(d) || ShapedType::isDynamic(known))
      known = kDyn;
    else if (__builtin_mul_overflow(known, d, &known))
      return emitOptionalError(loc, "reshape shape [", ArrayRef<int64_t>(*requested),
                               "] has more than 2^63 elements");
  }
  if (input.hasStaticShape() && !ShapedType::isDynamic(known)) {
    int64_t total = input.getNumElements();
    if (inferIndex >= 0) {
      if (known == 0 || total % known != 0)
        return emitOptionalError(loc, "cannot reshape ", total, " elements into [",
                                 ArrayRef<int64_t>(*requested), "]");
      dims[inferIndex] = total / known;
    } else if (known != total) {
      return emitOptionalError(loc, "cannot reshape ", input, " (", total,
                               " elements) into [", ArrayRef<int64_t>(dims), "] (", known,
                               " elements)");
    }
  } else if (inferIndex >= 0) {
    dims[inferIndex] = kDyn;
  }
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

bool catfish::isBufferView(Operation *op) {
  auto reshape = dyn_cast<ReshapeOp>(op);
  return reshape && rankedType(reshape.getInput()).hasStaticShape() &&
         rankedType(reshape.getOutput()).hasStaticShape();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getType());
  if (getInput().getType() == type && type.hasStaticShape())
    return getInput();
  // reshape(reshape(x)) is reshape(x) unless the outer shape copies input dims (0 entries).
  auto shape = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getShape());
  if (auto producer = getInput().getDefiningOp<ReshapeOp>();
      producer && type.hasStaticShape() && shape &&
      llvm::none_of(shape.getValues<APInt>(), [](const APInt &d) { return d.isZero(); })) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (input && type.hasStaticShape() && (input.isSplat() || isSmallStatic(type)))
    return input.reshape(type);
  return {};
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (static_cast<int64_t>(perm.size()) != input.getRank())
    return emitOptionalError(loc, "perm has ", perm.size(), " entries but the input has rank ",
                             input.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> dims;
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank() || seen[p])
      return emitOptionalError(loc, "perm [", perm, "] is not a permutation of [0, ",
                               input.getRank(), ")");
    seen[p] = true;
    dims.push_back(input.getDimSize(p));
  }
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())) &&
      getInput().getType() == getType())
    return getInput();
  if (!adaptor.getInput() || !getInput().getType().hasStaticShape())
    return {};
  ArrayRef<int64_t> inShape = getInput().getType().getShape();
  auto outType = cast<RankedTensorType>(getType());
  SmallVector<int64_t> inStrides = stridesOf(inShape);
  ArrayRef<int64_t> outShape = outType.getShape();
  return remapElements(adaptor.getInput(), outType, [&](int64_t flat) {
    int64_t src = 0;
    for (int64_t i = outShape.size() - 1; i >= 0; --i) {
      src += (flat % outShape[i]) * inStrides[perm[i]];
      flat /= outShape[i];
    }
    return src;
  });
}

//===----------------------------------------------------------------------===//
// concat, split
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "concat needs at least one input");
  RankedTensorType first = rankedType(inputs.front());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), first.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> dims(first.getShape());
  dims[*axis] = 0;
  for (Value v : inputs) {
    RankedTensorType t = rankedType(v);
    if (t.getElementType() != first.getElementType() || t.getRank() != first.getRank())
      return emitOptionalError(loc, "concat inputs differ: ", first, " vs ", t);
    for (int64_t d = 0; d < t.getRank(); ++d) {
      int64_t size = t.getDimSize(d);
      if (d == *axis) {
        dims[d] = ShapedType::isDynamic(size) || ShapedType::isDynamic(dims[d]) ? kDyn
                                                                               : dims[d] + size;
      } else if (ShapedType::isDynamic(dims[d])) {
        dims[d] = size;
      } else if (!ShapedType::isDynamic(size) && size != dims[d]) {
        return emitOptionalError(loc, "concat inputs ", first, " and ", t,
                                 " differ in dim ", d, " (not the concat axis ", *axis, ")");
      }
    }
  }
  inferred.push_back(RankedTensorType::get(dims, first.getElementType()));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  auto type = cast<RankedTensorType>(getType());
  if (!isSmallStatic(type) || type.getRank() != 1)
    return {};
  SmallVector<Attribute> values;
  for (Attribute operand : adaptor.getInputs()) {
    auto elements = dyn_cast_if_present<DenseElementsAttr>(operand);
    if (!elements)
      return {};
    llvm::append_range(values, elements.getValues<Attribute>());
  }
  return DenseElementsAttr::get(type, values);
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return failure();
  int64_t total = 0;
  for (int64_t size : adaptor.getSizes()) {
    if (size < 0)
      return emitOptionalError(loc, "split sizes must be non-negative");
    total += size;
    SmallVector<int64_t> dims(input.getShape());
    dims[*axis] = size;
    inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  }
  if (!input.isDynamicDim(*axis) && total != input.getDimSize(*axis))
    return emitOptionalError(loc, "split sizes add up to ", total, " but dim ", *axis, " is ",
                             input.getDimSize(*axis));
  return success();
}

//===----------------------------------------------------------------------===//
// slice
//===----------------------------------------------------------------------===//

namespace {
/// One sliced dim, resolved with ONNX clamping rules.
} // namespace

static SliceDim resolveSliceDim(int64_t dim, int64_t start, int64_t end, int64_t step) {
  auto resolve = [&](int64_t v, bool forStart) {
    if (v < 0)
      v += dim;
    if (step > 0)
      return std::clamp(v, int64_t(0), dim);
    return std::clamp(v, int64_t(-1), dim - 1 + (forStart ? 0 : 0));
  };
  int64_t s = resolve(start, true), e = resolve(end, false);
  int64_t size = step > 0 ? (e - s + step - 1) / step : (s - e + (-step) - 1) / (-step);
  return {s, step, std::max<int64_t>(size, 0)};
}

/// The resolved per-dim slices, or nullopt when starts/ends/axes/steps are not constant.
static FailureOr<std::optional<SmallVector<SliceDim>>>
resolveSlice(std::optional<Location> loc, RankedTensorType input, Value starts, Value ends,
             Value axes, Value steps) {
  auto s = getConstantIntValues(starts), e = getConstantIntValues(ends);
  std::optional<SmallVector<int64_t>> a, st;
  if (axes)
    a = getConstantIntValues(axes);
  if (steps)
    st = getConstantIntValues(steps);
  if (!s || !e || (axes && !a) || (steps && !st))
    return std::optional<SmallVector<SliceDim>>();
  if (s->size() != e->size() || (a && a->size() != s->size()) || (st && st->size() != s->size()))
    return emitOptionalError(loc, "slice starts, ends, axes and steps differ in length");
  SmallVector<SliceDim> dims;
  for (int64_t d : input.getShape())
    dims.push_back({0, 1, d});
  SmallVector<bool> seen(input.getRank(), false);
  for (size_t i = 0; i < s->size(); ++i) {
    FailureOr<int64_t> axis = normalizeAxis(loc, a ? (*a)[i] : i, input.getRank(), "slice axis");
    if (failed(axis))
      return failure();
    if (seen[*axis])
      return emitOptionalError(loc, "slice axis ", *axis, " is repeated");
    seen[*axis] = true;
    int64_t step = st ? (*st)[i] : 1;
    if (step == 0)
      return emitOptionalError(loc, "slice step must not be 0");
    int64_t dim = input.getDimSize(*axis);
    dims[*axis] = ShapedType::isDynamic(dim) ? SliceDim{0, step, kDyn}
                                             : resolveSliceDim(dim, (*s)[i], (*e)[i], step);
  }
  return std::optional<SmallVector<SliceDim>>(dims);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  auto resolved = resolveSlice(loc, input, adaptor.getStarts(), adaptor.getEnds(),
                               adaptor.getAxes(), adaptor.getSteps());
  if (failed(resolved))
    return failure();
  SmallVector<int64_t> dims(input.getRank(), kDyn);
  if (*resolved)
    for (auto [i, d] : llvm::enumerate(**resolved))
      dims[i] = d.size;
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

std::optional<SmallVector<SliceDim>> SliceOp::getResolvedDims() {
  auto resolved = resolveSlice(std::nullopt, getInput().getType(), getStarts(), getEnds(),
                               getAxes(), getSteps());
  if (failed(resolved))
    return std::nullopt;
  return *resolved;
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  RankedTensorType input = getInput().getType();
  if (input == getType() && input.hasStaticShape()) {
    auto resolved = resolveSlice(std::nullopt, input, getStarts(), getEnds(), getAxes(),
                                 getSteps());
    if (succeeded(resolved) && *resolved &&
        llvm::all_of(**resolved, [](const SliceDim &d) { return d.step == 1; }))
      return getInput();
  }
  if (!input.hasStaticShape())
    return {};
  auto resolved =
      resolveSlice(std::nullopt, input, getStarts(), getEnds(), getAxes(), getSteps());
  if (failed(resolved) || !*resolved)
    return {};
  auto outType = cast<RankedTensorType>(getType());
  SmallVector<int64_t> inStrides = stridesOf(input.getShape());
  ArrayRef<int64_t> outShape = outType.getShape();
  return remapElements(adaptor.getInput(), outType, [&](int64_t flat) {
    int64_t src = 0;
    for (int64_t i = outShape.size() - 1; i >= 0; --i) {
      const SliceDim &d = (**resolved)[i];
      src += (d.start + (flat % outShape[i]) * d.step) * inStrides[i];
      flat /= outShape[i];
    }
    return src;
  });
}

/// A split of a small constant: each piece is a constant (shape arithmetic splits shapes). Every
/// piece is checked first, so the fold gives all results or none.
LogicalResult SplitOp::fold(FoldAdaptor adaptor, SmallVectorImpl<OpFoldResult> &results) {
  RankedTensorType input = getInput().getType();
  if (!isa_and_present<DenseElementsAttr>(adaptor.getInput()) || !isSmallStatic(input) ||
      !llvm::all_of(getOutputs().getTypes(), isSmallStatic))
    return failure();
  int64_t axis = *normalizeAxis(std::nullopt, getAxis(), input.getRank());
  SmallVector<int64_t> inStrides = stridesOf(input.getShape());
  int64_t offset = 0;
  for (Value piece : getOutputs()) {
    auto type = cast<RankedTensorType>(piece.getType());
    ArrayRef<int64_t> shape = type.getShape();
    Attribute folded = remapElements(adaptor.getInput(), type, [&](int64_t flat) {
      int64_t src = 0;
      for (int64_t i = shape.size() - 1; i >= 0; --i) {
        src += ((flat % shape[i]) + (i == axis ? offset : 0)) * inStrides[i];
        flat /= shape[i];
      }
      return src;
    });
    if (!folded)
      return failure();
    results.push_back(folded);
    offset += shape[axis];
  }
  return success();
}

//===----------------------------------------------------------------------===//
// broadcast, tile, pad
//===----------------------------------------------------------------------===//

LogicalResult BroadcastOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> rank = shapeOperandLength(loc, adaptor.getShape(), "broadcast shape");
  if (failed(rank))
    return failure();
  std::optional<SmallVector<int64_t>> shape = getConstantIntValues(adaptor.getShape());
  if (!shape) {
    SmallVector<int64_t> dims(std::max<int64_t>(*rank, input.getRank()), kDyn);
    inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
    return success();
  }
  FailureOr<SmallVector<int64_t>> dims = broadcastShapes(loc, input.getShape(), *shape);
  if (failed(dims))
    return failure();
  inferred.push_back(RankedTensorType::get(*dims, input.getElementType()));
  return success();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getType());
  if (getInput().getType() == type && type.hasStaticShape())
    return getInput();
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (input && input.isSplat() && type.hasStaticShape())
    return input.resizeSplat(type);
  ArrayRef<int64_t> outShape = type.getShape();
  ArrayRef<int64_t> inShape = getInput().getType().getShape();
  return remapElements(input, type, [&](int64_t flat) {
    return broadcastSourceIndex(outShape, inShape, flat);
  });
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> len = shapeOperandLength(loc, adaptor.getRepeats(), "tile repeats");
  if (failed(len))
    return failure();
  if (*len != input.getRank())
    return emitOptionalError(loc, "tile repeats has ", *len, " entries but the input has rank ",
                             input.getRank());
  SmallVector<int64_t> dims(input.getRank(), kDyn);
  if (auto repeats = getConstantIntValues(adaptor.getRepeats())) {
    for (auto [i, r] : llvm::enumerate(*repeats)) {
      if (r < 0)
        return emitOptionalError(loc, "tile repeats must be non-negative");
      dims[i] = input.isDynamicDim(i) ? kDyn : input.getDimSize(i) * r;
    }
  }
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> len = shapeOperandLength(loc, adaptor.getPads(), "pads");
  if (failed(len))
    return failure();
  if (*len != 2 * input.getRank())
    return emitOptionalError(loc, "pads has ", *len, " entries; expected 2 x rank = ",
                             2 * input.getRank());
  SmallVector<int64_t> dims(input.getRank(), kDyn);
  if (auto pads = getConstantIntValues(adaptor.getPads())) {
    for (int64_t i = 0; i < input.getRank(); ++i) {
      if (input.isDynamicDim(i))
        continue;
      dims[i] = input.getDimSize(i) + (*pads)[i] + (*pads)[i + input.getRank()];
      if (dims[i] < 0)
        return emitOptionalError(loc, "pads crop dim ", i, " below zero");
    }
  }
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// gather, scatter
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType indices = rankedType(adaptor.getIndices());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> dims(input.getShape().take_front(*axis));
  llvm::append_range(dims, indices.getShape());
  llvm::append_range(dims, input.getShape().drop_front(*axis + 1));
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  RankedTensorType input = getInput().getType();
  auto indices = getConstantIntValues(getIndices());
  if (!indices || !input.hasStaticShape())
    return {};
  int64_t axis = static_cast<int64_t>(getAxis());
  axis = axis < 0 ? axis + input.getRank() : axis;
  int64_t axisDim = input.getDimSize(axis);
  int64_t inner = 1;
  for (int64_t d : input.getShape().drop_front(axis + 1))
    inner *= d;
  int64_t numIndices = indices->size();
  for (int64_t &i : *indices) {
    if (i < -axisDim || i >= axisDim)
      return {};
    i = i < 0 ? i + axisDim : i;
  }
  return remapElements(adaptor.getInput(), getType(), [&](int64_t flat) {
    int64_t innerIdx = flat % inner;
    int64_t idx = (flat / inner) % numIndices;
    int64_t outer = flat / inner / numIndices;
    return (outer * axisDim + (*indices)[idx]) * inner + innerIdx;
  });
}

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType indices = rankedType(adaptor.getIndices());
  if (input.getRank() != indices.getRank())
    return emitOptionalError(loc, "indices rank ", indices.getRank(),
                             " differs from the input rank ", input.getRank());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return failure();
  // Off the axis the indices address the input's own positions: they cannot reach past it.
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (d != *axis && !input.isDynamicDim(d) && !indices.isDynamicDim(d) &&
        indices.getDimSize(d) > input.getDimSize(d))
      return emitOptionalError(loc, "gather_elements indices ", indices, " exceed the input ",
                               input, " in dim ", d);
  inferred.push_back(indices.clone(input.getElementType()));
  return success();
}

LogicalResult GatherNdOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                           Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType indices = rankedType(adaptor.getIndices());
  int64_t b = adaptor.getBatchDims();
  if (indices.getRank() < 1 || indices.isDynamicDim(indices.getRank() - 1))
    return emitOptionalError(loc, "gather_nd indices need a static last dim");
  int64_t depth = indices.getDimSize(indices.getRank() - 1);
  if (b < 0 || b + depth > input.getRank() || b >= indices.getRank())
    return emitOptionalError(loc, "gather_nd index depth ", depth, " with batch_dims ", b,
                             " does not fit input rank ", input.getRank());
  SmallVector<int64_t> dims(indices.getShape().drop_back());
  llvm::append_range(dims, input.getShape().drop_front(b + depth));
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (rankedType(adaptor.getIndices()).getShape() != rankedType(adaptor.getUpdates()).getShape())
    return emitOptionalError(loc, "scatter indices and updates differ in shape");
  if (failed(normalizeAxis(loc, adaptor.getAxis(), input.getRank())))
    return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult ScatterNdOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  inferred.push_back(rankedType(adaptor.getInput()));
  return success();
}

//===----------------------------------------------------------------------===//
// fill, range, non_zero, one_hot, trilu, cumsum, reverse, resize
//===----------------------------------------------------------------------===//

LogicalResult FillOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  FailureOr<int64_t> rank = shapeOperandLength(loc, adaptor.getShape(), "fill shape");
  if (failed(rank))
    return failure();
  Type elementType = cast<TypedAttr>(adaptor.getValue()).getType();
  std::optional<SmallVector<int64_t>> shape = getConstantIntValues(adaptor.getShape());
  if (shape && llvm::any_of(*shape, [](int64_t d) { return d < 0; }))
    return emitOptionalError(loc, "fill shape has a negative dim");
  inferred.push_back(RankedTensorType::get(shape ? *shape : SmallVector<int64_t>(*rank, kDyn),
                                           elementType));
  return success();
}

OpFoldResult FillOp::fold(FoldAdaptor) {
  // A large fill stays a kernel: folded, the artifact would store every element as a weight.
  auto type = cast<RankedTensorType>(getType());
  if (!type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return {};
  return SplatElementsAttr::get(type, getValueAttr());
}

LogicalResult RangeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  Type et = getElementTypeOrSelf(adaptor.getStart());
  for (Value v : {adaptor.getStart(), adaptor.getLimit(), adaptor.getDelta()})
    if (getElementTypeOrSelf(v) != et ||
        (rankedType(v).hasStaticShape() && rankedType(v).getNumElements() != 1))
      return emitOptionalError(loc, "range start, limit and delta must be scalars of one type");
  int64_t count = kDyn;
  DenseElementsAttr s, l, d;
  if (std::optional<int64_t> bound = adaptor.getBound()) {
    count = *bound;
  } else if (matchPattern(adaptor.getStart(), m_Constant(&s)) &&
      matchPattern(adaptor.getLimit(), m_Constant(&l)) &&
      matchPattern(adaptor.getDelta(), m_Constant(&d))) {
    auto asDouble = [](DenseElementsAttr a) {
      if (isa<FloatType>(a.getElementType()))
        return (*a.getValues<APFloat>().begin()).convertToDouble();
      return static_cast<double>((*a.getValues<APInt>().begin()).getSExtValue());
    };
    double delta = asDouble(d);
    if (delta == 0)
      return emitOptionalError(loc, "range delta must not be 0");
    double elements = std::ceil((asDouble(l) - asDouble(s)) / delta);
    // NaN bounds, and counts no tensor could hold, are errors, not a cast out of range.
    if (!(elements < 9.0e18))
      return emitOptionalError(loc, "range of ", elements, " elements is too long");
    count = std::max<int64_t>(0, static_cast<int64_t>(elements));
  }
  inferred.push_back(RankedTensorType::get({count}, et));
  return success();
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  auto type = cast<RankedTensorType>(getType());
  auto start = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getStart());
  auto delta = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getDelta());
  if (!start || !delta || !isSmallStatic(type) || getBound())
    return {};
  APInt value = *start.getValues<APInt>().begin();
  APInt step = *delta.getValues<APInt>().begin();
  SmallVector<APInt> values;
  for (int64_t i = 0; i < type.getNumElements(); ++i, value += step)
    values.push_back(value);
  return DenseElementsAttr::get(type, values);
}

LogicalResult NonZeroOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>,
                                          Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  int64_t bound = input.hasStaticShape() ? input.getNumElements() : kDyn;
  auto i64 = IntegerType::get(ctx, 64);
  inferred.push_back(RankedTensorType::get({std::max<int64_t>(input.getRank(), 1), bound}, i64));
  inferred.push_back(RankedTensorType::get({}, i64));
  return success();
}

LogicalResult UniqueOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType values;
  int64_t bound;
  if (std::optional<int64_t> axisAttr = adaptor.getAxis()) {
    FailureOr<int64_t> axis = normalizeAxis(loc, *axisAttr, input.getRank());
    if (failed(axis))
      return failure();
    values = input;
    bound = input.getDimSize(*axis);
  } else {
    bound = input.hasStaticShape() ? input.getNumElements() : kDyn;
    values = RankedTensorType::get({bound}, input.getElementType());
  }
  auto i64 = IntegerType::get(ctx, 64);
  auto perSlice = RankedTensorType::get({bound}, i64);
  inferred.append({values, perSlice, perSlice, perSlice, RankedTensorType::get({}, i64)});
  return success();
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType indices = rankedType(adaptor.getIndices());
  RankedTensorType values = rankedType(adaptor.getValues());
  if (values.getRank() != 1 || (!values.isDynamicDim(0) && values.getDimSize(0) != 2))
    return emitOptionalError(loc, "one_hot values must be [off_value, on_value]");
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), indices.getRank() + 1);
  if (failed(axis))
    return failure();
  int64_t depth = kDyn;
  DenseElementsAttr depthAttr;
  if (matchPattern(adaptor.getDepth(), m_Constant(&depthAttr))) {
    depth = isa<FloatType>(depthAttr.getElementType())
                ? static_cast<int64_t>((*depthAttr.getValues<APFloat>().begin()).convertToDouble())
                : (*depthAttr.getValues<APInt>().begin()).getSExtValue();
    if (depth <= 0)
      return emitOptionalError(loc, "one_hot depth must be positive, got ", depth);
  }
  SmallVector<int64_t> dims(indices.getShape());
  dims.insert(dims.begin() + *axis, depth);
  inferred.push_back(RankedTensorType::get(dims, values.getElementType()));
  return success();
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (input.getRank() < 2)
    return emitOptionalError(loc, "trilu needs a rank >= 2 input, got ", input);
  inferred.push_back(input);
  return success();
}

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (failed(normalizeAxis(loc, adaptor.getAxis(), input.getRank())))
    return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult ReverseOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  for (int64_t axis : adaptor.getAxes())
    if (failed(normalizeAxis(loc, axis, input.getRank())))
      return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> len = shapeOperandLength(loc, adaptor.getSizes(), "resize sizes");
  if (failed(len))
    return failure();
  if (*len != input.getRank())
    return emitOptionalError(loc, "resize sizes has ", *len, " entries but the input has rank ",
                             input.getRank());
  std::optional<SmallVector<int64_t>> sizes = getConstantIntValues(adaptor.getSizes());
  inferred.push_back(RankedTensorType::get(
      sizes ? *sizes : SmallVector<int64_t>(input.getRank(), kDyn), input.getElementType()));
  return success();
}
