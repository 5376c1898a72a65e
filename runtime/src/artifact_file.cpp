//===- artifact_file.cpp - mapping and verifying an artifact ---------------===//
//
// Every byte of the file is untrusted. The checks run in the order docs/artifact-format.md
// lists, cheapest first, and all arithmetic on values from the file is overflow-safe.
//
//===----------------------------------------------------------------------===//

#include "catfish/artifact_file.h"

#include "status.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "artifacts are little-endian; this runtime reads them in place");

namespace catfish::artifact {
using rt::makeStatusCat;

namespace {

/// What is wrong with control step `index` (its kind is set), or "".
std::string controlStepProblem(const Manifest &m, size_t index) {
  const Step &step = *m.steps()->Get(static_cast<flatbuffers::uoffset_t>(index));
  size_t stepCount = m.steps()->size(), bufferCount = m.buffers() ? m.buffers()->size() : 0;
  size_t minArgs = 0, maxArgs = 0;
  switch (step.control()) {
  case Control::Copy:
    minArgs = maxArgs = 2;
    break;
  case Control::CopyToSlice:
    minArgs = maxArgs = 3;
    break;
  case Control::LoopBegin:
  case Control::LoopTest:
    minArgs = 2;
    maxArgs = 3;
    break;
  case Control::LoopNext:
    minArgs = maxArgs = 1;
    break;
  default:
    return "has an unknown control kind " + std::to_string(static_cast<int>(step.control()));
  }
  size_t argCount = step.args() ? step.args()->size() : 0;
  if (argCount < minArgs || argCount > maxArgs)
    return "takes " + std::to_string(minArgs) +
           (maxArgs > minArgs ? " or " + std::to_string(maxArgs) : std::string()) +
           " buffers, not " + std::to_string(argCount);
  std::vector<const Buffer *> args;
  for (uint32_t id : *step.args()) {
    if (id >= bufferCount)
      return "uses buffer " + std::to_string(id) + " but there are " +
             std::to_string(bufferCount);
    args.push_back(m.buffers()->Get(id));
  }
  auto problemWith = [&](size_t position, const char *what, bool written, uint64_t size) {
    const Buffer &b = *args[position];
    if (written && b.kind() != BufferKind::Arena)
      return std::string("writes its ") + what + " into a buffer that is not in the arena";
    if (size && b.size() != size)
      return std::string("has a ") + what + " of " + std::to_string(b.size()) +
             " bytes, not " + std::to_string(size);
    return std::string();
  };
  std::string problem;
  switch (step.control()) {
  case Control::Copy:
    problem = problemWith(1, "destination", true, args[0]->size());
    break;
  case Control::CopyToSlice:
    problem = problemWith(1, "destination", true, 0);
    if (problem.empty())
      problem = problemWith(2, "iteration", false, 8);
    if (problem.empty() && args[0]->size() && args[1]->size() % args[0]->size())
      problem = "copies slices of " + std::to_string(args[0]->size()) + " bytes into " +
                std::to_string(args[1]->size());
    break;
  case Control::LoopBegin:
  case Control::LoopTest: {
    bool begin = step.control() == Control::LoopBegin;
    problem = problemWith(0, "iteration", begin, 8);
    if (problem.empty())
      problem = problemWith(1, "condition", begin, 1);
    if (problem.empty() && argCount == 3)
      problem = problemWith(2, begin ? "initial condition" : "trip count", false, begin ? 1 : 8);
    if (problem.empty() && !begin && (step.target() <= index || step.target() > stepCount))
      problem = "leaves the loop for step " + std::to_string(step.target()) +
                ", which does not follow it";
    break;
  }
  default:
    problem = problemWith(0, "iteration", true, 8);
    if (problem.empty() && step.target() >= index)
      problem = "repeats from step " + std::to_string(step.target()) +
                ", which does not precede it";
    break;
  }
  return problem;
}

/// a + b <= limit, without overflow.
bool fitsWithin(uint64_t offset, uint64_t size, uint64_t limit) {
  return size <= limit && offset <= limit - size;
}

bool isLowerHex(const flatbuffers::String *text) {
  for (char c : text->string_view())
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

/// "section 2 (code)".
std::string sectionLabel(uint32_t index, uint32_t kind) {
  return "section " + std::to_string(index) + " (" + sectionKindName(kind) + ")";
}

/// The largest manifest the FlatBuffers verifier accepts.
constexpr uint64_t kMaxManifestSize = FLATBUFFERS_MAX_BUFFER_SIZE - 1;
/// The most threads a CUDA block has on every GPU.
constexpr uint64_t kMaxThreadsPerBlock = 1024;

/// Generous: one table per buffer, step, kernel, tensor; far beyond any real model.
constexpr flatbuffers::uoffset_t kMaxManifestTables = 1u << 28;

} // namespace

bool isPackedDType(DType dtype) {
  return dtype == DType::I4 || dtype == DType::U4 || dtype == DType::F4E2M1;
}

uint64_t matmulElementBytes(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  default:
    return 0;
  }
}

bool tensorBufferSize(DType dtype, const int64_t *dims, size_t rank, uint64_t &outBytes) {
  return tensorByteSize(isPackedDType(dtype) ? DType::I8 : dtype, dims, rank, outBytes);
}

bool tensorByteSize(DType dtype, const int64_t *dims, size_t rank, uint64_t &outBytes) {
  size_t bits = catfish_dtype_bit_width(static_cast<catfish_dtype_t>(dtype));
  if (bits == 0)
    return false;
  uint64_t elements = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return false;
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(dims[i]), &elements))
      return false;
  }
  uint64_t totalBits;
  if (__builtin_mul_overflow(elements, static_cast<uint64_t>(bits), &totalBits))
    return false;
  uint64_t bytes = totalBits / 8 + (totalBits % 8 != 0);
  if (bytes > static_cast<uint64_t>(INT64_MAX))
    return false;
  outBytes = bytes;
  return true;
}

