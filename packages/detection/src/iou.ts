/**
 * Intersection over union (IoU, the Jaccard index) of boxes: how much two boxes overlap, from 0
 * (apart) to 1 (the same box). What anchors are matched with, NMS suppresses with, and mAP
 * counts a detection as correct with.
 *
 * For boxes A and B with corners (x1, y1, x2, y2):
 *   inter = max(0, min(Ax2, Bx2) − max(Ax1, Bx1)) · max(0, min(Ay2, By2) − max(Ay1, By1))
 *   area  = max(0, x2 − x1) · max(0, y2 − y1)
 *   IoU   = inter / (areaA + areaB − inter), and 0 when the union is 0 (boxes without area).
 * Inverted boxes (x2 < x1) count as boxes without area. IoU does not change when x and y are
 * scaled, so relative and pixel boxes give the same numbers (both sides in the same format).
 */
import * as tf from "@tensorflow/tfjs";
import { expectOptions, fail, show } from "@convlab/engine";
import { asFloat, BoxArray, BoxFormat, checkBoxTensor, cornersOf, expectBoxFormat, readBoxRows, tensorCorners } from "./boxes";

/** Options of {@link iou} and {@link elementwiseIou}. */
export interface IouArgs {
  /** The format of both sets of boxes (required: no silent default). */
  format: BoxFormat;
}

/**
 * IoU of every box of `boxesA` with every box of `boxesB`.
 *
 * Shapes: `[N, 4]` x `[M, 4]` → `[N, M]`; batched `[B, N, 4]` x `[B, M, 4]` → `[B, N, M]`; a
 * `[N, 4]` side is shared by every image of a batch (`[N, 4]` x `[B, M, 4]` → `[B, N, M]`, for
 * anchors). Tensors give a float32 tensor made with tf ops (differentiable where the boxes
 * overlap, no NaN gradient for boxes without area; usable inside `tf.tidy`/`tf.grad`); two
 * arrays of boxes give `number[][]` computed in double precision. A tensor and an array give a
 * tensor. Inputs are not disposed.
 *
 * @throws ConvlabError for a bad format, a tensor that is not `[N, 4]`/`[B, N, 4]` (naming its
 *   shape), batch sizes that differ, a row that is not 4 finite numbers, an unknown option.
 * @example
 * ```ts
 * iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]], { format: "xyxy" })   // [[1/7, 1]]
 * ```
 * KerasCV counterpart: `keras_cv.bounding_box.compute_iou(boxes1, boxes2, bounding_box_format=)`;
 * torchvision `box_iou`.
 */
export function iou(boxesA: BoxArray, boxesB: BoxArray, args: IouArgs): number[][];
export function iou(boxesA: tf.Tensor | BoxArray, boxesB: tf.Tensor | BoxArray, args: IouArgs): tf.Tensor;
export function iou(boxesA: tf.Tensor | BoxArray, boxesB: tf.Tensor | BoxArray, args: IouArgs): tf.Tensor | number[][] {
  const unit = "iou";
  const format = readFormat(unit, args);
  if (!(boxesA instanceof tf.Tensor) && !(boxesB instanceof tf.Tensor)) {
    const a = readBoxRows(unit, "boxesA", boxesA).map((r) => cornersOf(r, format));
    const b = readBoxRows(unit, "boxesB", boxesB).map((r) => cornersOf(r, format));
    return a.map((ca) => b.map((cb) => cornerIou(ca, cb)));
  }
  const [a, b] = [asTensor(unit, "boxesA", boxesA), asTensor(unit, "boxesB", boxesB)];
  try {
    if (a.rank === 3 && b.rank === 3 && a.shape[0] !== b.shape[0]) {
      throw fail(`${unit}: invalid boxesB. Expected the batch size of boxesA (${a.shape[0]}). Received: boxesB=${show(b)}.`);
    }
    // [.., N, 1, 4] against [.., 1, M, 4] broadcasts to [.., N, M]
    return tf.tidy(() => tensorIou(tf.expandDims(asFloat(a), -2), tf.expandDims(asFloat(b), -3), format));
  } finally {
    if (a !== boxesA) a.dispose();
    if (b !== boxesB) b.dispose();
  }
}

