/**
 * `Uint8Tensor`: the uint8 arrays Keras's dataset loaders return, kept as
 * bytes because TensorFlow.js has no uint8 dtype (a float32 copy of MNIST's
 * training images is 188 MB; its bytes are 47 MB).
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, fail, show } from "@convlab/engine";
import { inspect } from "util";

/** The dtypes {@link Uint8Tensor.toTensor} converts to. */
export const TO_TENSOR_DTYPES = ["float32", "int32"] as const;
/** A dtype {@link Uint8Tensor.toTensor} converts to. */
export type ToTensorDtype = (typeof TO_TENSOR_DTYPES)[number];

/** Options of {@link Uint8Tensor.toTensor}. */
export interface ToTensorArgs {
  /**
   * Factor every value is multiplied by while converting, e.g. `1 / 255` to
   * bring pixels into [0, 1] without a second full-size tensor. Float32 only.
   * Default 1.
   */
  scale?: number;
}

/**
 * A C-order (row-major) array of bytes with a shape: the counterpart of a
 * NumPy `uint8` array such as `x_train` from `keras.datasets.mnist.load_data()`.
 *
 * `reshape` and `slice` return views that share the bytes (no copy), as
 * NumPy's do; `toTensor` makes a `tf.Tensor` (the only copy).
 *
 * @example
 * ```ts
 * const [[xTrain, yTrain]] = await mnist.loadData();
 * xTrain;                                   // Uint8Tensor[60000,28,28]
 * yTrain.get(0);                            // 5
 * const x = xTrain.reshape([-1, 28, 28, 1]).toTensor("float32", { scale: 1 / 255 });
 * ```
 *
 * Keras equivalent: `numpy.ndarray` of dtype `uint8`;
 * `x.reshape((60000, 28, 28, 1)).astype("float32") / 255` is
 * `x.reshape([60000, 28, 28, 1]).toTensor("float32", { scale: 1 / 255 })`.
 */
export class Uint8Tensor {
  /** Always `"uint8"`, as NumPy reports it. */
  readonly dtype = "uint8" as const;
  /** The bytes, C order; may be a view into a larger buffer. */
  readonly data: Uint8Array;
  /** The dimensions, outermost first. */
  readonly shape: readonly number[];

