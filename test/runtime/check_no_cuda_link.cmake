# Fails if ldd shows a CUDA, LLVM or MLIR library among the dependencies of any of FILES ("a|b").
#   cmake -DFILES="a|b" -P check_no_cuda_link.cmake
string(REPLACE "|" ";" FILES "${FILES}")
foreach(file ${FILES})
  execute_process(COMMAND ldd ${file} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ldd ${file} failed (${rc}): ${err}")
  endif()
  if(out MATCHES "(libcuda|libcudart|libcublas|libcudnn|libnvrtc|libLLVM|libMLIR)[^\n]*")
    message(FATAL_ERROR "${file} links ${CMAKE_MATCH_0}:\n${out}")
  endif()
  message(STATUS "${file}: no CUDA, LLVM or MLIR library")
endforeach()
