import * as tf from "@tensorflow/tfjs";
import { compile, evaluate, fit, SGD } from "@convlab/layers";
import type { LossOrMetricFn } from "@convlab/layers";
import { diceLoss, jaccardLoss, sparseCategoricalCrossentropy } from "./losses";
import { oneHotMask } from "./masks";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

/** The value of a scalar loss, the loss tensor disposed. */
function value(loss: tf.Tensor): number {
  expect(loss.shape).toEqual([]);
  const v = loss.dataSync()[0];
  loss.dispose();
  return v;
}

// One 2x2 image, 3 classes. Truth: 0 1 / 2 1. The probability of the true class at each pixel is
// 0.7, 0.8, 0.5, 0.25 (product 0.07).
const IDS = [
  [
    [0, 1],
    [2, 1],
  ],
];
const PROBS = [
  [
    [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
    ],
    [
      [0.2, 0.3, 0.5],
      [0.25, 0.25, 0.5],
    ],
  ],
];
const ln = Math.log;

let yTrue: tf.Tensor;
let yTrue1: tf.Tensor;
let yPred: tf.Tensor;
beforeAll(() => {
  yTrue = tf.tensor3d(IDS); // float32, as tfjs hands targets over
  yTrue1 = tf.reshape(yTrue, [1, 2, 2, 1]);
  yPred = tf.tensor4d(PROBS);
});
afterAll(() => tf.dispose([yTrue, yTrue1, yPred]));

