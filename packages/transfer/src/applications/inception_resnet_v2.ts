/**
 * InceptionResNetV2 (Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual
 * Connections on Learning", AAAI 2017) with tf.keras 2.15's layers in Keras's order and with the
 * names a fresh Keras process gives them, so that Keras's `.h5` ImageNet weights map onto it by
 * layer name; and `CustomScaleLayer`, the weightless residual scaling Keras uses.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { KERAS_INIT, autoNames, finishApplication, resolveApplicationArgs, kerasWeightFiles, poolAndClassify } from "./common";
import type { ApplicationArgs, InputSpec } from "./common";

/** Options of {@link InceptionResNetV2}: Keras's application arguments, nothing more. */
export type InceptionResNetV2Args = ApplicationArgs;

/** Options of {@link CustomScaleLayer}: the scale and the usual layer options (`name`, …). */
export interface CustomScaleLayerArgs extends NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]> {
  /** Factor of the residual branch: 0.17, 0.1, 0.2 or 1 in InceptionResNetV2. Any finite number. */
  scale: number;
}

/**
 * The residual sum of an Inception-ResNet block: `inputs[0] + inputs[1] · scale`, with no
 * weights.
 *
 * Input: two tensors of the same shape `[x, residual]`; output: that shape.
 *
 * @throws ConvlabError when `scale` is not a finite number.
 *
 * ```ts
 * const y = new CustomScaleLayer({ scale: 0.17 }).apply([x, up]);
 * ```
 *
 * Keras equivalent: `keras.applications.inception_resnet_v2.CustomScaleLayer(scale)` (tf.keras
 * ≥ 2.12; earlier versions used a `Lambda` named after the block, e.g. `block35_1`).
 */
export class CustomScaleLayer extends tf.layers.Layer {
  /** The class name in saved models, as Keras. */
  static className = "CustomScaleLayer";
  /** Factor of the second input. */
  readonly scale: number;

