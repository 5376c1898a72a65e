//===- Resampling.cpp - catfish.resize / grid_sample -> linalg.generic ---===//
//
// One parallel generic over the result. Each resampled dim maps its output index to a
// source coordinate and reads 1 (nearest), 2 (linear) or 4 (cubic) source elements around
// it; an N-D result element is the weighted sum over the product of the dims' taps.
//
// Resize computes coordinates in f64 as ONNX's reference does, from ONNX's coordinate
// transformation modes; taps past the edges read the edge element. With antialias, shrinking
// linear and cubic resizes stretch their kernel by 1 / scale over more taps. GridSample reads its
// coordinates from the grid (f32, as the reference) and handles taps past the edges by its
// padding mode.
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

/// The weighted sum over the product of the dims' taps of `data`, in f32 (f64 for f64 data);
/// the element itself when no dim has weights.
Value sumOverTaps(OpBuilder &b, Location loc, Value data, ArrayRef<Taps> taps) {
  Type element = cast<RankedTensorType>(data.getType()).getElementType();
  Type compute = element.isF64() ? b.getF64Type() : b.getF32Type();
  Value sum;
  SmallVector<size_t> pick(taps.size(), 0);
  while (true) {
    SmallVector<Value> at;
    Value weight;
    for (auto [d, t] : llvm::enumerate(taps)) {
      at.push_back(t.indices[pick[d]]);
      if (!t.weights.empty()) {
        Value w = convertScalar(b, loc, t.weights[pick[d]], compute);
        weight = weight ? arith::MulFOp::create(b, loc, weight, w) : w;
      }
    }
    Value value = tensor::ExtractOp::create(b, loc, data, at);
    if (weight) {
      Value term = arith::MulFOp::create(b, loc, convertScalar(b, loc, value, compute), weight);
      sum = sum ? arith::AddFOp::create(b, loc, sum, term) : term;
    } else {
      sum = value;
    }
    int64_t d = static_cast<int64_t>(taps.size()) - 1;
    while (d >= 0 && ++pick[d] == taps[d].indices.size())
      pick[d--] = 0;
    if (d < 0)
      return sum;
  }
}

/// `sum` converted back to `element`, integers rounded to nearest even.
Value toElement(OpBuilder &b, Location loc, Value sum, Type element) {
  if (sum.getType() == element)
    return sum;
  if (isa<IntegerType>(element))
    sum = math::RoundEvenOp::create(b, loc, sum);
  return convertScalar(b, loc, sum, element);
}

