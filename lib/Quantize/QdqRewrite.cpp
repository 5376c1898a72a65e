//===- QdqRewrite.cpp - where to quantize, and the ONNX QDQ rewrite -------===//
//
// Placement follows TensorRT's rules: the inputs of weighted ops (Conv, MatMul and Gemm with
// a constant weight) and of residual Adds, per-channel weights and per-tensor activations.
// Norms, softmax and embeddings are never quantized (they are not weighted ops here); the LM
// head and MoE routers are left in float by default. The result is a standard QDQ model in
// the form onnxruntime's quantize_static writes.
//
//===----------------------------------------------------------------------===//
#include "QuantizeImpl.h"

#include "catfish/Import/OnnxModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;
using llvm::createStringError;

namespace {

bool isDefaultDomain(const onnx::NodeProto &node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}

/// The graph's constants and its edges.
struct GraphIndex {
  explicit GraphIndex(const onnx::GraphProto &graph) : constants(constantTensors(graph)) {
    for (auto [i, node] : llvm::enumerate(graph.node())) {
      for (const std::string &out : node.output())
        producer[out] = i;
      for (const std::string &in : node.input())
        if (!in.empty())
          consumers[in].push_back(i);
    }
    for (const auto &out : graph.output())
      outputs.insert(out.name());
  }

  /// The f32 constant `name` of rank `rank` (any rank >= 3 when `rank` is 3), or null.
  const onnx::TensorProto *floatConstant(const std::string &name, int rank) const {
    auto it = constants.find(name);
    if (it == constants.end() || it->second->data_type() != onnx::TensorProto::FLOAT)
      return nullptr;
    int actual = it->second->dims_size();
    return (rank == 3 ? actual >= 3 : actual == rank) ? it->second : nullptr;
  }
  bool isConstant(const std::string &name) const { return constants.count(name) != 0; }
  const onnx::NodeProto *producerOf(const onnx::GraphProto &graph,
                                    const std::string &name) const {
    auto it = producer.find(name);
    return it == producer.end() ? nullptr : &graph.node(it->second);
  }

  std::map<std::string, const onnx::TensorProto *> constants;
  std::map<std::string, size_t> producer;
  std::map<std::string, std::vector<size_t>> consumers;
  llvm::StringSet<> outputs;
};

int64_t intAttribute(const onnx::NodeProto &node, StringRef name, int64_t otherwise) {
  for (const auto &attr : node.attribute())
    if (attr.name() == name)
      return attr.i();
  return otherwise;
}

float floatAttribute(const onnx::NodeProto &node, StringRef name, float otherwise) {
  for (const auto &attr : node.attribute())
    if (attr.name() == name)
      return attr.f();
  return otherwise;
}

/// Whether `start` flows, through at most `hops` ops in `through`, into an op of `targets`
/// (or a graph output when `targets` is empty).
bool reaches(const onnx::GraphProto &graph, const GraphIndex &index, const std::string &start,
             ArrayRef<StringRef> through, ArrayRef<StringRef> targets, int hops) {
  if (targets.empty() && index.outputs.contains(start))
    return true;
  if (hops == 0)
    return false;
  auto it = index.consumers.find(start);
  if (it == index.consumers.end())
    return false;
  for (size_t consumer : it->second) {
    const onnx::NodeProto &node = graph.node(consumer);
    if (llvm::is_contained(targets, node.op_type()))
      return true;
    if (llvm::is_contained(through, node.op_type()) && node.output_size() >= 1 &&
        reaches(graph, index, node.output(0), through, targets, hops - 1))
      return true;
  }
  return false;
}

const StringRef kShapeOps[] = {"Reshape", "Transpose", "Identity", "Cast", "Squeeze",
                               "Unsqueeze", "Flatten", "Add"};
const StringRef kRouterOps[] = {"Reshape", "Transpose", "Identity", "Cast", "Softmax",
                                "Sigmoid", "Add", "Div", "Mul"};

} // namespace

