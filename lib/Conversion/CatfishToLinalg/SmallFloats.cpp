//===- SmallFloats.cpp - float8 / float4 conversions in integer arithmetic ===//
//
// LLVM has no float8 or float4 types: kernels keep such tensors as bytes (i8, or an i4 in a
// byte) and convert them to and from f32 with integer operations on the bit patterns.
// Rounding is to nearest even; out-of-range values follow ONNX Cast: with `saturate` they
// clamp to the largest finite value (infinities included), without it they become infinity
// where the format has one and NaN elsewhere. The FNUZ formats have no negative zero and a
// single NaN, 0x80. E2M1 has neither infinities nor NaN: it always saturates, and NaN
// becomes +6 as in ONNX's reference.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

/// The layout of one small float format: 1 sign bit, `exponentBits`, `mantissaBits`.
struct SmallFloatFormat {
  unsigned exponentBits;
  unsigned mantissaBits;
  int bias;
  bool fnuz;        // no negative zero, no infinity, NaN is 0x80
  bool hasInfinity; // exponent all ones and mantissa 0 is infinity (E5M2)
  bool hasNan;
  uint32_t maxCode; // the largest finite magnitude's bit pattern

  unsigned width() const { return 1 + exponentBits + mantissaBits; }
};

std::optional<SmallFloatFormat> formatOf(Type type) {
  if (isa<Float8E4M3FNType>(type))
    return SmallFloatFormat{4, 3, 7, false, false, true, 0x7E};
  if (isa<Float8E4M3FNUZType>(type))
    return SmallFloatFormat{4, 3, 8, true, false, true, 0x7F};
  if (isa<Float8E5M2Type>(type))
    return SmallFloatFormat{5, 2, 15, false, true, true, 0x7B};
  if (isa<Float8E5M2FNUZType>(type))
    return SmallFloatFormat{5, 2, 16, true, false, true, 0x7F};
  if (isa<Float4E2M1FNType>(type))
    return SmallFloatFormat{2, 1, 1, false, false, false, 0x7};
  return std::nullopt;
}

struct BitOps {
  OpBuilder &b;
  Location loc;

  Value i32(int64_t v) { return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v)); }
  Value f32(double v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)); }
  Value select(Value c, Value t, Value f) { return arith::SelectOp::create(b, loc, c, t, f); }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }
  Value shr(Value x, int64_t n) { return arith::ShRUIOp::create(b, loc, x, i32(n)); }
  Value shl(Value x, int64_t n) { return arith::ShLIOp::create(b, loc, x, i32(n)); }
  Value mask(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, i32(m)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value bitsOf(Value f) { return arith::BitcastOp::create(b, loc, b.getI32Type(), f); }
  Value floatOf(Value bits) { return arith::BitcastOp::create(b, loc, b.getF32Type(), bits); }
};

} // namespace

bool mlir::catfish::lowering::isSmallFloat(Type type) { return formatOf(type).has_value(); }

Value mlir::catfish::lowering::extendSmallFloat(OpBuilder &b, Location loc, Value x) {
  SmallFloatFormat f = *formatOf(x.getType());
  BitOps h{b, loc};
  Value code = arith::ExtUIOp::create(
      b, loc, b.getI32Type(), arith::BitcastOp::create(b, loc, b.getIntegerType(f.width()), x));
  unsigned magnitudeBits = f.exponentBits + f.mantissaBits;
  Value magnitude = h.mask(code, (1 << magnitudeBits) - 1);
  Value exponent = h.shr(magnitude, f.mantissaBits);
  Value mantissa = h.mask(magnitude, (1 << f.mantissaBits) - 1);
  // Subnormals: mantissa * 2^(1 - bias - mantissaBits), exact in f32.
  Value subnormal =
      arith::MulFOp::create(b, loc, arith::UIToFPOp::create(b, loc, b.getF32Type(), mantissa),
                            h.f32(std::ldexp(1.0, 1 - f.bias - static_cast<int>(f.mantissaBits))));
  Value normalBits = arith::OrIOp::create(b, loc, h.shl(h.add(exponent, h.i32(127 - f.bias)), 23),
                                          h.shl(mantissa, 23 - f.mantissaBits));
  Value value = h.select(h.eq(exponent, h.i32(0)), subnormal, h.floatOf(normalBits));
  Value nan = h.f32(std::numeric_limits<double>::quiet_NaN());
  int64_t topExponent = (1 << f.exponentBits) - 1;
  if (f.hasInfinity) {
    Value special = h.eq(exponent, h.i32(topExponent));
    Value infOrNan =
        h.select(h.eq(mantissa, h.i32(0)), h.f32(std::numeric_limits<double>::infinity()), nan);
    value = h.select(special, infOrNan, value);
  } else if (!f.fnuz && f.hasNan) {
    value = h.select(h.eq(magnitude, h.i32((1 << magnitudeBits) - 1)), nan, value);
  }
  Value negative = h.eq(h.shr(code, magnitudeBits), h.i32(1));
  value = h.select(negative, arith::NegFOp::create(b, loc, value), value);
  if (f.fnuz)
    value = h.select(h.eq(code, h.i32(0x80)), nan, value);
  return value;
}

