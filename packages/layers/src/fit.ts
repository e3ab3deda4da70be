/**
 * `fit` and `evaluate` with Keras's behaviour around tfjs's: inputs checked
 * against the model before training (one-line errors that say how to fix
 * the shape), Keras's progress display, Keras-named history and results.
 * They take tensors (`fit(model, x, y)`) or a batch source
 * (`fit(model, generator, { stepsPerEpoch })`, Keras's `fit(generator)`).
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { formatTime, formatValue, ProgressBar } from "./callbacks";
import { acceptClassIds, kerasLogNames, kerasLossName, lossFunctions, takesClassIds, tfjsLossNames, toKerasLogs } from "./compile";
import type { LossOrMetricFn } from "./compile";
import { checkBoolean, checkNumber, checkOptions, pyShape } from "./validate";

/** A callback for {@link fit}: a tf.Callback (ProgressBar, EarlyStopping, …) or tfjs's `{ onEpochEnd(epoch, logs) {…} }` object. */
export type FitCallback = tf.Callback | tf.CustomCallbackArgs;

/**
 * Targets of {@link fit} and {@link evaluate}: one tensor, or for a model with several outputs an
 * array in output order or an object keyed by output name (Keras's list or dict).
 */
export type Targets = tf.Tensor | tf.Tensor[] | { [outputName: string]: tf.Tensor };

/** Options of {@link fit}; Keras names in camelCase. */
export interface FitArgs {
  /** Number of passes over the data, integer >= 1. Default 1. */
  epochs?: number;
  /** Samples per gradient step, integer >= 1. Default 32. Tensors only: a batch source sets its own batch size. */
  batchSize?: number;
  /**
   * Evaluated at the end of each epoch (`val_loss`, `val_accuracy`): `[xVal, yVal]` tensors, or,
   * when training from a batch source, another batch source (read `validationSteps` batches).
   */
  validationData?: [tf.Tensor | tf.Tensor[], Targets] | BatchSource | tf.data.Dataset<tf.TensorContainer>;
  /** Fraction in [0, 1) of the samples, taken from the end, kept for validation. Default 0. Tensors only. */
  validationSplit?: number;
  /** Callbacks, called in order after the progress display. */
  callbacks?: FitCallback | FitCallback[];
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Shuffle the training samples before each epoch. Default true. Tensors only: a source yields batches in its own order. */
  shuffle?: boolean;
  /** Epoch to start from (counts in "Epoch k/N" and schedules). Default 0. */
  initialEpoch?: number;
  /**
   * Keras's `steps_per_epoch`: batches read from a batch source per epoch, integer >= 1.
   * Default the source's `size` (one pass); required when the source has no known size.
   * Batch sources only: with tensors an epoch is ceil(samples / batchSize) steps (an error here).
   */
  stepsPerEpoch?: number;
  /**
   * Keras's `validation_steps`: batches read from a `validationData` source at each epoch end,
   * integer >= 1. Default its `size`; required when it has no known size. Only with `validationData`
   * given as a batch source (an error otherwise).
   */
  validationSteps?: number;
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
  /** Samples per batch, integer >= 1. Default 32. Tensors only: a batch source sets its own batch size. */
  batchSize?: number;
  /** 0 silent, 1 (default) prints Keras's final line `313/313 [====…] - 1s 3ms/step - loss: … - accuracy: …`. */
  verbose?: 0 | 1;
  /**
   * Return `{ loss, accuracy }` instead of `[loss, accuracy]` (with several outputs
   * `{ loss, dense_1_loss, dense_2_loss, dense_1_accuracy, … }`). Default false.
   */
  returnDict?: boolean;
  /**
   * Keras's `steps`: batches read from a batch source, integer >= 1. Default the source's `size`
   * (one pass); required when it has no known size. Batch sources only (an error with tensors).
   */
  steps?: number;
}

/**
 * One batch of a {@link BatchSource}: inputs `xs` of shape (batch, …model input shape) and
 * targets `ys` matching the model's output and loss. One tensor each, or for a model with several
 * inputs (outputs) an array in model order or a map by input (output) name, as tf.data's `{ xs, ys }`.
 * Class indices of shape (batch,) are accepted for "sparse_categorical_crossentropy" and for a
 * (None, 1) output (binary labels), as Keras does; for a loss function marked `sparseTargets: true`
 * ({@link SparseLossFn}), class indices (batch, …) or (batch, …, 1) as well as one-hot targets. Each
 * output is checked against its own loss.
 */
export interface Batch {
  xs: tf.Tensor | tf.Tensor[] | { [inputName: string]: tf.Tensor };
  ys: tf.Tensor | tf.Tensor[] | { [outputName: string]: tf.Tensor };
}

/**
 * Where {@link fit} and {@link evaluate} read batches from instead of tensors: Keras's
 * generators (ImageDataGenerator's `flow`, `flowFromDirectory`) and `keras.utils.Sequence`.
 * Any object of tf.data.Dataset's shape qualifies, tf.data.Dataset itself included.
 *
 * - `iterator()` starts a pass; its `next()` resolves to `{ value: { xs, ys }, done: false }`,
 *   or `{ done: true }` when the pass ends. A source may loop forever (ImageDataGenerator's do).
 *   Each batch's tensors are handed over: fit and evaluate dispose them after use, so yield new
 *   tensors every time (a slice, `x.clone()`), never the same tensor twice.
 * - `size` (optional): batches in one pass, Keras's `len(generator)`, e.g.
 *   `Math.ceil(samples / batchSize)`; tf.data.Dataset's size after `.batch(n)`. `Infinity`, `null`
 *   or no size means unknown: then fit needs `stepsPerEpoch` (evaluate `steps`).
 *
 * The iterator is kept across epochs (Keras's `steps_per_epoch` reads on where the last epoch
 * stopped); a pass that ends is started again with a new `iterator()`.
 *
 * @example
 * // A hand-made source over fixed tensors x, y of n samples, 32 a batch, looping forever:
 * const batches = Math.ceil(n / 32);
 * const source: BatchSource = {
 *   size: batches,
 *   async iterator() {
 *     let i = 0;
 *     return { async next() {
 *       const start = (i++ % batches) * 32;
 *       const size = Math.min(32, n - start);
 *       return { value: { xs: x.slice(start, size), ys: y.slice(start, size) }, done: false };
 *     } };
 *   },
 * };
 * await fit(model, source, { epochs: 5 });
 * Keras counterpart: a `keras.utils.Sequence` (`__len__` is `size`) or a Python generator.
 */
