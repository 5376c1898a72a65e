//===- artifact_writer.h - a minimal .catfish writer for tests --*- C++ -*-===//
//
// Writes artifacts exactly as docs/artifact-format.md lays them out; the compiler's writer is
// meant to mirror writeArtifactFile(). ModelDesc is a plain description of a manifest that tests
// can corrupt field by field.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_TEST_RUNTIME_ARTIFACT_WRITER_H
#define CATFISH_TEST_RUNTIME_ARTIFACT_WRITER_H

#include "artifact_generated.h"
#include "catfish/artifact_format.h"

#include <cstdint>
#include <string>
#include <vector>

namespace catfish::artifact::testing {

struct SectionBytes {
  SectionKind kind;
  std::vector<uint8_t> bytes;
};

/// The bytes of an artifact holding `sections` in this order (section i of the table is
/// sections[i]): header, section table, then each section at the next multiple of 64 (4096 for
/// weights), zero padding in between, checksums filled in.
std::vector<uint8_t> writeArtifactFile(const std::vector<SectionBytes> &sections,
                                       uint32_t formatVersion = kFirstFormatVersion);

struct BufferDesc {
  BufferKind kind;
  uint64_t offset;
  uint64_t size;
  int32_t inputIndex = -1;
};
struct DataDependentDimDesc {
  uint32_t dim, sizeBuffer;
};
struct TensorDesc {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint32_t buffer;
  std::vector<DataDependentDimDesc> dataDependentDims = {};
};
struct TargetDesc {
  std::string name, arch, format;
  uint32_t section;
};
struct LaunchDesc {
  std::string function;
  std::vector<uint32_t> grid, block, args;
  bool cooperative = false;
  uint32_t staticSharedBytes = 0;
};
struct KernelDesc {
  std::string symbol, kind, location;
  uint32_t target;
  uint32_t maxTasks;
  std::vector<LaunchDesc> launches = {};
};
struct StepDesc {
  uint32_t kernel;
  std::vector<uint32_t> args;
  std::vector<uint32_t> alternatives = {};
  Control control = Control::None;
  uint32_t target = 0;
};

/// A whole artifact: manifest fields plus the code blobs (section 1, 2, ...) and the weights.
struct ModelDesc {
  uint32_t formatVersion = kFirstFormatVersion;
  std::string compilerVersion, modelSha256, modelName;
  std::vector<TensorDesc> inputs, outputs;
  std::vector<BufferDesc> buffers;
  std::vector<TargetDesc> targets;
  std::vector<KernelDesc> kernels;
  std::vector<StepDesc> steps;
  uint64_t arenaSize = 0;
  /// Written as the manifest's weights_size; must equal weights.size() to be valid.
  uint64_t weightsSize = 0;
  std::vector<std::vector<uint8_t>> code;
  std::vector<uint8_t> weights;
};

/// The FlatBuffers manifest of `desc`.
std::vector<uint8_t> buildManifest(const ModelDesc &desc);
/// The artifact of `desc`: section 0 the manifest, sections 1..n the code blobs, then the
/// weights section (left out when there are no weights).
std::vector<uint8_t> buildArtifact(const ModelDesc &desc);

bool writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);

} // namespace catfish::artifact::testing

#endif // CATFISH_TEST_RUNTIME_ARTIFACT_WRITER_H
