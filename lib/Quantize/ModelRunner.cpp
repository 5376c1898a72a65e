//===- ModelRunner.cpp - run a model on the host for calibration ----------===//
#include "QuantizeImpl.h"

#include "host_tensor.h"
#include "npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;
using llvm::createStringError;

/// Takes ownership of `status`: an error with its message, or success.
static llvm::Error check(catfish_status_t *status, const Twine &context) {
  if (!status)
    return llvm::Error::success();
  std::string message = catfish_status_message(status);
  catfish_status_free(status);
  return createStringError(context + ": " + message);
}

llvm::Expected<std::vector<std::string>> quantize::listSamples(StringRef dir, StringRef what) {
  if (!llvm::sys::fs::is_directory(dir))
    return createStringError(what + " " + dir + ": not a directory");
  std::vector<std::string> samples;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::fs::is_directory(it->path()))
      samples.push_back(it->path());
  if (ec)
    return createStringError(what + " " + dir + ": " + ec.message());
  if (samples.empty())
    return createStringError(what + " " + dir +
                             ": no sample folders (one folder per sample, holding one "
                             "<input>.npy per graph input)");
  llvm::sort(samples);
  return samples;
}

llvm::Expected<std::unique_ptr<ModelRunner>>
ModelRunner::create(StringRef path, ArrayRef<char> bytes, const CompileOptions &compile) {
  // The user's import and fusion choices, for the host CPU.
  CompileOptions options;
  options.import = compile.import;
  options.import.modelBytes = bytes;
  options.cleanup = compile.cleanup;
  options.fusion.copyOptionValuesFrom(compile.fusion);
  options.cpuArchs = {llvm::sys::getHostCPUName().str()};
  SmallString<128> artifact;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("catfish-calibration", "catfish", artifact))
    return createStringError("cannot create a temporary artifact: " + ec.message());
  llvm::FileRemover remove(artifact);
  {
    DialectRegistry registry;
    registerCompilerDialects(registry);
    MLIRContext context(registry);
    auto summary = compileToArtifact(context, path, artifact, options);
    if (!summary)
      return summary.takeError();
  }
  std::unique_ptr<ModelRunner> runner(new ModelRunner());
  catfish_model_options_t modelOptions;
  catfish_model_options_initialize(&modelOptions);
  modelOptions.device = "cpu";
  if (auto error = check(catfish_model_load_with_options(artifact.c_str(), &modelOptions,
                                                         &runner->model),
                         "loading the calibration artifact"))
    return std::move(error);
  if (auto error = check(catfish_session_create(runner->model, &runner->session),
                         "creating a session"))
    return std::move(error);
  return runner;
}

ModelRunner::~ModelRunner() {
  catfish_session_release(session);
  catfish_model_release(model);
}

llvm::Error ModelRunner::run(StringRef sampleDir) {
  size_t count = catfish_model_input_count(model);
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) {
    catfish_tensor_info_t info;
    if (auto error = check(catfish_model_input_info(model, i, &info), sampleDir))
      return error;
    names.push_back(info.name);
    SmallString<256> file(sampleDir);
    llvm::sys::path::append(file, std::string(info.name) + ".npy");
    std::vector<uint8_t> bytes;
    std::string message;
    ::catfish::tools::HostTensor tensor;
    if (!::catfish::tools::readFile(std::string(file), bytes, message) ||
        !::catfish::tools::parseNpy(bytes.data(), bytes.size(), std::string(file), tensor,
                                    message))
      return createStringError("sample " + sampleDir + ": input '" + info.name +
                               "': " + message);
    std::vector<int64_t> dims(info.dims, info.dims + info.rank);
    if (tensor.dtype != info.dtype || tensor.shape != dims)
      return createStringError(
          file + ": " + catfish_dtype_name(tensor.dtype) + " " +
          ::catfish::tools::shapeText(tensor.shape) + ", but input '" + info.name +
          "' is " + catfish_dtype_name(info.dtype) + " " + ::catfish::tools::shapeText(dims));
    if (auto error = check(
            catfish_session_set_input(session, i, tensor.data.data(), tensor.data.size()),
            file))
      return error;
  }
  // A file that names no input is a mistake in the data set, not something to skip.
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(sampleDir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef stem = llvm::sys::path::stem(it->path());
    if (llvm::sys::path::extension(it->path()) == ".npy" && !llvm::is_contained(names, stem))
      return createStringError(it->path() + ": the model has no input '" + stem +
                               "' (inputs: " + llvm::join(names, ", ") + ")");
  }
  return check(catfish_session_run(session), "sample " + sampleDir);
}

std::optional<size_t> ModelRunner::findOutput(StringRef name) const {
  size_t index;
  catfish_status_t *status =
      catfish_model_find_output(model, std::string(name).c_str(), &index);
  if (status) {
    catfish_status_free(status);
    return std::nullopt;
  }
  return index;
}

llvm::Error ModelRunner::output(StringRef name, std::vector<double> &values,
                                std::vector<int64_t> &shape) const {
  std::optional<size_t> index = findOutput(name);
  if (!index)
    return createStringError("the calibration model has no output '" + name + "'");
  return output(*index, values, shape);
}

catfish_tensor_info_t ModelRunner::outputInfo(size_t index) const {
  catfish_tensor_info_t info{};
  catfish_status_free(catfish_model_output_info(model, index, &info));
  return info;
}

llvm::Error ModelRunner::output(size_t index, std::vector<double> &values,
                                std::vector<int64_t> &shape) const {
  catfish_tensor_info_t info = outputInfo(index);
  shape.assign(info.rank, 0);
  if (auto error =
          check(catfish_session_output_shape(session, index, shape.data(), shape.size()),
                info.name))
    return error;
  const void *data;
  size_t bytes;
  if (auto error = check(catfish_session_output(session, index, &data, &bytes), info.name))
    return error;
  uint64_t count = 1;
  for (int64_t d : shape)
    count *= static_cast<uint64_t>(d);
  values.resize(count);
  for (uint64_t i = 0; i < count; ++i)
    values[i] =
        ::catfish::tools::elementValue(info.dtype, static_cast<const uint8_t *>(data), i);
  return llvm::Error::success();
}
