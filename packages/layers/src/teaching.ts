/**
 * The teaching ops behind lessons 2–4: convolution and pooling written as plain loops over
 * typed arrays, so that a notebook can show the kernel sliding over the image step by step
 * (`trace: true`), and so that a reader can follow the code itself. They agree with
 * `tf.conv2d`, `tf.maxPool` and `tf.avgPool` (the tests check it); use those, or the Keras
 * layers, for real work.
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, fail, show } from "@convlab/engine";
import { AxisGeometry, ConvOutputSizeArgs, convGeometry, PoolPadding, poolGeometry, SizePair } from "./output_size";
import { checkOptions } from "./validate";

/** Numbers nested as rows: `number[]`, `number[][]`, `number[][][]`, … */
export type NestedNumbers = number[] | NestedNumbers[];

/** Flat values in row-major order with their shape, e.g. `{ data: Uint8Array, shape: [28, 28] }`. */
export interface ShapedValues {
  /** The values, row-major (last axis fastest, as tf.Tensor). */
  data: ArrayLike<number>;
  /** The shape; the product of its entries must equal `data.length`. */
  shape: number[];
}

/** What the teaching ops accept as an image or a kernel. */
export type TeachingInput = tf.Tensor | NestedNumbers | ShapedValues;

/** Options of {@link convolve}. */
export interface ConvolveArgs extends ConvOutputSizeArgs {
  /** Also return every step of the sliding kernel (default false). */
  trace?: boolean;
}

/** One output value of {@link convolve}: where the kernel stood and what it computed. */
export interface ConvolveStep {
  /** Output row. */
  row: number;
  /** Output column. */
  col: number;
  /** Filter (output channel), 0 when the kernel has no filter axis. */
  filter: number;
  /** Input row under the kernel's first row; negative when it covers padding. */
  top: number;
  /** Input column under the kernel's first column; negative when it covers padding. */
  left: number;
  /** The input values under the kernel, `[channel][kernelRow][kernelCol]`; padding reads as 0. */
  window: number[][][];
  /** `window` times the kernel, element by element, same layout. */
  products: number[][][];
  /** The sum of `products` per input channel (the course's "one kernel per colour channel"). */
  channelSums: number[];
  /** The output value: the sum of `channelSums`. */
  sum: number;
}

/** The result of `convolve(…, { trace: true })`. */
export interface ConvolveTrace {
  /** The same tensor `convolve` returns without `trace`. */
  output: tf.Tensor;
  /** One step per output value, in order of row, then column, then filter. */
  steps: ConvolveStep[];
  /** Zeros added `[[top, bottom], [left, right]]`. */
  padding: [[number, number], [number, number]];
}

/** How {@link pool} summarises a window. */
export type PoolMode = "max" | "average" | "min";

/** Options of {@link pool}. */
export interface PoolArgs {
  /** Window size, a positive integer or `[rows, cols]`. Default 2 (Keras's `(2, 2)`). */
  poolSize?: SizePair;
  /** Step of the window. Default: `poolSize` (as Keras). */
  strides?: SizePair;
  /** `"valid"` (default, as Keras) or `"same"`; with `"same"` the cells outside the input are ignored, not zeros. */
  padding?: PoolPadding;
  /** `"max"` (default), `"average"` or `"min"`. */
  mode?: PoolMode;
  /** Also return every step of the sliding window (default false). */
  trace?: boolean;
}

/** One output value of {@link pool}. */
export interface PoolStep {
  /** Output row. */
  row: number;
  /** Output column. */
  col: number;
  /** Channel. */
  channel: number;
  /** Input row under the window's first row; negative when it starts in the padding. */
  top: number;
  /** Input column under the window's first column. */
  left: number;
  /** The input values under the window, `[row][col]`; `null` where the window is outside the input. */
  window: (number | null)[][];
  /** The output value. */
  value: number;
  /** How many cells of the window are inside the input (the divisor of `"average"`). */
  count: number;
  /** `[row, col]` in `window` of the value kept by `"max"`/`"min"` (the first one on ties); `null` for `"average"`. */
  picked: [number, number] | null;
}

/** The result of `pool(…, { trace: true })`. */
export interface PoolTrace {
  /** The same tensor `pool` returns without `trace`. */
  output: tf.Tensor;
  /** One step per output value, in order of row, then column, then channel. */
  steps: PoolStep[];
  /** Cells ignored outside the input `[[top, bottom], [left, right]]`. */
  padding: [[number, number], [number, number]];
}

