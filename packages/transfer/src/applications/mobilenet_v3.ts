/**
 * MobileNetV3Small and MobileNetV3Large: Keras's `keras.applications.MobileNetV3Small` /
 * `MobileNetV3Large` on TensorFlow.js, with Keras's layer names (`Conv`, `Conv/BatchNorm`,
 * `expanded_conv/depthwise`, `expanded_conv_3/squeeze_excite/Conv`, `Conv_1`, `Conv_2`,
 * `Logits`, `Predictions`), so that Keras's ImageNet `.h5` files load by layer name.
 *
 * Hard-swish and hard-sigmoid are built from layers as Keras builds them:
 * `hard_sigmoid(x) = ReLU6(x + 3) · (1/6)` and `hard_swish(x) = Multiply([x, hard_sigmoid(x)])`.
 * (tfjs's `hardSigmoid` activation is Keras 2's `hard_sigmoid` activation, `clip(0.2x + 0.5,
 * 0, 1)`: a different function.) Keras's `x + 3.0` and `· (1/6)` are `TFOpLambda` layers named
 * `tf.__operators__.add[_n]` and `tf.math.multiply[_n]`; here they are `Rescaling` layers under
 * those names (no weights either way).
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/layers"; // Keras's default names for the unnamed layers (`re_lu`, `multiply`, `rescaling`, …)
import { expectNumber, fail, show } from "@convlab/engine";
import { KERAS_INIT, applyPooling, autoNames, correctPad, expectAlpha, finishApplication, globalAveragePoolingKeepdims, makeDivisible, resolveApplicationArgs, warnDefaultWeights } from "./common";
import type { ApplicationArgs, ImagenetWeights } from "./common";
import { expectFlag } from "./mobilenet";
import { pythonFloat } from "./mobilenet_v2";


type ST = tf.SymbolicTensor;
type Activation = (x: ST) => ST;

/** Options of {@link MobileNetV3Small} and {@link MobileNetV3Large}: Keras's, and the variant's. */
export interface MobileNetV3Args extends ApplicationArgs {
  /**
   * Width multiplier (Keras `alpha`): > 0; block filters become `alpha · filters` rounded to a
   * multiple of 8. With ImageNet weights 0.75 or 1 (1 when minimalistic). Default 1.
   */
  alpha?: number;
  /**
   * The "minimalistic" variant (Keras `minimalistic`): 3x3 kernels only, ReLU instead of
   * hard-swish, no squeeze-and-excite. Default false.
   */
  minimalistic?: boolean;
  /** Dropout rate before the `Logits` convolution, in [0, 1); 0 leaves the layer out (Keras `dropout_rate`). Default 0.2. */
  dropoutRate?: number;
  /**
   * Start with Keras's `Rescaling(1/127.5, offset -1)`, so the model takes pixels in [0, 255]
   * (Keras `include_preprocessing`). With false it takes [-1, 1]. Default true.
   */
  includePreprocessing?: boolean;
}
/** Options of {@link MobileNetV3Small}. */
export type MobileNetV3SmallArgs = MobileNetV3Args;
/** Options of {@link MobileNetV3Large}. */
export type MobileNetV3LargeArgs = MobileNetV3Args;
/** MobileNetV3's own options, accepted besides Keras's application arguments. */
const EXTRA_KEYS = ["alpha", "minimalistic", "dropoutRate", "includePreprocessing"] as const satisfies readonly (keyof MobileNetV3Args)[];

const BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/";
/** Keras's `WEIGHTS_HASHES` (md5 with the top, without), `keras/applications/mobilenet_v3.py`. */
const WEIGHTS_HASHES: Record<string, [string, string]> = {
  "large_224_0.75_float": ["765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"],
  "large_224_1.0_float": ["59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"],
  "large_minimalistic_224_1.0_float": ["675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"],
  "small_224_0.75_float": ["cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"],
  "small_224_1.0_float": ["8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"],
  "small_minimalistic_224_1.0_float": ["99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"],
};

/**
 * The names Keras gives its `TFOpLambda` layers (`tf.__operators__.add`,
 * `tf.__operators__.add_1`, …), counted per process (made once, at module level), like Keras's
 * per session. Only this module makes such names, so they cannot collide with tfjs's or
 * @convlab/layers' names.
 */
const opName = autoNames();

function relu(x: ST): ST {
  return tf.layers.reLU({}).apply(x) as ST;
}

/** Keras's `hard_sigmoid`: `ReLU(6)(x + 3) * (1/6)`. */
function hardSigmoid(x: ST): ST {
  const relu6 = tf.layers.reLU({ maxValue: 6 }); // made first, as Python evaluates `layers.ReLU(6.0)(x + 3.0)`
  const shifted = tf.layers.rescaling({ scale: 1, offset: 3, name: opName("tf.__operators__.add") }).apply(x) as ST;
  const clipped = relu6.apply(shifted) as ST;
  return tf.layers.rescaling({ scale: 1 / 6, name: opName("tf.math.multiply") }).apply(clipped) as ST;
}

