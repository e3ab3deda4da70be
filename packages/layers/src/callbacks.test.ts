/**
 * Callbacks: the progress bar in a (fake) kernel session and in plain text,
 * LearningRateScheduler reproducing the course's `1e-1 * 0.9 ** epoch` on
 * Keras's and tfjs's optimizers, SGD decay step by step, ReduceLROnPlateau,
 * EarlyStopping, ModelCheckpoint's atomic saves that load back.
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/engine";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EarlyStopping, LearningRateScheduler, ModelCheckpoint, ProgressBar, ReduceLROnPlateau } from "./callbacks";
import { compile } from "./compile";
import { fit } from "./fit";
import { resetNames } from "./names";
import { RMSprop, RMSpropOptimizer, SGD, SGDOptimizer } from "./optimizers";

const SESSION = Symbol.for("convlab.kernel.session");
let root: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-layers-callbacks-"));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeEach(() => resetNames());

/** y = w·x with w starting at 0, one weight, no bias: MSE's gradient is 2(w·x - y)·x. */
function linear(): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: "zeros" })] });
}

function weight(model: tf.LayersModel): number {
  return model.getWeights()[0].dataSync()[0];
}

function capture(): { text: () => string; restore: () => void } {
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    out.push(`${args.join(" ")}\n`);
  });
  return {
    text: () => out.join(""),
    restore: () => {
      write.mockRestore();
      log.mockRestore();
    },
  };
}

describe("ProgressBar", () => {
  interface Sent {
    text: string;
    id?: string;
    update?: boolean;
  }

  async function driveEpoch(bar: ProgressBar, epoch: number, steps: number, clock: { t: number }, msPerStep: number): Promise<void> {
    await bar.onEpochBegin(epoch);
    for (let b = 0; b < steps; b++) {
      clock.t += msPerStep;
      await bar.onBatchEnd(b, { batch: b, size: 10, loss: tf.scalar(1 + b), acc: tf.scalar(0.5) });
    }
    clock.t += msPerStep;
    await bar.onEpochEnd(epoch, { loss: 2.5, acc: 0.5, val_loss: 0.12345, val_acc: 0.0005 });
  }

  it("updates one output per epoch in place in the kernel, at most 10 times a second", async () => {
    const sent: Sent[] = [];
    (globalThis as Record<symbol, unknown>)[SESSION] = {
      render: (value: unknown) => ({ "text/plain": String(value) }),
      send: (bundle: Record<string, string>, id?: string, update?: boolean) => sent.push({ text: bundle["text/plain"], id, update }),
    };
    const clock = { t: 1_000_000 };
    const now = jest.spyOn(Date, "now").mockImplementation(() => clock.t);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] });
    compile(model, { loss: "categorical_crossentropy", metrics: ["accuracy"] });
    try {
      const bar = new ProgressBar();
      bar.setModel(model);
      bar.setParams({ epochs: 2, samples: 500, batchSize: 10, steps: null as unknown as number });
      await bar.onTrainBegin();
      // 50 steps of 30 ms: 1.5 s, so at most ~15 updates plus the header and the final line
      await driveEpoch(bar, 0, 50, clock, 30);
      await driveEpoch(bar, 1, 50, clock, 30);
    } finally {
      now.mockRestore();
      delete (globalThis as Record<symbol, unknown>)[SESSION];
      model.dispose();
    }
    const ids = [...new Set(sent.map((s) => s.id))];
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      const mine = sent.filter((s) => s.id === id);
      expect(mine[0]).toMatchObject({ update: false });
      expect(mine.slice(1).every((s) => s.update)).toBe(true);
      expect(mine.length).toBeLessThanOrEqual(2 + 16);
      expect(mine.length).toBeGreaterThan(5);
    }
    const first = sent.filter((s) => s.id === ids[0]);
    expect(first[0].text).toBe("Epoch 1/2");
    // running average of loss (1, 2, …) and Keras's bar: 4 of 50 steps, ETA from the steps after the first
    expect(first[1].text).toBe("Epoch 1/2\n 1/50 [..............................] - ETA: 1s - loss: 1.0000 - accuracy: 0.5000");
    const middle = first.find((s) => s.text.includes("25/50"));
    expect(middle?.text).toBe("Epoch 1/2\n25/50 [==============>...............] - ETA: 0s - loss: 13.0000 - accuracy: 0.5000");
    expect(first[first.length - 1].text).toBe(
      "Epoch 1/2\n50/50 [==============================] - 2s 31ms/step - loss: 2.5000 - accuracy: 0.5000 - val_loss: 0.1235 - val_accuracy: 5.0000e-04",
    );
  });

  it("prints plain lines outside a kernel, and works in tfjs's own model.fit", async () => {
    const model = linear();
    model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
    const x = tf.tensor2d([[1], [2], [3], [4]]);
    const y = tf.tensor2d([[2], [4], [6], [8]]);
    const out = capture();
    try {
      await model.fit(x, y, { epochs: 2, batchSize: 2, callbacks: [new ProgressBar()], verbose: 0 });
      await model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [new ProgressBar({ verbose: 2 })], verbose: 0 });
    } finally {
      out.restore();
    }
    const lines = out.text().split("\n").filter((l) => l);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe("Epoch 1/2");
    expect(lines[1]).toMatch(/^2\/2 \[={30}\] - \d+s \d+(ms|us|s)\/step - loss: \d+\.\d{4}$/);
    expect(lines[2]).toBe("Epoch 2/2");
    expect(lines[4]).toMatch(/^1\/1 - \d+s - loss: \d+\.\d{4} - \d+(ms|us|s)\/epoch - \d+(ms|us|s)\/step$/);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("rejects an unknown verbose", () => {
    expect(() => new ProgressBar({ verbose: 3 as never })).toThrow("ProgressBar: invalid verbose. Expected 1 or 2. Received: verbose=3.");
  });
});

