/**
 * Box formats: the nine ways detection code writes a box, conversions between them, clipping to
 * the image and the checks every box function runs on its input.
 *
 * Pixel convention (the same as @convlab/augmentation's joint transforms): edges lie on pixel
 * borders, pixel column `i` spans [i, i + 1), so the whole W x H image is `[0, 0, W, H]` in
 * `xyxy`. Relative formats divide x by the width W and y by the height H, so the whole image is
 * `[0, 0, 1, 1]` in `relXyxy`. A box is the same rectangle in every format; only the numbers
 * differ:
 *
 * | format          | numbers                            | whole W x H image |
 * |-----------------|------------------------------------|-------------------|
 * | `xyxy`          | x1, y1, x2, y2 (pixels)            | 0, 0, W, H        |
 * | `yxyx`          | y1, x1, y2, x2 (TensorFlow's)      | 0, 0, H, W        |
 * | `xywh`          | x1, y1, width, height (COCO's)     | 0, 0, W, H        |
 * | `centerXywh`    | centre x, centre y, width, height  | W/2, H/2, W, H    |
 * | `relXyxy` …     | the four above, x / W and y / H    | 0, 0, 1, 1 …      |
 * | `yolo`          | = `relCenterXywh` (YOLO .txt)      | 0.5, 0.5, 1, 1    |
 *
 * Conversions go through the corners: from `xywh`, x2 = x1 + w; from `centerXywh`,
 * x1 = cx − w/2, x2 = cx + w/2 (the same for y); relative ↔ pixel multiplies or divides x by W and
 * y by H.
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, expectOptions, fail, show } from "@convlab/engine";

/**
 * The box formats of KerasCV's `bounding_box` module, in camelCase, plus `yolo`.
 *
 * - `xyxy`: `[x1, y1, x2, y2]`, pixels. KerasCV `"xyxy"`.
 * - `yxyx`: `[y1, x1, y2, x2]`, pixels (the order of `tf.image.nonMaxSuppression` and
 *   `cropAndResize`). KerasCV `"yxyx"`.
 * - `xywh`: `[x1, y1, width, height]`, pixels (COCO's). KerasCV `"xywh"`.
 * - `centerXywh`: `[centre x, centre y, width, height]`, pixels (anchors, SSD/Faster R-CNN
 *   encodings). KerasCV `"center_xywh"`.
 * - `relXyxy`, `relYxyx`, `relXywh`, `relCenterXywh`: the same, x divided by the image width and y
 *   by its height (the whole image is 1 x 1). KerasCV `"rel_xyxy"`, `"rel_yxyx"`, `"rel_xywh"`,
 *   `"rel_center_xywh"`.
 * - `yolo`: one line of a YOLO label file without its class: relative centre x, centre y, width,
 *   height. The same numbers as `relCenterXywh`; converting between the two changes nothing.
 */
export type BoxFormat = "xyxy" | "yxyx" | "xywh" | "centerXywh" | "relXyxy" | "relYxyx" | "relXywh" | "relCenterXywh" | "yolo";

/** Every {@link BoxFormat}, pixel formats first. */
export const BOX_FORMATS: readonly BoxFormat[] = ["xyxy", "yxyx", "xywh", "centerXywh", "relXyxy", "relYxyx", "relXywh", "relCenterXywh", "yolo"];

/** Boxes as plain rows of four numbers: `[[x1, y1, x2, y2], …]` in `xyxy`. */
export type BoxArray = readonly (readonly number[])[];

/** How the four numbers are laid out, whatever their unit. @internal */
type Layout = "xyxy" | "yxyx" | "xywh" | "centerXywh";

const LAYOUT: Record<BoxFormat, Layout> = {
  xyxy: "xyxy",
  yxyx: "yxyx",
  xywh: "xywh",
  centerXywh: "centerXywh",
  relXyxy: "xyxy",
  relYxyx: "yxyx",
  relXywh: "xywh",
  relCenterXywh: "centerXywh",
  yolo: "centerXywh",
};

