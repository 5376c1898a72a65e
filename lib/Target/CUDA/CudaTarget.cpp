//===- CudaTarget.cpp - NVVM kernels -> PTX, cubins and one fatbin -------===//
//
// After buildCudaCodegenPipeline: gpu-module-to-binary{format=isa} gives PTX per arch; ptxas
// assembles a cubin per arch and reports each function's registers, spills and shared memory;
// fatbinary packs the cubins and the portable PTX into the artifact's cuda section.
//
//===----------------------------------------------------------------------===//
#include "catfish/Target/CUDA.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"

#include <deque>

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Registers per block and static shared memory per block every GPU from sm_75 on offers.
constexpr uint64_t kRegistersPerBlock = 65536;
constexpr uint64_t kStaticSharedBytes = 48 * 1024;

llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// A temporary file removed when this goes out of scope.
struct TempFile {
  SmallString<128> path;
  std::optional<llvm::FileRemover> remover;

  llvm::Error create(StringRef suffix) {
    if (auto ec = llvm::sys::fs::createTemporaryFile("catfish-cuda", suffix, path))
      return makeError("cannot create a temporary file: " + ec.message());
    remover.emplace(path);
    return llvm::Error::success();
  }
  llvm::Error write(StringRef bytes) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << bytes;
    os.close();
    if (ec || os.has_error())
      return makeError("cannot write " + path);
    return llvm::Error::success();
  }
  llvm::Expected<std::string> read() const {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
    if (!buffer)
      return makeError("cannot read " + path + ": " + buffer.getError().message());
    return (*buffer)->getBuffer().str();
  }
};

/// Runs CUDA tool `name` from `options.cudaPath`/bin; returns what it wrote to stderr.
llvm::Expected<std::string> runTool(const CudaCodegenOptions &options, StringRef name,
                                    ArrayRef<std::string> args) {
  SmallString<128> program(options.cudaPath.getValue());
  llvm::sys::path::append(program, "bin", name);
  if (!llvm::sys::fs::can_execute(program))
    return makeError("the CUDA target needs " + program +
                     " (install the CUDA toolkit or pass --cuda-path)");
  TempFile log;
  if (auto error = log.create("log"))
    return std::move(error);
  SmallVector<StringRef> argv = {program};
  argv.append(args.begin(), args.end());
  std::optional<StringRef> redirects[] = {std::nullopt, log.path.str(), log.path.str()};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0, 0, &message);
  auto output = log.read();
  if (!output)
    return output.takeError();
  if (rc != 0)
    return makeError(name + " exited with " + Twine(rc) +
                     (message.empty() ? "" : " (" + message + ")") + ":\n" + *output);
  return output;
}

/// "sm_90a" -> 90.
unsigned archNumber(StringRef arch) {
  unsigned number = 0;
  arch.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, number);
  return number;
}

/// Parses `ptxas -v` output into resources per function.
llvm::StringMap<CudaResources> parsePtxasReport(StringRef report, StringRef arch) {
  llvm::StringMap<CudaResources> functions;
  llvm::Regex entry("Compiling entry function '([^']+)'");
  llvm::Regex frame("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, ([0-9]+) bytes "
                    "spill loads");
  llvm::Regex used("Used ([0-9]+) registers");
  llvm::Regex shared("([0-9]+) bytes smem");
  CudaResources *current = nullptr;
  SmallVector<StringRef> lines, match;
  report.split(lines, '\n');
  auto number = [](StringRef text) {
    unsigned value = 0;
    text.getAsInteger(10, value);
    return value;
  };
  for (StringRef line : lines) {
    if (entry.match(line, &match)) {
      current = &functions[match[1]];
      current->arch = arch.str();
      continue;
    }
    if (!current)
      continue;
    if (frame.match(line, &match)) {
      current->stackBytes = number(match[1]);
      current->spillStoreBytes = number(match[2]);
      current->spillLoadBytes = number(match[3]);
    }
    if (used.match(line, &match))
      current->registers = number(match[1]);
    if (shared.match(line, &match))
      current->sharedBytes = number(match[1]);
  }
  return functions;
}

