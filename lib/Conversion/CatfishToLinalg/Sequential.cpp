//===- Sequential.cpp - ops lowered to one sequential loop nest ------------===//
//
// NonZero, Unique and NonMaxSuppression write their results padded to a bound known at
// compile time, plus the count of valid entries; Det eliminates row after row. They are
// sequential by nature (each entry's position or each step depends on every earlier one), so
// each lowers to one loop nest over tensors; the kernel is marked `catfish.sequential` so that
// the CUDA target runs it on one thread instead of refusing its inner loops.
//
//===----------------------------------------------------------------------===//
#include "Utils.h"

#include "catfish/Conversion/CatfishToLinalg.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::lowering;

namespace {

using Values = SmallVector<Value>;
using BranchBuilder = function_ref<Values(OpBuilder &, Location)>;

Value index(OpBuilder &b, Location l, int64_t value) {
  return arith::ConstantIndexOp::create(b, l, value);
}

Value toI64(OpBuilder &b, Location l, Value indexValue) {
  return arith::IndexCastOp::create(b, l, b.getI64Type(), indexValue);
}

Value toIndex(OpBuilder &b, Location l, Value i64Value) {
  return arith::IndexCastOp::create(b, l, b.getIndexType(), i64Value);
}

/// `a + 1` where `condition` holds, else `a`.
Value incrementIf(OpBuilder &b, Location l, Value condition, Value a) {
  return arith::SelectOp::create(b, l, condition, arith::AddIOp::create(b, l, a, index(b, l, 1)),
                                 a);
}

/// scf.if yielding what `thenBranch` / `elseBranch` build (same types).
Values ifElse(OpBuilder &b, Location l, Value condition, BranchBuilder thenBranch,
              BranchBuilder elseBranch) {
  auto op = scf::IfOp::create(
      b, l, condition,
      [&](OpBuilder &tb, Location tl) { scf::YieldOp::create(tb, tl, thenBranch(tb, tl)); },
      [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, elseBranch(eb, el)); });
  return op.getResults();
}

/// The count result: a rank-0 i64 tensor holding `count` (an index).
Value countTensor(OpBuilder &b, Location l, Value count) {
  return tensor::FromElementsOp::create(b, l, RankedTensorType::get({}, b.getI64Type()),
                                        ValueRange{toI64(b, l, count)});
}

/// `v` in a type arith compares directly (8-bit and smaller floats widened).
Value comparable(OpBuilder &b, Location l, Value v) {
  return isSmallFloat(v.getType()) ? extendSmallFloat(b, l, v) : v;
}

/// x < y, with NaN after every number and equal to NaN (numpy's order), so that "neither
/// less nor greater" is an equivalence.
Value lessThan(OpBuilder &b, Location l, Value x, Value y, bool isUnsigned) {
  if (isa<FloatType>(x.getType())) {
    Value ordered = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, y);
    Value xNumber = arith::CmpFOp::create(b, l, arith::CmpFPredicate::ORD, x, x);
    Value yNaN = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, y, y);
    return arith::OrIOp::create(b, l, ordered, arith::AndIOp::create(b, l, xNumber, yNaN));
  }
  return arith::CmpIOp::create(b, l,
                               isUnsigned || x.getType().isInteger(1) ? arith::CmpIPredicate::ult
                                                                      : arith::CmpIPredicate::slt,
                               x, y);
}

