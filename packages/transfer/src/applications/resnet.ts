/**
 * ResNet v1 (ResNet50, ResNet101, ResNet152) and v2 (ResNet50V2, ResNet101V2, ResNet152V2):
 * Keras's `keras.applications.resnet` / `resnet_v2` on TensorFlow.js, with Keras's layer names
 * (`conv1_pad`, `conv1_conv`, `conv2_block1_0_conv`, …, `post_bn`, `avg_pool`, `predictions`),
 * so that Keras's ImageNet `.h5` files load by layer name.
 *
 * Both versions share the stem (7x7/2 convolution, 3x3/2 max pooling), the stack layout
 * (stages `conv2` … `conv5` of bottleneck blocks with 64, 128, 256, 512 filters, outputs of 4x
 * that) and the top; v1 normalises after each convolution (post-activation), v2 before
 * (pre-activation, with `post_bn` closing the last stage) and down-samples at the end of a stage.
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/layers"; // Keras's default names for the unnamed layers (v2's `max_pooling2d` shortcuts)
import { KERAS_INIT, finishApplication, resolveApplicationArgs, kerasWeightFiles, poolAndClassify } from "./common";
import type { ApplicationArgs, ImagenetWeights } from "./common";


/** Options of {@link ResNet50}: Keras's, nothing more. */
export type ResNet50Args = ApplicationArgs;
/** Options of {@link ResNet101}: Keras's, nothing more. */
export type ResNet101Args = ApplicationArgs;
/** Options of {@link ResNet152}: Keras's, nothing more. */
export type ResNet152Args = ApplicationArgs;
/** Options of {@link ResNet50V2}: Keras's, nothing more. */
export type ResNet50V2Args = ApplicationArgs;
/** Options of {@link ResNet101V2}: Keras's, nothing more. */
export type ResNet101V2Args = ApplicationArgs;
/** Options of {@link ResNet152V2}: Keras's, nothing more. */
export type ResNet152V2Args = ApplicationArgs;

type ST = tf.SymbolicTensor;

/** Keras's `WEIGHTS_HASHES` (md5 of the file with the top, without), `keras/applications/resnet.py`. */
const WEIGHTS_HASHES: Record<string, [string, string]> = {
  resnet50: ["2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"],
  resnet101: ["f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"],
  resnet152: ["100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"],
  resnet50v2: ["3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"],
  resnet101v2: ["6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"],
  resnet152v2: ["a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"],
};

/** Keras's files for one model: `<model>_weights_tf_dim_ordering_tf_kernels[_notop].h5`. */
function imagenetWeights(modelName: string): ImagenetWeights {
  const [top, notop] = WEIGHTS_HASHES[modelName];
  return kerasWeightFiles("resnet", modelName, top, notop);
}

// Layer helpers with Keras's settings for this family (channels last: BatchNormalization axis 3).
function conv(x: ST, filters: number, kernelSize: number, name: string, options: { strides?: number; padding?: "valid" | "same"; useBias?: boolean } = {}): ST {
  const { strides = 1, padding = "valid", useBias = true } = options;
  return tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias, kernelInitializer: KERAS_INIT, name }).apply(x) as ST;
}
function bn(x: ST, name: string): ST {
  return tf.layers.batchNormalization({ axis: 3, epsilon: 1.001e-5, name }).apply(x) as ST;
}
function relu(x: ST, name: string): ST {
  return tf.layers.activation({ activation: "relu", name }).apply(x) as ST;
}
function pad(x: ST, p: number, name: string): ST {
  return tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name }).apply(x) as ST;
}

/**
 * Keras's `block1`: the v1 bottleneck (1x1 → 3x3 → 1x1 with 4·filters outputs, each followed by
 * BatchNormalization), added to the shortcut (a strided 1x1 convolution + BN, or the identity),
 * then ReLU. The stride is on the first 1x1 convolution, as Keras (Caffe's ResNet).
 */
function block1(x: ST, filters: number, name: string, stride = 1, convShortcut = true): ST {
  let shortcut = x;
  if (convShortcut) {
    shortcut = conv(x, 4 * filters, 1, `${name}_0_conv`, { strides: stride });
    shortcut = bn(shortcut, `${name}_0_bn`);
  }
  let y = conv(x, filters, 1, `${name}_1_conv`, { strides: stride });
  y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
  y = conv(y, filters, 3, `${name}_2_conv`, { padding: "same" });
  y = relu(bn(y, `${name}_2_bn`), `${name}_2_relu`);
  y = conv(y, 4 * filters, 1, `${name}_3_conv`);
  y = bn(y, `${name}_3_bn`);
  y = tf.layers.add({ name: `${name}_add` }).apply([shortcut, y]) as ST;
  return relu(y, `${name}_out`);
}

