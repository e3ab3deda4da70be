/**
 * One random transform applied to an image, its boxes and its mask together,
 * as albumentations does and Keras's ImageDataGenerator does not: what the
 * detection and segmentation lessons train with.
 *
 * Boxes are in pixels with edges on pixel borders: pixel column `i` spans
 * [i, i + 1), so a box over the whole image is `[0, 0, width, height]` in
 * `xyxy`. A box moves by the forward map of the image (the inverse of its
 * sampling matrix, see affine.ts), applied to its four corners in
 * pixel-centre coordinates (edge − 0.5); the result is the axis-aligned box
 * around the moved corners, clipped to the image. A rotated box therefore
 * grows (its corners stick out), as in every axis-aligned pipeline.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOneOf, expectOptions, expectSeed, fail, Random, show, warpAffine } from "@convlab/engine";
import { Affine, invertAffine, samplingMatrix, TransformParams } from "./affine";
import type { ImageDataGenerator } from "./image_data_generator";
import { asArray, asImage, ImageInput } from "./pixels";

/** Pixel box formats: corners `[x1, y1, x2, y2]`, `[y1, x1, y2, x2]` (TensorFlow's order), or `[x, y, width, height]`. */
export type PixelBoxFormat = "xyxy" | "yxyx" | "xywh";
const BOX_FORMATS: readonly PixelBoxFormat[] = ["xyxy", "yxyx", "xywh"];

/** Options of {@link transformBoxes}. */
export interface TransformBoxesArgs {
  /** The boxes' format (required: no silent default). */
  format: PixelBoxFormat;
  /** Drop a box when less than this fraction of its moved area stays inside the image. Default 0 (drop only boxes left with no area). */
  minVisibility?: number;
}

/** What {@link transformBoxes} returns. */
export interface TransformedBoxes {
  /** The boxes that stay, moved and clipped, in the input's format. */
  boxes: number[][];
  /** For each kept box, its position in the input (to carry labels along). */
  kept: number[];
}

function toCorners(box: readonly number[], format: PixelBoxFormat): [number, number, number, number] {
  if (format === "xyxy") return [box[0], box[1], box[2], box[3]];
  if (format === "yxyx") return [box[1], box[0], box[3], box[2]];
  return [box[0], box[1], box[0] + box[2], box[1] + box[3]];
}

function fromCorners(c: [number, number, number, number], format: PixelBoxFormat): number[] {
  if (format === "xyxy") return c;
  if (format === "yxyx") return [c[1], c[0], c[3], c[2]];
  return [c[0], c[1], c[2] - c[0], c[3] - c[1]];
}

function readBoxes(unit: string, boxes: unknown): number[][] {
  let rows: number[][];
  if (boxes instanceof tf.Tensor) {
    if (boxes.rank !== 2 || boxes.shape[1] !== 4) {
      throw fail(`${unit}: invalid boxes. Expected a [numBoxes, 4] tensor. Received: boxes=${show(boxes)}.`);
    }
    rows = boxes.arraySync() as number[][];
  } else if (Array.isArray(boxes)) {
    rows = boxes as number[][];
  } else {
    throw fail(`${unit}: invalid boxes. Expected an array of [4] boxes or a [numBoxes, 4] tensor. Received: boxes=${show(boxes)}.`);
  }
  rows.forEach((row, i) => {
    if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw fail(`${unit}: invalid boxes[${i}]. Expected 4 numbers. Received: boxes[${i}]=${show(row)}.`);
    const r = Array.from(row as ArrayLike<number>);
    if (r.length !== 4 || !r.every(Number.isFinite)) throw fail(`${unit}: invalid boxes[${i}]. Expected 4 finite numbers. Received: boxes[${i}]=${show(r)}.`);
  });
  return rows.map((r) => Array.from(r as ArrayLike<number>));
}

/**
 * Moves pixel boxes of an image of `imageSize` `[height, width]` by the transform `params`
 * (the same parameters given to {@link ImageDataGenerator.applyTransform}).
 *
 * @throws ConvlabError for boxes that are not `[n, 4]` finite numbers, boxes with x2 < x1 or
 *   y2 < y1 (naming the box), or an unknown format.
 * @example
 * ```ts
 * const params = datagen.getRandomTransform([150, 150, 3]);
 * const image = datagen.applyTransform(photo, params);
 * const { boxes, kept } = transformBoxes([[10, 20, 60, 90]], params, [150, 150], { format: "xyxy" });
 * ```
 * Keras counterpart: none (KerasCV's `bounding_box` utilities with its own random layers).
 */
