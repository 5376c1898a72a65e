//===- cuda_emulator.cpp - running CUDA launches on the host --------------===//

#include "cuda_emulator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

namespace catfish::rt {

void EmulatedCall::fail(const std::string &message) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!failed.exchange(true))
    error = message;
}

namespace {

using artifact::CudaEmulatorThread;
using artifact::CudaShuffleMode;

constexpr uint32_t kWarpSize = 32;
/// Each fiber's stack, above one guard page. The emulated code is loops over scalars; libm's
/// functions are its deepest calls.
constexpr size_t kFiberStackBytes = 64 * 1024;
/// Shared memory starts each block with this byte (a NaN in every float format), as a GPU's
/// starts with whatever the last block left: reading it before writing it shows.
constexpr uint8_t kSharedFill = 0xff;

class BlockRunner;

struct Fiber {
  /// First: emulated code gets &api and the callbacks cast it back.
  CudaEmulatorThread api;
  /// The call's arguments with this fiber's &api last; reused block after block.
  std::vector<void *> args;
  enum State { Ready, AtBarrier, AtShuffle, Done } state = Ready;
  BlockRunner *runner = nullptr;
  uint32_t thread = 0;
  ucontext_t context;
  // The pending shuffle.
  uint32_t value = 0, offset = 0, width = 0, mode = 0;
  uint64_t result = 0;
};

/// The fiber the scheduler switched to last, on this OS thread.
thread_local Fiber *currentFiber = nullptr;

/// Fiber stacks, each above a guard page, mapped once per OS thread and grown when a launch
/// has more threads a block: a launch's blocks, and later launches, reuse them.
class FiberStacks {
public:
  FiberStacks() = default;
  FiberStacks(const FiberStacks &) = delete;
  FiberStacks &operator=(const FiberStacks &) = delete;
  ~FiberStacks() { release(); }

  /// Room for `count` stacks; false if it cannot be mapped.
  bool reserve(size_t count) {
    if (count <= count_)
      return true;
    release();
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    slotBytes_ = kFiberStackBytes + page;
    void *base = mmap(nullptr, slotBytes_ * count, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
      return false;
    base_ = static_cast<char *>(base);
    count_ = count;
    // A guard page under each stack turns an overflow into a fault, not silent corruption.
    for (size_t t = 0; t < count; ++t)
      mprotect(base_ + t * slotBytes_, page, PROT_NONE);
    return true;
  }

  void *stack(size_t index) const {
    return base_ + index * slotBytes_ + (slotBytes_ - kFiberStackBytes);
  }

private:
  void release() {
    if (base_)
      munmap(base_, slotBytes_ * count_);
    base_ = nullptr;
    count_ = 0;
  }

  char *base_ = nullptr;
  size_t count_ = 0, slotBytes_ = 0;
};

thread_local FiberStacks fiberStacks;

/// Runs the blocks of one task of one call; owns the fibers' stacks.
class BlockRunner {
public:
  BlockRunner(EmulatedCall &call, uint32_t threads) : call_(call), threads_(threads) {}

