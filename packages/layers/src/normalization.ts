/**
 * Normalization: the Keras preprocessing layer that standardises features with a mean and
 * variance learned by `adapt()` (or given), which TensorFlow.js lacks.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { checkBoolean, checkNumber, checkOptions } from "./validate";
import { LayerArgs } from "./spatial_dropout_2d";
import type { NestedNumbers } from "./teaching";

/** A mean or variance given directly: a number, nested arrays or a tensor. */
export type NormalizationValue = number | NestedNumbers | tf.Tensor;

/** Options of {@link Normalization}. */
export interface NormalizationArgs extends LayerArgs {
  /**
   * The axis or axes that keep a separate mean and variance per index; the others are
   * averaged over. Negative values count from the end; the batch axis is 0. `null` (or `[]`)
   * gives one scalar mean and variance. Default `-1` (per feature or per channel).
   */
  axis?: number | number[] | null;
  /** Mean(s), broadcast to the kept axes (aligned from the right). Given with `variance`, or neither. */
  mean?: NormalizationValue | null;
  /** Variance(s), same shape as `mean`, ≥ 0. */
  variance?: NormalizationValue | null;
  /** Apply the inverse: `mean + x · max(sqrt(variance), ε)` (de-normalise). Default false. */
  invert?: boolean;
}

/** Options of {@link Normalization.adapt}. */
export interface AdaptArgs {
  /** With a tensor: read it in slices of this many samples (axis 0) to bound memory. Default: all at once. */
  batchSize?: number;
}

/** What {@link Normalization.adapt} reads: one tensor, or a dataset of batches (`x`, `[x, y]` or `{xs, ys}` elements). */
export type AdaptData = tf.Tensor | tf.data.Dataset<tf.TensorContainer>;

const UNIT = "Normalization";
/** Keras's `backend.epsilon()`: the floor of the standard deviation. */
const EPSILON = 1e-7;
/** Unbatched dataset elements are grouped this many at a time (Keras batches them by 128). */
const UNBATCHED_GROUP = 128;
const NOT_ADAPTED = `${UNIT}: the layer has no mean and variance yet, so it uses mean 0 and variance 1 (as Keras). Call \`await layer.adapt(data)\` before using it, or pass \`mean\` and \`variance\` when creating it.`;

/**
 * Shifts and scales inputs to mean 0 and standard deviation 1 per feature:
 * `y = (x − mean) / max(sqrt(variance), ε)` with `ε = 1e-7` (Keras's `epsilon()`), or its
 * inverse `x = mean + y · max(sqrt(variance), ε)` with `invert: true`.
 *
 * The mean and variance come from {@link Normalization.adapt} (then they are the
 * non-trainable weights `mean`, `variance` and `count`, saved and loaded with the model) or
 * from the `mean`/`variance` options (then they live in the config).
 *
 * Input and output: any rank ≥ 1 with the kept axes' sizes fixed at build; same shape,
 * float32.
 *
 * @throws ConvlabError on an invalid `axis`, `mean` without `variance` (or the reverse),
 *   shapes that do not match the kept axes, a negative variance; on inputs whose kept axes
 *   differ from the build. Called before `adapt()` (and without `mean`/`variance`), it warns
 *   once and uses mean 0 and variance 1, as Keras.
 *
 * ```ts
 * const norm = normalization();             // axis -1: one mean/variance per channel
 * await norm.adapt(trainImages);            // [60000, 28, 28, 1] -> mean, variance of shape [1]
 * const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [28, 28, 1] }), norm, …] });
 * ```
 *
 * Keras equivalent: `keras.layers.Normalization(axis=-1, mean=None, variance=None, invert=False)`.
 * Differences: `adapt` is async (`await`) and takes `{ batchSize }`; calling the layer before
 * `adapt` uses mean 0 and variance 1 as Keras does, with a warning; `count` holds the number of values
 * averaged per feature (Keras 3 leaves it 0).
 */