llvm::Expected<std::vector<Candidate>>
quantize::findCandidates(const onnx::ModelProto &model, const QuantizeOptions &options) {
  int64_t opset = 0;
  for (const auto &entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  if (opset < 13)
    return createStringError("quantization needs ONNX opset 13 or newer (per-channel "
                             "DequantizeLinear), the model has opset " +
                             Twine(opset) +
                             "; convert it first (onnx.version_converter.convert_version)");
  const onnx::GraphProto &graph = model.graph();
  GraphIndex index(graph);

  // Row counts of embedding tables: an output head of that width is the LM head.
  std::set<int64_t> vocabularies;
  for (const auto &node : graph.node())
    if (isDefaultDomain(node) && node.op_type() == "Gather" && node.input_size() >= 1)
      if (const onnx::TensorProto *table = index.floatConstant(node.input(0), 2))
        vocabularies.insert(table->dims(0));

  llvm::StringSet<> nodeNames, opTypes;
  std::vector<Candidate> candidates;
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    nodeNames.insert(node.name());
    opTypes.insert(node.op_type());
    if (!isDefaultDomain(node) || node.output_size() < 1)
      continue;
    Candidate c;
    c.node = static_cast<int>(i);
    c.opType = node.op_type();
    c.output = node.output(0);
    c.name = node.name().empty() ? node.output(0) : node.name();
    auto input = [&](int k) -> std::string { return k < node.input_size() ? node.input(k) : ""; };
    if (c.opType == "MatMul" && !index.isConstant(input(0)) &&
        index.floatConstant(input(1), 2)) {
      c.activations = {input(0)};
      c.weight = input(1);
      c.weightAxis = 1;
    } else if (c.opType == "Gemm" && !index.isConstant(input(0)) &&
               index.floatConstant(input(1), 2)) {
      c.activations = {input(0)};
      c.weight = input(1);
      c.weightAxis = intAttribute(node, "transB", 0) ? 0 : 1;
      const onnx::TensorProto *bias = index.floatConstant(input(2), 1);
      int64_t n = index.constants.at(c.weight)->dims(c.weightAxis);
      if (bias && bias->dims(0) == n && floatAttribute(node, "alpha", 1) == 1 &&
          floatAttribute(node, "beta", 1) == 1)
        c.bias = input(2);
    } else if (c.opType == "Conv" && !index.isConstant(input(0)) &&
               index.floatConstant(input(1), 3)) {
      c.activations = {input(0)};
      c.weight = input(1);
      c.weightAxis = 0;
      const onnx::TensorProto *bias = index.floatConstant(input(2), 1);
      if (bias && bias->dims(0) == index.constants.at(c.weight)->dims(0))
        c.bias = input(2);
    } else if (c.opType == "Add" && node.input_size() == 2 && input(0) != input(1) &&
               !index.isConstant(input(0)) && !index.isConstant(input(1))) {
      // A residual add joins two computed values; sums of embedding lookups are not one.
      auto fromEmbedding = [&](const std::string &name) {
        const onnx::NodeProto *producer = index.producerOf(graph, name);
        return producer && producer->op_type() == "Gather";
      };
      if (fromEmbedding(input(0)) || fromEmbedding(input(1)))
        continue;
      c.activations = {input(0), input(1)};
    } else {
      continue;
    }
    // Weight-only schemes rewrite MatMuls, and Gemms that are one (no transA, alpha 1, a bias
    // of N or none), into MatMulNBits.
    if (options.scheme == "int4-weights" && c.opType != "MatMul" &&
        !(c.opType == "Gemm" && intAttribute(node, "transA", 0) == 0 &&
          floatAttribute(node, "alpha", 1) == 1 && (input(2).empty() || !c.bias.empty())))
      continue;
    // int8-weights rewrites only the weight of a MatMul or Gemm.
    if (options.scheme == "int8-weights" && c.opType == "Conv")
      continue;
    // FP8 quantizes the inputs of weighted ops (GEMMs take FP8, elementwise adds gain
    // nothing); blocks run along a GEMM's K, the last axis of an activation that is not
    // transposed.
    if ((StringRef(options.scheme).starts_with("fp8") || options.scheme == "int8-weights") &&
        c.weight.empty())
      continue;
    if (options.scheme == "fp8-block" &&
        (c.opType == "Conv" || intAttribute(node, "transA", 0) != 0))
      continue;

    bool included = llvm::is_contained(options.include, c.name);
    if (llvm::is_contained(options.exclude, c.name) ||
        llvm::is_contained(options.exclude, c.opType)) {
      c.excluded = "excluded by --quantize-exclude";
    } else if (!included && !c.weight.empty() && c.opType != "Conv" &&
               vocabularies.count(index.constants.at(c.weight)->dims(c.weightAxis)) &&
               reaches(graph, index, c.output, kShapeOps, {}, 4)) {
      c.excluded = "LM head: its width is the embedding table's and it makes a graph output "
                   "(a default exclusion; --quantize-include=" + c.name + " quantizes it)";
    } else if (!included && !c.weight.empty() &&
               reaches(graph, index, c.output, kRouterOps, {"TopK"}, 4)) {
      c.excluded = "MoE router: its output selects experts through TopK (a default "
                   "exclusion; --quantize-include=" + c.name + " quantizes it)";
    }
    candidates.push_back(std::move(c));
  }

  for (const std::string &name : options.exclude)
    if (!nodeNames.contains(name) && !opTypes.contains(name) &&
        !llvm::any_of(candidates, [&](const Candidate &c) { return c.name == name; }))
      return createStringError("--quantize-exclude names '" + name +
                               "', which is neither a node nor an op type of the model");
  for (const std::string &name : options.include)
    if (!llvm::any_of(candidates, [&](const Candidate &c) { return c.name == name; }))
      return createStringError("--quantize-include names '" + name +
                               "', which is not a Conv, MatMul or Gemm with a constant "
                               "weight, nor a residual Add, of the model");
  return candidates;
}

