/**
 * EfficientNetB0 … B7 (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional
 * Neural Networks", ICML 2019) as tf.keras 2.15 builds them: preprocessing inside the model
 * (Rescaling, Normalization, and with ImageNet weights the extra Rescaling by 1/sqrt(stddev)),
 * MBConv blocks with squeeze-and-excitation and drop-connect, swish activations, Keras's layer
 * names and weights, so that Keras's `.h5` ImageNet files map onto them by layer name.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, fail, show } from "@convlab/engine";
import { normalization } from "@convlab/layers";
import { applyPooling, correctPad, finishApplication, makeDivisible, resolveApplicationArgs } from "./common";
import type { ActivationName, ApplicationArgs, ImagenetWeights, InputSpec } from "./common";
import { KerasVarianceScaling } from "./initializers";

type Sym = tf.SymbolicTensor;

/** Options of the EfficientNet builders: Keras's application arguments and EfficientNet's own. */
export interface EfficientNetArgs extends ApplicationArgs {
  /**
   * Largest drop-connect rate (stochastic depth), reached by the last block; block `b` of `n`
   * drops its residual branch with rate `dropConnectRate · b / n` in training. In [0, 1).
   * Default 0.2 (Keras `drop_connect_rate`).
   */
  dropConnectRate?: number;
  /** Channel counts are rounded to multiples of this (Keras `depth_divisor`). Default 8. */
  depthDivisor?: number;
  /** Activation of the blocks (Keras `activation`), a tfjs activation name. Default `"swish"`. */
  activation?: ActivationName;
}

/** One stage of MBConv blocks (Keras's `DEFAULT_BLOCKS_ARGS`). */
interface StageArgs {
  kernelSize: number;
  repeats: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  strides: number;
}

const STAGES: readonly StageArgs[] = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, strides: 1 },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, strides: 2 },
  { kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, strides: 2 },
  { kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, strides: 2 },
  { kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, strides: 1 },
  { kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, strides: 2 },
  { kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, strides: 1 },
];
/** Every block of Keras's EfficientNet has a squeeze-excite of ratio 0.25 and an identity skip. */
const SE_RATIO = 0.25;

/** Per model: width and depth multipliers, default input size, dropout before the classifier. */
interface Variant {
  unit: string;
  width: number;
  depth: number;
  size: number;
  dropout: number;
  /** Keras's md5 of `efficientnetbN.h5` and `efficientnetbN_notop.h5`. */
  hashes: [string, string];
}

const VARIANTS: Record<string, Variant> = {
  b0: { unit: "EfficientNetB0", width: 1.0, depth: 1.0, size: 224, dropout: 0.2, hashes: ["902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"] },
  b1: { unit: "EfficientNetB1", width: 1.0, depth: 1.1, size: 240, dropout: 0.2, hashes: ["1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"] },
  b2: { unit: "EfficientNetB2", width: 1.1, depth: 1.2, size: 260, dropout: 0.3, hashes: ["b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"] },
  b3: { unit: "EfficientNetB3", width: 1.2, depth: 1.4, size: 300, dropout: 0.3, hashes: ["ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"] },
  b4: { unit: "EfficientNetB4", width: 1.4, depth: 1.8, size: 380, dropout: 0.4, hashes: ["18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"] },
  b5: { unit: "EfficientNetB5", width: 1.6, depth: 2.2, size: 456, dropout: 0.4, hashes: ["ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"] },
  b6: { unit: "EfficientNetB6", width: 1.8, depth: 2.6, size: 528, dropout: 0.5, hashes: ["165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"] },
  b7: { unit: "EfficientNetB7", width: 2.0, depth: 3.1, size: 600, dropout: 0.5, hashes: ["8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"] },
};

const BASE_URL = "https://storage.googleapis.com/keras-applications/";
/** ImageNet's per-channel standard deviation, which Keras's weights store as the Normalization's variance. */
const IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225];
/** EfficientNet's own options, accepted besides Keras's application arguments. */
const EXTRA_KEYS = ["dropConnectRate", "depthDivisor", "activation"] as const satisfies readonly (keyof EfficientNetArgs)[];
const ACTIVATIONS: readonly string[] = ["elu", "hardSigmoid", "linear", "relu", "relu6", "selu", "sigmoid", "softmax", "softplus", "softsign", "tanh", "swish", "mish", "gelu", "gelu_new"];

/** Keras's conv initialiser: VarianceScaling(2.0, fan_out, truncated normal). */
const convInitializer = (): KerasVarianceScaling => new KerasVarianceScaling({ scale: 2, mode: "fanOut" });

