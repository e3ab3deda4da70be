/**
 * InceptionV3 (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision",
 * CVPR 2016) with tf.keras 2.15's layers in Keras's order and with the names a fresh Keras
 * process gives them, so that Keras's `.h5` ImageNet weights map onto them by layer name.
 */
import * as tf from "@tensorflow/tfjs";
import { KERAS_INIT, autoNames, finishApplication, resolveApplicationArgs, kerasWeightFiles, poolAndClassify } from "./common";
import type { ApplicationArgs, InputSpec } from "./common";

/** Options of {@link InceptionV3}: Keras's application arguments, nothing more. */
export type InceptionV3Args = ApplicationArgs;

/** Keras's published files and md5 hashes (`keras/applications/inception_v3.py`). */
const IMAGENET = kerasWeightFiles("inception_v3", "inception_v3", "9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63");

type Sym = tf.SymbolicTensor;

/**
 * Builds the InceptionV3 graph on `input` (every layer but the top), naming the unnamed layers
 * with `name`.
 */
function inceptionV3Body(input: Sym, name: (prefix: string) => string): Sym {
  // Keras's conv2d_bn: Conv2D without bias, BatchNormalization without gamma (scale=False), ReLU.
  const convBn = (x: Sym, filters: number, rows: number, cols: number, padding: "same" | "valid" = "same", strides = 1): Sym => {
    x = tf.layers.conv2d({ filters, kernelSize: [rows, cols], strides, padding, useBias: false, kernelInitializer: KERAS_INIT, name: name("conv2d") }).apply(x) as Sym;
    x = tf.layers.batchNormalization({ axis: 3, scale: false, name: name("batch_normalization") }).apply(x) as Sym;
    return tf.layers.activation({ activation: "relu", name: name("activation") }).apply(x) as Sym;
  };
  const maxPool = (x: Sym): Sym => tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: name("max_pooling2d") }).apply(x) as Sym;
  const avgPool = (x: Sym): Sym => tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same", name: name("average_pooling2d") }).apply(x) as Sym;
  const concat = (xs: Sym[], layerName?: string): Sym => tf.layers.concatenate({ axis: 3, name: layerName ?? name("concatenate") }).apply(xs) as Sym;

  let x = convBn(input, 32, 3, 3, "valid", 2);
  x = convBn(x, 32, 3, 3, "valid");
  x = convBn(x, 64, 3, 3);
  x = maxPool(x);
  x = convBn(x, 80, 1, 1, "valid");
  x = convBn(x, 192, 3, 3, "valid");
  x = maxPool(x);

  // mixed0, mixed1, mixed2: 35x35x256, 288, 288.
  for (const [i, poolFilters] of [32, 64, 64].entries()) {
    const b1 = convBn(x, 64, 1, 1);
    let b5 = convBn(x, 48, 1, 1);
    b5 = convBn(b5, 64, 5, 5);
    let b3 = convBn(x, 64, 1, 1);
    b3 = convBn(b3, 96, 3, 3);
    b3 = convBn(b3, 96, 3, 3);
    const bp = convBn(avgPool(x), poolFilters, 1, 1);
    x = concat([b1, b5, b3, bp], `mixed${i}`);
  }

  // mixed3: 17x17x768.
  {
    const b3 = convBn(x, 384, 3, 3, "valid", 2);
    let b3d = convBn(x, 64, 1, 1);
    b3d = convBn(b3d, 96, 3, 3);
    b3d = convBn(b3d, 96, 3, 3, "valid", 2);
    const bp = maxPool(x);
    x = concat([b3, b3d, bp], "mixed3");
  }

  // mixed4 (128 filters in the 7x7 branches), mixed5, mixed6 (160), mixed7 (192): 17x17x768.
  for (const [i, f] of [128, 160, 160, 192].entries()) {
    const b1 = convBn(x, 192, 1, 1);
    let b7 = convBn(x, f, 1, 1);
    b7 = convBn(b7, f, 1, 7);
    b7 = convBn(b7, 192, 7, 1);
    let b7d = convBn(x, f, 1, 1);
    b7d = convBn(b7d, f, 7, 1);
    b7d = convBn(b7d, f, 1, 7);
    b7d = convBn(b7d, f, 7, 1);
    b7d = convBn(b7d, 192, 1, 7);
    const bp = convBn(avgPool(x), 192, 1, 1);
    x = concat([b1, b7, b7d, bp], `mixed${4 + i}`);
  }

  // mixed8: 8x8x1280.
  {
    let b3 = convBn(x, 192, 1, 1);
    b3 = convBn(b3, 320, 3, 3, "valid", 2);
    let b7 = convBn(x, 192, 1, 1);
    b7 = convBn(b7, 192, 1, 7);
    b7 = convBn(b7, 192, 7, 1);
    b7 = convBn(b7, 192, 3, 3, "valid", 2);
    const bp = maxPool(x);
    x = concat([b3, b7, bp], "mixed8");
  }

  // mixed9, mixed10: 8x8x2048.
  for (let i = 0; i < 2; i++) {
    const b1 = convBn(x, 320, 1, 1);
    let b3 = convBn(x, 384, 1, 1);
    const b3a = convBn(b3, 384, 1, 3);
    const b3b = convBn(b3, 384, 3, 1);
    b3 = concat([b3a, b3b], `mixed9_${i}`);
    let b3d = convBn(x, 448, 1, 1);
    b3d = convBn(b3d, 384, 3, 3);
    const b3da = convBn(b3d, 384, 1, 3);
    const b3db = convBn(b3d, 384, 3, 1);
    b3d = concat([b3da, b3db]);
    const bp = convBn(avgPool(x), 192, 1, 1);
    x = concat([b1, b3, b3d, bp], `mixed${9 + i}`);
  }
  return x;
}

