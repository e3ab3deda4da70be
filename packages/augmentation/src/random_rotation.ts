/**
 * RandomRotation: Keras's random rotation layer for TensorFlow.js.
 */
import * as tf from "@tensorflow/tfjs";
import { AffineMap, FactorRange, GeometricRandomLayer, GeometryArgs, LayerArgs, checkFactor, factorConfig, readArgs } from "./random_layer";

/** Options of {@link RandomRotation}. */
export interface RandomRotationArgs extends LayerArgs, GeometryArgs {
  /**
   * The angle range as a fraction of a full turn (2π): a number `f` in [0, 1] for
   * `[-f, f]`, or a `[min, max]` pair (min ≤ max). Positive angles turn the picture
   * counter-clockwise. `0.1` draws angles in ±36°. Keras: `factor`.
   */
  factor: FactorRange;
}

const UNIT = "RandomRotation";
const KEYS = ["factor", "fillMode", "interpolation", "seed", "fillValue"] as const;

/**
 * Turns each image of the batch by its own random angle about the image centre in training;
 * the identity at inference.
 *
 * Per image, `θ = 2π · u` with `u` uniform in `[min, max]` (one draw). Output pixel `(x, y)`
 * (column, row; centre `c = ((w − 1)/2, (h − 1)/2)`) reads the input at
 *
 *     x' = cos θ · (x − cx) − sin θ · (y − cy) + cx
 *     y' = sin θ · (x − cx) + cos θ · (y − cy) + cy
 *
 * which, with rows running down, turns the picture counter-clockwise for θ > 0
 * (`factor: [0.25, 0.25]` is `np.rot90`). Points outside the picture are filled per `fillMode`.
 * Multiples of 90° are exact (the engine's warp takes map entries within 1e-12 of an integer as that integer).
 *
 * Input and output: `[batch, height, width, channels]` or one image `[height, width, channels]`;
 * in training the output is float32.
 *
 * @throws ConvlabError on a missing or invalid `factor`, an unknown option, `fillMode` or
 *   `interpolation`, a non-finite `fillValue`, an invalid seed, or an input that is not rank 3 or 4.
 *
 * ```ts
 * model.add(randomRotation({ factor: 0.1, inputShape: [150, 150, 3] }));   // ±36°, reflected corners
 * ```
 *
 * Keras equivalent: `keras.layers.RandomRotation(factor, fill_mode="reflect",
 * interpolation="bilinear", seed=None, fill_value=0.0)`, through TensorFlow's
 * `ImageProjectiveTransformV3` semantics (tfjs's `tf.image.transform`, corrected where tfjs
 * differs). Differences: a number factor must lie in [0, 1] (Keras also takes −f for f); tfjs
 * has no gradient for the transform, so place the layer before any trainable layer (as Keras
 * advises anyway); convlab's random sequence; channels last only.
 */
export class RandomRotation extends GeometricRandomLayer {
  /** The class name in saved models, as Keras. */
  static className = "RandomRotation";
  /** The factor as given. */
  readonly factor: FactorRange;
  private readonly range: [number, number];

  constructor(args: RandomRotationArgs) {
    const a = readArgs(UNIT, args, KEYS, "{ factor: 0.1 }");
    const range = checkFactor(UNIT, "factor", a.factor, { pair: "[min, max]" });
    super(UNIT, a);
    this.factor = factorConfig(a.factor as FactorRange) as FactorRange;
    this.range = range;
  }

  protected drawMap(h: number, w: number): AffineMap {
    return rotationMap(2 * Math.PI * this.random.uniform(this.range[0], this.range[1]), h, w);
  }

  protected factorsConfig(): tf.serialization.ConfigDict {
    return { factor: factorConfig(this.factor) };
  }
}
tf.serialization.registerClass(RandomRotation);

/** The rotation by `theta` (radians, counter-clockwise on screen) about the centre of an h × w image. */
function rotationMap(theta: number, h: number, w: number): AffineMap {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  return [c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy];
}

/**
 * Creates a {@link RandomRotation} layer: each image turned by a random angle in training,
 * identity at inference.
 *
 * @param args `factor` (required; fraction of a full turn, a number in [0, 1] or a
 *   `[min, max]` pair), `fillMode` (default `"reflect"`), `interpolation` (`"bilinear"`),
 *   `seed`, `fillValue` (0), and the usual layer options.
 * @throws ConvlabError as {@link RandomRotation}.
 *
 * ```ts
 * const rotate = randomRotation({ factor: [-0.05, 0.05], fillMode: "constant", seed: 1 });
 * rotate.apply(images, { training: true });   // each image turned by up to ±18°, black corners
 * ```
 *
 * Keras equivalent: `keras.layers.RandomRotation((-0.05, 0.05), fill_mode="constant", seed=1)`.
 */
export function randomRotation(args: RandomRotationArgs): RandomRotation {
  return new RandomRotation(args);
}
