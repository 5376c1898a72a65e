//===- OpsetUpgrade.cpp - raise a model's default-domain opset ------------===//
//
// The FP8 schemes write QuantizeLinear/DequantizeLinear forms that exist from opset 19
// (float8) and 21 (blocks), but torch.onnx exports at opset 17 or 18. Raising the opset import
// is enough for most ops (later versions only add types or optional inputs); the forms whose
// meaning changed between opset 13 and 21 are rewritten here, in subgraphs too, and a form
// with no equivalent is refused at its node.
//
//===----------------------------------------------------------------------===//
#include "QuantizeImpl.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::catfish;
using namespace mlir::catfish::quantize;
using llvm::createStringError;

namespace {

/// The reductions whose `axes` became an input at opset 18 (ReduceSum's did at 13).
constexpr StringLiteral kAxesBecameInput[] = {"ReduceMax",    "ReduceMin",       "ReduceMean",
                                              "ReduceProd",   "ReduceL1",        "ReduceL2",
                                              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};

onnx::AttributeProto *findAttribute(onnx::NodeProto &node, StringRef name) {
  for (onnx::AttributeProto &attr : *node.mutable_attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

void eraseAttribute(onnx::NodeProto &node, StringRef name) {
  auto *attrs = node.mutable_attribute();
  attrs->erase(std::remove_if(attrs->begin(), attrs->end(),
                              [&](const onnx::AttributeProto &a) { return a.name() == name; }),
               attrs->end());
}

void addAttribute(onnx::NodeProto &node, StringRef name, int64_t value) {
  onnx::AttributeProto *attr = node.add_attribute();
  attr->set_name(name.str());
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(value);
}

void addAttribute(onnx::NodeProto &node, StringRef name, StringRef value) {
  onnx::AttributeProto *attr = node.add_attribute();
  attr->set_name(name.str());
  attr->set_type(onnx::AttributeProto::STRING);
  attr->set_s(value.str());
}

class Upgrader {
public:
  Upgrader(onnx::GraphProto &top, int64_t from, StringRef why) : fresh(top), from(from), why(why) {}

  llvm::Error upgrade(onnx::GraphProto &graph) {
    for (onnx::NodeProto &node : *graph.mutable_node()) {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        continue;
      if (auto error = upgradeNode(graph, node))
        return error;
      for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
        if (attr.has_g())
          if (auto error = upgrade(*attr.mutable_g()))
            return error;
        for (onnx::GraphProto &inner : *attr.mutable_graphs())
          if (auto error = upgrade(inner))
            return error;
      }
    }
    return llvm::Error::success();
  }

private:
  /// Input `index` of `node` becomes the int64 constant `values` (an initializer of `graph`),
  /// with empty optional inputs before it.
  void constantInput(onnx::GraphProto &graph, onnx::NodeProto &node, int index,
                     ArrayRef<int64_t> values, StringRef what) {
    std::string base = (node.name().empty() ? node.output(0) : node.name()) + "_" + what.str();
    std::string name = fresh(base);
    *graph.add_initializer() =
        makeTensor(name, onnx::TensorProto::INT64, {static_cast<int64_t>(values.size())}, values);
    while (node.input_size() < index)
      node.add_input("");
    if (node.input_size() == index)
      node.add_input(name);
    else
      node.set_input(index, name);
  }

  llvm::Error refuse(const onnx::NodeProto &node, const Twine &reason) {
    return createStringError(why + ", and the model has opset " + Twine(from) + ": node '" +
                             (node.name().empty() ? node.output(0) : node.name()) + "' (" +
                             node.op_type() + ") cannot be raised: " + reason +
                             "; convert the model first (onnx.version_converter.convert_version)");
  }

  llvm::Error upgradeNode(onnx::GraphProto &graph, onnx::NodeProto &node) {
    StringRef op = node.op_type();
    if (from < 18 && llvm::is_contained(kAxesBecameInput, op)) {
      if (onnx::AttributeProto *axes = findAttribute(node, "axes")) {
        SmallVector<int64_t> values(axes->ints().begin(), axes->ints().end());
        eraseAttribute(node, "axes");
        constantInput(graph, node, 1, values, "axes");
      }
    } else if (from < 18 && op == "Split") {
      // Opset 18 wants the split sizes or num_outputs; before, no sizes meant equal parts.
      if (node.input_size() < 2 || node.input(1).empty())
        addAttribute(node, "num_outputs", node.output_size());
    } else if (from < 20 && op == "DFT") {
      int64_t axis = 1;
      if (onnx::AttributeProto *attr = findAttribute(node, "axis"))
        axis = attr->i();
      eraseAttribute(node, "axis");
      constantInput(graph, node, 2, {axis}, "axis");
    } else if (from < 16 && op == "RoiAlign") {
      // Opset 16 added the mode, defaulting to half_pixel; before, it was output_half_pixel.
      if (!findAttribute(node, "coordinate_transformation_mode"))
        addAttribute(node, "coordinate_transformation_mode", "output_half_pixel");
    } else if (from < 20 && op == "GridSample") {
      if (onnx::AttributeProto *mode = findAttribute(node, "mode"))
        mode->set_s(mode->s() == "bilinear"  ? "linear"
                    : mode->s() == "bicubic" ? "cubic"
                                             : mode->s());
    } else if (from < 21 && op == "GroupNormalization") {
      return refuse(node, "its scale and bias are per group before opset 21 and per channel "
                          "from it");
    }
    return llvm::Error::success();
  }

  FreshNames fresh;
  int64_t from;
  StringRef why;
};

} // namespace

llvm::Error quantize::upgradeOpset(onnx::ModelProto &model, int64_t target, StringRef why) {
  auto entry = llvm::find_if(*model.mutable_opset_import(), [](const auto &e) {
    return e.domain().empty() || e.domain() == "ai.onnx";
  });
  if (entry == model.mutable_opset_import()->end() || entry->version() >= target)
    return llvm::Error::success();
  Upgrader upgrader(*model.mutable_graph(), entry->version(), why);
  if (auto error = upgrader.upgrade(*model.mutable_graph()))
    return error;
  entry->set_version(target);
  // IR version 9 came with opset 19, 10 with opset 21.
  model.set_ir_version(std::max<int64_t>(model.ir_version(), target >= 21 ? 10 : 9));
  return llvm::Error::success();
}
