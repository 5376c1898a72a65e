#ifndef CATFISH_DIALECT_TD
#define CATFISH_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Catfish_Dialect : Dialect {
  let name = "catfish";
  let cppNamespace = "::mlir::catfish";
  let summary = "Tensor-level operations of the Catfish model compiler";
  let description = [{
    Value-semantics operations on builtin ranked tensors, normalized from ONNX: fewer ops than
    ONNX, each one semantic operation with a verifier, result type inference and folders.
    `catfish.fusion` groups ops into the unit of code generation; `catfish.quantize` and
    `catfish.dequantize` make quantization explicit.
  }];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Catfish_ReduceKind : I32EnumAttr<"ReduceKind", "reduction combiner", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>, I32EnumAttrCase<"max", 2>,
    I32EnumAttrCase<"min", 3>, I32EnumAttrCase<"prod", 4>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::catfish";
}
def Catfish_ReduceKindAttr : EnumAttr<Catfish_Dialect, Catfish_ReduceKind, "reduce">;

def Catfish_PadMode : I32EnumAttr<"PadMode", "padding mode", [
    I32EnumAttrCase<"constant", 0>, I32EnumAttrCase<"reflect", 1>,
    I32EnumAttrCase<"edge", 2>, I32EnumAttrCase<"wrap", 3>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::catfish";
}
def Catfish_PadModeAttr : EnumAttr<Catfish_Dialect, Catfish_PadMode, "pad_mode">;

def Catfish_ScatterReduction : I32EnumAttr<"ScatterReduction", "scatter combiner", [
    I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"add", 1>, I32EnumAttrCase<"mul", 2>,
    I32EnumAttrCase<"max", 3>, I32EnumAttrCase<"min", 4>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::catfish";
}
def Catfish_ScatterReductionAttr
    : EnumAttr<Catfish_Dialect, Catfish_ScatterReduction, "scatter_reduction">;

def Catfish_FusionKind : I32EnumAttr<"FusionKind", "how a fusion region lowers", [
    I32EnumAttrCase<"generated", 0>, I32EnumAttrCase<"gemm", 1>,
    I32EnumAttrCase<"conv", 2>, I32EnumAttrCase<"attention", 3>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::catfish";
}
def Catfish_FusionKindAttr : EnumAttr<Catfish_Dialect, Catfish_FusionKind, "fusion_kind">;

#endif // CATFISH_DIALECT_TD
