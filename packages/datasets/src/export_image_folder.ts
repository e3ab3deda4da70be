/**
 * `exportImageFolder(dir, { images, labels }, options)`: a labelled image set
 * written as the folder tree Keras's `flow_from_directory` reads,
 * `dir/<split>/<className>/<n>.png`, all at once or not at all.
 *
 * The export is atomic through @convlab/engine's `writeFolderAtomically`, the
 * mechanism model saving uses: every file goes into a hidden sibling folder
 * that is renamed to `dir` at the end (a folder replaced with `overwrite: true`
 * is set aside first and removed after); leftovers of a process that died
 * midway are tidied by the next export to the same path.
 */
import * as fs from "fs";
import * as path from "path";
import type * as tf from "@tensorflow/tfjs";
import { ConvlabError, Random, closest, errnoCode, expectOneOf, expectOptions, expectTargetSize, fail, messageLine, show, tidyFolderLeftovers, writeFolderAtomically } from "@convlab/engine";
import { Canvas, createCanvas } from "canvas";
import { COLOR_MODES, ColorMode } from "./image_file";
import { Uint8Tensor } from "./uint8_tensor";

/** The splits {@link exportImageFolder} writes, in this order: the folder names of the course's cats-vs-dogs set. */
export const EXPORT_SPLITS = ["train", "validation", "test"] as const;
/** A split of {@link exportImageFolder}: `"train"`, `"validation"` or `"test"`. */
export type ExportSplit = (typeof EXPORT_SPLITS)[number];

/** Labels: `[N]` integers, or one-hot `[N, K]` (a `Uint8Tensor` or `tf.Tensor`; the argmax of each row is taken). */
export type ImageLabels = Uint8Tensor | tf.Tensor | Int32Array | Uint8Array | readonly number[];

/** Images with one label each, what {@link exportImageFolder} writes. */
export interface LabelledImages {
  /**
   * `[N, H, W]` or `[N, H, W, C]`, C 1 (grey), 3 (RGB) or 4 (RGBA): a `Uint8Tensor` (0–255), or a
   * `tf.Tensor` of dtype `int32` (0–255) or `float32` (0–1 when its maximum is at most 1, else 0–255).
   */
  images: Uint8Tensor | tf.Tensor;
  /** One label per image. */
  labels: ImageLabels;
}

/** Options of {@link exportImageFolder}. */
export interface ExportImageFolderArgs {
  /**
   * Which labels to export and the folder name of each: `{ 0: "tshirt", 6: "shirt" }`, or an array of
   * names for the labels 0, 1, …, K-1 (other labels are left out). Default: every label present,
   * named by its number (`"0"`, `"1"`, …; zero-padded, `"00"` … `"11"`, when a label has two digits,
   * so that the sorted names keep the labels' order).
   */
  classes?: Readonly<Record<number, string>> | readonly string[];
  /**
   * How many images of each class go to each split: counts (`{ train: 1000, validation: 500, test: 500 }`,
   * integers, per class), or fractions of each class's images (`{ train: 0.8, validation: 0.2 }`, each in
   * [0, 1], summing to at most 1). Values all at most 1 are fractions, so `{ train: 1 }` means every image.
   * A split of 0 is not written. Default `{ train: 0.8, validation: 0.2 }`.
   */
  splits?: Partial<Record<ExportSplit, number>>;
  /** `[height, width]` to resize every image to (bilinear, cairo's), positive integers. Default: the images' size. */
  targetSize?: readonly [number, number];
  /**
   * The PNGs' colours: `"grayscale"` (1-channel PNGs; colour images become PIL's luma, as Keras's
   * `color_mode="grayscale"`), `"rgb"` (grey replicated into R, G and B; alpha dropped) or `"rgba"`.
   * Default: as the data is (C 1, 3 or 4).
   */
  colorMode?: ColorMode;
  /** Seed of the draw of which images go where, a non-negative integer; omitted or `null`: different every run. */
  seed?: number | null;
  /** Replace `dir` when it exists and is not empty (atomically). Default false: that is an error. */
  overwrite?: boolean;
  /** Print the one-line summary. Default true. */
  verbose?: boolean;
}