/// `order` (i64, n entries) set to 0 .. n-1 and heap-sorted so that no entry comes `after`
/// a later one: O(n log n), each sift a loop of at most log2(n) + 1 steps.
Value heapSort(OpBuilder &b, Location l, Value order, int64_t n,
               function_ref<Value(OpBuilder &, Location, Value, Value)> after) {
  Value filled =
      buildLoop(b, l, index(b, l, 0), index(b, l, n), {order},
                [&](OpBuilder &fb, Location fl, Value k, ValueRange o) -> Values {
                  return {tensor::InsertOp::create(fb, fl, toI64(fb, fl, k), o[0], ValueRange{k})};
                })[0];
  auto at = [](OpBuilder &ob, Location ol, Value t, Value i) -> Value {
    return tensor::ExtractOp::create(ob, ol, t, ValueRange{i});
  };
  auto swap = [&](OpBuilder &ob, Location ol, Value t, Value i, Value j) -> Value {
    Value vi = at(ob, ol, t, i), vj = at(ob, ol, t, j);
    Value u = tensor::InsertOp::create(ob, ol, vj, t, ValueRange{i});
    return tensor::InsertOp::create(ob, ol, vi, u, ValueRange{j});
  };
  int64_t depth = llvm::Log2_64_Ceil(std::max<int64_t>(n, 1)) + 1;
  // Moves entry `root` down the heap [0, end) until no child comes after it.
  auto siftDown = [&](OpBuilder &ob, Location ol, Value t, Value root, Value end) -> Value {
    Value no = arith::ConstantIntOp::create(ob, ol, ob.getI1Type(), 0);
    return buildLoop(
        ob, ol, index(ob, ol, 0), index(ob, ol, depth), {t, root, no},
        [&](OpBuilder &sb, Location sl, Value, ValueRange s) -> Values {
          Value child = arith::AddIOp::create(
              sb, sl, arith::MulIOp::create(sb, sl, s[1], index(sb, sl, 2)), index(sb, sl, 1));
          Value leaf = arith::CmpIOp::create(sb, sl, arith::CmpIPredicate::sge, child, end);
          return ifElse(
              sb, sl, arith::OrIOp::create(sb, sl, s[2], leaf),
              [&](OpBuilder &db, Location dl) -> Values {
                return {s[0], s[1], arith::ConstantIntOp::create(db, dl, db.getI1Type(), 1)};
              },
              [&](OpBuilder &cb, Location cl) -> Values {
                Value right = arith::AddIOp::create(cb, cl, child, index(cb, cl, 1));
                Value hasRight =
                    arith::CmpIOp::create(cb, cl, arith::CmpIPredicate::slt, right, end);
                Value other = arith::SelectOp::create(cb, cl, hasRight, right, child);
                Value takeRight = arith::AndIOp::create(
                    cb, cl, hasRight,
                    after(cb, cl, at(cb, cl, s[0], other), at(cb, cl, s[0], child)));
                Value pick = arith::SelectOp::create(cb, cl, takeRight, right, child);
                Value down = after(cb, cl, at(cb, cl, s[0], pick), at(cb, cl, s[0], s[1]));
                return ifElse(
                    cb, cl, down,
                    [&](OpBuilder &wb, Location wl) -> Values {
                      return {swap(wb, wl, s[0], s[1], pick), pick,
                              arith::ConstantIntOp::create(wb, wl, wb.getI1Type(), 0)};
                    },
                    [&](OpBuilder &kb, Location kl) -> Values {
                      return {s[0], s[1], arith::ConstantIntOp::create(kb, kl, kb.getI1Type(), 1)};
                    });
              });
        })[0];
  };
  Value heap = buildLoop(b, l, index(b, l, 0), index(b, l, n / 2), {filled},
                         [&](OpBuilder &hb, Location hl, Value k, ValueRange h) -> Values {
                           Value root = arith::SubIOp::create(hb, hl, index(hb, hl, n / 2 - 1), k);
                           return {siftDown(hb, hl, h[0], root, index(hb, hl, n))};
                         })[0];
  return buildLoop(b, l, index(b, l, 0), index(b, l, std::max<int64_t>(n - 1, 0)), {heap},
                   [&](OpBuilder &sb, Location sl, Value k, ValueRange h) -> Values {
                     Value end = arith::SubIOp::create(sb, sl, index(sb, sl, n - 1), k);
                     Value moved = swap(sb, sl, h[0], index(sb, sl, 0), end);
                     return {siftDown(sb, sl, moved, index(sb, sl, 0), end)};
                   })[0];
}

