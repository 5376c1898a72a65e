//===- Kernels.h - fusion regions -> kernel functions -----------*- C++ -*-===//
#ifndef CATFISH_TARGET_KERNELS_H
#define CATFISH_TARGET_KERNELS_H

#include "catfish/Dialect/Catfish.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace mlir::catfish {

/// One kernel: the function outlined from one catfish.fusion region.
struct KernelInfo {
  /// The exported symbol the runtime calls.
  std::string symbol;
  FusionKind kind;
  /// The ONNX node(s) of the region ("onnx.MatMul 'node'").
  std::string location;
  /// How many parts the kernel's work may be split into (see artifact_format.h).
  unsigned maxTasks = 1;
};

/// Outlines every catfish.fusion region of `program`'s @main, in order, into
/// `func.func @<symbol>(inputs..., results..., task, taskCount)`, buffers as memrefs and the
/// task index and count (see artifact_format.h) as `index`: the body reads the inputs as
/// tensors and writes each yielded value into its result memref. Fails (with a diagnostic)
/// if @main holds ops outside fusion regions other than constants.
FailureOr<OwningOpRef<ModuleOp>> outlineKernels(ModuleOp program,
                                                SmallVectorImpl<KernelInfo> &kernels);

/// The function the program runs: @main.
func::FuncOp getMainFunction(ModuleOp program);

/// "onnx.Op 'name'" for a location built by the importer; the printed location otherwise.
std::string describeLocation(Location loc);

} // namespace mlir::catfish

#endif // CATFISH_TARGET_KERNELS_H
