//===- ElementwiseOps.cpp - constants, casts, elementwise folders --------===//
#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APSInt.h"

using namespace mlir;
using namespace mlir::catfish;

namespace {
using IntFn = function_ref<std::optional<APInt>(const APInt &, const APInt &)>;
} // namespace

/// Folds an integer binary op over constants with numpy broadcasting.
static Attribute foldIntBinary(ArrayRef<Attribute> operands, Type resultType, IntFn fn) {
  auto lhs = dyn_cast_if_present<DenseIntElementsAttr>(operands[0]);
  auto rhs = dyn_cast_if_present<DenseIntElementsAttr>(operands[1]);
  auto type = dyn_cast<RankedTensorType>(resultType);
  if (!lhs || !rhs || !type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements)
    return {};
  auto lv = lhs.getValues<APInt>();
  auto rv = rhs.getValues<APInt>();
  bool predicate = type.getElementType().isInteger(1) && !lhs.getElementType().isInteger(1);
  SmallVector<APInt> values;
  values.reserve(type.getNumElements());
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    std::optional<APInt> v =
        fn(lv[broadcastSourceIndex(type.getShape(), lhs.getType().getShape(), i)],
           rv[broadcastSourceIndex(type.getShape(), rhs.getType().getShape(), i)]);
    if (!v)
      return {};
    values.push_back(predicate ? v->trunc(1) : *v);
  }
  return DenseElementsAttr::get(type, values);
}

namespace {
using FloatFn = function_ref<APFloat(APFloat, const APFloat &)>;
using FloatPredicate = function_ref<bool(const APFloat &, const APFloat &)>;
} // namespace

/// Folds a float binary op over constants with numpy broadcasting: arithmetic with `fn`
/// (IEEE, rounded to nearest even in the operands' type, as the kernels compute), or a
/// comparison with `predicate` into an i1 result.
static Attribute foldFloatBinary(ArrayRef<Attribute> operands, Type resultType, FloatFn fn,
                                 FloatPredicate predicate = nullptr) {
  auto lhs = dyn_cast_if_present<DenseFPElementsAttr>(operands[0]);
  auto rhs = dyn_cast_if_present<DenseFPElementsAttr>(operands[1]);
  auto type = dyn_cast<RankedTensorType>(resultType);
  if (!lhs || !rhs || !type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements)
    return {};
  auto lv = lhs.getValues<APFloat>();
  auto rv = rhs.getValues<APFloat>();
  SmallVector<APFloat> floats;
  SmallVector<APInt> bits;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    APFloat a = lv[broadcastSourceIndex(type.getShape(), lhs.getType().getShape(), i)];
    APFloat b = rv[broadcastSourceIndex(type.getShape(), rhs.getType().getShape(), i)];
    if (predicate)
      bits.push_back(APInt(1, predicate(a, b)));
    else
      floats.push_back(fn(a, b));
  }
  return predicate ? DenseElementsAttr::get(type, bits) : DenseElementsAttr::get(type, floats);
}

/// Folds an arithmetic op over integer or float constants.
static Attribute foldArithmetic(ArrayRef<Attribute> operands, Type resultType, IntFn intFn,
                                FloatFn floatFn) {
  if (isa<FloatType>(getElementTypeOrSelf(resultType)))
    return foldFloatBinary(operands, resultType, floatFn);
  return foldIntBinary(operands, resultType, intFn);
}