/** What {@link exportImageFolder} wrote. */
export interface ExportImageFolderResult {
  /** The folder, as given. */
  dir: string;
  /** The class folder names, sorted, as `flow_from_directory` indexes them (class index = position here). */
  classNames: string[];
  /** Images written per split (only the splits written, in the order train, validation, test), then per class name. */
  counts: Partial<Record<ExportSplit, Record<string, number>>>;
}

const UNIT = "exportImageFolder";
const OPTION_KEYS = ["classes", "splits", "targetSize", "colorMode", "seed", "overwrite", "verbose"] as const;
const DEFAULT_SPLITS: Partial<Record<ExportSplit, number>> = { train: 0.8, validation: 0.2 };
const SPLITS_EXPECTED = "Expected counts or fractions per split, e.g. { train: 1000, validation: 500 }";
const CLASSES_EXPECTED = 'Expected an object mapping labels to folder names, e.g. { 0: "tshirt", 6: "shirt" }, or an array of names for the labels 0, 1, …';
const IMAGES_EXPECTED = "Expected a Uint8Tensor or tf.Tensor of shape [N, H, W] or [N, H, W, C] with C 1, 3 or 4";
const LABELS_EXPECTED = "Expected a Uint8Tensor, tf.Tensor, Int32Array, Uint8Array or number[] of one label per image (or one-hot [N, K])";
const MAX_LABEL = 2 ** 31 - 1;

/**
 * Writes labelled images as the folder tree Keras's `flow_from_directory` (and
 * `image_dataset_from_directory`) read: `dir/<split>/<className>/<n>.png`, where
 * `<n>` is the image's index in `images` (so `train/shirt/4711.png` is image 4711).
 * Prints one line, e.g. `Wrote 4000 images of 2 classes to data/shirts: train 2000, validation 1000, test 1000.`
 *
 * - Images `[N, H, W]` or `[N, H, W, C]` (C 1, 3 or 4): a `Uint8Tensor`, or a `tf.Tensor`, `int32`
 *   0–255 or `float32` (taken as 0–1 and multiplied by 255 when its maximum is at most 1, else as
 *   0–255; values are rounded). Labels `[N]`, or one-hot `[N, K]` (argmax). Tensors given are
 *   read, never disposed, and no tensor is created.
 * - Which images go where is drawn per class, in the order of the labels, with `new Random(seed)`:
 *   a permutation of the class's images is cut into train, validation and test. Counts are per class;
 *   fractions are of each class's images, rounded down, except that fractions summing to 1 use every
 *   image (the few left over go to the splits with the largest remainders).
 * - Every class gets a folder in every split written, even an empty one, so `flow_from_directory`
 *   gives each class the same index in every split.
 * - The PNGs are 8-bit, 1-channel (grayscale), RGB or RGBA, as `colorMode` says. Without `targetSize`,
 *   `loadImage(file, { colorMode })` of a file gives back exactly the exported pixels (except RGBA pixels
 *   with alpha below 255, which cairo stores premultiplied).
 * - Atomic: the tree is built in a hidden sibling folder and renamed into place; on any error nothing
 *   is left behind (an existing `dir` is untouched). With `overwrite: true` an existing `dir` is replaced
 *   by renames (old aside, new in, old deleted). Files are not fsynced: atomic against errors and
 *   interruptions of the process, not against a power cut.
 *
 * @param dir The folder to create, relative to the working folder (a notebook's folder); its parents
 *   are created. It must not exist, be empty, or `overwrite` must be true.
 * @param data `{ images, labels }`, or the pair `[images, labels]` as `loadData()` returns each split.
 * @param options `classes` (default: every label, named by its number), `splits` (default
 *   `{ train: 0.8, validation: 0.2 }`), `targetSize` (default: no resize), `colorMode` (default: as the
 *   data is), `seed` (default: random), `overwrite` (default false), `verbose` (default true).
 * @returns `{ dir, classNames, counts }`: the class names sorted as `flow_from_directory` indexes
 *   them, and the images written per split and class.
 * @throws ConvlabError (one line) before anything is written, for: invalid `dir`, `images`, `labels`
 *   or option (an unknown option suggests the nearest name); a class with no images, or fewer than the
 *   counts asked (saying how many it has); `dir` being a file, holding the working folder, or a folder
 *   that is not empty without `overwrite: true`. While writing, for a file-system error (no space,
 *   permission), after removing what was written.
 *
 * @example
 * ```ts
 * const [[trainImages, trainLabels]] = await fashionMnist.loadData();
 * const summary = exportImageFolder("data/shirts", { images: trainImages, labels: trainLabels }, {
 *   classes: { 0: "tshirt", 6: "shirt" },
 *   splits: { train: 1000, validation: 500, test: 500 },
 *   targetSize: [150, 150],
 *   colorMode: "rgb",
 *   seed: 42,
 * });  // Wrote 4000 images of 2 classes to data/shirts: train 2000, validation 1000, test 1000.
 * summary.classNames;  // ["shirt", "tshirt"]: class 0 is "shirt" for flow_from_directory
 * ```
 *
 * Keras counterpart: none. Keras users build such folders by hand: the course's cats-vs-dogs set is
 * made by copying 1000/500/500 files per class from the Kaggle download with `shutil.copyfile`, and
 * arrays are written one file at a time with `keras.utils.save_img` in a loop.
 */
