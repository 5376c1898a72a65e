//===- TfIdfVectorizer.cpp - n-gram counts as comparisons and sums --------===//
//
// The pool's n-grams are constants, so every (n-gram size, skip distance) pair is a static
// set of windows: the window's t-th items are a slice of the input, compared with the pool's
// t-th column; a window matches an n-gram where all its items do. Summing the matches over
// windows and skip distances counts each pool n-gram, and a gather (a matmul by a constant 0/1
// matrix where n-grams share an output) puts the counts at the output positions
// `ngram_indexes` names. Counting follows the ONNX reference and onnxruntime: skip distances 1
// to max_skip_count + 1, unigrams counted at distance 1 only, n-grams of sizes outside
// [min_gram_length, max_gram_length] never; a pool listing an n-gram twice is refused, as
// onnxruntime refuses it.
//
//===----------------------------------------------------------------------===//
#include "../ImporterImpl.h"

#include <set>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::onnx_import;

static LogicalResult convertTfIdfVectorizer(NodeContext &node) {
  Value x = node.input(0);
  RankedTensorType type = typeOf(x);
  if (node.attr("pool_strings"))
    return node.fail("string pools are not supported (Catfish has no string tensors)");
  if (!isa<IntegerType>(type.getElementType()))
    return node.fail("the input must hold integers");
  if ((type.getRank() != 1 && type.getRank() != 2) || !type.hasStaticShape())
    return node.fail("the input must be [C] or [N, C] with a static shape");
  int64_t minGram = node.attrInt("min_gram_length", 0),
          maxGram = node.attrInt("max_gram_length", 0);
  int64_t maxSkip = node.attrInt("max_skip_count", 0);
  SmallVector<int64_t> counts = node.attrInts("ngram_counts");
  SmallVector<int64_t> indexes = node.attrInts("ngram_indexes");
  SmallVector<int64_t> pool = node.attrInts("pool_int64s");
  if (const onnx::AttributeProto *w = node.attr("weights");
      w && w->type() != onnx::AttributeProto::FLOATS)
    return node.fail("weights must be a list of floats");
  SmallVector<float> weights = node.attrFloats("weights");
  std::string mode = node.attrString("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return node.fail("mode must be TF, IDF or TFIDF, got '" + mode + "'");
  if (minGram < 1 || maxGram < minGram || maxSkip < 0)
    return node.fail("needs 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0");
  if (indexes.empty())
    return node.fail("ngram_indexes must not be empty");

  // The pool's n-grams of each size in [minGram, maxGram], each with its id (its position in
  // ngram_indexes).
  struct Size {
    int64_t n, firstId, count;
    ArrayRef<int64_t> items;
  };
  SmallVector<Size> sizes;
  int64_t id = 0;
  for (auto [i, start] : llvm::enumerate(counts)) {
    int64_t n = i + 1;
    int64_t end = i + 1 < counts.size() ? counts[i + 1] : static_cast<int64_t>(pool.size());
    if (start < 0 || end < start || end > static_cast<int64_t>(pool.size()) ||
        (end - start) % n != 0)
      return node.fail("ngram_counts entry " + Twine(i) + " does not split pool_int64s into " +
                       Twine(n) + "-grams");
    int64_t grams = (end - start) / n;
    ArrayRef<int64_t> items = ArrayRef<int64_t>(pool).slice(start, end - start);
    // onnxruntime refuses a pool that lists an n-gram twice (the reference counts it once,
    // under the later id).
    std::set<ArrayRef<int64_t>> seen;
    for (int64_t g = 0; g < grams; ++g)
      if (!seen.insert(items.slice(g * n, n)).second)
        return node.fail("pool_int64s lists a " + Twine(n) + "-gram twice");
    if (n >= minGram && n <= maxGram && grams > 0)
      sizes.push_back({n, id, grams, items});
    id += grams;
  }
  if (id > static_cast<int64_t>(indexes.size()))
    return node.fail("ngram_indexes has " + Twine(indexes.size()) + " entries for " + Twine(id) +
                     " n-grams");
  // Output positions are bounded before the maps over them are made.
  constexpr int64_t kMaxOutputs = int64_t(1) << 24;
  if (llvm::any_of(indexes, [](int64_t i) { return i < 0 || i >= kMaxOutputs; }))
    return node.fail("ngram_indexes must be in [0, " + Twine(kMaxOutputs) + ")");
  int64_t outputSize = *llvm::max_element(indexes) + 1;
  // The spec sizes weights as ngram_indexes; output position i takes weights[i].
  if (!weights.empty() && (weights.size() != indexes.size() ||
                           outputSize > static_cast<int64_t>(weights.size())))
    return node.fail("weights has " + Twine(weights.size()) + " entries; it needs one per "
                     "ngram_indexes entry (" + Twine(indexes.size()) + ") and per output (" +
                     Twine(outputSize) + ")");

  // Rows [B, L] (a 1-D input is one row).
  int64_t length = type.getShape().back();
  int64_t rows = type.getRank() == 2 ? type.getDimSize(0) : 1;
  // Compared in i64, as the pool is written (a narrower input type would truncate it).
  Value data = node.reshapeTo(node.castElements(x, node.builder().getI64Type()),
                              {node.constI64({rows, length, 1})});
  Type f32 = node.builder().getF32Type();
  auto i64Attr = [&](int64_t v) { return node.builder().getI64IntegerAttr(v); };
  // Per pool n-gram id: its count [B, ids], then spread into the outputs.
  SmallVector<Value> perSize;
  SmallVector<int64_t> sizeIds;
  for (const Size &size : sizes) {
    Value total;
    for (int64_t distance = 1; distance <= maxSkip + 1; ++distance) {
      if (size.n == 1 && distance > 1)
        break;
      int64_t windows = length - (size.n - 1) * distance;
      if (windows <= 0)
        break;
      Value match;
      for (int64_t t = 0; t < size.n; ++t) {
        SmallVector<int64_t> column;
        for (int64_t g = 0; g < size.count; ++g)
          column.push_back(size.items[g * size.n + t]);
        Value expected = node.constI64(column);
        Value items = node.sliceOf(data, {t * distance}, {t * distance + windows}, {1});
        Value equal = node.make<EqualOp>({items, expected});
        match = match ? node.make<AndOp>({match, equal}) : equal;
      }
      Value found = node.reduce(node.castElements(match, f32), ReduceKind::sum, {1}, false);
      total = total ? node.make<AddOp>({total, found}) : found;
    }
    if (!total)
      continue;
    perSize.push_back(total);
    for (int64_t g = 0; g < size.count; ++g)
      sizeIds.push_back(size.firstId + g);
  }
  Value frequencies;
  if (perSize.empty()) {
    frequencies = node.make<FillOp>({node.constI64({rows, outputSize})},
                                    {node.named("value", node.builder().getF32FloatAttr(0))});
  } else {
    // Each output takes the count of the n-grams that name it: with one n-gram per output, a
    // gather of its column (a zero column for outputs no counted n-gram names); with several,
    // a matmul by a 0/1 [n-grams, outputs] matrix, whose size is bounded.
    int64_t counted = sizeIds.size();
    perSize.push_back(node.make<FillOp>({node.constI64({rows, 1})},
                                        {node.named("value", node.builder().getF32FloatAttr(0))}));
    Value found = node.make<ConcatOp>(perSize, {node.named("axis", i64Attr(1))});
    SmallVector<int64_t> source(outputSize, counted);
    bool shared = false;
    for (auto [column, gramId] : llvm::enumerate(sizeIds)) {
      shared |= source[indexes[gramId]] != counted;
      source[indexes[gramId]] = column;
    }
    if (!shared) {
      frequencies = node.make<GatherOp>({found, node.constI64(source)},
                                        {node.named("axis", i64Attr(1))});
    } else {
      if (counted * outputSize > kMaxOutputs)
        return node.fail("n-grams sharing output positions need a " + Twine(counted) + " x " +
                         Twine(outputSize) + " spreading matrix, more than " +
                         Twine(kMaxOutputs) + " entries");
      SmallVector<double> spread((counted + 1) * outputSize, 0.0);
      for (auto [column, gramId] : llvm::enumerate(sizeIds))
        spread[column * outputSize + indexes[gramId]] += 1.0;
      frequencies =
          node.make<MatMulOp>({found, node.constFloats(f32, {counted + 1, outputSize}, spread)});
    }
  }
  Value y = frequencies;
  if (mode == "IDF")
    y = node.castElements(node.make<GreaterOp>({frequencies, node.constScalar(f32, 0)}), f32);
  if (mode != "TF" && !weights.empty()) {
    SmallVector<double> w(weights.begin(), weights.begin() + outputSize);
    y = node.make<MulOp>({y, node.constFloats(f32, {outputSize}, w)});
  }
  if (type.getRank() == 1)
    y = node.reshapeTo(y, {node.constI64({outputSize})});
  return y ? node.setOutput(0, y) : failure();
}

void mlir::catfish::onnx_import::registerTfIdfVectorizerConverters(ConverterMap &map) {
  map["TfIdfVectorizer"] = convertTfIdfVectorizer;
}
