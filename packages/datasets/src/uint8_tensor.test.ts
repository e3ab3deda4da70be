/** Uint8Tensor: views without copies, element access, conversion to tf.Tensor without leaks, and every error line. */
import * as tf from "@tensorflow/tfjs";
import { inspect } from "util";
import { Uint8Tensor } from "./uint8_tensor";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function counting(n: number, shape: number[]): Uint8Tensor {
  return new Uint8Tensor(Uint8Array.from({ length: n }, (_, i) => i), shape);
}

describe("Uint8Tensor", () => {
  test("shape, dtype, size, byteLength, rank", () => {
    const t = counting(24, [2, 3, 4]);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.dtype).toBe("uint8");
    expect(t.size).toBe(24);
    expect(t.byteLength).toBe(24);
    expect(t.rank).toBe(3);
    expect(new Uint8Tensor(new Uint8Array(5)).shape).toEqual([5]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  test("reads as Uint8Tensor[...] in console.log and strings", () => {
    const t = counting(24, [2, 3, 4]);
    expect(String(t)).toBe("Uint8Tensor[2,3,4]");
    expect(inspect(t)).toBe("Uint8Tensor[2,3,4]");
    expect(inspect({ x: t })).toBe("{ x: Uint8Tensor[2,3,4] }");
  });

  test("constructor errors", () => {
    expect(() => new Uint8Tensor(new Uint8Array(6), [2, 2])).toThrow(
      "Uint8Tensor: shape [2,2] does not fit 6 bytes. Expected a shape with 6 elements. Received: shape=[2,2] (4 elements).",
    );
    expect(() => new Uint8Tensor(new Uint8Array(6), [2, 3.5])).toThrow(
      "Uint8Tensor: invalid shape. Expected an array of non-negative integers. Received: shape=[2,3.5].",
    );
    expect(() => new Uint8Tensor([1, 2] as unknown as Uint8Array)).toThrow("Uint8Tensor: invalid data. Expected a Uint8Array. Received: data=[1,2].");
  });

  test("reshape shares the bytes and infers -1", () => {
    const t = counting(24, [2, 3, 4]);
    const r = t.reshape([-1, 3, 4, 1]);
    expect(r.shape).toEqual([2, 3, 4, 1]);
    expect(r.data).toBe(t.data);
    expect(t.reshape([6, -1]).shape).toEqual([6, 4]);
    expect(t.reshape([24]).get(23)).toBe(23);
  });

  test("reshape errors name both shapes", () => {
    const t = counting(24, [2, 3, 4]);
    expect(() => t.reshape([5, 5])).toThrow(
      "Uint8Tensor.reshape: cannot reshape [2,3,4] to [5,5]. Expected a shape with 24 elements. Received: shape=[5,5].",
    );
    expect(() => t.reshape([5, -1])).toThrow(
      "Uint8Tensor.reshape: cannot reshape [2,3,4] to [5,-1]. Expected a shape with 24 elements. Received: shape=[5,-1].",
    );
    expect(() => t.reshape([-1, -1])).toThrow(
      "Uint8Tensor.reshape: invalid shape. Expected non-negative integers and at most one -1. Received: shape=[-1,-1].",
    );
    expect(() => t.reshape([2, -3, 4])).toThrow("Received: shape=[2,-3,4].");
  });

  test("slice is a view along axis 0, with negative and clamped bounds", () => {
    const t = counting(24, [4, 3, 2]);
    const s = t.slice(1, 3);
    expect(s.shape).toEqual([2, 3, 2]);
    expect(Array.from(s.data)).toEqual(Array.from({ length: 12 }, (_, i) => i + 6));
    expect(s.data.buffer).toBe(t.data.buffer);
    s.data[0] = 200;
    expect(t.get(1, 0, 0)).toBe(200);
    expect(t.slice(-1).shape).toEqual([1, 3, 2]);
    expect(t.slice(-1).get(0, 0, 0)).toBe(18);
    expect(t.slice(2, 100).shape).toEqual([2, 3, 2]);
    expect(t.slice(3, 1).shape).toEqual([0, 3, 2]);
    expect(t.slice().shape).toEqual([4, 3, 2]);
  });

  test("slice errors", () => {
    const t = counting(4, [4]);
    expect(() => t.slice(0.5)).toThrow("Uint8Tensor.slice: invalid start. Expected an integer. Received: start=0.5.");
    expect(() => t.slice(0, NaN)).toThrow("Uint8Tensor.slice: invalid end. Expected an integer. Received: end=NaN.");
    expect(() => new Uint8Tensor(new Uint8Array(1), []).slice(0)).toThrow(
      "Uint8Tensor.slice: cannot slice a 0-d tensor. Expected a tensor with at least one dimension. Received: shape=[].",
    );
  });

  test("get reads one element, negative indices from the end", () => {
    const t = counting(24, [2, 3, 4]);
    expect(t.get(1, 2, 3)).toBe(23);
    expect(t.get(0, 1, 0)).toBe(4);
    expect(t.get(-1, -1, -1)).toBe(23);
    expect(() => t.get(0, 0)).toThrow("Uint8Tensor.get: wrong number of indices for shape [2,3,4]. Expected 3. Received: 2 ([0,0]).");
    expect(() => t.get(0, 3, 0)).toThrow("Uint8Tensor.get: index out of range on axis 1. Expected an integer in [-3, 2]. Received: 3.");
  });

  test("toTensor: float32 by default, int32, scale; exactly one tensor, none leaked", () => {
    const t = new Uint8Tensor(Uint8Array.from([0, 51, 255, 7]), [2, 2]);
    const before = tf.memory().numTensors;
    const f = t.toTensor();
    expect(f.dtype).toBe("float32");
    expect(f.shape).toEqual([2, 2]);
    expect(Array.from(f.dataSync())).toEqual([0, 51, 255, 7]);
    const scaled = t.toTensor("float32", { scale: 1 / 255 });
    expect(Array.from(scaled.dataSync())).toEqual([0, 51 / 255, 1, 7 / 255].map(Math.fround));
    const i = t.reshape([4]).toTensor("int32");
    expect(i.dtype).toBe("int32");
    expect(Array.from(i.dataSync())).toEqual([0, 51, 255, 7]);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([f, scaled, i]);
    expect(tf.memory().numTensors).toBe(before);
    // A second round leaves the count unchanged too.
    tf.tidy(() => void t.toTensor("float32", { scale: 2 }));
    expect(tf.memory().numTensors).toBe(before);
  });

  test("toTensor errors", () => {
    const t = counting(4, [4]);
    const before = tf.memory().numTensors;
    expect(() => t.toTensor("uint8" as "int32")).toThrow(
      'Uint8Tensor.toTensor: invalid dtype. Expected one of "float32", "int32". Received: dtype="uint8".',
    );
    expect(() => t.toTensor("float32", { scale: Infinity })).toThrow("Uint8Tensor.toTensor: invalid scale. Expected a finite number. Received: scale=Infinity.");
    expect(() => t.toTensor("int32", { scale: 0.5 })).toThrow(
      'Uint8Tensor.toTensor: invalid scale for dtype "int32". Expected no scale (or 1). Received: scale=0.5.',
    );
    expect(() => t.toTensor("float32", { scael: 2 } as never)).toThrow('Uint8Tensor.toTensor: unknown option `scael`. Expected one of `scale`. Received: {"scael":2}.');
    expect(tf.memory().numTensors).toBe(before);
  });
});
