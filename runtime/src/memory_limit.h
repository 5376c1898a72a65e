//===- memory_limit.h - how much memory this process may use --------------===//
//
// Linux overcommits: an allocation larger than the machine succeeds and the OOM killer ends the
// process when it is touched. The runtime refuses such sizes up front instead, with
// CATFISH_STATUS_RESOURCE_EXHAUSTED and the limit that applies.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_MEMORY_LIMIT_H
#define CATFISH_RUNTIME_MEMORY_LIMIT_H

#include <cstdint>
#include <string>

namespace catfish::rt {

struct MemoryLimit {
  uint64_t bytes = UINT64_MAX;
  /// What sets it: "this machine's memory", "the cgroup's memory.max", "RLIMIT_AS".
  std::string source;
};

/// The most memory this process may ever hold: the smallest of the machine's physical memory,
/// its cgroup's memory.max (cgroup v2) and RLIMIT_AS.
MemoryLimit processMemoryLimit();

/// Memory the kernel can hand out now (MemAvailable plus SwapFree of /proc/meminfo), or
/// UINT64_MAX when it does not say.
uint64_t availableMemory();

} // namespace catfish::rt

#endif // CATFISH_RUNTIME_MEMORY_LIMIT_H
