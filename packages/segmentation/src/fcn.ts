/**
 * FCN-8s (Long, Shelhamer and Darrell, "Fully Convolutional Networks for Semantic
 * Segmentation", 2015): a classification base read at three depths, whose coarse class scores
 * are upsampled by transposed convolutions and refined with the finer maps.
 *
 * ```
 * image [h, w]
 *   └ base ── block3_pool [h/8] ── block4_pool [h/16] ── block5_pool [h/32]
 *                  │                     │                     └ score_fr (1x1)     [h/32, classes]
 *                  │                     │                       └ upscore2 (×2)    [h/16]
 *                  │                     └ score_pool4 (1x1, zeros) ─ fuse_pool4 (add)
 *                  │                                                 └ upscore_pool4 (×2) [h/8]
 *                  └ score_pool3 (1x1, zeros) ───────────────────── fuse_pool3 (add)
 *                                                                    └ upscore8 (×8)  [h]
 *                                                                      └ softmax      [h, w, classes]
 * ```
 *
 * The skips are added, not concatenated, and carry class scores, not features: the finest
 * detail the output can draw is what a 1x1 convolution of `block3_pool` (stride 8) says, and the
 * ×8 upsampling at the end is (by default) fixed bilinear interpolation. That is why FCN-8s's
 * masks have blobby edges where a U-Net's follow the object: the lesson's comparison.
 *
 * Differences from the paper: no `fc6`/`fc7` (the 7x7 and 1x1 convolutions of 4096 filters that
 * replace VGG's dense layers): `score_fr` reads `block5_pool` directly; "same" padding instead of
 * the paper's padding of 100 and crop layers, hence the rule that height and width be multiples of
 * 32; the built-in base is a small VGG16 with batch normalisation, trained from scratch.
 */
