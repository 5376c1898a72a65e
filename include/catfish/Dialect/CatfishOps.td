#ifndef CATFISH_OPS_TD
#define CATFISH_OPS_TD

include "catfish/Dialect/CatfishDialect.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

// Computed element by element with numpy broadcasting; such ops fuse with each other.
def Catfish_BroadcastElementwise : NativeOpTrait<"BroadcastElementwise"> {
  let cppNamespace = "::mlir::OpTrait::catfish";
}

class Catfish_Op<string mnemonic, list<Trait> traits = []>
    : Op<Catfish_Dialect, mnemonic, traits> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// An op whose result types follow from its operands and attributes. A result type may be more
// static than the inferred one (e.g. an importer knows a dim that inference cannot see), but
// never contradict it.
class Catfish_InferOp<string mnemonic, list<Trait> traits = [], code inferDef = "">
    : Catfish_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptorWithIsCompatible])> {
  let extraClassDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange l, ::mlir::TypeRange r) {
      return ::mlir::catfish::areCompatibleResultTypes(l, r);
    }
  }] # inferDef;
}

class Catfish_UnaryOp<string mnemonic, string helper = "inferSameType", list<Trait> traits = []>
    : Catfish_InferOp<mnemonic, !listconcat(traits, [SameOperandsAndResultShape,
                                                     Catfish_BroadcastElementwise]), [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> location, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::catfish::}] # helper # [{(location, adaptor.getInput(), inferred);
    }
  }]> {
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
}

class Catfish_FloatUnaryOp<string mnemonic, string summaryText>
    : Catfish_UnaryOp<mnemonic> {
  let summary = summaryText;
  let arguments = (ins TensorOf<[AnyFloat]>:$input);
}

// Unary activation with scalar parameters, e.g. leaky_relu {alpha}.
class Catfish_ParamUnaryOp<string mnemonic, string summaryText, dag params>
    : Catfish_UnaryOp<mnemonic> {
  let summary = summaryText;
  let arguments = !con((ins TensorOf<[AnyFloat]>:$input), params);
}

