//===- Resampling.cpp - catfish.resize -> linalg.generic -----------------===//
//
// One parallel generic over the result. Each resized dim maps its output index to a source
// coordinate (ONNX's coordinate transformation modes, computed in f64 as the reference does)
// and reads 1 (nearest), 2 (linear) or 4 (cubic) source elements around it; an N-D result
// element is the weighted sum over the product of the dims' taps. Taps past the edges read
// the edge element, as the reference pads with the edge.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

/// The source elements one result element reads along one dim, with their weights (none for
/// nearest and untouched dims).
struct Taps {
  SmallVector<Value> indices;
  SmallVector<Value> weights;
};

/// The sizes and mode of one resized dim.
struct DimResize {
  int64_t in, out;
  double scale;
  double roiStart, roiEnd;
};

struct ResizeBody {
  ResizeOp op;
  OpBuilder &b;
  Location loc;

  Value f64(double v) { return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v)); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }

  /// ONNX's x_original for output index `x` (f64) along a dim.
  Value sourceCoordinate(Value x, const DimResize &d) {
    StringRef mode = op.getCoordinateTransformationMode();
    double width = d.scale * static_cast<double>(d.in); // The reference's output_width.
    Value halfPixel = sub(div(add(x, f64(0.5)), f64(d.scale)), f64(0.5));
    if (mode == "align_corners")
      return width == 1 ? f64(0) : mul(x, f64((d.in - 1) / (width - 1)));
    if (mode == "asymmetric")
      return div(x, f64(d.scale));
    if (mode == "pytorch_half_pixel")
      return width == 1 ? f64(-0.5) : halfPixel;
    if (mode == "half_pixel_symmetric") {
      double center = d.in / 2.0;
      return add(f64(center * (1 - static_cast<double>(d.out) / width)), halfPixel);
    }
    if (mode == "tf_crop_and_resize") {
      double extent = (d.roiEnd - d.roiStart) * (d.in - 1);
      Value offset = width == 1 ? f64(extent / 2) : mul(x, f64(extent / (width - 1)));
      return add(offset, f64(d.roiStart * (d.in - 1)));
    }
    return halfPixel;
  }

  /// floor(v) + k clamped to [0, in) as an index, and whether floor(v) + k was inside.
  std::pair<Value, Value> tapIndex(Value floor, int64_t k, int64_t in) {
    Value i = arith::FPToSIOp::create(b, loc, b.getI64Type(), add(floor, f64(k)));
    Value zero = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0));
    Value last = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(in - 1));
    Value inside = arith::AndIOp::create(
        b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, i, zero),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, i, last));
    Value clamped =
        arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, i, zero), last);
    return {arith::IndexCastOp::create(b, loc, b.getIndexType(), clamped), inside};
  }

  Taps nearest(Value coord, Value floor, const DimResize &d) {
    Value ratio = sub(coord, floor);
    StringRef mode = op.getNearestMode();
    Value up;
    if (mode == "floor")
      up = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
    else if (mode == "ceil")
      up = cmp(arith::CmpFPredicate::OGT, ratio, f64(0));
    else if (mode == "round_prefer_ceil")
      up = cmp(arith::CmpFPredicate::OGE, ratio, f64(0.5));
    else
      up = cmp(arith::CmpFPredicate::OGT, ratio, f64(0.5));
    Value picked = arith::SelectOp::create(b, loc, up, add(floor, f64(1)), floor);
    return {{tapIndex(picked, 0, d.in).first}, {}};
  }

  Taps interpolating(Value coord, Value floor, const DimResize &d, bool cubic) {
    Value r = sub(coord, floor);
    SmallVector<Value> weights;
    SmallVector<int64_t> offsets;
    if (!cubic) {
      weights = {sub(f64(1), r), r};
      offsets = {0, 1};
    } else {
      double a = op.getCubicCoeffA().convertToDouble();
      // Keys' cubic convolution kernel at distances 1 + r, r, 1 - r and 2 - r.
      auto outer = [&](Value t) { // 1 <= t < 2
        return sub(mul(add(mul(sub(mul(f64(a), t), f64(5 * a)), t), f64(8 * a)), t),
                   f64(4 * a));
      };
      auto inner = [&](Value t) { // 0 <= t <= 1
        return add(mul(mul(sub(mul(f64(a + 2), t), f64(a + 3)), t), t), f64(1));
      };
      Value rc = sub(f64(1), r);
      weights = {outer(add(r, f64(1))), inner(r), inner(rc), outer(add(rc, f64(1)))};
      offsets = {-1, 0, 1, 2};
    }
    Taps taps;
    SmallVector<Value> inside;
    for (int64_t k : offsets) {
      auto [index, in] = tapIndex(floor, k, d.in);
      taps.indices.push_back(index);
      inside.push_back(in);
    }
    taps.weights = weights;
    if (op.getExcludeOutside()) {
      Value sum = f64(0);
      for (auto [w, in] : llvm::zip(taps.weights, inside)) {
        w = arith::SelectOp::create(b, loc, in, w, f64(0));
        sum = add(sum, w);
      }
      for (Value &w : taps.weights)
        w = div(w, sum);
    }
    return taps;
  }
};

