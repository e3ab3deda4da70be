/**
 * The `native` TensorFlow.js backend: tfjs's `cpu` backend (tensors are plain
 * typed arrays) whose heavy kernels run in convlab's oneDNN addon, reading
 * the arrays in place. Every kernel the addon does not cover, and every case
 * it does not take (NCHW, other dtypes, other fused activations), is the cpu
 * backend's own.
 */
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { matMulDims } from "./matmul_shape";
import type { NativeAddon } from "./native_addon";
import { allocateFloat32, asOutOfMemory, describeInputs } from "./oom";
import { RMSPROP_KERNEL } from "./optimizers";

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: NativeBackend; attrs?: Record<string, any> };
type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** Name under which the backend is registered with tfjs. */
export const NATIVE_BACKEND = "native";

const ACTIVATIONS: Record<string, 0 | 1 | undefined> = { linear: 0, relu: 1 };

/**
 * Output buffers of disposed tensors, reused by later kernels of the same size: a
 * training step allocates the same large activations every batch, and fresh memory
 * costs a page fault per 4 KiB (a third of the lesson-1 step before this pool).
 *
 * Only buffers this backend allocated are pooled, and never one that left it: a
 * buffer read by `data()`/`dataSync()` (tfjs hands out the array itself), or shared
 * with another tensor (a `slice` view), is simply left to the garbage collector.
 */
class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly owned = new WeakSet<ArrayBuffer>();
  private readonly exposed = new WeakSet<ArrayBuffer>();
  private readonly pooled = new WeakSet<ArrayBuffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number, private readonly perSize: number) {}

  take(n: number): Float32Array {
    const reused = this.free.get(n)?.pop();
    if (reused) {
      this.bytes -= n * 4;
      this.pooled.delete(reused.buffer as ArrayBuffer);
      return reused;
    }
    // No zero-filling: every native kernel writes all of its output.
    const out = n === 0 ? new Float32Array(0) : allocateFloat32(n);
    this.owned.add(out.buffer as ArrayBuffer);
    return out;
  }

  /** The buffer may be seen outside: never reuse it. */
  expose(values: unknown): void {
    if (values instanceof Float32Array) this.exposed.add(values.buffer as ArrayBuffer);
  }

  give(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buffer = values.buffer as ArrayBuffer;
    if (!this.owned.has(buffer) || this.exposed.has(buffer) || this.pooled.has(buffer) || values.byteLength !== buffer.byteLength) return;
    const list = this.free.get(values.length) ?? [];
    if (list.length >= this.perSize || this.bytes + values.byteLength > this.maxBytes) return;
    list.push(values);
    this.free.set(values.length, list);
    this.pooled.add(buffer);
    this.bytes += values.byteLength;
  }
}

/** tfjs's cpu backend with the addon at hand. */
export class NativeBackend extends MathBackendCPU {
  readonly pool = new BufferPool(512 << 20, 8);

  constructor(readonly addon: NativeAddon) {
    super();
    // The cpu backend greets Node users with advice to install tfjs-node; this backend is the answer.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.pool.expose(values);
    return values;
  }

  override disposeData(dataId: object, force = false): boolean {
    const entry = this.data.get(dataId);
    const values = entry?.values;
    const removed = super.disposeData(dataId, force);
    if (removed && entry && !this.data.has(dataId)) this.pool.give(values);
    return removed;
  }

  /** The float32 values of a tensor, in place; undefined for other dtypes. */
  f32(t: TensorInfo): Float32Array | undefined {
    if (t.dtype !== "float32") return undefined;
    const values = this.data.get(t.dataId).values;
    return values instanceof Float32Array ? values : undefined;
  }

  output(shape: number[], values: Float32Array): TensorInfo {
    return this.makeTensorInfo(shape, "float32", values);
  }
}

/**
 * `inner` when `small` (right-aligned) is `big` repeated along one run of axes, that is
 * big [outer, middle, inner] against small [outer, inner]; undefined otherwise.
 */
