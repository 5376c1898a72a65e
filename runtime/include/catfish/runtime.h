/*===- catfish/runtime.h - the Catfish runtime C API -----------------------===*
 *
 * Loads a .catfish artifact (docs/artifact-format.md) and runs it. Plain C; no exception, LLVM or
 * MLIR type crosses this boundary. docs/runtime.md describes the API with examples.
 *
 * Conventions:
 *   - Every fallible function returns a `catfish_status_t *`: NULL means success, anything else
 *     is an error the caller owns and frees with catfish_status_free().
 *   - Output parameters are named `out_...` and come last. On error they are left untouched.
 *   - Objects come in create/release pairs; releasing NULL is a no-op. Other functions require
 *     non-NULL handles (fallible ones report NULL as CATFISH_STATUS_INVALID_ARGUMENT).
 *   - Strings and arrays returned by introspection functions belong to the model and stay valid
 *     until catfish_model_release().
 *
 *===----------------------------------------------------------------------===*/
#ifndef CATFISH_RUNTIME_H
#define CATFISH_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

typedef enum catfish_status_code_e {
  CATFISH_STATUS_OK = 0,
  /* A bad argument: a NULL pointer, an index out of range, a wrong byte size. */
  CATFISH_STATUS_INVALID_ARGUMENT = 1,
  /* A name that does not exist (catfish_model_find_input). */
  CATFISH_STATUS_NOT_FOUND = 2,
  /* The artifact file cannot be opened or read. */
  CATFISH_STATUS_IO_ERROR = 3,
  /* The file is not an artifact, is truncated or damaged, or its manifest is inconsistent. */
  CATFISH_STATUS_DATA_LOSS = 4,
  /* A valid artifact this runtime cannot run: a newer format version, a GPU target, a CPU
   * arch this machine lacks. */
  CATFISH_STATUS_UNSUPPORTED = 5,
  /* Out of memory, or an arena larger than this machine's memory. */
  CATFISH_STATUS_RESOURCE_EXHAUSTED = 6,
  /* A call in the wrong state: running before every input is set, reading outputs before a
   * run. */
  CATFISH_STATUS_FAILED_PRECONDITION = 7,
  /* The system refused something it should not have (dlopen of a verified code section), or a
   * run produced what no correct kernel does (a data-dependent size outside its bound). */
  CATFISH_STATUS_INTERNAL = 8,
} catfish_status_code_t;

/* An error: a code and a message. Owned by whoever received it; free with
 * catfish_status_free(). Immutable, so it may be read from any thread. */
typedef struct catfish_status_t catfish_status_t;

/* The code of `status`; CATFISH_STATUS_OK for NULL. */
catfish_status_code_t catfish_status_code(const catfish_status_t *status);
/* The message of `status` (one line, no trailing newline; "" for NULL). Valid until the status
 * is freed. */
const char *catfish_status_message(const catfish_status_t *status);
/* A short name of `code`, e.g. "DATA_LOSS". Static storage. */
const char *catfish_status_code_name(catfish_status_code_t code);
/* Frees `status`; NULL is a no-op. */
void catfish_status_free(catfish_status_t *status);

/*===----------------------------------------------------------------------===*
 * Element types
 *===----------------------------------------------------------------------===*/

/* Values equal the schema's DType (runtime/schema/artifact.fbs); they are stored in files. */
typedef enum catfish_dtype_e {
  CATFISH_DTYPE_F32 = 0,
  CATFISH_DTYPE_F16 = 1,
  CATFISH_DTYPE_BF16 = 2,
  CATFISH_DTYPE_F64 = 3,
  CATFISH_DTYPE_I64 = 4,
  CATFISH_DTYPE_I32 = 5,
  CATFISH_DTYPE_I16 = 6,
  CATFISH_DTYPE_I8 = 7,
  CATFISH_DTYPE_U64 = 8,
  CATFISH_DTYPE_U32 = 9,
  CATFISH_DTYPE_U16 = 10,
  CATFISH_DTYPE_U8 = 11,
  CATFISH_DTYPE_BOOL = 12,
  CATFISH_DTYPE_F8E4M3FN = 13,
  CATFISH_DTYPE_F8E5M2 = 14,
  /* Signed 4-bit, two per byte, the element with the even index in the low nibble. */
  CATFISH_DTYPE_I4 = 15,
  /* The float8 variants without negative zero or infinities, NaN being 0x80. */
  CATFISH_DTYPE_F8E4M3FNUZ = 16,
  CATFISH_DTYPE_F8E5M2FNUZ = 17,
  /* Unsigned 4-bit and the 4-bit float E2M1, packed as CATFISH_DTYPE_I4. */
  CATFISH_DTYPE_U4 = 18,
  CATFISH_DTYPE_F4E2M1 = 19,
} catfish_dtype_t;

