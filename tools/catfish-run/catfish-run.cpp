//===- catfish-run.cpp - run a .catfish artifact ---------------------------===//
//
// catfish-run MODEL.catfish [--input NAME=FILE]... [--output-dir DIR] [--seed N]
//             [--benchmark N] [--threads N] [--device auto|cpu|cuda[:N]|cuda-emulator]
//             [--no-cuda-graph]
//
// Inputs come from .npy or ONNX TensorProto .pb files; missing ones get seeded random data.
// Every failure is one "error: ..." line on stderr and exit code 1; outputs are written to
// temporary files and renamed only when all of them are complete.
//
//===----------------------------------------------------------------------===//

#include "catfish/runtime.hpp"
#include "host_tensor.h"
#include "npy.h"
#include "onnx_tensor.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace catfish::tools;

namespace {

const char *const kUsage =
    "usage: catfish-run MODEL.catfish [--input NAME=FILE]... [--output-dir DIR] [--seed N]\n"
    "                   [--benchmark N] [--threads N] [--device DEVICE] [--no-cuda-graph]\n"
    "  --input NAME=FILE  the value of input NAME, from a .npy or ONNX TensorProto .pb file\n"
    "                     (inputs not given get random data)\n"
    "  --output-dir DIR   write DIR/<output name>.npy for every output\n"
    "  --seed N           seed of the random inputs (default 0)\n"
    "  --benchmark N      time N runs after max(1, N/10) warm-up runs\n"
    "  --threads N        threads per run (default: all cores)\n"
    "  --device DEVICE    auto (default: the GPU if the artifact and the machine have one, else\n"
    "                     the CPU), cpu, cuda (GPU 0), cuda:N, or cuda-emulator: the artifact's\n"
    "                     CUDA plan run on the host (compiled with --target cuda --cuda-emulation)\n"
    "  --no-cuda-graph    on a GPU, launch every step on each run instead of replaying the plan\n"
    "                     as a CUDA Graph\n";

struct Options {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string outputDir;
  uint64_t seed = 0;
  uint64_t benchmark = 0;
  uint32_t threads = 0;
  std::string device = "auto";
  bool cudaGraphs = true;
  bool help = false;
};

int fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

bool parseUnsigned(const std::string &text, uint64_t max, uint64_t &out) {
  if (text.empty() || text.size() > 20 ||
      text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  errno = 0;
  unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
  if (errno != 0 || value > max)
    return false;
  out = value;
  return true;
}

bool parseArgs(int argc, char **argv, Options &options, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &out) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos && arg.rfind("--", 0) == 0) {
        out = arg.substr(eq + 1);
        return true;
      }
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string flag = arg.substr(0, arg.find('='));
    std::string text;
    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--no-cuda-graph") {
      options.cudaGraphs = false;
    } else if (flag == "--input") {
      if (!value(text))
        return false;
      size_t eq = text.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
        error = "--input expects NAME=FILE, got '" + text + "'";
        return false;
      }
      options.inputs.emplace_back(text.substr(0, eq), text.substr(eq + 1));
    } else if (flag == "--output-dir") {
      if (!value(options.outputDir))
        return false;
      if (options.outputDir.empty()) {
        error = "--output-dir needs a directory";
        return false;
      }
    } else if (flag == "--device") {
      if (!value(options.device))
        return false;
    } else if (flag == "--seed" || flag == "--benchmark" || flag == "--threads") {
      if (!value(text))
        return false;
      uint64_t number;
      uint64_t max = flag == "--threads" ? 4096 : flag == "--benchmark" ? 100000000 : UINT64_MAX;
      if (!parseUnsigned(text, max, number) || (flag == "--threads" && number == 0)) {
        error = flag + " expects " + (flag == "--threads" ? "a count from 1 to 4096" :
                                      "a non-negative integer") + ", got '" + text + "'";
        return false;
      }
      if (flag == "--seed")
        options.seed = number;
      else if (flag == "--benchmark")
        options.benchmark = number;
      else
        options.threads = static_cast<uint32_t>(number);
    } else if (arg.rfind("-", 0) == 0 && arg != "-") {
      error = "unknown option '" + arg + "' (see --help)";
      return false;
    } else if (options.model.empty()) {
      options.model = arg;
    } else {
      error = "more than one model given: '" + options.model + "' and '" + arg + "'";
      return false;
    }
  }
  if (options.model.empty() && !options.help) {
    error = "no model given (see --help)";
    return false;
  }
  return true;
}

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Reads an input file (.npy, or a TensorProto otherwise) and checks it against `info`.
bool loadInput(const std::string &path, const catfish_tensor_info_t &info, HostTensor &tensor,
               std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes, error))
    return false;
  bool isNpy = endsWith(path, ".npy") || (bytes.size() >= 6 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0);
  std::string tensorName;
  if (isNpy ? !parseNpy(bytes.data(), bytes.size(), path, tensor, error)
            : !parseTensorProto(bytes.data(), bytes.size(), path, tensor, tensorName, error))
    return false;

  // .npy has no bf16, f8 or packed 4-bit types: accept their raw bits (u2, u1) or, for the
  // 4-bit ones, a byte each (i8 for i4, u8 values or E2M1 codes for u4 and f4e2m1).
  catfish_dtype_t want = info.dtype;
  if (isNpy && tensor.dtype != want) {
    if ((want == CATFISH_DTYPE_BF16 && tensor.dtype == CATFISH_DTYPE_U16) ||
        ((want == CATFISH_DTYPE_F8E4M3FN || want == CATFISH_DTYPE_F8E5M2 ||
          want == CATFISH_DTYPE_F8E4M3FNUZ || want == CATFISH_DTYPE_F8E5M2FNUZ) &&
         tensor.dtype == CATFISH_DTYPE_U8)) {
      tensor.dtype = want;
    } else if ((want == CATFISH_DTYPE_I4 && tensor.dtype == CATFISH_DTYPE_I8) ||
               ((want == CATFISH_DTYPE_U4 || want == CATFISH_DTYPE_F4E2M1) &&
                tensor.dtype == CATFISH_DTYPE_U8)) {
      std::vector<uint8_t> packed((tensor.data.size() + 1) / 2, 0);
      for (size_t i = 0; i < tensor.data.size(); ++i) {
        int value = want == CATFISH_DTYPE_I4 ? static_cast<int8_t>(tensor.data[i])
                                             : static_cast<int>(tensor.data[i]);
        if (want == CATFISH_DTYPE_I4 ? (value < -8 || value > 7) : value > 15) {
          error = "input '" + std::string(info.name) + "': value " + std::to_string(value) +
                  " in '" + path + "' does not fit " + catfish_dtype_name(want);
          return false;
        }
        packed[i / 2] |= static_cast<uint8_t>((value & 0xf) << (i % 2 ? 4 : 0));
      }
      tensor.data = std::move(packed);
      tensor.dtype = want;
    }
  }
  std::string expected = shapeText(info.dims, info.rank);
  if (tensor.dtype != want) {
    error = "input '" + std::string(info.name) + "': expected dtype " + catfish_dtype_name(want) +
            ", got " + catfish_dtype_name(tensor.dtype) + " in '" + path + "'";
    return false;
  }
  if (tensor.shape != std::vector<int64_t>(info.dims, info.dims + info.rank)) {
    error = "input '" + std::string(info.name) + "': expected shape " + expected + " (" +
            catfish_dtype_name(want) + "), got " + shapeText(tensor.shape) + " in '" + path + "'";
    return false;
  }
  if (tensor.data.size() != info.byte_size) {
    error = "input '" + std::string(info.name) + "': '" + path + "' holds " +
            std::to_string(tensor.data.size()) + " bytes, expected " +
            std::to_string(info.byte_size);
    return false;
  }
  return true;
}

