/**
 * NASNetMobile and NASNetLarge (Zoph et al., "Learning Transferable Architectures for Scalable
 * Image Recognition", CVPR 2018; the NASNet-A cells) with tf.keras 2.15's layers in Keras's
 * order and names (unnamed ones as a fresh Keras process names them), so that Keras's `.h5`
 * ImageNet weights map onto them by layer name.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { autoNames, correctPad, finishApplication, resolveApplicationArgs, poolAndClassify } from "./common";
import type { ApplicationArgs, ImagenetWeights, InputSpec } from "./common";
import { KerasVarianceScaling } from "./initializers";

/** Options of the NASNet builders: Keras's application arguments, nothing more. */
export type NASNetArgs = ApplicationArgs;

type Sym = tf.SymbolicTensor;

const BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/";

/** Keras's published files (saved under these names) and md5 hashes (`keras/applications/nasnet.py`). */
const IMAGENET: Record<"mobile" | "large", ImagenetWeights> = {
  mobile: {
    top: { file: "nasnet_mobile.h5", url: `${BASE_URL}NASNet-mobile.h5`, hash: "020fb642bf7360b370c678b08e0adf61" },
    notop: { file: "nasnet_mobile_no_top.h5", url: `${BASE_URL}NASNet-mobile-no-top.h5`, hash: "1ed92395b5b598bdda52abe5c0dbfd63" },
  },
  large: {
    top: { file: "nasnet_large.h5", url: `${BASE_URL}NASNet-large.h5`, hash: "11577c9a518f0070763c2b964a382f17" },
    notop: { file: "nasnet_large_no_top.h5", url: `${BASE_URL}NASNet-large-no-top.h5`, hash: "d81d89dc07e6e56530c4e77faddd61b5" },
  },
};

/** NASNet's hyper-parameters (Keras's `NASNet(...)` arguments). */
interface NASNetConfig {
  unit: string;
  weights: ImagenetWeights;
  defaultSize: number;
  /** Channels of the last cell's output; a multiple of 24 · filterMultiplier². */
  penultimateFilters: number;
  /** Normal cells between reductions (N). */
  numBlocks: number;
  stemBlockFilters: number;
  /** Whether the cell after a reduction sees the reduction's input's predecessor (Large) or its input (Mobile). */
  skipReduction: boolean;
  filterMultiplier: number;
}

const MOBILE: NASNetConfig = {
  unit: "NASNetMobile", weights: IMAGENET.mobile, defaultSize: 224,
  penultimateFilters: 1056, numBlocks: 4, stemBlockFilters: 32, skipReduction: false, filterMultiplier: 2,
};
const LARGE: NASNetConfig = {
  unit: "NASNetLarge", weights: IMAGENET.large, defaultSize: 331,
  penultimateFilters: 4032, numBlocks: 6, stemBlockFilters: 96, skipReduction: true, filterMultiplier: 2,
};

/** The layers of one NASNet-A network, with the model's name counter. */
class NASNetBuilder {
  private readonly name = autoNames();

  private relu(x: Sym, name?: string): Sym {
    return tf.layers.activation({ activation: "relu", name: name ?? this.name("activation") }).apply(x) as Sym;
  }

  /** Keras's BatchNormalization of NASNet: momentum 0.9997, epsilon 1e-3, with gamma. */
  private bn(x: Sym, name: string): Sym {
    return tf.layers.batchNormalization({ axis: -1, momentum: 0.9997, epsilon: 1e-3, name }).apply(x) as Sym;
  }

