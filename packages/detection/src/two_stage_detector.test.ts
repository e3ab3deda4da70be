import * as tf from "@tensorflow/tfjs";
import { Adam } from "@convlab/layers";
import { encodeBoxes } from "./anchors";
import { trainDetector } from "./detector";
import type { ImageTargets } from "./detector";
import { TwoStageDetector, twoStageDetector } from "./two_stage_detector";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function rounded(rows: number[][], digits = 4): number[][] {
  return rows.map((row) => row.map((v) => Math.round(v * 10 ** digits) / 10 ** digits));
}

/**
 * Four 32 x 32 scenes of filled squares on a dark background: class 0 red, class 1 green,
 * boxes pixel xyxy.
 */
function tinyScenes(): { images: tf.Tensor4D; targets: ImageTargets[] } {
  const scenes: ImageTargets[] = [
    { boxes: [[4, 4, 16, 16], [18, 14, 30, 28]], classes: [0, 1] },
    { boxes: [[10, 2, 22, 14]], classes: [1] },
    { boxes: [[2, 16, 12, 28], [16, 4, 28, 16]], classes: [0, 0] },
    { boxes: [[12, 12, 26, 26]], classes: [0] },
  ];
  const pixels = new Float32Array(4 * 32 * 32 * 3).fill(0.1);
  scenes.forEach((scene, n) =>
    scene.boxes.forEach(([x1, y1, x2, y2], k) => {
      for (let y = y1; y < y2; y++) {
        for (let x = x1; x < x2; x++) {
          const p = ((n * 32 + y) * 32 + x) * 3;
          pixels[p] = scene.classes[k] === 0 ? 0.9 : 0.1;
          pixels[p + 1] = scene.classes[k] === 1 ? 0.9 : 0.1;
        }
      }
    }),
  );
  return { images: tf.tensor4d(pixels, [4, 32, 32, 3]), targets: scenes };
}

