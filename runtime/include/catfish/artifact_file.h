//===- catfish/artifact_file.h - a mapped, verified artifact ----*- C++ -*-===//
//
// The C++ reader behind catfish_model_load(), for tools that need the whole manifest
// (catfish-inspect) and for the compiler to check what it wrote. Not part of the stable C API:
// it exposes the FlatBuffers manifest (artifact_generated.h, from runtime/schema/artifact.fbs;
// link the catfish_runtime target to get its include path).
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_ARTIFACT_FILE_H
#define CATFISH_ARTIFACT_FILE_H

#include "artifact_generated.h"
#include "catfish/artifact_format.h"
#include "catfish/runtime.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace catfish::artifact {

/// Limits a verified artifact respects; larger values are rejected as damaged or absurd.
inline constexpr uint64_t kMaxArenaSize = uint64_t(1) << 40;
/// Bound on the summed byte sizes of all inputs (each is copied into every session).
inline constexpr uint64_t kMaxInputBytes = uint64_t(1) << 40;

/// The byte size of a tensor of `dtype` and `shape` (`rank` dims): the element count times the
/// element size, I4 rounded up to whole bytes. False on an unknown dtype, a negative dim or
/// overflow past 2^63.
bool tensorByteSize(DType dtype, const int64_t *dims, size_t rank, uint64_t &outBytes);
/// Whether `dtype` packs two elements per byte (I4, U4, F4E2M1). The API and files see them
/// packed; in buffers, where kernels read and write them, each element has a byte of its own
/// (the low nibble) and the session unpacks inputs and packs outputs.
bool isPackedDType(DType dtype);
/// The byte size of a tensor's buffer: tensorByteSize, but a byte per element when packed.
bool tensorBufferSize(DType dtype, const int64_t *dims, size_t rank, uint64_t &outBytes);
/// The element size of a matrix product the CUDA plan hands to cuBLASLt (F32 4, F16 and BF16
/// 2), or 0 for an element type the runtime does not multiply.
uint64_t matmulElementBytes(DType dtype);

/// "manifest", "code", "weights", or "kind N".
std::string sectionKindName(uint32_t kind);

/// "12.3 KiB", "4.0 GiB", "17 B".
std::string humanBytes(uint64_t bytes);

/// A read-only mapping of an artifact file that passed every check of docs/artifact-format.md
/// ("Verification"): header, section layout and checksums, the FlatBuffers verifier and the
/// semantic checks of the manifest (indices, bounds, sizes). It does not judge whether this
/// machine can run the targets; catfish_model_load() does. Immutable once opened, so all const
/// members may be called from any thread.
class ArtifactFile {
public:
  ArtifactFile(const ArtifactFile &) = delete;
  ArtifactFile &operator=(const ArtifactFile &) = delete;
  ~ArtifactFile();

  /// Maps and verifies `path`. Errors name the file and what is wrong.
  static catfish_status_t *open(const std::string &path, std::unique_ptr<ArtifactFile> &out);
  /// Copies the `size` bytes at `data` into a mapping of its own and verifies them; errors call
  /// the artifact "<memory>".
  static catfish_status_t *openMemory(const void *data, size_t size,
                                      std::unique_ptr<ArtifactFile> &out);

  const std::string &path() const { return path_; }
  uint64_t fileSize() const { return size_; }
  const FileHeader &header() const { return header_; }
  uint32_t sectionCount() const { return header_.sectionCount; }
  /// Entry `index` of the section table (index < sectionCount()).
  const SectionEntry &section(uint32_t index) const;
  /// The bytes of section `index`, inside the mapping.
  const uint8_t *sectionData(uint32_t index) const;
  const Manifest &manifest() const { return *manifest_; }
  /// The weights section (nullptr-free: points into the mapping even when it is empty).
  const uint8_t *weights() const { return weights_; }
  uint64_t weightsSize() const { return weightsSize_; }
  /// Byte size of input or output `index` (verified equal to its buffer's size).
  uint64_t inputByteSize(size_t index) const;
  uint64_t outputByteSize(size_t index) const;
  /// Byte size of the buffer of input `index` (differs from inputByteSize when packed).
  uint64_t inputBufferSize(size_t index) const;

private:
  ArtifactFile() = default;
  catfish_status_t *verify();
  catfish_status_t *verifyLayout();
  catfish_status_t *verifyManifest();

  std::string path_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
  FileHeader header_{};
  const SectionEntry *sections_ = nullptr;
  uint32_t manifestSection_ = 0;
  const Manifest *manifest_ = nullptr;
  const uint8_t *weights_ = nullptr;
  uint64_t weightsSize_ = 0;
  std::unique_ptr<uint64_t[]> inputBytes_;
  std::unique_ptr<uint64_t[]> outputBytes_;
  std::unique_ptr<uint64_t[]> inputBufferBytes_;
};

} // namespace catfish::artifact

#endif // CATFISH_ARTIFACT_FILE_H
