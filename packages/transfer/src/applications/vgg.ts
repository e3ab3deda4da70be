/**
 * VGG16 and VGG19: Keras's `keras.applications.VGG16` / `VGG19` on TensorFlow.js, with Keras's
 * layer names (`block1_conv1` … `block5_pool`, `flatten`, `fc1`, `fc2`, `predictions`), so that
 * Keras's ImageNet `.h5` files fit it layer for layer.
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/layers"; // Keras's default names for the unnamed pooling layer (`global_average_pooling2d`)
import { applyPooling, finishApplication, KERAS_INIT, resolveApplicationArgs, kerasWeightFiles } from "./common";
import type { ApplicationArgs, ImagenetWeights, InputSpec } from "./common";

/** Options of {@link VGG16}: Keras's, nothing more. */
export type VGG16Args = ApplicationArgs;
/** Options of {@link VGG19}: Keras's, nothing more. */
export type VGG19Args = ApplicationArgs;

/** Keras's files and `file_hash`es (md5), from `keras/applications/vgg16.py` and `vgg19.py`. */
const VGG16_WEIGHTS = kerasWeightFiles("vgg16", "vgg16", "64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc");
const VGG19_WEIGHTS = kerasWeightFiles("vgg19", "vgg19", "cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6");

/** The shape of a VGG-style network: blocks of 3x3 convolutions, then dense layers. */
interface VGGShape {
  /** Filters of each block's convolutions. */
  filters: readonly number[];
  /** Convolutions in each block. */
  convs: readonly number[];
  /** Units of the top's hidden dense layers (`fc1`, `fc2`, …). */
  dense: readonly number[];
}

/**
 * The common body: blocks of 3x3 "same" ReLU convolutions each closed by a 2x2 max pooling
 * (`block{b}_conv{c}`, `block{b}_pool`), then Keras's top (flatten, `fc1`, `fc2` ReLU,
 * predictions) or the optional global pooling.
 */
