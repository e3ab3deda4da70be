/**
 * DenseNet121, DenseNet169 and DenseNet201 (Huang et al., "Densely Connected Convolutional
 * Networks", CVPR 2017) with tf.keras 2.15's layer names, layer order and weights, so that
 * Keras's `.h5` ImageNet files map onto them by layer name.
 */
import * as tf from "@tensorflow/tfjs";
import { KERAS_INIT, finishApplication, resolveApplicationArgs, kerasWeightFiles, poolAndClassify } from "./common";
import type { ApplicationArgs, ImagenetWeights, InputSpec } from "./common";

/** Options of the DenseNet builders: Keras's application arguments, nothing more. */
export type DenseNetArgs = ApplicationArgs;

/** Keras's published files and md5 hashes (`keras/applications/densenet.py`). */
const IMAGENET: Record<121 | 169 | 201, ImagenetWeights> = {
  121: kerasWeightFiles("densenet", "densenet121", "9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
  169: kerasWeightFiles("densenet", "densenet169", "d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
  201: kerasWeightFiles("densenet", "densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
};

/** Building blocks of the four dense blocks, per depth (Keras's `blocks`). */
const BLOCKS: Record<121 | 169 | 201, readonly [number, number, number, number]> = {
  121: [6, 12, 24, 16],
  169: [6, 12, 32, 32],
  201: [6, 12, 48, 32],
};

const BN_EPSILON = 1.001e-5;
const GROWTH_RATE = 32;

type Sym = tf.SymbolicTensor;

function bn(x: Sym, name: string): Sym {
  return tf.layers.batchNormalization({ axis: 3, epsilon: BN_EPSILON, name }).apply(x) as Sym;
}

function relu(x: Sym, name: string): Sym {
  return tf.layers.activation({ activation: "relu", name }).apply(x) as Sym;
}

function conv(x: Sym, filters: number, kernelSize: number, name: string, padding: "valid" | "same" = "valid", strides = 1): Sym {
  return tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, kernelInitializer: KERAS_INIT, name }).apply(x) as Sym;
}

/** One building block: BN-ReLU-1x1 conv (4·growth) - BN-ReLU-3x3 conv (growth), concatenated to its input. */
function convBlock(x: Sym, name: string): Sym {
  let y = relu(bn(x, `${name}_0_bn`), `${name}_0_relu`);
  y = conv(y, 4 * GROWTH_RATE, 1, `${name}_1_conv`);
  y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
  y = conv(y, GROWTH_RATE, 3, `${name}_2_conv`, "same");
  return tf.layers.concatenate({ axis: 3, name: `${name}_concat` }).apply([x, y]) as Sym;
}

function denseBlock(x: Sym, blocks: number, name: string): Sym {
  for (let i = 1; i <= blocks; i++) x = convBlock(x, `${name}_block${i}`);
  return x;
}

/** BN-ReLU-1x1 conv halving the channels, then 2x2 average pooling with stride 2. */
function transitionBlock(x: Sym, reduction: number, name: string): Sym {
  x = relu(bn(x, `${name}_bn`), `${name}_relu`);
  // Keras: int(channels * reduction), truncating.
  x = conv(x, Math.trunc((x.shape[3] as number) * reduction), 1, `${name}_conv`);
  return tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }).apply(x) as Sym;
}

async function denseNet(depth: 121 | 169 | 201, unit: string, args: DenseNetArgs | undefined): Promise<tf.LayersModel> {
  const spec: InputSpec = { name: unit, defaultSize: 224, minSize: 32 };
  const resolved = resolveApplicationArgs(spec, args);
  const blocks = BLOCKS[depth];

  // The two ZeroPadding2D are unnamed in Keras: these are the names a fresh Keras process gives them.
  let x = tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: "zero_padding2d" }).apply(resolved.input) as Sym;
  x = conv(x, 64, 7, "conv1/conv", "valid", 2);
  x = relu(bn(x, "conv1/bn"), "conv1/relu");
  x = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: "zero_padding2d_1" }).apply(x) as Sym;
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: "pool1" }).apply(x) as Sym;

  x = denseBlock(x, blocks[0], "conv2");
  x = transitionBlock(x, 0.5, "pool2");
  x = denseBlock(x, blocks[1], "conv3");
  x = transitionBlock(x, 0.5, "pool3");
  x = denseBlock(x, blocks[2], "conv4");
  x = transitionBlock(x, 0.5, "pool4");
  x = denseBlock(x, blocks[3], "conv5");
  x = relu(bn(x, "bn"), "relu");

  x = poolAndClassify(x, resolved, { avg: "avg_pool", max: "max_pool" });
  return finishApplication(`densenet${depth}`, resolved, x, IMAGENET[depth]);
}

