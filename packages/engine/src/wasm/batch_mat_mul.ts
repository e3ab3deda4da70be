/**
 * `BatchMatMul` for the wasm backend on XNNPACK's fast path.
 *
 * The stock kernel reaches XNNPACK (18–28 GFLOP/s on one thread) only when
 * neither side is transposed and the batch is 1; otherwise it runs a scalar
 * loop (0.4–2 GFLOP/s). Every Dense layer's backward pass multiplies by a
 * transposed matrix, so this version transposes explicitly (a cheap copy),
 * folds a batched left side into one tall matrix when the right side is
 * shared, and splits other batches into batch-1 products.
 */
import { matMulDims } from "../matmul_shape";
import {
  describe,
  f32,
  invalidInput,
  KernelArgs,
  KernelConfig,
  KernelContext,
  Scratch,
  show,
  sizeOf,
  TensorInfo,
  withScratch,
} from "./kernel_util";

const OP = "BatchMatMul";
/** Below this many multiply-adds per batch item, splitting a batch costs more than the scalar loop. */
const SPLIT_MIN_MACS = 32 * 32 * 32;

/** Product of dims, 1 for none. */
function batchOf(shape: number[]): number {
  return sizeOf(shape.slice(0, -2));
}

/**
 * Kernel function of `BatchMatMul` on wasm.
 *
 * Inputs: `a` [...batch, M, K] (or [...batch, K, M] with `transposeA`), `b`
 * [...batch, K, N] (or [...batch, N, K] with `transposeB`); batch dims
 * broadcast. Returns [...batch, M, N].
 *
 * @throws Error `BatchMatMul: invalid input. Expected … Received: ….` when the
 * inner dimensions differ or a rank is below 2.
 */
export function batchMatMul(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs;
  const attrs = args.attrs ?? {};
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const stock = ctx.stock.get(OP);
  if (stock === undefined) throw new Error(`${OP}: the stock wasm kernel is missing.`);
  const shapes = `a=${describe(a)}, b=${describe(b)}, transposeA=${show(transposeA)}, transposeB=${show(transposeB)}`;
  if (a === undefined || b === undefined || a.shape.length < 2 || b.shape.length < 2) {
    throw invalidInput(OP, "a and b of rank ≥ 2", shapes);
  }
  const { m, k, kb, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
  if (k !== kb) throw invalidInput(OP, `the inner dimensions of a and b to match (${k} ≠ ${kb})`, shapes);
  const batchA = batchOf(a.shape);
  const batchB = batchOf(b.shape);
  const delegate = (): TensorInfo => stock.kernelFunc({ inputs: { a, b }, attrs: attrs as never, backend: args.backend as never }) as TensorInfo;
  if (a.dtype !== "float32" || b.dtype !== "float32" || sizeOf(a.shape) === 0 || sizeOf(b.shape) === 0) return delegate();
  if (!transposeA && !transposeB && batchA === 1 && batchB === 1) return delegate();
  const outer = ctx.tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...outer, m, n];
  const batch = sizeOf(outer);
  const shareB = batchB === 1;
  const sameBatch = batchA === batch && batchB === batch;
  if (!shareB && !(sameBatch && m * n * k >= SPLIT_MIN_MACS)) {
    // Broadcast batches or tiny products: the stock loop, but without transposes.
    return withScratch(ctx, args.backend, (s) => {
      const a2 = transposeA ? transposeLast(s, a) : a;
      const b2 = transposeB ? transposeLast(s, b) : b;
      const out = s.run(OP, { a: a2, b: b2 }, { transposeA: false, transposeB: false }, true);
      return s.reshape(out, outShape);
    });
  }
  return withScratch(ctx, args.backend, (s) => {
    const a2 = transposeA ? transposeLast(s, a) : a;
    const b2 = transposeB ? transposeLast(s, b) : b;
    if (shareB) {
      // One tall product: [batchA·M, K] × [K, N].
      const prod = s.run(OP, { a: s.reshape(a2, [1, batchA * m, k]), b: s.reshape(b2, [1, k, n]) }, { transposeA: false, transposeB: false }, true);
      return s.reshape(prod, outShape);
    }
    // Same batch on both sides: one batch-1 product per item, copied into place.
    const out = s.alloc(outShape);
    for (let i = 0; i < batch; i++) {
      const ai = copyRange(s, a2, i * m * k, [1, m, k]);
      const bi = copyRange(s, b2, i * k * n, [1, k, n]);
      const pi = s.keep(s.run(OP, { a: ai, b: bi }, { transposeA: false, transposeB: false }, true));
      f32(s.backend, out).set(f32(s.backend, pi), i * m * n);
      for (const t of [ai, bi, pi]) s.backend.disposeData(t.dataId);
    }
    return out;
  });
}

/** Swaps the last two axes (an explicit copy). */
function transposeLast(s: Scratch, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return s.run("Transpose", { x }, { perm });
}

/** Copies `size(shape)` floats of `x` starting at `offset` into a new tensor (not tracked by `s`). */
function copyRange(s: Scratch, x: TensorInfo, offset: number, shape: number[]): TensorInfo {
  const out = s.backend.makeOutput(shape, "float32");
  const n = sizeOf(shape);
  f32(s.backend, out).set(f32(s.backend, x).subarray(offset, offset + n));
  return out;
}

/** Registration of {@link batchMatMul} for the 'wasm' backend. */
export function batchMatMulConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => batchMatMul(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
