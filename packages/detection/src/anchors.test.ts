import * as tf from "@tensorflow/tfjs";
import { Random } from "@convlab/engine";
import { anchorGrid, decodeBoxes, encodeBoxes, MATCH_IGNORE, MATCH_NEGATIVE, matchAnchors } from "./anchors";
import { convertBoxes } from "./boxes";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function expectClose(actual: unknown, expected: unknown, digits = 5): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual) && actual.length).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, digits));
  } else {
    expect(actual).toBeCloseTo(expected as number, digits);
  }
}

describe("anchorGrid", () => {
  it("puts one anchor per size and ratio at each cell centre, row by row (hand-computed)", () => {
    // 4 high x 8 wide, a 2x2 feature map: cells of 2 x 4 pixels, centres x 2, 6 and y 1, 3.
    // ratio 1: 2 x 2; ratio 4: w = 2·√4 = 4, h = 2/√4 = 1.
    const anchors = anchorGrid({ imageShape: [4, 8], featureShape: [2, 2], sizes: [2], aspectRatios: [1, 4] });
    expect(anchors.shape).toEqual([8, 4]);
    expect(anchors.dtype).toBe("float32");
    expect(anchors.arraySync()).toEqual([
      [2, 1, 2, 2],
      [2, 1, 4, 1],
      [6, 1, 2, 2],
      [6, 1, 4, 1],
      [2, 3, 2, 2],
      [2, 3, 4, 1],
      [6, 3, 2, 2],
      [6, 3, 4, 1],
    ]);
    anchors.dispose();
    // sizes before ratios within a cell; a feature map's [h, w, channels] works as featureShape
    const two = anchorGrid({ imageShape: [2, 2], featureShape: [1, 1, 256], sizes: [1, 2], aspectRatios: [1, 4] });
    expect(two.arraySync()).toEqual([
      [1, 1, 1, 1],
      [1, 1, 2, 0.5],
      [1, 1, 2, 2],
      [1, 1, 4, 1],
    ]);
    two.dispose();
  });

  it("says what is wrong in one line", () => {
    const ok = { imageShape: [64, 64], featureShape: [8, 8], sizes: [16], aspectRatios: [1] };
    expect(errorOf(() => anchorGrid({ ...ok, featureShape: [0, 2] }))).toBe(
      "anchorGrid: invalid featureShape. Expected [height, width] (or a feature map's [height, width, channels]), positive integers. Received: featureShape=[0,2].",
    );
    expect(errorOf(() => anchorGrid({ ...ok, featureShape: undefined } as never))).toBe("anchorGrid: missing featureShape. Expected [height, width] of the feature map. Received: featureShape=undefined.");
    expect(errorOf(() => anchorGrid({ ...ok, sizes: [] }))).toBe("anchorGrid: invalid sizes. Expected a non-empty array of positive numbers such as [16, 32]. Received: sizes=[].");
    expect(errorOf(() => anchorGrid({ ...ok, aspectRatios: [1, 0] }))).toBe(
      "anchorGrid: invalid aspectRatios. Expected a non-empty array of positive numbers such as [0.5, 1, 2]. Received: aspectRatios=[1,0].",
    );
    expect(errorOf(() => anchorGrid({ ...ok, ratios: [1] } as never))).toMatch(/^anchorGrid: unknown option `ratios`\./);
  });
});

