/* A stand-in for libcuda.so.1 that runs on the host, for testing the runtime's CUDA backend
 * without a GPU (CATFISH_CUDA_DRIVER points at it). Device memory is host memory; a module is
 * any blob; a function is the host code of the same name in the library named by
 * FAKE_CUDA_KERNELS (the CUDA emulator's calling convention, artifact_format.h), with
 * `<name>_param_count` giving its parameter count; a launch runs its threads one after another
 * (so only kernels without barriers or shuffles). Stream capture records launches and copies,
 * with their parameter values, into a graph that cuGraphLaunch replays, as CUDA does. The GPU
 * is "Fake GPU" of compute capability FAKE_CUDA_ARCH (default 90), read at every query.
 * fake_cuda_counters() reports what happened, for the tests' checks. */
#include <cuda.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxParams = 16, kMaxNodes = 256, kMaxAllocations = 256 };

typedef void (*ThreadFn)(void *const *args, int64_t block, int64_t thread);

struct CUfunc_st {
  ThreadFn fn;
  unsigned params;
};

typedef struct {
  int isCopy;
  struct CUfunc_st *function;
  unsigned dims[6];
  CUdeviceptr values[kMaxParams];
  CUdeviceptr dst, src;
  size_t bytes;
} Node;

struct CUgraph_st {
  Node nodes[kMaxNodes];
  int count;
};

static struct {
  int launches, graphLaunches, captures, liveAllocations;
  CUstream capturing;
  struct CUgraph_st *recording;
  void *allocations[kMaxAllocations];
  size_t sizes[kMaxAllocations];
} state;

void fake_cuda_counters(int *launches, int *graphLaunches, int *captures, int *liveAllocations) {
  *launches = state.launches;
  *graphLaunches = state.graphLaunches;
  *captures = state.captures;
  *liveAllocations = state.liveAllocations;
}

static void execute(const Node *node) {
  if (node->isCopy) {
    memcpy((void *)node->dst, (const void *)node->src, node->bytes);
    return;
  }
  void *args[kMaxParams + 3];
  char shared[16];
  unsigned dims[6];
  memcpy(dims, node->dims, sizeof dims);
  for (unsigned i = 0; i < node->function->params; ++i)
    args[i] = (void *)node->values[i];
  args[node->function->params] = dims;
  args[node->function->params + 1] = shared;
  args[node->function->params + 2] = NULL;
  int64_t blocks = (int64_t)node->dims[0] * node->dims[1] * node->dims[2];
  int64_t threads = (int64_t)node->dims[3] * node->dims[4] * node->dims[5];
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t t = 0; t < threads; ++t)
      node->function->fn((void *const *)args, b, t);
}

static CUresult enqueue(const Node *node, CUstream stream) {
  if (state.capturing && stream == state.capturing) {
    if (state.recording->count == kMaxNodes)
      return CUDA_ERROR_OUT_OF_MEMORY;
    state.recording->nodes[state.recording->count++] = *node;
    return CUDA_SUCCESS;
  }
  execute(node);
  return CUDA_SUCCESS;
}

static int architecture(void) {
  const char *arch = getenv("FAKE_CUDA_ARCH");
  return arch && *arch ? atoi(arch) : 90;
}

static CUresult ok(void) { return CUDA_SUCCESS; }

