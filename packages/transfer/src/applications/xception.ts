/**
 * Xception (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions",
 * CVPR 2017) with tf.keras 2.15's layer names, layer order and weights, so that Keras's `.h5`
 * ImageNet weights map onto it by layer name.
 */
import * as tf from "@tensorflow/tfjs";
import { KERAS_INIT, autoNames, finishApplication, resolveApplicationArgs, kerasWeightFiles, poolAndClassify } from "./common";
import type { ApplicationArgs, InputSpec } from "./common";

/** Options of {@link Xception}: Keras's application arguments, nothing more. */
export type XceptionArgs = ApplicationArgs;

/** Keras's published files and md5 hashes (`keras/applications/xception.py`). */
const IMAGENET = kerasWeightFiles("xception", "xception", "0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97");

type Sym = tf.SymbolicTensor;

/**
 * Xception: an entry flow (two convolutions, then three residual blocks of separable
 * convolutions down to 19x19x728), a middle flow of eight residual blocks of three separable
 * convolutions, an exit flow to 2048 channels, and a global-average-pooled softmax classifier.
 *
 * Names as Keras: `block1_conv1` … `block14_sepconv2_act`; the four 1x1 residual projections and
 * their BatchNormalizations are unnamed in Keras and get the names a fresh Keras process gives
 * them (`conv2d` … `conv2d_3`, `batch_normalization` … `batch_normalization_3`), the residual
 * sums `add` … `add_11`.
 *
 * Input: `[batch, 299, 299, 3]` by default (≥ 71x71 without the top), RGB scaled to [-1, 1]
 * as Keras's `xception.preprocess_input` does (`x / 127.5 - 1`).
 * Output: `[batch, classes]` with the top; without it `[batch, h', w', 2048]` with h' ≈ h/32 (10x10
 * for 299x299, 5x5 for 150x150), or `[batch, 2048]` with `pooling`. 22,910,480 parameters with the top, 20,861,480
 * without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}); `weights` defaults to
 *   `"imagenet"` (Keras's file, looked up locally or downloaded).
 * @returns the model `xception`.
 * @throws ConvlabError on invalid options (see {@link resolveApplicationArgs}) or weights that
 *   cannot be loaded.
 *
 * ```ts
 * const base = await Xception({ includeTop: false, weights: null, inputShape: [150, 150, 3] });
 * base.outputs[0].shape;   // [null, 5, 5, 2048]
 * ```
 *
 * Keras equivalent: `keras.applications.Xception(include_top=True, weights="imagenet", …)`.
 */
export async function Xception(args?: XceptionArgs): Promise<tf.LayersModel> {
  const spec: InputSpec = { name: "Xception", defaultSize: 299, minSize: 71 };
  const resolved = resolveApplicationArgs(spec, args);
  const name = autoNames();

  const conv = (x: Sym, filters: number, kernelSize: number, layerName: string, strides = 1, padding: "same" | "valid" = "valid"): Sym =>
    tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, kernelInitializer: KERAS_INIT, name: layerName }).apply(x) as Sym;
  const sepConv = (x: Sym, filters: number, layerName: string): Sym =>
    tf.layers.separableConv2d({ filters, kernelSize: 3, padding: "same", useBias: false, name: layerName }).apply(x) as Sym;
  const bn = (x: Sym, layerName: string): Sym => tf.layers.batchNormalization({ axis: -1, name: layerName }).apply(x) as Sym;
  const relu = (x: Sym, layerName: string): Sym => tf.layers.activation({ activation: "relu", name: layerName }).apply(x) as Sym;
  const maxPool = (x: Sym, layerName: string): Sym => tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same", name: layerName }).apply(x) as Sym;
  const add = (a: Sym, b: Sym): Sym => tf.layers.add({ name: name("add") }).apply([a, b]) as Sym;
  /** The strided 1x1 projection of the entry and exit blocks (unnamed in Keras). */
  const projection = (x: Sym, filters: number): Sym => bn(conv(x, filters, 1, name("conv2d"), 2, "same"), name("batch_normalization"));

  let x = conv(resolved.input, 32, 3, "block1_conv1", 2);
  x = relu(bn(x, "block1_conv1_bn"), "block1_conv1_act");
  x = conv(x, 64, 3, "block1_conv2");
  x = relu(bn(x, "block1_conv2_bn"), "block1_conv2_act");

  // Entry flow. Block 2 starts without a ReLU (the stem's output already went through one).
  let residual = projection(x, 128);
  x = bn(sepConv(x, 128, "block2_sepconv1"), "block2_sepconv1_bn");
  x = relu(x, "block2_sepconv2_act");
  x = bn(sepConv(x, 128, "block2_sepconv2"), "block2_sepconv2_bn");
  x = add(maxPool(x, "block2_pool"), residual);

  for (const [block, filters] of [[3, 256], [4, 728]] as const) {
    residual = projection(x, filters);
    x = relu(x, `block${block}_sepconv1_act`);
    x = bn(sepConv(x, filters, `block${block}_sepconv1`), `block${block}_sepconv1_bn`);
    x = relu(x, `block${block}_sepconv2_act`);
    x = bn(sepConv(x, filters, `block${block}_sepconv2`), `block${block}_sepconv2_bn`);
    x = add(maxPool(x, `block${block}_pool`), residual);
  }

  // Middle flow: blocks 5 to 12, identity shortcuts.
  for (let block = 5; block <= 12; block++) {
    residual = x;
    for (let k = 1; k <= 3; k++) {
      const prefix = `block${block}_sepconv${k}`;
      x = relu(x, `${prefix}_act`);
      x = bn(sepConv(x, 728, prefix), `${prefix}_bn`);
    }
    x = add(x, residual);
  }

  // Exit flow.
  residual = projection(x, 1024);
  x = relu(x, "block13_sepconv1_act");
  x = bn(sepConv(x, 728, "block13_sepconv1"), "block13_sepconv1_bn");
  x = relu(x, "block13_sepconv2_act");
  x = bn(sepConv(x, 1024, "block13_sepconv2"), "block13_sepconv2_bn");
  x = add(maxPool(x, "block13_pool"), residual);

  x = bn(sepConv(x, 1536, "block14_sepconv1"), "block14_sepconv1_bn");
  x = relu(x, "block14_sepconv1_act");
  x = bn(sepConv(x, 2048, "block14_sepconv2"), "block14_sepconv2_bn");
  x = relu(x, "block14_sepconv2_act");

  x = poolAndClassify(x, resolved, { avg: name("global_average_pooling2d"), max: name("global_max_pooling2d") });
  return finishApplication("xception", resolved, x, IMAGENET);
}
