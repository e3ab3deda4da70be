import * as tf from "@tensorflow/tfjs";
import { encodeBoxes } from "./anchors";
import { detectionBackbone } from "./backbone";
import type { ImageTargets } from "./detector";
import { iou } from "./iou";
import { SsdDetector, ssdDetector } from "./ssd_detector";

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

const xyxy = ([cx, cy, w, h]: readonly number[]) => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];

describe("SsdDetector", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("lays default boxes on the stride-8 and stride-16 maps, sizes x ratios per cell, and one model outputs them all", () => {
    const d = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32) });
    expect(d.name).toBe("ssd");
    expect(d.anchorsPerCell).toEqual([6, 6]);
    expect(d.anchors.length).toBe(4 * 4 * 6 + 2 * 2 * 6);
    const close = (a: readonly number[], b: number[]) => b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 4));
    close(d.anchors[0], [4, 4, 6.4, 6.4]); // stride 8, cell (0, 0), scale 0.2 of 32, ratio 1
    close(d.anchors[1], [4, 4, 6.4 * Math.SQRT2, 6.4 / Math.SQRT2]); // ratio 2
    close(d.anchors[3], [4, 4, 0.28 * 32, 0.28 * 32]); // the second scale
    close(d.anchors[6], [12, 4, 6.4, 6.4]); // next cell to the right
    close(d.anchors[96], [8, 8, 12.8, 12.8]); // stride 16, cell (0, 0), scale 0.4
    expect(d.model.outputs[0].shape).toEqual([null, 120, 8]);
    expect(d.model.layers.map((l) => l.name)).toEqual(expect.arrayContaining(["ssd_head_stride8", "ssd_head_stride16", "ssd_output"]));
    d.model.dispose();
    const full = ssdDetector({ numClasses: 3, imageShape: [64, 64] });
    expect(full.anchors.length).toBe(8 * 8 * 6 + 4 * 4 * 6);
    expect(full.model.layers.map((l) => l.name)).toEqual(expect.arrayContaining(["block1_conv", "block4b_pool", "ssd_output"]));
    full.model.dispose();
  });

  it("matches default boxes with IoU >= 0.5 to the box, the rest negative, and forces a small box onto its best one", () => {
    const d = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32) });
    const own = xyxy(d.anchors[96]); // [1.6, 1.6, 14.4, 14.4]
    // a 2 x 6 box: every IoU < 0.5; the best is the tall default box of cell (2, 2): index (2·4 + 2)·6 + 2 = 62 (IoU 12 / 40.96)
    const targets: ImageTargets[] = [
      { boxes: [own], classes: [2] },
      { boxes: [[19, 18, 21, 24]], classes: [0] },
    ];
    const t = d.assignTargets(targets);
    const overlaps = iou(d.anchors.map(xyxy), [own], { format: "xyxy" }).map((row) => row[0]);
    const expected = overlaps.map((v, i) => (v >= 0.5 ? i : -1)).filter((i) => i >= 0);
    expect(expected).toContain(96);
    const positives = Array.from(t.labels.subarray(0, 120)).map((l, i) => (l > 0 ? i : -1)).filter((i) => i >= 0);
    expect(positives).toEqual(expected);
    expect(t.positives).toEqual([expected.length, 1]);
    positives.forEach((i) => expect(t.labels[i]).toBe(3)); // class 2 is label 3: 0 is the background
    expect(Array.from(t.labels.subarray(0, 120)).filter((l) => l === 0).length).toBe(120 - expected.length);
    expect(Array.from(t.box.subarray(4 * 96, 4 * 97)).map((v) => Math.abs(v))).toEqual([0, 0, 0, 0]);
    const [encoded] = encodeBoxes([own], [d.anchors[positives[0]]], { format: "xyxy", variance: [0.1, 0.1, 0.2, 0.2] });
    encoded.forEach((v, i) => expect(t.box[4 * positives[0] + i]).toBeCloseTo(v, 5));
    // the forced match
    expect(t.matches[1].filter((m) => m >= 0)).toEqual([0]);
    expect(t.matches[1].indexOf(0)).toBe(62);
    expect(t.labels[120 + 62]).toBe(1);
    d.model.dispose();
  });

  it("mines hard negatives: the 3 highest background losses per positive, per image; 3 for an image without objects", () => {
    const d = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32) });
    const n = d.anchors.length;
    const labels = new Int32Array(2 * n);
    labels[5] = 1;
    labels[7] = 2;
    labels[119] = -1; // ignored: never counted, whatever its loss
    const losses = new Float32Array(2 * n).map((_, s) => (s % n) / 100);
    losses[n + 50] = 5; // image 1's hardest
    losses[n + 60] = 5; // a tie: the earlier slot first
    losses[n + 70] = 5;
    losses[n + 80] = 5;
    const mask = d.selectHardNegatives(labels, losses);
    const kept = (b: number) => Array.from(mask.subarray(b * n, (b + 1) * n)).map((m, i) => (m ? i : -1)).filter((i) => i >= 0);
    expect(kept(0)).toEqual([5, 7, 113, 114, 115, 116, 117, 118]); // 2 positives + 6 hardest negatives
    expect(kept(1)).toEqual([50, 60, 70]);
    const two = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32), negativeRatio: 1 });
    expect(Array.from(two.selectHardNegatives(labels, losses).subarray(0, n)).reduce((p, q) => p + q, 0)).toBe(4);
    d.model.dispose();
    two.model.dispose();
  });

  it("decodes a hand-made raw output: softmax with a background class, offsets times the variances, per-class NMS, clipping", () => {
    const d = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32) });
    const k = 8;
    const data = new Float32Array(120 * k);
    for (let i = 0; i < 120; i++) data[i * k + 4] = 10; // background everywhere
    const set = (i: number, row: number[]) => data.set(row, i * k);
    // default box 96 [8, 8, 12.8, 12.8]: x = 8 + 1·0.1·12.8, y = 8 − 1.28, w = 12.8·e^(0.2·ln2/0.2), h = 12.8
    set(96, [1, -1, Math.log(2) / 0.2, 0, 0, 0, 10, 0]);
    // default box 0 [4, 4, 6.4, 6.4] as it is: [0.8, 0.8, 7.2, 7.2], class 2
    set(0, [0, 0, 0, 0, 0, 0, 0, 10]);
    // default box 1 (same cell, ratio 2) stretched onto the same square, class 2, less sure: suppressed
    set(1, [0, 0, Math.log(6.4 / (6.4 * Math.SQRT2)) / 0.2, Math.log(6.4 / (6.4 / Math.SQRT2)) / 0.2, 0, 0, 0, 3]);
    const raw = tf.tensor3d(data, [1, 120, k]);
    const [found] = d.decodeOutput(raw, { scoreThreshold: 0.5 });
    // equal scores: the earlier default box first
    expect(found.classes).toEqual([2, 1]);
    const sure = Math.exp(10) / (Math.exp(10) + 3);
    [sure, sure].forEach((s, i) => expect(found.scores[i]).toBeCloseTo(s, 5));
    const expected = [
      [0.8, 0.8, 7.2, 7.2],
      [0, 0.32, 22.08, 13.12], // [−3.52, 0.32, 22.08, 13.12] clipped
    ];
    found.boxes.forEach((box, i) => box.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 4)));
    // without NMS's help (IoU threshold 1) the less sure copy comes back, scored e^3 / (e^3 + 3)
    const all = d.decodeOutput(raw, { scoreThreshold: 0.5, iouThreshold: 1 })[0];
    expect(all.classes).toEqual([2, 1, 2]);
    expect(all.scores[2]).toBeCloseTo(Math.exp(3) / (Math.exp(3) + 3), 5);
    raw.dispose();
    d.model.dispose();
  });

  it("learns a tiny fixed batch: the loss and both parts go down", () => {
    const d = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32) });
    const targets: ImageTargets[] = [
      { boxes: [[2, 3, 10, 11], [16, 12, 30, 26]], classes: [0, 1] },
      { boxes: [[8, 8, 20, 20]], classes: [2] },
      { boxes: [[1, 17, 9, 31], [16, 2, 26, 12]], classes: [1, 0] },
      { boxes: [[10, 4, 22, 28]], classes: [0] },
    ];
    const images = paint(32, targets);
    const optimizer = tf.train.adam(1e-2);
    const weights = d.model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const history: Record<string, number>[] = [];
    for (let step = 0; step < 15; step++) {
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
    expect(Object.keys(first).sort()).toEqual(["box_loss", "class_loss", "loss"]);
    expect(first.loss).toBeCloseTo(first.box_loss + first.class_loss, 4);
    expect(last.loss).toBeLessThan(0.5 * first.loss);
    expect(last.class_loss).toBeLessThan(first.class_loss);
    expect(last.box_loss).toBeLessThan(first.box_loss);
    optimizer.dispose();
    images.dispose();
    d.model.dispose();
  });

  it("leaks no tensor in computeLoss, detect and decodeOutput", () => {
    const d = new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone: tinyBackbone(32) });
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
    // disposing the model frees every weight the detector made
    const start = tf.memory().numTensors;
    new SsdDetector({ numClasses: 3, imageShape: [32, 32] }).model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("rejects bad options and inputs with one-line errors", () => {
    const backbone = tinyBackbone(32);
    const make = (args: Record<string, unknown>) => () => new SsdDetector({ numClasses: 3, imageShape: [32, 32], backbone, ...args } as never);
    expect(make({ numClasses: 1.5 })).toThrow("SsdDetector: invalid numClasses. Expected an integer >= 1. Received: numClasses=1.5.");
    expect(make({ imageShape: [32] })).toThrow("SsdDetector: invalid imageShape. Expected [height, width], both multiples of 16 (e.g. [64, 64], [96, 128]). Received: imageShape=[32].");
    expect(make({ scales: [[0.2]] })).toThrow(
      "SsdDetector: invalid scales. Expected one non-empty array of numbers in (0, 2] per map (strides 8 and 16), such as [[0.2, 0.28], [0.4, 0.49]]. Received: scales=[[0.2]].",
    );
    expect(make({ aspectRatios: [[1], [0, 1]] })).toThrow(
      "SsdDetector: invalid aspectRatios. Expected one non-empty array of numbers > 0 per map (strides 8 and 16), such as [[1, 2, 0.5], [1, 2, 0.5]]. Received: aspectRatios=[[1],[0,1]].",
    );
    expect(make({ variance: [0.1, 0.1, 0.2] })).toThrow("SsdDetector: invalid variance. Expected 4 positive numbers such as [0.1, 0.1, 0.2, 0.2]. Received: variance=[0.1,0.1,0.2].");
    expect(make({ positiveIou: 0 })).toThrow("SsdDetector: invalid positiveIou. Expected a number in (0, 1]. Received: positiveIou=0.");
    expect(make({ negativeRatio: -3 })).toThrow("SsdDetector: invalid negativeRatio. Expected a number >= 0. Received: negativeRatio=-3.");
    expect(make({ negativeRation: 3 })).toThrow("SsdDetector: unknown option `negativeRation`.");
    expect(make({ negativeRation: 3 })).toThrow("Did you mean `negativeRatio`?");
    const onlyStride8 = tf.model({ inputs: backbone.inputs, outputs: backbone.outputs[0] });
    expect(make({ backbone: onlyStride8 })).toThrow(
      "SsdDetector: invalid backbone. Expected an output of stride 16, shape [null, 2, 2, channels] for images of 32x32. Received: outputs [null, 4, 4, 16].",
    );
    expect(make({ backbone: detectionBackbone({ imageShape: [48, 48], width: 2 }) })).toThrow("SsdDetector: invalid backbone. Expected one input of shape [null, 32, 32, 3]");

    const d = make({})();
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => d.detect(images, { iouThreshold: -0.1 })).toThrow("SsdDetector.detect: invalid iouThreshold. Expected a number in [0, 1]. Received: iouThreshold=-0.1.");
    expect(() => d.decodeOutput(tf.zeros([1, 120, 7]))).toThrow("SsdDetector.decodeOutput: invalid raw. Expected the model's output, shape [n, 120, 8]. Received: raw=Tensor<float32>[1,120,7].");
    expect(() => d.computeLoss(images, [{ boxes: [[0, 0, 4, 4]], classes: [-1] }], true)).toThrow("SsdDetector.computeLoss: invalid batch.targets[0].classes[0]. Expected a class id in [0, 2]. Received: -1.");
    expect(() => d.computeLoss(images, [{ boxes: [[0, 5, 4, 4]], classes: [0] }], true)).toThrow("SsdDetector.computeLoss: invalid batch.targets[0].boxes[0]. Expected pixel [x1, y1, x2, y2] with x2 > x1 and y2 > y1, inside the 32x32 image. Received: [0,5,4,4].");
    images.dispose();
  });
});
