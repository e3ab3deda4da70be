/**
 * Output sizes and padding amounts of convolution and pooling: the arithmetic
 * behind the course's padding and stride sections, with the Keras/TensorFlow
 * conventions, and the geometry the teaching ops share.
 *
 * With `n` the input size, `k` the kernel size, `s` the stride, `d` the
 * dilation and `k' = d·(k − 1) + 1` the effective kernel size:
 *
 * | padding | output size              | zeros added (before, after)                        |
 * |---------|--------------------------|----------------------------------------------------|
 * | valid   | `floor((n − k') / s) + 1` | `0, 0`                                             |
 * | same    | `ceil(n / s)`            | `total = max((out − 1)·s + k' − n, 0)`: `floor(total/2)`, the rest after |
 * | full    | `floor((n + k' − 2) / s) + 1` (`n + k − 1` when `s = d = 1`) | `k' − 1, k' − 1` |
 */
import { expectOneOf, fail, show } from "@convlab/engine";
import { checkOptions } from "./validate";

/** Padding of a convolution: Keras's `"valid"` and `"same"`, and the textbook's `"full"`. */
export type ConvPadding = "valid" | "same" | "full";

/** Padding of a pooling: Keras's two. */
export type PoolPadding = "valid" | "same";

/** A size per spatial dimension: one number for both, or `[rows, cols]`. */
export type SizePair = number | [number, number];

/** Options of {@link convOutputSize} and {@link convPadding}. */
export interface ConvOutputSizeArgs {
  /** `"valid"` (no zeros, Keras's default), `"same"` (output `ceil(n/s)`) or `"full"` (`k' − 1` zeros each side). Default `"valid"`. */
  padding?: ConvPadding;
  /** Step of the kernel, a positive integer or `[rows, cols]`. Default 1. */
  strides?: SizePair;
  /** Spacing between kernel taps (atrous convolution), a positive integer or `[rows, cols]`. Default 1. */
  dilation?: SizePair;
}

/** Options of {@link poolOutputSize}. */
export interface PoolOutputSizeArgs {
  /** `"valid"` (Keras's default) or `"same"`. */
  padding?: PoolPadding;
  /** Step of the window, a positive integer or `[rows, cols]`. Default: the pool size, as Keras. */
  strides?: SizePair;
}

const CONV_PADDINGS: readonly ConvPadding[] = ["valid", "same", "full"];
const POOL_PADDINGS: readonly PoolPadding[] = ["valid", "same"];

/**
 * The output length of a convolution along one dimension.
 *
 * Formulas (TensorFlow/Keras conventions), `k' = d·(k − 1) + 1`:
 * - `valid`: `floor((n − d·(k − 1) − 1) / s) + 1`, i.e. `floor((n − k') / s) + 1`;
 * - `same`: `ceil(n / s)` (independent of the kernel);
 * - `full`: `k' − 1` zeros on each side, so `floor((n + k' − 2) / s) + 1`; with `s = d = 1` it is `n + k − 1`.
 *
 * @param inputSize `n`, a positive integer, or `[rows, cols]` (then the result is a pair too).
 * @param kernelSize `k`, a positive integer or `[rows, cols]`.
 * @param args `padding` (default `"valid"`), `strides` (default 1), `dilation` (default 1).
 * @returns The output length, or `[rows, cols]` when `inputSize` is a pair.
 * @throws ConvlabError on a non-positive or non-integer size, stride or dilation, an unknown
 *   padding or option, or an effective kernel larger than the input with `"valid"` padding.
 *
 * ```ts
 * convOutputSize(28, 3);                         // 26: Conv2D(32, (3, 3)) on 28x28
 * convOutputSize(28, 3, { padding: "same" });    // 28
 * convOutputSize(7, 3, { strides: 2 });          // 3
 * convOutputSize([28, 28], 5, { padding: "full" }); // [32, 32]
 * ```
 *
 * Keras equivalent: `keras.src.ops.operation_utils.compute_conv_output_shape` (the shapes
 * `Conv2D` reports); `"full"` is not a Keras padding (the course names it; `keras.layers.ZeroPadding2D(k − 1)`
 * followed by a valid convolution gives it).
 */
