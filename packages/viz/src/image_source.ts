/**
 * Reading images: tensors and plain `{data, shape}` arrays (the datasets
 * package's `Uint8Tensor`) to row-major values plus their height, width and
 * channels. Only reads data; creates no tensor that outlives a call.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";

/** The typed arrays an {@link ImageArray} may hold. */
export type PixelArray = Uint8Array | Uint8ClampedArray | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/**
 * An image (or a batch) as a plain array, row-major, channels last, like
 * `Uint8Tensor` of @convlab/datasets: `{ data: Uint8Array(28*28), shape: [28, 28] }`.
 * Float arrays default to the value range 0..1, integer arrays to 0..255.
 */
export interface ImageArray {
  data: PixelArray;
  shape: readonly number[];
}

/** A tensor or a plain array image. */
export type ImageLike = tf.Tensor | ImageArray;

/** One image's values, read out. @internal */
export interface Pixels {
  /** Values, row-major [H, W, C], starting at `offset`. */
  data: ArrayLike<number>;
  offset: number;
  height: number;
  width: number;
  channels: number;
  /** Float data: default range 0..1; otherwise 0..255 (bool: 0..1). */
  defaultRange: [number, number];
  /** How messages name the source, e.g. `Tensor<float32>[28,28,1]`. */
  label: string;
}

const SHAPES = "[H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4";

/** True for a tf.Tensor or an `{data: TypedArray, shape: number[]}` object. */
export function isImageLike(value: unknown): value is ImageLike {
  if (value instanceof tf.Tensor) return true;
  const v = value as ImageArray | null;
  return v !== null && typeof v === "object" && ArrayBuffer.isView(v.data) && !(v.data instanceof DataView) && Array.isArray(v.shape);
}

/** How an image-like value is printed in messages: `Tensor<float32>[2,2]` or `{data: Uint8Array(784), shape: [28,28]}`. */
export function label(value: unknown): string {
  if (value instanceof tf.Tensor) return show(value);
  if (isImageLike(value)) return `{data: ${show(value.data)}, shape: [${value.shape.join(",")}]}`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  return show(value);
}

function defaultRangeOf(value: ImageLike): [number, number] {
  if (value instanceof tf.Tensor) return value.dtype === "float32" ? [0, 1] : value.dtype === "bool" ? [0, 1] : [0, 255];
  const name = Object.prototype.toString.call(value.data);
  return name === "[object Float32Array]" || name === "[object Float64Array]" ? [0, 1] : [0, 255];
}

function checkArrayShape(unit: string, what: string, value: ImageLike): void {
  if (value instanceof tf.Tensor) return;
  const { shape, data } = value;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw fail(`${unit}: invalid ${what}. Expected a shape of non-negative integers. Received: ${what}=${label(value)}.`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw fail(`${unit}: invalid ${what}. Expected data of ${size} values for shape [${shape.join(",")}]. Received: data=${show(data)}.`);
  }
}

function readAll(value: ImageLike): ArrayLike<number> {
  // dataSync outside any tidy: tidy would walk the returned typed array element by element
  return value instanceof tf.Tensor ? (value.dataSync() as ArrayLike<number>) : (value.data as ArrayLike<number>);
}

/**
 * One image of shape [H,W], [H,W,C] or [1,H,W,C] (C = 1, 3, 4).
 * @throws ConvlabError for other shapes, a batch of more than one, or an empty image.
 */
export function readImage(unit: string, what: string, value: unknown): Pixels {
  if (!isImageLike(value)) {
    throw fail(`${unit}: invalid ${what}. Expected a tf.Tensor or a {data, shape} array of shape ${SHAPES}. Received: ${what}=${label(value)}.`);
  }
  checkArrayShape(unit, what, value);
  const shape = [...value.shape];
  if (shape.length === 4 && shape[0] > 1) {
    throw fail(`${unit}: invalid ${what}. Expected one image of shape ${SHAPES}; for a batch use imageGrid. Received: ${what}=${label(value)}.`);
  }
  const hwc = shape.length === 2 ? [shape[0], shape[1], 1] : shape.length === 3 ? shape : shape.length === 4 && shape[0] === 1 ? shape.slice(1) : undefined;
  if (!hwc || ![1, 3, 4].includes(hwc[2])) {
    throw fail(`${unit}: invalid ${what}. Expected a tensor of shape ${SHAPES}. Received: ${what}=${label(value)}.`);
  }
  if (hwc[0] === 0 || hwc[1] === 0) {
    throw fail(`${unit}: invalid ${what}. Expected an image at least 1x1. Received: ${what}=${label(value)}.`);
  }
  return { data: readAll(value), offset: 0, height: hwc[0], width: hwc[1], channels: hwc[2], defaultRange: defaultRangeOf(value), label: label(value) };
}

