/**
 * Whole models on the wasm backend set up by convlab: gradients equal the cpu
 * backend's, the course's first model trains, and training leaks nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { setupWasm } from "./setup";

jest.setTimeout(120000);

interface Weights {
  shape: number[];
  values: Float32Array;
}

async function onBackend<T>(name: "cpu" | "wasm", body: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await body();
  } finally {
    await tf.setBackend(previous);
  }
}

function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    out[i] = (((s >>> 8) & 0xffff) / 0x10000 - 0.5) * 2 * scale;
  }
  return out;
}

/** Gradients of the mean categorical cross-entropy w.r.t. every trainable weight, in order. */
async function gradients(
  backend: "cpu" | "wasm",
  build: () => tf.LayersModel,
  weights: Weights[],
  x: { shape: number[]; values: Float32Array; dtype?: "float32" | "int32" },
  y: { shape: number[]; values: Float32Array },
): Promise<Float32Array[]> {
  return onBackend(backend, () => {
    const model = build();
    model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
    const xs = tf.tensor(x.values, x.shape, x.dtype ?? "float32");
    const ys = tf.tensor(y.values, y.shape);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(xs, { training: true }) as tf.Tensor;
      return tf.metrics.categoricalCrossentropy(ys, out).mean() as tf.Scalar;
    }, vars);
    const result = vars.map((v) => Float32Array.from(grads[v.name].dataSync() as Float32Array));
    tf.dispose([value, xs, ys, ...Object.values(grads)]);
    model.dispose();
    return result;
  });
}

function maxAbs(values: Float32Array): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

/** max|actual − expected| / max(max|expected|, floor). */
function relativeError(actual: Float32Array, expected: Float32Array, floor = 0): number {
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  const scale = Math.max(maxAbs(expected), floor);
  return scale === 0 ? diff : diff / scale;
}

async function expectSameGradients(build: () => tf.LayersModel, xShape: number[], classes: number, intInput?: number): Promise<void> {
  const weights = await onBackend("cpu", () => {
    const model = build();
    const w = model.getWeights().map((t) => ({ shape: t.shape, values: Float32Array.from(seeded(t.size, t.size + 7, 0.5)) }));
    model.dispose();
    return w;
  });
  const n = xShape.reduce((a, b) => a * b, 1);
  const x =
    intInput === undefined
      ? { shape: xShape, values: seeded(n, 11) }
      : { shape: xShape, values: Float32Array.from(seeded(n, 11), (v) => Math.floor((v + 1) * 0.5 * intInput)), dtype: "int32" as const };
  const batch = xShape[0];
  const y = { shape: [batch, classes], values: new Float32Array(batch * classes) };
  for (let i = 0; i < batch; i++) y.values[i * classes + (i % classes)] = 1;
  const cpu = await gradients("cpu", build, weights, x, y);
  const wasm = await gradients("wasm", build, weights, x, y);
  expect(wasm.length).toBe(cpu.length);
  // A gradient that is mathematically zero (the bias of a layer followed by
  // BatchNormalization in training mode) is rounding noise on both backends:
  // errors are scaled by at least 1e-3 of the model's largest gradient.
  const floor = 1e-3 * Math.max(...cpu.map(maxAbs));
  const failures = cpu.map((g, i) => [i, relativeError(wasm[i], g, floor)]).filter(([, e]) => !(e <= 1e-4));
  expect(failures).toEqual([]);
}

/** The course's first model (Keras: Conv2D 32, MaxPooling2D, Conv2D 64, MaxPooling2D, Conv2D 64, Flatten, Dense 64, Dense 10). */
function courseModel(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 64, activation: "relu" }));
  m.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  m.compile({ optimizer: tf.train.rmsprop(0.001), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return m;
}

/** A learnable toy set: class k is a bright 6×6 patch at one of 10 places, plus noise. */
function toyData(n: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const pixels = new Float32Array(n * 28 * 28);
  const noise = seeded(pixels.length, 3, 0.1);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    labels[i] = k;
    const top = 2 + Math.floor(k / 5) * 12;
    const left = 2 + (k % 5) * 5;
    for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) pixels[i * 784 + (top + r) * 28 + left + c] = 1;
  }
  for (let i = 0; i < pixels.length; i++) pixels[i] += noise[i];
  return tf.tidy(() => ({ xs: tf.tensor4d(pixels, [n, 28, 28, 1]), ys: tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat() as tf.Tensor2D }));
}