/**
 * IoU of box i of `boxesA` with box i of `boxesB`, for every i.
 *
 * Shapes: `[N, 4]` x `[N, 4]` → `[N]`; `[B, N, 4]` x `[B, N, 4]` → `[B, N]` (a `[N, 4]` side is
 * broadcast over the batch); `[4]` x `[4]` → a scalar. Tensors give a float32 tensor made with tf
 * ops (use it in losses: `1 − elementwiseIou(pred, truth)`); two arrays give `number[]`.
 *
 * @throws ConvlabError for a bad format, shapes that differ (other than a shared `[N, 4]`), a row
 *   that is not 4 finite numbers, an unknown option.
 * @example
 * ```ts
 * const loss = tf.tidy(() => tf.sub(1, elementwiseIou(predBoxes, trueBoxes, { format: "xyxy" })).mean());
 * ```
 * KerasCV counterpart: `compute_iou(..., mode="element_wise")`; the IoU loss of KerasCV's `IoULoss`.
 */
export function elementwiseIou(boxesA: BoxArray, boxesB: BoxArray, args: IouArgs): number[];
export function elementwiseIou(boxesA: tf.Tensor | BoxArray, boxesB: tf.Tensor | BoxArray, args: IouArgs): tf.Tensor;
export function elementwiseIou(boxesA: tf.Tensor | BoxArray, boxesB: tf.Tensor | BoxArray, args: IouArgs): tf.Tensor | number[] {
  const unit = "elementwiseIou";
  const format = readFormat(unit, args);
  if (!(boxesA instanceof tf.Tensor) && !(boxesB instanceof tf.Tensor)) {
    const a = readBoxRows(unit, "boxesA", boxesA);
    const b = readBoxRows(unit, "boxesB", boxesB);
    if (a.length !== b.length) throw fail(`${unit}: invalid boxesB. Expected as many boxes as boxesA (${a.length}). Received: ${b.length} boxes.`);
    return a.map((ra, i) => cornerIou(cornersOf(ra, format), cornersOf(b[i], format)));
  }
  const [a, b] = [asTensor(unit, "boxesA", boxesA, [1, 2, 3]), asTensor(unit, "boxesB", boxesB, [1, 2, 3])];
  try {
    const sa = a.shape.join(",");
    const sb = b.shape.join(",");
    const shared = (x: tf.Tensor, y: tf.Tensor) => x.rank === 2 && y.rank === 3 && x.shape[0] === y.shape[1];
    if (sa !== sb && !shared(a, b) && !shared(b, a)) {
      throw fail(`${unit}: invalid boxesB. Expected the shape of boxesA [${a.shape.join(", ")}]. Received: boxesB=${show(b)}.`);
    }
    return tf.tidy(() => tensorIou(asFloat(a), asFloat(b), format));
  } finally {
    if (a !== boxesA) a.dispose();
    if (b !== boxesB) b.dispose();
  }
}

function readFormat(unit: string, args: IouArgs): BoxFormat {
  const opts = expectOptions(unit, args, ["format"], '{ format: "xyxy" }');
  return expectBoxFormat(unit, opts.format);
}

/** A checked box tensor: the tensor itself, or a new one made from an array (the caller disposes it). */
function asTensor(unit: string, what: string, boxes: tf.Tensor | BoxArray, ranks: readonly number[] = [2, 3]): tf.Tensor {
  if (boxes instanceof tf.Tensor) {
    checkBoxTensor(unit, what, boxes, ranks);
    return boxes;
  }
  const rows = readBoxRows(unit, what, boxes);
  return tf.tensor2d(rows.length ? rows : [], [rows.length, 4], "float32");
}

/** IoU from two broadcastable float box tensors [..., 4]: the result drops the last axis. Inside tf.tidy. */
function tensorIou(a: tf.Tensor, b: tf.Tensor, format: BoxFormat): tf.Tensor {
  const [ax1, ay1, ax2, ay2] = tensorCorners(a, format);
  const [bx1, by1, bx2, by2] = tensorCorners(b, format);
  const iw = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1)));
  const ih = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
  const inter = tf.mul(iw, ih);
  const areaA = tf.mul(tf.relu(tf.sub(ax2, ax1)), tf.relu(tf.sub(ay2, ay1)));
  const areaB = tf.mul(tf.relu(tf.sub(bx2, bx1)), tf.relu(tf.sub(by2, by1)));
  const union = tf.sub(tf.add(areaA, areaB), inter);
  // Divide by 1 where the union is 0 (inter is 0 there too): the quotient is 0 and its gradient
  // finite, where divNoNan would back-propagate through 0/0. sign() rather than greater(): tfjs
  // has no gradient for comparisons, and sign's is 0.
  const safe = tf.add(union, tf.sub(1, tf.sign(union)));
  const out = tf.div(inter, safe);
  return tf.reshape(out, out.shape.slice(0, -1));
}

/** IoU of two boxes given by their corners, in double precision. @internal */
export function cornerIou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = Math.max(0, a[2] - a[0]) * Math.max(0, a[3] - a[1]) + Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}
