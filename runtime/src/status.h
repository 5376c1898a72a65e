//===- status.h - building catfish_status_t values --------------*- C++ -*-===//
//
// The runtime's one error type is the C API's catfish_status_t; internal functions return it
// too (NULL = OK), so errors pass through unchanged to the caller.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_STATUS_H
#define CATFISH_RUNTIME_SRC_STATUS_H

#include "catfish/runtime.h"

#include <sstream>
#include <string>
#include <utility>

namespace catfish::rt {

/// A new status with `code` and `message`. Never fails: without memory it returns a static
/// "out of memory" status (which catfish_status_free ignores).
catfish_status_t *makeStatus(catfish_status_code_t code, std::string message);

/// Concatenates the arguments with operator<<.
template <typename... Args> std::string strCat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
catfish_status_t *makeStatusCat(catfish_status_code_t code, const Args &...args) {
  return makeStatus(code, strCat(args...));
}

/// `status` (not null) with `prefix` put before its message, same code; frees `status`.
catfish_status_t *withPrefix(catfish_status_t *status, const std::string &prefix);

/// The status for a C++ exception escaping an internal function (only std::bad_alloc can, in
/// practice); used by the C API entry points so that no exception crosses them.
catfish_status_t *statusFromCurrentException();

} // namespace catfish::rt

/// Runs `body` (an expression returning catfish_status_t *) with exceptions turned into a status.
#define CATFISH_GUARD(body)                                                                        \
  do {                                                                                             \
    try {                                                                                          \
      return (body);                                                                               \
    } catch (...) {                                                                                \
      return ::catfish::rt::statusFromCurrentException();                                          \
    }                                                                                              \
  } while (false)

#endif // CATFISH_RUNTIME_SRC_STATUS_H
