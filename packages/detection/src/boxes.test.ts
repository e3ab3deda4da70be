import * as tf from "@tensorflow/tfjs";
import { BOX_FORMATS, BoxFormat, clipBoxes, convertBoxes, validateBoxes } from "./boxes";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function expectClose(actual: number[][], expected: number[][], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(expected[i][k], digits)));
}

/** One box, x 10..50 and y 20..60, in a 100 (high) x 200 (wide) image, in every format. */
const IMAGE: [number, number] = [100, 200];
const SAME_BOX: Record<BoxFormat, number[]> = {
  xyxy: [10, 20, 50, 60],
  yxyx: [20, 10, 60, 50],
  xywh: [10, 20, 40, 40],
  centerXywh: [30, 40, 40, 40],
  relXyxy: [0.05, 0.2, 0.25, 0.6],
  relYxyx: [0.2, 0.05, 0.6, 0.25],
  relXywh: [0.05, 0.2, 0.2, 0.4],
  relCenterXywh: [0.15, 0.4, 0.2, 0.4],
  yolo: [0.15, 0.4, 0.2, 0.4],
};

describe("convertBoxes", () => {
  it("gives the hand-computed numbers from xyxy to every format (pixel ones exactly)", () => {
    for (const target of BOX_FORMATS) {
      const out = convertBoxes([SAME_BOX.xyxy], { source: "xyxy", target, imageShape: IMAGE });
      if (target.startsWith("rel") || target === "yolo") expectClose(out, [SAME_BOX[target]]);
      else expect(out).toEqual([SAME_BOX[target]]);
    }
    // the whole image
    expect(convertBoxes([[0, 0, 1, 1]], { source: "relXyxy", target: "xyxy", imageShape: [100, 200] })).toEqual([[0, 0, 200, 100]]);
    expect(convertBoxes([[0.5, 0.5, 1, 1]], { source: "yolo", target: "yxyx", imageShape: [100, 200] })).toEqual([[0, 0, 100, 200]]);
  });

  it("goes between any two formats and back", () => {
    for (const source of BOX_FORMATS) {
      for (const target of BOX_FORMATS) {
        const there = convertBoxes([SAME_BOX[source]], { source, target, imageShape: IMAGE });
        expectClose(there, [SAME_BOX[target]]);
        expectClose(convertBoxes(there, { source: target, target: source, imageShape: IMAGE }), [SAME_BOX[source]]);
      }
    }
  });

  it("needs imageShape only between relative and pixel formats; yolo is relCenterXywh", () => {
    expect(convertBoxes([[1, 2, 3, 4]], { source: "xyxy", target: "centerXywh" })).toEqual([[2, 3, 2, 2]]);
    expect(convertBoxes([[0.1, 0.2, 0.3, 0.4]], { source: "yolo", target: "relCenterXywh" })).toEqual([[0.1, 0.2, 0.3, 0.4]]);
    expect(convertBoxes([[0.1, 0.2, 0.3, 0.4]], { source: "relYxyx", target: "relXyxy" })).toEqual([[0.2, 0.1, 0.4, 0.3]]);
    // an image's [height, width, channels] works as imageShape
    expect(convertBoxes([[0, 0, 1, 1]], { source: "relXyxy", target: "xywh", imageShape: [4, 8, 3] })).toEqual([[0, 0, 8, 4]]);
    expect(convertBoxes([], { source: "xyxy", target: "yolo", imageShape: [4, 8] })).toEqual([]);
  });

  it("returns a float32 tensor of the same shape for tensors of rank 1, 2 and 3, with gradients", () => {
    const one = tf.tensor1d([10, 20, 50, 60]);
    const two = tf.tensor2d([SAME_BOX.xyxy, [0, 0, 200, 100]]);
    const three = tf.tensor3d([[SAME_BOX.xyxy], [[0, 0, 200, 100]]]);
    const ints = tf.tensor2d([[1, 2, 4, 7]], [1, 4], "int32");
    const before = tf.memory().numTensors;
    const a = convertBoxes(one, { source: "xyxy", target: "centerXywh" });
    expect(a.shape).toEqual([4]);
    expect(Array.from(a.dataSync())).toEqual([30, 40, 40, 40]);
    const b = convertBoxes(two, { source: "xyxy", target: "relXyxy", imageShape: IMAGE });
    expect(b.shape).toEqual([2, 4]);
    expectClose(b.arraySync() as number[][], [SAME_BOX.relXyxy, [0, 0, 1, 1]], 6);
    const c = convertBoxes(three, { source: "xyxy", target: "yxyx" });
    expect(c.shape).toEqual([2, 1, 4]);
    expect(c.arraySync()).toEqual([[SAME_BOX.yxyx], [[0, 0, 100, 200]]]);
    // int32 boxes are cast: the centre of 1..4 is 2.5, not a floor division's 2
    const d = convertBoxes(ints, { source: "xyxy", target: "centerXywh" });
    expect(d.dtype).toBe("float32");
    expect(d.arraySync()).toEqual([[2.5, 4.5, 3, 5]]);
    // the same format gives a copy, not the input itself
    const e = convertBoxes(two, { source: "xyxy", target: "xyxy" });
    expect(e).not.toBe(two);
    expect(e.arraySync()).toEqual(two.arraySync());
    tf.dispose([a, b, c, d, e]);
    expect(tf.memory().numTensors).toBe(before);
    // d(cx)/d(x1) = 0.5, d(w)/d(x1) = -1
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(convertBoxes(x, { source: "xyxy", target: "centerXywh" }), tf.tensor1d([1, 0, 1, 0]))))(one);
    expect(Array.from(g.dataSync())).toEqual([-0.5, 0, 1.5, 0]);
    tf.dispose([one, two, three, ints, g]);
  });

  it("says what is wrong in one line", () => {
    const bad = tf.zeros([2, 3]);
    const rank4 = tf.zeros([1, 1, 1, 4]);
    expect(errorOf(() => convertBoxes(bad, { source: "xyxy", target: "yxyx" }))).toBe(
      "convertBoxes: invalid boxes. Expected a tensor of shape [4], [N, 4] or [B, N, 4]. Received: boxes=Tensor<float32>[2,3].",
    );
    expect(errorOf(() => convertBoxes(rank4, { source: "xyxy", target: "yxyx" }))).toBe(
      "convertBoxes: invalid boxes. Expected a tensor of shape [4], [N, 4] or [B, N, 4]. Received: boxes=Tensor<float32>[1,1,1,4].",
    );
    expect(errorOf(() => convertBoxes([[1, 2, 3]], { source: "xyxy", target: "yxyx" }))).toBe("convertBoxes: invalid boxes[0]. Expected 4 finite numbers. Received: boxes[0]=[1, 2, 3].");
    expect(errorOf(() => convertBoxes([[1, 2, 3, 4], [0, NaN, 1, 1]], { source: "xyxy", target: "yxyx" }))).toBe(
      "convertBoxes: invalid boxes[1]. Expected 4 finite numbers. Received: boxes[1]=[0, NaN, 1, 1].",
    );
    expect(errorOf(() => convertBoxes([1, 2, 3, 4] as never, { source: "xyxy", target: "yxyx" }))).toBe(
      "convertBoxes: invalid boxes. Expected an array of boxes such as [[x1, y1, x2, y2]]; wrap a single box in brackets. Received: boxes=[1,2,3,4].",
    );
    expect(errorOf(() => convertBoxes([[1, 2, 3, 4]], { source: "xyxy", target: "yolo" }))).toBe(
      'convertBoxes: missing imageShape. Expected [height, width] to convert between a relative and a pixel format. Received: source="xyxy", target="yolo" without imageShape.',
    );
    expect(errorOf(() => convertBoxes([[1, 2, 3, 4]], { source: "relXyxy", target: "xyxy", imageShape: [0, 5] }))).toBe(
      "convertBoxes: invalid imageShape. Expected [height, width] (or an image's [height, width, channels]), positive integers. Received: imageShape=[0,5].",
    );
    expect(errorOf(() => convertBoxes([[1, 2, 3, 4]], { target: "xyxy" } as never))).toBe(
      'convertBoxes: missing source. Expected one of "xyxy", "yxyx", "xywh", "centerXywh", "relXyxy", "relYxyx", "relXywh", "relCenterXywh", "yolo" (box functions take an explicit format). Received: source=undefined.',
    );
    expect(errorOf(() => convertBoxes([[1, 2, 3, 4]], { source: "xyxy", target: "center_xywh" as never }))).toMatch(
      /^convertBoxes: invalid target\. Expected one of .*\. Received: target="center_xywh"\. Did you mean `centerXywh`\?$/,
    );
    expect(errorOf(() => convertBoxes([[1, 2, 3, 4]], { source: "xyxy", target: "yxyx", imageSize: [1, 1] } as never))).toMatch(
      /^convertBoxes: unknown option `imageSize`\. Expected one of .*\. Did you mean `imageShape`\?$/,
    );
    tf.dispose([bad, rank4]);
  });
});

