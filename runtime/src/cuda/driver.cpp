//===- driver.cpp - opening libcuda and filling the driver table ----------===//

#include "cuda/driver.h"

#include "status.h"

#include <cstdlib>
#include <mutex>

#include <dlfcn.h>

namespace catfish::rt::cuda {
namespace {

/// Opens the library and takes every entry point; the error (or nullptr) is kept for the
/// process.
catfish_status_t *loadDriver(Driver &driver) {
  const char *override = std::getenv("CATFISH_CUDA_DRIVER");
  driver.library = override && *override ? override : "libcuda.so.1";
  void *handle = dlopen(driver.library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "no NVIDIA driver: cannot open ",
                         driver.library, " (", why ? why : "not found", ")");
  }
  // The handle stays open for the life of the process: the table points into the library.
  // cuInit and the error names are plain exports without versions; starting the driver first
  // tells a stub library or a machine without a GPU apart from an old driver.
  driver.cuGetErrorName = reinterpret_cast<decltype(driver.cuGetErrorName)>(
      dlsym(handle, "cuGetErrorName"));
  driver.cuGetErrorString = reinterpret_cast<decltype(driver.cuGetErrorString)>(
      dlsym(handle, "cuGetErrorString"));
  auto init = reinterpret_cast<decltype(&::cuInit)>(dlsym(handle, "cuInit"));
  auto getProcAddress = reinterpret_cast<decltype(&::cuGetProcAddress)>(
      dlsym(handle, "cuGetProcAddress_v2"));
  if (!init || !getProcAddress)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "the NVIDIA driver ", driver.library,
                         " is older than CUDA 12 (it has no cuGetProcAddress_v2); this runtime "
                         "needs a driver for CUDA ",
                         CUDA_VERSION / 1000, " or newer");
  if (CUresult started = init(0); started != CUDA_SUCCESS)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "the NVIDIA driver ", driver.library,
                         " does not start: cuInit: ", resultText(driver, started),
                         started == CUDA_ERROR_STUB_LIBRARY
                             ? " (this is the toolkit's stub, not a driver)"
                         : started == CUDA_ERROR_NO_DEVICE ? " (no GPU is visible)"
                                                           : "");
  std::string missing;
#define CATFISH_CUDA_DRIVER_LOOKUP(name)                                                           \
  {                                                                                                \
    void *address = nullptr;                                                                       \
    CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;                   \
    if (getProcAddress(#name, &address, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &found) !=      \
            CUDA_SUCCESS ||                                                                        \
        found != CU_GET_PROC_ADDRESS_SUCCESS || !address)                                          \
      missing += (missing.empty() ? "" : ", ") + std::string(#name);                               \
    else                                                                                           \
      driver.name = reinterpret_cast<decltype(driver.name)>(address);                              \
  }
  CATFISH_CUDA_DRIVER_FUNCTIONS(CATFISH_CUDA_DRIVER_LOOKUP)
#undef CATFISH_CUDA_DRIVER_LOOKUP
  if (!missing.empty())
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, "the NVIDIA driver ", driver.library,
                         " lacks entry points of CUDA ", CUDA_VERSION / 1000, ".",
                         CUDA_VERSION % 1000 / 10, " (", missing,
                         "); update the driver to one for CUDA ", CUDA_VERSION / 1000,
                         " or newer");
  driver.cuDriverGetVersion(&driver.version);
  return nullptr;
}

} // namespace

catfish_status_t *openDriver(const Driver *&out) {
  static Driver driver;
  static catfish_status_t *error = nullptr;
  static std::once_flag once;
  std::call_once(once, [] { error = loadDriver(driver); });
  if (error)
    return makeStatus(catfish_status_code(error), catfish_status_message(error));
  out = &driver;
  return nullptr;
}

std::string resultText(const Driver &driver, CUresult result) {
  const char *name = nullptr;
  const char *text = nullptr;
  if (driver.cuGetErrorName)
    driver.cuGetErrorName(result, &name);
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(result, &text);
  std::string out = name ? name : "CUDA error " + std::to_string(int(result));
  if (text)
    out += std::string(" (") + text + ")";
  return out;
}

catfish_status_t *driverError(const Driver &driver, CUresult result, const std::string &what) {
  catfish_status_code_t code = CATFISH_STATUS_INTERNAL;
  if (result == CUDA_ERROR_OUT_OF_MEMORY)
    code = CATFISH_STATUS_RESOURCE_EXHAUSTED;
  else if (result == CUDA_ERROR_NO_BINARY_FOR_GPU || result == CUDA_ERROR_NOT_SUPPORTED ||
           result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
    code = CATFISH_STATUS_UNSUPPORTED;
  else if (result == CUDA_ERROR_INVALID_VALUE)
    code = CATFISH_STATUS_INVALID_ARGUMENT;
  return makeStatusCat(code, what, ": ", resultText(driver, result));
}

} // namespace catfish::rt::cuda
