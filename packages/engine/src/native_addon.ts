/**
 * Loader and types of the native kernels (`build/Release/convlab_native.node`, built from
 * `native/*.cc` by `scripts/build-native.js` at install time).
 *
 * The addon runs TensorFlow.js's heavy training kernels (Conv2D and its two gradients,
 * BatchMatMul, MaxPool/AvgPool and their gradients) with oneDNN and OpenMP on all cores,
 * reading tfjs's own Float32Arrays in place. Every function matches the tfjs `cpu`
 * backend's kernel of the same name (to float32 rounding), so a backend can swap them in.
 *
 * Keras has no counterpart: TensorFlow runs these kernels natively (also with oneDNN).
 */
import * as fs from "fs";
import * as path from "path";

/** Version of the function signatures below; the addon reports its own in `info()`. */
export const NATIVE_API_VERSION = 4;

/** Activation fused into {@link NativeAddon.conv2d} / {@link NativeAddon.matmul}: 0 linear, 1 relu. */
export type NativeActivation = 0 | 1;

/** Shapes and parameters: plain arrays (or Int32Arrays) of integers. */
export type IntTuple = ArrayLike<number>;

/** What {@link NativeAddon.info} reports. */
export interface NativeInfo {
  /** oneDNN's version, e.g. `"2.6.3"`. */
  onednn: string;
  /** Threads every kernel uses (OpenMP team size). */
  threads: number;
  /** Instruction set oneDNN dispatches to, e.g. `"avx512_core_bf16"`, `"avx2"`. */
  isa: string;
  /** Which library computes {@link NativeAddon.matmul}: `"onednn"` (default) or `"openblas"`. */
  matmul: "onednn" | "openblas";
  /** Must equal {@link NATIVE_API_VERSION}; a different value means a stale build. */
  apiVersion: number;
}

/**
 * The native kernels. All functions are synchronous: they run on the calling thread and
 * return when the output is written, using an OpenMP team of {@link NativeInfo.threads}
 * threads inside.
 *
 * Conventions shared by every function:
 * - Inputs are `Float32Array`s read in place (never copied, never modified); outputs are
 *   `Float32Array`s allocated by the caller, fully overwritten in place, and must not share
 *   memory with any input.
 * - Activations are NHWC `[batch, height, width, channels]`; conv filters are HWIO
 *   `[kh, kw, inChannels, outChannels]`; matrices are row-major: exactly how TensorFlow.js
 *   stores them.
 * - `pads` are `[top, left, bottom, right]` (tfjs's `convInfo.padInfo`); output row `oh`
 *   reads input rows `oh * strideHeight - top + i * dilationHeight` for `i` in `[0, kh)`,
 *   padding being zeros (convolution), -Infinity (max pooling) or absent (avg pooling).
 * - Output sizes must be `floor((in + padBefore + padAfter - ((k - 1) * dilation + 1)) / stride) + 1`,
 *   what tfjs's `backend_util.computeConv2DInfo` / `computePool2DInfo` give without a
 *   `dimRoundingMode`.
 * - Every argument is validated before any work: a wrong type, length, shape or parameter
 *   throws an `Error` with one line naming the function and argument, e.g.
 *   `conv2d: invalid wShape. Expected [kh, kw, 3, out] to match the input's 3 channels. Received: [3,3,4,8].`
 *   A failure inside oneDNN throws `<fn>: oneDNN failed (<what>, status <n>) for <shapes>.`;
 *   nothing crashes the process.
 */
export interface NativeAddon {
  /**
   * Versions and settings of the loaded kernels.
   * @returns `{ onednn, threads, isa, matmul, apiVersion }`.
   */
  info(): NativeInfo;

  /**
   * Sets the number of threads of every later call (default: the CPUs this process may
   * run on, or `CONVLAB_NUM_THREADS` when that is an integer in [1, 1024]).
   * @param n Integer in [1, 1024].
   * @throws Error when `n` is not an integer in [1, 1024].
   */
  setNumThreads(n: number): void;

