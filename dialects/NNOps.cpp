//===- NNOps.cpp - matmul, convolution, pooling, normalization, attention -===//
#include "catfish/Dialect/Catfish.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::catfish;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Two dims that must agree: the static one wins; a conflict is reported.
static FailureOr<int64_t> unifyDims(std::optional<Location> loc, int64_t a, int64_t b,
                                    const Twine &what) {
  if (ShapedType::isDynamic(a))
    return b;
  if (ShapedType::isDynamic(b) || a == b)
    return a;
  return emitOptionalError(loc, what, ": ", a, " vs ", b);
}

//===----------------------------------------------------------------------===//
// matmul, einsum
//===----------------------------------------------------------------------===//

LogicalResult NonMaxSuppressionOp::inferReturnTypes(MLIRContext *ctx,
                                                    std::optional<Location> loc, Adaptor adaptor,
                                                    SmallVectorImpl<Type> &inferred) {
  auto boxes = cast<RankedTensorType>(adaptor.getBoxes().getType());
  auto scores = cast<RankedTensorType>(adaptor.getScores().getType());
  if (boxes.getRank() != 3 || scores.getRank() != 3)
    return emitOptionalError(loc, "non_max_suppression takes boxes [B, N, 4] and scores "
                                  "[B, C, N], got ",
                             boxes, " and ", scores);
  auto agree = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  if (!agree(boxes.getDimSize(2), 4) || !agree(boxes.getDimSize(0), scores.getDimSize(0)) ||
      !agree(boxes.getDimSize(1), scores.getDimSize(2)))
    return emitOptionalError(loc, "non_max_suppression boxes ", boxes, " and scores ", scores,
                             " do not agree (boxes [B, N, 4], scores [B, C, N])");
  int64_t perClass = adaptor.getBoundPerClass();
  if (perClass < 0)
    return emitOptionalError(loc, "non_max_suppression bound_per_class must not be negative");
  int64_t bound = ShapedType::kDynamic;
  if (!scores.isDynamicDim(0) && !scores.isDynamicDim(1))
    bound = scores.getDimSize(0) * scores.getDimSize(1) * perClass;
  auto i64 = IntegerType::get(ctx, 64);
  inferred.push_back(RankedTensorType::get({bound, 3}, i64));
  inferred.push_back(RankedTensorType::get({}, i64));
  return success();
}

LogicalResult DetOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank();
  if (rank < 2 || (!input.isDynamicDim(rank - 1) && !input.isDynamicDim(rank - 2) &&
                   input.getDimSize(rank - 1) != input.getDimSize(rank - 2)))
    return emitOptionalError(loc, "det takes [..., M, M] matrices, got ", input);
  inferred.push_back(RankedTensorType::get(input.getShape().drop_back(2), input.getElementType()));
  return success();
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType lhs = rankedType(adaptor.getLhs()), rhs = rankedType(adaptor.getRhs());
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return emitOptionalError(loc, "matmul operands must not be scalars");
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "matmul operand element types differ: ",
                             lhs.getElementType(), " vs ", rhs.getElementType());
  SmallVector<int64_t> l(lhs.getShape()), r(rhs.getShape());
  bool lhsVector = l.size() == 1, rhsVector = r.size() == 1;
  if (lhsVector)
    l.insert(l.begin(), 1);
  if (rhsVector)
    r.push_back(1);
  if (failed(unifyDims(loc, l.back(), r[r.size() - 2],
                       Twine("matmul contraction dims differ for ") + std::to_string(lhs.getRank()) +
                           "-D x " + std::to_string(rhs.getRank()) + "-D operands")))
    return failure();
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes(loc, ArrayRef<int64_t>(l).drop_back(2), ArrayRef<int64_t>(r).drop_back(2));
  if (failed(batch))
    return failure();
  SmallVector<int64_t> dims(*batch);
  if (!lhsVector)
    dims.push_back(l[l.size() - 2]);
  if (!rhsVector)
    dims.push_back(r.back());
  inferred.push_back(RankedTensorType::get(dims, lhs.getElementType()));
  return success();
}

