#!/usr/bin/env python3
"""GPU benchmark: Catfish against PyTorch eager and torch.compile on the same models, weights
and precision (f32), in one run, on the GPU machine (scripts/gpu-check.sh calls it).

Each model is a PyTorch module with seeded random weights, exported with the TorchScript
exporter (opset 17, as users export), compiled by catfish-compile --target cuda and timed by
catfish-run --benchmark (GPU time from CUDA events, with and without CUDA Graphs for BERT).
PyTorch is timed with CUDA events around each call, eager and torch.compile (mode "default").
Catfish's outputs are checked against PyTorch eager's on the same inputs first; a mismatch is
reported and the figures kept apart.

Models: BERT-base (12 layers, hidden 768, seq 128) at batch 1 and 32, ResNet-50 (224x224) at
batch 1 and 32, an MLP (3 Linear 1024->4096->4096->1024, ReLU, batch 64), a GEMM of a BERT
shape (4096x768 @ 768x3072) against torch.matmul (cuBLAS), and memory-bound kernels on 64 MB
of f32 (LayerNorm and softmax over rows of 4096, an elementwise chain) against a device-to-
device copy of the same bytes (torch clone), as a fraction of the copy's bandwidth.

Writes --out (markdown, one dated file) as it goes, so a run cut short keeps what it measured.
--deadline (a Unix time) makes it skip what cannot finish in time, saying so.
--dry-run runs every path on the CPU with small shapes, compiling with --target cpu,cuda and
running Catfish on the CPU: it checks the script up to the first device call.

    python3 bench/gpu_bench.py --compiler C --runner R --work W --out results.md [--dry-run]
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------
# Models


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, intermediate):
        super().__init__()
        self.heads = heads
        self.qkv = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(3))
        self.out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-12)
        self.up = nn.Linear(hidden, intermediate)
        self.down = nn.Linear(intermediate, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, mask):
        b, s, h = x.shape
        q, k, v = (p(x).view(b, s, self.heads, h // self.heads).transpose(1, 2) for p in self.qkv)
        scores = q @ k.transpose(-1, -2) / (h // self.heads) ** 0.5 + mask
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, h)
        x = self.norm1(x + self.out(context))
        return self.norm2(x + self.down(F.gelu(self.up(x))))


class Bert(nn.Module):
    """BERT-base as Hugging Face's BertModel computes it (eager attention, erf GELU)."""

    def __init__(self, layers=12, hidden=768, heads=12, intermediate=3072, vocab=30522):
        super().__init__()
        self.words = nn.Embedding(vocab, hidden)
        self.positions = nn.Embedding(512, hidden)
        self.types = nn.Embedding(2, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, intermediate) for _ in range(layers))

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        positions = torch.arange(s, device=input_ids.device).unsqueeze(0)
        x = self.norm(self.words(input_ids) + self.positions(positions) +
                      self.types(torch.zeros_like(input_ids)))
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNet50(nn.Module):
    """torchvision's resnet50 (v1.5: the stride on the 3x3 convolution), eval mode."""

    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for width, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for i in range(count):
                blocks.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = width * 4
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Mlp(nn.Module):
    def __init__(self, sizes=(1024, 4096, 4096, 1024)):
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for i, linear in enumerate(self.linears):
            x = linear(x)
            if i + 1 < len(self.linears):
                x = F.relu(x)
        return x


class Gemm(nn.Module):
    def __init__(self, k, n):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, n) / k ** 0.5)

    def forward(self, x):
        return x @ self.weight


