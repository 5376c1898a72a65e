#ifndef CATFISH_PASSES_TD
#define CATFISH_PASSES_TD

include "mlir/Pass/PassBase.td"

def CatfishSpecializeShapes : Pass<"catfish-specialize-shapes", "mlir::ModuleOp"> {
  let summary = "Refine result types from constant shape operands and fold shape subgraphs";
  let description = [{
    Re-infers every catfish op's result types from its operands, so a dim that became known
    (e.g. after `--shape` fixed an input dim and a shape subgraph folded) propagates to its
    users and to the function signature; then folds what became constant. Runs to a fixpoint.

    Before:
    ```mlir
    %s = catfish.constant dense<[2, 64]> : tensor<2xi64>
    %r = catfish.reshape %x, %s : (tensor<2x4x16xf32>, tensor<2xi64>) -> tensor<?x?xf32>
    ```
    After: `%r` has type `tensor<2x64xf32>`.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishExpandComposites : Pass<"catfish-expand-composites", "mlir::func::FuncOp"> {
  let summary = "Expand composite ops the target has no kernel for into primitive catfish ops";
  let description = [{
    For targets without a kernel of their own for an op, replaces it by the primitive catfish
    ops that define it. The CPU pipeline runs it first on its kernel functions, so an
    attention region becomes one kernel of primitive ops. Today: `catfish.attention`
    becomes scale * Q.K^T (a transpose and a matmul), the mask, the causal mask and the
    softcap, a softmax and a second matmul (see `expandAttention`).

    ```mlir
    %y = catfish.attention %q, %k, %v {is_causal = false, scale = 0.125 : f32}
        : (tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>, tensor<1x2x8x64xf32>) -> tensor<1x2x8x64xf32>
    ```
    becomes `catfish.mul`, `catfish.transpose`, `catfish.matmul`, `catfish.softmax` and
    `catfish.matmul`.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishRaiseAttention : Pass<"catfish-raise-attention", "mlir::func::FuncOp"> {
  let summary = "Raise attention written out op by op to catfish.attention";
  let description = [{
    Finds softmax(S) . V over the last axis, rank-4 [batch, heads, seq, dim] operands, where
    S is Q . K^T, optionally divided or multiplied by a constant (the scale), then optionally
    masked: plus an additive mask, or `select(keep, scores, fill)` with fill -inf, or at most
    -1e4 when `keep` is a constant that leaves every row a key (then, for scores that lie
    within 1e4 of each other, the fill gives what -inf gives). A constant mask that is ONNX's
    causal triangle (key j seen by query i when j <= i; booleans, or 0 and at most -1e4)
    becomes `is_causal`. K is K^T's transpose
    (composed with the transpose that made K^T). Every intermediate must have no other use;
    anything else stays as it is. The ops' locations fuse into the attention's.

    ```mlir
    %s = catfish.matmul %q, %kt
    %d = catfish.div %s, %c8          // a splat constant
    %m = catfish.add %d, %mask
    %p = catfish.softmax %m {axis = 3}
    %o = catfish.matmul %p, %v
    ```
    becomes `catfish.attention %q, %k, %v, %mask {scale = 0.125, is_causal = false}`.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishRaiseNorms : Pass<"catfish-raise-norms", "mlir::func::FuncOp"> {
  let summary = "Raise LayerNorm and RMSNorm written out op by op to catfish norm ops";
  let description = [{
    The normalized value n = t / sqrt(mean(t^2) + eps) (a Div by the Sqrt, or a Mul by its
    Reciprocal or by an Rsqrt; the square a Pow by 2 or t * t; the means over the trailing
    dims [axis, rank), kept; eps a constant) becomes `catfish.layer_norm` when t is
    x - mean(x) over the same dims and feeds nothing else, otherwise `catfish.rms_norm` of t.
    A following Mul by a parameter of the normalized dims (either side) is the scale (else 1),
    and for LayerNorm a following Add of one the bias. Every intermediate must have no other
    use; anything else stays as it is.

    ```mlir
    %m = catfish.reduce %x {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>}
    %d = catfish.sub %x, %m
    %p = catfish.pow %d, %two
    %v = catfish.reduce %p {axes = array<i64: -1>, keepdims = true, kind = #catfish<reduce mean>}
    %e = catfish.add %v, %eps
    %s = catfish.sqrt %e
    %n = catfish.div %d, %s
    %w = catfish.mul %n, %gamma
    %y = catfish.add %w, %beta
    ```
    becomes `catfish.layer_norm %x, %gamma, %beta {axis = 2, epsilon = ...}`.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishFoldConstantQuantize : Pass<"catfish-fold-constant-quantize", "mlir::func::FuncOp"> {
  let summary = "Quantize constant weights at compile time";
  let description = [{
    A `catfish.quantize` of an f32 constant with a constant f32 scale (and constant zero
    point) to an integer type of 4, 8 or 16 bits becomes a constant of that type, computed as
    the kernel computes it: x / scale in f32, rounded half to even, plus the zero point,
    clamped to the type; per tensor, per axis or block-wise. Fake-quantized exports (QAT,
    TensorRT-style QDQ) quantize their f32 weights in the graph; folded, the artifact holds
    the integer weights and no kernel requantizes them on every run. Float8 results and inputs
    holding NaN (whose integer value ONNX leaves unspecified) stay kernels.

    ```mlir
    %w = catfish.constant dense<[[0.5, -1.0]]> : tensor<1x2xf32>
    %q = catfish.quantize %w, %s, %z : (tensor<1x2xf32>, tensor<f32>, tensor<i8>) -> tensor<1x2xi8>
    ```
    becomes `catfish.constant dense<[[1, -2]]> : tensor<1x2xi8>` for a scale of 0.5 and a zero
    point of 0.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishFoldBatchNorm : Pass<"catfish-fold-batch-norm", "mlir::func::FuncOp"> {
  let summary = "Fold inference batch normalization into the convolution before it";
  let description = [{
    A `catfish.batch_norm` whose input is a `catfish.conv` used by nothing else, where the
    convolution's weights (and bias, if any) and the normalization's scale, bias, mean and
    variance are f32 constants, becomes one convolution: with s = scale / sqrt(variance +
    epsilon) per output channel, W' = W * s and b' = (b - mean) * s + bias, computed in
    double at compile time. Exporters write ResNet-style models with the normalization apart;
    folded, it costs no kernel.

    ```mlir
    %c = catfish.conv %x, %w, %b {...}
    %y = catfish.batch_norm %c, %scale, %shift, %mean, %var {epsilon = 1.0e-5 : f32}
    ```
    becomes `catfish.conv %x, %w_folded, %b_folded {...}`.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishPackWeights : Pass<"catfish-pack-weights", "mlir::func::FuncOp"> {
  let summary = "Pack the constant f32 weights of matmuls and convolutions into panels for the CPU";
  let description = [{
    A `catfish.matmul` with a static f32 left operand of rank 2 or more and a constant f32
    [K, N] right operand (or the transpose of a constant [N, K] one, as a Gemm with transB
    writes it) becomes a `catfish.packed_matmul` by the weight stored as N / P panels of K
    rows of P adjacent columns ([N / P, K, P]), P being `panel` or its largest half down to 8
    that divides N. Weights that anything else reads, or that matmuls read with different
    panels or orientations, are left as they are, so no weight is stored twice. The CPU
    micro-kernel then reads each reduction step's columns from consecutive addresses.

    ```mlir
    %y = catfish.matmul %x, %w : (tensor<128x768xf32>, tensor<768x3072xf32>) -> ...
    ```
    becomes `catfish.packed_matmul %x, %w_packed : (tensor<128x768xf32>,
    tensor<96x768x32xf32>) -> tensor<128x3072xf32>` with panel=32.

    A `catfish.conv` without groups by a constant f32 [F, C, k...] weight, with static
    shapes, becomes a `catfish.packed_conv` by the weight stored as [F / P, C, k..., P], P
    being `panel` or its largest half down to 8 that divides F: the CPU then computes it with
    the output channels as the micro-kernel's columns and the flattened output positions as
    its rows, and its epilogue joins its region.
  }];
  let options = [
    Option<"panel", "panel", "int64_t", /*default=*/"16",
           "Columns per panel (a multiple of 8): the CPU micro-kernel's register block width">,
  ];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishMergeMatmuls : Pass<"catfish-merge-matmuls", "mlir::func::FuncOp"> {
  let summary = "Merge matmuls of one input by constant weights into one matmul";
  let description = [{
    Matmuls whose left operand is the same static value (rank 2 or more) and whose right
    operands are constant rank-2 float weights with the same rows and element type (a
    transformer's Q, K and V projections; the gate and up projections of a SiLU-gated MLP)
    become one matmul by the weights side by side, concatenated at compile time; each result
    is a `catfish.slice` of its columns, which fuses into the ops that read it.

    ```mlir
    %q = catfish.matmul %x, %wq : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
    %k = catfish.matmul %x, %wk : (tensor<8x64xf32>, tensor<64x16xf32>) -> tensor<8x16xf32>
    ```
    becomes one `catfish.matmul %x, %wqk` to `tensor<8x80xf32>` and slices [0, 64) and
    [64, 80) of its last dim.
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishHoistLoopInvariants : Pass<"catfish-hoist-loop-invariants", "mlir::func::FuncOp"> {
  let summary = "Move the ops of a loop body that do not change between iterations before it";
  let description = [{
    An op of a `catfish.loop` body whose operands all come from outside the body, and which
    has no side effects, moves before the loop, together with the ops that then qualify in
    turn; inner loops are done first. Such an op (a slice of a weight, a cast of an outer
    value) would otherwise be a kernel run once per iteration.

    ```mlir
    %r = catfish.loop(%n : tensor<i64>) iter_args(%h : tensor<2x4xf32>) -> (tensor<2x4xf32>) {
    ^bb0(%i: tensor<i64>, %c: tensor<i1>, %v: tensor<2x4xf32>):
      %wt = catfish.transpose %w {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
      %m = catfish.matmul %v, %wt : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
      catfish.yield %c, %m : tensor<i1>, tensor<2x4xf32>
    }
    ```
    computes `%wt` before the loop.
  }];
}

def CatfishSinkReshapes : Pass<"catfish-sink-reshapes", "mlir::func::FuncOp"> {
  let summary = "Move reshapes that add leading unit dims below the elementwise ops they feed";
  let description = [{
    An elementwise op whose result has the shape of an operand `reshape(t)`, the reshape only
    adding leading unit dims, runs on `t`'s shape instead: operands of lower rank are kept
    (broadcasting aligns trailing dims), operands of the result's rank lose the unit dims
    (through a reshape, which is a view), and the reshape moves after the op. Repeated, the
    reshape passes a whole elementwise chain, so the chain joins the fusion region of the
    product before it as its epilogue, and a reshape back to the product's shape cancels.
    torch.onnx writes GPT-2's Conv1D this way:

    ```mlir
    %m = catfish.matmul %x, %w : (tensor<128x768xf32>, tensor<768x768xf32>) -> tensor<128x768xf32>
    %u = catfish.reshape %m, %shape : (tensor<128x768xf32>, tensor<3xi64>) -> tensor<1x128x768xf32>
    %y = catfish.add %u, %residual : (tensor<1x128x768xf32>, tensor<1x128x768xf32>) -> tensor<1x128x768xf32>
    ```
    becomes an add of `%m` and a [128, 768] view of `%residual`, reshaped to [1, 128, 768].
  }];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishFormFusions : Pass<"catfish-form-fusions", "mlir::func::FuncOp"> {
  let summary = "Group ops into catfish.fusion regions, one per kernel";
  let description = [{
    Every catfish op of the function body (constants aside) ends up in exactly one
    `catfish.fusion` region; each region later becomes one kernel or one library call.

    Elementwise ops (the `BroadcastElementwise` trait) fuse with their elementwise producers
    and consumers, and into a following reduction or normalization (reduce, softmax,
    log_softmax, layer_norm, rms_norm, group_norm, batch_norm). Broadcasts, transposes and
    reshapes fuse into the elementwise, reduction or normalization op they feed, and a
    transpose takes the elementwise ops and reshapes before it too (a bias add, then the
    heads split: one kernel that reads through the reshape's view). A matmul joins the region
    of its elementwise consumers (its epilogue: bias, activation, residual) as the region's
    first op; nothing joins before it. A producer joins its
    consumer's region only when every use of it is in that region, so no value is computed
    twice and regions never form cycles. Every other op gets a region of its own; regions
    with a matmul, conv or attention get the kinds `gemm`, `conv` and `attention` and that
    op's location.

    Splat constants and constants of at most 64 elements are copied into the regions that
    use them; other constants (weights) become region inputs. With `fuse=false` every op is wrapped alone.
    The body of a `catfish.loop` gets regions of its own (a region never crosses the loop's
    boundary); a `catfish.if` left by the importer is refused.

    ```mlir
    %s = catfish.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %r = catfish.relu %s : (tensor<4xf32>) -> tensor<4xf32>
    ```
    becomes
    ```mlir
    %r = catfish.fusion generated(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
    ^bb0(%x: tensor<4xf32>, %y: tensor<4xf32>):
      %s = catfish.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
      %0 = catfish.relu %s : (tensor<4xf32>) -> tensor<4xf32>
      catfish.yield %0 : tensor<4xf32>
    }
    ```
  }];
  let options = [
    Option<"fuse", "fuse", "bool", /*default=*/"true",
           "Fuse ops; false wraps every op in a region of its own">,
  ];
  let dependentDialects = ["::mlir::catfish::CatfishDialect"];
}

def CatfishOutlineKernels : Pass<"catfish-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Outline every catfish.fusion region of @main into a kernel function";
  let description = [{
    Adds a nested `builtin.module @<module-name>` holding, for each `catfish.fusion` region
    of `@main` in program order (the regions of a `catfish.loop` body at the loop's place),
    `func.func @catfish_kernel_<i>(inputs..., results..., task,
    task_count)`: buffers as memrefs, the task index and count (artifact_format.h) as `index`.
    The body reads the inputs as tensors (`bufferization.to_tensor restrict`) and writes
    each yielded value into its result memref (`materialize_in_destination`). Each kernel
    keeps the region's location and carries its kind as `catfish.kind`. `@main` is left as
    it is: the memory plan reads its regions, and kernel `i` is region `i`.

    Tensors without elements are passed as `memref<0xT>` and never read or written (LLVM's
    bare-pointer convention rejects shapes such as 2x0x4). Fails at the offending op when
    `@main` holds ops outside fusion regions other than constants, or dynamic shapes.

    ```mlir
    %r = catfish.fusion generated(%a) : (tensor<4xf32>) -> tensor<4xf32> { ... }
    ```
    adds
    ```mlir
    module @kernels {
      func.func @catfish_kernel_0(%a: memref<4xf32>, %r: memref<4xf32>, %task: index,
                                  %count: index) attributes {catfish.kind = #catfish<fusion_kind generated>}
    }
    ```
  }];
  let options = [
    Option<"moduleName", "module-name", "std::string", /*default=*/"\"kernels\"",
           "Symbol name of the nested module that receives the kernels">,
  ];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect", "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect", "::mlir::tensor::TensorDialect"
  ];
}

def CatfishConvertToLinalg : Pass<"catfish-convert-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower catfish ops to linalg, tensor, arith, math and scf on tensors";
  let description = [{
    Elementwise ops become parallel `linalg.generic` ops with the broadcasting in their
    indexing maps; matmul, conv and pooling become generics with reduction iterators;
    softmax and the norms decompose into reductions and elementwise generics; reshapes become
    `tensor.collapse_shape` + `tensor.expand_shape`; gather reads with `tensor.extract` in a
    generic body; topk with k <= 64 becomes k ordered selections (argmax-like generics, each
    reading the previous pick), a larger k and scatter `scf.for` loops carrying tensors. An op
    the code generators cannot handle yet is reported at its ONNX node and the pass fails.

    With `scatter-as-selections` (the CUDA target), a ScatterND without a reduction, and a
    ScatterElements without one whose indices cover the data outside the axis, become ordered
    selections instead: each output element takes the last update aimed at it (ONNX forbids
    duplicate indices there), which runs as a row reduction, but costs the number of updates
    (ScatterElements: the indices' axis length) per element.
  }];
  let options = [
    Option<"scatterAsSelections", "scatter-as-selections", "bool", /*default=*/"false",
           "Lower ScatterND and ScatterElements without a reduction to ordered selections">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// CPU code generation (passes/CPU), in the order buildCpuCodegenPipeline runs them.
//===----------------------------------------------------------------------===//

def CatfishFuseLinalgElementwise
    : Pass<"catfish-fuse-linalg-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg generics, never into a contraction";
  let description = [{
    `linalg-fuse-elementwise-ops`, except that no producer fuses into a contraction: an
    elementwise producer (the im2col copy of a convolution) fused into a matmul would leave
    a generic that is no longer a contraction, which the micro-kernels cannot take. A
    contraction computed on a grid of column panels ([..., M, N / P, P], from
    `catfish.packed_matmul`) and collapsed to [..., M, N] takes its epilogue along: the
    collapse moves after the elementwise consumers, which then run on the grid too.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def CatfishSplitRowReductions
    : Pass<"catfish-split-row-reductions", "mlir::func::FuncOp"> {
  let summary = "Split reductions along contiguous rows into vector-wide partial results";
  let description = [{
    A `linalg.generic` on tensors (not a contraction) whose one reduction loop is its
    innermost, with a static extent that is a multiple of `lanes` and at least 2 x `lanes`,
    and is the innermost dim of every input it indexes (softmax's max and sum, a norm's mean
    and variance), is split by `linalg::splitReduction` into `lanes` partial results per row:
    each step of the reduction then updates one vector of `lanes` independent values from
    contiguous elements (the split op is tiled into such steps and vectorized here; run
    `loop-invariant-subset-hoisting` afterwards to keep the vector in a register), and a
    second generic adds the lanes. Kept as one loop, the row's running value was a chain of
    dependent adds (no reassociation is allowed), and `catfish-contraction-loop-order` would
    move it outside the row loop, where each vector lane reads another row; left to LLVM's
    loop vectorizer, the split loops tripled the time LLVM spends on these kernels. Bodies
    whose combiner has no neutral element are left alone.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"16",
           "Partial results per row (the f32 lanes of the widest vector)">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
}

def CatfishContractionLoopOrder
    : Pass<"catfish-contraction-loop-order", "mlir::func::FuncOp"> {
  let summary = "Move a contraction's reduction loop before its innermost parallel loop";
  let description = [{
    For a `linalg.generic` whose loops end in (parallel, reduction) with one reduction loop,
    swaps the last two loops, so the innermost loop walks the output row contiguously and
    LLVM vectorizes it: `for m, n, k: c[m, n] += a[m, k] * b[k, n]` becomes
    `for m, k, n`. Contractions that `catfish-vectorize-contractions` already blocked have no
    such loops left.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def CatfishCopiesToLinalg : Pass<"catfish-copies-to-linalg", "mlir::ModuleOp"> {
  let summary = "Rewrite memref.copy into linalg.copy";
  let description = [{
    Bufferization creates `memref.copy` ops; copies of strided views would lower to calls of
    a runtime library function that kernels cannot link against. `linalg.copy` becomes plain
    loops instead.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def CatfishApproximateMath : Pass<"catfish-approximate-math", "mlir::ModuleOp"> {
  let summary = "Replace f32 transcendental math ops by polynomial approximations";
  let description = [{
    Applies MLIR's math algebraic simplifications (`powf` by a constant exponent such as 2, 3
    or 0.5 becomes multiplications or a square root) and polynomial approximations (`tanh`,
    `exp`, `log`, `erf`, ...), so the loops vectorize instead of calling libm element by
    element. Ops without an approximation (and f64) are left for `convert-math-to-libm`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def CatfishTileForTasks : Pass<"catfish-tile-for-tasks", "mlir::func::FuncOp"> {
  let summary = "Tile a kernel's root op into an scf.forall over parts the CPU threads share";
  let description = [{
    Runs on outlined kernel functions on tensors (see outlineKernels). When a kernel yields
    one value computed by a linalg op, that op is tiled along one parallel loop into an
    `scf.forall`, and its producers in the kernel are fused into the loop body, so every part
    computes a disjoint slice of the result from the inputs alone. Contractions split along
    a batch dimension, else n, else m; other ops along their first parallel loop that can be
    split. There are at most `max-parts` parts, each covers at least `min-work` iterations of
    the op's loops, the tile divides the loop's extent (static shapes in every part) and is a
    multiple of 16 along the result's innermost dimension and of every divisor that a
    `floordiv` or `mod` of the op's (or a fused producer's) indexing maps applies to the loop
    (block-wise quantization scales); a kernel that cannot make two such parts stays whole.
    A kernel whose stored value is collapsed from a grid (a `catfish.packed_matmul`'s column
    panels) stores the grid into an expanded view of its output instead, and the op that
    computes the grid is the root.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"::mlir::catfish::kDefaultTaskMinWork",
           "Fewest loop iterations of the root op one part covers">,
    Option<"maxParts", "max-parts", "int64_t", /*default=*/"64",
           "Most parts one kernel is split into">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CatfishPartitionTasks : Pass<"catfish-partition-tasks", "mlir::func::FuncOp"> {
  let summary = "Give each CPU task a contiguous share of a bufferized kernel's scf.forall";
  let description = [{
    Runs on bufferized kernel functions whose last two arguments are the task index and the
    task count. When the body is one top-level 1-D `scf.forall` plus allocations, views and
    constants, the forall becomes an `scf.for` over the iterations
    `[task * n / count, (task + 1) * n / count)` and the function gets the attribute
    `catfish.max_tasks = n`. Any other forall is left for `scf-forall-to-for`, which runs all
    iterations in one task.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"];
}

def CatfishVectorizeContractions
    : Pass<"catfish-vectorize-contractions", "mlir::func::FuncOp"> {
  let summary = "Register-block f32 matmul-like contractions into vector.contract steps";
  let description = [{
    Every f32 `linalg.generic` contraction on tensors with static extents whose result's
    innermost dimension is its last n dimension is tiled into MR x NR result blocks with the
    reduction loops innermost, and each step becomes one `vector.contract` (MR x 1 by 1 x NR).
    MR runs along the last m dimension: 4, 2 or 1 with 256-bit vectors, 8, 4, 2 or 1 with
    512-bit ones. NR runs along the last n dimension: 16 or 8 (256-bit) or 32, 16 or 8
    (512-bit). An extent that the widest block fitting in it does not divide is first cut
    (`linalg::splitOp`) into whole blocks and a remainder, which is cut the same way: 50257
    columns become 50240 + 16 + 1, 7 rows 4 + 2 + 1. A remainder of fewer than 8 columns is
    one block of its width. Every other dimension, reductions included, is tiled by 1. Run `loop-invariant-subset-hoisting` afterwards so the accumulator block stays in
    registers across the k loop. Other contractions are left as they are.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the target's vector registers (256: AVX2, 512: AVX-512)">,
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def CatfishLowerVectors : Pass<"catfish-lower-vectors", "mlir::func::FuncOp"> {
  let summary = "Lower the micro-kernels' n-D vector ops to 1-D loads, broadcasts and FMAs";
  let description = [{
    After bufferization: drops unit vector dimensions, turns reductions into
    `vector.contract` and contractions into outer products of `vector.fma`, and transfers of
    rank 1 into `vector.load`/`vector.store` (+ `vector.broadcast`). Run
    `convert-vector-to-scf{full-unroll}` afterwards for the transfers of higher rank.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
}


//===----------------------------------------------------------------------===//
// CUDA code generation (passes/CUDA), in the order buildCudaCodegenPipeline runs them.
//===----------------------------------------------------------------------===//

def CatfishMapToGpu : Pass<"catfish-map-to-gpu", "mlir::ModuleOp"> {
  let summary = "Map each bufferized generated kernel's parallel loops to CUDA threads";
  let description = [{
    Runs on a kernel module (catfish-outline-kernels) after bufferization and
    `convert-linalg-to-parallel-loops`. Each top-level `scf.parallel` nest of a kernel
    function becomes a `gpu.func` in one `gpu.module @catfish_cuda` and a `gpu.launch_func`
    in its place: one thread per point of the iteration space, `block-size` threads per block,
    consecutive threads on consecutive innermost indices (coalesced), the linear thread index
    guarded against the iteration count. Every `gpu.func` takes all buffers of its kernel, in
    the kernel's order, so a launch's arguments are its step's buffers.

    Nothing falls back: a kernel of a library kind (gemm, conv, attention), a loop nest with
    inner sequential loops (a reduction), a temporary buffer or any other top-level op is an
    error at its op, which carries the ONNX node's location.

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c100) step (%c1, %c1) { ... }
    ```
    becomes
    ```mlir
    gpu.launch_func @catfish_cuda::@catfish_kernel_0_0 blocks in (%c2, %c1, %c1)
        threads in (%c256, %c1, %c1) args(%arg0 : memref<4x100xf32>, ...)
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (a multiple of 32, at most 1024)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"4",
           "Consecutive innermost points per thread, when the innermost extent divides "
           "(4 f32: a 128-bit access; 1: a point per thread)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect"
  ];
}

def CatfishAttentionToGpu : Pass<"catfish-attention-to-gpu", "mlir::ModuleOp"> {
  let summary = "Lower each attention region to one flash-attention kernel";
  let description = [{
    Runs first in the CUDA pipeline, on kernel functions of kind `attention` (one
    `catfish.attention` over the region's inputs, materialized into its output). Each becomes
    a `gpu.func` in `gpu.module @catfish_cuda` and its launch: a block of four warps takes
    `4 * r` query rows (r = 1 to 4, by the query length) of one (batch, head); key and value
    rows come in tiles of 32 through shared memory (converted to f32, K rows padded against
    bank conflicts), each lane scores one key of the tile (scale * q.k, the mask read with
    its broadcasts, the causal mask, the softcap), `gpu.shuffle xor` gives the row's tile max
    and sum, and the running max, sum and output columns (lane, lane + 32, ...) stay in
    registers across tiles (online softmax); `gpu.shuffle idx` hands each key's weight to the
    lanes that accumulate V. Causal blocks stop at the tile of their last row. Grouped-query
    heads read K/V head h / (Q heads / K heads). f32 accumulation for f16 and bf16. Head dims
    above 128, or other element types, are an error at the op.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

def CatfishMatmulsToLibrary : Pass<"catfish-matmuls-to-library", "mlir::ModuleOp"> {
  let summary = "Hand the contraction of each GEMM region to cuBLASLt";
  let description = [{
    Runs on a bufferized kernel module before the GPU mapping. In a kernel of kind `gemm`,
    the `linalg.fill` of zeros and the sum of products that follows it become one
    `func.call @catfish_cuda_matmul_<i>(A, B, C)` (a private declaration) of the step's
    buffers, carrying `catfish.matmul`: the product in cuBLASLt's row-major terms, m, n, k,
    batch, transpose_a/b, lda/ldb/ldc, the batch strides (0 for an operand every batch
    shares), alpha and beta. Loops are classified by the operands that use them: summed (A
    and B), rows (A and C), columns (B and C), batch (all three); each operand must list
    [batch] then its two groups in either order, the output rows then columns.

    Anything else is an error at the op: other element types than f32 (not built yet), an
    output that does not start as zeros, operands that are not the step's buffers or not
    laid out as above.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def CatfishMapReductionsToGpu : Pass<"catfish-map-reductions-to-gpu", "mlir::ModuleOp"> {
  let summary = "Map each bufferized reduction of a generated kernel to a warp or block per row";
  let description = [{
    Runs on a bufferized kernel module before `convert-linalg-to-parallel-loops`. A
    `linalg.generic` with reduction loops and one result (reduce, the max and sum of a
    softmax, the mean and variance of a norm, with their elementwise producers fused in)
    becomes a `gpu.func` in `gpu.module @catfish_cuda` and a `gpu.launch_func` in its place.
    Each output point is a row: a warp per row (eight rows to a block of 256 threads) when
    the row has at most 1024 elements, else a block per row. Threads fold a strided share of
    the row (consecutive lanes on consecutive elements of the innermost reduction loop) into
    a register of the accumulation type (f32 for f16 and bf16), `gpu.shuffle xor` combines the
    lanes of a warp, a block's per-warp partials meet in shared memory after a `gpu.barrier`,
    and one thread folds the total into the output, which already holds the reduction's
    initial value (the fill before it).

    The combination must be one associative op (add, mul, max, min, and, or) of the output
    and a value computed without it. A reduction with several results must be an ordered
    selection (argmax, argmin, hardmax: each result `select(c, x, out)` with one condition,
    x the element or its index along the one reduction loop): each thread then folds a
    contiguous chunk of the row from the outputs' initial values with the body itself, and
    lanes and warps combine in index order (xor 1, 2, 4, ...), the earlier state as the
    output, so ties resolve as in sequence. Anything else is an error at the op.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

def CatfishScratchBuffers : Pass<"catfish-scratch-buffers", "mlir::ModuleOp"> {
  let summary = "Turn each kernel's temporary buffers into scratch arguments the memory plan places";
  let description = [{
    Runs on a bufferized kernel module. Each top-level `memref.alloc` of a kernel function
    (a value the region computes and reads again, such as a row's maximum in a softmax)
    becomes a new argument after the kernel's results, before `task` and `task_count`; its
    deallocations go. `catfish.scratch` on the function counts these arguments: the artifact
    writer gives each a buffer in the arena, live for that step only, and passes it after the
    step's results. A GPU kernel cannot allocate global memory, so the CUDA target needs this.
    An allocation with a dynamic or non-identity layout is an error at its op.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def CatfishExpandGpuMath : Pass<"catfish-expand-gpu-math", "mlir::gpu::GPUModuleOp"> {
  let summary = "Rewrite the math ops NVVM cannot lower with ones it can";
  let description = [{
    Runs on a `gpu.module` after the GPU mapping (so that the CUDA emulator runs the same
    code), before `convert-gpu-to-nvvm`, which has no lowering for
    `math.trunc` (GridSample's nearest mode), `math.ipowi` (integer Pow) and `math.absi`
    (integer Abs: T5's relative position buckets): trunc becomes `x < 0 ? ceil(x) : floor(x)`;
    ipowi becomes square-and-multiply over the exponent's bits (a loop of the type's width),
    and for a negative exponent 1 for base 1, +-1 for base -1, 0 otherwise; absi becomes
    `x < 0 ? 0 - x : x`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect", "::mlir::scf::SCFDialect"
  ];
}

def CatfishEmulateGpu : Pass<"catfish-emulate-gpu", "mlir::ModuleOp"> {
  let summary = "Turn the gpu.funcs of a CUDA kernel module into host code for the CUDA emulator";
  let description = [{
    Runs on a kernel module after `catfish-map-to-gpu`. Each `gpu.func` of
    `gpu.module @catfish_cuda` becomes a `func.func` of the same name that runs one thread
    of a launch: its parameters, then `memref<6xi32>` holding the grid's and the block's x,
    y, z sizes (from the artifact's launch table, not from the IR), the block's shared memory
    (`memref<Nxi8>`, each workgroup buffer a view at its offset), a pointer to the runtime's
    `CudaEmulatorThread`, then the linear block and thread indices (x fastest), which take
    the place of the CPU kernel ABI's task and task count. `gpu.block_id`, `gpu.thread_id`,
    `gpu.block_dim`, `gpu.grid_dim` and `gpu.global_id` become values computed from those.
    `gpu.barrier` and 32-bit `gpu.shuffle` become calls through the thread's service table:
    the runtime runs a cooperative launch's threads as fibers and switches between them
    there. The device globals move to the module; the host functions with their
    `gpu.launch_func` ops and the `gpu.module` are removed.

    What the emulator cannot run (private memory, other GPU ops) is an error at its op.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // CATFISH_PASSES_TD