/* A short lower-case name ("f32", "bf16", "bool", "i4"); "?" for an unknown value. */
const char *catfish_dtype_name(catfish_dtype_t dtype);
/* Bits per element (4 for I4, 8 for BOOL); 0 for an unknown value. */
size_t catfish_dtype_bit_width(catfish_dtype_t dtype);

/*===----------------------------------------------------------------------===*
 * Model
 *===----------------------------------------------------------------------===*/

/* A loaded, verified artifact: the mapped file, the loaded CPU code and the parsed manifest.
 * Immutable after catfish_model_load() returns, so every function taking a `const
 * catfish_model_t *` may be called from any number of threads at once, and one model serves any
 * number of concurrent sessions. catfish_model_release() must not race with any other use and
 * must come after every session of the model is released. */
typedef struct catfish_model_t catfish_model_t;

typedef struct catfish_model_options_t {
  /* Threads a session uses to run the tasks of one step (the calling thread included). 0 means
   * the machine's hardware concurrency. */
  uint32_t num_threads;
  /* Where the steps run: NULL or "auto" (the artifact's CUDA plan on GPU 0 when the artifact has
   * one and the machine a usable GPU, else its CPU code), "cpu", "cuda" (= "cuda:0"), "cuda:N"
   * (GPU N), or "cuda-emulator" (the artifact's CUDA plan executed on the host, step by step and
   * launch by launch, by the host code `catfish-compile --cuda-emulation` adds). */
  const char *device;
  /* CUDA devices: capture the plan into a CUDA Graph on a session's first run and replay it
   * (nonzero, the default), or launch every step on each run (0). */
  int cuda_graphs;
} catfish_model_options_t;

/* Sets the defaults (num_threads = 0, device = NULL, cuda_graphs = 1). Call it before setting
 * fields, so that fields added later get their defaults. */
void catfish_model_options_initialize(catfish_model_options_t *out_options);

/* Maps the artifact at `path`, verifies it completely (checksums, manifest, bounds), loads its CPU
 * code and resolves every kernel symbol. Errors name the file and what is wrong. Equivalent to
 * catfish_model_load_with_options() with default options. */
catfish_status_t *catfish_model_load(const char *path, catfish_model_t **out_model);
/* As catfish_model_load(); `options` may be NULL for the defaults. */
catfish_status_t *catfish_model_load_with_options(const char *path,
                                                  const catfish_model_options_t *options,
                                                  catfish_model_t **out_model);
/* As catfish_model_load_with_options(), from the `size` bytes of an artifact at `data` (an
 * artifact embedded in a program, or received over a network). The runtime copies them; the
 * caller may free `data` as soon as this returns. Messages call the artifact "<memory>". */
catfish_status_t *catfish_model_load_from_memory(const void *data, size_t size,
                                                 const catfish_model_options_t *options,
                                                 catfish_model_t **out_model);
/* Unmaps the file and unloads the code. NULL is a no-op. */
void catfish_model_release(catfish_model_t *model);

/* One graph input or output. Pointers belong to the model. */
typedef struct catfish_tensor_info_t {
  const char *name;
  catfish_dtype_t dtype;
  size_t rank;
  /* `rank` dims: the static shape, or for a data-dependent dim its upper bound. */
  const int64_t *dims;
  /* Bytes of the tensor's data (dims product times element size, I4 rounded up): the upper
   * bound's byte size when some dim is data-dependent. */
  size_t byte_size;
  /* Bit d set: dim d of this output has a size known only after a run (NonZero, Unique, ...)
   * and dims[d] is its upper bound; catfish_session_output_shape() gives the actual size. 0 for
   * every static tensor (every input). */
  uint64_t data_dependent_dims;
} catfish_tensor_info_t;