/**
 * A 2-D convolution (a cross-correlation, as Keras and TensorFlow compute it, no kernel
 * flip) of one image, written as plain loops: for each output position, multiply the
 * window under the kernel by the kernel and add everything up.
 *
 * `out[i, j, f] = Σ_a Σ_b Σ_c in[i·s − top + a·d, j·s − left + b·d, c] · kernel[a, b, c, f]`,
 * reading zeros outside the image. Sizes follow {@link convOutputSize}.
 *
 * Shapes:
 * - image `[H, W]` (one channel) or `[H, W, C]`;
 * - kernel `[kh, kw]` (one channel), `[kh, kw, C]` (one kernel per input channel, the
 *   per-channel results summed into one map, as the course's colour section explains) or
 *   `[kh, kw, C, F]` (F filters, Keras's `Conv2D` kernel layout);
 * - output `[H', W']` for a kernel without filter axis, `[H', W', F]` otherwise; float32.
 *
 * @param image a tf.Tensor, nested arrays, or `{ data, shape }` (e.g. a `Uint8Array` with its shape).
 * @param kernel the same forms.
 * @param args `padding` `"valid"` (default) | `"same"` | `"full"`; `strides` (default 1) and
 *   `dilation` (default 1), each a positive integer or `[rows, cols]`; `trace` (default false).
 * @returns the output tensor, or with `trace: true` `{ output, steps, padding }` where every
 *   step holds the window, the products and the sums of one output value.
 * @throws ConvlabError on an image or kernel of the wrong rank, a kernel whose channels differ
 *   from the image's, a kernel larger than the image with `"valid"` padding, a non-positive
 *   stride or dilation, an unknown padding or option.
 *
 * ```ts
 * const edge = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];
 * convolve(image, edge);                                  // Tensor [26, 26] for a 28x28 image
 * const { output, steps } = convolve([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, 1]], { trace: true });
 * steps[0];  // { row: 0, col: 0, window: [[[1, 2], [4, 5]]], products: [[[1, 0], [0, 5]]], sum: 6, … }
 * ```
 *
 * Keras equivalent: `keras.ops.conv(image[None], kernel, strides, padding)[0]` (or a
 * `Conv2D(use_bias=False)` with this kernel); `"full"` padding is not in Keras.
 */
export function convolve(image: TeachingInput, kernel: TeachingInput, args: ConvolveArgs & { trace: true }): ConvolveTrace;
export function convolve(image: TeachingInput, kernel: TeachingInput, args?: ConvolveArgs & { trace?: false }): tf.Tensor;
export function convolve(image: TeachingInput, kernel: TeachingInput, args?: ConvolveArgs): tf.Tensor | ConvolveTrace;
export function convolve(image: TeachingInput, kernel: TeachingInput, args: ConvolveArgs = {}): tf.Tensor | ConvolveTrace {
  const unit = "convolve";
  checkOptions(unit, args, ["padding", "strides", "dilation", "trace"]);
  const img = readValues(unit, "image", image);
  if (img.shape.length !== 2 && img.shape.length !== 3) {
    throw fail(`${unit}: invalid image. Expected one image of shape [height, width] or [height, width, channels]. Received: image.shape=${show(img.shape)}.${img.shape.length === 4 ? " Pass one image of the batch." : ""}`);
  }
  const ker = readValues(unit, "kernel", kernel);
  if (ker.shape.length < 2 || ker.shape.length > 4) {
    throw fail(`${unit}: invalid kernel. Expected a kernel of shape [kh, kw], [kh, kw, channels] or [kh, kw, channels, filters]. Received: kernel.shape=${show(ker.shape)}.`);
  }
  const [H, W] = img.shape;
  const C = img.shape[2] ?? 1;
  const [KH, KW] = ker.shape;
  const kernelChannels = ker.shape[2] ?? 1;
  const F = ker.shape[3] ?? 1;
  if (kernelChannels !== C) {
    throw fail(
      `${unit}: invalid kernel. Expected ${C} input channel${C === 1 ? "" : "s"} to match the image ${show(img.shape)}: ` +
        `a kernel of shape [kh, kw, ${C}] or [kh, kw, ${C}, filters]. Received: kernel.shape=${show(ker.shape)}.`,
    );
  }
  if (H === 0 || W === 0 || C === 0 || KH === 0 || KW === 0 || F === 0) {
    throw fail(`${unit}: invalid ${H === 0 || W === 0 || C === 0 ? "image" : "kernel"}. Expected no empty axis. Received: image.shape=${show(img.shape)}, kernel.shape=${show(ker.shape)}.`);
  }
  const { trace, ...geometryArgs } = args;
  const [rows, cols] = convGeometry(unit, [H, W], [KH, KW], geometryArgs, {
    input: "image.shape",
    kernel: "kernel.shape",
    kernelShown: ker.shape,
  });

  const out = new Float32Array(rows.out * cols.out * F);
  const steps: ConvolveStep[] = [];
  const x = img.values;
  const k = ker.values;
  for (let i = 0; i < rows.out; i++) {
    for (let j = 0; j < cols.out; j++) {
      // Where the kernel's first tap lands in the (unpadded) image.
      const top = i * rows.s - rows.before;
      const left = j * cols.s - cols.before;
      for (let f = 0; f < F; f++) {
        let sum = 0;
        const step = trace ? emptyConvStep(i, j, f, top, left, C, KH, KW) : undefined;
        for (let a = 0; a < KH; a++) {
          const y = top + a * rows.d;
          for (let b = 0; b < KW; b++) {
            const xCol = left + b * cols.d;
            const inside = y >= 0 && y < H && xCol >= 0 && xCol < W;
            for (let c = 0; c < C; c++) {
              const value = inside ? x[(y * W + xCol) * C + c] : 0; // zero padding
              const product = value * k[((a * KW + b) * C + c) * F + f];
              sum += product;
              if (step) {
                step.window[c][a][b] = value;
                step.products[c][a][b] = product;
                step.channelSums[c] += product;
              }
            }
          }
        }
        out[(i * cols.out + j) * F + f] = sum;
        if (step) {
          step.sum = sum;
          steps.push(step);
        }
      }
    }
  }
  const outShape = ker.shape.length === 4 ? [rows.out, cols.out, F] : [rows.out, cols.out];
  const output = tf.tensor(out, outShape, "float32");
  return trace ? { output, steps, padding: paddingOf(rows, cols) } : output;
}

