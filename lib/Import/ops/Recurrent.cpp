//===- Recurrent.cpp - ONNX RNN, GRU, LSTM and ReverseSequence -----------===//
//
// The input projections of all steps of a recurrent op are one matmul; each step is then a
// matmul by the recurrent weights and the cell's gates, which fusion turns into one GEMM region
// with its elementwise epilogue. Sequences of up to kMaxUnrolledSteps steps are unrolled at
// import (fusion then sees across steps); longer ones with a static batch become a catfish.loop
// over time, whose body is one step and which the execution plan runs, so the artifact and the
// compile time no longer grow with the sequence. The sequence length must be static; the batch
// may be dynamic where the sequence is unrolled.
//
// sequence_lens masks each batch entry past its length: the state stays, Y is zero there. The
// reverse direction with sequence_lens runs forward over the input reversed within each entry's
// length (ReverseSequence), and its Y is reversed back the same way.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

/// x reversed along `timeAxis` within the first lens[b] entries of each batch entry b along
/// `batchAxis`; the entries past lens[b] stay where they are (ONNX ReverseSequence).
static Value reverseSequence(NodeContext &node, Value x, Value lens, int64_t timeAxis,
                             int64_t batchAxis) {
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank();
  auto alongAxis = [&](Value v, int64_t axis) {
    SmallVector<int64_t> dims(rank, 1);
    dims[axis] = -1;
    return node.make<ReshapeOp>({v, node.constI64(dims)});
  };
  Type i64 = node.builder().getI64Type();
  Value length = node.make<ReshapeOp>({node.shapeOf(x, timeAxis, timeAxis + 1), node.constI64({})});
  Value steps = node.make<RangeOp>({node.constI64({0}, true), length, node.constI64({1}, true)});
  Value t = alongAxis(steps, timeAxis);
  // Lengths past the sequence count as the whole sequence.
  Value len = alongAxis(node.make<MinOp>({node.castElements(lens, i64), length}), batchAxis);
  Value reversed = node.make<SubOp>({node.make<SubOp>({len, node.constI64({1}, true)}), t});
  Value index = node.make<SelectOp>({node.make<LessOp>({t, len}), reversed, t});
  index = node.make<BroadcastOp>({index, node.shapeOf(x, 0, rank)});
  return node.make<GatherElementsOp>(
      {x, index}, {node.named("axis", node.builder().getI64IntegerAttr(timeAxis))});
}

static LogicalResult convertReverseSequence(NodeContext &node) {
  FailureOr<Value> x = node.requiredInput(0), lens = node.requiredInput(1);
  if (failed(x) || failed(lens))
    return failure();
  int64_t timeAxis = node.attrInt("time_axis", 0), batchAxis = node.attrInt("batch_axis", 1);
  if (!((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0)))
    return node.fail("time_axis and batch_axis must be 0 and 1 in some order, got " +
                     Twine(timeAxis) + " and " + Twine(batchAxis));
  if (typeOf(*x).getRank() < 2 || typeOf(*lens).getRank() != 1)
    return node.fail("ReverseSequence takes an input of rank >= 2 and 1-D sequence_lens");
  Value r = reverseSequence(node, *x, *lens, timeAxis, batchAxis);
  return r ? node.setOutput(0, r) : failure();
}

/// True for a constant of float zeros.
static bool isZeros(Value v) {
  DenseFPElementsAttr attr;
  return v && matchPattern(v, m_Constant(&attr)) &&
         llvm::all_of(attr.getValues<APFloat>(), [](const APFloat &f) { return f.isZero(); });
}

namespace {
enum class CellKind { Rnn, Gru, Lstm };

/// One activation function of a cell, with its parameters.
struct Activation {
  std::string name; // lower case
  float alpha = 0, beta = 0;
};

/// Unrolls one RNN, GRU or LSTM node.
class RecurrentImporter {
public:
  RecurrentImporter(NodeContext &node, CellKind kind) : node(node), kind(kind) {}
  LogicalResult run();

private:
  struct Direction {
    bool reverse;
    Value wT, rT;          // [input, G*H] and [H, G*H]
    Value inputBias;       // [G*H], added to the input projection; null if no bias
    Value recurrentBiasH;  // GRU with linear_before_reset: Rbh [H]
    Value peephole;        // LSTM: [3H] (i, o, f) or null
    Value h0, c0;          // [batch, H], or null for zeros
    ArrayRef<Activation> activations;
  };

