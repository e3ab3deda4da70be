/**
 * Keras 2's `train_step` / `test_step` for models with several outputs or loss weights
 * (internal): what {@link compile} installs so that tfjs's `fit`, `fitDataset`, `evaluate` and
 * `evaluateDataset` (convlab's and tfjs's own) train and report as tf.keras 2 does.
 *
 * Why tfjs-layers 4.22 cannot be used as it is for such models:
 *
 * - `lossWeights` does not exist: `compile` ignores it (a TODO in `LayersModel.compile`), and the
 *   train function sums the per-output losses with weight 1.
 * - The test function (`makeTestFunction`, used by `evaluate`, `evaluateDataset` and the `val_`
 *   logs of `fit` / `fitDataset`) pushes the *running* total inside its loop over outputs, so it
 *   returns `[l1, l1+l2, …, l1+…+ln]` where `metricsNames` has one `loss`; then it loops over all
 *   of `metricsTensors`, whose first n entries are the per-output losses again. It returns
 *   2n + m values for 1 + n + m names, and every caller reads them by position: with two outputs
 *   `loss` is l1, `out1_loss` is l1+l2, `out2_loss` is l1, the first metric is l2, and so on,
 *   the last n - 1 values are never read (nor disposed, in `fitDataset`'s validation).
 * - The test loss leaves out regularization penalties (Keras adds them to `loss` in evaluate too).
 *
 * The steps below replace tfjs's train and test functions on such models, keeping tfjs's loops,
 * callbacks, batching and loss/metric resolution (`lossFunctions`, `metricsTensors`, which tfjs's
 * compile builds from the per-output losses and metrics as given). Both return, in the order of
 * `metricsNames` (set to Keras's names by compile):
 *
 *   [Σᵢ wᵢ·mean(lossᵢ) + Σ penalties, mean(loss₁), …, mean(lossₙ) (when n > 1), metrics…]
 *
 * as Keras 2's `LossesContainer.__call__` (per-output loss metrics updated before the weight is
 * applied; the total weighted, regularization added) and `Model.metrics` (compiled-loss metrics,
 * then compiled metrics output by output).
 *
 * The wrappers are installed once on `tf.LayersModel.prototype` and are a no-op for every model
 * without a spec; a model keeps its spec while it holds the `loss` and `metrics` objects compile
 * gave tfjs (transfer's `freezeUntil` recompiles with them and keeps the steps; compiling it with
 * tfjs's own `model.compile` and other arguments gives tfjs's steps back).
 */
import * as tf from "@tensorflow/tfjs";
import { outerModel } from "./outer_model";

type LossOrMetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** What the Keras steps need, attached to the compiled model (the Sequential, for a Sequential). @internal */
export interface TrainStepSpec {
  /** Loss weight of each output, in model order. */
  lossWeights: number[];
  /** Keras's log names, in the order the steps return values ("loss", "dense_1_loss", …). */
  names: string[];
  /** The `loss` argument handed to tfjs's compile (compared by identity). */
  loss: unknown;
  /** The `metrics` argument handed to tfjs's compile (compared by identity). */
  metrics: unknown;
}

