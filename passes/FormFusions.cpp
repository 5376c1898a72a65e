//===- FormFusions.cpp - group ops into catfish.fusion regions -----------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#define DEBUG_TYPE "catfish-form-fusions"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHFORMFUSIONS
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// Constants up to this many elements are copied into the regions using them.
constexpr int64_t kMaxInlineConstantElements = 64;

bool isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::catfish::BroadcastElementwise>();
}

/// Ops that take elementwise producers into their region.
bool isReductionOrNorm(Operation *op) {
  return isa<ReduceOp, SoftmaxOp, LogSoftmaxOp, LayerNormOp, RmsNormOp, GroupNormOp,
             BatchNormOp>(op);
}

/// Whether constant `value` is copied into the regions that use it rather than passed in. A
/// splat GEMM operand stays an input: inlined, it folds into the product's body, which is then
/// no longer a product of two operands that cuBLASLt can compute.
bool isInlinableConstant(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return false;
  if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue()); dense && dense.isSplat())
    return llvm::none_of(value.getUsers(),
                         [](Operation *user) { return isa<MatMulOp, PackedMatMulOp>(user); });
  return cast<ShapedType>(constant.getType()).getNumElements() <= kMaxInlineConstantElements;
}

/// Ops that only move data; their consumer's kernel reads through them (a reshape or a slice
/// is a view).
bool isDataMovement(Operation *op) {
  return isa<BroadcastOp, TransposeOp, ReshapeOp, SliceOp>(op);
}

/// Whether `producer` may join a region rooted at `root`. A transpose takes the elementwise
/// ops and reshapes before it (a bias add, then the heads split), so they cost no step.
bool canFuseInto(Operation *producer, Operation *root) {
  bool producerOk = isElementwise(producer) || isDataMovement(producer);
  return producerOk && (isElementwise(root) || isReductionOrNorm(root) || isa<TransposeOp>(root));
}

/// Contractions whose elementwise consumers (the epilogue: bias, activation, residual) join
/// their region: matmuls and the CPU's packed convolutions. Not other convolutions yet: the
/// CPU could no longer split them into tasks with an epilogue (their output grid is cut from
/// a widened one), and the CUDA target's im2col GEMMs take none.
bool isContraction(Operation *op) { return isa<MatMulOp, PackedMatMulOp, PackedConvOp>(op); }

FusionKind kindOf(Operation *op) {
  if (isa<ConvOp, PackedConvOp, ConvTransposeOp>(op))
    return FusionKind::conv;
  if (isContraction(op))
    return FusionKind::gemm;
  if (isa<AttentionOp>(op))
    return FusionKind::attention;
  return FusionKind::generated;
}

/// The op that gives a region its kind and location: its contraction or attention, else its
/// root (the last member).
Operation *principalOf(ArrayRef<Operation *> members) {
  for (Operation *op : members)
    if (kindOf(op) != FusionKind::generated)
      return op;
  return members.back();
}

/// Moves `members` (in program order, the root last) into one catfish.fusion op placed at the
/// root.
void buildFusion(ArrayRef<Operation *> members) {
  Operation *root = members.back();
  llvm::SmallPtrSet<Operation *, 8> inGroup(members.begin(), members.end());
  // The CUDA attention kernel reads every operand from a buffer.
  auto inlined = [&](Value operand) {
    return !isa<AttentionOp>(root) && isInlinableConstant(operand);
  };

  llvm::SetVector<Value> inputs;
  SmallVector<Value> outputs;
  for (Operation *op : members) {
    for (Value operand : op->getOperands())
      if (!inGroup.contains(operand.getDefiningOp()) && !inlined(operand))
        inputs.insert(operand);
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(),
                       [&](Operation *user) { return !inGroup.contains(user); }))
        outputs.push_back(result);
  }

  OpBuilder builder(root);
  Operation *principal = principalOf(members);
  auto fusion = FusionOp::create(builder, principal->getLoc(), TypeRange(ValueRange(outputs)),
                                 inputs.getArrayRef(), kindOf(principal));
  Block *body = builder.createBlock(&fusion.getBody());
  IRMapping mapping;
  for (Value input : inputs)
    mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
  for (Operation *op : members) {
    for (Value operand : op->getOperands())
      if (!mapping.contains(operand) && inlined(operand))
        builder.clone(*operand.getDefiningOp(), mapping);
    builder.clone(*op, mapping);
  }
  SmallVector<Value> yielded;
  for (Value output : outputs)
    yielded.push_back(mapping.lookup(output));
  YieldOp::create(builder, root->getLoc(), yielded);

  for (auto [output, result] : llvm::zip(outputs, fusion.getResults()))
    output.replaceUsesWithIf(result, [&](OpOperand &use) {
      return !inGroup.contains(use.getOwner()) && use.getOwner() != fusion;
    });
  for (Operation *op : llvm::reverse(members))
    op->erase();
}

/// Groups the ops of `block` into regions; the bodies of loops in it get regions of their own.
LogicalResult formFusions(Block &block, bool fuse) {
  for (Operation &op : block) {
    // catfish.if is what the importer could not select between: branches of different or
    // dynamic types.
    if (isa<IfOp>(op))
      return op.emitError()
             << "an If whose condition is known only at run time and whose branches give "
                "results of different or dynamic types is not supported by code generation "
                "yet (one whose branches' results have the same static types is computed "
                "as both branches and a select)";
    if (auto loop = dyn_cast<LoopOp>(op))
      if (failed(formFusions(loop.getBody().front(), fuse)))
        return failure();
  }
  // Walk consumers before producers: a producer joins the region of its users when all of
  // them are in one region whose root accepts it.
  llvm::DenseMap<Operation *, Operation *> rootOf;
  llvm::MapVector<Operation *, SmallVector<Operation *>> groups;
  // Roots whose region holds a contraction: it is the region's first op, nothing joins
  // before it.
  llvm::SmallPtrSet<Operation *, 16> closed;
  for (Operation &op : llvm::reverse(block.without_terminator())) {
    if (!isa<CatfishDialect>(op.getDialect()) || isa<ConstantOp, LoopOp>(op))
      continue;
    Operation *root = nullptr;
    if (fuse && op.getNumResults() == 1 && !op.use_empty()) {
      for (Operation *user : op.getUsers()) {
        Operation *userRoot = rootOf.lookup(user);
        if (!userRoot || (root && root != userRoot)) {
          root = nullptr;
          break;
        }
        root = userRoot;
      }
      bool epilogue = root && isContraction(&op) && !closed.contains(root) &&
                      llvm::all_of(groups[root], isElementwise);
      if (root && (closed.contains(root) || (!epilogue && !canFuseInto(&op, root))))
        root = nullptr;
      if (epilogue && root)
        closed.insert(root);
    }
    if (!root)
      root = &op;
    rootOf[&op] = root;
    groups[root].push_back(&op);
  }
  for (auto &[root, members] : groups) {
    // A reshape nothing took in stays a view: its result shares its input's buffer.
    if (members.size() == 1 && isBufferView(root))
      continue;
    std::reverse(members.begin(), members.end());
    buildFusion(members);
  }
  // Constants now only used inside regions (their copies) are dead.
  for (Operation &op : llvm::make_early_inc_range(block))
    if (isa<ConstantOp>(op) && op.use_empty())
      op.erase();
  return success();
}

struct FormFusions final : catfish::impl::CatfishFormFusionsBase<FormFusions> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(formFusions(getOperation().getBody().front(), fuse)))
      signalPassFailure();
  }
};

} // namespace
