/**
 * MobileNetV2: Keras's `keras.applications.MobileNetV2` on TensorFlow.js, with Keras's layer
 * names (`Conv1`, `expanded_conv_depthwise`, `block_1_expand` … `block_16_project_BN`, `Conv_1`,
 * `out_relu`, `predictions`), so that Keras's ImageNet `.h5` files load by layer name. Also
 * {@link pythonFloat}, which MobileNetV3 shares.
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/layers"; // Keras's default names for the unnamed layers (`global_average_pooling2d`)
import { fail, show } from "@convlab/engine";
import { KERAS_INIT, applyPooling, correctPad, expectAlpha, finishApplication, makeDivisible, resolveApplicationArgs, rowsText, warnDefaultWeights } from "./common";
import type { ApplicationArgs, ImagenetWeights } from "./common";


type ST = tf.SymbolicTensor;

/** Options of {@link MobileNetV2}: Keras's, and the width multiplier. */
export interface MobileNetV2Args extends ApplicationArgs {
  /**
   * Width multiplier (Keras `alpha`): > 0; block filters become `alpha · filters` rounded to a
   * multiple of 8, and the last convolution widens past 1280 when alpha > 1. With ImageNet
   * weights one of 0.35, 0.5, 0.75, 1, 1.3, 1.4. Default 1.
   */
  alpha?: number;
}

/** MobileNetV2's own option, accepted besides Keras's application arguments. */
const EXTRA_KEYS = ["alpha"] as const satisfies readonly (keyof MobileNetV2Args)[];

const UNIT = "MobileNetV2";
const BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/";
/** The input sizes Keras publishes ImageNet weights for (and takes as the default size). */
const SIZES = [96, 128, 160, 192, 224] as const;
const ALPHAS = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4] as const;

function bn(x: ST, name: string): ST {
  return tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name }).apply(x) as ST;
}
function relu6(x: ST, name: string): ST {
  return tf.layers.reLU({ maxValue: 6, name }).apply(x) as ST;
}
function conv1x1(x: ST, filters: number, name: string): ST {
  return tf.layers.conv2d({ filters, kernelSize: 1, padding: "same", useBias: false, kernelInitializer: KERAS_INIT, name }).apply(x) as ST;
}

/**
 * Keras's `_inverted_res_block`: 1x1 expansion (`expansion ×` the input channels; not in block
 * 0, whose prefix is `expanded_conv_`), 3x3 depthwise (stride 2 padded by {@link correctPad}),
 * linear 1x1 projection to `alpha · filters` (a multiple of 8), each followed by BN (ReLU6 after
 * the first two); the input is added back when shapes allow.
 */
