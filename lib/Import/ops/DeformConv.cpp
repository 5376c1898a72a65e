//===- DeformConv.cpp - ONNX DeformConv as GridSample and a grouped matmul -===//
//
// A deformable convolution samples its input at each kernel tap's position moved by a learned
// offset, then convolves. The sampling is GridSample (bilinear, zeros outside, align_corners
// = 1, as the ONNX reference computes it): one grid per offset group holding, for every tap and
// output position, the moved position normalized to [-1, 1]. The samples, times the optional
// mask, are the columns of an im2col, and the convolution is a matmul by the weights per group.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static LogicalResult convertDeformConv(NodeContext &node) {
  FailureOr<Value> weights = node.requiredInput(1), offset = node.requiredInput(2);
  if (failed(weights) || failed(offset))
    return failure();
  Value x = node.input(0), bias = node.input(3), mask = node.input(4);
  RankedTensorType xType = typeOf(x), wType = typeOf(*weights), offType = typeOf(*offset);
  if (xType.getRank() != 4 || wType.getRank() != 4 || offType.getRank() != 4 ||
      !xType.hasStaticShape() || !wType.hasStaticShape() || !offType.hasStaticShape())
    return node.fail("only 2-D DeformConv with static shapes is supported (X [N, C, H, W], "
                     "W [oC, C/group, kH, kW], offset [N, 2 * offset_group * kH * kW, oH, oW])");
  int64_t n = xType.getDimSize(0), c = xType.getDimSize(1), h = xType.getDimSize(2),
          w = xType.getDimSize(3);
  int64_t oc = wType.getDimSize(0), kh = wType.getDimSize(2), kw = wType.getDimSize(3);
  int64_t oh = offType.getDimSize(2), ow = offType.getDimSize(3), taps = kh * kw;
  int64_t group = node.attrInt("group", 1), offsetGroup = node.attrInt("offset_group", 1);
  SmallVector<int64_t> strides = node.attrInts("strides"), pads = node.attrInts("pads"),
                       dilations = node.attrInts("dilations");
  if (strides.empty())
    strides = {1, 1};
  if (pads.empty())
    pads = {0, 0, 0, 0};
  if (dilations.empty())
    dilations = {1, 1};
  if (strides.size() != 2 || pads.size() != 4 || dilations.size() != 2)
    return node.fail("strides, dilations (2 values) and pads (4 values) must describe 2 dims");
  if (llvm::any_of(strides, [](int64_t v) { return v < 1; }) ||
      llvm::any_of(dilations, [](int64_t v) { return v < 1; }))
    return node.fail("strides and dilations must be positive");
  if (SmallVector<int64_t> kernel = node.attrInts("kernel_shape");
      !kernel.empty() && (kernel.size() != 2 || kernel[0] != kh || kernel[1] != kw))
    return node.fail("kernel_shape must be W's [kH, kW] = [" + Twine(kh) + ", " + Twine(kw) +
                     "]");
  for (auto [axis, size, out] : {std::tuple{0, h, oh}, std::tuple{1, w, ow}}) {
    int64_t span = ((axis ? kw : kh) - 1) * dilations[axis] + 1;
    int64_t expected = (size + pads[axis] + pads[axis + 2] - span) / strides[axis] + 1;
    if (out != expected)
      return node.fail("offset's output dim " + Twine(axis) + " is " + Twine(out) +
                       ", but the input, kernel, pads, strides and dilations give " +
                       Twine(expected));
  }
  if (group < 1 || offsetGroup < 1 || c % group || oc % group || c % offsetGroup ||
      wType.getDimSize(1) * group != c)
    return node.fail("group " + Twine(group) + " and offset_group " + Twine(offsetGroup) +
                     " must divide the " + Twine(c) + " input and " + Twine(oc) +
                     " output channels, and W must have C / group input channels");
  if (offType.getDimSize(0) != n || offType.getDimSize(1) != 2 * offsetGroup * taps)
    return node.fail("offset must be [N, 2 * offset_group * kH * kW, oH, oW] = [" + Twine(n) +
                     ", " + Twine(2 * offsetGroup * taps) + ", oH, oW]");
  if (mask && typeOf(mask).getShape() != ArrayRef<int64_t>{n, offsetGroup * taps, oh, ow})
    return node.fail("mask must be [N, offset_group * kH * kW, oH, oW] = [" + Twine(n) + ", " +
                     Twine(offsetGroup * taps) + ", " + Twine(oh) + ", " + Twine(ow) + "]");
  Type et = xType.getElementType();
  auto shape = [&](ArrayRef<int64_t> dims) { return node.constI64(dims); };
  auto reshape = [&](Value v, ArrayRef<int64_t> dims) { return node.reshapeTo(v, {shape(dims)}); };

  // Each tap's position before the offset, [K, oH, oW] per axis, and after, [N, G, K, oH, oW].
  SmallVector<double> baseY, baseX;
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j)
      for (int64_t p = 0; p < oh; ++p)
        for (int64_t q = 0; q < ow; ++q) {
          baseY.push_back(p * strides[0] - pads[0] + i * dilations[0]);
          baseX.push_back(q * strides[1] - pads[1] + j * dilations[1]);
        }
  // The input is sampled with a border of one zero pixel, so that every axis has at least 3
  // pixels to normalize over (a 1-pixel axis has no span); positions move by 1 into it.
  // Outside the input, samples are zeros either way.
  Value offsets = reshape(*offset, {n, offsetGroup, taps, 2, oh, ow});
  auto normalized = [&](ArrayRef<double> base, int64_t axis, int64_t size) {
    Value position = node.make<AddOp>(
        {node.constFloats(et, {taps, oh, ow}, base), node.takeAt(offsets, 3, axis)});
    // align_corners = 1 over the bordered axis: pixel -1 is -1, pixel size is 1.
    Value scaled = node.make<MulOp>(
        {node.make<AddOp>({position, node.constScalar(et, 1)}), node.constScalar(et, 2.0 / (size + 1))});
    return node.make<SubOp>({scaled, node.constScalar(et, 1)});
  };
  Value gridX = normalized(baseX, 1, w), gridY = normalized(baseY, 0, h);
  Value bordered = node.make<PadOp>(
      {reshape(x, {n * offsetGroup, c / offsetGroup, h, w}), node.constI64({0, 0, 1, 1, 0, 0, 1, 1})},
      {node.named("mode", PadModeAttr::get(node.ctx(), PadMode::constant))});
  SmallVector<int64_t> pointShape = {n * offsetGroup, taps * oh, ow, 1};
  Value grid = node.make<ConcatOp>({reshape(gridX, pointShape), reshape(gridY, pointShape)},
                                   {node.named("axis", node.builder().getI64IntegerAttr(3))});
  Value samples =
      node.make<GridSampleOp>({bordered, grid},
                              {node.named("mode", node.builder().getStringAttr("linear")),
                               node.named("padding_mode", node.builder().getStringAttr("zeros")),
                               node.named("align_corners", node.builder().getBoolAttr(true))});
  // [N, G, C/G, K, oH*oW], times the mask of each group, tap and position.
  Value columns = reshape(samples, {n, offsetGroup, c / offsetGroup, taps, oh * ow});
  if (mask)
    columns = node.make<MulOp>({columns, reshape(mask, {n, offsetGroup, 1, taps, oh * ow})});
  // Per group: [oC/group, C/group * K] x [C/group * K, oH*oW].
  Value grouped = reshape(columns, {n, group, c / group * taps, oh * ow});
  Value kernel = reshape(*weights, {group, oc / group, c / group * taps});
  Value y = reshape(node.make<MatMulOp>({kernel, grouped}), {n, oc, oh, ow});
  if (bias)
    y = node.make<AddOp>({y, reshape(bias, {oc, 1, 1})});
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerDeformConvConverters(ConverterMap &map) {
  map["DeformConv"] = convertDeformConv;
}
