/**
 * RandomZoom: Keras's random zoom layer for TensorFlow.js.
 */
import * as tf from "@tensorflow/tfjs";
import { AffineMap, FactorRange, GeometricRandomLayer, GeometryArgs, LayerArgs, checkFactor, factorConfig, readArgs } from "./random_layer";

/** Options of {@link RandomZoom}. */
export interface RandomZoomArgs extends LayerArgs, GeometryArgs {
  /**
   * The vertical zoom range, Keras's sign: negative zooms in (a larger picture), positive
   * zooms out. A number `f` in [0, 1] for `[-f, f]`, or a `[min, max]` pair in [-1, 1]. The
   * sampled height is `1 + factor` times the image's. Keras: `height_factor`.
   */
  heightFactor: FactorRange;
  /**
   * The horizontal zoom range, as `heightFactor`; `null` or omitted (the default): the height's
   * draw is used, keeping the aspect ratio. Keras: `width_factor`.
   */
  widthFactor?: FactorRange | null;
}

const UNIT = "RandomZoom";
const KEYS = ["heightFactor", "widthFactor", "fillMode", "interpolation", "seed", "fillValue"] as const;
const FACTOR = { pair: "[min, max]", bounds: [-1, 1] } as const;

/**
 * Zooms each image of the batch in or out by its own random amount in training, about the
 * image centre; the identity at inference.
 *
 * Per image, `zy = 1 + u` with `u` uniform in the height range, then `zx = 1 + v` from the
 * width range (or `zx = zy` without `widthFactor`). Output pixel `(x, y)` reads the input at
 *
 *     x' = zx · (x − cx) + cx,   y' = zy · (y − cy) + cy,   c = ((w − 1)/2, (h − 1)/2)
 *
 * so `z < 1` shows a smaller part of the picture, enlarged (zoom in: `heightFactor: -0.5` shows
 * the central half), and `z > 1` shows more than the picture, the border filled per `fillMode`.
 *
 * Input and output: `[batch, height, width, channels]` or one image `[height, width, channels]`;
 * in training the output is float32.
 *
 * @throws ConvlabError on a missing or invalid `heightFactor`, an invalid `widthFactor`, an
 *   unknown option, `fillMode` or `interpolation`, a non-finite `fillValue`, an invalid seed, or
 *   an input that is not rank 3 or 4.
 *
 * ```ts
 * model.add(randomZoom({ heightFactor: 0.2, inputShape: [150, 150, 3] }));   // ±20 %, aspect kept
 * ```
 *
 * Keras equivalent: `keras.layers.RandomZoom(height_factor, width_factor=None,
 * fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0)`. Differences: a
 * number factor must lie in [0, 1] and a pair must be ordered (Keras sorts it); tfjs has no
 * gradient for the transform, so place the layer before any trainable layer; convlab's random
 * sequence; channels last only.
 */
export class RandomZoom extends GeometricRandomLayer {
  /** The class name in saved models, as Keras. */
  static className = "RandomZoom";
  /** The vertical factor as given. */
  readonly heightFactor: FactorRange;
  /** The horizontal factor as given, or null for the height's draw. */
  readonly widthFactor: FactorRange | null;
  private readonly heightRange: [number, number];
  private readonly widthRange: [number, number] | null;

  constructor(args: RandomZoomArgs) {
    const a = readArgs(UNIT, args, KEYS, "{ heightFactor: 0.2 }");
    const heightRange = checkFactor(UNIT, "heightFactor", a.heightFactor, FACTOR);
    const widthRange = a.widthFactor == null ? null : checkFactor(UNIT, "widthFactor", a.widthFactor, FACTOR);
    super(UNIT, a);
    this.heightFactor = factorConfig(a.heightFactor as FactorRange) as FactorRange;
    this.widthFactor = a.widthFactor == null ? null : (factorConfig(a.widthFactor as FactorRange) as FactorRange);
    this.heightRange = heightRange;
    this.widthRange = widthRange;
  }

  protected drawMap(h: number, w: number): AffineMap {
    const zy = 1 + this.random.uniform(this.heightRange[0], this.heightRange[1]);
    const zx = this.widthRange ? 1 + this.random.uniform(this.widthRange[0], this.widthRange[1]) : zy;
    return [zx, 0, ((w - 1) / 2) * (1 - zx), 0, zy, ((h - 1) / 2) * (1 - zy)];
  }

  protected factorsConfig(): tf.serialization.ConfigDict {
    return { heightFactor: factorConfig(this.heightFactor), widthFactor: this.widthFactor === null ? null : factorConfig(this.widthFactor) };
  }
}
tf.serialization.registerClass(RandomZoom);

/**
 * Creates a {@link RandomZoom} layer: each image zoomed in or out by a random amount in
 * training, identity at inference.
 *
 * @param args `heightFactor` (required; negative zooms in, positive out: a number in [0, 1]
 *   or a `[min, max]` pair in [-1, 1]), `widthFactor` (default: the height's draw),
 *   `fillMode` (`"reflect"`), `interpolation` (`"bilinear"`), `seed`, `fillValue` (0), and the
 *   usual layer options.
 * @throws ConvlabError as {@link RandomZoom}.
 *
 * ```ts
 * const zoom = randomZoom({ heightFactor: [-0.3, 0], seed: 1 });   // zoom in only, up to 30 %
 * zoom.apply(images, { training: true });
 * ```
 *
 * Keras equivalent: `keras.layers.RandomZoom((-0.3, 0.0), seed=1)`.
 */
export function randomZoom(args: RandomZoomArgs): RandomZoom {
  return new RandomZoom(args);
}