export function exportImageFolder(
  dir: string,
  data: LabelledImages | readonly [Uint8Tensor | tf.Tensor, ImageLabels],
  options: ExportImageFolderArgs = {},
): ExportImageFolderResult {
  if (typeof dir !== "string" || dir === "" || dir.includes("\0")) {
    throw fail(`${UNIT}: invalid dir. Expected the path of a folder to create, e.g. "data/shirts". Received: dir=${show(dir)}.`);
  }
  const { images, labels } = checkData(data);
  expectOptions(UNIT, options, OPTION_KEYS, "{ splits: { train: 1000, validation: 500 } }");
  const splits = checkSplits(options.splits ?? DEFAULT_SPLITS);
  const targetSize = options.targetSize === undefined ? undefined : expectTargetSize(UNIT, options.targetSize);
  const colorMode = options.colorMode === undefined ? undefined : expectOneOf(UNIT, "colorMode", options.colorMode, COLOR_MODES);
  const seed = checkSeed(options.seed);
  const overwrite = checkBoolean("overwrite", options.overwrite, false);
  const verbose = checkBoolean("verbose", options.verbose, true);
  const classes = checkClasses(options.classes, labels);

  // Which images go where, drawn before anything touches the disk.
  const random = new Random(seed);
  const picks = new Map<ExportSplit, Map<ClassPick, Int32Array>>();
  for (const split of EXPORT_SPLITS) picks.set(split, new Map());
  for (const c of classes) {
    const counts = splitCounts(c, splits);
    const order = random.permutation(c.indices.length);
    let at = 0;
    for (const split of EXPORT_SPLITS) {
      const n = counts[split];
      picks.get(split)!.set(c, Int32Array.from(order.subarray(at, at + n), (k) => c.indices[k]));
      at += n;
    }
  }
  const written = EXPORT_SPLITS.filter((split) => splits.values[split] > 0);

  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const cwd = process.cwd();
  if (target === parent || cwd === target || cwd.startsWith(target + path.sep)) {
    throw fail(`${UNIT}: cannot write ${show(dir)}: it holds the working folder ${show(cwd)}. Expected a folder of its own, e.g. "data/shirts".`);
  }
  try {
    tidyFolderLeftovers(target);
  } catch {
    // Leftovers are only tidied in passing; the export itself reports real problems.
  }
  checkTarget(dir, target, overwrite);

  const encode = pngEncoder(images, colorMode, targetSize);
  try {
    writeFolderAtomically(target, (tmp) => {
      for (const split of written) {
        for (const [c, indices] of picks.get(split)!) {
          const folder = path.join(tmp, split, c.name);
          fs.mkdirSync(folder, { recursive: true });
          for (const index of indices) fs.writeFileSync(path.join(folder, `${index}.png`), encode(index));
        }
      }
    });
  } catch (error) {
    throw writeError(dir, error);
  }

  const classNames = classes.map((c) => c.name).sort(byCodePoint);
  const byName = new Map(classes.map((c) => [c.name, c]));
  const counts: Partial<Record<ExportSplit, Record<string, number>>> = {};
  for (const split of written) {
    counts[split] = Object.fromEntries(classNames.map((name) => [name, picks.get(split)!.get(byName.get(name)!)!.length]));
  }
  if (verbose) {
    const totals = written.map((split) => [split, Object.values(counts[split]!).reduce((a, b) => a + b, 0)] as const);
    const total = totals.reduce((a, [, n]) => a + n, 0);
    const perSplit = totals.map(([split, n]) => `${split} ${n}`).join(", ");
    console.log(`Wrote ${plural(total, "image")} of ${plural(classNames.length, "class")} to ${dir}: ${perSplit}.`);
  }
  return { dir, classNames, counts };
}

