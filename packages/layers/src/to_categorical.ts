/**
 * `toCategorical`: class indices to one-hot float32 rows, as Keras's
 * `to_categorical`, with errors that name the offending label.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { checkNumber } from "./validate";

/** Labels as the datasets hand them out: a typed array or array with its shape. */
export interface LabelArray {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Anything {@link toCategorical} takes: a tensor, a number array, a typed array (Uint8Array, Int32Array, …) or `{ data, shape }`. */
export type Labels = tf.Tensor | ArrayLike<number> | LabelArray;

function readLabels(y: unknown): { values: ArrayLike<number>; shape: readonly number[] } {
  if (y instanceof tf.Tensor) return { values: y.dataSync(), shape: y.shape };
  if (ArrayBuffer.isView(y) && !(y instanceof DataView)) {
    const values = y as unknown as ArrayLike<number>;
    return { values, shape: [values.length] };
  }
  if (Array.isArray(y)) {
    if (y.some((v) => Array.isArray(v))) {
      throw fail(`toCategorical: invalid y. Expected a flat array of class indices, a typed array or a tensor. Received: y=${show(y).slice(0, 60)}…; flatten it or pass tf.tensor(y).`);
    }
    return { values: y as number[], shape: [y.length] };
  }
  if (y !== null && typeof y === "object" && "data" in y && "shape" in y) {
    const { data, shape } = y as LabelArray;
    const isArrayLike = Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView));
    if (!isArrayLike || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw fail(`toCategorical: invalid y. Expected { data: typed array, shape: number[] }. Received: y with data=${show(data)}, shape=${show(shape)}.`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== (data as ArrayLike<number>).length) {
      throw fail(`toCategorical: invalid y. Expected data of length ${size} for shape ${show(shape)}. Received: data of length ${(data as ArrayLike<number>).length}.`);
    }
    return { values: data as ArrayLike<number>, shape };
  }
  throw fail(`toCategorical: invalid y. Expected class indices as a tensor, number[], typed array or { data, shape }. Received: y=${show(y)}.`);
}

/**
 * One-hot encodes class indices: shape `[n]` → `[n, numClasses]` float32
 * (any shape `s` → `[...s, numClasses]`; a trailing dimension of 1 is
 * dropped first, as Keras does).
 *
 * @param y Integer class indices in [0, numClasses): a tensor (any dtype),
 *   number[], typed array (e.g. the Uint8Array labels of MNIST), or
 *   `{ data, shape }`.
 * @param numClasses Number of classes, integer >= 1; default max(y) + 1.
 * @returns A new float32 tensor; the caller disposes it.
 * @throws ConvlabError naming the value and its index when a label is negative,
 *   not an integer, or >= numClasses; or when numClasses is invalid.
 * @example
 * const trainLabels = toCategorical(mnist.train.labels, 10);   // [60000, 10]
 * toCategorical([5]).arraySync();   // [[0, 0, 0, 0, 0, 1]]
 * Keras counterpart: `keras.utils.to_categorical(y, num_classes=None)` (which
 * silently truncates 2.5 to 2 and wraps -1 to the last class).
 */
export function toCategorical(y: Labels, numClasses?: number): tf.Tensor {
  const { values, shape: inputShape } = readLabels(y);
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) {
      throw fail(`toCategorical: invalid y. Expected integer class indices. Received: y[${i}]=${show(v)}.`);
    }
    if (v < 0) {
      throw fail(`toCategorical: invalid y. Expected class indices >= 0. Received: y[${i}]=${v}.`);
    }
  }
  let classes: number;
  if (numClasses === undefined) {
    let max = -1;
    for (let i = 0; i < n; i++) if (values[i] > max) max = values[i];
    classes = max + 1;
    if (classes < 1) throw fail(`toCategorical: invalid y. Expected at least one label to infer numClasses. Received: y with 0 labels; pass numClasses.`);
  } else {
    classes = checkNumber("toCategorical", "numClasses", numClasses, { min: 1, integer: true });
    for (let i = 0; i < n; i++) {
      if (values[i] >= classes) {
        throw fail(`toCategorical: invalid y. Expected class indices in [0, ${classes - 1}] for numClasses=${classes}. Received: y[${i}]=${values[i]}.`);
      }
    }
  }
  const shape = inputShape.length > 1 && inputShape[inputShape.length - 1] === 1 ? inputShape.slice(0, -1) : inputShape;
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) out[i * classes + values[i]] = 1;
  return tf.tensor(out, [...shape, classes], "float32");
}