/// The output's file name: its name with '/' and other odd characters replaced by '_'.
std::string sanitizedName(const std::string &name) {
  std::string out;
  for (char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
    out += plain ? c : '_';
  }
  if (out.empty() || out == "." || out == "..")
    out = "_" + out;
  return out;
}

bool makeDirectories(const std::string &dir, std::string &error) {
  std::string path;
  size_t at = 0;
  while (at != std::string::npos) {
    size_t next = dir.find('/', at + 1);
    path = dir.substr(0, next);
    at = next;
    if (path.empty() || path == "/")
      continue;
    if (mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
      error = "cannot create directory '" + path + "': " + std::strerror(errno);
      return false;
    }
  }
  struct stat info;
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = "'" + dir + "' is not a directory";
    return false;
  }
  return true;
}

bool writeWhole(const std::string &path, const std::vector<uint8_t> &bytes, std::string &error) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    error = "cannot create '" + path + "': " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t written = write(fd, bytes.data() + done, bytes.size() - done);
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0) {
      error = "cannot write '" + path + "': " + std::strerror(errno);
      close(fd);
      return false;
    }
    done += static_cast<size_t>(written);
  }
  if (close(fd) != 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

/// Writes every output to DIR/<name>.npy: all to temporary files first, then renamed.
bool writeOutputs(const std::string &dir, const catfish::Model &model,
                  const catfish::Session &session, std::string &error) {
  if (!makeDirectories(dir, error))
    return false;
  std::vector<std::pair<std::string, std::string>> written; // temp, final
  auto cleanup = [&] {
    for (const auto &[temp, final] : written)
      unlink(temp.c_str());
  };
  std::map<std::string, std::string> used;
  for (size_t o = 0; o < model.outputCount(); ++o) {
    catfish_tensor_info_t info = model.output(o);
    std::string file = sanitizedName(info.name);
    if (used.count(file)) {
      error = "outputs '" + used[file] + "' and '" + info.name + "' both map to file '" + file +
              ".npy'";
      cleanup();
      return false;
    }
    used[file] = info.name;
    std::string final = dir + "/" + file + ".npy";
    std::string temp = dir + "/." + file + ".npy.tmp" + std::to_string(getpid());
    const void *data;
    size_t size;
    std::vector<int64_t> dims;
    catfish::Status status = session.output(o, data, size);
    if (status.ok())
      status = session.outputShape(o, dims);
    if (!status.ok()) {
      error = status.message();
      cleanup();
      return false;
    }
    std::vector<uint8_t> npy = encodeNpy(info.dtype, dims.data(), dims.size(),
                                         static_cast<const uint8_t *>(data), size);
    written.emplace_back(temp, final);
    if (!writeWhole(temp, npy, error)) {
      cleanup();
      return false;
    }
  }
  for (const auto &[temp, final] : written) {
    if (rename(temp.c_str(), final.c_str()) != 0) {
      error = "cannot rename '" + temp + "' to '" + final + "': " + std::strerror(errno);
      cleanup();
      return false;
    }
  }
  return true;
}

std::string formatValue(catfish_dtype_t dtype, double value) {
  char text[64];
  if (isFloatingPoint(dtype))
    std::snprintf(text, sizeof(text), "%.6g", value);
  else if (dtype == CATFISH_DTYPE_BOOL)
    std::snprintf(text, sizeof(text), "%s", value != 0 ? "true" : "false");
  else
    std::snprintf(text, sizeof(text), "%.0f", value);
  return text;
}

/// Prints output `info` of the actual shape `dims`.
void printOutput(const catfish_tensor_info_t &info, const std::vector<int64_t> &dims,
                 const uint8_t *data) {
  uint64_t count = 1;
  for (int64_t dim : dims)
    count *= static_cast<uint64_t>(dim);
  std::printf("output '%s': %s %s\n", info.name, catfish_dtype_name(info.dtype),
              shapeText(dims).c_str());
  if (count == 0) {
    std::printf("  (empty)\n");
    return;
  }
  double minimum = 0, maximum = 0, sum = 0;
  uint64_t nans = 0, finite = 0;
  for (uint64_t i = 0; i < count; ++i) {
    double value = elementValue(info.dtype, data, i);
    if (value != value) {
      ++nans;
      continue;
    }
    if (finite++ == 0)
      minimum = maximum = value;
    minimum = std::min(minimum, value);
    maximum = std::max(maximum, value);
    sum += value;
  }
  if (info.dtype != CATFISH_DTYPE_BOOL && finite > 0) {
    std::printf("  min %s  max %s  mean %.6g", formatValue(info.dtype, minimum).c_str(),
                formatValue(info.dtype, maximum).c_str(), sum / static_cast<double>(finite));
    if (nans)
      std::printf("  (%" PRIu64 " NaN)", nans);
    std::printf("\n");
  } else if (info.dtype == CATFISH_DTYPE_BOOL) {
    std::printf("  %.0f of %" PRIu64 " true\n", sum, count);
  }
  std::printf("  [");
  uint64_t shown = std::min<uint64_t>(count, 8);
  for (uint64_t i = 0; i < shown; ++i)
    std::printf("%s%s", i ? ", " : "", formatValue(info.dtype, elementValue(info.dtype, data, i)).c_str());
  std::printf("%s]\n", count > shown ? ", ..." : "");
}

double percentile(const std::vector<double> &sorted, double fraction) {
  size_t index = static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

/// Sorted samples' "min A  median B  p90 C  p99 D".
std::string percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  char text[160];
  std::snprintf(text, sizeof(text), "min %.3f  median %.3f  p90 %.3f  p99 %.3f", samples.front(),
                percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99));
  return text;
}