/// Folds a comparison over integer (signed or unsigned) or float constants; NaN compares false.
static Attribute foldComparison(ArrayRef<Attribute> operands, Type resultType,
                                function_ref<bool(int)> holds) {
  auto lhs = dyn_cast_if_present<DenseElementsAttr>(operands[0]);
  if (!lhs)
    return {};
  if (isa<FloatType>(lhs.getElementType()))
    return foldFloatBinary(operands, resultType, nullptr,
                           [&](const APFloat &a, const APFloat &b) {
                             APFloat::cmpResult c = a.compare(b);
                             return c != APFloat::cmpUnordered &&
                                    holds(c == APFloat::cmpLessThan      ? -1
                                          : c == APFloat::cmpGreaterThan ? 1
                                                                         : 0);
                           });
  bool isUnsigned = lhs.getElementType().isUnsignedInteger();
  return foldIntBinary(operands, resultType,
                       [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         int c = isUnsigned ? (a.ult(b) ? -1 : a.ugt(b) ? 1 : 0)
                                            : (a.slt(b) ? -1 : a.sgt(b) ? 1 : 0);
                         return APInt(a.getBitWidth(), holds(c));
                       });
}

/// Rounds float constants to integral values with `mode` (Floor, Ceil, Round).
static Attribute foldRoundToIntegral(Attribute input, APFloat::roundingMode mode) {
  auto values = dyn_cast_if_present<DenseFPElementsAttr>(input);
  if (!values || values.getNumElements() > kMaxFoldElements)
    return {};
  return values.mapValues(values.getElementType(), [&](const APFloat &v) {
    APFloat r = v;
    r.roundToIntegral(mode);
    return r.bitcastToAPInt();
  });
}

/// True when `attr` is a splat constant equal to `value` (integer or float).
static bool isSplatOf(Attribute attr, double value) {
  auto splat = dyn_cast_if_present<SplatElementsAttr>(attr);
  if (!splat)
    return false;
  Type et = splat.getElementType();
  if (isa<FloatType>(et))
    return splat.getSplatValue<APFloat>().convertToDouble() == value;
  if (isa<IntegerType>(et))
    return splat.getSplatValue<APInt>().getSExtValue() == static_cast<int64_t>(value);
  return false;
}

/// x op identity -> x, when that does not change the result type.
static OpFoldResult foldIdentityRhs(Value lhs, Attribute rhs, Type resultType, double identity) {
  if (lhs.getType() == resultType && isSplatOf(rhs, identity))
    return lhs;
  return {};
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                           Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  inferred.push_back(cast<TypedAttr>(adaptor.getValueAttr()).getType());
  return success();
}

LogicalResult CastOp::verify() {
  if (failed(verifyCompatibleShape(getInput().getType(), getOutput().getType())))
    return emitOpError("result shape ") << getOutput().getType() << " differs from the input's";
  return success();
}

/// Float constants cast to an integer type (truncating toward zero; a value out of the type's
/// range or NaN is left to the kernel) or to bool (nonzero), or to another float type of 16 or
/// more bits (rounded to nearest even; float8's saturation stays with the kernel).
static Attribute foldFloatCast(DenseFPElementsAttr input, RankedTensorType type) {
  Type to = type.getElementType();
  if (auto toInt = dyn_cast<IntegerType>(to)) {
    SmallVector<APInt> values;
    for (const APFloat &v : input.getValues<APFloat>()) {
      if (toInt.getWidth() == 1) {
        values.push_back(APInt(1, !v.isZero()));
        continue;
      }
      APSInt r(toInt.getWidth(), toInt.isUnsigned());
      bool exact;
      if (v.convertToInteger(r, APFloat::rmTowardZero, &exact) & APFloat::opInvalidOp)
        return {};
      values.push_back(r);
    }
    return DenseElementsAttr::get(type, values);
  }
  auto toFloat = dyn_cast<FloatType>(to);
  if (!toFloat || toFloat.getWidth() < 16)
    return {};
  SmallVector<APFloat> values;
  for (APFloat v : input.getValues<APFloat>()) {
    bool lost;
    v.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    values.push_back(v);
  }
  return DenseElementsAttr::get(type, values);
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto type = cast<RankedTensorType>(getType());
  if (!type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return {};
  if (auto floats = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getInput()))
    return foldFloatCast(floats, type);
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!input)
    return {};
  bool fromUnsigned = input.getElementType().isUnsignedInteger();
  if (auto toFloat = dyn_cast<FloatType>(type.getElementType())) {
    // Integer scalars that shape arithmetic turns into floats (window lengths, ranges).
    SmallVector<APFloat> values;
    for (const APInt &v : input.getValues<APInt>()) {
      APFloat f(toFloat.getFloatSemantics());
      f.convertFromAPInt(v, !fromUnsigned && v.getBitWidth() != 1,
                         APFloat::rmNearestTiesToEven);
      values.push_back(f);
    }
    return DenseElementsAttr::get(type, values);
  }
  auto to = dyn_cast<IntegerType>(type.getElementType());
  if (!to)
    return {};
  bool toBool = to.getWidth() == 1;
  SmallVector<APInt> values;
  for (const APInt &v : input.getValues<APInt>()) {
    if (toBool)
      values.push_back(APInt(1, !v.isZero()));
    else
      values.push_back(fromUnsigned || v.getBitWidth() == 1 ? v.zextOrTrunc(to.getWidth())
                                                            : v.sextOrTrunc(to.getWidth()));
  }
  return DenseElementsAttr::get(type, values);
}