  constructor(args: CustomScaleLayerArgs) {
    const { scale, ...layerArgs } = args ?? ({} as CustomScaleLayerArgs);
    if (typeof scale !== "number" || !Number.isFinite(scale)) {
      throw fail(`CustomScaleLayer: invalid scale. Expected a finite number. Received: scale=${show(scale)}.`);
    }
    super(layerArgs);
    this.scale = scale;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw fail(`CustomScaleLayer: invalid inputs. Expected two tensors [x, residual]. Received: ${Array.isArray(inputs) ? `${inputs.length} tensors` : "one tensor"}.`);
      }
      return tf.add(inputs[0], tf.mul(inputs[1], this.scale));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(CustomScaleLayer);

/** Keras's published files and md5 hashes (`keras/applications/inception_resnet_v2.py`). */
const IMAGENET = kerasWeightFiles("inception_resnet_v2", "inception_resnet_v2", "e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4");

type Sym = tf.SymbolicTensor;
type Kernel = number | [number, number];

/**
 * InceptionResNetV2: an Inception stem to 35x35x320 (`mixed_5b`), 10 Inception-ResNet-A blocks
 * (`block35_1` … `_10`, residual scale 0.17), a reduction (`mixed_6a`), 20 B blocks (`block17_*`,
 * 0.1), a reduction (`mixed_7a`), 10 C blocks (`block8_*`, 0.2; the last unscaled and without
 * ReLU), a 1x1 conv to 1536 channels (`conv_7b`) and a global-average-pooled classifier.
 *
 * Unnamed layers in Keras get the names a fresh Keras process gives them (`conv2d`,
 * `batch_normalization` without gamma, `activation`, `max_pooling2d`, `average_pooling2d`,
 * `custom_scale_layer`, each then `_1`, `_2`, …).
 *
 * Input: `[batch, 299, 299, 3]` by default (≥ 75x75 without the top), RGB scaled to [-1, 1] as
 * Keras's `inception_resnet_v2.preprocess_input` does (`x / 127.5 - 1`).
 * Output: `[batch, classes]` with the top; without it `[batch, h', w', 1536]` (8x8 for 299x299),
 * or `[batch, 1536]` with `pooling`. 55,873,736 parameters with the top, 54,336,736 without.
 *
 * @param args Keras's application options ({@link ApplicationArgs}); `weights` defaults to
 *   `"imagenet"` (Keras's file, looked up locally or downloaded).
 * @returns the model `inception_resnet_v2`.
 * @throws ConvlabError on invalid options (see {@link resolveApplicationArgs}) or weights that
 *   cannot be loaded.
 *
 * ```ts
 * const base = await InceptionResNetV2({ includeTop: false, weights: null, inputShape: [150, 150, 3], pooling: "avg" });
 * base.outputs[0].shape;   // [null, 1536]
 * ```
 *
 * Keras equivalent: `keras.applications.InceptionResNetV2(include_top=True, weights="imagenet", …)`.
 */
export async function InceptionResNetV2(args?: InceptionResNetV2Args): Promise<tf.LayersModel> {
  const spec: InputSpec = { name: "InceptionResNetV2", defaultSize: 299, minSize: 75 };
  const resolved = resolveApplicationArgs(spec, args);
  const name = autoNames();

  /** Keras's conv2d_bn: Conv2D, BatchNormalization without gamma unless the conv has a bias, activation. */
  const convBn = (x: Sym, filters: number, kernelSize: Kernel, opts: { strides?: number; padding?: "same" | "valid"; activation?: "relu" | null; useBias?: boolean; name?: string } = {}): Sym => {
    const { strides = 1, padding = "same", activation = "relu", useBias = false, name: base } = opts;
    x = tf.layers.conv2d({ filters, kernelSize, strides, padding, useBias, kernelInitializer: KERAS_INIT, name: base ?? name("conv2d") }).apply(x) as Sym;
    if (!useBias) x = tf.layers.batchNormalization({ axis: 3, scale: false, name: base ? `${base}_bn` : name("batch_normalization") }).apply(x) as Sym;
    if (activation) x = tf.layers.activation({ activation, name: base ? `${base}_ac` : name("activation") }).apply(x) as Sym;
    return x;
  };
  const valid2 = { strides: 2, padding: "valid" } as const;
  const maxPool = (x: Sym): Sym => tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: name("max_pooling2d") }).apply(x) as Sym;
  const concat = (xs: Sym[], layerName: string): Sym => tf.layers.concatenate({ axis: 3, name: layerName }).apply(xs) as Sym;

  const block = (x: Sym, scale: number, type: "block35" | "block17" | "block8", index: number, activation: "relu" | null = "relu"): Sym => {
    let branches: Sym[];
    if (type === "block35") {
      const b0 = convBn(x, 32, 1);
      const b1 = convBn(convBn(x, 32, 1), 32, 3);
      const b2 = convBn(convBn(convBn(x, 32, 1), 48, 3), 64, 3);
      branches = [b0, b1, b2];
    } else if (type === "block17") {
      const b0 = convBn(x, 192, 1);
      const b1 = convBn(convBn(convBn(x, 128, 1), 160, [1, 7]), 192, [7, 1]);
      branches = [b0, b1];
    } else {
      const b0 = convBn(x, 192, 1);
      const b1 = convBn(convBn(convBn(x, 192, 1), 224, [1, 3]), 256, [3, 1]);
      branches = [b0, b1];
    }
    const blockName = `${type}_${index}`;
    const mixed = concat(branches, `${blockName}_mixed`);
    const up = convBn(mixed, x.shape[3] as number, 1, { activation: null, useBias: true, name: `${blockName}_conv` });
    let y = new CustomScaleLayer({ scale, name: name("custom_scale_layer") }).apply([x, up]) as Sym;
    if (activation) y = tf.layers.activation({ activation, name: `${blockName}_ac` }).apply(y) as Sym;
    return y;
  };

  // Stem.
  let x = convBn(resolved.input, 32, 3, valid2);
  x = convBn(x, 32, 3, { padding: "valid" });
  x = convBn(x, 64, 3);
  x = maxPool(x);
  x = convBn(x, 80, 1, { padding: "valid" });
  x = convBn(x, 192, 3, { padding: "valid" });
  x = maxPool(x);

  // mixed_5b (Inception-A): 35x35x320.
  {
    const b0 = convBn(x, 96, 1);
    const b1 = convBn(convBn(x, 48, 1), 64, 5);
    const b2 = convBn(convBn(convBn(x, 64, 1), 96, 3), 96, 3);
    const pooled = tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: "same", name: name("average_pooling2d") }).apply(x) as Sym;
    const bp = convBn(pooled, 64, 1);
    x = concat([b0, b1, b2, bp], "mixed_5b");
  }
  for (let i = 1; i <= 10; i++) x = block(x, 0.17, "block35", i);

  // mixed_6a (Reduction-A): 17x17x1088.
  {
    const b0 = convBn(x, 384, 3, valid2);
    const b1 = convBn(convBn(convBn(x, 256, 1), 256, 3), 384, 3, valid2);
    const bp = maxPool(x);
    x = concat([b0, b1, bp], "mixed_6a");
  }
  for (let i = 1; i <= 20; i++) x = block(x, 0.1, "block17", i);

  // mixed_7a (Reduction-B): 8x8x2080.
  {
    const b0 = convBn(convBn(x, 256, 1), 384, 3, valid2);
    const b1 = convBn(convBn(x, 256, 1), 288, 3, valid2);
    const b2 = convBn(convBn(convBn(x, 256, 1), 288, 3), 320, 3, valid2);
    const bp = maxPool(x);
    x = concat([b0, b1, b2, bp], "mixed_7a");
  }
  for (let i = 1; i <= 9; i++) x = block(x, 0.2, "block8", i);
  x = block(x, 1.0, "block8", 10, null);

  x = convBn(x, 1536, 1, { name: "conv_7b" });

  x = poolAndClassify(x, resolved, { avg: name("global_average_pooling2d"), max: name("global_max_pooling2d") });
  return finishApplication("inception_resnet_v2", resolved, x, IMAGENET);
}