  /** A 1x1 Conv2D without bias, Keras's `he_normal` initialiser. */
  conv(x: Sym, filters: number, name: string, kernelSize = 1, strides = 1, padding: "same" | "valid" = "same"): Sym {
    return tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias: false, kernelInitializer: new KerasVarianceScaling({ scale: 2, mode: "fanIn" }), name }).apply(x) as Sym;
  }

  stem(input: Sym, filters: number): Sym {
    return this.bn(this.conv(input, filters, "stem_conv1", 3, 2, "valid"), "stem_bn1");
  }

  /** ReLU – separable conv (strided with Keras's padding) – BN – ReLU – separable conv – BN. */
  private separableConvBlock(ip: Sym, filters: number, kernelSize: number, strides: 1 | 2, blockId: string): Sym {
    let x = this.relu(ip);
    let padding: "same" | "valid" = "same";
    if (strides === 2) {
      x = tf.layers.zeroPadding2d({ padding: correctPad(x, kernelSize), name: `separable_conv_1_pad_${blockId}` }).apply(x) as Sym;
      padding = "valid";
    }
    // Keras passes kernel_initializer="he_normal", which SeparableConv2D ignores: glorot-uniform kernels.
    x = tf.layers.separableConv2d({ filters, kernelSize, strides, padding, useBias: false, name: `separable_conv_1_${blockId}` }).apply(x) as Sym;
    x = this.bn(x, `separable_conv_1_bn_${blockId}`);
    x = this.relu(x);
    x = tf.layers.separableConv2d({ filters, kernelSize, padding: "same", useBias: false, name: `separable_conv_2_${blockId}` }).apply(x) as Sym;
    return this.bn(x, `separable_conv_2_bn_${blockId}`);
  }

  /** Brings the previous cell's output `p` to the size and channels of this cell's input `ip`. */
  private adjustBlock(p: Sym | null, ip: Sym, filters: number, blockId: string): Sym {
    if (p === null) return ip;
    if (p.shape[2] !== ip.shape[2]) {
      // Halve p's size along two paths (the second shifted by one pixel), then concatenate.
      p = this.relu(p, `adjust_relu_1_${blockId}`);
      let p1 = tf.layers.averagePooling2d({ poolSize: 1, strides: 2, padding: "valid", name: `adjust_avg_pool_1_${blockId}` }).apply(p) as Sym;
      p1 = this.conv(p1, Math.floor(filters / 2), `adjust_conv_1_${blockId}`);
      let p2 = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: this.name("zero_padding2d") }).apply(p) as Sym;
      p2 = tf.layers.cropping2D({ cropping: [[1, 0], [1, 0]], name: this.name("cropping2d") }).apply(p2) as Sym;
      p2 = tf.layers.averagePooling2d({ poolSize: 1, strides: 2, padding: "valid", name: `adjust_avg_pool_2_${blockId}` }).apply(p2) as Sym;
      p2 = this.conv(p2, Math.floor(filters / 2), `adjust_conv_2_${blockId}`);
      p = tf.layers.concatenate({ axis: -1, name: this.name("concatenate") }).apply([p1, p2]) as Sym;
      return this.bn(p, `adjust_bn_${blockId}`);
    }
    if (p.shape[3] !== filters) {
      p = this.relu(p);
      p = this.conv(p, filters, `adjust_conv_projection_${blockId}`);
      return this.bn(p, `adjust_bn_${blockId}`);
    }
    return p;
  }

  private add(a: Sym, b: Sym, name?: string): Sym {
    return tf.layers.add({ name: name ?? this.name("add") }).apply([a, b]) as Sym;
  }

  private avgPool(x: Sym, strides: 1 | 2, name: string): Sym {
    return tf.layers.averagePooling2d({ poolSize: 3, strides, padding: strides === 1 ? "same" : "valid", name }).apply(x) as Sym;
  }

  /** The normal cell: five pairwise-summed branches on `h` (this input) and `p` (previous), concatenated with `p`. */
  normalCell(ip: Sym, prev: Sym | null, filters: number, id: string): [Sym, Sym] {
    const p = this.adjustBlock(prev, ip, filters, id);
    let h = this.relu(ip);
    h = this.conv(h, filters, `normal_conv_1_${id}`);
    h = this.bn(h, `normal_bn_1_${id}`);

    const x11 = this.separableConvBlock(h, filters, 5, 1, `normal_left1_${id}`);
    const x12 = this.separableConvBlock(p, filters, 3, 1, `normal_right1_${id}`);
    const x1 = this.add(x11, x12, `normal_add_1_${id}`);

    const x21 = this.separableConvBlock(p, filters, 5, 1, `normal_left2_${id}`);
    const x22 = this.separableConvBlock(p, filters, 3, 1, `normal_right2_${id}`);
    const x2 = this.add(x21, x22, `normal_add_2_${id}`);

    const x3 = this.add(this.avgPool(h, 1, `normal_left3_${id}`), p, `normal_add_3_${id}`);

    const x41 = this.avgPool(p, 1, `normal_left4_${id}`);
    const x42 = this.avgPool(p, 1, `normal_right4_${id}`);
    const x4 = this.add(x41, x42, `normal_add_4_${id}`);

    const x5 = this.add(this.separableConvBlock(h, filters, 3, 1, `normal_left5_${id}`), h, `normal_add_5_${id}`);

    const x = tf.layers.concatenate({ axis: -1, name: `normal_concat_${id}` }).apply([p, x1, x2, x3, x4, x5]) as Sym;
    return [x, ip];
  }

  /** The reduction cell: halves height and width; four branch sums concatenated. */
  reductionCell(ip: Sym, prev: Sym | null, filters: number, id: string): [Sym, Sym] {
    const p = this.adjustBlock(prev, ip, filters, id);
    let h = this.relu(ip);
    h = this.conv(h, filters, `reduction_conv_1_${id}`);
    h = this.bn(h, `reduction_bn_1_${id}`);
    const h3 = tf.layers.zeroPadding2d({ padding: correctPad(h, 3), name: `reduction_pad_1_${id}` }).apply(h) as Sym;

    const x11 = this.separableConvBlock(h, filters, 5, 2, `reduction_left1_${id}`);
    const x12 = this.separableConvBlock(p, filters, 7, 2, `reduction_right1_${id}`);
    const x1 = this.add(x11, x12, `reduction_add_1_${id}`);

    const x21 = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "valid", name: `reduction_left2_${id}` }).apply(h3) as Sym;
    const x22 = this.separableConvBlock(p, filters, 7, 2, `reduction_right2_${id}`);
    const x2 = this.add(x21, x22, `reduction_add_2_${id}`);

    const x31 = this.avgPool(h3, 2, `reduction_left3_${id}`);
    const x32 = this.separableConvBlock(p, filters, 5, 2, `reduction_right3_${id}`);
    const x3 = this.add(x31, x32, `reduction_add3_${id}`);

    const x4 = this.add(x2, this.avgPool(x1, 1, `reduction_left4_${id}`));

    const x51 = this.separableConvBlock(x1, filters, 3, 1, `reduction_left4_${id}`);
    const x52 = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "valid", name: `reduction_right5_${id}` }).apply(h3) as Sym;
    const x5 = this.add(x51, x52, `reduction_add4_${id}`);

    const x = tf.layers.concatenate({ axis: -1, name: `reduction_concat_${id}` }).apply([x2, x3, x4, x5]) as Sym;
    return [x, ip];
  }

  /** The final ReLU, unnamed in Keras. */
  finalRelu(x: Sym): Sym {
    return this.relu(x);
  }

  autoName(prefix: string): string {
    return this.name(prefix);
  }
}

