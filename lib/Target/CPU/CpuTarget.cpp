//===- CpuTarget.cpp - kernel functions -> x86-64 shared object ----------===//
//
// linalg on tensors -> elementwise fusion -> loop order for contractions -> one-shot
// bufferization -> scf loops -> LLVM dialect -> LLVM IR (+ ABI wrappers) -> O3 for the
// requested x86-64 level (LLVM's loop vectorizer does the SIMD) -> object -> `cc -shared`.
//
//===----------------------------------------------------------------------===//
#include "catfish/Target/CPU.h"

#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::catfish;

namespace {

constexpr const char *kTriple = "x86_64-unknown-linux-gnu";

/// Replaces transcendental math ops by polynomial approximations that vectorize (f32), so
/// the loops do not call libm element by element.
struct ApproximateMath final : PassWrapper<ApproximateMath, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ApproximateMath)
  StringRef getArgument() const override { return "catfish-approximate-math"; }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// linalg-fuse-elementwise-ops, except that nothing fuses into a contraction: an elementwise
/// producer (the im2col copy of a convolution) fused into it would leave a generic that is
/// no longer a contraction, which the micro-kernels cannot take.
struct FuseElementwise final : PassWrapper<FuseElementwise, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwise)
  StringRef getArgument() const override { return "catfish-fuse-elementwise"; }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *use) {
      auto consumer = dyn_cast<linalg::LinalgOp>(use->getOwner());
      return !consumer || !linalg::isaContractionOpInterface(consumer);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// Puts the reduction loop of a contraction (matmul) before the innermost parallel loop, so
/// the innermost loop walks the output row contiguously and vectorizes:
/// for m, k, n: c[m, n] += a[m, k] * b[k, n].
struct ContractionLoopOrder final : PassWrapper<ContractionLoopOrder, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ContractionLoopOrder)
  StringRef getArgument() const override { return "catfish-contraction-loop-order"; }
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    getOperation()->walk([&](linalg::GenericOp op) {
      auto iterators = op.getIteratorTypesArray();
      unsigned n = iterators.size();
      if (n >= 2 && op.getNumReductionLoops() == 1 &&
          iterators[n - 1] == utils::IteratorType::reduction &&
          iterators[n - 2] == utils::IteratorType::parallel)
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates) {
      unsigned n = op.getNumLoops();
      SmallVector<unsigned> perm = llvm::to_vector(llvm::seq<unsigned>(0, n));
      std::swap(perm[n - 1], perm[n - 2]);
      rewriter.setInsertionPoint(op);
      (void)linalg::interchangeGenericOp(rewriter, op, perm);
    }
  }
};

/// Rewrites the memref.copy ops bufferization creates into linalg.copy, which becomes plain
/// loops; memref.copy of strided views would otherwise call a runtime library function.
struct CopiesToLinalg final : PassWrapper<CopiesToLinalg, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CopiesToLinalg)
  StringRef getArgument() const override { return "catfish-copies-to-linalg"; }
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp op) { copies.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp op : copies) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(), op.getTarget());
    }
  }
};

llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Runs `pipeline` (textual, anchored on the module) on `module`.
LogicalResult runPipeline(ModuleOp module, StringRef pipeline,
                          function_ref<void(OpPassManager &)> extra = nullptr) {
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline(pipeline, pm)))
    return failure();
  if (extra)
    extra(pm);
  return pm.run(module);
}

/// Adds `void symbol(void *const *args, int64_t task, int64_t taskCount)` around each
/// kernel's bare-pointer function (buffers..., task, taskCount), which becomes internal so it
/// can be inlined.
llvm::Error addAbiWrappers(llvm::Module &module, ArrayRef<KernelInfo> infos) {
  llvm::LLVMContext &context = module.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(context);
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr, i64, i64}, false);
  for (const KernelInfo &info : infos) {
    llvm::Function *impl = module.getFunction(info.symbol);
    if (!impl)
      return makeError("kernel " + info.symbol + " disappeared during lowering");
    impl->setName(info.symbol + "_body");
    impl->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *entry = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, info.symbol,
                                         module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", entry));
    SmallVector<llvm::Value *> args;
    for (unsigned i = 0; i + 2 < impl->arg_size(); ++i) {
      llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptr, entry->getArg(0), i);
      args.push_back(b.CreateAlignedLoad(ptr, slot, llvm::Align(8)));
    }
    args.push_back(entry->getArg(1));
    args.push_back(entry->getArg(2));
    b.CreateCall(impl, args);
    b.CreateRetVoid();
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(StringRef arch) {
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  llvm::Triple triple(kTriple);
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("no x86-64 backend in this LLVM: " + error);
  llvm::TargetOptions options;
  // Multiply-adds become FMAs (one rounding instead of two), as in onnxruntime's kernels.
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, arch, "", options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return makeError("cannot create an x86-64 target machine for '" + arch + "'");
  // LLVM accepts unknown CPU names with a warning only; refuse them here.
  if (!machine->getMCSubtargetInfo()->isCPUStringValid(arch))
    return makeError("unknown --arch '" + arch +
                     "' for target cpu (try x86-64-v2, x86-64-v3, x86-64-v4 or a CPU name "
                     "such as znver4)");
  return machine;
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(module, mam);
}

