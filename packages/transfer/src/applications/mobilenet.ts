/**
 * MobileNet (v1): Keras's `keras.applications.MobileNet` on TensorFlow.js, with Keras's layer
 * names (`conv1`, `conv_dw_1` … `conv_pw_13_relu`, `conv_preds`, `predictions`), so that Keras's
 * ImageNet `.h5` files load by layer name. Also {@link expectFlag}, which MobileNetV3 uses.
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/layers"; // Keras's default names for the unnamed layers (`global_average_pooling2d`)
import { expectBoolean, expectNumber, fail, show } from "@convlab/engine";
import { KERAS_INIT, applyPooling, expectAlpha, finishApplication, globalAveragePoolingKeepdims, resolveApplicationArgs, rowsText, warnDefaultWeights } from "./common";
import type { ApplicationArgs, ImagenetWeights } from "./common";


type ST = tf.SymbolicTensor;

/** Options of {@link MobileNet}: Keras's, and the width and depth multipliers. */
export interface MobileNetArgs extends ApplicationArgs {
  /**
   * Width multiplier: every layer gets `floor(filters · alpha)` filters (Keras `alpha`). > 0;
   * with ImageNet weights one of 0.25, 0.5, 0.75, 1. Default 1.
   */
  alpha?: number;
  /**
   * Channels each depthwise convolution makes per input channel (Keras `depth_multiplier`):
   * a positive integer, 1 with ImageNet weights. Default 1.
   */
  depthMultiplier?: number;
  /** Dropout rate before the top's classifier, in [0, 1) (Keras `dropout`). Default 0.001. */
  dropout?: number;
}

/** MobileNet's own options, accepted besides Keras's application arguments. */
const EXTRA_KEYS = ["alpha", "depthMultiplier", "dropout"] as const satisfies readonly (keyof MobileNetArgs)[];

/**
 * A `true`/`false` option with its default.
 *
 * @internal Used by MobileNetV3.
 */
export function expectFlag(unit: string, name: string, value: unknown, fallback: boolean): boolean {
  return expectBoolean(unit, name, value ?? fallback);
}

const UNIT = "MobileNet";
const BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/";
/** The input sizes Keras publishes ImageNet weights for (and takes as the default size). */
const SIZES = [128, 160, 192, 224] as const;
const ALPHAS = [0.25, 0.5, 0.75, 1.0] as const;
/** Keras's spelling of alpha in the file names. */
const ALPHA_TEXT: Record<number, string> = { 1: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5" };

/** Keras's `_conv_block`: 3x3/2 convolution without bias, BatchNormalization, ReLU6. */
function convBlock(x: ST, filters: number, alpha: number): ST {
  x = tf.layers
    .conv2d({ filters: Math.trunc(filters * alpha), kernelSize: 3, padding: "same", useBias: false, strides: 2, kernelInitializer: KERAS_INIT, name: "conv1" })
    .apply(x) as ST;
  x = tf.layers.batchNormalization({ axis: -1, name: "conv1_bn" }).apply(x) as ST;
  return tf.layers.reLU({ maxValue: 6, name: "conv1_relu" }).apply(x) as ST;
}

/**
 * Keras's `_depthwise_conv_block`: 3x3 depthwise convolution (stride 2 pads bottom/right by one
 * and uses "valid", as TensorFlow's "same" would), BN, ReLU6; 1x1 pointwise convolution, BN,
 * ReLU6. No biases (the BNs have them).
 */
function depthwiseConvBlock(x: ST, pointwiseFilters: number, alpha: number, depthMultiplier: number, strides: 1 | 2, id: number): ST {
  if (strides !== 1) x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `conv_pad_${id}` }).apply(x) as ST;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: strides === 1 ? "same" : "valid", depthMultiplier, strides, useBias: false, name: `conv_dw_${id}` })
    .apply(x) as ST;
  x = tf.layers.batchNormalization({ axis: -1, name: `conv_dw_${id}_bn` }).apply(x) as ST;
  x = tf.layers.reLU({ maxValue: 6, name: `conv_dw_${id}_relu` }).apply(x) as ST;
  x = tf.layers
    .conv2d({ filters: Math.trunc(pointwiseFilters * alpha), kernelSize: 1, padding: "same", useBias: false, kernelInitializer: KERAS_INIT, name: `conv_pw_${id}` })
    .apply(x) as ST;
  x = tf.layers.batchNormalization({ axis: -1, name: `conv_pw_${id}_bn` }).apply(x) as ST;
  return tf.layers.reLU({ maxValue: 6, name: `conv_pw_${id}_relu` }).apply(x) as ST;
}