/// Keys' cubic convolution weights of the taps at -1, 0, 1, 2 for a fraction `r` in [0, 1),
/// in r's float type.
SmallVector<Value> cubicWeights(OpBuilder &b, Location loc, Value r, double a) {
  Type t = r.getType();
  auto c = [&](double v) { return scalarConstant(b, loc, t, v); };
  auto add = [&](Value x, Value y) -> Value { return arith::AddFOp::create(b, loc, x, y); };
  auto sub = [&](Value x, Value y) -> Value { return arith::SubFOp::create(b, loc, x, y); };
  auto mul = [&](Value x, Value y) -> Value { return arith::MulFOp::create(b, loc, x, y); };
  auto outer = [&](Value x) { // 1 <= x < 2
    return sub(mul(add(mul(sub(mul(c(a), x), c(5 * a)), x), c(8 * a)), x), c(4 * a));
  };
  auto inner = [&](Value x) { // 0 <= x <= 1
    return add(mul(mul(sub(mul(c(a + 2), x), c(a + 3)), x), x), c(1));
  };
  Value rc = sub(c(1), r);
  return {outer(add(r, c(1))), inner(r), inner(rc), outer(add(rc, c(1)))};
}

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
    Value clamped = arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, i, zero), last);
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
    double a = op.getCubicCoeffA().convertToDouble();
    if (op.getAntialias()) {
      // The reference's antialias filters: the kernel stretched by 1 / scale when shrinking,
      // its weights normalized. An integral coordinate counts as ratio 1 from the element
      // before it, which picks the same taps as the reference.
      Value integral = cmp(arith::CmpFPredicate::OEQ, r, f64(0));
      floor = arith::SelectOp::create(b, loc, integral, sub(floor, f64(1)), floor);
      r = arith::SelectOp::create(b, loc, integral, f64(1), r);
      double scale = std::min(d.scale, 1.0);
      int64_t start = static_cast<int64_t>(std::floor((cubic ? -2 : -1) / scale)) + 1;
      Value sum = f64(0);
      for (int64_t i = start; i < 2 - start; ++i) {
        Value x = math::AbsFOp::create(b, loc, mul(sub(f64(i), r), f64(scale)));
        Value w;
        if (!cubic) {
          w = arith::MaximumFOp::create(b, loc, sub(f64(1), x), f64(0));
        } else {
          Value x2 = mul(x, x), x3 = mul(x2, x);
          Value near = add(sub(mul(f64(a + 2), x3), mul(f64(a + 3), x2)), f64(1));
          Value far =
              sub(add(sub(mul(f64(a), x3), mul(f64(5 * a), x2)), mul(f64(8 * a), x)), f64(4 * a));
          w = arith::SelectOp::create(
              b, loc, cmp(arith::CmpFPredicate::OLE, x, f64(1)), near,
              arith::SelectOp::create(b, loc, cmp(arith::CmpFPredicate::OLT, x, f64(2)), far,
                                      f64(0)));
        }
        weights.push_back(w);
        offsets.push_back(i);
        sum = add(sum, w);
      }
      for (Value &w : weights)
        w = div(w, sum);
    } else if (!cubic) {
      weights = {sub(f64(1), r), r};
      offsets = {0, 1};
    } else {
      weights = cubicWeights(b, loc, r, a);
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
                b, loc, b.getF64Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), index));
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
          Value sum = sumOverTaps(b, loc, data, taps);
          sum = toElement(b, loc, sum, element);
          if (!crop)
            return sum;
          Value fill =
              scalarConstant(b, loc, element, op.getExtrapolationValue().convertToDouble());
          return arith::SelectOp::create(b, loc, outside, fill, sum);
        });
    return SmallVector<Value>{resized};
  }
};

/// Scalar helpers for one grid_sample element, in the grid's float type `t`.
struct GridSampleBody {
  GridSampleOp op;
  OpBuilder &b;
  Location loc;
  Type t;

  Value c(double v) { return scalarConstant(b, loc, t, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, y);
  }
  Value select(Value cond, Value x, Value y) { return arith::SelectOp::create(b, loc, cond, x, y); }
  Value clamp(Value v, double lo, double hi) {
    return arith::MinimumFOp::create(b, loc, arith::MaximumFOp::create(b, loc, v, c(lo)), c(hi));
  }