describe("sparseCategoricalCrossentropy", () => {
  it("is the mean of −log p[true class] over pixels, for [N, H, W], [N, H, W, 1] and one-hot targets", () => {
    const loss = sparseCategoricalCrossentropy();
    expect(loss.name).toBe("sparse_categorical_crossentropy");
    const expected = -ln(0.07) / 4;
    expect(value(loss(yTrue, yPred))).toBeCloseTo(expected, 6);
    expect(value(loss(yTrue1, yPred))).toBeCloseTo(expected, 6);
    const ints = tf.cast(yTrue, "int32");
    const oneHot = oneHotMask(yTrue, 3);
    expect(value(loss(ints, yPred))).toBeCloseTo(expected, 6);
    expect(value(loss(oneHot, yPred))).toBeCloseTo(expected, 6);
    tf.dispose([ints, oneHot]);
  });

  it("equals tfjs's cross-entropy without options (tf.metrics.categoricalCrossentropy of the one-hot ids)", () => {
    // tfjs 4.22 does not export tf.metrics.sparseCategoricalCrossentropy; its sparse loss is this
    // one after clipping (compared through compile below).
    const [t, p] = tf.tidy(() => {
      const logits = tf.randomNormal([2, 5, 6, 4], 0, 3, "float32", 11);
      return [tf.floor(tf.randomUniform([2, 5, 6], 0, 4, "float32", 12)), tf.softmax(logits)];
    });
    const ours = value(sparseCategoricalCrossentropy()(t, p));
    const theirs = value(tf.tidy(() => tf.mean(tf.metrics.categoricalCrossentropy(oneHotMask(t, 4), p))));
    expect(ours).toBeCloseTo(theirs, 6);
    tf.dispose([t, p]);
  });

  it("weighs pixels by class (array or object) and skips ignored pixels: Σ w·ce / counted pixels", () => {
    const weighted = -(1 * ln(0.7) + 2 * ln(0.8) + 0.5 * ln(0.5) + 2 * ln(0.25)) / 4;
    expect(value(sparseCategoricalCrossentropy({ classWeights: [1, 2, 0.5] })(yTrue, yPred))).toBeCloseTo(weighted, 6);
    expect(value(sparseCategoricalCrossentropy({ classWeights: { 1: 2, 2: 0.5 } })(yTrue, yPred))).toBeCloseTo(weighted, 6);
    // ignoring class 2 drops pixel (1, 0): three pixels counted
    expect(value(sparseCategoricalCrossentropy({ ignoreClass: 2 })(yTrue, yPred))).toBeCloseTo(-ln(0.7 * 0.8 * 0.25) / 3, 6);
    // a void id 255 at that pixel, as ids and as a one-hot zero row
    const voided = tf.tensor3d([[[0, 1], [255, 1]]]);
    const voidedOneHot = oneHotMask(voided, 3, { ignoreClass: 255 });
    const ignore = sparseCategoricalCrossentropy({ ignoreClass: 255, classWeights: { 1: 2 } });
    const expected = -(ln(0.7) + 2 * ln(0.8) + 2 * ln(0.25)) / 3;
    expect(value(ignore(voided, yPred))).toBeCloseTo(expected, 6);
    expect(value(ignore(voidedOneHot, yPred))).toBeCloseTo(expected, 6);
    // nothing counted: 0, not NaN
    const allVoid = tf.fill([1, 2, 2], 255);
    expect(value(ignore(allVoid, yPred))).toBe(0);
    tf.dispose([voided, voidedOneHot, allVoid]);
  });

  it("takes logits with fromLogits: the same value as the softmax of those logits", () => {
    const logits = tf.tensor4d([[[[2, 0, -1], [0, 1, 0]], [[-1, 0, 3], [1, 1, 1]]]]);
    const probs = tf.softmax(logits);
    const expected = value(sparseCategoricalCrossentropy()(yTrue, probs));
    // by hand: −log softmax at pixel (0, 0) is log(e² + 1 + e⁻¹) − 2, and so on
    const byHand = (ln(Math.exp(2) + 1 + Math.exp(-1)) - 2 + ln(2 + Math.E) - 1 + ln(Math.exp(-1) + 1 + Math.exp(3)) - 3 + ln(3)) / 4;
    expect(expected).toBeCloseTo(byHand, 5);
    expect(value(sparseCategoricalCrossentropy({ fromLogits: true })(yTrue, logits))).toBeCloseTo(byHand, 5);
    tf.dispose([logits, probs]);
  });

  it("has finite gradients: dL/dp = (1/Σp − 1/p[true])/4 at the true class, 0 at ignored pixels; no tensor leaked", () => {
    const before = tf.memory().numTensors;
    const plain = sparseCategoricalCrossentropy();
    const g = tf.grad((p: tf.Tensor) => plain(yTrue, p))(yPred);
    const values = g.arraySync() as number[][][][];
    expect(values[0][0][0][0]).toBeCloseTo((1 - 1 / 0.7) / 4, 5);
    expect(values[0][0][0][1]).toBeCloseTo(1 / 4, 5);
    const ignoring = sparseCategoricalCrossentropy({ ignoreClass: 2, classWeights: [1, 2, 3] });
    const gi = tf.grad((p: tf.Tensor) => ignoring(yTrue, p))(yPred);
    const ivalues = gi.arraySync() as number[][][][];
    expect(ivalues.flat(3).every(Number.isFinite)).toBe(true);
    expect(ivalues[0][1][0].map((v) => v + 0)).toEqual([0, 0, 0]);
    tf.dispose([g, gi]);
    value(plain(yTrue, yPred));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("says what is wrong in one line", () => {
    const loss = sparseCategoricalCrossentropy();
    const wrong = tf.zeros([1, 3, 3]);
    const flat = tf.zeros([3]);
    expect(errorOf(() => loss(wrong, yPred))).toBe(
      "sparseCategoricalCrossentropy: invalid yTrue. Expected class ids of shape [1,2,2] or [1,2,2,1], or their one-hot [1,2,2,3], for yPred of shape [1,2,2,3]. Received: yTrue=Tensor<float32>[1,3,3].",
    );
    expect(errorOf(() => loss(flat, flat))).toBe("sparseCategoricalCrossentropy: invalid yPred. Expected probabilities of shape [N, H, W, C]. Received: yPred=Tensor<float32>[3].");
    expect(errorOf(() => sparseCategoricalCrossentropy({ classWeights: [1, 2] })(yTrue, yPred))).toBe(
      "sparseCategoricalCrossentropy: invalid classWeights. Expected one weight per class (3, the last axis of yPred). Received: classWeights=[1,2].",
    );
    expect(errorOf(() => sparseCategoricalCrossentropy({ classWeights: { 3: 2 } })(yTrue, yPred))).toBe(
      "sparseCategoricalCrossentropy: invalid classWeights. Expected class ids in [0, 3) (the last axis of yPred) as keys. Received: key 3.",
    );
    expect(errorOf(() => sparseCategoricalCrossentropy({ classWeights: [1, -2, 1] }))).toBe(
      "sparseCategoricalCrossentropy: invalid classWeights[1]. Expected a number >= 0. Received: classWeights[1]=-2.",
    );
    expect(errorOf(() => sparseCategoricalCrossentropy({ classWeights: { road: 2 } as never }))).toBe(
      'sparseCategoricalCrossentropy: invalid classWeights. Expected class ids (integers >= 0) as keys, such as { 1: 5 }. Received: key "road".',
    );
    expect(errorOf(() => sparseCategoricalCrossentropy({ classWeights: 2 as never }))).toBe(
      "sparseCategoricalCrossentropy: invalid classWeights. Expected an array with one weight per class or an object { classId: weight }. Received: classWeights=2.",
    );
    expect(errorOf(() => sparseCategoricalCrossentropy({ fromLogits: "yes" as never }))).toBe(
      'sparseCategoricalCrossentropy: invalid fromLogits. Expected true or false. Received: fromLogits="yes".',
    );
    expect(errorOf(() => sparseCategoricalCrossentropy({ ignore_class: 255 } as never))).toMatch(/^sparseCategoricalCrossentropy: unknown option `ignore_class`\..* Did you mean `ignoreClass`\?$/);
    tf.dispose([wrong, flat]);
  });
});

describe("diceLoss", () => {
  // Per class (I = Σ p·t, P = Σ p, T = Σ t): class 0 I 0.7 P 1.25 T 1; class 1 I 1.05 P 1.55 T 2; class 2 I 0.5 P 1.2 T 1.
  const dice0 = (2 * 0.7 + 1) / (1.25 + 1 + 1);
  const dice1 = (2 * 1.05 + 1) / (1.55 + 2 + 1);
  const dice2 = (2 * 0.5 + 1) / (1.2 + 1 + 1);

  it("is 1 − the mean over classes of (2·Σ p·t + 1) / (Σ p + Σ t + 1)", () => {
    const loss = diceLoss();
    expect(loss.name).toBe("dice");
    expect(value(loss(yTrue, yPred))).toBeCloseTo(1 - (dice0 + dice1 + dice2) / 3, 6);
    expect(value(loss(yTrue1, yPred))).toBeCloseTo(1 - (dice0 + dice1 + dice2) / 3, 6);
    expect(value(diceLoss({ classes: [1, 2] })(yTrue, yPred))).toBeCloseTo(1 - (dice1 + dice2) / 2, 6);
    // smooth 0.5: class 0 is (1.4 + 0.5) / (2.25 + 0.5)
    expect(value(diceLoss({ smooth: 0.5, classes: [0] })(yTrue, yPred))).toBeCloseTo(1 - 1.9 / 2.75, 6);
  });

  it("leaves ignored pixels out of every sum; an absent, unpredicted class scores 1", () => {
    // ignoring pixel (1, 0): class 0 I 0.7 P 1.05 T 1; class 1 I 1.05 P 1.25 T 2; class 2 I 0 P 0.7 T 0
    const expected = 1 - ((1.4 + 1) / 3.05 + (2.1 + 1) / 4.25 + 1 / 1.7) / 3;
    expect(value(diceLoss({ ignoreClass: 2 })(yTrue, yPred))).toBeCloseTo(expected, 6);
    const voided = tf.tensor3d([[[0, 1], [255, 1]]]);
    const voidedOneHot = oneHotMask(voided, 3, { ignoreClass: 255 });
    expect(value(diceLoss({ ignoreClass: 255 })(voided, yPred))).toBeCloseTo(expected, 6);
    expect(value(diceLoss({ ignoreClass: 255 })(voidedOneHot, yPred))).toBeCloseTo(expected, 6);
    // a perfect prediction without class 2 anywhere: every Dice is 1
    const perfect = oneHotMask(tf.tensor3d([[[0, 1], [1, 0]]]), 3);
    expect(value(diceLoss()(perfect, perfect))).toBeCloseTo(0, 6);
    tf.dispose([voided, voidedOneHot, perfect]);
  });

  it("has finite gradients and leaks no tensor", () => {
    const before = tf.memory().numTensors;
    const loss = diceLoss({ ignoreClass: 2 });
    const g = tf.grad((p: tf.Tensor) => loss(yTrue, p))(yPred);
    const values = (g.arraySync() as number[][][][]).flat(3);
    expect(values.every(Number.isFinite)).toBe(true);
    // d/dp of class 0 at pixel (0, 0), a class-0 pixel: −(1/3)·(2·3.05 − 2.4) / 3.05²
    expect(values[0]).toBeCloseTo((-1 / 3) * (2 * 3.05 - 2.4) / 3.05 ** 2, 5);
    g.dispose();
    value(loss(yTrue, yPred));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => diceLoss({ smooth: 0 }))).toBe("diceLoss: invalid smooth. Expected a number > 0. Received: smooth=0.");
    expect(errorOf(() => diceLoss({ classes: [1, 1] }))).toBe("diceLoss: invalid classes. Expected a non-empty array of distinct class ids (integers >= 0). Received: classes=[1,1].");
    expect(errorOf(() => diceLoss({ classes: [1, 3] })(yTrue, yPred))).toBe("diceLoss: invalid classes. Expected class ids in [0, 3) (the last axis of yPred). Received: classes=[1,3].");
    expect(errorOf(() => diceLoss({ smoth: 1 } as never))).toBe("diceLoss: unknown option `smoth`. Expected one of `smooth`, `ignoreClass`, `classes`. Did you mean `smooth`?");
    expect(errorOf(() => diceLoss(3 as never))).toBe("diceLoss: invalid options. Expected an object such as { smooth: 1, ignoreClass: 255 }. Received: options=3.");
  });
});

