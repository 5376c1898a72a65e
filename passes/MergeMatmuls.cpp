//===- MergeMatmuls.cpp - the catfish-merge-matmuls pass ------------------===//
//
// Matmuls that multiply one input by different constant weights (a transformer's Q, K and V
// projections; the gate and up projections of a SiLU-gated MLP) become one matmul by the
// weights side by side, each result a slice of its columns: one GEMM instead of several, which
// both targets run closer to their peak.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "llvm/ADT/MapVector.h"

#include <cstring>

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHMERGEMATMULS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// A constant rank-2 float weight [K, N] of `matmul`, or null.
ConstantOp weightOf(MatMulOp matmul) {
  auto constant = matmul.getRhs().getDefiningOp<ConstantOp>();
  auto type = constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !isa<FloatType>(type.getElementType()) || getConstantRawBytes(constant).empty())
    return nullptr;
  return constant;
}

struct MergeMatmuls final : catfish::impl::CatfishMergeMatmulsBase<MergeMatmuls> {
  using Base::Base;

  void runOnOperation() override {
    // Siblings: matmuls of one left operand by constant weights, in one block.
    llvm::MapVector<std::pair<Value, Block *>, SmallVector<MatMulOp>> siblings;
    getOperation().walk([&](MatMulOp matmul) {
      auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
      if (weightOf(matmul) && lhs.getRank() >= 2 && lhs.hasStaticShape())
        siblings[{matmul.getLhs(), matmul->getBlock()}].push_back(matmul);
    });
    for (auto &[key, matmuls] : siblings)
      merge(matmuls);
  }

  /// Merges those of `matmuls` whose weights have the first one's rows and element type.
  void merge(ArrayRef<MatMulOp> matmuls) {
    auto first = cast<RankedTensorType>(weightOf(matmuls.front()).getType());
    SmallVector<MatMulOp> group;
    for (MatMulOp matmul : matmuls) {
      auto type = cast<RankedTensorType>(weightOf(matmul).getType());
      if (type.getDimSize(0) == first.getDimSize(0) &&
          type.getElementType() == first.getElementType())
        group.push_back(matmul);
    }
    if (group.size() < 2)
      return;
    // The first in program order: the merged matmul goes there, before every use of a result.
    llvm::sort(group, [](MatMulOp a, MatMulOp b) { return a->isBeforeInBlock(b); });

    int64_t rows = first.getDimSize(0), columns = 0;
    size_t elementBytes = first.getElementType().getIntOrFloatBitWidth() / 8;
    for (MatMulOp matmul : group)
      columns += cast<RankedTensorType>(weightOf(matmul).getType()).getDimSize(1);
    // Row k of the merged weight is row k of each weight, side by side.
    std::vector<char> merged(static_cast<size_t>(rows * columns) * elementBytes);
    size_t column = 0;
    SmallVector<Location> locations;
    for (MatMulOp matmul : group) {
      ConstantOp weight = weightOf(matmul);
      int64_t width = cast<RankedTensorType>(weight.getType()).getDimSize(1);
      ArrayRef<char> bytes = getConstantRawBytes(weight);
      for (int64_t k = 0; k < rows; ++k)
        std::memcpy(merged.data() + (k * columns + column) * elementBytes,
                    bytes.data() + k * width * elementBytes, width * elementBytes);
      column += width;
      locations.push_back(matmul.getLoc());
    }

    OpBuilder builder(group.front());
    Location loc = builder.getFusedLoc(locations);
    auto weightType = RankedTensorType::get({rows, columns}, first.getElementType());
    Value weight =
        ConstantOp::create(builder, loc, createWeightsAttr(weightType, merged, "merged_matmul"));
    auto lhsType = cast<RankedTensorType>(group.front().getLhs().getType());
    SmallVector<int64_t> shape(lhsType.getShape());
    shape.back() = columns;
    auto product = MatMulOp::create(
        builder, loc, RankedTensorType::get(shape, first.getElementType()),
        group.front().getLhs(), weight);

    int64_t start = 0, axis = lhsType.getRank() - 1;
    for (MatMulOp matmul : group) {
      builder.setInsertionPoint(matmul);
      int64_t width = cast<RankedTensorType>(matmul.getRhs().getType()).getDimSize(1);
      Location at = matmul.getLoc();
      auto slice = SliceOp::create(builder, at, matmul.getType(), product,
                                   createI64Constant(builder, at, start),
                                   createI64Constant(builder, at, start + width),
                                   createI64Constant(builder, at, axis), Value());
      matmul.replaceAllUsesWith(slice.getResult());
      matmul.erase();
      start += width;
    }
  }
};

} // namespace