  /// v folded back into [lo, hi] by reflecting at the bounds (the reference's _gs_reflect).
  Value reflect(Value v, double lo, double hi) {
    double range = hi - lo;
    if (range <= 0)
      return c(lo);
    Value below = lt(v, c(lo)), above = lt(c(hi), v);
    Value dx = select(below, sub(c(lo), v), sub(v, c(hi)));
    Value n = arith::FPToSIOp::create(b, loc, b.getI64Type(),
                                      arith::DivFOp::create(b, loc, dx, c(range)));
    Value r = sub(dx, mul(arith::SIToFPOp::create(b, loc, t, n), c(range)));
    Value even = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::AndIOp::create(b, loc, n, arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(1))),
        arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0)));
    Value fromLo = add(c(lo), r), fromHi = sub(c(hi), r);
    return select(below, select(even, fromLo, fromHi),
                  select(above, select(even, fromHi, fromLo), v));
  }

  /// The element index for integral coordinate `i` (a float) under the padding mode, and
  /// whether it reads a real element (false only for zeros padding outside the input).
  std::pair<Value, Value> pixel(Value i, int64_t size, double lo, double hi) {
    Value inside = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
    StringRef padding = op.getPaddingMode();
    if (padding == "zeros")
      inside = arith::AndIOp::create(
          b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, i, c(0)),
          lt(i, c(size)));
    else if (padding == "reflection")
      i = reflect(i, lo, hi);
    Value clamped = clamp(i, 0, size - 1);
    Value index = arith::IndexCastOp::create(
        b, loc, b.getIndexType(), arith::FPToSIOp::create(b, loc, b.getI64Type(), clamped));
    return {index, inside};
  }

  /// The taps along one spatial dim of `size` for normalized grid coordinate `g`.
  Taps taps(Value g, int64_t size) {
    bool align = op.getAlignCorners();
    double lo = align ? 0 : -0.5, hi = align ? size - 1 : size - 0.5;
    Value v = align ? mul(mul(add(g, c(1)), c(0.5)), c(size - 1))
                    : mul(sub(mul(add(g, c(1)), c(size)), c(1)), c(0.5));
    StringRef mode = op.getMode();
    if (mode == "nearest")
      v = math::RoundEvenOp::create(b, loc, v);
    Value outside = arith::OrIOp::create(b, loc, lt(v, c(lo)), lt(c(hi), v));
    if (op.getPaddingMode() == "border")
      v = select(outside, clamp(v, 0, size - 1), v);
    else if (op.getPaddingMode() == "reflection")
      v = select(outside, reflect(v, lo, hi), v);
    Taps taps;
    SmallVector<Value> weights;
    Value base;
    if (mode == "nearest") {
      base = math::TruncOp::create(b, loc, v);
      weights = {c(1)};
    } else {
      base = math::FloorOp::create(b, loc, v);
      Value r = sub(v, base);
      if (mode == "linear") {
        weights = {sub(c(1), r), r};
      } else {
        weights = cubicWeights(b, loc, r, -0.75);
        base = sub(base, c(1));
      }
    }
    for (auto [k, w] : llvm::enumerate(weights)) {
      auto [index, inside] = pixel(add(base, c(k)), size, lo, hi);
      taps.indices.push_back(index);
      taps.weights.push_back(select(inside, w, c(0)));
    }
    return taps;
  }
};

struct GridSampleLowering final : LoweringPattern<GridSampleOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<SmallVector<Value>> lower(GridSampleOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    RankedTensorType result = op.getType();
    int64_t rank = input.getRank(), spatial = rank - 2;
    Value data = op.getInput(), grid = op.getGrid();
    Type gridElement = getElementTypeOrSelf(grid);
    Value sampled = buildParallelGeneric(
        rewriter, op.getLoc(), result, {}, {},
        [&](OpBuilder &b, Location loc, ValueRange) -> Value {
          Type t = gridElement.isF64() ? b.getF64Type() : b.getF32Type();
          GridSampleBody body{op, b, loc, t};
          SmallVector<Value> loops;
          for (int64_t i = 0; i < rank; ++i)
            loops.push_back(linalg::IndexOp::create(b, loc, i));
          SmallVector<Taps> taps = {{{loops[0]}, {}}, {{loops[1]}, {}}};
          for (int64_t d = 0; d < spatial; ++d) {
            // The grid's last dim lists x (the innermost dim) first.
            SmallVector<Value> at = {loops[0]};
            at.append(loops.begin() + 2, loops.end());
            at.push_back(arith::ConstantIndexOp::create(b, loc, spatial - 1 - d));
            Value g = convertScalar(b, loc, tensor::ExtractOp::create(b, loc, grid, at), t);
            taps.push_back(body.taps(g, input.getDimSize(d + 2)));
          }
          return toElement(b, loc, sumOverTaps(b, loc, data, taps), input.getElementType());
        });
    return SmallVector<Value>{sampled};
  }
};

} // namespace

void mlir::catfish::populateResamplingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeLowering, GridSampleLowering>(patterns.getContext());
}