describe("jaccardLoss", () => {
  it("is 1 − the mean over classes of (I + 1) / (U + 1), U = Σ p + Σ t − I", () => {
    // class 0: I 0.7, U 1.25 + 1 − 0.7 = 1.55; class 1: I 1.05, U 2.5; class 2: I 0.5, U 1.7
    const loss = jaccardLoss();
    expect(loss.name).toBe("jaccard");
    expect(value(loss(yTrue, yPred))).toBeCloseTo(1 - (1.7 / 2.55 + 2.05 / 3.5 + 1.5 / 2.7) / 3, 6);
    // ignoring pixel (1, 0): class 0 I 0.7 U 1.35; class 1 I 1.05 U 2.2; class 2 I 0 U 0.7
    expect(value(jaccardLoss({ ignoreClass: 2 })(yTrue, yPred))).toBeCloseTo(1 - (1.7 / 2.35 + 2.05 / 3.2 + 1 / 1.7) / 3, 6);
    expect(value(jaccardLoss({ smooth: 2, classes: [2] })(yTrue1, yPred))).toBeCloseTo(1 - 2.5 / 3.7, 6);
  });

  it("has finite gradients and leaks no tensor", () => {
    const before = tf.memory().numTensors;
    const loss = jaccardLoss();
    const g = tf.grad((p: tf.Tensor) => loss(yTrue, p))(yPred);
    const values = (g.arraySync() as number[][][][]).flat(3);
    expect(values.every(Number.isFinite)).toBe(true);
    // d/dp of class 0 at a pixel of another class: U grows by p, −(1/3)·(−1.7 / 2.55²)
    expect(values[3]).toBeCloseTo((1 / 3) * (1.7 / 2.55 ** 2), 5);
    g.dispose();
    value(loss(yTrue, yPred));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => jaccardLoss({ smooth: -1 }))).toBe("jaccardLoss: invalid smooth. Expected a number > 0. Received: smooth=-1.");
    expect(errorOf(() => jaccardLoss({ ignoreClass: "void" as never }))).toBe('jaccardLoss: invalid ignoreClass. Expected an integer. Received: ignoreClass="void".');
  });
});

