//===- OutlineKernels.cpp - the catfish-outline-kernels pass --------------===//
//
// Each catfish.fusion region of @main becomes one kernel function in a nested module, which
// a target's code generation pipeline then lowers. @main keeps its regions: the memory plan
// reads them, and kernel i is region i in program order (a loop's body at the loop's place).
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHOUTLINEKERNELS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

bool hasNoElements(Type type) { return cast<RankedTensorType>(type).getNumElements() == 0; }

/// The kernel argument for a tensor. Tensors without elements are never read or written and
/// are passed as memref<0xT>: LLVM's bare-pointer convention rejects shapes like 2x0x4.
MemRefType memrefOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  if (hasNoElements(tensor))
    return MemRefType::get({0}, tensor.getElementType());
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

LogicalResult checkStaticShapes(FusionOp fusion) {
  SmallVector<Type> types(fusion.getInputs().getTypes());
  llvm::append_range(types, fusion.getResultTypes());
  for (Type type : types) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return fusion.emitError() << "code generation needs static shapes, got " << type
                                << " (fix input dims with --shape NAME=DIMS)";
  }
  return success();
}

/// func.func @symbol(inputs..., results..., task, taskCount) computing `fusion`'s region.
void outline(FusionOp fusion, StringRef symbol, OpBuilder &builder) {
  Location loc = fusion.getLoc();
  SmallVector<Type> argTypes;
  for (Type type : fusion.getInputs().getTypes())
    argTypes.push_back(memrefOf(type));
  for (Type type : fusion.getResultTypes())
    argTypes.push_back(memrefOf(type));
  argTypes.append(2, builder.getIndexType());
  auto func = func::FuncOp::create(builder, loc, symbol, builder.getFunctionType(argTypes, {}));
  func->setAttr("catfish.kind", fusion.getKindAttr());
  Block *entry = func.addEntryBlock();
  OpBuilder body = OpBuilder::atBlockBegin(entry);
  IRMapping mapping;
  Block &region = fusion.getBody().front();
  for (auto [i, arg] : llvm::enumerate(region.getArguments())) {
    auto type = cast<RankedTensorType>(arg.getType());
    Value tensor =
        hasNoElements(type)
            ? Value(tensor::EmptyOp::create(body, loc, type.getShape(), type.getElementType()))
            : Value(bufferization::ToTensorOp::create(body, loc, type, entry->getArgument(i),
                                                      /*restrict=*/true));
    mapping.map(arg, tensor);
  }
  for (Operation &inner : region.without_terminator())
    body.clone(inner, mapping);
  auto yield = cast<YieldOp>(region.getTerminator());
  unsigned firstResult = fusion.getInputs().size();
  for (auto [i, value] : llvm::enumerate(yield.getValues())) {
    if (hasNoElements(value.getType()))
      continue;
    auto materialize = bufferization::MaterializeInDestinationOp::create(
        body, loc, TypeRange(), mapping.lookup(value), entry->getArgument(firstResult + i));
    materialize.setRestrict(true);
    materialize.setWritable(true);
  }
  func::ReturnOp::create(body, loc);
}

struct OutlineKernels final : catfish::impl::CatfishOutlineKernelsBase<OutlineKernels> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp program = getOperation();
    auto main = program.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      program.emitError("the program has no @main function");
      return signalPassFailure();
    }
    if (program.lookupSymbol(moduleName)) {
      program.emitError() << "the program already holds a symbol @" << moduleName;
      return signalPassFailure();
    }
    OpBuilder builder = OpBuilder::atBlockEnd(program.getBody());
    auto kernels = ModuleOp::create(builder, program.getLoc(), StringRef(moduleName));
    builder.setInsertionPointToEnd(kernels.getBody());
    unsigned count = 0;
    if (failed(outlineBlock(main.getBody().front(), builder, count)))
      signalPassFailure();
  }

  /// Outlines the regions of `block` in order, a loop's body at the loop's place.
  LogicalResult outlineBlock(Block &block, OpBuilder &builder, unsigned &count) {
    for (Operation &op : block.without_terminator()) {
      if (isa<ConstantOp>(op) || isBufferView(&op))
        continue;
      if (auto loop = dyn_cast<LoopOp>(op)) {
        if (failed(outlineBlock(loop.getBody().front(), builder, count)))
          return failure();
        continue;
      }
      auto fusion = dyn_cast<FusionOp>(op);
      if (!fusion)
        return op.emitError() << "'" << op.getName()
                              << "' is outside a fusion region; code generation needs every "
                                 "op in one (run catfish-form-fusions)";
      if (failed(checkStaticShapes(fusion)))
        return failure();
      outline(fusion, ("catfish_kernel_" + Twine(count++)).str(), builder);
    }
    return success();
  }
};

} // namespace