struct ResizeLowering final : LoweringPattern<ResizeOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(ResizeOp op, PatternRewriter &rewriter) const override {
    if (op.getAntialias())
      return rewriter.notifyMatchFailure(op, "antialiased resize");
    StringRef mode = op.getMode();
    if (mode != "nearest" && mode != "linear" && mode != "cubic")
      return rewriter.notifyMatchFailure(op, "unknown resize mode");
    auto input = cast<RankedTensorType>(op.getInput().getType());
    RankedTensorType result = op.getType();
    Type element = input.getElementType();
    bool crop = op.getCoordinateTransformationMode() == "tf_crop_and_resize";
    int64_t rank = input.getRank();
    SmallVector<DimResize> dims;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t in = input.getDimSize(i), out = result.getDimSize(i);
      double scale = op.getScales() ? (*op.getScales())[i]
                                    : static_cast<double>(out) / static_cast<double>(in);
      double start = op.getRoi() ? (*op.getRoi())[i] : 0.0;
      double end = op.getRoi() ? (*op.getRoi())[rank + i] : 1.0;
      dims.push_back({in, out, scale, start, end});
    }
    Value data = op.getInput();
    Value resized = buildParallelGeneric(
        rewriter, op.getLoc(), result, {}, {},
        [&](OpBuilder &b, Location loc, ValueRange) -> Value {
          ResizeBody body{op, b, loc};
          SmallVector<Taps> taps;
          Value outside = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
          for (auto [i, d] : llvm::enumerate(dims)) {
            Value index = linalg::IndexOp::create(b, loc, i);
            if (d.in == d.out && d.scale == 1.0 && !crop) {
              taps.push_back({{index}, {}});
              continue;
            }
            Value x = arith::SIToFPOp::create(
                b, loc, b.getF64Type(),
                arith::IndexCastOp::create(b, loc, b.getI64Type(), index));
            Value coord = body.sourceCoordinate(x, d);
            if (crop)
              outside = arith::OrIOp::create(
                  b, loc, outside,
                  arith::OrIOp::create(
                      b, loc, body.cmp(arith::CmpFPredicate::OLT, coord, body.f64(0)),
                      body.cmp(arith::CmpFPredicate::OGT, coord, body.f64(d.in - 1))));
            Value floor = math::FloorOp::create(b, loc, coord);
            taps.push_back(mode == "nearest"
                               ? body.nearest(coord, floor, d)
                               : body.interpolating(coord, floor, d, mode == "cubic"));
          }
          // Sum over the product of the dims' taps.
          Type compute = element.isF64() ? b.getF64Type() : b.getF32Type();
          Value sum;
          SmallVector<size_t> pick(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value weight;
            for (auto [d, t] : llvm::enumerate(taps)) {
              at.push_back(t.indices[pick[d]]);
              if (!t.weights.empty())
                weight = weight ? body.mul(weight, t.weights[pick[d]]) : t.weights[pick[d]];
            }
            Value value = tensor::ExtractOp::create(b, loc, data, at);
            if (weight) {
              Value term = arith::MulFOp::create(b, loc, convertScalar(b, loc, value, compute),
                                                 convertScalar(b, loc, weight, compute));
              sum = sum ? arith::AddFOp::create(b, loc, sum, term) : term;
            } else {
              sum = value;
            }
            int64_t d = rank - 1;
            while (d >= 0 && ++pick[d] == taps[d].indices.size())
              pick[d--] = 0;
            if (d < 0)
              break;
          }
          if (sum.getType() != element) {
            if (isa<IntegerType>(element))
              sum = math::RoundEvenOp::create(b, loc, sum);
            sum = convertScalar(b, loc, sum, element);
          }
          if (!crop)
            return sum;
          Value fill = scalarConstant(b, loc, element,
                                      op.getExtrapolationValue().convertToDouble());
          return arith::SelectOp::create(b, loc, outside, fill, sum);
        });
    return SmallVector<Value>{resized};
  }
};

} // namespace

void mlir::catfish::populateResamplingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeLowering>(patterns.getContext());
}