/** True for the formats in image fractions (`rel…` and `yolo`), false for pixel formats. */
export function isRelativeFormat(format: BoxFormat): boolean {
  return format.startsWith("rel") || format === "yolo";
}

/**
 * A box format given to `unit` under `name`, else the house error; a missing format is an error
 * too (box functions have no default format). @internal
 */
export function expectBoxFormat(unit: string, value: unknown, name = "format"): BoxFormat {
  if (value === undefined) {
    throw fail(`${unit}: missing ${name}. Expected one of ${BOX_FORMATS.map((f) => JSON.stringify(f)).join(", ")} (box functions take an explicit format). Received: ${name}=undefined.`);
  }
  return expectOneOf(unit, name, value, BOX_FORMATS);
}

/**
 * An image size `[height, width]` (or an image's shape `[height, width, channels]`, whose channels
 * are ignored), positive integers. @internal
 */
export function expectImageShape(unit: string, value: unknown, name = "imageShape", whose = "an image's"): [number, number] {
  const v = value as unknown[];
  const ok = Array.isArray(v) && (v.length === 2 || v.length === 3) && v.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0);
  if (!ok) {
    throw fail(`${unit}: invalid ${name}. Expected [height, width] (or ${whose} [height, width, channels]), positive integers. Received: ${name}=${show(value)}.`);
  }
  return [v[0] as number, v[1] as number];
}

/** A box as messages print it: `[10, 5, 4, 20]`. @internal */
export function showBox(row: ArrayLike<number>): string {
  return `[${Array.from(row, (v) => String(v)).join(", ")}]`;
}

/**
 * Checks a box tensor: last dimension 4 and a rank in `ranks`. @internal
 * @throws ConvlabError naming the shape: "iou: invalid boxesA. Expected a tensor of shape [N, 4] or [B, N, 4]. Received: boxesA=Tensor<float32>[3,5]."
 */
export function checkBoxTensor(unit: string, what: string, boxes: tf.Tensor, ranks: readonly number[] = [1, 2, 3]): void {
  if (!ranks.includes(boxes.rank) || boxes.shape[boxes.rank - 1] !== 4) {
    const shapes = ranks.map((r) => (r === 1 ? "[4]" : r === 2 ? "[N, 4]" : "[B, N, 4]"));
    const expected = shapes.length === 1 ? shapes[0] : `${shapes.slice(0, -1).join(", ")} or ${shapes[shapes.length - 1]}`;
    throw fail(`${unit}: invalid ${what}. Expected a tensor of shape ${expected}. Received: ${what}=${show(boxes)}.`);
  }
}

/**
 * Plain rows of four finite numbers, copied: from an array of boxes, or from a `[N, 4]` tensor
 * (read, not disposed). @internal
 * @throws ConvlabError for another shape, a row that is not four finite numbers (naming it), or a
 *   single box not wrapped in an array.
 */
export function readBoxRows(unit: string, what: string, boxes: unknown): number[][] {
  if (boxes instanceof tf.Tensor) {
    checkBoxTensor(unit, what, boxes, [2]);
    const flat = boxes.dataSync();
    const rows: number[][] = [];
    for (let i = 0; i < boxes.shape[0]; i++) {
      const row = Array.from(flat.subarray(4 * i, 4 * i + 4) as ArrayLike<number>, Number);
      if (!row.every(Number.isFinite)) throw fail(`${unit}: invalid ${what}[${i}]. Expected 4 finite numbers. Received: ${what}[${i}]=${showBox(row)}.`);
      rows.push(row);
    }
    return rows;
  }
  if (!Array.isArray(boxes)) {
    throw fail(`${unit}: invalid ${what}. Expected an array of boxes such as [[x1, y1, x2, y2]] or a [N, 4] tensor. Received: ${what}=${show(boxes)}.`);
  }
  if (boxes.length > 0 && typeof boxes[0] === "number") {
    throw fail(`${unit}: invalid ${what}. Expected an array of boxes such as [[x1, y1, x2, y2]]; wrap a single box in brackets. Received: ${what}=${show(boxes)}.`);
  }
  return boxes.map((row: unknown, i: number) => {
    const ok = (Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView))) && (row as ArrayLike<unknown>).length === 4;
    const values = ok ? Array.from(row as ArrayLike<number>) : undefined;
    if (!values || !values.every((v) => typeof v === "number" && Number.isFinite(v))) {
      const received = Array.isArray(row) || ArrayBuffer.isView(row) ? showBox(row as ArrayLike<number>) : show(row);
      throw fail(`${unit}: invalid ${what}[${i}]. Expected 4 finite numbers. Received: ${what}[${i}]=${received}.`);
    }
    return values;
  });
}