  /**
   * 2-D convolution, tfjs kernel `Conv2D` (plus `FusedConv2D` with bias and relu):
   * `out[b, oh, ow, o] = act(bias[o] + Σ_{i,j,c} x[b, oh*sh - top + i*dh, ow*sw - left + j*dw, c] * w[i, j, c, o])`.
   * @param x Input, NHWC, `xShape` = `[N, H, W, C]`.
   * @param w Filter, HWIO, `wShape` = `[KH, KW, C, CO]`.
   * @param out Output, filled in place, `outShape` = `[N, OH, OW, CO]`.
   * @param strides `[sh, sw]`, positive.
   * @param pads `[top, left, bottom, right]`, non-negative.
   * @param dilations `[dh, dw]`, positive (any combination with strides is accepted).
   * @param bias `null`/`undefined`, or `CO` values added per output channel.
   * @param activation 0 (linear, default) or 1 (relu, applied after the bias).
   * @param depthwise `true`: tfjs's `DepthwiseConv2dNative` instead: `wShape` = `[KH, KW, C, M]`,
   *   each input channel convolved with its own M filters, `CO` = `C·M` (channel `c·M + m`).
   * @throws Error on any invalid argument (see the interface notes) or oneDNN failure.
   */
  conv2d(
    x: Float32Array, xShape: IntTuple, w: Float32Array, wShape: IntTuple,
    out: Float32Array, outShape: IntTuple, strides: IntTuple, pads: IntTuple, dilations: IntTuple,
    bias?: Float32Array | null, activation?: NativeActivation, depthwise?: boolean,
  ): void;

  /**
   * Gradient of {@link conv2d} with respect to its input, tfjs kernel `Conv2DBackpropInput`
   * (what `tf.grad` of `tf.conv2d` computes for `x`; also `tf.conv2dTranspose`), or with
   * `depthwise` `DepthwiseConv2dNativeBackpropInput`.
   * @param dy Output gradient, NHWC, `dyShape` = `[N, OH, OW, CO]`.
   * @param w Filter, HWIO, `wShape` = `[KH, KW, C, CO]`.
   * @param dx Input gradient, filled in place, `dxShape` = `[N, H, W, C]`.
   * @param strides `[sh, sw]`; `pads` `[top, left, bottom, right]`; `dilations` `[dh, dw]`:
   *   those of the forward convolution.
   * @throws Error on any invalid argument (`dyShape` must be the forward output shape for
   *   `dxShape`) or oneDNN failure.
   */
  conv2dBackwardData(
    dy: Float32Array, dyShape: IntTuple, w: Float32Array, wShape: IntTuple,
    dx: Float32Array, dxShape: IntTuple, strides: IntTuple, pads: IntTuple, dilations: IntTuple,
    depthwise?: boolean,
  ): void;

  /**
   * Gradient of {@link conv2d} with respect to its filter, tfjs kernel `Conv2DBackpropFilter`,
   * or with `depthwise` `DepthwiseConv2dNativeBackpropFilter`.
   * @param x Forward input, NHWC, `xShape` = `[N, H, W, C]`.
   * @param dy Output gradient, NHWC, `dyShape` = `[N, OH, OW, CO]`.
   * @param dw Filter gradient, HWIO, filled in place, `dwShape` = `[KH, KW, C, CO]`.
   * @param strides `[sh, sw]`; `pads` `[top, left, bottom, right]`; `dilations` `[dh, dw]`.
   * @throws Error on any invalid argument or oneDNN failure.
   */
  conv2dBackwardWeights(
    x: Float32Array, xShape: IntTuple, dy: Float32Array, dyShape: IntTuple,
    dw: Float32Array, dwShape: IntTuple, strides: IntTuple, pads: IntTuple, dilations: IntTuple,
    depthwise?: boolean,
  ): void;

  /**
   * Batched matrix product, tfjs kernel `BatchMatMul` (plus `_FusedMatMul` with bias and relu):
   * `out[i] = act(op(a[i % batchA]) · op(b[i % batchB]) + bias)`, row-major.
   * @param a `[batchA, m, k]`, or `[batchA, k, m]` when `transposeA`.
   * @param b `[batchB, k, n]`, or `[batchB, n, k]` when `transposeB`.
   * @param out `[max(batchA, batchB), m, n]`, filled in place.
   * @param batchA Positive; `batchA` and `batchB` are equal or one of them is 1 (broadcast).
   * @param bias `null`/`undefined`, or `n` values added to every row.
   * @param activation 0 (linear, default) or 1 (relu, applied after the bias).
   * @throws Error on any invalid argument or oneDNN failure.
   */
  matmul(
    a: Float32Array, b: Float32Array, out: Float32Array,
    batchA: number, batchB: number, m: number, n: number, k: number,
    transposeA: boolean, transposeB: boolean,
    bias?: Float32Array | null, activation?: NativeActivation,
  ): void;

