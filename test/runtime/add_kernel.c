/* The CPU code of the runtime tests' artifacts: what the compiler would generate for a fused
 * element-wise add of two f32 vectors of kAddLength elements, split into taskCount parts. */
#include <stdint.h>

#define kAddLength 1003

void catfish_test_add_f32(void *const *args, int64_t task, int64_t taskCount) {
  const float *lhs = (const float *)args[0];
  const float *rhs = (const float *)args[1];
  float *result = (float *)args[2];
  int64_t begin = kAddLength * task / taskCount;
  int64_t end = kAddLength * (task + 1) / taskCount;
  for (int64_t i = begin; i < end; ++i)
    result[i] = lhs[i] + rhs[i];
}