// ---------------------------------------------------------------- data

/** Images as bytes, one sample at a time. */
interface ImageSource {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3 | 4;
  /** Image `i`, `height * width * channels` bytes, row-major, channels last. */
  sample(i: number): Uint8Array;
}

function isTfTensor(value: unknown): value is tf.Tensor {
  const t = value as { shape?: unknown; dtype?: unknown; dataSync?: unknown } | null;
  return t != null && typeof t === "object" && Array.isArray(t.shape) && typeof t.dtype === "string" && typeof t.dataSync === "function";
}

function checkData(data: unknown): { images: ImageSource; labels: Int32Array } {
  let images: unknown;
  let labels: unknown;
  if (Array.isArray(data) && data.length === 2) {
    [images, labels] = data;
  } else if (data !== null && typeof data === "object" && !Array.isArray(data) && !(data instanceof Uint8Tensor) && !isTfTensor(data) && "images" in data && "labels" in data) {
    ({ images, labels } = data as { images: unknown; labels: unknown });
  } else {
    throw fail(`${UNIT}: invalid data. Expected { images, labels } or [images, labels]. Received: data=${brief(data)}.`);
  }
  const source = checkImages(images);
  return { images: source, labels: checkLabels(labels, source.count) };
}

function checkImages(images: unknown): ImageSource {
  const isU8 = images instanceof Uint8Tensor;
  if (!isU8 && !isTfTensor(images)) throw fail(`${UNIT}: invalid images. ${IMAGES_EXPECTED}. Received: images=${brief(images)}.`);
  const shape = images.shape;
  const channels = shape.length === 3 ? 1 : shape[3];
  if ((shape.length !== 3 && shape.length !== 4) || !(channels === 1 || channels === 3 || channels === 4) || shape.slice(1).some((d) => d === 0)) {
    throw fail(`${UNIT}: invalid images. ${IMAGES_EXPECTED}. Received: images=${show(images)}.`);
  }
  if (shape[0] === 0) throw fail(`${UNIT}: invalid images. Expected at least one image. Received: images=${show(images)}.`);
  const [count, height, width] = shape;
  const stride = height * width * channels;
  if (isU8) {
    const bytes = images.data;
    return { count, height, width, channels, sample: (i) => bytes.subarray(i * stride, (i + 1) * stride) };
  }
  if (images.dtype !== "float32" && images.dtype !== "int32") {
    throw fail(`${UNIT}: invalid images. Expected a tf.Tensor of dtype float32 or int32. Received: images=${show(images)}.`);
  }
  if (images.isDisposed) throw fail(`${UNIT}: invalid images. Expected a tensor that is not disposed. Received: a disposed ${show(images)}.`);
  const values = images.dataSync() as Float32Array | Int32Array;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) throw fail(`${UNIT}: invalid images. Expected pixel values in [0, 1] or [0, 255]. Received: NaN at index ${i} of ${show(images)}.`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min < 0 || max > 255) {
    throw fail(`${UNIT}: invalid images. Expected pixel values in [0, 1] or [0, 255]. Received: values from ${min} to ${max} in ${show(images)}.`);
  }
  const scale = images.dtype === "float32" && max <= 1 ? 255 : 1;
  return {
    count,
    height,
    width,
    channels,
    sample: (i) => {
      const out = new Uint8Array(stride);
      for (let j = 0, k = i * stride; j < stride; j++, k++) out[j] = Math.round(values[k] * scale);
      return out;
    },
  };
}

