# catfish-run and catfish-inspect on the artifacts `catfish-runtime-tests --write-examples`
# writes to CATFISH_RT_TEST_WORK. Included from runtime/CMakeLists.txt.
set(W ${CATFISH_RT_TEST_WORK})

# catfish_tool_test(NAME RC REGEX [EXPECT_NOT r] [EXPECT_FILE f [EXPECT_IN_FILE r]]
#                   [EXPECT_NO_FILE f] [CLEAN_DIR d] COMMAND tool args...)
function(catfish_tool_test name rc regex)
  cmake_parse_arguments(T "" "EXPECT_NOT;EXPECT_FILE;EXPECT_IN_FILE;EXPECT_NO_FILE;CLEAN_DIR"
                        "COMMAND" ${ARGN})
  set(extra)
  foreach(key EXPECT_NOT EXPECT_FILE EXPECT_IN_FILE EXPECT_NO_FILE CLEAN_DIR)
    if(DEFINED T_${key})
      list(APPEND extra "-D${key}=${T_${key}}")
    endif()
  endforeach()
  list(GET T_COMMAND 0 tool)
  list(REMOVE_AT T_COMMAND 0)
  string(REPLACE ";" "|" args "$<TARGET_FILE:${tool}>;${T_COMMAND}")
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${args}" -DEXPECT_RC=${rc} "-DEXPECT=${regex}" ${extra}
            -P ${CATFISH_RT_TEST_DIR}/check_tool.cmake)
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED catfish_examples)
endfunction()

catfish_tool_test(inspect-add 0
  "format version: 1.*target cpu x86-64 \\(elf-shared-object, [0-9.]+ KiB\\).*kernels: 1 \\(generated 1\\).*steps: 2.*buffers: 5 \\(input 2, weight 1, arena 2\\).*arena: 7.9 KiB \\(8064 bytes\\)"
  COMMAND catfish-inspect ${W}/add.catfish)
catfish_tool_test(inspect-cuda 0 "\ntarget cuda sm_90a \\(cubin, 4 B\\)\n"
  COMMAND catfish-inspect ${W}/cuda.catfish)
catfish_tool_test(inspect-data-dependent 0
  "outputs: 1\n  0 'y': i64 2x<=6 \\(buffer 1, size of dim 1 in buffer 2\\)\n"
  COMMAND catfish-inspect ${W}/nonzero.catfish)
catfish_tool_test(inspect-damaged 1 "error: .*damaged.catfish: section 1 \\(code\\) is damaged: checksum mismatch"
  COMMAND catfish-inspect ${W}/damaged.catfish)

catfish_tool_test(run-random 0
  "note: input 'a' not given; using random data \\(seed 7\\).*output 'c': f32 1003.*min .* max .* mean"
  COMMAND catfish-run ${W}/add.catfish --seed 7 --threads 2)
catfish_tool_test(run-files 0 "output 'c': f32 1003\n  min 3 +max 4.5 +mean"
  EXPECT_NOT "note:" EXPECT_FILE ${W}/out/c.npy CLEAN_DIR ${W}/out
  COMMAND catfish-run ${W}/add.catfish --input a=${W}/a.npy --input b=${W}/b.pb --output-dir ${W}/out)
catfish_tool_test(run-odd-output-name 0 "output 'out/c:0'"
  EXPECT_FILE ${W}/odd/out_c_0.npy CLEAN_DIR ${W}/odd
  COMMAND catfish-run ${W}/odd-names.catfish --output-dir ${W}/odd)
catfish_tool_test(run-data-dependent 0
  "output 'y': i64 2x4\n  min 0  max 2  mean 0.875\n  \\[0, 0, 1, 1, 0, 2, 1, 2\\]"
  EXPECT_FILE ${W}/nonzero/y.npy EXPECT_IN_FILE "'shape': \\(2, 4\\)" CLEAN_DIR ${W}/nonzero
  COMMAND catfish-run ${W}/nonzero.catfish --input x=${W}/nonzero-x.npy --output-dir ${W}/nonzero)
catfish_tool_test(run-benchmark 0 "latency ms: min [0-9.]+  median [0-9.]+  p90 [0-9.]+  p99 [0-9.]+.*throughput: [0-9.]+ runs/s"
  COMMAND catfish-run ${W}/add.catfish --benchmark 20)
