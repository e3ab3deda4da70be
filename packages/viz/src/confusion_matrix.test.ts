import * as tf from "@tensorflow/tfjs";
import { ConfusionMatrix, confusionMatrix } from "./confusion_matrix";
import { Figure } from "./figure";
import { countPixels, decode, errorOf } from "./testing/png";

// class 2 occurs but is never predicted
const Y_TRUE = [0, 0, 1, 1, 2, 2, 2];
const Y_PRED = [0, 1, 1, 1, 0, 0, 1];
const COUNTS = [
  [1, 1, 0],
  [0, 2, 0],
  [2, 1, 0],
];

describe("confusionMatrix", () => {
  it("counts true-vs-predicted pairs, rows true, columns predicted, with a class never predicted", () => {
    const cm = confusionMatrix(Y_TRUE, Y_PRED);
    expect(cm.counts).toEqual(COUNTS);
    expect(cm.counts.map((row) => row[2])).toEqual([0, 0, 0]);
    expect(cm.accuracy).toBeCloseTo(3 / 7, 12);
    expect(cm.total).toBe(7);
    expect(cm.classNames).toEqual(["0", "1", "2"]);
    expect(cm).toBeInstanceOf(Figure);
    expect(String(cm)).toBe(`<ConfusionMatrix ${cm.width}x${cm.height}: 3 classes, accuracy 0.4286, n=7>`);
    expect(cm.title).toBe("accuracy 0.429 (n = 7)");
  });

  it("takes 1-D label tensors, one-hot labels and probabilities (argmax), and sigmoid columns", () => {
    const yTrue = tf.oneHot(tf.tensor1d(Y_TRUE, "int32"), 3);
    const probs = tf.tensor2d(Y_PRED.map((p) => [0.1, 0.2, 0.15].map((v, j) => (j === p ? 0.7 : v))));
    const before = tf.memory().numTensors;
    expect(confusionMatrix(yTrue, probs).counts).toEqual(COUNTS);
    const labels = tf.tensor1d(Y_TRUE, "int32");
    expect(confusionMatrix(labels, Int32Array.from(Y_PRED)).counts).toEqual(COUNTS);
    expect(tf.memory().numTensors).toBe(before + 1);
    const sigmoid = tf.tensor2d([[0.9], [0.2], [0.5], [0.49]]);
    const binary = confusionMatrix([1, 0, 0, 0], sigmoid);
    expect(binary.counts).toEqual([
      [2, 1],
      [0, 1],
    ]);
    expect(confusionMatrix(Y_TRUE, [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]]).counts).toEqual(COUNTS);
    tf.dispose([yTrue, probs, labels, sigmoid]);
  });

  it("normalizes like scikit-learn and keeps the raw counts", () => {
    const byTrue = confusionMatrix(Y_TRUE, Y_PRED, { normalize: "true" });
    expect(byTrue.counts).toEqual(COUNTS);
    expect(byTrue.values[0]).toEqual([0.5, 0.5, 0]);
    expect(byTrue.values[2].map((v) => v.toFixed(4))).toEqual(["0.6667", "0.3333", "0.0000"]);
    const byPred = confusionMatrix(Y_TRUE, Y_PRED, { normalize: "pred" });
    expect(byPred.values.map((row) => row[2])).toEqual([0, 0, 0]); // an empty column: 0, not NaN
    expect(byPred.values.map((row) => row[0])).toEqual([1 / 3, 0, 2 / 3]);
    expect(confusionMatrix(Y_TRUE, Y_PRED, { normalize: "all" }).values[1][1]).toBeCloseTo(2 / 7, 12);
  });

  it("uses class names and numClasses for classes that never appear", () => {
    const cm = confusionMatrix([0, 1], [1, 1], { classNames: ["cat", "dog", "bird", "fish"] });
    expect(cm.counts).toEqual([
      [0, 1, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(confusionMatrix([0], [0], { numClasses: 10 }).counts.length).toBe(10);
  });

  it("draws a heatmap: darkest blue for the largest count, near white for 0", async () => {
    const cm: ConfusionMatrix = confusionMatrix(Y_TRUE, Y_PRED);
    const img = await decode(cm.toPng());
    expect([img.width, img.height]).toEqual([cm.width, cm.height]);
    const { x, y, cell } = cm.layout;
    const corner = (i: number, j: number) => img.rgb(x + j * cell + 2, y + i * cell + 2);
    expect(corner(1, 1)).toEqual([0x08, 0x30, 0x6b]); // 2: the maximum
    expect(corner(2, 0)).toEqual([0x08, 0x30, 0x6b]);
    expect(corner(0, 2)).toEqual([0xf7, 0xfb, 0xff]); // 0
    // white digits on the dark cells, dark digits on the light ones
    expect(countPixels(img, x + cell, y + cell, x + 2 * cell, y + 2 * cell, ([r, g, b]) => r > 200 && g > 200 && b > 200)).toBeGreaterThan(5);
    expect(countPixels(img, x + 2 * cell, y, x + 3 * cell, y + cell, ([r]) => r < 100)).toBeGreaterThan(5);
    // axis titles and class names outside the grid
    expect(countPixels(img, 0, y, x - 2, y + 3 * cell, ([r]) => r < 100)).toBeGreaterThan(20);
    expect(countPixels(img, x, y + 3 * cell + 2, x + 3 * cell, img.height, ([r]) => r < 100)).toBeGreaterThan(20);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => confusionMatrix([0, 1, 2], [0, 1]))).toBe("confusionMatrix: invalid yPred. Expected as many labels as yTrue (3). Received: yPred=[0,1] with 2.");
    expect(errorOf(() => confusionMatrix([0, 1.5], [0, 1]))).toBe(
      "confusionMatrix: invalid yTrue. Expected class indices (an array or 1-D tensor of integers) or scores of shape [N, classes]: non-negative integers. Received: yTrue=[0,1.5] with 1.5 at index 1.",
    );
    expect(errorOf(() => confusionMatrix([0, 3], [0, 1], { classNames: ["a", "b", "c"] }))).toBe(
      "confusionMatrix: invalid yTrue. Expected class indices in [0, 2] (3 classNames). Received: yTrue[1]=3.",
    );
    const nan = tf.tensor2d([
      [0.5, 0.5],
      [NaN, 1],
    ]);
    expect(errorOf(() => confusionMatrix([0, 1], nan))).toBe("confusionMatrix: invalid yPred. Expected finite scores. Received: yPred=Tensor<float32>[2,2] with NaN in row 1.");
    expect(errorOf(() => confusionMatrix([], []))).toBe(
      "confusionMatrix: invalid yTrue. Expected class indices (an array or 1-D tensor of integers) or scores of shape [N, classes], at least one. Received: yTrue=[] (empty).",
    );
    expect(errorOf(() => confusionMatrix([0], [0], { normalize: "rows" as never }))).toBe(
      'confusionMatrix: invalid normalize. Expected one of "true", "pred", "all". Received: normalize="rows".',
    );
    nan.dispose();
  });
});
