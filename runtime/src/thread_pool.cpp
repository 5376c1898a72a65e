//===- thread_pool.cpp - the workers of one session -------------------------===//

#include "thread_pool.h"

#include "status.h"

#include <cassert>
#include <system_error>

namespace catfish::rt {

ThreadPool::~ThreadPool() { stop(); }

catfish_status_t *ThreadPool::start(unsigned workers) {
  threads_.reserve(workers);
  for (unsigned id = 0; id < workers; ++id) {
    try {
      threads_.emplace_back([this, id] { workerLoop(id); });
    } catch (const std::system_error &e) {
      stop();
      return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, "cannot start worker thread ", id,
                           ": ", e.what());
    }
  }
  return nullptr;
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread &thread : threads_)
    thread.join();
  threads_.clear();
}

void ThreadPool::runTasks() {
  for (int64_t task = nextTask_.fetch_add(1, std::memory_order_relaxed); task < taskCount_;
       task = nextTask_.fetch_add(1, std::memory_order_relaxed))
    fn_(args_, task, taskCount_);
}

void ThreadPool::run(artifact::CpuKernelFn fn, void *const *args, int64_t taskCount) {
  assert(taskCount >= 1 && taskCount <= int64_t(threads_.size()) + 1 && "bad task count");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = fn;
    args_ = args;
    taskCount_ = taskCount;
    nextTask_.store(0, std::memory_order_relaxed);
    participants_ = static_cast<unsigned>(taskCount - 1);
    busy_ = participants_;
    ++generation_;
  }
  wake_.notify_all();
  runTasks();
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return busy_ == 0; });
}

void ThreadPool::workerLoop(unsigned id) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_)
      return;
    seen = generation_;
    if (id >= participants_)
      continue;
    lock.unlock();
    runTasks();
    lock.lock();
    if (--busy_ == 0)
      done_.notify_one();
  }
}

} // namespace catfish::rt
