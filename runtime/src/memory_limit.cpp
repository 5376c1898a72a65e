//===- memory_limit.cpp - how much memory this process may use ------------===//

#include "memory_limit.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <sys/resource.h>
#include <unistd.h>

namespace catfish::rt {
namespace {

void lower(MemoryLimit &limit, uint64_t bytes, const char *source) {
  if (bytes < limit.bytes) {
    limit.bytes = bytes;
    limit.source = source;
  }
}

/// memory.max of this process's cgroup (v2: the line "0::/path" of /proc/self/cgroup), or
/// UINT64_MAX for "max", v1 or no cgroup file system.
uint64_t cgroupMemoryMax() {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    if (line.rfind("0::", 0) != 0)
      continue;
    std::ifstream max("/sys/fs/cgroup" + line.substr(3) + "/memory.max");
    std::string value;
    if (!(max >> value) || value == "max")
      return UINT64_MAX;
    char *end = nullptr;
    unsigned long long bytes = std::strtoull(value.c_str(), &end, 10);
    return end && *end == '\0' ? bytes : UINT64_MAX;
  }
  return UINT64_MAX;
}

} // namespace

MemoryLimit processMemoryLimit() {
  MemoryLimit limit;
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  uint64_t physical;
  if (pages > 0 && pageSize > 0 &&
      !__builtin_mul_overflow(uint64_t(pages), uint64_t(pageSize), &physical))
    lower(limit, physical, "this machine's memory");
  lower(limit, cgroupMemoryMax(), "the cgroup's memory.max");
  struct rlimit addressSpace;
  if (getrlimit(RLIMIT_AS, &addressSpace) == 0 && addressSpace.rlim_cur != RLIM_INFINITY)
    lower(limit, addressSpace.rlim_cur, "RLIMIT_AS (ulimit -v)");
  return limit;
}

uint64_t availableMemory() {
  std::FILE *meminfo = std::fopen("/proc/meminfo", "r");
  if (!meminfo)
    return UINT64_MAX;
  char line[256];
  unsigned long long kib, available = 0, swap = 0;
  bool found = false;
  while (std::fgets(line, sizeof(line), meminfo)) {
    if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
      available = kib;
      found = true;
    } else if (std::sscanf(line, "SwapFree: %llu kB", &kib) == 1) {
      swap = kib;
    }
  }
  std::fclose(meminfo);
  return found ? (uint64_t(available) + swap) * 1024 : UINT64_MAX;
}

} // namespace catfish::rt
