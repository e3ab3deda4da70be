/**
 * fit / evaluate: inputs checked before tfjs with one-line errors that say
 * how to fix them, Keras-named History and results, the progress lines
 * outside a kernel, sparse labels of shape (N,), no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { compile } from "./compile";
import { evaluate, fit } from "./fit";
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