describe("clipBoxes", () => {
  it("clips corners to the image in any format, arrays and tensors", () => {
    expect(clipBoxes([[-5, 10, 120, 40], [150, 0, 160, 10]], { format: "xyxy", imageShape: [50, 100] })).toEqual([
      [0, 10, 100, 40],
      [100, 0, 100, 10],
    ]);
    // xywh [90, 40, 20, 20] is x 90..110, y 40..60 -> x 90..100, y 40..50
    expect(clipBoxes([[90, 40, 20, 20]], { format: "xywh", imageShape: [50, 100] })).toEqual([[90, 40, 10, 10]]);
    expect(clipBoxes([[0.5, 0.5, 1.5, 0.25]], { format: "relCenterXywh" })).toEqual([[0.5, 0.5, 1, 0.25]]);
    const t = tf.tensor3d([[[-5, 10, 120, 40]]]);
    const before = tf.memory().numTensors;
    const c = clipBoxes(t, { format: "yxyx", imageShape: [50, 100] });
    expect(c.shape).toEqual([1, 1, 4]);
    expect(c.arraySync()).toEqual([[[0, 10, 50, 40]]]);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it("needs imageShape with pixel formats", () => {
    expect(errorOf(() => clipBoxes([[0, 0, 1, 1]], { format: "xyxy" }))).toBe('clipBoxes: missing imageShape. Expected [height, width] with the pixel format "xyxy". Received: imageShape=undefined.');
    expect(errorOf(() => clipBoxes([[0, 0, 1, 1]], {} as never))).toMatch(/^clipBoxes: missing format\. Expected one of "xyxy", .* \(box functions take an explicit format\)\. Received: format=undefined\.$/);
  });
});

describe("validateBoxes", () => {
  const boxes = [
    [0, 0, 10, 10], // fine
    [-5, 5, 20, 20], // sticks out on the left
    [10, 5, 4, 20], // inverted
    [120, 0, 130, 10], // wholly outside
    [3, 3, 3, 8], // no width, inside: kept
  ];

  it("rejects the first bad box by default, naming it", () => {
    expect(errorOf(() => validateBoxes("drawDetections", boxes.slice(2), { format: "xyxy" }))).toBe(
      'drawDetections: invalid boxes[0]. Expected x1 ≤ x2 and y1 ≤ y2 in format "xyxy". Received: boxes[0]=[10, 5, 4, 20].',
    );
    expect(errorOf(() => validateBoxes("drawDetections", boxes, { format: "xyxy", imageShape: [50, 100], onInvalid: "reject" }))).toBe(
      'drawDetections: invalid boxes[1]. Expected a box inside the image (x in [0, 100] and y in [0, 50]) in format "xyxy", or onInvalid: "clip". Received: boxes[1]=[-5, 5, 20, 20].',
    );
    expect(errorOf(() => validateBoxes("fit", [[0.5, 0.5, -0.1, 0.2]], { format: "yolo" }))).toBe(
      'fit: invalid boxes[0]. Expected width ≥ 0 and height ≥ 0 in format "yolo". Received: boxes[0]=[0.5, 0.5, -0.1, 0.2].',
    );
    expect(errorOf(() => validateBoxes("fit", [[0.2, 0.1, 0.6, 1.1]], { format: "relYxyx" }))).toBe(
      'fit: invalid boxes[0]. Expected a box inside the image (x and y in [0, 1]) in format "relYxyx", or onInvalid: "clip". Received: boxes[0]=[0.2, 0.1, 0.6, 1.1].',
    );
    // float32 rounding just past the border is no error
    expect(validateBoxes("fit", [[0, 0, 1.0000001, 1]], { format: "relXyxy" }).boxes).toEqual([[0, 0, 1.0000001, 1]]);
    // without imageShape, pixel boxes are only checked for inversion
    expect(validateBoxes("fit", [[-5, 5, 20, 20]], { format: "xyxy" }).kept).toEqual([0]);
  });

  it("clips and drops with onInvalid: clip, and says which in one line", () => {
    const out = validateBoxes("drawDetections", boxes, { format: "xyxy", imageShape: [50, 100], onInvalid: "clip" });
    expect(out.boxes).toEqual([
      [0, 0, 10, 10],
      [0, 5, 20, 20],
      [3, 3, 3, 8],
    ]);
    expect(out.kept).toEqual([0, 1, 4]);
    expect(out.clipped).toEqual([1]);
    expect(out.dropped).toEqual([2, 3]);
    expect(out.message).toBe("drawDetections: clipped boxes[1] to the 50x100 image; dropped boxes[2], boxes[3] (inverted, or outside the image).");
    const fine = validateBoxes("f", tf.tidy(() => tf.ones([2, 4])), { format: "centerXywh", imageShape: [4, 4], onInvalid: "clip" });
    expect(fine).toEqual({ boxes: [[1, 1, 1, 1], [1, 1, 1, 1]], kept: [0, 1], clipped: [], dropped: [] });
  });

  it("checks its own arguments", () => {
    expect(errorOf(() => validateBoxes("f", boxes, { format: "xyxy", onInvalid: "drop" as never }))).toBe('f: invalid onInvalid. Expected one of "clip", "reject". Received: onInvalid="drop".');
    expect(errorOf(() => validateBoxes("", boxes, { format: "xyxy" }))).toBe('validateBoxes: invalid unit. Expected the name of the calling function, such as "drawDetections". Received: unit="".');
  });
});
