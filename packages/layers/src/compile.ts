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
import { checkOptions } from "./validate";

/** A loss or metric function as tfjs calls it: (yTrue, yPred) → loss tensor. */
export type LossOrMetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Options of {@link compile}. */
export interface CompileArgs {
  /**
   * "rmsprop" (default, as Keras), "sgd", "adam" (any case: "RMSprop",
   * "SGD", "Adam") with Keras's defaults, or an optimizer: `RMSprop({…})`,
   * `SGD({…})`, `Adam({…})`, or any tfjs optimizer.
   */
  optimizer?: string | tf.Optimizer;
  /** A Keras loss name ("categorical_crossentropy", "mse", …), a tfjs loss name, or a function. */
  loss: string | LossOrMetricFn;
  /** Keras metric names ("accuracy", "acc", "mae", …) or functions. */
  metrics?: Array<string | LossOrMetricFn>;
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

/** What compile recorded about a model: Keras names of its logs, its tfjs loss. */
interface CompileRecord {
  /** Keras names aligned with tfjs's `model.metricsNames` (["loss", "accuracy"]). */
  names: string[];
  /** The tfjs loss name, when given by name. */
  loss?: string;
}

const records = new WeakMap<tf.LayersModel, CompileRecord>();

function resolveLoss(loss: unknown): string | LossOrMetricFn {
  if (typeof loss === "function") return loss as LossOrMetricFn;
  if (typeof loss === "string") {
    if (loss in LOSSES) return LOSSES[loss];
    if (TFJS_LOSSES.includes(loss)) return loss;
    const hint = closest(loss, Object.keys(LOSSES)) ?? closest(loss, TFJS_LOSSES);
    throw fail(
      `compile: invalid loss. Expected a Keras loss name such as "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse" or a function. Received: loss=${show(loss)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
    );
  }
  throw fail(`compile: invalid loss. Expected a Keras loss name such as "categorical_crossentropy" or a function (yTrue, yPred) => tensor. Received: loss=${show(loss)}.`);
}

function resolveMetric(metric: unknown, index: number): string | LossOrMetricFn {
  if (typeof metric === "function") return metric as LossOrMetricFn;
  if (typeof metric === "string") {
    if (metric in METRICS) return METRICS[metric];
    if (TFJS_METRICS.includes(metric)) return metric;
    const hint = closest(metric, Object.keys(METRICS));
    throw fail(
      `compile: invalid metrics[${index}]. Expected a Keras metric name such as "accuracy", "mae", "mse", "precision" or a function. Received: metrics[${index}]=${show(metric)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
    );
  }
  throw fail(`compile: invalid metrics[${index}]. Expected a metric name such as "accuracy" or a function. Received: metrics[${index}]=${show(metric)}.`);
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
 * by default, as Keras), `loss` and `metrics`. History keys and callbacks
 * then use the metric names as given ("accuracy" → `accuracy`, `val_accuracy`).
 *
 * @param model A tfjs LayersModel.
 * @param args `optimizer` ("rmsprop" | "sgd" | "adam", any case, or an optimizer
 *   instance), `loss` (Keras or tfjs name, or function), `metrics` (names or functions).
 * @throws ConvlabError for an unknown loss, metric, optimizer or option, with the nearest name.
 * @example
 * compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
 * Keras counterpart: `model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])`.
 * tfjs's `model.compile` rejects these strings and builds tfjs's RMSProp
 * (epsilon inside the root); here "rmsprop" is Keras's RMSprop.
 */
export function compile(model: tf.LayersModel, args: CompileArgs): void {
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`compile: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${show(model)}.`);
  }
  const a = checkOptions("compile", args, ["optimizer", "loss", "metrics"]);
  if (a.loss === undefined) {
    throw fail(`compile: invalid loss. Expected a loss such as "categorical_crossentropy". Received: loss=undefined.`);
  }
  const loss = resolveLoss(a.loss);
  const metricsIn = a.metrics === undefined ? [] : a.metrics;
  if (!Array.isArray(metricsIn)) {
    throw fail(`compile: invalid metrics. Expected an array such as ["accuracy"]. Received: metrics=${show(metricsIn)}.`);
  }
  const metrics = metricsIn.map(resolveMetric);
  const optimizer = resolveOptimizer(a.optimizer);
  model.compile({ optimizer, loss, metrics } as tf.ModelCompileArgs);
  // An optimizer made here from a name belongs to the model, as in tfjs: model.dispose() frees it.
  if (typeof a.optimizer === "string" || a.optimizer === undefined) (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = true;
  const names = ["loss", ...metricsIn.map((m) => (typeof m === "string" ? m : (m as { name?: string }).name || "metric"))];
  records.set(model, { names, loss: typeof loss === "string" ? loss : undefined });
}

/**
 * Keras names of a model's log keys: tfjs key → Keras key, for training and
 * `val_` keys. Models compiled with {@link compile} use the names given
 * there; models compiled with tfjs's `model.compile` get "accuracy" back
 * when they asked for it (tfjs logs `acc`). Multi-output models keep tfjs's names.
 * @internal
 */
export function kerasLogNames(callbackModel: tf.LayersModel | undefined): Map<string, string> {
  const map = new Map<string, string>();
  const model = outerModel(callbackModel);
  if (!model) return map;
  const tfjsNames: string[] = (model as unknown as { metricsNames?: string[] }).metricsNames ?? [];
  if (model.outputs && model.outputs.length !== 1) return map;
  let names = records.get(model)?.names;
  if (!names || names.length !== tfjsNames.length) {
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

/** The loss of a compiled model by tfjs name ("categoricalCrossentropy"), when it has one. @internal */
export function tfjsLossName(callbackModel: tf.LayersModel): string | undefined {
  const model = outerModel(callbackModel);
  const recorded = records.get(model)?.loss;
  if (recorded) return recorded;
  const loss = (model as unknown as { loss?: unknown }).loss;
  if (typeof loss === "string") return LOSSES[loss] ?? loss;
  return undefined;
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
