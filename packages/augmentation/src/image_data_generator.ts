/**
 * `ImageDataGenerator`: Keras's on-the-fly image augmentation, which
 * TensorFlow.js never had. Each image gets its own random rotation, shift,
 * shear, zoom and flips, applied as one affine map about its centre in one
 * pass (native kernel, SciPy's interpolation and fill rules as Keras), then
 * channel shift, brightness and `rescale`.
 */
import * as tf from "@tensorflow/tfjs";
import { closest, expectBoolean, expectNumber, expectOneOf, expectOptions, expectSeed, fail, Random, show, uninitializedArray, warpAffine } from "@convlab/engine";
import type { WarpFillMode } from "@convlab/engine";
import { IDENTITY, samplingMatrix, TransformParams } from "./affine";
import { DirectoryIterator, FlowFromDirectoryArgs, NumpyArrayIterator, FlowArgs, FlowLabels, ImageSource } from "./iterators";
import { asImage, ImageInput, PixelBuffer } from "./pixels";

/** Options of {@link ImageDataGenerator}: Keras's names in camelCase. */
export interface ImageDataGeneratorArgs {
  /** Multiplies every value after the transforms, e.g. `1 / 255`. Default none (1). */
  rescale?: number;
  /** Rotation drawn uniformly in [−r, r] degrees, r in [0, 360]. Default 0. */
  rotationRange?: number;
  /**
   * Horizontal shift: a number < 1 is a fraction of the width, drawn in [−r, r) · width;
   * a number ≥ 1 a shift in pixels drawn in [−r, r); an integer ≥ 1 an integer number of pixels in (−r, r);
   * an array, one of its values (in pixels, or fractions when all are < 1) with a random sign. Default 0.
   */
  widthShiftRange?: number | readonly number[];
  /** Vertical shift, as {@link widthShiftRange} with the height. Default 0. */
  heightShiftRange?: number | readonly number[];
  /** Shear angle drawn in [−s, s] degrees (Keras counts it in degrees: 0.2 is a fifth of a degree). Default 0. */
  shearRange?: number;
  /** Zoom: `z` in [0, 1) draws zx and zy independently in [1 − z, 1 + z]; `[lo, hi]`, 0 < lo ≤ hi, in [lo, hi]. Values < 1 enlarge. Default 0. */
  zoomRange?: number | readonly [number, number];
  /** Mirror left-right with probability 0.5. Default false. */
  horizontalFlip?: boolean;
  /** Mirror top-bottom with probability 0.5. Default false. */
  verticalFlip?: boolean;
  /** Brightness factor drawn in `[lo, hi]`, 0 ≤ lo ≤ hi (1 unchanged), on 0–255 values as PIL does. Default none. */
  brightnessRange?: readonly [number, number];
  /** Value drawn in [−r, r] added to every channel, clipped to the image's min..max. Default 0. */
  channelShiftRange?: number;
  /** What fills the area the transform uncovers: `"nearest"` (default), `"constant"` (with `cval`), `"reflect"`, `"wrap"`. */
  fillMode?: WarpFillMode;
  /** Value of `fillMode: "constant"`, in the image's own scale (before `rescale`). Default 0. */
  cval?: number;
  /** 1 (default) bilinear interpolation, 0 nearest pixel. */
  interpolationOrder?: 0 | 1;
  /** Fraction in [0, 1) of each class (or of the arrays) kept for `subset: "validation"`. Default 0. */
  validationSplit?: number;
  /** Seed of every flow that gives none, and of {@link ImageDataGenerator.randomTransform}; default: random. */
  seed?: number;
}

const KEYS = [
  "rescale",
  "rotationRange",
  "widthShiftRange",
  "heightShiftRange",
  "shearRange",
  "zoomRange",
  "horizontalFlip",
  "verticalFlip",
  "brightnessRange",
  "channelShiftRange",
  "fillMode",
  "cval",
  "interpolationOrder",
  "validationSplit",
  "seed",
] as const;