LogicalResult PackedMatMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                               Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType lhs = rankedType(adaptor.getLhs()), packed = rankedType(adaptor.getPacked());
  if (lhs.getRank() < 2 || packed.getRank() != 3)
    return emitOptionalError(loc, "packed_matmul takes [..., M, K] by packed [N / P, K, P], got ",
                             lhs, " and ", packed);
  if (lhs.getElementType() != packed.getElementType())
    return emitOptionalError(loc, "packed_matmul operand element types differ: ",
                             lhs.getElementType(), " vs ", packed.getElementType());
  if (failed(unifyDims(loc, lhs.getShape().back(), packed.getDimSize(1),
                       "packed_matmul contraction dims differ")))
    return failure();
  SmallVector<int64_t> dims(lhs.getShape().drop_back());
  dims.push_back(packed.isDynamicDim(0) || packed.isDynamicDim(2)
                     ? kDyn
                     : packed.getDimSize(0) * packed.getDimSize(2));
  inferred.push_back(RankedTensorType::get(dims, lhs.getElementType()));
  return success();
}

FailureOr<EinsumLabels> mlir::catfish::resolveEinsum(std::optional<Location> loc,
                                                     StringRef equationText, TypeRange inputTypes) {
  std::string equation;
  for (char c : equationText)
    if (c != ' ')
      equation.push_back(c);
  StringRef eq(equation);
  auto [lhsText, rhsText] = eq.split("->");
  bool explicitOutput = eq.contains("->");
  SmallVector<StringRef> terms;
  lhsText.split(terms, ',');
  if (terms.size() != inputTypes.size())
    return emitOptionalError(loc, "einsum equation '", equationText, "' has ", terms.size(),
                             " inputs but the op has ", inputTypes.size());
  // Labels 0..25 are letters a-z, 26..51 are A-Z; ellipsis dims come after, right-aligned.
  constexpr int64_t kLetters = 52;
  auto letterLabel = [](char c) -> int64_t {
    return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26;
  };
  EinsumLabels labels;
  labels.sizes.assign(kLetters, 1);
  SmallVector<int> count(kLetters, 0);
  SmallVector<bool> seen(kLetters, false);
  int64_t ellipsisRank = 0;
  SmallVector<int64_t> termEllipsis;
  for (auto [term, type] : llvm::zip(terms, inputTypes)) {
    auto ranked = cast<RankedTensorType>(type);
    int64_t letters = llvm::count_if(term, llvm::isAlpha);
    int64_t rank = ranked.getRank() - letters;
    if ((!term.contains("...") && rank != 0) || rank < 0)
      return emitOptionalError(loc, "einsum term '", term, "' does not match operand ", type);
    termEllipsis.push_back(rank);
    ellipsisRank = std::max(ellipsisRank, rank);
  }
  SmallVector<int64_t> ellipsisSizes(ellipsisRank, 1);
  for (auto [term, type, rank] : llvm::zip(terms, inputTypes, termEllipsis)) {
    auto ranked = cast<RankedTensorType>(type);
    SmallVector<int64_t> dims;
    int64_t d = 0;
    auto unify = [&](int64_t &known, int64_t size, StringRef what) -> LogicalResult {
      if (known == 1 || ShapedType::isDynamic(known))
        known = size;
      else if (size != 1 && !ShapedType::isDynamic(size) && size != known)
        return emitOptionalError(loc, "einsum ", what, " has sizes ", known, " and ", size);
      return success();
    };
    for (size_t i = 0; i < term.size(); ++i) {
      if (term[i] == '.') {
        for (int64_t e = ellipsisRank - rank; e < ellipsisRank; ++e) {
          if (failed(unify(ellipsisSizes[e], ranked.getDimSize(d++), "ellipsis dim")))
            return failure();
          dims.push_back(kLetters + e);
        }
        i += 2;
        continue;
      }
      if (!llvm::isAlpha(term[i]))
        return emitOptionalError(loc, "einsum equation has an invalid character '", term[i], "'");
      int64_t label = letterLabel(term[i]);
      int64_t size = ranked.getDimSize(d++);
      if (!seen[label])
        labels.sizes[label] = size;
      else if (failed(unify(labels.sizes[label], size, "label '" + std::string(1, term[i]) + "'")))
        return failure();
      seen[label] = true;
      ++count[label];
      dims.push_back(label);
    }
    labels.inputs.push_back(std::move(dims));
  }
  llvm::append_range(labels.sizes, ellipsisSizes);
  if (explicitOutput) {
    for (size_t i = 0; i < rhsText.size(); ++i) {
      if (rhsText[i] == '.') {
        for (int64_t e = 0; e < ellipsisRank; ++e)
          labels.output.push_back(kLetters + e);
        i += 2;
        continue;
      }
      if (!llvm::isAlpha(rhsText[i]) || !seen[letterLabel(rhsText[i])])
        return emitOptionalError(loc, "einsum output label '", rhsText[i], "' is not in any input");
      labels.output.push_back(letterLabel(rhsText[i]));
    }
  } else {
    // Implicit output: the ellipsis dims, then the labels used once, in alphabetical order.
    for (int64_t e = 0; e < ellipsisRank; ++e)
      labels.output.push_back(kLetters + e);
    SmallVector<int64_t> once;
    for (int64_t label = 0; label < kLetters; ++label)
      if (count[label] == 1)
        once.push_back(label);
    llvm::sort(once, [&](int64_t a, int64_t b) {
      auto key = [](int64_t l) { return l < 26 ? 'a' + l : 'A' + (l - 26); };
      return key(a) < key(b);
    });
    llvm::append_range(labels.output, once);
  }
  return labels;
}