/** `[x1, y1, x2, y2]` of one box, in the format's own unit (pixels or fractions). @internal */
export function cornersOf(row: ArrayLike<number>, format: BoxFormat): [number, number, number, number] {
  const [a, b, c, d] = [row[0], row[1], row[2], row[3]];
  switch (LAYOUT[format]) {
    case "xyxy":
      return [a, b, c, d];
    case "yxyx":
      return [b, a, d, c];
    case "xywh":
      return [a, b, a + c, b + d];
    case "centerXywh":
      return [a - c / 2, b - d / 2, a + c / 2, b + d / 2];
  }
}

/** One box in `format` from its corners `[x1, y1, x2, y2]` (in the format's unit). @internal */
export function fromCorners(c: readonly number[], format: BoxFormat): number[] {
  const [x1, y1, x2, y2] = c;
  switch (LAYOUT[format]) {
    case "xyxy":
      return [x1, y1, x2, y2];
    case "yxyx":
      return [y1, x1, y2, x2];
    case "xywh":
      return [x1, y1, x2 - x1, y2 - y1];
    case "centerXywh":
      return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
  }
}

/** The four corner tensors `[..., 1]` (x1, y1, x2, y2) of float32 boxes `[..., 4]`. Call inside tf.tidy. @internal */
export function tensorCorners(boxes: tf.Tensor, format: BoxFormat): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] {
  const [a, b, c, d] = tf.split(boxes, 4, -1);
  switch (LAYOUT[format]) {
    case "xyxy":
      return [a, b, c, d];
    case "yxyx":
      return [b, a, d, c];
    case "xywh":
      return [a, b, tf.add(a, c), tf.add(b, d)];
    case "centerXywh": {
      const hw = tf.div(c, 2);
      const hh = tf.div(d, 2);
      return [tf.sub(a, hw), tf.sub(b, hh), tf.add(a, hw), tf.add(b, hh)];
    }
  }
}

/** Boxes `[..., 4]` in `format` from corner tensors `[..., 1]`. Call inside tf.tidy. @internal */
export function tensorFromCorners(x1: tf.Tensor, y1: tf.Tensor, x2: tf.Tensor, y2: tf.Tensor, format: BoxFormat): tf.Tensor {
  switch (LAYOUT[format]) {
    case "xyxy":
      return tf.concat([x1, y1, x2, y2], -1);
    case "yxyx":
      return tf.concat([y1, x1, y2, x2], -1);
    case "xywh":
      return tf.concat([x1, y1, tf.sub(x2, x1), tf.sub(y2, y1)], -1);
    case "centerXywh":
      return tf.concat([tf.div(tf.add(x1, x2), 2), tf.div(tf.add(y1, y2), 2), tf.sub(x2, x1), tf.sub(y2, y1)], -1);
  }
}

/** `[cx, cy, w, h]` of one box, in the format's own unit. @internal */
export function centerOf(row: ArrayLike<number>, format: BoxFormat): [number, number, number, number] {
  if (LAYOUT[format] === "centerXywh") return [row[0], row[1], row[2], row[3]];
  const [x1, y1, x2, y2] = cornersOf(row, format);
  return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
}

