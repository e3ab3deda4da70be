/**
 * The iterators of {@link ImageDataGenerator}: batches from arrays (`flow`)
 * and from folders of images (`flowFromDirectory`), looping forever as
 * Keras's do, and usable wherever a tf.data dataset is (`fit`, `evaluate`,
 * tfjs's `model.fitDataset`).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { expectBoolean, expectNumber, expectOneOf, expectOptions, expectSeed, expectTargetSize, fail, Random, show, uninitializedArray } from "@convlab/engine";
import { COLOR_MODES, decodeImage } from "@convlab/datasets";
import type { ColorMode } from "@convlab/datasets";
import type { ImageDataGenerator } from "./image_data_generator";
import { asArray, PixelBuffer } from "./pixels";

/** Images for {@link ImageDataGenerator.flow}: `[N, H, W, C]` as a float32 tensor or a datasets `Uint8Tensor`. */
export type ImageSource = tf.Tensor | { data: Uint8Array | Float32Array; shape: readonly number[] };
/** Labels for {@link ImageDataGenerator.flow}: one row per image. */
export type FlowLabels = tf.Tensor | readonly number[] | Float32Array | Int32Array | Uint8Array | { data: Uint8Array; shape: readonly number[] };

/** Options of {@link ImageDataGenerator.flow}. */
export interface FlowArgs {
  /** Images per batch, integer >= 1. Default 32. */
  batchSize?: number;
  /** Reshuffle the order at the start of every pass. Default true. */
  shuffle?: boolean;
  /** Seeds the order and the transforms: the same seed gives the same batches. Default: the generator's `seed`, else random. */
  seed?: number;
  /** With the generator's `validationSplit`: `"validation"` takes the first part of the arrays, `"training"` the rest. */
  subset?: "training" | "validation";
}

/** How {@link ImageDataGenerator.flowFromDirectory} labels a batch. */
export type ClassMode = "binary" | "categorical" | "sparse" | "input" | null;

/** Options of {@link ImageDataGenerator.flowFromDirectory}; Keras's names in camelCase. */
export interface FlowFromDirectoryArgs extends FlowArgs {
  /** `[height, width]` every image is resized to (bilinear). Default [256, 256]. */
  targetSize?: readonly [number, number];
  /** `"rgb"` (default), `"grayscale"` or `"rgba"`. */
  colorMode?: ColorMode;
  /** Class folder names, in label order; default all sub-folders, sorted. */
  classes?: readonly string[];
  /**
   * Labels: `"categorical"` (default, one-hot `[batch, classes]`), `"binary"` (0/1, `[batch, 1]`,
   * exactly two classes), `"sparse"` (class index, `[batch, 1]`), `"input"` (the images
   * themselves, for autoencoders) or `null` (images only).
   */
  classMode?: ClassMode;
}

const FLOW_KEYS = ["batchSize", "shuffle", "seed", "subset"] as const;
const DIRECTORY_KEYS = [...FLOW_KEYS, "targetSize", "colorMode", "classes", "classMode"] as const;
const CLASS_MODES = ["binary", "categorical", "sparse", "input"] as const;
/** Extensions read (as Keras's white list, less PPM/TIFF, which canvas cannot decode, plus GIF). */
export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".bmp", ".gif"] as const;
/** Decoded images kept in memory at most (bytes); the rest are decoded again each time. */
const CACHE_BYTES = 1 << 30;

/** One position in the endless sequence of batches: its own random generator and order. */
class Cursor {
  order: Int32Array | null = null;
  position = 0;
  constructor(readonly rng: Random) {}
}

/** What the tf.data view yields, the form tfjs's `fitDataset` reads. */
interface XY {
  xs: tf.Tensor;
  ys: tf.Tensor;
}

/**
 * Base of the two iterators: the endless, reshuffled order of Keras's
 * `Iterator`, the tf.data view, and batch assembly through the generator.
 */
export abstract class ImageIterator<B> {
  /** Samples in one pass. */
  readonly n: number;
  /** Samples per batch (the last batch of a pass may be smaller). */
  readonly batchSize: number;
  /** Whether each pass is reshuffled. */
  readonly shuffle: boolean;
  /** The seed, when given. */
  readonly seed: number | undefined;
  /** Shape of one image, `[height, width, channels]`. */
  readonly imageShape: [number, number, number];
  private readonly own: Cursor;
  private views = 0;

