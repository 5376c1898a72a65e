//===- ModelFile.cpp - external data files, mapped once -----------------===//
#include "ImporterImpl.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

using namespace mlir;
using namespace mlir::catfish::onnx_import;
using llvm::createStringError;

/// A location must be a relative path that stays inside the model's directory: a model must
/// not make the compiler read arbitrary files.
static llvm::Error checkLocation(StringRef location) {
  if (location.empty())
    return createStringError("external data location is empty");
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/") ||
      location.starts_with("\\"))
    return createStringError("external data location '" + location +
                             "' is absolute; it must be relative to the model's directory");
  for (auto it = llvm::sys::path::begin(location), e = llvm::sys::path::end(location); it != e;
       ++it)
    if (*it == "..")
      return createStringError("external data location '" + location +
                               "' leaves the model's directory");
  return llvm::Error::success();
}

llvm::Expected<ArrayRef<char>> ExternalData::read(StringRef location, int64_t offset,
                                                  int64_t length,
                                                  std::shared_ptr<void> &keepAlive) {
  if (llvm::Error err = checkLocation(location))
    return std::move(err);
  auto &file = files[location];
  if (!file) {
    SmallString<256> path(modelDir);
    llvm::sys::path::append(path, location);
    // Symlinks may not lead outside the model's directory either.
    SmallString<256> real, realDir;
    if (llvm::sys::fs::real_path(path, real) || llvm::sys::fs::real_path(modelDir, realDir))
      return createStringError("external data file '" + location + "' not found next to the model");
    if (!StringRef(real).starts_with(StringRef(realDir).str() + "/"))
      return createStringError("external data file '" + location +
                               "' resolves outside the model's directory");
    int fd;
    if (std::error_code ec = llvm::sys::fs::openFileForRead(real, fd))
      return createStringError("cannot open external data file '" + location +
                               "': " + ec.message());
    uint64_t size = 0;
    llvm::sys::fs::file_status status;
    if (std::error_code ec = llvm::sys::fs::status(fd, status)) {
      llvm::sys::Process::SafelyCloseFileDescriptor(fd);
      return createStringError("cannot stat '" + location + "': " + ec.message());
    }
    size = status.getSize();
    std::error_code ec;
    auto region = std::make_shared<llvm::sys::fs::mapped_file_region>(
        llvm::sys::fs::convertFDToNativeFile(fd),
        llvm::sys::fs::mapped_file_region::readonly, size, 0, ec);
    llvm::sys::Process::SafelyCloseFileDescriptor(fd);
    if (size != 0 && ec)
      return createStringError("cannot map external data file '" + location +
                               "': " + ec.message());
    file = std::move(region);
  }
  uint64_t size = file->size();
  if (offset < 0 || static_cast<uint64_t>(offset) > size)
    return createStringError("external data offset " + Twine(offset) + " is past the end of '" +
                             location + "' (" + Twine(size) + " bytes)");
  if (length < 0)
    length = size - offset;
  if (static_cast<uint64_t>(length) > size - static_cast<uint64_t>(offset))
    return createStringError("external data file '" + location + "' has " + Twine(size) +
                             " bytes but the tensor needs bytes [" + Twine(offset) + ", " +
                             Twine(offset + length) + ")");
  keepAlive = file;
  return ArrayRef<char>(file->const_data() + offset, length);
}
