import * as tf from "@tensorflow/tfjs";
import { Random } from "@convlab/engine";
import { elementwiseIou, iou } from "./iou";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function expectClose(actual: unknown, expected: unknown, digits = 6): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual) && actual.length).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, digits));
  } else {
    expect(actual).toBeCloseTo(expected as number, digits);
  }
}

// Two 2x2 squares offset by one pixel overlap in 1 pixel of 4 + 4 - 1 = 7: IoU 1/7.
const A = [
  [0, 0, 2, 2],
  [0, 0, 1, 1],
];
const B = [
  [1, 1, 3, 3],
  [0, 0, 2, 2],
  [5, 5, 6, 6],
];
const A_B = [
  [1 / 7, 1, 0],
  [0, 1 / 4, 0], // [0,0,1,1] touches [1,1,3,3] at a corner only
];

describe("iou", () => {
  it("gives hand-computed values for arrays, in any format", () => {
    expect(iou(A, B, { format: "xyxy" })).toEqual(A_B);
    // the same boxes in xywh and yxyx
    expect(iou([[0, 0, 2, 2]], [[1, 1, 2, 2]], { format: "xywh" })).toEqual([[1 / 7]]);
    expect(iou([[0, 0, 2, 2]], [[1, 1, 3, 3]], { format: "yxyx" })).toEqual([[1 / 7]]);
    // relative boxes give the same IoU as their pixels: x 0..0.5 / y 0..0.5 of a 4x4 image is [0, 0, 2, 2]
    expect(iou([[0.25, 0.25, 0.5, 0.5]], [[0.5, 0.5, 0.5, 0.5]], { format: "relCenterXywh" })).toEqual([[1 / 7]]);
    expect(iou([], B, { format: "xyxy" })).toEqual([]);
    expect(iou(A, [], { format: "xyxy" })).toEqual([[], []]);
  });

  it("is 0, never NaN, for boxes without area, inverted boxes and boxes that only touch", () => {
    expect(iou([[1, 1, 1, 1], [1, 1, 1, 5], [2, 2, 0, 0]], [[1, 1, 1, 1], [0, 0, 2, 2], [2, 0, 4, 2]], { format: "xyxy" })).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("gives the same values as float32 tensors [N, M], batched [B, N, M], and shared boxes across a batch", () => {
    const a = tf.tensor2d(A);
    const b = tf.tensor2d(B);
    const ab = tf.stack([a, a]);
    const bb = tf.stack([b, tf.reverse(b, 0)]);
    const before = tf.memory().numTensors;
    const m = iou(a, b, { format: "xyxy" });
    expect(m.shape).toEqual([2, 3]);
    expect(m.dtype).toBe("float32");
    expectClose(m.arraySync(), A_B);
    const batched = iou(ab, bb, { format: "xyxy" });
    expect(batched.shape).toEqual([2, 2, 3]);
    expectClose(batched.arraySync(), [A_B, A_B.map((r) => [...r].reverse())]);
    const shared = iou(a, bb, { format: "xyxy" }); // anchors [N, 4] against each image's boxes
    expect(shared.shape).toEqual([2, 2, 3]);
    expectClose(shared.arraySync(), batched.arraySync());
    const mixed = iou(A, b, { format: "xyxy" }); // an array and a tensor give a tensor
    expectClose(mixed.arraySync(), A_B);
    tf.dispose([m, batched, shared, mixed]);
    iou(a, b, { format: "xyxy" }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, ab, bb]);
  });

  it("agrees between arrays and tensors on random boxes", () => {
    const rng = new Random(7);
    const box = () => {
      const [x, y] = [rng.uniform(0, 50), rng.uniform(0, 50)];
      return [x, y, x + rng.uniform(0, 30), y + rng.uniform(0, 30)];
    };
    const a = Array.from({ length: 20 }, box);
    const b = Array.from({ length: 30 }, box);
    const t = tf.tidy(() => iou(tf.tensor2d(a), tf.tensor2d(b), { format: "xyxy" }));
    expectClose(t.arraySync(), iou(a, b, { format: "xyxy" }), 5);
    t.dispose();
  });

  it("has gradients: d IoU / d x2 of [0,0,2,2] against [1,1,3,3] is (1·7 − 1·1) / 49, finite without area", () => {
    const a = tf.tensor2d([[0, 0, 2, 2], [1, 1, 1, 1]]);
    const b = tf.tensor2d([[1, 1, 3, 3], [1, 1, 1, 1]]);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => tf.sum(elementwiseIou(x, b, { format: "xyxy" })))(a);
    const values = g.arraySync() as number[][];
    expect(values[0][2]).toBeCloseTo(6 / 49, 6);
    expect(values.flat().every(Number.isFinite)).toBe(true);
    expect(values[1].map((v) => v + 0)).toEqual([0, 0, 0, 0]); // -0 + 0 = 0
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it("says what is wrong in one line", () => {
    const bad = tf.zeros([3, 5]);
    const two = tf.zeros([2, 1, 4]);
    const three = tf.zeros([3, 1, 4]);
    expect(errorOf(() => iou(bad, B, { format: "xyxy" }))).toBe("iou: invalid boxesA. Expected a tensor of shape [N, 4] or [B, N, 4]. Received: boxesA=Tensor<float32>[3,5].");
    expect(errorOf(() => iou(two, three, { format: "xyxy" }))).toBe("iou: invalid boxesB. Expected the batch size of boxesA (2). Received: boxesB=Tensor<float32>[3,1,4].");
    expect(errorOf(() => iou(A, [[0, 0, 1]], { format: "xyxy" }))).toBe("iou: invalid boxesB[0]. Expected 4 finite numbers. Received: boxesB[0]=[0, 0, 1].");
    expect(errorOf(() => iou(A, B, {} as never))).toMatch(/^iou: missing format\. Expected one of "xyxy", .*\. Received: format=undefined\.$/);
    expect(errorOf(() => iou(A, B, { format: "XYXY" as never }))).toMatch(/^iou: invalid format\. .* Did you mean `xyxy`\?$/);
    expect(errorOf(() => iou(A, B, undefined as never))).toMatch(/^iou: missing format\./);
    tf.dispose([bad, two, three]);
  });
});

describe("elementwiseIou", () => {
  it("pairs box i with box i: arrays, [N], [B, N], a scalar for [4]", () => {
    expect(elementwiseIou(A, B.slice(0, 2), { format: "xyxy" })).toEqual([1 / 7, 1 / 4]);
    const a = tf.tensor2d(A);
    const b = tf.tensor2d(B.slice(0, 2));
    const before = tf.memory().numTensors;
    const n = elementwiseIou(a, b, { format: "xyxy" });
    expect(n.shape).toEqual([2]);
    expectClose(Array.from(n.dataSync()), [1 / 7, 1 / 4]);
    const batched = tf.tidy(() => elementwiseIou(tf.stack([a, b]), b, { format: "xyxy" }));
    expect(batched.shape).toEqual([2, 2]);
    expectClose(batched.arraySync(), [[1 / 7, 1 / 4], [1, 1]]);
    const scalar = tf.tidy(() => elementwiseIou(tf.tensor1d([0, 0, 2, 2]), tf.tensor1d([1, 1, 3, 3]), { format: "xyxy" }));
    expect(scalar.shape).toEqual([]);
    expectClose(scalar.dataSync()[0], 1 / 7);
    tf.dispose([n, batched, scalar]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it("says what is wrong in one line", () => {
    const a = tf.zeros([2, 4]);
    const b = tf.zeros([3, 4]);
    expect(errorOf(() => elementwiseIou(A, [B[0]], { format: "xyxy" }))).toBe("elementwiseIou: invalid boxesB. Expected as many boxes as boxesA (2). Received: 1 boxes.");
    expect(errorOf(() => elementwiseIou(a, b, { format: "xyxy" }))).toBe("elementwiseIou: invalid boxesB. Expected the shape of boxesA [2, 4]. Received: boxesB=Tensor<float32>[3,4].");
    tf.dispose([a, b]);
  });
});
