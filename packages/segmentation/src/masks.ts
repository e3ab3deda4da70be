/**
 * Segmentation masks: one class id per pixel (0 = background), `[N, H, W]` or `[N, H, W, 1]`.
 * Their one-hot form for losses that want it, the class ids a model predicts (the argmax of its
 * softmax), and the validator the other units of the package call at their entry.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";

/** Values with a shape, C order: what the datasets hand out (a `Uint8Tensor` has `.data` and `.shape`). */
export interface MaskArray {
  /** The values, C order (row-major). */
  readonly data: ArrayLike<number>;
  /** The dimensions, outermost first; their product is `data.length`. */
  readonly shape: readonly number[];
}

/** A mask, a batch of images or of scores: a `tf.Tensor` or a {@link MaskArray} (such as a datasets `Uint8Tensor`). */
export type MaskLike = tf.Tensor | MaskArray;

/** Options of {@link checkMasks}. */
export interface CheckMasksArgs {
  /** The images the masks belong to, `[N, H, W, C]`: when given, the masks must have their N, H and W. */
  images?: MaskLike;
  /** Class ids `[N, H, W]` or `[N, H, W, 1]`. */
  masks: MaskLike;
  /** The number of classes, an integer >= 1: ids are in [0, numClasses). */
  numClasses: number;
  /** An id allowed besides [0, numClasses), for pixels without a class (often 255 or -1). */
  ignoreClass?: number;
}

/** What {@link checkMasks} found: the number of masks and their size. */
export interface MaskGeometry {
  /** N, the number of masks. */
  count: number;
  /** H, in pixels. */
  height: number;
  /** W, in pixels. */
  width: number;
}

/** Options of {@link oneHotMask}. */
export interface OneHotMaskArgs {
  /** Pixels with this id get an all-zero row (no class), which the losses of this package skip. Default: none. */
  ignoreClass?: number;
}

/**
 * Checks masks (and the images they belong to) at the entry of a function, in one line that names
 * the value and its position: masks `[N, H, W]` or `[N, H, W, 1]` of integer ids in
 * [0, numClasses) (or `ignoreClass`); images, when given, `[N, H, W, C]` with the masks' N, H, W.
 *
 * Reads every id once (`dataSync` for a tensor); disposes nothing.
 *
 * @param unit The calling unit, first word of the message ("maskBatches").
 * @returns The masks' count, height and width.
 * @throws ConvlabError for a value that is not a tensor or `{ data, shape }`, a shape of another
 *   rank, `data` whose length is not the shape's product, a non-numeric dtype, masks that are not
 *   one per image or not of the images' size, an id that is not an integer in range, bad options:
 *   `maskBatches: invalid masks. Expected class ids in [0, 3) (or 255 to ignore). Received: 7 at masks[2][10][31].`
 * @example
 * ```ts
 * const { count, height, width } = checkMasks("maskBatches", { images: x, masks: y, numClasses: 3, ignoreClass: 255 });
 * ```
 * Keras counterpart: none (Keras finds a bad id only when the loss reads it, or not at all).
 */
