import * as tf from "@tensorflow/tfjs";
import "@convlab/engine";
import { clearSession } from "./clear_session";
import { compile } from "./compile";
import { fit } from "./fit";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

afterAll(() => {
  // Close the session this file opened, so no scope outlives the tests.
  const engine = tf.engine() as any;
  while (engine.state.scopeStack.length > 0) engine.endScope();
});

/** What one run of a small lesson leaves: data at the top level, a trained model, a prediction. */
async function lessonRun(): Promise<tf.LayersModel> {
  const xs = tf.randomNormal([16, 4]);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], "int32"), 3);
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: "relu" }), tf.layers.dense({ units: 3, activation: "softmax" })] });
  compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  await fit(model, xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
  model.predict(xs);
  return model;
}

describe("clearSession", () => {
  it("frees what a run made at the top level, so running it again starts from the same memory", async () => {
    const before = tf.tensor1d([1, 2, 3]); // made before the session: left alone
    clearSession();
    const start = tf.memory().numTensors;
    const first = await lessonRun();
    const left = tf.memory().numTensors - start;
    expect(left).toBeGreaterThan(4); // data, weights, optimizer state, the prediction
    expect(first.name).toBe("sequential");

    clearSession();
    expect(tf.memory().numTensors).toBe(start);
    expect(Object.keys(tf.engine().registeredVariables)).toEqual([]);

    const second = await lessonRun();
    expect(tf.memory().numTensors - start).toBe(left);
    expect(second.name).toBe("sequential"); // names start from zero again
    expect(second.layers.map((l) => l.name)).toEqual(["dense", "dense_1"]);
    expect(() => first.predict(tf.zeros([1, 4]))).toThrow(); // its weights are gone (tf.js's message is not clear)
    clearSession();
    expect(tf.memory().numTensors).toBe(start);
    expect(Array.from(before.dataSync())).toEqual([1, 2, 3]);
  });

  it("keeps tensors kept with tf.keep, and tidy still frees its intermediates", () => {
    clearSession();
    const start = tf.memory().numTensors;
    const kept = tf.keep(tf.scalar(7));
    const result = tf.tidy(() => tf.add(tf.ones([2]), tf.ones([2])));
    expect(tf.memory().numTensors - start).toBe(2);
    clearSession();
    expect(tf.memory().numTensors - start).toBe(1);
    expect(kept.dataSync()[0]).toBe(7);
    expect(result.isDisposed).toBe(true);
    kept.dispose();
  });

  it("refuses to run inside tf.tidy, with one line saying where to call it", () => {
    clearSession();
    expect(() => tf.tidy(() => clearSession())).toThrow(
      "clearSession: called inside tf.tidy (or another tf.js scope). Expected a call at the top level of a cell. Move clearSession() out of the tidy function.",
    );
  });
});
