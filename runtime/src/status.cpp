//===- status.cpp - catfish_status_t ----------------------------------------===//

#include "status.h"

#include <new>

struct catfish_status_t {
  catfish_status_code_t code;
  std::string message;
};

namespace catfish::rt {
namespace {
// Returned when allocating a status fails; catfish_status_free recognizes and keeps it.
catfish_status_t outOfMemoryStatus{CATFISH_STATUS_RESOURCE_EXHAUSTED, ""};
const char *const kOutOfMemoryMessage = "out of memory";
} // namespace

catfish_status_t *makeStatus(catfish_status_code_t code, std::string message) {
  try {
    return new catfish_status_t{code, std::move(message)};
  } catch (...) {
    return &outOfMemoryStatus;
  }
}

catfish_status_t *withPrefix(catfish_status_t *status, const std::string &prefix) {
  catfish_status_t *prefixed = makeStatus(status->code, prefix + status->message);
  if (status != &outOfMemoryStatus)
    delete status;
  return prefixed;
}

catfish_status_t *statusFromCurrentException() {
  try {
    throw;
  } catch (const std::bad_alloc &) {
    return &outOfMemoryStatus;
  } catch (const std::exception &e) {
    return makeStatus(CATFISH_STATUS_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return makeStatus(CATFISH_STATUS_INTERNAL, "internal error: unknown exception");
  }
}

} // namespace catfish::rt

extern "C" {

catfish_status_code_t catfish_status_code(const catfish_status_t *status) {
  return status ? status->code : CATFISH_STATUS_OK;
}

const char *catfish_status_message(const catfish_status_t *status) {
  if (!status)
    return "";
  if (status == &catfish::rt::outOfMemoryStatus)
    return catfish::rt::kOutOfMemoryMessage;
  return status->message.c_str();
}

const char *catfish_status_code_name(catfish_status_code_t code) {
  switch (code) {
  case CATFISH_STATUS_OK:
    return "OK";
  case CATFISH_STATUS_INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case CATFISH_STATUS_NOT_FOUND:
    return "NOT_FOUND";
  case CATFISH_STATUS_IO_ERROR:
    return "IO_ERROR";
  case CATFISH_STATUS_DATA_LOSS:
    return "DATA_LOSS";
  case CATFISH_STATUS_UNSUPPORTED:
    return "UNSUPPORTED";
  case CATFISH_STATUS_RESOURCE_EXHAUSTED:
    return "RESOURCE_EXHAUSTED";
  case CATFISH_STATUS_FAILED_PRECONDITION:
    return "FAILED_PRECONDITION";
  case CATFISH_STATUS_INTERNAL:
    return "INTERNAL";
  }
  return "UNKNOWN";
}

void catfish_status_free(catfish_status_t *status) {
  if (status == &catfish::rt::outOfMemoryStatus)
    return;
  delete status;
}

} // extern "C"
