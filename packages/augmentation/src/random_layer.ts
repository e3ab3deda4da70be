/**
 * The machinery shared by the random preprocessing layers (internal): option checks in the
 * house form, the seeded generator each layer owns, the training switch, and a batched
 * projective transform that keeps TensorFlow's semantics on every tfjs backend.
 */
import * as tf from "@tensorflow/tfjs";
import { Random, expectKnownKeys, expectOneOf, expectSeed, fail, show } from "@convlab/engine";

/** The options every tfjs layer takes (`name`, `inputShape`, `trainable`, …). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** The keys of {@link LayerArgs}, accepted by every layer besides its own options. @internal */
export const LAYER_KEYS = ["name", "trainable", "inputShape", "batchInputShape", "batchSize", "dtype", "inputDType", "weights"] as const;

/**
 * How a geometric layer fills what comes from outside the picture (TensorFlow's `fill_mode`),
 * shown for a row `a b c d`:
 *
 * - `"reflect"`: `d c b a | a b c d | d c b a`, mirrored about the edge of the last pixel;
 * - `"wrap"`: `a b c d | a b c d | a b c d`, the opposite edge continues;
 * - `"constant"`: `k k k k | a b c d | k k k k`, `k` = `fillValue`;
 * - `"nearest"`: `a a a a | a b c d | d d d d`, the edge pixel repeated.
 */
export type FillMode = "reflect" | "wrap" | "constant" | "nearest";
/** The fill modes, in Keras's order. @internal */
export const FILL_MODES: readonly FillMode[] = ["reflect", "wrap", "constant", "nearest"];

/** How a geometric layer reads between pixels: `"bilinear"` (the four neighbours) or `"nearest"`. */
export type Interpolation = "bilinear" | "nearest";
/** The interpolations, in Keras's order. @internal */
export const INTERPOLATIONS: readonly Interpolation[] = ["bilinear", "nearest"];

/**
 * A random range as Keras takes it: a number `f` (the range `[-f, f]`, or for RandomContrast
 * `[1 - f, 1 + f]`) or an explicit pair.
 */
export type FactorRange = number | [number, number];

/**
 * An option value as the messages print it: number pairs with a space (`[0.3, 0.1]`, as Python
 * prints a list), everything else as {@link show}.
 * @internal
 */
export function showValue(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return `[${value.join(", ")}]`;
  return show(value);
}

/**
 * The options object of a layer, its keys checked: `undefined`/`null` give `{}`, anything but a
 * plain object is an error that shows the expected form.
 * @internal
 */
export function readArgs(unit: string, args: unknown, own: readonly string[], example: string): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (typeof args !== "object" || Array.isArray(args)) {
    throw fail(`${unit}: invalid arguments. Expected an options object, e.g. ${example}. Received: ${showValue(args)}.`);
  }
  expectKnownKeys(unit, args, [...own, ...LAYER_KEYS]);
  return args as Record<string, unknown>;
}

/** The layer options of `args` (name, inputShape, …), without the layer's own keys. @internal */
export function layerArgsOf(args: Record<string, unknown>): LayerArgs {
  const out: Record<string, unknown> = {};
  for (const key of LAYER_KEYS) if (args[key] !== undefined) out[key] = args[key];
  return out as LayerArgs;
}


/** A finite number option. @internal */
export function checkFinite(unit: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw fail(`${unit}: invalid ${name}. Expected a finite number. Received: ${name}=${showValue(value)}.`);
  }
  return value;
}

/** How {@link checkFactor} reads a factor. @internal */
export interface FactorSpec {
  /** `"[min, max]"`: a pair is an interval (min ≤ max), a number `f` is `[-f, f]`; `"[lower, upper]"`: two amounts, a number `f` is `[f, f]`. */
  pair: "[min, max]" | "[lower, upper]";
  /** Bounds of each value of a pair; none: any finite values. */
  bounds?: readonly [number, number];
}

/**
 * A factor: a number in [0, 1] or a pair, returned as a pair (see {@link FactorSpec}).
 * @internal
 */