async function buildVGG(spec: InputSpec, kerasName: string, shape: VGGShape, weights: ImagenetWeights, args: ApplicationArgs | undefined): Promise<tf.LayersModel> {
  const resolved = resolveApplicationArgs(spec, args);
  let x = resolved.input;
  shape.filters.forEach((filters, b) => {
    for (let c = 1; c <= shape.convs[b]; c++) {
      x = tf.layers.conv2d({ filters, kernelSize: 3, activation: "relu", padding: "same", kernelInitializer: KERAS_INIT, name: `block${b + 1}_conv${c}` }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x) as tf.SymbolicTensor;
  });
  if (resolved.includeTop) {
    x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
    shape.dense.forEach((units, i) => {
      x = tf.layers.dense({ units, activation: "relu", kernelInitializer: KERAS_INIT, name: `fc${i + 1}` }).apply(x) as tf.SymbolicTensor;
    });
    x = tf.layers
      .dense({ units: resolved.classes, activation: resolved.classifierActivation, kernelInitializer: KERAS_INIT, name: "predictions" })
      .apply(x) as tf.SymbolicTensor;
  } else {
    // Keras leaves the pooling layer unnamed: `global_average_pooling2d` / `global_max_pooling2d`.
    x = applyPooling(x, resolved.pooling);
  }
  return finishApplication(kerasName, resolved, x, weights);
}

const VGG_FILTERS = [64, 128, 256, 512, 512] as const;

/**
 * VGG16 (Simonyan & Zisserman, 2015): 13 convolutions in five blocks and three dense layers;
 * 138,357,544 parameters with the top, 14,714,688 without.
 *
 * Input: `[batch, 224, 224, 3]` by default; `inputShape` `[h, w, 3]` with h, w ≥ 32 (null
 * allowed without the top; with the top and ImageNet weights only 224x224, and with the top
 * and `weights: null` `fc1` flattens the `(h/32)·(w/32)·512` values, as in Keras); pixels as
 * `vgg16.preprocess_input` makes them ("caffe" mode: RGB → BGR, ImageNet channel means
 * subtracted, no scaling; range about [-124, 152]). Output: `[batch, classes]` probabilities
 * with the top; else the last block's `[batch, h/32, w/32, 512]` map, or `[batch, 512]` with
 * `pooling`.
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `vgg16`.
 * @throws ConvlabError on invalid options (the Keras rules of {@link resolveApplicationArgs}),
 *   or when the weights cannot be loaded.
 *
 * ```ts
 * const base = await VGG16({ includeTop: false, weights: null, inputShape: [150, 150, 3] });
 * base.outputs[0].shape; // [null, 4, 4, 512]
 * ```
 *
 * Keras equivalent: `keras.applications.VGG16(include_top=True, weights="imagenet",
 * input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax")`.
 */
export async function VGG16(args?: VGG16Args): Promise<tf.LayersModel> {
  return buildVGG({ name: "VGG16", defaultSize: 224, minSize: 32 }, "vgg16", { filters: VGG_FILTERS, convs: [2, 2, 3, 3, 3], dense: [4096, 4096] }, VGG16_WEIGHTS, args);
}

/**
 * VGG19 (Simonyan & Zisserman, 2015): 16 convolutions in five blocks and three dense layers;
 * 143,667,240 parameters with the top, 20,024,384 without.
 *
 * Input: `[batch, 224, 224, 3]` by default, other sizes ≥ 32 as for {@link VGG16}; pixels as
 * `vgg19.preprocess_input` makes them ("caffe" mode: RGB → BGR, ImageNet channel means
 * subtracted, no scaling). Output: `[batch, classes]` with the top; else
 * `[batch, h/32, w/32, 512]`, or `[batch, 512]` with `pooling`.
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `vgg19`.
 * @throws ConvlabError on invalid options, or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await VGG19({ weights: null, classes: 10 });
 * ```
 *
 * Keras equivalent: `keras.applications.VGG19(...)`, same arguments as VGG16.
 */
export async function VGG19(args?: VGG19Args): Promise<tf.LayersModel> {
  return buildVGG({ name: "VGG19", defaultSize: 224, minSize: 32 }, "vgg19", { filters: VGG_FILTERS, convs: [2, 2, 4, 4, 4], dense: [4096, 4096] }, VGG19_WEIGHTS, args);
}

/**
 * MiniVGG: VGG16's design at the scale of a laptop lesson: three blocks of two 3x3 convolutions
 * (32, 64, 128 filters, `block1_conv1` … `block3_pool`), then `flatten`, `fc1` (256 ReLU units)
 * and `predictions`; 2,386,472 parameters with 8 classes at 64x64, 287,008 without the top.
 * Not a Keras application: it is the base the transfer lessons pretrain offline
 * ({@link pretrainMiniVGG}) when Keras's ImageNet weights are not on the machine, with the same
 * layer names as VGG16's first blocks, so the same code (`freezeUntil(model, "block3_conv1")`)
 * works on both.
 *
 * Input: `[batch, 64, 64, 3]` by default, any size ≥ 16 (without the top, `null` allowed);
 * pixels in [0, 1]. Output: `[batch, classes]` with the top; else `[batch, h/8, w/8, 128]`, or
 * `[batch, 128]` with `pooling`.
 *
 * @param args {@link ApplicationArgs}; `weights` is `null` (default) or the path of a weights
 *   file saved from a MiniVGG with the same top (`pretrainMiniVGG` writes one with and one without).
 * @returns The model, named `mini_vgg`.
 *
 * ```ts
 * const base = await MiniVGG({ includeTop: false, weights: pretrained.weightsNoTop, inputShape: [64, 64, 3] });
 * ```
 *
 * Keras equivalent: none; the counterpart of `VGG16(weights="imagenet", include_top=False)`.
 */
export async function MiniVGG(args?: ApplicationArgs): Promise<tf.LayersModel> {
  return buildVGG({ name: "MiniVGG", defaultSize: 64, minSize: 16 }, "mini_vgg", { filters: [32, 64, 128], convs: [2, 2, 2], dense: [256] }, {}, { weights: null, ...args });
}