class Norm(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return self.norm(x)


class Softmax(nn.Module):
    def forward(self, x):
        return x.softmax(-1)


class Chain(nn.Module):
    def forward(self, x):
        return torch.tanh(x * 2.0 + 1.0) * x


# --------------------------------------------------------------------------------------
# Cases: (name, module factory, inputs factory(batch), catfish --shape flags, bytes moved)


def bert_inputs(batch, seq, vocab):
    rng = np.random.default_rng(batch)
    ids = rng.integers(0, vocab, size=(batch, seq), dtype=np.int64)
    mask = np.ones((batch, seq), dtype=np.int64)
    mask[:, seq - seq // 4:] = rng.integers(0, 2, size=(batch, seq // 4))
    return {"input_ids": ids, "attention_mask": mask}


def cases(small):
    seq = 16 if small else 128
    bert = (lambda: Bert(layers=2, hidden=64, heads=4, intermediate=256, vocab=1000)) if small \
        else Bert
    vocab = 1000 if small else 30522
    image = 64 if small else 224
    rows = 256 if small else 4096
    gemm_m = 256 if small else 4096
    out = []
    for batch in ((1, 2) if small else (1, 32)):
        out.append((f"BERT-base seq {seq} batch {batch}", bert,
                    lambda b=batch: bert_inputs(b, seq, vocab), None, True))
    for batch in ((1, 2) if small else (1, 32)):
        out.append((f"ResNet-50 {image}x{image} batch {batch}", ResNet50,
                    lambda b=batch: {"input": np.random.default_rng(b).standard_normal(
                        (b, 3, image, image)).astype(np.float32)}, None, False))
    mlp_sizes = (64, 256, 256, 64) if small else (1024, 4096, 4096, 1024)
    out.append(("MLP batch 64", lambda: Mlp(mlp_sizes),
                lambda: {"x": np.random.default_rng(1).standard_normal(
                    (64, mlp_sizes[0])).astype(np.float32)}, None, False))
    out.append((f"GEMM {gemm_m}x768 @ 768x3072", lambda: Gemm(768, 3072),
                lambda: {"x": np.random.default_rng(2).standard_normal(
                    (gemm_m, 768)).astype(np.float32)}, None, False))
    width = 4096
    for name, factory in (("LayerNorm", lambda: Norm(width)), ("softmax", Softmax),
                          ("elementwise chain", Chain)):
        data = lambda: {"x": np.random.default_rng(3).standard_normal(
            (rows, width)).astype(np.float32)}
        out.append((f"{name} {rows}x{width} f32", factory, data, 2 * rows * width * 4, False))
    return out


# --------------------------------------------------------------------------------------
# Timing


def time_torch(fn, inputs, iters, device):
    """Median milliseconds of fn(*inputs): CUDA events on a GPU, wall clock on the CPU."""
    with torch.no_grad():
        for _ in range(max(2, iters // 10)):
            fn(*inputs)
        samples = []
        for _ in range(iters):
            if device == "cuda":
                start, end = torch.cuda.Event(True), torch.cuda.Event(True)
                start.record()
                fn(*inputs)
                end.record()
                end.synchronize()
                samples.append(start.elapsed_time(end))
            else:
                begin = time.perf_counter()
                fn(*inputs)
                samples.append(1000 * (time.perf_counter() - begin))
    return float(np.median(samples))


def copy_bandwidth(nbytes, device, iters):
    """GB/s of a device-to-device copy of nbytes (read + write counted)."""
    x = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    ms = time_torch(lambda t: t.clone(), [x], iters, device)
    return 2 * nbytes / ms / 1e6


def run(cmd, timeout=600):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed: {result.stderr.strip()[-600:]}")
    return result.stdout


def catfish_median(output):
    """The median GPU time (or, on the CPU, latency) in ms from catfish-run --benchmark."""
    for label in ("GPU time ms", "latency ms"):
        match = re.search(label + r": min [0-9.]+  median ([0-9.]+)", output)
        if match:
            return float(match.group(1))
    raise RuntimeError("no timing in catfish-run's output:\n" + output)


def overhead_us(output):
    match = re.search(r"host latency - GPU time us: median ([-0-9.]+)", output)
    return float(match.group(1)) if match else None


# --------------------------------------------------------------------------------------


class Report:
    def __init__(self, path, header):
        self.path = path
        self.lines = header
        self.flush()

    def add(self, line):
        print(line, flush=True)
        self.lines.append(line)
        self.flush()

    def flush(self):
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compiler", required=True)
    parser.add_argument("--runner", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--deadline", type=float, default=0, help="Unix time to stop by")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--only", help="regex of the case names to run")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    device = "cpu" if args.dry_run else "cuda"
    iters = 2 if args.dry_run else args.iters
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "none (dry run on the CPU)"
    report = Report(args.out, [
        f"# GPU benchmark {datetime.date.today().isoformat()}", "",
        f"GPU: {gpu}; torch {torch.__version__}; f32 everywhere (TF32 off); "
        f"median of {iters} runs; Catfish GPU time from CUDA events (catfish-run --benchmark), "
        "PyTorch from CUDA events around each call.", "",
        "| case | catfish ms | eager ms | torch.compile ms | vs eager | vs compile | "
        "catfish graph off ms | launch overhead us | max abs error | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"])
    copy_gbs = None
    for name, factory, make_inputs, moved, bert in cases(args.dry_run):
        if args.only and not re.search(args.only, name):
            continue
        if args.deadline and time.time() > args.deadline - 30:
            report.add(f"| {name} | | | | | | | | | not measured: out of time |")
            continue
        tag = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
        try:
            model = factory().eval()
            inputs = make_inputs()
            torch_inputs = [torch.from_numpy(v) for v in inputs.values()]
            onnx_path = os.path.join(args.work, tag + ".onnx")
            with torch.no_grad():
                torch.onnx.export(model, tuple(torch_inputs), onnx_path,
                                  input_names=list(inputs), output_names=["output"],
                                  opset_version=17, dynamo=False)
            artifact = os.path.join(args.work, tag + ".catfish")
            target = ["--target", "cpu,cuda"] if args.dry_run else ["--target", "cuda"]
            begin = time.time()
            run([args.compiler, onnx_path, "-o", artifact] + target)
            compile_s = time.time() - begin
            input_args = []
            for key, value in inputs.items():
                path = os.path.join(args.work, f"{tag}.{key}.npy")
                np.save(path, value)
                input_args += ["--input", f"{key}={path}"]
            out_dir = os.path.join(args.work, tag + "-out")
            runner = [args.runner, artifact, "--device", device] + input_args
            run(runner + ["--output-dir", out_dir])
            got = np.load(os.path.join(out_dir, "output.npy"))

            model = model.to(device)
            device_inputs = [t.to(device) for t in torch_inputs]
            with torch.no_grad():
                expected = model(*device_inputs).float().cpu().numpy()
            error = float(np.max(np.abs(got.astype(np.float64) - expected)))
            scale = float(np.max(np.abs(expected))) or 1.0
            note = f"compile {compile_s:.1f} s"
            if error > 1e-3 * max(1.0, scale):
                note += f"; MISMATCH against eager (max |expected| {scale:.3g})"

            timed = run(runner + ["--benchmark", str(iters)])
            catfish_ms = catfish_median(timed)
            overhead = overhead_us(timed)
            graph_off = ""
            if bert:
                graph_off = f"{catfish_median(run(runner + ['--benchmark', str(iters), '--no-cuda-graph'])):.3f}"
            eager_ms = time_torch(model, device_inputs, iters, device)
            compiled_ms = None
            if not args.deadline or time.time() < args.deadline - 90:
                compiled = torch.compile(model)
                compiled_ms = time_torch(compiled, device_inputs, iters, device)
            else:
                note += "; torch.compile skipped: out of time"
            if moved:
                copy_gbs = copy_gbs or copy_bandwidth(moved, device, iters)
                catfish_gbs = moved / catfish_ms / 1e6
                note += (f"; {catfish_gbs:.0f} GB/s = {100 * catfish_gbs / copy_gbs:.0f}% of the "
                         f"copy's {copy_gbs:.0f} GB/s")
            report.add(
                f"| {name} | {catfish_ms:.3f} | {eager_ms:.3f} | "
                f"{'' if compiled_ms is None else f'{compiled_ms:.3f}'} | "
                f"{eager_ms / catfish_ms:.2f}x | "
                f"{'' if compiled_ms is None else f'{compiled_ms / catfish_ms:.2f}x'} | "
                f"{graph_off} | {'' if overhead is None else f'{overhead:.1f}'} | {error:.3g} | "
                f"{note} |")
        except Exception as error:  # one failing case must not lose the others
            message = str(error).replace("\n", " ").replace("|", "/")[:400]
            report.add(f"| {name} | | | | | | | | | FAILED: {message} |")
    report.add("")
    report.add("vs eager / vs compile: PyTorch's time over Catfish's (above 1: Catfish is faster).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
