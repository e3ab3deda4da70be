/**
 * RandomFlip: Keras's random mirror layer for TensorFlow.js.
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, expectSeed } from "@convlab/engine";
import { LayerArgs, RandomImageLayer, layerArgsOf, readArgs } from "./random_layer";

/** Which way {@link RandomFlip} mirrors: left-right, top-bottom, or both at once. */
export type FlipMode = "horizontal" | "vertical" | "horizontal_and_vertical";

/** Options of {@link RandomFlip}. */
export interface RandomFlipArgs extends LayerArgs {
  /**
   * `"horizontal"` (left-right), `"vertical"` (top-bottom) or `"horizontal_and_vertical"`
   * (both axes together; the default). Keras: `mode`.
   */
  mode?: FlipMode;
  /** Seed of the layer's draws (a non-negative integer); omitted: different on every run. Keras: `seed`. */
  seed?: number | null;
}

const UNIT = "RandomFlip";
const MODES: readonly FlipMode[] = ["horizontal", "vertical", "horizontal_and_vertical"];
const KEYS = ["mode", "seed"] as const;

/**
 * Mirrors each image of the batch with probability 1/2 in training; the identity at inference.
 *
 * One coin per image (the generator's next draw `u`, flipped when `u < 0.5`). With
 * `"horizontal_and_vertical"` a flipped image is mirrored along both axes (a half turn), as in
 * Keras 3, which tosses one coin per image for both (Keras 2 tossed one per axis).
 *
 * Input and output: `[batch, height, width, channels]` or one image `[height, width, channels]`;
 * in training the output is float32 (int32 input is cast, as Keras does).
 *
 * @throws ConvlabError on an unknown option or `mode`, a seed that is not a non-negative
 *   integer, or an input that is not rank 3 or 4.
 *
 * ```ts
 * const model = tf.sequential({ layers: [
 *   randomFlip({ mode: "horizontal", inputShape: [150, 150, 3] }),
 *   tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu" }),
 * ] });
 * ```
 *
 * Keras equivalent: `keras.layers.RandomFlip(mode="horizontal_and_vertical", seed=None)`;
 * saved models name it `RandomFlip` with the keys `mode` and `seed`. Differences: the random
 * sequence is convlab's seeded `Random`, not TensorFlow's; channels last only.
 */
export class RandomFlip extends RandomImageLayer {
  /** The class name in saved models, as Keras. */
  static className = "RandomFlip";
  /** Which axes a flipped image is mirrored along. */
  readonly mode: FlipMode;

  constructor(args: RandomFlipArgs = {}) {
    const a = readArgs(UNIT, args, KEYS, '{ mode: "horizontal" }');
    const mode = expectOneOf(UNIT, "mode", a.mode ?? "horizontal_and_vertical", MODES);
    const seed = expectSeed(UNIT, a.seed);
    super(UNIT, layerArgsOf(a), seed);
    this.mode = mode;
  }

  protected augment(images: tf.Tensor4D): tf.Tensor4D {
    const n = images.shape[0];
    const flips = new Uint8Array(n);
    for (let i = 0; i < n; i++) flips[i] = this.random.next() < 0.5 ? 1 : 0;
    if (!flips.includes(1)) return images;
    const axes = this.mode === "horizontal" ? [2] : this.mode === "vertical" ? [1] : [1, 2];
    const mirrored = tf.reverse(images, axes);
    return tf.where(tf.tensor4d(flips, [n, 1, 1, 1], "bool"), mirrored, images);
  }

  protected ownConfig(): tf.serialization.ConfigDict {
    return { mode: this.mode };
  }

  /** Builds the layer from a saved config (tfjs camel-cases string values on load: `horizontalAndVertical`). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const mode = config.mode === "horizontalAndVertical" ? "horizontal_and_vertical" : config.mode;
    return RandomImageLayer.fromConfig(cls, { ...config, mode });
  }
}
tf.serialization.registerClass(RandomFlip);

/**
 * Creates a {@link RandomFlip} layer: each image mirrored with probability 1/2 in training,
 * identity at inference.
 *
 * @param args `mode` (default `"horizontal_and_vertical"`), `seed`, and the usual layer options
 *   (`name`, `inputShape`, …).
 * @throws ConvlabError as {@link RandomFlip}.
 *
 * ```ts
 * const flip = randomFlip({ mode: "horizontal", seed: 42 });
 * flip.apply(images, { training: true });   // about half the images mirrored left-right
 * ```
 *
 * Keras equivalent: `keras.layers.RandomFlip("horizontal", seed=42)`.
 */
export function randomFlip(args: RandomFlipArgs = {}): RandomFlip {
  return new RandomFlip(args);
}
