/**
 * The dilated Conv2D gradient against an independent reference: TensorFlow's own way of
 * computing a dilated convolution (spaceToBatchND, an ordinary convolution,
 * batchToSpaceND), whose gradients tfjs already has.
 */
import * as tf from "@tensorflow/tfjs";
import { dilateFilter, registerGradients } from "./gradients";

beforeAll(async () => {
  registerGradients();
  await tf.setBackend("cpu");
});

/** Dilated "valid" convolution through spaceToBatchND (no padding needed when sizes divide). */
function referenceConv(x: tf.Tensor4D, w: tf.Tensor4D, d: number): tf.Tensor4D {
  const [, h, wd] = x.shape;
  const padH = (d - (h % d)) % d;
  const padW = (d - (wd % d)) % d;
  const blocks = tf.spaceToBatchND(x, [d, d], [[0, padH], [0, padW]]) as tf.Tensor4D;
  const y = tf.conv2d(blocks, w, 1, "valid");
  const [kh, kw] = w.shape;
  const outH = h - (kh - 1) * d;
  const outW = wd - (kw - 1) * d;
  const crops = [[0, y.shape[1] * d - outH], [0, y.shape[2] * d - outW]];
  return tf.batchToSpaceND(y, [d, d], crops) as tf.Tensor4D;
}

describe("dilated conv2d gradient", () => {
  it("dilateFilter spreads the taps with zeros between them", () => {
    const w = tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]);
    const dilated = dilateFilter(w, [2, 3]);
    expect(dilated.shape).toEqual([3, 4, 1, 1]);
    expect(Array.from(dilated.dataSync())).toEqual([1, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4]);
    tf.dispose([w, dilated]);
  });

  it.each([
    [2, 3, 12, 10],
    [3, 2, 13, 14],
    [2, 5, 16, 16],
  ])("dilation %i, kernel %i, %ix%i input: dx and dw equal the spaceToBatch reference", (d, k, h, wd) => {
    const x = tf.randomNormal([2, h, wd, 3], 0, 1, "float32", 7) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, 3, 4], 0, 1, "float32", 8) as tf.Tensor4D;
    const target = tf.randomNormal([2, h - (k - 1) * d, wd - (k - 1) * d, 4], 0, 1, "float32", 9);
    const loss = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) => (a: tf.Tensor, b: tf.Tensor) =>
      conv(a as tf.Tensor4D, b as tf.Tensor4D).mul(target).sum();
    const ours = tf.grads(loss((a, b) => tf.conv2d(a, b, 1, "valid", "NHWC", d)))([x, w]);
    const reference = tf.grads(loss((a, b) => referenceConv(a, b, d)))([x, w]);
    for (let i = 0; i < 2; i++) {
      expect(ours[i].shape).toEqual(reference[i].shape);
      const err = tf.tidy(() => ours[i].sub(reference[i]).abs().max().div(reference[i].abs().max()).dataSync()[0]);
      expect(err).toBeLessThan(1e-4);
    }
    tf.dispose([x, w, target, ...ours, ...reference]);
  });

  it("a model with a dilated Conv2D trains, with no leaked tensors", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, dilationRate: 2, padding: "same", activation: "relu" }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([8, 12, 12, 1], 0, 1, "float32", 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], "int32"), 2).toFloat();
    await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    const before = tf.memory().numTensors;
    const history = await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(history.history.loss.every((l) => Number.isFinite(l as number))).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});