/** Keras's `hard_swish`: `Multiply()([x, hard_sigmoid(x)])`. */
function hardSwish(x: ST): ST {
  const multiply = tf.layers.multiply({});
  return multiply.apply([x, hardSigmoid(x)]) as ST;
}

function bn(x: ST, name: string): ST {
  return tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name }).apply(x) as ST;
}
function conv1x1(x: ST, filters: number, name: string, useBias: boolean): ST {
  return tf.layers.conv2d({ filters, kernelSize: 1, padding: "same", useBias, kernelInitializer: KERAS_INIT, name }).apply(x) as ST;
}

/** Keras's `_se_block`: squeeze (average) → 1x1 conv + ReLU → 1x1 conv + hard-sigmoid → scale the input. */
function seBlock(inputs: ST, filters: number, seRatio: number, prefix: string): ST {
  let x = globalAveragePoolingKeepdims(inputs, { name: `${prefix}squeeze_excite/AvgPool` });
  x = conv1x1(x, makeDivisible(filters * seRatio), `${prefix}squeeze_excite/Conv`, true);
  x = tf.layers.reLU({ name: `${prefix}squeeze_excite/Relu` }).apply(x) as ST;
  x = conv1x1(x, filters, `${prefix}squeeze_excite/Conv_1`, true);
  x = hardSigmoid(x);
  return tf.layers.multiply({ name: `${prefix}squeeze_excite/Mul` }).apply([inputs, x]) as ST;
}

/**
 * Keras's `_inverted_res_block` (v3): 1x1 expansion to `expansion ×` the input channels (a
 * multiple of 8; not in block 0, whose prefix is `expanded_conv/`), depthwise `kernelSize`
 * (stride 2 padded by {@link correctPad}), optional squeeze-and-excite, linear 1x1 projection;
 * the input is added back when shapes allow.
 */
function invertedResBlock(
  x: ST,
  expansion: number,
  filters: number,
  kernelSize: number,
  stride: 1 | 2,
  seRatio: number | null,
  activation: Activation,
  blockId: number,
): ST {
  const shortcut = x;
  const inFilters = x.shape[3] as number;
  let prefix = "expanded_conv/";
  if (blockId) {
    prefix = `expanded_conv_${blockId}/`;
    x = conv1x1(x, makeDivisible(inFilters * expansion), `${prefix}expand`, false);
    x = activation(bn(x, `${prefix}expand/BatchNorm`));
  }
  if (stride === 2) x = tf.layers.zeroPadding2d({ padding: correctPad(x, kernelSize), name: `${prefix}depthwise/pad` }).apply(x) as ST;
  x = tf.layers
    .depthwiseConv2d({ kernelSize, strides: stride, padding: stride === 1 ? "same" : "valid", useBias: false, name: `${prefix}depthwise` })
    .apply(x) as ST;
  x = activation(bn(x, `${prefix}depthwise/BatchNorm`));
  if (seRatio) x = seBlock(x, makeDivisible(inFilters * expansion), seRatio, prefix);
  x = conv1x1(x, filters, `${prefix}project`, false);
  x = bn(x, `${prefix}project/BatchNorm`);
  if (stride === 1 && inFilters === filters) x = tf.layers.add({ name: `${prefix}Add` }).apply([shortcut, x]) as ST;
  return x;
}

/** What a variant's stack gets: the model-wide kernel, activation and squeeze ratio, and `depth(d) = makeDivisible(d · alpha)`. */
interface StackContext {
  kernel: number;
  activation: Activation;
  seRatio: number | null;
  depth: (d: number) => number;
}

/** Keras's `MobileNetV3Small` `stack_fn`: blocks 0 … 10. */
function smallStack(x: ST, { kernel, activation, seRatio, depth }: StackContext): ST {
  x = invertedResBlock(x, 1, depth(16), 3, 2, seRatio, relu, 0);
  x = invertedResBlock(x, 72 / 16, depth(24), 3, 2, null, relu, 1);
  x = invertedResBlock(x, 88 / 24, depth(24), 3, 1, null, relu, 2);
  x = invertedResBlock(x, 4, depth(40), kernel, 2, seRatio, activation, 3);
  x = invertedResBlock(x, 6, depth(40), kernel, 1, seRatio, activation, 4);
  x = invertedResBlock(x, 6, depth(40), kernel, 1, seRatio, activation, 5);
  x = invertedResBlock(x, 3, depth(48), kernel, 1, seRatio, activation, 6);
  x = invertedResBlock(x, 3, depth(48), kernel, 1, seRatio, activation, 7);
  x = invertedResBlock(x, 6, depth(96), kernel, 2, seRatio, activation, 8);
  x = invertedResBlock(x, 6, depth(96), kernel, 1, seRatio, activation, 9);
  return invertedResBlock(x, 6, depth(96), kernel, 1, seRatio, activation, 10);
}

