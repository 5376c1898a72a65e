//===- RaiseAttention.cpp - the catfish-raise-attention pass --------------===//
//
// Attention as exporters write it, op by op: softmax(Q.K^T scaled, plus a mask or through a
// Where) times V becomes one catfish.attention, which a target with an attention kernel runs
// as one.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include <cmath>

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHRAISEATTENTION
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Scores set to this or lower (or -inf) are masked out: exp of them minus any row max that a
/// kept key gives is 0 in every float type, as for -inf.
constexpr double kMaskedScore = -1e4;

RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// Whether `mask` broadcasts to `shape` (numpy rules) without enlarging it.
bool broadcastsTo(Value mask, ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> dims = typeOf(mask).getShape();
  if (dims.size() > shape.size())
    return false;
  for (auto [dim, target] : llvm::zip(llvm::reverse(dims), llvm::reverse(shape)))
    if (dim != 1 && dim != target)
      return false;
  return true;
}

/// Whether constant mask `mask` is ONNX's causal mask broadcast (key j visible from query i
/// when j <= i): as booleans, or as an additive mask of 0 and masked scores.
bool isCausal(Value mask, int64_t queries, int64_t keys) {
  auto constant = mask.getDefiningOp<ConstantOp>();
  auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue()) : nullptr;
  ArrayRef<int64_t> dims = typeOf(mask).getShape();
  if (!dense || dims.size() < 2 || dims[dims.size() - 2] != queries || dims.back() != keys ||
      dense.getNumElements() != queries * keys)
    return false;
  bool boolean = dense.getElementType().isInteger(1);
  auto visible = [&](int64_t flat) {
    if (boolean)
      return std::optional<bool>(dense.getValues<bool>()[flat]);
    double value = dense.getValues<APFloat>()[flat].convertToDouble();
    if (value == 0)
      return std::optional<bool>(true);
    if (value <= kMaskedScore)
      return std::optional<bool>(false);
    return std::optional<bool>();
  };
  for (int64_t i = 0; i < queries; ++i)
    for (int64_t j = 0; j < keys; ++j)
      if (visible(i * keys + j) != std::optional<bool>(j <= i))
        return false;
  return true;
}

/// Whether boolean constant `keep` leaves every row (last dim) at least one key.
bool everyRowKeepsAKey(Value keep) {
  auto constant = keep.getDefiningOp<ConstantOp>();
  auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue()) : nullptr;
  int64_t keys = typeOf(keep).getShape().empty() ? 1 : typeOf(keep).getShape().back();
  if (!dense || keys == 0)
    return false;
  auto values = dense.getValues<bool>();
  for (int64_t row = 0; row < dense.getNumElements() / keys; ++row)
    if (std::none_of(values.begin() + row * keys, values.begin() + (row + 1) * keys,
                     [](bool kept) { return kept; }))
      return false;
  return true;
}

/// The pieces of one written-out attention, found from its final matmul.
struct Match {
  MatMulOp product, scores;
  SoftmaxOp softmax;
  Operation *masking = nullptr, *scaling = nullptr;
  Value key, mask;
  double scale = 1;
  bool causal = false;
};

/// scores = Q.K^T, through an optional scale by a constant; failure if not.
LogicalResult matchScaledScores(Value value, Match &match) {
  Operation *op = value.getDefiningOp();
  if (op && op->hasOneUse() && isa<DivOp, MulOp>(op)) {
    Value lhs = op->getOperand(0), rhs = op->getOperand(1);
    if (isa<MulOp>(op) && !getConstantFloatSplat(rhs) && getConstantFloatSplat(lhs))
      std::swap(lhs, rhs);
    std::optional<double> c = getConstantFloatSplat(rhs);
    if (c && *c != 0 && typeOf(lhs) == typeOf(value)) {
      match.scale = isa<DivOp>(op) ? 1 / *c : *c;
      match.scaling = op;
      value = lhs;
    }
  }
  match.scores = value.getDefiningOp<MatMulOp>();
  return success(match.scores && match.scores->hasOneUse());
}