size_t catfish_model_input_count(const catfish_model_t *model);
size_t catfish_model_output_count(const catfish_model_t *model);
catfish_status_t *catfish_model_input_info(const catfish_model_t *model, size_t index,
                                           catfish_tensor_info_t *out_info);
catfish_status_t *catfish_model_output_info(const catfish_model_t *model, size_t index,
                                            catfish_tensor_info_t *out_info);
/* The index of the input or output called `name`; CATFISH_STATUS_NOT_FOUND (with the valid
 * names in the message) if there is none. */
catfish_status_t *catfish_model_find_input(const catfish_model_t *model, const char *name,
                                           size_t *out_index);
catfish_status_t *catfish_model_find_output(const catfish_model_t *model, const char *name,
                                            size_t *out_index);

/* One code target of the artifact. Pointers belong to the model. */
typedef struct catfish_target_info_t {
  /* "cpu" or "cuda". */
  const char *name;
  /* "x86-64-v3", "sm_90a", ...; "" if the manifest has none. */
  const char *arch;
  /* "elf-shared-object", "cubin", "ptx"; "" if the manifest has none. */
  const char *format;
  /* Bytes of the target's code section. */
  uint64_t code_size;
} catfish_target_info_t;

size_t catfish_model_target_count(const catfish_model_t *model);
catfish_status_t *catfish_model_target_info(const catfish_model_t *model, size_t index,
                                            catfish_target_info_t *out_info);

/* The artifact's format version (catfish::artifact::kFormatVersion when written). */
uint32_t catfish_model_format_version(const catfish_model_t *model);
/* Manifest strings; "" when the manifest leaves them out. */
const char *catfish_model_compiler_version(const catfish_model_t *model);
const char *catfish_model_sha256(const catfish_model_t *model);
const char *catfish_model_name(const catfish_model_t *model);
size_t catfish_model_kernel_count(const catfish_model_t *model);
size_t catfish_model_step_count(const catfish_model_t *model);
/* Bytes of scratch memory each session allocates. */
uint64_t catfish_model_arena_size(const catfish_model_t *model);
/* Bytes of the weights section (mapped from the file, shared by all sessions). */
uint64_t catfish_model_weights_size(const catfish_model_t *model);
/* The threads a session of this model uses (the resolved num_threads option). */
uint32_t catfish_model_num_threads(const catfish_model_t *model);
/* The device the model's steps run on: "cpu", "cuda:N" or "cuda-emulator". */
const char *catfish_model_device(const catfish_model_t *model);
/* For a CUDA device, the GPU and the code it runs ("NVIDIA H200 (sm_90, 132 SMs), code: cubin
 * sm_90a"); on the CPU, which of the artifact's CPU codes it runs, the best this machine
 * supports ("x86-64-v4 code (the artifact has x86-64-v3, x86-64-v4)"); "" otherwise. */
const char *catfish_model_device_description(const catfish_model_t *model);

/*===----------------------------------------------------------------------===*
 * Session
 *===----------------------------------------------------------------------===*/

/* One execution context of a model: its arena, its copies of the inputs, its kernel argument
 * tables and its worker threads. Not thread-safe: calls on one session must not overlap (use
 * one session per thread). Different sessions, even of the same model, are independent and may
 * run concurrently. */
typedef struct catfish_session_t catfish_session_t;

/* Allocates the session's arena (64-byte aligned) and input storage, builds its argument tables
 * and starts its worker threads (num_threads - 1 of them, only if some kernel splits its work).
 * The model must outlive the session. */
catfish_status_t *catfish_session_create(const catfish_model_t *model,
                                         catfish_session_t **out_session);
/* Stops the workers and frees the session. NULL is a no-op. */
void catfish_session_release(catfish_session_t *session);