function checkLabels(labels: unknown, count: number): Int32Array {
  let values: ArrayLike<number>;
  let shape: readonly number[];
  if (labels instanceof Uint8Tensor) {
    [values, shape] = [labels.data, labels.shape];
  } else if (isTfTensor(labels)) {
    if (labels.isDisposed) throw fail(`${UNIT}: invalid labels. Expected a tensor that is not disposed. Received: a disposed ${show(labels)}.`);
    if (labels.dtype === "string" || labels.dtype === "complex64") throw fail(`${UNIT}: invalid labels. ${LABELS_EXPECTED}. Received: labels=${show(labels)}.`);
    [values, shape] = [labels.dataSync() as ArrayLike<number>, labels.shape];
  } else if (labels instanceof Int32Array || labels instanceof Uint8Array || (Array.isArray(labels) && labels.every((v) => typeof v === "number"))) {
    [values, shape] = [labels as ArrayLike<number>, [labels.length]];
  } else {
    throw fail(`${UNIT}: invalid labels. ${LABELS_EXPECTED}. Received: labels=${brief(labels)}.`);
  }
  if ((shape.length !== 1 && shape.length !== 2) || (shape.length === 2 && shape[1] === 0)) {
    throw fail(`${UNIT}: invalid labels. ${LABELS_EXPECTED}. Received: labels=${brief(labels)}.`);
  }
  if (shape[0] !== count) {
    throw fail(`${UNIT}: invalid labels. Expected ${count} labels, one per image. Received: ${shape[0]} (labels=${brief(labels)}).`);
  }
  const out = new Int32Array(count);
  if (shape.length === 2) {
    const k = shape[1];
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
      out[i] = best;
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v <= MAX_LABEL)) {
      throw fail(`${UNIT}: invalid labels. Expected non-negative integers. Received: labels[${i}]=${show(v)}.`);
    }
    out[i] = v;
  }
  return out;
}

// ---------------------------------------------------------------- options

interface SplitSpec {
  kind: "counts" | "fractions";
  values: Record<ExportSplit, number>;
}