/** Pointwise filters and strides of blocks 1 … 13. */
const BLOCKS: readonly (readonly [number, 1 | 2])[] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/**
 * MobileNet (Howard et al., 2017): a 3x3 convolution and 13 depthwise-separable blocks;
 * 4,253,864 parameters with the top (alpha 1, depth multiplier 1), 3,228,864 without.
 *
 * Input: `[batch, 224, 224, 3]` by default; `inputShape` `[h, w, 3]` with h, w ≥ 32 (null
 * without the top; with the top and ImageNet weights a square 128, 160, 192 or 224, the sizes
 * Keras has weights for); pixels in [-1, 1] as `mobilenet.preprocess_input` makes them ("tf"
 * mode: `x / 127.5 - 1`). Output: `[batch, classes]` with the top; else
 * `[batch, h/32, w/32, 1024·alpha]` (`conv_pw_13_relu`), or `[batch, 1024·alpha]` with `pooling`.
 *
 * @param args Keras's options ({@link MobileNetArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named as Keras: `mobilenet_<alpha with 2 decimals>_<rows>`
 *   (`mobilenet_1.00_224`; `mobilenet_1.00_None` without a known size).
 * @throws ConvlabError on invalid options (the Keras rules of {@link resolveApplicationArgs};
 *   with ImageNet weights an alpha other than 0.25, 0.5, 0.75, 1 or a depth multiplier other
 *   than 1), or when the weights cannot be loaded.
 *
 * ```ts
 * const base = await MobileNet({ includeTop: false, weights: null, inputShape: [160, 160, 3], alpha: 0.5 });
 * base.outputs[0].shape; // [null, 5, 5, 512]
 * ```
 *
 * Keras equivalent: `keras.applications.MobileNet(input_shape=None, alpha=1.0,
 * depth_multiplier=1, dropout=1e-3, include_top=True, weights="imagenet", input_tensor=None,
 * pooling=None, classes=1000, classifier_activation="softmax")`. Difference: the top's
 * `GlobalAveragePooling2D(keepdims=True)` is a pooling and a Reshape named `reshape_1` (see
 * {@link globalAveragePoolingKeepdims}); unnamed layers aside, names and weights are Keras's.
 */
export async function MobileNet(args?: MobileNetArgs): Promise<tf.LayersModel> {
  // MobileNet's own options are checked first; resolveApplicationArgs then rejects unknown keys and non-objects.
  const alpha = expectAlpha(UNIT, args?.alpha);
  const depthMultiplier = expectNumber(UNIT, "depthMultiplier", args?.depthMultiplier ?? 1, { min: 1, integer: true });
  const dropout = expectNumber(UNIT, "dropout", args?.dropout ?? 1e-3, { min: 0, max: 1, exclusiveMax: true });

  // Keras takes a square input size it has weights for as the default size (so that the
  // ImageNet rule "with the top, the input is the default size" accepts it).
  const given = Array.isArray(args?.inputShape) ? args.inputShape : undefined;
  const defaultSize = given && given[0] === given[1] && (SIZES as readonly unknown[]).includes(given[0]) ? (given[0] as number) : 224;
  const resolved = resolveApplicationArgs({ name: UNIT, defaultSize, minSize: 32, extraKeys: EXTRA_KEYS }, args);

  let rows = resolved.inputShape[0];
  const cols = resolved.inputShape[1];
  if (resolved.weights === "imagenet") {
    if (depthMultiplier !== 1) {
      throw fail(`${UNIT}: with weights="imagenet", depthMultiplier must be 1. Received: depthMultiplier=${show(depthMultiplier)}. Use weights: null for other values.`);
    }
    if (!(ALPHAS as readonly number[]).includes(alpha)) {
      throw fail(`${UNIT}: with weights="imagenet", alpha must be one of 0.25, 0.5, 0.75 or 1. Received: alpha=${show(alpha)}. Use weights: null for other values.`);
    }
    if (rows !== cols || !(SIZES as readonly (number | null)[]).includes(rows)) {
      warnDefaultWeights(UNIT, SIZES, resolved.inputShape);
      rows = 224;
    }
  }

  let x = convBlock(resolved.input, 32, alpha);
  BLOCKS.forEach(([filters, strides], i) => {
    x = depthwiseConvBlock(x, filters, alpha, depthMultiplier, strides, i + 1);
  });

  if (resolved.includeTop) {
    x = globalAveragePoolingKeepdims(x, { reshapeName: "reshape_1" });
    x = tf.layers.dropout({ rate: dropout, name: "dropout" }).apply(x) as ST;
    x = tf.layers.conv2d({ filters: resolved.classes, kernelSize: 1, padding: "same", kernelInitializer: KERAS_INIT, name: "conv_preds" }).apply(x) as ST;
    x = tf.layers.reshape({ targetShape: [resolved.classes], name: "reshape_2" }).apply(x) as ST;
    x = tf.layers.activation({ activation: resolved.classifierActivation ?? "linear", name: "predictions" }).apply(x) as ST;
  } else {
    x = applyPooling(x, resolved.pooling);
  }

  const files: ImagenetWeights = {};
  if (resolved.weights === "imagenet") {
    // Keras downloads these without a file hash.
    const file = (suffix: string): string => `mobilenet_${ALPHA_TEXT[alpha]}_${rows}_tf${suffix}.h5`;
    files.top = { file: file(""), url: BASE_URL + file(""), hash: "" };
    files.notop = { file: file("_no_top"), url: BASE_URL + file("_no_top"), hash: "" };
  }
  return finishApplication(`mobilenet_${alpha.toFixed(2)}_${rowsText(rows)}`, resolved, x, files);
}
