//===- cpu_code.cpp - loading CPU code sections -----------------------------===//

#include "cpu_code.h"

#include "status.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace catfish::rt {
namespace {

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
constexpr const char *kHostMachineName = "x86-64";
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
constexpr const char *kHostMachineName = "aarch64";
#else
#error "the Catfish runtime supports x86-64 and aarch64 hosts"
#endif

bool writeAll(int fd, const uint8_t *bytes, uint64_t size) {
  while (size > 0) {
    size_t chunk = size > (uint64_t(1) << 30) ? size_t(1) << 30 : static_cast<size_t>(size);
    ssize_t written = ::write(fd, bytes, chunk);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    bytes += written;
    size -= static_cast<uint64_t>(written);
  }
  return true;
}

std::string lastDlError() {
  const char *text = dlerror();
  return text ? text : "unknown dlopen error";
}

/// dlopen through an anonymous memory file; nullptr (and `error`) on failure. dlopen knows a
/// library by its path, and a closed descriptor's number, hence its /proc/self/fd path, is
/// soon reused by the next load, which would get this library back instead of its own: the
/// file stays open (in `keptFd`) while the code is loaded.
void *openViaMemfd(const uint8_t *bytes, uint64_t size, std::string &error, int &keptFd) {
  int fd = memfd_create("catfish-code", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string("memfd_create: ") + std::strerror(errno);
    return nullptr;
  }
  void *handle = nullptr;
  if (!writeAll(fd, bytes, size)) {
    error = std::string("writing the memfd: ") + std::strerror(errno);
  } else {
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    // A library that cannot be unloaded (linked with -z nodelete) keeps the path of an earlier
    // load of this number: dlopen would return it. The caller then takes a temporary file.
    if (void *stale = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
      dlclose(stale);
      error = "a library that was never unloaded holds the name " + path;
    } else {
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle)
        error = lastDlError();
    }
  }
  if (handle)
    keptFd = fd;
  else
    close(fd);
  return handle;
}

/// dlopen through a temporary file, removed right after.
void *openViaTempFile(const uint8_t *bytes, uint64_t size, std::string &error) {
  const char *dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/catfish-code-XXXXXX";
  std::vector<char> path(pattern.begin(), pattern.end());
  path.push_back('\0');
  int fd = mkstemp(path.data());
  if (fd < 0) {
    error = "cannot create a temporary file in " + pattern + ": " + std::strerror(errno);
    return nullptr;
  }
  void *handle = nullptr;
  if (!writeAll(fd, bytes, size)) {
    error = std::string("writing ") + path.data() + ": " + std::strerror(errno);
  } else {
    handle = dlopen(path.data(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      error = lastDlError();
  }
  close(fd);
  unlink(path.data());
  return handle;
}

} // namespace

SharedObject::~SharedObject() {
  dlclose(handle_);
  if (fd_ >= 0)
    close(fd_);
}

catfish_status_t *SharedObject::load(const uint8_t *bytes, uint64_t size, const std::string &what,
                                     std::unique_ptr<SharedObject> &out) {
  // Check the ELF header first: dlopen's errors for foreign files are cryptic.
  Elf64_Ehdr elf;
  if (size < sizeof(elf))
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, what, ": the code is ", size,
                         " bytes, too short for an ELF shared object");
  std::memcpy(&elf, bytes, sizeof(elf));
  if (std::memcmp(elf.e_ident, ELFMAG, SELFMAG) != 0 || elf.e_ident[EI_CLASS] != ELFCLASS64 ||
      elf.e_type != ET_DYN)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, what,
                         ": the code is not a 64-bit ELF shared object");
  if (elf.e_machine != kHostMachine)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, what, ": the code is for ELF machine ",
                         elf.e_machine, ", this machine is ", kHostMachineName);

  std::string memfdError, tempError;
  int fd = -1;
  void *handle = openViaMemfd(bytes, size, memfdError, fd);
  if (!handle)
    handle = openViaTempFile(bytes, size, tempError);
  if (!handle)
    return makeStatusCat(CATFISH_STATUS_INTERNAL, what, ": cannot load the code: ", memfdError,
                         "; via a temporary file: ", tempError);
  out.reset(new SharedObject(handle, fd));
  return nullptr;
}

void *SharedObject::symbol(const char *name) const { return dlsym(handle_, name); }

int cpuArchRank(const std::string &arch) {
  return arch == "x86-64" ? 1 : arch == "x86-64-v2" ? 2 : arch == "x86-64-v3" ? 3
                                : arch == "x86-64-v4" ? 4 : 0;
}

bool hostSupportsCpuArch(const std::string &arch, std::string &missing) {
  missing.clear();
#if defined(__x86_64__)
  int level = cpuArchRank(arch);
  if (level == 0)
    return true;
  __builtin_cpu_init();
  auto need = [&](bool present, const char *feature) {
    if (!present)
      missing += (missing.empty() ? "" : ", ") + std::string(feature);
  };
  if (level >= 2) {
    need(__builtin_cpu_supports("sse3"), "sse3");
    need(__builtin_cpu_supports("ssse3"), "ssse3");
    need(__builtin_cpu_supports("sse4.1"), "sse4.1");
    need(__builtin_cpu_supports("sse4.2"), "sse4.2");
    need(__builtin_cpu_supports("popcnt"), "popcnt");
  }
  if (level >= 3) {
    need(__builtin_cpu_supports("avx"), "avx");
    need(__builtin_cpu_supports("avx2"), "avx2");
    need(__builtin_cpu_supports("bmi"), "bmi");
    need(__builtin_cpu_supports("bmi2"), "bmi2");
    need(__builtin_cpu_supports("fma"), "fma");
  }
  if (level >= 4) {
    need(__builtin_cpu_supports("avx512f"), "avx512f");
    need(__builtin_cpu_supports("avx512bw"), "avx512bw");
    need(__builtin_cpu_supports("avx512cd"), "avx512cd");
    need(__builtin_cpu_supports("avx512dq"), "avx512dq");
    need(__builtin_cpu_supports("avx512vl"), "avx512vl");
  }
  return missing.empty();
#else
  if (arch.rfind("x86-64", 0) == 0) {
    missing = "an x86-64 CPU";
    return false;
  }
  return true;
#endif
}

} // namespace catfish::rt