std::string quantize::withOutputs(const onnx::ModelProto &model, ArrayRef<std::string> names) {
  onnx::ModelProto copy = model;
  llvm::StringSet<> present;
  for (const auto &out : copy.graph().output())
    present.insert(out.name());
  for (const std::string &name : names)
    if (present.insert(name).second)
      copy.mutable_graph()->add_output()->set_name(name);
  return copy.SerializeAsString();
}

onnx::TensorProto quantize::makeTensor(const std::string &name, int32_t dataType,
                                       ArrayRef<int64_t> dims, const void *data, size_t size) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(dataType);
  for (int64_t d : dims)
    tensor.add_dims(d);
  tensor.set_raw_data(std::string(static_cast<const char *>(data), size));
  return tensor;
}

onnx::NodeProto quantize::makeNode(const std::string &opType, const std::string &name,
                                   ArrayRef<std::string> inputs, const std::string &output,
                                   ArrayRef<std::pair<StringRef, int64_t>> ints) {
  onnx::NodeProto node;
  node.set_op_type(opType);
  node.set_name(name);
  for (const std::string &in : inputs)
    node.add_input(in);
  node.add_output(output);
  for (auto [attrName, value] : ints) {
    onnx::AttributeProto *attr = node.add_attribute();
    attr->set_name(attrName.str());
    attr->set_type(onnx::AttributeProto::INT);
    attr->set_i(value);
  }
  return node;
}

