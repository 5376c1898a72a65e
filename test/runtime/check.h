//===- check.h - the runtime tests' CHECK ----------------------*- C++ -*-===//
#ifndef CATFISH_TEST_RUNTIME_CHECK_H
#define CATFISH_TEST_RUNTIME_CHECK_H

#include <cstdio>

/// Reports a failed condition with its place and counts it in the test file's `failures`.
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (false)

#endif // CATFISH_TEST_RUNTIME_CHECK_H