/** Keras's `stack1`: a projection block (stride `stride1`) and `blocks - 1` identity blocks. */
function stack1(x: ST, filters: number, blocks: number, name: string, stride1 = 2): ST {
  x = block1(x, filters, `${name}_block1`, stride1);
  for (let i = 2; i <= blocks; i++) x = block1(x, filters, `${name}_block${i}`, 1, false);
  return x;
}

/**
 * Keras's `block2`: the v2 (pre-activation) bottleneck. BN + ReLU first (`_preact_*`), which
 * feeds the 1x1 projection shortcut when there is one; otherwise the shortcut is the block's
 * input, sub-sampled by a 1x1 max pooling when the block strides. The stride is on the 3x3
 * convolution (explicitly padded); the last 1x1 convolution has a bias and no BN.
 */
function block2(x: ST, filters: number, name: string, stride = 1, convShortcut = false): ST {
  const preact = relu(bn(x, `${name}_preact_bn`), `${name}_preact_relu`);
  let shortcut: ST;
  if (convShortcut) shortcut = conv(preact, 4 * filters, 1, `${name}_0_conv`, { strides: stride });
  else shortcut = stride > 1 ? (tf.layers.maxPooling2d({ poolSize: 1, strides: stride }).apply(x) as ST) : x;

  let y = conv(preact, filters, 1, `${name}_1_conv`, { useBias: false });
  y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
  y = pad(y, 1, `${name}_2_pad`);
  y = conv(y, filters, 3, `${name}_2_conv`, { strides: stride, useBias: false });
  y = relu(bn(y, `${name}_2_bn`), `${name}_2_relu`);
  y = conv(y, 4 * filters, 1, `${name}_3_conv`);
  return tf.layers.add({ name: `${name}_out` }).apply([shortcut, y]) as ST;
}

/** Keras's `stack2`: a projection block, identity blocks, and the strided block last. */
function stack2(x: ST, filters: number, blocks: number, name: string, stride1 = 2): ST {
  x = block2(x, filters, `${name}_block1`, 1, true);
  for (let i = 2; i < blocks; i++) x = block2(x, filters, `${name}_block${i}`);
  return block2(x, filters, `${name}_block${blocks}`, stride1);
}

/** Blocks per stage `conv2` … `conv5`. */
type Depths = readonly [number, number, number, number];
const STAGE_FILTERS = [64, 128, 256, 512] as const;

/** v1 stages: the first stage does not stride (the stem's pooling already did). */
function stackV1(x: ST, depths: Depths): ST {
  STAGE_FILTERS.forEach((filters, i) => {
    x = stack1(x, filters, depths[i], `conv${i + 2}`, i === 0 ? 1 : 2);
  });
  return x;
}

/** v2 stages: each strides in its last block, except the last stage. */
function stackV2(x: ST, depths: Depths): ST {
  STAGE_FILTERS.forEach((filters, i) => {
    x = stack2(x, filters, depths[i], `conv${i + 2}`, i === 3 ? 1 : 2);
  });
  return x;
}

/**
 * Keras's `ResNet`: stem, stages, v2's final BN + ReLU, then the top (`avg_pool` and a dense
 * `predictions`) or the optional `avg_pool` / `max_pool`.
 */
async function buildResNet(unit: string, modelName: string, depths: Depths, preact: boolean, args: ApplicationArgs | undefined): Promise<tf.LayersModel> {
  const resolved = resolveApplicationArgs({ name: unit, defaultSize: 224, minSize: 32 }, args);
  let x = pad(resolved.input, 3, "conv1_pad");
  x = conv(x, 64, 7, "conv1_conv", { strides: 2 });
  if (!preact) x = relu(bn(x, "conv1_bn"), "conv1_relu");
  x = pad(x, 1, "pool1_pad");
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1_pool" }).apply(x) as ST;

  x = preact ? stackV2(x, depths) : stackV1(x, depths);
  if (preact) x = relu(bn(x, "post_bn"), "post_relu");

  x = poolAndClassify(x, resolved, { avg: "avg_pool", max: "max_pool" });
  return finishApplication(modelName, resolved, x, imagenetWeights(modelName));
}

/**
 * ResNet50 (He et al., 2015), v1 with Keras's layout: stages of 3, 4, 6, 3 bottleneck blocks;
 * 25,636,712 parameters with the top (53,120 of them the non-trainable BatchNormalization
 * statistics), 23,587,712 without.
 *
 * Input: `[batch, 224, 224, 3]` by default, or `inputShape` `[h, w, 3]` with h, w ≥ 32 (null
 * without the top); pixels as `resnet50.preprocess_input` makes them ("caffe" mode: RGB → BGR,
 * ImageNet channel means subtracted, no scaling). Output: `[batch, classes]` with the top; else
 * `[batch, h/32, w/32, 2048]` (`conv5_block3_out`), or `[batch, 2048]` with `pooling`.
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `resnet50`.
 * @throws ConvlabError on invalid options (the Keras rules of {@link resolveApplicationArgs}),
 *   or when the weights cannot be loaded.
 *
 * ```ts
 * const base = await ResNet50({ includeTop: false, weights: null, pooling: "avg" });
 * base.outputs[0].shape; // [null, 2048]
 * ```
 *
 * Keras equivalent: `keras.applications.ResNet50(include_top=True, weights="imagenet",
 * input_tensor=None, input_shape=None, pooling=None, classes=1000)` (and
 * `classifier_activation`, which Keras 2 takes through `**kwargs`).
 */
