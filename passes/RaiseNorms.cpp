//===- RaiseNorms.cpp - the catfish-raise-norms pass ----------------------===//
//
// LayerNorm and RMSNorm as exporters write them out, op by op (ReduceMean, Sub, Pow, Add,
// Sqrt, Div or Reciprocal and Mul, then the weight and bias), become catfish.layer_norm and
// catfish.rms_norm, which every target runs as one reduction kernel.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHRAISENORMS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// The first of the trailing dims [axis, rank) that `reduce` takes the mean over, keeping
/// them; nullopt for any other reduction.
std::optional<int64_t> trailingMeanAxis(ReduceOp reduce) {
  int64_t rank = typeOf(reduce.getInput()).getRank();
  if (reduce.getKind() != ReduceKind::mean || !reduce.getKeepdims() ||
      reduce.getAxes().empty())
    return std::nullopt;
  SmallVector<int64_t> axes;
  for (int64_t axis : reduce.getAxes())
    axes.push_back(axis < 0 ? axis + rank : axis);
  llvm::sort(axes);
  int64_t first = rank - static_cast<int64_t>(axes.size());
  if (!llvm::equal(axes, llvm::seq<int64_t>(first, rank)))
    return std::nullopt;
  return first;
}

/// `value` is a square: Pow(t, 2) or Mul(t, t); returns t.
Value squaredOperand(Value value) {
  if (auto pow = value.getDefiningOp<PowOp>()) {
    std::optional<double> exponent = getConstantFloatSplat(pow.getRhs());
    return exponent && *exponent == 2 ? pow.getLhs() : Value();
  }
  if (auto mul = value.getDefiningOp<MulOp>(); mul && mul.getLhs() == mul.getRhs())
    return mul.getLhs();
  return Value();
}

/// The pieces of one written-out norm.
struct Norm {
  Value input;   // x
  Value weight;  // the scale, or null for 1
  Value bias;    // LayerNorm only, or null
  int64_t axis = 0;
  double epsilon = 0;
  bool rms = false;
  Operation *square = nullptr; // t^2 of the statistics
  Operation *mean = nullptr;   // mean(t^2)
  Operation *last = nullptr;   // the op whose result the norm replaces
};

/// The statistics: 1 / sqrt(mean(t^2) + eps) as `denominator` is used (`inverse`: as a factor,
/// else as a divisor). Fills `norm.axis` and `norm.epsilon`; returns t.
Value matchStatistics(Value denominator, bool inverse, Norm &norm) {
  Value sum;
  if (inverse) {
    if (auto rsqrt = denominator.getDefiningOp<RsqrtOp>())
      sum = rsqrt.getInput();
    else if (auto reciprocal = denominator.getDefiningOp<ReciprocalOp>())
      if (auto sqrt = reciprocal.getInput().getDefiningOp<SqrtOp>(); sqrt && sqrt->hasOneUse())
        sum = sqrt.getInput();
  } else if (auto sqrt = denominator.getDefiningOp<SqrtOp>()) {
    sum = sqrt.getInput();
  }
  if (!denominator.hasOneUse() || !sum || !sum.hasOneUse())
    return Value();
  auto add = sum.getDefiningOp<AddOp>();
  if (!add)
    return Value();
  Value variance = add.getLhs();
  std::optional<double> epsilon = getConstantFloatSplat(add.getRhs());
  if (!epsilon) {
    variance = add.getRhs();
    epsilon = getConstantFloatSplat(add.getLhs());
  }
  auto mean = variance.getDefiningOp<ReduceOp>();
  if (!epsilon || *epsilon < 0 || !mean || !mean->hasOneUse() || typeOf(sum) != typeOf(variance))
    return Value();
  std::optional<int64_t> axis = trailingMeanAxis(mean);
  Value squared = mean.getInput();
  Value t = squaredOperand(squared);
  if (!axis || !t || !squared.hasOneUse())
    return Value();
  norm.axis = *axis;
  norm.epsilon = *epsilon;
  norm.square = squared.getDefiningOp();
  norm.mean = mean;
  return t;
}

/// x - mean(x) over trailing dims `axis`..: returns x.
Value centeredInput(Value centered, int64_t axis) {
  auto sub = centered.getDefiningOp<SubOp>();
  auto mean = sub ? sub.getRhs().getDefiningOp<ReduceOp>() : nullptr;
  if (!mean || mean.getInput() != sub.getLhs() || !mean->hasOneUse() ||
      trailingMeanAxis(mean) != axis)
    return Value();
  return sub.getLhs();
}

