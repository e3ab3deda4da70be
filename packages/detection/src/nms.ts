/**
 * Non-maximum suppression (NMS): from many overlapping candidate boxes, keep the best-scored one
 * of each cluster.
 *
 * Greedy, as in every detector since Viola-Jones: sort the candidates by score (highest first;
 * equal scores keep their input order, lower index first); take the first; drop every remaining
 * candidate whose IoU with a kept box is above `iouThreshold`; repeat until `maxDetections`
 * boxes are kept or no candidate is left. Per class, a candidate is only compared with the kept
 * boxes of its own class: a cat does not suppress the dog it overlaps. Running the loop once over
 * all classes in score order gives exactly the union of one NMS per class, cut to the best
 * `maxDetections`.
 */
import * as tf from "@tensorflow/tfjs";
import { expectBoolean, expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { BoxArray, BoxFormat, cornersOf, expectBoxFormat, readBoxRows } from "./boxes";
import { cornerIou } from "./iou";

/** Options of {@link nonMaxSuppression}. */
export interface NonMaxSuppressionArgs {
  /** The boxes' format (required: no silent default). */
  format: BoxFormat;
  /** A candidate is suppressed when its IoU with a kept box is above this, in [0, 1]. Default 0.5. */
  iouThreshold?: number;
  /** Only candidates scored above this are considered, in [0, 1]. Default: no threshold (every box, as tf.image.nonMaxSuppression). */
  scoreThreshold?: number;
  /** Most boxes returned (over all classes), an integer ≥ 1. Default 100. */
  maxDetections?: number;
  /** Class id of each box (integers): an array or a `[N]` tensor. */
  classes?: readonly number[] | ArrayLike<number> | tf.Tensor;
  /** Suppress only within a class. Default true when `classes` is given; needs `classes`. */
  perClass?: boolean;
}

/** What {@link nonMaxSuppression} returns: the kept boxes, best first, as plain arrays. */
export interface SuppressedBoxes {
  /** The kept boxes, in the input's format. */
  boxes: number[][];
  /** Their scores, highest first. */
  scores: number[];
  /** Their class ids (all 0 when no `classes` were given). */
  classes: number[];
  /** Their positions in the input. */
  indices: number[];
}

/**
 * Greedy non-maximum suppression, optionally per class (see the module comment).
 *
 * Input: `boxes` `[N, 4]` (tensor or array of boxes), `scores` `[N]` (tensor, array or typed
 * array, any real numbers), optional `classes` `[N]`. Tensors are read, not disposed. Boxes
 * without area (or inverted) have IoU 0 with everything, so they never suppress nor get
 * suppressed.
 *
 * @returns {@link SuppressedBoxes}, sorted by score, highest first.
 * @throws ConvlabError for a bad format or box, scores or classes whose length differs from the
 *   boxes', NaN scores, non-integer classes, `iouThreshold`/`scoreThreshold` outside [0, 1],
 *   `maxDetections` < 1, `perClass: true` without classes, an unknown option.
 * @example
 * ```ts
 * const { boxes, scores, classes } = nonMaxSuppression(pred.boxes, pred.scores, { format: "xyxy", classes: pred.classes, iouThreshold: 0.45, scoreThreshold: 0.25 });
 * ```
 * KerasCV counterpart: `keras_cv.layers.NonMaxSuppression(bounding_box_format=, from_logits=,
 * iou_threshold=, confidence_threshold=, max_detections=)` (per class); TensorFlow:
 * `tf.image.nonMaxSuppression(boxesYxyx, scores, maxOutputSize, iouThreshold, scoreThreshold)`,
 * which suppresses at IoU ≥ the threshold where this (like torchvision's `nms`) suppresses above it.
 */
export function nonMaxSuppression(boxes: tf.Tensor | BoxArray, scores: tf.Tensor | ArrayLike<number>, args: NonMaxSuppressionArgs): SuppressedBoxes {
  const unit = "nonMaxSuppression";
  const opts = expectOptions(unit, args, ["format", "iouThreshold", "scoreThreshold", "maxDetections", "classes", "perClass"], '{ format: "xyxy", iouThreshold: 0.5 }');
  const format = expectBoxFormat(unit, opts.format);
  const iouThreshold = expectNumber(unit, "iouThreshold", opts.iouThreshold ?? 0.5, { min: 0, max: 1 });
  const scoreThreshold = opts.scoreThreshold === undefined ? -Infinity : expectNumber(unit, "scoreThreshold", opts.scoreThreshold, { min: 0, max: 1 });
  const maxDetections = expectNumber(unit, "maxDetections", opts.maxDetections ?? 100, { min: 1, integer: true });
  const perClass = opts.perClass === undefined ? opts.classes !== undefined : expectBoolean(unit, "perClass", opts.perClass);
  if (perClass && opts.classes === undefined) {
    throw fail(`${unit}: invalid perClass. Expected classes (one class id per box) with perClass: true. Received: perClass=true without classes.`);
  }

  const rows = readBoxRows(unit, "boxes", boxes);
  const n = rows.length;
  const scoreValues = readNumbers(unit, "scores", scores, n);
  scoreValues.forEach((s, i) => {
    if (Number.isNaN(s)) throw fail(`${unit}: invalid scores[${i}]. Expected a number. Received: scores[${i}]=NaN.`);
  });
  const classValues = opts.classes === undefined ? new Array<number>(n).fill(0) : readNumbers(unit, "classes", opts.classes, n);
  classValues.forEach((c, i) => {
    if (!Number.isInteger(c)) throw fail(`${unit}: invalid classes[${i}]. Expected an integer class id. Received: classes[${i}]=${show(c)}.`);
  });

  const corners = rows.map((r) => cornersOf(r, format));
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => scoreValues[i] > scoreThreshold);
  order.sort((i, j) => scoreValues[j] - scoreValues[i] || i - j);

  // Kept boxes, grouped by class when suppressing per class (one group otherwise).
  const keptByGroup = new Map<number, number[]>();
  const indices: number[] = [];
  for (const i of order) {
    if (indices.length >= maxDetections) break;
    const group = perClass ? classValues[i] : 0;
    let kept = keptByGroup.get(group);
    if (!kept) keptByGroup.set(group, (kept = []));
    if (kept.some((k) => cornerIou(corners[i], corners[k]) > iouThreshold)) continue;
    kept.push(i);
    indices.push(i);
  }
  return {
    boxes: indices.map((i) => rows[i]),
    scores: indices.map((i) => scoreValues[i]),
    classes: indices.map((i) => classValues[i]),
    indices,
  };
}

/** `n` numbers from an array, a typed array or a `[n]` tensor (read, not disposed). */
function readNumbers(unit: string, what: string, value: unknown, n: number): number[] {
  let values: number[];
  if (value instanceof tf.Tensor) {
    if (value.rank !== 1) throw fail(`${unit}: invalid ${what}. Expected a [N] tensor, one value per box (N = ${n}). Received: ${what}=${show(value)}.`);
    values = Array.from(value.dataSync() as ArrayLike<number>, Number);
  } else if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    values = Array.from(value as ArrayLike<unknown>, (v) => v as number);
    const bad = values.findIndex((v) => typeof v !== "number");
    if (bad >= 0) throw fail(`${unit}: invalid ${what}[${bad}]. Expected a number. Received: ${what}[${bad}]=${show(values[bad])}.`);
  } else {
    throw fail(`${unit}: invalid ${what}. Expected an array or a [N] tensor, one value per box (N = ${n}). Received: ${what}=${show(value)}.`);
  }
  if (values.length !== n) throw fail(`${unit}: invalid ${what}. Expected one per box (${n}). Received: ${values.length} ${what}.`);
  return values;
}
