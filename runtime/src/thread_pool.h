//===- thread_pool.h - the workers of one session ---------------*- C++ -*-===//
#ifndef CATFISH_RUNTIME_SRC_THREAD_POOL_H
#define CATFISH_RUNTIME_SRC_THREAD_POOL_H

#include "catfish/artifact_format.h"
#include "catfish/runtime.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace catfish::rt {

/// Worker threads that run the tasks of one kernel call together with the calling thread. Each
/// session owns one, so concurrent sessions never wait for each other. run() must not be called
/// from two threads at once (a session is single-threaded).
class ThreadPool {
public:
  ThreadPool() = default;
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;
  ~ThreadPool();

  /// Starts `workers` threads.
  catfish_status_t *start(unsigned workers);
  unsigned workerCount() const { return static_cast<unsigned>(threads_.size()); }

  /// Calls fn(args, t, taskCount) for every t in [0, taskCount), spread over the calling thread
  /// and up to taskCount - 1 workers; returns when all calls have returned.
  /// Requires 1 <= taskCount <= workerCount() + 1.
  void run(artifact::CpuKernelFn fn, void *const *args, int64_t taskCount);

private:
  void workerLoop(unsigned id);
  void runTasks();
  void stop();

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  unsigned participants_ = 0;
  unsigned busy_ = 0;
  artifact::CpuKernelFn fn_ = nullptr;
  void *const *args_ = nullptr;
  int64_t taskCount_ = 0;
  std::atomic<int64_t> nextTask_{0};
};

} // namespace catfish::rt

#endif // CATFISH_RUNTIME_SRC_THREAD_POOL_H
