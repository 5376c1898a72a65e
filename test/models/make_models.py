#!/usr/bin/env python3
"""Makes the real-model suite: small configurations of models users export, with seeded random
weights, exported the ways users export them: torch.onnx's TorchScript exporter
(`dynamo=False`), its dynamo exporter (`dynamo=True`), and transformers' models through both.

Each model goes to `DIR/<name>/model.onnx` with its inputs as `DIR/<name>/inputs/<input>.npy`;
run_models.py compiles and runs them and checks them against onnxruntime. This script needs
torch and transformers (CI does not: the models are committed); it checks each export against
torch eager on the same inputs before writing it.

  python make_models.py test/models/suite [--models lstm_tagger_ts,bert_tiny_dynamo]
"""
import argparse
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

torch.manual_seed(0)


class LstmTagger(nn.Module):
    """A sequence tagger: embedding, 2-layer bidirectional LSTM (batch first), linear."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 24, num_layers=2, bidirectional=True, batch_first=True)
        self.out = nn.Linear(48, 7)

    def forward(self, tokens):
        hidden, _ = self.lstm(self.embed(tokens))
        return torch.log_softmax(self.out(hidden), dim=-1)


class GruEncoder(nn.Module):
    """A GRU over features with a given initial state; returns the outputs and the last state."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(12, 20, num_layers=1)

    def forward(self, features, state):
        return self.gru(features, state)