  /// Runs block `block` with `args` (the launch's parameters, dims, shared memory and a slot
  /// for the thread's CudaEmulatorThread). False after recording an error in the call.
  bool run(uint64_t block, std::vector<void *> &args) {
    block_ = block;
    if (!call_.launch->cooperative) {
      // One thread after another on this stack; the services are never called.
      Fiber fiber;
      fiber.api = {&notCooperative, &notCooperativeShuffle};
      fiber.runner = this;
      args.back() = &fiber.api;
      for (uint32_t t = 0; t < threads_; ++t)
        call_.launch->thread(args.data(), static_cast<int64_t>(block), t);
      return !call_.failed.load();
    }
    if (!fiberStacks.reserve(threads_)) {
      fail("cannot map the stacks of " + std::to_string(threads_) + " fibers");
      return false;
    }
    fibers_.resize(threads_);
    for (uint32_t t = 0; t < threads_; ++t) {
      Fiber &fiber = fibers_[t];
      fiber.api = {&barrier, &shuffle};
      fiber.args.assign(args.begin(), args.end());
      fiber.args.back() = &fiber.api;
      fiber.state = Fiber::Ready;
      fiber.runner = this;
      fiber.thread = t;
      getcontext(&fiber.context);
      fiber.context.uc_stack.ss_sp = fiberStacks.stack(t);
      fiber.context.uc_stack.ss_size = kFiberStackBytes;
      fiber.context.uc_link = &scheduler_;
      makecontext(&fiber.context, &fiberMain, 0);
    }
    return schedule();
  }

private:
  static void fiberMain() {
    Fiber *fiber = currentFiber;
    BlockRunner &runner = *fiber->runner;
    runner.call_.launch->thread(fiber->args.data(), static_cast<int64_t>(runner.block_),
                                fiber->thread);
    fiber->state = Fiber::Done;
  }

  static void barrier(CudaEmulatorThread *self) {
    Fiber *fiber = reinterpret_cast<Fiber *>(self);
    fiber->state = Fiber::AtBarrier;
    swapcontext(&fiber->context, &fiber->runner->scheduler_);
  }

  static uint64_t shuffle(CudaEmulatorThread *self, uint32_t value, uint32_t offset,
                          uint32_t width, uint32_t mode) {
    Fiber *fiber = reinterpret_cast<Fiber *>(self);
    fiber->state = Fiber::AtShuffle;
    fiber->value = value;
    fiber->offset = offset;
    fiber->width = width;
    fiber->mode = mode;
    swapcontext(&fiber->context, &fiber->runner->scheduler_);
    return fiber->result;
  }

  /// The callbacks of a launch the compiler did not mark cooperative: reaching them is a bug.
  static void notCooperative(CudaEmulatorThread *self) {
    reinterpret_cast<Fiber *>(self)->runner->fail("a barrier in a launch not marked cooperative");
  }
  static uint64_t notCooperativeShuffle(CudaEmulatorThread *self, uint32_t value, uint32_t,
                                        uint32_t, uint32_t) {
    reinterpret_cast<Fiber *>(self)->runner->fail("a shuffle in a launch not marked cooperative");
    return value;
  }

  void fail(const std::string &what) {
    call_.fail(call_.launch->function + " block " + std::to_string(block_) + ": " + what);
  }

  /// Resumes ready fibers until every one is done; releases barriers and shuffles once all the
  /// threads they wait for arrived.
  bool schedule() {
    for (;;) {
      for (Fiber &fiber : fibers_)
        if (fiber.state == Fiber::Ready) {
          currentFiber = &fiber;
          swapcontext(&scheduler_, &fiber.context);
          if (call_.failed.load())
            return false;
        }
      if (std::all_of(fibers_.begin(), fibers_.end(),
                      [](const Fiber &fiber) { return fiber.state == Fiber::Done; }))
        return true;
      bool released = false;
      for (size_t first = 0; first < fibers_.size(); first += kWarpSize) {
        int result = releaseShuffle(first, std::min<size_t>(fibers_.size(), first + kWarpSize));
        if (result < 0)
          return false;
        released |= result > 0;
      }
      // A warp waiting at a shuffle was released or reported above, so every thread still
      // running waits at the barrier (threads that exited do not count, as on the GPU).
      if (!released)
        for (Fiber &fiber : fibers_)
          if (fiber.state == Fiber::AtBarrier)
            fiber.state = Fiber::Ready;
    }
  }