/** One MBConv block, with Keras's names `block{stage}{letter}_…`. */
function mbConv(
  inputs: Sym,
  activation: ActivationName,
  dropRate: number,
  name: string,
  block: { filtersIn: number; filtersOut: number; kernelSize: number; strides: number; expandRatio: number },
): Sym {
  const { filtersIn, filtersOut, kernelSize, strides, expandRatio } = block;
  const filters = filtersIn * expandRatio;
  let x = inputs;
  if (expandRatio !== 1) {
    x = tf.layers.conv2d({ filters, kernelSize: 1, padding: "same", useBias: false, kernelInitializer: convInitializer(), name: `${name}expand_conv` }).apply(x) as Sym;
    x = tf.layers.batchNormalization({ axis: 3, name: `${name}expand_bn` }).apply(x) as Sym;
    x = tf.layers.activation({ activation, name: `${name}expand_activation` }).apply(x) as Sym;
  }
  let padding: "same" | "valid" = "same";
  if (strides === 2) {
    x = tf.layers.zeroPadding2d({ padding: correctPad(x, kernelSize), name: `${name}dwconv_pad` }).apply(x) as Sym;
    padding = "valid";
  }
  x = tf.layers.depthwiseConv2d({ kernelSize, strides, padding, useBias: false, depthwiseInitializer: convInitializer(), name: `${name}dwconv` }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ axis: 3, name: `${name}bn` }).apply(x) as Sym;
  x = tf.layers.activation({ activation, name: `${name}activation` }).apply(x) as Sym;

  // Squeeze and excitation.
  const filtersSe = Math.max(1, Math.trunc(filtersIn * SE_RATIO));
  let se = tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }).apply(x) as Sym;
  se = tf.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }).apply(se) as Sym;
  se = tf.layers.conv2d({ filters: filtersSe, kernelSize: 1, padding: "same", activation, kernelInitializer: convInitializer(), name: `${name}se_reduce` }).apply(se) as Sym;
  se = tf.layers.conv2d({ filters, kernelSize: 1, padding: "same", activation: "sigmoid", kernelInitializer: convInitializer(), name: `${name}se_expand` }).apply(se) as Sym;
  x = tf.layers.multiply({ name: `${name}se_excite` }).apply([x, se]) as Sym;

  x = tf.layers.conv2d({ filters: filtersOut, kernelSize: 1, padding: "same", useBias: false, kernelInitializer: convInitializer(), name: `${name}project_conv` }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ axis: 3, name: `${name}project_bn` }).apply(x) as Sym;
  if (strides === 1 && filtersIn === filtersOut) {
    if (dropRate > 0) {
      // Drop-connect: one coin per sample for the whole residual branch (Keras's noise_shape (None, 1, 1, 1)).
      x = tf.layers.dropout({ rate: dropRate, noiseShape: [null, 1, 1, 1] as unknown as number[], name: `${name}drop` }).apply(x) as Sym;
    }
    x = tf.layers.add({ name: `${name}add` }).apply([x, inputs]) as Sym;
  }
  return x;
}

