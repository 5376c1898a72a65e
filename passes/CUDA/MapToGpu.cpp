//===- MapToGpu.cpp - the catfish-map-to-gpu pass -------------------------===//
//
// A thread per point of each parallel loop nest: the linear thread index
// blockIdx.x * blockDim.x + threadIdx.x is delinearized into the nest's indices, innermost
// fastest, so neighbouring threads touch neighbouring elements.
//
//===----------------------------------------------------------------------===//
#include "GpuKernels.h"

#include "catfish/Conversion/CatfishToLinalg.h"
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "catfish-map-to-gpu"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHMAPTOGPU
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// The static iteration count of each loop of `loop`, or failure.
FailureOr<SmallVector<int64_t>> staticExtents(scf::ParallelOp loop) {
  SmallVector<int64_t> extents;
  for (auto [lower, upper, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> lb = getConstantIntValue(lower), ub = getConstantIntValue(upper),
                           st = getConstantIntValue(step);
    if (!lb || !ub || !st || *st <= 0)
      return failure();
    extents.push_back(*ub > *lb ? (*ub - *lb + *st - 1) / *st : 0);
  }
  return extents;
}

/// The function argument that `v` is a view of, or null.
Value viewedArgument(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return {};
    v = view.getViewSource();
  }
  return isa<BlockArgument>(v) ? v : Value();
}

/// Copies each top-level load of a buffer the kernel never writes (a scalar its loops all read,
/// such as Pad's run-time value) into the parallel loops that use it, so that each loop maps to
/// threads on its own.
void sinkInputLoads(func::FuncOp func) {
  // What the kernel writes; an op that may write without saying where stops the sinking.
  llvm::DenseSet<Value> written;
  bool writesUnknown = false;
  func.walk([&](Operation *op) {
    auto effecting = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effecting) {
      writesUnknown |= op != func && !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>();
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    effecting.getEffects(effects);
    for (const MemoryEffects::EffectInstance &effect : effects) {
      if (!isa<MemoryEffects::Write>(effect.getEffect()))
        continue;
      if (Value target = effect.getValue())
        written.insert(viewedArgument(target));
      else
        writesUnknown = true;
    }
  });
  if (writesUnknown)
    return;
  Block &body = func.getBody().front();
  for (auto load : llvm::make_early_inc_range(body.getOps<memref::LoadOp>())) {
    Value source = viewedArgument(load.getMemRef());
    if (!source || written.contains(source))
      continue;
    llvm::SetVector<scf::ParallelOp> loops;
    bool onlyInLoops = llvm::all_of(load->getUsers(), [&](Operation *user) {
      auto loop = dyn_cast<scf::ParallelOp>(body.findAncestorOpInBlock(*user));
      if (loop && loop != user)
        loops.insert(loop);
      return loop && loop != user;
    });
    if (!onlyInLoops || loops.empty())
      continue;
    for (scf::ParallelOp loop : loops) {
      OpBuilder builder = OpBuilder::atBlockBegin(loop.getBody());
      Operation *copy = builder.clone(*load);
      load->replaceUsesWithIf(copy->getResults(), [&](OpOperand &use) {
        return loop->isProperAncestor(use.getOwner());
      });
    }
    load->erase();
  }
}

/// Moves `ops` (in order) into a parallel loop of one iteration created at `builder`'s point.
void moveIntoOnePointLoop(OpBuilder &builder, ArrayRef<Operation *> ops) {
  Location loc = ops.front()->getLoc();
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  auto loop = scf::ParallelOp::create(builder, loc, ValueRange{zero}, ValueRange{one},
                                      ValueRange{one});
  for (Operation *op : ops)
    op->moveBefore(loop.getBody()->getTerminator());
}

/// Moves each run of loop-free top-level ops of `func` (what a rank-0 fill or elementwise op
/// lowers to) into a parallel loop of one iteration, so that it maps like any other nest.
void wrapScalarCode(func::FuncOp func) {
  SmallVector<SmallVector<Operation *>> runs(1);
  for (Operation &op : func.getBody().front()) {
    bool scalar = !staysOnHost(op) && !isa<scf::ParallelOp, memref::AllocOp, memref::AllocaOp>(op);
    if (scalar)
      runs.back().push_back(&op);
    else if (!runs.back().empty())
      runs.emplace_back();
  }
  for (ArrayRef<Operation *> run : runs) {
    if (run.empty())
      continue;
    llvm::SmallPtrSet<Operation *, 8> inRun(run.begin(), run.end());
    bool usedOutside = llvm::any_of(run, [&](Operation *op) {
      return llvm::any_of(op->getUsers(), [&](Operation *user) {
        return !inRun.contains(func.getBody().front().findAncestorOpInBlock(*user));
      });
    });
    if (usedOutside)
      continue;
    OpBuilder builder(run.front());
    moveIntoOnePointLoop(builder, run);
  }
}

/// A sequential kernel (kSequentialKernel: NonZero, Unique, NonMaxSuppression, Det, scatters
/// written in order) runs on one thread: everything but what stays on the host goes into a
/// parallel loop of one iteration at the end of the body.
void wrapSequentialKernel(func::FuncOp func) {
  Block &body = func.getBody().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    if (!staysOnHost(op))
      ops.push_back(&op);
  if (ops.empty())
    return;
  OpBuilder builder(body.getTerminator());
  moveIntoOnePointLoop(builder, ops);
}

