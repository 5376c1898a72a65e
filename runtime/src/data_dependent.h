//===- data_dependent.h - outputs whose size a run decides ------*- C++ -*-===//
//
// An output with data-dependent dims (NonZero, Unique, ...) lies in its buffer padded to its
// upper-bound shape, row-major, and each run writes every such dim's size as one int64 into an
// arena buffer of its own (artifact.fbs, DataDependentDim). Each device reads the sizes from
// wherever its arena is; checking them and compacting the tensor happen here.
//
//===----------------------------------------------------------------------===//
#ifndef CATFISH_RUNTIME_SRC_DATA_DEPENDENT_H
#define CATFISH_RUNTIME_SRC_DATA_DEPENDENT_H

#include "catfish/artifact_file.h"
#include "catfish/runtime.h"

namespace catfish::rt {

/// Sets the data-dependent dims of output `info` (`tensor` in the manifest) in `dims` (rank
/// entries) to `sizes`, the values a run wrote, one per entry of tensor.data_dependent_dims() in
/// its order. A size outside [0, bound] means a wrong kernel or a damaged artifact: INTERNAL
/// naming the output, the dim, the value and the bound, with `dims` left as it was.
catfish_status_t *setActualDims(const catfish_tensor_info_t &info,
                                const artifact::TensorInfo &tensor, const int64_t *sizes,
                                int64_t *dims);

/// Copies the valid block [0, dims) of output `info`, padded to its bound in `padded`, to `out`
/// in row-major order; returns its byte size. `dims` were checked by setActualDims.
uint64_t compactOutput(const catfish_tensor_info_t &info, const int64_t *dims,
                       const uint8_t *padded, uint8_t *out);

} // namespace catfish::rt

#endif // CATFISH_RUNTIME_SRC_DATA_DEPENDENT_H