/// Negates integer constants, as shape arithmetic (`Neg` of an axis count) needs.
OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!input || input.getNumElements() > kMaxFoldElements)
    return {};
  return input.mapValues(input.getElementType(), [](const APInt &v) { return -v; });
}

OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!input || input.getNumElements() > kMaxFoldElements)
    return {};
  return input.mapValues(input.getElementType(), [](const APInt &v) { return ~v; });
}

OpFoldResult AndOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return a & b;
                       });
}

OpFoldResult OrOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return a | b;
                       });
}

/// Integer remainders: with `fmod` the sign of the dividend (C), else of the divisor (Python).
OpFoldResult ModOp::fold(FoldAdaptor adaptor) {
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  bool fmod = getFmod();
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         if (b.isZero())
                           return std::nullopt;
                         if (isUnsigned)
                           return a.urem(b);
                         APInt r = a.srem(b);
                         if (!fmod && !r.isZero() && r.isNegative() != b.isNegative())
                           r += b;
                         return r;
                       });
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 0))
    return r;
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [](const APInt &a, const APInt &b) -> std::optional<APInt> { return a + b; },
      [](APFloat a, const APFloat &b) {
        a.add(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 0))
    return r;
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [](const APInt &a, const APInt &b) -> std::optional<APInt> { return a - b; },
      [](APFloat a, const APFloat &b) {
        a.subtract(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 1))
    return r;
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [](const APInt &a, const APInt &b) -> std::optional<APInt> { return a * b; },
      [](APFloat a, const APFloat &b) {
        a.multiply(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 1))
    return r;
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
        if (b.isZero())
          return std::nullopt;
        return isUnsigned ? a.udiv(b) : a.sdiv(b);
      },
      [](APFloat a, const APFloat &b) {
        a.divide(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
        return isUnsigned ? llvm::APIntOps::umax(a, b) : llvm::APIntOps::smax(a, b);
      },
      [](APFloat a, const APFloat &b) { return llvm::maximum(a, b); });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
        return isUnsigned ? llvm::APIntOps::umin(a, b) : llvm::APIntOps::smin(a, b);
      },
      [](APFloat a, const APFloat &b) { return llvm::minimum(a, b); });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(adaptor.getOperands(), getType(), [](int c) { return c == 0; });
}

OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldComparison(adaptor.getOperands(), getType(), [](int c) { return c < 0; });
}

OpFoldResult LessEqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(adaptor.getOperands(), getType(), [](int c) { return c <= 0; });
}

OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldComparison(adaptor.getOperands(), getType(), [](int c) { return c > 0; });
}

OpFoldResult GreaterEqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(adaptor.getOperands(), getType(), [](int c) { return c >= 0; });
}

