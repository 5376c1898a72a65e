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

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"

#include <cstring>

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHMERGEMATMULS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Merged weights with more elements than this are stored as resource blobs, as the importer
/// stores weights, rather than uniqued in the context.
constexpr int64_t kMaxDenseElements = 1024;

/// The raw bytes of a constant, dense or a resource blob, with the size its type needs; empty
/// if it is neither (or a boolean, whose dense storage is packed).
ArrayRef<char> constantBytes(ConstantOp constant) {
  auto type = cast<RankedTensorType>(constant.getType());
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  if (width % 8 != 0)
    return {};
  size_t size = static_cast<size_t>(type.getNumElements()) * (width / 8);
  ArrayRef<char> bytes;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue())) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      bytes = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue())) {
    if (!dense.isSplat())
      bytes = dense.getRawData();
  }
  return bytes.size() == size ? bytes : ArrayRef<char>();
}

/// A constant rank-2 float weight [K, N] of `matmul`, or null.
ConstantOp weightOf(MatMulOp matmul) {
  auto constant = matmul.getRhs().getDefiningOp<ConstantOp>();
  auto type = constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !isa<FloatType>(type.getElementType()) || constantBytes(constant).empty())
    return nullptr;
  return constant;
}

Value i64Constant(OpBuilder &builder, Location loc, int64_t value) {
  auto type = RankedTensorType::get({1}, builder.getI64Type());
  return ConstantOp::create(builder, loc,
                            cast<ElementsAttr>(DenseIntElementsAttr::get(type, {value})));
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
      ArrayRef<char> bytes = constantBytes(weight);
      for (int64_t k = 0; k < rows; ++k)
        std::memcpy(merged.data() + (k * columns + column) * elementBytes,
                    bytes.data() + k * width * elementBytes, width * elementBytes);
      column += width;
      locations.push_back(matmul.getLoc());
    }

    OpBuilder builder(group.front());
    Location loc = builder.getFusedLoc(locations);
    auto weightType = RankedTensorType::get({rows, columns}, first.getElementType());
    ElementsAttr weights;
    if (weightType.getNumElements() > kMaxDenseElements)
      weights = DenseResourceElementsAttr::get(
          weightType, "merged_matmul",
          HeapAsmResourceBlob::allocateAndCopyWithAlign(merged, elementBytes));
    else
      weights = DenseElementsAttr::getFromRawBuffer(weightType, merged);
    Value weight = ConstantOp::create(builder, loc, weights);
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
                                   i64Constant(builder, at, start),
                                   i64Constant(builder, at, start + width),
                                   i64Constant(builder, at, axis), Value());
      matmul.replaceAllUsesWith(slice.getResult());
      matmul.erase();
      start += width;
    }
  }
};

} // namespace
