import * as tf from "@tensorflow/tfjs";
import { detectionBackbone } from "./backbone";
import type { ImageTargets } from "./detector";
import { DEFAULT_GRID_ANCHORS, GridDetector, gridDetector } from "./grid_detector";

/** Images `[n, size, size, 3]` with a grey background and each box filled with its class's colour. */
function paint(size: number, targets: ImageTargets[]): tf.Tensor4D {
  const colours = [
    [1, 0.2, 0.2],
    [0.2, 1, 0.2],
    [0.2, 0.2, 1],
  ];
  const data = new Float32Array(targets.length * size * size * 3).fill(0.5);
  targets.forEach((t, b) =>
    t.boxes.forEach(([x1, y1, x2, y2], j) => {
      for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data.set(colours[t.classes[j]], ((b * size + y) * size + x) * 3);
    }),
  );
  return tf.tensor4d(data, [targets.length, size, size, 3]);
}

/** A raw output `[1, gh, gw, A · K]` of zeros, with `slots` set: [row, column, anchor, values (K numbers)]. */
function rawOutput(d: GridDetector, slots: [number, number, number, number[]][], fill = -10): tf.Tensor4D {
  const [gh, gw] = d.gridShape;
  const a = d.anchors.length;
  const k = 5 + d.numClasses;
  const data = new Float32Array(gh * gw * a * k);
  for (let s = 0; s < gh * gw * a; s++) data[s * k] = fill; // objectness logit: no object
  for (const [i, j, anchor, values] of slots) data.set(values, ((i * gw + j) * a + anchor) * k);
  return tf.tensor4d(data, [1, gh, gw, a * k]);
}

/**
 * A backbone small enough for fast CPU tests: one 8 x 8 convolution of stride 8 ("patchify") for
 * the stride-8 map, then a 2 x 2 max pooling for the stride-16 one.
 */
function tinyBackbone(size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  const stride8 = tf.layers.conv2d({ filters: 16, kernelSize: 8, strides: 8, activation: "relu" }).apply(input) as tf.SymbolicTensor;
  const stride16 = tf.layers.maxPooling2d({ poolSize: 2 }).apply(stride8) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [stride8, stride16] });
}

const SMALL = { numClasses: 3, imageShape: [32, 32] as [number, number], anchors: [[8, 8], [16, 16], [24, 12]] };

