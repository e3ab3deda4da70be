/**
 * The convolutional base the lesson's detectors share, so that their comparison measures the
 * detection heads and not the bases: VGG-style blocks of 3 × 3 convolution, batch
 * normalisation and ReLU, each halving the size, with two outputs: the stride-8 map and the
 * stride-16 map (what an SSD reads at two scales; the grid detector and the two-stage detector
 * read the stride-8 one).
 *
 * Batch normalisation keeps its moving averages with momentum 0.9 rather than Keras's 0.99: a
 * lesson trains for a few hundred steps, and with 0.99 the averages still hold about a quarter of
 * their starting values after one epoch, so `detect()` finds nothing while the training loss is
 * already low.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";

/** Options of {@link detectionBackbone}. */
export interface DetectionBackboneArgs {
  /** `[height, width]` of the images, both multiples of 16. */
  imageShape: [number, number];
  /** Filters of the first block; each block doubles them. Default 16 (16, 32, 64, 128). */
  width?: number;
}

const UNIT = "detectionBackbone";

function block(x: tf.SymbolicTensor, filters: number, name: string, pool: boolean): tf.SymbolicTensor {
  let y = tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", useBias: false, name: `${name}_conv` }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: `${name}_relu` }).apply(y) as tf.SymbolicTensor;
  return pool ? (tf.layers.maxPooling2d({ poolSize: 2, name: `${name}_pool` }).apply(y) as tf.SymbolicTensor) : y;
}

/**
 * Builds the detectors' base: input `[batch, height, width, 3]` (pixels in [0, 1]); outputs
 * `[batch, height/8, width/8, 4·width]` (`stride8`) and `[batch, height/16, width/16, 8·width]`
 * (`stride16`).
 *
 * @throws ConvlabError for an image size that is not a multiple of 16 (saying which sizes work).
 * @example
 * ```ts
 * const base = detectionBackbone({ imageShape: [64, 64] });  // outputs [8, 8, 64] and [4, 4, 128]
 * ```
 * Keras equivalent: a functional model with two outputs, `keras.Model(inputs, [c3, c4])`, as
 * KerasCV's backbones expose their pyramid levels.
 */
export function detectionBackbone(args: DetectionBackboneArgs): tf.LayersModel {
  const options = expectOptions(UNIT, args, ["imageShape", "width"], "{ imageShape: [64, 64] }");
  const shape = options.imageShape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((v) => Number.isInteger(v) && v >= 16 && v % 16 === 0)) {
    throw fail(`${UNIT}: invalid imageShape. Expected [height, width], both multiples of 16 (e.g. [64, 64], [96, 128]). Received: imageShape=${show(shape)}.`);
  }
  const width = expectNumber(UNIT, "width", options.width ?? 16, { min: 1, integer: true });
  const input = tf.input({ shape: [shape[0], shape[1], 3], name: "image" });
  let x = block(input, width, "block1", true);
  x = block(x, 2 * width, "block2", true);
  x = block(x, 4 * width, "block3a", false);
  const stride8 = block(x, 4 * width, "block3b", true);
  x = block(stride8, 8 * width, "block4a", false);
  const stride16 = block(x, 8 * width, "block4b", true);
  return tf.model({ inputs: input, outputs: [stride8, stride16], name: "detection_backbone" });
}