/** Which images of a batch to read. */
export interface Selection {
  /** The first `count` images. */
  count?: number;
  /** These images, in this order. */
  indices?: readonly number[];
}

/**
 * The images of a batch: a tensor/array [N,H,W] (grey) or [N,H,W,C], one
 * image [H,W], or an array of single images. `maxImages` bounds how many are
 * read, after the selection.
 */
export function readBatch(unit: string, what: string, value: unknown, selection: Selection, maxImages: number): Pixels[] {
  if (Array.isArray(value)) {
    const picked = pick(unit, value.length, selection, maxImages, () => label(value));
    return picked.map((i) => readImage(unit, `${what}[${i}]`, value[i]));
  }
  if (!isImageLike(value)) {
    throw fail(`${unit}: invalid ${what}. Expected a batch tensor [N,H,W] or [N,H,W,C] (C = 1, 3 or 4), or an array of images. Received: ${what}=${label(value)}.`);
  }
  checkArrayShape(unit, what, value);
  const shape = value.shape as readonly number[];
  if (shape.length === 2) return pick(unit, 1, selection, maxImages, () => label(value)).map(() => readImage(unit, what, value));
  const channels = shape.length === 3 ? 1 : shape[3];
  if ((shape.length !== 3 && shape.length !== 4) || ![1, 3, 4].includes(channels) || shape[1] === 0 || shape[2] === 0) {
    throw fail(`${unit}: invalid ${what}. Expected a batch tensor [N,H,W] or [N,H,W,C] (C = 1, 3 or 4), or an array of images. Received: ${what}=${label(value)}.`);
  }
  const [n, height, width] = shape;
  const picked = pick(unit, n, selection, maxImages, () => label(value));
  const size = height * width * channels;
  const base = { offset: 0, height, width, channels, defaultRange: defaultRangeOf(value), label: label(value) };
  if (value instanceof tf.Tensor && picked.length < n) {
    // read only the chosen images: a test set can be 10,000 images
    const chosen = tf.tidy(() => tf.gather(value, tf.tensor1d(picked, "int32")));
    const data = chosen.dataSync().slice();
    chosen.dispose();
    return picked.map((_, k) => ({ ...base, data, offset: k * size }));
  }
  const data = readAll(value);
  return picked.map((i) => ({ ...base, data, offset: i * size }));
}

function pick(unit: string, n: number, selection: Selection, maxImages: number, received: () => string): number[] {
  let picked: number[];
  if (selection.indices !== undefined) {
    const bad = selection.indices.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= n);
    if (bad >= 0) {
      throw fail(`${unit}: invalid indices. Expected integers in [0, ${n - 1}] (the batch has ${n} images). Received: indices[${bad}]=${show(selection.indices[bad])}.`);
    }
    picked = [...selection.indices];
  } else {
    picked = Array.from({ length: Math.min(n, selection.count ?? n) }, (_, i) => i);
  }
  if (picked.length === 0) throw fail(`${unit}: invalid images. Expected at least one image. Received: ${received()} with no image selected.`);
  if (picked.length > maxImages) {
    throw fail(`${unit}: too many images. Expected at most ${maxImages}; pick some with { count: 16 } or { indices: [...] }. Received: ${picked.length} images (${received()}).`);
  }
  return picked;
}

/**
 * Throws when the image holds NaN or infinite values, saying how many:
 * a diverged model's activations look black otherwise.
 */
export function checkFinite(unit: string, what: string, px: Pixels): void {
  const end = px.offset + px.height * px.width * px.channels;
  let nan = 0;
  let inf = 0;
  for (let i = px.offset; i < end; i++) {
    const v = px.data[i];
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
  }
  if (nan || inf) {
    const parts = [nan ? `${nan} NaN value${nan > 1 ? "s" : ""}` : "", inf ? `${inf} infinite value${inf > 1 ? "s" : ""}` : ""].filter(Boolean);
    throw fail(`${unit}: invalid ${what}. Expected finite values. Received: ${what}=${px.label} with ${parts.join(" and ")} (of ${end - px.offset}).`);
  }
}