/**
 * Pooling of one image or feature map, written as plain loops: for each output position,
 * the maximum, average or minimum of the window under it, channel by channel.
 *
 * With `"same"` padding the window may stick out of the input; those cells are ignored
 * (not read as zeros), so `"average"` divides by the count of cells inside the input,
 * as TensorFlow does. Sizes follow {@link poolOutputSize}.
 *
 * Shapes: input `[H, W]` or `[H, W, C]`; output `[H', W']` or `[H', W', C]`, float32.
 *
 * @param x a tf.Tensor, nested arrays, or `{ data, shape }`.
 * @param args `poolSize` (default 2), `strides` (default `poolSize`), `padding` `"valid"`
 *   (default) | `"same"`, `mode` `"max"` (default) | `"average"` | `"min"`, `trace` (default false).
 * @returns the output tensor, or with `trace: true` `{ output, steps, padding }`.
 * @throws ConvlabError on an input of the wrong rank, a pool larger than the input with
 *   `"valid"` padding, a non-positive pool size or stride, an unknown mode, padding or option.
 *
 * ```ts
 * pool([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 3, 2], [2, 6, 1, 1]]);   // [[4, 5], [6, 3]]
 * pool(featureMap, { mode: "average", poolSize: 3, strides: 1, padding: "same" });
 * const { steps } = pool(image, { trace: true });   // steps[0].window, steps[0].picked
 * ```
 *
 * Keras equivalent: `keras.layers.MaxPooling2D(pool_size, strides, padding)` and
 * `AveragePooling2D` on one image; `"min"` has no Keras layer (it is `-MaxPooling2D(-x)`).
 */
export function pool(x: TeachingInput, args: PoolArgs & { trace: true }): PoolTrace;
export function pool(x: TeachingInput, args?: PoolArgs & { trace?: false }): tf.Tensor;
export function pool(x: TeachingInput, args?: PoolArgs): tf.Tensor | PoolTrace;
export function pool(x: TeachingInput, args: PoolArgs = {}): tf.Tensor | PoolTrace {
  const unit = "pool";
  checkOptions(unit, args, ["poolSize", "strides", "padding", "mode", "trace"]);
  const mode = expectOneOf(unit, "mode", args.mode ?? "max", ["max", "average", "min"] as const);
  const input = readValues(unit, "x", x);
  if (input.shape.length !== 2 && input.shape.length !== 3) {
    throw fail(`${unit}: invalid x. Expected one image or feature map of shape [height, width] or [height, width, channels]. Received: x.shape=${show(input.shape)}.${input.shape.length === 4 ? " Pass one image of the batch." : ""}`);
  }
  const [H, W] = input.shape;
  const C = input.shape[2] ?? 1;
  if (H === 0 || W === 0 || C === 0) throw fail(`${unit}: invalid x. Expected no empty axis. Received: x.shape=${show(input.shape)}.`);
  const [rows, cols] = poolGeometry(unit, [H, W], args.poolSize ?? 2, { padding: args.padding, strides: args.strides }, { input: "x.shape" });

  const out = new Float32Array(rows.out * cols.out * C);
  const steps: PoolStep[] = [];
  const v = input.values;
  for (let i = 0; i < rows.out; i++) {
    for (let j = 0; j < cols.out; j++) {
      const top = i * rows.s - rows.before;
      const left = j * cols.s - cols.before;
      for (let c = 0; c < C; c++) {
        let best = mode === "max" ? -Infinity : Infinity;
        let sum = 0;
        let count = 0;
        let picked: [number, number] | null = null;
        const window: (number | null)[][] | undefined = args.trace ? [] : undefined;
        for (let a = 0; a < rows.k; a++) {
          const y = top + a;
          const windowRow: (number | null)[] = [];
          for (let b = 0; b < cols.k; b++) {
            const xCol = left + b;
            if (y < 0 || y >= H || xCol < 0 || xCol >= W) {
              windowRow.push(null); // outside the input: ignored, not a zero
              continue;
            }
            const value = v[(y * W + xCol) * C + c];
            windowRow.push(value);
            count++;
            sum += value;
            if ((mode === "max" && value > best) || (mode === "min" && value < best) || picked === null) {
              if (mode !== "average") best = value;
              picked = [a, b];
            }
          }
          window?.push(windowRow);
        }
        const value = mode === "average" ? sum / count : best;
        out[(i * cols.out + j) * C + c] = value;
        if (window) {
          steps.push({ row: i, col: j, channel: c, top, left, window, value, count, picked: mode === "average" ? null : picked });
        }
      }
    }
  }
  const output = tf.tensor(out, input.shape.length === 3 ? [rows.out, cols.out, C] : [rows.out, cols.out], "float32");
  return args.trace ? { output, steps, padding: paddingOf(rows, cols) } : output;
}

