//===- npy.cpp - reading and writing NumPy .npy files ----------------------===//

#include "npy.h"

#include <cstring>

namespace catfish::tools {
namespace {

const char kNpyMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

struct DescrEntry {
  const char *code; // Without the byte-order character.
  catfish_dtype_t dtype;
};
const DescrEntry kDescrs[] = {
    {"f4", CATFISH_DTYPE_F32}, {"f8", CATFISH_DTYPE_F64}, {"f2", CATFISH_DTYPE_F16},
    {"i8", CATFISH_DTYPE_I64}, {"i4", CATFISH_DTYPE_I32}, {"i2", CATFISH_DTYPE_I16},
    {"i1", CATFISH_DTYPE_I8},  {"u8", CATFISH_DTYPE_U64}, {"u4", CATFISH_DTYPE_U32},
    {"u2", CATFISH_DTYPE_U16}, {"u1", CATFISH_DTYPE_U8},  {"b1", CATFISH_DTYPE_BOOL},
};

/// The value after `'key':` in the header dict, up to the next top-level ',' or '}'.
bool dictValue(const std::string &header, const std::string &key, std::string &out) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return false;
  at = header.find(':', at);
  if (at == std::string::npos)
    return false;
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  size_t end = at;
  if (end < header.size() && header[end] == '(') {
    end = header.find(')', end);
    if (end == std::string::npos)
      return false;
    ++end;
  } else if (end < header.size() && (header[end] == '\'' || header[end] == '"')) {
    end = header.find(header[at], end + 1);
    if (end == std::string::npos)
      return false;
    ++end;
  } else {
    while (end < header.size() && header[end] != ',' && header[end] != '}')
      ++end;
  }
  out = header.substr(at, end - at);
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return true;
}

bool parseShape(const std::string &text, std::vector<int64_t> &shape) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  std::string inner = text.substr(1, text.size() - 2);
  size_t at = 0;
  while (at < inner.size()) {
    while (at < inner.size() && (inner[at] == ' ' || inner[at] == ','))
      ++at;
    if (at == inner.size())
      break;
    if (inner[at] < '0' || inner[at] > '9')
      return false;
    int64_t dim = 0;
    while (at < inner.size() && inner[at] >= '0' && inner[at] <= '9') {
      if (__builtin_mul_overflow(dim, int64_t(10), &dim) ||
          __builtin_add_overflow(dim, int64_t(inner[at] - '0'), &dim))
        return false;
      ++at;
    }
    while (at < inner.size() && inner[at] == 'L') // Python 2 longs.
      ++at;
    shape.push_back(dim);
  }
  return true;
}

} // namespace

bool parseNpy(const uint8_t *bytes, size_t size, const std::string &name, HostTensor &out,
              std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "'" + name + "' is not a valid .npy file: " + what;
    return false;
  };
  out.shape.clear();
  out.data.clear();
  if (size < 10 || std::memcmp(bytes, kNpyMagic, sizeof(kNpyMagic)) != 0)
    return fail("bad magic");
  uint8_t major = bytes[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = bytes[8] | size_t(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail("truncated header");
    headerLength = bytes[8] | size_t(bytes[9]) << 8 | size_t(bytes[10]) << 16 |
                   size_t(bytes[11]) << 24;
    headerStart = 12;
  } else {
    return fail("unsupported version " + std::to_string(major));
  }
  if (headerLength > size - headerStart)
    return fail("truncated header");
  std::string header(reinterpret_cast<const char *>(bytes + headerStart), headerLength);

  std::string descr, fortran, shapeValue;
  if (!dictValue(header, "descr", descr) || descr.size() < 4 || descr.front() != descr.back() ||
      (descr.front() != '\'' && descr.front() != '"'))
    return fail("no 'descr' string in the header");
  descr = descr.substr(1, descr.size() - 2);
  if (!dictValue(header, "fortran_order", fortran) || (fortran != "False" && fortran != "True"))
    return fail("no 'fortran_order' in the header");
  if (fortran == "True")
    return fail("Fortran-order arrays are not supported; save a C-order array");
  if (!dictValue(header, "shape", shapeValue) || !parseShape(shapeValue, out.shape))
    return fail("no valid 'shape' in the header");

  char order = descr[0];
  std::string code = descr.substr(1);
  const DescrEntry *entry = nullptr;
  for (const DescrEntry &candidate : kDescrs)
    if (code == candidate.code)
      entry = &candidate;
  if (!entry)
    return fail("unsupported dtype '" + descr + "'");
  size_t itemSize = catfish_dtype_bit_width(entry->dtype) / 8;
  if (order == '>' && itemSize > 1)
    return fail("big-endian data ('" + descr + "') is not supported");
  if (order != '<' && order != '|' && order != '=' && order != '>')
    return fail("bad byte order in dtype '" + descr + "'");
  out.dtype = entry->dtype;

  uint64_t count, bytesNeeded;
  if (!elementCount(out.shape, count) || __builtin_mul_overflow(count, itemSize, &bytesNeeded))
    return fail("shape too large");
  size_t dataStart = headerStart + headerLength;
  if (bytesNeeded != size - dataStart)
    return fail("the data is " + std::to_string(size - dataStart) + " bytes; shape " +
                shapeText(out.shape) + " of " + descr + " needs " + std::to_string(bytesNeeded));
  out.data.assign(bytes + dataStart, bytes + size);
  return true;
}