export function checkFactor(unit: string, name: string, value: unknown, spec: FactorSpec): [number, number] {
  const bounds = spec.bounds;
  const inBounds = (v: unknown): v is number =>
    typeof v === "number" && Number.isFinite(v) && (bounds === undefined || (v >= bounds[0] && v <= bounds[1]));
  if (typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1) {
    return spec.pair === "[min, max]" ? [-value, value] : [value, value];
  }
  if (Array.isArray(value) && value.length === 2 && inBounds(value[0]) && inBounds(value[1]) && (spec.pair === "[lower, upper]" || value[0] <= value[1])) {
    return [value[0], value[1]];
  }
  const where = bounds ? ` in [${bounds[0]}, ${bounds[1]}]` : "";
  throw fail(`${unit}: invalid ${name}. Expected a number in [0, 1] or a ${spec.pair} pair${where}. Received: ${name}=${showValue(value)}.`);
}

/** A factor as the config keeps it: the number, or a copy of the pair. @internal */
export function factorConfig(value: FactorRange): tf.serialization.ConfigDictValue {
  return typeof value === "number" ? value : [value[0], value[1]];
}

/**
 * Throws unless `shape` is a batch of images `[N, H, W, C]` or one image `[H, W, C]`. A rank-3
 * shape with an unknown first axis (a model's `[null, 28, 28]`) is a batch without channels.
 * @internal
 */
export function checkImageShape(unit: string, shape: ReadonlyArray<number | null>): void {
  if (shape.length !== 4 && !(shape.length === 3 && shape[0] != null)) {
    throw fail(
      `${unit}: invalid input. Expected a rank-4 batch of images [batch, height, width, channels] or a rank-3 image [height, width, channels]. Received: input.shape=${show(shape)}.`,
    );
  }
}

/**
 * The base of the random preprocessing layers: the identity unless called with
 * `training: true` (as `model.fit` does), then {@link augment} on a float32 batch with one draw
 * per image from the layer's own seeded generator. A rank-3 input is taken as one image.
 * @internal
 */
export abstract class RandomImageLayer extends tf.layers.Layer {
  /** Seed of the layer's generator, or undefined for fresh randomness on every run. */
  readonly seed: number | undefined;
  /** The generator: every training call draws from it, so a seed fixes the whole sequence. */
  protected readonly random: Random;
  private readonly unit: string;

  protected constructor(unit: string, layerArgs: LayerArgs, seed: number | undefined) {
    super(layerArgs);
    this.unit = unit;
    this.seed = seed;
    this.random = new Random(seed ?? null);
  }

  /** Applies the layer's random change to `images` (`[N, H, W, C]`, float32), one draw per image. */
  protected abstract augment(images: tf.Tensor4D): tf.Tensor4D;

  /** The layer's own options for {@link getConfig}. */
  protected abstract ownConfig(): tf.serialization.ConfigDict;

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    checkImageShape(this.unit, shape);
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { [key: string]: unknown }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    checkImageShape(this.unit, x.shape);
    this.invokeCallHook(inputs, kwargs);
    // At inference the input itself (tfjs's apply() hands out a clone that shares its data).
    if (kwargs?.["training"] !== true) return x;
    if (x.dtype !== "float32" && x.dtype !== "int32") {
      throw fail(`${this.unit}: invalid input. Expected a float32 or int32 tensor of images. Received: input=${show(x)}.`);
    }
    return tf.tidy(() => {
      const batch = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
      const images = batch.dtype === "float32" ? batch : tf.cast(batch, "float32");
      const out = images.shape[0] === 0 ? images : this.augment(images);
      return x.rank === 3 ? tf.squeeze(out, [0]) : out;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.ownConfig(), seed: this.seed ?? null };
  }