/** Keras's `MobileNetV3Large` `stack_fn`: blocks 0 … 14. */
function largeStack(x: ST, { kernel, activation, seRatio, depth }: StackContext): ST {
  x = invertedResBlock(x, 1, depth(16), 3, 1, null, relu, 0);
  x = invertedResBlock(x, 4, depth(24), 3, 2, null, relu, 1);
  x = invertedResBlock(x, 3, depth(24), 3, 1, null, relu, 2);
  x = invertedResBlock(x, 3, depth(40), kernel, 2, seRatio, relu, 3);
  x = invertedResBlock(x, 3, depth(40), kernel, 1, seRatio, relu, 4);
  x = invertedResBlock(x, 3, depth(40), kernel, 1, seRatio, relu, 5);
  x = invertedResBlock(x, 6, depth(80), 3, 2, null, activation, 6);
  x = invertedResBlock(x, 2.5, depth(80), 3, 1, null, activation, 7);
  x = invertedResBlock(x, 2.3, depth(80), 3, 1, null, activation, 8);
  x = invertedResBlock(x, 2.3, depth(80), 3, 1, null, activation, 9);
  x = invertedResBlock(x, 6, depth(112), 3, 1, seRatio, activation, 10);
  x = invertedResBlock(x, 6, depth(112), 3, 1, seRatio, activation, 11);
  x = invertedResBlock(x, 6, depth(160), kernel, 2, seRatio, activation, 12);
  x = invertedResBlock(x, 6, depth(160), kernel, 1, seRatio, activation, 13);
  return invertedResBlock(x, 6, depth(160), kernel, 1, seRatio, activation, 14);
}

/** Keras's `MobileNetV3`: preprocessing, stem, stack, last 1x1 convolution, then the top or the pooling. */
async function buildMobileNetV3(
  unit: string,
  modelType: "small" | "large",
  lastPointChannels: number,
  stack: (x: ST, c: StackContext) => ST,
  args: MobileNetV3Args | undefined,
): Promise<tf.LayersModel> {
  // MobileNetV3's own options are checked first; resolveApplicationArgs then rejects unknown keys and non-objects.
  const alpha = expectAlpha(unit, args?.alpha);
  const minimalistic = expectFlag(unit, "minimalistic", args?.minimalistic, false);
  const dropoutRate = expectNumber(unit, "dropoutRate", args?.dropoutRate ?? 0.2, { min: 0, max: 1, exclusiveMax: true });
  const includePreprocessing = expectFlag(unit, "includePreprocessing", args?.includePreprocessing, true);
  const resolved = resolveApplicationArgs({ name: unit, defaultSize: 224, minSize: 32, extraKeys: EXTRA_KEYS }, args);

  const [rows, cols] = resolved.inputShape;
  if (resolved.weights === "imagenet") {
    if (minimalistic ? alpha !== 1 : alpha !== 0.75 && alpha !== 1) {
      throw fail(
        `${unit}: with weights="imagenet", alpha must be 0.75 or 1 (1 when minimalistic). ` +
          `Received: alpha=${show(alpha)}, minimalistic=${minimalistic}. Use weights: null for other values.`,
      );
    }
    if (rows !== cols || rows !== 224) warnDefaultWeights(unit, [224], resolved.inputShape);
  }

  const context: StackContext = minimalistic
    ? { kernel: 3, activation: relu, seRatio: null, depth: (d) => makeDivisible(d * alpha) }
    : { kernel: 5, activation: hardSwish, seRatio: 0.25, depth: (d) => makeDivisible(d * alpha) };
  const { activation } = context;

  let x = resolved.input;
  if (includePreprocessing) x = tf.layers.rescaling({ scale: 1 / 127.5, offset: -1 }).apply(x) as ST;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: "same", useBias: false, kernelInitializer: KERAS_INIT, name: "Conv" }).apply(x) as ST;
  x = activation(bn(x, "Conv/BatchNorm"));
  x = stack(x, context);

  const lastConvChannels = makeDivisible((x.shape[3] as number) * 6);
  // The classifier widens only when the network does.
  const lastPoint = alpha > 1.0 ? makeDivisible(lastPointChannels * alpha) : lastPointChannels;
  x = conv1x1(x, lastConvChannels, "Conv_1", false);
  x = activation(bn(x, "Conv_1/BatchNorm"));

  if (resolved.includeTop) {
    x = globalAveragePoolingKeepdims(x);
    x = conv1x1(x, lastPoint, "Conv_2", true);
    x = activation(x);
    if (dropoutRate > 0) x = tf.layers.dropout({ rate: dropoutRate }).apply(x) as ST;
    x = conv1x1(x, resolved.classes, "Logits", true);
    x = tf.layers.flatten({}).apply(x) as ST;
    x = tf.layers.activation({ activation: resolved.classifierActivation ?? "linear", name: "Predictions" }).apply(x) as ST;
  } else {
    x = applyPooling(x, resolved.pooling, { avg: "avg_pool", max: "max_pool" });
  }

  const files: ImagenetWeights = {};
  const weightsName = `${modelType}${minimalistic ? "_minimalistic" : ""}_224_${pythonFloat(alpha)}_float`;
  const hashes = WEIGHTS_HASHES[weightsName];
  if (hashes) {
    const top = `weights_mobilenet_v3_${weightsName}.h5`;
    const notop = `weights_mobilenet_v3_${weightsName}_no_top_v2.h5`;
    files.top = { file: top, url: BASE_URL + top, hash: hashes[0] };
    files.notop = { file: notop, url: BASE_URL + notop, hash: hashes[1] };
  }
  return finishApplication(`MobilenetV3${modelType}`, resolved, x, files);
}