function invertedResBlock(input: ST, expansion: number, stride: 1 | 2, alpha: number, filters: number, blockId: number): ST {
  const inChannels = input.shape[3] as number;
  const pointwiseFilters = makeDivisible(Math.trunc(filters * alpha), 8);
  let x = input;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = conv1x1(x, expansion * inChannels, `${prefix}expand`);
    x = relu6(bn(x, `${prefix}expand_BN`), `${prefix}expand_relu`);
  } else {
    prefix = "expanded_conv_";
  }
  if (stride === 2) x = tf.layers.zeroPadding2d({ padding: correctPad(x, 3), name: `${prefix}pad` }).apply(x) as ST;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? "same" : "valid", name: `${prefix}depthwise` })
    .apply(x) as ST;
  x = relu6(bn(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
  x = conv1x1(x, pointwiseFilters, `${prefix}project`);
  x = bn(x, `${prefix}project_BN`);
  if (inChannels === pointwiseFilters && stride === 1) return tf.layers.add({ name: `${prefix}add` }).apply([input, x]) as ST;
  return x;
}

/** Blocks 0 … 16: filters, stride, expansion. */
const BLOCKS: readonly (readonly [number, 1 | 2, number])[] = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

/**
 * Python's `str(float(v))`, as Keras spells alpha in weight file names: `1.0`, `0.35`.
 *
 * @internal Shared with MobileNetV3.
 */
export function pythonFloat(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/**
 * MobileNetV2 (Sandler et al., 2018): a 3x3 convolution, 17 inverted residual blocks and a 1x1
 * convolution to 1280 channels; 3,538,984 parameters with the top (alpha 1), 2,257,984 without.
 *
 * Input: `[batch, 224, 224, 3]` by default; `inputShape` (or `inputTensor`) `[h, w, 3]` with
 * h, w ≥ 32 (null without the top; with the top and ImageNet weights a square 96, 128, 160, 192
 * or 224, the sizes Keras has weights for); pixels in [-1, 1] as `mobilenet_v2.preprocess_input`
 * makes them ("tf" mode: `x / 127.5 - 1`). Output: `[batch, classes]` with the top; else
 * `[batch, h/32, w/32, 1280]` (`out_relu`), or `[batch, 1280]` with `pooling`.
 *
 * @param args Keras's options ({@link MobileNetV2Args}); `weights` defaults to `"imagenet"`.
 * @returns The model, named as Keras: `mobilenetv2_<alpha with 2 decimals>_<rows>`
 *   (`mobilenetv2_1.00_224`).
 * @throws ConvlabError on invalid options (the Keras rules of {@link resolveApplicationArgs};
 *   with ImageNet weights an alpha other than 0.35, 0.5, 0.75, 1, 1.3, 1.4), or when the
 *   weights cannot be loaded.
 *
 * ```ts
 * const base = await MobileNetV2({ includeTop: false, weights: null, inputShape: [160, 160, 3] });
 * base.outputs[0].shape; // [null, 5, 5, 1280]
 * ```
 *
 * Keras equivalent: `keras.applications.MobileNetV2(input_shape=None, alpha=1.0,
 * include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000,
 * classifier_activation="softmax")`.
 */
export async function MobileNetV2(args?: MobileNetV2Args): Promise<tf.LayersModel> {
  // MobileNetV2's own option is checked first; resolveApplicationArgs then rejects unknown keys and non-objects.
  const alpha = expectAlpha(UNIT, args?.alpha);

  // Keras takes a square size it has weights for, from inputShape or else from inputTensor, as
  // the default size.
  const fromTensor = args?.inputTensor instanceof tf.SymbolicTensor ? args.inputTensor.shape.slice(1) : undefined;
  const given = Array.isArray(args?.inputShape) ? args.inputShape : fromTensor;
  const defaultSize = given && given[0] === given[1] && (SIZES as readonly unknown[]).includes(given[0]) ? (given[0] as number) : 224;
  const resolved = resolveApplicationArgs({ name: UNIT, defaultSize, minSize: 32, extraKeys: EXTRA_KEYS }, args);

  let rows = resolved.inputShape[0];
  const cols = resolved.inputShape[1];
  if (resolved.weights === "imagenet") {
    if (!(ALPHAS as readonly number[]).includes(alpha)) {
      throw fail(
        `${UNIT}: with weights="imagenet", alpha must be one of 0.35, 0.5, 0.75, 1, 1.3 or 1.4. Received: alpha=${show(alpha)}. Use weights: null for other values.`,
      );
    }
    if (rows !== cols || !(SIZES as readonly (number | null)[]).includes(rows)) {
      warnDefaultWeights(UNIT, SIZES, resolved.inputShape);
      rows = 224;
    }
  }

  let x = tf.layers
    .conv2d({ filters: makeDivisible(32 * alpha, 8), kernelSize: 3, strides: 2, padding: "same", useBias: false, kernelInitializer: KERAS_INIT, name: "Conv1" })
    .apply(resolved.input) as ST;
  x = relu6(bn(x, "bn_Conv1"), "Conv1_relu");
  BLOCKS.forEach(([filters, stride, expansion], id) => {
    x = invertedResBlock(x, expansion, stride, alpha, filters, id);
  });
  // No width multiplier on the last convolution unless it widens the network (as the paper).
  const lastBlockFilters = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = tf.layers.conv2d({ filters: lastBlockFilters, kernelSize: 1, useBias: false, kernelInitializer: KERAS_INIT, name: "Conv_1" }).apply(x) as ST;
  x = relu6(bn(x, "Conv_1_bn"), "out_relu");

  if (resolved.includeTop) {
    x = tf.layers.globalAveragePooling2d({}).apply(x) as ST;
    x = tf.layers
      .dense({ units: resolved.classes, activation: resolved.classifierActivation, kernelInitializer: KERAS_INIT, name: "predictions" })
      .apply(x) as ST;
  } else {
    x = applyPooling(x, resolved.pooling);
  }

  const files: ImagenetWeights = {};
  if (resolved.weights === "imagenet") {
    // Keras downloads these without a file hash.
    const file = (suffix: string): string => `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${pythonFloat(alpha)}_${rows}${suffix}.h5`;
    files.top = { file: file(""), url: BASE_URL + file(""), hash: "" };
    files.notop = { file: file("_no_top"), url: BASE_URL + file("_no_top"), hash: "" };
  }
  return finishApplication(`mobilenetv2_${alpha.toFixed(2)}_${rowsText(rows)}`, resolved, x, files);
}