LogicalResult EinsumOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  SmallVector<Type> types;
  for (Value input : adaptor.getInputs())
    types.push_back(rankedType(input));
  FailureOr<EinsumLabels> labels = resolveEinsum(loc, adaptor.getEquation(), types);
  if (failed(labels))
    return failure();
  SmallVector<int64_t> dims;
  for (int64_t label : labels->output)
    dims.push_back(labels->sizes[label]);
  inferred.push_back(
      RankedTensorType::get(dims, rankedType(adaptor.getInputs().front()).getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// convolution and pooling
//===----------------------------------------------------------------------===//

/// Output size of one spatial dim of a sliding window.
static int64_t windowOutput(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin,
                            int64_t padEnd, int64_t dilation, bool ceilMode) {
  if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel))
    return kDyn;
  int64_t span = in + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0)
    return 0;
  int64_t out = (ceilMode ? llvm::divideCeil(span, stride) : span / stride) + 1;
  // A window that starts inside the end padding is dropped (ONNX, PyTorch).
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

/// Checks the window attributes; `negativePads` (ConvTranspose, where they widen the output)
/// allows pads below zero.
static LogicalResult verifyWindowAttrs(std::optional<Location> loc, int64_t spatial,
                                       ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                                       ArrayRef<int64_t> dilations, bool negativePads = false) {
  if (static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    return emitOptionalError(loc, "expected ", spatial, " strides and dilations and ",
                             2 * spatial, " pads for ", spatial, " spatial dims");
  if (llvm::any_of(strides, [](int64_t s) { return s <= 0; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d <= 0; }))
    return emitOptionalError(loc, "strides and dilations must be positive");
  if (!negativePads && llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "pads must be non-negative");
  return success();
}

/// A convolution's result type: [N, `channels`, outputs...], each output dim the window
/// output of the input's spatial dim by the kernel dim `kernel[i]`, after checking that `bias`
/// (if any) is 1-D with `channels` entries.
template <typename Adaptor>
static LogicalResult inferConvResult(std::optional<Location> loc, StringRef name,
                                     Adaptor adaptor, RankedTensorType input, int64_t channels,
                                     ArrayRef<int64_t> kernel, SmallVectorImpl<Type> &inferred) {
  if (Value bias = adaptor.getBias()) {
    RankedTensorType b = rankedType(bias);
    if (b.getRank() != 1 ||
        failed(unifyDims(loc, b.getDimSize(0), channels, name + " bias length")))
      return emitOptionalError(loc, name, " bias must be 1-D with ", channels, " entries, got ",
                               b);
  }
  int64_t spatial = input.getRank() - 2;
  SmallVector<int64_t> dims = {input.getDimSize(0), channels};
  for (int64_t i = 0; i < spatial; ++i)
    dims.push_back(windowOutput(input.getDimSize(i + 2), kernel[i], adaptor.getStrides()[i],
                                adaptor.getPads()[i], adaptor.getPads()[i + spatial],
                                adaptor.getDilations()[i], false));
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return emitOptionalError(loc, "conv input ", input, " and weight ", weight,
                             " must both be [N, C, spatial...]");
  if (failed(verifyWindowAttrs(loc, spatial, adaptor.getStrides(), adaptor.getPads(),
                               adaptor.getDilations())))
    return failure();
  int64_t groups = adaptor.getGroups();
  if (groups <= 0)
    return emitOptionalError(loc, "conv groups must be positive");
  int64_t c = input.getDimSize(1), wc = weight.getDimSize(1), m = weight.getDimSize(0);
  if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(wc) && c != wc * groups)
    return emitOptionalError(loc, "conv input has ", c, " channels but the weight expects ",
                             wc, " x ", groups, " groups");
  if (!ShapedType::isDynamic(m) && m % groups != 0)
    return emitOptionalError(loc, "conv output channels ", m, " are not divisible by ",
                             groups, " groups");
  return inferConvResult(loc, "conv", adaptor, input, m, weight.getShape().drop_front(2),
                         inferred);
}

