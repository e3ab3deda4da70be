/**
 * RandomContrast: Keras's random contrast layer for TensorFlow.js.
 */
import * as tf from "@tensorflow/tfjs";
import { expectSeed, fail } from "@convlab/engine";
import { FactorRange, LayerArgs, RandomImageLayer, checkFactor, factorConfig, layerArgsOf, readArgs, showValue } from "./random_layer";

/** Options of {@link RandomContrast}. */
export interface RandomContrastArgs extends LayerArgs {
  /**
   * How far the contrast may fall and rise: a `[lower, upper]` pair in [0, 1] draws the
   * contrast factor uniformly in `[1 − lower, 1 + upper]`; a number `f` in [0, 1] is
   * `[f, f]`. Keras: `factor`.
   */
  factor: FactorRange;
  /** The `[low, high]` range of the pixel values, which outputs are clipped to; default `[0, 255]`. Keras: `value_range`. */
  valueRange?: [number, number];
  /** Seed of the layer's draws (a non-negative integer); omitted: different on every run. Keras: `seed`. */
  seed?: number | null;
}

const UNIT = "RandomContrast";
const KEYS = ["factor", "valueRange", "seed"] as const;

/**
 * Scales each image's contrast by its own random factor in training; the identity at inference.
 *
 * Per image, one draw `f` uniform in `[1 − lower, 1 + upper]`; then per channel `c` with mean
 * `m_c` over the image's pixels:
 *
 *     y = clip((x − m_c) · f + m_c, low, high)      (valueRange = [low, high])
 *
 * `f < 1` flattens the picture towards its mean colour, `f > 1` spreads it.
 *
 * Input and output: `[batch, height, width, channels]` or one image `[height, width, channels]`;
 * in training the output is float32 (int32 input is cast).
 *
 * @throws ConvlabError on a missing or invalid `factor`, an invalid `valueRange`, an unknown
 *   option, an invalid seed, or an input that is not rank 3 or 4.
 *
 * ```ts
 * model.add(randomContrast({ factor: 0.2, valueRange: [0, 1], inputShape: [150, 150, 3] }));
 * ```
 *
 * Keras equivalent: `keras.layers.RandomContrast(factor, value_range=(0, 255), seed=None)`.
 * Differences: a number `f` draws from `[1 − f, 1 + f]` as Keras documents (Keras 3.6 and later
 * draw from `[1, 1 + f]`, contrast only rising); a pair is not sorted (it is two amounts, not an
 * interval); convlab's random sequence; channels last only.
 */
export class RandomContrast extends RandomImageLayer {
  /** The class name in saved models, as Keras. */
  static className = "RandomContrast";
  /** The factor as given. */
  readonly factor: FactorRange;
  /** The range outputs are clipped to. */
  readonly valueRange: [number, number];
  private readonly amounts: [number, number];

  constructor(args: RandomContrastArgs) {
    const a = readArgs(UNIT, args, KEYS, "{ factor: 0.2 }");
    const amounts = checkFactor(UNIT, "factor", a.factor, { pair: "[lower, upper]", bounds: [0, 1] });
    const valueRange = checkValueRange(a.valueRange ?? [0, 255]);
    const seed = expectSeed(UNIT, a.seed);
    super(UNIT, layerArgsOf(a), seed);
    this.factor = factorConfig(a.factor as FactorRange) as FactorRange;
    this.amounts = amounts;
    this.valueRange = valueRange;
  }

  protected augment(images: tf.Tensor4D): tf.Tensor4D {
    const n = images.shape[0];
    const factors = new Float32Array(n);
    for (let i = 0; i < n; i++) factors[i] = this.random.uniform(1 - this.amounts[0], 1 + this.amounts[1]);
    const mean = tf.mean(images, [1, 2], true);
    const scaled = tf.add(tf.mul(tf.sub(images, mean), tf.tensor4d(factors, [n, 1, 1, 1])), mean);
    return tf.clipByValue(scaled, this.valueRange[0], this.valueRange[1]) as tf.Tensor4D;
  }

  protected ownConfig(): tf.serialization.ConfigDict {
    return { factor: factorConfig(this.factor), valueRange: [this.valueRange[0], this.valueRange[1]] };
  }
}
tf.serialization.registerClass(RandomContrast);

function checkValueRange(value: unknown): [number, number] {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number" && Number.isFinite(v)) && value[0] < value[1]) {
    return [value[0], value[1]];
  }
  throw fail(`${UNIT}: invalid valueRange. Expected a [low, high] pair of numbers with low < high. Received: valueRange=${showValue(value)}.`);
}

/**
 * Creates a {@link RandomContrast} layer: each image's contrast scaled by a random factor in
 * training, identity at inference.
 *
 * @param args `factor` (required; a number in [0, 1] or a `[lower, upper]` pair in [0, 1]:
 *   contrast factor in `[1 − lower, 1 + upper]`), `valueRange` (default `[0, 255]`), `seed`,
 *   and the usual layer options.
 * @throws ConvlabError as {@link RandomContrast}.
 *
 * ```ts
 * const contrast = randomContrast({ factor: [0.5, 0.5], valueRange: [0, 1], seed: 3 });
 * contrast.apply(images, { training: true });   // contrast × [0.5, 1.5], clipped to [0, 1]
 * ```
 *
 * Keras equivalent: `keras.layers.RandomContrast((0.5, 0.5), value_range=(0, 1), seed=3)`.
 */
export function randomContrast(args: RandomContrastArgs): RandomContrast {
  return new RandomContrast(args);
}
