/**
 * The input-size rule of the segmentation networks: an encoder that halves the image `d` times
 * and a decoder that doubles it back `d` times give an output of the input's size only when the
 * height and width are multiples of the output stride `2^d` (32 for FCN-8s, 16 for a depth-4
 * U-Net). {@link fcn8s} and {@link unet} record their stride at build time, so a prediction
 * function can check images against the model it is given.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";

/** The output stride of each model built by fcn8s/unet. */
const strides = new WeakMap<tf.LayersModel, number>();

/**
 * Records the output stride of a model built here (called by the builders).
 * @internal
 */
export function recordOutputStride(model: tf.LayersModel, stride: number): void {
  strides.set(model, stride);
}

/**
 * The output stride of a model built by {@link fcn8s} or {@link unet}: the number its input
 * height and width must be multiples of (`2^depth` for a U-Net, 32 for FCN-8s), or `undefined`
 * for any other model (including one loaded from disk: the stride is recorded at build time).
 *
 * ```ts
 * const model = unet({ inputShape: [null, null, 3], numClasses: 4 });
 * outputStride(model);  // 16
 * ```
 *
 * Keras equivalent: none (Keras models keep no such record; the U-Net and FCN guides state the
 * rule in prose).
 */
export function outputStride(model: tf.LayersModel): number | undefined {
  return strides.get(model);
}

/**
 * Checks a `[height, width]` against an output stride: each must be `null` (any size, checked
 * later on the images) or a positive multiple of `stride`.
 *
 * @param unit The unit named first in the error (`"unet"`, `"predictMask"`).
 * @param size `[height, width]`, numbers or `null`.
 * @param stride The output stride, a positive integer (see {@link outputStride}).
 * @param received What the error quotes as received: default `{ name: "inputShape", value: size }`;
 *   e.g. `{ name: "inputShape", value: [100, 100, 3] }` or `{ name: "images", value: x }` (a tensor
 *   prints as `Tensor<float32>[1,100,100,3]`).
 * @throws ConvlabError `"unet: invalid inputShape. Expected height and width divisible by 16
 *   (…, 80, 96, 112, …). Received: inputShape=[100,100,3]."`, listing multiples of the stride around
 *   the first size that fails.
 *
 * ```ts
 * checkInputSize("fcn8s", [128, 96], 32);  // passes
 * checkInputSize("fcn8s", [100, 100], 32, { name: "inputShape", value: [100, 100, 3] }); // throws
 * ```
 */
export function checkInputSize(unit: string, size: readonly [number | null, number | null], stride: number, received: { name: string; value: unknown } = { name: "inputShape", value: size }): void {
  if (!Number.isInteger(stride) || stride < 1) {
    throw fail(`checkInputSize: invalid stride. Expected a positive integer. Received: stride=${show(stride)}.`);
  }
  if (!Array.isArray(size) || size.length !== 2) {
    throw fail(`${unit}: invalid ${received.name}. Expected a [height, width] (each null or a multiple of ${stride}). Received: ${received.name}=${show(received.value)}.`);
  }
  const bad = size.find((v) => v !== null && !(typeof v === "number" && Number.isInteger(v) && v > 0 && v % stride === 0));
  if (bad === undefined) return;
  throw fail(`${unit}: invalid ${received.name}. Expected height and width divisible by ${stride} (${nearbyMultiples(bad, stride)}). Received: ${received.name}=${show(received.value)}.`);
}

/** The multiples of `stride` around `value`: "…, 64, 96, 128, …" for 100 and 32; "32, 64, 96, …" below 32. */
function nearbyMultiples(value: unknown, stride: number): string {
  const v = typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
  const below = Math.floor(v / stride) * stride;
  const first = Math.max(stride, below - stride);
  return `${first > stride ? "…, " : ""}${[first, first + stride, first + 2 * stride].join(", ")}, …`;
}

/**
 * Checks a builder's `inputShape`: `[height, width, channels]`, height and width `null` or
 * positive multiples of `stride`, channels a positive integer. Returns it typed.
 * @internal
 */
export function expectInputShape(unit: string, value: unknown, stride: number): [number | null, number | null, number] {
  const dim = (v: unknown) => v === null || (typeof v === "number" && Number.isInteger(v) && v > 0);
  if (!Array.isArray(value) || value.length !== 3 || !dim(value[0]) || !dim(value[1]) || !(typeof value[2] === "number" && Number.isInteger(value[2]) && value[2] > 0)) {
    throw fail(
      `${unit}: invalid inputShape. Expected [height, width, channels]: height and width null (any size) or multiples of ${stride}, channels a positive integer, e.g. [null, null, 3] or [${2 * stride}, ${2 * stride}, 3]. Received: inputShape=${show(value)}.`,
    );
  }
  checkInputSize(unit, [value[0], value[1]], stride, { name: "inputShape", value });
  return value as [number | null, number | null, number];
}
