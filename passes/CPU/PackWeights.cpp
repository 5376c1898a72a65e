//===- PackWeights.cpp - the catfish-pack-weights pass --------------------===//
//
// A matmul by a constant [K, N] weight reads, on every reduction step of the CPU
// micro-kernel, NR adjacent columns of one row: rows N floats apart, which for the usual widths
// fall into few cache sets (3072 floats are 12 KiB: every row in the same L1 set; 768 are
// 3 KiB: every fourth) and evict each other. Packed at compile time into N / P panels of K
// rows of P contiguous columns, the micro-kernel streams each panel from consecutive
// addresses, as onnxruntime packs its weights at load.
//
// A convolution's weight [F, C, k...] is packed the same way, by output channel: the CPU
// then computes it with the output channels as the register block's columns and the output
// positions, flattened, as its rows (ResNet's 7x7 outputs are 49 rows, where their 7 columns
// would fill a fifth of a 32-column block), and its epilogue fuses into the loop that writes
// the result.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHPACKWEIGHTS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// The narrowest panel tried when the requested one does not divide the columns.
constexpr int64_t kMinPanel = 8;
/// The fewest panels a weight whose columns no panel divides must fill to be padded to whole
/// panels (GPT-2's 50257-column LM head).
constexpr int64_t kMinPaddedPanels = 8;

/// A constant f32 weight read as [K, N]: a constant, or the transpose of a [N, K] one (a Gemm
/// with transB).
struct Weight {
  ConstantOp constant;
  bool transposed = false;
};

/// A matmul or convolution to pack, with the panel width and orientation its weight is
/// packed in.
struct Use {
  Operation *op;
  int64_t panel;
  bool transposed;
};

std::optional<Weight> weightOf(Value rhs) {
  Weight weight;
  if (auto transpose = rhs.getDefiningOp<TransposeOp>()) {
    if (transpose.getPerm() != ArrayRef<int64_t>{1, 0})
      return std::nullopt;
    rhs = transpose.getInput();
    weight.transposed = true;
  }
  weight.constant = rhs.getDefiningOp<ConstantOp>();
  auto type = weight.constant ? dyn_cast<RankedTensorType>(weight.constant.getType()) : nullptr;
  if (!type || type.getRank() != 2 || !type.hasStaticShape() || !type.getElementType().isF32() ||
      getConstantRawBytes(weight.constant).empty())
    return std::nullopt;
  return weight;
}

/// A constant of `shape` holding `values`, the packed copy of `original`, created before it.
Value packedConstant(OpBuilder &builder, ConstantOp original, ArrayRef<int64_t> shape,
                     ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(float));
  return ConstantOp::create(builder, original.getLoc(),
                            createWeightsAttr(type, bytes, "packed_weight"));
}

/// Whether every use of `value` is the weight (operand 1: a matmul's right operand, a
/// convolution's weight) of one of `packed`, looking through transposes: packing then replaces
/// the weight instead of storing it twice.
bool onlyFeedsPacked(Value value, const llvm::SmallPtrSetImpl<Operation *> &packed) {
  return llvm::all_of(value.getUses(), [&](OpOperand &use) {
    Operation *user = use.getOwner();
    if (auto transpose = dyn_cast<TransposeOp>(user))
      return onlyFeedsPacked(transpose.getResult(), packed);
    return packed.contains(user) && use.getOperandNumber() == 1;
  });
}

struct PackWeights final : catfish::impl::CatfishPackWeightsBase<PackWeights> {
  using Base::Base;

  void runOnOperation() override {
    if (panel < kMinPanel || panel % kMinPanel != 0) {
      getOperation().emitError("catfish-pack-weights: panel must be a positive multiple of ")
          << kMinPanel << ", got " << static_cast<int64_t>(panel);
      return signalPassFailure();
    }
    llvm::MapVector<Operation *, SmallVector<Use>> byWeight;
    llvm::SmallPtrSet<Operation *, 16> candidates;
    getOperation().walk([&](MatMulOp matmul) {
      auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
      std::optional<Weight> weight = weightOf(matmul.getRhs());
      int64_t p = panelFor(cast<RankedTensorType>(matmul.getType()).getShape().back());
      if (!weight || lhs.getRank() < 2 || !lhs.hasStaticShape() ||
          !lhs.getElementType().isF32() || p == 0)
        return;
      byWeight[weight->constant].push_back({matmul, p, weight->transposed});
      candidates.insert(matmul);
    });
    getOperation().walk([&](ConvOp conv) {
      if (std::optional<int64_t> p = convPanel(conv)) {
        byWeight[conv.getWeight().getDefiningOp()].push_back({conv, *p, false});
        candidates.insert(conv);
      }
    });
    // One packed copy replaces the constant when all its users read it in one layout.
    for (auto &[constant, uses] : byWeight)
      if (onlyFeedsPacked(constant->getResult(0), candidates) &&
          llvm::all_of(uses, [&](const Use &use) {
            return use.op->getName() == uses.front().op->getName() &&
                   use.panel == uses.front().panel && use.transposed == uses.front().transposed;
          })) {
        if (isa<ConvOp>(uses.front().op))
          packConvs(cast<ConstantOp>(constant), uses);
        else
          packMatmuls(cast<ConstantOp>(constant), uses);
      }
  }