async function efficientNet(key: keyof typeof VARIANTS, args: EfficientNetArgs | undefined): Promise<tf.LayersModel> {
  const variant = VARIANTS[key];
  const unit = variant.unit;
  // EfficientNet's own options are checked first; resolveApplicationArgs then rejects unknown keys and non-objects.
  const dropConnectRate = expectNumber(unit, "dropConnectRate", args?.dropConnectRate ?? 0.2, { min: 0, max: 1, exclusiveMax: true });
  const divisor = expectNumber(unit, "depthDivisor", args?.depthDivisor ?? 8, { min: 1, integer: true });
  const activation = args?.activation ?? "swish";
  if (!ACTIVATIONS.includes(activation)) {
    throw fail(`${unit}: invalid activation. Expected one of ${ACTIVATIONS.map((a) => `"${a}"`).join(", ")}. Received: activation=${show(activation)}.`);
  }
  const spec: InputSpec = { name: unit, defaultSize: variant.size, minSize: 32, extraKeys: EXTRA_KEYS };
  const resolved = resolveApplicationArgs(spec, args);

  // Keras's round_filters: the width-scaled count rounded to a multiple of the divisor.
  const roundFilters = (filters: number): number => makeDivisible(filters * variant.width, divisor);
  const roundRepeats = (repeats: number): number => Math.ceil(variant.depth * repeats);

  // Preprocessing inside the model, as Keras: [0, 255] → [0, 1] → (x − mean) / sqrt(variance).
  // The three layers are unnamed in Keras; these are the names a fresh Keras process gives them.
  let x = tf.layers.rescaling({ scale: 1 / 255, name: "rescaling" }).apply(resolved.input) as Sym;
  x = normalization({ axis: 3, name: "normalization" }).apply(x) as Sym;
  if (resolved.weights === "imagenet") {
    // Keras's files store ImageNet's standard deviation as the variance, so Normalization divides by
    // sqrt(stddev); dividing again by sqrt(stddev) gives the intended (x − mean) / stddev
    // (tensorflow/tensorflow#49930; tf.keras ≥ 2.10 adds this layer).
    const scale = IMAGENET_STDDEV_RGB.map((s) => 1 / Math.sqrt(s));
    x = tf.layers.rescaling({ scale: scale as unknown as number, name: "rescaling_1" }).apply(x) as Sym;
  }

  x = tf.layers.zeroPadding2d({ padding: correctPad(x, 3), name: "stem_conv_pad" }).apply(x) as Sym;
  x = tf.layers.conv2d({ filters: roundFilters(32), kernelSize: 3, strides: 2, padding: "valid", useBias: false, kernelInitializer: convInitializer(), name: "stem_conv" }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ axis: 3, name: "stem_bn" }).apply(x) as Sym;
  x = tf.layers.activation({ activation, name: "stem_activation" }).apply(x) as Sym;

  const totalBlocks = STAGES.reduce((sum, s) => sum + roundRepeats(s.repeats), 0);
  let b = 0;
  STAGES.forEach((stage, i) => {
    const filtersOut = roundFilters(stage.filtersOut);
    let filtersIn = roundFilters(stage.filtersIn);
    let strides = stage.strides;
    for (let j = 0; j < roundRepeats(stage.repeats); j++) {
      if (j > 0) {
        strides = 1;
        filtersIn = filtersOut;
      }
      const name = `block${i + 1}${String.fromCharCode(97 + j)}_`;
      x = mbConv(x, activation, (dropConnectRate * b) / totalBlocks, name, { filtersIn, filtersOut, kernelSize: stage.kernelSize, strides, expandRatio: stage.expandRatio });
      b += 1;
    }
  });

  x = tf.layers.conv2d({ filters: roundFilters(1280), kernelSize: 1, padding: "same", useBias: false, kernelInitializer: convInitializer(), name: "top_conv" }).apply(x) as Sym;
  x = tf.layers.batchNormalization({ axis: 3, name: "top_bn" }).apply(x) as Sym;
  x = tf.layers.activation({ activation, name: "top_activation" }).apply(x) as Sym;

  if (resolved.includeTop) {
    x = tf.layers.globalAveragePooling2d({ name: "avg_pool" }).apply(x) as Sym;
    if (variant.dropout > 0) x = tf.layers.dropout({ rate: variant.dropout, name: "top_dropout" }).apply(x) as Sym;
    x = tf.layers.dense({
      units: resolved.classes,
      activation: resolved.classifierActivation,
      // Keras's dense initialiser: VarianceScaling(1/3, fan_out, uniform).
      kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: "fanOut", distribution: "uniform" }),
      name: "predictions",
    }).apply(x) as Sym;
  } else {
    x = applyPooling(x, resolved.pooling, { avg: "avg_pool", max: "max_pool" });
  }

  const modelName = `efficientnet${key}`;
  const top = `${modelName}.h5`;
  const notop = `${modelName}_notop.h5`;
  const imagenet: ImagenetWeights = {
    top: { file: top, url: BASE_URL + top, hash: variant.hashes[0] },
    notop: { file: notop, url: BASE_URL + notop, hash: variant.hashes[1] },
  };
  return finishApplication(modelName, resolved, x, imagenet);
}

