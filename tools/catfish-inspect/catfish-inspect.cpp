//===- catfish-inspect.cpp - print the manifest of a .catfish artifact -----===//
//
// catfish-inspect MODEL.catfish [--steps]
//
// Verifies the file exactly as catfish_model_load() does (without loading code, so artifacts
// for targets this machine cannot run are shown too) and prints the manifest. Contract relied on
// by other tools: one line per target, `target NAME ARCH (FORMAT, SIZE)`, at column 0.
//
//===----------------------------------------------------------------------===//

#include "catfish/artifact_file.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>

namespace fa = catfish::artifact;
using fa::humanBytes;

namespace {

const size_t kDefaultStepLimit = 20;

std::string sizeText(uint64_t bytes) {
  return humanBytes(bytes) + " (" + std::to_string(bytes) + " bytes)";
}

const char *text(const flatbuffers::String *s) { return s && s->size() ? s->c_str() : "-"; }

template <typename T> size_t count(const flatbuffers::Vector<flatbuffers::Offset<T>> *v) {
  return v ? v->size() : 0;
}

/// "3x<=24": a data-dependent dim shows its upper bound after "<=".
std::string shapeText(const fa::TensorInfo &t) {
  const auto *shape = t.shape();
  if (!shape || shape->size() == 0)
    return "scalar";
  std::string out;
  for (flatbuffers::uoffset_t i = 0; i < shape->size(); ++i) {
    bool dynamic = false;
    if (t.data_dependent_dims())
      for (const fa::DataDependentDim *dim : *t.data_dependent_dims())
        dynamic |= dim->dim() == i;
    out += (i ? "x" : "") + std::string(dynamic ? "<=" : "") + std::to_string(shape->Get(i));
  }
  return out;
}

void printTensors(const char *title,
                  const flatbuffers::Vector<flatbuffers::Offset<fa::TensorInfo>> *tensors) {
  std::printf("%s: %zu\n", title, count(tensors));
  for (size_t i = 0; i < count(tensors); ++i) {
    const fa::TensorInfo &t = *tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
    std::string sizes;
    if (t.data_dependent_dims())
      for (const fa::DataDependentDim *dim : *t.data_dependent_dims())
        sizes += ", size of dim " + std::to_string(dim->dim()) + " in buffer " +
                 std::to_string(dim->size_buffer());
    std::printf("  %zu '%s': %s %s (buffer %u%s)\n", i, t.name()->c_str(),
                catfish_dtype_name(static_cast<catfish_dtype_t>(t.dtype())),
                shapeText(t).c_str(), t.buffer(), sizes.c_str());
  }
}

std::string bufferText(const fa::Manifest &m, uint32_t index) {
  const fa::Buffer &b = *m.buffers()->Get(index);
  std::string out = std::to_string(index) + ":";
  switch (b.kind()) {
  case fa::BufferKind::Input:
    return out + "input '" + m.inputs()->Get(static_cast<flatbuffers::uoffset_t>(b.input_index()))
                                 ->name()->str() + "'";
  case fa::BufferKind::Weight:
    return out + "weight@" + std::to_string(b.offset()) + "+" + std::to_string(b.size());
  case fa::BufferKind::Arena:
    return out + "arena@" + std::to_string(b.offset()) + "+" + std::to_string(b.size());
  }
  return out + "?";
}

std::string dim3Text(const flatbuffers::Vector<uint32_t> *sizes) {
  std::string out;
  for (flatbuffers::uoffset_t i = 0; sizes && i < sizes->size(); ++i)
    out += (i ? "x" : "") + std::to_string(sizes->Get(i));
  return out;
}

/// "F grid 2x1x1 block 256x1x1 smem 0 args 0 1 | sm_80: 14 registers, ..." (a verified
/// manifest has three grid and block sizes).
std::string launchText(const fa::CudaLaunch &launch) {
  std::string out = launch.function()->str() + " grid " + dim3Text(launch.grid()) + " block " +
                    dim3Text(launch.block()) + " smem " +
                    std::to_string(launch.dynamic_shared_bytes()) + " args";
  if (launch.args())
    for (uint32_t arg : *launch.args())
      out += " " + std::to_string(arg);
  if (launch.resources())
    for (const fa::CudaResources *r : *launch.resources()) {
      out += std::string(" | ") + text(r->arch()) + ": " + std::to_string(r->registers()) +
             " registers, " + std::to_string(r->shared_bytes()) + " B shared, " +
             std::to_string(r->stack_bytes()) + " B stack";
      if (r->spill_store_bytes() || r->spill_load_bytes())
        out += ", spills " + std::to_string(r->spill_store_bytes()) + " B stored " +
               std::to_string(r->spill_load_bytes()) + " B loaded";
    }
  return out;
}

int inspect(const std::string &path, bool allSteps) {
  std::unique_ptr<fa::ArtifactFile> file;
  if (catfish_status_t *status = fa::ArtifactFile::open(path, file)) {
    std::fprintf(stderr, "error: %s\n", catfish_status_message(status));
    catfish_status_free(status);
    return 1;
  }
  const fa::Manifest &m = file->manifest();
  std::printf("artifact: %s, %s\n", path.c_str(), sizeText(file->fileSize()).c_str());
  std::printf("format version: %u\n", file->header().formatVersion);
  std::printf("compiler version: %s\n", text(m.compiler_version()));
  std::printf("model: %s\n", text(m.model_name()));
  std::printf("model sha256: %s\n", text(m.model_sha256()));
  printTensors("inputs", m.inputs());
  printTensors("outputs", m.outputs());

  std::printf("targets: %zu\n", count(m.targets()));
  for (size_t i = 0; i < count(m.targets()); ++i) {
    const fa::Target &t = *m.targets()->Get(static_cast<flatbuffers::uoffset_t>(i));
    std::string arch = t.arch() && t.arch()->size() ? " " + t.arch()->str() : "";
    std::printf("target %s%s (%s, %s)\n", t.name()->c_str(), arch.c_str(),
                t.format() && t.format()->size() ? t.format()->c_str() : "unknown format",
                humanBytes(file->section(t.section()).size).c_str());
  }

  std::map<std::string, size_t> kinds;
  for (size_t i = 0; i < count(m.kernels()); ++i)
    ++kinds[text(m.kernels()->Get(static_cast<flatbuffers::uoffset_t>(i))->kind())];
  std::string kindList;
  for (const auto &[kind, n] : kinds)
    kindList += (kindList.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  std::printf("kernels: %zu%s\n", count(m.kernels()),
              kindList.empty() ? "" : (" (" + kindList + ")").c_str());

  size_t steps = count(m.steps());
  size_t shown = allSteps ? steps : std::min(steps, kDefaultStepLimit);
  std::printf("steps: %zu\n", steps);
  for (size_t s = 0; s < shown; ++s) {
    const fa::Step &step = *m.steps()->Get(static_cast<flatbuffers::uoffset_t>(s));
    std::string args;
    if (step.args())
      for (uint32_t buffer : *step.args())
        args += (args.empty() ? "" : " ") + bufferText(m, buffer);
    if (step.control() != fa::Control::None) {
      bool jumps = step.control() == fa::Control::LoopTest || step.control() == fa::Control::LoopNext;
      std::printf("  %zu %s %s%s\n", s, fa::EnumNameControl(step.control()), args.c_str(),
                  jumps ? (" -> step " + std::to_string(step.target())).c_str() : "");
      continue;
    }
    const fa::Kernel &k = *m.kernels()->Get(step.kernel());
    std::printf("  %zu %s [%s, target %u, max_tasks %u]%s%s (%s)\n", s, k.symbol()->c_str(),
                text(k.kind()), k.target(), k.max_tasks(), args.empty() ? "" : " ", args.c_str(),
                text(k.location()));
    if (step.alternatives())
      for (uint32_t alternative : *step.alternatives()) {
        const fa::Kernel &other = *m.kernels()->Get(alternative);
        std::printf("    or %s [%s, target %u]\n", other.symbol()->c_str(), text(other.kind()),
                    other.target());
      }
    if (k.calls())
      for (const fa::CudaCall *call : *k.calls()) {
        if (call->launch())
          std::printf("    launch %s\n", launchText(*call->launch()).c_str());
        if (const fa::CudaMatmul *mm = call->matmul())
          std::printf("    cublaslt matmul A=arg %u%s B=arg %u%s C=arg %u m %llu n %llu k %llu batch "
                      "%llu lda %llu ldb %llu ldc %llu strides %llu %llu %llu offsets %llu %llu "
                      "%llu %s alpha %g beta %g\n",
                      mm->a(), mm->transpose_a() ? "^T" : "", mm->b(),
                      mm->transpose_b() ? "^T" : "", mm->c(), (unsigned long long)mm->m(),
                      (unsigned long long)mm->n(), (unsigned long long)mm->k(),
                      (unsigned long long)mm->batch(), (unsigned long long)mm->lda(),
                      (unsigned long long)mm->ldb(), (unsigned long long)mm->ldc(),
                      (unsigned long long)mm->stride_a(), (unsigned long long)mm->stride_b(),
                      (unsigned long long)mm->stride_c(), (unsigned long long)mm->offset_a(),
                      (unsigned long long)mm->offset_b(), (unsigned long long)mm->offset_c(),
                      catfish_dtype_name(static_cast<catfish_dtype_t>(mm->dtype())),
                      static_cast<double>(mm->alpha()), static_cast<double>(mm->beta()));
      }
  }
  if (shown < steps)
    std::printf("  ... %zu more (--steps shows all)\n", steps - shown);

  size_t byKind[3] = {0, 0, 0};
  for (size_t i = 0; i < count(m.buffers()); ++i)
    ++byKind[static_cast<size_t>(m.buffers()->Get(static_cast<flatbuffers::uoffset_t>(i))->kind())];
  std::printf("buffers: %zu (input %zu, weight %zu, arena %zu)\n", count(m.buffers()), byKind[0],
              byKind[1], byKind[2]);
  std::printf("arena: %s\n", sizeText(m.arena_size()).c_str());
  std::printf("weights: %s\n", sizeText(file->weightsSize()).c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string path;
  bool allSteps = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--steps") {
      allSteps = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: catfish-inspect MODEL.catfish [--steps]\n"
                  "  --steps  list every step (default: the first %zu)\n",
                  kDefaultStepLimit);
      return 0;
    } else if (arg.rfind("-", 0) == 0) {
      std::fprintf(stderr, "error: unknown option '%s' (see --help)\n", arg.c_str());
      return 1;
    } else if (!path.empty()) {
      std::fprintf(stderr, "error: more than one model given: '%s' and '%s'\n", path.c_str(),
                   arg.c_str());
      return 1;
    } else {
      path = arg;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "error: no model given (see --help)\n");
    return 1;
  }
  try {
    return inspect(path, allSteps);
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  }
}
