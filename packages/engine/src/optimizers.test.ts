/**
 * The fused RMSprop step: equal to tfjs's own RMSPropOptimizer (epsilon inside the root)
 * and to Keras's formula computed by hand (outside), on the native backend and elsewhere.
 */
import * as tf from "@tensorflow/tfjs";
import { loadNativeAddon } from "./native_addon";
import { NATIVE_BACKEND, registerNativeBackend } from "./native_backend";
import { fuseTfjsRmsprop, rmspropStep } from "./optimizers";

const loaded = loadNativeAddon();
const backends = ["cpu", ...("addon" in loaded ? [NATIVE_BACKEND] : [])];

beforeAll(() => {
  if ("addon" in loaded) registerNativeBackend(loaded.addon, 2.5);
});
afterAll(async () => {
  await tf.setBackend("cpu");
});

/** Three steps of Keras's RMSprop in float64 on plain arrays. */
function kerasByHand(w: number[], grads: number[][], lr: number, rho: number, momentum: number, eps: number): number[] {
  const ms = w.map(() => 0);
  const mom = w.map(() => 0);
  const out = [...w];
  for (const g of grads) {
    for (let i = 0; i < w.length; i++) {
      ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
      mom[i] = momentum * mom[i] + (lr * g[i]) / (Math.sqrt(ms[i]) + eps);
      out[i] -= mom[i];
    }
  }
  return out;
}

describe.each(backends)("rmspropStep on %s", (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it.each([0, 0.9])("equals Keras's formula by hand over three steps (momentum %p)", (momentum) => {
    const w0 = [0.5, -1.25, 2, 1e-3, 0];
    const grads = [[0.1, -0.2, 0.3, 1e-5, 0], [0.05, 0.4, -0.3, -1e-5, 0], [-0.2, 0.1, 0.2, 2e-5, 1]];
    const value = tf.variable(tf.tensor1d(w0));
    const ms = tf.variable(tf.zeros([5]), false);
    const mom = tf.variable(tf.zeros([5]), false);
    const before = tf.memory().numTensors;
    for (const g of grads) {
      const grad = tf.tensor1d(g);
      rmspropStep(value, ms, mom, grad, { learningRate: 0.01, rho: 0.9, momentum, epsilon: 1e-7, epsilonInsideSqrt: false });
      grad.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const expected = kerasByHand(w0, grads, 0.01, 0.9, momentum, 1e-7);
    Array.from(value.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    tf.dispose([value, ms, mom]);
  });
});

describe("tf.train.rmsprop with the fused step", () => {
  it("trains a model to the same weights as tfjs's own optimizer, and keeps its state variables", async () => {
    fuseTfjsRmsprop();
    const train = async (backend: string) => {
      await tf.setBackend(backend);
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ name: "hidden", inputShape: [6], units: 8, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          tf.layers.dense({ name: "out", units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        ],
      });
      const optimizer = tf.train.rmsprop(0.01, 0.9, 0.5);
      model.compile({ optimizer, loss: "categoricalCrossentropy" });
      const x = tf.randomNormal([16, 6], 0, 1, "float32", 5);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], "int32"), 3).toFloat();
      await model.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      // variable names get a _1 suffix the second time a layer name is used in the process
      const state = (await optimizer.getWeights()).map((w) => w.name.replace(/_\d+\//, "/"));
      tf.dispose([x, y]);
      model.dispose();
      return { weights, state };
    };
    const reference = await train("cpu"); // no fused kernel on cpu: tfjs's own code
    for (const backend of backends.slice(1)) {
      const fused = await train(backend);
      expect(fused.state).toEqual(reference.state);
      fused.weights.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(reference.weights[i][j], 5)));
    }
  });
});
