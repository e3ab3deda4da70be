/**
 * Normalization: Keras's documented examples, hand-computed statistics, adapt over a dataset
 * equal to adapt over the whole tensor, invert, save/reload, error lines, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { Normalization, normalization } from "./normalization";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

function values(t: tf.Tensor | tf.Tensor[]): number[] {
  const tensor = Array.isArray(t) ? t[0] : t;
  const out = Array.from(tensor.dataSync());
  tensor.dispose();
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tolerance) {
      throw new Error(`at ${i}: ${actual[i]} != ${expected[i]} (±${tolerance}); actual [${Array.from(actual).join(", ")}]`);
    }
  }
}

/** mean, variance and count weights of an adapted layer. */
function stats(layer: Normalization): { mean: number[]; variance: number[]; count: number } {
  // getWeights() returns the variables themselves: read, never dispose.
  const [mean, variance, count] = layer.getWeights().map((w) => Array.from(w.dataSync()));
  return { mean, variance, count: count[0] };
}

describe("Keras's documented examples", () => {
  test("axis null: one scalar mean and variance", async () => {
    const layer = normalization({ axis: null });
    const data = tf.tensor1d([1, 2, 3, 4, 5]);
    await layer.adapt(data);
    const x = tf.tensor1d([1, 2, 3]);
    expectClose(values(layer.apply(x) as tf.Tensor), [-1.4142135, -0.70710677, 0]);
    expect(stats(layer)).toEqual({ mean: [3], variance: [2], count: 5 });
    tf.dispose([data, x]);
  });

  test("axis -1: one per feature; invert de-normalises", async () => {
    const data = tf.tensor2d([
      [0, 7, 4],
      [2, 9, 6],
      [0, 7, 4],
      [2, 9, 6],
    ]);
    const layer = normalization();
    await layer.adapt(data);
    expect(stats(layer)).toEqual({ mean: [1, 8, 5], variance: [1, 1, 1], count: 4 });
    const x = tf.tensor2d([[0, 7, 4]]);
    expectClose(values(layer.apply(x) as tf.Tensor), [-1, -1, -1]);
    const inverse = normalization({ axis: -1, invert: true });
    await inverse.adapt(data);
    const y = tf.tensor2d([[1, 2, 3]]);
    expectClose(values(inverse.apply(y) as tf.Tensor), [2, 10, 8]);
    tf.dispose([data, x, y]);
  });

  test("mean and variance given directly", () => {
    const layer = normalization({ mean: 3, variance: 2 });
    const x = tf.tensor2d([[1], [2], [3]]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([3, 1]);
    expectClose(values(y), [-1.4142135, -0.70710677, 0]);
    expect(layer.getWeights()).toEqual([]);
    x.dispose();
  });
});

describe("statistics by hand", () => {
  test("per channel of images, int input, zero variance floored at epsilon", async () => {
    // Two 2x2 images with 2 channels; channel 0 holds 1..8, channel 1 is constant 5.
    const data = tf.tensor4d([1, 5, 2, 5, 3, 5, 4, 5, 5, 5, 6, 5, 7, 5, 8, 5], [2, 2, 2, 2], "int32");
    const layer = normalization({ inputShape: [2, 2, 2] });
    await layer.adapt(data);
    expect(stats(layer)).toEqual({ mean: [4.5, 5], variance: [5.25, 0], count: 8 });
    const out = values(layer.apply(data) as tf.Tensor);
    // channel 0: (v − 4.5) / sqrt(5.25); channel 1: (5 − 5) / 1e-7 = 0
    expectClose(out.filter((_, i) => i % 2 === 0), [1, 2, 3, 4, 5, 6, 7, 8].map((v) => (v - 4.5) / Math.sqrt(5.25)));
    expect(out.filter((_, i) => i % 2 === 1)).toEqual(new Array(8).fill(0));
    data.dispose();
  });

  test("several kept axes: one mean per (row, col) over samples and channels", async () => {
    // [samples 2, rows 1, cols 2, channels 2]
    const data = tf.tensor4d([1, 3, 10, 20, 5, 7, 30, 50], [2, 1, 2, 2]);
    const layer = normalization({ axis: [1, 2] });
    await layer.adapt(data);
    // (row 0, col 0): 1, 3, 5, 7 -> mean 4, var 5; (row 0, col 1): 10, 20, 30, 50 -> mean 27.5, var 218.75
    expect(stats(layer)).toEqual({ mean: [4, 27.5], variance: [5, 218.75], count: 4 });
    expect(layer.getWeights()[0].shape).toEqual([1, 2]);
    data.dispose();
  });

  test("numerically stable: a large offset does not swamp a small variance", async () => {
    const base = Array.from({ length: 10 }, (_, i) => 1e6 + i);
    const data = tf.tensor2d(base, [10, 1]);
    const layer = normalization();
    await layer.adapt(data, { batchSize: 3 });
    const { mean, variance } = stats(layer);
    expectClose(mean, [1e6 + 4.5], 1e-1);
    expectClose(variance, [8.25], 1e-4);
    data.dispose();
  });
});

describe("adapt over batches equals adapt over the whole tensor", () => {
  const whole = () => tf.randomNormal([23, 4, 3, 2], 3, 2, "float32", 42);

  async function reference(axis?: number | number[] | null): Promise<{ mean: number[]; variance: number[]; count: number }> {
    const layer = normalization({ axis });
    const x = whole();
    await layer.adapt(x);
    x.dispose();
    return stats(layer);
  }

  test.each([[-1], [[1, 3]], [null]])("tensor with batchSize, axis %p", async (axis) => {
    const expected = await reference(axis as number);
    const x = whole();
    for (const batchSize of [1, 5, 23, 100]) {
      const layer = normalization({ axis: axis as number });
      await layer.adapt(x, { batchSize });
      const got = stats(layer);
      expectClose(got.mean, expected.mean);
      expectClose(got.variance, expected.variance);
      expect(got.count).toBe(expected.count);
    }
    x.dispose();
  });

  test("datasets of x, [x, y] and {xs, ys} batches, and of unbatched samples", async () => {
    const expected = await reference(-1);
    expect(expected.count).toBe(23 * 4 * 3);
    const x = whole();
    const y = tf.zeros([23, 1]);
    const samples = tf.unstack(x);
    const labels = tf.unstack(y);
    const datasets = [
      tf.data.array(samples).batch(5),
      // [x, y] batches from a generator (it makes fresh tensors: adapt disposes what it reads).
      tf.data.generator(function* () {
        for (let start = 0; start < 23; start += 4) {
          const size = Math.min(4, 23 - start);
          yield [x.slice(start, size), y.slice(start, size)];
        }
      }),
      tf.data.zip({ xs: tf.data.array(samples), ys: tf.data.array(labels) }).batch(7),
      tf.data.array(samples), // unbatched: each element is one sample
    ];
    for (const dataset of datasets) {
      const layer = normalization({ inputShape: [4, 3, 2] });
      tf.sequential({ layers: [layer] }); // built by a model first, then adapted
      await layer.adapt(dataset as tf.data.Dataset<tf.TensorContainer>);
      const got = stats(layer);
      expectClose(got.mean, expected.mean);
      expectClose(got.variance, expected.variance);
      expect(got.count).toBe(expected.count);
    }
    // Rank-1 elements on an unbuilt layer are samples too (Keras batches them).
    const rows = [
      [0, 7, 4],
      [2, 9, 6],
      [0, 7, 4],
      [2, 9, 6],
    ];
    const layer = normalization();
    await layer.adapt(tf.data.array(rows.map((r) => tf.tensor1d(r))));
    expect(stats(layer)).toEqual({ mean: [1, 8, 5], variance: [1, 1, 1], count: 4 });
    tf.dispose([x, y, ...samples, ...labels]);
  });
});

describe("invert", () => {
  test("normalise then invert gives the input back", async () => {
    const x = tf.randomUniform([6, 5], -50, 200, "float32", 3);
    const forward = normalization();
    const backward = normalization({ invert: true });
    await forward.adapt(x);
    await backward.adapt(x);
    const z = forward.apply(x) as tf.Tensor;
    expectClose(values(backward.apply(z) as tf.Tensor), x.dataSync(), 1e-3);
    // Given statistics too.
    const f2 = normalization({ mean: [1, 2, 3, 4, 5], variance: [4, 4, 1, 0.25, 9] });
    const b2 = normalization({ mean: [1, 2, 3, 4, 5], variance: [4, 4, 1, 0.25, 9], invert: true });
    const z2 = f2.apply(x) as tf.Tensor;
    expectClose(values(b2.apply(z2) as tf.Tensor), x.dataSync(), 1e-3);
    tf.dispose([x, z, z2]);
  });
});

describe("save and reload", () => {
  test("the adapted statistics travel as the weights mean, variance, count", async () => {
    const data = tf.randomUniform([20, 3], 0, 10, "float32", 5);
    const norm = normalization({ inputShape: [3] });
    await norm.adapt(data);
    const model = tf.sequential({ layers: [norm, tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    expect(artifacts!.weightSpecs!.map((w) => [w.name, w.dtype, w.shape])).toEqual(
      expect.arrayContaining([
        [`${norm.name}/mean`, "float32", [3]],
        [`${norm.name}/variance`, "float32", [3]],
        [`${norm.name}/count`, "int32", []],
      ]),
    );
    expect(JSON.stringify(artifacts!.modelTopology)).toContain('"class_name":"Normalization"');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[0]).toBeInstanceOf(Normalization);
    const [a, b] = [model.predict(data) as tf.Tensor, loaded.predict(data) as tf.Tensor];
    expect(b.dataSync()).toEqual(a.dataSync());
    tf.dispose([a, b, data]);
    model.dispose();
    loaded.dispose();
  });

  test("given statistics travel in the config", async () => {
    const model = tf.sequential({ layers: [normalization({ inputShape: [2], mean: [1, 2], variance: [4, 9], axis: -1 })] });
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: { config: Record<string, unknown> }[] } };
    expect(json.config.layers[0].config).toMatchObject({ axis: [-1], invert: false, mean: [1, 2], variance: [4, 9] });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.tensor2d([[3, 8]]);
    expectClose(values(loaded.predict(x) as tf.Tensor), [1, 2]);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });
});

describe("in a model", () => {
  test("summary counts 2n + 1 non-trainable parameters; fit leaves the statistics alone", async () => {
    const data = tf.randomUniform([12, 3], 0, 10, "float32", 6);
    const labels = tf.randomUniform([12, 1], 0, 1, "float32", 7);
    const norm = normalization({ inputShape: [3] });
    await norm.adapt(data);
    const model = tf.sequential({ layers: [norm, tf.layers.dense({ units: 1 })] });
    expect(norm.countParams()).toBe(7);
    expect(norm.trainableWeights).toEqual([]);
    const before = stats(norm);
    model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
    const history = await model.fit(data, labels, { epochs: 2, batchSize: 4, verbose: 0 });
    expect(history.history.loss.every((l) => Number.isFinite(l as number))).toBe(true);
    expect(stats(norm)).toEqual(before);
    tf.dispose([data, labels]);
    model.dispose();
  });
});

describe("errors", () => {
  const NOT_ADAPTED = "Normalization: the layer has no mean and variance yet, so it uses mean 0 and variance 1 (as Keras). Call `await layer.adapt(data)` before using it, or pass `mean` and `variance` when creating it.";

  test("used before adapt: Keras's identity, with one warning per layer", () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => {});
    const x = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
    const layer = normalization();
    expect((layer.apply(x) as tf.Tensor).arraySync()).toEqual(x.arraySync());
    layer.apply(x);
    expect(warn.mock.calls).toEqual([[NOT_ADAPTED]]);
    // Statistics set as weights (a Keras file may carry count 0) count as adapted: no warning.
    const set = normalization({ inputShape: [3] });
    const model = tf.sequential({ layers: [set] });
    set.setWeights([tf.tensor1d([1, 1, 1]), tf.tensor1d([4, 4, 4]), tf.scalar(0, "int32")]);
    expect((model.predict(x) as tf.Tensor).arraySync()).toEqual([[0, -1.5, 1], [1.5, 2, -3.5]]);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    x.dispose();
    model.dispose();
  });

  test("constructor and adapt lines", async () => {
    expect(() => normalization({ mean: 1 })).toThrow("Normalization: invalid variance. Expected `mean` and `variance` together, or neither (then call adapt). Received: mean=1, variance=undefined.");
    expect(() => normalization({ mean: [1, 2], variance: [1, 2, 3] })).toThrow("Normalization: invalid variance. Expected the shape of mean [2]. Received: variance.shape=[3].");
    expect(() => normalization({ mean: [[1]], variance: [[1]] })).toThrow("Normalization: invalid mean. Expected rank at most 1 (the number of kept axes). Received: mean.shape=[1,1].");
    expect(() => normalization({ mean: 0, variance: -1 })).toThrow("Normalization: invalid variance. Expected values ≥ 0. Received: a variance of -1.");
    expect(() => normalization({ invert: "yes" as never })).toThrow("Normalization: invalid invert. Expected true or false. Received: invert=\"yes\".");
    expect(() => normalization({ axis: 1.5 })).toThrow("Normalization: invalid axis. Expected an integer, an array of integers or null. Received: axis=1.5.");
    const x = tf.ones([4, 3]);
    expect(() => normalization({ axis: 2 }).apply(x)).toThrow("Normalization: invalid axis. Expected axes in [-2, 2) for inputs of rank 2 (shape [4,3]). Received: axis=[2].");
    expect(() => normalization({ mean: [1, 2], variance: [1, 1] }).apply(x)).toThrow("Normalization: invalid mean. Expected a shape that broadcasts to the kept axes' sizes [3]. Received: mean.shape=[2].");
    await expect(normalization({ mean: 0, variance: 1 }).adapt(x)).rejects.toThrow(
      "Normalization.adapt: invalid call. Expected a layer created without `mean` and `variance`. Received: a layer given mean.shape=[]; create it without them to adapt.",
    );
    await expect(normalization().adapt(x, { batchSize: 0 })).rejects.toThrow("Normalization.adapt: invalid batchSize. Expected an integer >= 1. Received: batchSize=0.");
    await expect(normalization().adapt(x, { batch_size: 2 } as never)).rejects.toThrow("Normalization.adapt: invalid option `batch_size`. Expected keys among `batchSize`. Received: batch_size=2. Did you mean `batchSize`?");
    const adapted = normalization();
    await adapted.adapt(x);
    const wrong = tf.ones([4, 5]);
    await expect(adapted.adapt(wrong)).rejects.toThrow("Normalization.adapt: invalid data. Expected rank 2 with sizes [3] on the kept axes [1] (the layer's input [4,3]). Received: data.shape=[4,5].");
    expect(() => adapted.apply(wrong)).toThrow("Normalization: invalid input. Expected rank 2 with sizes [3] on the kept axes [1], as built. Received: input.shape=[4,5].");
    await expect(normalization().adapt(tf.data.array([1, 2]) as never)).rejects.toThrow("Normalization.adapt: invalid dataset element. Expected a tensor, an [x, y] array or an {xs, ys} object. Received: element=1.");
    await expect(normalization().adapt([1, 2] as never)).rejects.toThrow("Normalization.adapt: invalid data. Expected a tf.Tensor or a tf.data.Dataset. Received: data=[1,2].");
    const empty = tf.zeros([0, 3]);
    await expect(normalization().adapt(empty)).rejects.toThrow("Normalization.adapt: invalid data. Expected at least one value per feature. Received: no samples.");
    tf.dispose([x, wrong, empty]);
  });
});

describe("memory", () => {
  test("adapt and apply leave no tensor behind", async () => {
    const x = tf.randomUniform([10, 4, 4, 3], 0, 1, "float32", 9);
    const layer = normalization();
    const samples = tf.unstack(x);
    const run = async () => {
      await layer.adapt(x, { batchSize: 3 });
      await layer.adapt(tf.data.array(samples).batch(4));
      await layer.adapt(tf.data.array(samples));
      (layer.apply(x) as tf.Tensor).dispose();
    };
    await run();
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...samples]);
  });
});