function checkSplits(splits: unknown): SplitSpec {
  const received = `Received: splits=${show(splits)}.`;
  if (splits === null || typeof splits !== "object" || Array.isArray(splits) || Object.keys(splits).length === 0) {
    throw fail(`${UNIT}: invalid splits. ${SPLITS_EXPECTED}. ${received}`);
  }
  for (const key of Object.keys(splits)) {
    if ((EXPORT_SPLITS as readonly string[]).includes(key)) continue;
    const hint = closest(key, EXPORT_SPLITS);
    throw fail(`${UNIT}: unknown split \`${key}\`. Expected one of ${EXPORT_SPLITS.map((s) => `\`${s}\``).join(", ")}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
  }
  const given = splits as Record<string, unknown>;
  const values = { train: 0, validation: 0, test: 0 };
  for (const split of EXPORT_SPLITS) {
    const v = given[split];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw fail(`${UNIT}: invalid splits. ${SPLITS_EXPECTED}. ${received}`);
    values[split] = v;
  }
  const all = Object.values(values);
  const sum = all.reduce((a, b) => a + b, 0);
  if (sum === 0) throw fail(`${UNIT}: invalid splits. Expected at least one split above 0. ${received}`);
  if (all.every((v) => v <= 1)) {
    if (sum > 1 + 1e-9) throw fail(`${UNIT}: invalid splits. Expected fractions summing to at most 1 (or counts per class, integers). Received: splits=${show(splits)} (sum ${+sum.toFixed(6)}).`);
    return { kind: "fractions", values };
  }
  if (!all.every((v) => Number.isInteger(v))) {
    throw fail(`${UNIT}: invalid splits. Expected counts per class (integers) or fractions in [0, 1], not both. ${received}`);
  }
  return { kind: "counts", values };
}

function checkSeed(seed: unknown): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw fail(`${UNIT}: invalid seed. Expected a non-negative integer (or null for a random draw). Received: seed=${show(seed)}.`);
  }
  return seed;
}

function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw fail(`${UNIT}: invalid ${name}. Expected true or false. Received: ${name}=${show(value)}.`);
  return value;
}

/** A class to export: its label, folder name and the indices of its images (ascending). */
interface ClassPick {
  label: number;
  name: string;
  indices: number[];
}

function checkClasses(classes: unknown, labels: Int32Array): ClassPick[] {
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byLabel.get(labels[i]);
    if (list) list.push(i);
    else byLabel.set(labels[i], [i]);
  }
  const present = [...byLabel.keys()].sort((a, b) => a - b);
  let named: Array<[number, unknown]>;
  if (classes === undefined) {
    const width = String(present[present.length - 1]).length;
    named = present.map((label) => [label, String(label).padStart(width, "0")]);
  } else if (Array.isArray(classes) && classes.length > 0) {
    named = classes.map((name, label) => [label, name]);
  } else if (classes !== null && typeof classes === "object" && !Array.isArray(classes) && Object.keys(classes).length > 0) {
    named = [];
    for (const [key, name] of Object.entries(classes)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) > MAX_LABEL) {
        throw fail(`${UNIT}: invalid classes. Expected labels (non-negative integers) as keys, e.g. { 0: "tshirt", 6: "shirt" }. Received: classes=${show(classes)}.`);
      }
      named.push([Number(key), name]);
    }
  } else {
    throw fail(`${UNIT}: invalid classes. ${CLASSES_EXPECTED}. Received: classes=${show(classes)}.`);
  }
  const seen = new Map<string, number>();
  const picks: ClassPick[] = [];
  for (const [label, name] of named.sort((a, b) => a[0] - b[0])) {
    // eslint-disable-next-line no-control-regex
    if (typeof name !== "string" || name === "" || name === "." || name === ".." || /[/\\\u0000-\u001f]/.test(name)) {
      throw fail(`${UNIT}: invalid class name for label ${label}. Expected a folder name: a non-empty string without "/", "\\" or control characters, not "." or "..". Received: classes[${label}]=${show(name)}.`);
    }
    const folded = name.toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined) {
      throw fail(`${UNIT}: invalid classes. Expected a different folder name for each label (letter case aside: some file systems ignore it). Received: classes[${other}]=${show(named.find(([l]) => l === other)![1])} and classes[${label}]=${show(name)}.`);
    }
    seen.set(folded, label);
    const indices = byLabel.get(label);
    if (!indices) {
      throw fail(`${UNIT}: no images of class ${show(name)} (label ${label}). Expected a label present in the data: ${listLabels(present)}. Received: 0 images with label ${label}.`);
    }
    picks.push({ label, name, indices });
  }
  return picks;
}