/// --benchmark N: N timed runs after max(1, N/10) warm-up runs. On a GPU each run also copies
/// the inputs in and every output out, timed apart, like trtexec: GPU time from CUDA events
/// around the plan, host latency of the run call, host-to-device and device-to-host copies.
template <typename SetInputs>
bool benchmark(const catfish::Model &model, catfish::Session &session, const Options &options,
               SetInputs &setInputs, std::string &error) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  std::string device = catfish_model_device(model.get());
  bool gpu = device.rfind("cuda:", 0) == 0;
  uint64_t warmup = std::max<uint64_t>(1, options.benchmark / 10);
  std::vector<double> latencies, gpuTimes, uploads, downloads;
  double total = 0;
  uint64_t inBytes = 0, outBytes = 0;
  for (uint64_t r = 0; r < warmup + options.benchmark; ++r) {
    Clock::time_point start = Clock::now();
    if (gpu)
      if (catfish::Status status = setInputs(); !status.ok()) {
        error = status.message();
        return false;
      }
    Clock::time_point uploaded = Clock::now();
    if (catfish::Status status = session.run(); !status.ok()) {
      error = status.message();
      return false;
    }
    Clock::time_point ran = Clock::now();
    float gpuMs = 0;
    if (gpu)
      if (catfish::Status status = session.gpuTimeMs(gpuMs); !status.ok()) {
        error = status.message();
        return false;
      }
    Clock::time_point downloadStart = Clock::now();
    for (size_t o = 0; gpu && o < model.outputCount(); ++o) {
      const void *data;
      size_t size;
      if (catfish::Status status = session.output(o, data, size); !status.ok()) {
        error = status.message();
        return false;
      }
    }
    Clock::time_point downloaded = Clock::now();
    if (r < warmup)
      continue;
    latencies.push_back(ms(uploaded, ran));
    total += ms(uploaded, ran);
    if (gpu) {
      gpuTimes.push_back(gpuMs);
      uploads.push_back(ms(start, uploaded));
      downloads.push_back(ms(downloadStart, downloaded));
    }
  }
  for (size_t i = 0; i < model.inputCount(); ++i)
    inBytes += model.input(i).byte_size;
  for (size_t o = 0; o < model.outputCount(); ++o)
    outBytes += model.output(o).byte_size;
  if (!gpu) {
    std::printf("benchmark: %" PRIu64 " runs (%" PRIu64 " warm-up), %u threads, cpu: %s\n",
                options.benchmark, warmup, catfish_model_num_threads(model.get()),
                catfish_model_device_description(model.get()));
    std::printf("  latency ms: %s\n", percentiles(latencies).c_str());
  } else {
    std::printf("benchmark: %" PRIu64 " runs (%" PRIu64 " warm-up), %s: %s, CUDA Graph %s\n",
                options.benchmark, warmup, device.c_str(),
                catfish_model_device_description(model.get()), options.cudaGraphs ? "on" : "off");
    std::printf("  GPU time ms: %s\n", percentiles(gpuTimes).c_str());
    std::printf("  host latency ms: %s\n", percentiles(latencies).c_str());
    std::vector<double> overhead;
    for (size_t i = 0; i < latencies.size(); ++i)
      overhead.push_back(1000 * (latencies[i] - gpuTimes[i]));
    std::sort(overhead.begin(), overhead.end());
    std::printf("  host latency - GPU time us: median %.1f  p90 %.1f\n", percentile(overhead, 0.5),
                percentile(overhead, 0.9));
    std::printf("  host-to-device ms (%" PRIu64 " bytes): %s\n", inBytes, percentiles(uploads).c_str());
    std::printf("  device-to-host ms (%" PRIu64 " bytes): %s\n", outBytes,
                percentiles(downloads).c_str());
  }
  std::printf("  throughput: %.1f runs/s\n", 1000.0 * static_cast<double>(options.benchmark) / total);
  return true;
}

