//===- RoiAlign.cpp - ONNX RoiAlign as gathers and elementwise math -------===//
//
// Each output bin of each region averages (or takes the largest of) sampling_ratio^2 bilinear
// samples. With a fixed sampling ratio every sample's position is an elementwise function of
// the region's corners, so the op becomes: sample coordinates per region, their four
// neighbours gathered from the region's image (Gather by batch index, then GatherElements
// along rows and columns), the bilinear weights, and a reduction over each bin's samples. The
// arithmetic follows the ONNX reference (and onnxruntime): samples more than one pixel outside
// the image weigh 0, coordinates clamp to the last row and column.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

namespace {

/// The bilinear neighbours of the samples along one axis for every region, [R, bins * ratio]:
/// sample s of bin b sits at the region's start plus its bin size times (b + (s + 0.5) /
/// ratio).
struct AxisSamples {
  Value low, high;             // i64 neighbour indices, [R, bins * ratio]
  Value lowWeight, highWeight; // the weights of low and high, zero outside the image
};

AxisSamples sampleAxis(NodeContext &node, Value start, Value end, bool clampSize, int64_t bins,
                       int64_t ratio, int64_t size) {
  Type et = getElementTypeOrSelf(start);
  auto scalar = [&](double v) { return node.constScalar(et, v); };
  Value extent = node.make<SubOp>({end, start});
  if (clampSize)
    extent = node.make<MaxOp>({extent, scalar(1)});
  Value binSize = node.make<DivOp>({extent, scalar(static_cast<double>(bins))});
  SmallVector<double> offsets;
  for (int64_t bin = 0; bin < bins; ++bin)
    for (int64_t sample = 0; sample < ratio; ++sample)
      offsets.push_back(bin + (sample + 0.5) / ratio);
  Value grid = node.constFloats(et, {1, bins * ratio}, offsets);
  Value position = node.make<AddOp>({start, node.make<MulOp>({binSize, grid})});
  Value inside = node.make<AndOp>({node.make<GreaterEqualOp>({position, scalar(-1)}),
                                   node.make<LessEqualOp>({position, scalar(size)})});
  Value clamped = node.make<MaxOp>({position, scalar(0)});
  Value last = scalar(static_cast<double>(size - 1));
  Value floor = node.make<FloorOp>({clamped});
  Value atEnd = node.make<GreaterEqualOp>({floor, last});
  Value low = node.make<SelectOp>({atEnd, last, floor});
  Value high = node.make<SelectOp>({atEnd, last, node.make<AddOp>({low, scalar(1)})});
  Value fraction = node.make<SubOp>({node.make<SelectOp>({atEnd, last, clamped}), low});
  Value weight = node.castElements(inside, et);
  Type i64 = node.builder().getI64Type();
  return {node.castElements(low, i64), node.castElements(high, i64),
          node.make<MulOp>({node.make<SubOp>({scalar(1), fraction}), weight}),
          node.make<MulOp>({fraction, weight})};
}

} // namespace