describe("GridDetector", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("builds one model: backbone up to stride 8 and the head, output [n, gh, gw, A·(5 + C)]", () => {
    const d = new GridDetector({ numClasses: 3, imageShape: [64, 64] });
    expect(d.name).toBe("yolo");
    expect(d.gridShape).toEqual([8, 8]);
    expect(d.anchors).toEqual(DEFAULT_GRID_ANCHORS.map(([w, h]) => [w * 64, h * 64]));
    expect(d.model.outputs[0].shape).toEqual([null, 8, 8, 3 * 8]);
    const names = d.model.layers.map((l) => l.name);
    expect(names).toEqual(expect.arrayContaining(["block1_conv", "block3b_pool", "yolo_head_conv", "yolo_head_output"]));
    expect(names).not.toContain("block4a_conv"); // the stride-16 blocks are not part of it
    // the objectness bias starts at the prior 0.01, the others at 0
    const bias = d.model.getLayer("yolo_head_output").getWeights()[1].arraySync() as number[];
    expect(bias[0]).toBeCloseTo(Math.log(0.01 / 0.99), 5);
    expect(bias[8]).toBeCloseTo(Math.log(0.01 / 0.99), 5);
    expect(bias[1]).toBe(0);
    expect(gridDetector({ numClasses: 2, imageShape: [32, 48] }).gridShape).toEqual([4, 6]);
  });

  it("makes each box the responsibility of the cell of its centre and the anchor of the best shape", () => {
    const d = new GridDetector(SMALL);
    // centre (20, 28): column 2, row 3 on 8-pixel cells; 20 x 16: shape IoU 0.2, 0.8, 0.652 with the anchors
    const targets: ImageTargets[] = [
      { boxes: [[10, 20, 30, 36], [12, 22, 28, 34]], classes: [1, 2] },
      { boxes: [[0, 0, 6, 7]], classes: [0] },
    ];
    const t = d.assignTargets(targets);
    expect(t.assignments[0][0]).toEqual({ row: 3, column: 2, anchor: 1 });
    // the second box (16 x 12, best anchor 1 too) finds its slot taken and takes the next best, [24, 12]
    expect(t.assignments[0][1]).toEqual({ row: 3, column: 2, anchor: 2 });
    expect(t.assignments[1][0]).toEqual({ row: 0, column: 0, anchor: 0 });
    const slot = (b: number, i: number, j: number, a: number) => ((b * 4 + i) * 4 + j) * 3 + a;
    expect(Array.from(t.object).reduce((p, q) => p + q, 0)).toBe(3);
    expect(t.object[slot(0, 3, 2, 1)]).toBe(1);
    expect(t.classes[slot(0, 3, 2, 1)]).toBe(1);
    expect(t.classes[slot(0, 3, 2, 2)]).toBe(2);
    expect(t.classes[slot(1, 0, 0, 0)]).toBe(0);
    expect(t.classes[slot(0, 0, 0, 0)]).toBe(-1);
    const box = Array.from(t.box.subarray(4 * slot(0, 3, 2, 1), 4 * slot(0, 3, 2, 1) + 4));
    [0.5, 0.5, Math.log(20 / 16), 0].forEach((v, i) => expect(box[i]).toBeCloseTo(v, 6));
    const small = Array.from(t.box.subarray(4 * slot(1, 0, 0, 0), 4 * slot(1, 0, 0, 0) + 4));
    [3 / 8, 3.5 / 8, Math.log(6 / 8), Math.log(7 / 8)].forEach((v, i) => expect(small[i]).toBeCloseTo(v, 6));
    // without predictions nothing is ignored
    expect(t.ignore.every((v) => v === 0)).toBe(true);
  });

  it("leaves out of the no-object loss the other slots whose predicted box overlaps a ground truth above 0.5", () => {
    const d = new GridDetector(SMALL);
    // Every slot predicts its cell's centre and its anchor's shape (t = 0), except cell (3, 2),
    // anchor 0, which predicts the box itself (σ(0) = 0.5: centre (20, 28); 8·e^tw = 20, 8·e^th = 16).
    const raw = rawOutput(d, [[3, 2, 0, [0, 0, 0, Math.log(20 / 8), Math.log(2), 0, 0, 0]]]);
    const t = d.assignTargets([{ boxes: [[10, 20, 30, 36]], classes: [1] }], raw.dataSync());
    const slot = (i: number, j: number, a: number) => (i * 4 + j) * 3 + a;
    expect(t.object[slot(3, 2, 1)]).toBe(1);
    expect(t.ignore[slot(3, 2, 1)]).toBe(0); // the responsible slot is never ignored
    expect(t.ignore[slot(3, 2, 0)]).toBe(1); // IoU 1
    expect(t.ignore[slot(3, 2, 2)]).toBe(1); // [8, 22, 32, 34]: IoU 240 / 368 = 0.65
    expect(t.ignore[slot(3, 1, 2)]).toBe(0); // [0, 22, 24, 34]: IoU 168 / 440 = 0.38, stays a negative
    expect(t.ignore[slot(2, 2, 1)]).toBe(0); // [12, 12, 28, 28]: IoU 128 / 448 = 0.29
    expect(Array.from(t.ignore).reduce((p, q) => p + q, 0)).toBe(2);
    raw.dispose();
  });

  it("decodes a hand-made raw output: centre in the cell, anchor scaled by e^t, score σ(obj)·softmax, per-class NMS, clipping", () => {
    const d = new GridDetector(SMALL);
    const raw = rawOutput(d, [
      // cell (1, 2), anchor 0 (8 x 8): centre (20, 12), 16 x 16 → [12, 4, 28, 20], class 1
      [1, 2, 0, [10, 0, 0, Math.log(2), Math.log(2), 0, 10, 0]],
      // same place, anchor 1 (16 x 16), class 1 too but less sure: suppressed by the first (IoU 1)
      [1, 2, 1, [2, 0, 0, 0, 0, 0, 10, 0]],
      // same place, class 2: another class is not suppressed
      [1, 2, 2, [3, 0, 0, Math.log(16 / 24), Math.log(16 / 12), 0, 0, 10]],
      // cell (0, 0), anchor 2 (24 x 12): centre (4, 4) → [−8, −2, 16, 10], clipped to [0, 0, 16, 10], class 0
      [0, 0, 2, [1, 0, 0, 0, 0, 10, 0, 0]],
    ]);
    const [found] = d.decodeOutput(raw, { scoreThreshold: 0.5 });
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const soft = 1 / (1 + 2 * Math.exp(-10));
    expect(found.classes).toEqual([1, 2, 0]);
    [sig(10) * soft, sig(3) * soft, sig(1) * soft].forEach((s, i) => expect(found.scores[i]).toBeCloseTo(s, 5));
    const expected = [
      [12, 4, 28, 20],
      [12, 4, 28, 20],
      [0, 0, 16, 10],
    ];
    found.boxes.forEach((box, i) => box.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 4)));
    // a threshold between the scores keeps the sure ones; maxDetections cuts
    expect(d.decodeOutput(raw, { scoreThreshold: 0.9 })[0].classes).toEqual([1, 2]);
    expect(d.decodeOutput(raw, { scoreThreshold: 0.5, maxDetections: 1 })[0].classes).toEqual([1]);
    // a lower IoU threshold does not suppress across classes either
    expect(d.decodeOutput(raw, { scoreThreshold: 0.5, iouThreshold: 0 })[0].classes).toEqual([1, 2, 0]);
    raw.dispose();
  });

  it("learns a tiny fixed batch: the loss and each of its parts go down", () => {
    const d = new GridDetector({ ...SMALL, backbone: tinyBackbone(32), headFilters: 16 });
    const targets: ImageTargets[] = [
      { boxes: [[2, 3, 14, 15], [18, 16, 30, 28]], classes: [0, 1] },
      { boxes: [[8, 8, 24, 20]], classes: [2] },
      { boxes: [[1, 17, 13, 31], [16, 2, 26, 12]], classes: [1, 0] },
      { boxes: [[10, 4, 22, 28]], classes: [0] },
    ];
    const images = paint(32, targets);
    const optimizer = tf.train.adam(1e-2);
    const weights = d.model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const history: Record<string, number>[] = [];
    for (let step = 0; step < 25; step++) {
      let parts: Record<string, number> = {};
      const loss = optimizer.minimize(
        () => {
          const out = d.computeLoss(images, targets, true);
          parts = Object.fromEntries(Object.entries(out.parts).map(([k, v]) => [k, v.dataSync()[0]]));
          return out.loss;
        },
        true,
        weights,
      ) as tf.Scalar;
      history.push({ loss: loss.dataSync()[0], ...parts });
      loss.dispose();
    }
    const [first, last] = [history[0], history[history.length - 1]];
    expect(Object.keys(first).sort()).toEqual(["box_loss", "class_loss", "loss", "objectness_loss"]);
    expect(first.loss).toBeCloseTo(first.box_loss + first.objectness_loss + first.class_loss, 4);
    expect(last.loss).toBeLessThan(0.5 * first.loss);
    for (const key of ["box_loss", "class_loss", "objectness_loss"]) expect(last[key]).toBeLessThan(first[key]);
    optimizer.dispose();
    images.dispose();
    d.model.dispose();
  });

  it("leaks no tensor in computeLoss, detect and decodeOutput", () => {
    const d = new GridDetector({ ...SMALL, backbone: tinyBackbone(32) });
    const targets: ImageTargets[] = [{ boxes: [[2, 3, 14, 15]], classes: [0] }, { boxes: [], classes: [] }];
    const images = paint(32, targets);
    const run = () => {
      const out = d.computeLoss(images, targets, true);
      tf.dispose([out.loss, ...Object.values(out.parts)]);
      d.detect(images, { scoreThreshold: 0 });
      const raw = d.model.predict(images) as tf.Tensor;
      d.decodeOutput(raw);
      raw.dispose();
    };
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    d.model.dispose();
    // disposing the model frees every weight the detector made, the default backbone's unused stride-16 blocks included
    const start = tf.memory().numTensors;
    new GridDetector({ numClasses: 3, imageShape: [32, 32] }).model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("an image without objects has only no-object loss", () => {
    const d = new GridDetector({ ...SMALL, backbone: tinyBackbone(32) });
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    const out = d.computeLoss(images, [{ boxes: [], classes: [] }], false);
    expect(out.parts.box_loss.dataSync()[0]).toBe(0);
    expect(out.parts.class_loss.dataSync()[0]).toBe(0);
    expect(out.parts.objectness_loss.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([images, out.loss, ...Object.values(out.parts)]);
    d.model.dispose();
  });

  it("rejects bad options and inputs with one-line errors", () => {
    const make = (args: unknown) => () => new GridDetector(args as never);
    expect(make({ numClasses: 0, imageShape: [32, 32] })).toThrow("GridDetector: invalid numClasses. Expected an integer >= 1. Received: numClasses=0.");
    expect(make({ imageShape: [32, 32] })).toThrow("GridDetector: invalid numClasses. Expected an integer >= 1. Received: numClasses=undefined.");
    expect(make({ numClasses: 3, imageShape: [30, 32] })).toThrow("GridDetector: invalid imageShape. Expected [height, width], both multiples of 16 (e.g. [64, 64], [96, 128]). Received: imageShape=[30,32].");
    expect(make({ numClasses: 3, imageShape: [32, 32], anchors: [[8, 0]] })).toThrow(
      "GridDetector: invalid anchors. Expected a non-empty array of [width, height] pairs in pixels, all > 0, such as [[12, 12], [24, 16]]. Received: anchors=[[8,0]].",
    );
    expect(make({ numClasses: 3, imageShape: [32, 32], ignoreIou: 1.5 })).toThrow("GridDetector: invalid ignoreIou. Expected a number in [0, 1]. Received: ignoreIou=1.5.");
    expect(make({ numClasses: 3, imageShape: [32, 32], boxWeight: -1 })).toThrow("GridDetector: invalid boxWeight. Expected a number >= 0. Received: boxWeight=-1.");
    expect(make({ numClasses: 3, imageShape: [32, 32], anchor: [[8, 8]] })).toThrow("GridDetector: unknown option `anchor`. Expected one of `numClasses`, `imageShape`, `backbone`, `anchors`, `headFilters`, `boxWeight`, `objectWeight`, `noObjectWeight`, `classWeight`, `ignoreIou`. Did you mean `anchors`?");
    expect(make({ numClasses: 3, imageShape: [32, 32], backbone: "vgg" })).toThrow('GridDetector: invalid backbone. Expected a tf.LayersModel such as detectionBackbone({ imageShape: [32, 32] }). Received: backbone="vgg".');
    const other = detectionBackbone({ imageShape: [64, 64], width: 2 });
    expect(make({ numClasses: 3, imageShape: [32, 32], backbone: other })).toThrow(
      "GridDetector: invalid backbone. Expected one input of shape [null, 32, 32, 3] (the detector's imageShape). Received: backbone inputs [null, 64, 64, 3].",
    );
    const input = tf.input({ shape: [32, 32, 3] });
    const flat = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor });
    expect(make({ numClasses: 3, imageShape: [32, 32], backbone: flat })).toThrow(
      "GridDetector: invalid backbone. Expected an output of stride 8, shape [null, 4, 4, channels] for images of 32x32. Received: outputs [null, 3].",
    );

    const d = new GridDetector({ ...SMALL, backbone: tinyBackbone(32) });
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => d.detect(images, { scoreThreshold: 2 })).toThrow("GridDetector.detect: invalid scoreThreshold. Expected a number in [0, 1]. Received: scoreThreshold=2.");
    expect(() => d.detect(images, { maxDetections: 0 })).toThrow("GridDetector.detect: invalid maxDetections. Expected an integer >= 1. Received: maxDetections=0.");
    expect(() => d.detect(images, { iouTreshold: 0.5 } as never)).toThrow("GridDetector.detect: unknown option `iouTreshold`.");
    const wrong = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
    expect(() => d.detect(wrong)).toThrow("GridDetector.detect: invalid images. Expected a tensor of shape [n, 32, 32, 3] (the detector's image size). Received: images=Tensor<float32>[1,64,64,3].");
    expect(() => d.decodeOutput(images)).toThrow("GridDetector.decodeOutput: invalid raw. Expected the model's output, shape [n, 4, 4, 24]. Received: raw=Tensor<float32>[1,32,32,3].");
    expect(() => d.computeLoss(images, [{ boxes: [[0, 0, 4, 4]], classes: [3] }], true)).toThrow("GridDetector.computeLoss: invalid batch.targets[0].classes[0]. Expected a class id in [0, 2]. Received: 3.");
    expect(() => d.computeLoss(images, [{ boxes: [[4, 0, 4, 4]], classes: [1] }], true)).toThrow(
      "GridDetector.computeLoss: invalid batch.targets[0].boxes[0]. Expected pixel [x1, y1, x2, y2] with x2 > x1 and y2 > y1, inside the 32x32 image. Received: [4,0,4,4].",
    );
    expect(() => d.computeLoss(images, [], true)).toThrow("GridDetector.computeLoss: invalid batch.targets. Expected one entry per image (1). Received: 0 entries.");
    tf.dispose([images, wrong]);
  });
});
