//===- concurrency_test.cpp - one model, many threads, under TSan -----------===//
//
//   catfish-concurrency-test ARTIFACT [--device D] [--threads N] [--runs R] [--session-threads T]
//
// Checks the thread-safety that runtime.h documents, on any artifact:
//   - N threads load the artifact at once (catfish_model_load is reentrant);
//   - one model, N threads, a session each, created and run at once, R runs each: every output
//     equals, bit for bit, what one session on one thread computed for the same inputs;
//   - the const model functions called from every thread while the sessions run;
//   - one session used by one thread after another (calls must not overlap, nothing more);
//   - a status made on one thread, read and freed on another.
// Built with -fsanitize=thread in check-catfish (test/runtime/thread-sanitizer.test); any data
// race is a report and a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "host_tensor.h"

#include "catfish/runtime.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;
std::atomic<int> threadFailures{0};

void fail(const std::string &what, catfish_status_t *status) {
  std::fprintf(stderr, "FAIL: %s: %s\n", what.c_str(), catfish_status_message(status));
  catfish_status_free(status);
  ++threadFailures;
}

using Tensors = std::vector<std::vector<uint8_t>>;

/// Seeded inputs for every input of `model`.
Tensors makeInputs(const catfish_model_t *model) {
  Tensors inputs;
  for (size_t i = 0; i < catfish_model_input_count(model); ++i) {
    catfish_tensor_info_t info;
    catfish_model_input_info(model, i, &info);
    uint64_t count = 1;
    for (size_t d = 0; d < info.rank; ++d)
      count *= static_cast<uint64_t>(info.dims[d]);
    inputs.push_back(catfish::tools::randomData(info.dtype, count, info.byte_size, 17 + i));
  }
  return inputs;
}

/// Sets `inputs`, runs `runs` times and returns the outputs of the last run (empty on failure).
Tensors runSession(catfish_session_t *session, const Tensors &inputs, int runs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (catfish_status_t *status =
            catfish_session_set_input(session, i, inputs[i].data(), inputs[i].size())) {
      fail("set_input", status);
      return {};
    }
  for (int r = 0; r < runs; ++r)
    if (catfish_status_t *status = catfish_session_run(session)) {
      fail("run", status);
      return {};
    }
  Tensors outputs;
  const catfish_model_t *model = catfish_session_model(session);
  for (size_t o = 0; o < catfish_model_output_count(model); ++o) {
    const void *data = nullptr;
    size_t bytes = 0;
    if (catfish_status_t *status = catfish_session_output(session, o, &data, &bytes)) {
      fail("output", status);
      return {};
    }
    const uint8_t *begin = static_cast<const uint8_t *>(data);
    outputs.emplace_back(begin, begin + bytes);
  }
  return outputs;
}

/// Every const model function, as a thread that shares the model would call them.
void introspect(const catfish_model_t *model) {
  for (size_t i = 0; i < catfish_model_input_count(model); ++i) {
    catfish_tensor_info_t info;
    size_t index = 0;
    catfish_status_free(catfish_model_input_info(model, i, &info));
    catfish_status_free(catfish_model_find_input(model, info.name, &index));
  }
  for (size_t i = 0; i < catfish_model_output_count(model); ++i) {
    catfish_tensor_info_t info;
    catfish_status_free(catfish_model_output_info(model, i, &info));
  }
  for (size_t i = 0; i < catfish_model_target_count(model); ++i) {
    catfish_target_info_t info;
    catfish_status_free(catfish_model_target_info(model, i, &info));
  }
  size_t length = std::strlen(catfish_model_device(model)) +
                  std::strlen(catfish_model_name(model)) +
                  std::strlen(catfish_model_device_description(model));
  (void)length;
  (void)catfish_model_arena_size(model);
  (void)catfish_model_step_count(model);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: catfish-concurrency-test ARTIFACT [--device D] [--threads N] "
                         "[--runs R] [--session-threads T]\n");
    return 2;
  }
  std::string path = argv[1], device = "cpu";
  int threads = 8, runs = 5;
  uint32_t sessionThreads = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--device")
      device = argv[i + 1];
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (flag == "--session-threads")
      sessionThreads = static_cast<uint32_t>(std::atoi(argv[i + 1]));
  }
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.device = device.c_str();
  options.num_threads = sessionThreads;

  // Loads at once.
  {
    std::vector<std::thread> loaders;
    for (int t = 0; t < threads; ++t)
      loaders.emplace_back([&] {
        catfish_model_t *model = nullptr;
        if (catfish_status_t *status =
                catfish_model_load_with_options(path.c_str(), &options, &model))
          fail("concurrent load", status);
        catfish_model_release(model);
      });
    for (std::thread &loader : loaders)
      loader.join();
  }

  catfish_model_t *model = nullptr;
  if (catfish_status_t *status = catfish_model_load_with_options(path.c_str(), &options, &model)) {
    fail("load", status);
    return 1;
  }
  Tensors inputs = makeInputs(model);

  // The reference: one session, this thread.
  Tensors reference;
  {
    catfish_session_t *session = nullptr;
    if (catfish_status_t *status = catfish_session_create(model, &session)) {
      fail("session", status);
      return 1;
    }
    reference = runSession(session, inputs, 1);
    catfish_session_release(session);
  }

  // Sessions at once, each compared with the reference; introspection beside them.
  std::atomic<int> ready{0};
  std::vector<Tensors> results(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      catfish_session_t *session = nullptr;
      catfish_status_t *status = catfish_session_create(model, &session);
      ++ready;
      while (ready.load() < threads)
        std::this_thread::yield();
      if (status) {
        fail("session " + std::to_string(t), status);
        return;
      }
      introspect(model);
      results[t] = runSession(session, inputs, runs);
      introspect(model);
      catfish_session_release(session);
    });
  for (std::thread &worker : workers)
    worker.join();
  for (int t = 0; t < threads; ++t)
    if (results[t] != reference) {
      std::fprintf(stderr, "FAIL: session %d's outputs differ from the single-threaded run\n", t);
      ++failures;
    }

  // One session, handed from thread to thread.
  catfish_session_t *shared = nullptr;
  if (catfish_status_t *status = catfish_session_create(model, &shared)) {
    fail("session", status);
  } else {
    for (int t = 0; t < 3; ++t) {
      Tensors outputs;
      std::thread([&] { outputs = runSession(shared, inputs, 1); }).join();
      if (outputs != reference) {
        std::fprintf(stderr, "FAIL: a session handed to thread %d computed other outputs\n", t);
        ++failures;
      }
    }
    catfish_session_release(shared);
  }

  // A status crosses threads.
  catfish_status_t *status = nullptr;
  std::thread([&] {
    size_t index;
    status = catfish_model_find_input(model, "no such input", &index);
  }).join();
  std::thread([&] {
    if (catfish_status_code(status) != CATFISH_STATUS_NOT_FOUND ||
        !std::strstr(catfish_status_message(status), "no such input"))
      ++threadFailures;
    catfish_status_free(status);
  }).join();

  catfish_model_release(model);
  failures += threadFailures.load();
  std::printf("%s: %d threads, %d runs each, %zu output(s), device %s: %d failure(s)\n",
              path.c_str(), threads, runs, reference.size(), device.c_str(), failures);
  return failures == 0 && !reference.empty() ? 0 : 1;
}