  /// Completes the shuffle of the warp of threads [first, last) once all of them are at it:
  /// 1 when released, 0 when not all arrived, -1 after an error.
  int releaseShuffle(size_t first, size_t last) {
    size_t arrived = 0, done = 0;
    for (size_t t = first; t < last; ++t) {
      arrived += fibers_[t].state == Fiber::AtShuffle;
      done += fibers_[t].state == Fiber::Done;
    }
    if (arrived == 0)
      return 0;
    std::string warp = "warp " + std::to_string(first / kWarpSize);
    if (done) {
      fail(warp + ": " + std::to_string(done) + " lanes exited before a shuffle the others wait at");
      return -1;
    }
    if (arrived != last - first) {
      bool barrier = false;
      for (size_t t = first; t < last; ++t)
        barrier |= fibers_[t].state == Fiber::AtBarrier;
      if (barrier) {
        fail(warp + ": some lanes wait at a shuffle, others at a barrier");
        return -1;
      }
      return 0;
    }
    const Fiber &lead = fibers_[first];
    for (size_t t = first; t < last; ++t)
      if (fibers_[t].mode != lead.mode || fibers_[t].width != lead.width) {
        fail(warp + ": lanes shuffle with different modes or widths");
        return -1;
      }
    for (size_t t = first; t < last; ++t) {
      Fiber &fiber = fibers_[t];
      uint32_t lane = static_cast<uint32_t>(t - first);
      uint64_t source;
      switch (static_cast<CudaShuffleMode>(fiber.mode)) {
      case CudaShuffleMode::Xor:
        source = lane ^ fiber.offset;
        break;
      case CudaShuffleMode::Down:
        source = uint64_t(lane) + fiber.offset;
        break;
      case CudaShuffleMode::Up:
        source = lane >= fiber.offset ? lane - fiber.offset : UINT64_MAX;
        break;
      case CudaShuffleMode::Idx:
        source = fiber.offset;
        break;
      default:
        fail(warp + ": unknown shuffle mode " + std::to_string(fiber.mode));
        return -1;
      }
      bool valid = source < fiber.width && first + source < last;
      uint32_t value = valid ? fibers_[first + source].value : fiber.value;
      fiber.result = value | (uint64_t(valid) << 32);
    }
    for (size_t t = first; t < last; ++t)
      fibers_[t].state = Fiber::Ready;
    return 1;
  }

