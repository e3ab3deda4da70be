/**
 * The native backend as tfjs sees it: each overridden kernel through tf ops
 * against the cpu backend, whole-model gradients, and no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { loadNativeAddon } from "./native_addon";
import { registerGradients } from "./gradients";
import { middleBroadcast, NATIVE_BACKEND, registerNativeBackend } from "./native_backend";

const loaded = loadNativeAddon();
const describeNative = "addon" in loaded ? describe : describe.skip;
if (!("addon" in loaded)) console.warn(`native backend tests skipped: ${loaded.error}`);

/** Runs `fn` on a backend and returns the shapes and plain arrays of its results. */
async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<{ shapes: number[][]; values: Float32Array[] }> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const values = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
  const shapes = out.map((t) => t.shape);
  tf.dispose(out);
  return { shapes, values };
}

function maxRelError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxAbs = 1e-6;
  for (const v of expected) maxAbs = Math.max(maxAbs, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / maxAbs);
  return worst;
}

/** Same random inputs on both backends: made from a seed inside `fn`. */
async function compare(fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const expected = await on("cpu", fn);
  const actual = await on(NATIVE_BACKEND, fn);
  expect(actual.shapes).toEqual(expected.shapes);
  actual.values.forEach((a, i) => expect(maxRelError(a, expected.values[i])).toBeLessThanOrEqual(1e-4));
}

