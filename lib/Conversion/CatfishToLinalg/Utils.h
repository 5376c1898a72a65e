//===- Utils.h - helpers shared by the catfish -> linalg patterns -*- C++ -*-===//
#ifndef CATFISH_LIB_CONVERSION_CATFISHTOLINALG_UTILS_H
#define CATFISH_LIB_CONVERSION_CATFISHTOLINALG_UTILS_H

#include "catfish/Dialect/Catfish.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::catfish::lowering {

/// Computes one result element from the operands' elements inside a linalg.generic body.
using ScalarBuilder = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// The map reading `operand` (numpy-broadcast to `resultShape`) in a loop nest over
/// `resultShape`: leading dims dropped, size-1 dims pinned to 0.
AffineMap broadcastMap(ShapedType operand, ArrayRef<int64_t> resultShape);

/// A parallel linalg.generic producing `resultType` from `inputs` read through `inputMaps`.
Value buildParallelGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                           ValueRange inputs, ArrayRef<AffineMap> inputMaps, ScalarBuilder body);

/// Elementwise with numpy broadcasting of every input to `resultType`.
Value buildBroadcastGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                            ValueRange inputs, ScalarBuilder body);

/// A scalar constant of `type` (float or integer).
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// A tensor of `shape` with every element `value` (linalg.fill of a tensor.empty).
Value buildFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value value);

/// Reduces `input` over the sorted `axes` (rank-reduced result) with `combine`, starting from
/// `init`. `map` optionally transforms each element before it is combined.
Value buildReduction(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
                     Value init, ScalarBuilder combine,
                     function_ref<Value(OpBuilder &, Location, Value)> map = nullptr);

/// A static strided slice of `source` of `type`. A slice without elements may start at the
/// end of a dim, which tensor.extract_slice refuses; it becomes an empty tensor.
Value extractSlice(OpBuilder &b, Location loc, RankedTensorType type, Value source,
                   ArrayRef<int64_t> offsets, ArrayRef<int64_t> strides);

/// The single element of a scalar operand ([] or [1], or any one-element tensor).
Value scalarOf(OpBuilder &b, Location loc, Value tensor);

/// Reshapes a static tensor to `type` (same element count) via collapse + expand.
Value reshapeTo(OpBuilder &b, Location loc, Value value, RankedTensorType type);

/// Row-major coordinates of the linear index `linear` in `shape`.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> shape);

/// Marks the kernel function `op` is being lowered in as one whose loops must run in order
/// (kSequentialKernel): the CUDA target runs it on one thread.
void markSequential(Operation *op);

/// A loop over [lower, upper) (index values) carrying `init`; `body` returns the updated
/// values.
SmallVector<Value>
buildLoop(OpBuilder &b, Location loc, Value lower, Value upper, ValueRange init,
          function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)> body);

/// An axis of a verified op in [0, rank) (negative axes count from the end).
int64_t positiveAxis(int64_t axis, int64_t rank);

/// The identity element of a max (most negative) or min (most positive) reduction.
Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned = false);
Value highestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned = false);

/// Float or integer binary ops on scalars of the same type.
Value addScalar(OpBuilder &b, Location loc, Value x, Value y);
Value mulScalar(OpBuilder &b, Location loc, Value x, Value y);
Value maxScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned = false);
Value minScalar(OpBuilder &b, Location loc, Value x, Value y, bool isUnsigned = false);

/// float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ) and float4 (E2M1) values have no LLVM type:
/// kernels keep them as bytes and convert to and from f32 in integer arithmetic
/// (SmallFloats.cpp), rounding to nearest even and saturating out-of-range values as ONNX Cast
/// does when `saturate`.
bool isSmallFloat(Type type);
Value extendSmallFloat(OpBuilder &b, Location loc, Value x);
Value truncateToSmallFloat(OpBuilder &b, Location loc, Value x, Type to, bool saturate);

/// ONNX Cast between any two element types the kernels handle (integers signless, read and
/// written as unsigned when `fromUnsigned` / `toUnsigned`).
Value convertScalar(OpBuilder &b, Location loc, Value x, Type to, bool fromUnsigned = false,
                    bool toUnsigned = false, bool saturate = true);

/// Unsigned integer tensors become signless before the patterns run (arith works on signless
/// integers); these unit attributes mark the ops that had unsigned operands or results, for
/// the patterns where signedness matters (division, comparison, conversion, max/min).
inline constexpr StringLiteral kUnsignedOperands = "catfish.unsigned_operands";
inline constexpr StringLiteral kUnsignedResults = "catfish.unsigned_results";
bool hasUnsignedOperands(Operation *op);
bool hasUnsignedResults(Operation *op);

/// Fails the match unless every tensor that `op` touches is static with an element type the
/// code generators handle (signless integers, f16/bf16/f32/f64 and float8).
LogicalResult checkSupportedTypes(Operation *op, PatternRewriter &rewriter);

/// A catfish op lowering: checks the op's tensor types, then replaces the op by the values
/// `lower` builds.
template <typename OpTy>
struct LoweringPattern : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const final {
    if (failed(checkSupportedTypes(op, rewriter)))
      return failure();
    FailureOr<SmallVector<Value>> results = lower(op, rewriter);
    if (failed(results))
      return failure();
    rewriter.replaceOp(op, *results);
    return success();
  }

  virtual FailureOr<SmallVector<Value>> lower(OpTy op, PatternRewriter &rewriter) const = 0;
};

} // namespace mlir::catfish::lowering

#endif // CATFISH_LIB_CONVERSION_CATFISHTOLINALG_UTILS_H
