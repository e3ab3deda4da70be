/**
 * Models with several outputs (and loss weights) train and report as Keras 2: the total loss is
 * Σ wᵢ·lossᵢ (checked against values computed by hand from `predict`), per-output losses are
 * unweighted, names and order are Keras's (`loss`, `dense_1_loss`, `dense_2_loss`,
 * `dense_1_accuracy`, …, then `val_`), the weights reach the gradient, no tensor leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { compile, CompileArgs } from "./compile";
import { BatchSource, evaluate, fit } from "./fit";
import { resetNames } from "./names";
import { SGD } from "./optimizers";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

beforeEach(() => resetNames());

const KERAS_NAMES = ["loss", "dense_1_loss", "dense_2_loss", "dense_1_accuracy", "dense_2_accuracy"];

/**
 * The course's detector in miniature: input (3) → Dense(4, relu) "dense" → a softmax head
 * "dense_1" (3 classes) and a linear head "dense_2" (4 box coordinates). Seeded.
 */
function detector(args: { regularizer?: ReturnType<typeof tf.regularizers.l2> } = {}): tf.LayersModel {
  const input = tf.input({ shape: [3] });
  const trunk = tf.layers.dense({ units: 4, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) }).apply(input) as tf.SymbolicTensor;
  const classes = tf.layers
    .dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }), kernelRegularizer: args.regularizer })
    .apply(trunk) as tf.SymbolicTensor;
  const boxes = tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 13 }) }).apply(trunk) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [classes, boxes] });
}

const COURSE: CompileArgs = { loss: ["sparse_categorical_crossentropy", "mse"], lossWeights: [0.8, 0.2], metrics: ["accuracy"] };

/** n samples: features, class indices (n,), boxes (n, 4). Deterministic. */
function data(n: number, offset = 0): { x: tf.Tensor2D; labels: tf.Tensor1D; boxes: tf.Tensor2D } {
  const xs: number[] = [];
  const labels: number[] = [];
  const boxes: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = k + offset;
    const row = [Math.sin(i), Math.cos(1.7 * i), Math.sin(0.3 * i + 2)];
    xs.push(...row);
    labels.push(row.indexOf(Math.max(...row)));
    boxes.push(0.5 + 0.4 * row[0], 0.5 - 0.3 * row[1], 0.2 + 0.1 * row[2], 0.3 * row[0] * row[1]);
  }
  return { x: tf.tensor2d(xs, [n, 3]), labels: tf.tensor1d(labels), boxes: tf.tensor2d(boxes, [n, 4]) };
}

function argmax(row: number[]): number {
  return row.indexOf(Math.max(...row));
}

/** What Keras reports for the detector on (x, labels, boxes), computed by hand from predict (float64). */
function byHand(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor, boxes: tf.Tensor, weights: [number, number], penalty = 0): Record<string, number> {
  const [p, b] = model.predict(x) as tf.Tensor[];
  const probs = p.arraySync() as number[][];
  const predicted = b.arraySync() as number[][];
  tf.dispose([p, b]);
  const y = labels.arraySync() as number[];
  const t = boxes.arraySync() as number[][];
  const n = y.length;
  let ce = 0;
  let se = 0;
  let classHits = 0;
  let boxHits = 0;
  for (let i = 0; i < n; i++) {
    ce -= Math.log(probs[i][y[i]]);
    for (let j = 0; j < 4; j++) se += (t[i][j] - predicted[i][j]) ** 2;
    if (argmax(probs[i]) === y[i]) classHits += 1;
    if (argmax(predicted[i]) === argmax(t[i])) boxHits += 1;
  }
  const dense1 = ce / n;
  const dense2 = se / (4 * n);
  return {
    loss: weights[0] * dense1 + weights[1] * dense2 + penalty,
    dense_1_loss: dense1,
    dense_2_loss: dense2,
    dense_1_accuracy: classHits / n,
    dense_2_accuracy: boxHits / n,
  };
}