export class Normalization extends tf.layers.Layer {
  /** The class name in saved models, as Keras. */
  static className = "Normalization";
  /** The kept axes as given (negative values allowed); `[]` for a scalar mean and variance. */
  readonly axis: number[];
  /** Whether the layer de-normalises. */
  readonly invert: boolean;
  /** Mean and variance given at construction, or null when they come from `adapt`. */
  private readonly given: { mean: Float32Array; variance: Float32Array; shape: number[]; meanConfig: tf.serialization.ConfigDictValue; varianceConfig: tf.serialization.ConfigDictValue } | null;
  private geometry: { ndim: number; inputShape: tf.Shape; keep: number[]; reduce: number[]; broadcast: number[]; meanShape: number[] } | null = null;
  private givenShape: number[] | null = null;
  private adaptMean: tf.LayerVariable | null = null;
  private adaptVariance: tf.LayerVariable | null = null;
  private adaptCount: tf.LayerVariable | null = null;
  /** Set once a positive `count` was seen, so that `call` reads it only until then. */
  private adapted = false;
  /** The not-adapted warning was printed. */
  private warned = false;
  /** The statistics' data ids when last found not adapted: unchanged ids need no new read. */
  private checkedIds: unknown[] = [];
  /** True while `adapt` builds the layer, outside the name scope `apply` opens. */
  private buildingInAdapt = false;

  constructor(args: NormalizationArgs = {}) {
    const { axis, mean, variance, invert, ...layerArgs } = args ?? {};
    const axes = axis === null ? [] : typeof axis === "number" ? [axis] : axis === undefined ? [-1] : axis;
    if (!Array.isArray(axes) || !axes.every((a) => Number.isInteger(a))) {
      throw fail(`${UNIT}: invalid axis. Expected an integer, an array of integers or null. Received: axis=${show(axis)}.`);
    }
    if (invert !== undefined) checkBoolean(UNIT, "invert", invert);
    const given = readGiven(mean, variance, axes.length);
    super(layerArgs);
    this.axis = [...new Set(axes)];
    this.invert = invert ?? false;
    this.given = given;
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const ndim = shape.length;
    const bad = this.axis.find((a) => a < -ndim || a >= ndim);
    if (bad !== undefined) {
      throw fail(`${UNIT}: invalid axis. Expected axes in [${-ndim}, ${ndim}) for inputs of rank ${ndim} (shape ${show(shape)}). Received: axis=${show(this.axis)}.`);
    }
    const keep = [...new Set(this.axis.map((a) => (a < 0 ? a + ndim : a)))].sort((a, b) => a - b);
    const unknown = keep.find((d) => shape[d] == null);
    if (unknown !== undefined) {
      throw fail(`${UNIT}: invalid input shape. Expected a known size on every kept axis ${show(keep)}. Received: input shape ${show(shape)} (axis ${unknown} unknown).`);
    }
    const reduce = [...Array(ndim).keys()].filter((d) => !keep.includes(d));
    const broadcast = shape.map((n, d) => (keep.includes(d) ? (n as number) : 1));
    const meanShape = keep.map((d) => shape[d] as number);
    this.geometry = { ndim, inputShape: shape.slice(), keep, reduce, broadcast, meanShape };

    if (this.given) {
      // Align the given shape with the kept axes from the right, as Keras; sizes 1 broadcast.
      const expanded = new Array<number>(ndim).fill(1);
      const g = this.given.shape;
      for (let i = 1; i <= g.length; i++) {
        const d = keep[keep.length - i];
        if (g[g.length - i] !== 1 && g[g.length - i] !== shape[d]) {
          throw fail(`${UNIT}: invalid mean. Expected a shape that broadcasts to the kept axes' sizes ${show(meanShape)}. Received: mean.shape=${show(g)}.`);
        }
        expanded[d] = g[g.length - i];
      }
      this.givenShape = expanded;
    } else {
      // Weight names as a model's build gives them ("<layer>/mean"), so that saved weights map by name.
      const scoped = (name: string) => (this.buildingInAdapt ? `${this.name}/${name}` : name);
      this.adaptMean = this.addWeight(scoped("mean"), meanShape, "float32", tf.initializers.zeros(), undefined, false);
      this.adaptVariance = this.addWeight(scoped("variance"), meanShape, "float32", tf.initializers.ones(), undefined, false);
      this.adaptCount = this.addWeight(scoped("count"), [], "int32", tf.initializers.zeros(), undefined, false);
    }
    this.built = true;
  }

