/**
 * `fit` and `evaluate` with Keras's behaviour around tfjs's: inputs checked
 * against the model before training (one-line errors that say how to fix
 * the shape), Keras's progress display, Keras-named history and results.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { formatTime, formatValue, ProgressBar } from "./callbacks";
import { kerasLogNames, kerasLossName, tfjsLossName, toKerasLogs } from "./compile";
import { checkBoolean, checkNumber, checkOptions, pyShape } from "./validate";

/** A callback for {@link fit}: a tf.Callback (ProgressBar, EarlyStopping, …) or tfjs's `{ onEpochEnd(epoch, logs) {…} }` object. */
export type FitCallback = tf.Callback | tf.CustomCallbackArgs;

/** Options of {@link fit}; Keras names in camelCase. */
export interface FitArgs {
  /** Number of passes over the data, integer >= 1. Default 1. */
  epochs?: number;
  /** Samples per gradient step, integer >= 1. Default 32. */
  batchSize?: number;
  /** `[xVal, yVal]` evaluated at the end of each epoch (`val_loss`, `val_accuracy`). */
  validationData?: [tf.Tensor, tf.Tensor];
  /** Fraction in [0, 1) of the samples, taken from the end, kept for validation. Default 0. */
  validationSplit?: number;
  /** Callbacks, called in order after the progress display. */
  callbacks?: FitCallback | FitCallback[];
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Shuffle the training samples before each epoch. Default true. */
  shuffle?: boolean;
  /** Epoch to start from (counts in "Epoch k/N" and schedules). Default 0. */
  initialEpoch?: number;
}

/**
 * What {@link fit} returns, as Keras's `History`: `history.loss`,
 * `history.accuracy`, `history.val_loss`, `history.val_accuracy` (and `lr`
 * with learning-rate callbacks), one number per epoch.
 */
export interface History {
  /** Per-epoch values by Keras name, in Keras's order: loss, metrics, val_loss, val_ metrics, others. */
  history: Record<string, number[]>;
  /** The epochs run, from 0 (`initialEpoch` onwards). */
  epoch: number[];
  /** `{ verbose, epochs, steps }`: the parameters of the run. */
  params: { verbose: number; epochs: number; steps: number | null };
}

/** Options of {@link evaluate}. */
export interface EvaluateArgs {
  /** Samples per batch, integer >= 1. Default 32. */
  batchSize?: number;
  /** 0 silent, 1 (default) prints Keras's final line `313/313 [====…] - 1s 3ms/step - loss: … - accuracy: …`. */
  verbose?: 0 | 1;
  /** Return `{ loss, accuracy }` instead of `[loss, accuracy]`. Default false. */
  returnDict?: boolean;
}

type Shape = ReadonlyArray<number | null>;

function product(shape: ReadonlyArray<number>): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor;
}

function checkModel(unit: string, model: unknown): tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`${unit}: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${show(model)}.`);
  }
  if (!model.optimizer) {
    throw fail(
      `${unit}: invalid model. Expected a compiled model. Received: model "${model.name}" without optimizer and loss; call compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] }) first.`,
    );
  }
  return model;
}

function matches(actual: ReadonlyArray<number>, expected: Shape): boolean {
  return actual.length === expected.length && expected.every((d, i) => i === 0 || d === null || d === actual[i]);
}

/** Checks a single input tensor against the model input shape; says how to reshape or convert. */
/** A byte array with a shape and toTensor (the datasets package's Uint8Tensor), shown as `Uint8Tensor[60000,28,28]`. */
function bytesLike(value: unknown): { label: string; shape: number[] } | undefined {
  const v = value as { shape?: unknown; toTensor?: unknown; constructor?: { name?: string } } | null;
  if (!v || typeof v !== "object" || typeof v.toTensor !== "function" || !Array.isArray(v.shape)) return undefined;
  return { label: `${v.constructor?.name ?? "Object"}[${(v.shape as number[]).join(",")}]`, shape: v.shape as number[] };
}

