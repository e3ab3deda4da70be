/**
 * `compile` with Keras's strings: losses such as "categorical_crossentropy",
 * metrics such as "accuracy", optimizers "rmsprop" / "sgd" / "adam" with
 * Keras's formulas and defaults. Also the bookkeeping that lets `fit`,
 * `evaluate` and the callbacks speak Keras's log names (`accuracy`,
 * `val_accuracy`) where tfjs writes `acc`, `val_acc`.
 */
import * as tf from "@tensorflow/tfjs";
import { closest, fail, show } from "@convlab/engine";
import { Adam, RMSprop, SGD } from "./optimizers";
import { outerModel } from "./outer_model";
import { setTrainStep } from "./train_step";
import { checkNumber, checkOptions } from "./validate";

/**
 * A loss or metric function as tfjs calls it: (yTrue, yPred) → loss tensor.
 *
 * As a loss, it gets targets of the output's shape: {@link fit} and {@link evaluate} reject other
 * targets before training. A loss that takes class ids instead (segmentation masks
 * `[N, H, W]` for an output `[N, H, W, C]`) declares it with `sparseTargets: true`: see
 * {@link SparseLossFn}.
 */
export type LossOrMetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * A loss function that takes class ids as targets, declared by the property `sparseTargets: true`
 * (Keras's "sparse" losses, for functions). {@link fit} and {@link evaluate} then accept, for the
 * output `(None, …, C)` it is compiled for, class indices of shape `(None, …)` or `(None, …, 1)`
 * as well as one-hot targets `(None, …, C)`, from tensors (also `validationData`) and from batch
 * sources alike. The function receives class ids as float32 of shape `(batch, …, 1)` (the trailing
 * 1 added where the targets lack it, as tfjs's own sparse loss gets them) or the one-hot targets as
 * given, so it must take both. With such a loss, the metric "accuracy" ("acc") compares the argmax
 * of the prediction with the class id, or with the argmax of one-hot targets.
 *
 * The losses of @convlab/segmentation (`sparseCategoricalCrossentropy`, `diceLoss`,
 * `jaccardLoss`) are marked so.
 *
 * @example
 * const maskLoss: SparseLossFn = Object.assign(
 *   (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.tidy(() => { … }),   // yTrue (batch, H, W, 1) ids or (batch, H, W, C) one-hot
 *   { sparseTargets: true as const },
 * );
 * compile(unet, { optimizer: "adam", loss: maskLoss });
 * await fit(unet, images, masks, { epochs: 10 });   // masks (N, H, W): class ids
 * Keras counterpart: none needed, as Keras's `fit` does not check target shapes against the output
 * (its losses squeeze or expand the last axis themselves); tfjs's `model.fit` does.
 */
export type SparseLossFn = LossOrMetricFn & { readonly sparseTargets: true };

/**
 * One loss: a Keras loss name ("categorical_crossentropy", "mse", …), a tfjs loss name, or a
 * function; a function marked `sparseTargets: true` ({@link SparseLossFn}) takes class ids as targets.
 */
export type LossSpec = string | LossOrMetricFn | SparseLossFn;

/** One metric: a Keras metric name ("accuracy", "acc", "mae", …) or a function. */
export type MetricSpec = string | LossOrMetricFn;

/** Options of {@link compile}. */
export interface CompileArgs {
  /**
   * "rmsprop" (default, as Keras), "sgd", "adam" (any case: "RMSprop",
   * "SGD", "Adam") with Keras's defaults, or an optimizer: `RMSprop({…})`,
   * `SGD({…})`, `Adam({…})`, or any tfjs optimizer.
   */
  optimizer?: string | tf.Optimizer;
  /**
   * One loss for every output, or, for a model with several outputs, one per output: an array in
   * output order or an object keyed by output layer name (every output needs one).
   */
  loss: LossSpec | LossSpec[] | { [outputName: string]: LossSpec };
  /**
   * Keras's `loss_weights`: the weight (finite, >= 0) of each output's loss in the total loss
   * that training minimises, as an array in output order or an object keyed by output name
   * (missing outputs weigh 1). Default 1 for every output.
   */
  lossWeights?: number[] | { [outputName: string]: number };
  /**
   * Keras metric names ("accuracy", "acc", "mae", …) or functions. With several outputs: a flat
   * array applies to every output; an array with one entry per output (a metric, an array of
   * metrics, or null) or an object keyed by output name gives each output its own.
   */
  metrics?: MetricSpec[] | Array<MetricSpec | MetricSpec[] | null> | { [outputName: string]: MetricSpec | MetricSpec[] };
}

/** Keras loss names (and tfjs's own) to tfjs's names. */
const LOSSES: Record<string, string> = {
  categorical_crossentropy: "categoricalCrossentropy",
  sparse_categorical_crossentropy: "sparseCategoricalCrossentropy",
  binary_crossentropy: "binaryCrossentropy",
  mean_squared_error: "meanSquaredError",
  mse: "meanSquaredError",
  MSE: "meanSquaredError",
  mean_absolute_error: "meanAbsoluteError",
  mae: "meanAbsoluteError",
  MAE: "meanAbsoluteError",
  mean_absolute_percentage_error: "meanAbsolutePercentageError",
  mape: "meanAbsolutePercentageError",
  MAPE: "meanAbsolutePercentageError",
  mean_squared_logarithmic_error: "meanSquaredLogarithmicError",
  msle: "meanSquaredLogarithmicError",
  MSLE: "meanSquaredLogarithmicError",
  hinge: "hinge",
  squared_hinge: "squaredHinge",
  categorical_hinge: "categoricalHinge",
  kl_divergence: "kullbackLeiblerDivergence",
  kld: "kullbackLeiblerDivergence",
  KLD: "kullbackLeiblerDivergence",
  kullback_leibler_divergence: "kullbackLeiblerDivergence",
  poisson: "poisson",
  log_cosh: "logcosh",
  logcosh: "logcosh",
  cosine_similarity: "cosineProximity",
};
const TFJS_LOSSES = [...new Set(Object.values(LOSSES))];

/** Keras metric names to what tfjs's compile accepts. */
const METRICS: Record<string, string | LossOrMetricFn> = {
  accuracy: "accuracy",
  acc: "acc",
  categorical_accuracy: "categoricalAccuracy",
  sparse_categorical_accuracy: tf.metrics.sparseCategoricalAccuracy,
  binary_accuracy: "binaryAccuracy",
  categorical_crossentropy: "categoricalCrossentropy",
  sparse_categorical_crossentropy: "sparseCategoricalCrossentropy",
  binary_crossentropy: tf.metrics.binaryCrossentropy,
  mean_squared_error: "mse",
  mse: "mse",
  MSE: "MSE",
  mean_absolute_error: "mae",
  mae: "mae",
  MAE: "MAE",
  mean_absolute_percentage_error: "mape",
  mape: "mape",
  MAPE: "MAPE",
  precision: "precision",
  recall: tf.metrics.recall,
};
const TFJS_METRICS = ["binaryAccuracy", "categoricalAccuracy", "categoricalCrossentropy", "sparseCategoricalCrossentropy", "cosine"];

const OPTIMIZERS = ["rmsprop", "sgd", "adam"] as const;

/** What compile recorded about a model: Keras names of its logs, its tfjs losses. */
interface CompileRecord {
  /** Keras names aligned with tfjs's `model.metricsNames` (["loss", "accuracy"]). */
  names: string[];
  /** The tfjs loss name of each output, when given by name. */
  losses: Array<string | undefined>;
}

const records = new WeakMap<tf.LayersModel, CompileRecord>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** A label for messages: `loss`, `loss[1]`, `loss.dense_1`. */
function at(name: string, key: number | string | undefined): string {
  if (key === undefined) return name;
  return typeof key === "number" ? `${name}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${name}.${key}` : `${name}[${JSON.stringify(key)}]`;
}

/** The model's outputs as messages name them: `2 outputs ("dense_1", "dense_2")`. */
function outputsText(outputNames: string[]): string {
  return `${outputNames.length} output${outputNames.length === 1 ? "" : "s"} (${outputNames.map((n) => JSON.stringify(n)).join(", ")})`;
}

/** Checks the keys of a per-output object against the output names, suggesting the nearest. */
function checkOutputKeys(what: string, value: Record<string, unknown>, outputNames: string[]): void {
  for (const key of Object.keys(value)) {
    if (!outputNames.includes(key)) {
      const hint = closest(key, outputNames);
      throw fail(
        `compile: invalid ${what}. Expected keys among the names of the model's ${outputsText(outputNames)}. Received: ${what}=${show(value)} with key ${JSON.stringify(key)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
      );
    }
  }
}

/** Whether a loss is a function that declares class-id targets (`sparseTargets: true`). @internal */
export function takesClassIds(loss: unknown): loss is SparseLossFn {
  return typeof loss === "function" && (loss as { sparseTargets?: unknown }).sparseTargets === true;
}

function resolveLoss(loss: unknown, label = "loss"): string | LossOrMetricFn {
  if (typeof loss === "function") {
    const sparse = (loss as { sparseTargets?: unknown }).sparseTargets;
    if (sparse !== undefined && typeof sparse !== "boolean") {
      throw fail(
        `compile: invalid ${label}. Expected its sparseTargets property to be true (the function takes class ids) or false. Received: ${label}.sparseTargets=${show(sparse)}.`,
      );
    }
    return loss as LossOrMetricFn;
  }
  if (typeof loss === "string") {
    if (loss in LOSSES) return LOSSES[loss];
    if (TFJS_LOSSES.includes(loss)) return loss;
    const hint = closest(loss, Object.keys(LOSSES)) ?? closest(loss, TFJS_LOSSES);
    throw fail(
      `compile: invalid ${label}. Expected a Keras loss name such as "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse" or a function. Received: ${label}=${show(loss)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
    );
  }
  throw fail(`compile: invalid ${label}. Expected a Keras loss name such as "categorical_crossentropy" or a function (yTrue, yPred) => tensor. Received: ${label}=${show(loss)}.`);
}

/**
 * One loss per output, as Keras's LossesContainer conforms `loss` to the outputs: one loss for
 * all, an array in output order, or an object keyed by output name.
 */
function resolveLosses(loss: unknown, outputNames: string[]): Array<string | LossOrMetricFn> {
  const n = outputNames.length;
  if (Array.isArray(loss)) {
    if (loss.length !== n) {
      throw fail(
        `compile: invalid loss. Expected one loss for every output, or an array of ${n} (one per output), as the model has ${outputsText(outputNames)}. Received: loss=${show(loss)} (${loss.length} entr${loss.length === 1 ? "y" : "ies"}).`,
      );
    }
    return loss.map((l, i) => resolveLoss(l, at("loss", i)));
  }
  if (isPlainObject(loss)) {
    checkOutputKeys("loss", loss, outputNames);
    const missing = outputNames.filter((name) => loss[name] === undefined || loss[name] === null);
    if (missing.length > 0) {
      throw fail(
        `compile: invalid loss. Expected a loss for each of the model's ${outputsText(outputNames)}. Received: loss=${show(loss)}, without ${missing.map((m) => JSON.stringify(m)).join(", ")}.`,
      );
    }
    return outputNames.map((name) => resolveLoss(loss[name], at("loss", name)));
  }
  const one = resolveLoss(loss);
  return outputNames.map(() => one);
}

/** Keras's `loss_weights`: an array in output order or an object by output name (missing: 1). Default 1 each. */
function resolveLossWeights(weights: unknown, outputNames: string[]): number[] {
  const n = outputNames.length;
  if (weights === undefined || weights === null) return outputNames.map(() => 1);
  const check = (w: unknown, label: string): number => checkNumber("compile", label, w, { min: 0 });
  if (Array.isArray(weights)) {
    if (weights.length !== n) {
      throw fail(
        `compile: invalid lossWeights. Expected ${n} number${n === 1 ? "" : "s"}, one per output, as the model has ${outputsText(outputNames)}, or an object keyed by output name. Received: lossWeights=${show(weights)} (${weights.length} entr${weights.length === 1 ? "y" : "ies"}).`,
      );
    }
    return weights.map((w, i) => check(w, at("lossWeights", i)));
  }
  if (isPlainObject(weights)) {
    checkOutputKeys("lossWeights", weights, outputNames);
    return outputNames.map((name) => (weights[name] === undefined ? 1 : check(weights[name], at("lossWeights", name))));
  }
  throw fail(
    `compile: invalid lossWeights. Expected an array of ${n} number${n === 1 ? "" : "s"} (one per output: ${outputNames.map((o) => JSON.stringify(o)).join(", ")}) or an object keyed by output name. Received: lossWeights=${show(weights)}.`,
  );
}

function resolveMetric(metric: unknown, label: string): string | LossOrMetricFn {
  if (typeof metric === "function") return metric as LossOrMetricFn;
  if (typeof metric === "string") {
    if (metric in METRICS) return METRICS[metric];
    if (TFJS_METRICS.includes(metric)) return metric;
    const hint = closest(metric, Object.keys(METRICS));
    throw fail(
      `compile: invalid ${label}. Expected a Keras metric name such as "accuracy", "mae", "mse", "precision" or a function. Received: ${label}=${show(metric)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
    );
  }
  throw fail(`compile: invalid ${label}. Expected a metric name such as "accuracy" or a function. Received: ${label}=${show(metric)}.`);
}

/** The metrics of one output as given (`"mae"`, `["mae", "acc"]`, null), each checked. */
function outputMetrics(value: unknown, label: string): Array<{ given: unknown; label: string }> {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map((m, j) => ({ given: m, label: at(label, j) }));
  return [{ given: value, label }];
}

/**
 * The metrics of every output, as Keras's MetricsContainer conforms `metrics` to the outputs: a
 * flat array applies to every output (`_should_broadcast`); an array holding an array is one
 * entry per output; an object is keyed by output name (missing outputs: none).
 */
function collectMetrics(metrics: unknown, outputNames: string[]): Array<Array<{ given: unknown; label: string }>> {
  const n = outputNames.length;
  if (metrics === undefined || metrics === null) return outputNames.map(() => []);
  if (Array.isArray(metrics)) {
    if (!metrics.some((m) => Array.isArray(m))) {
      const flat = metrics.map((m, i) => ({ given: m, label: at("metrics", i) }));
      return outputNames.map(() => flat);
    }
    if (metrics.length !== n) {
      throw fail(
        `compile: invalid metrics. Expected a flat array of metrics for every output, or one entry per output (a metric, an array of metrics or null), as the model has ${outputsText(outputNames)}. Received: metrics=${show(metrics)} (${metrics.length} entr${metrics.length === 1 ? "y" : "ies"}).`,
      );
    }
    return metrics.map((m, i) => outputMetrics(m, at("metrics", i)));
  }
  if (isPlainObject(metrics)) {
    checkOutputKeys("metrics", metrics, outputNames);
    return outputNames.map((name) => outputMetrics(metrics[name], at("metrics", name)));
  }
  throw fail(`compile: invalid metrics. Expected an array such as ["accuracy"]. Received: metrics=${show(metrics)}.`);
}

/**
 * The `metrics` argument for tfjs's compile of a model with several outputs, in a form tfjs's
 * `save(…, { includeOptimizer: true })` can serialise (it fails on an object holding arrays, even
 * empty ones): one array when every output has the same metrics (tfjs applies it to each), else an
 * object by output name with one metric per key, an array only where an output has several.
 */
function tfjsPerOutputMetrics(outputNames: string[], resolved: Array<Array<string | LossOrMetricFn>>): Array<string | LossOrMetricFn> | Record<string, unknown> {
  const same = resolved.every((list) => list.length === resolved[0].length && list.every((m, j) => m === resolved[0][j]));
  if (same) return [...resolved[0]];
  const byName: Record<string, unknown> = {};
  outputNames.forEach((name, i) => {
    if (resolved[i].length === 1) byName[name] = resolved[i][0];
    else if (resolved[i].length > 1) byName[name] = [...resolved[i]];
  });
  return byName;
}

/** Keras's name of a metric as given: the string itself, a function's `name`. */
function metricName(given: unknown): string {
  return typeof given === "string" ? given : (given as { name?: string }).name || "metric";
}

function resolveOptimizer(optimizer: unknown): tf.Optimizer {
  if (optimizer === undefined) return RMSprop();
  if (optimizer instanceof tf.Optimizer) return optimizer;
  if (typeof optimizer === "string") {
    const name = optimizer.toLowerCase();
    if (name === "rmsprop") return RMSprop();
    if (name === "sgd") return SGD();
    if (name === "adam") return Adam();
    const hint = closest(name, OPTIMIZERS);
    throw fail(
      `compile: invalid optimizer. Expected one of "rmsprop", "sgd", "adam" or an optimizer such as SGD({ learningRate: 0.01 }). Received: optimizer=${show(optimizer)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
    );
  }
  throw fail(`compile: invalid optimizer. Expected "rmsprop", "sgd", "adam" or an optimizer such as RMSprop({ learningRate: 0.001 }). Received: optimizer=${show(optimizer)}.`);
}

/**
 * Configures `model` for training with Keras's names: `optimizer` ("rmsprop"
 * by default, as Keras), `loss`, `lossWeights` and `metrics`. History keys and
 * callbacks then use the metric names as given ("accuracy" → `accuracy`, `val_accuracy`).
 *
 * A model with several outputs (`tf.model({ inputs, outputs: [classOutput, locOutput] })`)
 * trains and reports as Keras 2's functional models: training minimises
 * Σ lossWeights[i]·loss[i] (plus regularization penalties), and the logs, History,
 * progress bar and {@link evaluate} carry, in this order, `loss` (the weighted total),
 * `<output>_loss` per output (unweighted), then `<output>_<metric>` output by output
 * (e.g. `dense_1_accuracy`), and the same with `val_`.
 *
 * @param model A tfjs LayersModel.
 * @param args `optimizer` ("rmsprop" | "sgd" | "adam", any case, or an optimizer
 *   instance); `loss` (Keras or tfjs name, or function; a function marked `sparseTargets: true`,
 *   a {@link SparseLossFn}, takes class ids; with several outputs also an array
 *   in output order or an object by output name); `lossWeights` (array or object by output
 *   name, finite numbers >= 0, default 1 each); `metrics` (names or functions; with several
 *   outputs a flat array for all outputs, one entry per output, or an object by output name).
 * @throws ConvlabError for an unknown loss, metric, optimizer, output name or option (with the
 *   nearest name), a per-output array of the wrong length (naming the outputs), a negative or
 *   non-finite weight, a loss function whose `sparseTargets` is not a boolean, or two metrics of
 *   the same name on a model with several outputs.
 * @example
 * compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
 * compile(detector, { loss: ["sparse_categorical_crossentropy", "mse"], lossWeights: [0.8, 0.2], optimizer, metrics: ["accuracy"] });
 * Keras counterpart: `model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])`,
 * `model.compile(loss=[...], loss_weights=[0.8, 0.2], optimizer=optimizer, metrics=['accuracy'])`.
 * tfjs's `model.compile` rejects these strings, builds tfjs's RMSProp (epsilon inside the
 * root), ignores loss weights and mislabels `evaluate` and `val_` values of models with several
 * outputs; here "rmsprop" is Keras's RMSprop and those models train and report as Keras's.
 */
export function compile(model: tf.LayersModel, args: CompileArgs): void {
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`compile: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${show(model)}.`);
  }
  const a = checkOptions("compile", args, ["optimizer", "loss", "lossWeights", "metrics"]);
  if (a.loss === undefined) {
    throw fail(`compile: invalid loss. Expected a loss such as "categorical_crossentropy". Received: loss=undefined.`);
  }
  if (model.outputs.length === 0) {
    throw fail(`compile: invalid model. Expected a model with layers. Received: model "${model.name}" without outputs; add layers first.`);
  }
  // Keras's output names are the output layers' names (tfjs's outputNames, which a Sequential
  // only sets when tfjs builds it).
  const outputNames = model.outputs.map((o, i) => o.sourceLayer?.name ?? model.outputNames[i]);
  const losses = resolveLosses(a.loss, outputNames);
  const lossWeights = resolveLossWeights(a.lossWeights, outputNames);
  const perOutput = collectMetrics(a.metrics, outputNames);
  const idAccuracies = new Map<string, LossOrMetricFn>();
  const resolved = perOutput.map((list, i) => {
    const metrics = list.map((m) => resolveMetric(m.given, m.label));
    const shape = model.outputs[i].shape;
    // tfjs picks the function of "accuracy" from the loss: for any function loss, categorical
    // accuracy, which reads class ids (…, 1) as one-hot of one class (their argmax is always 0).
    // For a loss that takes class ids, the targets' shape decides at each step (as Keras 3's
    // compile does); a (None, …, 1) output keeps tfjs's binary accuracy.
    if (!takesClassIds(losses[i]) || shape[shape.length - 1] === 1) return metrics;
    return metrics.map((m) => {
      if (m !== "accuracy" && m !== "acc") return m;
      if (!idAccuracies.has(m)) idAccuracies.set(m, classIdAccuracy(m));
      return idAccuracies.get(m)!;
    });
  });
  const optimizer = resolveOptimizer(a.optimizer);
  const several = outputNames.length > 1;
  const keyed = several || lossWeights.some((w) => w !== 1);
  let names: string[];
  if (several) {
    names = ["loss", ...outputNames.map((o) => `${o}_loss`), ...perOutput.flatMap((list, i) => list.map((m) => `${outputNames[i]}_${metricName(m.given)}`))];
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) {
      throw fail(`compile: invalid metrics. Expected metrics with distinct names on each output, as Keras. Received: metrics=${show(a.metrics)}, which logs ${JSON.stringify(twice)} twice.`);
    }
  } else {
    names = ["loss", ...perOutput[0].map((m) => metricName(m.given))];
  }
  // tfjs's compile resolves "accuracy" per output from the loss it is given by name: hand it the
  // losses unwrapped (the weights are applied by the train step). With the Keras train step the
  // loss and metrics are new objects, by which the step recognises this compile.
  const tfjsLoss = keyed ? [...losses] : losses[0];
  const tfjsMetrics = several ? tfjsPerOutputMetrics(outputNames, resolved) : [...resolved[0]];
  model.compile({ optimizer, loss: tfjsLoss, metrics: tfjsMetrics } as tf.ModelCompileArgs);
  // An optimizer made here from a name belongs to the model, as in tfjs: model.dispose() frees it.
  if (typeof a.optimizer === "string" || a.optimizer === undefined) (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = true;
  const spec = keyed ? { lossWeights, names, loss: tfjsLoss, metrics: tfjsMetrics } : undefined;
  if (!setTrainStep(model, spec)) {
    throw fail(
      `compile: invalid model. Expected a tfjs-layers 4.22 LayersModel, whose train and test functions convlab replaces for several outputs or loss weights. Received: model "${model.name}" without makeTrainFunction/makeTestFunction.`,
    );
  }
  records.set(model, { names, losses: losses.map((l) => (typeof l === "string" ? l : undefined)) });
  acceptClassIds(model);
}

/**
 * "accuracy" for an output whose loss takes class ids: categorical accuracy for one-hot targets
 * (the prediction's last axis), sparse categorical accuracy for class ids (…) or (…, 1).
 */
function classIdAccuracy(name: string): LossOrMetricFn {
  const accuracy = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor => {
    const oneHot = yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === yPred.shape[yPred.rank - 1];
    return oneHot ? tf.metrics.categoricalAccuracy(yTrue, yPred) : tf.metrics.sparseCategoricalAccuracy(yTrue, yPred);
  };
  Object.defineProperty(accuracy, "name", { value: name });
  return accuracy;
}

/**
 * Lets tfjs's own target check take class ids for the outputs whose loss function declares them
 * (`sparseTargets: true`). Idempotent; called by {@link compile} and before fit/evaluate hand
 * tensors to tfjs (for models compiled with tfjs's own `model.compile`). @internal
 *
 * tfjs's `fit` / `evaluate` (`standardizeUserData`) check targets against `feedOutputShapes`, and
 * take (…, 1) instead of (…, C) only for tfjs's own sparse loss (by identity); `fitDataset` /
 * `evaluateDataset` check nothing. Here the last dimension of such an output's `feedOutputShapes`
 * entry (read only by those checks) becomes unknown, so tfjs takes ids (…, 1) and one-hot (…, C)
 * alike and hands them to the loss as given, from tensors as from batch sources; convlab's own
 * checks keep to those two shapes. This is preferred to converting ids to one-hot in `fit`: the
 * loss receives the ids it declared it takes, so an ignored class inside [0, C) (which a one-hot
 * row cannot tell from that class) and ids outside [0, C) keep their meaning, a loss that reads
 * only ids works, and no (N, …, C) copy of the targets is made.
 */
export function acceptClassIds(model: tf.LayersModel): void {
  // A Sequential trains through its inner functional model, which holds tfjs's compile state.
  const training = (model instanceof tf.Sequential ? (model as unknown as { model?: unknown }).model : model) as
    | { feedOutputShapes?: Array<Array<number | null>>; feedLossFns?: unknown[] }
    | undefined;
  const shapes = training?.feedOutputShapes;
  const fns = training?.feedLossFns;
  if (!Array.isArray(shapes) || !Array.isArray(fns)) return;
  shapes.forEach((shape, i) => {
    // A new array: tfjs shares the shape with internalOutputShapes.
    if (takesClassIds(fns[i]) && shape.length > 1 && shape[shape.length - 1] !== null) shapes[i] = [...shape.slice(0, -1), null];
  });
}

/**
 * Keras names of a model's log keys: tfjs key → Keras key, for training and
 * `val_` keys. Models compiled with {@link compile} use the names given
 * there; models compiled with tfjs's `model.compile` get "accuracy" back
 * when they asked for it (tfjs logs `acc`); those with several outputs keep tfjs's names.
 * @internal
 */
export function kerasLogNames(callbackModel: tf.LayersModel | undefined): Map<string, string> {
  const map = new Map<string, string>();
  const model = outerModel(callbackModel);
  if (!model) return map;
  const tfjsNames: string[] = (model as unknown as { metricsNames?: string[] }).metricsNames ?? [];
  let names = records.get(model)?.names;
  if (!names || names.length !== tfjsNames.length) {
    if (model.outputs && model.outputs.length !== 1) return map;
    const given = (model as unknown as { metrics?: unknown }).metrics ?? (callbackModel as unknown as { metrics?: unknown }).metrics;
    const list = Array.isArray(given) ? given : given === undefined || given === null ? [] : [given];
    names = ["loss", ...list.map((m) => (typeof m === "string" ? m : (m as { name?: string })?.name ?? ""))];
    if (names.length !== tfjsNames.length) return map;
  }
  tfjsNames.forEach((tfjsName, i) => {
    const keras = names![i] || tfjsName;
    map.set(tfjsName, keras);
    map.set(`val_${tfjsName}`, `val_${keras}`);
  });
  return map;
}

/**
 * The loss of each output of a compiled model by tfjs name ("categoricalCrossentropy"), or
 * undefined where it is a function. @internal
 */
export function tfjsLossNames(callbackModel: tf.LayersModel): Array<string | undefined> {
  const model = outerModel(callbackModel);
  const count = model.outputs.length;
  const recorded = records.get(model)?.losses;
  if (recorded && recorded.length === count) return recorded;
  const loss = (model as unknown as { loss?: unknown }).loss;
  const byName = (l: unknown): string | undefined => (typeof l === "string" ? (LOSSES[l] ?? l) : undefined);
  if (Array.isArray(loss)) return model.outputs.map((_, i) => byName(loss[i]));
  if (isPlainObject(loss)) return model.outputNames.map((name) => byName(loss[name]));
  return model.outputs.map(() => byName(loss));
}

/**
 * The loss function of each output of a compiled model, or undefined where the loss was given by
 * name (read from the model, so also after tfjs's own `model.compile`). @internal
 */
export function lossFunctions(callbackModel: tf.LayersModel): Array<LossOrMetricFn | undefined> {
  const model = outerModel(callbackModel);
  const loss = (model as unknown as { loss?: unknown }).loss;
  const fn = (l: unknown): LossOrMetricFn | undefined => (typeof l === "function" ? (l as LossOrMetricFn) : undefined);
  if (Array.isArray(loss)) return model.outputs.map((_, i) => fn(loss[i]));
  if (isPlainObject(loss)) return model.outputNames.map((name) => fn(loss[name]));
  return model.outputs.map(() => fn(loss));
}

/** Keras's name of a tfjs loss name ("categoricalCrossentropy" → "categorical_crossentropy"). @internal */
export function kerasLossName(tfjsName: string): string {
  return Object.keys(LOSSES).find((k) => LOSSES[k] === tfjsName && k.includes("_")) ?? tfjsName;
}

/**
 * Logs with Keras's key names and numeric values, ordered as Keras prints
 * them: training keys, then `val_` keys, then others (e.g. `lr`). Values that
 * are not numbers are skipped.
 * @internal
 */
export function toKerasLogs(model: tf.LayersModel | undefined, logs: Record<string, unknown> | undefined): Array<[string, number]> {
  if (!logs) return [];
  const names = kerasLogNames(model);
  const trainingOrder = [...new Set([...names.values()].filter((k) => !k.startsWith("val_")))];
  const rank = (key: string, insertion: number): number => {
    const plain = key.startsWith("val_") ? key.slice(4) : key;
    const at = trainingOrder.indexOf(plain);
    if (at < 0) return (key.startsWith("val_") ? 2e6 : 1e6) + insertion;
    return (key.startsWith("val_") ? 1e3 : 0) + at;
  };
  return Object.entries(logs)
    .filter(([k, v]) => typeof v === "number" && k !== "batch" && k !== "size")
    .map(([k, v], i) => ({ key: names.get(k) ?? k, value: v as number, i }))
    .sort((a, b) => rank(a.key, a.i) - rank(b.key, b.i))
    .map(({ key, value }) => [key, value] as [string, number]);
}

/** Finds a Keras-named value (e.g. "val_accuracy") in tfjs logs. @internal */
export function logValue(model: tf.LayersModel | undefined, logs: Record<string, unknown> | undefined, kerasKey: string): number | undefined {
  for (const [k, v] of toKerasLogs(model, logs)) if (k === kerasKey) return v;
  return undefined;
}
