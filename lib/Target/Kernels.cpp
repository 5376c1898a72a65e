//===- Kernels.cpp - the kernel table of a lowered kernel module ---------===//
#include "catfish/Target/Kernels.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

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

SmallVector<KernelInfo> mlir::catfish::collectKernels(ModuleOp kernelModule) {
  SmallVector<KernelInfo> kernels;
  for (Operation &op : kernelModule.getBody()->getOperations()) {
    auto kind = op.getAttrOfType<FusionKindAttr>("catfish.kind");
    if (!kind)
      continue;
    KernelInfo info;
    info.symbol = SymbolTable::getSymbolName(&op).str();
    info.kind = kind.getValue();
    info.location = describeLocation(op.getLoc());
    if (auto tasks = op.getAttrOfType<IntegerAttr>("catfish.max_tasks"))
      info.maxTasks = static_cast<unsigned>(tasks.getInt());
    if (auto scratch = op.getAttrOfType<IntegerAttr>("catfish.scratch")) {
      // The scratch arguments come last before task and task_count.
      ArrayRef<Type> inputs = cast<FunctionOpInterface>(op).getArgumentTypes();
      for (Type type : inputs.drop_back(2).take_back(scratch.getInt())) {
        auto memref = cast<MemRefType>(type);
        unsigned bits = memref.getElementTypeBitWidth();
        info.scratchBytes.push_back(memref.getNumElements() * (bits < 8 ? 1 : bits / 8));
      }
    }
    kernels.push_back(std::move(info));
  }
  return kernels;
}