struct NonZeroLowering final : LoweringPattern<NonZeroOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<Values> lower(NonZeroOp op, PatternRewriter &rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getOutput().getType());
    Location l = op.getLoc();
    OpBuilder &b = rewriter;
    int64_t rank = input.getRank();
    SmallVector<int64_t> shape(input.getShape());
    if (rank == 0)
      shape.push_back(1);
    Value zero64 = arith::ConstantIntOp::create(b, l, b.getI64Type(), 0);
    Value out = buildFilled(b, l, outType.getShape(), zero64);
    Value data = op.getInput();
    Values results = buildLoop(
        b, l, index(b, l, 0), index(b, l, input.getNumElements()), {out, index(b, l, 0)},
        [&](OpBuilder &lb, Location ll, Value i, ValueRange carried) -> Values {
          SmallVector<Value> coords = delinearize(lb, ll, i, shape);
          Value v = comparable(lb, ll,
                               tensor::ExtractOp::create(
                                   lb, ll, data, rank == 0 ? ValueRange{} : ValueRange(coords)));
          Value nonZero =
              isa<FloatType>(v.getType())
                  ? Value(arith::CmpFOp::create(lb, ll, arith::CmpFPredicate::UNE, v,
                                                scalarConstant(lb, ll, v.getType(), 0)))
                  : Value(arith::CmpIOp::create(lb, ll, arith::CmpIPredicate::ne, v,
                                                scalarConstant(lb, ll, v.getType(), 0)));
          Value count = carried[1];
          Values written = ifElse(
              lb, ll, nonZero,
              [&](OpBuilder &tb, Location tl) -> Values {
                Value column = carried[0];
                for (auto [d, coord] : llvm::enumerate(coords))
                  column = tensor::InsertOp::create(tb, tl, toI64(tb, tl, coord), column,
                                                    ValueRange{index(tb, tl, d), count});
                return {column};
              },
              [&](OpBuilder &, Location) -> Values { return {carried[0]}; });
          return {written[0], incrementIf(lb, ll, nonZero, count)};
        });
    markSequential(op);
    return Values{results[0], countTensor(b, l, results[1])};
  }
};