function emptyConvStep(row: number, col: number, filter: number, top: number, left: number, C: number, KH: number, KW: number): ConvolveStep {
  const grid = () => Array.from({ length: C }, () => Array.from({ length: KH }, () => new Array<number>(KW).fill(0)));
  return { row, col, filter, top, left, window: grid(), products: grid(), channelSums: new Array<number>(C).fill(0), sum: 0 };
}

function paddingOf(rows: AxisGeometry, cols: AxisGeometry): [[number, number], [number, number]] {
  return [
    [rows.before, rows.after],
    [cols.before, cols.after],
  ];
}

/** Values (float64, row-major) and shape of any {@link TeachingInput}. */
function readValues(unit: string, what: string, value: unknown): { values: Float64Array; shape: number[] } {
  const expected = `Expected a tf.Tensor, nested arrays of numbers or { data, shape }`;
  if (isTensor(value)) {
    if (value.isDisposed) throw fail(`${unit}: invalid ${what}. Expected a live tensor. Received: ${what}=${show(value)} (disposed).`);
    if (value.dtype === "string" || value.dtype === "complex64") throw fail(`${unit}: invalid ${what}. Expected a numeric tensor. Received: ${what}=${show(value)}.`);
    return { values: Float64Array.from(value.dataSync() as ArrayLike<number>), shape: value.shape.slice() };
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
    const values = new Float64Array(shape.reduce((p, n) => p * n, 1));
    let offset = 0;
    const walk = (node: unknown, depth: number): void => {
      if (depth === shape.length) {
        if (typeof node !== "number") throw fail(`${unit}: invalid ${what}. ${expected} (rectangular, numbers only). Received: an entry ${show(node)} at depth ${depth}.`);
        values[offset++] = node;
        return;
      }
      if (!Array.isArray(node) || node.length !== shape[depth]) {
        throw fail(`${unit}: invalid ${what}. ${expected}, rectangular (every row of length ${shape[depth]} at depth ${depth}). Received: a row ${show(node)}.`);
      }
      for (const child of node) walk(child, depth + 1);
    };
    walk(value, 0);
    return { values, shape };
  }
  if (value !== null && typeof value === "object" && "data" in value && "shape" in value) {
    const { data, shape } = value as ShapedValues;
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
      throw fail(`${unit}: invalid ${what}.shape. Expected an array of non-negative integers. Received: ${what}.shape=${show(shape)}.`);
    }
    const size = shape.reduce((p, n) => p * n, 1);
    if (data == null || typeof data.length !== "number" || data.length !== size) {
      throw fail(`${unit}: invalid ${what}.data. Expected ${size} values for shape ${show(shape)}. Received: ${what}.data=${show(data)}.`);
    }
    return { values: Float64Array.from(data), shape: shape.slice() };
  }
  throw fail(`${unit}: invalid ${what}. ${expected}. Received: ${what}=${show(value)}.`);
}

function isTensor(value: unknown): value is tf.Tensor {
  const t = value as tf.Tensor | null;
  return t !== null && typeof t === "object" && Array.isArray(t.shape) && typeof t.dtype === "string" && typeof t.dataSync === "function";
}