/// Why the CUDA target cannot map `func` yet, as an error at the op responsible.
LogicalResult checkMappable(func::FuncOp func) {
  bool sequential = func->hasAttr(kSequentialKernel);
  for (Operation &op : func.getBody().front()) {
    if (staysOnHost(op))
      continue;
    auto loop = dyn_cast<scf::ParallelOp>(op);
    if (!loop) {
      if (isa<memref::AllocOp, memref::AllocaOp>(op))
        return op.emitError("a temporary buffer in a CUDA kernel (run catfish-scratch-buffers "
                            "first)");
      return op.emitError() << "the CUDA target cannot map '" << op.getName()
                            << "' to GPU threads yet";
    }
    if (failed(staticExtents(loop)))
      return loop.emitError("the CUDA target needs static loop bounds");
    WalkResult inner = loop.getBody()->walk([&](Operation *nested) {
      if (isa<memref::AllocOp, memref::AllocaOp>(nested)) {
        nested->emitError("a temporary buffer inside a CUDA loop nest (run "
                          "catfish-scratch-buffers first)");
        return WalkResult::interrupt();
      }
      if (!sequential && isa<LoopLikeOpInterface>(nested)) {
        nested->emitError("the CUDA target cannot map a loop nest with an inner sequential "
                          "loop to GPU threads yet (reductions, argmax and top-k with k <= 64 "
                          "take a warp or a block per row; scans, scatters and larger top-k "
                          "do not)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (inner.wasInterrupted())
      return failure();
  }
  return success();
}

struct MapToGpu final : catfish::impl::CatfishMapToGpuBase<MapToGpu> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0) {
      module.emitError() << "block-size must be a multiple of 32 in [32, 1024], got "
                         << blockSize;
      return signalPassFailure();
    }
    if (vectorWidth < 1 || vectorWidth > 16) {
      module.emitError() << "vector-width must be in [1, 16], got " << vectorWidth;
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr("catfish.kind"))
        kernels.push_back(func);
    for (func::FuncOp func : kernels) {
      if (func->hasAttr(kSequentialKernel)) {
        wrapSequentialKernel(func);
      } else {
        sinkInputLoads(func);
        wrapScalarCode(func);
      }
      if (failed(checkMappable(func)))
        return signalPassFailure();
    }

    gpu::GPUModuleOp gpuModule = getOrCreateGpuModule(module);
    for (func::FuncOp func : kernels)
      for (auto loop : llvm::make_early_inc_range(func.getBody().getOps<scf::ParallelOp>()))
        mapLoop(func, loop, gpuModule, nextKernelName(gpuModule, func));
  }

  /// Replaces `loop` by a launch of a new gpu.func `name` in which each thread computes
  /// `vectorWidth` consecutive points of the innermost loop (one point when its extent does not
  /// divide), so that LLVM's load/store vectorizer can make 128-bit accesses of them.
  void mapLoop(func::FuncOp func, scf::ParallelOp loop, gpu::GPUModuleOp gpuModule,
               StringRef name) {
    SmallVector<int64_t> extents = *staticExtents(loop);
    int64_t width = vectorWidth > 1 && extents.back() % vectorWidth == 0 ? vectorWidth : 1;
    extents.back() /= width;
    int64_t count = 1;
    for (int64_t extent : extents)
      count *= extent;
    int64_t blocks = std::max<int64_t>(1, (count + blockSize - 1) / blockSize);
    LLVM_DEBUG(llvm::dbgs() << name << ": " << count << " points, " << blocks << " blocks of "
                            << blockSize << " threads\n");
    Location loc = loop.getLoc();
    IRMapping mapping;
    OpBuilder builder(loop);
    createKernel(func, loop, gpuModule, name, blockSize, blocks, mapping, builder);

    Value blockId = gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x);
    Value threadId = gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x);
    Value size = arith::ConstantIndexOp::create(builder, loc, blockSize);
    Value linear = arith::AddIOp::create(
        builder, loc, arith::MulIOp::create(builder, loc, blockId, size), threadId);
    Value total = arith::ConstantIndexOp::create(builder, loc, count);
    Value inRange =
        arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult, linear, total);
    auto guard = scf::IfOp::create(builder, loc, inRange, /*withElseRegion=*/false);
    builder.setInsertionPointToStart(&guard.getThenRegion().front());
    SmallVector<OpFoldResult> basis = getAsIndexOpFoldResult(builder.getContext(), extents);
    auto indices = affine::AffineDelinearizeIndexOp::create(builder, loc, linear, basis,
                                                            /*hasOuterBound=*/true);
    unsigned innermost = loop.getNumLoops() - 1;
    SmallVector<IRMapping> points(width, mapping);
    for (auto [lane, point] : llvm::enumerate(points)) {
      for (auto [i, iv, index, lower, step] :
           llvm::enumerate(loop.getInductionVars(), indices.getResults(), loop.getLowerBound(),
                           loop.getStep())) {
        // iv = lower + index * step (innermost: index * width + lane), with the bounds'
        // constants rebuilt in the kernel.
        Value position = index;
        if (i == innermost && width > 1)
          position = arith::AddIOp::create(
              builder, loc,
              arith::MulIOp::create(builder, loc, index,
                                    arith::ConstantIndexOp::create(builder, loc, width)),
              arith::ConstantIndexOp::create(builder, loc, lane));
        Value scaled = arith::MulIOp::create(builder, loc, position, point.lookupOrDefault(step));
        point.map(iv, arith::AddIOp::create(builder, loc, point.lookupOrDefault(lower), scaled));
      }
    }
    // Op by op across the points, so that the points' loads and stores stand side by side.
    for (Operation &op : loop.getBody()->without_terminator())
      for (IRMapping &point : points)
        builder.clone(op, point);
    replaceByLaunch(loop, func, cast<gpu::GPUFuncOp>(guard->getParentOp()), blocks, blockSize);
  }
};

} // namespace