static LogicalResult convertRoiAlign(NodeContext &node) {
  FailureOr<Value> rois = node.requiredInput(1), batchIndices = node.requiredInput(2);
  if (failed(rois) || failed(batchIndices))
    return failure();
  Value x = node.input(0);
  RankedTensorType xType = typeOf(x), roisType = typeOf(*rois);
  if (xType.getRank() != 4 || !xType.hasStaticShape())
    return node.fail("X must be [N, C, H, W] with a static shape");
  if (roisType.getRank() != 2 || roisType.isDynamicDim(0) || roisType.getDimSize(1) != 4)
    return node.fail("rois must be [num_rois, 4] with a static count");
  RankedTensorType indexType = typeOf(*batchIndices);
  if (indexType.getRank() != 1 || indexType.getDimSize(0) != roisType.getDimSize(0))
    return node.fail("batch_indices must hold one index per region ([" +
                     Twine(roisType.getDimSize(0)) + "])");
  int64_t ratio = node.attrInt("sampling_ratio", 0);
  if (ratio <= 0)
    return node.fail("sampling_ratio " + Twine(ratio) +
                     " (a sample grid sized from each region at run time) is not supported; "
                     "the model must fix sampling_ratio");
  int64_t outH = node.attrInt("output_height", 1), outW = node.attrInt("output_width", 1);
  // Samples per region and axis, bounded before any is made (each axis has one coordinate
  // per sample; a region's grid is their product).
  constexpr int64_t kMaxSamplesPerAxis = int64_t(1) << 16;
  if (outH > kMaxSamplesPerAxis || outW > kMaxSamplesPerAxis || ratio > kMaxSamplesPerAxis ||
      outH * ratio > kMaxSamplesPerAxis || outW * ratio > kMaxSamplesPerAxis)
    return node.fail("output_height, output_width and sampling_ratio give more than " +
                     Twine(kMaxSamplesPerAxis) + " samples along an axis");
  if (outH < 1 || outW < 1)
    return node.fail("output_height and output_width must be positive");
  std::string mode = node.attrString("mode", "avg");
  if (mode != "avg" && mode != "max")
    return node.fail("mode must be avg or max, got '" + mode + "'");
  std::string transform = node.attrString("coordinate_transformation_mode",
                                          node.opset() < 16 ? "output_half_pixel" : "half_pixel");
  if (transform != "half_pixel" && transform != "output_half_pixel")
    return node.fail("coordinate_transformation_mode must be half_pixel or output_half_pixel, "
                     "got '" +
                     transform + "'");
  bool halfPixel = transform == "half_pixel";
  Type et = xType.getElementType();
  int64_t regions = roisType.getDimSize(0), channels = xType.getDimSize(1);
  int64_t height = xType.getDimSize(2), width = xType.getDimSize(3);

  // Region corners [R, 1] in input pixels: x1, y1, x2, y2.
  Value scale = node.constScalar(et, node.attrFloat("spatial_scale", 1.0f));
  Value shift = node.constScalar(et, halfPixel ? 0.5 : 0.0);
  auto corner = [&](int64_t i) {
    return node.make<SubOp>(
        {node.make<MulOp>({node.sliceOf(*rois, {i}, {i + 1}, {1}), scale}), shift});
  };
  AxisSamples ys = sampleAxis(node, corner(1), corner(3), !halfPixel, outH, ratio, height);
  AxisSamples xs = sampleAxis(node, corner(0), corner(2), !halfPixel, outW, ratio, width);

  // Each region's image, then its sample rows, then each neighbour's columns.
  Value images = node.make<GatherOp>({x, *batchIndices},
                                     {node.named("axis", node.builder().getI64IntegerAttr(0))});
  int64_t rowsN = outH * ratio, colsN = outW * ratio;
  auto expandTo = [&](Value v, ArrayRef<int64_t> viewShape, ArrayRef<int64_t> shape) {
    return node.make<BroadcastOp>(
        {node.reshapeTo(v, {node.constI64(viewShape)}), node.constI64(shape)});
  };
  auto gatherAlong = [&](Value data, Value index, int64_t axis) {
    return node.make<GatherElementsOp>(
        {data, index}, {node.named("axis", node.builder().getI64IntegerAttr(axis))});
  };
  auto rows = [&](Value index) {
    return gatherAlong(
        images, expandTo(index, {regions, 1, rowsN, 1}, {regions, channels, rowsN, width}), 2);
  };
  auto columns = [&](Value rowValues, Value index) {
    return gatherAlong(
        rowValues, expandTo(index, {regions, 1, 1, colsN}, {regions, channels, rowsN, colsN}), 3);
  };
  auto rowWeight = [&](Value w) {
    return node.reshapeTo(w, {node.constI64({regions, 1, rowsN, 1})});
  };
  auto colWeight = [&](Value w) {
    return node.reshapeTo(w, {node.constI64({regions, 1, 1, colsN})});
  };
  Value lowRows = rows(ys.low), highRows = rows(ys.high);
  SmallVector<Value, 4> terms;
  for (auto [rowValues, wy] :
       {std::pair{lowRows, ys.lowWeight}, std::pair{highRows, ys.highWeight}})
    for (auto [index, wx] : {std::pair{xs.low, xs.lowWeight}, std::pair{xs.high, xs.highWeight}})
      terms.push_back(node.make<MulOp>(
          {columns(rowValues, index), node.make<MulOp>({rowWeight(wy), colWeight(wx)})}));
  Value samples;
  if (mode == "avg")
    samples = node.make<AddOp>(
        {node.make<AddOp>({terms[0], terms[1]}), node.make<AddOp>({terms[2], terms[3]})});
  else
    samples = node.make<MaxOp>(
        {node.make<MaxOp>({terms[0], terms[1]}), node.make<MaxOp>({terms[2], terms[3]})});
  Value bins =
      node.reshapeTo(samples, {node.constI64({regions, channels, outH, ratio, outW, ratio})});
  Value y = node.reduce(bins, mode == "avg" ? ReduceKind::mean : ReduceKind::max, {3, 5},
                        /*keepdims=*/false);
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerRoiAlignConverters(ConverterMap &map) {
  map["RoiAlign"] = convertRoiAlign;
}
