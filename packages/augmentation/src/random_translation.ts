/**
 * RandomTranslation: Keras's random shift layer for TensorFlow.js.
 */
import * as tf from "@tensorflow/tfjs";
import { AffineMap, FactorRange, GeometricRandomLayer, GeometryArgs, LayerArgs, checkFactor, factorConfig, readArgs } from "./random_layer";

/** Options of {@link RandomTranslation}. */
export interface RandomTranslationArgs extends LayerArgs, GeometryArgs {
  /**
   * The vertical shift range as a fraction of the height: a number `f` in [0, 1] for
   * `[-f, f]`, or a `[min, max]` pair in [-1, 1]. Positive moves the picture down.
   * Keras: `height_factor`.
   */
  heightFactor: FactorRange;
  /**
   * The horizontal shift range as a fraction of the width, as `heightFactor`; positive moves
   * the picture right. Keras: `width_factor`.
   */
  widthFactor: FactorRange;
}

const UNIT = "RandomTranslation";
const KEYS = ["heightFactor", "widthFactor", "fillMode", "interpolation", "seed", "fillValue"] as const;
const FACTOR = { pair: "[min, max]", bounds: [-1, 1] } as const;

/**
 * Shifts each image of the batch by its own random offset in training; the identity at
 * inference.
 *
 * Per image, `dy = u · h` with `u` uniform in the height range, then `dx = v · w` from the
 * width range. Output pixel `(x, y)` reads the input at `(x − dx, y − dy)`: positive offsets
 * move the picture right and down; the band they uncover is filled per `fillMode`. Offsets
 * need not be whole pixels (then `interpolation` blends).
 *
 * Input and output: `[batch, height, width, channels]` or one image `[height, width, channels]`;
 * in training the output is float32.
 *
 * @throws ConvlabError on a missing or invalid `heightFactor` or `widthFactor`, an unknown
 *   option, `fillMode` or `interpolation`, a non-finite `fillValue`, an invalid seed, or an
 *   input that is not rank 3 or 4.
 *
 * ```ts
 * model.add(randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, inputShape: [150, 150, 3] }));
 * ```
 *
 * Keras equivalent: `keras.layers.RandomTranslation(height_factor, width_factor,
 * fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0)`. Differences: a
 * number factor must lie in [0, 1] and a pair must be ordered (Keras sorts it); with
 * `fillMode: "wrap"`, shifts of `len − 1` pixels or more land on an edge instead of wrapping
 * (TensorFlow's wrap formula, which tfjs shares); tfjs has no gradient for the transform, so
 * place the layer before any trainable layer; convlab's random sequence; channels last only.
 */
export class RandomTranslation extends GeometricRandomLayer {
  /** The class name in saved models, as Keras. */
  static className = "RandomTranslation";
  /** The vertical factor as given. */
  readonly heightFactor: FactorRange;
  /** The horizontal factor as given. */
  readonly widthFactor: FactorRange;
  private readonly heightRange: [number, number];
  private readonly widthRange: [number, number];

  constructor(args: RandomTranslationArgs) {
    const a = readArgs(UNIT, args, KEYS, "{ heightFactor: 0.1, widthFactor: 0.1 }");
    const heightRange = checkFactor(UNIT, "heightFactor", a.heightFactor, FACTOR);
    const widthRange = checkFactor(UNIT, "widthFactor", a.widthFactor, FACTOR);
    super(UNIT, a);
    this.heightFactor = factorConfig(a.heightFactor as FactorRange) as FactorRange;
    this.widthFactor = factorConfig(a.widthFactor as FactorRange) as FactorRange;
    this.heightRange = heightRange;
    this.widthRange = widthRange;
  }

  protected drawMap(h: number, w: number): AffineMap {
    const dy = this.random.uniform(this.heightRange[0], this.heightRange[1]) * h;
    const dx = this.random.uniform(this.widthRange[0], this.widthRange[1]) * w;
    return [1, 0, -dx, 0, 1, -dy];
  }

  protected factorsConfig(): tf.serialization.ConfigDict {
    return { heightFactor: factorConfig(this.heightFactor), widthFactor: factorConfig(this.widthFactor) };
  }
}
tf.serialization.registerClass(RandomTranslation);

/**
 * Creates a {@link RandomTranslation} layer: each image shifted by a random offset in
 * training, identity at inference.
 *
 * @param args `heightFactor` and `widthFactor` (required; fractions of the height and width:
 *   a number in [0, 1] or a `[min, max]` pair in [-1, 1]), `fillMode` (default `"reflect"`),
 *   `interpolation` (`"bilinear"`), `seed`, `fillValue` (0), and the usual layer options.
 * @throws ConvlabError as {@link RandomTranslation}.
 *
 * ```ts
 * const shift = randomTranslation({ heightFactor: 0.2, widthFactor: 0, fillMode: "constant" });
 * shift.apply(images, { training: true });   // up or down by up to 20 % of the height
 * ```
 *
 * Keras equivalent: `keras.layers.RandomTranslation(0.2, 0.0, fill_mode="constant")`.
 */
export function randomTranslation(args: RandomTranslationArgs): RandomTranslation {
  return new RandomTranslation(args);
}
