//===- cpu_code.h - loading CPU code sections -------------------*- C++ -*-===//
#ifndef CATFISH_RUNTIME_SRC_CPU_CODE_H
#define CATFISH_RUNTIME_SRC_CPU_CODE_H

#include "catfish/runtime.h"

#include <cstdint>
#include <memory>
#include <string>

namespace catfish::rt {

/// A shared object loaded from bytes in memory (a code section of the mapped artifact). Owns the
/// dlopen handle; unloads on destruction. Symbol lookups are thread-safe (dlsym is).
class SharedObject {
public:
  SharedObject(const SharedObject &) = delete;
  SharedObject &operator=(const SharedObject &) = delete;
  ~SharedObject();

  /// Loads `size` bytes of an ELF shared object. `what` names it in errors ("'m.catfish' target
  /// 0 (cpu x86-64-v3)"). Tries memfd_create + dlopen("/proc/self/fd/N") (the memory file
  /// stays open while the code is loaded) and falls back to a temporary file (in $TMPDIR or
  /// /tmp, unlinked right after dlopen).
  static catfish_status_t *load(const uint8_t *bytes, uint64_t size, const std::string &what,
                                std::unique_ptr<SharedObject> &out);

  /// The address of `name`, or nullptr.
  void *symbol(const char *name) const;

private:
  SharedObject(void *handle, int fd) : handle_(handle), fd_(fd) {}
  void *handle_;
  /// The memory file the code was loaded from, kept open while it is loaded; -1 if none.
  int fd_;
};

/// Whether this machine can run CPU code built for `arch` ("x86-64", "x86-64-v2/-v3/-v4",
/// "aarch64", "arm64"). An arch name this runtime does not know is accepted: the code section's
/// ELF machine was already checked. On false, `missing` lists the absent CPU features.
bool hostSupportsCpuArch(const std::string &arch, std::string &missing);

/// How capable code for `arch` is: its x86-64 level (1 for "x86-64" to 4 for "x86-64-v4"), 0
/// for any other name (a CPU name, whose features this runtime does not check).
int cpuArchRank(const std::string &arch);

} // namespace catfish::rt

#endif // CATFISH_RUNTIME_SRC_CPU_CODE_H