/// The softmax input: scaled scores, plus an additive mask or through Where(keep, scores,
/// masked score).
LogicalResult matchMaskedScores(Value value, Match &match) {
  Operation *op = value.getDefiningOp();
  if (auto add = dyn_cast_or_null<AddOp>(op); add && add->hasOneUse()) {
    for (auto [scores, mask] : {std::pair(add.getLhs(), add.getRhs()),
                                std::pair(add.getRhs(), add.getLhs())}) {
      Match candidate = match;
      if (typeOf(scores) != typeOf(value) || failed(matchScaledScores(scores, candidate)))
        continue;
      match = candidate;
      match.masking = add;
      match.mask = mask;
      return success();
    }
  }
  if (auto select = dyn_cast_or_null<SelectOp>(op); select && select->hasOneUse()) {
    std::optional<double> fill = getConstantFloatSplat(select.getOnFalse());
    Value keep = select.getCondition();
    bool masks = fill && (*fill == -INFINITY || (*fill <= kMaskedScore && everyRowKeepsAKey(keep)));
    if (masks && typeOf(select.getOnTrue()) == typeOf(value) &&
        succeeded(matchScaledScores(select.getOnTrue(), match))) {
      match.masking = select;
      match.mask = keep;
      return success();
    }
  }
  return matchScaledScores(value, match);
}

FailureOr<Match> matchAttention(MatMulOp product) {
  Match match;
  match.product = product;
  match.softmax = product.getLhs().getDefiningOp<SoftmaxOp>();
  if (!match.softmax || !match.softmax->hasOneUse() ||
      failed(matchMaskedScores(match.softmax.getInput(), match)))
    return failure();
  Value q = match.scores.getLhs(), kt = match.scores.getRhs(), v = product.getRhs();
  for (Value operand : {q, kt, v})
    if (typeOf(operand).getRank() != 4 || !typeOf(operand).hasStaticShape() ||
        !isa<FloatType>(typeOf(operand).getElementType()))
      return failure();
  ArrayRef<int64_t> qs = typeOf(q).getShape(), ks = typeOf(kt).getShape(),
                    vs = typeOf(v).getShape();
  int64_t softmaxAxis = match.softmax.getAxis();
  if (qs.take_front(2) != ks.take_front(2) || qs.take_front(2) != vs.take_front(2) ||
      qs[3] != ks[2] || ks[3] != vs[2] || (softmaxAxis != 3 && softmaxAxis != -1))
    return failure();
  SmallVector<int64_t> scoreShape = {qs[0], qs[1], qs[2], ks[3]};
  if (match.mask) {
    if (!broadcastsTo(match.mask, scoreShape))
      return failure();
    if (isCausal(match.mask, qs[2], ks[3])) {
      match.causal = true;
      match.mask = nullptr;
    }
  }
  return match;
}

/// K for K^T: a transpose of the last two dims, composed with the one that made K^T if any.
Value keyOf(OpBuilder &builder, Location loc, Value kt) {
  SmallVector<int64_t> perm = {0, 1, 3, 2};
  Value source = kt;
  if (auto transpose = kt.getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> inner = transpose.getPerm();
    perm = {inner[0], inner[1], inner[3], inner[2]};
    source = transpose.getInput();
  }
  if (llvm::equal(perm, llvm::seq<int64_t>(0, 4)))
    return source;
  return TransposeOp::create(builder, loc, source, perm);
}

void raise(Match &match) {
  OpBuilder builder(match.product);
  SmallVector<Location> locations = {match.scores.getLoc(), match.softmax.getLoc(),
                                     match.product.getLoc()};
  for (Operation *op : {match.scaling, match.masking})
    if (op)
      locations.push_back(op->getLoc());
  Location loc = builder.getFusedLoc(locations);
  Value key = keyOf(builder, loc, match.scores.getRhs());
  auto attention = AttentionOp::create(
      builder, loc, match.product.getType(), match.scores.getLhs(), key, match.product.getRhs(),
      match.mask, builder.getF32FloatAttr(static_cast<float>(match.scale)),
      builder.getBoolAttr(match.causal), builder.getF32FloatAttr(0));
  match.product.replaceAllUsesWith(attention.getResult());
  Operation *keyTranspose = match.scores.getRhs().getDefiningOp<TransposeOp>();
  for (Operation *op : {match.product.getOperation(), match.softmax.getOperation(),
                        match.masking, match.scaling, match.scores.getOperation()})
    if (op)
      op->erase();
  if (keyTranspose && keyTranspose->use_empty())
    keyTranspose->erase();
}

struct RaiseAttention final : catfish::impl::CatfishRaiseAttentionBase<RaiseAttention> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<MatMulOp> products;
    getOperation().walk([&](MatMulOp op) { products.push_back(op); });
    for (MatMulOp product : products) {
      // Q.K^T precedes its softmax and product, so a raise erases only visited matmuls.
      FailureOr<Match> match = matchAttention(product);
      if (succeeded(match))
        raise(*match);
    }
  }
};

} // namespace