int runMain(int argc, char **argv) {
  Options options;
  std::string error;
  if (!parseArgs(argc, argv, options, error))
    return fail(error);
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }

  catfish_model_options_t modelOptions;
  catfish_model_options_initialize(&modelOptions);
  modelOptions.num_threads = options.threads;
  modelOptions.device = options.device.c_str();
  modelOptions.cuda_graphs = options.cudaGraphs;
  catfish::Model model;
  if (catfish::Status status = catfish::Model::load(options.model, model, &modelOptions); !status.ok())
    return fail(status.message());

  // Resolve every --input first, so that a wrong name is reported before any file is read.
  std::vector<std::string> inputFiles(model.inputCount());
  for (const auto &[name, file] : options.inputs) {
    size_t index;
    if (catfish::Status status = model.findInput(name, index); !status.ok())
      return fail(status.message());
    if (!inputFiles[index].empty())
      return fail("input '" + name + "' is given twice");
    inputFiles[index] = file;
  }

  catfish::Session session;
  if (catfish::Status status = catfish::Session::create(model, session); !status.ok())
    return fail(status.message());
  std::vector<HostTensor> tensors(model.inputCount());
  for (size_t i = 0; i < model.inputCount(); ++i) {
    catfish_tensor_info_t info = model.input(i);
    HostTensor &tensor = tensors[i];
    if (inputFiles[i].empty()) {
      std::fprintf(stderr, "note: input '%s' not given; using random data (seed %" PRIu64 ")\n",
                   info.name, options.seed);
      uint64_t count = 1;
      for (size_t d = 0; d < info.rank; ++d)
        count *= static_cast<uint64_t>(info.dims[d]);
      tensor.data = randomData(info.dtype, count, info.byte_size, options.seed + i);
    } else if (!loadInput(inputFiles[i], info, tensor, error)) {
      return fail(error);
    }
  }
  auto setInputs = [&]() -> catfish::Status {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (catfish::Status status = session.setInput(i, tensors[i].data.data(), tensors[i].data.size());
          !status.ok())
        return status;
    return catfish::Status();
  };
  if (catfish::Status status = setInputs(); !status.ok())
    return fail(status.message());

  if (options.benchmark > 0) {
    std::string message;
    if (!benchmark(model, session, options, setInputs, message))
      return fail(message);
  } else if (catfish::Status status = session.run(); !status.ok()) {
    return fail(status.message());
  }

  for (size_t o = 0; o < model.outputCount(); ++o) {
    const void *data;
    size_t size;
    std::vector<int64_t> dims;
    catfish::Status status = session.output(o, data, size);
    if (status.ok())
      status = session.outputShape(o, dims);
    if (!status.ok())
      return fail(status.message());
    printOutput(model.output(o), dims, static_cast<const uint8_t *>(data));
  }
  if (!options.outputDir.empty() && !writeOutputs(options.outputDir, model, session, error))
    return fail(error);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runMain(argc, argv);
  } catch (const std::bad_alloc &) {
    return fail("out of memory");
  }
}
