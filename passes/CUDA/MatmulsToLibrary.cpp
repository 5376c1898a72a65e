//===- MatmulsToLibrary.cpp - the catfish-matmuls-to-library pass ---------===//
//
// The contraction of a GEMM region becomes a call the CUDA plan hands to cuBLASLt, described in
// row-major terms: m, n, k, batch, transposes, leading dimensions and batch strides of buffers
// the step already has.
//
//===----------------------------------------------------------------------===//
#include "catfish/Dialect/Catfish.h"
#include "catfish/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"

namespace mlir::catfish {
#define GEN_PASS_DEF_CATFISHMATMULSTOLIBRARY
#include "catfish/Passes/Passes.h.inc"
} // namespace mlir::catfish

using namespace mlir;
using namespace mlir::catfish;

namespace {

/// The most library calls one GEMM may take (one per index of batch dims that cannot be one
/// strided batch).
constexpr int64_t kMaxCalls = 256;

/// The function argument a buffer is (through reshapes, which keep its address and row-major
/// order), or null.
BlockArgument baseArgument(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(op))
      return {};
    value = op->getOperand(0);
  }
  return dyn_cast<BlockArgument>(value);
}

/// Whether the body is out + a * b (or a * b + out) on floats.
bool isMultiplyAccumulate(linalg::GenericOp generic) {
  Block &body = generic.getRegion().front();
  auto add = body.getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || body.getOperations().size() != 3)
    return false;
  Value out = body.getArgument(2);
  Value product = add.getLhs() == out ? add.getRhs() : add.getRhs() == out ? add.getLhs() : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  return mul && ((mul.getLhs() == body.getArgument(0) && mul.getRhs() == body.getArgument(1)) ||
                 (mul.getLhs() == body.getArgument(1) && mul.getRhs() == body.getArgument(0)));
}

/// How an operand is indexed: for each memref dim the loop dim indexing it, in order, with
/// the memref's row-major stride. Dims of extent 1 indexed by the constant 0 (broadcasts) or by
/// a `dropped` loop (a 1x1 convolution's window) are left out. Failure for any other indexing.
struct Indexing {
  SmallVector<unsigned> loops;
  SmallVector<int64_t> strides;

  int64_t strideOf(unsigned loop) const {
    const auto *found = llvm::find(loops, loop);
    return found == loops.end() ? 0 : strides[found - loops.begin()];
  }
};