export interface BatchSource {
  /** Starts a pass over the data. */
  iterator(): Promise<{ next(): Promise<IteratorResult<Batch>> }>;
  /** Batches per pass (Keras's `len(generator)`); unknown when absent, `null` or `Infinity`. */
  readonly size?: number | null;
}

/** A batch source as fit/evaluate take it: ours, or any tf.data.Dataset (typed with TensorContainer elements). */
type SourceLike = BatchSource | tf.data.Dataset<tf.TensorContainer>;

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

/** What a loss that takes class ids accepts, for messages: `class indices of shape (None, 4, 4) or one-hot (None, 4, 4, 3)`. */
function classIdsText(expected: Shape): string {
  return `class indices of shape ${pyShape(expected.slice(0, -1))} or one-hot ${pyShape(expected)}`;
}

/** ` for loss "dice"`: a loss function by its name, nothing when it has none. */
function forFunction(fn: LossOrMetricFn): string {
  return fn.name ? ` for loss ${JSON.stringify(fn.name)}` : "";
}

/** The targets a loss function marked sparseTargets takes: class ids (…) or (…, 1), or one-hot (…, C). */
function classIdsOrOneHot(shape: ReadonlyArray<number>, expected: Shape): boolean {
  const base = expected.slice(0, -1);
  return matches(shape, base) || matches(shape, [...base, 1]) || matches(shape, expected);
}

/** The hint for class ids given to a loss function without sparseTargets. */
const MARK_HINT = "or, if the loss function takes class ids, mark it with sparseTargets: true";

/**
 * Checks targets against the output shape and the loss (`loss` its tfjs name, `fn` a loss
 * function); says what to do when labels are not one-hot.
 */