  /**
   * Max pooling, tfjs kernel `MaxPool`: padding counts as -Infinity, NaN is never selected.
   * @param x NHWC `[N, H, W, C]`; `out` NHWC `[N, OH, OW, C]`, filled in place.
   * @param window `[kh, kw]`; `strides` `[sh, sw]`; `pads` `[top, left, bottom, right]`.
   * @throws Error on any invalid argument.
   */
  maxPool(
    x: Float32Array, xShape: IntTuple, out: Float32Array, outShape: IntTuple,
    window: IntTuple, strides: IntTuple, pads: IntTuple,
  ): void;

  /**
   * Gradient of {@link maxPool}, tfjs kernel `MaxPoolGrad`: each window's gradient goes to
   * its first maximum in row-major window order (ties: the earliest element); a window
   * whose values are all -Infinity or NaN passes no gradient. Overlapping windows add up.
   * @param dy `[N, OH, OW, C]`; `x` the forward input `[N, H, W, C]`; `dx` like `x`, filled in place.
   * @throws Error on any invalid argument.
   */
  maxPoolBackward(
    dy: Float32Array, dyShape: IntTuple, x: Float32Array, xShape: IntTuple, dx: Float32Array,
    window: IntTuple, strides: IntTuple, pads: IntTuple,
  ): void;

  /**
   * Average pooling, tfjs kernel `AvgPool`: each output is the mean of the window's valid
   * (non-padding) positions, as in Keras; a window entirely in padding gives NaN.
   * @param x NHWC `[N, H, W, C]`; `out` NHWC `[N, OH, OW, C]`, filled in place.
   * @throws Error on any invalid argument.
   */
  avgPool(
    x: Float32Array, xShape: IntTuple, out: Float32Array, outShape: IntTuple,
    window: IntTuple, strides: IntTuple, pads: IntTuple,
  ): void;

  /**
   * Gradient of {@link avgPool}, tfjs kernel `AvgPoolGrad`. Like tfjs (every backend), it
   * divides each window's gradient by the full window size `kh * kw` even where the forward
   * pass divided by fewer valid positions (padded borders with `'same'` padding), so at
   * those borders it is not the exact gradient. `divideByValidCount = true` divides by the
   * valid count instead: the exact gradient, what TensorFlow/Keras compute.
   * @param dy `[N, OH, OW, C]`; `dx` `[N, H, W, C]`, filled in place.
   * @param divideByValidCount Default false (tfjs's behaviour).
   * @throws Error on any invalid argument.
   */
  avgPoolBackward(
    dy: Float32Array, dyShape: IntTuple, dx: Float32Array, dxShape: IntTuple,
    window: IntTuple, strides: IntTuple, pads: IntTuple, divideByValidCount?: boolean,
  ): void;

  /**
   * tfjs's Add (0), Sub (1), Multiply (2), RealDiv (3) with `small` repeated along
   * `big`'s middle axis: `big` is [outer, middle, inner] and `small` [outer, inner]
   * (`inner` = `small.length` for a bias, 1 with `small.length` 1 for a scalar, the
   * channels for a per-sample value against [N, H, W, C]); operands swapped when `swapped`.
   * @throws Error on an unknown op or mismatched lengths.
   */
  binary(op: 0 | 1 | 2 | 3, big: Float32Array, small: Float32Array, out: Float32Array, swapped: boolean, inner: number): void;

  /**
   * tfjs's Relu (op 0), Step (op 1: `x > 0 ? 1 : alpha`), Sqrt (2) or Square (3); NaN passes through.
   * @throws Error on an unknown op or mismatched lengths.
   */
  unary(op: 0 | 1 | 2 | 3, x: Float32Array, out: Float32Array, alpha: number): void;

  /**
   * Sums over the middle axis of `x` seen as [outer, rows, cols] with `outer * cols =
   * out.length`: a bias gradient (outer 1), a global pooling (rows H x W), a total (out 1).
   * Float partial sums merged in double.
   * @throws Error when the lengths do not fit.
   */
  sumColumns(x: Float32Array, out: Float32Array, outer: number): void;

  /**
   * One RMSprop step over equal-length arrays, into the three outputs:
   * `ms' = rho ms + (1 - rho) g²`, `mom' = momentum mom + lr g / d` with
   * `d = sqrt(ms' + eps)` when `epsilonInside` (tfjs) else `sqrt(ms') + eps` (Keras),
   * `value' = value - mom'`. `hyper` is `[lr, rho, momentum, eps]`.
   * @throws Error on mismatched lengths, overlapping outputs or bad numbers.
   */
  rmsprop(
    value: Float32Array, ms: Float32Array, mom: Float32Array, g: Float32Array,
    valueOut: Float32Array, msOut: Float32Array, momOut: Float32Array,
    hyper: [number, number, number, number], epsilonInside: boolean,
  ): void;