  protected constructor(
    protected readonly generator: ImageDataGenerator,
    unit: string,
    n: number,
    imageShape: [number, number, number],
    args: FlowArgs,
  ) {
    this.n = n;
    this.imageShape = imageShape;
    this.batchSize = expectNumber(unit, "batchSize", args.batchSize ?? 32, { min: 1, integer: true });
    this.shuffle = expectBoolean(unit, "shuffle", args.shuffle ?? true);
    this.seed = expectSeed(unit, args.seed ?? generator.seed);
    this.own = new Cursor(new Random(this.seed));
  }

  /** Batches in one pass, `ceil(n / batchSize)`: Keras's `len(iterator)`, tf.data's `size`. */
  get size(): number {
    return Math.ceil(this.n / this.batchSize);
  }

  /**
   * The next batch (`[x, y]`, or `x` alone without labels); after the last batch of a pass the
   * order starts again (reshuffled). The caller owns the tensors (dispose them, or use tf.tidy).
   * Keras counterpart: `next(iterator)`.
   */
  next(): B {
    return this.batchAt(this.own);
  }

  /** Starts the order again from its first batch. Keras counterpart: `reset()`. */
  reset(): void {
    this.own.position = 0;
  }

  /** Endless iteration: `for (const [x, y] of iterator) { …; break; }`. */
  *[Symbol.iterator](): Iterator<B> {
    for (;;) yield this.next();
  }

  /**
   * The tf.data view: a fresh cursor from the first batch, yielding `{ xs, ys }` forever (seeded
   * from `seed` and the number of views made, so repeated runs see the same batches). This is what
   * `fit`/`evaluate` of @convlab/layers and tfjs's `model.fitDataset(it, { batchesPerEpoch })` /
   * `model.evaluateDataset(it, { batches })` call; tfjs disposes the tensors.
   */
  async iterator(): Promise<{ next(): Promise<IteratorResult<XY>> }> {
    const cursor = new Cursor(new Random(this.seed === undefined ? undefined : this.seed + 7919 * ++this.views));
    return {
      next: async () => {
        const batch = this.batchAt(cursor) as unknown;
        const xy = Array.isArray(batch) ? { xs: batch[0] as tf.Tensor, ys: batch[1] as tf.Tensor } : { xs: batch as tf.Tensor, ys: undefined as unknown as tf.Tensor };
        return { value: xy, done: false };
      },
    };
  }

  private batchAt(cursor: Cursor): B {
    if (cursor.position === 0 || cursor.order === null) {
      cursor.order = this.shuffle ? cursor.rng.permutation(this.n) : Int32Array.from({ length: this.n }, (_, i) => i);
    }
    const start = cursor.position;
    const end = Math.min(this.n, start + this.batchSize);
    cursor.position = end >= this.n ? 0 : end;
    const indices = cursor.order.subarray(start, end);
    const [h, w, c] = this.imageShape;
    const size = h * w * c;
    const x = uninitializedArray("float32", indices.length * size); // the warp writes every element
    const images = Array.from(indices, (j) => this.image(j));
    const params = images.map((im) => this.generator.getRandomTransform(im.shape, cursor.rng));
    this.generator.transformBatch(images, params, x, this.generator.rescale);
    return this.assemble(tf.tensor4d(x, [indices.length, h, w, c]), indices);
  }

  /** Pixels of sample `i`. */
  protected abstract image(i: number): PixelBuffer;
  /** The batch from its images and sample indices. */
  protected abstract assemble(x: tf.Tensor4D, indices: Int32Array): B;
}

function checkSubset(unit: string, subset: unknown, split: number): "training" | "validation" | undefined {
  if (subset === undefined) return undefined;
  const s = expectOneOf(unit, "subset", subset, ["training", "validation"] as const);
  if (split === 0) {
    throw fail(`${unit}: invalid subset. Expected no subset when the generator has no validationSplit. Received: subset=${show(subset)}; create the generator with e.g. { validationSplit: 0.2 }.`);
  }
  return s;
}

