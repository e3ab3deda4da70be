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
 *
 * A transposed convolution (`Conv2DTranspose`) runs the other way: {@link convTransposeOutputSize}
 * gives the size it outputs, one of the sizes a convolution with the same kernel, stride and
 * padding maps back to `n`.
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

/** Options of {@link convTransposeOutputSize}: `Conv2DTranspose`'s geometry arguments. */
export interface ConvTransposeOutputSizeArgs {
  /** `"valid"` (Keras's default) or `"same"`. */
  padding?: PoolPadding;
  /** Step of the kernel over the output, a positive integer or `[rows, cols]`. Default 1. */
  strides?: SizePair;
  /**
   * Keras's `output_padding`: extra rows (columns) on the bottom (right) of the output, to pick
   * one of the `s` output sizes that a stride-`s` convolution maps back to `n`; an integer in
   * `[0, s − 1]` or `[rows, cols]`. Default none (Keras's `None`: the size of the formulas below).
   */
  outputPadding?: SizePair;
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
 * The output length of a transposed convolution (`Conv2DTranspose`) along one dimension:
 * Keras's `deconv_output_length` (no dilation: tfjs's `Conv2DTranspose` has none).
 *
 * Without `outputPadding` (Keras's default):
 * - `valid`: `n·s + max(k − s, 0)`, i.e. `(n − 1)·s + k` when `k ≥ s` (every input cell spreads
 *   a `k`-wide copy of the kernel, `s` apart), and `n·s` when `k < s`;
 * - `same`: `n·s` (independent of the kernel).
 *
 * With `outputPadding = p` (`0 ≤ p < s`): `(n − 1)·s + k + p` (`valid`) and
 * `(n − 1)·s + (k mod 2) + p` (`same`, Keras's `k − 2·floor(k/2)`).
 *
 * Either way the result `m` is a size that a convolution with the same kernel, stride and padding
 * maps back to `n` (`convOutputSize(m, k, { padding, strides }) === n`): a transposed convolution
 * undoes the shape change of its convolution. Several `m` do (`s` of them), which is why Keras
 * has `output_padding` to choose.
 *
 * @param inputSize `n`, a positive integer, or `[rows, cols]` (then the result is a pair too).
 * @param kernelSize `k`, a positive integer or `[rows, cols]`.
 * @param args `padding` (default `"valid"`), `strides` (default 1), `outputPadding` (default none).
 * @returns The output length, or `[rows, cols]` when `inputSize` is a pair.
 * @throws ConvlabError on a non-positive or non-integer size or stride, an unknown padding or
 *   option, an `outputPadding` outside `[0, s − 1]`, or `padding: "same"` with an even kernel and
 *   `outputPadding` 0 (Keras's formula then gives `(n − 1)·s`, which a "same" convolution maps
 *   to `n − 1`: TensorFlow rejects that layer when it runs).
 *
 * ```ts
 * convTransposeOutputSize(7, 3, { strides: 2 });                     // 15: (7 − 1)·2 + 3
 * convTransposeOutputSize(7, 2, { strides: 2 });                     // 14: U-Net's up-convolution
 * convTransposeOutputSize(16, 4, { strides: 2, padding: "same" });   // 32: FCN's ×2 upsampling
 * convTransposeOutputSize(7, 3, { strides: 2, padding: "same", outputPadding: 0 }); // 13
 * convTransposeOutputSize([4, 6], 16, { strides: 8, padding: "same" }); // [32, 48]
 * ```
 *
 * Keras equivalent: the shape `keras.layers.Conv2DTranspose(filters, kernel_size, strides,
 * padding, output_padding)` reports (`keras.src.utils.conv_utils.deconv_output_length`).
 */
export function convTransposeOutputSize(inputSize: number, kernelSize: number, args?: ConvTransposeOutputSizeArgs): number;
export function convTransposeOutputSize(inputSize: [number, number], kernelSize: SizePair, args?: ConvTransposeOutputSizeArgs): [number, number];
export function convTransposeOutputSize(inputSize: SizePair, kernelSize: SizePair, args?: ConvTransposeOutputSizeArgs): number | [number, number];
export function convTransposeOutputSize(inputSize: SizePair, kernelSize: SizePair, args: ConvTransposeOutputSizeArgs = {}): number | [number, number] {
  const unit = "convTransposeOutputSize";
  checkOptions(unit, args, ["padding", "strides", "outputPadding"]);
  const padding = expectOneOf(unit, "padding", args.padding ?? "valid", POOL_PADDINGS);
  const n = sizePair(unit, "inputSize", inputSize);
  const k = sizePair(unit, "kernelSize", kernelSize);
  const s = sizePair(unit, "strides", args.strides ?? 1);
  const p = args.outputPadding === undefined ? undefined : outputPaddingPair(unit, args.outputPadding, s, args.strides ?? 1);
  const out = [0, 1].map((i) => {
    if (p === undefined) return padding === "valid" ? n[i] * s[i] + Math.max(k[i] - s[i], 0) : n[i] * s[i];
    return (n[i] - 1) * s[i] + (padding === "valid" ? k[i] : k[i] % 2) + p[i];
  }) as [number, number];
  if (padding === "same" && p !== undefined && [0, 1].some((i) => k[i] % 2 === 0 && p[i] === 0)) {
    throw fail(
      `${unit}: invalid outputPadding. Expected an outputPadding of at least 1 with padding "same" and an even kernel ` +
        `(Keras's (n − 1)·s + outputPadding would give a size that a "same" convolution maps back to n − 1). ` +
        `Received: outputPadding=${show(args.outputPadding)}, kernelSize=${show(kernelSize)}. Leave outputPadding out for n·s.`,
    );
  }
  return Array.isArray(inputSize) ? out : out[0];
}

/** `outputPadding` as `[rows, cols]`, each in `[0, s − 1]` (Keras: "Strides must be greater than output padding"). */
function outputPaddingPair(unit: string, value: unknown, s: [number, number], stridesShown: unknown): [number, number] {
  const ok = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
  const pair: [unknown, unknown] | undefined = ok(value) ? [value, value] : Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1]) ? [value[0], value[1]] : undefined;
  if (pair === undefined || (pair[0] as number) >= s[0] || (pair[1] as number) >= s[1]) {
    throw fail(
      `${unit}: invalid outputPadding. Expected an integer in [0, strides − 1] or a [rows, cols] pair of them, smaller than the strides. ` +
        `Received: outputPadding=${show(value)} with strides=${show(stridesShown)}.`,
    );
  }
  return pair as [number, number];
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