/**
 * MobileNetV3Small (Howard et al., 2019): 11 inverted residual blocks with squeeze-and-excite
 * and hard-swish, a 1x1 convolution to 576 channels, and a top of 1024 units; 2,554,968
 * parameters with the top (alpha 1), 939,120 without.
 *
 * Input: `[batch, 224, 224, 3]` by default; `inputShape` `[h, w, 3]` with h, w ≥ 32 (null
 * without the top and `weights: null`); pixels in [0, 255] (the model rescales them to [-1, 1]
 * itself; `mobilenet_v3.preprocess_input` is the identity), or in [-1, 1] with
 * `includePreprocessing: false`. Output: `[batch, classes]` with the top; else
 * `[batch, h/32, w/32, 576]`, or `[batch, 576]` with `pooling` (`avg_pool` / `max_pool`).
 *
 * @param args Keras's options ({@link MobileNetV3Args}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `MobilenetV3small`, as Keras.
 * @throws ConvlabError on invalid options (the Keras rules of {@link resolveApplicationArgs};
 *   with ImageNet weights an alpha other than 0.75 or 1, or other than 1 when minimalistic),
 *   or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await MobileNetV3Small({ weights: null, classes: 10 });
 * const probs = model.predict(tf.zeros([1, 224, 224, 3])) as tf.Tensor; // pixels in [0, 255]
 * ```
 *
 * Keras equivalent: `keras.applications.MobileNetV3Small(input_shape=None, alpha=1.0,
 * minimalistic=False, include_top=True, weights="imagenet", input_tensor=None, classes=1000,
 * pooling=None, dropout_rate=0.2, classifier_activation="softmax", include_preprocessing=True)`.
 * Differences: the input-size rules are common.ts's (Keras's MobileNetV3 accepts unknown sizes
 * with the top and only warns about non-224 sizes with ImageNet weights); each
 * `GlobalAveragePooling2D(keepdims=True)` is a pooling and a Reshape (see
 * {@link globalAveragePoolingKeepdims}); `x + 3` and `· (1/6)` are Rescaling layers.
 */
export async function MobileNetV3Small(args?: MobileNetV3SmallArgs): Promise<tf.LayersModel> {
  return buildMobileNetV3("MobileNetV3Small", "small", 1024, smallStack, args);
}

/**
 * MobileNetV3Large (Howard et al., 2019): 15 inverted residual blocks (squeeze-and-excite in
 * some, hard-swish from block 6), a 1x1 convolution to 960 channels, and a top of 1280 units;
 * 5,507,432 parameters with the top (alpha 1), 2,996,352 without.
 *
 * Input and output as {@link MobileNetV3Small} (pixels in [0, 255], or [-1, 1] with
 * `includePreprocessing: false`), with 960 channels in the last feature map.
 *
 * @param args Keras's options ({@link MobileNetV3Args}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `MobilenetV3large`, as Keras.
 * @throws ConvlabError on invalid options, or when the weights cannot be loaded.
 *
 * ```ts
 * const base = await MobileNetV3Large({ includeTop: false, weights: null, pooling: "avg" });
 * base.outputs[0].shape; // [null, 960]
 * ```
 *
 * Keras equivalent: `keras.applications.MobileNetV3Large(...)`, same arguments and differences
 * as MobileNetV3Small.
 */
export async function MobileNetV3Large(args?: MobileNetV3LargeArgs): Promise<tf.LayersModel> {
  return buildMobileNetV3("MobileNetV3Large", "large", 1280, largeStack, args);
}