  /**
   * @param data The bytes, C order.
   * @param shape Dimensions whose product is `data.length`; default `[data.length]`.
   * @throws ConvlabError when `shape` is not a list of non-negative integers
   *   or its product differs from `data.length`.
   */
  constructor(data: Uint8Array, shape: readonly number[] = [data.length]) {
    if (!(data instanceof Uint8Array)) {
      throw fail(`Uint8Tensor: invalid data. Expected a Uint8Array. Received: data=${show(data)}.`);
    }
    checkShape("shape", shape);
    const size = product(shape);
    if (size !== data.length) {
      throw fail(`Uint8Tensor: shape [${shape.join(",")}] does not fit ${data.length} bytes. Expected a shape with ${data.length} elements. Received: shape=[${shape.join(",")}] (${size} elements).`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  /** The number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The number of bytes (equal to {@link size}: one byte per element). */
  get byteLength(): number {
    return this.data.byteLength;
  }

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /**
   * The same bytes under another shape (no copy). One dimension may be `-1`:
   * it is inferred from the size.
   *
   * @param shape The new shape, e.g. `[60000, 28, 28, 1]` or `[-1, 784]`.
   * @throws ConvlabError when the sizes differ, more than one `-1` is given,
   *   or a dimension is not a non-negative integer.
   *
   * Keras equivalent: `x.reshape((60000, 28, 28, 1))`.
   */
  reshape(shape: readonly number[]): Uint8Tensor {
    if (!Array.isArray(shape) || shape.filter((d) => d === -1).length > 1 || !shape.every((d) => d === -1 || (Number.isInteger(d) && d >= 0))) {
      throw fail(`Uint8Tensor.reshape: invalid shape. Expected non-negative integers and at most one -1. Received: shape=${show(shape)}.`);
    }
    const known = product(shape.filter((d) => d !== -1));
    let resolved = [...shape];
    if (shape.includes(-1)) {
      if (known === 0 || this.size % known !== 0) throw this.reshapeError(shape);
      resolved = shape.map((d) => (d === -1 ? this.size / known : d));
    }
    if (product(resolved) !== this.size) throw this.reshapeError(shape);
    return new Uint8Tensor(this.data, resolved);
  }

  /**
   * Rows `start` to `end` (exclusive) along the first axis, as a view that
   * shares the bytes (no copy). Negative indices count from the end and
   * out-of-range ones are clamped, like `Array.prototype.slice` and NumPy's
   * `x[start:end]`.
   *
   * @param start First row; default 0.
   * @param end Row after the last; default the number of rows.
   * @throws ConvlabError on a 0-d tensor or non-integer bounds.
   *
   * Keras equivalent: `x_train[:1000]` is `xTrain.slice(0, 1000)`.
   */
  slice(start = 0, end?: number): Uint8Tensor {
    if (this.rank === 0) {
      throw fail("Uint8Tensor.slice: cannot slice a 0-d tensor. Expected a tensor with at least one dimension. Received: shape=[].");
    }
    const rows = this.shape[0];
    for (const [name, value] of [["start", start], ["end", end ?? rows]] as const) {
      if (!Number.isInteger(value)) {
        throw fail(`Uint8Tensor.slice: invalid ${name}. Expected an integer. Received: ${name}=${show(value)}.`);
      }
    }
    const from = clampIndex(start, rows);
    const to = Math.max(from, clampIndex(end ?? rows, rows));
    const stride = rows === 0 ? 0 : this.size / rows;
    return new Uint8Tensor(this.data.subarray(from * stride, to * stride), [to - from, ...this.shape.slice(1)]);
  }

  /**
   * One element, by one index per dimension (negative ones count from the end).
   *
   * @throws ConvlabError when the number of indices differs from the rank or
   *   an index is out of range.
   *
   * Keras equivalent: `y_train[0]` is `yTrain.get(0)`; `x[0, 14, 14]` is `x.get(0, 14, 14)`.
   */
  get(...indices: number[]): number {
    if (indices.length !== this.rank) {
      throw fail(`Uint8Tensor.get: wrong number of indices for shape [${this.shape.join(",")}]. Expected ${this.rank}. Received: ${indices.length} (${show(indices)}).`);
    }
    let offset = 0;
    for (let axis = 0; axis < indices.length; axis++) {
      const dim = this.shape[axis];
      const index = indices[axis];
      if (!Number.isInteger(index) || index < -dim || index >= dim) {
        throw fail(`Uint8Tensor.get: index out of range on axis ${axis}. Expected an integer in [${-dim}, ${dim - 1}]. Received: ${show(index)}.`);
      }
      offset = offset * dim + (index < 0 ? index + dim : index);
    }
    return this.data[offset];
  }

  /**
   * A new `tf.Tensor` with these values (the caller disposes it).
   *
   * @param dtype `"float32"` (default) or `"int32"`.
   * @param options `scale`: multiply while converting (float32 only), e.g. `1 / 255`.
   * @throws ConvlabError on another dtype, or a `scale` with `"int32"` or that is not finite.
   *
   * Keras equivalent: `x.astype("float32") / 255` is `x.toTensor("float32", { scale: 1 / 255 })`;
   * labels for `tf.oneHot` are `y.toTensor("int32")`.
   */
  toTensor(dtype: ToTensorDtype = "float32", options: ToTensorArgs = {}): tf.Tensor {
    expectOneOf("Uint8Tensor.toTensor", "dtype", dtype, TO_TENSOR_DTYPES);
    const unknown = Object.keys(options).filter((k) => k !== "scale");
    if (unknown.length > 0) {
      throw fail(`Uint8Tensor.toTensor: unknown option \`${unknown[0]}\`. Expected one of \`scale\`. Received: ${show(options)}.`);
    }
    const scale = options.scale;
    if (scale !== undefined && (typeof scale !== "number" || !Number.isFinite(scale))) {
      throw fail(`Uint8Tensor.toTensor: invalid scale. Expected a finite number. Received: scale=${show(scale)}.`);
    }
    if (dtype === "int32") {
      if (scale !== undefined && scale !== 1) {
        throw fail(`Uint8Tensor.toTensor: invalid scale for dtype "int32". Expected no scale (or 1). Received: scale=${show(scale)}.`);
      }
      return tf.tensor(Int32Array.from(this.data), [...this.shape], "int32");
    }
    const values = new Float32Array(this.size);
    const s = scale ?? 1;
    for (let i = 0; i < values.length; i++) values[i] = this.data[i] * s;
    return tf.tensor(values, [...this.shape], "float32");
  }

  /** `Uint8Tensor[60000,28,28]`. */
  toString(): string {
    return `Uint8Tensor[${this.shape.join(",")}]`;
  }

  /** Shown by `console.log` and in a notebook cell like {@link toString}, never as 47 million numbers. */
  [inspect.custom](): string {
    return this.toString();
  }

  private reshapeError(shape: readonly number[]): Error {
    return fail(`Uint8Tensor.reshape: cannot reshape [${this.shape.join(",")}] to [${shape.join(",")}]. Expected a shape with ${this.size} elements. Received: shape=[${shape.join(",")}].`);
  }
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkShape(what: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw fail(`Uint8Tensor: invalid ${what}. Expected an array of non-negative integers. Received: ${what}=${show(shape)}.`);
  }
}

function clampIndex(index: number, length: number): number {
  return index < 0 ? Math.max(0, index + length) : Math.min(index, length);
}