/// Warnings for what ptxas reports about `launch` of the region at `location`.
void checkResources(const CudaLaunch &launch, const CudaResources &resources,
                    StringRef location, std::vector<std::string> &warnings) {
  std::string where = "node " + location.str() + ": CUDA function " + launch.function + " on " +
                      resources.arch;
  if (resources.spillStoreBytes || resources.spillLoadBytes)
    warnings.push_back(where + " spills to local memory (" +
                       std::to_string(resources.spillStoreBytes) + " bytes stored, " +
                       std::to_string(resources.spillLoadBytes) + " bytes loaded; " +
                       std::to_string(resources.registers) + " registers)");
  uint64_t threads = uint64_t(launch.block[0]) * launch.block[1] * launch.block[2];
  if (resources.registers * threads > kRegistersPerBlock)
    warnings.push_back(where + " needs " + std::to_string(resources.registers) +
                       " registers for each of " + std::to_string(threads) +
                       " threads, more than the " + std::to_string(kRegistersPerBlock) +
                       " a block can have: the launch would fail");
  if (resources.sharedBytes + uint64_t(launch.dynamicSharedBytes) > kStaticSharedBytes)
    warnings.push_back(where + " uses " +
                       std::to_string(resources.sharedBytes + launch.dynamicSharedBytes) +
                       " bytes of shared memory per block, more than the " +
                       std::to_string(kStaticSharedBytes) + " every GPU grants without opt-in");
}

} // namespace

void mlir::catfish::registerCudaTargetDialects(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

namespace {

/// The position of each of `operands` among the step's buffers (the host function's arguments).
FailureOr<SmallVector<uint32_t>> stepPositions(Operation *op, ValueRange operands,
                                               func::FuncOp func) {
  SmallVector<uint32_t> positions;
  for (Value operand : operands) {
    auto argument = dyn_cast<BlockArgument>(operand);
    if (!argument || argument.getOwner() != &func.getBody().front())
      return op->emitError("a CUDA call's operand is not one of the step's buffers");
    positions.push_back(argument.getArgNumber());
  }
  return positions;
}

FailureOr<CudaLaunch> describeLaunch(gpu::LaunchFuncOp launch, func::FuncOp func) {
  CudaLaunch entry;
  entry.function = launch.getKernelName().str();
  entry.cooperative = launch->hasAttr("catfish.cooperative");
  if (auto shared = launch->getAttrOfType<IntegerAttr>("catfish.static_shared_bytes"))
    entry.staticSharedBytes = static_cast<uint32_t>(shared.getInt());
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  Value sizes[] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
  for (auto [i, size] : llvm::enumerate(sizes)) {
    std::optional<int64_t> value = getConstantIntValue(size);
    if (!value || *value <= 0 || *value > UINT32_MAX)
      return launch.emitError("the CUDA target needs static launch sizes");
    (i < 3 ? entry.grid[i] : entry.block[i - 3]) = static_cast<uint32_t>(*value);
  }
  auto positions = stepPositions(launch, launch.getKernelOperands(), func);
  if (failed(positions))
    return failure();
  entry.args = std::move(*positions);
  return entry;
}

FailureOr<CudaMatmul> describeMatmul(func::CallOp call, DictionaryAttr fields,
                                     func::FuncOp func) {
  auto positions = stepPositions(call, call.getOperands(), func);
  if (failed(positions))
    return failure();
  CudaMatmul matmul;
  matmul.a = (*positions)[0];
  matmul.b = (*positions)[1];
  matmul.c = (*positions)[2];
  auto number = [&](StringRef name) {
    return static_cast<uint64_t>(fields.getAs<IntegerAttr>(name).getInt());
  };
  matmul.m = number("m");
  matmul.n = number("n");
  matmul.k = number("k");
  matmul.batch = number("batch");
  matmul.transposeA = fields.getAs<BoolAttr>("transpose_a").getValue();
  matmul.transposeB = fields.getAs<BoolAttr>("transpose_b").getValue();
  matmul.lda = number("lda");
  matmul.ldb = number("ldb");
  matmul.ldc = number("ldc");
  matmul.strideA = number("stride_a");
  matmul.strideB = number("stride_b");
  matmul.strideC = number("stride_c");
  matmul.offsetA = number("offset_a");
  matmul.offsetB = number("offset_b");
  matmul.offsetC = number("offset_c");
  matmul.alpha = fields.getAs<FloatAttr>("alpha").getValueAsDouble();
  matmul.beta = fields.getAs<FloatAttr>("beta").getValueAsDouble();
  matmul.elementType = cast<MemRefType>(call.getOperand(0).getType()).getElementType();
  return matmul;
}

} // namespace

llvm::Error mlir::catfish::collectCudaCalls(ModuleOp kernels, MutableArrayRef<KernelInfo> infos) {
  for (KernelInfo &info : infos) {
    auto func = kernels.lookupSymbol<func::FuncOp>(info.symbol);
    if (!func)
      return makeError("kernel " + info.symbol + " disappeared during lowering");
    for (Operation &op : func.getBody().front()) {
      CudaCall call;
      if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op)) {
        auto described = describeLaunch(launch, func);
        if (failed(described))
          return makeError("kernel " + info.symbol + " (" + info.location +
                           ") has a launch the artifact cannot describe");
        call.launch = std::move(*described);
      } else if (auto fields = op.getAttrOfType<DictionaryAttr>("catfish.matmul")) {
        auto described = describeMatmul(cast<func::CallOp>(op), fields, func);
        if (failed(described))
          return makeError("kernel " + info.symbol + " (" + info.location +
                           ") has a library call the artifact cannot describe");
        call.matmul = *described;
      } else {
        continue;
      }
      info.calls.push_back(std::move(call));
    }
  }
  return llvm::Error::success();
}