export function convOutputSize(inputSize: number, kernelSize: number, args?: ConvOutputSizeArgs): number;
export function convOutputSize(inputSize: [number, number], kernelSize: SizePair, args?: ConvOutputSizeArgs): [number, number];
export function convOutputSize(inputSize: SizePair, kernelSize: SizePair, args?: ConvOutputSizeArgs): number | [number, number];
export function convOutputSize(inputSize: SizePair, kernelSize: SizePair, args: ConvOutputSizeArgs = {}): number | [number, number] {
  const unit = "convOutputSize";
  const geometry = convGeometry(unit, inputSize, kernelSize, args);
  return Array.isArray(inputSize) ? [geometry[0].out, geometry[1].out] : geometry[0].out;
}

/**
 * The zeros a convolution adds along one dimension, `[before, after]` (top/bottom or left/right).
 *
 * - `valid`: `[0, 0]`;
 * - `same`: `total = max((ceil(n/s) − 1)·s + k' − n, 0)`, `before = floor(total / 2)`,
 *   `after = total − before` (TensorFlow puts the odd zero after: bottom or right);
 * - `full`: `[k' − 1, k' − 1]`.
 *
 * @param inputSize `n`, a positive integer, or `[rows, cols]` (then `[[top, bottom], [left, right]]`).
 * @param kernelSize `k`, a positive integer or `[rows, cols]`.
 * @param args as {@link convOutputSize}.
 * @throws ConvlabError as {@link convOutputSize}.
 *
 * ```ts
 * convPadding(5, 3, { padding: "same" });              // [1, 1]
 * convPadding(6, 3, { padding: "same", strides: 2 });  // [0, 1]
 * ```
 *
 * Keras equivalent: none public (TensorFlow computes it inside `tf.nn.conv2d`).
 */
export function convPadding(inputSize: number, kernelSize: number, args?: ConvOutputSizeArgs): [number, number];
export function convPadding(inputSize: [number, number], kernelSize: SizePair, args?: ConvOutputSizeArgs): [[number, number], [number, number]];
export function convPadding(inputSize: SizePair, kernelSize: SizePair, args: ConvOutputSizeArgs = {}): [number, number] | [[number, number], [number, number]] {
  const geometry = convGeometry("convPadding", inputSize, kernelSize, args);
  const [rows, cols] = geometry.map((g): [number, number] => [g.before, g.after]);
  return Array.isArray(inputSize) ? [rows, cols] : rows;
}

/**
 * The output length of a pooling along one dimension: the convolution formulas with the
 * pool size as kernel and no dilation.
 *
 * - `valid`: `floor((n − p) / s) + 1`;
 * - `same`: `ceil(n / s)`.
 *
 * @param inputSize `n`, a positive integer, or `[rows, cols]` (then the result is a pair too).
 * @param poolSize `p`, a positive integer or `[rows, cols]`.
 * @param args `padding` (default `"valid"`), `strides` (default `poolSize`, as Keras).
 * @throws ConvlabError on a non-positive or non-integer size or stride, an unknown padding or
 *   option, or a pool larger than the input with `"valid"` padding.
 *
 * ```ts
 * poolOutputSize(26, 2);                                   // 13: MaxPooling2D((2, 2)) after the first Conv2D
 * poolOutputSize(5, 2, { padding: "same" });               // 3
 * poolOutputSize([13, 13], 3, { strides: 1 });             // [11, 11]
 * ```
 *
 * Keras equivalent: the output shape of `keras.layers.MaxPooling2D(pool_size, strides, padding)`.
 */
export function poolOutputSize(inputSize: number, poolSize: number, args?: PoolOutputSizeArgs): number;
export function poolOutputSize(inputSize: [number, number], poolSize: SizePair, args?: PoolOutputSizeArgs): [number, number];
export function poolOutputSize(inputSize: SizePair, poolSize: SizePair, args?: PoolOutputSizeArgs): number | [number, number];
export function poolOutputSize(inputSize: SizePair, poolSize: SizePair, args: PoolOutputSizeArgs = {}): number | [number, number] {
  const geometry = poolGeometry("poolOutputSize", inputSize, poolSize, args);
  return Array.isArray(inputSize) ? [geometry[0].out, geometry[1].out] : geometry[0].out;
}

/** The geometry of a sliding window along one dimension. @internal */
export interface AxisGeometry {
  /** Input length. */
  n: number;
  /** Kernel (or pool) length. */
  k: number;
  /** Stride. */
  s: number;
  /** Dilation. */
  d: number;
  /** Effective kernel length `d·(k − 1) + 1`. */
  kEff: number;
  /** Output length. */
  out: number;
  /** Zeros (or ignored cells) before the first input cell. */
  before: number;
  /** Zeros (or ignored cells) after the last input cell. */
  after: number;
}