export function transformBoxes(boxes: readonly (readonly number[])[] | tf.Tensor, params: TransformParams, imageSize: readonly [number, number], args: TransformBoxesArgs): TransformedBoxes {
  const unit = "transformBoxes";
  expectOptions(unit, args, ["format", "minVisibility"], '{ format: "xyxy" }');
  const format = expectOneOf(unit, "format", args.format, BOX_FORMATS);
  const minVisibility = expectNumber(unit, "minVisibility", args.minVisibility ?? 0, { min: 0, max: 1 });
  const [h, w] = imageSize;
  const rows = readBoxes(unit, boxes);
  const forward = invertAffine(samplingMatrix(params, h, w));
  const out: number[][] = [];
  const kept: number[] = [];
  rows.forEach((box, i) => {
    const [x1, y1, x2, y2] = toCorners(box, format);
    if (x2 < x1 || y2 < y1) {
      throw fail(`${unit}: invalid boxes[${i}]. Expected x2 >= x1 and y2 >= y1 in format "${format}". Received: boxes[${i}]=${show(box)}.`);
    }
    const moved = moveBox(forward, x1, y1, x2, y2);
    const area = (moved[2] - moved[0]) * (moved[3] - moved[1]);
    const clipped: [number, number, number, number] = [clamp(moved[0], 0, w), clamp(moved[1], 0, h), clamp(moved[2], 0, w), clamp(moved[3], 0, h)];
    const inside = Math.max(0, clipped[2] - clipped[0]) * Math.max(0, clipped[3] - clipped[1]);
    if (inside <= 0 || (area > 0 && inside / area < minVisibility)) return;
    out.push(fromCorners(clipped, format));
    kept.push(i);
  });
  return { boxes: out, kept };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function moveBox(m: Affine, x1: number, y1: number, x2: number, y2: number): [number, number, number, number] {
  // Corners in pixel-centre coordinates (edge - 0.5), moved, then back to edges.
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [x, y] of [[x1, y1], [x2, y1], [x1, y2], [x2, y2]]) {
    const cx = x - 0.5;
    const cy = y - 0.5;
    xs.push(m[0] * cx + m[1] * cy + m[2] + 0.5);
    ys.push(m[3] * cx + m[4] * cy + m[5] + 0.5);
  }
  const r = (v: number) => Math.round(v * 1e9) / 1e9; // whole-pixel moves give whole numbers
  return [r(Math.min(...xs)), r(Math.min(...ys)), r(Math.max(...xs)), r(Math.max(...ys))];
}

/**
 * Moves a segmentation mask (class ids, `[H, W]` or `[H, W, 1]`) by `params`, with the nearest
 * pixel (ids are never blended) and the generator's fill mode; the `constant` fill writes `fill`
 * (default 0, background).
 * @returns an int32 `tf.Tensor` of the mask's shape.
 * @throws ConvlabError for a mask that is not `[H, W]` / `[H, W, 1]`.
 */
export function transformMask(mask: ImageInput, params: TransformParams, datagen: ImageDataGenerator, fill = 0): tf.Tensor {
  const unit = "transformMask";
  const { data, shape } = asArray(unit, "mask", mask);
  if (!(shape.length === 2 || (shape.length === 3 && shape[2] === 1))) {
    throw fail(`${unit}: invalid mask. Expected [height, width] or [height, width, 1] class ids. Received: mask of shape [${shape.join(", ")}].`);
  }
  const [h, w] = shape;
  const src = data instanceof Float32Array ? data : Float32Array.from(data);
  const out = new Float32Array(h * w);
  warpAffine({ src, srcShape: [1, h, w, 1], out, outSize: [h, w], matrices: samplingMatrix(params, h, w), order: 0, fillMode: datagen.fillMode, cval: fill });
  return tf.tensor(Int32Array.from(out), shape, "int32");
}

/** Targets of {@link augmentWithTargets}. */
export interface Targets {
  /** Pixel boxes of the image (needs `boxFormat`). */
  boxes?: readonly (readonly number[])[] | tf.Tensor;
  /** Format of `boxes`. */
  boxFormat?: PixelBoxFormat;
  /** A label (or any value) per box, filtered with the boxes. */
  labels?: readonly unknown[];
  /** Class-id mask `[H, W]` or `[H, W, 1]` of the image. */
  mask?: ImageInput;
}

/** What {@link augmentWithTargets} returns: the image (rescaled) and its moved targets. */
export interface AugmentedTargets {
  image: tf.Tensor3D;
  boxes?: number[][];
  labels?: unknown[];
  mask?: tf.Tensor;
  /** The parameters drawn. */
  params: TransformParams;
}

/**
 * Draws one random transform of `datagen` and applies it to `image`, its `boxes` and its `mask`
 * alike (image rescaled by the generator; boxes that leave the image dropped with their labels).
 *
 * @example
 * ```ts
 * const out = augmentWithTargets(datagen, scene, { boxes, boxFormat: "xyxy", labels, mask }, { seed: 3 });
 * ```
 * Keras counterpart: none in ImageDataGenerator; albumentations' `Compose(..., bbox_params=…)(image=, bboxes=, mask=)`.
 */
export function augmentWithTargets(datagen: ImageDataGenerator, image: ImageInput, targets: Targets, options: { seed?: number; minVisibility?: number } = {}): AugmentedTargets {
  const unit = "augmentWithTargets";
  expectOptions(unit, targets, ["boxes", "boxFormat", "labels", "mask"], '{ boxes, boxFormat: "xyxy", mask }');
  expectOptions(unit, options, ["seed", "minVisibility"], "{ seed: 1 }");
  const src = asImage(unit, "image", image);
  const rng = options.seed === undefined ? undefined : new Random(expectSeed(unit, options.seed));
  const params = datagen.getRandomTransform(src.shape, rng);
  const result: AugmentedTargets = { image: tf.tidy(() => datagen.standardize(datagen.applyTransform(src, params))) as tf.Tensor3D, params };
  if (targets.boxes !== undefined) {
    if (targets.boxFormat === undefined) throw fail(`${unit}: missing boxFormat. Expected "xyxy", "yxyx" or "xywh" with boxes (no silent default). Received: boxes without boxFormat.`);
    const moved = transformBoxes(targets.boxes, params, [src.shape[0], src.shape[1]], { format: targets.boxFormat, minVisibility: options.minVisibility });
    result.boxes = moved.boxes;
    if (targets.labels !== undefined) result.labels = moved.kept.map((i) => targets.labels![i]);
  }
  if (targets.mask !== undefined) {
    const m = asArray(unit, "mask", targets.mask);
    if (m.shape[0] !== src.shape[0] || m.shape[1] !== src.shape[1]) {
      throw fail(`${unit}: invalid mask. Expected the image's size ${src.shape[0]}x${src.shape[1]}. Received: a mask of ${m.shape[0]}x${m.shape[1]}.`);
    }
    result.mask = transformMask(targets.mask, params, datagen);
  }
  return result;
}
