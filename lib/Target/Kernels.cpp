//===- Kernels.cpp - fusion regions -> kernel functions ------------------===//
#include "catfish/Target/Kernels.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::catfish;

func::FuncOp mlir::catfish::getMainFunction(ModuleOp program) {
  return program.lookupSymbol<func::FuncOp>("main");
}

std::string mlir::catfish::describeLocation(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    auto kind = dyn_cast_or_null<StringAttr>(fused.getMetadata());
    std::string names;
    for (Location inner : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(inner))
        names += (names.empty() ? "'" : ", '") + name.getName().str() + "'";
    if (kind)
      return (kind.getValue() + (names.empty() ? "" : " " + names)).str();
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}

static bool hasNoElements(Type type) { return cast<RankedTensorType>(type).getNumElements() == 0; }

/// The kernel argument for a tensor. Tensors without elements are never read or written and
/// are passed as memref<0xT>: LLVM's bare-pointer convention rejects shapes like 2x0x4.
static MemRefType memrefOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  if (hasNoElements(tensor))
    return MemRefType::get({0}, tensor.getElementType());
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

FailureOr<OwningOpRef<ModuleOp>>
mlir::catfish::outlineKernels(ModuleOp program, SmallVectorImpl<KernelInfo> &kernels) {
  func::FuncOp main = getMainFunction(program);
  if (!main)
    return program.emitError("the program has no @main function");
  MLIRContext *context = program.getContext();
  context->loadDialect<bufferization::BufferizationDialect, memref::MemRefDialect,
                       tensor::TensorDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(context));
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(module->getBody());
  for (Operation &op : main.getBody().front().without_terminator()) {
    if (isa<ConstantOp>(op))
      continue;
    auto fusion = dyn_cast<FusionOp>(op);
    if (!fusion)
      return op.emitError() << "'" << op.getName()
                            << "' is outside a fusion region; code generation needs every "
                               "op in one (run catfish-form-fusions)";
    SmallVector<Type> types(fusion.getInputs().getTypes());
    llvm::append_range(types, fusion.getResultTypes());
    for (Type type : types) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor || !tensor.hasStaticShape())
        return fusion.emitError() << "code generation needs static shapes, got " << type
                                  << " (fix input dims with --shape NAME=DIMS)";
    }
    KernelInfo info;
    info.symbol = "catfish_kernel_" + std::to_string(kernels.size());
    info.kind = fusion.getKind();
    info.location = describeLocation(fusion.getLoc());

    SmallVector<Type> argTypes;
    for (Type type : types)
      argTypes.push_back(memrefOf(type));
    argTypes.append(2, builder.getIndexType()); // task, task count
    auto func = func::FuncOp::create(builder, fusion.getLoc(), info.symbol,
                                     builder.getFunctionType(argTypes, {}));
    Block *entry = func.addEntryBlock();
    OpBuilder body = OpBuilder::atBlockBegin(entry);
    IRMapping mapping;
    Block &region = fusion.getBody().front();
    for (auto [i, arg] : llvm::enumerate(region.getArguments())) {
      auto type = cast<RankedTensorType>(arg.getType());
      Value tensor =
          hasNoElements(type)
              ? Value(tensor::EmptyOp::create(body, fusion.getLoc(), type.getShape(),
                                              type.getElementType()))
              : Value(bufferization::ToTensorOp::create(body, fusion.getLoc(), type,
                                                        entry->getArgument(i), /*restrict=*/true));
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
          body, fusion.getLoc(), TypeRange(), mapping.lookup(value),
          entry->getArgument(firstResult + i));
      materialize.setRestrict(true);
      materialize.setWritable(true);
    }
    func::ReturnOp::create(body, fusion.getLoc());
    kernels.push_back(std::move(info));
  }
  return module;
}