FailureOr<Indexing> indexingOf(AffineMap map, MemRefType type, ArrayRef<bool> dropped) {
  Indexing indexing;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t stride = 1;
  SmallVector<int64_t> strides(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
  for (auto [d, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (dropped[dim.getPosition()] && shape[d] == 1)
        continue;
      indexing.loops.push_back(dim.getPosition());
      indexing.strides.push_back(strides[d]);
    } else if (auto constant = dyn_cast<AffineConstantExpr>(expr);
               !constant || constant.getValue() != 0 || shape[d] != 1) {
      return failure();
    }
  }
  return indexing;
}

struct MatmulsToLibrary final : catfish::impl::CatfishMatmulsToLibraryBase<MatmulsToLibrary> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<func::FuncOp, linalg::GenericOp>> contractions;
    for (auto func : module.getOps<func::FuncOp>()) {
      auto kind = func->getAttrOfType<FusionKindAttr>("catfish.kind");
      if (!kind || (kind.getValue() != FusionKind::gemm && kind.getValue() != FusionKind::conv))
        continue;
      for (auto generic : func.getBody().front().getOps<linalg::GenericOp>()) {
        // A convolution lowered without im2col (a sliding window: depthwise, grouped) is no
        // GEMM; it stays a generated reduction kernel.
        if (kind.getValue() == FusionKind::conv &&
            !llvm::all_of(generic.getIndexingMapsArray(), [](AffineMap map) {
              return llvm::all_of(map.getResults(), [](AffineExpr e) {
                return isa<AffineDimExpr, AffineConstantExpr>(e);
              });
            }))
          continue;
        if (generic.getNumReductionLoops() > 0)
          contractions.push_back({func, generic});
      }
    }
    unsigned index = 0;
    for (auto [func, generic] : contractions)
      if (failed(toLibraryCall(module, func, generic, index++)))
        return signalPassFailure();
  }

  LogicalResult toLibraryCall(ModuleOp module, func::FuncOp func, linalg::GenericOp generic,
                              unsigned index) {
    auto refuse = [&](const Twine &why) {
      return generic.emitError("the CUDA target cannot hand this GEMM to cuBLASLt: " + why);
    };
    auto refuseType = [&](Type type) {
      return generic.emitError() << "the CUDA target cannot hand this GEMM to cuBLASLt: only "
                                    "f32, f16 and bf16 GEMMs (all operands one type, f32 "
                                    "accumulation) are built so far, got "
                                 << type;
    };
    if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
        !isMultiplyAccumulate(generic))
      return refuse("it is not one sum of products of two operands");
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
    // Summed loops of range 1 (a 1x1 window) add nothing; loops of C stay, even of range 1, as
    // they separate batch, rows and columns.
    SmallVector<bool> dropped(ranges.size());
    for (unsigned d = 0; d < ranges.size(); ++d)
      dropped[d] = ranges[d] == 1 && !maps[2].isFunctionOfDim(d);
    SmallVector<Value, 3> operands = {generic.getDpsInputOperand(0)->get(),
                                      generic.getDpsInputOperand(1)->get(),
                                      generic.getDpsInitOperand(0)->get()};
    SmallVector<Indexing, 3> indexings;
    Type element = cast<MemRefType>(operands[2].getType()).getElementType();
    for (auto [operand, map] : llvm::zip(operands, maps)) {
      auto type = cast<MemRefType>(operand.getType());
      if (!type.getLayout().isIdentity() || !type.hasStaticShape())
        return refuse("an operand is not a dense row-major buffer");
      if (!isa<Float32Type, Float16Type, BFloat16Type>(type.getElementType()) ||
          type.getElementType() != element)
        return refuseType(type.getElementType());
      FailureOr<Indexing> indexing = indexingOf(map, type, dropped);
      if (failed(indexing))
        return refuse("an operand is not indexed by loop indices");
      indexings.push_back(std::move(*indexing));
    }
    // The product adds to what the output holds (beta = 1: a bias written before it, say);
    // a fill of zeros just before it becomes beta = 0 instead (looked for before the copies
    // below come between them).
    linalg::FillOp fill = dyn_cast_or_null<linalg::FillOp>(generic->getPrevNode());
    if (fill && (fill.getOutputs()[0] != operands[2] ||
                 !matchPattern(fill.getInputs()[0], m_AnyZeroFloat())))
      fill = nullptr;

    // A constant operand (a small weight the kernel holds) is copied into a temporary first:
    // the library needs it in a buffer of the step (catfish-scratch-buffers makes it one).
    for (Value &operand : operands) {
      // Temporaries become scratch buffers of the step (catfish-scratch-buffers).
      if (baseArgument(operand) || operand.getDefiningOp<memref::AllocOp>())
        continue;
      if (!operand.getDefiningOp<memref::GetGlobalOp>())
        return refuse("an operand is neither one of the step's buffers nor a constant");
      OpBuilder b(generic);
      Value copy = memref::AllocOp::create(b, generic.getLoc(),
                                           cast<MemRefType>(operand.getType()));
      linalg::CopyOp::create(b, generic.getLoc(), operand, copy);
      operand = copy;
    }

    // Classify the loops: k sums, m runs over A and C, n over B and C, batch over C and both
    // or one of A and B (the other broadcast); dropped loops do nothing.
    const Indexing &indexA = indexings[0], &indexB = indexings[1], &indexC = indexings[2];
    SmallVector<unsigned> mDims, nDims, kDims;
    for (unsigned d = 0; d < ranges.size(); ++d) {
      bool a = llvm::is_contained(indexA.loops, d), b = llvm::is_contained(indexB.loops, d),
           c = llvm::is_contained(indexC.loops, d);
      if (!c && a && b)
        kDims.push_back(d);
      else if (!c && !dropped[d])
        return refuse("a loop is not a batch, row, column or summed dimension");
    }
    // C is [batch...] rows columns: its trailing dims in A (not B) are rows, those in B (not
    // A) columns, the leading ones batch.
    ArrayRef<unsigned> cLoops(indexC.loops);
    while (!cLoops.empty() && llvm::is_contained(indexB.loops, cLoops.back()) &&
           !llvm::is_contained(indexA.loops, cLoops.back())) {
      nDims.insert(nDims.begin(), cLoops.back());
      cLoops = cLoops.drop_back();
    }
    while (!cLoops.empty() && llvm::is_contained(indexA.loops, cLoops.back()) &&
           !llvm::is_contained(indexB.loops, cLoops.back())) {
      mDims.insert(mDims.begin(), cLoops.back());
      cLoops = cLoops.drop_back();
    }
    SmallVector<unsigned> batch(cLoops);
    // Each operand: its batch dims (in C's order) then its two groups in either order.
    auto layout = [&](const Indexing &indexing, ArrayRef<unsigned> first,
                      ArrayRef<unsigned> second, bool &swapped) {
      SmallVector<unsigned> own;
      for (unsigned d : batch)
        if (llvm::is_contained(indexing.loops, d))
          own.push_back(d);
      ArrayRef<unsigned> loops(indexing.loops);
      if (loops.take_front(own.size()) != ArrayRef<unsigned>(own))
        return false;
      loops = loops.drop_front(own.size());
      SmallVector<unsigned> straight(first), reversed(second);
      straight.append(second.begin(), second.end());
      reversed.append(first.begin(), first.end());
      swapped = loops == ArrayRef<unsigned>(reversed) && loops != ArrayRef<unsigned>(straight);
      return loops == ArrayRef<unsigned>(straight) || swapped;
    };
    bool transposeA, transposeB, transposedC;
    if (!layout(indexA, mDims, kDims, transposeA) || !layout(indexB, kDims, nDims, transposeB) ||
        !layout(indexC, mDims, nDims, transposedC) || transposedC)
      return refuse("an operand's dimensions are not [batch...] rows columns in some order");
    auto product = [&](ArrayRef<unsigned> dims) {
      int64_t value = 1;
      for (unsigned d : dims)
        value *= ranges[d];
      return value;
    };
    int64_t m = product(mDims), n = product(nDims), kSize = product(kDims);

    // The innermost batch dims whose strides line up form the strided batch of one call; the
    // outer ones are enumerated, one call each at its offsets.
    int64_t stridedBatch = 1;
    SmallVector<int64_t, 3> batchStride = {0, 0, 0};
    size_t inner = batch.size();
    while (inner > 0) {
      unsigned d = batch[inner - 1];
      bool lines = true;
      SmallVector<int64_t, 3> strides;
      for (auto [i, indexing] : llvm::enumerate(indexings)) {
        int64_t stride = indexing.strideOf(d);
        // Merging with the dims inside: this dim steps over all of them at once.
        if (inner != batch.size() && stride != batchStride[i] * stridedBatch &&
            !(stride == 0 && batchStride[i] == 0))
          lines = false;
        strides.push_back(stride);
      }
      if (!lines)
        break;
      if (inner == batch.size())
        batchStride.assign(strides.begin(), strides.end());
      stridedBatch *= ranges[d];
      --inner;
    }
    ArrayRef<unsigned> outer = ArrayRef<unsigned>(batch).take_front(inner);
    int64_t calls = product(outer);
    if (calls > kMaxCalls)
      return refuse("its batch would take " + Twine(calls) + " library calls (at most " +
                    Twine(kMaxCalls) + ")");

    OpBuilder b(generic);
    auto i64 = [&](int64_t value) { return b.getI64IntegerAttr(value); };
    SmallVector<Value> bases;
    for (Value operand : operands)
      bases.push_back(operand.getDefiningOp<memref::AllocOp>() ? operand
                                                                : Value(baseArgument(operand)));
    OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
    auto declaration = func::FuncOp::create(
        top, generic.getLoc(), "catfish_cuda_matmul_" + std::to_string(index),
        top.getFunctionType(ValueRange(bases).getTypes(), {}));
    declaration.setPrivate();
    for (int64_t call = 0; call < calls; ++call) {
      // This call's position in the outer batch dims, as element offsets of A, B and C.
      SmallVector<int64_t, 3> offsets = {0, 0, 0};
      int64_t rest = call;
      for (unsigned d : llvm::reverse(outer)) {
        int64_t position = rest % ranges[d];
        rest /= ranges[d];
        for (auto [i, indexing] : llvm::enumerate(indexings))
          offsets[i] += position * indexing.strideOf(d);
      }
      NamedAttrList description;
      description.append("m", i64(m));
      description.append("n", i64(n));
      description.append("k", i64(kSize));
      description.append("batch", i64(stridedBatch));
      description.append("transpose_a", b.getBoolAttr(transposeA));
      description.append("transpose_b", b.getBoolAttr(transposeB));
      description.append("lda", i64(transposeA ? m : kSize));
      description.append("ldb", i64(transposeB ? kSize : n));
      description.append("ldc", i64(n));
      description.append("stride_a", i64(batchStride[0]));
      description.append("stride_b", i64(batchStride[1]));
      description.append("stride_c", i64(batchStride[2]));
      description.append("offset_a", i64(offsets[0]));
      description.append("offset_b", i64(offsets[1]));
      description.append("offset_c", i64(offsets[2]));
      description.append("alpha", b.getF32FloatAttr(1));
      description.append("beta", b.getF32FloatAttr(fill ? 0 : 1));
      auto op = func::CallOp::create(b, generic.getLoc(), declaration, bases);
      op->setAttr("catfish.matmul", description.getDictionary(b.getContext()));
    }
    generic.erase();
    if (fill)
      fill.erase();
    return success();
  }
};

} // namespace