namespace {

/// int8 per channel along `axis`, symmetric in [-127, 127] as onnxruntime quantizes weights.
struct ChannelQuantized {
  std::vector<int8_t> values;
  std::vector<float> scales;
  std::optional<double> sqnrDb;
};

ChannelQuantized quantizeChannels(ArrayRef<float> w, ArrayRef<int64_t> dims, int64_t axis) {
  int64_t channels = dims[axis], inner = 1;
  for (size_t d = axis + 1; d < dims.size(); ++d)
    inner *= dims[d];
  auto channelOf = [&](size_t i) { return static_cast<int64_t>(i / inner) % channels; };
  std::vector<float> absmax(channels, 0.0f);
  for (size_t i = 0; i < w.size(); ++i)
    if (std::isfinite(w[i]))
      absmax[channelOf(i)] = std::max(absmax[channelOf(i)], std::fabs(w[i]));
  ChannelQuantized out;
  for (float a : absmax) {
    double scale = static_cast<double>(a + a) / 254.0;
    out.scales.push_back(scale < std::numeric_limits<float>::min() ? 1.0f
                                                                   : static_cast<float>(scale));
  }
  out.values.resize(w.size());
  double signal = 0, noise = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    float scale = out.scales[channelOf(i)];
    float q = std::clamp(std::nearbyint(w[i] / scale), -127.0f, 127.0f);
    out.values[i] = static_cast<int8_t>(q);
    double error = static_cast<double>(w[i]) - static_cast<double>(q) * scale;
    signal += static_cast<double>(w[i]) * w[i];
    noise += error * error;
  }
  if (noise > 0)
    out.sqnrDb = 10.0 * std::log10(signal / noise);
  return out;
}

} // namespace

/// Every name `node` reads, its subgraphs' included.
llvm::Expected<std::vector<float>>
quantize::readQuantizable(const onnx::TensorProto &tensor, StringRef modelDir, const Candidate &c) {
  auto values = readFloatTensor(tensor, modelDir);
  if (!values)
    return createStringError("'" + tensor.name() + "' of node " + c.name + ": " +
                             llvm::toString(values.takeError()));
  if (!llvm::all_of(*values, [](float v) { return std::isfinite(v); }))
    return createStringError("'" + tensor.name() + "' of node " + c.name +
                             " holds a NaN or an infinity, which has no quantized value "
                             "(--quantize-exclude=" + c.name + " keeps the op in float)");
  return values;
}

std::map<std::string, const onnx::TensorProto *>
quantize::constantTensors(const onnx::GraphProto &graph) {
  std::map<std::string, const onnx::TensorProto *> constants;
  for (const auto &init : graph.initializer())
    constants[init.name()] = &init;
  for (const auto &node : graph.node())
    if (isDefaultDomain(node) && node.op_type() == "Constant" && node.output_size() == 1)
      for (const auto &attr : node.attribute())
        if (attr.name() == "value" && attr.has_t())
          constants[node.output(0)] = &attr.t();
  return constants;
}

FreshNames::FreshNames(const onnx::GraphProto &graph) { collect(graph); }

void FreshNames::collect(const onnx::GraphProto &graph) {
  for (const auto &init : graph.initializer())
    used.insert(init.name());
  for (const auto &in : graph.input())
    used.insert(in.name());
  for (const auto &node : graph.node()) {
    used.insert(node.name());
    for (const std::string &out : node.output())
      used.insert(out);
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        collect(attr.g());
      for (const auto &inner : attr.graphs())
        collect(inner);
    }
  }
}

std::string FreshNames::operator()(const std::string &base) {
  std::string name = base;
  for (int k = 1; !used.insert(name).second; ++k)
    name = base + "_" + std::to_string(k);
  return name;
}

void quantize::collectReads(const onnx::NodeProto &node, llvm::StringSet<> &read) {
  for (const std::string &in : node.input())
    read.insert(in);
  auto graphReads = [&](const onnx::GraphProto &graph) {
    for (const onnx::NodeProto &inner : graph.node())
      collectReads(inner, read);
    for (const auto &out : graph.output())
      read.insert(out.name());
  };
  for (const auto &attr : node.attribute()) {
    if (attr.has_g())
      graphReads(attr.g());
    for (const auto &graph : attr.graphs())
      graphReads(graph);
  }
}