function checkX(unit: string, name: string, x: unknown, expected: Shape, dtype: string): tf.Tensor {
  if (!isTensor(x)) {
    const bytes = bytesLike(x);
    if (bytes) {
      const known = expected.slice(1);
      const reshape = bytes.shape.length !== expected.length && known.every((d) => d !== null) ? `.reshape([-1, ${known.join(", ")}])` : "";
      throw fail(
        `${unit}: invalid ${name}. Expected a float32 tf.Tensor of shape ${pyShape(expected)}. Received: ${name}=${bytes.label}; convert it, e.g. ${name}${reshape}.toTensor("float32", { scale: 1 / 255 }).`,
      );
    }
    throw fail(`${unit}: invalid ${name}. Expected a tf.Tensor of shape ${pyShape(expected)}. Received: ${name}=${show(x)}; make one with tf.tensor(…).`);
  }
  if (!matches(x.shape, expected)) {
    let hint = "";
    const known = expected.slice(1);
    if (known.every((d) => d !== null) && x.shape.length >= 1 && product(x.shape.slice(1)) === product(known as number[])) {
      hint = ` Reshape it, e.g. ${name}.reshape([${[x.shape[0], ...known].join(", ")}]).`;
    }
    throw fail(`${unit}: invalid ${name}. Expected shape ${pyShape(expected)}, received ${pyShape(x.shape)}.${hint}`);
  }
  if (dtype === "float32" && x.dtype !== "float32") {
    throw fail(`${unit}: invalid ${name}. Expected a float32 tensor. Received: ${name}=${show(x)}. Convert it, e.g. ${name}.toFloat().div(255) for pixel values.`);
  }
  return x;
}

/** Checks targets against the output shape and the loss; says what to do when labels are not one-hot. */
function checkY(unit: string, name: string, y: unknown, expected: Shape, loss: string | undefined, samples: number, xName: string): tf.Tensor {
  if (!isTensor(y)) {
    const bytes = bytesLike(y);
    const classes = expected[expected.length - 1];
    if (bytes) {
      const how =
        loss === "sparseCategoricalCrossentropy" ? `${name}.toTensor("float32")` : classes !== null && classes > 1 ? `toCategorical(${name}, ${classes})` : `${name}.toTensor("float32")`;
      throw fail(`${unit}: invalid ${name}. Expected a tf.Tensor of shape ${pyShape(expected)}. Received: ${name}=${bytes.label}; convert it, e.g. ${how}.`);
    }
    throw fail(`${unit}: invalid ${name}. Expected a tf.Tensor of shape ${pyShape(expected)}. Received: ${name}=${show(y)}.`);
  }
  if (y.shape[0] !== samples) {
    throw fail(`${unit}: invalid ${name}. Expected ${samples} samples, as ${xName} has. Received: ${name} with shape ${pyShape(y.shape)}.`);
  }
  const classes = expected[expected.length - 1];
  const kerasLoss = loss ? kerasLossName(loss) : undefined;
  if (loss === "sparseCategoricalCrossentropy") {
    const ok = y.shape.length === expected.length - 1 || (y.shape.length === expected.length && y.shape[y.shape.length - 1] === 1);
    if (!ok) {
      const oneHot = y.shape.length === expected.length && y.shape[y.shape.length - 1] === classes;
      throw fail(
        `${unit}: invalid ${name}. Expected class indices of shape ${pyShape(expected.slice(0, -1))} for loss "${kerasLoss}". Received: ${name} with shape ${pyShape(y.shape)}.${oneHot ? ' These look one-hot: use loss "categorical_crossentropy".' : ""}`,
      );
    }
    return y;
  }
  if (!matches(y.shape, expected)) {
    const looksLikeIndices = y.shape.length === expected.length - 1 || (y.shape.length === expected.length && y.shape[y.shape.length - 1] === 1);
    let hint = "";
    if (looksLikeIndices && loss === "categoricalCrossentropy" && classes !== null && classes > 1) {
      hint = ` These look like class indices: use toCategorical(${name}, ${classes}), or loss "sparse_categorical_crossentropy".`;
    } else if (looksLikeIndices && classes !== null && classes > 1) {
      hint = ` One-hot encode them with toCategorical(${name}, ${classes}).`;
    }
    throw fail(`${unit}: invalid ${name}. Expected shape ${pyShape(expected)}${kerasLoss ? ` for loss "${kerasLoss}"` : ""}, received ${pyShape(y.shape)}.${hint}`);
  }
  return y;
}

