/* Host code of CUDA functions as the CUDA emulator runs it (artifact_format.h: one call per
 * thread; args = parameters, dims, shared memory, the thread's CudaEmulatorThread; task = the
 * linear block, taskCount = the linear thread). Each reads x and writes y, 128 threads a block. */
#include <stdint.h>
#include <string.h>

typedef struct Thread Thread;
struct Thread {
  void (*barrier)(Thread *self);
  uint64_t (*shuffle)(Thread *self, uint32_t value, uint32_t offset, uint32_t width,
                      uint32_t mode);
};

#define kThreads 128

/* y = x with each block's elements reversed, through shared memory. */
static void reverse(void *const *args, int64_t block, int64_t thread, int synchronize) {
  const float *x = (const float *)args[0];
  float *y = (float *)args[1];
  float *shared = (float *)args[3];
  Thread *self = (Thread *)args[4];
  shared[thread] = x[block * kThreads + thread];
  if (synchronize)
    self->barrier(self);
  y[block * kThreads + thread] = shared[kThreads - 1 - thread];
}

void catfish_test_reverse(void *const *args, int64_t block, int64_t thread) {
  reverse(args, block, thread, 1);
}

/* The same without the barrier: threads read slots others have not written yet. */
void catfish_test_reverse_unsynchronized(void *const *args, int64_t block, int64_t thread) {
  reverse(args, block, thread, 0);
}

/* y[i] = the sum of x over i's warp, by xor shuffles (mode 0). */
void catfish_test_warp_sum(void *const *args, int64_t block, int64_t thread) {
  const float *x = (const float *)args[0];
  float *y = (float *)args[1];
  Thread *self = (Thread *)args[4];
  float value = x[block * kThreads + thread];
  for (uint32_t offset = 16; offset >= 1; offset /= 2) {
    uint32_t bits, other;
    memcpy(&bits, &value, sizeof(bits));
    other = (uint32_t)self->shuffle(self, bits, offset, 32, 0);
    float partner;
    memcpy(&partner, &other, sizeof(partner));
    value += partner;
  }
  y[block * kThreads + thread] = value;
}

/* Even lanes wait at a barrier, odd ones at a shuffle: a GPU would hang. */
void catfish_test_divergent(void *const *args, int64_t block, int64_t thread) {
  Thread *self = (Thread *)args[4];
  if (thread % 2 == 0)
    self->barrier(self);
  else
    self->shuffle(self, 0, 1, 32, 0);
  ((float *)args[1])[block * kThreads + thread] = 0.0f;
}

/* y[i] = 2 x[i] + w[i], a thread per element and no barriers (args: x, w, y, dims); the fake
 * CUDA driver (fake_cuda_driver.c) runs it, knowing its parameter count from the next line. */
const unsigned catfish_test_axpw_param_count = 3;
void catfish_test_axpw(void *const *args, int64_t block, int64_t thread) {
  const float *x = (const float *)args[0];
  const float *w = (const float *)args[1];
  float *y = (float *)args[2];
  const uint32_t *dims = (const uint32_t *)args[3];
  int64_t i = block * dims[3] + thread;
  y[i] = 2 * x[i] + w[i];
}

/* NonZero of x, f32 2x3 (args: x, y, count): y, i64 [2, <=6] row-major, gets the row indices
 * then the column indices of the nonzero elements, padded with -1, and *count their number.
 * One thread: with one block of one thread the CUDA emulator's convention is the CPU kernel
 * ABI, so the tests run it as CPU code, on the emulator and on the fake CUDA driver. */
const unsigned catfish_test_nonzero_param_count = 3;
void catfish_test_nonzero(void *const *args, int64_t block, int64_t thread) {
  (void)block, (void)thread;
  const float *x = (const float *)args[0];
  int64_t *y = (int64_t *)args[1];
  int64_t count = 0;
  for (int64_t i = 0; i < 6; ++i)
    if (x[i] != 0.0f) {
      y[count] = i / 3;
      y[6 + count] = i % 3;
      ++count;
    }
  for (int64_t i = count; i < 6; ++i)
    y[i] = y[6 + i] = -1;
  *(int64_t *)args[2] = count;
}

/* *size = *value (args: value, size): a size of the test's choosing, right or wrong. */
const unsigned catfish_test_set_size_param_count = 2;
void catfish_test_set_size(void *const *args, int64_t block, int64_t thread) {
  (void)block, (void)thread;
  *(int64_t *)args[1] = *(const int64_t *)args[0];
}