  EmulatedCall &call_;
  uint32_t threads_;
  std::vector<Fiber> fibers_;
  ucontext_t scheduler_;
  uint64_t block_ = 0;
};

float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint32_t floatToBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float halfToFloat(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000) << 16, exponent = (half >> 10) & 0x1f,
           mantissa = half & 0x3ff;
  if (exponent == 0) {
    float subnormal = std::ldexp(float(mantissa), -24);
    return sign ? -subnormal : subnormal;
  }
  if (exponent == 31)
    return bitsToFloat(sign | 0x7f800000 | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/// Rounded to nearest even; overflow gives infinity, as a GPU's conversion does.
uint16_t floatToHalf(float value) {
  uint32_t bits = floatToBits(value);
  auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x7f800000)
    return sign | (magnitude > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (magnitude >= 0x477ff000) // 65520 and above round past the largest half, 65504
    return sign | 0x7c00;
  if (magnitude < 0x38800000) // below 2^-14: a subnormal half, exact after scaling by 2^24
    return sign | static_cast<uint16_t>(std::nearbyint(bitsToFloat(magnitude) * 0x1p24f));
  uint32_t half = (magnitude - 0x38000000) >> 13, rest = magnitude & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return sign | static_cast<uint16_t>(half);
}

uint16_t floatToBf16(float value) {
  uint32_t bits = floatToBits(value);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

float loadElement(const void *base, uint64_t index, MatmulElement element) {
  uint16_t half;
  switch (element) {
  case MatmulElement::F32:
    return static_cast<const float *>(base)[index];
  case MatmulElement::F16:
    std::memcpy(&half, static_cast<const uint16_t *>(base) + index, sizeof(half));
    return halfToFloat(half);
  case MatmulElement::BF16:
    std::memcpy(&half, static_cast<const uint16_t *>(base) + index, sizeof(half));
    return bitsToFloat(uint32_t(half) << 16);
  }
  return 0;
}

void storeElement(void *base, uint64_t index, float value, MatmulElement element) {
  if (element == MatmulElement::F32) {
    static_cast<float *>(base)[index] = value;
    return;
  }
  uint16_t half = element == MatmulElement::F16 ? floatToHalf(value) : floatToBf16(value);
  std::memcpy(static_cast<uint16_t *>(base) + index, &half, sizeof(half));
}

/// Rows [begin, end) of all batches' C (row r is row r % m of batch r / m), the operands at
/// their element offsets already.
void multiply(const EmulatedMatmul &mm, const void *a, const void *b, void *c, uint64_t begin,
              uint64_t end) {
  std::vector<float> row(mm.n);
  for (uint64_t r = begin; r < end; ++r) {
    uint64_t batch = r / mm.m, i = r % mm.m;
    uint64_t baseA = batch * mm.strideA, baseB = batch * mm.strideB;
    uint64_t out = batch * mm.strideC + i * mm.ldc;
    std::fill(row.begin(), row.end(), 0.0f);
    for (uint64_t k = 0; k < mm.k; ++k) {
      float x = loadElement(a, baseA + (mm.transposeA ? k * mm.lda + i : i * mm.lda + k),
                            mm.element);
      for (uint64_t j = 0; j < mm.n; ++j)
        row[j] = std::fma(
            x,
            loadElement(b, baseB + (mm.transposeB ? j * mm.ldb + k : k * mm.ldb + j),
                        mm.element),
            row[j]);
    }
    for (uint64_t j = 0; j < mm.n; ++j) {
      float prior = mm.beta == 0.0f ? 0.0f : mm.beta * loadElement(c, out + j, mm.element);
      storeElement(c, out + j, mm.alpha * row[j] + prior, mm.element);
    }
  }
}

/// `base` advanced by `offset` elements of the product's type.
void *atElement(void *base, uint64_t offset, MatmulElement element) {
  return static_cast<char *>(base) + offset * (element == MatmulElement::F32 ? 4 : 2);
}

} // namespace

void runEmulatedCall(void *const *args, int64_t task, int64_t taskCount) {
  EmulatedCall &call = *static_cast<EmulatedCall *>(args[0]);
  if (const EmulatedMatmul *mm = call.matmul) {
    uint64_t rows = mm->batch * mm->m;
    multiply(*mm, atElement(call.params[0], mm->offsetA, mm->element),
             atElement(call.params[1], mm->offsetB, mm->element),
             atElement(call.params[2], mm->offsetC, mm->element),
             rows * static_cast<uint64_t>(task) / static_cast<uint64_t>(taskCount),
             rows * static_cast<uint64_t>(task + 1) / static_cast<uint64_t>(taskCount));
    return;
  }
  const EmulatedLaunch &launch = *call.launch;
  uint64_t blocks = launch.blockCount();
  uint64_t begin = blocks * static_cast<uint64_t>(task) / static_cast<uint64_t>(taskCount);
  uint64_t end = blocks * static_cast<uint64_t>(task + 1) / static_cast<uint64_t>(taskCount);
  std::vector<uint8_t> shared(std::max<uint32_t>(1, launch.sharedBytes));
  // Parameters, dims, shared memory, then the thread's CudaEmulatorThread (set per thread).
  std::vector<void *> kernelArgs(call.params);
  kernelArgs.push_back(const_cast<uint32_t *>(launch.dims));
  kernelArgs.push_back(shared.data());
  kernelArgs.push_back(nullptr);
  BlockRunner runner(call, launch.dims[3] * launch.dims[4] * launch.dims[5]);
  for (uint64_t block = begin; block < end && !call.failed.load(); ++block) {
    std::memset(shared.data(), kSharedFill, shared.size());
    if (!runner.run(block, kernelArgs))
      return;
  }
}

} // namespace catfish::rt