export function middleBroadcast(big: readonly number[], small: readonly number[]): number | undefined {
  // A small side of higher rank would make the output's rank its own, not big's.
  if (small.length > big.length) return undefined;
  const lead = small.length - big.length;
  let phase = 0; // 0: leading kept axes, 1: repeated axes, 2: trailing kept axes
  let inner = 1;
  for (let i = 0; i < big.length; i++) {
    const s = i + lead >= 0 ? small[i + lead] : 1;
    const d = big[i];
    if (d === 1 && s === 1) continue; // neither kept nor repeated
    if (s === d) {
      if (phase === 1) phase = 2;
      if (phase === 2) inner *= d;
    } else if (s === 1) {
      if (phase === 2) return undefined;
      phase = 1;
    } else return undefined;
  }
  return phase === 0 ? size(small as number[]) : inner;
}

const pads = (p: { top: number; left: number; bottom: number; right: number }): number[] => [p.top, p.left, p.bottom, p.right];
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Registers the backend and its kernels (idempotent). `priority` decides
 * where tfjs ranks it when no backend is set explicitly.
 */
export function registerNativeBackend(addon: NativeAddon, priority: number): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), priority);
  const cpuKernels = new Map(tf.getKernelsForBackend("cpu").map((k) => [k.kernelName, k]));
  const native = nativeKernels();
  for (const [name, config] of cpuKernels) {
    const fallback = config.kernelFunc as unknown as KernelFunc;
    const fast = native[name];
    tf.registerKernel({
      kernelName: name,
      backendName: NATIVE_BACKEND,
      setupFunc: config.setupFunc,
      disposeFunc: config.disposeFunc,
      kernelFunc: ((args: KernelArgs) => {
        try {
          const quick = fast?.(args);
          if (quick) return quick;
          const out = fallback(args);
          exposeShared(args, out);
          return out;
        } catch (e) {
          const oom = asOutOfMemory(e);
          throw oom ? oom.within(name, describeInputs(args.inputs)) : e;
        }
      }) as unknown as tf.KernelFunc,
    });
  }
  tf.registerKernel({ kernelName: RMSPROP_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: rmspropKernel as unknown as tf.KernelFunc });
}

/** The fused RMSprop step of {@link rmspropStep}: three new tensors from one pass. */
function rmspropKernel({ inputs, backend, attrs = {} }: KernelArgs): TensorInfo[] {
  const { value, meanSquare, moment, grad } = inputs;
  const [v, ms, mom, g] = [value, meanSquare, moment, grad].map((t) => backend.f32(t) ?? Float32Array.from(backend.readSync(t.dataId) as ArrayLike<number>));
  const outs = [0, 1, 2].map(() => backend.pool.take(v.length));
  backend.addon.rmsprop(v, ms, mom, g, outs[0], outs[1], outs[2], attrs.hyper, attrs.epsilonInsideSqrt);
  return outs.map((o) => backend.output(value.shape, o));
}

/**
 * A cpu kernel may return a view of an input's buffer (Slice, Split and Unpack return
 * `subarray`s): such a buffer must outlive its first tensor, so it is never pooled.
 */
function exposeShared(args: KernelArgs, out: TensorInfo | TensorInfo[]): void {
  // Runs after every cpu-kernel call: plain loops, no allocation.
  const { backend, inputs } = args;
  const outs = Array.isArray(out) ? out : [out];
  for (const name in inputs) {
    const input = inputs[name];
    if (!input) continue;
    const inBuffer = (backend.data.get(input.dataId)?.values as ArrayBufferView | undefined)?.buffer;
    if (!inBuffer) continue;
    for (const info of outs) {
      const values = backend.data.get(info.dataId)?.values as ArrayBufferView | undefined;
      // the same dataId (Reshape, Identity) is reference-counted; another dataId on the same memory is not
      if (values?.buffer === inBuffer && (info.dataId !== input.dataId || values.byteLength !== inBuffer.byteLength)) {
        backend.pool.expose(values);
      }
    }
  }
}