LogicalResult PackedConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType packed = rankedType(adaptor.getPacked());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || packed.getRank() != spatial + 3)
    return emitOptionalError(loc, "packed_conv takes [N, C, spatial...] by packed [F / P, C, ",
                             "kernel..., P], got ", input, " and ", packed);
  if (failed(verifyWindowAttrs(loc, spatial, adaptor.getStrides(), adaptor.getPads(),
                               adaptor.getDilations())) ||
      failed(unifyDims(loc, input.getDimSize(1), packed.getDimSize(1),
                       "packed_conv input channels")))
    return failure();
  int64_t f = packed.isDynamicDim(0) || packed.isDynamicDim(spatial + 2)
                  ? kDyn
                  : packed.getDimSize(0) * packed.getDimSize(spatial + 2);
  return inferConvResult(loc, "packed_conv", adaptor, input, f,
                         packed.getShape().slice(2, spatial), inferred);
}

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType weight = rankedType(adaptor.getWeight());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return emitOptionalError(loc, "conv_transpose input ", input, " and weight ", weight,
                             " must both be [N, C, spatial...]");
  if (failed(verifyWindowAttrs(loc, spatial, adaptor.getStrides(), adaptor.getPads(),
                               adaptor.getDilations(), /*negativePads=*/true)))
    return failure();
  ArrayRef<int64_t> outPad = adaptor.getOutputPadding();
  if (static_cast<int64_t>(outPad.size()) != spatial)
    return emitOptionalError(loc, "expected ", spatial, " output_padding entries");
  int64_t groups = adaptor.getGroups();
  if (groups <= 0)
    return emitOptionalError(loc, "conv_transpose groups must be positive");
  if (failed(unifyDims(loc, input.getDimSize(1), weight.getDimSize(0),
                       "conv_transpose input channels vs weight dim 0")))
    return failure();
  int64_t m = ShapedType::isDynamic(weight.getDimSize(1)) ? kDyn
                                                          : weight.getDimSize(1) * groups;
  SmallVector<int64_t> dims = {input.getDimSize(0), m};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2), k = weight.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k)) {
      dims.push_back(kDyn);
      continue;
    }
    dims.push_back(adaptor.getStrides()[i] * (in - 1) + outPad[i] +
                   (k - 1) * adaptor.getDilations()[i] + 1 - adaptor.getPads()[i] -
                   adaptor.getPads()[i + spatial]);
  }
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

LogicalResult GridSampleOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  RankedTensorType grid = rankedType(adaptor.getGrid());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || grid.getRank() != input.getRank())
    return emitOptionalError(loc, "grid_sample input ", input, " must be [N, C, D1, ...] and grid ",
                             grid, " [N, O1, ..., ", spatial, "] of the same rank");
  int64_t coords = grid.getDimSize(grid.getRank() - 1);
  if (!ShapedType::isDynamic(coords) && coords != spatial)
    return emitOptionalError(loc, "grid_sample grid's last dim is ", coords, ", expected ",
                             spatial, " coordinates");
  if (failed(unifyDims(loc, input.getDimSize(0), grid.getDimSize(0),
                       "grid_sample batch of input vs grid")))
    return failure();
  SmallVector<int64_t> dims = {input.getDimSize(0), input.getDimSize(1)};
  llvm::append_range(dims, grid.getShape().slice(1, spatial));
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

LogicalResult GridSampleOp::verify() {
  if (!isa<FloatType>(getElementTypeOrSelf(getGrid())))
    return emitOpError("grid must hold floats, got ") << getGrid().getType();
  StringRef mode = getMode(), padding = getPaddingMode();
  if (mode != "linear" && mode != "nearest" && mode != "cubic")
    return emitOpError("mode must be linear, nearest or cubic, got '") << mode << "'";
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return emitOpError("padding_mode must be zeros, border or reflection, got '")
           << padding << "'";
  return success();
}

