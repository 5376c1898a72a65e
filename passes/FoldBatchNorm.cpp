//===- FoldBatchNorm.cpp - the catfish-fold-batch-norm pass ---------------===//
//
// Inference batch normalization right after a convolution with constant weights is a
// per-output-channel scale and shift, which folds into the convolution's weights and bias at
// compile time: the normalization costs no kernel and no pass over memory.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include <cmath>

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHFOLDBATCHNORM
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// An f32 constant of `type` holding `values`.
Value f32Constant(OpBuilder &builder, Location loc, RankedTensorType type,
                  ArrayRef<float> values) {
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(float));
  return ConstantOp::create(builder, loc, createWeightsAttr(type, bytes, "folded_batch_norm"));
}

struct FoldBatchNorm final : catfish::impl::CatfishFoldBatchNormBase<FoldBatchNorm> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<BatchNormOp> norms;
    getOperation().walk([&](BatchNormOp norm) { norms.push_back(norm); });
    for (BatchNormOp norm : norms)
      fold(norm);
  }

  /// Folds `norm` into the convolution it normalizes, when that is possible.
  void fold(BatchNormOp norm) {
    auto conv = norm.getInput().getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse())
      return;
    auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
    int64_t channels = weightType.getDimSize(0);
    std::vector<float> weightStorage, biasStorage, scaleStorage, shiftStorage, meanStorage,
        varianceStorage;
    std::optional<ArrayRef<float>> weight = getConstantF32Values(conv.getWeight(), weightStorage);
    std::optional<ArrayRef<float>> scale = getConstantF32Values(norm.getScale(), scaleStorage),
                                   shift = getConstantF32Values(norm.getBias(), shiftStorage),
                                   mean = getConstantF32Values(norm.getMean(), meanStorage),
                                   variance = getConstantF32Values(norm.getVariance(), varianceStorage);
    std::optional<ArrayRef<float>> bias;
    if (conv.getBias()) {
      bias = getConstantF32Values(conv.getBias(), biasStorage);
      if (!bias || bias->size() != static_cast<size_t>(channels))
        return;
    }
    auto perChannel = [&](std::optional<ArrayRef<float>> values) {
      return values && values->size() == static_cast<size_t>(channels);
    };
    if (!weight || channels <= 0 || !weightType.hasStaticShape() || !perChannel(scale) ||
        !perChannel(shift) || !perChannel(mean) || !perChannel(variance) ||
        norm.getType() != conv.getType())
      return;

    // y = (conv(x, W) + b - mean) * s + shift with s = scale / sqrt(variance + epsilon).
    double epsilon = norm.getEpsilon().convertToDouble();
    int64_t perOutput = weightType.getNumElements() / channels;
    std::vector<float> foldedWeight(weight->size()), foldedBias(channels);
    for (int64_t c = 0; c < channels; ++c) {
      double s = (*scale)[c] / std::sqrt(static_cast<double>((*variance)[c]) + epsilon);
      for (int64_t i = c * perOutput; i < (c + 1) * perOutput; ++i)
        foldedWeight[i] = static_cast<float>((*weight)[i] * s);
      double b = bias ? (*bias)[c] : 0.0;
      foldedBias[c] = static_cast<float>((b - (*mean)[c]) * s + (*shift)[c]);
    }

    OpBuilder builder(conv);
    Location loc = builder.getFusedLoc({conv.getLoc(), norm.getLoc()});
    Value newWeight = f32Constant(builder, loc, weightType, foldedWeight);
    Value newBias = f32Constant(
        builder, loc, RankedTensorType::get({channels}, builder.getF32Type()), foldedBias);
    auto folded = ConvOp::create(builder, loc, conv.getType(), conv.getInput(), newWeight,
                                 newBias, conv.getStridesAttr(), conv.getPadsAttr(),
                                 conv.getDilationsAttr(), conv.getGroupsAttr());
    norm.replaceAllUsesWith(folded.getResult());
    norm.erase();
    conv.erase();
  }
};

} // namespace