/// Unique over the slices of `input` along `axis` (a flattened input has axis 0 and slices of
/// one element): the slice indices heap-sorted by (slice, index), O(n log n) slice
/// comparisons; runs of equal slices are the groups, each group's first member its first
/// occurrence, and its output slot the group's rank (sorted) or its first occurrence's rank
/// among the first occurrences (unsorted).
struct UniqueLowering final : LoweringPattern<UniqueOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<Values> lower(UniqueOp op, PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location l = op.getLoc();
    auto valuesType = cast<RankedTensorType>(op.getValues().getType());
    Value data = op.getInput();
    int64_t axis = 0;
    if (std::optional<int64_t> attr = op.getAxis())
      axis = positiveAxis(*attr, valuesType.getRank());
    else
      data = reshapeTo(b, l, data, valuesType);
    ArrayRef<int64_t> shape = valuesType.getShape();
    int64_t n = shape[axis];
    SmallVector<int64_t> sliceShape(shape);
    sliceShape.erase(sliceShape.begin() + axis);
    int64_t sliceSize = 1;
    for (int64_t d : sliceShape)
      sliceSize *= d;
    bool isUnsigned = hasUnsignedOperands(op);
    bool sorted = op.getSorted();
    Type i64 = b.getI64Type();
    Type i1 = b.getI1Type();

    // Element e of slice s.
    auto at = [&](OpBuilder &ob, Location ol, Value s, Value e) {
      SmallVector<Value> coords = delinearize(ob, ol, e, sliceShape);
      coords.insert(coords.begin() + axis, s);
      return coords;
    };
    // (differs, less): whether slices s and t differ, and whether s < t lexicographically.
    auto compare = [&](OpBuilder &ob, Location ol, Value s, Value t) -> std::pair<Value, Value> {
      Value no = arith::ConstantIntOp::create(ob, ol, i1, 0);
      Values state = buildLoop(
          ob, ol, index(ob, ol, 0), index(ob, ol, sliceSize), {no, no},
          [&](OpBuilder &cb, Location cl, Value e, ValueRange carried) -> Values {
            return ifElse(
                cb, cl, carried[0],
                [&](OpBuilder &, Location) -> Values {
                  return {carried[0], carried[1]};
                },
                [&](OpBuilder &eb, Location el) -> Values {
                  Value x =
                      comparable(eb, el, tensor::ExtractOp::create(eb, el, data, at(eb, el, s, e)));
                  Value y =
                      comparable(eb, el, tensor::ExtractOp::create(eb, el, data, at(eb, el, t, e)));
                  Value less = lessThan(eb, el, x, y, isUnsigned);
                  Value greater = lessThan(eb, el, y, x, isUnsigned);
                  return {arith::OrIOp::create(eb, el, less, greater), less};
                });
          });
      return {state[0], state[1]};
    };

    // Slice indices sorted by (slice, index): equal slices are neighbours, and the first of
    // each run (a group) is its first occurrence.
    auto after = [&](OpBuilder &ab, Location al, Value x, Value y) -> Value {
      auto [differs, less] = compare(ab, al, toIndex(ab, al, x), toIndex(ab, al, y));
      Value yes = arith::ConstantIntOp::create(ab, al, i1, 1);
      Value greater =
          arith::AndIOp::create(ab, al, differs, arith::XOrIOp::create(ab, al, less, yes));
      Value later = arith::CmpIOp::create(ab, al, arith::CmpIPredicate::sgt, x, y);
      return arith::OrIOp::create(
          ab, al, greater,
          arith::AndIOp::create(ab, al, arith::XOrIOp::create(ab, al, differs, yes), later));
    };
    Value order =
        heapSort(b, l, tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{n}, i64), n, after);
    auto get = [](OpBuilder &ob, Location ol, Value t, int64_t row, Value at) -> Value {
      return tensor::ExtractOp::create(ob, ol, t, ValueRange{index(ob, ol, row), at});
    };
    auto put = [](OpBuilder &ob, Location ol, Value t, int64_t row, Value at, Value v) -> Value {
      return tensor::InsertOp::create(ob, ol, v, t, ValueRange{index(ob, ol, row), at});
    };
    // Rows of `groups`: 0 each slice's group, 1 each group's first slice, 2 each group's size,
    // 3 each group's output slot (unsorted only). One tensor, for the reason `perSlot` is one.
    Value zero64 = arith::ConstantIntOp::create(b, l, i64, 0);
    Value one64 = arith::ConstantIntOp::create(b, l, i64, 1);
    Values grouped = buildLoop(
        b, l, index(b, l, 0), index(b, l, n), {buildFilled(b, l, {4, n}, zero64), index(b, l, -1)},
        [&](OpBuilder &lb, Location ll, Value p, ValueRange c) -> Values {
          Value i = toIndex(lb, ll, tensor::ExtractOp::create(lb, ll, order, ValueRange{p}));
          Value atStart =
              arith::CmpIOp::create(lb, ll, arith::CmpIPredicate::eq, p, index(lb, ll, 0));
          Value previous = toIndex(
              lb, ll,
              tensor::ExtractOp::create(
                  lb, ll, order,
                  ValueRange{arith::SelectOp::create(
                      lb, ll, atStart, p, arith::SubIOp::create(lb, ll, p, index(lb, ll, 1)))}));
          Value starts = arith::OrIOp::create(lb, ll, atStart, compare(lb, ll, previous, i).first);
          Value g = incrementIf(lb, ll, starts, c[1]);
          Value t = put(lb, ll, c[0], 0, i, toI64(lb, ll, g));
          Value first =
              arith::SelectOp::create(lb, ll, starts, toI64(lb, ll, i), get(lb, ll, t, 1, g));
          t = put(lb, ll, t, 1, g, first);
          t = put(lb, ll, t, 2, g, arith::AddIOp::create(lb, ll, get(lb, ll, t, 2, g), one64));
          return {t, g};
        });
    Value groups = grouped[0];
    Value count = arith::AddIOp::create(b, l, grouped[1], index(b, l, 1));
    auto isFirst = [&](OpBuilder &ob, Location ol, Value t, Value i, Value g) -> Value {
      return arith::CmpIOp::create(ob, ol, arith::CmpIPredicate::eq, get(ob, ol, t, 1, g),
                                   toI64(ob, ol, i));
    };
    auto groupOf = [&](OpBuilder &ob, Location ol, Value t, Value i) -> Value {
      return toIndex(ob, ol, get(ob, ol, t, 0, i));
    };
    if (!sorted)
      // Slots in order of first occurrence: the groups' first slices, by index.
      groups = buildLoop(
          b, l, index(b, l, 0), index(b, l, n), {groups, zero64},
          [&](OpBuilder &lb, Location ll, Value i, ValueRange c) -> Values {
            Value g = groupOf(lb, ll, c[0], i);
            Value first = isFirst(lb, ll, c[0], i, g);
            Value slot = arith::SelectOp::create(lb, ll, first, c[1], get(lb, ll, c[0], 3, g));
            return {put(lb, ll, c[0], 3, g, slot),
                    arith::SelectOp::create(lb, ll, first,
                                            arith::AddIOp::create(lb, ll, c[1], one64), c[1])};
          })[0];

    // The outputs.
    Value zeroValue = scalarConstant(b, l, valuesType.getElementType(), 0);
    Value values = buildFilled(b, l, shape, zeroValue);
    // Per slot: row 0 the first index, row 1 the count. One tensor, not two equal fills, which
    // CSE would merge into one buffer that bufferization then writes both outputs from.
    Value perSlot = buildFilled(b, l, {2, n}, zero64);
    Value inverse = tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{n}, i64);
    Values results = buildLoop(
        b, l, index(b, l, 0), index(b, l, n), {values, perSlot, inverse},
        [&](OpBuilder &lb, Location ll, Value i, ValueRange c) -> Values {
          Value g = groupOf(lb, ll, groups, i);
          Value slot64 = sorted ? toI64(lb, ll, g) : get(lb, ll, groups, 3, g);
          Value slot = toIndex(lb, ll, slot64);
          Value newInverse = tensor::InsertOp::create(lb, ll, slot64, c[2], ValueRange{i});
          Values placed = ifElse(
              lb, ll, isFirst(lb, ll, groups, i, g),
              [&](OpBuilder &tb, Location tl) -> Values {
                Value copied = buildLoop(
                    tb, tl, index(tb, tl, 0), index(tb, tl, sliceSize), {c[0]},
                    [&](OpBuilder &eb, Location el, Value e, ValueRange v) -> Values {
                      Value x = tensor::ExtractOp::create(eb, el, data, at(eb, el, i, e));
                      return {tensor::InsertOp::create(eb, el, x, v[0], at(eb, el, slot, e))};
                    })[0];
                Value slotRows = put(tb, tl, c[1], 0, slot, toI64(tb, tl, i));
                return {copied, put(tb, tl, slotRows, 1, slot, get(tb, tl, groups, 2, g))};
              },
              [&](OpBuilder &, Location) -> Values {
                return {c[0], c[1]};
              });
          return {placed[0], placed[1], newInverse};
        });
    markSequential(op);
    auto row = [&](int64_t r) -> Value {
      return tensor::ExtractSliceOp::create(
          b, l, RankedTensorType::get({n}, i64), results[1],
          ArrayRef<OpFoldResult>{b.getIndexAttr(r), b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(n)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    };
    return Values{results[0], row(0), results[2], row(1), countTensor(b, l, count)};
  }
};