interface Prepared {
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor | tf.Tensor[];
  /** Tensors made here (sparse targets reshaped to (N, 1)), disposed after the call. */
  temporaries: tf.Tensor[];
}

function prepare(unit: string, model: tf.LayersModel, x: unknown, y: unknown, names = { x: "x", y: "y" }): Prepared {
  const inputs = model.inputs;
  const outputs = model.outputs;
  const xs = inputs.length === 1 ? [x] : Array.isArray(x) ? x : [x];
  if (xs.length !== inputs.length) {
    throw fail(`${unit}: invalid ${names.x}. Expected an array of ${inputs.length} tensors, one per model input. Received: ${names.x}=${show(x)}.`);
  }
  const checkedX = xs.map((xi, i) => checkX(unit, inputs.length === 1 ? names.x : `${names.x}[${i}]`, xi, inputs[i].shape, inputs[i].dtype));
  const samples = checkedX[0].shape[0];
  checkedX.forEach((xi, i) => {
    if (xi.shape[0] !== samples) throw fail(`${unit}: invalid ${names.x}[${i}]. Expected ${samples} samples, as ${names.x}[0]. Received: shape ${pyShape(xi.shape)}.`);
  });
  const ys = outputs.length === 1 ? [y] : Array.isArray(y) ? y : [y];
  if (ys.length !== outputs.length) {
    throw fail(`${unit}: invalid ${names.y}. Expected an array of ${outputs.length} tensors, one per model output. Received: ${names.y}=${show(y)}.`);
  }
  const loss = tfjsLossName(model);
  const temporaries: tf.Tensor[] = [];
  const checkedY = ys.map((yi, i) => {
    const t = checkY(unit, outputs.length === 1 ? names.y : `${names.y}[${i}]`, yi, outputs[i].shape, loss, samples, names.x);
    if (loss === "sparseCategoricalCrossentropy" && t.shape.length === outputs[i].shape.length - 1) {
      // tfjs wants (N, 1) where Keras also takes (N,).
      const reshaped = t.reshape([...t.shape, 1]);
      temporaries.push(reshaped);
      return reshaped;
    }
    return t;
  });
  return { x: inputs.length === 1 ? checkedX[0] : checkedX, y: outputs.length === 1 ? checkedY[0] : checkedY, temporaries };
}

function normalizeCallbacks(callbacks: unknown): tf.Callback[] {
  if (callbacks === undefined || callbacks === null) return [];
  const list = Array.isArray(callbacks) ? callbacks : [callbacks];
  return list.map((cb, i) => {
    if (cb instanceof tf.Callback) return cb;
    if (cb !== null && typeof cb === "object" && typeof (cb as { setParams?: unknown }).setParams === "function") return cb as tf.Callback;
    if (cb !== null && typeof cb === "object") return new tf.CustomCallback(cb as tf.CustomCallbackArgs) as unknown as tf.Callback;
    throw fail(`fit: invalid callbacks[${i}]. Expected a callback such as new EarlyStopping() or { onEpochEnd(epoch, logs) {…} }. Received: callbacks[${i}]=${show(cb)}.`);
  });
}