class Crnn(nn.Module):
    """An OCR CRNN: conv/batch-norm/ReLU/max-pool, columns as a sequence, a bidirectional LSTM,
    per-column class scores."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d((2, 1)))
        self.rnn = nn.LSTM(16 * 4, 32, bidirectional=True)
        self.classify = nn.Linear(64, 11)

    def forward(self, image):
        features = self.conv(image)  # [N, 16, 4, W/2]
        n, c, h, w = features.shape
        sequence = features.view(n, c * h, w).permute(2, 0, 1)  # [W/2, N, C*H]
        hidden, _ = self.rnn(sequence)
        return self.classify(hidden).log_softmax(-1)


class ResNetTiny(nn.Module):
    """Residual blocks with batch norm (kept apart, as exporters write it), a strided
    projection shortcut, global average pooling, a classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.a1 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1, bias=False),
                                nn.BatchNorm2d(16))
        self.b1 = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False),
                                nn.BatchNorm2d(32), nn.ReLU(),
                                nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32))
        self.b1_short = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(x + self.a1(x))
        x = torch.relu(self.b1_short(x) + self.b1(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class MobileBlock(nn.Module):
    """MobileNetV3-style: expand 1x1, depthwise 3x3, squeeze-excite, hardswish, project."""

    def __init__(self):
        super().__init__()
        self.expand = nn.Conv2d(8, 32, 1)
        self.depthwise = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.se_reduce = nn.Conv2d(32, 8, 1)
        self.se_expand = nn.Conv2d(8, 32, 1)
        self.project = nn.Conv2d(32, 8, 1)

    def forward(self, x):
        y = nn.functional.hardswish(self.expand(x))
        y = nn.functional.hardswish(self.depthwise(y))
        scale = torch.sigmoid(self.se_expand(torch.relu(self.se_reduce(y.mean((2, 3), keepdim=True)))))
        return x + self.project(y * scale)


class UNetTiny(nn.Module):
    """A U-Net level: conv, max-pool, conv, bilinear upsample, concat, conv, transposed conv."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, padding=1)
        self.mid = nn.Conv2d(8, 16, 3, padding=1)
        self.up = nn.Conv2d(24, 8, 3, padding=1)
        self.head = nn.ConvTranspose2d(8, 2, 2, stride=2)

    def forward(self, x):
        d = torch.relu(self.down(x))
        m = torch.relu(self.mid(nn.functional.max_pool2d(d, 2)))
        u = nn.functional.interpolate(m, scale_factor=2, mode="bilinear", align_corners=False)
        return self.head(torch.relu(self.up(torch.cat([d, u], 1))))


class ShapeOps(nn.Module):
    """Shape arithmetic as PyTorch code writes it: view by size(0), expand, repeat, nearest
    interpolate by a scale factor, arange positions, masked_fill with a computed causal mask."""

    def forward(self, x):
        n, s, d = x.shape
        flat = x.reshape(x.size(0), -1)
        summary = x.mean(1, keepdim=True).expand(-1, s, -1)
        repeated = x[:, :1].repeat(1, s, 1)
        positions = torch.arange(s, dtype=x.dtype).unsqueeze(-1)
        mask = torch.triu(torch.ones(s, s, dtype=torch.bool), 1)
        scores = (x @ x.transpose(1, 2)).masked_fill(mask, float("-inf")).softmax(-1)
        grown = nn.functional.interpolate(x.transpose(1, 2), scale_factor=2, mode="nearest")
        return flat, summary + repeated + positions, scores @ x, grown


class Selections(nn.Module):
    """Sizes that depend on the data, as PyTorch code writes them: boolean-mask indexing of
    elements and of rows, nonzero positions and unique with counts. (torch.masked_select does
    not export through the dynamo exporter of torch 2.15.)"""

    def forward(self, x, scores):
        kept = x[x > 0] * 2
        rows = x[x.sum(1) > 0].relu()
        positions = torch.nonzero(scores > 0.5)
        values, counts = torch.unique(torch.round(x * 2), return_counts=True)
        return kept, rows, positions, values, counts


def transformers_model(kind):
    import transformers
    if kind == "bert":
        config = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                         num_attention_heads=4, intermediate_size=64,
                                         max_position_embeddings=64)
        return transformers.BertModel(config)
    if kind == "gpt2":
        config = transformers.GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=4,
                                         n_positions=64, use_cache=False)
        return transformers.GPT2LMHeadModel(config)
    if kind == "llama":
        config = transformers.LlamaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                          num_attention_heads=4, num_key_value_heads=2,
                                          intermediate_size=64, max_position_embeddings=64,
                                          use_cache=False)
        return transformers.LlamaForCausalLM(config)
    if kind == "vit":
        config = transformers.ViTConfig(image_size=32, patch_size=8, num_channels=3,
                                        hidden_size=32, num_hidden_layers=2,
                                        num_attention_heads=4, intermediate_size=64)
        return transformers.ViTModel(config)
    if kind == "distilbert":
        config = transformers.DistilBertConfig(vocab_size=100, dim=32, n_layers=2, n_heads=4,
                                               hidden_dim=64, max_position_embeddings=64)
        return transformers.DistilBertModel(config)
    if kind == "t5":
        config = transformers.T5Config(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                       num_heads=4, relative_attention_num_buckets=8)
        return transformers.T5EncoderModel(config)
    if kind == "wav2vec2":
        config = transformers.Wav2Vec2Config(
            vocab_size=20, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3),
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
        return transformers.Wav2Vec2Model(config)
    if kind == "convnext":
        config = transformers.ConvNextConfig(num_channels=3, hidden_sizes=[8, 16], depths=[1, 1],
                                             num_stages=2, image_size=32)
        return transformers.ConvNextModel(config)
    if kind == "clip_text":
        config = transformers.CLIPTextConfig(vocab_size=100, hidden_size=32, intermediate_size=64,
                                             num_hidden_layers=2, num_attention_heads=4,
                                             max_position_embeddings=16)
        return transformers.CLIPTextModel(config)
    if kind == "whisper_encoder":
        config = transformers.WhisperConfig(vocab_size=100, num_mel_bins=16, d_model=32,
                                            encoder_layers=2, encoder_attention_heads=4,
                                            decoder_layers=1, decoder_attention_heads=4,
                                            encoder_ffn_dim=64, decoder_ffn_dim=64,
                                            max_source_positions=20, pad_token_id=0,
                                            bos_token_id=1, eos_token_id=2,
                                            decoder_start_token_id=1)
        return transformers.WhisperModel(config).get_encoder()
    if kind == "swin":
        config = transformers.SwinConfig(image_size=32, patch_size=4, num_channels=3, embed_dim=16,
                                         depths=[1, 1], num_heads=[2, 4], window_size=4)
        return transformers.SwinModel(config)
    raise ValueError(kind)


class HiddenStates(nn.Module):
    """A transformers model's first output (last hidden state or logits) as a plain tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *inputs):
        return self.model(*inputs, return_dict=False)[0]


def seeded(shape, dtype, high=None):
    rng = np.random.default_rng(1)
    if dtype == np.int64:
        return rng.integers(0, high, shape, dtype=np.int64)
    return rng.standard_normal(shape).astype(dtype)


def bert_inputs():
    mask = np.ones((2, 16), np.int64)
    mask[1, 11:] = 0  # a padded second sequence
    return {"input_ids": seeded((2, 16), np.int64, 100), "attention_mask": mask}


# name -> (module factory, inputs, exporter[, dynamic dims: input -> {axis: name}])
class Iterative(nn.Module):
    """Loops as scripted PyTorch code writes them: a recurrence run `steps` times (an input),
    and Newton's square root iterated while its error is above a tolerance (at most 50 times).
    Exported from torch.jit.script (TorchScript exporter only: torch.export cannot trace loops
    that depend on the data), they are ONNX Loops whose trip count or condition is known only at
    run time."""

    def __init__(self):
        super().__init__()
        self.cell = nn.Linear(8, 8)

    def forward(self, x, steps):
        h = x
        for _ in range(int(steps)):
            h = torch.tanh(self.cell(h) + x)
        a = x * x + 1.0
        y = a
        i = 0
        while bool((y * y - a).abs().max() > 1e-4) and i < 50:
            y = 0.5 * (y + a / y)
            i += 1
        return h, y


MODELS = {
    "iterative_ts": (lambda: torch.jit.script(Iterative()),
                     lambda: {"x": seeded((2, 8), np.float32), "steps": np.array(3, np.int64)}, "ts"),
}
for exporter in ("ts", "dynamo"):
    MODELS[f"lstm_tagger_{exporter}"] = (LstmTagger, lambda: {"tokens": seeded((2, 9), np.int64, 50)}, exporter)
    MODELS[f"gru_encoder_{exporter}"] = (GruEncoder, lambda: {"features": seeded((6, 2, 12), np.float32),
                                                              "state": seeded((1, 2, 20), np.float32)}, exporter)
    MODELS[f"crnn_{exporter}"] = (Crnn, lambda: {"image": seeded((1, 1, 16, 24), np.float32)}, exporter)
    MODELS[f"resnet_tiny_{exporter}"] = (ResNetTiny, lambda: {"image": seeded((2, 3, 16, 16), np.float32)}, exporter)
    MODELS[f"mobile_block_{exporter}"] = (MobileBlock, lambda: {"x": seeded((1, 8, 12, 12), np.float32)}, exporter)
    MODELS[f"unet_tiny_{exporter}"] = (UNetTiny, lambda: {"x": seeded((1, 3, 16, 16), np.float32)}, exporter)
    MODELS[f"shape_ops_{exporter}"] = (ShapeOps, lambda: {"x": seeded((2, 5, 4), np.float32)}, exporter)
    MODELS[f"selections_{exporter}"] = (Selections, lambda: {"x": seeded((3, 7), np.float32),
                                                             "scores": seeded((4, 5), np.float32)},
                                        exporter)
    MODELS[f"bert_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("bert")), bert_inputs, exporter)
    MODELS[f"gpt2_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("gpt2")),
                                       lambda: {"input_ids": seeded((1, 12), np.int64, 100)}, exporter)
    MODELS[f"llama_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("llama")),
                                        lambda: {"input_ids": seeded((1, 12), np.int64, 100)}, exporter)
    MODELS[f"vit_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("vit")),
                                      lambda: {"pixel_values": seeded((1, 3, 32, 32), np.float32)}, exporter)
    MODELS[f"distilbert_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("distilbert")),
                                             bert_inputs, exporter)
    MODELS[f"t5_encoder_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("t5")),
                                             bert_inputs, exporter)
    MODELS[f"wav2vec2_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("wav2vec2")),
                                           lambda: {"input_values": seeded((1, 400), np.float32)}, exporter)
    MODELS[f"convnext_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("convnext")),
                                           lambda: {"pixel_values": seeded((1, 3, 32, 32), np.float32)}, exporter)
    MODELS[f"clip_text_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("clip_text")),
                                            lambda: {"input_ids": seeded((2, 10), np.int64, 100)}, exporter)
    MODELS[f"whisper_encoder_tiny_{exporter}"] = (
        lambda: HiddenStates(transformers_model("whisper_encoder")),
        lambda: {"input_features": seeded((1, 16, 40), np.float32)}, exporter)
    MODELS[f"swin_tiny_{exporter}"] = (lambda: HiddenStates(transformers_model("swin")),
                                       lambda: {"pixel_values": seeded((1, 3, 32, 32), np.float32)}, exporter)
    # Exported with symbolic batch and sequence dims, as users export for serving; the suite
    # fixes them with --shape.
    MODELS[f"bert_tiny_{exporter}_dynamic"] = MODELS[f"bert_tiny_{exporter}"] + (
        {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}},)
    MODELS[f"lstm_tagger_{exporter}_dynamic"] = MODELS[f"lstm_tagger_{exporter}"] + (
        {"tokens": {0: "batch", 1: "sequence"}},)
    MODELS[f"resnet_tiny_{exporter}_dynamic"] = MODELS[f"resnet_tiny_{exporter}"] + (
        {"image": {0: "batch"}},)


def export(name, out_dir):
    factory, make_inputs, exporter, *dynamic = MODELS[name]
    dynamic = dynamic[0] if dynamic else None
    torch.manual_seed(0)
    module = factory().eval()
    inputs = make_inputs()
    args = tuple(torch.from_numpy(v) for v in inputs.values())
    with torch.no_grad():
        expected = module(*args)
    expected = [t.numpy() for t in (expected if isinstance(expected, (tuple, list)) else [expected])
                if isinstance(t, torch.Tensor)]
    model_dir = os.path.join(out_dir, name)
    shutil.rmtree(model_dir, ignore_errors=True)
    os.makedirs(os.path.join(model_dir, "inputs"))
    path = os.path.join(model_dir, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {}
        if dynamic and exporter == "ts":
            options["dynamic_axes"] = dynamic
        elif dynamic:
            options["dynamic_shapes"] = tuple(
                {axis: torch.export.Dim.DYNAMIC for axis in dynamic.get(n, {})} for n in inputs)
        torch.onnx.export(module, args, path, input_names=list(inputs), dynamo=exporter == "dynamo",
                          opset_version=17 if exporter == "ts" else 18, external_data=False,
                          **options)
    model = onnx.load(path)
    onnx.save(model, path)  # one file, weights inside
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, inputs)
    for want, have in zip(expected, got):
        if not np.allclose(want, have, rtol=1e-3, atol=1e-4):
            raise SystemExit(f"{name}: onnxruntime differs from torch eager by "
                             f"{np.max(np.abs(want - have))}")
    for input_name, value in inputs.items():
        np.save(os.path.join(model_dir, "inputs", input_name + ".npy"), value)
    size = os.path.getsize(path)
    print(f"{name}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, "
          f"{size / 1024:.0f} KiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    failed = []
    for name in args.models.split(","):
        try:
            export(name, args.out_dir)
        except Exception as error:  # an exporter that cannot export this model: say so, go on
            shutil.rmtree(os.path.join(args.out_dir, name), ignore_errors=True)
            failed.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[-1][:200]}")
    for line in failed:
        print("not exported:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