/// ONNX NonMaxSuppression as onnxruntime computes it: per batch and class, candidates in order
/// of falling score (heap-sorted, lower index first among equals; onnxruntime leaves ties to
/// its heap), each kept unless its IoU with a box kept before exceeds the threshold.
struct NonMaxSuppressionLowering final : LoweringPattern<NonMaxSuppressionOp> {
  using LoweringPattern::LoweringPattern;

  /// [xMin, yMin, xMax, yMax] of box `k` of batch `batch`.
  static std::array<Value, 4> corners(OpBuilder &b, Location l, Value boxes, Value batch, Value k,
                                      bool centered) {
    std::array<Value, 4> c;
    for (int64_t i = 0; i < 4; ++i)
      c[i] = tensor::ExtractOp::create(b, l, boxes, ValueRange{batch, k, index(b, l, i)});
    if (centered) {
      Value half = scalarConstant(b, l, b.getF32Type(), 0.5);
      Value halfW = arith::MulFOp::create(b, l, c[2], half);
      Value halfH = arith::MulFOp::create(b, l, c[3], half);
      return {arith::SubFOp::create(b, l, c[0], halfW), arith::SubFOp::create(b, l, c[1], halfH),
              arith::AddFOp::create(b, l, c[0], halfW), arith::AddFOp::create(b, l, c[1], halfH)};
    }
    // [y1, x1, y2, x2], any diagonal.
    auto lo = [&](Value p, Value q) { return arith::MinimumFOp::create(b, l, p, q); };
    auto hi = [&](Value p, Value q) { return arith::MaximumFOp::create(b, l, p, q); };
    return {lo(c[1], c[3]), lo(c[0], c[2]), hi(c[1], c[3]), hi(c[0], c[2])};
  }