export async function ResNet50(args?: ResNet50Args): Promise<tf.LayersModel> {
  return buildResNet("ResNet50", "resnet50", [3, 4, 6, 3], false, args);
}

/**
 * ResNet101, v1: stages of 3, 4, 23, 3 bottleneck blocks; 44,707,176 parameters with the top,
 * 42,658,176 without. Input and output as {@link ResNet50} (`resnet.preprocess_input`, "caffe"
 * mode).
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `resnet101`.
 * @throws ConvlabError on invalid options, or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await ResNet101({ weights: null });
 * ```
 *
 * Keras equivalent: `keras.applications.ResNet101(...)`, same arguments as ResNet50.
 */
export async function ResNet101(args?: ResNet101Args): Promise<tf.LayersModel> {
  return buildResNet("ResNet101", "resnet101", [3, 4, 23, 3], false, args);
}

/**
 * ResNet152, v1: stages of 3, 8, 36, 3 bottleneck blocks; 60,419,944 parameters with the top,
 * 58,370,944 without. Input and output as {@link ResNet50} (`resnet.preprocess_input`, "caffe"
 * mode).
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `resnet152`.
 * @throws ConvlabError on invalid options, or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await ResNet152({ weights: null });
 * ```
 *
 * Keras equivalent: `keras.applications.ResNet152(...)`, same arguments as ResNet50.
 */
export async function ResNet152(args?: ResNet152Args): Promise<tf.LayersModel> {
  return buildResNet("ResNet152", "resnet152", [3, 8, 36, 3], false, args);
}

/**
 * ResNet50V2 (He et al., 2016, "Identity Mappings"): pre-activation blocks in stages of 3, 4,
 * 6, 3; 25,613,800 parameters with the top (45,440 non-trainable), 23,564,800 without.
 *
 * Input: `[batch, 224, 224, 3]` by default, or `inputShape` `[h, w, 3]` with h, w ≥ 32 (null
 * without the top); pixels in [-1, 1] as `resnet_v2.preprocess_input` makes them ("tf" mode:
 * `x / 127.5 - 1`). Output: `[batch, classes]` with the top; else `[batch, h/32, w/32, 2048]`
 * (`post_relu`), or `[batch, 2048]` with `pooling`.
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `resnet50v2`.
 * @throws ConvlabError on invalid options (the Keras rules of {@link resolveApplicationArgs}),
 *   or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await ResNet50V2({ weights: null, classes: 5, classifierActivation: null });
 * ```
 *
 * Keras equivalent: `keras.applications.ResNet50V2(include_top=True, weights="imagenet",
 * input_tensor=None, input_shape=None, pooling=None, classes=1000, classifier_activation="softmax")`.
 */
export async function ResNet50V2(args?: ResNet50V2Args): Promise<tf.LayersModel> {
  return buildResNet("ResNet50V2", "resnet50v2", [3, 4, 6, 3], true, args);
}

/**
 * ResNet101V2: pre-activation blocks in stages of 3, 4, 23, 3; 44,675,560 parameters with the
 * top, 42,626,560 without. Input and output as {@link ResNet50V2} (`resnet_v2.preprocess_input`,
 * pixels in [-1, 1]).
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `resnet101v2`.
 * @throws ConvlabError on invalid options, or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await ResNet101V2({ weights: null });
 * ```
 *
 * Keras equivalent: `keras.applications.ResNet101V2(...)`, same arguments as ResNet50V2.
 */
export async function ResNet101V2(args?: ResNet101V2Args): Promise<tf.LayersModel> {
  return buildResNet("ResNet101V2", "resnet101v2", [3, 4, 23, 3], true, args);
}

/**
 * ResNet152V2: pre-activation blocks in stages of 3, 8, 36, 3; 60,380,648 parameters with the
 * top, 58,331,648 without. Input and output as {@link ResNet50V2} (`resnet_v2.preprocess_input`,
 * pixels in [-1, 1]).
 *
 * @param args Keras's options ({@link ApplicationArgs}); `weights` defaults to `"imagenet"`.
 * @returns The model, named `resnet152v2`.
 * @throws ConvlabError on invalid options, or when the weights cannot be loaded.
 *
 * ```ts
 * const model = await ResNet152V2({ weights: null });
 * ```
 *
 * Keras equivalent: `keras.applications.ResNet152V2(...)`, same arguments as ResNet50V2.
 */
export async function ResNet152V2(args?: ResNet152V2Args): Promise<tf.LayersModel> {
  return buildResNet("ResNet152V2", "resnet152v2", [3, 8, 36, 3], true, args);
}