OpFoldResult FloorOp::fold(FoldAdaptor adaptor) {
  return foldRoundToIntegral(adaptor.getInput(), APFloat::rmTowardNegative);
}

OpFoldResult CeilOp::fold(FoldAdaptor adaptor) {
  return foldRoundToIntegral(adaptor.getInput(), APFloat::rmTowardPositive);
}

OpFoldResult RoundOp::fold(FoldAdaptor adaptor) {
  return foldRoundToIntegral(adaptor.getInput(), APFloat::rmNearestTiesToEven);
}

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  if (auto floats = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getInput());
      floats && floats.getNumElements() <= kMaxFoldElements)
    return floats.mapValues(floats.getElementType(), [](const APFloat &v) {
      return (v.isNegative() && !v.isNaN() ? APFloat::getZero(v.getSemantics()) : v)
          .bitcastToAPInt();
    });
  auto ints = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!ints || ints.getNumElements() > kMaxFoldElements)
    return {};
  bool isUnsigned = ints.getElementType().isUnsignedInteger();
  return ints.mapValues(ints.getElementType(), [&](const APInt &v) {
    return !isUnsigned && v.isNegative() ? APInt::getZero(v.getBitWidth()) : v;
  });
}

OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  if (auto floats = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getInput());
      floats && floats.getNumElements() <= kMaxFoldElements)
    return floats.mapValues(floats.getElementType(),
                            [](const APFloat &v) { return abs(v).bitcastToAPInt(); });
  auto ints = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!ints || ints.getNumElements() > kMaxFoldElements)
    return {};
  bool isUnsigned = ints.getElementType().isUnsignedInteger();
  return ints.mapValues(ints.getElementType(),
                        [&](const APInt &v) { return isUnsigned ? v : v.abs(); });
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto c = cast<RankedTensorType>(adaptor.getCondition().getType());
  auto t = cast<RankedTensorType>(adaptor.getOnTrue().getType());
  auto f = cast<RankedTensorType>(adaptor.getOnFalse().getType());
  if (t.getElementType() != f.getElementType())
    return emitOptionalError(loc, "branches have different element types: ",
                             t.getElementType(), " vs ", f.getElementType());
  FailureOr<SmallVector<int64_t>> shape = broadcastShapes(loc, t.getShape(), f.getShape());
  if (failed(shape))
    return failure();
  shape = broadcastShapes(loc, c.getShape(), *shape);
  if (failed(shape))
    return failure();
  inferred.push_back(RankedTensorType::get(*shape, t.getElementType()));
  return success();
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  auto cond = dyn_cast_if_present<SplatElementsAttr>(adaptor.getCondition());
  Value chosen;
  if (getOnTrue() == getOnFalse())
    chosen = getOnTrue();
  else if (cond)
    chosen = cond.getSplatValue<bool>() ? getOnTrue() : getOnFalse();
  if (chosen && chosen.getType() == getType())
    return chosen;
  // Constant condition and branches (shape arithmetic: Where(Equal(shape, -1), ...)).
  auto c = dyn_cast_if_present<DenseElementsAttr>(adaptor.getCondition());
  auto t = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOnTrue());
  auto f = dyn_cast_if_present<DenseElementsAttr>(adaptor.getOnFalse());
  auto type = cast<RankedTensorType>(getType());
  if (!c || !t || !f || !type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return {};
  auto cv = c.getValues<bool>();
  auto tv = t.getValues<Attribute>();
  auto fv = f.getValues<Attribute>();
  SmallVector<Attribute> values;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
    values.push_back(cv[broadcastSourceIndex(type.getShape(), c.getType().getShape(), i)]
                         ? tv[broadcastSourceIndex(type.getShape(), t.getType().getShape(), i)]
                         : fv[broadcastSourceIndex(type.getShape(), f.getType().getShape(), i)]);
  return DenseElementsAttr::get(type, values);
}