  int64_t gates() const { return kind == CellKind::Rnn ? 1 : kind == CellKind::Gru ? 3 : 4; }
  LogicalResult parseActivations(int64_t directions);
  Value direction(Value v, int64_t d);
  Value slice(Value v, int64_t axis, int64_t begin, int64_t end);
  Value transposed(Value m);
  Value zeros(Value like);
  Value activate(const Activation &a, Value x);
  Value clipped(Value x);
  Value unsqueezeFront(Value v, ArrayRef<int64_t> leading);
  /// Runs one direction; returns Y [seq, batch, H] (null if not asked for) and the last state.
  LogicalResult runDirection(const Direction &dir, Value xw, Value lens, Value &y, Value &hLast,
                             Value &cLast);
  /// runDirection as a catfish.loop over time.
  LogicalResult loopDirection(const Direction &dir, Value xw, Value lens, Value &y, Value &hLast,
                              Value &cLast);
  /// One cell step: the new hidden (and cell) state from the step's input projection.
  void step(const Direction &dir, Value xt, Value h, Value c, Value &hNext, Value &cNext);
  /// A step's results where `live` (t < sequence_lens, per batch entry): elsewhere Y is zero
  /// and the states (null: zero) stay.
  void mask(Value live, Value h, Value c, Value &y, Value &hNext, Value &cNext);

  NodeContext &node;
  CellKind kind;
  Type et;
  int64_t hidden = 0;
  std::optional<float> clip;
  bool linearBeforeReset = false, inputForget = false;
  SmallVector<Activation> activations;
};
} // namespace

static bool takesAlpha(StringRef n) {
  return n == "leakyrelu" || n == "thresholdedrelu" || n == "elu" || n == "hardsigmoid" ||
         n == "affine" || n == "scaledtanh";
}