function listLabels(labels: number[]): string {
  return labels.length <= 12 ? labels.join(", ") : `${labels.slice(0, 12).join(", ")}, … (${labels.length} labels)`;
}

/** How many images of class `c` each split gets; throws when counts ask for more than it has. */
function splitCounts(c: ClassPick, splits: SplitSpec): Record<ExportSplit, number> {
  const n = c.indices.length;
  if (splits.kind === "counts") {
    const needed = EXPORT_SPLITS.reduce((a, s) => a + splits.values[s], 0);
    if (needed > n) {
      const asked = EXPORT_SPLITS.filter((s) => splits.values[s] > 0).map((s) => `${s} ${splits.values[s]}`).join(", ");
      throw fail(`${UNIT}: too few images of class ${show(c.name)} (label ${c.label}) for the splits asked. Expected at least ${needed} (${asked}). Received: ${plural(n, "image")} with label ${c.label}.`);
    }
    return { ...splits.values };
  }
  // Fractions: rounded down (the epsilon keeps 0.29 * 100 = 28.999… at 29), then, when they sum to 1,
  // the images left over go one each to the splits with the largest remainders, so none is lost.
  const exact = EXPORT_SPLITS.map((s) => splits.values[s] * n);
  const counts = exact.map((x) => Math.floor(x + 1e-6));
  for (let i = counts.length - 1; counts.reduce((a, b) => a + b, 0) > n; ) if (counts[i] > 0) counts[i]--; else i--;
  const sum = EXPORT_SPLITS.reduce((a, s) => a + splits.values[s], 0);
  if (Math.abs(sum - 1) < 1e-9) {
    const order = [0, 1, 2].filter((i) => exact[i] > 0).sort((a, b) => (exact[b] - counts[b]) - (exact[a] - counts[a]) || a - b);
    for (let left = n - counts.reduce((a, b) => a + b, 0), k = 0; left > 0 && order.length > 0; left--, k++) counts[order[k % order.length]]++;
  }
  return { train: counts[0], validation: counts[1], test: counts[2] };
}

// ---------------------------------------------------------------- PNG

const PIXEL_FORMATS = { grayscale: "A8", rgb: "RGB24", rgba: "RGBA32" } as const;

/**
 * Image `i` as PNG bytes. Grayscale goes through an A8 canvas, which node-canvas writes as a
 * 1-channel grey PNG; RGB through RGB24 (an RGB PNG), RGBA through RGBA32. Resizing draws one
 * canvas onto another with cairo's bilinear filter, as `loadImage` does.
 */
function pngEncoder(images: ImageSource, colorMode: ColorMode | undefined, targetSize: [number, number] | undefined): (i: number) => Buffer {
  const { height, width, channels } = images;
  const mode: ColorMode = colorMode ?? (channels === 1 ? "grayscale" : channels === 3 ? "rgb" : "rgba");
  const pixelFormat = PIXEL_FORMATS[mode];
  const source = createCanvas(width, height);
  const sourceCtx = source.getContext("2d", { pixelFormat });
  const imageData = sourceCtx.createImageData(width, height);
  let output: Canvas = source;
  let draw = (): void => undefined;
  if (targetSize && (targetSize[0] !== height || targetSize[1] !== width)) {
    const [h, w] = targetSize;
    output = createCanvas(w, h);
    const ctx = output.getContext("2d", { pixelFormat });
    ctx.imageSmoothingEnabled = true;
    ctx.patternQuality = "bilinear"; // cairo's bilinear filter (the default, "good", is a box filter when shrinking)
    draw = () => {
      ctx.clearRect(0, 0, w, h);
      ctx.drawImage(source, 0, 0, w, h);
    };
  }
  return (i) => {
    fillPixels(images.sample(i), channels, mode, imageData.data);
    sourceCtx.putImageData(imageData, 0, 0);
    draw();
    return output.toBuffer("image/png");
  };
}