/** Batches from arrays: {@link ImageDataGenerator.flow}. */
export class NumpyArrayIterator<B> extends ImageIterator<B> {
  private readonly pixels: Uint8Array | Float32Array;
  private readonly labels: Float32Array | undefined;
  private readonly labelShape: number[];
  private readonly first: number;

  /** @internal Made by {@link ImageDataGenerator.flow}. */
  constructor(generator: ImageDataGenerator, x: ImageSource, y: FlowLabels | undefined, args: FlowArgs) {
    const unit = "flow";
    expectOptions(unit, args, FLOW_KEYS, "{ batchSize: 32 }");
    const { data, shape } = asArray(unit, "x", x);
    if (shape.length !== 4 || ![1, 3, 4].includes(shape[3])) {
      const hint = shape.length === 3 ? ` Add the channel axis, e.g. x.reshape([${shape.join(", ")}, 1]).` : "";
      throw fail(`${unit}: invalid x. Expected images [N, height, width, channels] with 1, 3 or 4 channels. Received: x of shape [${shape.join(", ")}].${hint}`);
    }
    let labels: Float32Array | undefined;
    let labelShape: number[] = [];
    if (y !== undefined && y !== null) {
      const read = y instanceof tf.Tensor || (typeof y === "object" && "shape" in (y as object)) ? asArray(unit, "y", y) : { data: Float32Array.from(y as ArrayLike<number>), shape: [(y as ArrayLike<number>).length] };
      if (read.shape[0] !== shape[0]) {
        throw fail(`${unit}: invalid y. Expected ${shape[0]} labels, one per image in x. Received: y of shape [${read.shape.join(", ")}].`);
      }
      labels = read.data instanceof Float32Array ? read.data : Float32Array.from(read.data);
      labelShape = read.shape.length === 1 ? [1] : read.shape.slice(1);
    }
    const split = generator.validationSplit;
    const subset = checkSubset(unit, args.subset, split);
    const cut = Math.floor(shape[0] * split);
    const first = subset === "training" ? cut : 0;
    const count = subset === undefined ? shape[0] : subset === "validation" ? cut : shape[0] - cut;
    if (count === 0) {
      throw fail(`${unit}: invalid x. Expected at least one image${subset ? ` in the ${subset} subset` : ""}. Received: ${shape[0]} images${subset ? ` with validationSplit ${split}` : ""}.`);
    }
    super(generator, unit, count, [shape[1], shape[2], shape[3]], args);
    this.pixels = data;
    this.labels = labels;
    this.labelShape = labelShape;
    this.first = first;
  }

  protected image(i: number): PixelBuffer {
    const [h, w, c] = this.imageShape;
    const size = h * w * c;
    const start = (this.first + i) * size;
    return { data: this.pixels.subarray(start, start + size), shape: this.imageShape };
  }

  protected assemble(x: tf.Tensor4D, indices: Int32Array): B {
    if (!this.labels) return x as unknown as B;
    const row = this.labelShape.reduce((a, b) => a * b, 1);
    const y = new Float32Array(indices.length * row);
    for (let i = 0; i < indices.length; i++) y.set(this.labels.subarray((this.first + indices[i]) * row, (this.first + indices[i] + 1) * row), i * row);
    return [x, tf.tensor(y, [indices.length, ...this.labelShape])] as unknown as B;
  }
}

/** Batches from `directory/<class>/…` image files: {@link ImageDataGenerator.flowFromDirectory}. */
export class DirectoryIterator<B> extends ImageIterator<B> {
  /** Folder name → label, as Keras's `class_indices`: `{ cats: 0, dogs: 1 }`. */
  readonly classIndices: Readonly<Record<string, number>>;
  /** Label of every sample, in file order. */
  readonly classes: Int32Array;
  /** Every sample's path relative to `directory` (`"cats/cat.1.png"`), in file order. */
  readonly filenames: readonly string[];
  /** The folder read. */
  readonly directory: string;
  /** How batches are labelled. */
  readonly classMode: ClassMode;
  private readonly colorMode: ColorMode;
  private readonly cache: (PixelBuffer | undefined)[];