/** One box in `format` from its centre and size `[cx, cy, w, h]` (in the format's unit). @internal */
export function fromCenter(c: readonly number[], format: BoxFormat): number[] {
  if (LAYOUT[format] === "centerXywh") return [c[0], c[1], c[2], c[3]];
  return fromCorners([c[0] - c[2] / 2, c[1] - c[3] / 2, c[0] + c[2] / 2, c[1] + c[3] / 2], format);
}

/** The tensors `[..., 1]` cx, cy, w, h of float32 boxes `[..., 4]`. Call inside tf.tidy. @internal */
export function tensorCenters(boxes: tf.Tensor, format: BoxFormat): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] {
  if (LAYOUT[format] === "centerXywh") return tf.split(boxes, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const [x1, y1, x2, y2] = tensorCorners(boxes, format);
  return [tf.div(tf.add(x1, x2), 2), tf.div(tf.add(y1, y2), 2), tf.sub(x2, x1), tf.sub(y2, y1)];
}

/** Boxes `[..., 4]` in `format` from centre and size tensors `[..., 1]`. Call inside tf.tidy. @internal */
export function tensorFromCenters(cx: tf.Tensor, cy: tf.Tensor, w: tf.Tensor, h: tf.Tensor, format: BoxFormat): tf.Tensor {
  if (LAYOUT[format] === "centerXywh") return tf.concat([cx, cy, w, h], -1);
  const hw = tf.div(w, 2);
  const hh = tf.div(h, 2);
  return tensorFromCorners(tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh), format);
}

/** Float boxes: int tensors are cast (tfjs divides int32 tensors with floor division). @internal */
export function asFloat(boxes: tf.Tensor): tf.Tensor {
  return boxes.dtype === "float32" ? boxes : tf.cast(boxes, "float32");
}

/** Options of {@link convertBoxes}. */
export interface ConvertBoxesArgs {
  /** The format of the boxes given (required: no silent default). */
  source: BoxFormat;
  /** The format wanted. */
  target: BoxFormat;
  /**
   * `[height, width]` of the image (an image's `[height, width, channels]` works too). Required
   * when one side is relative (`rel…`, `yolo`) and the other is in pixels; ignored otherwise.
   */
  imageShape?: readonly number[];
}

/**
 * Converts boxes from one {@link BoxFormat} to another.
 *
 * Input: a `tf.Tensor` `[4]`, `[N, 4]` or `[B, N, 4]` (any dtype; the result is float32, made with
 * tf ops so gradients flow through it inside `tf.tidy`/`tf.grad`), or an array of boxes
 * `[[a, b, c, d], …]`. Output: the same kind and shape, in `target`. The input is not disposed.
 *
 * Formulas: see the module comment (through the corners; pixel x = relative x · W,
 * pixel y = relative y · H).
 *
 * @throws ConvlabError for an unknown or missing format, a tensor whose rank is not 1-3 or whose
 *   last dimension is not 4 (naming its shape), a row that is not 4 finite numbers, a missing
 *   `imageShape` between relative and pixel formats, an unknown option.
 * @example
 * ```ts
 * convertBoxes([[10, 20, 50, 60]], { source: "xyxy", target: "yolo", imageShape: [100, 200] })
 * // [[0.15, 0.4, 0.2, 0.4]]
 * ```
 * KerasCV counterpart: `keras_cv.bounding_box.convert_format(boxes, source=, target=, image_shape=)`
 * (there `images` may be given instead of `image_shape`; here only the shape).
 */