  /**
   * Computes the mean and variance of `data` per index of the kept axes and stores them in
   * the layer's weights (replacing earlier ones). Builds the layer from the data's shape when
   * it is not built yet.
   *
   * A dataset is read batch by batch: each batch's mean and sum of squared deviations are
   * computed in float64 (two passes) and merged with the running totals by Chan's formula
   * (`M2 = M2a + M2b + δ²·na·nb / n`), which stays accurate where `E[x²] − E[x]²` would not.
   * Dataset elements are batches (`x`, `[x, y]` or `{xs, ys}`); elements one rank short of
   * the layer's input (or rank 1 on an unbuilt layer, as Keras) are taken as single samples.
   *
   * @param data a tensor `[samples, …]` or a `tf.data.Dataset`.
   * @param args `batchSize`: read a tensor in slices of this many samples (default: all at once).
   * @throws ConvlabError on a layer given `mean`/`variance`, empty data, data whose kept axes
   *   differ from the layer's, an unknown element form, a non-positive `batchSize`.
   *
   * Keras equivalent: `layer.adapt(data)` (synchronous there).
   */
  async adapt(data: AdaptData, args: AdaptArgs = {}): Promise<void> {
    checkOptions(`${UNIT}.adapt`, args, ["batchSize"]);
    const { batchSize } = args;
    if (batchSize !== undefined) checkNumber(`${UNIT}.adapt`, "batchSize", batchSize, { min: 1, integer: true });
    if (this.given) {
      throw fail(`${UNIT}.adapt: invalid call. Expected a layer created without \`mean\` and \`variance\`. Received: a layer given mean.shape=${show(this.given.shape)}; create it without them to adapt.`);
    }
    const totals = new Totals();
    if (isTensor(data)) {
      if (data.rank === 0) throw fail(`${UNIT}.adapt: invalid data. Expected a tensor [samples, …] of rank ≥ 1. Received: data=${show(data)}.`);
      this.prepare(data.shape, "data");
      const n = data.shape[0];
      const step = batchSize ?? Math.max(n, 1);
      if (step >= n) {
        await totals.add(data, this.geometry!);
      } else {
        for (let start = 0; start < n; start += step) {
          const batch = tf.slice(data, start, Math.min(step, n - start));
          await totals.add(batch, this.geometry!);
          batch.dispose();
        }
      }
    } else if (data != null && typeof (data as tf.data.Dataset<tf.TensorContainer>).iterator === "function") {
      const iterator = await (data as tf.data.Dataset<tf.TensorContainer>).iterator();
      let pending: tf.Tensor[] = [];
      let unbatched: boolean | undefined;
      const flush = async () => {
        if (pending.length === 0) return;
        const stacked = tf.stack(pending);
        tf.dispose(pending);
        pending = [];
        await totals.add(stacked, this.geometry!);
        stacked.dispose();
      };
      for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
        const element = result.value;
        const x = elementInput(element);
        if (unbatched === undefined) unbatched = this.geometry ? x.rank === this.geometry.ndim - 1 : x.rank === 1;
        try {
          this.prepare(unbatched ? [null, ...x.shape] : x.shape, "batch");
        } catch (error) {
          tf.dispose(element);
          tf.dispose(pending);
          throw error;
        }
        if (unbatched) {
          pending.push(tf.keep(x.clone()));
          tf.dispose(element);
          if (pending.length === UNBATCHED_GROUP) await flush();
        } else {
          await totals.add(x, this.geometry!);
          tf.dispose(element);
        }
      }
      await flush();
    } else {
      throw fail(`${UNIT}.adapt: invalid data. Expected a tf.Tensor or a tf.data.Dataset. Received: data=${show(data)}.`);
    }
    if (totals.count === 0) {
      throw fail(`${UNIT}.adapt: invalid data. Expected at least one value per feature. Received: no samples.`);
    }
    const shape = this.geometry!.meanShape;
    const mean = tf.tensor(Float32Array.from(totals.mean), shape, "float32");
    const variance = tf.tensor(Float32Array.from(totals.m2, (m2) => m2 / totals.count), shape, "float32");
    const count = tf.scalar(Math.min(totals.count, 2 ** 31 - 1), "int32");
    this.adaptMean!.write(mean);
    this.adaptVariance!.write(variance);
    this.adaptCount!.write(count);
    tf.dispose([mean, variance, count]);
    this.adapted = true;
  }

  /** Builds the layer from `shape` if needed, else checks that the kept axes agree. */
  private prepare(shape: tf.Shape, what: string): void {
    if (!this.built || !this.geometry) {
      this.buildingInAdapt = true;
      try {
        this.build(shape);
      } finally {
        this.buildingInAdapt = false;
      }
      return;
    }
    const g = this.geometry;
    if (shape.length !== g.ndim || g.keep.some((d) => shape[d] !== g.inputShape[d])) {
      throw fail(
        `${UNIT}.adapt: invalid ${what}. Expected rank ${g.ndim} with sizes ${show(g.keep.map((d) => g.inputShape[d]))} on the kept axes ${show(g.keep)} (the layer's input ${show(g.inputShape)}). ` +
          `Received: ${what}.shape=${show(shape)}.`,
      );
    }
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    if (this.geometry) this.checkInput((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape);
    return inputShape;
  }

  private checkInput(shape: tf.Shape | number[]): void {
    const g = this.geometry!;
    if (shape.length !== g.ndim || g.keep.some((d) => shape[d] !== g.inputShape[d])) {
      throw fail(`${UNIT}: invalid input. Expected rank ${g.ndim} with sizes ${show(g.keep.map((d) => g.inputShape[d]))} on the kept axes ${show(g.keep)}, as built. Received: input.shape=${show(shape)}.`);
    }
  }

  /**
   * Adapted, or weights set or loaded (a positive count, or statistics other than the initial
   * 0 and 1: Keras files may carry count 0)? Otherwise Keras's identity, said once. The values
   * are read again only when a variable was assigned since (an assignment gives it a new data id).
   */
  private checkAdapted(): void {
    const stats = [this.adaptMean!, this.adaptVariance!, this.adaptCount!].map((v) => v.read());
    const ids = stats.map((t) => t.dataId);
    if (ids.every((id, i) => id === this.checkedIds[i])) return;
    const [mean, variance, count] = stats.map((t) => t.dataSync());
    this.adapted = (count[0] ?? 0) > 0 || !(mean.every((v) => v === 0) && variance.every((v) => v === 1));
    this.checkedIds = ids;
    if (!this.adapted && !this.warned) {
      console.warn(NOT_ADAPTED);
      this.warned = true;
    }
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { [key: string]: unknown }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    this.checkInput(x.shape);
    if (!this.given && !this.adapted) this.checkAdapted();
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const g = this.geometry!;
      const mean = this.given ? tf.tensor(this.given.mean, this.givenShape!) : this.adaptMean!.read().reshape(g.broadcast);
      const variance = this.given ? tf.tensor(this.given.variance, this.givenShape!) : this.adaptVariance!.read().reshape(g.broadcast);
      const std = tf.maximum(tf.sqrt(variance), EPSILON);
      const xf = x.dtype === "float32" ? x : tf.cast(x, "float32");
      return this.invert ? tf.add(mean, tf.mul(xf, std)) : tf.div(tf.sub(xf, mean), std);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: this.axis,
      invert: this.invert,
      mean: this.given ? this.given.meanConfig : null,
      variance: this.given ? this.given.varianceConfig : null,
    };
  }
}
tf.serialization.registerClass(Normalization);

