//===- Spectral.cpp - ONNX DFT and STFT ------------------------------------===//
//
// A DFT of static length N along one axis is two matmuls by constant N x K cosine and sine
// matrices (K = N, or N/2 + 1 one-sided), computed in double and rounded once; complex
// inputs ([..., 2]) take two more. STFT gathers its frames with a constant index, applies the
// window, and takes the one-sided DFT of each frame.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

#include <cmath>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

/// The largest DFT length: its two N x K matrices are weights.
static constexpr int64_t kMaxDftLength = 2048;

static Value swapAxes(NodeContext &node, Value v, int64_t a, int64_t b) {
  if (a == b)
    return v;
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, typeOf(v).getRank()));
  std::swap(perm[a], perm[b]);
  return node.make<TransposeOp>({v}, {node.named("perm", node.builder().getDenseI64ArrayAttr(perm))});
}

/// The DFT of `x` ([..., 1 or 2], real or complex in the last dim) along `axis` (not the last),
/// whose length must be static: [..., K, ...,  2].
static Value dft(NodeContext &node, Value x, int64_t axis, bool inverse, bool onesided) {
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank();
  Type et = type.getElementType();
  int64_t n = type.getDimSize(axis);
  int64_t k = onesided ? n / 2 + 1 : n;
  bool complex = type.getDimSize(rank - 1) == 2;
  // The signal axis last, the real/imaginary dim dropped: [..., N].
  auto part = [&](int64_t index) {
    return swapAxes(node, node.takeAt(x, rank - 1, index), axis, rank - 2);
  };
  Value re = part(0), im = complex ? part(1) : Value();
  SmallVector<double> cosines, sines;
  double scale = inverse ? 1.0 / static_cast<double>(n) : 1.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      // (i * j) mod n keeps the angle small and exact.
      double angle = 2.0 * M_PI * static_cast<double>((i * j) % n) / static_cast<double>(n);
      cosines.push_back(std::cos(angle) * scale);
      sines.push_back(std::sin(angle) * scale);
    }
  Value c = node.constFloats(et, {n, k}, cosines), s = node.constFloats(et, {n, k}, sines);
  // Forward: (re + i im)(cos - i sin); inverse: (re + i im)(cos + i sin), over N.
  Value reOut = node.make<MatMulOp>({re, c});
  Value reSin = node.make<MatMulOp>({re, s});
  Value imOut = inverse ? reSin : node.make<NegOp>({reSin});
  if (complex) {
    Value imCos = node.make<MatMulOp>({im, c}), imSin = node.make<MatMulOp>({im, s});
    reOut = inverse ? node.make<SubOp>({reOut, imSin}) : node.make<AddOp>({reOut, imSin});
    imOut = node.make<AddOp>({imOut, imCos});
  }
  auto back = [&](Value v) {
    v = swapAxes(node, v, axis, rank - 2);
    return node.reshapeTo(v, {node.shapeOf(v, 0, rank - 1), node.constI64({1})});
  };
  return node.make<ConcatOp>({back(reOut), back(imOut)},
                             {node.named("axis", node.builder().getI64IntegerAttr(rank - 1))});
}

/// Checks `x` for a DFT along `axis`: [..., 1 or 2], a static length of at most kMaxDftLength.
static LogicalResult checkSignal(NodeContext &node, Value x, int64_t axis) {
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank();
  if (!isa<FloatType>(type.getElementType()) || rank < 2 || type.isDynamicDim(rank - 1) ||
      type.getDimSize(rank - 1) < 1 || type.getDimSize(rank - 1) > 2)
    return node.fail("the signal must be floating point with a last dim of 1 (real) or 2 "
                     "(complex)");
  if (axis < 0 || axis >= rank - 1)
    return node.fail("axis " + Twine(axis) + " is not a signal axis of a rank-" + Twine(rank) +
                     " input");
  if (type.isDynamicDim(axis))
    return node.fail("the DFT length must be static (fix input dims with --shape)");
  if (type.getDimSize(axis) < 1 || type.getDimSize(axis) > kMaxDftLength)
    return node.fail("DFT length " + Twine(type.getDimSize(axis)) + " is not in 1 to " +
                     Twine(kMaxDftLength));
  return success();
}