/** Native kernels: each returns undefined when it does not take the case, and the cpu kernel runs. */
function nativeKernels(): Record<string, (args: KernelArgs) => TensorInfo | TensorInfo[] | undefined> {
  const conv = (args: KernelArgs, fused: boolean, depthwise = false): TensorInfo | undefined => {
    const { inputs, backend, attrs = {} } = args;
    const { x, filter, bias, preluActivationWeights } = inputs;
    const activation = fused ? ACTIVATIONS[attrs.activation ?? "linear"] : 0;
    if (activation === undefined || preluActivationWeights) return undefined;
    if (attrs.dataFormat === "NCHW") return undefined;
    const xv = backend.f32(x);
    const wv = backend.f32(filter);
    const bv = bias ? backend.f32(bias) : null;
    if (!xv || !wv || bv === undefined) return undefined;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      depthwise,
      "channelsLast",
    );
    if (bv && bv.length !== info.outChannels) return undefined;
    const out = backend.pool.take(size(info.outShape));
    backend.addon.conv2d(xv, x.shape, wv, filter.shape, out, info.outShape, [info.strideHeight, info.strideWidth], pads(info.padInfo), [info.dilationHeight, info.dilationWidth], bv, activation, depthwise);
    return backend.output(info.outShape, out);
  };

  const pool = (args: KernelArgs, kind: "max" | "avg"): TensorInfo | undefined => {
    const { inputs, backend, attrs = {} } = args;
    const xv = backend.f32(inputs.x);
    if (!xv) return undefined;
    const info = tf.backend_util.computePool2DInfo(inputs.x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const out = backend.pool.take(size(info.outShape));
    const window = [info.filterHeight, info.filterWidth];
    const strides = [info.strideHeight, info.strideWidth];
    (kind === "max" ? backend.addon.maxPool : backend.addon.avgPool).call(backend.addon, xv, inputs.x.shape, out, info.outShape, window, strides, pads(info.padInfo));
    return backend.output(info.outShape, out);
  };

  const matmul = (args: KernelArgs, fused: boolean): TensorInfo | undefined => {
    const { inputs, backend, attrs = {} } = args;
    const { a, b, bias, preluActivationWeights } = inputs;
    const activation = fused ? ACTIVATIONS[attrs.activation ?? "linear"] : 0;
    if (activation === undefined || preluActivationWeights) return undefined;
    const av = backend.f32(a);
    const bvals = backend.f32(b);
    const biasv = bias ? backend.f32(bias) : null;
    if (!av || !bvals || biasv === undefined) return undefined;
    const { transposeA = false, transposeB = false } = attrs;
    const { m, k, kb, n } = matMulDims(a.shape, b.shape, transposeA, transposeB);
    if (k !== kb) return undefined; // the cpu kernel reports the mismatch in tfjs's words
    const batchShapeA = a.shape.slice(0, -2);
    const batchShapeB = b.shape.slice(0, -2);
    const batchA = size(batchShapeA);
    const batchB = size(batchShapeB);
    // Only simple broadcasting (equal batch shapes, or one side without batch); the rest is cpu's.
    let batchShape: number[];
    if (batchA === batchB && batchShapeA.join() === batchShapeB.join()) batchShape = batchShapeA;
    else if (batchA === 1) batchShape = batchShapeB;
    else if (batchB === 1) batchShape = batchShapeA;
    else return undefined;
    if (biasv && biasv.length !== n) return undefined;
    const outShape = [...batchShape, m, n];
    const out = backend.pool.take(size(outShape));
    backend.addon.matmul(av, bvals, out, batchA, batchB, m, n, k, transposeA, transposeB, biasv, activation);
    return backend.output(outShape, out);
  };

  /**
   * Elementwise float32 ops where one side is the other repeated along one run of axes:
   * equal shapes, a scalar, a bias ([C] against [N, H, W, C]), a per-sample value ([N, 1,
   * 1, C] against [N, H, W, C]: the gradient of a global pooling). tfjs's cpu kernels walk
   * generic broadcast indices in JavaScript, 20-100x slower.
   */
  const binary = (op: 0 | 1 | 2 | 3) => ({ inputs, backend }: KernelArgs): TensorInfo | undefined => {
    const { a, b } = inputs;
    const av = backend.f32(a);
    const bv = backend.f32(b);
    if (!av || !bv) return undefined;
    // The output has the shape of the side with more values (of higher rank on a tie: [1] vs []).
    const swapped = av.length < bv.length || (av.length === bv.length && a.shape.length < b.shape.length);
    const [big, small] = swapped ? [b, a] : [a, b];
    const inner = middleBroadcast(big.shape, small.shape);
    if (inner === undefined) return undefined;
    const out = backend.pool.take(size(big.shape));
    backend.addon.binary(op, swapped ? bv : av, swapped ? av : bv, out, swapped, inner);
    return backend.output(big.shape, out);
  };
  const unary = (op: 0 | 1 | 2 | 3) => ({ inputs, backend, attrs = {} }: KernelArgs): TensorInfo | undefined => {
    const xv = backend.f32(inputs.x);
    if (!xv) return undefined;
    const out = backend.pool.take(xv.length);
    backend.addon.unary(op, xv, out, attrs.alpha ?? 0);
    return backend.output(inputs.x.shape, out);
  };

  /** Sums over one run of adjacent axes (a bias gradient, a global pooling, batch statistics, a total). */
  const reduceSum = ({ inputs, backend, attrs = {} }: KernelArgs): TensorInfo | undefined => {
    const { x } = inputs;
    const xv = backend.f32(x);
    if (!xv || xv.length === 0 || x.shape.length === 0) return undefined;
    const rank = x.shape.length;
    const given: Array<number | null> = Array.isArray(attrs.axis) ? attrs.axis : [attrs.axis ?? null];
    const axes = given[0] === null ? x.shape.map((_, i) => i) : [...new Set(given.map((a) => (a! < 0 ? a! + rank : a!)))].sort((p, q) => p - q);
    if (axes.some((a, i) => a !== axes[0] + i)) return undefined; // not one run
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = size(x.shape.slice(0, first));
    const cols = size(x.shape.slice(last + 1));
    const out = backend.pool.take(outer * cols);
    backend.addon.sumColumns(xv, out, outer);
    const shape = attrs.keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    return backend.output(shape, out);
  };

  return {
    GatherV2: ({ inputs, backend, attrs = {} }) => {
      // Rows picked by index (fit slices every batch out of the whole dataset this way):
      // whole-row copies instead of tfjs's index arithmetic per element (~3 ms a lesson-1 batch).
      const { x, indices } = inputs;
      if ((attrs.batchDims ?? 0) !== 0 || indices.dtype !== "int32") return undefined;
      const xv = backend.data.get(x.dataId).values as Float32Array | Int32Array;
      const iv = backend.data.get(indices.dataId).values as Int32Array;
      if (!(xv instanceof Float32Array || xv instanceof Int32Array) || !(iv instanceof Int32Array)) return undefined;
      const axis = ((attrs.axis ?? 0) + x.shape.length) % Math.max(1, x.shape.length);
      const rows = x.shape[axis];
      for (let j = 0; j < iv.length; j++) if (!(iv[j] >= 0 && iv[j] < rows)) return undefined; // cpu's error
      const outer = size(x.shape.slice(0, axis));
      const inner = size(x.shape.slice(axis + 1));
      const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
      const out = xv instanceof Float32Array ? backend.pool.take(size(outShape)) : new Int32Array(size(outShape));
      for (let o = 0, at = 0; o < outer; o++) {
        const base = o * rows * inner;
        for (let j = 0; j < iv.length; j++, at += inner) {
          const from = base + iv[j] * inner;
          if (inner === 1) out[at] = xv[from];
          else out.set(xv.subarray(from, from + inner), at);
        }
      }
      return backend.makeTensorInfo(outShape, x.dtype, out);
    },
    Tile: ({ inputs, backend, attrs = {} }) => {
      // Repeating a block along leading axes (batch statistics broadcast back in
      // BatchNormalization's gradient): whole-block copies instead of an index per element.
      const { x } = inputs;
      const xv = backend.f32(x);
      const reps: number[] = attrs.reps;
      if (!xv || !reps || reps.length !== x.shape.length) return undefined;
      const firstWide = x.shape.findIndex((d) => d !== 1);
      if (firstWide >= 0 && reps.slice(firstWide).some((r) => r !== 1)) return undefined;
      const copies = reps.reduce((a, b) => a * b, 1);
      const out = backend.pool.take(xv.length * copies);
      for (let i = 0; i < copies; i++) out.set(xv, i * xv.length);
      return backend.output(x.shape.map((d, i) => d * reps[i]), out);
    },
    Add: binary(0),
    Sub: binary(1),
    Multiply: binary(2),
    RealDiv: binary(3),
    Relu: unary(0),
    Step: unary(1),
    Sqrt: unary(2),
    Square: unary(3),
    Mean: (args) => {
      const sum = reduceSum(args);
      if (!sum) return undefined;
      const values = args.backend.data.get(sum.dataId).values as Float32Array;
      const count = size(args.inputs.x.shape) / Math.max(1, values.length);
      for (let i = 0; i < values.length; i++) values[i] /= count;
      return sum;
    },
    Sum: (args) => reduceSum(args),
    Conv2D: (args) => conv(args, false),
    FusedConv2D: (args) => conv(args, true),
    // The gradient of Concatenate (every U-Net skip): tfjs's cpu kernel slices element by element
    // (about 3 µs an element, 8.4 of 10.5 s of a U-Net training step at batch 16); here each part is
    // copied as contiguous runs of `size · inner` values.
    SplitV: ({ inputs, backend, attrs = {} }) => {
      const { x } = inputs;
      const xv = backend.f32(x);
      if (!xv) return undefined;
      const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
      const dim = x.shape[axis];
      const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
      const outer = size(x.shape.slice(0, axis));
      const inner = size(x.shape.slice(axis + 1));
      let offset = 0;
      return sizes.map((part: number) => {
        const run = part * inner;
        const out = backend.pool.take(outer * run);
        for (let o = 0; o < outer; o++) {
          const from = (o * dim + offset) * inner;
          out.set(xv.subarray(from, from + run), o * run);
        }
        offset += part;
        const shape = [...x.shape];
        shape[axis] = part;
        return backend.output(shape, out);
      });
    },
    Conv2DBackpropInput: ({ inputs, backend, attrs = {} }) => {
      const { dy, filter } = inputs;
      if (attrs.dataFormat === "NCHW") return undefined;
      const dyv = backend.f32(dy);
      const wv = backend.f32(filter);
      if (!dyv || !wv) return undefined;
      const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
      const dx = backend.pool.take(size(info.inShape));
      backend.addon.conv2dBackwardData(dyv, dy.shape, wv, filter.shape, dx, info.inShape, [info.strideHeight, info.strideWidth], pads(info.padInfo), [1, 1]);
      return backend.output(info.inShape, dx);
    },
    Conv2DBackpropFilter: ({ inputs, backend, attrs = {} }) => {
      const { x, dy } = inputs;
      if (attrs.dataFormat === "NCHW") return undefined;
      const xv = backend.f32(x);
      const dyv = backend.f32(dy);
      if (!xv || !dyv) return undefined;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
      const dw = backend.pool.take(size(info.filterShape));
      backend.addon.conv2dBackwardWeights(xv, x.shape, dyv, dy.shape, dw, info.filterShape, [info.strideHeight, info.strideWidth], pads(info.padInfo), [1, 1]);
      return backend.output(info.filterShape, dw);
    },
    DepthwiseConv2dNative: (args) => conv(args, false, true),
    FusedDepthwiseConv2D: (args) => conv(args, true, true),
    DepthwiseConv2dNativeBackpropInput: ({ inputs, backend, attrs = {} }) => {
      const { dy, filter } = inputs;
      const dyv = backend.f32(dy);
      const wv = backend.f32(filter);
      if (!dyv || !wv) return undefined;
      const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true, "channelsLast");
      const dx = backend.pool.take(size(info.inShape));
      backend.addon.conv2dBackwardData(dyv, dy.shape, wv, filter.shape, dx, info.inShape, [info.strideHeight, info.strideWidth], pads(info.padInfo), [info.dilationHeight, info.dilationWidth], true);
      return backend.output(info.inShape, dx);
    },
    DepthwiseConv2dNativeBackpropFilter: ({ inputs, backend, attrs = {} }) => {
      const { x, dy } = inputs;
      const xv = backend.f32(x);
      const dyv = backend.f32(dy);
      if (!xv || !dyv) return undefined;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true, "channelsLast");
      const dw = backend.pool.take(size(info.filterShape));
      backend.addon.conv2dBackwardWeights(xv, x.shape, dyv, dy.shape, dw, info.filterShape, [info.strideHeight, info.strideWidth], pads(info.padInfo), [info.dilationHeight, info.dilationWidth], true);
      return backend.output(info.filterShape, dw);
    },
    // Element-wise layers of the Keras applications (ZeroPadding2D, BatchNormalization in
    // inference, ReLU6), which the cpu kernels index element by element: plain loops here,
    // with the cpu kernels' formulas.
    PadV2: ({ inputs, backend, attrs = {} }) => {
      const { x } = inputs;
      const paddings = attrs.paddings as [number, number][];
      const xv = backend.f32(x);
      // NHWC with padding on height and width only (ZeroPadding2D); the rest is cpu's.
      if (!xv || x.shape.length !== 4 || paddings[0][0] || paddings[0][1] || paddings[3][0] || paddings[3][1]) return undefined;
      const [n, h, w, c] = x.shape;
      const [[top, bottom], [left, right]] = [paddings[1], paddings[2]];
      const oh = h + top + bottom;
      const ow = w + left + right;
      const out = backend.pool.take(n * oh * ow * c);
      out.fill(attrs.constantValue ?? 0);
      const row = w * c;
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < h; y++) out.set(xv.subarray((b * h + y) * row, (b * h + y + 1) * row), ((b * oh + y + top) * ow + left) * c);
      }
      return backend.output([n, oh, ow, c], out);
    },
    FusedBatchNorm: ({ inputs, backend, attrs = {} }) => {
      const { x, mean, variance, offset, scale } = inputs;
      const xv = backend.f32(x);
      const c = x.shape[x.shape.length - 1];
      const stats = [mean, variance, offset, scale].map((t) => (t ? backend.f32(t) : null));
      // Per-channel statistics (what BatchNormalization passes); other broadcasts are cpu's.
      if (!xv || c === undefined || stats.some((v, i) => v === undefined || (v !== null && v.length !== c) || (i < 2 && v === null))) return undefined;
      const [m, v, o, sc] = stats as (Float32Array | null)[];
      const eps = attrs.varianceEpsilon ?? 0.001;
      const factor = new Float64Array(c);
      for (let k = 0; k < c; k++) factor[k] = (sc ? sc[k] : 1) / Math.sqrt(v![k] + eps);
      const out = backend.pool.take(xv.length);
      for (let i = 0, k = 0; i < xv.length; i++, k = k + 1 === c ? 0 : k + 1) out[i] = (o ? o[k] : 0) + (xv[i] - m![k]) * factor[k];
      return backend.output(x.shape, out);
    },
    ClipByValue: ({ inputs, backend, attrs = {} }) => {
      const xv = backend.f32(inputs.x);
      if (!xv) return undefined;
      const lo = attrs.clipValueMin as number;
      const hi = attrs.clipValueMax as number;
      const out = backend.pool.take(xv.length);
      for (let i = 0; i < xv.length; i++) {
        const v = xv[i];
        out[i] = v > hi ? hi : v < lo ? lo : v;
      }
      return backend.output(inputs.x.shape, out);
    },
    MaxPool: (args) => pool(args, "max"),
    AvgPool: (args) => pool(args, "avg"),
    MaxPoolGrad: ({ inputs, backend, attrs = {} }) => {
      const { dy, input } = inputs;
      const dyv = backend.f32(dy);
      const xv = backend.f32(input);
      if (!dyv || !xv) return undefined;
      const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      const dx = backend.pool.take(size(input.shape));
      backend.addon.maxPoolBackward(dyv, dy.shape, xv, input.shape, dx, [info.filterHeight, info.filterWidth], [info.strideHeight, info.strideWidth], pads(info.padInfo));
      return backend.output(input.shape, dx);
    },
    AvgPoolGrad: ({ inputs, backend, attrs = {} }) => {
      const { dy, input } = inputs;
      const dyv = backend.f32(dy);
      if (!dyv) return undefined;
      const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad);
      const dx = backend.pool.take(size(input.shape));
      backend.addon.avgPoolBackward(dyv, dy.shape, dx, input.shape, [info.filterHeight, info.filterWidth], [info.strideHeight, info.strideWidth], pads(info.padInfo));
      return backend.output(input.shape, dx);
    },
    BatchMatMul: (args) => matmul(args, false),
    _FusedMatMul: (args) => matmul(args, true),
  };
}