/* Copies `byte_size` bytes from `data` into the session's storage for input `index`; the caller
 * may reuse `data` as soon as this returns. `byte_size` must equal the input's byte size
 * (CATFISH_STATUS_INVALID_ARGUMENT naming the input and both sizes otherwise). An input keeps its
 * value across runs until it is set again. */
catfish_status_t *catfish_session_set_input(catfish_session_t *session, size_t index,
                                            const void *data, size_t byte_size);
/* Runs every step in order. Every input must have been set
 * (CATFISH_STATUS_FAILED_PRECONDITION otherwise). */
catfish_status_t *catfish_session_run(catfish_session_t *session);
/* The data of output `index` after the last run, and its byte size (on a CUDA device, copied
 * from the GPU on the first ask after each run, so only the outputs asked for travel). Valid until the next
 * catfish_session_set_input(), catfish_session_run() or catfish_session_release() on this
 * session. CATFISH_STATUS_FAILED_PRECONDITION before the first successful run. An output with
 * data-dependent dims comes compacted to its actual shape (row-major, a copy the session owns)
 * with the actual byte size. */
catfish_status_t *catfish_session_output(const catfish_session_t *session, size_t index,
                                         const void **out_data, size_t *out_byte_size);
/* Writes the `rank` actual dims of output `index` after the last run to `out_dims` (the static
 * dims for a static output); `capacity` entries must hold them (CATFISH_STATUS_INVALID_ARGUMENT
 * naming the rank otherwise). CATFISH_STATUS_FAILED_PRECONDITION before the first successful
 * run. A data-dependent size outside [0, bound] fails the run with CATFISH_STATUS_INTERNAL (a
 * wrong kernel or a damaged artifact); on a CUDA device, where sizes travel with their output,
 * this call and catfish_session_output() report it instead. */
catfish_status_t *catfish_session_output_shape(const catfish_session_t *session, size_t index,
                                               int64_t *out_dims, size_t capacity);
/* Runs every step like catfish_session_run() but may return before they finish: on a CUDA
 * device it enqueues the plan on the session's stream and returns; catfish_session_wait() waits
 * for it (errors of the enqueued work surface there). On the CPU devices it runs to completion.
 * Until the wait, only catfish_session_wait() may be called on the session; set_input waits
 * for the run itself. */
catfish_status_t *catfish_session_run_async(catfish_session_t *session);
/* Waits for the session's last run; OK at once on the CPU devices or with nothing enqueued. */
catfish_status_t *catfish_session_wait(catfish_session_t *session);

/* CUDA devices only (CATFISH_STATUS_FAILED_PRECONDITION elsewhere). */

/* Runs go on `stream` (a CUstream of the model's GPU, in its primary context) from now on, or
 * on the session's own stream for NULL. Waits for the session's work on its previous stream. */
catfish_status_t *catfish_session_set_stream(catfish_session_t *session, void *stream);
/* Zero copy: the plan reads input `index` from (writes output `index` to) `device_ptr`, device
 * memory of the model's GPU (a CUdeviceptr), 64-byte aligned, of exactly the tensor's
 * `byte_size`, on every later run; `device_ptr` 0 undoes it, and so does set_input for an
 * input. The memory must hold the input (stay valid for the output) while a run executes.
 * Packed 4-bit tensors and outputs with data-dependent dims cannot be bound. A bound output is
 * not readable through catfish_session_output(). */
catfish_status_t *catfish_session_bind_input_device(catfish_session_t *session, size_t index,
                                                    uint64_t device_ptr, size_t byte_size);
catfish_status_t *catfish_session_bind_output_device(catfish_session_t *session, size_t index,
                                                     uint64_t device_ptr, size_t byte_size);
/* GPU milliseconds of the last run's plan (CUDA events around it; input and output copies
 * excluded). Waits for the run. */
catfish_status_t *catfish_session_gpu_time_ms(catfish_session_t *session, float *out_ms);

/* The session's model. */
const catfish_model_t *catfish_session_model(const catfish_session_t *session);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CATFISH_RUNTIME_H */