  /// The widest panel from `panel` down to kMinPanel (halving) that divides `columns`, or 0.
  int64_t dividingPanel(int64_t columns) const {
    for (int64_t p = panel; p >= kMinPanel; p /= 2)
      if (columns % p == 0)
        return p;
    return 0;
  }

  /// dividingPanel of `columns`; else `panel` itself where the columns are at least
  /// kMinPaddedPanels panels (the last panel is padded with zero columns, at most
  /// 1/kMinPaddedPanels more work); else 0.
  int64_t panelFor(int64_t columns) const {
    if (int64_t p = dividingPanel(columns))
      return p;
    return columns >= kMinPaddedPanels * panel ? static_cast<int64_t>(panel) : 0;
  }

  /// The panel `conv`'s weight is packed in, or none: a convolution without groups by a
  /// constant f32 weight whose output channels a panel divides, with static shapes.
  std::optional<int64_t> convPanel(ConvOp conv) const {
    auto input = cast<RankedTensorType>(conv.getInput().getType());
    RankedTensorType result = conv.getType();
    auto constant = conv.getWeight().getDefiningOp<ConstantOp>();
    if (conv.getGroups() != 1 || !constant || !input.hasStaticShape() ||
        !result.hasStaticShape() || !input.getElementType().isF32() ||
        getConstantRawBytes(constant).empty())
      return std::nullopt;
    if (conv.getBias() && !cast<RankedTensorType>(conv.getBias().getType()).hasStaticShape())
      return std::nullopt;
    if (int64_t p = dividingPanel(result.getDimSize(1)))
      return p;
    return std::nullopt;
  }

  /// Replaces the matmul of each of `uses` (all by `constant`, in one layout) by a packed
  /// matmul by one packed copy, and erases the constant.
  void packMatmuls(ConstantOp constant, ArrayRef<Use> uses) {
    ArrayRef<char> bytes = getConstantRawBytes(constant);
    const auto *values = reinterpret_cast<const float *>(bytes.data());
    auto type = cast<RankedTensorType>(constant.getType());
    bool transposed = uses.front().transposed;
    int64_t p = uses.front().panel;
    // weight[k, n] (the constant's [k, n], or its [n, k] when transposed) goes to
    // packed[n / P, k, n % P]; columns from n to the next multiple of P are zeros.
    int64_t rows = type.getDimSize(0), columns = type.getDimSize(1);
    int64_t k = transposed ? columns : rows, n = transposed ? rows : columns;
    int64_t padded = llvm::alignTo(n, p);
    std::vector<float> panels(static_cast<size_t>(k * padded), 0.0f);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < k; ++i)
        panels[((j / p) * k + i) * p + j % p] = transposed ? values[j * k + i] : values[i * n + j];
    OpBuilder builder(constant);
    Value packed = packedConstant(builder, constant, {padded / p, k, p}, panels);
    for (Use use : uses) {
      auto matmul = cast<MatMulOp>(use.op);
      builder.setInsertionPoint(matmul);
      Location loc = matmul.getLoc();
      auto type = cast<RankedTensorType>(matmul.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape.back() = padded;
      Value product = PackedMatMulOp::create(builder, loc, type.clone(shape), matmul.getLhs(),
                                             packed);
      // The padded columns are cut off (a copy of the result, small next to the matmul).
      if (padded != n)
        product = SliceOp::create(builder, loc, type, product, createI64Constant(builder, loc, 0),
                                  createI64Constant(builder, loc, n),
                                  createI64Constant(builder, loc, type.getRank() - 1), Value());
      Operation *transpose = matmul.getRhs().getDefiningOp<TransposeOp>();
      matmul.replaceAllUsesWith(product);
      matmul.erase();
      if (transpose && transpose->use_empty())
        transpose->erase();
    }
    constant.erase();
  }

  /// Replaces each convolution of `uses` (all by `constant`, [F, C, k...]) by a packed
  /// convolution by one copy packed as [F / P, C, k..., P], and erases the constant.
  void packConvs(ConstantOp constant, ArrayRef<Use> uses) {
    ArrayRef<char> bytes = getConstantRawBytes(constant);
    const auto *values = reinterpret_cast<const float *>(bytes.data());
    auto type = cast<RankedTensorType>(constant.getType());
    int64_t p = uses.front().panel, channels = type.getDimSize(0);
    int64_t inner = type.getNumElements() / channels;
    // weight[f, i] (i: c and k... flattened) goes to packed[f / P, i, f % P].
    std::vector<float> panels(static_cast<size_t>(type.getNumElements()));
    for (int64_t f = 0; f < channels; ++f)
      for (int64_t i = 0; i < inner; ++i)
        panels[((f / p) * inner + i) * p + f % p] = values[f * inner + i];
    SmallVector<int64_t> shape = {channels / p};
    llvm::append_range(shape, type.getShape().drop_front());
    shape.push_back(p);
    OpBuilder builder(constant);
    Value packed = packedConstant(builder, constant, shape, panels);
    for (Use use : uses) {
      auto conv = cast<ConvOp>(use.op);
      builder.setInsertionPoint(conv);
      Value product = PackedConvOp::create(builder, conv.getLoc(), conv.getType(),
                                           conv.getInput(), packed, conv.getBias(),
                                           conv.getStrides(), conv.getPads(),
                                           conv.getDilations());
      conv.replaceAllUsesWith(product);
      conv.erase();
    }
    constant.erase();
  }
};

} // namespace