/**
 * Creates a {@link Normalization} layer: `(x − mean) / max(sqrt(variance), 1e-7)` per index of
 * `axis`, with the statistics from `await layer.adapt(data)` or given.
 *
 * @param args `axis` (default -1; `null` for scalars), `mean` and `variance` (together or
 *   neither), `invert` (default false), and the usual layer options (`name`, `inputShape`, …).
 * @throws ConvlabError as {@link Normalization}.
 *
 * ```ts
 * const norm = normalization({ mean: 3, variance: 2, axis: null });
 * norm.apply(tf.tensor([1, 2, 3]));   // [-1.4142135, -0.7071068, 0]
 * ```
 *
 * Keras equivalent: `keras.layers.Normalization(axis=-1, mean=None, variance=None, invert=False)`.
 */
export function normalization(args: NormalizationArgs = {}): Normalization {
  return new Normalization(args);
}

/** Running per-feature count, mean and sum of squared deviations (float64). */
class Totals {
  count = 0;
  mean: Float64Array = new Float64Array(0);
  m2: Float64Array = new Float64Array(0);

  /** Merges one batch. The kept axes are moved last so that each row is one sample of every feature. */
  async add(batch: tf.Tensor, g: { keep: number[]; reduce: number[]; meanShape: number[] }): Promise<void> {
    const features = g.meanShape.reduce((p, n) => p * n, 1);
    const perm = [...g.reduce, ...g.keep];
    const values = tf.tidy(() => {
      const xf = batch.dtype === "float32" ? batch : tf.cast(batch, "float32");
      return perm.every((d, i) => d === i) ? xf.clone() : tf.transpose(xf, perm);
    });
    const data = await values.data();
    values.dispose();
    const rows = features === 0 ? 0 : data.length / features;
    if (rows === 0) return;
    if (this.mean.length === 0) {
      this.mean = new Float64Array(features);
      this.m2 = new Float64Array(features);
    }
    // Two passes over the batch: its mean, then its squared deviations from that mean.
    const batchMean = new Float64Array(features);
    for (let r = 0; r < rows; r++) for (let f = 0; f < features; f++) batchMean[f] += data[r * features + f];
    for (let f = 0; f < features; f++) batchMean[f] /= rows;
    const batchM2 = new Float64Array(features);
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < features; f++) {
        const d = data[r * features + f] - batchMean[f];
        batchM2[f] += d * d;
      }
    }
    // Chan et al.: merge (count, mean, M2) of the totals and of the batch.
    const n = this.count + rows;
    for (let f = 0; f < features; f++) {
      const delta = batchMean[f] - this.mean[f];
      this.mean[f] += (delta * rows) / n;
      this.m2[f] += batchM2[f] + (delta * delta * this.count * rows) / n;
    }
    this.count = n;
  }
}