export function checkMasks(unit: string, args: CheckMasksArgs): MaskGeometry {
  const opts = expectOptions(unit, args, ["images", "masks", "numClasses", "ignoreClass"], "{ masks, numClasses: 3 }");
  const numClasses = expectNumber(unit, "numClasses", opts.numClasses, { min: 1, integer: true });
  const ignoreClass = readIgnoreClass(unit, opts.ignoreClass);
  const masks = readShaped(unit, "masks", opts.masks);
  const shape = masks.shape;
  if (!(shape.length === 3 || (shape.length === 4 && shape[3] === 1))) {
    throw fail(`${unit}: invalid masks. Expected masks of shape [N, H, W] or [N, H, W, 1]. Received: masks of shape ${shapeText(shape)}.`);
  }
  if (opts.images !== undefined) {
    const images = readShaped(unit, "images", opts.images);
    const s = images.shape;
    if (s.length !== 4) throw fail(`${unit}: invalid images. Expected images of shape [N, H, W, C]. Received: images of shape ${shapeText(s)}.`);
    if (shape[0] !== s[0]) throw fail(`${unit}: invalid masks. Expected one mask per image (${s[0]}). Received: masks of shape ${shapeText(shape)}.`);
    if (shape[1] !== s[1] || shape[2] !== s[2]) {
      throw fail(`${unit}: invalid masks. Expected masks of the images' size ${s[1]}x${s[2]}. Received: masks of shape ${shapeText(shape)}.`);
    }
  }
  checkIds(unit, "masks", masks.values(), shape, numClasses, ignoreClass);
  return { count: shape[0], height: shape[1], width: shape[2] };
}

/**
 * One-hot masks: class ids `[N, H, W]` or `[N, H, W, 1]` → float32 `[N, H, W, numClasses]`, 1 at
 * each pixel's class and 0 elsewhere (any shape `s` → `[...s, numClasses]`, a trailing 1 dropped
 * first, as Keras does).
 *
 * @param mask Integer class ids (a tensor of any numeric dtype, or `{ data, shape }` such as a `Uint8Tensor`).
 * @param numClasses The number of classes C, an integer >= 1.
 * @param args `ignoreClass` (none): pixels with this id get an all-zero row, which the losses of
 *   this package skip when given the same `ignoreClass`.
 * @returns A new float32 tensor (the caller disposes it); `mask` is not disposed.
 * @throws ConvlabError naming the value and position of an id that is not an integer in
 *   [0, numClasses) (nor ignoreClass), or for a bad numClasses or option.
 * @example
 * ```ts
 * const yOneHot = oneHotMask(masks, 3);             // [N, 128, 128] → [N, 128, 128, 3]
 * oneHotMask(tf.tensor([[[0, 2]]]), 3).arraySync();  // [[[[1, 0, 0], [0, 0, 1]]]]
 * ```
 * Keras counterpart: `keras.utils.to_categorical(mask, num_classes=3)` (which wraps -1 to the
 * last class and fails on 255; here those are errors, or zero rows for `ignoreClass`).
 */
export function oneHotMask(mask: MaskLike, numClasses: number, args?: OneHotMaskArgs): tf.Tensor {
  const unit = "oneHotMask";
  const opts = expectOptions(unit, args, ["ignoreClass"], "{ ignoreClass: 255 }");
  const classes = expectNumber(unit, "numClasses", numClasses, { min: 1, integer: true });
  const ignoreClass = readIgnoreClass(unit, opts.ignoreClass);
  const read = readShaped(unit, "mask", mask);
  const values = read.values();
  checkIds(unit, "mask", values, read.shape, classes, ignoreClass);
  const shape = read.shape.length > 1 && read.shape[read.shape.length - 1] === 1 ? read.shape.slice(0, -1) : read.shape;
  const out = new Float32Array(values.length * classes);
  for (let i = 0; i < values.length; i++) if (values[i] !== ignoreClass) out[i * classes + values[i]] = 1;
  return tf.tensor(out, [...shape, classes], "float32");
}

/**
 * The class of every pixel from a model's scores: the argmax over the last axis,
 * `[N, H, W, C]` → int32 `[N, H, W]` (`[H, W, C]` → `[H, W]`). Ties go to the lower id, as NumPy.
 *
 * @param probs Softmax probabilities or logits (the argmax is the same), a tensor or `{ data, shape }`.
 * @returns A new int32 tensor (the caller disposes it); `probs` is not disposed.
 * @throws ConvlabError for a shape other than `[N, H, W, C]` / `[H, W, C]`, or a non-numeric tensor.
 * @example
 * ```ts
 * const predicted = tf.tidy(() => maskFromProbabilities(model.predict(x) as tf.Tensor));   // [N, 128, 128]
 * ```
 * Keras counterpart: `np.argmax(model.predict(x), axis=-1)`.
 */