/** Keras's snake_case config keys and what they are here (`undefined`: accepted only at its default). */
const KERAS_KEYS: Record<string, (typeof KEYS)[number] | { unsupportedUnless: unknown }> = {
  rescale: "rescale",
  rotation_range: "rotationRange",
  width_shift_range: "widthShiftRange",
  height_shift_range: "heightShiftRange",
  shear_range: "shearRange",
  zoom_range: "zoomRange",
  horizontal_flip: "horizontalFlip",
  vertical_flip: "verticalFlip",
  brightness_range: "brightnessRange",
  channel_shift_range: "channelShiftRange",
  fill_mode: "fillMode",
  cval: "cval",
  interpolation_order: "interpolationOrder",
  validation_split: "validationSplit",
  featurewise_center: { unsupportedUnless: false },
  samplewise_center: { unsupportedUnless: false },
  featurewise_std_normalization: { unsupportedUnless: false },
  samplewise_std_normalization: { unsupportedUnless: false },
  zca_whitening: { unsupportedUnless: false },
  zca_epsilon: { unsupportedUnless: 1e-6 },
  preprocessing_function: { unsupportedUnless: null },
  data_format: { unsupportedUnless: "channels_last" },
  dtype: { unsupportedUnless: "float32" },
};

const FILL_MODES: readonly WarpFillMode[] = ["nearest", "constant", "reflect", "wrap"];

/** A shift range after validation: uniform in ±range, or a choice among values; `fraction` multiplies by the side. */
type ShiftSpec = { kind: "none" } | { kind: "uniform"; range: number; fraction: boolean } | { kind: "choice"; values: number[]; fraction: boolean };

function checkShift(unit: string, name: string, value: unknown): ShiftSpec {
  if (value === undefined || value === 0) return { kind: "none" };
  if (typeof value === "number") {
    expectNumber(unit, name, value, { min: 0 });
    // Keras: an integer >= 1 is np.random.choice(range) (integers in (-r, r)); a float >= 1 pixels; < 1 a fraction.
    if (Number.isInteger(value) && value >= 1) return { kind: "choice", values: Array.from({ length: value }, (_, i) => i), fraction: false };
    return { kind: "uniform", range: value, fraction: value < 1 };
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" && Number.isFinite(v))) {
    return { kind: "choice", values: [...value], fraction: Math.max(...value.map(Math.abs)) < 1 };
  }
  throw fail(`${unit}: invalid ${name}. Expected a number >= 0 (a fraction of the side when < 1, pixels otherwise) or an array of shifts. Received: ${name}=${show(value)}.`);
}

function drawShift(rng: Random, spec: ShiftSpec, side: number): number {
  if (spec.kind === "none") return 0;
  let v: number;
  if (spec.kind === "uniform") v = rng.uniform(-spec.range, spec.range);
  else v = spec.values[rng.int(spec.values.length)] * (rng.bernoulli() ? 1 : -1);
  return spec.fraction ? v * side : v;
}

function checkPair(unit: string, name: string, value: unknown, lowest: number, exclusive: boolean): [number, number] {
  const ok =
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((v) => typeof v === "number" && Number.isFinite(v) && (exclusive ? v > lowest : v >= lowest)) &&
    value[0] <= value[1];
  if (!ok) {
    throw fail(`${unit}: invalid ${name}. Expected [lo, hi] with ${exclusive ? `${lowest} < lo` : `${lowest} <= lo`} <= hi. Received: ${name}=${show(value)}.`);
  }
  return [value[0], value[1]];
}

/**
 * Random image augmentation with Keras's options, for arrays ({@link flow}),
 * folders of images ({@link flowFromDirectory}) or one image ({@link randomTransform}).
 *
 * Every option is validated here, before any image is read, with one-line
 * errors; an unknown option suggests the right name ("Did you mean `rotationRange`?").
 *
 * @example
 * ```ts
 * const trainDatagen = new ImageDataGenerator({
 *   rescale: 1 / 255, rotationRange: 40, widthShiftRange: 0.2, heightShiftRange: 0.2,
 *   shearRange: 0.2, zoomRange: 0.2, horizontalFlip: true, fillMode: "nearest",
 * });
 * const trainGenerator = trainDatagen.flowFromDirectory("data/train", { targetSize: [150, 150], batchSize: 20, classMode: "binary" });
 * // Found 2000 images belonging to 2 classes.
 * ```
 *
 * Keras counterpart: `keras.preprocessing.image.ImageDataGenerator`. Differences:
 * `widthShiftRange` moves the picture horizontally and `heightShiftRange` vertically (Keras
 * swaps them: keras-team/keras#17398); non-square images turn about their true centre
 * (Keras uses (h/2, w/2) swapped); labels of one number per sample come out `[batch, 1]`,
 * the shape tfjs's losses need; `featurewise_*`, `samplewise_*`, `zca_whitening` and
 * `preprocessing_function` are not offered.
 */