function checkY(unit: string, name: string, y: unknown, expected: Shape, loss: string | undefined, fn: LossOrMetricFn | undefined, samples: number, xName: string): tf.Tensor {
  const ids = takesClassIds(fn);
  if (!isTensor(y)) {
    const bytes = bytesLike(y);
    const classes = expected[expected.length - 1];
    const what = ids ? classIdsText(expected) : `shape ${pyShape(expected)}`;
    if (bytes) {
      const how =
        loss === "sparseCategoricalCrossentropy" || ids
          ? `${name}.toTensor("float32")`
          : classes !== null && classes > 1
            ? `toCategorical(${name}, ${classes})`
            : `${name}.toTensor("float32")`;
      throw fail(`${unit}: invalid ${name}. Expected a tf.Tensor of ${what}. Received: ${name}=${bytes.label}; convert it, e.g. ${how}.`);
    }
    throw fail(`${unit}: invalid ${name}. Expected a tf.Tensor of ${what}. Received: ${name}=${show(y)}.`);
  }
  if (y.shape[0] !== samples) {
    throw fail(`${unit}: invalid ${name}. Expected ${samples} samples, as ${xName} has. Received: ${name} with shape ${pyShape(y.shape)}.`);
  }
  if (ids) {
    if (!classIdsOrOneHot(y.shape, expected)) {
      throw fail(`${unit}: invalid ${name}. Expected ${classIdsText(expected)}${forFunction(fn)}. Received: ${name} with shape ${pyShape(y.shape)}.`);
    }
    return y;
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
  // Targets without the output's trailing 1, e.g. binary labels (N,) for a Dense(1) output: Keras
  // takes them (its losses squeeze or expand that axis); prepare adds it for tfjs.
  if (classes === 1 && y.shape.length === expected.length - 1 && matches(y.shape, expected.slice(0, -1))) return y;
  if (!matches(y.shape, expected)) {
    const looksLikeIndices = y.shape.length === expected.length - 1 || (y.shape.length === expected.length && y.shape[y.shape.length - 1] === 1);
    let hint = "";
    if (looksLikeIndices && loss === "categoricalCrossentropy" && classes !== null && classes > 1) {
      hint = ` These look like class indices: use toCategorical(${name}, ${classes}), or loss "sparse_categorical_crossentropy".`;
    } else if (looksLikeIndices && classes !== null && classes > 1) {
      hint = fn ? ` One-hot encode them with toCategorical(${name}, ${classes}), ${MARK_HINT}.` : ` One-hot encode them with toCategorical(${name}, ${classes}).`;
    }
    throw fail(`${unit}: invalid ${name}. Expected shape ${pyShape(expected)}${kerasLoss ? ` for loss "${kerasLoss}"` : ""}, received ${pyShape(y.shape)}.${hint}`);
  }
  return y;
}

interface Prepared {
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor | tf.Tensor[];
  /**
   * Tensors made here (targets given without the output's trailing 1, e.g. class ids (N, H, W)
   * for a loss that takes them, reshaped to (N, …, 1)), disposed after the call.
   */
  temporaries: tf.Tensor[];
}

/** The names as messages list them: `"dense_1", "dense_2"`. */
function quoted(names: string[]): string {
  return names.map((n) => JSON.stringify(n)).join(", ");
}

/** Targets of a model with several outputs: an array in output order, or an object keyed by output name (Keras's dict). */
function targetList(unit: string, model: tf.LayersModel, y: unknown, name: string): unknown[] {
  const outputs = model.outputs;
  if (outputs.length === 1) return [y];
  if (Array.isArray(y)) {
    if (y.length === outputs.length) return y;
  } else if (y !== null && typeof y === "object" && !isTensor(y) && Object.getPrototypeOf(y) === Object.prototype) {
    const map = y as Record<string, unknown>;
    const names = model.outputNames;
    const unknown = Object.keys(map).find((k) => !names.includes(k));
    const missing = names.find((n) => map[n] === undefined);
    if (unknown === undefined && missing === undefined) return names.map((n) => map[n]);
    throw fail(
      `${unit}: invalid ${name}. Expected targets keyed by the names of the model's ${names.length} outputs (${quoted(names)}). Received: ${name} with keys ${quoted(Object.keys(map))}.`,
    );
  }
  throw fail(
    `${unit}: invalid ${name}. Expected an array of ${outputs.length} tensors, one per model output (${quoted(model.outputNames)}), or an object keyed by output name. Received: ${name}=${show(y)}.`,
  );
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
  const ys = targetList(unit, model, y, names.y);
  const losses = tfjsLossNames(model);
  const fns = lossFunctions(model);
  // Every target is checked before any is reshaped: a later bad target leaves nothing to dispose.
  const checked = ys.map((yi, i) => checkY(unit, outputs.length === 1 ? names.y : `${names.y}[${i}]`, yi, outputs[i].shape, losses[i], fns[i], samples, names.x));
  // tfjs checks the targets again: let it take class ids for a loss that declares them (already
  // so after convlab's compile; this covers tfjs's own model.compile).
  acceptClassIds(model);
  const temporaries: tf.Tensor[] = [];
  const checkedY = checked.map((t, i) => {
    let y = t;
    if (y.shape.length === outputs[i].shape.length - 1) {
      // Class indices (N, …) for a sparse loss (by name or a function marked sparseTargets), or
      // targets (N, …) for a (None, …, 1) output: tfjs wants the trailing 1 where Keras also takes
      // them without.
      y = y.reshape([...y.shape, 1]);
      temporaries.push(y);
    }
    if (losses[i] === "sparseCategoricalCrossentropy" && y.dtype !== "float32") {
      // Integer class ids (masks are int32): tfjs's sparse loss floors its targets, which only
      // float32 allows; Keras takes any dtype.
      y = y.toFloat();
      temporaries.push(y);
    }
    return y;
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

// ---------------------------------------------------------------- batch sources

function isBatchSource(value: unknown): value is BatchSource {
  return value !== null && typeof value === "object" && !isTensor(value) && !Array.isArray(value) && typeof (value as { iterator?: unknown }).iterator === "function";
}

/** A value as batch errors print it: tensors as `Tensor<float32>[4,4]`, also inside arrays and plain objects. */
function describe(value: unknown): string {
  if (isTensor(value)) return show(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(", ")}]`;
  if (isBatchSource(value)) return `${(value as object).constructor?.name ?? "Object"} (a batch source)`;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return `{ ${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}: ${describe(v)}`).join(", ")} }`;
  }
  return show(value);
}

/** How one source is named in messages: `invalid ${param}`, `invalid batch from ${from}`. */
interface SourceRole {
  param: string;
  from: string;
}

const TRAIN_ROLE: SourceRole = { param: "source", from: "the source" };
const VALIDATION_ROLE: SourceRole = { param: "validationData", from: "validationData" };

/**
 * Batches to read from `source`: `given` (checked), else its `size` when it is a whole number
 * >= 1. Otherwise the source may loop forever, so the count must be given (Keras 2's
 * `fit_generator` rule for generators without `__len__`).
 */
function stepsFor(unit: string, source: SourceLike, given: unknown, option: { name: string; keras: string; what: string }, role: SourceRole): number {
  if (given !== undefined) return checkNumber(unit, option.name, given, { min: 1, integer: true });
  const size = (source as { size?: unknown }).size;
  if (typeof size === "number" && Number.isInteger(size) && size >= 1) return size;
  if (size === 0) throw fail(`${unit}: invalid ${role.param}. Expected at least one batch. Received: an empty source (size=0).`);
  throw fail(
    `${unit}: invalid ${option.name}. Expected the number of ${option.what}, as ${role.from} has no known size (size=${show(size)}) and may loop forever: pass ${option.name} (Keras's ${option.keras}), e.g. Math.ceil(samples / batchSize). Received: ${option.name}=undefined.`,
  );
}

/** The tensors of `value` (a tensor, array or map), in model order by `names`, or a one-line error. */
function batchTensors(unit: string, from: string, key: "xs" | "ys", value: unknown, names: string[]): tf.Tensor[] {
  const what = key === "xs" ? "input" : "output";
  let list: unknown[];
  if (isTensor(value)) list = [value];
  else if (Array.isArray(value)) list = value;
  else if (value !== null && typeof value === "object") {
    const map = value as Record<string, unknown>;
    const missing = names.find((n) => map[n] === undefined);
    if (missing !== undefined) {
      throw fail(`${unit}: invalid batch from ${from}. Expected ${key} keyed by ${what} name (${names.map((n) => JSON.stringify(n)).join(", ")}). Received: ${key}=${describe(value)}.`);
    }
    list = names.map((n) => map[n]);
  } else {
    throw fail(`${unit}: invalid batch from ${from}. Expected ${key} as a tf.Tensor. Received: ${key}=${describe(value)}.`);
  }
  if (list.length !== names.length) {
    throw fail(`${unit}: invalid batch from ${from}. Expected ${key} as ${names.length} tensor${names.length === 1 ? "" : "s"}, one per model ${what}. Received: ${key}=${describe(value)}.`);
  }
  return list.map((t, i) => {
    const label = names.length === 1 ? key : `${key}[${i}]`;
    if (!isTensor(t)) throw fail(`${unit}: invalid batch from ${from}. Expected ${label} as a tf.Tensor. Received: ${label}=${describe(t)}.`);
    if (t.isDisposed) {
      throw fail(
        `${unit}: invalid batch from ${from}. Expected new tensors in every batch (each batch is disposed after its step). Received: a disposed tensor as ${label}; yield a fresh tensor each time, e.g. x.slice(…) or x.clone().`,
      );
    }
    return t;
  });
}

/**
 * Checks one batch against the model and returns what tfjs takes: class indices of shape
 * (batch, …) reshaped to (batch, …, 1) where the output is (None, …, 1) or the loss sparse (by name,
 * or a function marked sparseTargets, which gets ids in the same form as from tensors; tfjs needs
 * the trailing 1; Keras does not). The replaced tensors are disposed; on an error every tensor of the
 * batch is disposed (the batch was handed over), so nothing leaks.
 */
function checkBatch(unit: string, model: tf.LayersModel, value: unknown, from: string): { xs: tf.Tensor | tf.Tensor[]; ys: tf.Tensor | tf.Tensor[] } {
  try {
    const v = value as { xs?: unknown; ys?: unknown } | null;
    if (v === null || typeof v !== "object" || isTensor(v) || Array.isArray(v) || v.xs == null || v.ys == null) {
      const hint = Array.isArray(value) && value.length === 2 ? " Yield { xs, ys } (tf.data.zip({ xs, ys }), not tf.data.zip([xs, ys]))." : "";
      throw fail(`${unit}: invalid batch from ${from}. Expected { xs, ys } with tensors. Received: ${describe(value)}.${hint}`);
    }
    const xs = batchTensors(unit, from, "xs", v.xs, model.inputNames);
    const ys = batchTensors(unit, from, "ys", v.ys, model.outputNames);
    const samples = xs[0].shape[0];
    xs.forEach((x, i) => {
      const label = xs.length === 1 ? "xs" : `xs[${i}]`;
      const expected = model.inputs[i].shape;
      if (!matches(x.shape, expected)) {
        const known = expected.slice(1);
        const hint =
          known.every((d) => d !== null) && x.shape.length >= 1 && product(x.shape.slice(1)) === product(known as number[])
            ? ` Reshape them in the source, e.g. ${label}.reshape([${[x.shape[0], ...known].join(", ")}]).`
            : "";
        throw fail(`${unit}: invalid batch from ${from}. Expected ${label} of shape ${pyShape(expected)}, received ${pyShape(x.shape)}.${hint}`);
      }
      if (model.inputs[i].dtype === "float32" && x.dtype !== "float32") {
        throw fail(`${unit}: invalid batch from ${from}. Expected ${label} of dtype float32, received ${show(x)}; convert them in the source, e.g. ${label}.toFloat().div(255) for pixel values.`);
      }
      if (x.shape[0] !== samples) throw fail(`${unit}: invalid batch from ${from}. Expected ${samples} samples in ${label}, as in xs[0]. Received: shape ${pyShape(x.shape)}.`);
    });
    const losses = tfjsLossNames(model);
    const fns = lossFunctions(model);
    const reshape = ys.map((y, i) => {
      const label = ys.length === 1 ? "ys" : `ys[${i}]`;
      const loss = losses[i];
      const fn = fns[i];
      const kerasLoss = loss ? ` for loss "${kerasLossName(loss)}"` : "";
      const expected = model.outputs[i].shape;
      if (y.shape[0] !== samples) throw fail(`${unit}: invalid batch from ${from}. Expected ${samples} samples in ${label}, as xs has. Received: ${label} with shape ${pyShape(y.shape)}.`);
      const classes = expected[expected.length - 1];
      const indices = y.shape.length === expected.length - 1 && matches(y.shape, expected.slice(0, -1));
      if (takesClassIds(fn)) {
        if (classIdsOrOneHot(y.shape, expected)) return indices;
        throw fail(`${unit}: invalid batch from ${from}. Expected ${label} of ${classIdsText(expected)}${forFunction(fn)}, received ${pyShape(y.shape)}.`);
      }
      if (loss === "sparseCategoricalCrossentropy") {
        if (indices) return true;
        if (matches(y.shape, [...expected.slice(0, -1), 1])) return false;
        const oneHot = matches(y.shape, expected) && classes !== 1;
        throw fail(
          `${unit}: invalid batch from ${from}. Expected ${label} of class indices of shape ${pyShape(expected.slice(0, -1))}${kerasLoss}, received ${pyShape(y.shape)}.${oneHot ? ' These look one-hot: use loss "categorical_crossentropy".' : ""}`,
        );
      }
      if (matches(y.shape, expected)) return false;
      // Binary labels of shape (batch,) for a (None, 1) output, as Keras takes them.
      if (indices && classes === 1) return true;
      let hint = "";
      const looksLikeIndices = indices || (y.shape.length === expected.length && y.shape[y.shape.length - 1] === 1);
      if (looksLikeIndices && classes !== null && classes > 1) {
        hint =
          loss === "categoricalCrossentropy"
            ? ` These look like class indices: one-hot encode them in the source, or use loss "sparse_categorical_crossentropy".`
            : fn
              ? ` These look like class indices: one-hot encode them in the source, ${MARK_HINT}.`
              : " These look like class indices: one-hot encode them in the source.";
      }
      throw fail(`${unit}: invalid batch from ${from}. Expected ${label} of shape ${pyShape(expected)}${kerasLoss}, received ${pyShape(y.shape)}.${hint}`);
    });
    const outYs = ys.map((y, i) => {
      let out = y;
      if (reshape[i]) {
        out = y.reshape([...y.shape, 1]);
        y.dispose();
      }
      if (losses[i] === "sparseCategoricalCrossentropy" && out.dtype !== "float32") {
        // Integer class ids, as in prepare: tfjs's sparse loss needs float32.
        const floats = out.toFloat();
        out.dispose();
        out = floats;
      }
      return out;
    });
    return { xs: xs.length === 1 ? xs[0] : xs, ys: outYs.length === 1 ? outYs[0] : outYs };
  } catch (error) {
    tf.dispose(value as tf.TensorContainer);
    throw error;
  }
}

type CheckedBatch = ReturnType<typeof checkBatch>;

/**
 * The source as tfjs's fitDataset / evaluateDataset read it: every batch checked by
 * {@link checkBatch}; one iterator kept across epochs and validation rounds, started again
 * when a pass ends (so `batchesPerEpoch` never runs a finite tf.data.Dataset dry); `peek()`
 * reads the first batch before training so a bad source fails before "Epoch 1/N" is shown.
 */
class CheckedSource {
  private current: { next(): Promise<IteratorResult<unknown>> } | undefined;
  private batchesThisPass = 0;
  private held: CheckedBatch | undefined;

  constructor(
    private readonly unit: string,
    private readonly model: tf.LayersModel,
    private readonly source: SourceLike,
    private readonly role: SourceRole,
  ) {}

  /** tf.data.Dataset's duck type: what tfjs calls. (No `next` of its own: tfjs would take it for an iterator.) */
  async iterator(): Promise<{ next(): Promise<IteratorResult<CheckedBatch>> }> {
    return { next: () => this.nextBatch() };
  }

  /** Reads and checks the first batch now; it is the first one the iterator returns. */
  async peek(): Promise<void> {
    if (!this.held) this.held = await this.read();
  }

  /** Disposes a peeked batch nobody read (training failed or stopped before it). */
  release(): void {
    if (this.held) tf.dispose([this.held.xs, this.held.ys] as tf.TensorContainer);
    this.held = undefined;
  }

  private async nextBatch(): Promise<IteratorResult<CheckedBatch>> {
    const held = this.held;
    this.held = undefined;
    return { value: held ?? (await this.read()), done: false };
  }

  private async read(): Promise<CheckedBatch> {
    for (;;) {
      if (!this.current) {
        this.current = await this.source.iterator();
        this.batchesThisPass = 0;
      }
      const result = await this.current.next();
      if (result.done) {
        if (this.batchesThisPass === 0) {
          throw fail(`${this.unit}: invalid ${this.role.param}. Expected at least one batch in a pass. Received: a source whose iterator ended before its first batch.`);
        }
        this.current = undefined;
        continue;
      }
      this.batchesThisPass += 1;
      return checkBatch(this.unit, this.model, result.value, this.role.from);
    }
  }
}

// ---------------------------------------------------------------- fit

const FIT_OPTIONS = ["epochs", "batchSize", "validationData", "validationSplit", "callbacks", "verbose", "shuffle", "initialEpoch", "stepsPerEpoch", "validationSteps"];

/** The options both forms of fit share. */
function commonFitOptions(unit: string, a: Record<string, unknown>): { epochs: number; initialEpoch: number; verbose: 0 | 1 | 2; callbacks: tf.Callback[] } {
  const epochs = checkNumber(unit, "epochs", a.epochs ?? 1, { min: 1, integer: true });
  const initialEpoch = checkNumber(unit, "initialEpoch", a.initialEpoch ?? 0, { min: 0, max: epochs - 1, integer: true });
  const verbose = a.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw fail(`${unit}: invalid verbose. Expected 0, 1 or 2. Received: verbose=${show(verbose)}.`);
  const userCallbacks = normalizeCallbacks(a.callbacks);
  const callbacks = verbose > 0 ? [new ProgressBar({ verbose: verbose as 1 | 2 }), ...userCallbacks] : userCallbacks;
  return { epochs, initialEpoch, verbose, callbacks };
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
 * (N,) are accepted as Keras does, and so are targets of shape (N,) for a
 * (None, 1) output (binary labels for a Dense(1) sigmoid). A loss function
 * marked `sparseTargets: true` ({@link SparseLossFn}, e.g. the segmentation
 * losses) takes class indices (N, H, W) or (N, H, W, 1) for an output
 * (None, H, W, C), as well as one-hot targets:
 *
 * `fit: invalid y. Expected class indices of shape (None, 128, 128) or one-hot (None, 128, 128, 3) for loss "dice". Received: y with shape (8, 64, 64).`
 *
 * A model with several outputs takes `y` as an array in output order or an
 * object keyed by output name, each checked against its output and loss; the
 * History then has Keras's keys `loss`, `<output>_loss`, `<output>_<metric>` and
 * their `val_` versions (see {@link compile}).
 *
 * @param model A compiled LayersModel (see {@link compile}).
 * @param x Inputs, a float32 tensor whose shape matches the model's input (an array for several inputs).
 * @param y Targets matching the model's output and loss; with several outputs an array in
 *   output order or an object keyed by output name.
 * @param args epochs (1), batchSize (32), validationData, validationSplit (0),
 *   callbacks, verbose (1: progress bar; 0 silent; 2 a line per epoch), shuffle (true), initialEpoch (0).
 *   `stepsPerEpoch` and `validationSteps` are for batch sources only (an error here).
 * @returns Keras's History: `history.history.loss`, `.accuracy`, `.val_loss`, `.val_accuracy`, … and `history.epoch`.
 * @throws ConvlabError for an uncompiled model, mismatched tensors or invalid options.
 * @example
 * const history = await fit(model, trainImages, trainLabels, { epochs: 5, batchSize: 64, validationSplit: 0.1 });
 * history.history.val_accuracy;   // [0.98, 0.985, …]
 * Keras counterpart: `model.fit(x, y, epochs=5, batch_size=64, validation_split=0.1)`.
 */
export async function fit(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: Targets, args?: FitArgs): Promise<History>;
/**
 * Trains `model` on batches read from a batch source, as Keras's `model.fit(generator,
 * steps_per_epoch=…, validation_data=…, validation_steps=…)`: an ImageDataGenerator's `flow` /
 * `flowFromDirectory` iterator, a tf.data.Dataset of `{ xs, ys }` batches, or any
 * {@link BatchSource}. Runs tfjs's `fitDataset` with Keras's progress display and History.
 *
 * Each epoch reads `stepsPerEpoch` batches (default the source's `size`, one pass); the source's
 * iterator carries on across epochs and is started again when a pass ends. `validationData` is
 * `[xVal, yVal]` tensors or another source, read `validationSteps` batches (default its `size`) at
 * each epoch end. Every batch is checked against the model; the first before training starts:
 *
 * `fit: invalid batch from the source. Expected xs of shape (None, 150, 150, 3), received (20, 150, 150, 1).`
 *
 * Targets of shape (batch,) are taken for "sparse_categorical_crossentropy" and for a (None, 1)
 * output (binary labels), as Keras does, and class indices (batch, …) or (batch, …, 1) or one-hot
 * targets for a loss function marked `sparseTargets: true`. fit disposes every batch after its step.
 *
 * @param model A compiled LayersModel (see {@link compile}).
 * @param source The training batches: a {@link BatchSource} or a tf.data.Dataset yielding `{ xs, ys }`.
 * @param args epochs (1), stepsPerEpoch (source.size), validationData, validationSteps
 *   (validationData.size), callbacks, verbose (1: progress bar `100/100 [====…]`; 0 silent; 2 a line
 *   per epoch), initialEpoch (0). `batchSize`, `validationSplit` and `shuffle` are errors: the source
 *   sets its batch size and order, and cannot be split.
 * @returns Keras's History (`params.steps` is stepsPerEpoch), as the tensor form.
 * @throws ConvlabError for an uncompiled model, invalid options, a source of unknown size without
 *   stepsPerEpoch (or validationSteps), an empty source, or a batch that does not fit the model.
 * @example
 * const history = await fit(modelDA, trainGenerator, {
 *   epochs: 30, stepsPerEpoch: 100, validationData: validationGenerator, validationSteps: 50,
 * });
 * Keras counterpart: `history = model.fit(train_generator, steps_per_epoch=100, epochs=30,
 * validation_data=validation_generator, validation_steps=50)`. Keras 2 also runs a generator
 * without `__len__` until it ends; here a source without `size` needs stepsPerEpoch.
 */
export async function fit(model: tf.LayersModel, source: BatchSource | tf.data.Dataset<tf.TensorContainer>, args?: FitArgs): Promise<History>;
export async function fit(model: tf.LayersModel, xOrSource: unknown, yOrArgs?: unknown, maybeArgs?: unknown): Promise<History> {
  if (isBatchSource(xOrSource)) {
    if (isTensor(yOrArgs) || Array.isArray(yOrArgs) || maybeArgs !== undefined) {
      throw fail(`fit: invalid y. Expected no y with a batch source, which yields its own targets (ys): call fit(model, source, { epochs, … }). Received: y=${describe(yOrArgs)}.`);
    }
    return fitSource(model, xOrSource, yOrArgs);
  }
  return fitTensors(model, xOrSource, yOrArgs, maybeArgs);
}

async function fitTensors(model: tf.LayersModel, x: unknown, y: unknown, args: unknown): Promise<History> {
  const unit = "fit";
  const a = checkOptions(unit, args, FIT_OPTIONS);
  checkModel(unit, model);
  if (a.stepsPerEpoch !== undefined) {
    throw fail(
      `${unit}: invalid stepsPerEpoch. Expected it only with a batch source (fit(model, source, { stepsPerEpoch })); with tensors an epoch is ceil(samples / batchSize) steps: set batchSize instead. Received: stepsPerEpoch=${show(a.stepsPerEpoch)}.`,
    );
  }
  if (a.validationSteps !== undefined) {
    throw fail(`${unit}: invalid validationSteps. Expected it only with validationData given as a batch source; [xVal, yVal] tensors are evaluated whole. Received: validationSteps=${show(a.validationSteps)}.`);
  }
  if (isBatchSource(a.validationData)) {
    throw fail(
      `${unit}: invalid validationData. Expected [xVal, yVal] tensors when training on tensors (a batch source as validationData needs a batch source to train on). Received: validationData=${describe(a.validationData)}.`,
    );
  }
  const { epochs, initialEpoch, verbose, callbacks } = commonFitOptions(unit, a);
  const batchSize = checkNumber(unit, "batchSize", a.batchSize ?? 32, { min: 1, integer: true });
  const validationSplit = checkNumber(unit, "validationSplit", a.validationSplit ?? 0, { min: 0, max: 1, exclusiveMax: true });
  const shuffle = checkBoolean(unit, "shuffle", a.shuffle ?? true);

  const train = prepare(unit, model, x, y);
  const temporaries = [...train.temporaries];
  let validationData: [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]] | undefined;
  if (a.validationData !== undefined) {
    try {
      validationData = prepareValidation(unit, model, a.validationData, temporaries);
    } catch (error) {
      temporaries.forEach((t) => t.dispose());
      throw error;
    }
  }
  const samples = (Array.isArray(train.x) ? train.x[0] : train.x).shape[0];
  const trainSamples = validationSplit > 0 ? samples - Math.floor(samples * validationSplit) : samples;

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

/** `[xVal, yVal]` checked as x and y; sparse targets reshaped into `temporaries`. */
function prepareValidation(unit: string, model: tf.LayersModel, v: unknown, temporaries: tf.Tensor[]): [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw fail(`${unit}: invalid validationData. Expected [xVal, yVal]. Received: validationData=${describe(v)}.`);
  }
  const val = prepare(unit, model, v[0], v[1], { x: "validationData[0]", y: "validationData[1]" });
  temporaries.push(...val.temporaries);
  return [val.x, val.y];
}

async function fitSource(model: tf.LayersModel, source: SourceLike, args: unknown): Promise<History> {
  const unit = "fit";
  const a = checkOptions(unit, args, FIT_OPTIONS);
  checkModel(unit, model);
  if (a.batchSize !== undefined) {
    throw fail(`${unit}: invalid batchSize. A batch source sets its own batch size (the generator's batchSize, or dataset.batch(n)); remove batchSize. Received: batchSize=${show(a.batchSize)}.`);
  }
  if (a.validationSplit !== undefined) {
    throw fail(
      `${unit}: invalid validationSplit. A batch source cannot be split; pass validationData (another batch source, or [xVal, yVal]) instead. Received: validationSplit=${show(a.validationSplit)}.`,
    );
  }
  if (a.shuffle !== undefined) {
    throw fail(`${unit}: invalid shuffle. A batch source yields batches in its own order (shuffle where it is made, e.g. dataset.shuffle(n)); remove shuffle. Received: shuffle=${show(a.shuffle)}.`);
  }
  const { epochs, initialEpoch, verbose, callbacks } = commonFitOptions(unit, a);
  const steps = stepsFor(unit, source, a.stepsPerEpoch, { name: "stepsPerEpoch", keras: "steps_per_epoch", what: "batches per epoch" }, TRAIN_ROLE);

  const temporaries: tf.Tensor[] = [];
  let validationSource: CheckedSource | undefined;
  let validationTensors: [tf.Tensor | tf.Tensor[], tf.Tensor | tf.Tensor[]] | undefined;
  let validationBatches: number | undefined;
  if (a.validationData === undefined) {
    if (a.validationSteps !== undefined) {
      throw fail(`${unit}: invalid validationSteps. Expected it only with validationData given as a batch source; there is no validationData. Received: validationSteps=${show(a.validationSteps)}.`);
    }
  } else if (isBatchSource(a.validationData)) {
    validationBatches = stepsFor(
      unit,
      a.validationData,
      a.validationSteps,
      { name: "validationSteps", keras: "validation_steps", what: "validation batches per epoch" },
      VALIDATION_ROLE,
    );
    validationSource = new CheckedSource(unit, model, a.validationData, VALIDATION_ROLE);
  } else {
    if (a.validationSteps !== undefined) {
      throw fail(`${unit}: invalid validationSteps. Expected it only with validationData given as a batch source; [xVal, yVal] tensors are evaluated whole. Received: validationSteps=${show(a.validationSteps)}.`);
    }
    validationTensors = prepareValidation(unit, model, a.validationData, temporaries);
  }

  const train = new CheckedSource(unit, model, source, TRAIN_ROLE);
  try {
    // The first batches, checked before tfjs starts (and before "Epoch 1/N" is shown).
    await train.peek();
    await validationSource?.peek();
    const h = await model.fitDataset(train as unknown as tf.data.Dataset<tf.TensorContainer>, {
      epochs,
      batchesPerEpoch: steps,
      validationData: (validationSource ?? validationTensors) as tf.data.Dataset<tf.TensorContainer> | [tf.Tensor, tf.Tensor] | undefined,
      validationBatches,
      callbacks,
      verbose: 0,
      initialEpoch,
    });
    return toKerasHistory(model, h, { verbose, epochs, steps });
  } finally {
    train.release();
    validationSource?.release();
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

// ---------------------------------------------------------------- evaluate

/** Scalars (tfjs's evaluate result) to numbers, disposing them. */
async function readScalars(result: tf.Scalar | tf.Scalar[]): Promise<number[]> {
  const scalars = Array.isArray(result) ? result : [result];
  try {
    return await Promise.all(scalars.map(async (s) => (await s.data())[0]));
  } finally {
    tf.dispose(scalars);
  }
}

/** Keras's final evaluate line, `3/3 [====…] - 0s 2ms/step - loss: … - accuracy: …`, and the result in the asked form. */
function evaluateResult(model: tf.LayersModel, values: number[], verbose: number, steps: number, start: number, returnDict: boolean): number[] | Record<string, number> {
  const tfjsNames: string[] = (model as unknown as { metricsNames: string[] }).metricsNames;
  const names = kerasLogNames(model);
  const keys = tfjsNames.map((n) => names.get(n) ?? n);
  if (verbose === 1) {
    const seconds = (Date.now() - start) / 1000;
    const perStep = steps > 0 ? seconds / steps : 0;
    const metrics = keys.map((k, i) => ` - ${k}: ${formatValue(values[i])}`).join("");
    console.log(`${steps}/${steps} [${"=".repeat(30)}] - ${seconds.toFixed(0)}s${formatTime(perStep, "step")}${metrics}`);
  }
  if (returnDict) return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
  return values;
}

/**
 * Loss and metrics of `model` on `x`, `y`, checked as in {@link fit}.
 *
 * @param args batchSize (32), verbose (1 prints Keras's final line), returnDict (false).
 *   `steps` is for batch sources only (an error here).
 * @returns `[loss, ...metrics]` in compile order (`const [testLoss, testAcc] = await evaluate(…)`),
 *   or with `returnDict` an object keyed by Keras names (`{ loss, accuracy }`). With several
 *   outputs Keras's order: `[loss, out1_loss, out2_loss, out1_accuracy, out2_accuracy, …]`, the
 *   total weighted by `lossWeights` (regularization penalties included), the per-output losses
 *   unweighted (`y` as in {@link fit}: an array or an object keyed by output name).
 * @throws ConvlabError for an uncompiled model, mismatched tensors or invalid options.
 * @example
 * const [testLoss, testAcc] = await evaluate(model, testImages, testLabels);
 * Keras counterpart: `test_loss, test_acc = model.evaluate(test_images, test_labels)` (Keras returns a
 * bare number when there are no metrics; this always returns an array).
 */
export async function evaluate(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: Targets, args?: EvaluateArgs & { returnDict?: false }): Promise<number[]>;
export async function evaluate(model: tf.LayersModel, x: tf.Tensor | tf.Tensor[], y: Targets, args: EvaluateArgs & { returnDict: true }): Promise<Record<string, number>>;
/**
 * Loss and metrics of `model` on batches read from a batch source, as Keras's
 * `model.evaluate(generator, steps=…)`: reads `steps` batches (default the source's `size`,
 * one pass) through tfjs's `evaluateDataset`, each batch checked as in {@link fit}; a source of
 * unknown size needs `steps`. Values are averaged over samples, as Keras does.
 *
 * @param model A compiled LayersModel.
 * @param source A {@link BatchSource} or a tf.data.Dataset yielding `{ xs, ys }`.
 * @param args steps (source.size), verbose (1 prints `50/50 [====…] - 1s 20ms/step - loss: … - accuracy: …`),
 *   returnDict (false). `batchSize` is an error: the source sets its own.
 * @returns `[loss, ...metrics]`, or with `returnDict` `{ loss, accuracy }`, as the tensor form.
 * @throws ConvlabError for an uncompiled model, invalid options, a source of unknown size without
 *   steps, an empty source, or a batch that does not fit the model.
 * @example
 * const [testLoss, testAcc] = await evaluate(model, testGenerator, { steps: 50 });
 * Keras counterpart: `test_loss, test_acc = model.evaluate(test_generator, steps=50)`.
 */
export async function evaluate(model: tf.LayersModel, source: BatchSource | tf.data.Dataset<tf.TensorContainer>, args?: EvaluateArgs & { returnDict?: false }): Promise<number[]>;
export async function evaluate(model: tf.LayersModel, source: BatchSource | tf.data.Dataset<tf.TensorContainer>, args: EvaluateArgs & { returnDict: true }): Promise<Record<string, number>>;
export async function evaluate(model: tf.LayersModel, xOrSource: unknown, yOrArgs?: unknown, maybeArgs?: unknown): Promise<number[] | Record<string, number>> {
  if (isBatchSource(xOrSource)) {
    if (isTensor(yOrArgs) || Array.isArray(yOrArgs) || maybeArgs !== undefined) {
      throw fail(`evaluate: invalid y. Expected no y with a batch source, which yields its own targets (ys): call evaluate(model, source, { steps }). Received: y=${describe(yOrArgs)}.`);
    }
    return evaluateSource(model, xOrSource, yOrArgs);
  }
  return evaluateTensors(model, xOrSource, yOrArgs, maybeArgs);
}

const EVALUATE_OPTIONS = ["batchSize", "verbose", "returnDict", "steps"];

function evaluateOptions(unit: string, a: Record<string, unknown>): { verbose: 0 | 1; returnDict: boolean } {
  const verbose = a.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1) throw fail(`${unit}: invalid verbose. Expected 0 or 1. Received: verbose=${show(verbose)}.`);
  return { verbose, returnDict: checkBoolean(unit, "returnDict", a.returnDict ?? false) };
}

async function evaluateTensors(model: tf.LayersModel, x: unknown, y: unknown, args: unknown): Promise<number[] | Record<string, number>> {
  const unit = "evaluate";
  const a = checkOptions(unit, args, EVALUATE_OPTIONS);
  checkModel(unit, model);
  if (a.steps !== undefined) {
    throw fail(`${unit}: invalid steps. Expected it only with a batch source (evaluate(model, source, { steps })); with tensors every sample is evaluated. Received: steps=${show(a.steps)}.`);
  }
  const batchSize = checkNumber(unit, "batchSize", a.batchSize ?? 32, { min: 1, integer: true });
  const { verbose, returnDict } = evaluateOptions(unit, a);
  const prepared = prepare(unit, model, x, y);
  const start = Date.now();
  let values: number[];
  try {
    values = await readScalars(model.evaluate(prepared.x, prepared.y, { batchSize, verbose: 0 }));
  } finally {
    prepared.temporaries.forEach((t) => t.dispose());
  }
  const samples = (Array.isArray(prepared.x) ? prepared.x[0] : prepared.x).shape[0];
  return evaluateResult(model, values, verbose, Math.ceil(samples / batchSize), start, returnDict);
}

async function evaluateSource(model: tf.LayersModel, source: SourceLike, args: unknown): Promise<number[] | Record<string, number>> {
  const unit = "evaluate";
  const a = checkOptions(unit, args, EVALUATE_OPTIONS);
  checkModel(unit, model);
  if (a.batchSize !== undefined) {
    throw fail(`${unit}: invalid batchSize. A batch source sets its own batch size (the generator's batchSize, or dataset.batch(n)); remove batchSize. Received: batchSize=${show(a.batchSize)}.`);
  }
  const { verbose, returnDict } = evaluateOptions(unit, a);
  const steps = stepsFor(unit, source, a.steps, { name: "steps", keras: "steps", what: "batches to evaluate" }, TRAIN_ROLE);
  const checked = new CheckedSource(unit, model, source, TRAIN_ROLE);
  const start = Date.now();
  let values: number[];
  try {
    await checked.peek();
    values = await readScalars(await model.evaluateDataset(checked as unknown as Parameters<tf.LayersModel["evaluateDataset"]>[0], { batches: steps }));
  } finally {
    checked.release();
  }
  return evaluateResult(model, values, verbose, steps, start, returnDict);
}