void quantize::dropReplaced(onnx::GraphProto &graph, const std::set<std::string> &replaced,
                            std::vector<onnx::TensorProto> &added) {
  llvm::StringSet<> read;
  for (const onnx::NodeProto &node : graph.node())
    collectReads(node, read);
  for (const auto &out : graph.output())
    read.insert(out.name());
  auto dead = [&](const std::string &name) { return replaced.count(name) && !read.contains(name); };
  auto *nodes = graph.mutable_node();
  nodes->erase(std::remove_if(nodes->begin(), nodes->end(),
                              [&](const onnx::NodeProto &node) {
                                return isDefaultDomain(node) && node.op_type() == "Constant" &&
                                       node.output_size() == 1 && dead(node.output(0));
                              }),
               nodes->end());
  auto *inits = graph.mutable_initializer();
  inits->erase(std::remove_if(inits->begin(), inits->end(),
                              [&](const onnx::TensorProto &t) { return dead(t.name()); }),
               inits->end());
  auto *inputs = graph.mutable_input();
  inputs->erase(std::remove_if(inputs->begin(), inputs->end(),
                               [&](const onnx::ValueInfoProto &in) { return dead(in.name()); }),
                inputs->end());
  for (onnx::TensorProto &t : added)
    *graph.add_initializer() = std::move(t);
}

llvm::Error quantize::rewriteToQdq(onnx::ModelProto &model, StringRef modelDir, std::vector<Candidate> &candidates,
                                   const llvm::StringMap<ActivationParams> &params) {
  onnx::GraphProto *graph = model.mutable_graph();
  GraphIndex index(*graph);
  FreshNames fresh(*graph);
  QdqEdits edits;
  std::map<std::string, std::string> activationDequantized, weightDequantized;
  std::map<std::string, ChannelQuantized> weights;

  for (Candidate &c : candidates) {
    if (!c.excluded.empty())
      continue;
    auto node = static_cast<size_t>(c.node);
    for (const std::string &name : c.activations) {
      auto found = activationDequantized.find(name);
      if (found == activationDequantized.end()) {
        const ActivationParams &p = params.find(name)->second;
        std::string scale = fresh(name + "_scale"), zero = fresh(name + "_zero_point");
        std::string quantized = fresh(name + "_quantized");
        std::string dequantized = fresh(name + "_dequantized");
        edits.initializers.push_back(
            makeTensor<float>(scale, onnx::TensorProto::FLOAT, {}, ArrayRef<float>(p.scale)));
        auto zp = static_cast<int8_t>(p.zeroPoint);
        edits.initializers.push_back(
            makeTensor<int8_t>(zero, onnx::TensorProto::INT8, {}, ArrayRef<int8_t>(zp)));
        edits.before[node].push_back(makeNode("QuantizeLinear",
                                              fresh(name + "_QuantizeLinear"),
                                              {name, scale, zero}, quantized));
        edits.before[node].push_back(makeNode("DequantizeLinear",
                                              fresh(name + "_DequantizeLinear"),
                                              {quantized, scale, zero}, dequantized));
        found = activationDequantized.emplace(name, dequantized).first;
      }
      edits.rewired[node][name] = found->second;
    }
    if (c.weight.empty())
      continue;
    const onnx::TensorProto *tensor = index.constants.at(c.weight);
    std::string key = c.weight + "@" + std::to_string(c.weightAxis);
    if (!weightDequantized.count(key)) {
      auto values = readQuantizable(*tensor, modelDir, c);
      if (!values)
        return values.takeError();
      SmallVector<int64_t> dims(tensor->dims().begin(), tensor->dims().end());
      ChannelQuantized q = quantizeChannels(*values, dims, c.weightAxis);
      auto channels = static_cast<int64_t>(q.scales.size());
      std::string scale = fresh(c.weight + "_scale"), zero = fresh(c.weight + "_zero_point");
      std::string quantized = fresh(c.weight + "_quantized");
      std::string dequantized = fresh(c.weight + "_dequantized");
      edits.initializers.push_back(
          makeTensor<int8_t>(quantized, onnx::TensorProto::INT8, dims, ArrayRef(q.values)));
      edits.initializers.push_back(
          makeTensor<float>(scale, onnx::TensorProto::FLOAT, {channels}, ArrayRef(q.scales)));
      std::vector<int8_t> zeros(channels, 0);
      edits.initializers.push_back(
          makeTensor<int8_t>(zero, onnx::TensorProto::INT8, {channels}, ArrayRef(zeros)));
      edits.weightNodes.push_back(makeNode("DequantizeLinear",
                                           fresh(c.weight + "_DequantizeLinear"),
                                           {quantized, scale, zero}, dequantized,
                                           {{"axis", c.weightAxis}}));
      weightDequantized[key] = dequantized;
      weights[key] = std::move(q);
    }
    const ChannelQuantized &q = weights[key];
    c.weightScales = q.scales;
    c.weightSqnrDb = q.sqnrDb;
    edits.rewired[node][c.weight] = weightDequantized[key];

    if (c.bias.empty())
      continue;
    // The bias at scale s_x * s_w per channel, in int32 (what an integer kernel adds).
    auto bias = readQuantizable(*index.constants.at(c.bias), modelDir, c);
    if (!bias)
      return bias.takeError();
    float inputScale = params.find(c.activations.front())->second.scale;
    std::vector<float> scales(bias->size());
    std::vector<int32_t> values(bias->size());
    for (size_t k = 0; k < bias->size(); ++k) {
      scales[k] = inputScale * q.scales[k];
      if (!(scales[k] >= std::numeric_limits<float>::min()))
        scales[k] = 1;
      // In f64, as onnxruntime divides.
      double v = std::nearbyint(static_cast<double>((*bias)[k]) / scales[k]);
      values[k] = static_cast<int32_t>(std::clamp(v, -2147483648.0, 2147483647.0));
    }
    auto n = static_cast<int64_t>(values.size());
    std::string scale = fresh(c.bias + "_scale"), zero = fresh(c.bias + "_zero_point");
    std::string quantized = fresh(c.bias + "_quantized");
    std::string dequantized = fresh(c.bias + "_dequantized");
    edits.initializers.push_back(
        makeTensor<int32_t>(quantized, onnx::TensorProto::INT32, {n}, ArrayRef(values)));
    edits.initializers.push_back(
        makeTensor<float>(scale, onnx::TensorProto::FLOAT, {n}, ArrayRef(scales)));
    std::vector<int32_t> zeros(n, 0);
    edits.initializers.push_back(
        makeTensor<int32_t>(zero, onnx::TensorProto::INT32, {n}, ArrayRef(zeros)));
    edits.weightNodes.push_back(makeNode("DequantizeLinear",
                                         fresh(c.bias + "_DequantizeLinear"),
                                         {quantized, scale, zero}, dequantized, {{"axis", 0}}));
    edits.rewired[node][c.bias] = dequantized;
  }

  edits.apply(*graph);
  return llvm::Error::success();
}

