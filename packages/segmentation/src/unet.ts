/**
 * U-Net (Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image
 * Segmentation", 2015): an encoder that halves the image `depth` times, a decoder that doubles it
 * back with transposed convolutions, and at each level the encoder's feature maps concatenated to
 * the decoder's, so the output can place edges at full resolution.
 *
 * ```
 * image [h, w, c] ─ down1 ─────────────────────────────────── concat ─ up1 ─ output_conv (1x1) ─ softmax
 *                    └ pool ─ down2 ──────────────── concat ─ up2 ┘
 *                              └ pool ─ … bottleneck ─ transpose ┘        (depth levels; h/2^depth at the bottom)
 * ```
 *
 * Each block is two 3x3 "same" convolutions, each followed by batch normalisation and ReLU;
 * level `i` (1 = full resolution) has `filters·2^(i−1)` filters, the bottleneck
 * `filters·2^depth`. Differences from the paper: "same" padding (the paper's valid convolutions
 * shrink the output and need cropped skips), hence height and width multiples of `2^depth`;
 * batch normalisation (not in the 2015 paper, standard since).
 */
import * as tf from "@tensorflow/tfjs";
import { expectBoolean, expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { bilinearUpsampling } from "./bilinear";
import { expectInputShape, recordOutputStride } from "./input_size";

/** Options of {@link unet}. */
export interface UnetArgs {
  /** `[height, width, channels]`: height and width `null` (any size) or multiples of `2^depth`. Required. */
  inputShape: [number | null, number | null, number];
  /** Classes to score per pixel, background included: an integer >= 2. Required. */
  numClasses: number;
  /** Filters of the first level, an integer >= 1; each level down doubles them. Default 16 (the paper: 64). */
  filters?: number;
  /** Poolings (and up-convolutions), an integer in [1, 8]; the output stride is `2^depth`. Default 4 (the paper's). */
  depth?: number;
  /** Batch normalisation after each 3x3 convolution (momentum 0.9). Default true; false: convolutions with biases. */
  batchNorm?: boolean;
  /** Dropout rate in [0, 1) after the bottleneck (the paper's "drop-out layers at the end of the contracting path"). Default 0: none. */
  dropout?: number;
  /**
   * Up-convolutions that start as bilinear ×2 upsampling: 4x4 kernels initialised by
   * {@link bilinearUpsampling}, keeping the channels (`filters·2^i` in and out, then trained).
   * Default false: the paper's 2x2 up-convolutions halving the channels, Glorot-initialised.
   */
  bilinear?: boolean;
  /** Name of the model. Default `"unet"`. */
  name?: string;
}

const UNIT = "unet";
const KEYS = ["inputShape", "numClasses", "filters", "depth", "batchNorm", "dropout", "bilinear", "name"] as const;
const EXAMPLE = "{ inputShape: [null, null, 3], numClasses: 4 }";

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/** Two 3x3 convolutions, each with batch normalisation (optional) and ReLU: `<name>_conv1`, `<name>_bn1`, `<name>_relu1`, … */
function convBlock(x: tf.SymbolicTensor, filters: number, name: string, batchNorm: boolean): tf.SymbolicTensor {
  for (let c = 1; c <= 2; c++) {
    x = apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", useBias: !batchNorm, kernelInitializer: "heNormal", name: `${name}_conv${c}` }), x);
    // Momentum 0.9, not Keras's 0.99: a lesson trains a few hundred steps, and with 0.99 the moving averages still hold
    // much of their starting values, so predictions at inference are poor while the training loss is already low.
    if (batchNorm) x = apply(tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn${c}` }), x);
    x = apply(tf.layers.reLU({ name: `${name}_relu${c}` }), x);
  }
  return x;
}

/**
 * Builds a U-Net: input `[batch, h, w, channels]` (pixels in [0, 1]), output
 * `[batch, h, w, numClasses]`, per-pixel class probabilities (softmax over the last axis). Train
 * it with loss `"sparse_categorical_crossentropy"` on masks `[batch, h, w]` of class ids.
 *
 * Layer names, level `i` from 1 (full resolution) to `depth`:
 * - encoder: `down{i}_conv1`, `down{i}_bn1`, `down{i}_relu1`, `down{i}_conv2`, `down{i}_bn2`,
 *   `down{i}_relu2`, `down{i}_pool` (2x2 max pooling);
 * - `bottleneck_conv1` … `bottleneck_relu2`, then `bottleneck_dropout` when `dropout > 0`;
 * - decoder, from `up{depth}` back to `up1`, each pairing with `down{i}`: `up{i}_transpose`
 *   (Conv2DTranspose stride 2, "same"), `up{i}_concat` (`[transposed, down{i}_relu2]`), then
 *   `up{i}_conv1` … `up{i}_relu2` with `filters·2^(i−1)` filters;
 * - `output_conv` (1x1, `numClasses` filters) and `softmax`.
 *
 * The output stride `2^depth` is recorded for {@link outputStride}.
 *
 * @throws ConvlabError (one line) for a missing or invalid option (unknown keys with a
 *   did-you-mean), or an `inputShape` whose height or width is not a multiple of `2^depth`
 *   ("unet: invalid inputShape. Expected height and width divisible by 16 (…, 80, 96, 112, …).
 *   Received: inputShape=[100,100,3].").
 *
 * ```ts
 * const model = unet({ inputShape: [64, 64, 3], numClasses: 4 });          // 16 filters, depth 4
 * compile(model, { optimizer: Adam({ learningRate: 1e-3 }), loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
 * await fit(model, x, masks, { epochs: 5, batchSize: 16 });
 * ```
 *
 * Keras equivalent: none built in; the Keras example "Image segmentation with a U-Net-like
 * architecture" builds one by hand from `Conv2D`, `Conv2DTranspose` and `concatenate`.
 */
export function unet(args: UnetArgs): tf.LayersModel {
  if (args === undefined || args === null || typeof args !== "object" || Array.isArray(args)) {
    throw fail(`${UNIT}: invalid options. Expected an object such as ${EXAMPLE}. Received: options=${show(args)}.`);
  }
  const options = expectOptions(UNIT, args, KEYS, EXAMPLE);
  const depth = expectNumber(UNIT, "depth", options.depth ?? 4, { min: 1, max: 8, integer: true });
  const stride = 2 ** depth;
  if (options.inputShape === undefined) throw fail(`${UNIT}: missing inputShape. Expected [height, width, channels], e.g. [null, null, 3]. Received: options without inputShape.`);
  const shape = expectInputShape(UNIT, options.inputShape, stride);
  const numClasses = expectNumber(UNIT, "numClasses", options.numClasses, { min: 2, integer: true });
  const filters = expectNumber(UNIT, "filters", options.filters ?? 16, { min: 1, integer: true });
  const batchNorm = expectBoolean(UNIT, "batchNorm", options.batchNorm ?? true);
  const dropout = expectNumber(UNIT, "dropout", options.dropout ?? 0, { min: 0, max: 1, exclusiveMax: true });
  const bilinear = expectBoolean(UNIT, "bilinear", options.bilinear ?? false);
  const name = options.name ?? "unet";
  if (typeof name !== "string" || name.length === 0) throw fail(`${UNIT}: invalid name. Expected a non-empty string. Received: name=${show(name)}.`);

  const input = tf.input({ shape: shape as unknown as number[], name: "image" });
  const skips: tf.SymbolicTensor[] = [];
  let x = input;
  for (let i = 1; i <= depth; i++) {
    x = convBlock(x, filters * 2 ** (i - 1), `down${i}`, batchNorm);
    skips.push(x);
    x = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `down${i}_pool` }), x);
  }
  x = convBlock(x, filters * 2 ** depth, "bottleneck", batchNorm);
  if (dropout > 0) x = apply(tf.layers.dropout({ rate: dropout, name: "bottleneck_dropout" }), x);
  for (let i = depth; i >= 1; i--) {
    const level = filters * 2 ** (i - 1);
    const transpose = bilinear
      ? tf.layers.conv2dTranspose({ filters: 2 * level, kernelSize: 4, strides: 2, padding: "same", kernelInitializer: bilinearUpsampling(), name: `up${i}_transpose` })
      : tf.layers.conv2dTranspose({ filters: level, kernelSize: 2, strides: 2, padding: "same", name: `up${i}_transpose` });
    x = apply(transpose, x);
    x = apply(tf.layers.concatenate({ axis: -1, name: `up${i}_concat` }), [x, skips[i - 1]]);
    x = convBlock(x, level, `up${i}`, batchNorm);
  }
  x = apply(tf.layers.conv2d({ filters: numClasses, kernelSize: 1, name: "output_conv" }), x);
  x = apply(tf.layers.activation({ activation: "softmax", name: "softmax" }), x);
  const model = tf.model({ inputs: input, outputs: x, name });
  recordOutputStride(model, stride);
  return model;
}
