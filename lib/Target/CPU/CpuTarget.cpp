//===- CpuTarget.cpp - LLVM dialect kernels -> x86-64 shared object ------===//
//
// After buildCpuCodegenPipeline: LLVM IR (+ ABI wrappers) -> O3 for the requested x86-64
// level (LLVM's loop vectorizer does the SIMD) -> object -> `cc -shared`.
//
//===----------------------------------------------------------------------===//
#include "catfish/Target/CPU.h"

#include "catfish/Passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

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

#include <mutex>

using namespace mlir;
using namespace mlir::catfish;

namespace {

constexpr const char *kTriple = "x86_64-unknown-linux-gnu";

llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
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
  // Once: other compiles' code generation may be running on other threads.
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
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

llvm::Error mlir::catfish::checkCpuArch(StringRef arch) {
  auto machine = createTargetMachine(arch);
  return machine ? llvm::Error::success() : machine.takeError();
}

mlir::catfish::CpuKernelsIR::CpuKernelsIR() = default;
mlir::catfish::CpuKernelsIR::~CpuKernelsIR() = default;

llvm::Expected<std::unique_ptr<CpuKernelsIR>>
mlir::catfish::translateCpuKernels(ModuleOp kernels, ArrayRef<KernelInfo> infos, StringRef arch) {
  auto machine = createTargetMachine(arch);
  if (!machine)
    return machine.takeError();
  auto ir = std::make_unique<CpuKernelsIR>();
  ir->machine = std::move(*machine);
  ir->context = std::make_unique<llvm::LLVMContext>();
  ir->module = translateModuleToLLVMIR(kernels, *ir->context, "catfish_kernels");
  if (!ir->module)
    return makeError("translation to LLVM IR failed");
  ir->module->setTargetTriple(llvm::Triple(kTriple));
  ir->module->setDataLayout(ir->machine->createDataLayout());
  if (auto error = addAbiWrappers(*ir->module, infos))
    return std::move(error);
  // LLVM splits 512-bit vectors in two on AVX-512 CPUs unless told the code wants them; the
  // micro-kernels are blocked for the full width (cpuVectorBits).
  if (cpuVectorBits(arch) == 512)
    for (llvm::Function &function : *ir->module)
      if (!function.isDeclaration())
        function.addFnAttr("prefer-vector-width", "512");
  return ir;
}

llvm::Expected<std::string> mlir::catfish::linkCpuKernels(std::unique_ptr<CpuKernelsIR> ir) {
  optimize(*ir->module, *ir->machine);
  SmallString<0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager codegen;
    if (ir->machine->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return makeError("the x86-64 backend cannot emit object files");
    codegen.run(*ir->module);
  }
  return linkSharedObject(object);
}

llvm::Expected<std::string> mlir::catfish::emitCpuSharedObject(ModuleOp kernels,
                                                               ArrayRef<KernelInfo> infos,
                                                               StringRef arch) {
  auto ir = translateCpuKernels(kernels, infos, arch);
  if (!ir)
    return ir.takeError();
  return linkCpuKernels(std::move(*ir));
}