describe("LearningRateScheduler", () => {
  const schedule = (epoch: number) => 1e-1 * 0.9 ** epoch;

  /** Trains y = 2x on x = 1, one step per epoch, and checks w against SGD with the scheduled rates. */
  async function checkSgd(optimizer: tf.Optimizer): Promise<void> {
    const model = linear();
    compile(model, { optimizer, loss: "mse" });
    const x = tf.tensor2d([[1]]);
    const y = tf.tensor2d([[2]]);
    const seen: number[] = [];
    const history = await fit(model, x, y, {
      epochs: 4,
      batchSize: 1,
      verbose: 0,
      callbacks: [new LearningRateScheduler(schedule), { onEpochEnd: async () => void seen.push(weight(model)) }],
    });
    const rates = [0, 1, 2, 3].map(schedule);
    expect(history.history.lr).toEqual(rates);
    let w = 0;
    rates.forEach((lr, e) => {
      w -= lr * 2 * (w - 2);
      expect(seen[e]).toBeCloseTo(w, 6);
    });
    tf.dispose([x, y]);
    model.dispose();
  }

  it("reproduces the course's 1e-1 * 0.9 ** epoch with Keras's SGD", async () => {
    await checkSgd(SGD({ learningRate: 0.5 }));
  });

  it("reproduces it with tfjs's SGD (through setLearningRate) and sets tfjs's RMSprop", async () => {
    await checkSgd(tf.train.sgd(0.5));
    const model = linear();
    const rmsprop = tf.train.rmsprop(0.5);
    compile(model, { optimizer: rmsprop, loss: "mse" });
    const x = tf.tensor2d([[1]]);
    await fit(model, x, x, { epochs: 3, verbose: 0, callbacks: [new LearningRateScheduler(schedule)] });
    expect((rmsprop as unknown as { learningRate: number }).learningRate).toBe(schedule(2));
    x.dispose();
    model.dispose();
  });

  it("prints Keras's line with verbose 1 and rejects a bad schedule", async () => {
    const model = linear();
    compile(model, { optimizer: SGD(), loss: "mse" });
    const x = tf.tensor2d([[1]]);
    const out = capture();
    try {
      await fit(model, x, x, { epochs: 2, verbose: 0, callbacks: [new LearningRateScheduler(schedule, 1)] });
    } finally {
      out.restore();
    }
    expect(out.text()).toBe(
      "\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n\nEpoch 2: LearningRateScheduler setting learning rate to 0.09000000000000001.\n",
    );
    await expect(fit(model, x, x, { verbose: 0, callbacks: [new LearningRateScheduler(() => NaN)] })).rejects.toThrow(
      "LearningRateScheduler: invalid schedule output. Expected a finite number >= 0. Received: schedule(0, 0.09000000000000001)=NaN.",
    );
    expect(() => new LearningRateScheduler(0.1 as never)).toThrow("LearningRateScheduler: invalid schedule. Expected a function (epoch, lr) => number. Received: schedule=0.1.");
    x.dispose();
    model.dispose();
  });
});