  /**
   * Builds the layer from a saved config. tfjs adds `customObjects` to it while loading, and
   * Keras writes `data_format` ("channels_last" here), which these layers do not take: both are
   * dropped (`data_format` only when it says channels last).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { dataFormat, customObjects: _customObjects, ...rest } = config;
    if (dataFormat != null && dataFormat !== "channelsLast") {
      const unit = (cls as unknown as { className: string }).className;
      throw fail(`${unit}: invalid dataFormat. Expected "channelsLast" (images [batch, height, width, channels]). Received: dataFormat=${show(dataFormat)}.`);
    }
    return new cls(rest);
  }
}

/** The options every geometric layer (rotation, zoom, translation) shares, Keras's names in camelCase. */
export interface GeometryArgs {
  /** What fills uncovered points (see {@link FillMode}); default `"reflect"`. Keras: `fill_mode`. */
  fillMode?: FillMode;
  /** `"bilinear"` (default) or `"nearest"`. Keras: `interpolation`. */
  interpolation?: Interpolation;
  /** Seed of the layer's draws (a non-negative integer); omitted: different on every run. Keras: `seed`. */
  seed?: number | null;
  /** The value of uncovered points with `fillMode: "constant"`; default 0. Keras: `fill_value`. */
  fillValue?: number;
}

/**
 * Base of the geometric layers: the fill and interpolation options, checked after the layer's
 * own factors, and one affine map drawn per image, applied with {@link transformImages}.
 * @internal
 */
export abstract class GeometricRandomLayer extends RandomImageLayer {
  /** How uncovered points are filled. */
  readonly fillMode: FillMode;
  /** How the source is read between pixels. */
  readonly interpolation: Interpolation;
  /** The fill of uncovered points with `fillMode: "constant"`. */
  readonly fillValue: number;

  protected constructor(unit: string, args: Record<string, unknown>) {
    const fillMode = expectOneOf(unit, "fillMode", args.fillMode ?? "reflect", FILL_MODES);
    const interpolation = expectOneOf(unit, "interpolation", args.interpolation ?? "bilinear", INTERPOLATIONS);
    const seed = expectSeed(unit, args.seed);
    const fillValue = checkFinite(unit, "fillValue", args.fillValue ?? 0);
    super(unit, layerArgsOf(args), seed);
    this.fillMode = fillMode;
    this.interpolation = interpolation;
    this.fillValue = fillValue;
  }

  /** The map of one `h` x `w` image, drawn from the layer's generator. */
  protected abstract drawMap(h: number, w: number): AffineMap;

  /** The layer's factors for {@link getConfig}, as given. */
  protected abstract factorsConfig(): tf.serialization.ConfigDict;

  protected augment(images: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = images.shape;
    const maps = Array.from({ length: n }, () => this.drawMap(h, w));
    return transformImages(images, maps, this.interpolation, this.fillMode, this.fillValue);
  }

  protected ownConfig(): tf.serialization.ConfigDict {
    return { ...this.factorsConfig(), fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue };
  }
}

/**
 * An affine map in TensorFlow's projective-transform form `[a0, a1, a2, b0, b1, b2]` (the last
 * two entries, c0 and c1, are 0): output pixel `(x, y)` (column, row; pixel centres at integers)
 * reads the input at
 *
 *     x' = a0·x + a1·y + a2
 *     y' = b0·x + b1·y + b2
 *
 * i.e. the inverse of the map that moves the picture.
 * @internal
 */
export type AffineMap = [number, number, number, number, number, number];

/**
 * Resamples each image of `images` through its own {@link AffineMap}, with TensorFlow's
 * `ImageProjectiveTransformV3` semantics (what Keras's layers call): `tf.image.transform`,
 * whose kernel @convlab/engine corrects (tfjs 4.22's transforms only the first image of a
 * batch, blends the constant fill into the edge, and its wasm reflect misreads negative points).
 * @internal
 */
export function transformImages(images: tf.Tensor4D, maps: readonly AffineMap[], interpolation: Interpolation, fillMode: FillMode, fillValue: number): tf.Tensor4D {
  return tf.tidy(() => tf.image.transform(images, tf.tensor2d(maps.map((m) => [...m, 0, 0]), [maps.length, 8], "float32"), interpolation, fillMode, fillValue));
}