// Numpy-broadcasting binary op; `helper` picks the result element type.
class Catfish_BinaryOp<string mnemonic, string summaryText,
                       string helper = "inferBroadcastSameElement", list<Trait> traits = []>
    : Catfish_InferOp<mnemonic, !listconcat(traits, [Catfish_BroadcastElementwise]), [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
        std::optional<::mlir::Location> location, Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferred) {
      return ::mlir::catfish::}] # helper # [{(location, adaptor.getLhs(), adaptor.getRhs(),
                                              inferred);
    }
  }]> {
  let summary = summaryText;
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

// Ops whose result type is given by the builder (the element type is a choice, not a fact).
class Catfish_TypedOp<string mnemonic, list<Trait> traits = []>
    : Catfish_Op<mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

def Catfish_IndexTensor : TensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// Constants and casts
//===----------------------------------------------------------------------===//

def Catfish_ConstantOp : Catfish_InferOp<"constant", [ConstantLike]> {
  let summary = "A tensor constant; large weights are dense resource blobs";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyStaticShapeTensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Catfish_CastOp : Catfish_TypedOp<"cast", [SameOperandsAndResultShape,
                                              Catfish_BroadcastElementwise]> {
  let summary = "Element type conversion (ONNX Cast semantics, saturating for float8)";
  let arguments = (ins AnyRankedTensor:$input, DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

def Catfish_AbsOp : Catfish_UnaryOp<"abs"> {
  let summary = "|x|";
  let hasFolder = 1;
}
def Catfish_NegOp : Catfish_UnaryOp<"neg"> {
  let summary = "-x";
  let hasFolder = 1;
}
def Catfish_SignOp : Catfish_UnaryOp<"sign"> { let summary = "sign(x)"; }
def Catfish_ReluOp : Catfish_UnaryOp<"relu"> {
  let summary = "max(x, 0)";
  let hasFolder = 1;
}
def Catfish_NotOp : Catfish_UnaryOp<"not"> {
  let summary = "Logical not of a boolean tensor";
  let arguments = (ins TensorOf<[I1]>:$input);
  let hasFolder = 1;
}
def Catfish_BitwiseNotOp : Catfish_UnaryOp<"bitwise_not"> {
  let summary = "Bitwise complement of an integer tensor";
  let arguments = (ins TensorOf<[AnyInteger]>:$input);
}
def Catfish_ExpOp : Catfish_FloatUnaryOp<"exp", "e^x">;
def Catfish_LogOp : Catfish_FloatUnaryOp<"log", "natural logarithm">;
def Catfish_SqrtOp : Catfish_FloatUnaryOp<"sqrt", "square root">;
def Catfish_RsqrtOp : Catfish_FloatUnaryOp<"rsqrt", "1 / sqrt(x)">;
def Catfish_ReciprocalOp : Catfish_FloatUnaryOp<"reciprocal", "1 / x">;
def Catfish_SigmoidOp : Catfish_FloatUnaryOp<"sigmoid", "1 / (1 + e^-x)">;
def Catfish_TanhOp : Catfish_FloatUnaryOp<"tanh", "hyperbolic tangent">;
def Catfish_ErfOp : Catfish_FloatUnaryOp<"erf", "Gauss error function">;
def Catfish_SinOp : Catfish_FloatUnaryOp<"sin", "sine">;
def Catfish_CosOp : Catfish_FloatUnaryOp<"cos", "cosine">;
def Catfish_TanOp : Catfish_FloatUnaryOp<"tan", "tangent">;
def Catfish_AsinOp : Catfish_FloatUnaryOp<"asin", "arcsine">;
def Catfish_AcosOp : Catfish_FloatUnaryOp<"acos", "arccosine">;
def Catfish_AtanOp : Catfish_FloatUnaryOp<"atan", "arctangent">;
def Catfish_SinhOp : Catfish_FloatUnaryOp<"sinh", "hyperbolic sine">;
def Catfish_CoshOp : Catfish_FloatUnaryOp<"cosh", "hyperbolic cosine">;
def Catfish_AsinhOp : Catfish_FloatUnaryOp<"asinh", "inverse hyperbolic sine">;
def Catfish_AcoshOp : Catfish_FloatUnaryOp<"acosh", "inverse hyperbolic cosine">;
def Catfish_AtanhOp : Catfish_FloatUnaryOp<"atanh", "inverse hyperbolic tangent">;
def Catfish_FloorOp : Catfish_FloatUnaryOp<"floor", "round toward -inf"> { let hasFolder = 1; }
def Catfish_CeilOp : Catfish_FloatUnaryOp<"ceil", "round toward +inf"> { let hasFolder = 1; }
def Catfish_RoundOp : Catfish_FloatUnaryOp<"round", "round half to even"> { let hasFolder = 1; }
def Catfish_SoftplusOp : Catfish_FloatUnaryOp<"softplus", "log(1 + e^x)">;
def Catfish_SoftsignOp : Catfish_FloatUnaryOp<"softsign", "x / (1 + |x|)">;
def Catfish_MishOp : Catfish_FloatUnaryOp<"mish", "x * tanh(softplus(x))">;
def Catfish_HardSwishOp : Catfish_FloatUnaryOp<"hard_swish", "x * max(0, min(1, x / 6 + 1 / 2))">;
def Catfish_SiluOp : Catfish_FloatUnaryOp<"silu", "x * sigmoid(x)">;
def Catfish_GeluOp : Catfish_UnaryOp<"gelu"> {
  let summary = "Gaussian error linear unit, exact (erf) or tanh-approximated";
  let arguments = (ins TensorOf<[AnyFloat]>:$input,
                       DefaultValuedAttr<BoolAttr, "false">:$tanh_approximation);
}
def Catfish_IsNanOp : Catfish_UnaryOp<"is_nan", "inferPredicateType"> {
  let summary = "x != x";
  let arguments = (ins TensorOf<[AnyFloat]>:$input);
}
def Catfish_IsInfOp : Catfish_UnaryOp<"is_inf", "inferPredicateType"> {
  let summary = "Whether x is +inf and/or -inf";
  let arguments = (ins TensorOf<[AnyFloat]>:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_positive,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_negative);
}

def Catfish_LeakyReluOp : Catfish_ParamUnaryOp<"leaky_relu", "x < 0 ? alpha * x : x",
    (ins F32Attr:$alpha)>;
def Catfish_EluOp : Catfish_ParamUnaryOp<"elu", "x < 0 ? alpha * (e^x - 1) : x",
    (ins F32Attr:$alpha)>;
def Catfish_CeluOp : Catfish_ParamUnaryOp<"celu", "max(0, x) + min(0, alpha * (e^(x/alpha) - 1))",
    (ins F32Attr:$alpha)>;
def Catfish_SeluOp : Catfish_ParamUnaryOp<"selu", "gamma * (x < 0 ? alpha * (e^x - 1) : x)",
    (ins F32Attr:$alpha, F32Attr:$gamma)>;
def Catfish_HardSigmoidOp : Catfish_ParamUnaryOp<"hard_sigmoid", "max(0, min(1, alpha * x + beta))",
    (ins F32Attr:$alpha, F32Attr:$beta)>;
def Catfish_ThresholdedReluOp : Catfish_ParamUnaryOp<"thresholded_relu", "x > alpha ? x : 0",
    (ins F32Attr:$alpha)>;
def Catfish_ShrinkOp : Catfish_UnaryOp<"shrink"> {
  let summary = "x < -lambd ? x + bias : (x > lambd ? x - bias : 0)";
  let arguments = (ins AnyRankedTensor:$input, F32Attr:$bias, F32Attr:$lambd);
}

def Catfish_AddOp : Catfish_BinaryOp<"add", "lhs + rhs", "inferBroadcastSameElement",
                                     [Commutative]> { let hasFolder = 1; }
def Catfish_SubOp : Catfish_BinaryOp<"sub", "lhs - rhs"> { let hasFolder = 1; }
def Catfish_MulOp : Catfish_BinaryOp<"mul", "lhs * rhs", "inferBroadcastSameElement",
                                     [Commutative]> { let hasFolder = 1; }
def Catfish_DivOp : Catfish_BinaryOp<"div", "lhs / rhs (integer division truncates)"> {
  let hasFolder = 1;
}
def Catfish_PowOp : Catfish_BinaryOp<"pow", "lhs ^ rhs (exponent of any numeric type)",
                                     "inferBroadcastLhsElement">;
def Catfish_MaxOp : Catfish_BinaryOp<"max", "elementwise maximum (NaN propagates)",
                                     "inferBroadcastSameElement", [Commutative]> {
  let hasFolder = 1;
}
def Catfish_MinOp : Catfish_BinaryOp<"min", "elementwise minimum (NaN propagates)",
                                     "inferBroadcastSameElement", [Commutative]> {
  let hasFolder = 1;
}
def Catfish_ModOp : Catfish_BinaryOp<"mod", "remainder; sign of divisor unless fmod"> {
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
  let hasFolder = 1;
}
def Catfish_PReluOp : Catfish_BinaryOp<"prelu", "lhs < 0 ? rhs * lhs : lhs",
                                       "inferBroadcastLhsShape">;
def Catfish_AndOp : Catfish_BinaryOp<"and", "logical and", "inferBroadcastSameElement",
                                     [Commutative]> { let hasFolder = 1; }
def Catfish_OrOp : Catfish_BinaryOp<"or", "logical or", "inferBroadcastSameElement",
                                    [Commutative]> { let hasFolder = 1; }
def Catfish_XorOp : Catfish_BinaryOp<"xor", "logical exclusive or", "inferBroadcastSameElement",
                                     [Commutative]>;
def Catfish_BitwiseAndOp : Catfish_BinaryOp<"bitwise_and", "bitwise and">;
def Catfish_BitwiseOrOp : Catfish_BinaryOp<"bitwise_or", "bitwise or">;
def Catfish_BitwiseXorOp : Catfish_BinaryOp<"bitwise_xor", "bitwise exclusive or">;
def Catfish_ShiftLeftOp : Catfish_BinaryOp<"shift_left", "lhs << rhs (unsigned)">;
def Catfish_ShiftRightOp : Catfish_BinaryOp<"shift_right", "lhs >> rhs (logical)">;
def Catfish_EqualOp : Catfish_BinaryOp<"equal", "lhs == rhs", "inferBroadcastPredicate",
                                       [Commutative]> { let hasFolder = 1; }
def Catfish_LessOp : Catfish_BinaryOp<"less", "lhs < rhs", "inferBroadcastPredicate"> {
  let hasFolder = 1;
}
def Catfish_LessEqualOp : Catfish_BinaryOp<"less_equal", "lhs <= rhs", "inferBroadcastPredicate"> {
  let hasFolder = 1;
}
def Catfish_GreaterOp : Catfish_BinaryOp<"greater", "lhs > rhs", "inferBroadcastPredicate"> {
  let hasFolder = 1;
}
def Catfish_GreaterEqualOp : Catfish_BinaryOp<"greater_equal", "lhs >= rhs",
                                              "inferBroadcastPredicate"> {
  let hasFolder = 1;
}

def Catfish_SelectOp : Catfish_InferOp<"select", [Catfish_BroadcastElementwise]> {
  let summary = "condition ? on_true : on_false, with numpy broadcasting (ONNX Where)";
  let arguments = (ins TensorOf<[I1]>:$condition, AnyRankedTensor:$on_true,
                       AnyRankedTensor:$on_false);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

def Catfish_ShapeOp : Catfish_InferOp<"shape"> {
  let summary = "The dims [start, end) of the input's shape as a 1-D i64 tensor";
  let arguments = (ins AnyRankedTensor:$input, DefaultValuedAttr<I64Attr, "0">:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs I64Tensor:$output);
  let hasFolder = 1;
}

def Catfish_SizeOp : Catfish_InferOp<"size"> {
  let summary = "The number of elements of the input as an i64 scalar";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs I64Tensor:$output);
  let hasFolder = 1;
}

def Catfish_ReshapeOp : Catfish_InferOp<"reshape"> {
  let summary = "Reshape to the dims in `shape` (ONNX rules: 0 copies a dim unless allowzero, -1 is inferred)";
  let arguments = (ins AnyRankedTensor:$input, I64Tensor:$shape,
                       DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_TransposeOp : Catfish_InferOp<"transpose"> {
  let summary = "Permute dims: output dim i is input dim perm[i]";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_ConcatOp : Catfish_InferOp<"concat"> {
  let summary = "Concatenate along `axis`";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_SplitOp : Catfish_InferOp<"split"> {
  let summary = "Split along `axis` into pieces of the given sizes";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<AnyRankedTensor>:$outputs);
  let hasFolder = 1;
}

def Catfish_SliceOp : Catfish_InferOp<"slice", [AttrSizedOperandSegments]> {
  let summary = "Strided slice with ONNX semantics (negative indices, clamping, axes, steps)";
  let arguments = (ins AnyRankedTensor:$input, Catfish_IndexTensor:$starts, Catfish_IndexTensor:$ends,
                       Optional<Catfish_IndexTensor>:$axes, Optional<Catfish_IndexTensor>:$steps);
  let results = (outs AnyRankedTensor:$output);
  let extraClassDeclaration = [{
    /// Start, step and size per input dim once starts/ends/axes/steps are constant.
    std::optional<::llvm::SmallVector<::mlir::catfish::SliceDim>> getResolvedDims();
  }];
  let hasFolder = 1;
}

def Catfish_BroadcastOp : Catfish_InferOp<"broadcast"> {
  let summary = "Broadcast the input with the dims in `shape` (ONNX Expand, bidirectional)";
  let arguments = (ins AnyRankedTensor:$input, I64Tensor:$shape);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_TileOp : Catfish_InferOp<"tile"> {
  let summary = "Repeat the input `repeats[i]` times along dim i";
  let arguments = (ins AnyRankedTensor:$input, I64Tensor:$repeats);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_PadOp : Catfish_InferOp<"pad"> {
  let summary = "Pad by `pads` ([begin_0.., end_0..], negative crops) in the given mode";
  let arguments = (ins AnyRankedTensor:$input, I64Tensor:$pads,
                       Optional<AnyRankedTensor>:$value, Catfish_PadModeAttr:$mode);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_GatherOp : Catfish_InferOp<"gather"> {
  let summary = "Take slices of `input` along `axis` at `indices` (negative indices wrap)";
  let arguments = (ins AnyRankedTensor:$input, Catfish_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_GatherElementsOp : Catfish_InferOp<"gather_elements"> {
  let summary = "output[i][j] = input[index[i][j]][j] along `axis`";
  let arguments = (ins AnyRankedTensor:$input, Catfish_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_GatherNdOp : Catfish_InferOp<"gather_nd"> {
  let summary = "Gather slices addressed by the last dim of `indices`";
  let arguments = (ins AnyRankedTensor:$input, Catfish_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_ScatterElementsOp : Catfish_InferOp<"scatter_elements"> {
  let summary = "Copy of `input` with `updates` written at `indices` along `axis`";
  let arguments = (ins AnyRankedTensor:$input, Catfish_IndexTensor:$indices, AnyRankedTensor:$updates,
                       I64Attr:$axis, Catfish_ScatterReductionAttr:$reduction);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_ScatterNdOp : Catfish_InferOp<"scatter_nd"> {
  let summary = "Copy of `input` with slices from `updates` written where `indices` point";
  let arguments = (ins AnyRankedTensor:$input, Catfish_IndexTensor:$indices, AnyRankedTensor:$updates,
                       Catfish_ScatterReductionAttr:$reduction);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_FillOp : Catfish_InferOp<"fill"> {
  let summary = "A tensor of dims `shape` filled with `value` (ONNX ConstantOfShape)";
  let arguments = (ins I64Tensor:$shape, TypedAttrInterface:$value);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_RangeOp : Catfish_InferOp<"range"> {
  let summary = "[start, start + delta, ...) up to limit, from three scalars";
  let description = [{
    With `bound` (start, limit and delta known only at run time) the output has `bound`
    elements: the first max(0, ceil((limit - start) / delta)), at most `bound`, are the range,
    the rest zero. Without it, they must be constants for the output to have a static length.
  }];
  let arguments = (ins AnyRankedTensor:$start, AnyRankedTensor:$limit, AnyRankedTensor:$delta,
                       OptionalAttr<I64Attr>:$bound);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

// Ops whose output size depends on the data: each result is planned at an upper bound that
// follows from the input shapes, padded with zeros past the data, and `count` (rank 0) says how
// far along the bounded dim the data reaches. The importer tracks which dims are bounded.

def Catfish_NonZeroOp : Catfish_InferOp<"non_zero"> {
  let summary = "Coordinates of the non-zero elements, as [rank, numel] padded, and their count";
  let description = [{
    Column j < count of `output` holds the coordinates of the j-th non-zero element of
    `input` in row-major order; the columns after it are zero. A rank-0 input counts as a
    rank-1 input of one element, as onnxruntime does.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs I64Tensor:$output, I64Tensor:$count);
}

def Catfish_UniqueOp : Catfish_InferOp<"unique"> {
  let summary = "The distinct slices of `input` along `axis` (or its distinct elements)";
  let description = [{
    ONNX Unique. Without `axis` the input is flattened. `values` keeps the input's shape (the
    flattened length without `axis`); its first `count` slices along the axis are the distinct
    ones, sorted (lexicographically, slices in row-major order) or in order of first
    occurrence. `indices` and `counts` are padded to the same bound; `inverse_indices` has one
    entry per input slice.
  }];
  let arguments = (ins AnyRankedTensor:$input, OptionalAttr<I64Attr>:$axis, BoolAttr:$sorted);
  let results = (outs AnyRankedTensor:$values, I64Tensor:$indices, I64Tensor:$inverse_indices,
                      I64Tensor:$counts, I64Tensor:$count);
}

def Catfish_OneHotOp : Catfish_InferOp<"one_hot"> {
  let summary = "One-hot encode `indices` with `depth` classes, values [off, on], at `axis`";
  let arguments = (ins AnyRankedTensor:$indices, AnyRankedTensor:$depth,
                       AnyRankedTensor:$values, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_TriluOp : Catfish_InferOp<"trilu"> {
  let summary = "Keep the upper or lower triangle of the last two dims, offset by k";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$k, BoolAttr:$upper);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_CumSumOp : Catfish_InferOp<"cumsum"> {
  let summary = "Running sum along `axis`";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_ReverseOp : Catfish_InferOp<"reverse"> {
  let summary = "Reverse the order of elements along each of `axes`";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_ResizeOp : Catfish_InferOp<"resize"> {
  let summary = "Resample the input to `sizes` (ONNX Resize after scales became sizes)";
  let description = [{
    ONNX Resize with every dim listed: `scales` holds the per-dim scale of the coordinate
    transformation when the model gave scales (or a keep-aspect-ratio policy chose one);
    without it the scale of dim i is sizes[i] / input dim i. `roi` holds the starts, then the
    ends, of every dim for `tf_crop_and_resize`.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Tensor:$sizes, StrAttr:$mode,
                       StrAttr:$coordinate_transformation_mode, StrAttr:$nearest_mode,
                       F32Attr:$cubic_coeff_a, BoolAttr:$exclude_outside,
                       F32Attr:$extrapolation_value, OptionalAttr<DenseF64ArrayAttr>:$scales,
                       DefaultValuedAttr<BoolAttr, "false">:$antialias,
                       OptionalAttr<DenseF64ArrayAttr>:$roi);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_GridSampleOp : Catfish_InferOp<"grid_sample"> {
  let summary = "Sample the input at the grid's normalized coordinates (ONNX GridSample)";
  let description = [{
    `input` is [N, C, D1, ..., Dr] and `grid` is [N, O1, ..., Or, r], its last dim holding
    (x, y, ...) coordinates in [-1, 1] with x along the innermost dim; the result is
    [N, C, O1, ..., Or]. `mode` is linear, nearest or cubic; `padding_mode` is zeros, border
    or reflection.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$grid, StrAttr:$mode,
                       StrAttr:$padding_mode, BoolAttr:$align_corners);
  let results = (outs AnyRankedTensor:$output);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and sorting
//===----------------------------------------------------------------------===//

def Catfish_ReduceOp : Catfish_InferOp<"reduce"> {
  let summary = "Reduce over `axes` (all dims when empty) with `kind`";
  let arguments = (ins AnyRankedTensor:$input, Catfish_ReduceKindAttr:$kind,
                       DenseI64ArrayAttr:$axes, BoolAttr:$keepdims);
  let results = (outs AnyRankedTensor:$output);
  let hasFolder = 1;
}

def Catfish_ArgMaxOp : Catfish_InferOp<"argmax"> {
  let summary = "Index of the largest element along `axis`";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis, BoolAttr:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs I64Tensor:$output);
}

def Catfish_ArgMinOp : Catfish_InferOp<"argmin"> {
  let summary = "Index of the smallest element along `axis`";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis, BoolAttr:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs I64Tensor:$output);
}

def Catfish_TopKOp : Catfish_InferOp<"topk"> {
  let summary = "The k largest (or smallest) elements along `axis` and their indices";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$k, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$largest,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs AnyRankedTensor:$values, I64Tensor:$indices);
}

//===----------------------------------------------------------------------===//
// Neural network
//===----------------------------------------------------------------------===//

def Catfish_NonMaxSuppressionOp : Catfish_InferOp<"non_max_suppression"> {
  let summary = "Greedy non-maximum suppression of boxes per batch and class (ONNX semantics)";
  let description = [{
    `boxes` [B, N, 4] (corners, or centers and sizes with `center_point_box`), `scores`
    [B, C, N], and three scalars. For each batch and class, boxes are taken by falling score
    (the lower index first among equal scores) while their score is above `score_threshold`
    (when `has_score_threshold`) and fewer than `max_output_boxes_per_class` are selected,
    skipping a box whose IoU with one already selected exceeds `iou_threshold`. Rows
    [batch, class, box] of `selected` are padded to `bound_per_class` per batch and class.
  }];
  let arguments = (ins TensorOf<[F32]>:$boxes, TensorOf<[F32]>:$scores,
                       I64Tensor:$max_output_boxes_per_class, TensorOf<[F32]>:$iou_threshold,
                       TensorOf<[F32]>:$score_threshold, BoolAttr:$center_point_box,
                       BoolAttr:$has_score_threshold, I64Attr:$bound_per_class);
  let results = (outs I64Tensor:$selected, I64Tensor:$count);
}

def Catfish_DetOp : Catfish_InferOp<"det"> {
  let summary = "Determinants of the trailing square matrices of `input` (ONNX Det)";
  let description = [{
    Gaussian elimination with partial pivoting, one matrix after the other, in a kernel the
    CUDA target runs on one thread.
  }];
  let arguments = (ins TensorOf<[AnyFloat]>:$input);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_MatMulOp : Catfish_InferOp<"matmul"> {
  let summary = "Batched matrix product with numpy (ONNX MatMul) semantics";
  let description = [{
    1-D operands are promoted to matrices and the promoted dim dropped from the result;
    batch dims broadcast. The result element type is the operands' (i32 for integer operands
    that the importer widened).
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_PackedMatMulOp : Catfish_InferOp<"packed_matmul"> {
  let summary = "Matrix product by a constant right operand stored in column panels";
  let description = [{
    `out[..., m, n] = sum over k of lhs[..., m, k] * packed[n / P, k, n % P]`, with P the
    packed operand's last dim: a [K, N] right operand kept as N / P panels of P adjacent
    columns, each panel K rows of P contiguous values. The CPU micro-kernel then reads every
    reduction step's columns from consecutive addresses instead of one row of the whole
    matrix apart. `catfish-pack-weights` makes it from a matmul by a constant.
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$lhs, RankedTensorOf<[AnyFloat]>:$packed);
  let results = (outs RankedTensorOf<[AnyFloat]>:$output);
  let assemblyFormat = "$lhs `,` $packed attr-dict `:` functional-type(operands, results)";
}

def Catfish_EinsumOp : Catfish_InferOp<"einsum"> {
  let summary = "Einstein summation with an explicit or implicit equation";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, StrAttr:$equation);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_ConvOp : Catfish_InferOp<"conv"> {
  let summary = "N-d grouped convolution, NC[D]HW, explicit padding";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_PackedConvOp : Catfish_InferOp<"packed_conv"> {
  let summary = "Convolution without groups by constant weights stored in output-channel panels";
  let description = [{
    A `catfish.conv` with one group whose [F, C, k...] weight is kept as F / P panels of P
    output channels: `packed[f / P, c, k..., f % P] = weight[f, c, k...]`, with P the packed
    operand's last dim. The CPU computes it as a contraction whose columns are the output
    channels (whole P-wide register blocks and consecutive weight reads) and whose rows are
    the output positions, flattened (a 7x7 output is 49 rows, where its 7 columns would fill
    a fraction of a register block). `catfish-pack-weights` makes it from a convolution by a
    constant weight.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, RankedTensorOf<[F32]>:$packed,
                       Optional<RankedTensorOf<[F32]>>:$bias, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations);
  let results = (outs RankedTensorOf<[F32]>:$output);
}

def Catfish_ConvTransposeOp : Catfish_InferOp<"conv_transpose"> {
  let summary = "N-d grouped transposed convolution with explicit padding";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding, I64Attr:$groups);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_MaxPoolOp : Catfish_InferOp<"max_pool"> {
  let summary = "N-d max pooling with explicit padding";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_AvgPoolOp : Catfish_InferOp<"avg_pool"> {
  let summary = "N-d average pooling with explicit padding";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode,
                       BoolAttr:$count_include_pad);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_LpPoolOp : Catfish_InferOp<"lp_pool"> {
  let summary = "N-d Lp-norm pooling with explicit padding";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode, I64Attr:$p);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_SoftmaxOp : Catfish_InferOp<"softmax"> {
  let summary = "Softmax along `axis`";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, I64Attr:$axis);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_LogSoftmaxOp : Catfish_InferOp<"log_softmax"> {
  let summary = "log(softmax(x)) along `axis`";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, I64Attr:$axis);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_BatchNormOp : Catfish_InferOp<"batch_norm"> {
  let summary = "Inference batch normalization over dim 1 with running statistics";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$bias, AnyRankedTensor:$mean, AnyRankedTensor:$variance,
                       F32Attr:$epsilon);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_LayerNormOp : Catfish_InferOp<"layer_norm"> {
  let summary = "Normalize over dims [axis, rank), then scale and shift";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, AnyRankedTensor:$scale,
                       Optional<AnyRankedTensor>:$bias, I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_RmsNormOp : Catfish_InferOp<"rms_norm"> {
  let summary = "x / sqrt(mean(x^2 over [axis, rank)) + epsilon) * scale";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, AnyRankedTensor:$scale, I64Attr:$axis,
                       F32Attr:$epsilon);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_GroupNormOp : Catfish_InferOp<"group_norm"> {
  let summary = "Normalize each of `num_groups` channel groups, then per-channel scale and shift";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$bias, I64Attr:$num_groups, F32Attr:$epsilon);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_LrnOp : Catfish_InferOp<"lrn"> {
  let summary = "Local response normalization across channels";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, F32Attr:$alpha, F32Attr:$beta,
                       F32Attr:$bias, I64Attr:$size);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_AttentionOp : Catfish_InferOp<"attention"> {
  let summary = "softmax(Q.K^T * scale + mask).V over [batch, heads, seq, head_dim]";
  let description = [{
    scores = scale * Q.K^T; then the mask: boolean (true keeps, false gives -inf) or added;
    then `is_causal`: query i sees keys 0..i (the upper-left triangle, as ONNX defines it);
    then, when `softcap` > 0, softcap * tanh(scores / softcap); softmax over the keys; times V.
    Grouped-query attention when K/V have fewer heads than Q (Q heads must be a multiple):
    query head h reads key/value head h / (Q heads / K heads).
  }];
  let arguments = (ins TensorOf<[AnyFloat]>:$query, TensorOf<[AnyFloat]>:$key,
                       TensorOf<[AnyFloat]>:$value, Optional<AnyRankedTensor>:$mask,
                       F32Attr:$scale, BoolAttr:$is_causal,
                       DefaultValuedAttr<F32Attr, "0.0">:$softcap);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

def Catfish_RotaryEmbeddingOp : Catfish_InferOp<"rotary_embedding"> {
  let summary = "Rotate pairs of the first `rotary_dim` features by position-dependent angles";
  let arguments = (ins TensorOf<[AnyFloat]>:$input, AnyRankedTensor:$cos_cache,
                       AnyRankedTensor:$sin_cache, Optional<Catfish_IndexTensor>:$position_ids,
                       BoolAttr:$interleaved, I64Attr:$rotary_dim, I64Attr:$num_heads);
  let results = (outs TensorOf<[AnyFloat]>:$output);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Catfish_QuantizeOp : Catfish_TypedOp<"quantize"> {
  let summary = "round(x / scale) + zero_point, saturated to the result element type";
  let description = [{
    Per-tensor (scalar scale), per-axis (1-D scale along `axis`) or block-wise (scale with the
    input's rank whose dims are the input's divided by `block_size` along `axis`; DeepSeek-style
    1x128 / 128x128 FP8 blocks are block_size 128 on one or two axes).
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       Optional<AnyRankedTensor>:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs AnyRankedTensor:$output);
}

def Catfish_DequantizeOp : Catfish_TypedOp<"dequantize"> {
  let summary = "(x - zero_point) * scale; see catfish.quantize for the scale layouts";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       Optional<AnyRankedTensor>:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs AnyRankedTensor:$output);
}

//===----------------------------------------------------------------------===//
// Structure: fusion regions and control flow
//===----------------------------------------------------------------------===//

def Catfish_YieldOp : Catfish_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["FusionOp", "IfOp", "LoopOp"]>]> {
  let summary = "Yields the values of a catfish region";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange()); }]>];
}

def Catfish_FusionOp : Catfish_Op<"fusion", [IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "A group of ops that becomes one kernel or one library call";
  let description = [{
    The unit of code generation: every kernel Catfish emits comes from exactly one fusion
    region. The region is isolated: its block arguments are the fused ops' external inputs,
    and `catfish.yield` returns the values used outside. `kind` says how it lowers.

    ```mlir
    %0 = catfish.fusion generated(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
      %s = catfish.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %r = catfish.relu %s : (tensor<4xf32>) -> tensor<4xf32>
      catfish.yield %r : tensor<4xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, Catfish_FusionKindAttr:$kind);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind (`(` $inputs^ `)`)? `:` functional-type($inputs, $outputs) $body attr-dict
  }];
  let hasVerifier = 1;
}

def Catfish_IfOp : Catfish_Op<"if", [RecursiveMemoryEffects, NoRegionArguments,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "Runs one of two regions on a scalar boolean condition (ONNX If)";
  let arguments = (ins TensorOf<[I1]>:$condition);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$then_region, SizedRegion<1>:$else_region);
  let assemblyFormat = [{
    $condition `:` type($condition) (`->` type($outputs)^)? $then_region `else` $else_region
    attr-dict
  }];
  let hasVerifier = 1;
}

def Catfish_LoopOp : Catfish_Op<"loop", [RecursiveMemoryEffects,
    SingleBlockImplicitTerminator<"YieldOp">, AttrSizedOperandSegments]> {
  let summary = "ONNX Loop: iterate while i < trip count and cond; carry values; stack scan outputs";
  let description = [{
    The body's block arguments are (iteration i64 scalar, condition i1 scalar, carried...);
    it yields (condition, carried..., scan values...). Results are the final carried values
    followed by each scan value stacked along a new leading dim.
  }];
  let arguments = (ins Optional<I64Tensor>:$trip_count, Optional<TensorOf<[I1]>>:$condition,
                       Variadic<AnyType>:$initial);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`(` $trip_count^ `:` type($trip_count) `)`)? (`while` `(` $condition^ `:` type($condition) `)`)?
    (`iter_args` `(` $initial^ `:` type($initial) `)`)? `->` `(` type($outputs) `)` $body attr-dict
  }];
  let hasVerifier = 1;
}

#endif // CATFISH_OPS_TD