  /// Whether boxes p and q overlap by more than `threshold` (onnxruntime's SuppressByIOU).
  static Value suppresses(OpBuilder &b, Location l, std::array<Value, 4> p, std::array<Value, 4> q,
                          Value threshold) {
    Value zero = scalarConstant(b, l, b.getF32Type(), 0);
    auto sub = [&](Value x, Value y) { return arith::SubFOp::create(b, l, x, y); };
    auto mul = [&](Value x, Value y) { return arith::MulFOp::create(b, l, x, y); };
    auto positive = [&](Value x) {
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, zero);
    };
    auto both = [&](Value x, Value y) { return arith::AndIOp::create(b, l, x, y); };
    Value width = sub(arith::MinimumFOp::create(b, l, p[2], q[2]),
                      arith::MaximumFOp::create(b, l, p[0], q[0]));
    Value height = sub(arith::MinimumFOp::create(b, l, p[3], q[3]),
                       arith::MaximumFOp::create(b, l, p[1], q[1]));
    Value intersection = mul(width, height);
    Value areaP = mul(sub(p[2], p[0]), sub(p[3], p[1]));
    Value areaQ = mul(sub(q[2], q[0]), sub(q[3], q[1]));
    Value unionArea = sub(arith::AddFOp::create(b, l, areaP, areaQ), intersection);
    Value valid = both(both(both(positive(width), positive(height)), positive(intersection)),
                       both(both(positive(areaP), positive(areaQ)), positive(unionArea)));
    Value iou = arith::DivFOp::create(b, l, intersection, unionArea);
    return both(valid, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, iou, threshold));
  }

  FailureOr<Values> lower(NonMaxSuppressionOp op, PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location l = op.getLoc();
    auto scoresType = cast<RankedTensorType>(op.getScores().getType());
    auto outType = cast<RankedTensorType>(op.getSelected().getType());
    int64_t classes = scoresType.getDimSize(1), n = scoresType.getDimSize(2);
    int64_t pairs = scoresType.getDimSize(0) * classes;
    Value boxes = op.getBoxes(), scores = op.getScores();
    bool centered = op.getCenterPointBox(), thresholded = op.getHasScoreThreshold();
    Type i1 = b.getI1Type();
    Value iouThreshold = scalarOf(b, l, op.getIouThreshold());
    Value scoreThreshold = scalarOf(b, l, op.getScoreThreshold());
    // At most min(max_output_boxes_per_class, the bound) per class; a negative count is 0.
    Value limit = toIndex(b, l, scalarOf(b, l, op.getMaxOutputBoxesPerClass()));
    limit = arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, limit, index(b, l, 0)),
                                   index(b, l, op.getBoundPerClass()));
    Value out = buildFilled(b, l, outType.getShape(),
                            arith::ConstantIntOp::create(b, l, b.getI64Type(), 0));
    // The class's box indices, sorted by falling score once per class.
    Value order = tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{n}, b.getI64Type());

    Values results = buildLoop(
        b, l, index(b, l, 0), index(b, l, pairs), {out, index(b, l, 0), order},
        [&](OpBuilder &pb, Location pl, Value pair, ValueRange c) -> Values {
          Value batch = arith::DivUIOp::create(pb, pl, pair, index(pb, pl, classes));
          Value cls = arith::RemUIOp::create(pb, pl, pair, index(pb, pl, classes));
          Value start = c[1];
          auto scoreOf = [&](OpBuilder &sb, Location sl, Value box) -> Value {
            return tensor::ExtractOp::create(sb, sl, scores, ValueRange{batch, cls, box});
          };
          // Box x (i64) after box y: a lower score, or an equal one and a later index.
          auto after = [&](OpBuilder &ab, Location al, Value x, Value y) -> Value {
            Value sx = scoreOf(ab, al, toIndex(ab, al, x));
            Value sy = scoreOf(ab, al, toIndex(ab, al, y));
            Value lower = arith::CmpFOp::create(ab, al, arith::CmpFPredicate::OLT, sx, sy);
            Value equal = arith::CmpFOp::create(ab, al, arith::CmpFPredicate::OEQ, sx, sy);
            Value later = arith::CmpIOp::create(ab, al, arith::CmpIPredicate::sgt, x, y);
            return arith::OrIOp::create(ab, al, lower, arith::AndIOp::create(ab, al, equal, later));
          };
          Value sorted = heapSort(pb, pl, c[2], n, after);
          Value no = arith::ConstantIntOp::create(pb, pl, i1, 0);
          // Carried: output, count, done.
          Values state = buildLoop(
              pb, pl, index(pb, pl, 0), index(pb, pl, n), {c[0], c[1], no},
              [&](OpBuilder &tb, Location tl, Value t, ValueRange s) -> Values {
                Value full =
                    arith::CmpIOp::create(tb, tl, arith::CmpIPredicate::sge,
                                          arith::SubIOp::create(tb, tl, s[1], start), limit);
                Value box =
                    toIndex(tb, tl, tensor::ExtractOp::create(tb, tl, sorted, ValueRange{t}));
                Value stop = arith::OrIOp::create(tb, tl, s[2], full);
                // Scores fall from here on: the first below the threshold ends the class.
                if (thresholded)
                  stop = arith::OrIOp::create(
                      tb, tl, stop,
                      arith::XOrIOp::create(tb, tl,
                                            arith::CmpFOp::create(tb, tl, arith::CmpFPredicate::OGT,
                                                                  scoreOf(tb, tl, box),
                                                                  scoreThreshold),
                                            arith::ConstantIntOp::create(tb, tl, i1, 1)));
                return ifElse(
                    tb, tl, stop,
                    [&](OpBuilder &sb, Location sl) -> Values {
                      return {s[0], s[1], arith::ConstantIntOp::create(sb, sl, i1, 1)};
                    },
                    [&](OpBuilder &ob, Location ol) -> Values {
                      Values kept = keepUnlessSuppressed(ob, ol, s[0], s[1], boxes, batch, cls, box,
                                                         start, centered, iouThreshold);
                      return {kept[0], kept[1], s[2]};
                    });
              });
          return {state[0], state[1], sorted};
        });
    markSequential(op);
    return Values{results[0], countTensor(b, l, results[1])};
  }

  /// Appends [batch, cls, box] to `out` at row `count` unless a box kept before for this class
  /// (rows [start, count)) suppresses it. Returns (out, count).
  static Values keepUnlessSuppressed(OpBuilder &b, Location l, Value out, Value count, Value boxes,
                                     Value batch, Value cls, Value box, Value start, bool centered,
                                     Value iouThreshold) {
    std::array<Value, 4> candidate = corners(b, l, boxes, batch, box, centered);
    Value no = arith::ConstantIntOp::create(b, l, b.getI1Type(), 0);
    Value suppressed = buildLoop(
        b, l, start, count, {no},
        [&](OpBuilder &qb, Location ql, Value row, ValueRange sup) -> Values {
          Value kept = toIndex(
              qb, ql, tensor::ExtractOp::create(qb, ql, out, ValueRange{row, index(qb, ql, 2)}));
          std::array<Value, 4> other = corners(qb, ql, boxes, batch, kept, centered);
          return {arith::OrIOp::create(qb, ql, sup[0],
                                       suppresses(qb, ql, other, candidate, iouThreshold))};
        })[0];
    return ifElse(
        b, l, suppressed,
        [&](OpBuilder &, Location) -> Values {
          return {out, count};
        },
        [&](OpBuilder &ib, Location il) -> Values {
          Value written = out;
          SmallVector<Value> picked = {batch, cls, box};
          for (auto [column, value] : llvm::enumerate(picked))
            written = tensor::InsertOp::create(ib, il, toI64(ib, il, value), written,
                                               ValueRange{count, index(ib, il, column)});
          return {written, arith::AddIOp::create(ib, il, count, index(ib, il, 1))};
        });
  }
};

