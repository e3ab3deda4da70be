/**
 * fit / evaluate: inputs checked before tfjs with one-line errors that say
 * how to fix them, Keras-named History and results, the progress lines
 * outside a kernel, sparse labels of shape (N,), class ids for a loss function
 * marked sparseTargets, no leaked tensors; the same from batch sources (tf.data
 * datasets and a hand-written looping source).
 */
import * as tf from "@tensorflow/tfjs";
import { compile } from "./compile";
import type { LossOrMetricFn, SparseLossFn } from "./compile";
import { SGD } from "./optimizers";
import { Batch, BatchSource, evaluate, fit } from "./fit";
import { resetNames } from "./names";
import { toCategorical } from "./to_categorical";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

beforeEach(() => resetNames());

/** A small classifier of 4 features into 3 classes, seeded. */
function classifier(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [4], activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

/** 30 samples, labels 0..2 by the largest of the first three features. */
function data(n = 30): { x: tf.Tensor2D; labels: number[] } {
  const values: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [Math.sin(i), Math.cos(i * 1.3), Math.sin(i * 0.7 + 1), (i % 5) / 5];
    values.push(...row);
    labels.push(row.slice(0, 3).indexOf(Math.max(...row.slice(0, 3))));
  }
  return { x: tf.tensor2d(values, [n, 4]), labels };
}

/** The course's first layers, to check shapes against (28, 28, 1). */
function mnistLike(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  return model;
}

function silence(): { lines: () => string[]; restore: () => void } {
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    out.push(`${args.join(" ")}\n`);
  });
  return {
    lines: () => out.join("").split("\n").filter((l) => l !== ""),
    restore: () => {
      write.mockRestore();
      log.mockRestore();
    },
  };
}