async function nasnet(config: NASNetConfig, args: NASNetArgs | undefined): Promise<tf.LayersModel> {
  const { unit } = config;
  const spec: InputSpec = { name: unit, defaultSize: config.defaultSize, minSize: 32 };
  const resolved = resolveApplicationArgs(spec, args);
  const [height, width] = resolved.input.shape.slice(1, 3);
  if (height == null || width == null) {
    // Keras would build a graph whose cells pair feature maps of different sizes (it compares
    // sizes while building, and None equals None), failing at the first call.
    throw fail(
      `${unit}: NASNet needs a known height and width: its cells compare feature-map sizes while building. Received: input shape ${show(resolved.input.shape)}. Pass inputShape, e.g. [${config.defaultSize}, ${config.defaultSize}, 3].`,
    );
  }
  const fm = config.filterMultiplier;
  const filters = Math.floor(config.penultimateFilters / 24);
  const b = new NASNetBuilder();

  let x = b.stem(resolved.input, config.stemBlockFilters);
  let p: Sym | null = null;
  [x, p] = b.reductionCell(x, p, Math.floor(filters / fm ** 2), "stem_1");
  [x, p] = b.reductionCell(x, p, Math.floor(filters / fm), "stem_2");
  for (let i = 0; i < config.numBlocks; i++) [x, p] = b.normalCell(x, p, filters, `${i}`);

  let p0: Sym;
  [x, p0] = b.reductionCell(x, p, filters * fm, `reduce_${config.numBlocks}`);
  p = config.skipReduction ? p : p0;
  for (let i = 0; i < config.numBlocks; i++) [x, p] = b.normalCell(x, p, filters * fm, `${config.numBlocks + i + 1}`);

  [x, p0] = b.reductionCell(x, p, filters * fm ** 2, `reduce_${2 * config.numBlocks}`);
  p = config.skipReduction ? p : p0;
  for (let i = 0; i < config.numBlocks; i++) [x, p] = b.normalCell(x, p, filters * fm ** 2, `${2 * config.numBlocks + i + 1}`);

  x = b.finalRelu(x);
  const pool = b.autoName("global_average_pooling2d");
  x = poolAndClassify(x, resolved, { top: pool, avg: pool, max: b.autoName("global_max_pooling2d") });
  return finishApplication("NASNet", resolved, x, config.weights);
}

