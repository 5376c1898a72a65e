//===- data_dependent.cpp - outputs whose size a run decides ---------------===//

#include "data_dependent.h"

#include "status.h"

#include <cstring>

namespace catfish::rt {

catfish_status_t *setActualDims(const catfish_tensor_info_t &info,
                                const artifact::TensorInfo &tensor, const int64_t *sizes,
                                int64_t *dims) {
  const auto &dynamic = *tensor.data_dependent_dims();
  for (flatbuffers::uoffset_t i = 0; i < dynamic.size(); ++i) {
    uint32_t dim = dynamic.Get(i)->dim();
    if (sizes[i] < 0 || sizes[i] > info.dims[dim])
      return makeStatusCat(CATFISH_STATUS_INTERNAL, "output '", info.name,
                           "': the run gave data-dependent dim ", dim, " the size ", sizes[i],
                           ", outside its bound [0, ", info.dims[dim],
                           "] (a wrong kernel or a damaged artifact)");
  }
  for (flatbuffers::uoffset_t i = 0; i < dynamic.size(); ++i)
    dims[dynamic.Get(i)->dim()] = sizes[i];
  return nullptr;
}

uint64_t compactOutput(const catfish_tensor_info_t &info, const int64_t *dims,
                       const uint8_t *padded, uint8_t *out) {
  // Loading refused ranks above 64 and packed dtypes for these outputs.
  const size_t rank = info.rank;
  uint64_t strides[64] = {};
  uint64_t stride = catfish_dtype_bit_width(info.dtype) / 8;
  for (size_t d = rank; d-- > 0;) {
    strides[d] = stride;
    stride *= static_cast<uint64_t>(info.dims[d]);
  }
  // Past the innermost dim cut short, every dim is whole: the valid block is contiguous runs,
  // one per index of the dims before it.
  size_t cut = 0;
  for (size_t d = 0; d < rank; ++d)
    if (dims[d] != info.dims[d])
      cut = d;
  uint64_t run = static_cast<uint64_t>(dims[cut]) * strides[cut];
  uint64_t runs = 1;
  for (size_t d = 0; d < cut; ++d)
    runs *= static_cast<uint64_t>(dims[d]);
  int64_t index[64] = {};
  for (uint64_t r = 0; r < runs; ++r) {
    uint64_t from = 0;
    for (size_t d = 0; d < cut; ++d)
      from += static_cast<uint64_t>(index[d]) * strides[d];
    std::memcpy(out + r * run, padded + from, run);
    for (size_t d = cut; d-- > 0;) {
      if (++index[d] < dims[d])
        break;
      index[d] = 0;
    }
  }
  return runs * run;
}

} // namespace catfish::rt