/**
 * Trains `model` on `x`, `y` as Keras's `model.fit`, after checking them
 * against the model: a wrong shape fails before tfjs starts, in one line
 * that says what to do:
 *
 * `fit: invalid x. Expected shape (None, 28, 28, 1), received (60000, 28, 28). Reshape it, e.g. x.reshape([60000, 28, 28, 1]).`
 *
 * Integer class labels with "categorical_crossentropy" get a hint to use
 * `toCategorical`; with "sparse_categorical_crossentropy" labels of shape
 * (N,) are accepted as Keras does.
 *
 * @param model A compiled LayersModel (see {@link compile}).
 * @param x Inputs, a float32 tensor whose shape matches the model's input (an array for several inputs).
 * @param y Targets matching the model's output and loss.
 * @param args epochs (1), batchSize (32), validationData, validationSplit (0),
 *   callbacks, verbose (1: progress bar; 0 silent; 2 a line per epoch), shuffle (true), initialEpoch (0).
 * @returns Keras's History: `history.history.loss`, `.accuracy`, `.val_loss`, `.val_accuracy`, … and `history.epoch`.
 * @throws ConvlabError for an uncompiled model, mismatched tensors or invalid options.
 * @example
 * const history = await fit(model, trainImages, trainLabels, { epochs: 5, batchSize: 64, validationSplit: 0.1 });
 * history.history.val_accuracy;   // [0.98, 0.985, …]
 * Keras counterpart: `model.fit(x, y, epochs=5, batch_size=64, validation_split=0.1)`.
 */
export async function fit(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[], args: FitArgs = {}): Promise<History> {
  const unit = "fit";
  const a = checkOptions(unit, args, ["epochs", "batchSize", "validationData", "validationSplit", "callbacks", "verbose", "shuffle", "initialEpoch"]);
  checkModel(unit, model);
  const epochs = checkNumber(unit, "epochs", a.epochs ?? 1, { min: 1, integer: true });
  const batchSize = checkNumber(unit, "batchSize", a.batchSize ?? 32, { min: 1, integer: true });
  const validationSplit = checkNumber(unit, "validationSplit", a.validationSplit ?? 0, { min: 0, max: 1, exclusiveMax: true });
  const initialEpoch = checkNumber(unit, "initialEpoch", a.initialEpoch ?? 0, { min: 0, max: epochs - 1, integer: true });
  const verbose = a.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw fail(`${unit}: invalid verbose. Expected 0, 1 or 2. Received: verbose=${show(verbose)}.`);
  const shuffle = checkBoolean(unit, "shuffle", a.shuffle ?? true);
  const userCallbacks = normalizeCallbacks(a.callbacks);

  const train = prepare(unit, model, x, y);
  const temporaries = [...train.temporaries];
  let validationData: [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]] | undefined;
  if (a.validationData !== undefined) {
    const v = a.validationData;
    if (!Array.isArray(v) || v.length !== 2) {
      temporaries.forEach((t) => t.dispose());
      throw fail(`${unit}: invalid validationData. Expected [xVal, yVal]. Received: validationData=${show(v)}.`);
    }
    try {
      const val = prepare(unit, model, v[0], v[1], { x: "validationData[0]", y: "validationData[1]" });
      temporaries.push(...val.temporaries);
      validationData = [val.x, val.y];
    } catch (error) {
      temporaries.forEach((t) => t.dispose());
      throw error;
    }
  }
  const samples = (Array.isArray(train.x) ? train.x[0] : train.x).shape[0];
  const trainSamples = validationSplit > 0 ? samples - Math.floor(samples * validationSplit) : samples;

  const callbacks = verbose > 0 ? [new ProgressBar({ verbose: verbose as 1 | 2 }), ...userCallbacks] : userCallbacks;
  try {
    const h = await model.fit(train.x, train.y, {
      epochs,
      batchSize,
      validationSplit: validationSplit > 0 ? validationSplit : undefined,
      validationData: validationData as [tf.Tensor, tf.Tensor] | undefined,
      callbacks,
      verbose: 0,
      shuffle,
      initialEpoch,
    });
    return toKerasHistory(model, h, { verbose, epochs, steps: Math.ceil(trainSamples / batchSize) });
  } finally {
    temporaries.forEach((t) => t.dispose());
  }
}

