//===- soak.cpp - long use of one model: does memory stay flat? ------------===//
//
//   catfish-soak ARTIFACT [--device D] [--runs N] [--sessions N] [--loads N]
//                [--max-growth-kib K]
//
// Three phases, each after a warm-up, each measured as the growth of the resident set
// (/proc/self/statm) from its start to its end:
//   runs:     N runs of one session (inputs set before each);
//   sessions: N session create / run / release cycles on one model;
//   loads:    N model load / session / release cycles.
// Prints one line per phase and exits 1 when a phase grew by more than K KiB (default 1024).
// bench/soak.py runs it on compiled models and prints the table for docs/hardening.md.
//
//===----------------------------------------------------------------------===//

#include "catfish/runtime.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

long residentKiB() {
  long pages = 0, resident = 0;
  std::FILE *statm = std::fopen("/proc/self/statm", "r");
  if (!statm || std::fscanf(statm, "%ld %ld", &pages, &resident) != 2)
    std::exit(2);
  std::fclose(statm);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void check(catfish_status_t *status, const char *what) {
  if (status) {
    std::fprintf(stderr, "catfish-soak: %s: %s\n", what, catfish_status_message(status));
    std::exit(1);
  }
}

struct Inputs {
  std::vector<std::vector<uint8_t>> data;
};

Inputs makeInputs(const catfish_model_t *model) {
  Inputs inputs;
  for (size_t i = 0; i < catfish_model_input_count(model); ++i) {
    catfish_tensor_info_t info;
    check(catfish_model_input_info(model, i, &info), "input info");
    // Small integers in every dtype: valid indices for gathers, finite for floats.
    inputs.data.emplace_back(info.byte_size, 0);
  }
  return inputs;
}

void runOnce(catfish_session_t *session, const Inputs &inputs) {
  for (size_t i = 0; i < inputs.data.size(); ++i)
    check(catfish_session_set_input(session, i, inputs.data[i].data(), inputs.data[i].size()),
          "set_input");
  check(catfish_session_run(session), "run");
  const void *data = nullptr;
  size_t bytes = 0;
  if (catfish_model_output_count(catfish_session_model(session)) > 0)
    check(catfish_session_output(session, 0, &data, &bytes), "output");
}

catfish_model_t *load(const std::string &path, const std::string &device) {
  catfish_model_options_t options;
  catfish_model_options_initialize(&options);
  options.device = device.c_str();
  catfish_model_t *model = nullptr;
  check(catfish_model_load_with_options(path.c_str(), &options, &model), "load");
  return model;
}

struct Phase {
  const char *name;
  long count;
  void (*body)(const std::string &, const std::string &, catfish_model_t *, long);
};

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: catfish-soak ARTIFACT [--device D] [--runs N] [--sessions N] "
                         "[--loads N] [--max-growth-kib K]\n");
    return 2;
  }
  std::string path = argv[1], device = "cpu";
  long runs = 10000, sessions = 1000, loads = 100, maxGrowth = 1024;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    long value = std::atol(argv[i + 1]);
    if (flag == "--device")
      device = argv[i + 1];
    else if (flag == "--runs")
      runs = value;
    else if (flag == "--sessions")
      sessions = value;
    else if (flag == "--loads")
      loads = value;
    else if (flag == "--max-growth-kib")
      maxGrowth = value;
  }
  catfish_model_t *model = load(path, device);
  Inputs inputs = makeInputs(model);

  Phase phases[] = {
      {"runs", runs,
       [](const std::string &, const std::string &, catfish_model_t *m, long n) {
         Inputs in = makeInputs(m);
         catfish_session_t *session = nullptr;
         check(catfish_session_create(m, &session), "session");
         for (long i = 0; i < n; ++i)
           runOnce(session, in);
         catfish_session_release(session);
       }},
      {"sessions", sessions,
       [](const std::string &, const std::string &, catfish_model_t *m, long n) {
         Inputs in = makeInputs(m);
         for (long i = 0; i < n; ++i) {
           catfish_session_t *session = nullptr;
           check(catfish_session_create(m, &session), "session");
           runOnce(session, in);
           catfish_session_release(session);
         }
       }},
      {"loads", loads,
       [](const std::string &p, const std::string &d, catfish_model_t *, long n) {
         for (long i = 0; i < n; ++i) {
           catfish_model_t *m = load(p, d);
           Inputs in = makeInputs(m);
           catfish_session_t *session = nullptr;
           check(catfish_session_create(m, &session), "session");
           runOnce(session, in);
           catfish_session_release(session);
           catfish_model_release(m);
         }
       }},
  };
  (void)inputs;
  bool ok = true;
  for (const Phase &phase : phases) {
    // A tenth of the phase, at least one, as warm-up: allocator pools and lazy binding settle.
    phase.body(path, device, model, std::max(1L, phase.count / 10));
    long before = residentKiB();
    auto start = std::chrono::steady_clock::now();
    phase.body(path, device, model, phase.count);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    long growth = residentKiB() - before;
    bool within = growth <= maxGrowth;
    ok &= within;
    std::printf("%s: %ld cycles in %.2f s, resident %ld -> %ld KiB (%+ld KiB)%s\n", phase.name,
                phase.count, seconds, before, before + growth, growth,
                within ? "" : "  OVER THE LIMIT");
  }
  catfish_model_release(model);
  return ok ? 0 : 1;
}
