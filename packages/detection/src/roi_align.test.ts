import * as tf from "@tensorflow/tfjs";
import { roiAlign } from "./roi_align";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let worst = 0;
  x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]))));
  return worst;
}

/**
 * The same RoIAlign through tf.image.cropAndResize: the n = out·r samples of an axis sit at
 * u_k = u1 + (k + 0.5)·(u2 − u1)/n (feature coordinates, u = pixel / stride − 0.5), which is
 * cropAndResize's u_k = y1n·(H − 1) + k·(y2n − y1n)·(H − 1)/(n − 1) for y1n = u_0/(H − 1) and
 * y2n = u_(n−1)/(H − 1); the bins are then the means of r × r samples (average pooling).
 */
function throughCropAndResize(map: tf.Tensor4D, boxes: number[][][], imageShape: [number, number], out: number, ratio: number): tf.Tensor4D {
  const [, mapH, mapW] = map.shape;
  const n = out * ratio;
  const rows: number[][] = [];
  const index: number[] = [];
  boxes.forEach((list, b) =>
    list.forEach(([x1, y1, x2, y2]) => {
      const axis = (p1: number, p2: number, stride: number, size: number) => {
        const [u1, u2] = [p1 / stride - 0.5, p2 / stride - 0.5];
        const step = (u2 - u1) / n;
        return [(u1 + 0.5 * step) / (size - 1), (u1 + (n - 0.5) * step) / (size - 1)];
      };
      const [ya, yb] = axis(y1, y2, imageShape[0] / mapH, mapH);
      const [xa, xb] = axis(x1, x2, imageShape[1] / mapW, mapW);
      rows.push([ya, xa, yb, xb]);
      index.push(b);
    }),
  );
  return tf.tidy(() => {
    const crops = tf.image.cropAndResize(map, tf.tensor2d(rows), tf.tensor1d(index, "int32"), [n, n], "bilinear");
    return tf.avgPool(crops, ratio, ratio, "valid");
  });
}