describe("in compile, fit and evaluate of @convlab/layers", () => {
  // A 1x1 Conv2D with softmax: logits (x, 0, −x) at a pixel of value x.
  const X = [0.5, -1, 2, 0];
  const MASK = [0, 1, 2, 255];
  const softmax = (x: number) => {
    const e = [Math.exp(x), 1, Math.exp(-x)];
    const s = e[0] + e[1] + e[2];
    return e.map((v) => v / s);
  };
  const P = X.map(softmax);
  const counted = [0, 1, 2]; // pixel 3 is void (255)

  function model(): tf.LayersModel {
    const m = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [2, 2, 1], filters: 3, kernelSize: 1, activation: "softmax" })] });
    m.layers[0].setWeights([tf.tensor4d([1, 0, -1], [1, 1, 1, 3]), tf.zeros([3])]);
    return m;
  }

  it("are marked sparseTargets, so fit and evaluate take class ids; evaluate and fit report the documented value", async () => {
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const ids = tf.tensor3d(MASK, [1, 2, 2]);
    const ce = counted.reduce((s, i) => s + [1, 2, 1][MASK[i]] * -ln(P[i][MASK[i]]), 0) / counted.length;
    const sums = [0, 1, 2].map((c) => {
      const i = counted.reduce((s, k) => s + (MASK[k] === c ? P[k][c] : 0), 0);
      const p = counted.reduce((s, k) => s + P[k][c], 0);
      const t = counted.filter((k) => MASK[k] === c).length;
      return { i, p, t };
    });
    const dice = 1 - sums.reduce((s, { i, p, t }) => s + (2 * i + 1) / (p + t + 1), 0) / 3;
    const jaccard = 1 - sums.reduce((s, { i, p, t }) => s + (i + 1) / (p + t - i + 1), 0) / 3;
    const cases: Array<[LossOrMetricFn, number]> = [
      [sparseCategoricalCrossentropy({ ignoreClass: 255, classWeights: { 1: 2 } }), ce],
      [diceLoss({ ignoreClass: 255 }), dice],
      [jaccardLoss({ ignoreClass: 255 }), jaccard],
    ];
    for (const [loss, expected] of cases) {
      expect((loss as { sparseTargets?: unknown }).sparseTargets).toBe(true);
      const m = model();
      compile(m, { optimizer: SGD({ learningRate: 0.1 }), loss });
      const [evaluated] = await evaluate(m, x, ids, { verbose: 0 });
      expect(evaluated).toBeCloseTo(expected, 5);
      // fit reports the loss of the batch before its update, also with ids as validationData
      const history = await fit(m, x, ids, { epochs: 1, verbose: 0, validationData: [x, ids] });
      expect(history.history.loss[0]).toBeCloseTo(expected, 5);
      const [after] = await evaluate(m, x, ids, { verbose: 0 });
      expect(after).toBeLessThan(expected);
      expect(history.history.val_loss[0]).toBeCloseTo(after, 6);
      m.dispose();
    }
    // one-hot targets (ignored pixels as all-zero rows) give the same value
    const oneHot = oneHotMask(ids, 3, { ignoreClass: 255 });
    const m = model();
    compile(m, { loss: diceLoss({ ignoreClass: 255 }) });
    const [fromIds] = await evaluate(m, x, ids, { verbose: 0 });
    const [fromOneHot] = await evaluate(m, x, oneHot, { verbose: 0 });
    expect(fromOneHot).toBeCloseTo(fromIds, 6);
    m.dispose();
    tf.dispose([x, ids, oneHot]);
  });

  it("say what masks they take when the shape is wrong", async () => {
    const m = model();
    compile(m, { loss: diceLoss() });
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const wrong = tf.zeros([1, 3, 3]);
    await expect(fit(m, x, wrong, { verbose: 0 })).rejects.toThrow(
      'fit: invalid y. Expected class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "dice". Received: y with shape (1, 3, 3).',
    );
    tf.dispose([x, wrong]);
    m.dispose();
  });

  it('gives the value of the loss "sparse_categorical_crossentropy" (tfjs\'s own) on the same model', async () => {
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const ids = tf.tensor3d([[[0, 1], [2, 1]]]);
    const byName = model();
    compile(byName, { loss: "sparse_categorical_crossentropy" });
    const ours = model();
    compile(ours, { loss: sparseCategoricalCrossentropy() });
    const [theirs] = await evaluate(byName, x, ids, { verbose: 0 });
    const [mine] = await evaluate(ours, x, ids, { verbose: 0 });
    expect(mine).toBeCloseTo(theirs, 6);
    expect(mine).toBeCloseTo([0, 1, 2, 1].reduce((s, c, i) => s - ln(P[i][c]), 0) / 4, 5);
    tf.dispose([x, ids]);
    byName.dispose();
    ours.dispose();
  });

  it("evaluate and fit take class ids from a batch source too, as tfjs's evaluateDataset does", async () => {
    const m = model();
    compile(m, { optimizer: "sgd", loss: sparseCategoricalCrossentropy({ ignoreClass: 255 }) });
    const data = () => tf.data.array([{ xs: tf.tensor3d(X, [2, 2, 1]), ys: tf.tensor2d(MASK, [2, 2]) }]).batch(1);
    const expected = counted.reduce((s, i) => s - ln(P[i][MASK[i]]), 0) / 3;
    const [fromSource] = await evaluate(m, data(), { verbose: 0 });
    expect(fromSource).toBeCloseTo(expected, 5);
    // tfjs's evaluateDataset, which checks no shape, agrees
    const result = (await m.evaluateDataset(data() as never, {})) as tf.Scalar;
    expect(result.dataSync()[0]).toBeCloseTo(expected, 5);
    result.dispose();
    const history = await fit(m, data(), { epochs: 1, verbose: 0 });
    expect(history.history.loss[0]).toBeCloseTo(expected, 5);
    m.dispose();
  });
});