catfish_tool_test(run-unknown-input 1 "error: the model has no input 'q'; valid inputs: 'a', 'b'"
  COMMAND catfish-run ${W}/add.catfish --input q=${W}/a.npy)
catfish_tool_test(run-bad-shape 1 "error: input 'a': expected shape 1003 \\(f32\\), got 2x4"
  EXPECT_NO_FILE ${W}/bad/c.npy CLEAN_DIR ${W}/bad
  COMMAND catfish-run ${W}/add.catfish --input a=${W}/bad-shape.npy --output-dir ${W}/bad)
catfish_tool_test(run-bad-dtype 1 "error: input 'a': expected dtype f32, got f64"
  COMMAND catfish-run ${W}/add.catfish --input a=${W}/bad-dtype.npy)
catfish_tool_test(run-garbage-input 1 "error: .*garbage.npy' is not a valid .npy file"
  COMMAND catfish-run ${W}/add.catfish --input a=${W}/garbage.npy)
catfish_tool_test(run-missing-input-file 1 "error: cannot open .*nope.npy"
  COMMAND catfish-run ${W}/add.catfish --input a=${W}/nope.npy)
catfish_tool_test(run-damaged 1 "error: .*section 1 \\(code\\) is damaged: checksum mismatch"
  COMMAND catfish-run ${W}/damaged.catfish)
catfish_tool_test(run-cuda 1 "error: .*this artifact needs target cuda \\(sm_90a\\) which the CPU cannot run; no GPU here: no NVIDIA driver: cannot open /nonexistent/libcuda.so.1"
  COMMAND catfish-run ${W}/cuda.catfish)
catfish_tool_test(run-cuda-no-driver 1 "error: .*cuda.catfish: device cuda:0 is not available: no NVIDIA driver: cannot open /nonexistent/libcuda.so.1"
  COMMAND catfish-run ${W}/cuda.catfish --device cuda)
catfish_tool_test(run-cuda-cpu-code 1 "error: .*add.catfish: kernel 0 \\(catfish_test_add_f32\\) is code for target cpu; device cuda:1 runs CUDA plans only"
  COMMAND catfish-run ${W}/add.catfish --device cuda:1 --no-cuda-graph)
catfish_tool_test(run-cuda-bad-ordinal 1 "error: unknown device 'cuda:one' \\(devices: auto, cpu, cuda, cuda:N, cuda-emulator\\)"
  COMMAND catfish-run ${W}/add.catfish --device cuda:one)
# Tests must not depend on whether the machine has a GPU: no driver opens, except the stub.
set_tests_properties(run-cuda run-cuda-no-driver run-cuda-cpu-code PROPERTIES
  ENVIRONMENT CATFISH_CUDA_DRIVER=/nonexistent/libcuda.so.1)
find_file(CATFISH_CUDA_STUB_DRIVER libcuda.so
  HINTS $ENV{CUDA_HOME}/lib64/stubs /usr/local/cuda/lib64/stubs NO_DEFAULT_PATH)
if(CATFISH_CUDA_STUB_DRIVER AND CATFISH_RUNTIME_CUDA)
  catfish_tool_test(run-cuda-stub-driver 1 "error: .*device cuda:0 is not available: the NVIDIA driver .*stubs/libcuda.so does not start: cuInit: .*\\(this is the toolkit's stub, not a driver\\)"
    COMMAND catfish-run ${W}/cuda.catfish --device cuda)
  set_tests_properties(run-cuda-stub-driver PROPERTIES
    ENVIRONMENT CATFISH_CUDA_DRIVER=${CATFISH_CUDA_STUB_DRIVER})
endif()
# The runtime opens CUDA libraries at run time and links none (nor LLVM/MLIR).
add_test(NAME runtime-links-no-cuda
  COMMAND ${CMAKE_COMMAND} "-DFILES=$<TARGET_FILE:catfish-run>|$<TARGET_FILE:catfish-inspect>"
          -P ${CATFISH_RT_TEST_DIR}/check_no_cuda_link.cmake)
catfish_tool_test(run-bad-option 1 "error: unknown option '--frobnicate'"
  COMMAND catfish-run ${W}/add.catfish --frobnicate)