  /** @internal Made by {@link ImageDataGenerator.flowFromDirectory}. */
  constructor(generator: ImageDataGenerator, directory: string, args: FlowFromDirectoryArgs) {
    const unit = "flowFromDirectory";
    expectOptions(unit, args, DIRECTORY_KEYS, "{ targetSize: [150, 150], batchSize: 20, classMode: \"binary\" }");
    const targetSize = expectTargetSize(unit, args.targetSize ?? [256, 256]);
    const colorMode = expectOneOf(unit, "colorMode", args.colorMode ?? "rgb", COLOR_MODES);
    const classMode = args.classMode === null ? null : expectOneOf(unit, "classMode", args.classMode ?? "categorical", CLASS_MODES);
    const subset = checkSubset(unit, args.subset, generator.validationSplit);
    const listing = listDirectory(unit, directory, args.classes);
    if (classMode === "binary" && listing.classNames.length !== 2) {
      throw fail(
        `${unit}: invalid classMode. Expected exactly 2 class folders for "binary". Received: ${listing.classNames.length} (${listing.classNames.map((c) => JSON.stringify(c)).join(", ")}) in ${show(directory)}; use classMode "categorical" or "sparse".`,
      );
    }
    const channels = colorMode === "rgb" ? 3 : colorMode === "grayscale" ? 1 : 4;
    const shape: [number, number, number] = [targetSize[0], targetSize[1], channels];
    // Keras splits each class: the first validationSplit of its files are the validation subset.
    const chosen: { file: string; label: number }[] = [];
    for (let label = 0; label < listing.classNames.length; label++) {
      const files = listing.files[label];
      const cut = Math.floor(files.length * generator.validationSplit);
      const part = subset === "validation" ? files.slice(0, cut) : subset === "training" ? files.slice(cut) : files;
      for (const file of part) chosen.push({ file, label });
    }
    // Decode everything once: unreadable files are found now (not mid-epoch) and the rest cached.
    const kept: { file: string; label: number }[] = [];
    const cache: (PixelBuffer | undefined)[] = [];
    const skipped: string[] = [];
    let cached = 0;
    for (const entry of chosen) {
      let pixels: PixelBuffer;
      try {
        pixels = readImage(unit, directory, entry.file, shape, colorMode);
      } catch (error) {
        skipped.push(entry.file);
        console.warn(`${unit}: skipped ${show(path.join(directory, entry.file))}: ${reasonOf(error)}`);
        continue;
      }
      kept.push(entry);
      const bytes = pixels.data.byteLength;
      cache.push(cached + bytes <= CACHE_BYTES ? pixels : undefined);
      if (cached + bytes <= CACHE_BYTES) cached += bytes;
    }
    const n = kept.length;
    const classCount = listing.classNames.length;
    console.log(`Found ${n} images belonging to ${classCount} ${classCount === 1 ? "class" : "classes"}.${skipped.length ? ` (${skipped.length} unreadable ${skipped.length === 1 ? "file" : "files"} skipped.)` : ""}`);
    if (n === 0) {
      throw fail(`${unit}: no images${subset ? ` in the ${subset} subset` : ""} in ${show(directory)}. Expected PNG, JPEG, GIF or BMP files in its class folders (${listing.classNames.map((c) => `${c}/`).join(", ")}).`);
    }
    super(generator, unit, n, shape, args);
    this.directory = directory;
    this.classMode = classMode;
    this.colorMode = colorMode;
    this.classIndices = Object.freeze(Object.fromEntries(listing.classNames.map((name, i) => [name, i])));
    this.classes = Int32Array.from(kept, (e) => e.label);
    this.filenames = Object.freeze(kept.map((e) => e.file));
    this.cache = cache;
  }

  protected image(i: number): PixelBuffer {
    return this.cache[i] ?? readImage("flowFromDirectory", this.directory, this.filenames[i], this.imageShape, this.colorMode);
  }