describeNative("native backend", () => {
  beforeAll(() => {
    if ("addon" in loaded) registerNativeBackend(loaded.addon, 2.5);
    registerGradients();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  const r = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);

  it.each([
    [1, 1, "valid", 1],
    [3, 1, "same", 1],
    [3, 2, "same", 1],
    [5, 3, "valid", 1],
    [7, 2, "same", 1],
    [3, 1, "same", 2],
    [3, 1, "valid", 2],
    [2, 1, "same", 3],
    [5, 1, "valid", 2],
  ] as const)("conv2d and its gradients: kernel %i stride %i %s dilation %i", async (k, s, pad, d) => {
    await compare(() => {
      const x = r([2, 11, 9, 3], 1);
      const w = r([k, k, 3, 8], 2);
      const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad, "NHWC", d).square().sum();
      const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad, "NHWC", d);
      const [dx, dw] = tf.grads(f)([x, w]);
      return [y, dx, dw];
    });
  });

  it.each([
    [3, 1, "same", 1, 1],
    [3, 2, "same", 1, 2],
    [5, 2, "valid", 1, 1],
    [3, 1, "same", 2, 1],
    [1, 1, "valid", 1, 3],
  ] as const)("depthwiseConv2d and its gradients: kernel %i stride %i %s dilation %i multiplier %i", async (k, s, pad, d, m) => {
    await compare(() => {
      const x = r([2, 11, 9, 4], 3);
      const w = r([k, k, 4, m], 4);
      const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad, "NHWC", d).square().sum();
      const y = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad, "NHWC", d);
      if (d > 1) return [y]; // tfjs has no depthwise gradient with dilation
      const [dx, dw] = tf.grads(f)([x, w]);
      return [y, dx, dw];
    });
  });

  it("fused depthwiseConv2d with bias and relu, and its gradients", async () => {
    await compare(() => {
      const x = r([2, 8, 8, 3], 5);
      const w = r([3, 3, 3, 2], 6);
      const b = r([6], 7);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.fused.depthwiseConv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 1, pad: "same", bias: bb, activation: "relu" }).sum();
      const [dx, dw, db] = tf.grads(f)([x, w, b]);
      return [tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "same", bias: b, activation: "relu" }), dx, dw, db];
    });
  });

  it("zero padding, batch normalisation and ReLU6 (the applications' element-wise layers), and their gradients", async () => {
    await compare(() => {
      const x = r([2, 5, 4, 3], 8);
      const [mean, variance, offset, scale] = [r([3], 9), r([3], 10).abs(), r([3], 11), r([3], 12)];
      const f = (xx: tf.Tensor) => tf.batchNorm(tf.pad(xx, [[0, 0], [1, 2], [0, 1], [0, 0]], 0.5).clipByValue(-0.5, 0.6), mean, variance, offset, scale, 1e-3).square().sum();
      return [
        tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]], 0.5),
        tf.pad(x, [[1, 0], [0, 0], [0, 0], [0, 2]]), // other axes: the cpu kernel
        tf.batchNorm(x, mean, variance, offset, scale, 1e-3),
        tf.batchNorm(x, mean, variance),
        tf.batchNorm(x, mean.reshape([1, 1, 1, 3]), variance.reshape([1, 1, 1, 3]), undefined, scale.reshape([1, 1, 1, 3]), 1e-5),
        x.clipByValue(-0.5, 0.6),
        tf.grad(f)(x),
      ];
    });
  });

  it("gather along each axis, float32 and int32, and its gradient", async () => {
    await compare(() => {
      const x = r([6, 5, 4], 11);
      const idx = tf.tensor1d([5, 0, 2, 2], "int32");
      const f = (xx: tf.Tensor) => tf.gather(xx, idx, 0).square().sum();
      return [tf.gather(x, idx, 0), tf.gather(x, tf.tensor2d([[1, 3], [4, 0]], [2, 2], "int32"), 1), tf.gather(x, idx.slice(0, 3).sub(tf.scalar(2, "int32")).abs(), 2), tf.grad(f)(x)];
    });
    await compare(() => tf.gather(tf.range(0, 24, 1, "int32").reshape([6, 4]), tf.tensor1d([3, 1], "int32")).toFloat());
  });

  it("split along each axis, by sizes, by count and with -1, and the gradient of concatenate (U-Net skips)", async () => {
    await compare(() => {
      const x = r([2, 6, 5, 4], 13);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.concat([a, b], 3).mul(x.slice([0, 0, 0, 0], [2, 6, 5, 4])).sum();
      const [ga, gb] = tf.grads(f)([x.slice([0, 0, 0, 0], [2, 6, 5, 1]), x.slice([0, 0, 0, 1], [2, 6, 5, 3])]);
      return [...tf.split(x, [1, 3], 3), ...tf.split(x, 2, 1), ...tf.split(x, [2, -1, 1], 2), ...tf.split(x, 2, 0), ga, gb];
    });
  });

  it("gather with an index out of range fails as the cpu backend does", async () => {
    const run = () => tf.tidy(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], "int32")));
    await tf.setBackend("cpu");
    const expected = (() => { try { run(); } catch (e) { return (e as Error).message; } })();
    await tf.setBackend(NATIVE_BACKEND);
    expect(expected).toMatch(/3/);
    expect(run).toThrow(expected);
  });

  it("fused conv2d with bias and relu, and its gradients", async () => {
    await compare(() => {
      const x = r([3, 10, 10, 4], 3);
      const w = r([3, 3, 4, 6], 4);
      const b = r([6], 5);
      const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) =>
        tf.fused.conv2d({ x: xx, filter: ww, strides: 1, pad: "same", bias: bb, activation: "relu" }).sum();
      const [dx, dw, db] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, w, b]);
      return [tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "same", bias: b, activation: "relu" }), dx, dw, db];
    });
  });

  it.each([
    ["max", 2, 2, "valid"],
    ["max", 3, 2, "same"],
    ["avg", 2, 2, "valid"],
    ["avg", 3, 1, "same"],
  ] as const)("%s pooling window %i stride %i %s, and its gradient", async (kind, w, s, pad) => {
    await compare(() => {
      const x = r([2, 9, 7, 5], 6);
      const pool = (xx: tf.Tensor4D) => (kind === "max" ? tf.maxPool(xx, w, s, pad) : tf.avgPool(xx, w, s, pad));
      const [dx] = tf.grads((xx: tf.Tensor) => pool(xx as tf.Tensor4D).square().sum())([x]);
      return [pool(x as tf.Tensor4D), dx];
    });
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])("matMul transposeA=%s transposeB=%s, batched and broadcast, fused dense", async (ta, tb) => {
    await compare(() => {
      const a = r(ta ? [3, 7, 5] : [3, 5, 7], 7);
      const b = r(tb ? [3, 4, 7] : [3, 7, 4], 8);
      const b1 = r(tb ? [4, 7] : [7, 4], 9);
      const bias = r([4], 10);
      const a2 = a.reshape(ta ? [7, 15] : [15, 7]);
      return [
        tf.matMul(a, b, ta, tb),
        tf.matMul(a, b1.reshape(tb ? [1, 4, 7] : [1, 7, 4]), ta, tb),
        tf.fused.matMul({ a: a2 as tf.Tensor2D, b: b1 as tf.Tensor2D, transposeA: ta, transposeB: tb, bias, activation: "relu" }),
      ];
    });
  });

  it("elementwise ops with equal shapes, a bias, a scalar, either side; relu, step, bias sums", async () => {
    await compare(() => {
      const x = r([4, 5, 6, 7], 12);
      const same = r([4, 5, 6, 7], 13);
      const bias = r([7], 14).add(3);
      const rows = r([6, 7], 15);
      const s = tf.scalar(2.5);
      return [
        x.add(same), x.sub(bias), bias.sub(x), x.mul(rows), s.div(x.abs().add(1)), x.div(bias),
        tf.relu(x), tf.step(x, 0.3), tf.sqrt(x.abs()), tf.square(x), x.sum([0, 1, 2]), x.sum([0, 1, 2], true), x.sum(), x.sum(-1),
        x.mean([0, 1, 2]), x.mean([0, 1, 2], true), x.mean(), x.sub(x.mean([0, 1, 2], true)), x.mul(bias.reshape([1, 1, 1, 7])),
        tf.tile(bias.reshape([1, 1, 1, 7]), [4, 5, 6, 1]), tf.tile(rows.reshape([1, 6, 7]), [3, 1, 1]), tf.tile(rows, [2, 3]),
      ];
    });
  });

  it("per-sample values against [N, H, W, C], middle-axis sums, and global pooling's gradients", async () => {
    await compare(() => {
      const x = r([4, 5, 6, 7], 16);
      const perSample = r([4, 1, 1, 7], 17);
      const perRow = r([4, 5, 1, 1], 18);
      const column = r([4, 1], 19);
      const gap = (xx: tf.Tensor) => tf.layers.globalAveragePooling2d({}).apply(xx) as tf.Tensor;
      return [
        x.mul(perSample), perSample.sub(x), x.div(perRow.abs().add(1)), r([4, 9], 20).add(column), column.sub(r([4, 9], 20)),
        tf.scalar(2).sub(tf.tensor1d([3])), tf.tensor2d([[3]]).mul(tf.tensor1d([2])),
        x.sum([1, 2]), x.mean([1, 2]), x.mean([1, 2], true), x.sum([2, 1]), x.sum([1, 2, 3]), x.sum(0), x.max([1, 2]),
        tf.grad((xx: tf.Tensor) => gap(xx).square().sum())(x),
      ];
    });
  });

  it.each([
    [[4, 5, 6, 7], [7], 7],
    [[4, 5, 6, 7], [1, 1, 1, 7], 7],
    [[4, 5, 6, 7], [4, 1, 1, 7], 7],
    [[4, 5, 6, 7], [4, 5, 1, 1], 1],
    [[4, 5, 6, 7], [4, 5, 6, 7], 840],
    [[4, 5, 6, 7], [], 1],
    [[4, 1, 6], [1, 1, 6], 6],
    [[4, 5, 6, 7], [4, 1, 6, 1], undefined],
    [[4, 5], [5, 1], undefined],
    [[4, 5], [2, 4, 5], undefined],
    [[], [1], undefined],
    [[5], [1, 5], undefined],
  ])("middleBroadcast(%j, %j) is %p", (big, small, inner) => {
    expect(middleBroadcast(big, small)).toBe(inner);
  });

  it("never reuses a buffer that was read out or is still seen through a slice", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const x = tf.tensor2d([[1, -2, 3], [-4, 5, -6]]);
    const other = tf.tensor2d([[9, 9, 9], [9, 9, 9]]);
    const read = tf.relu(x);
    const values = read.dataSync();
    read.dispose();
    const viewed = tf.relu(x);
    const row = viewed.slice([0, 0], [1, 3]);
    viewed.dispose();
    const later = [tf.relu(other), tf.relu(other), tf.relu(other)];
    expect(Array.from(values)).toEqual([1, 0, 3, 0, 5, 0]);
    expect(Array.from(row.dataSync())).toEqual([1, 0, 3]);
    tf.dispose([x, other, row, ...later]);
  });

  it("rejects inputs the addon cannot take in one line", () => {
    if (!("addon" in loaded)) return;
    expect(() => loaded.addon.binary(0, new Float32Array(6), new Float32Array(4), new Float32Array(6), false, 4)).toThrow(
      "binary: invalid small. Expected a length that divides big's 6. Received: 4 elements.",
    );
    expect(() => loaded.addon.unary(1, new Float32Array(3), new Float32Array(2), 0)).toThrow("unary: invalid out. Expected 3 elements (x's length). Received: 2 elements.");
    expect(() => loaded.addon.binary(0, new Float32Array(6), new Float32Array(3), new Float32Array(6), false, 2)).toThrow(
      "binary: invalid inner. Expected a positive integer that divides small's 3. Received: 2.",
    );
    expect(() => loaded.addon.sumColumns(new Float32Array(5), new Float32Array(2), 1)).toThrow("sumColumns: invalid out. Expected a length that divides x's 5. Received: 2 elements.");
    expect(() => loaded.addon.sumColumns(new Float32Array(6), new Float32Array(3), 2)).toThrow("sumColumns: invalid outer. Expected a positive integer that divides out's 3. Received: 2.");
  });

  it("gives the course's first model the same gradients as cpu, and leaks no tensor", async () => {
    const build = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 64, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
          tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
        ],
      });
      return model;
    };
    const gradients = async (backend: string) => {
      await tf.setBackend(backend);
      const model = build();
      const x = tf.randomUniform([8, 28, 28, 1], 0, 1, "float32", 11);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32"), 10).toFloat();
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.predict(x) as tf.Tensor) as tf.Scalar);
      const values = await Promise.all(Object.values(grads).map((g) => g.data() as Promise<Float32Array>));
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();
      return values;
    };
    const expected = await gradients("cpu");
    const actual = await gradients(NATIVE_BACKEND);
    actual.forEach((a, i) => expect(maxRelError(a, expected[i])).toBeLessThanOrEqual(1e-4));

    await tf.setBackend(NATIVE_BACKEND);
    const model = build();
    model.compile({ optimizer: "rmsprop", loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([64, 28, 28, 1]);
    const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32"), 10).toFloat();
    await model.fit(x, y, { batchSize: 32, epochs: 1, verbose: 0 });
    const before = tf.memory().numTensors;
    await model.fit(x, y, { batchSize: 32, epochs: 2, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});