std::string humanBytes(uint64_t bytes) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < sizeof(units) / sizeof(units[0])) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, units[unit]);
  return text;
}

std::string sectionKindName(uint32_t kind) {
  switch (static_cast<SectionKind>(kind)) {
  case SectionKind::Manifest:
    return "manifest";
  case SectionKind::Code:
    return "code";
  case SectionKind::Weights:
    return "weights";
  }
  return "kind " + std::to_string(kind);
}

ArtifactFile::~ArtifactFile() {
  if (data_)
    munmap(const_cast<uint8_t *>(data_), size_);
}

const SectionEntry &ArtifactFile::section(uint32_t index) const { return sections_[index]; }

const uint8_t *ArtifactFile::sectionData(uint32_t index) const {
  return data_ + sections_[index].offset;
}

uint64_t ArtifactFile::inputByteSize(size_t index) const { return inputBytes_[index]; }
uint64_t ArtifactFile::outputByteSize(size_t index) const { return outputBytes_[index]; }
uint64_t ArtifactFile::inputBufferSize(size_t index) const { return inputBufferBytes_[index]; }

catfish_status_t *ArtifactFile::open(const std::string &path, std::unique_ptr<ArtifactFile> &out) {
  std::unique_ptr<ArtifactFile> file(new ArtifactFile());
  file->path_ = path;

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return makeStatusCat(CATFISH_STATUS_IO_ERROR, "cannot open '", path,
                         "': ", std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    close(fd);
    return makeStatusCat(CATFISH_STATUS_IO_ERROR, "cannot stat '", path,
                         "': ", std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return makeStatusCat(CATFISH_STATUS_IO_ERROR, path, ": not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (size < sizeof(FileHeader)) {
    close(fd);
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, path, ": not a Catfish artifact (the file is ",
                         size, " bytes, shorter than the ", sizeof(FileHeader), "-byte header)");
  }
  if (size > static_cast<uint64_t>(SIZE_MAX)) {
    close(fd);
    return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, path, ": the file is too large to map");
  }
  void *mapping = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  int mapError = errno;
  close(fd);
  if (mapping == MAP_FAILED)
    return makeStatusCat(CATFISH_STATUS_IO_ERROR, "cannot map '", path,
                         "': ", std::strerror(mapError));
  file->data_ = static_cast<const uint8_t *>(mapping);
  file->size_ = size;
  if (catfish_status_t *status = file->verify())
    return status;
  out = std::move(file);
  return nullptr;
}