LogicalResult RecurrentImporter::parseActivations(int64_t directions) {
  static const char *const kDefaults[3][3] = {
      {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
  int64_t perDirection = kind == CellKind::Rnn ? 1 : kind == CellKind::Gru ? 2 : 3;
  SmallVector<std::string> names;
  if (const onnx::AttributeProto *attr = node.attr("activations"))
    names.assign(attr->strings().begin(), attr->strings().end());
  if (names.empty())
    for (int64_t d = 0; d < directions; ++d)
      for (int64_t i = 0; i < perDirection; ++i)
        names.push_back(kDefaults[perDirection - 1][i]);
  if (static_cast<int64_t>(names.size()) != perDirection * directions)
    return node.fail("activations lists " + Twine(names.size()) + " functions, expected " +
                     Twine(perDirection * directions) + " (" + Twine(perDirection) +
                     " per direction)");
  // alpha[i] and beta[i] belong to activation i, as onnxruntime reads them; a function whose
  // parameter is not given takes its ONNX operator's default.
  SmallVector<float> alphas = node.attrFloats("activation_alpha");
  SmallVector<float> betas = node.attrFloats("activation_beta");
  static const llvm::StringMap<std::pair<float, float>> kKnown = {
      {"relu", {0, 0}},          {"tanh", {0, 0}},        {"sigmoid", {0, 0}},
      {"softsign", {0, 0}},      {"softplus", {0, 0}},    {"leakyrelu", {0.01f, 0}},
      {"thresholdedrelu", {1, 0}}, {"elu", {1, 0}},       {"hardsigmoid", {0.2f, 0.5f}},
      {"affine", {1, 0}},        {"scaledtanh", {1, 1}}};
  for (auto [i, name] : llvm::enumerate(names)) {
    std::string lower = StringRef(name).lower();
    auto known = kKnown.find(lower);
    if (known == kKnown.end())
      return node.fail("activation '" + name + "' is not one of Relu, Tanh, Sigmoid, Affine, "
                       "LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, "
                       "Softplus");
    Activation a{lower, known->second.first, known->second.second};
    if (takesAlpha(lower) && i < alphas.size())
      a.alpha = alphas[i];
    if (i < betas.size())
      a.beta = betas[i];
    activations.push_back(a);
  }
  return success();
}

Value RecurrentImporter::direction(Value v, int64_t d) {
  return v ? node.takeAt(v, 0, d) : Value();
}

Value RecurrentImporter::slice(Value v, int64_t axis, int64_t begin, int64_t end) {
  return node.sliceOf(v, {begin}, {end}, {axis});
}

Value RecurrentImporter::transposed(Value m) {
  return node.make<TransposeOp>({m},
                                {node.named("perm", node.builder().getDenseI64ArrayAttr({1, 0}))});
}

Value RecurrentImporter::zeros(Value like) {
  return node.make<FillOp>({node.shapeOf(like, 0, typeOf(like).getRank())},
                           {node.named("value", node.builder().getFloatAttr(et, 0.0))});
}

Value RecurrentImporter::activate(const Activation &a, Value x) {
  OpBuilder &b = node.builder();
  auto alpha = node.named("alpha", b.getF32FloatAttr(a.alpha));
  if (a.name == "relu")
    return node.make<ReluOp>({x});
  if (a.name == "tanh")
    return node.make<TanhOp>({x});
  if (a.name == "sigmoid")
    return node.make<SigmoidOp>({x});
  if (a.name == "softsign")
    return node.make<SoftsignOp>({x});
  if (a.name == "softplus")
    return node.make<SoftplusOp>({x});
  if (a.name == "leakyrelu")
    return node.make<LeakyReluOp>({x}, {alpha});
  if (a.name == "thresholdedrelu")
    return node.make<ThresholdedReluOp>({x}, {alpha});
  if (a.name == "elu")
    return node.make<EluOp>({x}, {alpha});
  if (a.name == "hardsigmoid")
    return node.make<HardSigmoidOp>({x}, {alpha, node.named("beta", b.getF32FloatAttr(a.beta))});
  if (a.name == "affine")
    return node.make<AddOp>({node.make<MulOp>({x, node.constScalar(et, a.alpha)}),
                             node.constScalar(et, a.beta)});
  assert(a.name == "scaledtanh" && "activation names are checked when parsed");
  return node.make<MulOp>({node.make<TanhOp>({node.make<MulOp>({x, node.constScalar(et, a.beta)})}),
                           node.constScalar(et, a.alpha)});
}

/// The cell clip bounds the inputs of the gate activations to [-clip, clip].
Value RecurrentImporter::clipped(Value x) {
  if (!clip)
    return x;
  return node.make<MinOp>(
      {node.make<MaxOp>({x, node.constScalar(et, -*clip)}), node.constScalar(et, *clip)});
}

/// `v` reshaped to `leading` dims, then -1 (the batch), then the hidden size.
Value RecurrentImporter::unsqueezeFront(Value v, ArrayRef<int64_t> leading) {
  SmallVector<int64_t> dims(leading);
  dims.append({-1, hidden});
  return node.make<ReshapeOp>({v, node.constI64(dims)});
}

void RecurrentImporter::step(const Direction &dir, Value xt, Value h, Value c, Value &hNext,
                             Value &cNext) {
  // A null state is zero (the first step without initial states): its products drop out.
  auto act = [&](size_t i, Value x) { return activate(dir.activations[i], clipped(x)); };
  auto gate = [&](Value v, int64_t g) { return slice(v, 1, g * hidden, (g + 1) * hidden); };
  auto plus = [&](Value a, Value b) { return b ? node.make<AddOp>({a, b}) : a; };
  auto times = [&](Value a, Value b) { return a && b ? node.make<MulOp>({a, b}) : Value(); };
  auto product = [&](Value state, Value weights) {
    return state ? node.make<MatMulOp>({state, weights}) : Value();
  };
  if (kind == CellKind::Rnn) {
    hNext = act(0, plus(xt, product(h, dir.rT)));
    return;
  }
  if (kind == CellKind::Gru) {
    // Gates z, r, h. The z and r parts of h . R^T are one product; the h gate multiplies
    // r * h (default) or takes r * (h . Rh^T + Rbh) (linear_before_reset).
    Value hr = product(h, linearBeforeReset ? dir.rT : slice(dir.rT, 1, 0, 2 * hidden));
    Value z = act(0, plus(gate(xt, 0), hr ? gate(hr, 0) : Value()));
    Value r = act(0, plus(gate(xt, 1), hr ? gate(hr, 1) : Value()));
    Value candidateIn;
    if (linearBeforeReset) {
      Value hh = plus(hr ? gate(hr, 2) : dir.recurrentBiasH, hr ? dir.recurrentBiasH : Value());
      candidateIn = plus(gate(xt, 2), times(r, hh));
    } else {
      candidateIn =
          plus(gate(xt, 2), product(times(r, h), slice(dir.rT, 1, 2 * hidden, 3 * hidden)));
    }
    Value candidate = act(1, candidateIn);
    // (1 - z) * candidate + z * h = candidate + z * (h - candidate)
    Value change = h ? node.make<SubOp>({h, candidate}) : node.make<NegOp>({candidate});
    hNext = node.make<AddOp>({candidate, node.make<MulOp>({z, change})});
    return;
  }
  // LSTM: gates i, o, f, c; peepholes i, o, f.
  Value g = plus(xt, product(h, dir.rT));
  auto peep = [&](Value pre, int64_t p, Value state) {
    Value weight = dir.peephole ? slice(dir.peephole, 0, p * hidden, (p + 1) * hidden) : Value();
    return plus(pre, times(weight, state));
  };
  Value i = act(0, peep(gate(g, 0), 0, c));
  Value candidate = act(1, gate(g, 3));
  cNext = node.make<MulOp>({i, candidate});
  if (c) {
    Value f = inputForget ? node.make<SubOp>({node.constScalar(et, 1.0), i})
                          : act(0, peep(gate(g, 2), 2, c));
    cNext = node.make<AddOp>({node.make<MulOp>({f, c}), cNext});
  }
  Value o = act(0, peep(gate(g, 1), 1, cNext));
  hNext = node.make<MulOp>({o, activate(dir.activations[2], cNext)});
}

/// Sequences of up to this many steps are unrolled at import.
static constexpr int64_t kMaxUnrolledSteps = 16;

LogicalResult RecurrentImporter::loopDirection(const Direction &dir, Value xw, Value lens,
                                               Value &y, Value &hLast, Value &cLast) {
  OpBuilder &b = node.builder();
  Location loc = node.loc();
  int64_t seq = typeOf(xw).getDimSize(0);
  bool masked = static_cast<bool>(lens);
  if (masked && dir.reverse)
    xw = reverseSequence(node, xw, lens, 0, 1);
  if (!xw)
    return failure();
  auto stateType = RankedTensorType::get({typeOf(xw).getDimSize(1), hidden}, et);
  Value zeroState = ConstantOp::create(b, loc, DenseElementsAttr::get(stateType, b.getZeroAttr(et)));
  SmallVector<Value> initial = {dir.h0 ? dir.h0 : zeroState};
  if (kind == CellKind::Lstm)
    initial.push_back(dir.c0 ? dir.c0 : zeroState);
  Value lens64 = masked ? node.make<ReshapeOp>({node.castElements(lens, b.getI64Type()),
                                                 node.constI64({-1, 1})})
                        : Value();
  Value trips = node.constI64({seq}, /*scalar=*/true);
  if ((masked && !lens64) || !trips)
    return failure();
  bool wantY = node.hasOutput(0);
  OperationState state(loc, LoopOp::getOperationName());
  state.addOperands(trips);
  state.addOperands(initial);
  state.addAttribute("operandSegmentSizes",
                     b.getDenseI32ArrayAttr({1, 0, static_cast<int32_t>(initial.size())}));
  Region *region = state.addRegion();
  {
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Type> argTypes = {RankedTensorType::get({}, b.getI64Type()),
                                  RankedTensorType::get({}, b.getI1Type())};
    llvm::append_range(argTypes, ValueRange(initial).getTypes());
    Block *block = b.createBlock(region, {}, argTypes, SmallVector<Location>(argTypes.size(), loc));
    // Without masks the reverse direction walks the sequence backwards in place.
    Value t = block->getArgument(0);
    if (dir.reverse && !masked)
      t = node.make<SubOp>({node.constI64({seq - 1}, true), t});
    Value h = block->getArgument(2);
    Value c = kind == CellKind::Lstm ? block->getArgument(3) : Value();
    Value hNext, cNext;
    step(dir, node.make<GatherOp>({xw, t}, {node.named("axis", b.getI64IntegerAttr(0))}), h, c,
         hNext, cNext);
    if (!hNext || (kind == CellKind::Lstm && !cNext))
      return failure();
    Value yt = hNext;
    if (masked)
      mask(node.make<LessOp>({t, lens64}), h, c, yt, hNext, cNext);
    SmallVector<Value> yields = {block->getArgument(1), hNext};
    if (kind == CellKind::Lstm)
      yields.push_back(cNext);
    if (wantY)
      yields.push_back(yt);
    if (llvm::any_of(yields, [](Value v) { return !v; }))
      return failure();
    YieldOp::create(b, loc, yields);
  }
  SmallVector<Type> resultTypes(ValueRange(initial).getTypes());
  if (wantY)
    resultTypes.push_back(RankedTensorType::get({seq, stateType.getDimSize(0), hidden}, et));
  state.addTypes(resultTypes);
  auto loop = cast<LoopOp>(b.create(state));
  if (failed(loop.verify()))
    return node.fail("internal error: the loop over time does not verify");
  hLast = loop.getResult(0);
  cLast = kind == CellKind::Lstm ? loop.getResult(1) : Value();
  if (!wantY)
    return success();
  y = loop.getResults().back();
  if (dir.reverse && !masked) {
    SmallVector<int64_t> backwards;
    for (int64_t t = seq - 1; t >= 0; --t)
      backwards.push_back(t);
    y = node.make<GatherOp>({y, node.constI64(backwards)},
                            {node.named("axis", b.getI64IntegerAttr(0))});
  }
  if (masked && dir.reverse)
    y = reverseSequence(node, y, lens, 0, 1);
  return success(static_cast<bool>(y));
}

void RecurrentImporter::mask(Value live, Value h, Value c, Value &y, Value &hNext,
                             Value &cNext) {
  Value zero = node.constScalar(et, 0.0);
  y = node.make<SelectOp>({live, hNext, zero});
  hNext = node.make<SelectOp>({live, hNext, h ? h : zero});
  if (kind == CellKind::Lstm)
    cNext = node.make<SelectOp>({live, cNext, c ? c : zero});
}

LogicalResult RecurrentImporter::runDirection(const Direction &dir, Value xw, Value lens,
                                              Value &y, Value &hLast, Value &cLast) {
  int64_t seq = typeOf(xw).getDimSize(0);
  RankedTensorType xwType = typeOf(xw);
  if (seq > kMaxUnrolledSteps && xwType.hasStaticShape())
    return loopDirection(dir, xw, lens, y, hLast, cLast);
  bool masked = static_cast<bool>(lens);
  if (masked && dir.reverse)
    xw = reverseSequence(node, xw, lens, 0, 1);
  Value h = dir.h0, c = dir.c0;
  Value lens64 = masked ? node.make<ReshapeOp>({node.castElements(lens, node.builder().getI64Type()),
                                                 node.constI64({-1, 1})})
                        : Value();
  bool wantY = node.hasOutput(0);
  SmallVector<Value> ys(seq);
  for (int64_t s = 0; s < seq; ++s) {
    // Without masks the reverse direction walks the sequence backwards in place.
    int64_t t = dir.reverse && !masked ? seq - 1 - s : s;
    Value hNext, cNext;
    step(dir, node.takeAt(xw, 0, t), h, c, hNext, cNext);
    if (!hNext || (kind == CellKind::Lstm && !cNext))
      return failure();
    if (masked) {
      mask(node.make<LessOp>({node.constI64({t}, true), lens64}), h, c, ys[t], hNext, cNext);
      h = hNext;
      c = cNext;
    } else {
      ys[t] = hNext;
      h = hNext;
      c = cNext;
    }
  }
  hLast = h;
  cLast = c;
  if (!wantY)
    return success();
  SmallVector<Value> pieces;
  for (Value v : ys)
    pieces.push_back(unsqueezeFront(v, {1}));
  y = node.make<ConcatOp>(pieces, {node.named("axis", node.builder().getI64IntegerAttr(0))});
  if (masked && dir.reverse)
    y = reverseSequence(node, y, lens, 0, 1);
  return success(static_cast<bool>(y));
}

LogicalResult RecurrentImporter::run() {
  StringRef op = node.node().op_type();
  FailureOr<Value> xIn = node.requiredInput(0), w = node.requiredInput(1),
                   r = node.requiredInput(2);
  if (failed(xIn) || failed(w) || failed(r))
    return failure();
  Value x = *xIn, b = node.input(3), lens = node.input(4), h0 = node.input(5);
  Value c0 = kind == CellKind::Lstm ? node.input(6) : Value();
  Value p = kind == CellKind::Lstm ? node.input(7) : Value();
  et = getElementTypeOrSelf(x);
  if (!isa<FloatType>(et))
    return node.fail(op + " computes on floating-point inputs");
  for (Value v : {*w, *r, b, h0, c0, p})
    if (v && getElementTypeOrSelf(v) != et)
      return node.fail("X, W, R, B, initial states and P must have one element type");
  if (typeOf(x).getRank() != 3 || typeOf(*w).getRank() != 3 || typeOf(*r).getRank() != 3)
    return node.fail("X, W and R must be 3-D");

  std::string dirName = node.attrString("direction", "forward");
  if (dirName != "forward" && dirName != "reverse" && dirName != "bidirectional")
    return node.fail("direction must be forward, reverse or bidirectional, got '" + dirName + "'");
  int64_t directions = dirName == "bidirectional" ? 2 : 1;
  int64_t layout = node.attrInt("layout", 0);
  if (layout != 0 && layout != 1)
    return node.fail("layout must be 0 or 1, got " + Twine(layout));
  if (kind == CellKind::Gru)
    linearBeforeReset = node.attrInt("linear_before_reset", 0) != 0;
  if (kind == CellKind::Lstm)
    inputForget = node.attrInt("input_forget", 0) != 0;
  if (node.attr("clip"))
    clip = node.attrFloat("clip", 0);
  if (clip && !(*clip > 0))
    return node.fail("clip must be positive");

  OpBuilder &builder = node.builder();
  auto perm = [&](ArrayRef<int64_t> p) { return node.named("perm", builder.getDenseI64ArrayAttr(p)); };
  // Layout 1 is batch-major: [batch, seq, input] and [batch, directions, H].
  if (layout == 1) {
    x = node.make<TransposeOp>({x}, {perm({1, 0, 2})});
    if (h0)
      h0 = node.make<TransposeOp>({h0}, {perm({1, 0, 2})});
    if (c0)
      c0 = node.make<TransposeOp>({c0}, {perm({1, 0, 2})});
  }
  if (!x)
    return failure();
  RankedTensorType xType = typeOf(x), rType = typeOf(*r);
  if (xType.getDimSize(0) == 0)
    return node.fail("the sequence length (dim " + Twine(layout) + " of X) is 0");
  // Unrolled, each step is a few kernels of the plan: past this the artifact and its compile
  // time grow out of proportion (a static batch runs the sequence as a loop instead).
  constexpr int64_t kMaxSteps = 4096;
  if (xType.getDimSize(0) > kMaxSteps && xType.isDynamicDim(1))
    return node.fail("the sequence has " + Twine(xType.getDimSize(0)) + " steps and the batch "
                     "is dynamic; at most " + Twine(kMaxSteps) + " steps are unrolled (fix the "
                     "batch with --shape to run the sequence as a loop)");
  if (xType.isDynamicDim(0))
    return node.fail("the sequence length (dim " + Twine(layout) +
                     " of X) must be static: it is the trip count of the loop over time or the "
                     "unroll count (fix it with --shape)");
  hidden = node.attrInt("hidden_size", rType.getDimSize(2));
  if (ShapedType::isDynamic(hidden) || hidden <= 0)
    return node.fail("hidden_size must be given or R's last dim static");
  int64_t g = gates();
  auto expect = [&](Value v, StringRef name, ArrayRef<int64_t> dims) -> LogicalResult {
    if (!v)
      return success();
    RankedTensorType t = typeOf(v);
    bool ok = t.getRank() == static_cast<int64_t>(dims.size());
    for (size_t i = 0; ok && i < dims.size(); ++i)
      ok = t.isDynamicDim(i) || ShapedType::isDynamic(dims[i]) || t.getDimSize(i) == dims[i];
    if (ok)
      return success();
    std::string want;
    for (auto [i, d] : llvm::enumerate(dims))
      want += (i ? "x" : "") + (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
    return node.fail(name + " has shape " + llvm::formatv("{0}", v.getType()).str() +
                     ", expected " + want);
  };
  int64_t dyn = ShapedType::kDynamic;
  if (failed(expect(*w, "W", {directions, g * hidden, dyn})) ||
      failed(expect(*r, "R", {directions, g * hidden, hidden})) ||
      failed(expect(b, "B", {directions, 2 * g * hidden})) ||
      failed(expect(lens, "sequence_lens", {dyn})) ||
      failed(expect(h0, "initial_h", {directions, dyn, hidden})) ||
      failed(expect(c0, "initial_c", {directions, dyn, hidden})) ||
      failed(expect(p, "P", {directions, 3 * hidden})))
    return failure();
  if (lens && !getElementTypeOrSelf(lens).isInteger(32) && !getElementTypeOrSelf(lens).isInteger(64))
    return node.fail("sequence_lens must be int32 or int64");
  if (failed(parseActivations(directions)))
    return failure();

  int64_t perDirection = activations.size() / directions;
  SmallVector<Value> ys, hs, cs;
  for (int64_t d = 0; d < directions; ++d) {
    Direction dir;
    dir.reverse = dirName == "reverse" || d == 1;
    dir.activations = ArrayRef<Activation>(activations).slice(d * perDirection, perDirection);
    dir.wT = transposed(direction(*w, d));
    dir.rT = transposed(direction(*r, d));
    if (b) {
      Value bd = direction(b, d);
      Value wb = slice(bd, 0, 0, g * hidden), rb = slice(bd, 0, g * hidden, 2 * g * hidden);
      if (kind == CellKind::Gru && linearBeforeReset) {
        // Rbh is added to h . Rh^T before the reset gate multiplies it.
        dir.recurrentBiasH = slice(rb, 0, 2 * hidden, 3 * hidden);
        rb = node.make<ConcatOp>({slice(rb, 0, 0, 2 * hidden), zeros(dir.recurrentBiasH)},
                                 {node.named("axis", builder.getI64IntegerAttr(0))});
      }
      dir.inputBias = node.make<AddOp>({wb, rb});
    }
    dir.peephole = direction(p, d);
    Value xw = node.make<MatMulOp>({x, dir.wT});
    if (b)
      xw = node.make<AddOp>({xw, dir.inputBias});
    if (!xw)
      return failure();
    dir.h0 = direction(h0, d);
    dir.c0 = direction(c0, d);
    if ((h0 && !dir.h0) || (c0 && !dir.c0))
      return failure();
    // torch.onnx passes zero initial states as constants: a zero state is no state.
    if (isZeros(dir.h0))
      dir.h0 = {};
    if (isZeros(dir.c0))
      dir.c0 = {};
    Value y, hLast, cLast;
    if (failed(runDirection(dir, xw, lens, y, hLast, cLast)))
      return failure();
    ys.push_back(y);
    hs.push_back(hLast);
    cs.push_back(cLast);
  }

  auto stack = [&](ArrayRef<Value> parts, ArrayRef<int64_t> leading, int64_t axis) {
    SmallVector<Value> pieces;
    for (Value v : parts)
      pieces.push_back(unsqueezeFront(v, leading));
    return node.make<ConcatOp>(pieces, {node.named("axis", builder.getI64IntegerAttr(axis))});
  };
  int64_t seq = xType.getDimSize(0);
  if (node.hasOutput(0)) {
    Value y = stack(ys, {seq, 1}, 1); // [seq, directions, batch, H]
    if (layout == 1)
      y = node.make<TransposeOp>({y}, {perm({2, 0, 1, 3})});
    if (!y || failed(node.setOutput(0, y)))
      return failure();
  }
  auto setState = [&](size_t index, ArrayRef<Value> states) -> LogicalResult {
    if (!node.hasOutput(index))
      return success();
    Value s = stack(states, {1}, 0); // [directions, batch, H]
    if (layout == 1)
      s = node.make<TransposeOp>({s}, {perm({1, 0, 2})});
    return s ? node.setOutput(index, s) : failure();
  };
  if (failed(setState(1, hs)))
    return failure();
  if (kind != CellKind::Lstm)
    return node.rejectOutputsFrom(2, (op + " has two outputs").str());
  if (failed(setState(2, cs)))
    return failure();
  return node.rejectOutputsFrom(3, "LSTM has three outputs");
}

template <CellKind Kind>
static LogicalResult convertRecurrent(NodeContext &node) {
  return RecurrentImporter(node, Kind).run();
}

void mlir::catfish::onnx_import::registerRecurrentConverters(ConverterMap &map) {
  map["RNN"] = convertRecurrent<CellKind::Rnn>;
  map["GRU"] = convertRecurrent<CellKind::Gru>;
  map["LSTM"] = convertRecurrent<CellKind::Lstm>;
  map["ReverseSequence"] = convertReverseSequence;
}