/// Whether `param` may scale (or shift) a norm over dims [axis, rank) of `input`.
bool spansNormalizedDims(Value param, Value input, int64_t axis) {
  ArrayRef<int64_t> shape = typeOf(param).getShape();
  int64_t rank = typeOf(input).getRank(), normalized = rank - axis;
  if (static_cast<int64_t>(shape.size()) > rank ||
      typeOf(param).getElementType() != typeOf(input).getElementType())
    return false;
  int64_t lead = static_cast<int64_t>(shape.size()) - normalized;
  for (int64_t i = 0; i < lead; ++i)
    if (shape[i] != 1)
      return false;
  ArrayRef<int64_t> full = typeOf(input).getShape();
  for (int64_t i = std::max<int64_t>(lead, 0); i < static_cast<int64_t>(shape.size()); ++i)
    if (shape[i] != 1 && shape[i] != full[rank - static_cast<int64_t>(shape.size()) + i])
      return false;
  return true;
}

/// The one user of `value` if it is `OpTy` taking `value` and a parameter of the normalized
/// dims; sets `param`.
template <typename OpTy> OpTy paramUser(Value value, const Norm &norm, Value &param) {
  if (!value.hasOneUse())
    return nullptr;
  auto user = dyn_cast<OpTy>(*value.getUsers().begin());
  if (!user || user.getType() != value.getType())
    return nullptr;
  Value other = user.getLhs() == value ? user.getRhs() : user.getLhs();
  if (other == value || !spansNormalizedDims(other, norm.input, norm.axis))
    return nullptr;
  param = other;
  return user;
}

/// Matches a norm whose normalized value (before the weight) is `op`'s result.
FailureOr<Norm> matchNorm(Operation *op) {
  Norm norm;
  Value numerator, statistics;
  bool inverse = isa<MulOp>(op);
  if (auto div = dyn_cast<DivOp>(op)) {
    numerator = div.getLhs();
    statistics = div.getRhs();
  } else if (auto mul = dyn_cast<MulOp>(op)) {
    numerator = mul.getLhs();
    statistics = mul.getRhs();
    if (!isa_and_present<RsqrtOp, ReciprocalOp>(statistics.getDefiningOp()))
      std::swap(numerator, statistics);
  } else {
    return failure();
  }
  if (!isa<FloatType>(typeOf(numerator).getElementType()) ||
      typeOf(numerator) != typeOf(op->getResult(0)))
    return failure();
  if (Value squared = matchStatistics(statistics, inverse, norm); !squared || squared != numerator)
    return failure();
  if (Value input = centeredInput(numerator, norm.axis)) {
    // LayerNorm: the centered value may feed only the square and the normalization.
    if (llvm::any_of(numerator.getUsers(),
                     [&](Operation *user) { return user != op && user != norm.square; }))
      return failure();
    norm.input = input;
  } else {
    norm.rms = true;
    norm.input = numerator;
  }
  norm.last = op;
  if (auto scale = paramUser<MulOp>(op->getResult(0), norm, norm.weight))
    norm.last = scale;
  if (!norm.rms && norm.weight)
    if (auto shift = paramUser<AddOp>(norm.last->getResult(0), norm, norm.bias))
      norm.last = shift;
  return norm;
}

struct RaiseNorm final : RewritePattern {
  explicit RaiseNorm(MLIRContext *context) : RewritePattern(MatchAnyOpTypeTag(), 1, context) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isa<DivOp, MulOp>(op))
      return failure();
    FailureOr<Norm> norm = matchNorm(op);
    if (failed(norm))
      return failure();
    Location loc = rewriter.getFusedLoc({norm->mean->getLoc(), op->getLoc(), norm->last->getLoc()});
    Value weight = norm->weight;
    if (!weight) {
      auto one = RankedTensorType::get({}, typeOf(norm->input).getElementType());
      weight = ConstantOp::create(rewriter, loc, one,
                                  DenseElementsAttr::get(one, rewriter.getFloatAttr(
                                                                  one.getElementType(), 1.0)));
    }
    auto axis = rewriter.getI64IntegerAttr(norm->axis);
    auto epsilon = rewriter.getF32FloatAttr(static_cast<float>(norm->epsilon));
    Type type = norm->input.getType();
    Value result =
        norm->rms ? Value(RmsNormOp::create(rewriter, loc, type, norm->input, weight, axis,
                                            epsilon))
                  : Value(LayerNormOp::create(rewriter, loc, type, norm->input, weight,
                                              norm->bias, axis, epsilon));
    rewriter.replaceOp(norm->last, result);
    return success();
  }
};

struct RaiseNorms final : catfish::impl::CatfishRaiseNormsBase<RaiseNorms> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseNorm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