catfish_status_t *ArtifactFile::openMemory(const void *data, size_t size,
                                           std::unique_ptr<ArtifactFile> &out) {
  std::unique_ptr<ArtifactFile> file(new ArtifactFile());
  file->path_ = "<memory>";
  if (size < sizeof(FileHeader))
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS,
                         "<memory>: not a Catfish artifact (the buffer is ", size,
                         " bytes, shorter than the ", sizeof(FileHeader), "-byte header)");
  void *mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED)
    return makeStatusCat(CATFISH_STATUS_RESOURCE_EXHAUSTED, "<memory>: cannot map ",
                         humanBytes(size), " for a copy of the artifact: ", std::strerror(errno));
  std::memcpy(mapping, data, size);
  mprotect(mapping, size, PROT_READ);
  file->data_ = static_cast<const uint8_t *>(mapping);
  file->size_ = size;
  if (catfish_status_t *status = file->verify())
    return status;
  out = std::move(file);
  return nullptr;
}

catfish_status_t *ArtifactFile::verify() {
  if (catfish_status_t *status = verifyLayout())
    return status;
  return verifyManifest();
}

catfish_status_t *ArtifactFile::verifyLayout() {
  const std::string &p = path_;
  std::memcpy(&header_, data_, sizeof(header_));
  if (std::memcmp(header_.magic, kMagic, sizeof(kMagic)) != 0)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": not a Catfish artifact (bad magic)");
  if (header_.formatVersion > kFormatVersion)
    return makeStatusCat(CATFISH_STATUS_UNSUPPORTED, p, ": artifact format version ",
                         header_.formatVersion, " is newer than this runtime supports (",
                         kFormatVersion, "); rebuild the runtime");
  if (header_.formatVersion == 0)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p,
                         ": the header is damaged: format version 0 does not exist");
  if (header_.fileSize != size_) {
    if (header_.fileSize > size_)
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": truncated: the header says ",
                           header_.fileSize, " bytes, the file has ", size_);
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": the file has ", size_,
                         " bytes but the header says ", header_.fileSize,
                         " (trailing data or a damaged header)");
  }
  // sectionCount is 32-bit, so the table size cannot overflow 64 bits.
  uint64_t tableEnd = sizeof(FileHeader) + uint64_t(header_.sectionCount) * sizeof(SectionEntry);
  if (tableEnd > size_)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": the header is damaged: ",
                         header_.sectionCount, " sections do not fit in the file");

  FileHeader zeroed = header_;
  zeroed.headerChecksum = 0;
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  XXH64_update(&state, &zeroed, sizeof(zeroed));
  XXH64_update(&state, data_ + sizeof(FileHeader), tableEnd - sizeof(FileHeader));
  if (XXH64_digest(&state) != header_.headerChecksum)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p,
                         ": the header or section table is damaged: checksum mismatch");
  sections_ = reinterpret_cast<const SectionEntry *>(data_ + sizeof(FileHeader));

  // Sections lie in table order, aligned, inside the file and without overlap; every byte
  // outside the header, the table and the sections must be zero.
  uint64_t cursor = tableEnd;
  bool haveManifest = false, haveWeights = false;
  for (uint32_t i = 0; i < header_.sectionCount; ++i) {
    const SectionEntry &entry = sections_[i];
    std::string name = sectionLabel(i, entry.kind);
    if (entry.reserved != 0)
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": ", name, " is damaged: reserved field is ",
                           entry.reserved, ", not 0");
    uint64_t alignment =
        entry.kind == uint32_t(SectionKind::Weights) ? kWeightsSectionAlignment : kSectionAlignment;
    if (entry.offset % alignment != 0)
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": ", name, " is damaged: offset ",
                           entry.offset, " is not a multiple of ", alignment);
    if (entry.offset < cursor)
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": ", name, " is damaged: offset ",
                           entry.offset, " overlaps the header or the previous section");
    if (!fitsWithin(entry.offset, entry.size, size_))
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": ", name, " (offset ", entry.offset,
                           ", ", entry.size, " bytes) extends past the end of the file (", size_,
                           " bytes)");
    for (uint64_t b = cursor; b < entry.offset; ++b)
      if (data_[b] != 0)
        return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": the padding before ", name,
                             " is damaged: byte ", b, " is not zero");
    cursor = entry.offset + entry.size;
    if (entry.kind == uint32_t(SectionKind::Manifest)) {
      if (haveManifest)
        return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": more than one manifest section");
      haveManifest = true;
      manifestSection_ = i;
    } else if (entry.kind == uint32_t(SectionKind::Weights)) {
      if (haveWeights)
        return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": more than one weights section");
      haveWeights = true;
      weights_ = data_ + entry.offset;
      weightsSize_ = entry.size;
    }
  }
  for (uint64_t b = cursor; b < size_; ++b)
    if (data_[b] != 0)
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p,
                           ": the padding after the last section is damaged: byte ", b,
                           " is not zero");

  for (uint32_t i = 0; i < header_.sectionCount; ++i) {
    const SectionEntry &entry = sections_[i];
    if (XXH64(data_ + entry.offset, entry.size, 0) != entry.checksum)
      return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": ", sectionLabel(i, entry.kind),
                           " is damaged: checksum mismatch");
  }
  if (!haveManifest)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": the file has no manifest section");
  if (!haveWeights)
    weights_ = data_;
  return nullptr;
}

