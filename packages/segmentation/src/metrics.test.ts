import * as tf from "@tensorflow/tfjs";
import { iouPerClass, MeanIoU, meanIou, pixelAccuracy } from "./metrics";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

// One 2x3 mask, 4 classes, 255 = void. Class 2 is predicted but absent from the truth; class 3 is
// in neither. Counted pixels (t → p): 0→0, 0→1, 1→1, 1→1, 1→2; the void pixel's 0 is not counted.
const TRUE = [
  [
    [0, 0, 1],
    [1, 1, 255],
  ],
];
const PRED = [
  [
    [0, 1, 1],
    [1, 2, 0],
  ],
];
const MATRIX = [
  [1, 1, 0, 0],
  [0, 2, 1, 0],
  [0, 0, 0, 0],
  [0, 0, 0, 0],
];
// IoU0 = 1 / (2 + 1 − 1), IoU1 = 2 / (3 + 3 − 2), IoU2 = 0 / (0 + 1 − 0), IoU3 = 0/0
const IOU = [0.5, 0.5, 0, NaN];
const MEAN = (0.5 + 0.5 + 0) / 3; // class 3 left out (TP + FP + FN = 0)
const ACCURACY = 3 / 5;

/** Scores [1, 2, 3, 4] whose argmax is PRED: 0.6 + 0.1 at the predicted class, 0.1 elsewhere. */
function scores(): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.oneHot(tf.tensor3d(PRED, undefined, "int32"), 4), 0.6), 0.1));
}

describe("MeanIoU", () => {
  it("counts a confusion matrix and gives hand-computed IoU per class, mean IoU and pixel accuracy", () => {
    const m = new MeanIoU({ numClasses: 4, ignoreClass: 255, classNames: ["background", "road", "car", "sky"] });
    expect(m.result()).toBe(0); // as Keras, before any pixel
    expect(m.pixelAccuracy()).toBe(0);
    const yTrue = tf.tensor3d(TRUE);
    const yPred = tf.tensor3d(PRED, undefined, "int32");
    const before = tf.memory().numTensors;
    m.updateState(yTrue, yPred);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.confusionMatrix()).toEqual(MATRIX);
    expect(m.iouPerClass()).toEqual(IOU);
    expect(m.iouByClass()).toEqual({ background: 0.5, road: 0.5, car: 0, sky: NaN });
    expect(m.meanIou()).toBeCloseTo(MEAN, 12);
    expect(m.result()).toBe(m.meanIou());
    expect(m.pixelAccuracy()).toBeCloseTo(ACCURACY, 12);
    tf.dispose([yTrue, yPred]);
  });

  it("gives the same counts for scores [N, H, W, C] (argmax), [N, H, W, 1] ids and { data, shape } arrays", () => {
    const s = scores();
    const viaScores = new MeanIoU({ numClasses: 4, ignoreClass: 255 });
    const yTrue1 = tf.tensor4d(TRUE.flat(2), [1, 2, 3, 1]);
    const before = tf.memory().numTensors;
    viaScores.updateState(yTrue1, s);
    expect(tf.memory().numTensors).toBe(before);
    expect(viaScores.confusionMatrix()).toEqual(MATRIX);
    const viaArrays = new MeanIoU({ numClasses: 4, ignoreClass: 255 });
    viaArrays.updateState({ data: new Uint8Array(TRUE.flat(2)), shape: [1, 2, 3] }, { data: Int32Array.from(PRED.flat(2)), shape: [1, 2, 3, 1] });
    expect(viaArrays.confusionMatrix()).toEqual(MATRIX);
    expect(viaArrays.classNames).toEqual(["0", "1", "2", "3"]);
    tf.dispose([s, yTrue1]);
  });

  it("accumulates over batches and forgets with resetState", () => {
    const m = new MeanIoU({ numClasses: 4, ignoreClass: 255 });
    m.updateState({ data: TRUE[0][0], shape: [1, 1, 3] }, { data: PRED[0][0], shape: [1, 1, 3] });
    expect(m.confusionMatrix()[0]).toEqual([1, 1, 0, 0]);
    m.updateState({ data: TRUE[0][1], shape: [1, 1, 3] }, { data: PRED[0][1], shape: [1, 1, 3] });
    expect(m.confusionMatrix()).toEqual(MATRIX);
    m.updateState({ data: TRUE[0][1], shape: [1, 1, 3] }, { data: PRED[0][1], shape: [1, 1, 3] });
    expect(m.confusionMatrix()[1]).toEqual([0, 3, 2, 0]);
    m.resetState();
    expect(m.confusionMatrix()).toEqual(MATRIX.map((r) => r.map(() => 0)));
    expect(m.result()).toBe(0);
  });

  it("ignores a class inside [0, C) as Keras does: its row is empty, predictions of it stay false positives", () => {
    // ignoring class 1 leaves 0→0, 0→1: IoU0 = 1/2, IoU1 = 0/1, classes 2 and 3 absent
    const m = new MeanIoU({ numClasses: 4, ignoreClass: 1 });
    m.updateState({ data: [0, 0, 1, 1, 1, 1], shape: [1, 2, 3] }, { data: PRED.flat(2), shape: [1, 2, 3] });
    expect(m.iouPerClass()).toEqual([0.5, 0, NaN, NaN]);
    expect(m.meanIou()).toBe(0.25);
  });

  it("names the value and position of a bad id, and a prediction that does not fit; the state is unchanged", () => {
    const m = new MeanIoU({ numClasses: 4 });
    const yTrue = { data: TRUE.flat(2), shape: [1, 2, 3] };
    expect(errorOf(() => m.updateState(yTrue, { data: PRED.flat(2), shape: [1, 2, 3] }))).toBe(
      "MeanIoU.updateState: invalid yTrue. Expected class ids in [0, 4). Received: 255 at yTrue[0][1][2].",
    );
    expect(m.confusionMatrix().flat().every((v) => v === 0)).toBe(true);
    const ok = { data: [0, 0, 1, 1, 1, 3], shape: [1, 2, 3] };
    expect(errorOf(() => m.updateState(ok, { data: [0, 4, 1, 1, 2, 0], shape: [1, 2, 3] }))).toBe("MeanIoU.updateState: invalid yPred. Expected class ids in [0, 4). Received: 4 at yPred[0][0][1].");
    const wrongSize = tf.zeros([1, 3, 3]);
    expect(errorOf(() => m.updateState(ok, wrongSize))).toBe(
      "MeanIoU.updateState: invalid yPred. Expected class ids of shape [1,2,3] or scores of shape [1,2,3,4] (numClasses 4) for yTrue of shape [1,2,3]. Received: yPred of shape [1,3,3].",
    );
    const threeScores = tf.zeros([1, 2, 3, 3]);
    expect(errorOf(() => m.updateState(ok, threeScores))).toBe(
      "MeanIoU.updateState: invalid yPred. Expected class ids of shape [1,2,3] or scores of shape [1,2,3,4] (numClasses 4) for yTrue of shape [1,2,3]. Received: yPred of shape [1,2,3,3].",
    );
    expect(errorOf(() => m.updateState(ok, "mask" as never))).toBe('MeanIoU.updateState: invalid yPred. Expected a tf.Tensor or { data, shape }. Received: yPred="mask".');
    tf.dispose([wrongSize, threeScores]);
  });

  it("checks its options", () => {
    expect(errorOf(() => new MeanIoU({} as never))).toBe("MeanIoU: invalid numClasses. Expected an integer >= 1. Received: numClasses=undefined.");
    expect(errorOf(() => new MeanIoU(undefined as never))).toBe("MeanIoU: missing options. Expected an object such as { numClasses: 3 }. Received: options=undefined.");
    expect(errorOf(() => new MeanIoU({ numClasses: 2, classNames: ["a"] }))).toBe('MeanIoU: invalid classNames. Expected 2 strings, one per class. Received: classNames=["a"].');
    expect(errorOf(() => new MeanIoU({ num_classes: 2 } as never))).toMatch(/^MeanIoU: unknown option `num_classes`\..* Did you mean `numClasses`\?$/);
    expect(errorOf(() => new MeanIoU({ numClasses: 2, ignoreClass: 1.5 }))).toBe("MeanIoU: invalid ignoreClass. Expected an integer. Received: ignoreClass=1.5.");
  });
});

