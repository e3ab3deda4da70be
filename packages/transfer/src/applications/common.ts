/**
 * What every application model shares: Keras's arguments and their rules
 * (`keras.applications.*`: `include_top`, `weights`, `input_tensor`,
 * `input_shape`, `pooling`, `classes`, `classifier_activation`), the input
 * layer, the optional global pooling, and loading the weights once built.
 *
 * An architecture file calls {@link resolveApplicationArgs} first, builds its
 * layers from `resolved.input`, and ends with {@link finishApplication}.
 */
import * as tf from "@tensorflow/tfjs";
import { expectBoolean, expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { loadWeights, resolveImagenetWeights } from "../weights";
import type { WeightsFile } from "../weights";

/** Options of every application builder (Keras's, in camelCase). */
export interface ApplicationArgs {
  /** Keep the classifier on top (Keras `include_top`). Default true. */
  includeTop?: boolean;
  /**
   * `null` (random initialisation), `"imagenet"` (Keras's ImageNet weights: looked up in
   * `CONVLAB_WEIGHTS`, then `~/.keras/models/`, then downloaded), or the path of a Keras `.h5`
   * or tfjs `model.json` file. Default `"imagenet"`, as Keras.
   */
  weights?: null | string;
  /** A symbolic tensor (from `tf.input` or a layer) to build the model on (Keras `input_tensor`). */
  inputTensor?: tf.SymbolicTensor;
  /** `[height, width, channels]`; without the top, height and width may be `null` (Keras `input_shape`). */
  inputShape?: readonly (number | null)[];
  /** Without the top: `"avg"` or `"max"` global pooling of the last feature map, or none (Keras `pooling`). */
  pooling?: null | "avg" | "max";
  /** Number of classes of the top (Keras `classes`). Default 1000. */
  classes?: number;
  /** Activation of the top's last layer: `"softmax"`, any Keras activation name, or `null` for logits. */
  classifierActivation?: null | string;
}

/** tfjs's activation names (its type is not exported from the package root). */
export type ActivationName = NonNullable<NonNullable<Parameters<typeof tf.layers.activation>[0]>["activation"]>;

/** {@link ApplicationArgs} checked and completed. */
export interface ResolvedApplicationArgs {
  /** The builder's name, for messages: `"VGG16"`. */
  unit: string;
  includeTop: boolean;
  weights: null | string;
  /** The tensor the architecture builds on. */
  input: tf.SymbolicTensor;
  /** The model's inputs: the source inputs of `inputTensor`, or `input`. */
  modelInputs: tf.SymbolicTensor[];
  /** The input shape `[h, w, c]` (entries may be null without the top). */
  inputShape: (number | null)[];
  pooling: null | "avg" | "max";
  classes: number;
  /** `undefined` means linear (logits); tfjs's name for Keras's `None`. */
  classifierActivation: ActivationName | undefined;
}

/** What an architecture tells {@link resolveApplicationArgs} about its input. */
export interface InputSpec {
  /** The Keras builder's name, for messages: `"VGG16"`. */
  name: string;
  /** Keras's `default_size` (224 for most, 299 for Inception/Xception, 331 for NASNetLarge). */
  defaultSize: number;
  /** Keras's `min_size`: the smallest height/width the architecture accepts (32 for most, 75 for Inception). */
  minSize: number;
  /** The builder's own options beyond {@link ApplicationArgs} (MobileNet's `alpha`…), accepted and left to it. */
  extraKeys?: readonly string[];
}

const ARG_KEYS = ["includeTop", "weights", "inputTensor", "inputShape", "pooling", "classes", "classifierActivation"] as const;

/**
 * Checks the builder's options with Keras's rules and makes the input layer.
 *
 * Keras's rules (`obtain_input_shape`): `weights` is null, "imagenet" or a path; with ImageNet
 * weights and the top, `classes` must be 1000, the input shape must be the default one, and the
 * classifier activation must be softmax or null; channels are 3 with ImageNet weights; height and
 * width are at least `minSize`. Without `inputShape`: the default size with the top, any size
 * (`[null, null, 3]`) without it.
 */
export function resolveApplicationArgs(spec: InputSpec, args: ApplicationArgs | undefined): ResolvedApplicationArgs {
  const unit = spec.name;
  const options = expectOptions(unit, args, [...ARG_KEYS, ...(spec.extraKeys ?? [])], `${unit}({ includeTop: false, weights: null, inputShape: [${spec.defaultSize}, ${spec.defaultSize}, 3] })`);
  const includeTop = expectBoolean(unit, "includeTop", options.includeTop ?? true);
  const weights = options.weights === undefined ? "imagenet" : options.weights;
  if (!(weights === null || typeof weights === "string") || weights === "") {
    throw fail(
      `${unit}: invalid weights. The \`weights\` argument should be either null (random initialization), "imagenet" (pre-training on ImageNet), or the path to the weights file to be loaded. Received: weights=${show(weights)}.`,
    );
  }
  const classes = expectNumber(unit, "classes", options.classes ?? 1000, { min: 1, integer: true });
  if (weights === "imagenet" && includeTop && classes !== 1000) {
    throw fail(`${unit}: if using weights="imagenet" with includeTop=true, classes should be 1000. Received: classes=${classes}. Use weights: null, or includeTop: false and your own top.`);
  }
  const pooling = options.pooling ?? null;
  if (!(pooling === null || pooling === "avg" || pooling === "max")) {
    throw fail(`${unit}: invalid pooling. Expected "avg", "max" or null. Received: pooling=${show(pooling)}.`);
  }
  const activation = options.classifierActivation === undefined ? "softmax" : options.classifierActivation;
  if (!(activation === null || typeof activation === "string")) {
    throw fail(`${unit}: invalid classifierActivation. Expected an activation name such as "softmax", or null. Received: classifierActivation=${show(activation)}.`);
  }
  if (weights === "imagenet" && includeTop && !(activation === null || activation === "softmax")) {
    throw fail(`${unit}: only "softmax" or null may be used as classifierActivation with the ImageNet weights. Received: classifierActivation=${show(activation)}.`);
  }

  const inputShape = resolveInputShape(spec, options, includeTop, weights);
  let input: tf.SymbolicTensor;
  let modelInputs: tf.SymbolicTensor[];
  if (options.inputTensor !== undefined) {
    const t = options.inputTensor;
    if (!(t instanceof tf.SymbolicTensor)) {
      throw fail(`${unit}: invalid inputTensor. Expected a symbolic tensor, e.g. tf.input({ shape: [${spec.defaultSize}, ${spec.defaultSize}, 3] }). Received: inputTensor=${show(t)}.`);
    }
    const shape = t.shape.slice(1);
    if (shape.length !== 3 || shape.some((d, i) => inputShape[i] !== null && d !== null && d !== inputShape[i])) {
      throw fail(`${unit}: inputTensor has shape [${t.shape.map(String).join(", ")}]; expected [null, ${inputShape.map(String).join(", ")}]. Pass a tensor of that shape, or inputShape to match it.`);
    }
    input = t;
    modelInputs = sourceInputs(t);
  } else {
    input = tf.input({ shape: inputShape });
    modelInputs = [input];
  }
  return { unit, includeTop, weights, input, modelInputs, inputShape, pooling, classes, classifierActivation: (activation ?? undefined) as ActivationName | undefined };
}

/** Keras's `obtain_input_shape`, channels last. */
function resolveInputShape(spec: InputSpec, options: ApplicationArgs, includeTop: boolean, weights: string | null): (number | null)[] {
  const unit = spec.name;
  const d = spec.defaultSize;
  const requireDefault = includeTop && weights === "imagenet";
  const shapeFromTensor = options.inputTensor instanceof tf.SymbolicTensor ? options.inputTensor.shape.slice(1) : undefined;
  const given = options.inputShape ?? (shapeFromTensor?.length === 3 ? shapeFromTensor : undefined);
  if (given === undefined) return includeTop ? [d, d, 3] : [null, null, 3];
  if (!Array.isArray(given) || given.length !== 3 || given.some((v) => !(v === null || (Number.isInteger(v) && v > 0)))) {
    throw fail(`${unit}: invalid inputShape. Expected [height, width, channels] with positive integers (height and width may be null without the top). Received: inputShape=${show(given)}.`);
  }
  const shape = [...given] as (number | null)[];
  if (requireDefault && (shape[0] !== d || shape[1] !== d || shape[2] !== 3)) {
    throw fail(`${unit}: with includeTop: true and weights: "imagenet", inputShape should be [${d}, ${d}, 3]. Received: inputShape=${show(given)}. Use includeTop: false to choose another size.`);
  }
  if (weights === "imagenet" && shape[2] !== 3) {
    throw fail(`${unit}: the ImageNet weights need 3 input channels. Received: inputShape=${show(given)}.`);
  }
  if (shape[2] === null) throw fail(`${unit}: the number of channels must be known. Received: inputShape=${show(given)}.`);
  for (const v of shape.slice(0, 2)) {
    if (v !== null && v < spec.minSize) {
      throw fail(`${unit}: input size must be at least ${spec.minSize}x${spec.minSize}. Received: inputShape=${show(given)}.`);
    }
  }
  if (includeTop && (shape[0] === null || shape[1] === null)) {
    throw fail(`${unit}: with includeTop: true, height and width must be known. Received: inputShape=${show(given)}.`);
  }
  return shape;
}

/** The input layers' tensors a symbolic tensor comes from (Keras `get_source_inputs`). */
function sourceInputs(t: tf.SymbolicTensor): tf.SymbolicTensor[] {
  const found: tf.SymbolicTensor[] = [];
  const seen = new Set<tf.SymbolicTensor>();
  const visit = (s: tf.SymbolicTensor): void => {
    if (seen.has(s)) return;
    seen.add(s);
    const node = s.sourceLayer.inboundNodes[s.nodeIndex];
    if (!node || node.inboundLayers.length === 0) {
      found.push(s);
      return;
    }
    for (const parent of node.inputTensors) visit(parent);
  };
  visit(t);
  return found;
}

/** Global average or max pooling of the last feature map, as Keras adds it when `pooling` is set. */
export function applyPooling(x: tf.SymbolicTensor, pooling: "avg" | "max" | null, names: { avg?: string; max?: string } = {}): tf.SymbolicTensor {
  if (pooling === "avg") return tf.layers.globalAveragePooling2d({ name: names.avg }).apply(x) as tf.SymbolicTensor;
  if (pooling === "max") return tf.layers.globalMaxPooling2d({ name: names.max }).apply(x) as tf.SymbolicTensor;
  return x;
}

/**
 * Keras's usual end of a network: with the top, a global average pooling (`names.top`, default
 * `avg_pool`) and the Dense `predictions` (`classes` units, `classifierActivation`); without it,
 * the optional `pooling` (names `names.avg` / `names.max`).
 */
export function poolAndClassify(x: tf.SymbolicTensor, resolved: ResolvedApplicationArgs, names: { top?: string; avg?: string; max?: string } = {}): tf.SymbolicTensor {
  if (!resolved.includeTop) return applyPooling(x, resolved.pooling, names);
  const pooled = tf.layers.globalAveragePooling2d({ name: names.top ?? "avg_pool" }).apply(x) as tf.SymbolicTensor;
  return tf.layers
    .dense({ units: resolved.classes, activation: resolved.classifierActivation, kernelInitializer: KERAS_INIT, name: "predictions" })
    .apply(pooled) as tf.SymbolicTensor;
}

/** The ImageNet weight files of one architecture, as Keras publishes them. */
export interface ImagenetWeights {
  /** With the top: Keras's file name and its hash (md5 or sha256, as `get_file`'s `file_hash`). */
  top?: WeightsFile;
  /** Without the top. */
  notop?: WeightsFile;
}

/**
 * Keras's usual ImageNet pair: `<stem>_weights_tf_dim_ordering_tf_kernels.h5` and its `_notop.h5`
 * in `storage.googleapis.com/tensorflow/keras-applications/<folder>/`, with their md5 hashes.
 */
export function kerasWeightFiles(folder: string, stem: string, topHash: string, notopHash: string): ImagenetWeights {
  const base = `https://storage.googleapis.com/tensorflow/keras-applications/${folder}/`;
  const file = (suffix: string): string => `${stem}_weights_tf_dim_ordering_tf_kernels${suffix}.h5`;
  return {
    top: { file: file(""), url: base + file(""), hash: topHash },
    notop: { file: file("_notop"), url: base + file("_notop"), hash: notopHash },
  };
}

/**
 * Makes the model and loads its weights (`null`: none; `"imagenet"`: Keras's file for this
 * architecture and top; else a path), as the last step of every builder. Layers pair with the
 * file's by position, as Keras's builders load them (`model.load_weights(path)`): Keras's
 * InceptionV3, Xception and InceptionResNetV2 files were written by Keras 2.0, whose automatic
 * names (`conv2d_1`, …) are not today's.
 */
export async function finishApplication(
  name: string,
  resolved: ResolvedApplicationArgs,
  output: tf.SymbolicTensor,
  imagenet: ImagenetWeights,
): Promise<tf.LayersModel> {
  const model = tf.model({ inputs: resolved.modelInputs, outputs: output, name });
  if (resolved.weights === null) return model;
  try {
    if (resolved.weights === "imagenet") {
      const file = resolved.includeTop ? imagenet.top : imagenet.notop;
      if (!file) throw fail(`${resolved.unit}: Keras publishes no ImageNet weights ${resolved.includeTop ? "with" : "without"} the top for this model. Use weights: null.`);
      await loadWeights(model, await resolveImagenetWeights(file), { byName: false });
    } else {
      await loadWeights(model, resolved.weights, { byName: false });
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** The Keras application builders, in Keras's order (the names of the exported builders). */
export const APPLICATION_NAMES = [
  "VGG16", "VGG19",
  "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
  "InceptionV3", "InceptionResNetV2", "Xception",
  "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
  "DenseNet121", "DenseNet169", "DenseNet201",
  "NASNetMobile", "NASNetLarge",
  "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
  "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
] as const;

/** One of {@link APPLICATION_NAMES}. */
export type ApplicationName = (typeof APPLICATION_NAMES)[number];

type ST = tf.SymbolicTensor;

/**
 * Keras's default kernel initializer, `glorot_uniform`, for the builders' Conv2D and Dense
 * layers: tfjs's default is `glorotNormal`, which would draw different random weights than Keras
 * for a model built with `weights: null`.
 *
 * ```ts
 * tf.layers.conv2d({ filters: 64, kernelSize: 3, kernelInitializer: KERAS_INIT });
 * ```
 *
 * Keras equivalent: `kernel_initializer="glorot_uniform"` (the default of `Conv2D` and `Dense`).
 */
export const KERAS_INIT = "glorotUniform";

/**
 * A fresh counter of Keras's default layer names: called with a snake-case class name
 * (`"conv2d"`, `"activation"`), it returns that name the first time, then `conv2d_1`,
 * `conv2d_2`, … — the names a fresh tf.keras 2.x process gives unnamed layers (named layers take
 * no number). Each call of `autoNames()` counts from zero, so a builder that makes one per model
 * names its layers independently of what the notebook built before; one made at module level
 * counts for the whole process, as Keras counts for a session.
 *
 * @returns `name(prefix)`: `prefix` for the first call with that prefix, `${prefix}_${n}` for
 *   the (n+1)-th. Any string is a prefix; nothing is checked.
 *
 * ```ts
 * const name = autoNames();
 * name("conv2d"); // "conv2d"
 * name("conv2d"); // "conv2d_1"
 * name("add");    // "add"
 * ```
 *
 * Keras equivalent: `backend.unique_object_name` behind `Layer(name=None)`, right after
 * `keras.backend.clear_session()`.
 */
export function autoNames(): (prefix: string) => string {
  const counts = new Map<string, number>();
  return (prefix) => {
    const n = counts.get(prefix) ?? 0;
    counts.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  };
}

/**
 * The zero padding `[[top, bottom], [left, right]]` that makes a "valid" stride-2 convolution
 * of kernel `kernelSize` see what TensorFlow's "same" would: `floor(k/2)` on each side, one row
 * (column) less on the top (left) when the height (width) is even. When the height is unknown,
 * both axes are padded as even, as Keras decides them; an unknown width with a known height is
 * padded as even too.
 *
 * @param x A channels-last feature map `[batch, height, width, channels]`.
 * @param kernelSize The convolution's square kernel size, a positive integer.
 * @returns The padding for `tf.layers.zeroPadding2d({ padding })`.
 *
 * ```ts
 * const x = tf.input({ shape: [112, 112, 16] });
 * correctPad(x, 3); // [[0, 1], [0, 1]]
 * ```
 *
 * Keras equivalent: `keras.applications.imagenet_utils.correct_pad(inputs, kernel_size)`
 * (channels last).
 */
export function correctPad(x: ST, kernelSize: number): [[number, number], [number, number]] {
  const [, h, w] = x.shape;
  const half = Math.floor(kernelSize / 2);
  const adjust = h === null ? [1, 1] : [1 - (h % 2), w === null ? 1 : 1 - (w % 2)];
  return [
    [half - adjust[0], half],
    [half - adjust[1], half],
  ];
}

/**
 * The multiple of `divisor` nearest to `v` (halves rounding up), at least `minValue`, and never
 * more than 10% below `v` (then one `divisor` more): how the MobileNets and EfficientNets round
 * a scaled channel count, from TF-Slim.
 *
 * @param v The scaled channel count, a positive number (`filters · alpha`).
 * @param divisor A positive integer. Default 8.
 * @param minValue The smallest result. Default `divisor`.
 * @returns An integer multiple of `divisor` (or `minValue`).
 *
 * ```ts
 * makeDivisible(32 * 0.35); // 16 (8 would be 29% below 11.2)
 * makeDivisible(44.8);      // 48
 * ```
 *
 * Keras equivalent: `_make_divisible` (MobileNetV2), `_depth` (MobileNetV3) and EfficientNet's
 * `round_filters(filters · width_coefficient, depth_divisor)`.
 */
export function makeDivisible(v: number, divisor = 8, minValue: number = divisor): number {
  let next = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (next < 0.9 * v) next += divisor;
  return next;
}

/**
 * The width multiplier of the MobileNets (`alpha`), checked: a finite number > 0; `undefined`
 * or `null` give the default 1.
 *
 * @param unit The builder's name, for the message (`"MobileNetV2"`).
 * @throws ConvlabError "MobileNet: invalid alpha. Expected a number > 0. Received: alpha=0."
 *
 * ```ts
 * const alpha = expectAlpha("MobileNet", args?.alpha); // 1 when not given
 * ```
 *
 * Keras equivalent: none (Keras does not check `alpha` unless it loads ImageNet weights).
 */
export function expectAlpha(unit: string, alpha: unknown): number {
  return expectNumber(unit, "alpha", alpha ?? 1, { min: 0, exclusiveMin: true });
}

/**
 * Global average pooling that keeps the spatial axes: `[batch, h, w, c]` → `[batch, 1, 1, c]`.
 * tfjs 4.22's global pooling has no `keepdims`, so this is the pooling followed by a Reshape to
 * `[1, 1, c]`, the two layers Keras 2.4 used before `keepdims` existed.
 *
 * @param x A channels-last feature map with a known number of channels.
 * @param names `name` names the pooling (Keras's layer name); `reshapeName` the Reshape. Either
 *   omitted takes tfjs's default name (Keras's, when the caller imports `@convlab/layers`).
 * @returns `[batch, 1, 1, c]`.
 *
 * ```ts
 * const se = globalAveragePoolingKeepdims(x, { name: "expanded_conv_3/squeeze_excite/AvgPool" });
 * ```
 *
 * Keras equivalent: `layers.GlobalAveragePooling2D(keepdims=True)`; differs by the extra
 * weightless Reshape layer.
 */
export function globalAveragePoolingKeepdims(x: ST, names: { name?: string; reshapeName?: string } = {}): ST {
  const pooled = tf.layers.globalAveragePooling2d({ name: names.name }).apply(x) as ST;
  const channels = pooled.shape[1] as number;
  return tf.layers.reshape({ targetShape: [1, 1, channels], name: names.reshapeName }).apply(pooled) as ST;
}

/**
 * Keras's warning when it has no ImageNet weights for the input size and loads those for
 * 224x224 instead: one `console.warn` line, as Keras's `logging.warning`; the model is still
 * built.
 *
 * @param unit The builder's name (`"MobileNetV2"`).
 * @param sizes The square sizes Keras publishes weights for.
 * @param shape The resolved input shape `[h, w, c]`, as received.
 *
 * ```ts
 * if (rows !== cols || !SIZES.includes(rows)) warnDefaultWeights("MobileNet", SIZES, resolved.inputShape);
 * ```
 *
 * Keras equivalent: the `logging.warning("`input_shape` is undefined or non-square, …")` of
 * `MobileNet`, `MobileNetV2` and `MobileNetV3`.
 */
export function warnDefaultWeights(unit: string, sizes: readonly number[], shape: readonly (number | null)[]): void {
  console.warn(
    `${unit}: inputShape is undefined or non-square, or its rows are not in [${sizes.join(", ")}]. ` +
      `Weights for input shape [224, 224] will be loaded as the default. Received: inputShape=${show(shape)}.`,
  );
}

/**
 * Python's `str(rows)` for a model name: the number, or `None` when the height is unknown.
 *
 * ```ts
 * `mobilenet_1.00_${rowsText(null)}`; // "mobilenet_1.00_None"
 * ```
 *
 * Keras equivalent: the `str(rows)` in `"mobilenet_%0.2f_%s" % (alpha, rows)`.
 */
export function rowsText(rows: number | null): string {
  return rows === null ? "None" : String(rows);
}
