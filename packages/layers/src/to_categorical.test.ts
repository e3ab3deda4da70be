/**
 * toCategorical: one-hot float32 rows from tensors, arrays, typed arrays and
 * `{ data, shape }`; errors that name the bad label and its index.
 */
import * as tf from "@tensorflow/tfjs";
import { toCategorical } from "./to_categorical";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("toCategorical", () => {
  it("encodes the course's label 5 as Keras does", () => {
    const y = toCategorical([5, 0, 9], 10);
    expect(y.dtype).toBe("float32");
    expect(y.shape).toEqual([3, 10]);
    expect(y.arraySync()).toEqual([
      [0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ]);
    y.dispose();
  });

  it("infers numClasses as max + 1", () => {
    const y = toCategorical([0, 2, 1]);
    expect(y.shape).toEqual([3, 3]);
    y.dispose();
  });

  it("takes Uint8Array labels, { data, shape } objects and tensors of any dtype", () => {
    const fromTyped = toCategorical(new Uint8Array([1, 0]), 2);
    const fromObject = toCategorical({ data: new Uint8Array([1, 0, 1, 1]), shape: [2, 2] }, 2);
    const fromInt = toCategorical(tf.tensor1d([1, 0], "int32"), 2);
    const fromColumn = toCategorical(tf.tensor2d([[1], [0]]), 2);
    expect(fromTyped.arraySync()).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(fromObject.shape).toEqual([2, 2, 2]);
    expect(fromInt.arraySync()).toEqual(fromTyped.arraySync());
    // a trailing axis of 1 is dropped, as Keras does
    expect(fromColumn.shape).toEqual([2, 2]);
    tf.dispose([fromTyped, fromObject, fromInt, fromColumn]);
  });

  it("leaks no tensor besides its result", () => {
    const labels = tf.tensor1d([3, 1], "int32");
    const before = tf.memory().numTensors;
    const y = toCategorical(labels, 4);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([labels, y]);
  });

  it("names the bad label and its index", () => {
    expect(() => toCategorical([1, 2, 10, 3], 10)).toThrow("toCategorical: invalid y. Expected class indices in [0, 9] for numClasses=10. Received: y[2]=10.");
    expect(() => toCategorical(new Int32Array([0, -1]), 3)).toThrow("toCategorical: invalid y. Expected class indices >= 0. Received: y[1]=-1.");
    expect(() => toCategorical(tf.tensor1d([0, 2.5]))).toThrow("toCategorical: invalid y. Expected integer class indices. Received: y[1]=2.5.");
    expect(() => toCategorical([0, NaN])).toThrow("toCategorical: invalid y. Expected integer class indices. Received: y[1]=NaN.");
    expect(() => toCategorical([0, 1], 0)).toThrow("toCategorical: invalid numClasses. Expected an integer >= 1. Received: numClasses=0.");
    expect(() => toCategorical("5" as never)).toThrow('toCategorical: invalid y. Expected class indices as a tensor, number[], typed array or { data, shape }. Received: y="5".');
    expect(() => toCategorical({ data: new Uint8Array(3), shape: [2] })).toThrow("toCategorical: invalid y. Expected data of length 2 for shape [2]. Received: data of length 3.");
    expect(() => toCategorical([])).toThrow("toCategorical: invalid y. Expected at least one label to infer numClasses. Received: y with 0 labels; pass numClasses.");
  });
});