describe("encodeBoxes and decodeBoxes", () => {
  // anchor: centre (16, 20), 8 x 20 = xyxy [12, 10, 20, 30]
  const anchor = [16, 20, 8, 20];
  // box xyxy [14, 15, 30, 55]: centre (22, 35), 16 x 40 -> tx = 6/8, ty = 15/20, tw = th = log 2
  const box = [14, 15, 30, 55];

  it("gives Faster R-CNN's deltas (hand-computed), divided by the variance", () => {
    expect(encodeBoxes([[12, 10, 20, 30]], [anchor], { format: "xyxy" })).toEqual([[0, 0, 0, 0]]);
    expect(encodeBoxes([box], [anchor], { format: "xyxy" })).toEqual([[0.75, 0.75, Math.log(2), Math.log(2)]]);
    expectClose(encodeBoxes([box], [anchor], { format: "xyxy", variance: [0.1, 0.1, 0.2, 0.2] }), [[7.5, 7.5, Math.log(2) / 0.2, Math.log(2) / 0.2]], 12);
    // anchors in another format
    expect(encodeBoxes([box], [[12, 10, 20, 30]], { format: "xyxy", anchorFormat: "xyxy" })).toEqual([[0.75, 0.75, Math.log(2), Math.log(2)]]);
    // relative boxes and anchors give the same deltas as pixels
    const rel = convertBoxes([box], { source: "xyxy", target: "relXyxy", imageShape: [80, 40] });
    const relAnchor = convertBoxes([anchor], { source: "centerXywh", target: "relCenterXywh", imageShape: [80, 40] });
    expectClose(encodeBoxes(rel, relAnchor, { format: "relXyxy", anchorFormat: "relCenterXywh" }), [[0.75, 0.75, Math.log(2), Math.log(2)]], 12);
  });

  it("decodes exactly what it encoded, arrays and tensors, in any format and variance", () => {
    expect(decodeBoxes([[0.75, 0.75, Math.log(2), Math.log(2)]], [anchor], { format: "xyxy" })).toEqual([box]);
    const rng = new Random(11);
    const anchors = Array.from({ length: 50 }, () => [rng.uniform(0, 100), rng.uniform(0, 100), rng.uniform(4, 40), rng.uniform(4, 40)]);
    const boxes = Array.from({ length: 50 }, () => {
      const [x, y] = [rng.uniform(0, 100), rng.uniform(0, 100)];
      return [x, y, x + rng.uniform(1, 50), y + rng.uniform(1, 50)];
    });
    for (const variance of [undefined, [0.1, 0.1, 0.2, 0.2]]) {
      const deltas = encodeBoxes(boxes, anchors, { format: "xyxy", variance });
      expectClose(decodeBoxes(deltas, anchors, { format: "xyxy", variance }), boxes, 9);
      const t = tf.tensor2d(boxes);
      const a = tf.tensor2d(anchors);
      const before = tf.memory().numTensors;
      const dt = encodeBoxes(t, a, { format: "xyxy", variance });
      expect(dt.shape).toEqual([50, 4]);
      expectClose(dt.arraySync(), deltas, 3);
      const back = decodeBoxes(dt, a, { format: "xyxy", variance });
      expectClose(back.arraySync(), boxes, 3);
      tf.dispose([dt, back]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([t, a]);
    }
    // a batch of boxes against shared anchors; decoding into another format
    const t = tf.tensor3d([[box], [[12, 10, 20, 30]]]);
    const a = tf.tensor2d([anchor]);
    const d = encodeBoxes(t, a, { format: "xyxy" });
    expect(d.shape).toEqual([2, 1, 4]);
    expectClose(d.arraySync(), [[[0.75, 0.75, Math.log(2), Math.log(2)]], [[0, 0, 0, 0]]]);
    const c = decodeBoxes(d, a, { format: "centerXywh" });
    expectClose(c.arraySync(), [[[22, 35, 16, 40]], [anchor]]);
    tf.dispose([t, a, d, c]);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => encodeBoxes([box], [anchor], { format: "xyxy", variance: [1, 1] }))).toBe(
      "encodeBoxes: invalid variance. Expected 4 positive numbers such as [0.1, 0.1, 0.2, 0.2]. Received: variance=[1,1].",
    );
    expect(errorOf(() => encodeBoxes([[5, 5, 5, 9]], [anchor], { format: "xyxy" }))).toBe(
      'encodeBoxes: invalid boxes[0]. Expected width > 0 and height > 0 (tw = log(w / wa)). Received: boxes[0]=[5, 5, 5, 9] in format "xyxy".',
    );
    expect(errorOf(() => decodeBoxes([[0, 0, 0, 0]], [[1, 1, 0, 2]], { format: "xyxy" }))).toBe(
      'decodeBoxes: invalid anchors[0]. Expected width > 0 and height > 0. Received: anchors[0]=[1, 1, 0, 2] in format "centerXywh".',
    );
    expect(errorOf(() => encodeBoxes([box, box], [anchor], { format: "xyxy" }))).toBe("encodeBoxes: invalid anchors. Expected one anchor per box (2). Received: 1 anchors.");
    expect(errorOf(() => encodeBoxes([box], [anchor], { format: "relXyxy" }))).toBe(
      'encodeBoxes: invalid format. Expected boxes and anchors both in pixels or both relative (anchorFormat="centerXywh"); convert one with convertBoxes. Received: format="relXyxy".',
    );
    const deltas = tf.zeros([2, 3, 4]);
    const anchors = tf.zeros([2, 4]);
    const flat = tf.zeros([12]);
    expect(errorOf(() => decodeBoxes(deltas, anchors, { format: "xyxy" }))).toBe(
      "decodeBoxes: invalid anchors. Expected [3, 4], one anchor per box of deltas Tensor<float32>[2,3,4]. Received: anchors=Tensor<float32>[2,4].",
    );
    expect(errorOf(() => decodeBoxes(flat, anchors, { format: "xyxy" }))).toBe("decodeBoxes: invalid deltas. Expected a tensor of shape [N, 4] or [B, N, 4]. Received: deltas=Tensor<float32>[12].");
    expect(errorOf(() => decodeBoxes(deltas, anchors, {} as never))).toMatch(/^decodeBoxes: missing format\./);
    tf.dispose([deltas, anchors, flat]);
  });
});