  protected assemble(x: tf.Tensor4D, indices: Int32Array): B {
    const b = indices.length;
    switch (this.classMode) {
      case null:
        return x as unknown as B;
      case "input":
        return [x, x.clone()] as unknown as B;
      case "categorical": {
        const k = Object.keys(this.classIndices).length;
        const y = new Float32Array(b * k);
        for (let i = 0; i < b; i++) y[i * k + this.classes[indices[i]]] = 1;
        return [x, tf.tensor2d(y, [b, k])] as unknown as B;
      }
      default:
        return [x, tf.tensor2d(Float32Array.from(indices, (j) => this.classes[j]), [b, 1])] as unknown as B;
    }
  }
}

function reasonOf(error: unknown): string {
  const message = String((error as Error)?.message ?? error);
  // decodeImage's line names the file already; keep what follows "Received: ".
  const at = message.indexOf("Received: ");
  return at >= 0 ? message.slice(at + "Received: ".length) : message;
}

function readImage(unit: string, directory: string, file: string, shape: [number, number, number], colorMode: ColorMode): PixelBuffer {
  const full = path.join(directory, file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(full);
  } catch (error) {
    throw fail(`${unit}: cannot read ${show(full)}. Received: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  const image = decodeImage(bytes, { targetSize: [shape[0], shape[1]], colorMode }, full);
  return { data: image.data, shape };
}

/** Class folders (sorted, or as given) and their image files, recursively, sorted. */
function listDirectory(unit: string, directory: string, classes: readonly string[] | undefined): { classNames: string[]; files: string[][] } {
  if (typeof directory !== "string" || directory === "") {
    throw fail(`${unit}: invalid directory. Expected the path of a folder with one sub-folder per class. Received: directory=${show(directory)}.`);
  }
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(directory, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw fail(`${unit}: folder not found: ${show(directory)} (looked in ${show(path.resolve(directory))}). Expected a folder with one sub-folder per class.`);
    if (code === "ENOTDIR") throw fail(`${unit}: invalid directory. Expected a folder with one sub-folder per class. Received: ${show(directory)}, a file.`);
    throw fail(`${unit}: cannot read ${show(directory)}. Received: ${code ?? (error as Error).message}.`);
  }
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  let classNames: string[];
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === "string" && c !== "")) {
      throw fail(`${unit}: invalid classes. Expected a non-empty array of class folder names. Received: classes=${show(classes)}.`);
    }
    const missing = classes.filter((c) => !folders.includes(c));
    if (missing.length) {
      throw fail(`${unit}: invalid classes. Expected folders of ${show(directory)} (${folders.map((f) => JSON.stringify(f)).join(", ") || "none"}). Received: ${missing.map((m) => JSON.stringify(m)).join(", ")}, not there.`);
    }
    classNames = [...classes];
  } else {
    classNames = folders;
  }
  if (classNames.length === 0) {
    const files = entries.filter((e) => e.isFile()).length;
    throw fail(
      `${unit}: no class folders in ${show(directory)}. Expected one sub-folder per class (${path.join(directory, "cats")}/…, ${path.join(directory, "dogs")}/…). Received: a folder with ${files} ${files === 1 ? "file" : "files"} and no sub-folders.`,
    );
  }
  const ignored: string[] = [];
  const files = classNames.map((name) => {
    const found: string[] = [];
    walk(path.join(directory, name), name, found, ignored);
    found.sort();
    if (found.length === 0) console.warn(`${unit}: class folder ${show(path.join(directory, name))} has no images; class ${show(name)} keeps its index but no sample has it.`);
    return found;
  });
  if (ignored.length) {
    const list = ignored.slice(0, 3).map((f) => JSON.stringify(f)).join(", ") + (ignored.length > 3 ? `, … (${ignored.length} in all)` : "");
    console.warn(`${unit}: ignored ${ignored.length} ${ignored.length === 1 ? "file" : "files"} that ${ignored.length === 1 ? "is" : "are"} not ${IMAGE_EXTENSIONS.join("/")} images: ${list}.`);
  }
  return { classNames, files };
}

function walk(folder: string, relative: string, found: string[], ignored: string[]): void {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const rel = `${relative}/${entry.name}`;
    if (entry.isDirectory()) walk(path.join(folder, entry.name), rel, found, ignored);
    else if ((IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(entry.name).toLowerCase())) found.push(rel);
    else if (!entry.name.startsWith(".")) ignored.push(rel);
  }
}
