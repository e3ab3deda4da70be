import * as tf from "@tensorflow/tfjs";
import { toFullyConvolutional } from "./fully_convolutional";

/** A Flatten classifier on 12×12×1: conv 3×3 → pool 2 → Flatten (5×5×4) → Dense 8 → Dropout → Dense 3 softmax. */
function flattenClassifier(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: "relu", biasInitializer: "glorotUniform" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 8, activation: "relu", biasInitializer: "glorotUniform" }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 3, activation: "softmax", biasInitializer: "glorotUniform" }),
    ],
  });
}

function close(actual: tf.Tensor, expected: tf.Tensor, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - e[i]))));
  expect(worst).toBeLessThan(tolerance);
}

describe("toFullyConvolutional", () => {
  beforeAll(() => tf.setBackend("cpu"));

  it("gives the original's class scores on the original input size", () => {
    const model = flattenClassifier();
    const fcn = toFullyConvolutional(model);
    const x = tf.randomUniform([2, 12, 12, 1], 0, 1, "float32", 1);
    const fcnOut = fcn.predict(x) as tf.Tensor;
    expect(fcnOut.shape).toEqual([2, 1, 1, 3]);
    close(fcnOut.reshape([2, 3]), model.predict(x) as tf.Tensor);
    expect(fcn.layers.map((l) => l.getClassName())).toEqual(["InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "Dropout", "Conv2D", "Softmax"]);
    expect((fcn.layers[3] as unknown as { kernelSize: number[] }).kernelSize).toEqual([5, 5]);
    tf.dispose([x, fcnOut]);
    model.dispose();
    fcn.dispose();
  });

  it("on a larger image answers for every window, stepping by the base's stride", () => {
    const model = flattenClassifier();
    const fcn = toFullyConvolutional(model);
    const big = tf.randomUniform([1, 16, 18, 1], 0, 1, "float32", 2);
    const map = fcn.predict(big) as tf.Tensor4D;
    // conv valid: 16×18 → 14×16, pool 2: 7×8, window 5×5: 3×4 positions.
    expect(map.shape).toEqual([1, 3, 4, 3]);
    for (const [i, j] of [[0, 0], [1, 2], [2, 3]]) {
      const crop = big.slice([0, 2 * i, 2 * j, 0], [1, 12, 12, 1]);
      const expected = model.predict(crop) as tf.Tensor;
      close(map.slice([0, i, j, 0], [1, 1, 1, 3]).reshape([1, 3]), expected);
      tf.dispose([crop, expected]);
    }
    tf.dispose([big, map]);
    model.dispose();
    fcn.dispose();
  });

  it("copies the weights: changing the FCN leaves the original unchanged, and no tensor leaks", () => {
    const model = flattenClassifier();
    const before = tf.memory().numTensors;
    const fcn = toFullyConvolutional(model);
    // Only the FCN's own variables were made: one tensor per weight.
    expect(tf.memory().numTensors - before).toBe(fcn.weights.length);
    const kernel = model.layers[0].getWeights()[0].dataSync().slice();
    const zeros = fcn.layers[1].getWeights().map((w) => tf.zerosLike(w));
    fcn.layers[1].setWeights(zeros);
    tf.dispose(zeros);
    expect(Array.from(model.layers[0].getWeights()[0].dataSync())).toEqual(Array.from(kernel));
    fcn.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("unrolls a base model nested in a Sequential (a pretrained base plus a head)", () => {
    const baseInput = tf.input({ shape: [10, 10, 3] });
    const baseOut = tf.layers.maxPooling2d({ poolSize: 2 }).apply(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu" }).apply(baseInput)) as tf.SymbolicTensor;
    const base = tf.model({ inputs: baseInput, outputs: baseOut, name: "base" });
    const model = tf.sequential({ layers: [base, tf.layers.flatten(), tf.layers.dense({ units: 2, activation: "sigmoid" })] });
    const fcn = toFullyConvolutional(model);
    const x = tf.randomUniform([3, 10, 10, 3], 0, 1, "float32", 3);
    const out = fcn.predict(x) as tf.Tensor;
    close(out.reshape([3, 2]), model.predict(x) as tf.Tensor);
    tf.dispose([x, out]);
    model.dispose();
    fcn.dispose();
  });

  it("turns global average pooling + Dense into a class activation map whose mean is the original's output", () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 5, kernelSize: 3, padding: "same", activation: "relu" }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 4, biasInitializer: "glorotUniform" }),
      ],
    });
    const fcn = toFullyConvolutional(model);
    const x = tf.randomUniform([2, 8, 8, 2], 0, 1, "float32", 4);
    const map = fcn.predict(x) as tf.Tensor4D;
    expect(map.shape).toEqual([2, 8, 8, 4]);
    const mean = map.mean([1, 2]);
    close(mean, model.predict(x) as tf.Tensor);
    tf.dispose([x, map, mean]);
    model.dispose();
    fcn.dispose();
  });

  it("rejects what it cannot convert, naming the layer", () => {
    const noDense = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 })] });
    expect(() => toFullyConvolutional(noDense)).toThrow(
      'toFullyConvolutional: invalid model. Expected a classifier with at least one Dense layer to convert. Received: model "' + noDense.name + '" without Dense layers.',
    );
    const reshape = tf.sequential({ layers: [tf.layers.reshape({ inputShape: [4, 4, 1], targetShape: [16] }), tf.layers.dense({ units: 2 })] });
    expect(() => toFullyConvolutional(reshape)).toThrow(/^toFullyConvolutional: unsupported layer\. .* Received: layer "reshape_\w+" of class Reshape\.$/);
    const afterFlatten = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 2 })] });
    expect(() => toFullyConvolutional(afterFlatten)).toThrow(/unsupported layer order\. Expected Dense right after Flatten/);
    expect(() => toFullyConvolutional({} as never)).toThrow("toFullyConvolutional: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model={}.");
    expect(() => toFullyConvolutional(noDense, { heatMap: true } as never)).toThrow("toFullyConvolutional: unknown option `heatMap`. Expected one of `name`.");
    [noDense, reshape, afterFlatten].forEach((m) => m.dispose());
  });
});