llvm::Expected<SmallVector<std::pair<std::string, std::string>>>
mlir::catfish::emitCudaPtx(ModuleOp kernels, const CudaCodegenOptions &options) {
  PassManager pm(kernels.getContext());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.cudaPath;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  std::string first;
  ScopedDiagnosticHandler handler(kernels.getContext(), [&](Diagnostic &diag) {
    if (first.empty() && diag.getSeverity() == DiagnosticSeverity::Error)
      first = StringRef(diag.str()).rtrim().str();
    return success();
  });
  if (failed(pm.run(kernels)))
    return makeError("generating PTX failed" + (first.empty() ? "" : ": " + first));
  SmallVector<std::pair<std::string, std::string>> ptx;
  for (auto binaryOp : kernels.getOps<gpu::BinaryOp>())
    for (Attribute attr : binaryOp.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target)
        return makeError("a GPU binary has a target that is not NVVM");
      ptx.emplace_back(target.getChip().str(), object.getObject().str());
    }
  return ptx;
}

llvm::Expected<TargetCode> mlir::catfish::emitCudaFatbin(ModuleOp kernels,
                                                         const CudaCodegenOptions &options,
                                                         MutableArrayRef<KernelInfo> infos,
                                                         std::vector<std::string> &warnings) {
  auto ptx = emitCudaPtx(kernels, options);
  if (!ptx)
    return ptx.takeError();
  llvm::stable_sort(*ptx, [](const auto &a, const auto &b) {
    return archNumber(a.first) < archNumber(b.first);
  });
  // The PTX shipped for JIT: the lowest arch whose code runs on every later GPU.
  const auto *found = llvm::find_if(
      *ptx, [](const auto &entry) { return !StringRef(entry.first).ends_with("a"); });
  const std::pair<std::string, std::string> *portable = found == ptx->end() ? nullptr : found;

  std::deque<TempFile> files;
  std::vector<std::string> fatbinArgs = {"-64"};
  std::string label;
  for (const auto &[arch, text] : *ptx) {
    TempFile &source = files.emplace_back();
    if (auto error = source.create("ptx"))
      return std::move(error);
    if (auto error = source.write(text))
      return std::move(error);
    TempFile &cubin = files.emplace_back();
    if (auto error = cubin.create("cubin"))
      return std::move(error);
    auto report = runTool(options, "ptxas",
                          {"-arch=" + arch, "-O3", "-v", source.path.str().str(), "-o",
                           cubin.path.str().str()});
    if (!report)
      return makeError("assembling the PTX for " + arch + ": " + toString(report.takeError()));
    llvm::StringMap<CudaResources> resources = parsePtxasReport(*report, arch);
    for (KernelInfo &info : infos)
      for (CudaCall &call : info.calls) {
        if (!call.launch)
          continue;
        CudaLaunch &launch = *call.launch;
        auto found = resources.find(launch.function);
        if (found == resources.end())
          return makeError("ptxas reported nothing for " + launch.function + " on " + arch);
        launch.resources.push_back(found->second);
        checkResources(launch, found->second, info.location, warnings);
      }
    std::string sm = arch.substr(3);
    fatbinArgs.push_back("--image3=kind=elf,sm=" + sm + ",file=" + cubin.path.str().str());
    label += (label.empty() ? "" : " ") + arch;
    if (portable && portable->first == arch)
      fatbinArgs.push_back("--image3=kind=ptx,sm=" + sm + ",file=" + source.path.str().str());
  }
  if (portable)
    label += " ptx:compute_" + portable->first.substr(3);
  TempFile &fatbin = files.emplace_back();
  if (auto error = fatbin.create("fatbin"))
    return std::move(error);
  fatbinArgs.push_back("--create=" + fatbin.path.str().str());
  if (auto report = runTool(options, "fatbinary", fatbinArgs); !report)
    return makeError("packing the fatbin: " + toString(report.takeError()));
  auto bytes = fatbin.read();
  if (!bytes)
    return bytes.takeError();
  return TargetCode{"cuda", label, "fatbin", std::move(*bytes)};
}