/**
 * EfficientNet-B0: the baseline network found by architecture search, a 3x3 stem and 16 MBConv
 * blocks (inverted residuals with squeeze-and-excitation, swish) in 7 stages, a 1x1 conv to 1280
 * channels, and a global-average-pooled classifier behind dropout 0.2.
 *
 * Input: `[batch, 224, 224, 3]` by default (≥ 32x32 without the top), **RGB pixels in [0, 255]**
 * as floats: the model rescales and normalises itself (Keras's `efficientnet.preprocess_input`
 * is the identity).
 * Output: `[batch, classes]` with the top; without it `[batch, ⌈h/32⌉, ⌈w/32⌉, 1280]`, or
 * `[batch, 1280]` with `pooling`. 5,330,571 parameters with the top, 4,049,571 without
 * (counting the Normalization's mean, variance and count, as Keras does).
 *
 * Layer names as Keras: `rescaling`, `normalization`, (`rescaling_1` with ImageNet weights),
 * `stem_conv`, `block1a_dwconv`, `block2b_se_excite`, `block2b_drop`, …, `top_conv`,
 * `predictions`.
 *
 * @param args Keras's application options ({@link ApplicationArgs}), plus `dropConnectRate`
 *   (default 0.2), `depthDivisor` (8) and `activation` ("swish"). `weights` defaults to
 *   `"imagenet"` (Keras's file, looked up locally or downloaded).
 * @returns the model `efficientnetb0`.
 * @throws ConvlabError on invalid options (see {@link resolveApplicationArgs}) or weights that
 *   cannot be loaded.
 *
 * ```ts
 * const base = await EfficientNetB0({ includeTop: false, weights: null, inputShape: [128, 128, 3], pooling: "avg" });
 * base.outputs[0].shape;   // [null, 1280]
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB0(include_top=True, weights="imagenet", …)`
 * (tf.keras 2.x, whose **kwargs reach `drop_connect_rate`, `depth_divisor`, `activation`).
 * Difference: Keras's Normalization, never adapted, is the identity (mean 0, variance 1);
 * convlab's `Normalization` throws until `adapt()` or until its `count` weight is positive. With
 * `weights: null`, give it Keras's statistics before calling the model:
 * `model.getLayer("normalization").setWeights([tf.zeros([3]), tf.ones([3]), tf.scalar(1, "int32")])`.
 */
export async function EfficientNetB0(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b0", args);
}

/**
 * EfficientNet-B1: B0 with 1.1x the depth (23 blocks), default input 240x240, dropout 0.2.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 1280]` without the top. 7,856,239 parameters with the top, 6,575,239 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb1`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB1({ weights: null, classes: 10 });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB1(...)`.
 */
export async function EfficientNetB1(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b1", args);
}

/**
 * EfficientNet-B2: width 1.1, depth 1.2, default input 260x260, dropout 0.3.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 1408]` without the top. 9,177,569 parameters with the top, 7,768,569 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb2`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB2({ includeTop: false, weights: null, pooling: "avg" });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB2(...)`.
 */
export async function EfficientNetB2(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b2", args);
}

/**
 * EfficientNet-B3: width 1.2, depth 1.4, default input 300x300, dropout 0.3.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 1536]` without the top. 12,320,535 parameters with the top, 10,783,535 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb3`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB3({ includeTop: false, weights: null, pooling: "avg" });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB3(...)`.
 */
export async function EfficientNetB3(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b3", args);
}

/**
 * EfficientNet-B4: width 1.4, depth 1.8, default input 380x380, dropout 0.4.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 1792]` without the top. 19,466,823 parameters with the top, 17,673,823 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb4`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB4({ includeTop: false, weights: null, pooling: "avg" });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB4(...)`.
 */
export async function EfficientNetB4(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b4", args);
}

/**
 * EfficientNet-B5: width 1.6, depth 2.2, default input 456x456, dropout 0.4.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 2048]` without the top. 30,562,527 parameters with the top, 28,513,527 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb5`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB5({ includeTop: false, weights: null, pooling: "avg" });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB5(...)`.
 */
export async function EfficientNetB5(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b5", args);
}

/**
 * EfficientNet-B6: width 1.8, depth 2.6, default input 528x528, dropout 0.5.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 2304]` without the top. 43,265,143 parameters with the top, 40,960,143 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb6`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB6({ includeTop: false, weights: null, pooling: "avg" });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB6(...)`.
 */
export async function EfficientNetB6(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b6", args);
}

/**
 * EfficientNet-B7: width 2.0, depth 3.1, default input 600x600, dropout 0.5; the largest, about
 * 270 MB of float32 weights.
 * Input: RGB in [0, 255] (the model preprocesses itself). Output: `[batch, classes]`, or
 * `[batch, h', w', 2560]` without the top. 66,658,687 parameters with the top, 64,097,687 without.
 *
 * @param args as {@link EfficientNetB0}. @returns the model `efficientnetb7`.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await EfficientNetB7({ includeTop: false, weights: null, pooling: "avg" });
 * ```
 *
 * Keras equivalent: `keras.applications.EfficientNetB7(...)`.
 */
export async function EfficientNetB7(args?: EfficientNetArgs): Promise<tf.LayersModel> {
  return efficientNet("b7", args);
}