  /**
   * Affine resampling of a batch of HWC images, the semantics of the TypeScript `warpAffine`
   * (its module comment): output `(x, y)` of image `i` reads source
   * `(m[6i]x + m[6i+1]y + m[6i+2], m[6i+3]x + m[6i+4]y + m[6i+5])`. `src` and `out` are each a
   * Uint8Array (bytes; an output is rounded and clamped) or a Float32Array. `order` 0 nearest,
   * 1 bilinear; `fillMode` 0 nearest, 1 constant, 2 reflect, 3 wrap (SciPy's), 4 TensorFlow's
   * wrap; every output value is multiplied by `scale`.
   * @throws Error on lengths that do not match the shapes, overlapping buffers or bad numbers.
   */
  warpAffine(
    src: Uint8Array | Uint8ClampedArray | Float32Array, srcShape: [number, number, number, number],
    out: Uint8Array | Float32Array, outSize: [number, number],
    matrices: Float64Array, order: 0 | 1, fillMode: 0 | 1 | 2 | 3 | 4, cval: number, scale: number,
  ): void;
}

/** Outcome of {@link loadNativeAddon}: the addon, or why it is not available (one line). */
export type NativeAddonLoad = { addon: NativeAddon } | { error: string };

/** Where the addon is looked for: `CONVLAB_NATIVE_PATH`, else `build/Release/convlab_native.node`. */
export function nativeAddonPath(): string {
  const override = process.env.CONVLAB_NATIVE_PATH;
  // Both src/ (ts-jest) and dist/ (compiled) sit one level below the package root.
  return override ? path.resolve(override) : path.join(__dirname, "..", "build", "Release", "convlab_native.node");
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find(Boolean) ?? text;
}

/**
 * The line scripts/build-native.js left in build/native-status.txt when it did not build
 * the addon (npm shows nothing of an install script that exits 0), if any.
 */
function buildStatus(addonFile: string): string | undefined {
  const statusFile = path.join(path.dirname(addonFile), "..", "native-status.txt");
  try {
    const line = firstLine(fs.readFileSync(statusFile, "utf8"));
    return /not built|skipped/.test(line) ? line : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads the native kernels, or says in one line why they are unavailable (not built and
 * why, a library such as libdnnl.so.2 missing at run time, a stale build). Never throws.
 *
 * Before loading, it sets `GOMP_SPINCOUNT=2000` unless the environment sets
 * `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY`: idle OpenMP threads then spin ~40 us (instead of
 * libgomp's ~5 ms) before sleeping. With the long default, any other busy thread on a
 * 2-core VM made kernels wait whole scheduler ticks (4-16 ms; a training step 45x slower
 * next to one CPU-bound process); `OMP_WAIT_POLICY=passive` avoids that too but costs ~10%
 * on an idle machine (bench/native_kernels.js). libgomp reads these once, at first load.
 *
 * @returns `{ addon }` on success, `{ error }` otherwise.
 *
 * @example
 * const native = loadNativeAddon();
 * if ("addon" in native) console.log(native.addon.info());
 * else console.log(native.error);  // training falls back to WebAssembly
 */
export function loadNativeAddon(): NativeAddonLoad {
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    const status = buildStatus(file);
    if (status !== undefined) return { error: status };
    if (process.env.CONVLAB_NATIVE_PATH) {
      return { error: `convlab engine: native kernels not found at CONVLAB_NATIVE_PATH=${file}.` };
    }
    return {
      error: `convlab engine: native kernels not built (${file} is missing). To build them: apt-get install g++ libdnnl-dev, then npm rebuild @convlab/engine.`,
    };
  }
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.GOMP_SPINCOUNT = "2000";
  }
  let addon: NativeAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(file) as NativeAddon;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: `convlab engine: native kernels failed to load (${firstLine(message)}).` };
  }
  let version: unknown;
  try {
    version = addon.info().apiVersion;
  } catch {
    version = undefined;
  }
  if (version !== NATIVE_API_VERSION) {
    return {
      error: `convlab engine: native kernels are stale (API version ${String(version)}, expected ${NATIVE_API_VERSION}). Run npm rebuild @convlab/engine.`,
    };
  }
  return { addon };
}
