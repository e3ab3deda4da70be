import * as tf from "@tensorflow/tfjs";
import { Random } from "@convlab/engine";
import { convertBoxes } from "./boxes";
import { nonMaxSuppression } from "./nms";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

// IoU(0, 1) = 90 / 110 = 0.82; IoU(0, 3) = 100 / 200 = 0.5 exactly; IoU(1, 3) = 90 / 210 = 0.43; box 2 is apart.
const BOXES = [
  [0, 0, 10, 10],
  [1, 0, 11, 10],
  [20, 20, 30, 30],
  [0, 0, 10, 20],
];
const SCORES = [0.9, 0.8, 0.7, 0.95];

describe("nonMaxSuppression", () => {
  it("keeps the best box of each cluster, best first (hand-computed)", () => {
    // 3 first; 0 stays (IoU exactly 0.5 is not above 0.5); 1 goes (0.82 with 0); 2 is apart.
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy" })).toEqual({
      boxes: [BOXES[3], BOXES[0], BOXES[2]],
      scores: [0.95, 0.9, 0.7],
      classes: [0, 0, 0],
      indices: [3, 0, 2],
    });
    // Greedy: at 0.45, 3 removes 0, so 1 (0.43 with 3) survives.
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", iouThreshold: 0.45 }).indices).toEqual([3, 1, 2]);
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", scoreThreshold: 0.75 }).indices).toEqual([3, 0]);
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", scoreThreshold: 0.7 }).indices).toEqual([3, 0]); // above, not at
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", maxDetections: 2 }).indices).toEqual([3, 0]);
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", iouThreshold: 1 }).indices).toEqual([3, 0, 1, 2]);
    expect(nonMaxSuppression([], [], { format: "xyxy" })).toEqual({ boxes: [], scores: [], classes: [], indices: [] });
  });

  it("reads any format and returns the boxes in it", () => {
    const yxyx = convertBoxes(BOXES, { source: "xyxy", target: "yxyx" });
    const out = nonMaxSuppression(yxyx, SCORES, { format: "yxyx" });
    expect(out.indices).toEqual([3, 0, 2]);
    expect(out.boxes).toEqual([yxyx[3], yxyx[0], yxyx[2]]);
    const rel = convertBoxes(BOXES, { source: "xyxy", target: "relCenterXywh", imageShape: [40, 40] });
    expect(nonMaxSuppression(rel, SCORES, { format: "relCenterXywh", iouThreshold: 0.45 }).indices).toEqual([3, 1, 2]);
  });

  it("keeps the lower index first on equal scores", () => {
    const same = [
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ];
    expect(nonMaxSuppression(same, [0.5, 0.5, 0.5], { format: "xyxy" }).indices).toEqual([0]);
    expect(nonMaxSuppression(same, [0.4, 0.5, 0.5], { format: "xyxy" }).indices).toEqual([1]);
    expect(nonMaxSuppression([[5, 5, 6, 6], [0, 0, 1, 1], [9, 9, 10, 10]], [0.5, 0.5, 0.5], { format: "xyxy" }).indices).toEqual([0, 1, 2]);
  });

  it("suppresses within a class when classes are given", () => {
    const classes = [0, 1, 0, 1];
    // 3 (class 1) does not touch 0 (class 0); 1 (class 1) has 0.43 with 3: kept; 0 and 2 kept.
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", classes, iouThreshold: 0.4 })).toEqual({
      boxes: [BOXES[3], BOXES[0], BOXES[2]],
      scores: [0.95, 0.9, 0.7],
      classes: [1, 0, 0],
      indices: [3, 0, 2],
    });
    expect(nonMaxSuppression(BOXES, SCORES, { format: "xyxy", classes, iouThreshold: 0.45 }).indices).toEqual([3, 0, 1, 2]);
    // class-agnostic with perClass: false, classes still reported
    const agnostic = nonMaxSuppression(BOXES, SCORES, { format: "xyxy", classes, perClass: false, iouThreshold: 0.45 });
    expect(agnostic.indices).toEqual([3, 1, 2]);
    expect(agnostic.classes).toEqual([1, 1, 0]);
  });

  it("reads tensors without disposing or leaking", () => {
    const boxes = tf.tensor2d(BOXES);
    const scores = tf.tensor1d(SCORES);
    const classes = tf.tensor1d([0, 1, 0, 1], "int32");
    nonMaxSuppression(boxes, scores, { format: "xyxy", classes });
    const before = tf.memory().numTensors;
    const out = nonMaxSuppression(boxes, scores, { format: "xyxy", classes, iouThreshold: 0.45 });
    expect(out.indices).toEqual([3, 0, 1, 2]);
    expect(out.scores.map((s) => Math.round(s * 100) / 100)).toEqual([0.95, 0.9, 0.8, 0.7]);
    expect(out.classes).toEqual([1, 0, 1, 0]);
    expect(tf.memory().numTensors).toBe(before);
    expect(boxes.isDisposed).toBe(false);
    tf.dispose([boxes, scores, classes]);
  });

  it("selects what tf.image.nonMaxSuppression selects on random boxes, and per class what one tf NMS per class selects", () => {
    const rng = new Random(3);
    const n = 300;
    const rows = Array.from({ length: n }, () => {
      const [x, y] = [rng.uniform(0, 100), rng.uniform(0, 100)];
      return [x, y, x + rng.uniform(2, 40), y + rng.uniform(2, 40)];
    });
    const scoreList = Array.from({ length: n }, () => rng.uniform(0, 1));
    const classList = Array.from({ length: n }, () => Math.floor(rng.uniform(0, 3)));
    const boxes = tf.tensor2d(rows);
    const yxyx = tf.tidy(() => tf.gather(boxes, [1, 0, 3, 2], 1));
    const scores = tf.tensor1d(scoreList);
    for (const [iouThreshold, scoreThreshold, maxDetections] of [
      [0.5, 0, 100],
      [0.3, 0.2, 40],
      [0.7, 0.5, 300],
    ]) {
      const expected = tf.tidy(() => Array.from(tf.image.nonMaxSuppression(yxyx as tf.Tensor2D, scores as tf.Tensor1D, maxDetections, iouThreshold, scoreThreshold).dataSync()));
      const ours = nonMaxSuppression(boxes, scores, { format: "xyxy", iouThreshold, scoreThreshold, maxDetections });
      expect(ours.indices.length).toBeGreaterThan(5);
      expect(ours.indices).toEqual(expected);

      const perClass: number[] = [];
      for (const c of [0, 1, 2]) {
        const members = classList.flatMap((k, i) => (k === c ? [i] : []));
        const picked = tf.tidy(() => {
          const sub = tf.image.nonMaxSuppression(tf.gather(yxyx, members) as tf.Tensor2D, tf.gather(scores, members) as tf.Tensor1D, maxDetections, iouThreshold, scoreThreshold);
          return Array.from(sub.dataSync(), (k) => members[k]);
        });
        perClass.push(...picked);
      }
      perClass.sort((i, j) => scoreList[j] - scoreList[i] || i - j);
      expect(nonMaxSuppression(rows, scoreList, { format: "xyxy", iouThreshold, scoreThreshold, maxDetections, classes: classList }).indices).toEqual(
        perClass.slice(0, maxDetections),
      );
    }
    tf.dispose([boxes, yxyx, scores]);
  });

  it("says what is wrong in one line", () => {
    const fmt = { format: "xyxy" as const };
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, { ...fmt, iouThreshold: 1.5 }))).toBe("nonMaxSuppression: invalid iouThreshold. Expected a number in [0, 1]. Received: iouThreshold=1.5.");
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, { ...fmt, scoreThreshold: -0.1 }))).toBe(
      "nonMaxSuppression: invalid scoreThreshold. Expected a number in [0, 1]. Received: scoreThreshold=-0.1.",
    );
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, { ...fmt, maxDetections: 0 }))).toBe("nonMaxSuppression: invalid maxDetections. Expected an integer >= 1. Received: maxDetections=0.");
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES.slice(1), fmt))).toBe("nonMaxSuppression: invalid scores. Expected one per box (4). Received: 3 scores.");
    expect(errorOf(() => nonMaxSuppression(BOXES, [0.1, NaN, 0.2, 0.3], fmt))).toBe("nonMaxSuppression: invalid scores[1]. Expected a number. Received: scores[1]=NaN.");
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, { ...fmt, classes: [0, 0.5, 1, 1] }))).toBe(
      "nonMaxSuppression: invalid classes[1]. Expected an integer class id. Received: classes[1]=0.5.",
    );
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, { ...fmt, perClass: true }))).toBe(
      "nonMaxSuppression: invalid perClass. Expected classes (one class id per box) with perClass: true. Received: perClass=true without classes.",
    );
    const column = tf.zeros([4, 1]);
    const wide = tf.zeros([4, 5]);
    expect(errorOf(() => nonMaxSuppression(BOXES, column, fmt))).toBe(
      "nonMaxSuppression: invalid scores. Expected a [N] tensor, one value per box (N = 4). Received: scores=Tensor<float32>[4,1].",
    );
    expect(errorOf(() => nonMaxSuppression(wide, SCORES, fmt))).toBe("nonMaxSuppression: invalid boxes. Expected a tensor of shape [N, 4]. Received: boxes=Tensor<float32>[4,5].");
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, { format: "xyxy", iouTreshold: 0.3 } as never))).toMatch(
      /^nonMaxSuppression: unknown option `iouTreshold`\. Expected one of .*\. Did you mean `iouThreshold`\?$/,
    );
    expect(errorOf(() => nonMaxSuppression(BOXES, SCORES, {} as never))).toMatch(/^nonMaxSuppression: missing format\./);
    tf.dispose([column, wide]);
  });
});