/// Det: for each matrix, Gaussian elimination with partial pivoting on a copy; the determinant
/// is the product of the pivots, negated per row swap.
struct DetLowering final : LoweringPattern<DetOp> {
  using LoweringPattern::LoweringPattern;
  FailureOr<Values> lower(DetOp op, PatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location l = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getOutput().getType());
    int64_t rank = inputType.getRank(), m = inputType.getDimSize(rank - 1);
    int64_t batch = outType.getNumElements();
    Type et = inputType.getElementType();
    // The arithmetic runs in f32 at least (f16 pivots would lose the product).
    Type ct = et.getIntOrFloatBitWidth() < 32 ? b.getF32Type() : et;
    auto widen = [&](OpBuilder &ob, Location ol, Value v) {
      return v.getType() == ct ? v : convertScalar(ob, ol, v, ct);
    };
    Value matrices = reshapeTo(b, l, op.getInput(), RankedTensorType::get({batch, m, m}, et));
    Value work = tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{m, m}, ct);
    Value out = tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{batch}, et);
    Value zero = scalarConstant(b, l, ct, 0), one = scalarConstant(b, l, ct, 1);
    Values results = buildLoop(
        b, l, index(b, l, 0), index(b, l, batch), {out, work},
        [&](OpBuilder &bb, Location bl, Value mat, ValueRange c) -> Values {
          // Copy the matrix into the work tensor.
          Value a = buildLoop(
              bb, bl, index(bb, bl, 0), index(bb, bl, m * m), {c[1]},
              [&](OpBuilder &eb, Location el, Value e, ValueRange w) -> Values {
                Value i = arith::DivUIOp::create(eb, el, e, index(eb, el, m));
                Value j = arith::RemUIOp::create(eb, el, e, index(eb, el, m));
                Value v = tensor::ExtractOp::create(eb, el, matrices, ValueRange{mat, i, j});
                return {tensor::InsertOp::create(eb, el, widen(eb, el, v), w[0], ValueRange{i, j})};
              })[0];
          Values state =
              buildLoop(bb, bl, index(bb, bl, 0), index(bb, bl, m), {a, one},
                        [&](OpBuilder &kb, Location kl, Value k, ValueRange s) -> Values {
                          return eliminate(kb, kl, s[0], s[1], k, m, zero);
                        });
          Value det = state[1];
          if (ct != et)
            det = convertScalar(bb, bl, det, et);
          return {tensor::InsertOp::create(bb, bl, det, c[0], ValueRange{mat}), c[1]};
        });
    markSequential(op);
    return Values{reshapeTo(b, l, results[0], outType)};
  }

  /// Column k: picks the largest pivot at or below row k, swaps it up, multiplies the
  /// determinant by it, and clears the column below it unless the pivot is 0 (the determinant
  /// is then 0, and stays so unless a later pivot is infinite or NaN). Returns (matrix,
  /// determinant).
  static Values eliminate(OpBuilder &b, Location l, Value a, Value det, Value k, int64_t m,
                          Value zero) {
    Value end = index(b, l, m);
    auto at = [&](OpBuilder &ob, Location ol, Value t, Value i, Value j) -> Value {
      return tensor::ExtractOp::create(ob, ol, t, ValueRange{i, j});
    };
    auto magnitude = [&](OpBuilder &ob, Location ol, Value v) -> Value {
      return math::AbsFOp::create(ob, ol, v);
    };
    Value pivotRow = buildLoop(
        b, l, k, end, {k}, [&](OpBuilder &ib, Location il, Value i, ValueRange best) -> Values {
          Value larger = arith::CmpFOp::create(ib, il, arith::CmpFPredicate::OGT,
                                               magnitude(ib, il, at(ib, il, a, i, k)),
                                               magnitude(ib, il, at(ib, il, a, best[0], k)));
          return {arith::SelectOp::create(ib, il, larger, i, best[0])};
        })[0];
    // Swap rows k and pivotRow (a no-op when equal), negating the determinant if they differ.
    Value swapped =
        buildLoop(b, l, index(b, l, 0), end, {a},
                  [&](OpBuilder &jb, Location jl, Value j, ValueRange t) -> Values {
                    Value top = at(jb, jl, t[0], k, j), other = at(jb, jl, t[0], pivotRow, j);
                    Value u = tensor::InsertOp::create(jb, jl, other, t[0], ValueRange{k, j});
                    return {tensor::InsertOp::create(jb, jl, top, u, ValueRange{pivotRow, j})};
                  })[0];
    Value moved = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, pivotRow, k);
    Value pivot = at(b, l, swapped, k, k);
    Value signedDet = arith::SelectOp::create(b, l, moved, arith::NegFOp::create(b, l, det), det);
    Value newDet = arith::MulFOp::create(b, l, signedDet, pivot);
    Value nonZero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, pivot, zero);
    Values cleared = ifElse(
        b, l, nonZero,
        [&](OpBuilder &tb, Location tl) -> Values {
          Value below = arith::AddIOp::create(tb, tl, k, index(tb, tl, 1));
          return {buildLoop(
              tb, tl, below, end, {swapped},
              [&](OpBuilder &ib, Location il, Value i, ValueRange t) -> Values {
                Value factor = arith::DivFOp::create(ib, il, at(ib, il, t[0], i, k), pivot);
                return {buildLoop(
                    ib, il, below, end, {t[0]},
                    [&](OpBuilder &jb, Location jl, Value j, ValueRange r) -> Values {
                      Value update = arith::SubFOp::create(
                          jb, jl, at(jb, jl, r[0], i, j),
                          arith::MulFOp::create(jb, jl, factor, at(jb, jl, r[0], k, j)));
                      return {tensor::InsertOp::create(jb, jl, update, r[0], ValueRange{i, j})};
                    })[0]};
              })[0]};
        },
        [&](OpBuilder &, Location) -> Values { return {swapped}; });
    return {cleared[0], newDet};
  }
};

} // namespace

void mlir::catfish::populateSequentialToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<NonZeroLowering, UniqueLowering, NonMaxSuppressionLowering, DetLowering>(
      patterns.getContext());
}