/**
 * NASNet-A Mobile (4 @ 1056): a 3x3 stem, two reduction cells, then three stacks of 4 normal
 * cells separated by reduction cells (44, 88, 176 filters per branch), a ReLU and a
 * global-average-pooled softmax classifier.
 *
 * Input: `[batch, 224, 224, 3]` by default (≥ 32x32 without the top; height and width must be
 * known), RGB scaled to [-1, 1] as Keras's `nasnet.preprocess_input` does (`x / 127.5 - 1`).
 * Output: `[batch, classes]` with the top; without it `[batch, h/32, w/32, 1056]` (7x7 for
 * 224x224), or `[batch, 1056]` with `pooling`. 5,326,716 parameters with the top, 4,269,716
 * without.
 *
 * Layer names as Keras: `stem_conv1`, `reduction_conv_1_stem_1`, `separable_conv_1_normal_left1_0`,
 * `normal_concat_12`, …; unnamed ReLUs, paddings, crops, concatenations and sums as a fresh Keras
 * process names them (`activation`, `zero_padding2d`, `cropping2d`, `concatenate`, `add`, each
 * then `_1`, …).
 *
 * @param args Keras's application options ({@link ApplicationArgs}); `weights` defaults to
 *   `"imagenet"` (Keras's file, looked up locally or downloaded).
 * @returns the model `NASNet`.
 * @throws ConvlabError on invalid options (see {@link resolveApplicationArgs}), an input whose
 *   height or width is unknown, or weights that cannot be loaded.
 *
 * ```ts
 * const base = await NASNetMobile({ includeTop: false, weights: null, inputShape: [160, 160, 3], pooling: "avg" });
 * base.outputs[0].shape;   // [null, 1056]
 * ```
 *
 * Keras equivalent: `keras.applications.NASNetMobile(input_shape=None, include_top=True, weights="imagenet", …)`.
 * Difference: Keras accepts an unknown height/width and builds a model that fails when called;
 * this builder throws instead.
 */
export async function NASNetMobile(args?: NASNetArgs): Promise<tf.LayersModel> {
  return nasnet(MOBILE, args);
}

/**
 * NASNet-A Large (6 @ 4032): as {@link NASNetMobile} with a 96-filter stem, three stacks of 6
 * normal cells (168, 336, 672 filters per branch) and reductions skipped by the following cell.
 * About 356 MB of float32 weights.
 *
 * Input: `[batch, 331, 331, 3]` by default (≥ 32x32 without the top; height and width must be
 * known), RGB scaled to [-1, 1] as Keras's `nasnet.preprocess_input` does.
 * Output: `[batch, classes]` with the top; without it `[batch, ⌈h/32⌉, ⌈w/32⌉, 4032]` (11x11
 * for 331x331), or `[batch, 4032]` with `pooling`. 88,949,818 parameters with the top,
 * 84,916,818 without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}).
 * @returns the model `NASNet`.
 * @throws ConvlabError on invalid options, an input whose height or width is unknown, or
 *   weights that cannot be loaded.
 *
 * ```ts
 * const base = await NASNetLarge({ includeTop: false, weights: null, inputShape: [331, 331, 3] });
 * ```
 *
 * Keras equivalent: `keras.applications.NASNetLarge(input_shape=None, include_top=True, weights="imagenet", …)`.
 */
export async function NASNetLarge(args?: NASNetArgs): Promise<tf.LayersModel> {
  return nasnet(LARGE, args);
}