export function convertBoxes<R extends tf.Rank>(boxes: tf.Tensor<R>, args: ConvertBoxesArgs): tf.Tensor<R>;
export function convertBoxes(boxes: BoxArray, args: ConvertBoxesArgs): number[][];
export function convertBoxes(boxes: tf.Tensor | BoxArray, args: ConvertBoxesArgs): tf.Tensor | number[][] {
  const unit = "convertBoxes";
  const opts = expectOptions(unit, args, ["source", "target", "imageShape"], '{ source: "xyxy", target: "yolo", imageShape: [height, width] }');
  const source = expectBoxFormat(unit, opts.source, "source");
  const target = expectBoxFormat(unit, opts.target, "target");
  const scale = unitScale(unit, source, target, opts.imageShape);
  if (boxes instanceof tf.Tensor) {
    checkBoxTensor(unit, "boxes", boxes);
    return tf.tidy(() => {
      const x = asFloat(boxes);
      if (LAYOUT[source] === LAYOUT[target] && !scale) return x === boxes ? tf.clone(x) : x;
      let [x1, y1, x2, y2] = tensorCorners(x, source);
      if (scale) {
        const op = scale.toRelative ? tf.div : tf.mul;
        [x1, y1, x2, y2] = [op(x1, scale.w), op(y1, scale.h), op(x2, scale.w), op(y2, scale.h)];
      }
      return tensorFromCorners(x1, y1, x2, y2, target);
    });
  }
  const rows = readBoxRows(unit, "boxes", boxes);
  if (LAYOUT[source] === LAYOUT[target] && !scale) return rows;
  return rows.map((row) => {
    const c = cornersOf(row, source);
    if (!scale) return fromCorners(c, target);
    const scaled = scale.toRelative ? [c[0] / scale.w, c[1] / scale.h, c[2] / scale.w, c[3] / scale.h] : [c[0] * scale.w, c[1] * scale.h, c[2] * scale.w, c[3] * scale.h];
    return fromCorners(scaled, target);
  });
}

/** The image size that maps source units to target units, or undefined when both are the same unit. */
function unitScale(unit: string, source: BoxFormat, target: BoxFormat, imageShape: unknown): { w: number; h: number; toRelative: boolean } | undefined {
  const from = isRelativeFormat(source);
  const to = isRelativeFormat(target);
  if (from === to) return undefined;
  if (imageShape === undefined) {
    throw fail(`${unit}: missing imageShape. Expected [height, width] to convert between a relative and a pixel format. Received: source=${JSON.stringify(source)}, target=${JSON.stringify(target)} without imageShape.`);
  }
  const [h, w] = expectImageShape(unit, imageShape);
  // x / W rather than x · (1 / W): 10 / 200 is exactly the double nearest 0.05
  return { w, h, toRelative: !from };
}

/** The image's extent `[width, height]` in the unit of `format`, or undefined when unknown. */
function extentOf(unit: string, format: BoxFormat, imageShape: unknown, required: boolean): [number, number] | undefined {
  if (isRelativeFormat(format)) {
    if (imageShape !== undefined) expectImageShape(unit, imageShape);
    return [1, 1];
  }
  if (imageShape === undefined) {
    if (!required) return undefined;
    throw fail(`${unit}: missing imageShape. Expected [height, width] with the pixel format ${JSON.stringify(format)}. Received: imageShape=undefined.`);
  }
  const [h, w] = expectImageShape(unit, imageShape);
  return [w, h];
}

/** Options of {@link clipBoxes}. */
export interface ClipBoxesArgs {
  /** The boxes' format (required). */
  format: BoxFormat;
  /** `[height, width]` of the image; required for pixel formats (relative formats clip to [0, 1]). */
  imageShape?: readonly number[];
}

/**
 * Clips boxes to the image: each corner's x to [0, W] and y to [0, H] (to [0, 1] in relative
 * formats), in `xyxy` terms, then back to `format`. A box wholly outside the image becomes a box
 * of zero width or height on the image's border; inverted boxes (x2 < x1) stay inverted.
 *
 * Input and output as {@link convertBoxes}: a tensor `[4]`, `[N, 4]`, `[B, N, 4]` (float32 out,
 * tf ops) or an array of boxes.
 *
 * @throws ConvlabError for a bad format, shape or row, a missing `imageShape` with a pixel format.
 * @example
 * ```ts
 * clipBoxes([[-5, 10, 120, 40]], { format: "xyxy", imageShape: [100, 100] })  // [[0, 10, 100, 40]]
 * ```
 * KerasCV counterpart: `keras_cv.bounding_box.clip_to_image` (which also marks boxes left without
 * area as padding; here see {@link validateBoxes} with `onInvalid: "clip"` to drop them).
 */