export function maskFromProbabilities(probs: MaskLike): tf.Tensor {
  const unit = "maskFromProbabilities";
  const read = readShaped(unit, "probs", probs);
  const shape = read.shape;
  if (shape.length !== 3 && shape.length !== 4) {
    throw fail(`${unit}: invalid probs. Expected scores of shape [N, H, W, C] or [H, W, C]. Received: probs of shape ${shapeText(shape)}.`);
  }
  if (shape[shape.length - 1] < 1) throw fail(`${unit}: invalid probs. Expected at least one class on the last axis. Received: probs of shape ${shapeText(shape)}.`);
  if (probs instanceof tf.Tensor) return tf.argMax(probs, -1);
  return tf.tidy(() => tf.argMax(tf.tensor(read.values(), [...shape], "float32"), -1));
}

// ---------------------------------------------------------------- shared with losses and metrics

/** A checked tensor or `{ data, shape }`: its shape now, its values when asked (one `dataSync`). @internal */
export interface Shaped {
  shape: readonly number[];
  values(): ArrayLike<number>;
}

/**
 * Checks that `value` is a numeric tensor or `{ data, shape }` with consistent length. The values
 * are read only when asked, so that shape errors come first and cost nothing. @internal
 */
export function readShaped(unit: string, what: string, value: unknown): Shaped {
  if (value instanceof tf.Tensor) {
    if (value.dtype === "string" || value.dtype === "complex64") {
      throw fail(`${unit}: invalid ${what}. Expected numeric values. Received: ${what}=${show(value)}.`);
    }
    return { shape: value.shape, values: () => value.dataSync() as ArrayLike<number> };
  }
  if (value !== null && typeof value === "object" && "data" in value && "shape" in value) {
    const { data, shape } = value as MaskArray;
    const arrayLike = Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView));
    if (!arrayLike || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw fail(`${unit}: invalid ${what}. Expected { data: typed array or number[], shape: number[] }. Received: ${what} with shape=${show(shape)}.`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw fail(`${unit}: invalid ${what}. Expected ${size} values for shape ${shapeText(shape)}. Received: data of length ${data.length}.`);
    }
    return { shape, values: () => data };
  }
  throw fail(`${unit}: invalid ${what}. Expected a tf.Tensor or { data, shape }. Received: ${what}=${show(value)}.`);
}

/** `ignoreClass`: undefined, or an integer (any, 255 and -1 are common). @internal */
export function readIgnoreClass(unit: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  return expectNumber(unit, "ignoreClass", value, { integer: true });
}

/** `[10,32,32]`, as messages print shapes (and `show` prints tensors). @internal */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** `masks[2][10][31]`: the position of flat index `i` in `shape`. @internal */
export function position(what: string, shape: readonly number[], i: number): string {
  const index: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return `${what}${index.map((k) => `[${k}]`).join("")}`;
}

/** What messages say of the allowed ids: `class ids in [0, 3) (or 255 to ignore)`. @internal */
export function idsText(numClasses: number, ignoreClass: number | undefined): string {
  return `class ids in [0, ${numClasses})${ignoreClass === undefined ? "" : ` (or ${ignoreClass} to ignore)`}`;
}

/** Throws for the first id that is not an integer in [0, numClasses) nor `ignoreClass`. @internal */
export function checkIds(unit: string, what: string, values: ArrayLike<number>, shape: readonly number[], numClasses: number, ignoreClass: number | undefined): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isInteger(v) && v >= 0 && v < numClasses) continue;
    if (v === ignoreClass) continue;
    throw fail(`${unit}: invalid ${what}. Expected ${idsText(numClasses, ignoreClass)}. Received: ${show(v)} at ${position(what, shape, i)}.`);
  }
}
