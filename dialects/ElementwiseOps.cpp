//===- ElementwiseOps.cpp - constants, casts, elementwise folders --------===//
#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/Matchers.h"

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

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!input || !type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
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
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return a + b;
                       });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 0))
    return r;
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return a - b;
                       });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 1))
    return r;
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return a * b;
                       });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldIdentityRhs(getLhs(), adaptor.getRhs(), getType(), 1))
    return r;
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         if (b.isZero())
                           return std::nullopt;
                         return isUnsigned ? a.udiv(b) : a.sdiv(b);
                       });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return isUnsigned ? llvm::APIntOps::umax(a, b) : llvm::APIntOps::smax(a, b);
                       });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs() && getLhs().getType() == getType())
    return getLhs();
  bool isUnsigned = getElementTypeOrSelf(getType()).isUnsignedInteger();
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [&](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return isUnsigned ? llvm::APIntOps::umin(a, b) : llvm::APIntOps::smin(a, b);
                       });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(adaptor.getOperands(), getType(),
                       [](const APInt &a, const APInt &b) -> std::optional<APInt> {
                         return APInt(a.getBitWidth(), a == b);
                       });
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
  return {};
}