export class ImageDataGenerator {
  /** The options as given (validated). */
  readonly config: Readonly<ImageDataGeneratorArgs>;
  readonly rescale: number;
  readonly rotationRange: number;
  readonly shearRange: number;
  readonly zoomRange: [number, number];
  readonly horizontalFlip: boolean;
  readonly verticalFlip: boolean;
  readonly brightnessRange: [number, number] | null;
  readonly channelShiftRange: number;
  readonly fillMode: WarpFillMode;
  readonly cval: number;
  readonly interpolationOrder: 0 | 1;
  readonly validationSplit: number;
  readonly seed: number | undefined;
  private readonly widthShift: ShiftSpec;
  private readonly heightShift: ShiftSpec;
  private readonly rng: Random;

  constructor(args: ImageDataGeneratorArgs = {}) {
    const unit = "ImageDataGenerator";
    expectOptions(unit, args, KEYS, "{ rescale: 1 / 255, rotationRange: 40 }");
    this.rescale = args.rescale === undefined || args.rescale === null ? 1 : expectNumber(unit, "rescale", args.rescale);
    this.rotationRange = expectNumber(unit, "rotationRange", args.rotationRange ?? 0, { min: 0, max: 360 });
    this.widthShift = checkShift(unit, "widthShiftRange", args.widthShiftRange);
    this.heightShift = checkShift(unit, "heightShiftRange", args.heightShiftRange);
    this.shearRange = expectNumber(unit, "shearRange", args.shearRange ?? 0, { min: 0, max: 90, exclusiveMax: true });
    const zoom = args.zoomRange ?? 0;
    if (typeof zoom === "number") {
      if (!(Number.isFinite(zoom) && zoom >= 0 && zoom < 1)) {
        throw fail(`${unit}: invalid zoomRange. Expected a number in [0, 1) (zoom drawn in [1 - z, 1 + z]) or [lo, hi] with 0 < lo <= hi. Received: zoomRange=${show(zoom)}.`);
      }
      this.zoomRange = [1 - zoom, 1 + zoom];
    } else {
      this.zoomRange = checkPair(unit, "zoomRange", zoom, 0, true);
    }
    this.horizontalFlip = expectBoolean(unit, "horizontalFlip", args.horizontalFlip ?? false);
    this.verticalFlip = expectBoolean(unit, "verticalFlip", args.verticalFlip ?? false);
    this.brightnessRange = args.brightnessRange === undefined || args.brightnessRange === null ? null : checkPair(unit, "brightnessRange", args.brightnessRange, 0, false);
    this.channelShiftRange = expectNumber(unit, "channelShiftRange", args.channelShiftRange ?? 0, { min: 0 });
    this.fillMode = expectOneOf(unit, "fillMode", args.fillMode ?? "nearest", FILL_MODES);
    this.cval = expectNumber(unit, "cval", args.cval ?? 0);
    const order = args.interpolationOrder ?? 1;
    if (order !== 0 && order !== 1) throw fail(`${unit}: invalid interpolationOrder. Expected 0 (nearest) or 1 (bilinear). Received: interpolationOrder=${show(order)}.`);
    this.interpolationOrder = order;
    this.validationSplit = expectNumber(unit, "validationSplit", args.validationSplit ?? 0, { min: 0, max: 1, exclusiveMax: true });
    this.seed = expectSeed(unit, args.seed);
    this.rng = new Random(this.seed);
    this.config = Object.freeze({ ...args });
  }