/**
 * DenseNet-121: a 7x7 stem, four dense blocks of 6, 12, 24 and 16 building blocks (growth
 * rate 32) joined by halving transitions, and a global-average-pooled softmax classifier.
 *
 * Input: `[batch, 224, 224, 3]` by default (any size ≥ 32x32 without the top), RGB images
 * preprocessed as Keras's `densenet.preprocess_input` does ("torch" mode): pixels scaled to
 * [0, 1], then standardised per channel with ImageNet's mean `[0.485, 0.456, 0.406]` and
 * standard deviation `[0.229, 0.224, 0.225]`.
 * Output: `[batch, classes]` with the top; without it `[batch, h/32, w/32, 1024]`, or
 * `[batch, 1024]` with `pooling`. 8,062,504 parameters with the top, 7,037,504 without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}); `weights` defaults to
 *   `"imagenet"` (Keras's file, looked up locally or downloaded).
 * @returns the model `densenet121`, with Keras's layer names (`conv1/conv`, `conv2_block1_0_bn`, …).
 * @throws ConvlabError on invalid options (see {@link resolveApplicationArgs}) or weights that
 *   cannot be loaded.
 *
 * ```ts
 * const base = await DenseNet121({ includeTop: false, weights: null, inputShape: [160, 160, 3], pooling: "avg" });
 * base.outputs[0].shape;   // [null, 1024]
 * ```
 *
 * Keras equivalent: `keras.applications.DenseNet121(include_top=True, weights="imagenet", …)`.
 */
export async function DenseNet121(args?: DenseNetArgs): Promise<tf.LayersModel> {
  return denseNet(121, "DenseNet121", args);
}

/**
 * DenseNet-169: as {@link DenseNet121} with dense blocks of 6, 12, 32 and 32 building blocks.
 *
 * Input: `[batch, 224, 224, 3]` by default (≥ 32x32 without the top), preprocessed as Keras's
 * `densenet.preprocess_input` ("torch" mode: [0, 1], then ImageNet mean/std per channel).
 * Output: `[batch, classes]`, or `[batch, h/32, w/32, 1664]` (`[batch, 1664]` pooled) without
 * the top. 14,307,880 parameters with the top, 12,642,880 without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}).
 * @returns the model `densenet169`, with Keras's layer names.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await DenseNet169({ weights: null, classes: 10 });
 * ```
 *
 * Keras equivalent: `keras.applications.DenseNet169(...)`.
 */
export async function DenseNet169(args?: DenseNetArgs): Promise<tf.LayersModel> {
  return denseNet(169, "DenseNet169", args);
}

/**
 * DenseNet-201: as {@link DenseNet121} with dense blocks of 6, 12, 48 and 32 building blocks.
 *
 * Input: `[batch, 224, 224, 3]` by default (≥ 32x32 without the top), preprocessed as Keras's
 * `densenet.preprocess_input` ("torch" mode: [0, 1], then ImageNet mean/std per channel).
 * Output: `[batch, classes]`, or `[batch, h/32, w/32, 1920]` (`[batch, 1920]` pooled) without
 * the top. 20,242,984 parameters with the top, 18,321,984 without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}).
 * @returns the model `densenet201`, with Keras's layer names.
 * @throws ConvlabError on invalid options or weights that cannot be loaded.
 *
 * ```ts
 * const model = await DenseNet201({ includeTop: false, weights: null, pooling: "max" });
 * ```
 *
 * Keras equivalent: `keras.applications.DenseNet201(...)`.
 */
export async function DenseNet201(args?: DenseNetArgs): Promise<tf.LayersModel> {
  return denseNet(201, "DenseNet201", args);
}