static LogicalResult inferPool(std::optional<Location> loc, Value inputValue,
                               ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                               bool ceilMode, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(inputValue);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return emitOptionalError(loc, "pooling input must be [N, C, spatial...], got ", input);
  if (static_cast<int64_t>(kernel.size()) != spatial)
    return emitOptionalError(loc, "expected ", spatial, " kernel dims, got ", kernel.size());
  if (llvm::any_of(kernel, [](int64_t k) { return k <= 0; }))
    return emitOptionalError(loc, "kernel dims must be positive");
  if (failed(verifyWindowAttrs(loc, spatial, strides, pads, dilations)))
    return failure();
  SmallVector<int64_t> dims(input.getShape().take_front(2));
  for (int64_t i = 0; i < spatial; ++i)
    dims.push_back(windowOutput(input.getDimSize(i + 2), kernel[i], strides[i], pads[i],
                                pads[i + spatial], dilations[i], ceilMode));
  inferred.push_back(RankedTensorType::get(dims, input.getElementType()));
  return success();
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor a, SmallVectorImpl<Type> &inferred) {
  return inferPool(loc, a.getInput(), a.getKernel(), a.getStrides(), a.getPads(),
                   a.getDilations(), a.getCeilMode(), inferred);
}

LogicalResult AvgPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor a, SmallVectorImpl<Type> &inferred) {
  return inferPool(loc, a.getInput(), a.getKernel(), a.getStrides(), a.getPads(),
                   a.getDilations(), a.getCeilMode(), inferred);
}

LogicalResult LpPoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor a, SmallVectorImpl<Type> &inferred) {
  return inferPool(loc, a.getInput(), a.getKernel(), a.getStrides(), a.getPads(),
                   a.getDilations(), a.getCeilMode(), inferred);
}

//===----------------------------------------------------------------------===//
// softmax and normalization
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (failed(normalizeAxis(loc, adaptor.getAxis(), input.getRank())))
    return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  if (failed(normalizeAxis(loc, adaptor.getAxis(), input.getRank())))
    return failure();
  inferred.push_back(input);
  return success();
}

/// `param` must broadcast onto the normalized dims [axis, rank) of `input`.
static LogicalResult checkNormParam(std::optional<Location> loc, RankedTensorType input,
                                    int64_t axis, Value param, StringRef what) {
  if (!param)
    return success();
  RankedTensorType p = rankedType(param);
  FailureOr<SmallVector<int64_t>> b = broadcastShapes(loc, input.getShape(), p.getShape());
  if (failed(b) || failed(verifyCompatibleShape(*b, input.getShape())))
    return emitOptionalError(loc, what, " of shape [", p.getShape(),
                             "] does not broadcast to the input ", input);
  if (p.getRank() > input.getRank() - axis &&
      llvm::any_of(p.getShape().drop_back(input.getRank() - axis),
                   [](int64_t d) { return d != 1; }))
    return emitOptionalError(loc, what, " spans dims before the normalized axis ", axis);
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), input.getRank());
  if (failed(axis) || failed(checkNormParam(loc, input, *axis, adaptor.getScale(), "scale")) ||
      failed(checkNormParam(loc, input, *axis, adaptor.getBias(), "bias")))
    return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(adaptor.getInput());
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), input.getRank());
  if (failed(axis) || failed(checkNormParam(loc, input, *axis, adaptor.getScale(), "scale")))
    return failure();
  inferred.push_back(input);
  return success();
}

/// Channel parameters (dim 1 of [N, C, ...]) must be 1-D with C entries.
static LogicalResult checkChannelParams(std::optional<Location> loc, RankedTensorType input,
                                        ValueRange params, StringRef op) {
  if (input.getRank() < 2)
    return emitOptionalError(loc, op, " input must be [N, C, ...], got ", input);
  for (Value p : params) {
    RankedTensorType t = rankedType(p);
    if (t.getRank() != 1 || failed(unifyDims(loc, t.getDimSize(0), input.getDimSize(1),
                                             Twine(op) + " parameter length vs channels")))
      return emitOptionalError(loc, op, " parameters must be 1-D with one entry per channel (",
                               input.getDimSize(1), "), got ", t);
  }
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor a, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(a.getInput());
  if (failed(checkChannelParams(loc, input,
                                {a.getScale(), a.getBias(), a.getMean(), a.getVariance()},
                                "batch_norm")))
    return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult GroupNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor a, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(a.getInput());
  if (failed(checkChannelParams(loc, input, {a.getScale(), a.getBias()}, "group_norm")))
    return failure();
  int64_t c = input.getDimSize(1), g = a.getNumGroups();
  if (g <= 0 || (!ShapedType::isDynamic(c) && c % g != 0))
    return emitOptionalError(loc, "group_norm: ", c, " channels do not split into ", g,
                             " groups");
  inferred.push_back(input);
  return success();
}