import * as tf from "@tensorflow/tfjs";
import { closest, expectBoolean, expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { bilinearUpsampling } from "./bilinear";
import { expectInputShape, recordOutputStride } from "./input_size";

/** Options of {@link fcn8s}. */
export interface Fcn8sArgs {
  /**
   * `[height, width, channels]` of the images: height and width `null` (any size, checked when
   * predicting) or multiples of 32. Required without `base`; with `base`, taken from it (when
   * given too, it must equal the base's).
   */
  inputShape?: [number | null, number | null, number];
  /** Classes to score per pixel, background included: an integer >= 2. Required. */
  numClasses: number;
  /**
   * A convolutional base to read instead of the built-in one, e.g. a Keras-named
   * `VGG16({ includeTop: false })` from @convlab/transfer: a model whose layers named in
   * `skipLayers` output its stride-8, stride-16 and stride-32 feature maps. Its layers become
   * the FCN's (shared, not copied: freezing or training them acts on both, and `dispose()` of
   * the FCN disposes them too).
   */
  base?: tf.LayersModel;
  /**
   * Names of the base's layers whose outputs are the stride-8, stride-16 and stride-32 maps.
   * Default `["block3_pool", "block4_pool", "block5_pool"]` (Keras's VGG names).
   */
  skipLayers?: [string, string, string];
  /**
   * Filters of the built-in base's first block, an integer >= 1; the blocks have `f, 2f, 4f, 8f, 8f`
   * (VGG16's 64, 128, 256, 512, 512 at `f = 64`). Default 16. Not with `base`.
   */
  filters?: number;
  /**
   * Initialise the three transposed convolutions as bilinear upsampling ({@link bilinearUpsampling}),
   * and keep the final ×8 one fixed (not trainable), as the paper does. Default true; false: Glorot
   * uniform and all trainable.
   */
  bilinear?: boolean;
  /** Name of the model. Default `"fcn8s"`. */
  name?: string;
}

const UNIT = "fcn8s";
const KEYS = ["inputShape", "numClasses", "base", "skipLayers", "filters", "bilinear", "name"] as const;
const EXAMPLE = "{ inputShape: [null, null, 3], numClasses: 4 }";
/** FCN-8s reads stride 8, 16 and 32; its output needs sizes divisible by 32. */
const STRIDE = 32;
const SKIPS: [string, string, string] = ["block3_pool", "block4_pool", "block5_pool"];
/** VGG16's convolutions per block. */
const VGG16_CONVS = [2, 2, 3, 3, 3];
const VGG16_WIDTHS = [1, 2, 4, 8, 8];

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/**
 * The built-in base: VGG16's five blocks with Keras's layer names (`block{b}_conv{c}`,
 * `block{b}_pool`) and, after each convolution, batch normalisation (`block{b}_bn{c}`) and ReLU
 * (`block{b}_relu{c}`): from scratch and in a few epochs VGG without normalisation barely trains.
 * Momentum 0.9 (not Keras's 0.99) so the moving averages follow a short training.
 */
function vggBase(input: tf.SymbolicTensor, filters: number): Map<string, tf.SymbolicTensor> {
  const outputs = new Map<string, tf.SymbolicTensor>();
  const add = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => {
    const y = apply(layer, x);
    outputs.set(layer.name, y);
    return y;
  };
  let x = input;
  VGG16_CONVS.forEach((convs, b) => {
    const name = `block${b + 1}`;
    for (let c = 1; c <= convs; c++) {
      x = add(tf.layers.conv2d({ filters: filters * VGG16_WIDTHS[b], kernelSize: 3, padding: "same", useBias: false, kernelInitializer: "heNormal", name: `${name}_conv${c}` }), x);
      x = add(tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn${c}` }), x);
      x = add(tf.layers.reLU({ name: `${name}_relu${c}` }), x);
    }
    x = add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
  });
  return outputs;
}

/** The output of the layer called `name`, with a did-you-mean. */
function tap(outputs: Map<string, tf.SymbolicTensor>, name: string, baseName: string): tf.SymbolicTensor {
  const found = outputs.get(name);
  if (found) return found;
  const hint = closest(name, [...outputs.keys()]);
  throw fail(`${UNIT}: invalid skipLayers. Expected names of layers of the base ${baseName}. Received: skipLayers entry ${show(name)}, not a layer of it.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
}

/** The skip maps must be rank-4 maps at strides 8, 16 and 32 of the input (checked where sizes are known). */
function checkTaps(input: tf.SymbolicTensor, taps: tf.SymbolicTensor[], names: readonly string[]): void {
  taps.forEach((t, i) => {
    const stride = 8 << i;
    const bad = t.shape.length !== 4 || [1, 2].some((axis) => input.shape[axis] != null && t.shape[axis] != null && (t.shape[axis] as number) * stride !== input.shape[axis]);
    if (bad) {
      throw fail(
        `${UNIT}: invalid skipLayers. Expected layers whose outputs are the base's stride-8, stride-16 and stride-32 maps [batch, h/8, w/8, c], [batch, h/16, w/16, c], [batch, h/32, w/32, c]. ` +
          `Received: layer ${show(names[i])} with output shape ${show(t.shape)} for input shape ${show(input.shape)}.`,
      );
    }
  });
}

/**
 * Builds an FCN-8s: input `[batch, h, w, channels]` (pixels as the base expects them; the
 * built-in base: in [0, 1]), output `[batch, h, w, numClasses]`, per-pixel class probabilities
 * (softmax over the last axis). Train it with loss `"sparse_categorical_crossentropy"` on masks
 * `[batch, h, w]` of class ids.
 *
 * Layers: the base (built-in: VGG16's 13 convolutions with batch normalisation, see
 * {@link Fcn8sArgs.filters}), then `score_fr`, `upscore2` (Conv2DTranspose 4x4 stride 2),
 * `score_pool4` (1x1, zero-initialised as in the paper, so training starts from the coarse
 * prediction), `fuse_pool4` (add), `upscore_pool4` (4x4 stride 2), `score_pool3` (1x1, zeros),
 * `fuse_pool3` (add), `upscore8` (16x16 stride 8), `softmax`. The transposed convolutions have
 * no bias and `"same"` padding. The model's output stride (32) is recorded for {@link outputStride}.
 *
 * @throws ConvlabError (one line) for a missing or invalid option (unknown keys with a
 *   did-you-mean), an `inputShape` whose height or width is not a multiple of 32 ("Expected height
 *   and width divisible by 32 (…, 64, 96, 128, …). Received: inputShape=[100,100,3]."), a
 *   `skipLayers` name the base does not have, or a base whose skip maps do not have strides 8,
 *   16 and 32.
 *
 * ```ts
 * const model = fcn8s({ inputShape: [null, null, 3], numClasses: 4 });
 * compile(model, { optimizer: Adam({ learningRate: 1e-3 }), loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
 * const base = await VGG16({ includeTop: false, weights: null, inputShape: [64, 64, 3] });
 * const fromVgg = fcn8s({ base, numClasses: 4 });   // VGG16's own layers, by their Keras names
 * ```
 *
 * Keras equivalent: none in Keras (its segmentation example is a U-Net-like Xception); the
 * paper's Caffe `voc-fcn8s` net, written by hand with `Conv2DTranspose` and `Add`.
 */
export function fcn8s(args: Fcn8sArgs): tf.LayersModel {
  if (args === undefined || args === null || typeof args !== "object" || Array.isArray(args)) {
    throw fail(`${UNIT}: invalid options. Expected an object such as ${EXAMPLE}. Received: options=${show(args)}.`);
  }
  const options = expectOptions(UNIT, args, KEYS, EXAMPLE);
  const numClasses = expectNumber(UNIT, "numClasses", options.numClasses, { min: 2, integer: true });
  const bilinear = expectBoolean(UNIT, "bilinear", options.bilinear ?? true);
  const name = options.name ?? "fcn8s";
  if (typeof name !== "string" || name.length === 0) throw fail(`${UNIT}: invalid name. Expected a non-empty string. Received: name=${show(name)}.`);
  const skipNames = options.skipLayers ?? SKIPS;
  if (!Array.isArray(skipNames) || skipNames.length !== 3 || !skipNames.every((s) => typeof s === "string")) {
    throw fail(`${UNIT}: invalid skipLayers. Expected the names of the base's stride-8, stride-16 and stride-32 layers, e.g. ${show(SKIPS)}. Received: skipLayers=${show(skipNames)}.`);
  }

  let input: tf.SymbolicTensor;
  let taps: tf.SymbolicTensor[];
  if (options.base !== undefined) {
    const base = options.base;
    if (!(base instanceof tf.LayersModel)) {
      throw fail(`${UNIT}: invalid base. Expected a tf.LayersModel such as VGG16({ includeTop: false }). Received: base=${show(base)}.`);
    }
    if (options.filters !== undefined) {
      throw fail(`${UNIT}: invalid filters. Expected no filters with a base (they size the built-in base). Received: filters=${show(options.filters)} with base "${base.name}".`);
    }
    if (base.inputs.length !== 1 || base.inputs[0].shape.length !== 4) {
      throw fail(`${UNIT}: invalid base. Expected one image input [batch, height, width, channels]. Received: base "${base.name}" with input shapes ${show(base.inputs.map((i) => i.shape))}.`);
    }
    input = base.inputs[0];
    const baseShape = input.shape.slice(1);
    if (options.inputShape !== undefined && show(options.inputShape) !== show(baseShape)) {
      throw fail(`${UNIT}: invalid inputShape. Expected the base's input shape ${show(baseShape)} (or no inputShape with a base). Received: inputShape=${show(options.inputShape)}.`);
    }
    expectInputShape(UNIT, baseShape, STRIDE);
    const outputs = new Map(base.layers.map((l) => [l.name, l.output as tf.SymbolicTensor]));
    taps = skipNames.map((n) => tap(outputs, n, `"${base.name}"`));
  } else {
    if (options.inputShape === undefined) {
      throw fail(`${UNIT}: missing inputShape. Expected [height, width, channels], e.g. [null, null, 3]. Received: options without inputShape or base.`);
    }
    const shape = expectInputShape(UNIT, options.inputShape, STRIDE);
    const filters = expectNumber(UNIT, "filters", options.filters ?? 16, { min: 1, integer: true });
    input = tf.input({ shape: shape as unknown as number[], name: "image" });
    const outputs = vggBase(input, filters);
    taps = skipNames.map((n) => tap(outputs, n, "(the built-in VGG16)"));
  }
  checkTaps(input, taps, skipNames);
  const [pool3, pool4, pool5] = taps;

  const up = (filters: number, factor: number, layerName: string, trainable = true) =>
    tf.layers.conv2dTranspose({
      filters,
      kernelSize: 2 * factor,
      strides: factor,
      padding: "same",
      useBias: false,
      kernelInitializer: bilinear ? bilinearUpsampling() : "glorotUniform",
      trainable: bilinear ? trainable : true,
      name: layerName,
    });
  const score = (layerName: string, zeros: boolean) =>
    tf.layers.conv2d({ filters: numClasses, kernelSize: 1, kernelInitializer: zeros ? "zeros" : "glorotUniform", name: layerName });

  let x = apply(score("score_fr", false), pool5);
  x = apply(up(numClasses, 2, "upscore2"), x);
  x = apply(tf.layers.add({ name: "fuse_pool4" }), [x, apply(score("score_pool4", true), pool4)]);
  x = apply(up(numClasses, 2, "upscore_pool4"), x);
  x = apply(tf.layers.add({ name: "fuse_pool3" }), [x, apply(score("score_pool3", true), pool3)]);
  x = apply(up(numClasses, 8, "upscore8", false), x);
  x = apply(tf.layers.activation({ activation: "softmax", name: "softmax" }), x);
  const model = tf.model({ inputs: input, outputs: x, name });
  recordOutputStride(model, STRIDE);
  return model;
}