std::vector<uint8_t> encodeNpy(catfish_dtype_t dtype, const int64_t *dims, size_t rank,
                               const uint8_t *data, size_t byteSize) {
  const char *descr = "<f4";
  std::vector<uint8_t> payload;
  const uint8_t *body = data;
  size_t bodySize = byteSize;
  switch (dtype) {
  case CATFISH_DTYPE_F32: descr = "<f4"; break;
  case CATFISH_DTYPE_F16: descr = "<f2"; break;
  case CATFISH_DTYPE_BF16: descr = "<u2"; break;
  case CATFISH_DTYPE_F64: descr = "<f8"; break;
  case CATFISH_DTYPE_I64: descr = "<i8"; break;
  case CATFISH_DTYPE_I32: descr = "<i4"; break;
  case CATFISH_DTYPE_I16: descr = "<i2"; break;
  case CATFISH_DTYPE_I8: descr = "|i1"; break;
  case CATFISH_DTYPE_U64: descr = "<u8"; break;
  case CATFISH_DTYPE_U32: descr = "<u4"; break;
  case CATFISH_DTYPE_U16: descr = "<u2"; break;
  case CATFISH_DTYPE_U8: descr = "|u1"; break;
  case CATFISH_DTYPE_BOOL: descr = "|b1"; break;
  case CATFISH_DTYPE_F8E4M3FN:
  case CATFISH_DTYPE_F8E5M2:
  case CATFISH_DTYPE_F8E4M3FNUZ:
  case CATFISH_DTYPE_F8E5M2FNUZ: descr = "|u1"; break;
  case CATFISH_DTYPE_I4:
  case CATFISH_DTYPE_U4:
  case CATFISH_DTYPE_F4E2M1: {
    // One byte per element: I4 as i1, U4 as u1, E2M1 as its 4-bit code in a u1.
    descr = dtype == CATFISH_DTYPE_I4 ? "|i1" : "|u1";
    uint64_t count = 1;
    for (size_t i = 0; i < rank; ++i)
      count *= static_cast<uint64_t>(dims[i]);
    payload.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      uint8_t nibble = (data[i / 2] >> (i % 2 ? 4 : 0)) & 0xf;
      bool negative = dtype == CATFISH_DTYPE_I4 && nibble >= 8;
      payload[i] = negative ? static_cast<uint8_t>(nibble | 0xf0) : nibble;
    }
    body = payload.data();
    bodySize = payload.size();
    break;
  }
  }
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < rank; ++i)
    header += std::to_string(dims[i]) + (rank == 1 ? "," : i + 1 < rank ? ", " : "");
  header += "), }";
  // Version 1 when the header fits 16 bits; total header length padded to 64 bytes, '\n' last.
  bool v1 = header.size() + 1 + 10 < 65536;
  size_t prefix = v1 ? 10 : 12;
  size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  std::vector<uint8_t> file(kNpyMagic, kNpyMagic + sizeof(kNpyMagic));
  file.push_back(v1 ? 1 : 2);
  file.push_back(0);
  size_t length = header.size();
  for (size_t i = 0; i < (v1 ? 2u : 4u); ++i)
    file.push_back(static_cast<uint8_t>(length >> (8 * i)));
  file.insert(file.end(), header.begin(), header.end());
  file.insert(file.end(), body, body + bodySize);
  return file;
}

} // namespace catfish::tools
