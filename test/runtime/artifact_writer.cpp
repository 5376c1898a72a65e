//===- artifact_writer.cpp - a minimal .catfish writer for tests -----------===//

#include "artifact_writer.h"

#include <cstdio>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace catfish::artifact::testing {

std::vector<uint8_t> writeArtifactFile(const std::vector<SectionBytes> &sections,
                                       uint32_t formatVersion) {
  auto alignUp = [](uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
  };
  std::vector<SectionEntry> table(sections.size());
  uint64_t cursor = sizeof(FileHeader) + sections.size() * sizeof(SectionEntry);
  for (size_t i = 0; i < sections.size(); ++i) {
    uint64_t alignment = sections[i].kind == SectionKind::Weights ? kWeightsSectionAlignment
                                                                  : kSectionAlignment;
    cursor = alignUp(cursor, alignment);
    table[i].kind = static_cast<uint32_t>(sections[i].kind);
    table[i].reserved = 0;
    table[i].offset = cursor;
    table[i].size = sections[i].bytes.size();
    table[i].checksum = XXH64(sections[i].bytes.data(), sections[i].bytes.size(), 0);
    cursor += sections[i].bytes.size();
  }

  FileHeader header;
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.formatVersion = formatVersion;
  header.sectionCount = static_cast<uint32_t>(sections.size());
  header.fileSize = cursor;
  header.headerChecksum = 0;
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  XXH64_update(&state, &header, sizeof(header));
  XXH64_update(&state, table.data(), table.size() * sizeof(SectionEntry));
  header.headerChecksum = XXH64_digest(&state);

  std::vector<uint8_t> file(cursor, 0);
  std::memcpy(file.data(), &header, sizeof(header));
  if (!table.empty())
    std::memcpy(file.data() + sizeof(header), table.data(), table.size() * sizeof(SectionEntry));
  for (size_t i = 0; i < sections.size(); ++i)
    if (!sections[i].bytes.empty())
      std::memcpy(file.data() + table[i].offset, sections[i].bytes.data(),
                  sections[i].bytes.size());
  return file;
}

std::vector<uint8_t> buildManifest(const ModelDesc &desc) {
  flatbuffers::FlatBufferBuilder fbb;
  auto tensors = [&](const std::vector<TensorDesc> &list) {
    std::vector<flatbuffers::Offset<TensorInfo>> out;
    for (const TensorDesc &t : list) {
      std::vector<flatbuffers::Offset<DataDependentDim>> dims;
      for (const DataDependentDimDesc &d : t.dataDependentDims)
        dims.push_back(CreateDataDependentDim(fbb, d.dim, d.sizeBuffer));
      out.push_back(CreateTensorInfoDirect(fbb, t.name.c_str(), t.dtype, &t.shape, t.buffer,
                                           dims.empty() ? nullptr : &dims));
    }
    return out;
  };
  auto inputs = tensors(desc.inputs);
  auto outputs = tensors(desc.outputs);
  std::vector<flatbuffers::Offset<Buffer>> buffers;
  for (const BufferDesc &b : desc.buffers)
    buffers.push_back(CreateBuffer(fbb, b.kind, b.offset, b.size, b.inputIndex));
  std::vector<flatbuffers::Offset<Target>> targets;
  for (const TargetDesc &t : desc.targets)
    targets.push_back(CreateTargetDirect(fbb, t.name.c_str(), t.arch.c_str(), t.format.c_str(),
                                         t.section));
  std::vector<flatbuffers::Offset<Kernel>> kernels;
  for (const KernelDesc &k : desc.kernels) {
    std::vector<flatbuffers::Offset<CudaCall>> calls;
    for (const LaunchDesc &l : k.launches)
      calls.push_back(CreateCudaCall(
          fbb, CreateCudaLaunchDirect(fbb, l.function.c_str(), &l.grid, &l.block, 0, &l.args,
                                      nullptr, l.cooperative, l.staticSharedBytes)));
    kernels.push_back(CreateKernelDirect(fbb, k.symbol.c_str(), k.kind.c_str(),
                                         k.location.c_str(), k.target, k.maxTasks,
                                         calls.empty() ? nullptr : &calls));
  }
  std::vector<flatbuffers::Offset<Step>> steps;
  for (const StepDesc &s : desc.steps)
    steps.push_back(CreateStepDirect(fbb, s.kernel, &s.args,
                                     s.alternatives.empty() ? nullptr : &s.alternatives,
                                     s.control, s.target));
  auto manifest = CreateManifestDirect(
      fbb, desc.compilerVersion.c_str(), desc.modelSha256.c_str(), desc.modelName.c_str(),
      &inputs, &outputs, &buffers, &targets, &kernels, &steps, desc.arenaSize, desc.weightsSize);
  FinishManifestBuffer(fbb, manifest);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

std::vector<uint8_t> buildArtifact(const ModelDesc &desc) {
  std::vector<SectionBytes> sections;
  sections.push_back({SectionKind::Manifest, buildManifest(desc)});
  for (const std::vector<uint8_t> &code : desc.code)
    sections.push_back({SectionKind::Code, code});
  if (!desc.weights.empty())
    sections.push_back({SectionKind::Weights, desc.weights});
  return writeArtifactFile(sections, desc.formatVersion);
}

bool writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return false;
  bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && ok;
}

} // namespace catfish::artifact::testing