export function clipBoxes<R extends tf.Rank>(boxes: tf.Tensor<R>, args: ClipBoxesArgs): tf.Tensor<R>;
export function clipBoxes(boxes: BoxArray, args: ClipBoxesArgs): number[][];
export function clipBoxes(boxes: tf.Tensor | BoxArray, args: ClipBoxesArgs): tf.Tensor | number[][] {
  const unit = "clipBoxes";
  const opts = expectOptions(unit, args, ["format", "imageShape"], '{ format: "xyxy", imageShape: [height, width] }');
  const format = expectBoxFormat(unit, opts.format);
  const [w, h] = extentOf(unit, format, opts.imageShape, true)!;
  if (boxes instanceof tf.Tensor) {
    checkBoxTensor(unit, "boxes", boxes);
    return tf.tidy(() => {
      const [x1, y1, x2, y2] = tensorCorners(asFloat(boxes), format);
      return tensorFromCorners(tf.clipByValue(x1, 0, w), tf.clipByValue(y1, 0, h), tf.clipByValue(x2, 0, w), tf.clipByValue(y2, 0, h), format);
    });
  }
  return readBoxRows(unit, "boxes", boxes).map((row) => fromCorners(clampCorners(cornersOf(row, format), w, h), format));
}

function clampCorners(c: readonly number[], w: number, h: number): number[] {
  const cl = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  return [cl(c[0], w), cl(c[1], h), cl(c[2], w), cl(c[3], h)];
}

/** What to do with a box that is inverted or leaves the image: fix it, or stop with an error. */
export type OnInvalidBox = "clip" | "reject";

/** Options of {@link validateBoxes}. */
export interface ValidateBoxesArgs {
  /** The boxes' format (required). */
  format: BoxFormat;
  /**
   * `[height, width]` of the image. Without it, pixel boxes are only checked for inversion;
   * relative boxes are always checked against [0, 1].
   */
  imageShape?: readonly number[];
  /**
   * `"reject"` (default): the first bad box stops everything with an error naming it.
   * `"clip"`: boxes are clipped to the image; inverted boxes and boxes wholly outside the image
   * are dropped, and `message` says which.
   */
  onInvalid?: OnInvalidBox;
}

/** What {@link validateBoxes} returns. */
export interface ValidatedBoxes {
  /** The boxes kept, in the input's format (clipped with `onInvalid: "clip"`). */
  boxes: number[][];
  /** For each kept box, its position in the input (to carry labels and scores along). */
  kept: number[];
  /** Positions of the boxes that were clipped (changed), in the input. */
  clipped: number[];
  /** Positions of the boxes that were dropped: inverted, or wholly outside the image. */
  dropped: number[];
  /** One line saying which boxes were clipped or dropped, unit first; undefined when none was. */
  message?: string;
}

/**
 * The check a function runs on boxes a person gave it, before anything else: every box must be 4
 * finite numbers, not inverted (x1 ≤ x2 and y1 ≤ y2, or width and height ≥ 0) and inside the
 * image (`[0, W] x [0, H]` pixels, `[0, 1]` in relative formats; a 1e-6 tolerance of the side
 * absorbs float32 rounding when rejecting). Bad boxes are rejected with an error naming the first
 * one, or clipped (and dropped when nothing is left of them) with `onInvalid: "clip"`.
 *
 * @param unit the calling function, which the error names: "drawDetections: invalid boxes[3]…".
 * @param boxes an array of boxes or a `[N, 4]` tensor (read, not disposed).
 * @returns plain rows, see {@link ValidatedBoxes}.
 * @throws ConvlabError for a bad shape or row, and with `"reject"` for the first bad box:
 *   `drawDetections: invalid boxes[3]. Expected x1 ≤ x2 and y1 ≤ y2 in format "xyxy". Received: boxes[3]=[10, 5, 4, 20].`
 * @example
 * ```ts
 * const { boxes, kept, message } = validateBoxes("myDetector", predicted, { format: "xyxy", imageShape: [64, 64], onInvalid: "clip" });
 * if (message) console.warn(message);   // myDetector: clipped boxes[1] to the 64x64 image.
 * ```
 * KerasCV counterpart: `keras_cv.bounding_box.validate_format` checks only the shape; clipping is
 * `clip_to_image`.
 */