void QdqEdits::apply(onnx::GraphProto &graph) {
  // The constants rewired here, found before the node list changes.
  std::map<std::string, const onnx::TensorProto *> constants = constantTensors(graph);
  std::set<std::string> replaced;
  for (const auto &[node, names] : rewired)
    for (const auto &[old, replacement] : names)
      if (constants.count(old))
        replaced.insert(old);
  // The new node list: weight dequantizations first, each activation's Q/DQ before its first
  // quantized consumer (the graph is in topological order, so its producer is earlier).
  std::vector<onnx::NodeProto> nodes = std::move(weightNodes);
  for (int i = 0; i < graph.node_size(); ++i) {
    auto k = static_cast<size_t>(i);
    for (onnx::NodeProto &n : before[k])
      nodes.push_back(std::move(n));
    onnx::NodeProto node = graph.node(i);
    for (auto &in : *node.mutable_input())
      if (auto it = rewired[k].find(in); it != rewired[k].end())
        in = it->second;
    nodes.push_back(std::move(node));
  }
  graph.clear_node();
  for (onnx::NodeProto &n : nodes)
    *graph.add_node() = std::move(n);
  // The float weights and biases replaced here leave the model unless something else still
  // reads them (another op, a graph output, a subgraph).
  dropReplaced(graph, replaced, initializers);
}
