//===- Catfish.h - the catfish dialect --------------------------*- C++ -*-===//
//
// The catfish dialect: ops, enums, and the shape helpers their type inference shares.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_DIALECT_CATFISH_H
#define CATFISH_DIALECT_CATFISH_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <vector>

#include "catfish/Dialect/CatfishDialect.h.inc"
#include "catfish/Dialect/CatfishEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "catfish/Dialect/CatfishAttrs.h.inc"

namespace mlir::OpTrait::catfish {
/// Marks ops computed element by element with numpy broadcasting (catfish.add, catfish.exp,
/// catfish.select, catfish.cast, ...): the fusion pass groups them.
template <typename ConcreteType>
class BroadcastElementwise : public TraitBase<ConcreteType, BroadcastElementwise> {};
} // namespace mlir::OpTrait::catfish

namespace mlir::catfish {

/// Result attribute of `main`'s hidden results: [output, dim] says the result (rank-0 i64) is
/// the run-time size of that dim of that output, whose type holds only its upper bound.
inline constexpr llvm::StringLiteral kSizeOfAttr = "catfish.size_of";

/// Result types are compatible when element types match and every dim agrees or one side is
/// dynamic: a result may be more static than inference found, never contradict it.
bool areCompatibleResultTypes(TypeRange inferred, TypeRange actual);

/// The values of a constant integer tensor (any integer width), or nullopt.
std::optional<SmallVector<int64_t>> getConstantIntValues(Value value);

/// The value of a constant float tensor whose elements are all equal, or nullopt.
std::optional<double> getConstantFloatSplat(Value value);

/// The elements of an f32 constant (a splat, dense or a resource blob), or nullopt; a splat is
/// expanded into `storage`.
std::optional<ArrayRef<float>> getConstantF32Values(Value value, std::vector<float> &storage);

/// The bytes of a constant that is not a splat, dense or a resource blob, laid out as its type
/// says (row-major, whole bytes per element); empty for anything else, booleans included.
ArrayRef<char> getConstantRawBytes(Value value);

/// Weights made at compile time (folded, merged): `bytes` as a resource blob named `name`, as
/// the importer stores weights, or as a dense attribute when small.
ElementsAttr createWeightsAttr(RankedTensorType type, ArrayRef<char> bytes, StringRef name);

/// A catfish.constant holding the 1-D i64 tensor [value] (a slice bound or axis).
Value createI64Constant(OpBuilder &builder, Location loc, int64_t value);

/// Whether `op` is a reshape between static shapes: its result has its input's bytes in the
/// same order, so outside a fusion region it is a view that no kernel computes (the artifact
/// gives both one buffer).
bool isBufferView(Operation *op);

/// One dim of a resolved slice: elements start, start + step, ... (size of them).
struct SliceDim {
  int64_t start, step, size;
};

/// Folders only materialize small constants (shape arithmetic), never weights.
inline constexpr int64_t kMaxFoldElements = 1 << 14;

/// Row-major index into `operandShape` of the element that broadcasts to the row-major
/// index `flat` of `resultShape`.
int64_t broadcastSourceIndex(ArrayRef<int64_t> resultShape, ArrayRef<int64_t> operandShape,
                             int64_t flat);

/// Numpy broadcast of two shapes; fails with a diagnostic at `loc` when incompatible.
FailureOr<SmallVector<int64_t>> broadcastShapes(std::optional<Location> loc,
                                                ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs);

/// Normalizes `axis` into [0, rank) or fails with a diagnostic naming `what`.
FailureOr<int64_t> normalizeAxis(std::optional<Location> loc, int64_t axis, int64_t rank,
                                 StringRef what = "axis");

LogicalResult inferSameType(std::optional<Location> loc, Value input,
                            SmallVectorImpl<Type> &inferred);
LogicalResult inferPredicateType(std::optional<Location> loc, Value input,
                                 SmallVectorImpl<Type> &inferred);
LogicalResult inferBroadcastSameElement(std::optional<Location> loc, Value lhs, Value rhs,
                                        SmallVectorImpl<Type> &inferred);
LogicalResult inferBroadcastLhsElement(std::optional<Location> loc, Value lhs, Value rhs,
                                       SmallVectorImpl<Type> &inferred);
LogicalResult inferBroadcastLhsShape(std::optional<Location> loc, Value lhs, Value rhs,
                                     SmallVectorImpl<Type> &inferred);
LogicalResult inferBroadcastPredicate(std::optional<Location> loc, Value lhs, Value rhs,
                                      SmallVectorImpl<Type> &inferred);

} // namespace mlir::catfish

#define GET_OP_CLASSES
#include "catfish/Dialect/CatfishOps.h.inc"

namespace mlir::catfish {

/// The values catfish.attention is computed through, each [batch, heads, queries, keys] but the
/// output: scaled Q.K^T, plus the mask, after softcap, after softmax, and the output.
struct AttentionExpansion {
  Value scores, biased, capped, probabilities, output;
};

/// An einsum equation resolved against its operand types. Labels are numbered (letters
/// first, then one per ellipsis dim); `inputs` lists each operand's dims as labels, `output`
/// the result's, and `sizes` every label's size (a size-1 operand dim broadcasts).
struct EinsumLabels {
  SmallVector<SmallVector<int64_t>> inputs;
  SmallVector<int64_t> output;
  SmallVector<int64_t> sizes;
};
FailureOr<EinsumLabels> resolveEinsum(std::optional<Location> loc, StringRef equation,
                                      TypeRange inputTypes);

/// Builds `op`'s computation from primitive catfish ops at the builder's insertion point. Fails
/// (with a diagnostic on `op`) where that needs static dims it does not have.
FailureOr<AttentionExpansion> expandAttention(OpBuilder &builder, AttentionOp op);

} // namespace mlir::catfish

#endif // CATFISH_DIALECT_CATFISH_H