describe("training on wasm", () => {
  beforeAll(async () => {
    tf.env().set("IS_TEST", true);
    await setupWasm(tf);
  });
  afterAll(() => {
    if (tf.findBackendFactory("wasm") !== null) tf.removeBackend("wasm");
  });

  test("gradients of Conv2D + MaxPool + Conv2D + Flatten + Dense equal cpu's", async () => {
    await expectSameGradients(
      () => {
        const m = tf.sequential();
        m.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: "relu", inputShape: [10, 11, 2] }));
        m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
        m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }));
        m.add(tf.layers.flatten());
        m.add(tf.layers.dense({ units: 5, activation: "softmax" }));
        return m;
      },
      [3, 10, 11, 2],
      5,
    );
  });

  test("gradients of DepthwiseConv2D, BatchNormalization, SeparableConv2D, Conv2DTranspose, AvgPool, GlobalAveragePooling2D equal cpu's", async () => {
    await expectSameGradients(
      () => {
        const m = tf.sequential();
        m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: "same", inputShape: [12, 12, 3] }));
        m.add(tf.layers.batchNormalization({}));
        m.add(tf.layers.separableConv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }));
        m.add(tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }));
        m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
        m.add(tf.layers.globalAveragePooling2d({}));
        m.add(tf.layers.dense({ units: 3, activation: "softmax" }));
        return m;
      },
      [2, 12, 12, 3],
      3,
    );
  });

  test("gradients of Embedding + Dropout (seeded) + Flatten + Dense equal cpu's", async () => {
    await expectSameGradients(
      () => {
        const m = tf.sequential();
        m.add(tf.layers.embedding({ inputDim: 12, outputDim: 4, inputLength: 5 }));
        m.add(tf.layers.dropout({ rate: 0.3, seed: 42 }));
        m.add(tf.layers.flatten());
        m.add(tf.layers.dense({ units: 3, activation: "softmax" }));
        return m;
      },
      [6, 5],
      3,
      12,
    );
  });

  test("the course's first model trains (RMSprop, categoricalCrossentropy): loss decreases, predictions equal cpu's", async () => {
    const { xs, ys } = toyData(256);
    const model = courseModel();
    const history = await model.fit(xs, ys, { batchSize: 64, epochs: 4, shuffle: false });
    const loss = history.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    expect(loss[loss.length - 1]).toBeLessThan(2.2);

    // Batched inference (the Slice path) agrees with cpu on the trained weights.
    const weights = model.getWeights().map((w) => ({ shape: w.shape, values: Float32Array.from(w.dataSync() as Float32Array) }));
    const few = tf.tidy(() => tf.slice(xs, [0], [24]));
    const xv = Float32Array.from(few.dataSync() as Float32Array);
    const wasmOut = tf.tidy(() => Float32Array.from((model.predict(few, { batchSize: 10 }) as tf.Tensor).dataSync() as Float32Array));
    few.dispose();
    const cpuOut = await onBackend("cpu", () => {
      const m = courseModel();
      m.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
      const out = tf.tidy(() => Float32Array.from((m.predict(tf.tensor4d(xv, [24, 28, 28, 1]), { batchSize: 10 }) as tf.Tensor).dataSync() as Float32Array));
      m.dispose();
      return out;
    });
    expect(relativeError(wasmOut, cpuOut)).toBeLessThanOrEqual(1e-4);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test("repeated training steps leave the tensor count and the backend's data flat", async () => {
    const { xs, ys } = toyData(64);
    const model = courseModel();
    await model.trainOnBatch(xs, ys);
    await model.trainOnBatch(xs, ys);
    const tensors: number[] = [];
    const data: number[] = [];
    for (let i = 0; i < 4; i++) {
      await model.trainOnBatch(xs, ys);
      tensors.push(tf.memory().numTensors);
      data.push(tf.backend().numDataIds());
    }
    expect(new Set(tensors).size).toBe(1);
    expect(new Set(data).size).toBe(1);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