describe("matchAnchors", () => {
  // anchors in centerXywh; their xyxy in the comments
  const anchors = [
    [5, 5, 10, 10], // [0, 0, 10, 10]
    [15, 5, 10, 10], // [10, 0, 20, 10]
    [5, 15, 10, 10], // [0, 10, 10, 20]
    [15, 15, 10, 10], // [10, 10, 20, 20]
    [30, 30, 2, 2], // [29, 29, 31, 31]
    [5, 9, 10, 10], // [0, 4, 10, 14]
  ];
  const gt = [
    [0, 0, 10, 10], // anchor 0: IoU 1; anchor 5: 60 / 140 = 0.43
    [10, 0, 20, 8], // anchor 1: 80 / 100 = 0.8
    [12, 12, 16, 16], // anchor 3: 16 / 100 = 0.16, below both thresholds: forced
  ];

  it("matches above positiveIou, ignores between, forces every box onto its best anchor (hand-computed)", () => {
    expect(matchAnchors(anchors, gt, { format: "xyxy" })).toEqual([0, 1, MATCH_NEGATIVE, 2, MATCH_NEGATIVE, MATCH_IGNORE]);
    expect([MATCH_NEGATIVE, MATCH_IGNORE]).toEqual([-1, -2]);
    // SSD: one threshold, no ignored anchors
    expect(matchAnchors(anchors, gt, { format: "xyxy", positiveIou: 0.5, negativeIou: 0.5 })).toEqual([0, 1, -1, 2, -1, -1]);
    // a lower positiveIou makes anchor 5 positive; the negative threshold follows it down
    expect(matchAnchors(anchors, gt, { format: "xyxy", positiveIou: 0.3 })).toEqual([0, 1, -1, 2, -1, 0]);
    expect(matchAnchors(anchors, [], { format: "xyxy" })).toEqual([-1, -1, -1, -1, -1, -1]);
  });

  it("gives a shared best anchor to the box with the higher IoU; a box touching no anchor stays unmatched", () => {
    const two = [
      [5, 5, 10, 10],
      [105, 105, 10, 10],
    ];
    // both boxes' best anchor is 0: IoU 0.25 and 0.64; the third box overlaps nothing
    expect(matchAnchors(two, [[0, 0, 5, 5], [0, 0, 8, 8], [50, 50, 60, 60]], { format: "xyxy" })).toEqual([1, -1]);
    expect(matchAnchors(two, [[0, 0, 8, 8], [0, 0, 5, 5]], { format: "xyxy" })).toEqual([0, -1]);
  });

  it("takes anchorGrid's tensor and tensors of boxes without leaking", () => {
    const grid = anchorGrid({ imageShape: [20, 20], featureShape: [2, 2], sizes: [10], aspectRatios: [1] });
    const boxes = tf.tensor2d(gt);
    const before = tf.memory().numTensors;
    expect(matchAnchors(grid, boxes, { format: "xyxy" })).toEqual([0, 1, -1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([grid, boxes]);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => matchAnchors(anchors, gt, { format: "xyxy", negativeIou: 0.6 }))).toBe(
      "matchAnchors: invalid negativeIou. Expected a number in [0, positiveIou = 0.5]. Received: negativeIou=0.6.",
    );
    expect(errorOf(() => matchAnchors(anchors, gt, { format: "xyxy", positiveIou: 2 }))).toBe("matchAnchors: invalid positiveIou. Expected a number in [0, 1]. Received: positiveIou=2.");
    expect(errorOf(() => matchAnchors(anchors, [[0, 0, 1]], { format: "xyxy" }))).toBe("matchAnchors: invalid gtBoxes[0]. Expected 4 finite numbers. Received: gtBoxes[0]=[0, 0, 1].");
    expect(errorOf(() => matchAnchors(anchors, gt, { format: "yolo" }))).toBe(
      'matchAnchors: invalid format. Expected boxes and anchors both in pixels or both relative (anchorFormat="centerXywh"); convert one with convertBoxes. Received: format="yolo".',
    );
  });
});