Value mlir::catfish::lowering::truncateToSmallFloat(OpBuilder &b, Location loc, Value x, Type to,
                                                    bool saturate) {
  SmallFloatFormat f = *formatOf(to);
  BitOps h{b, loc};
  Value bits = h.bitsOf(x);
  Value sign = h.shr(bits, 31);
  Value absBits = h.mask(bits, 0x7FFFFFFF);
  Value abs = h.floatOf(absBits);
  // Below the smallest normal: round |x| / 2^(1 - bias - mantissaBits) to an integer, which is
  // the subnormal's code (2^mantissaBits when it rounds up to the smallest normal).
  int scaleExponent = f.bias - 1 + static_cast<int>(f.mantissaBits);
  Value scaled = arith::MulFOp::create(b, loc, abs, h.f32(std::ldexp(1.0, scaleExponent)));
  Value subnormalCode =
      arith::FPToUIOp::create(b, loc, b.getI32Type(), math::RoundEvenOp::create(b, loc, scaled));
  // Normals: round the f32 mantissa to `mantissaBits` (ties to even) in the integer bits, a
  // carry moving into the exponent, then rebias the exponent.
  unsigned dropped = 23 - f.mantissaBits;
  Value lsb = h.mask(h.shr(absBits, dropped), 1);
  Value rounded = h.add(absBits, h.add(h.i32((1 << (dropped - 1)) - 1), lsb));
  Value normalCode = arith::SubIOp::create(b, loc, h.shr(rounded, dropped),
                                           h.i32((127 - f.bias) << f.mantissaBits));
  Value isSubnormal = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, abs,
                                            h.f32(std::ldexp(1.0, 1 - f.bias)));
  Value magnitude = h.select(isSubnormal, subnormalCode, normalCode);
  // Infinity lands here too: its exponent is beyond every format's.
  Value overflow =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, magnitude, h.i32(f.maxCode));
  uint32_t allOnes = (1u << (f.width() - 1)) - 1;
  uint32_t overflowCode = saturate || !f.hasNan ? f.maxCode
                          : f.hasInfinity       ? f.maxCode + 1
                                                : allOnes;
  magnitude = h.select(overflow, h.i32(overflowCode), magnitude);
  Value code = arith::OrIOp::create(b, loc, magnitude, h.shl(sign, f.width() - 1));
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
  if (f.fnuz) {
    code = h.select(h.eq(magnitude, h.i32(0)), h.i32(0), code);
    if (!saturate)
      code = h.select(overflow, h.i32(0x80), code);
    code = h.select(isNan, h.i32(0x80), code);
  } else if (f.hasNan) {
    code = h.select(isNan, arith::OrIOp::create(b, loc, h.i32(allOnes), h.shl(sign, f.width() - 1)),
                    code);
  } else {
    code = h.select(isNan, h.i32(f.maxCode), code);
  }
  Value byte = arith::TruncIOp::create(b, loc, b.getIntegerType(f.width()), code);
  return arith::BitcastOp::create(b, loc, to, byte);
}