function toKerasHistory(model: tf.LayersModel, h: tf.History, params: History["params"]): History {
  const names = kerasLogNames(model);
  const history: Record<string, number[]> = {};
  // Order keys as Keras: by the order toKerasLogs gives for one epoch's logs.
  const sample: Record<string, number> = {};
  for (const key of Object.keys(h.history)) sample[key] = 0;
  for (const [keras] of toKerasLogs(model, sample)) history[keras] = [];
  for (const [key, values] of Object.entries(h.history)) {
    const keras = names.get(key) ?? key;
    history[keras] = values.map((v) => (typeof v === "number" ? v : (v as tf.Tensor).dataSync()[0]));
  }
  return { history, epoch: [...h.epoch], params };
}

/**
 * Loss and metrics of `model` on `x`, `y`, checked as in {@link fit}.
 *
 * @param args batchSize (32), verbose (1 prints Keras's final line), returnDict (false).
 * @returns `[loss, ...metrics]` in compile order (`const [testLoss, testAcc] = await evaluate(…)`),
 *   or with `returnDict` an object keyed by Keras names (`{ loss, accuracy }`).
 * @throws ConvlabError for an uncompiled model, mismatched tensors or invalid options.
 * @example
 * const [testLoss, testAcc] = await evaluate(model, testImages, testLabels);
 * Keras counterpart: `test_loss, test_acc = model.evaluate(test_images, test_labels)` (Keras returns a
 * bare number when there are no metrics; this always returns an array).
 */
export async function evaluate(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[], args?: EvaluateArgs & { returnDict?: false }): Promise<number[]>;
export async function evaluate(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[], args: EvaluateArgs & { returnDict: true }): Promise<Record<string, number>>;
export async function evaluate(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[], args: EvaluateArgs = {}): Promise<number[] | Record<string, number>> {
  const unit = "evaluate";
  const a = checkOptions(unit, args, ["batchSize", "verbose", "returnDict"]);
  checkModel(unit, model);
  const batchSize = checkNumber(unit, "batchSize", a.batchSize ?? 32, { min: 1, integer: true });
  const verbose = a.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1) throw fail(`${unit}: invalid verbose. Expected 0 or 1. Received: verbose=${show(verbose)}.`);
  const returnDict = checkBoolean(unit, "returnDict", a.returnDict ?? false);
  const prepared = prepare(unit, model, x, y);
  const start = Date.now();
  let values: number[];
  try {
    const result = model.evaluate(prepared.x, prepared.y, { batchSize, verbose: 0 });
    const scalars = Array.isArray(result) ? result : [result];
    try {
      values = await Promise.all(scalars.map(async (s) => (await s.data())[0]));
    } finally {
      tf.dispose(scalars);
    }
  } finally {
    prepared.temporaries.forEach((t) => t.dispose());
  }
  const tfjsNames: string[] = (model as unknown as { metricsNames: string[] }).metricsNames;
  const names = kerasLogNames(model);
  const keys = tfjsNames.map((n) => names.get(n) ?? n);
  if (verbose === 1) {
    const samples = (Array.isArray(prepared.x) ? prepared.x[0] : prepared.x).shape[0];
    const steps = Math.ceil(samples / batchSize);
    const seconds = (Date.now() - start) / 1000;
    const perStep = steps > 0 ? seconds / steps : 0;
    const metrics = keys.map((k, i) => ` - ${k}: ${formatValue(values[i])}`).join("");
    console.log(`${steps}/${steps} [${"=".repeat(30)}] - ${seconds.toFixed(0)}s${formatTime(perStep, "step")}${metrics}`);
  }
  if (returnDict) return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
  return values;
}