/** `channels`-channel bytes into canvas pixels: 1 byte a pixel for grayscale (A8), else 4 (R, G, B, A). */
function fillPixels(src: Uint8Array, channels: 1 | 3 | 4, mode: ColorMode, out: Uint8ClampedArray): void {
  const pixels = src.length / channels;
  if (mode === "grayscale") {
    if (channels === 1) {
      out.set(src);
      return;
    }
    for (let p = 0, s = 0; p < pixels; p++, s += channels) {
      // PIL's ImagingConvert RGB -> L (Keras's color_mode="grayscale"), as loadImage reads colour files.
      out[p] = (src[s] * 19595 + src[s + 1] * 38470 + src[s + 2] * 7471 + 0x8000) >>> 16;
    }
    return;
  }
  for (let p = 0, s = 0, o = 0; p < pixels; p++, s += channels, o += 4) {
    if (channels === 1) {
      out[o] = out[o + 1] = out[o + 2] = src[s];
    } else {
      out[o] = src[s];
      out[o + 1] = src[s + 1];
      out[o + 2] = src[s + 2];
    }
    out[o + 3] = channels === 4 && mode === "rgba" ? src[s + 3] : 255;
  }
}

// ---------------------------------------------------------------- folders

/** Refuses a target that is a file, or a non-empty folder without `overwrite`. */
function checkTarget(dir: string, target: string, overwrite: boolean): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") return;
    if (code === "ENOTDIR") throw fail(`${UNIT}: cannot write ${show(dir)}: a parent of the path is a file. Expected a path whose parents are folders; choose another path.`);
    throw writeError(dir, error);
  }
  if (!stat.isDirectory()) {
    throw fail(`${UNIT}: cannot write ${show(dir)}: it is a file. Expected the path of a new or empty folder (or of a folder to replace, with overwrite: true).`);
  }
  let entries: string[];
  try {
    entries = fs.readdirSync(target);
  } catch (error) {
    throw writeError(dir, error);
  }
  if (entries.length > 0 && !overwrite) {
    throw fail(`${UNIT}: folder ${show(dir)} is not empty (${plural(entries.length, "entry", "entries")}). Expected a new or empty folder; pass overwrite: true to replace it.`);
  }
}

const WRITE_REASONS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a parent of the path is a file",
  ENAMETOOLONG: "a name is too long",
  EBUSY: "the folder is in use",
};

function writeError(dir: string, error: unknown): Error {
  if (error instanceof ConvlabError) return error;
  const code = errnoCode(error);
  const reason = code != null && WRITE_REASONS[code] ? `${WRITE_REASONS[code]} (${code})` : messageLine(error);
  return fail(`${UNIT}: cannot write ${show(dir)}: ${reason}. Expected a writable folder with room for the images; nothing was written, choose another path or free some space.`);
}

/** `show`, but never a whole dataset: long arrays are cut, objects holding arrays summarised. */
function brief(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length <= 8) return `[${value.map(brief).join(", ")}]`;
    return `[${value.slice(0, 3).map(brief).join(", ")}, …] (${value.length} items)`;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Tensor) && !isTfTensor(value) && !ArrayBuffer.isView(value)) {
    const keys = Object.keys(value);
    return `{ ${keys.slice(0, 6).map((k) => `${k}: ${brief((value as Record<string, unknown>)[k])}`).join(", ")}${keys.length > 6 ? ", …" : ""} }`;
  }
  return show(value);
}

function plural(n: number, one: string, many = one.endsWith("s") ? `${one}es` : `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Python's `sorted` order of strings (by code point), the order `flow_from_directory` gives classes. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (ch) => ch.codePointAt(0)!);
  const y = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