/// Links `object` into a shared object with the system C compiler driver.
llvm::Expected<std::string> linkSharedObject(StringRef object) {
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return makeError("cannot link CPU kernels: no 'cc' on PATH (install gcc or clang)");
  SmallString<128> objectPath, soPath;
  int fd;
  if (auto ec = llvm::sys::fs::createTemporaryFile("catfish-kernels", "o", fd, objectPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeObject(objectPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
    if (os.has_error())
      return makeError("cannot write " + objectPath);
  }
  if (auto ec = llvm::sys::fs::createTemporaryFile("catfish-kernels", "so", soPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeSo(soPath);
  SmallVector<StringRef> args = {*cc, "-shared", "-Wl,-z,defs", "-o", soPath, objectPath, "-lm"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return makeError("linking the CPU kernels failed (" + *cc + " exited with " +
                     Twine(rc) + (message.empty() ? "" : ": " + message) + ")");
  auto buffer = llvm::MemoryBuffer::getFile(soPath);
  if (!buffer)
    return makeError("cannot read the linked kernels: " + buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

} // namespace

void mlir::catfish::registerCpuTargetDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

llvm::Expected<std::string>
mlir::catfish::buildCpuSharedObject(ModuleOp kernels, MutableArrayRef<KernelInfo> infos,
                                    const CpuTargetOptions &options) {
  static bool registered = [] {
    registerAllPasses();
    registerCatfishPasses();
    return true;
  }();
  (void)registered;

  auto machine = createTargetMachine(options.arch);
  if (!machine)
    return machine.takeError();

  // Tensors: lower, fuse, order contraction loops, split the work into parts for threads.
  if (failed(runPipeline(kernels,
                         "func.func(catfish-convert-to-linalg, canonicalize)",
                         [&](OpPassManager &pm) {
                           pm.addNestedPass<func::FuncOp>(std::make_unique<FuseElementwise>());
                           pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
                           pm.addNestedPass<func::FuncOp>(createCSEPass());
                           CatfishTileForTasksOptions tasks;
                           tasks.minWork = options.taskMinWork;
                           pm.addNestedPass<func::FuncOp>(createCatfishTileForTasks(tasks));
                           pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
                           pm.addNestedPass<func::FuncOp>(createCatfishVectorizeContractions());
                           pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
                           pm.addNestedPass<func::FuncOp>(createLoopInvariantSubsetHoistingPass());
                           pm.addNestedPass<func::FuncOp>(
                               std::make_unique<ContractionLoopOrder>());
                           pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
                         })))
    return makeError("lowering to linalg failed");
  // Buffers and loops, then LLVM.
  if (failed(runPipeline(kernels,
                         "eliminate-empty-tensors, one-shot-bufferize{"
                         "unknown-type-conversion=identity-layout-map}, cse, canonicalize, "
                         "buffer-deallocation-pipeline",
                         [](OpPassManager &pm) { pm.addPass(std::make_unique<CopiesToLinalg>()); })))
    return makeError("bufferization failed");
  if (failed(runPipeline(kernels, "func.func(catfish-partition-tasks), scf-forall-to-for")))
    return makeError("partitioning kernels into tasks failed");
  for (KernelInfo &info : infos)
    if (auto func = kernels.lookupSymbol<func::FuncOp>(info.symbol))
      if (auto tasks = func->getAttrOfType<IntegerAttr>("catfish.max_tasks"))
        info.maxTasks = static_cast<unsigned>(tasks.getInt());
  if (failed(runPipeline(kernels,
                         "func.func(convert-linalg-to-loops, catfish-lower-vectors), "
                         "convert-vector-to-scf{full-unroll=true}, fold-memref-alias-ops, "
                         "lower-affine, canonicalize, convert-scf-to-cf",
                         [](OpPassManager &pm) { pm.addPass(std::make_unique<ApproximateMath>()); })))
    return makeError("loop lowering failed");
  if (failed(runPipeline(kernels,
                         "convert-math-to-funcs{convert-ctlz=false}, "
                         "arith-expand{include-bf16=true}, expand-strided-metadata, "
                         "convert-vector-to-llvm, finalize-memref-to-llvm, convert-math-to-llvm, "
                         "convert-math-to-libm, "
                         "convert-arith-to-llvm, convert-index-to-llvm, "
                         "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}, "
                         "convert-cf-to-llvm, convert-ub-to-llvm, reconcile-unrealized-casts")))
    return makeError("lowering to the LLVM dialect failed");

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> module = translateModuleToLLVMIR(kernels, llvmContext,
                                                                 "catfish_kernels");
  if (!module)
    return makeError("translation to LLVM IR failed");
  module->setTargetTriple(llvm::Triple(kTriple));
  module->setDataLayout((*machine)->createDataLayout());
  if (auto error = addAbiWrappers(*module, infos))
    return std::move(error);
  optimize(*module, **machine);

  SmallString<0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager codegen;
    if ((*machine)->addPassesToEmitFile(codegen, os, nullptr,
                                        llvm::CodeGenFileType::ObjectFile))
      return makeError("the x86-64 backend cannot emit object files");
    codegen.run(*module);
  }
  return linkSharedObject(object);
}