/** The input tensor of a dataset element: `x`, `[x, …]` or `{ xs, … }`. */
function elementInput(element: tf.TensorContainer): tf.Tensor {
  const candidate = Array.isArray(element) ? element[0] : isTensor(element) ? element : (element as { xs?: unknown } | null)?.xs;
  if (!isTensor(candidate)) {
    tf.dispose(element);
    throw fail(`${UNIT}.adapt: invalid dataset element. Expected a tensor, an [x, y] array or an {xs, ys} object. Received: element=${show(element)}.`);
  }
  return candidate;
}

function readGiven(mean: unknown, variance: unknown, axes: number): Normalization["given"] {
  if ((mean == null) !== (variance == null)) {
    throw fail(`${UNIT}: invalid ${mean == null ? "mean" : "variance"}. Expected \`mean\` and \`variance\` together, or neither (then call adapt). Received: mean=${describe(mean)}, variance=${describe(variance)}.`);
  }
  if (mean == null) return null;
  const m = readNumbers("mean", mean);
  const v = readNumbers("variance", variance);
  if (m.shape.join() !== v.shape.join()) {
    throw fail(`${UNIT}: invalid variance. Expected the shape of mean ${show(m.shape)}. Received: variance.shape=${show(v.shape)}.`);
  }
  if (m.shape.length > axes) {
    throw fail(`${UNIT}: invalid mean. Expected rank at most ${axes} (the number of kept axes). Received: mean.shape=${show(m.shape)}.`);
  }
  const negative = v.values.find((x) => !(x >= 0));
  if (negative !== undefined) throw fail(`${UNIT}: invalid variance. Expected values ≥ 0. Received: a variance of ${negative}.`);
  return { mean: m.values, variance: v.values, shape: m.shape, meanConfig: m.config, varianceConfig: v.config };
}

function readNumbers(what: string, value: unknown): { values: Float32Array; shape: number[]; config: tf.serialization.ConfigDictValue } {
  if (isTensor(value)) {
    return { values: Float32Array.from(value.dataSync() as ArrayLike<number>), shape: value.shape.slice(), config: value.arraySync() as tf.serialization.ConfigDictValue };
  }
  if (typeof value === "number" || Array.isArray(value)) {
    let t: tf.Tensor;
    try {
      t = tf.tensor(value as number[]);
    } catch {
      throw fail(`${UNIT}: invalid ${what}. Expected a number, nested arrays of numbers or a tf.Tensor. Received: ${what}=${show(value)}.`);
    }
    const out = { values: Float32Array.from(t.dataSync() as ArrayLike<number>), shape: t.shape.slice(), config: value as tf.serialization.ConfigDictValue };
    t.dispose();
    return out;
  }
  throw fail(`${UNIT}: invalid ${what}. Expected a number, nested arrays of numbers or a tf.Tensor. Received: ${what}=${show(value)}.`);
}

function describe(value: unknown): string {
  return isTensor(value) || value == null || typeof value !== "object" ? show(value) : "…";
}

function isTensor(value: unknown): value is tf.Tensor {
  const t = value as tf.Tensor | null;
  return t !== null && typeof t === "object" && Array.isArray(t.shape) && typeof t.dtype === "string" && typeof t.dataSync === "function";
}