describe("roiAlign", () => {
  const imageShape: [number, number] = [64, 48];
  // interior boxes: every sample lies within the map's cell centres (where cropAndResize does not extrapolate)
  const boxes = [
    [
      [8, 10, 40, 50],
      [12.5, 6, 30, 22.25],
    ],
    [],
    [[5, 9, 20.5, 60]],
  ];

  it("gives tf.image.cropAndResize's values (bilinear samples, then their mean per bin)", () => {
    const map = tf.randomUniform([3, 8, 6, 5], -1, 1, "float32", 7) as tf.Tensor4D;
    for (const [out, ratio] of [
      [7, 2],
      [4, 1],
      [3, 3],
    ]) {
      const ours = roiAlign(map, boxes, { format: "xyxy", imageShape, outputSize: out, samplingRatio: ratio });
      const theirs = throughCropAndResize(map, boxes, imageShape, out, ratio);
      expect(ours.shape).toEqual([3, out, out, 5]);
      expect(ours.dtype).toBe("float32");
      expect(maxDifference(ours, theirs)).toBeLessThan(1e-5);
      tf.dispose([ours, theirs]);
    }
    // the same number of boxes in every image (one batched matmul) agrees too
    const even = [boxes[0].slice(0, 1), boxes[2], boxes[0].slice(1)];
    const ours = roiAlign(map, even, { format: "xyxy", imageShape, outputSize: 5, samplingRatio: 2 });
    const theirs = throughCropAndResize(map, even, imageShape, 5, 2);
    expect(maxDifference(ours, theirs)).toBeLessThan(1e-5);
    tf.dispose([ours, theirs, map]);
  });

  it("is exact on a linear map: each bin is the value at its centre (hand-computed)", () => {
    // F[y, x] = y + 10·x on a 4 x 4 map of a 32 x 32 image (stride 8): u = pixel / 8 − 0.5.
    const map = tf.tidy(() => tf.add(tf.range(0, 4).reshape([4, 1]), tf.range(0, 4).mul(10).reshape([1, 4])).reshape([1, 4, 4, 1])) as tf.Tensor4D;
    // box x in [8, 24], y in [4, 20]: u_x in [0.5, 2.5], u_y in [0, 2]; 2 x 2 bins have centres u_x 1, 2 and u_y 0.5, 1.5
    const out = roiAlign(map, [[[8, 4, 24, 20]]], { format: "xyxy", imageShape: [32, 32], outputSize: 2 });
    expect(Array.from(out.dataSync()).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([10.5, 20.5, 11.5, 21.5]);
    // the same box in other formats
    for (const [format, box] of [
      ["yxyx", [4, 8, 20, 24]],
      ["centerXywh", [16, 12, 16, 16]],
      ["relXyxy", [0.25, 0.125, 0.75, 0.625]],
    ] as const) {
      const again = roiAlign(map, [[box]], { format, imageShape: [32, 32], outputSize: [2, 2] });
      expect(maxDifference(again, out)).toBeLessThan(1e-5);
      again.dispose();
    }
    // outside the map: clamped within half a cell, 0 beyond one cell (and still counted in the mean)
    const edge = roiAlign(map, [[[-16, -16, 0, 0]]], { format: "xyxy", imageShape: [32, 32], outputSize: 1, samplingRatio: 2 });
    // samples at u = −2.5 + 0.5 and −2.5 + 1.5, i.e. −2 (outside: 0) and −1 (clamped to 0): one sample of F[0, 0] = 0 per axis
    expect(edge.dataSync()[0]).toBeCloseTo(0, 6);
    const corner = roiAlign(tf.onesLike(map) as tf.Tensor4D, [[[-16, -16, 0, 0]]], { format: "xyxy", imageShape: [32, 32], outputSize: 1, samplingRatio: 2 });
    expect(corner.dataSync()[0]).toBeCloseTo(0.25, 6); // 1 sample of 4 inside, mean 1/4
    tf.dispose([map, out, edge, corner]);
  });

  it("has the gradient of its linear map (numerical check) and none leaks", () => {
    const map = tf.randomUniform([2, 5, 4, 3], -1, 1, "float32", 3) as tf.Tensor4D;
    const list = [[[3, 2, 30, 33]], [[0, 0, 32, 40], [10, 12, 14, 20]]];
    const args = { format: "xyxy", imageShape: [40, 32], outputSize: 3 } as const;
    const probe = tf.randomUniform([3, 3, 3, 3], -1, 1, "float32", 5);
    const f = (m: tf.Tensor4D) => tf.sum(tf.mul(roiAlign(m, list, args), probe));
    const before = tf.memory().numTensors;
    const grad = tf.grad((m: tf.Tensor) => f(m as tf.Tensor4D))(map);
    expect(grad.shape).toEqual(map.shape);
    const g = grad.dataSync();
    const values = map.dataSync();
    const eps = 1e-2;
    let worst = 0;
    for (let k = 0; k < values.length; k += 5) {
      const plus = values.slice();
      const minus = values.slice();
      plus[k] += eps;
      minus[k] -= eps;
      const numeric = tf.tidy(() => (f(tf.tensor4d(plus, map.shape)).dataSync()[0] - f(tf.tensor4d(minus, map.shape)).dataSync()[0]) / (2 * eps));
      worst = Math.max(worst, Math.abs(numeric - g[k]));
    }
    expect(worst).toBeLessThan(2e-3);
    expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(0.1);
    grad.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([map, probe]);
  });

  it("reads [batch, R, 4] tensors, accepts images without boxes, leaks nothing", () => {
    const map = tf.randomUniform([2, 4, 4, 2], 0, 1, "float32", 1) as tf.Tensor4D;
    const t = tf.tensor3d([[[0, 0, 16, 16]], [[4, 4, 20, 28]]]);
    const before = tf.memory().numTensors;
    const a = roiAlign(map, t, { format: "xyxy", imageShape: [32, 32] });
    const b = roiAlign(map, t.arraySync(), { format: "xyxy", imageShape: [32, 32] });
    expect(a.shape).toEqual([2, 7, 7, 2]);
    expect(maxDifference(a, b)).toBe(0);
    const none = roiAlign(map, [[], []], { format: "xyxy", imageShape: [32, 32], outputSize: 2 });
    expect(none.shape).toEqual([0, 2, 2, 2]);
    tf.dispose([a, b, none]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([map, t]);
  });

  it("says what is wrong in one line", () => {
    const map = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    const ok = { format: "xyxy", imageShape: [32, 32] } as const;
    expect(errorOf(() => roiAlign(map, [[[0, 0, 8, 8]]], { imageShape: [32, 32] } as never))).toBe(
      'roiAlign: missing format. Expected one of "xyxy", "yxyx", "xywh", "centerXywh", "relXyxy", "relYxyx", "relXywh", "relCenterXywh", "yolo" (box functions take an explicit format). Received: format=undefined.',
    );
    expect(errorOf(() => roiAlign(map, [[[0, 0, 8, 8]]], { format: "xyxy" } as never))).toBe(
      "roiAlign: missing imageShape. Expected [height, width] of the images the boxes are in. Received: imageShape=undefined.",
    );
    expect(errorOf(() => roiAlign(map, [[[0, 0, 8, 8]]], { ...ok, outputSize: 0 }))).toBe(
      "roiAlign: invalid outputSize. Expected a positive integer or [height, width] of positive integers, such as 7. Received: outputSize=0.",
    );
    expect(errorOf(() => roiAlign(map, [[[0, 0, 8, 8]]], { ...ok, samplingRatio: 1.5 }))).toBe("roiAlign: invalid samplingRatio. Expected an integer >= 1. Received: samplingRatio=1.5.");
    expect(errorOf(() => roiAlign(map, [[[0, 0, 8, 8]], []], ok))).toBe(
      "roiAlign: invalid boxes. Expected one array of boxes per image of the batch (1), such as [[[x1, y1, x2, y2]], []]. Received: 2 lists.",
    );
    expect(errorOf(() => roiAlign(map, [[[8, 0, 0, 8]]], ok))).toBe('roiAlign: invalid boxes[0][0]. Expected x1 ≤ x2 and y1 ≤ y2 in format "xyxy". Received: boxes[0][0]=[8, 0, 0, 8].');
    expect(errorOf(() => roiAlign(map, [[[0, 0, 8]]], ok))).toBe("roiAlign: invalid boxes[0][0]. Expected 4 finite numbers. Received: boxes[0][0]=[0, 0, 8].");
    expect(errorOf(() => roiAlign(tf.zeros([4, 4, 2]) as never, [[]], ok))).toBe(
      "roiAlign: invalid featureMap. Expected a tensor of shape [batch, height, width, channels]. Received: featureMap=Tensor<float32>[4,4,2].",
    );
    expect(errorOf(() => roiAlign(map, [[]], { ...ok, size: 7 } as never))).toBe(
      "roiAlign: unknown option `size`. Expected one of `format`, `imageShape`, `outputSize`, `samplingRatio`.",
    );
    map.dispose();
  });
});