  /**
   * A generator from a Keras config in snake_case (`ImageDataGenerator(**config)` in Python):
   * `{ rotation_range: 40, width_shift_range: 0.2, horizontal_flip: true }`. Keys of features not
   * offered here (`featurewise_center`, `zca_whitening`, …) are accepted at their defaults only.
   * @throws ConvlabError for an unknown key (suggesting the nearest Keras name) or a feature not offered.
   */
  static fromKerasConfig(config: Record<string, unknown>): ImageDataGenerator {
    const unit = "ImageDataGenerator.fromKerasConfig";
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
      throw fail(`${unit}: invalid config. Expected an object such as { rotation_range: 40, horizontal_flip: true }. Received: ${show(config)}.`);
    }
    const args: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
      const target = KERAS_KEYS[key];
      if (target === undefined) {
        const camel = (KEYS as readonly string[]).includes(key) ? ` (camelCase options go to new ImageDataGenerator(${show(key)}…) directly)` : "";
        const hint = closest(key, Object.keys(KERAS_KEYS));
        throw fail(`${unit}: unknown Keras option \`${key}\`${camel}. Expected one of ${Object.keys(KERAS_KEYS).map((k) => `\`${k}\``).join(", ")}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
      }
      if (typeof target === "object") {
        if (value !== target.unsupportedUnless && value !== undefined && !(value === null && target.unsupportedUnless === null)) {
          throw fail(`${unit}: unsupported Keras option \`${key}\`. Expected ${show(target.unsupportedUnless)} (the default); convlab's ImageDataGenerator does not offer it. Received: ${key}=${show(value)}.`);
        }
        continue;
      }
      args[target] = value;
    }
    return new ImageDataGenerator(args as ImageDataGeneratorArgs);
  }

  /**
   * Draws the parameters of one random transform for an image of `shape` `[height, width, channels]`,
   * from `rng` (default: the generator's own, seeded by `seed`).
   * Keras counterpart: `get_random_transform(img_shape, seed)`.
   */
  getRandomTransform(shape: readonly number[], rng: Random = this.rng): TransformParams {
    const [height, width] = shape;
    const theta = this.rotationRange ? rng.uniform(-this.rotationRange, this.rotationRange) : 0;
    const tx = drawShift(rng, this.widthShift, width);
    const ty = drawShift(rng, this.heightShift, height);
    const shear = this.shearRange ? rng.uniform(-this.shearRange, this.shearRange) : 0;
    const [lo, hi] = this.zoomRange;
    const zoomed = !(lo === 1 && hi === 1);
    const zx = zoomed ? rng.uniform(lo, hi) : 1;
    const zy = zoomed ? rng.uniform(lo, hi) : 1;
    const flipHorizontal = this.horizontalFlip && rng.bernoulli(0.5);
    const flipVertical = this.verticalFlip && rng.bernoulli(0.5);
    const channelShiftIntensity = this.channelShiftRange ? rng.uniform(-this.channelShiftRange, this.channelShiftRange) : null;
    const brightness = this.brightnessRange ? rng.uniform(this.brightnessRange[0], this.brightnessRange[1]) : null;
    return { theta, tx, ty, shear, zx, zy, flipHorizontal, flipVertical, channelShiftIntensity, brightness };
  }

  /**
   * Applies `params` to one image `[H, W, C]` (a tensor or a datasets `Uint8Tensor`): the affine
   * map, then channel shift and brightness; not `rescale` (see {@link standardize}).
   * @returns a float32 `tf.Tensor3D` of the same shape.
   * Keras counterpart: `apply_transform(x, transform_parameters)`.
   */
  applyTransform(image: ImageInput, params: TransformParams): tf.Tensor3D {
    const src = asImage("applyTransform", "image", image);
    const out = new Float32Array(src.data.length);
    this.transformBatch([src], [params], out, 1);
    return tf.tensor3d(out, src.shape);
  }

  /**
   * One random transform of one image, optionally seeded. Keras counterpart: `random_transform(x, seed)`.
   * @returns a float32 `tf.Tensor3D`, not rescaled.
   */
  randomTransform(image: ImageInput, seed?: number): tf.Tensor3D {
    const src = asImage("randomTransform", "image", image);
    const rng = seed === undefined ? this.rng : new Random(expectSeed("randomTransform", seed));
    return this.applyTransform(src, this.getRandomTransform(src.shape, rng));
  }

  /** `x * rescale` (a new tensor). Keras counterpart: `standardize(x)`. */
  standardize(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.rescale);
  }

  /**
   * Transforms images of one shape, each by its own parameters, into `out` (`n·h·w·c` floats),
   * multiplied by `scale` (the iterators pass `rescale`): the affine maps and the scale are one
   * call of the engine's batch warp; channel shift and brightness, when drawn, a second pass.
   * @internal
   */
  transformBatch(images: readonly PixelBuffer[], params: readonly TransformParams[], out: Float32Array, scale: number): void {
    const n = images.length;
    const [h, w, c] = images[0].shape;
    const size = h * w * c;
    const bytes = images.every((im) => im.data instanceof Uint8Array);
    const src = n === 1 ? images[0].data : uninitializedArray(bytes ? "uint8" : "float32", n * size);
    if (n > 1) images.forEach((im, i) => src.set(im.data, i * size));
    const matrices = new Float64Array(6 * n);
    params.forEach((p, i) => matrices.set(samplingMatrix(p, h, w), 6 * i));
    const pixelOps = params.some((p) => p.channelShiftIntensity !== null || p.brightness !== null);
    warpAffine({
      src,
      srcShape: [n, h, w, c],
      out,
      outSize: [h, w],
      matrices,
      order: this.interpolationOrder,
      fillMode: this.fillMode,
      cval: this.cval,
      scale: pixelOps ? 1 : scale,
    });
    if (!pixelOps) return;
    params.forEach((p, i) => {
      const image = out.subarray(i * size, (i + 1) * size);
      if (p.channelShiftIntensity !== null) channelShift(image, p.channelShiftIntensity);
      if (p.brightness !== null) brightnessShift(image, c, p.brightness);
      if (scale !== 1) for (let k = 0; k < size; k++) image[k] *= scale;
    });
  }

  /**
   * Batches of augmented images (and labels) from arrays, forever, reshuffled each pass.
   *
   * @param x images `[N, H, W, C]`: a float32 tensor or a datasets `Uint8Tensor`.
   * @param y labels, one row per image (`[N]` numbers come out `[batch, 1]`), or omitted.
   * @param args `batchSize` (32), `shuffle` (true), `seed`, `subset` ("training" | "validation" with `validationSplit`).
   * @example
   * ```ts
   * const it = datagen.flow(cat.reshape([1, 300, 451, 3]), undefined, { batchSize: 1 });
   * const batch = it.next();   // Tensor4D [1, 300, 451, 3]
   * ```
   * Keras counterpart: `flow(x, y, batch_size, shuffle, seed, subset)`.
   */
  flow(x: ImageSource, y?: undefined, args?: FlowArgs): NumpyArrayIterator<tf.Tensor4D>;
  flow(x: ImageSource, y: FlowLabels, args?: FlowArgs): NumpyArrayIterator<[tf.Tensor4D, tf.Tensor]>;
  flow(x: ImageSource, y?: FlowLabels, args: FlowArgs = {}): NumpyArrayIterator<tf.Tensor4D> | NumpyArrayIterator<[tf.Tensor4D, tf.Tensor]> {
    return new NumpyArrayIterator(this, x, y, args) as NumpyArrayIterator<tf.Tensor4D>;
  }

  /**
   * Batches of augmented images read from `directory/<class>/…` (PNG, JPEG, GIF, BMP), resized
   * to `targetSize`, with labels by `classMode`, forever, reshuffled each pass. Prints Keras's
   * line `Found 2000 images belonging to 2 classes.`; unreadable files are skipped with a
   * warning naming each (and counted in that line), never failing mid-epoch.
   *
   * @example
   * ```ts
   * const trainGenerator = trainDatagen.flowFromDirectory("data/train", { targetSize: [150, 150], batchSize: 20, classMode: "binary" });
   * await fit(model, trainGenerator, { epochs: 30, stepsPerEpoch: 100 });
   * ```
   * Keras counterpart: `flow_from_directory(directory, target_size, color_mode, classes, class_mode, batch_size, shuffle, seed, subset)`.
   */
  flowFromDirectory(directory: string, args: FlowFromDirectoryArgs & { classMode: null }): DirectoryIterator<tf.Tensor4D>;
  flowFromDirectory(directory: string, args?: FlowFromDirectoryArgs): DirectoryIterator<[tf.Tensor4D, tf.Tensor]>;
  flowFromDirectory(directory: string, args: FlowFromDirectoryArgs = {}): DirectoryIterator<tf.Tensor4D> | DirectoryIterator<[tf.Tensor4D, tf.Tensor]> {
    return new DirectoryIterator(this, directory, args) as DirectoryIterator<[tf.Tensor4D, tf.Tensor]>;
  }
}

/** The smallest and largest value of `x`. */
function extremes(x: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  return [min, max];
}

/** Keras's `apply_channel_shift`: add `intensity`, clip to the image's own min..max. */
function channelShift(x: Float32Array, intensity: number): void {
  const [min, max] = extremes(x);
  for (let i = 0; i < x.length; i++) x[i] = Math.min(max, Math.max(min, x[i] + intensity));
}

/**
 * Keras's `apply_brightness_shift(x, b, scale=False)`: through an 8-bit PIL image, so values are
 * truncated to integers, multiplied by `b` and truncated again, clipped to 0–255; an image
 * outside 0–255 is mapped to it by its min..max first and back after. Alpha is left alone.
 */
function brightnessShift(x: Float32Array, channels: number, b: number): void {
  const [min, max] = extremes(x);
  const local = min < 0 || max > 255;
  const span = max - min || 1;
  for (let i = 0; i < x.length; i++) {
    if (channels === 4 && i % 4 === 3) continue;
    let v = local ? ((x[i] - min) / span) * 255 : x[i];
    v = Math.min(255, Math.floor(Math.floor(Math.min(255, Math.max(0, v))) * b));
    x[i] = local ? (v / 255) * span + min : v;
  }
}

export { IDENTITY };