/**
 * Validates sizes and options of a convolution and returns its geometry per dimension
 * `[rows, cols]`. Shared by the teaching ops so that they and {@link convOutputSize} agree.
 *
 * @throws ConvlabError as {@link convOutputSize}, naming `unit`.
 * @internal
 */
export function convGeometry(
  unit: string,
  inputSize: SizePair,
  kernelSize: SizePair,
  args: ConvOutputSizeArgs,
  names: { input?: string; kernel?: string; kernelShown?: unknown } = {},
): [AxisGeometry, AxisGeometry] {
  checkOptions(unit, args, ["padding", "strides", "dilation"]);
  const padding = expectOneOf(unit, "padding", args.padding ?? "valid", CONV_PADDINGS);
  const n = sizePair(unit, names.input ?? "inputSize", inputSize);
  const k = sizePair(unit, names.kernel ?? "kernelSize", kernelSize);
  const s = sizePair(unit, "strides", args.strides ?? 1);
  const d = sizePair(unit, "dilation", args.dilation ?? 1);
  const axes = [0, 1].map((i) => axisGeometry(n[i], k[i], s[i], d[i], padding)) as [AxisGeometry, AxisGeometry];
  checkFits(unit, padding, axes, names.kernel ?? "kernelSize", names.kernelShown ?? kernelSize, "kernel");
  return axes;
}

/**
 * Validates sizes and options of a pooling and returns its geometry per dimension
 * `[rows, cols]` (strides default to the pool size).
 *
 * @throws ConvlabError as {@link poolOutputSize}, naming `unit`.
 * @internal
 */
export function poolGeometry(unit: string, inputSize: SizePair, poolSize: SizePair, args: PoolOutputSizeArgs, names: { input?: string } = {}): [AxisGeometry, AxisGeometry] {
  checkOptions(unit, args, ["padding", "strides"]);
  const padding = expectOneOf(unit, "padding", args.padding ?? "valid", POOL_PADDINGS);
  const n = sizePair(unit, names.input ?? "inputSize", inputSize);
  const p = sizePair(unit, "poolSize", poolSize);
  const s = sizePair(unit, "strides", args.strides ?? p);
  const axes = [0, 1].map((i) => axisGeometry(n[i], p[i], s[i], 1, padding)) as [AxisGeometry, AxisGeometry];
  checkFits(unit, padding, axes, "poolSize", poolSize, "pool");
  return axes;
}

function axisGeometry(n: number, k: number, s: number, d: number, padding: ConvPadding): AxisGeometry {
  const kEff = d * (k - 1) + 1;
  if (padding === "valid") return { n, k, s, d, kEff, out: Math.floor((n - kEff) / s) + 1, before: 0, after: 0 };
  if (padding === "full") return { n, k, s, d, kEff, out: Math.floor((n + kEff - 2) / s) + 1, before: kEff - 1, after: kEff - 1 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + kEff - n, 0);
  const before = Math.floor(total / 2);
  return { n, k, s, d, kEff, out, before, after: total - before };
}

function checkFits(unit: string, padding: ConvPadding, axes: [AxisGeometry, AxisGeometry], what: string, value: unknown, noun: string): void {
  if (padding !== "valid" || axes.every((a) => a.kEff <= a.n)) return;
  const dilated = axes.some((a) => a.d > 1) ? ` (dilated: ${axes[0].kEff}x${axes[1].kEff})` : "";
  throw fail(
    `${unit}: invalid ${what}. Expected a ${noun} no larger than the input ${axes[0].n}x${axes[1].n} with padding "valid". ` +
      `Received: ${what}=${show(value)}${dilated}. Use padding "same" or a smaller ${noun}.`,
  );
}

/**
 * A positive integer or a `[rows, cols]` pair of them, as `[rows, cols]`.
 *
 * @throws ConvlabError `"<unit>: invalid <what>. Expected a positive integer or a [rows, cols] pair of positive integers. Received: <what>=…."`
 * @internal
 */
export function sizePair(unit: string, what: string, value: unknown): [number, number] {
  const ok = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;
  if (ok(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1])) return [value[0], value[1]];
  throw fail(`${unit}: invalid ${what}. Expected a positive integer or a [rows, cols] pair of positive integers. Received: ${what}=${show(value)}.`);
}