static LogicalResult convertDft(NodeContext &node) {
  FailureOr<Value> input = node.requiredInput(0);
  if (failed(input))
    return failure();
  Value x = *input;
  int64_t rank = typeOf(x).getRank();
  int64_t axis = node.attrInt("axis", 1);
  if (node.opset() >= 20) {
    axis = -2;
    if (Value given = node.input(2)) {
      std::optional<SmallVector<int64_t>> value = getConstantIntValues(given);
      if (!value || value->size() != 1)
        return node.fail("DFT's axis must be a constant");
      axis = value->front();
    }
  }
  if (axis < 0)
    axis += rank;
  if (failed(checkSignal(node, x, axis)))
    return failure();
  bool inverse = node.attrInt("inverse", 0) != 0, onesided = node.attrInt("onesided", 0) != 0;
  if (inverse && onesided)
    return node.fail("a one-sided inverse DFT is not supported");
  // dft_length pads the signal with zeros or cuts it.
  if (Value lengthValue = node.input(1)) {
    std::optional<SmallVector<int64_t>> length = getConstantIntValues(lengthValue);
    if (!length || length->size() != 1 || length->front() < 1)
      return node.fail("dft_length must be a positive constant");
    int64_t have = typeOf(x).getDimSize(axis), want = length->front();
    if (want < have) {
      x = node.sliceOf(x, {0}, {want}, {axis});
    } else if (want > have) {
      SmallVector<int64_t> pads(2 * rank, 0);
      pads[rank + axis] = want - have;
      x = node.make<PadOp>({x, node.constI64(pads)},
                           {node.named("mode", PadModeAttr::get(node.ctx(), PadMode::constant))});
    }
    if (!x || failed(checkSignal(node, x, axis)))
      return failure();
  }
  Value y = dft(node, x, axis, inverse, onesided);
  return y ? node.setOutput(0, y) : failure();
}

static LogicalResult convertStft(NodeContext &node) {
  FailureOr<Value> signal = node.requiredInput(0);
  if (failed(signal))
    return failure();
  RankedTensorType type = typeOf(*signal);
  std::optional<SmallVector<int64_t>> step = getConstantIntValues(node.input(1));
  if (!step || step->size() != 1 || step->front() < 1)
    return node.fail("frame_step must be a positive constant");
  Value window = node.input(2);
  int64_t frameLength = -1;
  if (Value lengthValue = node.input(3)) {
    std::optional<SmallVector<int64_t>> length = getConstantIntValues(lengthValue);
    if (!length || length->size() != 1)
      return node.fail("frame_length must be a constant");
    frameLength = length->front();
  } else if (window && typeOf(window).getRank() == 1 && !typeOf(window).isDynamicDim(0)) {
    frameLength = typeOf(window).getDimSize(0);
  }
  if (type.getRank() != 3 || type.isDynamicDim(1))
    return node.fail("STFT takes a [batch, length, 1 or 2] signal with a static length");
  int64_t length = type.getDimSize(1);
  if (frameLength < 1 || frameLength > std::min(length, kMaxDftLength))
    return node.fail("the frame length (frame_length or the window's) must be in 1 to the "
                     "signal length " + Twine(length) + " and at most " + Twine(kMaxDftLength));
  int64_t frames = 1 + (length - frameLength) / step->front();
  // The frame index is a constant of the model.
  if (frames > (int64_t(1) << 24) / frameLength)
    return node.fail("STFT of " + Twine(frames) + " frames of " + Twine(frameLength) +
                     ": at most 2^24 frame samples are supported");
  SmallVector<int64_t> index;
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t i = 0; i < frameLength; ++i)
      index.push_back(f * step->front() + i);
  auto indexType = RankedTensorType::get({frames, frameLength}, node.builder().getI64Type());
  Value indices = ConstantOp::create(node.builder(), node.loc(),
                                     DenseIntElementsAttr::get(indexType, index));
  // [batch, frames, frame_length, 1 or 2]
  Value framed = node.make<GatherOp>({*signal, indices},
                                     {node.named("axis", node.builder().getI64IntegerAttr(1))});
  if (window)
    framed = node.make<MulOp>(
        {framed, node.reshapeTo(window, {node.constI64({frameLength, 1})})});
  if (!framed || failed(checkSignal(node, framed, 2)))
    return failure();
  Value y = dft(node, framed, 2, /*inverse=*/false, node.attrInt("onesided", 1) != 0);
  return y ? node.setOutput(0, y) : failure();
}

/// MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangular filters, as the ONNX
/// reference and onnxruntime compute them: num_mel_bins + 2 points evenly spaced in mel between
/// the edges (the step divides by num_mel_bins + 2), each turned into a spectrogram bin
/// floor((dft_length + 1) * hz / sample_rate); filter i rises from bin i to bin i + 1 and falls
/// to bin i + 2. The bin counts must be constants; the rate and edges may be run-time values,
/// so the filters are elementwise functions of the bins.
static LogicalResult convertMelWeightMatrix(NodeContext &node) {
  if (failed(node.requiredInputs(0, 5)))
    return failure();
  std::optional<SmallVector<int64_t>> melBins = getConstantIntValues(node.input(0));
  std::optional<SmallVector<int64_t>> dftLength = getConstantIntValues(node.input(1));
  if (!melBins || !dftLength || melBins->size() != 1 || dftLength->size() != 1)
    return node.fail("num_mel_bins and dft_length must be constant scalars");
  int64_t mels = melBins->front(), spectrum = dftLength->front() / 2 + 1;
  if (mels < 1 || dftLength->front() < 1 || mels > 4096 || spectrum > 65536)
    return node.fail("num_mel_bins must be in [1, 4096] and dft_length in [1, 131070]");
  std::optional<int64_t> outType;
  if (const onnx::AttributeProto *attr = node.attr("output_datatype"))
    outType = attr->i();
  Type outElement =
      outType ? onnxElementType(node.ctx(), *outType) : Type(node.builder().getF32Type());
  if (!outElement || !isa<FloatType>(outElement))
    return node.fail("output_datatype must be a float type");
  Type f32 = node.builder().getF32Type();
  auto scalar = [&](Value v) {
    return node.castElements(node.reshapeTo(v, {node.constI64({})}), f32);
  };
  auto c = [&](double v) { return node.constScalar(f32, v); };
  // mel(f) = 2595 log10(1 + f / 700), its inverse 700 (10^(m / 2595) - 1).
  auto toMel = [&](Value hz) {
    return node.make<MulOp>({node.make<LogOp>({node.make<AddOp>({c(1), node.make<DivOp>({hz, c(700)})})}),
                             c(2595 / std::log(10.0))});
  };
  Value low = toMel(scalar(node.input(3))), high = toMel(scalar(node.input(4)));
  Value step = node.make<DivOp>({node.make<SubOp>({high, low}), c(static_cast<double>(mels + 2))});
  SmallVector<double> points;
  for (int64_t i = 0; i < mels + 2; ++i)
    points.push_back(i);
  Value mel = node.make<AddOp>({node.make<MulOp>({node.constFloats(f32, {mels + 2}, points), step}), low});
  Value hz = node.make<MulOp>(
      {node.make<SubOp>({node.make<ExpOp>({node.make<MulOp>({mel, c(std::log(10.0) / 2595)})}), c(1)}),
       c(700)});
  Value bins = node.make<FloorOp>({node.make<DivOp>(
      {node.make<MulOp>({hz, c(static_cast<double>(dftLength->front() + 1))}),
       scalar(node.input(2))})});
  // Per filter i: its left, center and right bins, against every spectrogram bin j.
  Value left = node.sliceOf(bins, {0}, {mels}, {0});
  Value center = node.sliceOf(bins, {1}, {mels + 1}, {0});
  Value right = node.sliceOf(bins, {2}, {mels + 2}, {0});
  SmallVector<double> js;
  for (int64_t j = 0; j < spectrum; ++j)
    js.push_back(j);
  Value j = node.constFloats(f32, {spectrum, 1}, js);
  auto both = [&](Value a, Value b) { return node.make<AndOp>({a, b}); };
  Value zero = c(0);
  Value rising = node.make<SelectOp>(
      {node.make<EqualOp>({left, center}), node.castElements(node.make<EqualOp>({j, center}), f32),
       node.make<DivOp>({node.make<SubOp>({j, left}), node.make<SubOp>({center, left})})});
  Value inRise = both(node.make<GreaterEqualOp>({j, left}), node.make<LessEqualOp>({j, center}));
  Value falling = node.make<DivOp>({node.make<SubOp>({right, j}), node.make<SubOp>({right, center})});
  Value inFall = both(both(node.make<GreaterEqualOp>({j, center}), node.make<LessOp>({j, right})),
                      node.make<GreaterOp>({right, center}));
  Value y = node.make<SelectOp>(
      {inFall, falling, node.make<SelectOp>({inRise, rising, zero})});
  if (y && outElement != f32)
    y = node.castElements(y, outElement);
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerSpectralConverters(ConverterMap &map) {
  map["DFT"] = convertDft;
  map["STFT"] = convertStft;
  map["MelWeightMatrix"] = convertMelWeightMatrix;
}