describe("meanIou, iouPerClass, pixelAccuracy", () => {
  it("give the values of MeanIoU in one call, for ids and for scores", () => {
    const yTrue = tf.tensor3d(TRUE);
    const ids = tf.tensor3d(PRED);
    const s = scores();
    const args = { numClasses: 4, ignoreClass: 255 };
    const before = tf.memory().numTensors;
    for (const yPred of [ids, s]) {
      expect(meanIou(yTrue, yPred, args)).toBeCloseTo(MEAN, 12);
      expect(iouPerClass(yTrue, yPred, args)).toEqual(IOU);
      expect(pixelAccuracy(yTrue, yPred, args)).toBeCloseTo(ACCURACY, 12);
    }
    expect(tf.memory().numTensors).toBe(before);
    // a perfect prediction of a mask without classes 2 and 3: mean over classes 0 and 1 only
    expect(meanIou({ data: [0, 1], shape: [1, 1, 2] }, { data: [0, 1], shape: [1, 1, 2] }, { numClasses: 4 })).toBe(1);
    tf.dispose([yTrue, ids, s]);
  });

  it("name themselves in errors", () => {
    const yTrue = { data: TRUE.flat(2), shape: [1, 2, 3] };
    expect(errorOf(() => meanIou(yTrue, yTrue, { numClasses: 4 }))).toBe("meanIou: invalid yPred. Expected class ids in [0, 4). Received: 255 at yPred[0][1][2].");
    expect(errorOf(() => iouPerClass(yTrue, { data: PRED.flat(2), shape: [1, 2, 3] }, { numClasses: 4 }))).toBe(
      "iouPerClass: invalid yTrue. Expected class ids in [0, 4). Received: 255 at yTrue[0][1][2].",
    );
    expect(errorOf(() => pixelAccuracy(yTrue, yTrue, { numClasses: 4, classNames: [] } as never))).toBe(
      "pixelAccuracy: unknown option `classNames`. Expected one of `numClasses`, `ignoreClass`.",
    );
  });
});