/** The parts of tfjs's LayersModel the steps use (tfjs-layers 4.22 names). */
interface TrainingModel {
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
  loss: unknown;
  metrics: unknown;
  metricsNames: string[];
  lossFunctions: LossOrMetricFn[];
  metricsTensors: Array<[LossOrMetricFn, number]>;
  optimizer: tf.Optimizer;
  collectedTrainableWeights?: tf.LayerVariable[];
  trainableWeights: tf.LayerVariable[];
  testFunction?: (data: tf.Tensor[]) => tf.Scalar[];
  calculateLosses(): tf.Scalar[];
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

const SPEC = Symbol.for("convlab.layers.trainStepSpec");
const INSTALLED = Symbol.for("convlab.layers.trainStepInstalled");

/**
 * Attaches (or, with `undefined`, removes) the Keras steps' spec to a model just compiled through
 * tfjs, and gives it Keras's `metricsNames`. Returns false when this tfjs has no train/test
 * functions to replace (then the model trains as tfjs does).
 * @internal
 */
export function setTrainStep(model: tf.LayersModel, spec: TrainStepSpec | undefined): boolean {
  const holder = model as unknown as Record<symbol, unknown>;
  if (spec === undefined) {
    delete holder[SPEC];
    return true;
  }
  if (!install()) return false;
  holder[SPEC] = spec;
  applyNames(model as unknown as TrainingModel, spec);
  const inner = (model as unknown as { model?: unknown }).model;
  if (model instanceof tf.Sequential && inner instanceof tf.LayersModel) applyNames(inner as unknown as TrainingModel, spec);
  return true;
}

/** The spec of `model` (or of the Sequential it belongs to) while tfjs still holds compile's arguments. */
function activeSpec(model: TrainingModel): TrainStepSpec | undefined {
  const owner = outerModel(model as unknown as tf.LayersModel) as unknown as Record<symbol, unknown>;
  const spec = (owner[SPEC] ?? (model as unknown as Record<symbol, unknown>)[SPEC]) as TrainStepSpec | undefined;
  if (!spec || model.loss !== spec.loss || model.metrics !== spec.metrics) return undefined;
  return spec;
}

/** tfjs labels logs with `metricsNames` (deduplicated): give it Keras's, aligned with the steps' values. */
function applyNames(model: TrainingModel, spec: TrainStepSpec): void {
  if (Array.isArray(model.metricsNames) && model.metricsNames.length === spec.names.length) model.metricsNames = [...spec.names];
}

function install(): boolean {
  const proto = tf.LayersModel.prototype as unknown as Record<PropertyKey, unknown>;
  if (proto[INSTALLED]) return true;
  const tfjsTrain = proto.makeTrainFunction as ((this: TrainingModel) => (data: tf.Tensor[]) => tf.Scalar[]) | undefined;
  const tfjsTest = proto.makeTestFunction as ((this: TrainingModel) => void) | undefined;
  if (typeof tfjsTrain !== "function" || typeof tfjsTest !== "function") return false;
  Object.defineProperty(proto, "makeTrainFunction", {
    configurable: true,
    writable: true,
    value: function makeTrainFunction(this: TrainingModel) {
      const spec = activeSpec(this);
      if (!spec) return tfjsTrain.call(this);
      // fit reads the log labels right after this call (a tfjs recompile resets them).
      applyNames(this, spec);
      return trainFunction(this, spec);
    },
  });
  Object.defineProperty(proto, "makeTestFunction", {
    configurable: true,
    writable: true,
    value: function makeTestFunction(this: TrainingModel) {
      const spec = activeSpec(this);
      if (!spec) return tfjsTest.call(this);
      applyNames(this, spec);
      this.testFunction = testFunction(this, spec);
    },
  });
  Object.defineProperty(proto, INSTALLED, { value: true });
  return true;
}

/**
 * The loss and metric values of one batch, from the model's outputs: the total (weighted losses
 * plus regularization penalties) and, in `metricsNames` order after `loss`, the unweighted
 * per-output losses (several outputs only) and the metrics.
 */
function batchValues(model: TrainingModel, spec: TrainStepSpec, targets: tf.Tensor[], outputs: tf.Tensor[], sampleWeights: tf.Tensor[]): { total: tf.Scalar; values: tf.Scalar[] } {
  const n = outputs.length;
  const perOutput: tf.Scalar[] = [];
  let total: tf.Scalar | undefined;
  for (let i = 0; i < n; i++) {
    let loss = model.lossFunctions[i](targets[i], outputs[i]);
    // tfjs's computeWeightedLoss (class weights through tfjs's own fit).
    if (sampleWeights[i] != null) loss = tf.mul(loss, sampleWeights[i]);
    const mean = tf.mean(loss) as tf.Scalar;
    perOutput.push(mean);
    const weighted = spec.lossWeights[i] === 1 ? mean : (tf.mul(mean, spec.lossWeights[i]) as tf.Scalar);
    total = total === undefined ? weighted : tf.add<tf.Scalar>(total, weighted);
  }
  for (const penalty of model.calculateLosses()) total = tf.add<tf.Scalar>(total!, penalty);
  // tfjs puts the per-output losses first in metricsTensors when there are several outputs.
  const metrics = model.metricsTensors.slice(n > 1 ? n : 0).map(([fn, i]) => tf.mean(fn(targets[i], outputs[i])) as tf.Scalar);
  return { total: total!, values: [...(n > 1 ? perOutput : []), ...metrics] };
}

function asList(value: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(value) ? value : [value];
}

/** tfjs's train-function contract: `data` = inputs, targets, sample weights; returns the logged scalars. */
function trainFunction(model: TrainingModel, spec: TrainStepSpec): (data: tf.Tensor[]) => tf.Scalar[] {
  return (data) => {
    const nIn = model.inputs.length;
    const nOut = model.outputs.length;
    const inputs = data.slice(0, nIn);
    const targets = data.slice(nIn, nIn + nOut);
    const sampleWeights = data.slice(nIn + nOut, nIn + 2 * nOut);
    const logged: tf.Scalar[] = [];
    const cost = (): tf.Scalar => {
      const outputs = asList(model.call(inputs, { training: true }));
      const { total, values } = batchValues(model, spec, targets, outputs, sampleWeights);
      // Computed inside the differentiated function (tidied), as tfjs does: keep what is logged.
      for (const v of values) logged.push(tf.keep(v));
      return total;
    };
    const variables = (model.collectedTrainableWeights ?? model.trainableWeights).map((w) => w.read() as tf.Variable);
    const loss = model.optimizer.minimize(cost, true, variables) as tf.Scalar;
    return [loss, ...logged];
  };
}

/** tfjs's test-function contract: `data` = inputs, targets; returns the scalars in `metricsNames` order. */
function testFunction(model: TrainingModel, spec: TrainStepSpec): (data: tf.Tensor[]) => tf.Scalar[] {
  return (data) =>
    tf.tidy(() => {
      const nIn = model.inputs.length;
      const inputs = data.slice(0, nIn);
      const targets = data.slice(nIn, nIn + model.outputs.length);
      const outputs = asList(model.call(inputs, {}));
      const { total, values } = batchValues(model, spec, targets, outputs, []);
      return [total, ...values];
    });
}