catfish_status_t *ArtifactFile::verifyManifest() {
  const std::string &p = path_;
  const SectionEntry &entry = sections_[manifestSection_];
  if (entry.size > kMaxManifestSize)
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": the manifest is ", entry.size,
                         " bytes, more than FlatBuffers allows");
  const uint8_t *bytes = data_ + entry.offset;
  flatbuffers::Verifier verifier(bytes, static_cast<size_t>(entry.size), 64, kMaxManifestTables);
  if (!VerifyManifestBuffer(verifier))
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p,
                         ": the manifest is malformed (FlatBuffers verification failed)");
  manifest_ = GetManifest(bytes);
  const Manifest &m = *manifest_;
  auto bad = [&](const auto &...args) {
    return makeStatusCat(CATFISH_STATUS_DATA_LOSS, p, ": invalid manifest: ", args...);
  };

  if (m.model_sha256() && m.model_sha256()->size() != 0 &&
      (m.model_sha256()->size() != 64 || !isLowerHex(m.model_sha256())))
    return bad("model_sha256 is not 64 lower-case hex digits");
  if (m.arena_size() > kMaxArenaSize)
    return bad("arena size ", m.arena_size(), " bytes (", humanBytes(m.arena_size()),
               ") is absurd; the limit is ", humanBytes(kMaxArenaSize));
  if (m.weights_size() != weightsSize_)
    return bad("weights_size is ", m.weights_size(), " but the weights section has ", weightsSize_,
               " bytes");

  size_t bufferCount = m.buffers() ? m.buffers()->size() : 0;
  size_t inputCount = m.inputs() ? m.inputs()->size() : 0;
  size_t outputCount = m.outputs() ? m.outputs()->size() : 0;

  // Tensors: valid dtype and shape, unique names, a buffer of exactly their size.
  inputBytes_.reset(new uint64_t[inputCount + 1]);
  outputBytes_.reset(new uint64_t[outputCount + 1]);
  inputBufferBytes_.reset(new uint64_t[inputCount + 1]);
  uint64_t totalInputBytes = 0;
  for (int isOutput = 0; isOutput < 2; ++isOutput) {
    const auto *tensors = isOutput ? m.outputs() : m.inputs();
    size_t count = isOutput ? outputCount : inputCount;
    const char *what = isOutput ? "output" : "input";
    std::unordered_set<std::string_view> names;
    for (size_t i = 0; i < count; ++i) {
      const TensorInfo &t = *tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
      std::string_view name = t.name()->string_view();
      if (!names.insert(name).second)
        return bad("two ", what, "s are called '", name, "'");
      const auto *shape = t.shape();
      // The verifier only guarantees 4-byte alignment of vectors; dims are read in place. The
      // empty shape of a scalar has no dims to read and may sit anywhere.
      if (shape && shape->size() != 0 &&
          reinterpret_cast<uintptr_t>(shape->data()) % alignof(int64_t) != 0)
        return bad("the shape of ", what, " '", name, "' is misaligned");
      uint64_t bytes, bufferBytes;
      const int64_t *dims = shape ? shape->data() : nullptr;
      size_t rank = shape ? shape->size() : 0;
      if (!tensorByteSize(t.dtype(), dims, rank, bytes) ||
          !tensorBufferSize(t.dtype(), dims, rank, bufferBytes))
        return bad(what, " '", name, "' has an invalid dtype (",
                   static_cast<unsigned>(t.dtype()), ") or shape");
      if (t.buffer() >= bufferCount)
        return bad(what, " '", name, "' uses buffer ", t.buffer(), " but there are ", bufferCount);
      const Buffer &buffer = *m.buffers()->Get(t.buffer());
      if (buffer.size() != bufferBytes)
        return bad(what, " '", name, "' needs ", bufferBytes, " bytes but its buffer ",
                   t.buffer(), " has ", buffer.size());
      if (const auto *dynamic = t.data_dependent_dims(); dynamic && dynamic->size() != 0) {
        if (!isOutput)
          return bad("input '", name, "' has data-dependent dims; only outputs may");
        if (header_.formatVersion < kDataDependentDimsFormatVersion)
          return bad("output '", name, "' has data-dependent dims, which format version ",
                     header_.formatVersion, " cannot describe");
        // The C API reports them as a 64-bit mask.
        if (rank > 64)
          return bad("output '", name, "' has data-dependent dims and rank ", rank,
                     "; the limit is 64");
        // Compacting moves whole bytes; a packed output would need repacking instead.
        if (isPackedDType(t.dtype()))
          return bad("output '", name, "' is ", catfish_dtype_name(catfish_dtype_t(t.dtype())),
                     ", packed two per byte, and cannot have data-dependent dims");
        uint64_t seen = 0;
        for (const DataDependentDim *dim : *dynamic) {
          if (dim->dim() >= rank)
            return bad("output '", name, "' has data-dependent dim ", dim->dim(),
                       " but its rank is ", rank);
          if (seen & (uint64_t(1) << dim->dim()))
            return bad("output '", name, "' lists data-dependent dim ", dim->dim(), " twice");
          seen |= uint64_t(1) << dim->dim();
          if (dim->size_buffer() >= bufferCount)
            return bad("output '", name, "' has the size of dim ", dim->dim(), " in buffer ",
                       dim->size_buffer(), " but there are ", bufferCount);
          const Buffer &size = *m.buffers()->Get(dim->size_buffer());
          if (size.kind() != BufferKind::Arena || size.size() != sizeof(int64_t))
            return bad("output '", name, "' has the size of dim ", dim->dim(), " in buffer ",
                       dim->size_buffer(), ", which is not an 8-byte arena buffer");
        }
      }
      if (!isOutput) {
        if (buffer.kind() != BufferKind::Input || buffer.input_index() != static_cast<int32_t>(i))
          return bad("input '", name, "' uses buffer ", t.buffer(),
                     ", which is not an Input buffer for input ", i);
        totalInputBytes += bufferBytes > kMaxInputBytes ? kMaxInputBytes + 1 : bufferBytes;
        if (totalInputBytes > kMaxInputBytes)
          return bad("the inputs total more than ", humanBytes(kMaxInputBytes));
        inputBytes_[i] = bytes;
        inputBufferBytes_[i] = bufferBytes;
      } else {
        outputBytes_[i] = bytes;
      }
    }
  }

  // Buffers: Input ones match their input; the others lie inside their region, aligned.
  for (size_t i = 0; i < bufferCount; ++i) {
    const Buffer &b = *m.buffers()->Get(static_cast<flatbuffers::uoffset_t>(i));
    switch (b.kind()) {
    case BufferKind::Input: {
      if (b.input_index() < 0 || static_cast<size_t>(b.input_index()) >= inputCount)
        return bad("buffer ", i, " refers to input ", b.input_index(), " but there are ",
                   inputCount);
      if (b.offset() != 0 || b.size() != inputBufferBytes_[b.input_index()])
        return bad("buffer ", i, " of input ", b.input_index(), " has offset ", b.offset(),
                   " and size ", b.size(), "; expected 0 and ",
                   inputBufferBytes_[b.input_index()]);
      break;
    }
    case BufferKind::Weight:
    case BufferKind::Arena: {
      bool weight = b.kind() == BufferKind::Weight;
      uint64_t limit = weight ? weightsSize_ : m.arena_size();
      uint64_t alignment = weight ? kWeightAlignment : kArenaAlignment;
      const char *region = weight ? "weights section" : "arena";
      if (b.input_index() != -1)
        return bad("buffer ", i, " is not an Input buffer but has input_index ", b.input_index());
      if (b.offset() % alignment != 0)
        return bad("buffer ", i, " has offset ", b.offset(), ", not a multiple of ", alignment);
      if (!fitsWithin(b.offset(), b.size(), limit))
        return bad("buffer ", i, " (offset ", b.offset(), ", ", b.size(),
                   " bytes) extends past the end of the ", region, " (", limit, " bytes)");
      break;
    }
    default:
      return bad("buffer ", i, " has unknown kind ", static_cast<unsigned>(b.kind()));
    }
  }

  size_t targetCount = m.targets() ? m.targets()->size() : 0;
  for (size_t i = 0; i < targetCount; ++i) {
    const Target &t = *m.targets()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (t.name()->size() == 0)
      return bad("target ", i, " has no name");
    if (t.section() >= header_.sectionCount)
      return bad("target ", i, " (", t.name()->string_view(), ") uses section ", t.section(),
                 " but the file has ", header_.sectionCount);
    if (sections_[t.section()].kind != uint32_t(SectionKind::Code))
      return bad("target ", i, " (", t.name()->string_view(), ") uses section ", t.section(),
                 ", which is a ", sectionKindName(sections_[t.section()].kind),
                 " section, not code");
  }

  size_t kernelCount = m.kernels() ? m.kernels()->size() : 0;
  for (size_t i = 0; i < kernelCount; ++i) {
    const Kernel &k = *m.kernels()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (k.symbol()->size() == 0)
      return bad("kernel ", i, " has an empty symbol");
    if (k.target() >= targetCount)
      return bad("kernel ", i, " (", k.symbol()->string_view(), ") uses target ", k.target(),
                 " but there are ", targetCount);
    if (k.max_tasks() == 0)
      return bad("kernel ", i, " (", k.symbol()->string_view(), ") has max_tasks 0");
    if (const auto *calls = k.calls())
      for (flatbuffers::uoffset_t l = 0; l < calls->size(); ++l) {
        const CudaCall &call = *calls->Get(l);
        if (!call.launch() == !call.matmul())
          return bad("kernel ", i, " (", k.symbol()->string_view(), ") call ", l,
                     " needs exactly one of a launch and a library call");
        if (const CudaMatmul *mm = call.matmul()) {
          if (mm->m() == 0 || mm->n() == 0 || mm->k() == 0 || mm->batch() == 0 ||
              matmulElementBytes(mm->dtype()) == 0 ||
              mm->lda() < (mm->transpose_a() ? mm->m() : mm->k()) ||
              mm->ldb() < (mm->transpose_b() ? mm->k() : mm->n()) || mm->ldc() < mm->n())
            return bad("kernel ", i, " (", k.symbol()->string_view(), ") call ", l,
                       " is a matrix product with inconsistent sizes or an element type the "
                       "runtime does not know (f32, f16, bf16)");
          continue;
        }
        const CudaLaunch &launch = *call.launch();
        for (const auto *sizes : {launch.grid(), launch.block()}) {
          bool valid = sizes && sizes->size() == 3;
          for (flatbuffers::uoffset_t d = 0; valid && d < 3; ++d)
            valid = sizes->Get(d) != 0;
          if (!valid)
            return bad("kernel ", i, " (", k.symbol()->string_view(), ") launch ", l, " (",
                       launch.function()->string_view(),
                       ") needs three non-zero grid and block sizes");
        }
        uint64_t threads = uint64_t(launch.block()->Get(0)) * launch.block()->Get(1) *
                           launch.block()->Get(2);
        if (threads > kMaxThreadsPerBlock)
          return bad("kernel ", i, " (", k.symbol()->string_view(), ") launch ", l, " (",
                     launch.function()->string_view(), ") has ", threads,
                     " threads per block; CUDA allows ", kMaxThreadsPerBlock);
      }
  }

  size_t stepCount = m.steps() ? m.steps()->size() : 0;
  for (size_t i = 0; i < stepCount; ++i) {
    const Step &s = *m.steps()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (s.control() != Control::None) {
      if (header_.formatVersion < kControlStepsFormatVersion)
        return bad("step ", i, " is a control step, which format version ",
                   header_.formatVersion, " cannot describe");
      std::string problem = controlStepProblem(m, i);
      if (!problem.empty())
        return bad("step ", i, " (", EnumNameControl(s.control()), ") ", problem);
      continue;
    }
    if (s.kernel() >= kernelCount)
      return bad("step ", i, " uses kernel ", s.kernel(), " but there are ", kernelCount);
    size_t argCount = s.args() ? s.args()->size() : 0;
    for (flatbuffers::uoffset_t a = 0; a < argCount; ++a)
      if (s.args()->Get(a) >= bufferCount)
        return bad("step ", i, " argument ", a, " is buffer ", s.args()->Get(a),
                   " but there are ", bufferCount);
    std::vector<uint32_t> kernels = {s.kernel()};
    if (const auto *alternatives = s.alternatives())
      for (uint32_t alternative : *alternatives) {
        if (alternative >= kernelCount)
          return bad("step ", i, " has alternative kernel ", alternative, " but there are ",
                     kernelCount);
        kernels.push_back(alternative);
      }
    for (uint32_t kernel : kernels) {
      const auto *calls = m.kernels()->Get(kernel)->calls();
      for (flatbuffers::uoffset_t c = 0; calls && c < calls->size(); ++c) {
        if (const CudaLaunch *launch = calls->Get(c)->launch()) {
          if (launch->args())
            for (uint32_t position : *launch->args())
              if (position >= argCount)
                return bad("step ", i, " launches ", launch->function()->string_view(),
                           " with its argument ", position, " but the step has ", argCount);
          continue;
        }
        const CudaMatmul &mm = *calls->Get(c)->matmul();
        struct Operand {
          const char *name;
          uint32_t position;
          uint64_t rows, columns, ld, stride, offset;
        } operands[] = {
            {"A", mm.a(), mm.transpose_a() ? mm.k() : mm.m(), mm.transpose_a() ? mm.m() : mm.k(),
             mm.lda(), mm.stride_a(), mm.offset_a()},
            {"B", mm.b(), mm.transpose_b() ? mm.n() : mm.k(), mm.transpose_b() ? mm.k() : mm.n(),
             mm.ldb(), mm.stride_b(), mm.offset_b()},
            {"C", mm.c(), mm.m(), mm.n(), mm.ldc(), mm.stride_c(), mm.offset_c()}};
        for (const Operand &operand : operands) {
          if (operand.position >= argCount)
            return bad("step ", i, " multiplies with ", operand.name, " its argument ",
                       operand.position, " but the step has ", argCount);
          // The end of what it reads or writes:
          // offset + (batch - 1) * stride + (rows - 1) * ld + columns elements.
          uint64_t last, rowsPart, batchPart, bytes;
          bool overflow = __builtin_mul_overflow(mm.batch() - 1, operand.stride, &batchPart) ||
                          __builtin_mul_overflow(operand.rows - 1, operand.ld, &rowsPart) ||
                          __builtin_add_overflow(batchPart, rowsPart, &last) ||
                          __builtin_add_overflow(last, operand.offset, &last) ||
                          __builtin_add_overflow(last, operand.columns, &last) ||
                          __builtin_mul_overflow(last, matmulElementBytes(mm.dtype()), &bytes);
          uint64_t size = m.buffers()->Get(s.args()->Get(operand.position))->size();
          if (overflow || bytes > size)
            return bad("step ", i, " multiplies with ", operand.name, " reaching ",
                       overflow ? std::string("past 2^64") : std::to_string(bytes),
                       " bytes into a buffer of ", size);
        }
      }
    }
  }
  return nullptr;
}

} // namespace catfish::artifact