CUresult cuInit(unsigned flags) { return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuGetErrorName(CUresult error, const char **name) {
  *name = error == CUDA_ERROR_NOT_FOUND       ? "CUDA_ERROR_NOT_FOUND"
          : error == CUDA_ERROR_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE"
                                              : "CUDA_ERROR_UNKNOWN";
  return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult error, const char **text) {
  (void)error;
  *text = "fake driver";
  return CUDA_SUCCESS;
}
static CUresult driverGetVersion(int *version) {
  *version = CUDA_VERSION;
  return CUDA_SUCCESS;
}
static CUresult deviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}
static CUresult deviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
static CUresult deviceGetName(char *name, int length, CUdevice device) {
  (void)device;
  strncpy(name, "Fake GPU", (size_t)length);
  return CUDA_SUCCESS;
}
static CUresult deviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice device) {
  (void)device;
  *value = attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR   ? architecture() / 10
           : attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ? architecture() % 10
           : attribute == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT     ? 4
                                                                       : 0;
  return CUDA_SUCCESS;
}
static int theContext;
static CUresult primaryCtxRetain(CUcontext *context, CUdevice device) {
  (void)device;
  *context = (CUcontext)&theContext;
  return CUDA_SUCCESS;
}
static CUresult ctxGetCurrent(CUcontext *context) {
  *context = (CUcontext)&theContext;
  return CUDA_SUCCESS;
}
/* A module owns the functions taken from it; unloading it frees them, as a real driver does. */
enum { kMaxFunctions = 256 };
struct FakeModule {
  struct CUfunc_st *functions[kMaxFunctions];
  int functionCount;
};
static CUresult moduleLoadDataEx(CUmodule *module, const void *image, unsigned count,
                                 CUjit_option *options, void **values) {
  (void)image, (void)count, (void)options, (void)values;
  struct FakeModule *loaded = calloc(1, sizeof(*loaded));
  if (!loaded)
    return CUDA_ERROR_OUT_OF_MEMORY;
  *module = (CUmodule)loaded;
  return CUDA_SUCCESS;
}
static CUresult moduleUnload(CUmodule module) {
  struct FakeModule *loaded = (struct FakeModule *)module;
  for (int i = 0; i < loaded->functionCount; ++i)
    free(loaded->functions[i]);
  free(loaded);
  return CUDA_SUCCESS;
}
static CUresult moduleGetFunction(CUfunction *function, CUmodule module, const char *name) {
  struct FakeModule *loaded = (struct FakeModule *)module;
  static void *kernels;
  if (!kernels && !(kernels = dlopen(getenv("FAKE_CUDA_KERNELS"), RTLD_NOW | RTLD_LOCAL)))
    return CUDA_ERROR_FILE_NOT_FOUND;
  char countName[256];
  snprintf(countName, sizeof(countName), "%s_param_count", name);
  ThreadFn fn = (ThreadFn)dlsym(kernels, name);
  const unsigned *params = (const unsigned *)dlsym(kernels, countName);
  if (!fn || !params || *params > kMaxParams)
    return CUDA_ERROR_NOT_FOUND;
  if (loaded->functionCount == kMaxFunctions)
    return CUDA_ERROR_OUT_OF_MEMORY;
  struct CUfunc_st *f = malloc(sizeof(*f));
  if (!f)
    return CUDA_ERROR_OUT_OF_MEMORY;
  loaded->functions[loaded->functionCount++] = f;
  f->fn = fn;
  f->params = *params;
  *function = f;
  return CUDA_SUCCESS;
}
static CUresult memAlloc(CUdeviceptr *pointer, size_t bytes) {
  void *memory = aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  for (int i = 0; i < kMaxAllocations; ++i)
    if (!state.allocations[i]) {
      state.allocations[i] = memory;
      state.sizes[i] = bytes;
      ++state.liveAllocations;
      *pointer = (CUdeviceptr)memory;
      return CUDA_SUCCESS;
    }
  free(memory);
  return CUDA_ERROR_OUT_OF_MEMORY;
}
/* Device memory for the tests to bind. */
CUdeviceptr fake_cuda_alloc(size_t bytes) {
  CUdeviceptr pointer = 0;
  return memAlloc(&pointer, bytes) == CUDA_SUCCESS ? pointer : 0;
}
static CUresult memFree(CUdeviceptr pointer) {
  for (int i = 0; i < kMaxAllocations; ++i)
    if (state.allocations[i] == (void *)pointer) {
      free(state.allocations[i]);
      state.allocations[i] = NULL;
      --state.liveAllocations;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}
void fake_cuda_free(CUdeviceptr pointer) { memFree(pointer); }
static CUresult memcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  memcpy((void *)dst, src, bytes);
  return CUDA_SUCCESS;
}
static CUresult memcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes, CUstream s) {
  (void)s;
  return memcpyHtoD(dst, src, bytes);
}
static CUresult memcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes, CUstream s) {
  (void)s;
  memcpy(dst, (const void *)src, bytes);
  return CUDA_SUCCESS;
}
static CUresult memcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s) {
  Node node = {0};
  node.isCopy = 1, node.dst = dst, node.src = src, node.bytes = bytes;
  return enqueue(&node, s);
}
static CUresult pointerGetAttribute(void *data, CUpointer_attribute attribute,
                                    CUdeviceptr pointer) {
  for (int i = 0; i < kMaxAllocations; ++i)
    if (state.allocations[i] && (char *)pointer >= (char *)state.allocations[i] &&
        (char *)pointer < (char *)state.allocations[i] + state.sizes[i]) {
      if (attribute != CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL)
        return CUDA_ERROR_INVALID_VALUE;
      *(int *)data = 0;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}
static int streams;
static CUresult streamCreate(CUstream *stream, unsigned flags) {
  (void)flags;
  *stream = (CUstream)(uintptr_t)(0x1000 + 16 * ++streams);
  return CUDA_SUCCESS;
}
static CUresult streamBeginCapture(CUstream stream, CUstreamCaptureMode mode) {
  (void)mode;
  if (state.capturing)
    return CUDA_ERROR_INVALID_VALUE;
  state.capturing = stream;
  state.recording = calloc(1, sizeof(struct CUgraph_st));
  ++state.captures;
  return CUDA_SUCCESS;
}
static CUresult streamEndCapture(CUstream stream, CUgraph *graph) {
  if (stream != state.capturing)
    return CUDA_ERROR_INVALID_VALUE;
  *graph = state.recording;
  state.capturing = NULL;
  state.recording = NULL;
  return CUDA_SUCCESS;
}
static CUresult graphInstantiate(CUgraphExec *exec, CUgraph graph, unsigned long long flags) {
  (void)flags;
  struct CUgraph_st *copy = malloc(sizeof(*copy));
  *copy = *graph;
  *exec = (CUgraphExec)copy;
  return CUDA_SUCCESS;
}
static CUresult graphLaunch(CUgraphExec exec, CUstream stream) {
  (void)stream;
  const struct CUgraph_st *graph = (const struct CUgraph_st *)exec;
  ++state.graphLaunches;
  for (int i = 0; i < graph->count; ++i)
    execute(&graph->nodes[i]);
  return CUDA_SUCCESS;
}
static CUresult graphDestroy(CUgraph graph) {
  free(graph);
  return CUDA_SUCCESS;
}
static CUresult graphExecDestroy(CUgraphExec exec) {
  free(exec);
  return CUDA_SUCCESS;
}
static int theEvent;
static CUresult eventCreate(CUevent *event, unsigned flags) {
  (void)flags;
  *event = (CUevent)&theEvent;
  return CUDA_SUCCESS;
}
static CUresult eventElapsedTime(float *ms, CUevent start, CUevent end) {
  (void)start, (void)end;
  *ms = 0.25f;
  return CUDA_SUCCESS;
}
static CUresult launchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned shared, CUstream stream,
                             void **params, void **extra) {
  (void)shared, (void)extra;
  Node node = {0};
  node.function = f;
  unsigned dims[6] = {gx, gy, gz, bx, by, bz};
  memcpy(node.dims, dims, sizeof(dims));
  for (unsigned i = 0; i < f->params; ++i)
    node.values[i] = *(CUdeviceptr *)params[i];
  if (!(state.capturing && stream == state.capturing))
    ++state.launches;
  return enqueue(&node, stream);
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *status) {
  (void)version, (void)flags;
  static const struct {
    const char *name;
    void *fn;
  } table[] = {
      {"cuInit", (void *)cuInit},
      {"cuDriverGetVersion", (void *)driverGetVersion},
      {"cuGetErrorName", (void *)cuGetErrorName},
      {"cuGetErrorString", (void *)cuGetErrorString},
      {"cuDeviceGetCount", (void *)deviceGetCount},
      {"cuDeviceGet", (void *)deviceGet},
      {"cuDeviceGetName", (void *)deviceGetName},
      {"cuDeviceGetAttribute", (void *)deviceGetAttribute},
      {"cuDevicePrimaryCtxRetain", (void *)primaryCtxRetain},
      {"cuDevicePrimaryCtxRelease", (void *)ok},
      {"cuCtxSetCurrent", (void *)ok},
      {"cuCtxGetCurrent", (void *)ctxGetCurrent},
      {"cuModuleLoadDataEx", (void *)moduleLoadDataEx},
      {"cuModuleUnload", (void *)moduleUnload},
      {"cuModuleGetFunction", (void *)moduleGetFunction},
      {"cuFuncSetAttribute", (void *)ok},
      {"cuMemAlloc", (void *)memAlloc},
      {"cuMemFree", (void *)memFree},
      {"cuMemHostAlloc", (void *)ok},
      {"cuMemFreeHost", (void *)ok},
      {"cuMemcpyHtoD", (void *)memcpyHtoD},
      {"cuMemcpyHtoDAsync", (void *)memcpyHtoDAsync},
      {"cuMemcpyDtoHAsync", (void *)memcpyDtoHAsync},
      {"cuMemcpyDtoDAsync", (void *)memcpyDtoDAsync},
      {"cuPointerGetAttribute", (void *)pointerGetAttribute},
      {"cuStreamCreate", (void *)streamCreate},
      {"cuStreamDestroy", (void *)ok},
      {"cuStreamSynchronize", (void *)ok},
      {"cuStreamBeginCapture", (void *)streamBeginCapture},
      {"cuStreamEndCapture", (void *)streamEndCapture},
      {"cuGraphInstantiateWithFlags", (void *)graphInstantiate},
      {"cuGraphLaunch", (void *)graphLaunch},
      {"cuGraphDestroy", (void *)graphDestroy},
      {"cuGraphExecDestroy", (void *)graphExecDestroy},
      {"cuEventCreate", (void *)eventCreate},
      {"cuEventDestroy", (void *)ok},
      {"cuEventRecord", (void *)ok},
      {"cuEventSynchronize", (void *)ok},
      {"cuEventElapsedTime", (void *)eventElapsedTime},
      {"cuLaunchKernel", (void *)launchKernel},
  };
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); ++i)
    if (strcmp(table[i].name, symbol) == 0) {
      *pfn = table[i].fn;
      *status = CU_GET_PROC_ADDRESS_SUCCESS;
      return CUDA_SUCCESS;
    }
  *pfn = NULL;
  *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  return CUDA_ERROR_NOT_FOUND;
}
