/**
 * SpatialDropout2D: dropout of whole feature maps, the Keras layer that TensorFlow.js lacks.
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, fail, show } from "@convlab/engine";
import { checkNumber } from "./validate";

/** The options every tfjs layer takes (`name`, `inputShape`, `trainable`, …). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Options of {@link SpatialDropout2D}. */
export interface SpatialDropout2DArgs extends LayerArgs {
  /** Fraction of the feature maps (channels) to drop, in [0, 1). Keras: `rate`. */
  rate: number;
  /** `"channelsLast"` (`[batch, rows, cols, channels]`, the default) or `"channelsFirst"`. Keras: `data_format`. */
  dataFormat?: "channelsFirst" | "channelsLast";
  /** Seed of the masks; each call in training draws with the next seed (`seed`, `seed + 1`, …). Keras: `seed`. */
  seed?: number;
}

const UNIT = "SpatialDropout2D";

/**
 * Drops whole feature maps: in training, each channel of each sample is either zeroed
 * entirely (with probability `rate`) or kept and scaled by `1 / (1 − rate)`, so the expected
 * sum is unchanged. The noise shape is `[batch, 1, 1, channels]` (`[batch, channels, 1, 1]`
 * for `channelsFirst`). At inference (`training` not true) it is the identity.
 *
 * Why: neighbouring pixels of a feature map are strongly correlated, so ordinary Dropout on a
 * convolution's output barely regularises; dropping whole maps does (Tompson et al., 2015).
 *
 * Input and output: `[batch, rows, cols, channels]` (or channels first), same shape and dtype.
 *
 * @throws ConvlabError on a rate outside [0, 1), an unknown `dataFormat`, a non-integer seed,
 *   or an input that is not rank 4.
 *
 * ```ts
 * model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }));
 * model.add(spatialDropout2d({ rate: 0.2 }));
 * ```
 *
 * Keras equivalent: `keras.layers.SpatialDropout2D(rate, data_format=None, seed=None)`;
 * saved models name it `SpatialDropout2D` with the same config keys.
 */
export class SpatialDropout2D extends tf.layers.Layer {
  /** The class name in saved models, as Keras. */
  static className = "SpatialDropout2D";
  /** Fraction of feature maps dropped in training. */
  readonly rate: number;
  /** Where the channel axis is. */
  readonly dataFormat: "channelsFirst" | "channelsLast";
  /** Seed of the first mask, or undefined for unseeded masks. */
  readonly seed: number | undefined;
  private calls = 0;

  constructor(args: SpatialDropout2DArgs) {
    const { rate, dataFormat, seed, ...layerArgs } = (args ?? {}) as SpatialDropout2DArgs;
    checkNumber(UNIT, "rate", rate, { min: 0, max: 1, exclusiveMax: true });
    const format = expectOneOf(UNIT, "dataFormat", dataFormat ?? "channelsLast", ["channelsLast", "channelsFirst"] as const);
    if (seed != null) checkNumber(UNIT, "seed", seed, { integer: true });
    super(layerArgs);
    this.rate = rate;
    this.dataFormat = format;
    this.seed = seed ?? undefined;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    checkRank(shape);
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { [key: string]: unknown }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    checkRank(x.shape);
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      if (kwargs["training"] !== true || this.rate === 0) return x.clone();
      const [batch, a, , b] = x.shape;
      const noiseShape = this.dataFormat === "channelsLast" ? [batch, 1, 1, b] : [batch, a, 1, 1];
      const seed = this.seed === undefined ? undefined : this.seed + this.calls++;
      return tf.dropout(x.dtype === "float32" ? x : tf.cast(x, "float32"), this.rate, noiseShape, seed);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, dataFormat: this.dataFormat, seed: this.seed ?? null };
  }
}
tf.serialization.registerClass(SpatialDropout2D);

function checkRank(shape: tf.Shape | number[]): void {
  if (shape.length !== 4) {
    throw fail(`${UNIT}: invalid input. Expected a rank-4 input [batch, rows, cols, channels] (a stack of feature maps, e.g. a Conv2D's output). Received: input.shape=${show(shape)}.`);
  }
}

/**
 * Creates a {@link SpatialDropout2D} layer: whole feature maps dropped with probability
 * `rate` in training, identity at inference.
 *
 * @param args `rate` in [0, 1) (required), `dataFormat` (default `"channelsLast"`), `seed`,
 *   and the usual layer options (`name`, `inputShape`, …).
 * @throws ConvlabError as {@link SpatialDropout2D}.
 *
 * ```ts
 * const drop = spatialDropout2d({ rate: 0.5 });
 * drop.apply(featureMaps, { training: true });   // each map all zero or doubled
 * ```
 *
 * Keras equivalent: `keras.layers.SpatialDropout2D(rate)`.
 */
export function spatialDropout2d(args: SpatialDropout2DArgs): SpatialDropout2D {
  return new SpatialDropout2D(args);
}