function expectClose(actual: Record<string, number>, expected: Record<string, number>, digits = 5): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const key of Object.keys(expected)) {
    if (Math.abs(actual[key] - expected[key]) > 10 ** -digits) throw new Error(`${key}: ${actual[key]} != ${expected[key]}`);
  }
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

/** A source over fixed tensors: `ys` as an array or keyed by output name, fresh tensors each batch. */
function source(x: tf.Tensor, labels: tf.Tensor, boxes: tf.Tensor, batchSize: number, keyed = false): BatchSource {
  const n = x.shape[0];
  const batches = Math.ceil(n / batchSize);
  return {
    size: batches,
    async iterator() {
      let i = 0;
      return {
        async next() {
          const start = (i++ % batches) * batchSize;
          const size = Math.min(batchSize, n - start);
          const y1 = labels.slice(start, size);
          const y2 = boxes.slice(start, size);
          return { value: { xs: x.slice(start, size), ys: keyed ? { dense_1: y1, dense_2: y2 } : [y1, y2] }, done: false };
        },
      };
    },
  };
}

describe("a model with two outputs (the course's class + box detector)", () => {
  it("evaluate returns [loss, dense_1_loss, dense_2_loss, dense_1_accuracy, dense_2_accuracy]: loss = 0.8·ce + 0.2·mse, per-output losses unweighted", async () => {
    const model = detector();
    compile(model, { ...COURSE, optimizer: "sgd" });
    const { x, labels, boxes } = data(10);
    const list = await evaluate(model, x, [labels, boxes], { batchSize: 4, verbose: 0 });
    const dict = await evaluate(model, x, [labels, boxes], { batchSize: 4, verbose: 0, returnDict: true });
    const expected = byHand(model, x, labels, boxes, [0.8, 0.2]);
    expectClose(dict, expected);
    expect(list).toEqual(Object.values(dict));
    expect(model.metricsNames).toEqual(KERAS_NAMES);
    // the loss is not tfjs's (unweighted sum) nor shifted: it differs from ce + mse here
    expect(Math.abs(dict.loss - (expected.dense_1_loss + expected.dense_2_loss))).toBeGreaterThan(0.05);
    tf.dispose([x, labels, boxes]);
    model.dispose();
  });

  it("fit's History has Keras's keys in Keras's order; val_ values match the hand computation after training, and evaluate", async () => {
    const model = detector();
    compile(model, { ...COURSE, optimizer: SGD({ learningRate: 0.05 }) });
    const train = data(12);
    const val = data(6, 100);
    const history = await fit(model, train.x, [train.labels, train.boxes], { epochs: 3, batchSize: 4, validationData: [val.x, [val.labels, val.boxes]], verbose: 0 });
    expect(Object.keys(history.history)).toEqual([...KERAS_NAMES, ...KERAS_NAMES.map((k) => `val_${k}`)]);
    Object.values(history.history).forEach((values) => expect(values).toHaveLength(3));
    const last = Object.fromEntries(KERAS_NAMES.map((k) => [k, history.history[`val_${k}`][2]]));
    expectClose(last, byHand(model, val.x, val.labels, val.boxes, [0.8, 0.2]));
    expectClose(await evaluate(model, val.x, [val.labels, val.boxes], { verbose: 0, returnDict: true }), last);
    // The training total is the weighted sum of the (unweighted) per-output epoch means.
    for (let e = 0; e < 3; e++) {
      const h = history.history;
      expect(h.loss[e]).toBeCloseTo(0.8 * h.dense_1_loss[e] + 0.2 * h.dense_2_loss[e], 5);
    }
    tf.dispose([train.x, train.labels, train.boxes, val.x, val.labels, val.boxes]);
    model.dispose();
  });

  it("applies the weights to the gradient: weight 0 leaves that head unchanged, weight ½ halves the step", async () => {
    const { x, labels, boxes } = data(8);
    const step = async (lossWeights: [number, number]): Promise<{ classDelta: number[]; boxDelta: number[] }> => {
      resetNames();
      const model = detector();
      compile(model, { loss: ["sparse_categorical_crossentropy", "mse"], lossWeights, optimizer: SGD({ learningRate: 0.1 }) });
      const before = model.getWeights().map((w) => Array.from(w.dataSync()));
      await fit(model, x, [labels, boxes], { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
      const after = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      // weights: trunk kernel, bias; dense_1 kernel, bias; dense_2 kernel, bias
      const delta = (i: number) => after[i].map((v, j) => v - before[i][j]);
      return { classDelta: delta(2), boxDelta: delta(4) };
    };
    const classOnly = await step([1, 0]);
    expect(classOnly.boxDelta.every((d) => d === 0)).toBe(true);
    expect(classOnly.classDelta.some((d) => Math.abs(d) > 1e-4)).toBe(true);
    const boxOnly = await step([0, 1]);
    expect(boxOnly.classDelta.every((d) => d === 0)).toBe(true);
    expect(boxOnly.boxDelta.some((d) => Math.abs(d) > 1e-4)).toBe(true);
    const half = await step([0.5, 0]);
    half.classDelta.forEach((d, j) => expect(d).toBeCloseTo(classOnly.classDelta[j] / 2, 6));
    tf.dispose([x, labels, boxes]);
  });

  it("takes loss, lossWeights and metrics keyed by output name, and y keyed by output name", async () => {
    const model = detector();
    compile(model, {
      optimizer: "adam",
      loss: { dense_2: "mean_squared_error", dense_1: "sparse_categorical_crossentropy" },
      lossWeights: { dense_1: 0.8 },
      metrics: { dense_1: "accuracy", dense_2: ["mae", "acc"] },
    });
    expect(model.metricsNames).toEqual(["loss", "dense_1_loss", "dense_2_loss", "dense_1_accuracy", "dense_2_mae", "dense_2_acc"]);
    const { x, labels, boxes } = data(10);
    const dict = await evaluate(model, x, { dense_1: labels, dense_2: boxes }, { verbose: 0, returnDict: true });
    const expected = byHand(model, x, labels, boxes, [0.8, 1]);
    expect(dict.loss).toBeCloseTo(expected.loss, 5);
    expect(dict.dense_1_loss).toBeCloseTo(expected.dense_1_loss, 5);
    expect(dict.dense_2_loss).toBeCloseTo(expected.dense_2_loss, 5);
    expect(dict.dense_1_accuracy).toBeCloseTo(expected.dense_1_accuracy, 6);
    expect(dict.dense_2_acc).toBeCloseTo(expected.dense_2_accuracy, 6);
    const [p, b] = model.predict(x) as tf.Tensor[];
    expect(dict.dense_2_mae).toBeCloseTo(tf.mean(tf.abs(tf.sub(boxes, b))).dataSync()[0], 5);
    tf.dispose([p, b]);
    // one entry per output (Keras's nested list), null for none
    compile(model, { loss: "mse", metrics: [null, ["mae"]] });
    expect(model.metricsNames).toEqual(["loss", "dense_1_loss", "dense_2_loss", "dense_2_mae"]);
    tf.dispose([x, labels, boxes]);
    model.dispose();
  });

  it("adds regularization penalties to the total loss, in training and in evaluate, as Keras", async () => {
    const model = detector({ regularizer: tf.regularizers.l2({ l2: 0.05 }) });
    compile(model, { ...COURSE, optimizer: "sgd" });
    const { x, labels, boxes } = data(10);
    const kernel = model.getLayer("dense_1").getWeights()[0];
    const penalty = 0.05 * tf.sum(tf.square(kernel)).dataSync()[0];
    expect(penalty).toBeGreaterThan(0.01);
    const expected = byHand(model, x, labels, boxes, [0.8, 0.2], penalty);
    const dict = await evaluate(model, x, [labels, boxes], { verbose: 0, returnDict: true });
    expectClose(dict, expected);
    // One step on the whole batch logs the values before the update: the same numbers.
    const history = await fit(model, x, [labels, boxes], { epochs: 1, batchSize: 10, verbose: 0 });
    expectClose(Object.fromEntries(KERAS_NAMES.map((k) => [k, history.history[k][0]])), expected);
    tf.dispose([x, labels, boxes]);
    model.dispose();
  });

  it("prints Keras's names in the progress bar and evaluate's line", async () => {
    const model = detector();
    compile(model, { ...COURSE, optimizer: "sgd" });
    const { x, labels, boxes } = data(10);
    const out = silence();
    try {
      await fit(model, x, [labels, boxes], { epochs: 1, batchSize: 5, validationSplit: 0.2, verbose: 2 });
      await evaluate(model, x, [labels, boxes], { batchSize: 5 });
    } finally {
      out.restore();
    }
    const v = "\\d+\\.\\d{4}";
    const metrics = (prefix: string) => KERAS_NAMES.map((k) => ` - ${prefix}${k}: ${v}`).join("");
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^2/2 - \\d+s${metrics("")}${metrics("val_")} - \\d+(ms|s|us)/epoch - \\d+(ms|s|us)/step$`));
    expect(lines[1]).toMatch(new RegExp(`^2/2 \\[={30}\\] - \\d+s \\d+(ms|us|s)/step${metrics("")}$`));
    tf.dispose([x, labels, boxes]);
    model.dispose();
  });

  it("trains from batch sources whose ys are arrays or keyed by output name; evaluate agrees with the tensor form", async () => {
    const model = detector();
    compile(model, { ...COURSE, optimizer: SGD({ learningRate: 0.05 }) });
    const train = data(12);
    const val = data(6, 100);
    const history = await fit(model, source(train.x, train.labels, train.boxes, 4, true), { epochs: 2, validationData: source(val.x, val.labels, val.boxes, 4), verbose: 0 });
    expect(Object.keys(history.history)).toEqual([...KERAS_NAMES, ...KERAS_NAMES.map((k) => `val_${k}`)]);
    const expected = byHand(model, val.x, val.labels, val.boxes, [0.8, 0.2]);
    expectClose(Object.fromEntries(KERAS_NAMES.map((k) => [k, history.history[`val_${k}`][1]])), expected);
    expectClose(await evaluate(model, source(val.x, val.labels, val.boxes, 4), { verbose: 0, returnDict: true }), expected);
    // tensor validation data while training from a source (tfjs's fitDataset evaluates them)
    const h2 = await fit(model, source(train.x, train.labels, train.boxes, 4), { epochs: 1, validationData: [val.x, [val.labels, val.boxes]], verbose: 0 });
    expectClose(Object.fromEntries(KERAS_NAMES.map((k) => [k, h2.history[`val_${k}`][0]])), byHand(model, val.x, val.labels, val.boxes, [0.8, 0.2]));
    tf.dispose([train.x, train.labels, train.boxes, val.x, val.labels, val.boxes]);
    model.dispose();
  });

  it("keeps the Keras steps through a tfjs recompile with the same loss and metrics (freezeUntil's), not with others", async () => {
    const model = detector();
    compile(model, { ...COURSE, optimizer: "sgd" });
    const { x, labels, boxes } = data(10);
    model.compile({ optimizer: model.optimizer, loss: model.loss, metrics: model.metrics } as tf.ModelCompileArgs);
    expectClose(await evaluate(model, x, [labels, boxes], { verbose: 0, returnDict: true }), byHand(model, x, labels, boxes, [0.8, 0.2]));
    model.compile({ optimizer: model.optimizer, loss: ["sparseCategoricalCrossentropy", "meanSquaredError"] });
    await fit(model, x, [labels, boxes], { epochs: 1, verbose: 0 });
    expect(model.metricsNames).toEqual(["loss", "dense_1_loss", "dense_2_loss"]);
    tf.dispose([x, labels, boxes]);
    model.dispose();
  });

  it("saves with its optimizer, as ModelCheckpoint does (tfjs serialises compile's loss and metrics)", async () => {
    const model = detector();
    const saved = async (): Promise<unknown> => {
      let config: unknown;
      await model.save(
        tf.io.withSaveHandler(async (artifacts) => {
          config = artifacts.trainingConfig;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
        }),
        { includeOptimizer: true },
      );
      return config;
    };
    compile(model, { ...COURSE, optimizer: "sgd" });
    expect(await saved()).toMatchObject({ loss: ["sparse_categorical_crossentropy", "mean_squared_error"], metrics: ["accuracy"] });
    compile(model, { ...COURSE, optimizer: "sgd", metrics: { dense_1: "accuracy", dense_2: ["mae"] } });
    expect(await saved()).toMatchObject({ metrics: { dense_1: "accuracy", dense_2: "mae" } });
    compile(model, { ...COURSE, optimizer: "sgd", metrics: undefined });
    expect(await saved()).toMatchObject({ metrics: [] });
    model.dispose();
  });

  it("leaks no tensors: fit with validation (tensors and sources) and evaluate, twice", async () => {
    const model = detector();
    compile(model, { ...COURSE, optimizer: "rmsprop" });
    const train = data(12);
    const val = data(6, 100);
    const run = async () => {
      await fit(model, train.x, [train.labels, train.boxes], { epochs: 2, batchSize: 5, validationData: [val.x, [val.labels, val.boxes]], verbose: 0 });
      await fit(model, train.x, [train.labels, train.boxes], { epochs: 1, batchSize: 5, validationSplit: 0.25, verbose: 0 });
      await fit(model, source(train.x, train.labels, train.boxes, 5), { epochs: 2, validationData: source(val.x, val.labels, val.boxes, 4), verbose: 0 });
      await fit(model, source(train.x, train.labels, train.boxes, 5), { epochs: 1, validationData: [val.x, [val.labels, val.boxes]], verbose: 0 });
      await evaluate(model, val.x, [val.labels, val.boxes], { verbose: 0 });
      await evaluate(model, source(val.x, val.labels, val.boxes, 4), { verbose: 0, returnDict: true });
    };
    await run();
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([train.x, train.labels, train.boxes, val.x, val.labels, val.boxes]);
    model.dispose();
  });
});

describe("loss weights on a model with one output", () => {
  it("scales the loss (Keras's loss_weights=[0.5]) and keeps the single-output names", async () => {
    const make = (): tf.Sequential =>
      tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [3], activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) })] });
    const plain = make();
    const weighted = make();
    compile(plain, { optimizer: SGD({ learningRate: 0.1 }), loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
    compile(weighted, { optimizer: SGD({ learningRate: 0.1 }), loss: "sparse_categorical_crossentropy", lossWeights: [0.5], metrics: ["accuracy"] });
    const { x, labels } = data(10);
    const [loss, accuracy] = await evaluate(plain, x, labels, { verbose: 0 });
    expect(await evaluate(weighted, x, labels, { verbose: 0, returnDict: true })).toEqual({ loss: expect.closeTo(loss / 2, 6), accuracy });
    const before = weighted.getWeights()[0].dataSync().slice();
    const plainBefore = plain.getWeights()[0].dataSync().slice();
    const h = await fit(weighted, x, labels, { epochs: 1, batchSize: 10, verbose: 0 });
    await fit(plain, x, labels, { epochs: 1, batchSize: 10, verbose: 0 });
    expect(Object.keys(h.history)).toEqual(["loss", "accuracy"]);
    const step = Array.from(weighted.getWeights()[0].dataSync()).map((v, j) => v - before[j]);
    const plainStep = Array.from(plain.getWeights()[0].dataSync()).map((v, j) => v - plainBefore[j]);
    step.forEach((d, j) => expect(d).toBeCloseTo(plainStep[j] / 2, 6));
    tf.dispose([x, labels]);
    plain.dispose();
    weighted.dispose();
  });
});