describe("fit", () => {
  it("returns Keras's History: loss, accuracy, val_loss, val_accuracy per epoch", async () => {
    const model = classifier();
    compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const history = await fit(model, x, y, { epochs: 3, batchSize: 8, validationSplit: 0.2, verbose: 0 });
    expect(Object.keys(history.history)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
    for (const values of Object.values(history.history)) {
      expect(values).toHaveLength(3);
      values.forEach((v) => expect(typeof v).toBe("number"));
    }
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(history.params).toEqual({ verbose: 0, epochs: 3, steps: 3 });
    tf.dispose([x, y]);
    model.dispose();
  });

  it("takes validationData and class indices of shape (N,) with sparse_categorical_crossentropy", async () => {
    const model = classifier();
    compile(model, { optimizer: "sgd", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = tf.tensor1d(labels);
    const history = await fit(model, x, y, { epochs: 2, batchSize: 10, validationData: [x, y], verbose: 0 });
    expect(Object.keys(history.history)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
    const [loss, accuracy] = await evaluate(model, x, y, { verbose: 0 });
    expect(loss).toBeCloseTo(history.history.val_loss[1], 5);
    expect(accuracy).toBeCloseTo(history.history.val_accuracy[1], 5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("takes int32 class indices with sparse_categorical_crossentropy (tfjs's loss floors float32 only), as tensors and from a batch source", async () => {
    const model = classifier();
    compile(model, { optimizer: "sgd", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const floats = tf.tensor1d(labels);
    const ints = tf.tensor1d(labels, "int32");
    const [floatLoss] = await evaluate(model, x, floats, { verbose: 0 });
    const [intLoss] = await evaluate(model, x, ints, { verbose: 0 });
    expect(intLoss).toBe(floatLoss);
    await fit(model, x, ints, { epochs: 1, batchSize: 10, validationData: [x, ints], verbose: 0 });
    const source = { size: 1, async iterator() { let done = false; return { async next() { if (done) return { done: true as const, value: undefined }; done = true; return { done: false as const, value: { xs: x.clone(), ys: ints.clone() } }; } }; } };
    const before = tf.memory().numTensors;
    const history = await fit(model, source, { epochs: 2, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, floats, ints]);
    model.dispose();
  });

  it("leaks no tensors: a second fit and evaluate leave the count unchanged", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const yIndices = tf.tensor1d(labels);
    await fit(model, x, y, { epochs: 1, batchSize: 8, validationData: [x, y], verbose: 0 });
    await evaluate(model, x, y, { verbose: 0 });
    const before = tf.memory().numTensors;
    const out = silence();
    await fit(model, x, y, { epochs: 2, batchSize: 8, validationSplit: 0.3, verbose: 1, callbacks: [{ onEpochEnd: async () => undefined }] }).finally(out.restore);
    await evaluate(model, x, y, { verbose: 0, returnDict: true });
    expect(tf.memory().numTensors).toBe(before);
    // and after a failing call
    await expect(fit(model, x, yIndices, { verbose: 0 })).rejects.toThrow("fit: invalid y.");
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, yIndices]);
    model.dispose();
  });

  it("prints Keras's lines outside a kernel: Epoch k/N and the final bar of each epoch", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const out = silence();
    try {
      await fit(model, x, y, { epochs: 2, batchSize: 8, validationSplit: 0.2 });
      await evaluate(model, x, y, { batchSize: 10 });
    } finally {
      out.restore();
    }
    const lines = out.lines();
    const bar = /^3\/3 \[={30}\] - \d+s \d+(ms|us|s)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/;
    expect(lines[0]).toBe("Epoch 1/2");
    expect(lines[1]).toMatch(bar);
    expect(lines[2]).toBe("Epoch 2/2");
    expect(lines[3]).toMatch(bar);
    expect(lines[4]).toMatch(/^3\/3 \[={30}\] - \d+s \d+(ms|us|s)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
    expect(lines).toHaveLength(5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("prints one line per epoch with verbose 2, and nothing with verbose 0", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const out = silence();
    try {
      await fit(model, x, y, { epochs: 1, batchSize: 8, verbose: 2 });
      await fit(model, x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    } finally {
      out.restore();
    }
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^4\/4 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - \d+(ms|s|us)\/epoch - \d+(ms|s|us)\/step$/);
    tf.dispose([x, y]);
    model.dispose();
  });

  describe("checks x and y before training", () => {
    let model: tf.Sequential;
    beforeAll(() => {
      model = mnistLike();
    });
    afterAll(() => model.dispose());

    it("says how to reshape images without a channel axis", async () => {
      const x = tf.zeros([60, 28, 28]);
      const y = tf.zeros([60, 10]);
      await expect(fit(model, x, y)).rejects.toThrow("fit: invalid x. Expected shape (None, 28, 28, 1), received (60, 28, 28). Reshape it, e.g. x.reshape([60, 28, 28, 1]).");
      tf.dispose([x, y]);
    });

    it("says to use toCategorical for class indices with categorical_crossentropy", async () => {
      const x = tf.zeros([60, 28, 28, 1]);
      const y = tf.zeros([60]);
      await expect(fit(model, x, y)).rejects.toThrow(
        'fit: invalid y. Expected shape (None, 10) for loss "categorical_crossentropy", received (60,). These look like class indices: use toCategorical(y, 10), or loss "sparse_categorical_crossentropy".',
      );
      const column = tf.zeros([60, 1]);
      await expect(fit(model, x, column)).rejects.toThrow("These look like class indices: use toCategorical(y, 10)");
      tf.dispose([x, y, column]);
    });

    it("names mismatched sample counts, dtypes, wrong widths and non-tensors", async () => {
      const x = tf.zeros([60, 28, 28, 1]);
      const y = tf.zeros([50, 10]);
      await expect(fit(model, x, y)).rejects.toThrow("fit: invalid y. Expected 60 samples, as x has. Received: y with shape (50, 10).");
      const xi = tf.zeros([60, 28, 28, 1], "int32");
      const y10 = tf.zeros([60, 10]);
      await expect(fit(model, xi, y10)).rejects.toThrow(
        "fit: invalid x. Expected a float32 tensor. Received: x=Tensor<int32>[60,28,28,1]. Convert it, e.g. x.toFloat().div(255) for pixel values.",
      );
      const y5 = tf.zeros([60, 5]);
      await expect(fit(model, x, y5)).rejects.toThrow('fit: invalid y. Expected shape (None, 10) for loss "categorical_crossentropy", received (60, 5).');
      await expect(fit(model, [1, 2, 3] as never, y10)).rejects.toThrow("fit: invalid x. Expected a tf.Tensor of shape (None, 28, 28, 1). Received: x=[1,2,3]; make one with tf.tensor(…).");
      const small = tf.zeros([60, 14, 14, 1]);
      await expect(fit(model, small, y10)).rejects.toThrow("fit: invalid x. Expected shape (None, 28, 28, 1), received (60, 14, 14, 1).");
      tf.dispose([x, y, xi, y10, y5, small]);
    });

    it("says how to convert the datasets' uint8 arrays", async () => {
      class Uint8Tensor {
        constructor(
          readonly data: Uint8Array,
          readonly shape: number[],
        ) {}
        toTensor(): tf.Tensor {
          return tf.tensor(Array.from(this.data), this.shape);
        }
      }
      const images = new Uint8Tensor(new Uint8Array(60 * 784), [60, 28, 28]);
      const labels = new Uint8Tensor(new Uint8Array(60), [60]);
      const x = tf.zeros([60, 28, 28, 1]);
      await expect(fit(model, images as never, labels as never)).rejects.toThrow(
        'fit: invalid x. Expected a float32 tf.Tensor of shape (None, 28, 28, 1). Received: x=Uint8Tensor[60,28,28]; convert it, e.g. x.reshape([-1, 28, 28, 1]).toTensor("float32", { scale: 1 / 255 }).',
      );
      await expect(fit(model, x, labels as never)).rejects.toThrow(
        "fit: invalid y. Expected a tf.Tensor of shape (None, 10). Received: y=Uint8Tensor[60]; convert it, e.g. toCategorical(y, 10).",
      );
      x.dispose();
    });

    it("checks validationData and options the same way", async () => {
      const x = tf.zeros([60, 28, 28, 1]);
      const y = tf.zeros([60, 10]);
      const xv = tf.zeros([10, 784]);
      await expect(fit(model, x, y, { validationData: [xv, y.slice(0, 10)] })).rejects.toThrow(
        "fit: invalid validationData[0]. Expected shape (None, 28, 28, 1), received (10, 784). Reshape it, e.g. validationData[0].reshape([10, 28, 28, 1]).",
      );
      await expect(fit(model, x, y, { validationData: [x] as never })).rejects.toThrow("fit: invalid validationData. Expected [xVal, yVal]. Received: validationData=");
      await expect(fit(model, x, y, { batch_size: 64 } as never)).rejects.toThrow("fit: invalid option `batch_size`.");
      await expect(fit(model, x, y, { batch_size: 64 } as never)).rejects.toThrow("Did you mean `batchSize`?");
      await expect(fit(model, x, y, { epochs: 0 })).rejects.toThrow("fit: invalid epochs. Expected an integer >= 1. Received: epochs=0.");
      await expect(fit(model, x, y, { validationSplit: 1 })).rejects.toThrow("fit: invalid validationSplit. Expected a number in [0, 1). Received: validationSplit=1.");
      tf.dispose([x, y, xv]);
    });

    it("asks for compile first, and evaluate checks like fit", async () => {
      const raw = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      const x = tf.zeros([4, 2]);
      const y = tf.zeros([4, 1]);
      await expect(fit(raw, x, y)).rejects.toThrow(
        'fit: invalid model. Expected a compiled model. Received: model "sequential" without optimizer and loss; call compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] }) first.',
      );
      const images = tf.zeros([4, 28, 28]);
      await expect(evaluate(model, images, tf.zeros([4, 10]))).rejects.toThrow("evaluate: invalid x. Expected shape (None, 28, 28, 1), received (4, 28, 28).");
      tf.dispose([x, y, images]);
      raw.dispose();
    });
  });
});

describe("targets", () => {
  it("takes binary labels of shape (N,) for a (None, 1) output, as Keras: the same training as (N, 1)", async () => {
    const { x, labels } = data();
    const flat = tf.tensor1d(labels.map((l) => (l === 0 ? 1 : 0)));
    const column = flat.reshape([30, 1]);
    const a = binary();
    const b = binary();
    const ha = await fit(a, x, flat, { epochs: 3, batchSize: 8, shuffle: false, validationData: [x, flat], verbose: 0 });
    const hb = await fit(b, x, column, { epochs: 3, batchSize: 8, shuffle: false, validationData: [x, column], verbose: 0 });
    expect(Object.keys(ha.history)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
    expect(ha.history).toEqual(hb.history);
    const [wa, wb] = [a.getWeights(), b.getWeights()];
    wa.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(wb[i].dataSync())));
    expect(await evaluate(a, x, flat, { verbose: 0 })).toEqual(await evaluate(b, x, column, { verbose: 0 }));
    // other shapes still fail, and nothing leaks
    const before = tf.memory().numTensors;
    await fit(a, x, flat, { epochs: 1, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    const two = tf.zeros([30, 2]);
    await expect(fit(a, x, two)).rejects.toThrow('fit: invalid y. Expected shape (None, 1) for loss "binary_crossentropy", received (30, 2).');
    tf.dispose([x, flat, column, two]);
    a.dispose();
    b.dispose();
  });

  describe("of a model with two outputs", () => {
    let model: tf.LayersModel;
    let x: tf.Tensor2D;
    let indices: tf.Tensor1D;
    let boxes: tf.Tensor2D;
    beforeAll(() => {
      resetNames();
      const input = tf.input({ shape: [4] });
      const classes = tf.layers.dense({ units: 3, activation: "softmax" }).apply(input) as tf.SymbolicTensor;
      const box = tf.layers.dense({ units: 4 }).apply(input) as tf.SymbolicTensor;
      model = tf.model({ inputs: input, outputs: [classes, box] });
      compile(model, { loss: ["sparse_categorical_crossentropy", "mse"], lossWeights: [0.8, 0.2], metrics: ["accuracy"] });
      x = tf.zeros([10, 4]);
      indices = tf.zeros([10]);
      boxes = tf.zeros([10, 4]);
    });
    afterAll(() => {
      tf.dispose([x, indices, boxes]);
      model.dispose();
    });

    it("checks each target against its own output and loss", async () => {
      const oneHot = tf.zeros([10, 3]);
      await expect(fit(model, x, indices)).rejects.toThrow(
        'fit: invalid y. Expected an array of 2 tensors, one per model output ("dense", "dense_1"), or an object keyed by output name. Received: y=Tensor<float32>[10].',
      );
      await expect(fit(model, x, [oneHot, boxes])).rejects.toThrow(
        'fit: invalid y[0]. Expected class indices of shape (None,) for loss "sparse_categorical_crossentropy". Received: y[0] with shape (10, 3). These look one-hot: use loss "categorical_crossentropy".',
      );
      await expect(fit(model, x, [indices, oneHot])).rejects.toThrow('fit: invalid y[1]. Expected shape (None, 4) for loss "mean_squared_error", received (10, 3).');
      await expect(fit(model, x, { dense: indices, box: boxes })).rejects.toThrow(
        'fit: invalid y. Expected targets keyed by the names of the model\'s 2 outputs ("dense", "dense_1"). Received: y with keys "dense", "box".',
      );
      await expect(fit(model, x, [indices, boxes], { validationData: [x, [indices, oneHot]] })).rejects.toThrow(
        'fit: invalid validationData[1][1]. Expected shape (None, 4) for loss "mean_squared_error", received (10, 3).',
      );
      await expect(evaluate(model, x, [indices.slice(0, 5), boxes])).rejects.toThrow("evaluate: invalid y[0]. Expected 10 samples, as x has. Received: y[0] with shape (5,).");
      const source: BatchSource = {
        size: 1,
        iterator: async () => ({ next: async () => ({ value: { xs: tf.zeros([4, 4]), ys: [tf.zeros([4]), tf.zeros([4, 3])] }, done: false }) }),
      };
      await expect(fit(model, source)).rejects.toThrow('fit: invalid batch from the source. Expected ys[1] of shape (None, 4) for loss "mean_squared_error", received (4, 3).');
      oneHot.dispose();
    });

    it("leaks nothing, also after failing calls", async () => {
      await fit(model, x, { dense: indices, dense_1: boxes }, { verbose: 0 });
      const before = tf.memory().numTensors;
      await fit(model, x, { dense: indices, dense_1: boxes }, { verbose: 0, validationData: [x, [indices, boxes]] });
      await expect(fit(model, x, [indices, indices])).rejects.toThrow("fit: invalid y[1].");
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});

describe("evaluate", () => {
  it("returns [loss, accuracy], or Keras-named values with returnDict", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const list = await evaluate(model, x, y, { verbose: 0 });
    const dict = await evaluate(model, x, y, { verbose: 0, returnDict: true });
    expect(list).toHaveLength(2);
    expect(dict).toEqual({ loss: list[0], accuracy: list[1] });
    const [tfjsLoss, tfjsAcc] = model.evaluate(x, y) as tf.Scalar[];
    expect(list[0]).toBeCloseTo(tfjsLoss.dataSync()[0], 6);
    expect(list[1]).toBeCloseTo(tfjsAcc.dataSync()[0], 6);
    tf.dispose([x, y, tfjsLoss, tfjsAcc]);
    model.dispose();
  });
});

// ---------------------------------------------------------------- batch sources

/** A hand-written source as ImageDataGenerator's iterators: loops over fixed tensors forever, fresh tensors per batch, counts what is read. */
interface CountingSource extends BatchSource {
  counts: { iterators: number; batches: number };
}

function loopSource(x: tf.Tensor, y: tf.Tensor, batchSize: number, options: { size?: number | null; finite?: boolean } = {}): CountingSource {
  const n = x.shape[0];
  const perPass = Math.ceil(n / batchSize);
  const counts = { iterators: 0, batches: 0 };
  return {
    size: "size" in options ? options.size : perPass,
    counts,
    async iterator() {
      counts.iterators += 1;
      let i = 0;
      return {
        async next(): Promise<IteratorResult<Batch>> {
          if (options.finite && i >= perPass) return { value: undefined, done: true };
          const start = (i % perPass) * batchSize;
          const size = Math.min(batchSize, n - start);
          i += 1;
          counts.batches += 1;
          return { value: { xs: x.slice(start, size), ys: y.slice(start, size) }, done: false };
        },
      };
    },
  };
}

/** The same 30 samples as `data()`, as a tf.data.Dataset of `{ xs, ys }` batches (one-hot ys), holding no tensors. */
function dataset(batchSize: number, n = 30): tf.data.Dataset<tf.TensorContainer> {
  const rows: number[][] = [];
  const oneHot: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = [Math.sin(i), Math.cos(i * 1.3), Math.sin(i * 0.7 + 1), (i % 5) / 5];
    rows.push(row);
    const label = row.slice(0, 3).indexOf(Math.max(...row.slice(0, 3)));
    oneHot.push([0, 1, 2].map((c) => (c === label ? 1 : 0)));
  }
  return tf.data.zip({ xs: tf.data.array(rows), ys: tf.data.array(oneHot) }).batch(batchSize);
}

/** The classifier, compiled with categorical_crossentropy. */
function compiledClassifier(): tf.Sequential {
  const model = classifier();
  compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
  return model;
}

/** A small conv net on 8x8x1 images, 2 classes. */
function smallConv(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: "relu", inputShape: [8, 8, 1], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  return model;
}

/** A seeded binary classifier: Dense(1, sigmoid) on 4 features. */
function binary(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 4, inputShape: [4], activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
  compile(model, { optimizer: "sgd", loss: "binary_crossentropy", metrics: ["accuracy"] });
  return model;
}

describe("fit and evaluate with a batch source", () => {
  it("trains from a tf.data.Dataset: Keras History, params.steps = size, validation from a source; evaluate agrees", async () => {
    const model = classifier();
    compile(model, { optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const history = await fit(model, dataset(10), { epochs: 3, validationData: dataset(7), verbose: 0 });
      expect(Object.keys(history.history)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
      for (const values of Object.values(history.history)) {
        expect(values).toHaveLength(3);
        values.forEach((v) => expect(Number.isFinite(v)).toBe(true));
      }
      expect(history.epoch).toEqual([0, 1, 2]);
      expect(history.params).toEqual({ verbose: 0, epochs: 3, steps: 3 });
      // The last val_ values are the model after training, on the same data evaluate reads.
      const [loss, accuracy] = await evaluate(model, dataset(7), { verbose: 0 });
      expect(loss).toBeCloseTo(history.history.val_loss[2], 5);
      expect(accuracy).toBeCloseTo(history.history.val_accuracy[2], 5);
      // and what the tensor form reports on the same samples
      const { x, labels } = data();
      const y = toCategorical(labels, 3);
      const [tensorLoss] = await evaluate(model, x, y, { verbose: 0 });
      expect(loss).toBeCloseTo(tensorLoss, 5);
      tf.dispose([x, y]);
      // A finite dataset is read again each epoch: tfjs never ran out of data.
      expect(warn).not.toHaveBeenCalledWith(expect.stringContaining("ran out of data"));
    } finally {
      warn.mockRestore();
    }
    model.dispose();
  });

  it("takes validationData as [xVal, yVal] tensors, and Keras's acc name as compiled", async () => {
    const model = classifier();
    compile(model, { optimizer: "sgd", loss: "categorical_crossentropy", metrics: ["acc"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const history = await fit(model, loopSource(x, y, 8), { epochs: 2, validationData: [x, y], verbose: 0 });
    expect(Object.keys(history.history)).toEqual(["loss", "acc", "val_loss", "val_acc"]);
    Object.values(history.history).forEach((values) => expect(values).toHaveLength(2));
    expect(history.params.steps).toBe(4);
    const [loss, acc] = await evaluate(model, x, y, { verbose: 0 });
    expect(loss).toBeCloseTo(history.history.val_loss[1], 5);
    expect(acc).toBeCloseTo(history.history.val_acc[1], 5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("reads stepsPerEpoch and validationSteps batches, carrying one iterator across epochs", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const train = loopSource(x, y, 8); // size 4, never ends
    const validation = loopSource(x, y, 5); // size 6
    const history = await fit(model, train, { epochs: 3, stepsPerEpoch: 2, validationData: validation, validationSteps: 2, verbose: 0 });
    expect(train.counts).toEqual({ iterators: 1, batches: 6 });
    expect(validation.counts).toEqual({ iterators: 1, batches: 6 });
    expect(history.params.steps).toBe(2);
    // Without them, one pass of each: size batches.
    const train2 = loopSource(x, y, 8);
    const validation2 = loopSource(x, y, 5);
    await fit(model, train2, { epochs: 2, validationData: validation2, verbose: 0 });
    expect(train2.counts.batches).toBe(8);
    expect(validation2.counts.batches).toBe(12);
    // evaluate: steps, else size
    const test = loopSource(x, y, 10);
    await evaluate(model, test, { steps: 2, verbose: 0 });
    expect(test.counts.batches).toBe(2);
    await evaluate(model, test, { verbose: 0 });
    expect(test.counts.batches).toBe(5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("starts a finite source again when a pass ends, also with stepsPerEpoch above its size", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const finite = loopSource(x, y, 10, { finite: true }); // 3 batches, then done
    const history = await fit(model, finite, { epochs: 2, stepsPerEpoch: 5, verbose: 0 });
    expect(history.epoch).toEqual([0, 1]);
    expect(finite.counts).toEqual({ iterators: 4, batches: 10 });
    // tf.data.generator (size unknown) with stepsPerEpoch; an epoch of 4 batches over a pass of 3
    const generated = tf.data.generator(function* () {
      for (let i = 0; i < 3; i++) yield { xs: tf.ones([4, 4]), ys: tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]) };
    });
    const h2 = await fit(model, generated, { epochs: 2, stepsPerEpoch: 4, verbose: 0 });
    expect(h2.history.loss).toHaveLength(2);
    const repeated = dataset(10).repeat();
    const h3 = await fit(model, repeated, { epochs: 1, stepsPerEpoch: 7, verbose: 0 });
    expect(h3.params.steps).toBe(7);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("prints Keras's bar with N/N steps per epoch, and evaluate's final line", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const out = silence();
    try {
      await fit(model, loopSource(x, y, 8), { epochs: 2, stepsPerEpoch: 12, validationData: loopSource(x, y, 10), validationSteps: 3 });
      await evaluate(model, loopSource(x, y, 10), { steps: 3 });
      await fit(model, loopSource(x, y, 8), { epochs: 1, verbose: 2 });
    } finally {
      out.restore();
    }
    const lines = out.lines();
    const bar = /^12\/12 \[={30}\] - \d+s \d+(ms|us|s)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/;
    expect(lines[0]).toBe("Epoch 1/2");
    expect(lines[1]).toMatch(bar);
    expect(lines[2]).toBe("Epoch 2/2");
    expect(lines[3]).toMatch(bar);
    expect(lines[4]).toMatch(/^3\/3 \[={30}\] - \d+s \d+(ms|us|s)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
    expect(lines[5]).toMatch(/^4\/4 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - \d+(ms|s|us)\/epoch - \d+(ms|s|us)\/step$/);
    expect(lines).toHaveLength(6);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("trains binary targets of shape (batch,) as (batch, 1), and sparse labels of shape (batch,)", async () => {
    const { x, labels } = data();
    const flat = tf.tensor1d(labels.map((l) => (l === 0 ? 1 : 0)));
    const column = flat.reshape([30, 1]);
    const a = binary();
    const b = binary();
    const ha = await fit(a, loopSource(x, flat, 8), { epochs: 3, validationData: loopSource(x, flat, 10), verbose: 0 });
    const hb = await fit(b, loopSource(x, column, 8), { epochs: 3, validationData: loopSource(x, column, 10), verbose: 0 });
    expect(ha.history).toEqual(hb.history);
    const [wa, wb] = [a.getWeights(), b.getWeights()];
    wa.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(wb[i].dataSync())));
    expect(await evaluate(a, loopSource(x, flat, 10), { verbose: 0 })).toEqual(await evaluate(b, loopSource(x, column, 10), { verbose: 0 }));

    const indices = tf.tensor1d(labels);
    const indexColumn = indices.reshape([30, 1]);
    const sparse = (): tf.Sequential => {
      const m = classifier();
      compile(m, { optimizer: "sgd", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
      return m;
    };
    resetNames();
    const c = sparse();
    const d = sparse();
    const hc = await fit(c, loopSource(x, indices, 8), { epochs: 2, verbose: 0 });
    const hd = await fit(d, loopSource(x, indexColumn, 8), { epochs: 2, verbose: 0 });
    expect(hc.history).toEqual(hd.history);
    tf.dispose([x, flat, column, indices, indexColumn]);
    [a, b, c, d].forEach((m) => m.dispose());
  });

  it("leaks no tensors: fit and evaluate from sources, reshaped targets, failures", async () => {
    const model = classifier();
    compile(model, { loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = tf.tensor1d(labels); // reshaped to (batch, 1) on the way
    const yOneHot = toCategorical(labels, 3);
    await fit(model, loopSource(x, y, 8), { epochs: 1, validationData: loopSource(x, y, 10), verbose: 0 });
    await evaluate(model, loopSource(x, y, 10), { verbose: 0 });
    const before = tf.memory().numTensors;
    const out = silence();
    try {
      await fit(model, loopSource(x, y, 8), { epochs: 2, stepsPerEpoch: 3, validationData: loopSource(x, y, 10), callbacks: [{ onEpochEnd: async () => undefined }] });
      await fit(model, loopSource(x, y, 8), { epochs: 2, validationData: [x, y], verbose: 2 });
      await evaluate(model, loopSource(x, y, 10), { returnDict: true });
    } finally {
      out.restore();
    }
    expect(tf.memory().numTensors).toBe(before);
    // and after failing calls: a bad first batch, a bad validation batch (the peeked training batch is released), a bad later batch
    await expect(fit(model, loopSource(x, yOneHot, 8), { verbose: 0 })).rejects.toThrow("fit: invalid batch from the source.");
    await expect(fit(model, loopSource(x, y, 8), { validationData: loopSource(x, yOneHot, 8), verbose: 0 })).rejects.toThrow("fit: invalid batch from validationData.");
    await expect(evaluate(model, loopSource(x, yOneHot, 8), { verbose: 0 })).rejects.toThrow("evaluate: invalid batch from the source.");
    expect(tf.memory().numTensors).toBe(before);
    // A bad batch later in an epoch fails in the same words; tfjs's fitDataset, stopped mid-epoch
    // (as by any error, the kernel's interrupt too), keeps its BaseLogger's running totals, one
    // scalar per metric: not counted here.
    const later: BatchSource = {
      size: 3,
      async iterator() {
        let i = 0;
        return { next: async () => ({ value: { xs: x.slice(0, 8), ys: i++ < 2 ? y.slice(0, 8) : yOneHot.slice(0, 8) }, done: false }) };
      },
    };
    await expect(fit(model, later, { verbose: 0 })).rejects.toThrow(
      'fit: invalid batch from the source. Expected ys of class indices of shape (None,) for loss "sparse_categorical_crossentropy", received (8, 3). These look one-hot: use loss "categorical_crossentropy".',
    );
    tf.dispose([x, y, yOneHot]);
    model.dispose();
  });

  it("stops at model.stopTraining, and an error from a callback (the kernel's interrupt) passes through", async () => {
    const model = classifier();
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, labels } = data();
    const y = toCategorical(labels, 3);
    const history = await fit(model, loopSource(x, y, 8), {
      epochs: 5,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch: number) => {
          if (epoch === 1) model.stopTraining = true;
        },
      },
    });
    expect(history.epoch).toEqual([0, 1]);
    class KeyboardInterrupt extends Error {}
    await expect(
      fit(model, loopSource(x, y, 8), {
        epochs: 2,
        verbose: 0,
        callbacks: {
          onBatchEnd: async () => {
            throw new KeyboardInterrupt("the cell was interrupted");
          },
        },
      }),
    ).rejects.toThrow(KeyboardInterrupt);
    // the model trains again afterwards
    const again = await fit(model, loopSource(x, y, 8), { epochs: 1, verbose: 0 });
    expect(again.history.loss).toHaveLength(1);
    tf.dispose([x, y]);
    model.dispose();
  });

  describe("errors, one line each", () => {
    let model: tf.Sequential;
    let images: tf.Tensor4D;
    let targets: tf.Tensor2D;
    beforeAll(() => {
      model = smallConv();
      images = tf.zeros([8, 8, 8, 1]);
      targets = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], "int32"), 2).toFloat() as tf.Tensor2D;
    });
    afterAll(() => {
      tf.dispose([images, targets]);
      model.dispose();
    });

    it("rejects options a source sets itself, and y", async () => {
      const source = loopSource(images, targets, 4);
      await expect(fit(model, source, { batchSize: 20 })).rejects.toThrow(
        "fit: invalid batchSize. A batch source sets its own batch size (the generator's batchSize, or dataset.batch(n)); remove batchSize. Received: batchSize=20.",
      );
      await expect(fit(model, source, { validationSplit: 0.2 })).rejects.toThrow(
        "fit: invalid validationSplit. A batch source cannot be split; pass validationData (another batch source, or [xVal, yVal]) instead. Received: validationSplit=0.2.",
      );
      await expect(fit(model, source, { shuffle: true })).rejects.toThrow(
        "fit: invalid shuffle. A batch source yields batches in its own order (shuffle where it is made, e.g. dataset.shuffle(n)); remove shuffle. Received: shuffle=true.",
      );
      await expect(fit(model, source, targets as never)).rejects.toThrow(
        "fit: invalid y. Expected no y with a batch source, which yields its own targets (ys): call fit(model, source, { epochs, … }). Received: y=Tensor<float32>[8,2].",
      );
      await expect(evaluate(model, source, { batchSize: 4 })).rejects.toThrow(
        "evaluate: invalid batchSize. A batch source sets its own batch size (the generator's batchSize, or dataset.batch(n)); remove batchSize. Received: batchSize=4.",
      );
      await expect(evaluate(model, source, targets as never)).rejects.toThrow("evaluate: invalid y. Expected no y with a batch source, which yields its own targets (ys): call evaluate(model, source, { steps }).");
      await expect(fit(model, source, { steps_per_epoch: 10 } as never)).rejects.toThrow("Did you mean `stepsPerEpoch`?");
      await expect(fit(model, source, { stepsPerEpoch: 0 })).rejects.toThrow("fit: invalid stepsPerEpoch. Expected an integer >= 1. Received: stepsPerEpoch=0.");
      expect(source.counts.batches).toBe(0);
    });

    it("asks for stepsPerEpoch / validationSteps / steps when the size is unknown", async () => {
      const endless = loopSource(images, targets, 4, { size: undefined });
      await expect(fit(model, endless)).rejects.toThrow(
        "fit: invalid stepsPerEpoch. Expected the number of batches per epoch, as the source has no known size (size=undefined) and may loop forever: pass stepsPerEpoch (Keras's steps_per_epoch), e.g. Math.ceil(samples / batchSize). Received: stepsPerEpoch=undefined.",
      );
      const repeated = tf.data.zip({ xs: tf.data.array([[1, 2, 3, 4]]), ys: tf.data.array([[1, 0, 0]]) }).batch(1).repeat();
      await expect(fit(compiledClassifier(), repeated)).rejects.toThrow("fit: invalid stepsPerEpoch. Expected the number of batches per epoch, as the source has no known size (size=Infinity)");
      await expect(fit(model, loopSource(images, targets, 4), { validationData: endless })).rejects.toThrow(
        "fit: invalid validationSteps. Expected the number of validation batches per epoch, as validationData has no known size (size=undefined) and may loop forever: pass validationSteps (Keras's validation_steps), e.g. Math.ceil(samples / batchSize). Received: validationSteps=undefined.",
      );
      await expect(evaluate(model, endless)).rejects.toThrow(
        "evaluate: invalid steps. Expected the number of batches to evaluate, as the source has no known size (size=undefined) and may loop forever: pass steps (Keras's steps), e.g. Math.ceil(samples / batchSize). Received: steps=undefined.",
      );
      const generated = tf.data.generator(function* () {
        yield { xs: tf.zeros([2, 8, 8, 1]), ys: tf.zeros([2, 2]) };
      });
      await expect(evaluate(model, generated)).rejects.toThrow("evaluate: invalid steps. Expected the number of batches to evaluate, as the source has no known size (size=null)");
      expect(endless.counts.batches).toBe(0);
    });

    it("names empty sources", async () => {
      const empty = tf.data.array([] as number[]).batch(4);
      await expect(fit(model, empty)).rejects.toThrow("fit: invalid source. Expected at least one batch. Received: an empty source (size=0).");
      const ends: BatchSource = { iterator: async () => ({ next: async () => ({ value: undefined, done: true }) }) };
      await expect(fit(model, ends, { stepsPerEpoch: 3 })).rejects.toThrow(
        "fit: invalid source. Expected at least one batch in a pass. Received: a source whose iterator ended before its first batch.",
      );
      await expect(fit(model, loopSource(images, targets, 4), { validationData: ends, validationSteps: 2 })).rejects.toThrow(
        "fit: invalid validationData. Expected at least one batch in a pass. Received: a source whose iterator ended before its first batch.",
      );
    });

    it("says what the model expects when a batch does not fit it", async () => {
      const rgb = tf.zeros([8, 8, 8, 3]);
      await expect(fit(model, loopSource(rgb, targets, 4))).rejects.toThrow(
        "fit: invalid batch from the source. Expected xs of shape (None, 8, 8, 1), received (4, 8, 8, 3).",
      );
      const flat = tf.zeros([8, 64]);
      await expect(fit(model, loopSource(flat, targets, 4))).rejects.toThrow(
        "fit: invalid batch from the source. Expected xs of shape (None, 8, 8, 1), received (4, 64). Reshape them in the source, e.g. xs.reshape([4, 8, 8, 1]).",
      );
      const ints = tf.zeros([8, 8, 8, 1], "int32");
      await expect(fit(model, loopSource(ints, targets, 4))).rejects.toThrow(
        "fit: invalid batch from the source. Expected xs of dtype float32, received Tensor<int32>[4,8,8,1]; convert them in the source, e.g. xs.toFloat().div(255) for pixel values.",
      );
      const indices = tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1]);
      await expect(fit(model, loopSource(images, indices, 4))).rejects.toThrow(
        'fit: invalid batch from the source. Expected ys of shape (None, 2) for loss "categorical_crossentropy", received (4,). These look like class indices: one-hot encode them in the source, or use loss "sparse_categorical_crossentropy".',
      );
      await expect(fit(model, loopSource(images, targets, 4), { validationData: loopSource(images, targets.slice([0, 0], [8, 1]), 4) })).rejects.toThrow(
        'fit: invalid batch from validationData. Expected ys of shape (None, 2) for loss "categorical_crossentropy", received (4, 1).',
      );
      await expect(evaluate(model, loopSource(rgb, targets, 4))).rejects.toThrow("evaluate: invalid batch from the source. Expected xs of shape (None, 8, 8, 1), received (4, 8, 8, 3).");
      const short = { size: 1, iterator: async () => ({ next: async () => ({ value: { xs: tf.zeros([4, 8, 8, 1]), ys: tf.zeros([3, 2]) }, done: false }) }) };
      await expect(fit(model, short)).rejects.toThrow("fit: invalid batch from the source. Expected 4 samples in ys, as xs has. Received: ys with shape (3, 2).");
      const pairs = tf.data.zip([tf.data.array([[1, 2, 3, 4]]).batch(1), tf.data.array([[1, 0, 0]]).batch(1)]);
      await expect(fit(compiledClassifier(), pairs)).rejects.toThrow(
        "fit: invalid batch from the source. Expected { xs, ys } with tensors. Received: [Tensor<float32>[1,4], Tensor<float32>[1,3]]. Yield { xs, ys } (tf.data.zip({ xs, ys }), not tf.data.zip([xs, ys])).",
      );
      tf.dispose([rgb, flat, ints, indices]);
    });

    it("says to yield new tensors when a source yields one twice", async () => {
      const xs = tf.zeros([4, 8, 8, 1]);
      const ys = tf.zeros([4, 2]);
      const reused: BatchSource = { size: 2, iterator: async () => ({ next: async () => ({ value: { xs, ys }, done: false }) }) };
      await expect(fit(model, reused, { verbose: 0 })).rejects.toThrow(
        "fit: invalid batch from the source. Expected new tensors in every batch (each batch is disposed after its step). Received: a disposed tensor as xs; yield a fresh tensor each time, e.g. x.slice(…) or x.clone().",
      );
    });

    it("keeps stepsPerEpoch, validationSteps and steps to batch sources", async () => {
      await expect(fit(model, images, targets, { stepsPerEpoch: 100 })).rejects.toThrow(
        "fit: invalid stepsPerEpoch. Expected it only with a batch source (fit(model, source, { stepsPerEpoch })); with tensors an epoch is ceil(samples / batchSize) steps: set batchSize instead. Received: stepsPerEpoch=100.",
      );
      await expect(fit(model, images, targets, { validationData: [images, targets], validationSteps: 5 })).rejects.toThrow(
        "fit: invalid validationSteps. Expected it only with validationData given as a batch source; [xVal, yVal] tensors are evaluated whole. Received: validationSteps=5.",
      );
      await expect(fit(model, loopSource(images, targets, 4), { validationData: [images, targets], validationSteps: 5 })).rejects.toThrow(
        "fit: invalid validationSteps. Expected it only with validationData given as a batch source; [xVal, yVal] tensors are evaluated whole. Received: validationSteps=5.",
      );
      await expect(fit(model, loopSource(images, targets, 4), { validationSteps: 5 })).rejects.toThrow(
        "fit: invalid validationSteps. Expected it only with validationData given as a batch source; there is no validationData. Received: validationSteps=5.",
      );
      await expect(fit(model, images, targets, { validationData: loopSource(images, targets, 4) })).rejects.toThrow(
        "fit: invalid validationData. Expected [xVal, yVal] tensors when training on tensors (a batch source as validationData needs a batch source to train on). Received: validationData=Object (a batch source).",
      );
      await expect(evaluate(model, images, targets, { steps: 5 })).rejects.toThrow(
        "evaluate: invalid steps. Expected it only with a batch source (evaluate(model, source, { steps })); with tensors every sample is evaluated. Received: steps=5.",
      );
      await expect(fit(model, loopSource(images, targets, 4), { validationData: [images] as never })).rejects.toThrow(
        "fit: invalid validationData. Expected [xVal, yVal]. Received: validationData=[Tensor<float32>[8,8,8,1]].",
      );
    });
  });
});

// ---------------------------------------------------------------- loss functions that take class ids

describe("a loss function marked sparseTargets", () => {
  // A 1x1 Conv2D with softmax over 3 classes: logits (v, 0, −v) at a pixel of value v.
  const PIXELS = [0.5, -1, 2, -0.1, 1, -0.5, 0.25, 1.5, -2, 0.75, -0.25, 1];
  const IDS = [0, 1, 0, 2, 1, 2, 0, 0, 2, 1, 1, 0];
  const softmax = (v: number): number[] => {
    const e = [Math.exp(v), 1, Math.exp(-v)];
    const sum = e[0] + e[1] + e[2];
    return e.map((u) => u / sum);
  };
  const ln = Math.log;

  function pixelModel(): tf.Sequential {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [2, 2, 1], filters: 3, kernelSize: 1, activation: "softmax" })] });
    model.layers[0].setWeights([tf.tensor4d([1, 0, -1], [1, 1, 1, 3]), tf.zeros([3])]);
    return model;
  }

  /** Mean −log p[class] over pixels, from ids (…, 1) or one-hot (…, C); records the target shapes it is given. */
  function pixelLoss(seen: number[][] = []): LossOrMetricFn {
    const pixelCe = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => {
      seen.push(yTrue.shape);
      return tf.tidy(() => {
        const classes = yPred.shape[yPred.rank - 1];
        const oneHot = yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === classes ? yTrue : tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), "int32"), classes);
        const t = tf.reshape(oneHot, [-1, classes]);
        return tf.mean(tf.neg(tf.sum(tf.mul(t, tf.log(tf.reshape(yPred, [-1, classes]))), -1)));
      });
    };
    return pixelCe;
  }

  function marked(seen: number[][] = []): SparseLossFn {
    return Object.assign(pixelLoss(seen), { sparseTargets: true as const });
  }

  let x: tf.Tensor4D;
  let ids: tf.Tensor3D;
  let column: tf.Tensor4D;
  let oneHot: tf.Tensor4D;
  beforeAll(() => {
    x = tf.tensor4d(PIXELS, [3, 2, 2, 1]);
    ids = tf.tensor3d(IDS, [3, 2, 2]);
    column = ids.reshape([3, 2, 2, 1]);
    oneHot = tf.oneHot(tf.tensor1d(IDS, "int32"), 3).toFloat().reshape([3, 2, 2, 3]);
  });
  afterAll(() => tf.dispose([x, ids, column, oneHot]));

  it("trains and evaluates from class ids (N, H, W) or (N, H, W, 1) and one-hot tensors; evaluate gives the loss of predict", async () => {
    const seen: number[][] = [];
    const loss = marked(seen);
    const model = pixelModel();
    compile(model, { optimizer: SGD({ learningRate: 0.1 }), loss, metrics: ["accuracy"] });
    const [evaluated, accuracy] = await evaluate(model, x, ids, { verbose: 0 });
    // the loss gets the ids with tfjs's trailing 1, not a one-hot copy
    expect(seen).toEqual([[3, 2, 2, 1]]);
    const predicted = model.predict(x) as tf.Tensor;
    const byLoss = loss(column, predicted);
    // to the last bit: evaluate weighs each batch's value by its size, (3·L) / 3 in float32
    const averaged = tf.tidy(() => tf.div(tf.mul(3, byLoss), 3));
    expect(evaluated).toBe(averaged.dataSync()[0]);
    const probabilities = PIXELS.map(softmax);
    expect(evaluated).toBeCloseTo(IDS.reduce((sum, c, i) => sum - ln(probabilities[i][c]), 0) / IDS.length, 6);
    // accuracy compares the argmax with the class id: logits (v, 0, −v) pick class 0 or 2; 8 of 12
    // match (tfjs's choice for a function loss, categorical accuracy, would give the 7 of class 0)
    const argmax = PIXELS.map((v) => (v > 0 ? 0 : 2));
    expect(IDS.filter((c, i) => c === argmax[i])).toHaveLength(8);
    expect(accuracy).toBeCloseTo(8 / 12, 6);
    expect(await evaluate(model, x, column, { verbose: 0 })).toEqual([evaluated, accuracy]);
    const [fromOneHot, accuracyOneHot] = await evaluate(model, x, oneHot, { verbose: 0 });
    expect(fromOneHot).toBeCloseTo(evaluated, 6);
    expect(accuracyOneHot).toBe(accuracy);
    tf.dispose([predicted, byLoss, averaged]);

    // fit reports the loss of the one batch before its update; validationData takes ids too
    const history = await fit(model, x, ids, { epochs: 2, batchSize: 3, validationData: [x, ids], verbose: 0 });
    expect(Object.keys(history.history)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
    expect(history.history.loss[0]).toBeCloseTo(evaluated, 6);
    const [after] = await evaluate(model, x, ids, { verbose: 0 });
    expect(after).toBeLessThan(evaluated);
    expect(history.history.val_loss[1]).toBeCloseTo(after, 6);

    // nothing leaks: a second fit and evaluate leave the count unchanged
    const before = tf.memory().numTensors;
    await fit(model, x, ids, { epochs: 1, validationSplit: 0.34, verbose: 0 });
    await evaluate(model, x, column, { verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("trains and evaluates from a batch source of class ids as from the tensors", async () => {
    const seen: number[][] = [];
    const fromTensors = pixelModel();
    const fromSource = pixelModel();
    compile(fromTensors, { optimizer: SGD({ learningRate: 0.1 }), loss: marked(), metrics: ["accuracy"] });
    compile(fromSource, { optimizer: SGD({ learningRate: 0.1 }), loss: marked(seen), metrics: ["accuracy"] });
    const [loss, accuracy] = await evaluate(fromSource, loopSource(x, ids, 3), { verbose: 0 });
    expect(seen).toEqual([[3, 2, 2, 1]]);
    expect([loss, accuracy]).toEqual(await evaluate(fromTensors, x, ids, { verbose: 0 }));
    const ht = await fit(fromTensors, x, ids, { epochs: 3, batchSize: 2, shuffle: false, validationData: [x, oneHot], verbose: 0 });
    const hs = await fit(fromSource, loopSource(x, ids, 2), { epochs: 3, validationData: loopSource(x, oneHot, 3), verbose: 0 });
    expect(Object.keys(hs.history)).toEqual(Object.keys(ht.history));
    for (const key of Object.keys(ht.history)) ht.history[key].forEach((v, i) => expect(hs.history[key][i]).toBeCloseTo(v, 5));
    expect(seen).toContainEqual([2, 2, 2, 1]); // training batches: ids with the trailing 1
    expect(seen).toContainEqual([3, 2, 2, 3]); // validation batches: one-hot as given
    // ids (batch, H, W, 1) from a source, and tensor validationData, too
    const before = tf.memory().numTensors;
    await fit(fromSource, loopSource(x, column, 2), { epochs: 1, validationData: [x, ids], verbose: 0 });
    const [fromColumns] = await evaluate(fromSource, loopSource(x, column, 3), { verbose: 0 });
    const [fromIds] = await evaluate(fromSource, x, ids, { verbose: 0 });
    expect(fromColumns).toBe(fromIds);
    expect(tf.memory().numTensors).toBe(before);
    fromTensors.dispose();
    fromSource.dispose();
  });

  it("says what it takes in one line: class indices or one-hot, for tensors and batches", async () => {
    const model = pixelModel();
    compile(model, { loss: marked() });
    const wide = tf.zeros([3, 2, 2, 2]);
    const small = tf.zeros([3, 1, 2]);
    await expect(fit(model, x, wide)).rejects.toThrow(
      'fit: invalid y. Expected class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "pixelCe". Received: y with shape (3, 2, 2, 2).',
    );
    await expect(evaluate(model, x, small)).rejects.toThrow(
      'evaluate: invalid y. Expected class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "pixelCe". Received: y with shape (3, 1, 2).',
    );
    await expect(fit(model, x, ids, { validationData: [x, wide] })).rejects.toThrow(
      'fit: invalid validationData[1]. Expected class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "pixelCe". Received: validationData[1] with shape (3, 2, 2, 2).',
    );
    await expect(fit(model, loopSource(x, wide, 2))).rejects.toThrow(
      'fit: invalid batch from the source. Expected ys of class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "pixelCe", received (2, 2, 2, 2).',
    );
    await expect(evaluate(model, loopSource(x, small, 3))).rejects.toThrow(
      'evaluate: invalid batch from the source. Expected ys of class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "pixelCe", received (3, 1, 2).',
    );
    await expect(fit(model, x, [1, 2] as never)).rejects.toThrow(
      "fit: invalid y. Expected a tf.Tensor of class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3). Received: y=[1,2].",
    );
    tf.dispose([wide, small]);
    model.dispose();
  });

  it("keeps a loss function without the mark to targets of the output's shape", async () => {
    const model = pixelModel();
    compile(model, { loss: pixelLoss() });
    const hint = "One-hot encode them with toCategorical(y, 3), or, if the loss function takes class ids, mark it with sparseTargets: true.";
    await expect(fit(model, x, ids)).rejects.toThrow(`fit: invalid y. Expected shape (None, 2, 2, 3), received (3, 2, 2). ${hint}`);
    await expect(evaluate(model, x, column)).rejects.toThrow(`evaluate: invalid y. Expected shape (None, 2, 2, 3), received (3, 2, 2, 1). ${hint}`);
    await expect(fit(model, loopSource(x, ids, 2))).rejects.toThrow(
      "fit: invalid batch from the source. Expected ys of shape (None, 2, 2, 3), received (2, 2, 2). These look like class indices: one-hot encode them in the source, or, if the loss function takes class ids, mark it with sparseTargets: true.",
    );
    // and tfjs's own check still applies
    expect(() => model.evaluate(x, column)).toThrow(/expected a batch of elements where each example has shape \[2,2,3\]/);
    // one-hot targets train as before
    const [loss] = await evaluate(model, x, oneHot, { verbose: 0 });
    const marked3 = pixelModel();
    compile(marked3, { loss: marked() });
    expect(await evaluate(marked3, x, ids, { verbose: 0 })).toEqual([loss]);
    model.dispose();
    marked3.dispose();
  });

  it("checks each output of a model with several outputs against its own loss", async () => {
    resetNames();
    const input = tf.input({ shape: [2, 2, 1] });
    const classes = tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: "softmax", name: "classes" }).apply(input) as tf.SymbolicTensor;
    const depth = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "depth" }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [classes, depth] });
    compile(model, { optimizer: "sgd", loss: { classes: marked(), depth: "mse" }, lossWeights: { depth: 0.5 }, metrics: { classes: "accuracy" } });
    const depths = tf.zeros([3, 2, 2, 1]);
    const [total, classLoss, depthLoss, accuracy] = await evaluate(model, x, { classes: ids, depth: depths }, { verbose: 0 });
    expect(total).toBeCloseTo(classLoss + 0.5 * depthLoss, 5);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    const h = await fit(model, x, [ids, depths], { epochs: 1, batchSize: 3, verbose: 0 });
    expect(Object.keys(h.history)).toEqual(["loss", "classes_loss", "depth_loss", "classes_accuracy"]);
    const wide = tf.zeros([3, 2, 2, 2]);
    await expect(fit(model, x, [wide, depths])).rejects.toThrow(
      'fit: invalid y[0]. Expected class indices of shape (None, 2, 2) or one-hot (None, 2, 2, 3) for loss "pixelCe". Received: y[0] with shape (3, 2, 2, 2).',
    );
    await expect(fit(model, x, [ids, oneHot])).rejects.toThrow('fit: invalid y[1]. Expected shape (None, 2, 2, 1) for loss "mean_squared_error", received (3, 2, 2, 3).');
    tf.dispose([depths, wide]);
    model.dispose();
  });

  it("takes class ids in tfjs's own fit after compile, and in fit after tfjs's own compile", async () => {
    const a = pixelModel();
    compile(a, { optimizer: "sgd", loss: marked() });
    const h = await a.fit(x, column, { epochs: 1, batchSize: 3, verbose: 0 });
    const b = pixelModel();
    b.compile({ optimizer: "sgd", loss: marked() });
    const hb = await fit(b, x, ids, { epochs: 1, batchSize: 3, verbose: 0 });
    expect(hb.history.loss[0]).toBeCloseTo(h.history.loss[0] as number, 6);
    // recompiled without the mark, tfjs checks the output's shape again
    b.compile({ optimizer: "sgd", loss: pixelLoss() });
    expect(() => b.evaluate(x, column)).toThrow(/expected a batch of elements where each example has shape \[2,2,3\]/);
    a.dispose();
    b.dispose();
  });
});
