//===- catfish/runtime.hpp - C++ RAII wrappers over runtime.h ---*- C++ -*-===//
//
// Header-only. Errors are returned, never thrown: every fallible call returns a [[nodiscard]]
// catfish::Status (move-only, owns the catfish_status_t), so this header works in code built
// with -fno-exceptions. Thread-safety is that of the C objects: a Model may be shared by any
// number of threads, a Session is used by one thread at a time.
//
//   catfish::Model model;
//   if (catfish::Status s = catfish::Model::load("m.catfish", model); !s.ok())
//     return fail(s.message());
//   catfish::Session session;
//   if (catfish::Status s = catfish::Session::create(model, session); !s.ok()) ...
//   s = session.setInput(0, data, bytes); s = session.run();
//   const void *out; size_t outBytes; s = session.output(0, out, outBytes);
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_HPP
#define CATFISH_RUNTIME_HPP

#include "catfish/runtime.h"

#include <string>
#include <utility>
#include <vector>

namespace catfish {

/// A catfish_status_t with ownership: OK when empty.
class [[nodiscard]] Status {
public:
  Status() = default;
  /// Takes ownership of `status` (NULL = OK).
  explicit Status(catfish_status_t *status) : status_(status) {}
  Status(Status &&other) noexcept : status_(std::exchange(other.status_, nullptr)) {}
  Status &operator=(Status &&other) noexcept {
    std::swap(status_, other.status_);
    return *this;
  }
  Status(const Status &) = delete;
  Status &operator=(const Status &) = delete;
  ~Status() { catfish_status_free(status_); }

  bool ok() const { return status_ == nullptr; }
  explicit operator bool() const { return ok(); }
  catfish_status_code_t code() const { return catfish_status_code(status_); }
  const char *message() const { return catfish_status_message(status_); }
  /// Marks the error as seen (for calls whose failure is handled otherwise).
  void ignore() const {}

private:
  catfish_status_t *status_ = nullptr;
};

/// Owns a catfish_model_t. Move-only. const members are thread-safe.
class Model {
public:
  Model() = default;
  Model(Model &&other) noexcept : model_(std::exchange(other.model_, nullptr)) {}
  Model &operator=(Model &&other) noexcept {
    std::swap(model_, other.model_);
    return *this;
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model() { catfish_model_release(model_); }

  /// Loads `path` into `out` (replacing what it held) with `options` (NULL: defaults).
  static Status load(const std::string &path, Model &out,
                     const catfish_model_options_t *options = nullptr) {
    catfish_model_t *model = nullptr;
    Status status(catfish_model_load_with_options(path.c_str(), options, &model));
    if (status.ok())
      out = Model(model);
    return status;
  }

  bool valid() const { return model_ != nullptr; }
  const catfish_model_t *get() const { return model_; }

  size_t inputCount() const { return catfish_model_input_count(model_); }
  size_t outputCount() const { return catfish_model_output_count(model_); }
  /// Info of input `index` (index < inputCount()).
  catfish_tensor_info_t input(size_t index) const {
    catfish_tensor_info_t info{};
    Status(catfish_model_input_info(model_, index, &info)).ignore();
    return info;
  }
  catfish_tensor_info_t output(size_t index) const {
    catfish_tensor_info_t info{};
    Status(catfish_model_output_info(model_, index, &info)).ignore();
    return info;
  }
  Status findInput(const std::string &name, size_t &outIndex) const {
    return Status(catfish_model_find_input(model_, name.c_str(), &outIndex));
  }
  Status findOutput(const std::string &name, size_t &outIndex) const {
    return Status(catfish_model_find_output(model_, name.c_str(), &outIndex));
  }

private:
  explicit Model(catfish_model_t *model) : model_(model) {}
  catfish_model_t *model_ = nullptr;
};

/// Owns a catfish_session_t. Move-only; one thread at a time. The Model must outlive it.
class Session {
public:
  Session() = default;
  Session(Session &&other) noexcept : session_(std::exchange(other.session_, nullptr)) {}
  Session &operator=(Session &&other) noexcept {
    std::swap(session_, other.session_);
    return *this;
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  ~Session() { catfish_session_release(session_); }

  static Status create(const Model &model, Session &out) {
    catfish_session_t *session = nullptr;
    Status status(catfish_session_create(model.get(), &session));
    if (status.ok())
      out = Session(session);
    return status;
  }

  bool valid() const { return session_ != nullptr; }
  catfish_session_t *get() const { return session_; }

  /// Copies the input (see catfish_session_set_input).
  Status setInput(size_t index, const void *data, size_t byteSize) {
    return Status(catfish_session_set_input(session_, index, data, byteSize));
  }
  Status run() { return Status(catfish_session_run(session_)); }
  /// See catfish_session_run_async / _wait.
  Status runAsync() { return Status(catfish_session_run_async(session_)); }
  Status wait() { return Status(catfish_session_wait(session_)); }
  /// CUDA devices: see catfish_session_set_stream, _bind_input_device, _bind_output_device,
  /// _gpu_time_ms.
  Status setStream(void *stream) { return Status(catfish_session_set_stream(session_, stream)); }
  Status bindInputDevice(size_t index, uint64_t devicePtr, size_t byteSize) {
    return Status(catfish_session_bind_input_device(session_, index, devicePtr, byteSize));
  }
  Status bindOutputDevice(size_t index, uint64_t devicePtr, size_t byteSize) {
    return Status(catfish_session_bind_output_device(session_, index, devicePtr, byteSize));
  }
  Status gpuTimeMs(float &outMs) { return Status(catfish_session_gpu_time_ms(session_, &outMs)); }
  /// Valid until the next setInput(), run() or the session's end.
  Status output(size_t index, const void *&outData, size_t &outByteSize) const {
    return Status(catfish_session_output(session_, index, &outData, &outByteSize));
  }
  /// The actual dims of output `index` after the last run (see catfish_session_output_shape).
  Status outputShape(size_t index, std::vector<int64_t> &outDims) const {
    catfish_tensor_info_t info{};
    Status status(catfish_model_output_info(catfish_session_model(session_), index, &info));
    if (!status.ok())
      return status;
    std::vector<int64_t> dims(info.rank);
    status = Status(catfish_session_output_shape(session_, index, dims.data(), dims.size()));
    if (status.ok())
      outDims = std::move(dims);
    return status;
  }

private:
  explicit Session(catfish_session_t *session) : session_(session) {}
  catfish_session_t *session_ = nullptr;
};

} // namespace catfish

#endif // CATFISH_RUNTIME_HPP
