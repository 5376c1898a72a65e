//===- dtype.cpp - element type names and sizes -----------------------------===//

#include "catfish/runtime.h"

extern "C" {

const char *catfish_dtype_name(catfish_dtype_t dtype) {
  switch (dtype) {
  case CATFISH_DTYPE_F32:
    return "f32";
  case CATFISH_DTYPE_F16:
    return "f16";
  case CATFISH_DTYPE_BF16:
    return "bf16";
  case CATFISH_DTYPE_F64:
    return "f64";
  case CATFISH_DTYPE_I64:
    return "i64";
  case CATFISH_DTYPE_I32:
    return "i32";
  case CATFISH_DTYPE_I16:
    return "i16";
  case CATFISH_DTYPE_I8:
    return "i8";
  case CATFISH_DTYPE_U64:
    return "u64";
  case CATFISH_DTYPE_U32:
    return "u32";
  case CATFISH_DTYPE_U16:
    return "u16";
  case CATFISH_DTYPE_U8:
    return "u8";
  case CATFISH_DTYPE_BOOL:
    return "bool";
  case CATFISH_DTYPE_F8E4M3FN:
    return "f8e4m3fn";
  case CATFISH_DTYPE_F8E5M2:
    return "f8e5m2";
  case CATFISH_DTYPE_I4:
    return "i4";
  case CATFISH_DTYPE_F8E4M3FNUZ:
    return "f8e4m3fnuz";
  case CATFISH_DTYPE_F8E5M2FNUZ:
    return "f8e5m2fnuz";
  case CATFISH_DTYPE_U4:
    return "u4";
  case CATFISH_DTYPE_F4E2M1:
    return "f4e2m1";
  }
  return "?";
}

size_t catfish_dtype_bit_width(catfish_dtype_t dtype) {
  switch (dtype) {
  case CATFISH_DTYPE_F64:
  case CATFISH_DTYPE_I64:
  case CATFISH_DTYPE_U64:
    return 64;
  case CATFISH_DTYPE_F32:
  case CATFISH_DTYPE_I32:
  case CATFISH_DTYPE_U32:
    return 32;
  case CATFISH_DTYPE_F16:
  case CATFISH_DTYPE_BF16:
  case CATFISH_DTYPE_I16:
  case CATFISH_DTYPE_U16:
    return 16;
  case CATFISH_DTYPE_I8:
  case CATFISH_DTYPE_U8:
  case CATFISH_DTYPE_BOOL:
  case CATFISH_DTYPE_F8E4M3FN:
  case CATFISH_DTYPE_F8E5M2:
  case CATFISH_DTYPE_F8E4M3FNUZ:
  case CATFISH_DTYPE_F8E5M2FNUZ:
    return 8;
  case CATFISH_DTYPE_I4:
  case CATFISH_DTYPE_U4:
  case CATFISH_DTYPE_F4E2M1:
    return 4;
  }
  return 0;
}

} // extern "C"