describe("SGD decay in training", () => {
  it("uses lr / (1 + decay * step) at every step, with Keras's momentum", async () => {
    const model = linear();
    const optimizer = SGD({ learningRate: 0.2, momentum: 0.9, decay: 0.01 });
    compile(model, { optimizer, loss: "mse" });
    const x = tf.tensor2d([[1], [1], [1], [1], [1]]);
    const y = tf.tensor2d([[2], [2], [2], [2], [2]]);
    const rates: number[] = [];
    const weights: number[] = [];
    await fit(model, x, y, {
      epochs: 1,
      batchSize: 1,
      shuffle: false,
      verbose: 0,
      callbacks: [
        {
          onBatchBegin: async () => void rates.push((model.optimizer as SGDOptimizer).currentLearningRate),
          onBatchEnd: async () => void weights.push(weight(model)),
        },
      ],
    });
    expect(rates).toEqual([0, 1, 2, 3, 4].map((t) => 0.2 / (1 + 0.01 * t)));
    let w = 0;
    let v = 0;
    rates.forEach((lr, t) => {
      v = 0.9 * v - lr * 2 * (w - 2);
      w += v;
      expect(weights[t]).toBeCloseTo(w, 5);
    });
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe("ReduceLROnPlateau", () => {
  it("multiplies the rate by factor after patience epochs without improvement, then cools down", async () => {
    const model = linear();
    compile(model, { optimizer: RMSprop({ learningRate: 0.1 }), loss: "mse" });
    const cb = new ReduceLROnPlateau({ monitor: "val_loss", factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02, verbose: 1 });
    cb.setModel(model);
    await cb.onTrainBegin();
    const out = capture();
    const lrs: number[] = [];
    try {
      for (const [epoch, valLoss] of [1, 1, 1, 1, 1, 1, 1, 1].entries()) {
        const logs: Record<string, number> = { loss: 1, val_loss: valLoss };
        await cb.onEpochEnd(epoch, logs);
        lrs.push(logs.lr);
      }
    } finally {
      out.restore();
    }
    // logs.lr is the rate of the epoch that ended; reductions at the ends of epochs 3, 5, 7
    // (the cooldown epoch counts towards patience once its counter reaches 0, as in Keras), floor 0.02
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02]);
    expect((model.optimizer as RMSpropOptimizer).learningRate).toBe(0.02);
    expect(out.text()).toBe(
      "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.05.\n\nEpoch 5: ReduceLROnPlateau reducing learning rate to 0.025.\n\nEpoch 7: ReduceLROnPlateau reducing learning rate to 0.02.\n",
    );
    model.dispose();
  });

  it("rejects Keras's snake_case names with a hint", () => {
    expect(() => new ReduceLROnPlateau({ min_lr: 0.001 } as never)).toThrow(
      "ReduceLROnPlateau: invalid option `min_lr`. Expected keys among `monitor`, `factor`, `patience`, `verbose`, `mode`, `minDelta`, `cooldown`, `minLr`. Received: min_lr=0.001. Did you mean `minLr`?",
    );
    expect(() => new ReduceLROnPlateau({ factor: 1 })).toThrow("ReduceLROnPlateau: invalid factor. Expected a number in [0, 1). Received: factor=1.");
  });
});

describe("EarlyStopping", () => {
  it("stops after patience epochs without improvement of val_accuracy and restores the best weights", async () => {
    const model = linear();
    compile(model, { optimizer: SGD(), loss: "mse", metrics: ["accuracy"] });
    const cb = new EarlyStopping({ monitor: "val_accuracy", patience: 1, restoreBestWeights: true, verbose: 1 });
    cb.setModel(model);
    await cb.onTrainBegin();
    const out = capture();
    const before = tf.memory().numTensors;
    try {
      for (const [epoch, acc] of [0.5, 0.6, 0.55].entries()) {
        model.setWeights([tf.tensor2d([[epoch + 1]])]);
        await cb.onEpochEnd(epoch, { loss: 1, acc, val_loss: 1, val_acc: acc });
      }
      await cb.onTrainEnd();
    } finally {
      out.restore();
    }
    expect(model.stopTraining).toBe(true);
    expect(cb.stoppedEpoch).toBe(2);
    expect(weight(model)).toBe(2);
    expect(out.text()).toBe("Restoring model weights from the end of the best epoch: 2.\nEpoch 3: early stopping\n");
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 3);
    model.dispose();
  });

  it("ends fit early", async () => {
    const model = linear();
    compile(model, { optimizer: SGD(), loss: "mse" });
    const x = tf.tensor2d([[1]]);
    const history = await fit(model, x, x, { epochs: 10, verbose: 0, callbacks: [new EarlyStopping({ monitor: "loss", minDelta: 100 })] });
    console.log(JSON.stringify(history.history));
    expect(history.epoch).toEqual([0, 1]);
    x.dispose();
    model.dispose();
  });

  it("rejects an unknown mode with a hint", () => {
    expect(() => new EarlyStopping({ mode: "mx" as never })).toThrow('EarlyStopping: invalid mode. Expected one of "auto", "min", "max". Received: mode="mx". Did you mean `max`?');
  });
});

describe("callbacks on a model with two outputs", () => {
  it("find the logs by Keras's names (val_dense_1_loss) and list them when a monitor is missing", async () => {
    const input = tf.input({ shape: [2] });
    const classes = tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: "zeros" }).apply(input) as tf.SymbolicTensor;
    const boxes = tf.layers.dense({ units: 2, kernelInitializer: "zeros" }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [classes, boxes] });
    compile(model, { optimizer: SGD({ learningRate: 0.1 }), loss: ["sparse_categorical_crossentropy", "mse"], lossWeights: [0.8, 0.2], metrics: ["accuracy"] });
    const x = tf.tensor2d([1, 0, 0, 1, 1, 1, 0, 0], [4, 2]);
    const labels = tf.tensor1d([0, 1, 0, 1]);
    const targets = tf.tensor2d([1, 2, 2, 1, 3, 3, 0, 0], [4, 2]);
    // Both losses fall at every epoch (SGD from zeros): "max" stops after the first epoch that does not improve.
    const stopping = new EarlyStopping({ monitor: "val_dense_1_loss", mode: "max" });
    const seen: string[][] = [];
    const history = await fit(model, x, [labels, targets], {
      epochs: 5,
      validationData: [x, [labels, targets]],
      verbose: 0,
      callbacks: [stopping, { onEpochEnd: async (_epoch: number, logs?: tf.Logs) => void seen.push(Object.keys(logs ?? {})) }],
    });
    expect(history.epoch).toEqual([0, 1]);
    expect(history.history.val_dense_1_loss[1]).toBeLessThan(history.history.val_dense_1_loss[0]);
    // tfjs's own logs carry Keras's names too (tfjs's metricsNames are Keras's).
    expect(seen[0]).toEqual(["val_loss", "val_dense_loss", "val_dense_1_loss", "val_dense_accuracy", "val_dense_1_accuracy", "loss", "dense_loss", "dense_1_loss", "dense_accuracy", "dense_1_accuracy"]);
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await fit(model, x, [labels, targets], { epochs: 1, verbose: 0, callbacks: [new ReduceLROnPlateau({ monitor: "val_dense_2_loss" })] });
      expect(warn).toHaveBeenCalledWith(
        "ReduceLROnPlateau: the monitored value `val_dense_2_loss` is not in the logs (available: loss, dense_loss, dense_1_loss, dense_accuracy, dense_1_accuracy, lr); skipping.",
      );
    } finally {
      warn.mockRestore();
    }
    tf.dispose([x, labels, targets]);
    model.dispose();
  });
});

