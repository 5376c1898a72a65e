//===- FoldConstantQuantize.cpp - the catfish-fold-constant-quantize pass -===//
//
// Exporters of fake-quantized models (QAT, TensorRT-style QDQ) write QuantizeLinear on the f32
// weights. Quantizing those at compile time stores the weights in their integer type (a
// quarter of the bytes for int8) and leaves no kernel that requantizes them on every run.
// The arithmetic is the kernel's (lib/Conversion/CatfishToLinalg/Quantization.cpp): x / scale
// in f32, rounded half to even, plus the zero point, clamped to the type.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "llvm/Support/Debug.h"

#include <cmath>
#include <cstring>

#define DEBUG_TYPE "catfish-fold-constant-quantize"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHFOLDCONSTANTQUANTIZE
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// The values of a constant integer zero point (dense or a resource blob of whole bytes).
std::optional<SmallVector<int64_t>> zeroPointValues(Value zeroPoint) {
  if (std::optional<SmallVector<int64_t>> values = getConstantIntValues(zeroPoint))
    return values;
  auto type = cast<RankedTensorType>(zeroPoint.getType());
  auto integer = dyn_cast<IntegerType>(type.getElementType());
  ArrayRef<char> bytes = getConstantRawBytes(zeroPoint);
  if (!integer || bytes.empty() || integer.getWidth() != 8)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (char byte : bytes)
    values.push_back(integer.isUnsigned() ? static_cast<uint8_t>(byte) : static_cast<int8_t>(byte));
  return values;
}

/// Maps each element of `data` to the index of its scale (and zero point): one for all, the
/// element's index along `axis`, or its block's index in the scale's row-major layout.
struct ParamIndex {
  ParamIndex(ArrayRef<int64_t> shape, int64_t axis, int64_t blockSize, int64_t numParams)
      : perTensor(numParams == 1 && blockSize == 0), blockSize(blockSize) {
    if (perTensor)
      return;
    axisDim = shape[axis];
    for (int64_t d : shape.drop_front(axis + 1))
      inner *= d;
  }

  int64_t operator()(int64_t flat) const {
    if (perTensor)
      return 0;
    int64_t along = (flat / inner) % axisDim;
    if (blockSize == 0)
      return along;
    int64_t outer = flat / (inner * axisDim);
    int64_t blocks = llvm::divideCeil(axisDim, blockSize);
    return (outer * blocks + along / blockSize) * inner + flat % inner;
  }

  bool perTensor;
  int64_t blockSize, axisDim = 1, inner = 1;
};

struct FoldConstantQuantize final
    : catfish::impl::CatfishFoldConstantQuantizeBase<FoldConstantQuantize> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<QuantizeOp> quantizes;
    getOperation().walk([&](QuantizeOp op) { quantizes.push_back(op); });
    for (QuantizeOp op : quantizes)
      fold(op);
  }

  void fold(QuantizeOp op) {
    auto type = cast<RankedTensorType>(op.getOutput().getType());
    auto integer = dyn_cast<IntegerType>(type.getElementType());
    if (!integer || (integer.getWidth() != 4 && integer.getWidth() != 8 &&
                     integer.getWidth() != 16) || !type.hasStaticShape())
      return;
    std::vector<float> inputStorage, scaleStorage;
    std::optional<ArrayRef<float>> input = getConstantF32Values(op.getInput(), inputStorage);
    std::optional<ArrayRef<float>> scale = getConstantF32Values(op.getScale(), scaleStorage);
    if (!input || !scale)
      return;
    std::optional<SmallVector<int64_t>> zeroPoint;
    if (op.getZeroPoint()) {
      zeroPoint = zeroPointValues(op.getZeroPoint());
      if (!zeroPoint)
        return;
    }
    int64_t rank = type.getRank();
    int64_t axis = rank == 0 ? 0 : (op.getAxis() % rank + rank) % rank;
    ParamIndex paramIndex(type.getShape(), axis, op.getBlockSize(),
                          static_cast<int64_t>(scale->size()));
    bool isUnsigned = integer.isUnsigned();
    unsigned width = integer.getWidth();
    float lo = isUnsigned ? 0.0f : -std::ldexp(1.0f, width - 1);
    float hi = isUnsigned ? std::ldexp(1.0f, width) - 1 : std::ldexp(1.0f, width - 1) - 1;
    size_t bytesPerElement = llvm::divideCeil(width, 8);
    std::vector<char> bytes(input->size() * bytesPerElement);
    for (size_t i = 0; i < input->size(); ++i) {
      int64_t p = paramIndex(static_cast<int64_t>(i));
      float value = std::nearbyint((*input)[i] / (*scale)[p]);
      // NaN (in the input, or 0/0 and inf/inf here) has no integer value: the kernel's
      // result is unspecified, so the op stays a kernel.
      if (std::isnan(value)) {
        LLVM_DEBUG(llvm::dbgs() << "not folded (NaN): " << op << "\n");
        return;
      }
      if (zeroPoint)
        value += static_cast<float>((*zeroPoint)[zeroPoint->size() == 1 ? 0 : p]);
      auto q = static_cast<int64_t>(std::fmin(std::fmax(value, lo), hi));
      if (bytesPerElement == 2) {
        auto half = static_cast<uint16_t>(q);
        std::memcpy(&bytes[2 * i], &half, 2);
      } else {
        bytes[i] = static_cast<char>(q);
      }
    }
    OpBuilder builder(op);
    // 4-bit constants hold a byte per element, as the importer makes them.
    ElementsAttr folded =
        width == 4 ? cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, bytes))
                   : createWeightsAttr(type, bytes, "quantized_weights");
    op.replaceAllUsesWith(ConstantOp::create(builder, op.getLoc(), folded).getResult());
    op.erase();
  }
};

} // namespace