describe("TwoStageDetector", () => {
  const base = { numClasses: 2, imageShape: [32, 32] as [number, number], seed: 7 };

  it("holds every weight in one model: backbone to stride 8, RPN and RoI head", () => {
    const detector = twoStageDetector(base);
    expect(detector).toBeInstanceOf(TwoStageDetector);
    expect(detector.name).toBe("two_stage");
    const names = detector.model.layers.map((l) => l.name);
    for (const name of ["image", "block3b_pool", "rpn_conv", "rpn_objectness", "rpn_box_deltas", "roi_features", "roi_fc1", "roi_fc2", "roi_class_logits", "roi_box_deltas"]) {
      expect(names).toContain(name);
    }
    expect(names.some((n) => n.startsWith("block4"))).toBe(false); // the stride-16 blocks are not used
    // 9 anchors per cell of the 4 x 4 map; heads: A objectness, 4A deltas, C + 1 logits, 4C deltas
    expect(detector.gridShape).toEqual([4, 4]);
    expect(detector.numAnchors).toBe(4 * 4 * 9);
    expect(detector.model.outputs.map((o) => o.shape)).toEqual([
      [null, 4, 4, 9],
      [null, 4, 4, 36],
      [null, 3],
      [null, 8],
    ]);
    expect(detector.model.inputs.map((i) => i.shape)).toEqual([
      [null, 32, 32, 3],
      [null, 7, 7, 64],
    ]);
    detector.dispose();
  });

  it("samples RPN anchors: positives at IoU ≥ 0.7 (at most half), negatives below 0.3, none in between (hand-made boxes)", () => {
    // One anchor per cell: 16 x 16 squares centred on the 8 x 8 cells of 8 pixels: centres 4, 12, 20, …
    const detector = new TwoStageDetector({ numClasses: 2, imageShape: [64, 64], anchorSizes: [16], aspectRatios: [1], seed: 1 });
    expect(detector.numAnchors).toBe(64);
    // [4, 4, 20, 20] is the anchor of cell (1, 1) itself (IoU 1); its four edge neighbours overlap it
    // with IoU 128 / 384 = 1/3 (ignored), the rest below 0.3 (negatives): 1 positive, 59 negatives.
    const one = detector.rpnTargets([{ boxes: [[4, 4, 20, 20]], classes: [0] }]);
    expect(one.numPositive).toEqual([1]);
    expect(one.numNegative).toEqual([59]);
    const cell = 1 * 8 + 1;
    expect(one.positive[cell]).toBe(1);
    expect(Array.from(one.boxes.subarray(4 * cell, 4 * cell + 4))).toEqual([0, 0, 0, 0]);
    for (const ignored of [1, 8, 10, 17]) expect(one.sampled[ignored]).toBe(0);
    expect(one.sampled.reduce((s, v) => s + v, 0)).toBe(60);

    // A shifted box: its best anchor is forced positive even below 0.7; the target is its encoding.
    const shifted = detector.rpnTargets([{ boxes: [[6, 4, 22, 24]], classes: [1] }]);
    expect(shifted.numPositive).toEqual([1]);
    const expected = encodeBoxes([[6, 4, 22, 24]], [[12, 12, 16, 16]], { format: "xyxy" })[0];
    expect(Array.from(shifted.boxes.subarray(4 * cell, 4 * cell + 4))).toEqual(expected.map(Math.fround));

    // At most rpnPositiveFraction of rpnBatchSizePerImage positives; negatives fill the rest; an image without boxes is all negatives.
    const small = new TwoStageDetector({ numClasses: 2, imageShape: [64, 64], anchorSizes: [16], aspectRatios: [1], rpnBatchSizePerImage: 4, seed: 1 });
    const many = small.rpnTargets([
      { boxes: [[4, 4, 20, 20], [36, 4, 52, 20], [4, 36, 20, 52]], classes: [0, 1, 0] },
      { boxes: [], classes: [] },
    ]);
    expect(many.numPositive).toEqual([2, 0]);
    expect(many.numNegative).toEqual([2, 4]);
    expect(many.sampled.subarray(0, 64).reduce((s, v) => s + v, 0)).toBe(4);
    expect(many.positive.subarray(64).reduce((s, v) => s + v, 0)).toBe(0);
    // seeded: the same draw again from a detector of the same seed
    const again = new TwoStageDetector({ numClasses: 2, imageShape: [64, 64], anchorSizes: [16], aspectRatios: [1], rpnBatchSizePerImage: 4, seed: 1 });
    expect(Array.from(again.rpnTargets([{ boxes: [[4, 4, 20, 20], [36, 4, 52, 20], [4, 36, 20, 52]], classes: [0, 1, 0] }, { boxes: [], classes: [] }]).sampled)).toEqual(Array.from(many.sampled));
    [detector, small, again].forEach((d) => d.dispose());
  });

  it("samples RoIs from proposals and ground truth: class k + 1 at IoU ≥ 0.5, else background, at most boxPositiveFraction positive", () => {
    const detector = new TwoStageDetector({ ...base, boxBatchSizePerImage: 4, boxPositiveFraction: 0.5 });
    const proposals = [
      [
        [4, 4, 20, 20], // IoU 1 with the box
        [6, 4, 22, 20], // IoU 224 / 288 = 0.78
        [20, 20, 30, 30], // IoU 0
        [12, 4, 28, 20], // IoU 128 / 384 = 0.33: background
      ],
      [[0, 0, 8, 8]],
    ];
    const [first, second] = detector.roiTargets(proposals, [
      { boxes: [[4, 4, 20, 20]], classes: [1] },
      { boxes: [], classes: [] },
    ]);
    // 3 positive candidates (two proposals and the box itself), 2 kept; 2 of the 2 background proposals
    expect(first.labels).toEqual([2, 2, 0, 0]);
    expect(first.boxes).toHaveLength(4);
    first.boxes.slice(0, 2).forEach((box, k) => {
      // each positive's target is the box encoded against it (variance 0.1, 0.1, 0.2, 0.2)
      const want = encodeBoxes([[4, 4, 20, 20]], [box], { format: "xyxy", anchorFormat: "xyxy", variance: [0.1, 0.1, 0.2, 0.2] })[0];
      expect(rounded([first.deltas[k]])).toEqual(rounded([want]));
    });
    expect(first.boxes.slice(2).sort()).toEqual([
      [12, 4, 28, 20],
      [20, 20, 30, 30],
    ]);
    expect(first.deltas.slice(2)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    // without ground truth every proposal is background
    expect(second).toEqual({ boxes: [[0, 0, 8, 8]], labels: [0], deltas: [[0, 0, 0, 0]] });
    detector.dispose();
  });

  it("decodes hand-made head outputs: per-class deltas, softmax scores, clipping, threshold", () => {
    const detector = new TwoStageDetector(base);
    const proposals = [
      [
        [4, 4, 20, 20],
        [10, 10, 30, 30],
      ],
      [],
    ];
    // RoI 0: class 0 (logit 5), its deltas move the centre by 1 · 0.1 · 16 = 1.6 pixels right.
    // RoI 1: class 1, its deltas double the width: tw = ln 2 / 0.2 → [0, 10, 40, 30], clipped to [0, 10, 32, 30].
    const logits = tf.tensor2d([
      [0, 5, 0],
      [0, 0, 5],
    ]);
    const deltas = tf.tensor2d([
      [1, 0, 0, 0, 9, 9, 9, 9],
      [9, 9, 9, 9, 0, 0, Math.log(2) / 0.2, 0],
    ]);
    const [found, empty] = detector.decodeOutput(proposals, logits, deltas, { scoreThreshold: 0.5 });
    const score = Math.exp(5) / (Math.exp(5) + 2);
    expect(rounded(found.boxes)).toEqual([
      [5.6, 4, 21.6, 20],
      [0, 10, 32, 30],
    ]);
    expect(found.scores.map((s) => Math.round(s * 1e5) / 1e5)).toEqual([score, score].map((s) => Math.round(s * 1e5) / 1e5));
    expect(found.classes).toEqual([0, 1]);
    expect(empty).toEqual({ boxes: [], scores: [], classes: [] });
    // a low threshold lets the other classes in too: 2 RoIs x 2 classes
    const all = detector.decodeOutput(proposals, logits, deltas, { scoreThreshold: 0.001, iouThreshold: 1 });
    expect(all[0].boxes).toHaveLength(4);
    expect(errorOf(() => detector.decodeOutput(proposals, tf.zeros([2, 2]), deltas))).toBe(
      "TwoStageDetector.decodeOutput: invalid classLogits. Expected shape [2, 3] (one row per proposal, background first). Received: classLogits=Tensor<float32>[2,2].",
    );
    expect(errorOf(() => detector.decodeOutput(proposals, logits, tf.zeros([2, 4])))).toBe(
      "TwoStageDetector.decodeOutput: invalid boxDeltas. Expected shape [2, 8] (4 deltas per class and proposal). Received: boxDeltas=Tensor<float32>[2,4].",
    );
    tf.dispose([logits, deltas]);
    detector.dispose();
  });

  it("gives every trainable weight a gradient (backbone, RPN and head)", () => {
    const { images, targets } = tinyScenes();
    const detector = new TwoStageDetector(base);
    const weights = detector.model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    expect(weights.length).toBe(26); // 4 convs + 4 batch norms (γ, β), 3 RPN convs, 4 Dense layers: kernels and biases
    const { value, grads } = tf.variableGrads(() => detector.computeLoss(images, targets, true).loss, weights);
    for (const w of weights) {
      expect(grads[w.name]).toBeDefined();
      expect(tf.tidy(() => grads[w.name].abs().sum().dataSync()[0])).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads), images]);
    detector.dispose();
  });

  it("learns a tiny fixed batch: every part of the loss falls", async () => {
    const { images, targets } = tinyScenes();
    // A small backbone without BatchNormalization (and the `backbone` option at work).
    const input = tf.input({ shape: [32, 32, 3] });
    let x = input;
    for (const filters of [8, 16, 16]) {
      x = tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", activation: "relu" }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    }
    const detector = new TwoStageDetector({ ...base, backbone: tf.model({ inputs: input, outputs: x }), headUnits: 64 });
    expect(detector.model.inputs[1].shape).toEqual([null, 7, 7, 16]);
    const history = await trainDetector(detector, { images, targets }, { epochs: 30, batchSize: 4, verbose: 0, seed: 1, optimizer: Adam({ learningRate: 3e-3 }) });
    expect(Object.keys(history.history).sort()).toEqual(["box_loss", "class_loss", "loss", "rpn_box_loss", "rpn_objectness_loss"]);
    const mean = (v: number[]) => v.slice(-5).reduce((s, e) => s + e, 0) / 5;
    const { loss, rpn_objectness_loss: objectness, class_loss: classes } = history.history;
    expect(mean(loss)).toBeLessThan(0.5 * loss[0]);
    expect(mean(objectness)).toBeLessThan(0.5 * objectness[0]);
    expect(mean(classes)).toBeLessThan(0.5 * classes[0]);
    // detect runs on the trained model: pixel boxes inside the image, classes in range
    const found = detector.detect(images, { scoreThreshold: 0, maxDetections: 5 });
    expect(found.map((d) => d.boxes.length)).toEqual([5, 5, 5, 5]);
    for (const d of found) {
      for (const [x1, y1, x2, y2] of d.boxes) expect(x1 >= 0 && y1 >= 0 && x2 <= 32 && y2 <= 32 && x2 > x1 && y2 > y1).toBe(true);
      for (const c of d.classes) expect(c === 0 || c === 1).toBe(true);
    }
    images.dispose();
    detector.dispose();
  });

  it("leaks no tensor in computeLoss, detect, propose and dispose", () => {
    const { images, targets } = tinyScenes();
    const start = tf.memory().numTensors;
    const detector = new TwoStageDetector(base);
    const loss = () => tf.tidy(() => detector.computeLoss(images, targets, false).loss);
    loss().dispose();
    detector.detect(images, { scoreThreshold: 0 });
    detector.propose(images);
    const before = tf.memory().numTensors;
    loss().dispose();
    const detections = detector.detect(images, { scoreThreshold: 0 });
    const proposals = detector.propose(images);
    expect(tf.memory().numTensors).toBe(before);
    expect(detections).toHaveLength(4);
    expect(proposals).toHaveLength(4);
    proposals.forEach((p) => expect(p.boxes.length).toBeLessThanOrEqual(30));
    // an image without objects trains too (background RoIs, negative anchors)
    const withEmpty = [...targets.slice(0, 3), { boxes: [], classes: [] }];
    const value = tf.tidy(() => detector.computeLoss(images, withEmpty, true).loss.dataSync()[0]);
    expect(Number.isFinite(value)).toBe(true);
    detector.dispose();
    expect(tf.memory().numTensors).toBe(start);
    images.dispose();
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => new TwoStageDetector({ ...base, numClasses: 0 }))).toBe("TwoStageDetector: invalid numClasses. Expected an integer >= 1. Received: numClasses=0.");
    expect(errorOf(() => new TwoStageDetector({ ...base, imageShape: [30, 30] }))).toBe(
      "TwoStageDetector: invalid imageShape. Expected [height, width], both multiples of 16 (e.g. [64, 64], [96, 128]). Received: imageShape=[30,30].",
    );
    expect(errorOf(() => new TwoStageDetector({ ...base, rpnNegativeIou: 0.8 }))).toBe(
      "TwoStageDetector: invalid rpnNegativeIou. Expected a number in [0, rpnPositiveIou = 0.7]. Received: rpnNegativeIou=0.8.",
    );
    expect(errorOf(() => new TwoStageDetector({ ...base, boxPositiveFraction: 0 }))).toBe(
      "TwoStageDetector: invalid boxPositiveFraction. Expected a number in (0, 1]. Received: boxPositiveFraction=0.",
    );
    expect(errorOf(() => new TwoStageDetector({ ...base, rpnPostNmsTopNTest: 2.5 }))).toBe("TwoStageDetector: invalid rpnPostNmsTopNTest. Expected an integer >= 1. Received: rpnPostNmsTopNTest=2.5.");
    expect(errorOf(() => new TwoStageDetector({ ...base, anchorSizes: [] }))).toBe(
      "TwoStageDetector: invalid anchorSizes. Expected a non-empty array of positive numbers such as [12, 18, 26]. Received: anchorSizes=[].",
    );
    expect(errorOf(() => new TwoStageDetector({ ...base, headUnit: 64 } as never))).toMatch(/^TwoStageDetector: unknown option `headUnit`\. Expected one of `numClasses`, .*, `seed`\. Did you mean `headUnits`\?$/);
    const detector = new TwoStageDetector(base);
    const wrong = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    expect(errorOf(() => detector.detect(wrong))).toBe(
      "TwoStageDetector.detect: invalid images. Expected a tensor of shape [n, 32, 32, 3] (the detector's image size). Received: images=Tensor<float32>[1,16,16,3].",
    );
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(errorOf(() => detector.detect(images, { scoreThreshold: 2 }))).toBe("TwoStageDetector.detect: invalid scoreThreshold. Expected a number in [0, 1]. Received: scoreThreshold=2.");
    expect(errorOf(() => detector.computeLoss(images, [{ boxes: [[4, 4, 2, 8]], classes: [0] }], true))).toBe(
      "TwoStageDetector.computeLoss: invalid batch.targets[0].boxes[0]. Expected pixel [x1, y1, x2, y2] with x2 > x1 and y2 > y1, inside the 32x32 image. Received: [4,4,2,8].",
    );
    expect(errorOf(() => detector.computeLoss(images, [{ boxes: [[4, 4, 12, 8]], classes: [2] }], true))).toBe(
      "TwoStageDetector.computeLoss: invalid batch.targets[0].classes[0]. Expected a class id in [0, 1]. Received: 2.",
    );
    tf.dispose([wrong, images]);
    detector.dispose();
  });
});