describe("ModelCheckpoint", () => {
  function dataset(): { x: tf.Tensor; y: tf.Tensor } {
    return { x: tf.tensor2d([[1], [2], [3], [4], [5]]), y: tf.tensor2d([[2], [4], [6], [8], [10]]) };
  }

  it("saves atomically after every epoch with Keras's path fields; the saved models load back", async () => {
    const model = linear();
    compile(model, { optimizer: "rmsprop", loss: "mse" });
    const { x, y } = dataset();
    const template = path.join(root, "every", "model-{epoch:02d}-{val_loss:.2f}");
    await fit(model, x, y, { epochs: 2, batchSize: 2, validationSplit: 0.2, verbose: 0, callbacks: [new ModelCheckpoint(template)] });
    const entries = fs.readdirSync(path.join(root, "every")).sort();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^model-01-\d+\.\d{2}$/);
    expect(entries[1]).toMatch(/^model-02-\d+\.\d{2}$/);
    expect(fs.readdirSync(path.join(root, "every", entries[1])).sort()).toEqual(["model.json", "weights.bin"]);
    const loaded = await tf.loadLayersModel(`file://${path.join(root, "every", entries[1])}`);
    // the Sequential itself, not the functional model tfjs hands to callbacks
    expect(loaded).toBeInstanceOf(tf.Sequential);
    expect([loaded.name, loaded.layers.map((l) => l.name)]).toEqual(["sequential", ["dense"]]);
    expect(weight(loaded)).toBe(weight(model));
    expect(loaded.optimizer).toBeInstanceOf(RMSpropOptimizer);
    tf.dispose([x, y]);
    loaded.dispose();
    model.dispose();
  });

  it("with saveBestOnly replaces the saved model only when the monitor improves", async () => {
    const model = linear();
    compile(model, { optimizer: SGD({ learningRate: 0.01 }), loss: "mse" });
    const target = path.join(root, "best");
    const cb = new ModelCheckpoint(`file://${target}`, { monitor: "val_loss", saveBestOnly: true, verbose: 1 });
    cb.setModel(model);
    await cb.onTrainBegin();
    const out = capture();
    try {
      model.setWeights([tf.tensor2d([[1]])]);
      await cb.onEpochEnd(0, { loss: 1, val_loss: 0.5 });
      model.setWeights([tf.tensor2d([[2]])]);
      await cb.onEpochEnd(1, { loss: 1, val_loss: 0.7 });
      model.setWeights([tf.tensor2d([[3]])]);
      await cb.onEpochEnd(2, { loss: 1, val_loss: 0.25 });
    } finally {
      out.restore();
    }
    expect(out.text()).toBe(
      `\nEpoch 1: val_loss improved from inf to 0.50000, saving model to file://${target}\n` +
        "\nEpoch 2: val_loss did not improve from 0.50000\n" +
        `\nEpoch 3: val_loss improved from 0.50000 to 0.25000, saving model to file://${target}\n`,
    );
    const loaded = await tf.loadLayersModel(`file://${target}`);
    expect(weight(loaded)).toBe(3);
    // no temporary or old folders left beside it
    expect(fs.readdirSync(root).filter((n) => n.startsWith("."))).toEqual([]);
    loaded.dispose();
    model.dispose();
  });

  it("fails in one line for a bad path or field", async () => {
    expect(() => new ModelCheckpoint("")).toThrow('ModelCheckpoint: invalid filepath. Expected a folder path such as "models/best" or "file://models/best". Received: filepath="".');
    expect(() => new ModelCheckpoint("m-{epoch:x}")).toThrow("ModelCheckpoint: invalid filepath. Expected a Python format spec such as {epoch:02d} or {val_loss:.2f}. Received: {epoch:x}.");
    const model = linear();
    compile(model, { optimizer: SGD(), loss: "mse" });
    const { x, y } = dataset();
    await expect(fit(model, x, y, { verbose: 0, validationSplit: 0.2, callbacks: [new ModelCheckpoint(path.join(root, "m-{val_los:.2f}"))] })).rejects.toThrow(
      "Received: {val_los:.2f} in filepath=",
    );
    await expect(fit(model, x, y, { verbose: 0, validationSplit: 0.2, callbacks: [new ModelCheckpoint(path.join(root, "m-{val_los:.2f}"))] })).rejects.toThrow("Did you mean `val_loss`?");
    tf.dispose([x, y]);
    model.dispose();
  });
});