LogicalResult LrnOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor a,
                                      SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(a.getInput());
  if (input.getRank() < 3 || static_cast<int64_t>(a.getSize()) <= 0)
    return emitOptionalError(loc, "lrn needs an [N, C, spatial...] input and a positive size");
  inferred.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor a, SmallVectorImpl<Type> &inferred) {
  RankedTensorType q = rankedType(a.getQuery()), k = rankedType(a.getKey()),
                   v = rankedType(a.getValue());
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOptionalError(loc, "attention expects [batch, heads, seq, head_dim] operands");
  if (k.getElementType() != q.getElementType() || v.getElementType() != q.getElementType())
    return emitOptionalError(loc, "attention operands must share one element type: ", q, ", ",
                             k, ", ", v);
  if (failed(unifyDims(loc, q.getDimSize(0), k.getDimSize(0), "query/key batch")) ||
      failed(unifyDims(loc, k.getDimSize(0), v.getDimSize(0), "key/value batch")) ||
      failed(unifyDims(loc, q.getDimSize(0), v.getDimSize(0), "query/value batch")) ||
      failed(unifyDims(loc, q.getDimSize(3), k.getDimSize(3), "query/key head_dim")) ||
      failed(unifyDims(loc, k.getDimSize(2), v.getDimSize(2), "key/value sequence length")) ||
      failed(unifyDims(loc, k.getDimSize(1), v.getDimSize(1), "key/value heads")))
    return failure();
  int64_t qh = q.getDimSize(1), kh = ShapedType::isDynamic(k.getDimSize(1)) ? v.getDimSize(1)
                                                                             : k.getDimSize(1);
  if (!ShapedType::isDynamic(qh) && !ShapedType::isDynamic(kh) && (kh == 0 || qh % kh != 0))
    return emitOptionalError(loc, "query heads (", qh, ") must be a multiple of key heads (", kh,
                             ")");
  if (Value maskValue = a.getMask()) {
    // Added to (or selecting among) the scores [batch, heads, queries, keys]: it may broadcast
    // to them but not widen them.
    auto mask = dyn_cast<RankedTensorType>(maskValue.getType());
    int64_t keys = ShapedType::isDynamic(k.getDimSize(2)) ? v.getDimSize(2) : k.getDimSize(2);
    SmallVector<int64_t> scores = {q.getDimSize(0), qh, q.getDimSize(2), keys};
    if (!mask || mask.getRank() > 4)
      return emitOptionalError(loc, "the attention mask must be ranked, of rank 4 at most");
    if (!mask.getElementType().isInteger(1) && mask.getElementType() != q.getElementType())
      return emitOptionalError(loc, "the attention mask must be i1 or of the query's type");
    FailureOr<SmallVector<int64_t>> shape = broadcastShapes(loc, scores, mask.getShape());
    if (failed(shape))
      return failure();
    for (auto [have, want] : llvm::zip(*shape, scores))
      if (!ShapedType::isDynamic(want) && have != want)
        return emitOptionalError(loc, "the attention mask ", mask,
                                 " does not broadcast to the scores' shape");
  }
  inferred.push_back(RankedTensorType::get(
      {q.getDimSize(0), qh, q.getDimSize(2), v.getDimSize(3)}, q.getElementType()));
  return success();
}

LogicalResult RotaryEmbeddingOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                  Adaptor a, SmallVectorImpl<Type> &inferred) {
  RankedTensorType input = rankedType(a.getInput());
  if (input.getRank() != 3 && input.getRank() != 4)
    return emitOptionalError(loc, "rotary_embedding input must be rank 3 or 4, got ", input);
  inferred.push_back(input);
  return success();
}