export function validateBoxes(unit: string, boxes: tf.Tensor | BoxArray, args: ValidateBoxesArgs): ValidatedBoxes {
  const self = "validateBoxes";
  if (typeof unit !== "string" || unit.length === 0) throw fail(`${self}: invalid unit. Expected the name of the calling function, such as "drawDetections". Received: unit=${show(unit)}.`);
  const opts = expectOptions(unit, args, ["format", "imageShape", "onInvalid"], '{ format: "xyxy", imageShape: [height, width], onInvalid: "clip" }');
  const format = expectBoxFormat(unit, opts.format);
  const onInvalid = opts.onInvalid === undefined ? "reject" : expectOneOf(unit, "onInvalid", opts.onInvalid, ["clip", "reject"] as const);
  const extent = extentOf(unit, format, opts.imageShape, false);
  const rows = readBoxRows(unit, "boxes", boxes);
  const out: ValidatedBoxes = { boxes: [], kept: [], clipped: [], dropped: [] };
  rows.forEach((row, i) => {
    const c = cornersOf(row, format);
    if (c[2] < c[0] || c[3] < c[1]) {
      if (onInvalid === "reject") throw fail(`${unit}: invalid boxes[${i}]. Expected ${orderRule(format)} in format ${JSON.stringify(format)}. Received: boxes[${i}]=${showBox(row)}.`);
      out.dropped.push(i);
      return;
    }
    if (extent) {
      const [w, h] = extent;
      if (onInvalid === "reject") {
        const [tw, th] = [1e-6 * w, 1e-6 * h];
        if (c[0] < -tw || c[1] < -th || c[2] > w + tw || c[3] > h + th) {
          const where = isRelativeFormat(format) ? "x and y in [0, 1]" : `x in [0, ${w}] and y in [0, ${h}]`;
          throw fail(`${unit}: invalid boxes[${i}]. Expected a box inside the image (${where}) in format ${JSON.stringify(format)}, or onInvalid: "clip". Received: boxes[${i}]=${showBox(row)}.`);
        }
      } else {
        const clamped = clampCorners(c, w, h);
        if (clamped.some((v, k) => v !== c[k])) {
          const hadArea = c[2] > c[0] && c[3] > c[1];
          if (hadArea && !(clamped[2] > clamped[0] && clamped[3] > clamped[1])) {
            out.dropped.push(i);
            return;
          }
          out.clipped.push(i);
          out.boxes.push(fromCorners(clamped, format));
          out.kept.push(i);
          return;
        }
      }
    }
    out.boxes.push(row);
    out.kept.push(i);
  });
  const parts: string[] = [];
  if (out.clipped.length) {
    const image = isRelativeFormat(format) ? "the image" : `the ${extent![1]}x${extent![0]} image`;
    parts.push(`clipped ${listBoxes(out.clipped)} to ${image}`);
  }
  if (out.dropped.length) parts.push(`dropped ${listBoxes(out.dropped)} (inverted, or outside the image)`);
  if (parts.length) out.message = `${unit}: ${parts.join("; ")}.`;
  return out;
}

function orderRule(format: BoxFormat): string {
  switch (LAYOUT[format]) {
    case "xyxy":
      return "x1 ≤ x2 and y1 ≤ y2";
    case "yxyx":
      return "y1 ≤ y2 and x1 ≤ x2";
    default:
      return "width ≥ 0 and height ≥ 0";
  }
}

function listBoxes(indices: readonly number[]): string {
  const shown = indices.slice(0, 5).map((i) => `boxes[${i}]`);
  return indices.length > 5 ? `${shown.join(", ")} and ${indices.length - 5} more` : shown.join(", ");
}