/**
 * InceptionV3: a five-convolution stem, three 35x35 Inception modules, a grid reduction, four
 * 17x17 modules with factorised 7x7 convolutions, a second reduction and two 8x8 modules with
 * expanded filter banks (2048 channels), then a global-average-pooled softmax classifier.
 *
 * The weighted layers are unnamed in Keras; they get the names a fresh Keras process gives
 * them when it builds this model alone: `conv2d`, `batch_normalization`, `activation`, then
 * `conv2d_1` … `conv2d_93` (94 of each); the modules' outputs are `mixed0` … `mixed10`.
 * Each BatchNormalization has no gamma (Keras's `scale=False`).
 *
 * Input: `[batch, 299, 299, 3]` by default (≥ 75x75 without the top), RGB scaled to [-1, 1]
 * as Keras's `inception_v3.preprocess_input` does (`x / 127.5 - 1`).
 * Output: `[batch, classes]` with the top; without it `[batch, h', w', 2048]` (8x8 for 299x299),
 * or `[batch, 2048]` with `pooling`. 23,851,784 parameters with the top, 21,802,784 without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}); `weights` defaults to
 *   `"imagenet"` (Keras's file, looked up locally or downloaded).
 * @returns the model `inception_v3`.
 * @throws ConvlabError on invalid options (see {@link resolveApplicationArgs}) or weights that
 *   cannot be loaded.
 *
 * ```ts
 * const base = await InceptionV3({ includeTop: false, weights: null, inputShape: [150, 150, 3], pooling: "avg" });
 * base.outputs[0].shape;   // [null, 2048]
 * ```
 *
 * Keras equivalent: `keras.applications.InceptionV3(include_top=True, weights="imagenet", …)`.
 */
export async function InceptionV3(args?: InceptionV3Args): Promise<tf.LayersModel> {
  const spec: InputSpec = { name: "InceptionV3", defaultSize: 299, minSize: 75 };
  const resolved = resolveApplicationArgs(spec, args);
  const name = autoNames();
  let x = inceptionV3Body(resolved.input, name);
  x = poolAndClassify(x, resolved, { avg: name("global_average_pooling2d"), max: name("global_max_pooling2d") });
  return finishApplication("inception_v3", resolved, x, IMAGENET);
}
