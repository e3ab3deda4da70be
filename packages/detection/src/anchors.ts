/**
 * Anchors (Faster R-CNN's "anchor boxes", SSD's "default boxes"): a fixed grid of boxes of a few
 * sizes and shapes at every cell of a feature map. A detector does not predict boxes from
 * nothing: for each anchor it predicts a class and a small correction ("deltas") that moves and
 * stretches the anchor onto the object.
 *
 * - {@link anchorGrid} lays the anchors out.
 * - {@link matchAnchors} decides which ground-truth box each anchor must learn (or none).
 * - {@link encodeBoxes} turns a matched box into the deltas the network is trained to output;
 *   {@link decodeBoxes} turns predicted deltas back into boxes.
 *
 * Anchors are in `centerXywh` pixels (what anchorGrid returns) unless an `anchorFormat` says
 * otherwise.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import {
  asFloat,
  BoxArray,
  BoxFormat,
  centerOf,
  checkBoxTensor,
  cornersOf,
  expectBoxFormat,
  expectImageShape,
  fromCenter,
  isRelativeFormat,
  readBoxRows,
  showBox,
  tensorCenters,
  tensorFromCenters,
} from "./boxes";
import { cornerIou } from "./iou";

/** Options of {@link anchorGrid}. */
export interface AnchorGridArgs {
  /** `[height, width]` of the input image, pixels. */
  imageShape: readonly number[];
  /** `[height, width]` of the feature map the anchors sit on (one anchor set per cell); its `[height, width, channels]` works too. */
  featureShape: readonly number[];
  /** Anchor sizes in pixels: the side of the square of the same area (SSD's scale × image side). */
  sizes: readonly number[];
  /** Width / height ratios, e.g. `[0.5, 1, 2]` (tall, square, wide). */
  aspectRatios: readonly number[];
}

/**
 * The anchors of one feature map, Faster R-CNN/SSD style.
 *
 * The image is cut into `fh x fw` cells of `strideY = H / fh` by `strideX = W / fw` pixels; cell
 * (i, j) holds one anchor per (size s, ratio r) centred on the cell:
 *   cx = (j + 0.5) · strideX,  cy = (i + 0.5) · strideY,  w = s · √r,  h = s / √r  (area s²).
 * Anchors may stick out of the image (they are not clipped).
 *
 * Order: cell by cell in row-major order, then sizes, then ratios, so that anchor
 * `((i · fw + j) · S + k) · R + l` has size k and ratio l: the order of a head's output
 * `[fh, fw, A · 4]` reshaped to `[fh · fw · A, 4]` with A = S · R.
 *
 * @returns a float32 tensor `[fh · fw · A, 4]` in `centerXywh` pixels (dispose it when done).
 * @throws ConvlabError for shapes that are not two positive integers, empty or non-positive
 *   sizes or ratios, an unknown option.
 * @example
 * ```ts
 * const anchors = anchorGrid({ imageShape: [64, 64], featureShape: [8, 8], sizes: [16], aspectRatios: [0.5, 1, 2] });
 * anchors.shape   // [192, 4]: 8·8 cells x 3 anchors; anchors[0] = [4, 4, 11.31, 22.63]
 * ```
 * KerasCV counterpart: `keras_cv.layers.AnchorGenerator(bounding_box_format, sizes, scales,
 * aspect_ratios, strides)` for one level (there the centres are the same, (j + 0.5) · stride).
 */
export function anchorGrid(args: AnchorGridArgs): tf.Tensor2D {
  const unit = "anchorGrid";
  const opts = expectOptions(unit, args, ["imageShape", "featureShape", "sizes", "aspectRatios"], "{ imageShape: [64, 64], featureShape: [8, 8], sizes: [16], aspectRatios: [1] }");
  if (opts.imageShape === undefined) throw fail(`${unit}: missing imageShape. Expected [height, width] of the input image. Received: imageShape=undefined.`);
  if (opts.featureShape === undefined) throw fail(`${unit}: missing featureShape. Expected [height, width] of the feature map. Received: featureShape=undefined.`);
  const [h, w] = expectImageShape(unit, opts.imageShape);
  const [fh, fw] = expectImageShape(unit, opts.featureShape, "featureShape", "a feature map's");
  const sizes = positiveList(unit, "sizes", opts.sizes, "[16, 32]");
  const ratios = positiveList(unit, "aspectRatios", opts.aspectRatios, "[0.5, 1, 2]");
  const shapes = sizes.flatMap((s) => ratios.map((r) => [s * Math.sqrt(r), s / Math.sqrt(r)]));
  const a = shapes.length;
  const out = new Float32Array(fh * fw * a * 4);
  const [sy, sx] = [h / fh, w / fw];
  let k = 0;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      for (const [aw, ah] of shapes) {
        out[k++] = (j + 0.5) * sx;
        out[k++] = (i + 0.5) * sy;
        out[k++] = aw;
        out[k++] = ah;
      }
    }
  }
  return tf.tensor2d(out, [fh * fw * a, 4]);
}

function positiveList(unit: string, name: string, value: unknown, example: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "number" && Number.isFinite(v) && v > 0)) {
    throw fail(`${unit}: invalid ${name}. Expected a non-empty array of positive numbers such as ${example}. Received: ${name}=${show(value)}.`);
  }
  return value as number[];
}

/** Options of {@link encodeBoxes} and {@link decodeBoxes}. */
export interface BoxCodingArgs {
  /** The format of the boxes (encoded from, or decoded to). Required. */
  format: BoxFormat;
  /** The format of the anchors. Default `"centerXywh"`, what {@link anchorGrid} returns. */
  anchorFormat?: BoxFormat;
  /** Divisors of (tx, ty, tw, th), 4 positive numbers. Default `[1, 1, 1, 1]` (Faster R-CNN); SSD uses `[0.1, 0.1, 0.2, 0.2]`. */
  variance?: readonly number[];
}

/**
 * The regression targets of boxes relative to their anchors, Faster R-CNN's parameterisation:
 *   tx = (x − xa) / wa / vx,  ty = (y − ya) / ha / vy,  tw = log(w / wa) / vw,  th = log(h / ha) / vh
 * with (x, y, w, h) the box's centre and size, (xa, ya, wa, ha) the anchor's and v the variance.
 * Shifts are in anchor widths, sizes in log-ratios: the same numbers for a small and a large
 * object, which is what a convolution can learn.
 *
 * Shapes: boxes `[N, 4]` and anchors `[N, 4]` (box i against anchor i: gather the matched ground
 * truth first) → deltas `[N, 4]`; tensors may be batched, boxes `[B, N, 4]` against anchors
 * `[N, 4]` → `[B, N, 4]`. Tensors give a float32 tensor (tf ops); arrays give `number[][]`. Boxes
 * and anchors must both be in pixels or both relative (the deltas are the same either way).
 *
 * @throws ConvlabError for bad formats or shapes, a pixel/relative mix, a bad variance, and for
 *   arrays a box or anchor whose width or height is not > 0 (the log would be −∞; tensors are not
 *   read, so check them yourself), an unknown option.
 * @example
 * ```ts
 * encodeBoxes([[12, 10, 20, 30]], [[16, 20, 8, 20]], { format: "xyxy" })   // [[0, 0, 0, 0]]: the box is the anchor
 * ```
 * KerasCV counterpart: `keras_cv.bounding_box.encode_box_to_deltas(anchors, boxes,
 * anchor_format=, box_format=, variance=)`.
 */
export function encodeBoxes(boxes: BoxArray, anchors: BoxArray, args: BoxCodingArgs): number[][];
export function encodeBoxes(boxes: tf.Tensor | BoxArray, anchors: tf.Tensor | BoxArray, args: BoxCodingArgs): tf.Tensor;
export function encodeBoxes(boxes: tf.Tensor | BoxArray, anchors: tf.Tensor | BoxArray, args: BoxCodingArgs): tf.Tensor | number[][] {
  const unit = "encodeBoxes";
  const { format, anchorFormat, variance } = codingArgs(unit, args);
  if (!(boxes instanceof tf.Tensor) && !(anchors instanceof tf.Tensor)) {
    const b = readBoxRows(unit, "boxes", boxes);
    const a = readAnchorRows(unit, anchors, b.length, anchorFormat);
    return b.map((row, i) => {
      const [x, y, w, h] = centerOf(row, format);
      if (!(w > 0 && h > 0)) throw fail(`${unit}: invalid boxes[${i}]. Expected width > 0 and height > 0 (tw = log(w / wa)). Received: boxes[${i}]=${showBox(row)} in format ${JSON.stringify(format)}.`);
      const [xa, ya, wa, ha] = a[i];
      return [(x - xa) / wa / variance[0], (y - ya) / ha / variance[1], Math.log(w / wa) / variance[2], Math.log(h / ha) / variance[3]];
    });
  }
  return withTensors(unit, "boxes", boxes, anchors, (b, a) => {
    const [x, y, w, h] = tensorCenters(b, format);
    const [xa, ya, wa, ha] = tensorCenters(a, anchorFormat);
    return tf.concat(
      [
        tf.div(tf.div(tf.sub(x, xa), wa), variance[0]),
        tf.div(tf.div(tf.sub(y, ya), ha), variance[1]),
        tf.div(tf.log(tf.div(w, wa)), variance[2]),
        tf.div(tf.log(tf.div(h, ha)), variance[3]),
      ],
      -1,
    );
  });
}

/**
 * The boxes that deltas describe relative to their anchors: the exact inverse of
 * {@link encodeBoxes},
 *   x = tx · vx · wa + xa,  y = ty · vy · ha + ya,  w = wa · exp(tw · vw),  h = ha · exp(th · vh),
 * returned in `format`. Widths are never clipped: an untrained head's large tw gives huge boxes
 * (clip them to the image with {@link clipBoxes} before drawing).
 *
 * Shapes as {@link encodeBoxes}: deltas `[N, 4]` (or `[B, N, 4]` tensors) against anchors `[N, 4]`.
 *
 * @throws ConvlabError as {@link encodeBoxes} (for arrays, anchors whose width or height is not > 0).
 * @example
 * ```ts
 * const boxes = decodeBoxes(model.predict(x) as tf.Tensor, anchors, { format: "xyxy", variance: [0.1, 0.1, 0.2, 0.2] });
 * ```
 * KerasCV counterpart: `keras_cv.bounding_box.decode_deltas_to_boxes(anchors, boxes_delta,
 * anchor_format=, box_format=, variance=)`.
 */
export function decodeBoxes(deltas: BoxArray, anchors: BoxArray, args: BoxCodingArgs): number[][];
export function decodeBoxes(deltas: tf.Tensor | BoxArray, anchors: tf.Tensor | BoxArray, args: BoxCodingArgs): tf.Tensor;
export function decodeBoxes(deltas: tf.Tensor | BoxArray, anchors: tf.Tensor | BoxArray, args: BoxCodingArgs): tf.Tensor | number[][] {
  const unit = "decodeBoxes";
  const { format, anchorFormat, variance } = codingArgs(unit, args);
  if (!(deltas instanceof tf.Tensor) && !(anchors instanceof tf.Tensor)) {
    const d = readBoxRows(unit, "deltas", deltas);
    const a = readAnchorRows(unit, anchors, d.length, anchorFormat);
    return d.map(([tx, ty, tw, th], i) => {
      const [xa, ya, wa, ha] = a[i];
      return fromCenter([tx * variance[0] * wa + xa, ty * variance[1] * ha + ya, wa * Math.exp(tw * variance[2]), ha * Math.exp(th * variance[3])], format);
    });
  }
  return withTensors(unit, "deltas", deltas, anchors, (d, a) => {
    const [tx, ty, tw, th] = tf.split(d, 4, -1);
    const [xa, ya, wa, ha] = tensorCenters(a, anchorFormat);
    return tensorFromCenters(
      tf.add(tf.mul(tf.mul(tx, variance[0]), wa), xa),
      tf.add(tf.mul(tf.mul(ty, variance[1]), ha), ya),
      tf.mul(wa, tf.exp(tf.mul(tw, variance[2]))),
      tf.mul(ha, tf.exp(tf.mul(th, variance[3]))),
      format,
    );
  });
}

function codingArgs(unit: string, args: BoxCodingArgs): { format: BoxFormat; anchorFormat: BoxFormat; variance: number[] } {
  const opts = expectOptions(unit, args, ["format", "anchorFormat", "variance"], '{ format: "xyxy", variance: [0.1, 0.1, 0.2, 0.2] }');
  const format = expectBoxFormat(unit, opts.format);
  const anchorFormat = opts.anchorFormat === undefined ? "centerXywh" : expectBoxFormat(unit, opts.anchorFormat, "anchorFormat");
  sameUnits(unit, format, anchorFormat);
  const v = opts.variance ?? [1, 1, 1, 1];
  if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0)) {
    throw fail(`${unit}: invalid variance. Expected 4 positive numbers such as [0.1, 0.1, 0.2, 0.2]. Received: variance=${show(v)}.`);
  }
  return { format, anchorFormat, variance: v as number[] };
}

function sameUnits(unit: string, format: BoxFormat, anchorFormat: BoxFormat): void {
  if (isRelativeFormat(format) !== isRelativeFormat(anchorFormat)) {
    throw fail(
      `${unit}: invalid format. Expected boxes and anchors both in pixels or both relative (anchorFormat=${JSON.stringify(anchorFormat)}); convert one with convertBoxes. Received: format=${JSON.stringify(format)}.`,
    );
  }
}

/** Anchor rows as [cx, cy, w, h], `n` of them, each with a positive size. */
function readAnchorRows(unit: string, anchors: unknown, n: number, anchorFormat: BoxFormat): number[][] {
  const rows = readBoxRows(unit, "anchors", anchors);
  if (rows.length !== n) throw fail(`${unit}: invalid anchors. Expected one anchor per box (${n}). Received: ${rows.length} anchors.`);
  return rows.map((row, i) => {
    const c = centerOf(row, anchorFormat);
    if (!(c[2] > 0 && c[3] > 0)) throw fail(`${unit}: invalid anchors[${i}]. Expected width > 0 and height > 0. Received: anchors[${i}]=${showBox(row)} in format ${JSON.stringify(anchorFormat)}.`);
    return c;
  });
}

/** Runs `fn` on float tensors of boxes `[N, 4]`/`[B, N, 4]` and anchors `[N, 4]` inside tf.tidy. */
function withTensors(unit: string, what: string, boxes: tf.Tensor | BoxArray, anchors: tf.Tensor | BoxArray, fn: (b: tf.Tensor, a: tf.Tensor) => tf.Tensor): tf.Tensor {
  const b = boxes instanceof tf.Tensor ? boxes : rowsTensor(readBoxRows(unit, what, boxes));
  const a = anchors instanceof tf.Tensor ? anchors : rowsTensor(readBoxRows(unit, "anchors", anchors));
  try {
    checkBoxTensor(unit, what, b, [2, 3]);
    checkBoxTensor(unit, "anchors", a, [2]);
    const n = b.shape[b.rank - 2];
    if (a.shape[0] !== n) {
      throw fail(`${unit}: invalid anchors. Expected [${n}, 4], one anchor per box of ${what} ${show(b)}. Received: anchors=${show(a)}.`);
    }
    return tf.tidy(() => fn(asFloat(b), asFloat(a)));
  } finally {
    if (b !== boxes) b.dispose();
    if (a !== anchors) a.dispose();
  }
}

function rowsTensor(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows.flat(), [rows.length, 4], "float32");
}

/** Matches of {@link matchAnchors}: an anchor learns the background class. */
export const MATCH_NEGATIVE = -1;
/** Matches of {@link matchAnchors}: an anchor that neither loss counts. */
export const MATCH_IGNORE = -2;

/** Options of {@link matchAnchors}. */
export interface MatchAnchorsArgs {
  /** The format of the ground-truth boxes. Required. */
  format: BoxFormat;
  /** The format of the anchors. Default `"centerXywh"`, what {@link anchorGrid} returns. */
  anchorFormat?: BoxFormat;
  /** An anchor whose best IoU is ≥ this is matched to that box. In [0, 1], default 0.5. */
  positiveIou?: number;
  /** An anchor whose best IoU is < this is a negative (background). In [0, positiveIou], default 0.4 (or positiveIou when lower). */
  negativeIou?: number;
}

/**
 * Assigns every anchor a ground-truth box to learn, SSD/RetinaNet style.
 *
 * 1. IoU of every anchor with every ground-truth box.
 * 2. An anchor whose best IoU is ≥ `positiveIou` is matched to that box (the lower index on
 *    ties); below `negativeIou` it is a negative ({@link MATCH_NEGATIVE}, −1: background);
 *    in between it is ignored ({@link MATCH_IGNORE}, −2: neither loss counts it).
 * 3. Then every ground-truth box is forced onto its own best anchor, whatever the thresholds, so
 *    that a small or oddly shaped object still has an anchor to learn it. When two boxes want the
 *    same anchor, the one with the higher IoU gets it. A box that overlaps no anchor at all
 *    (IoU 0) stays unmatched.
 *
 * SSD uses one threshold (positiveIou = negativeIou = 0.5); RetinaNet 0.5 / 0.4 (the defaults);
 * Faster R-CNN's RPN 0.7 / 0.3.
 *
 * @param anchors `[A, 4]` (tensor or array; read, not disposed), in `anchorFormat`.
 * @param gtBoxes `[G, 4]` ground-truth boxes of one image, in `format` (G may be 0: all negative).
 * @returns one number per anchor: the index of its box in `gtBoxes`, −1 or −2 (a plain array).
 * @throws ConvlabError for bad formats, shapes or rows, a pixel/relative mix, thresholds outside
 *   [0, 1] or negativeIou > positiveIou, an unknown option.
 * @example
 * ```ts
 * const matches = matchAnchors(anchors, [[10, 12, 40, 44]], { format: "xyxy" });
 * const positives = matches.filter((m) => m >= 0).length;
 * ```
 * KerasCV counterpart: `keras_cv.layers.BoxMatcher(thresholds=[0.4, 0.5], match_values=[-1, -2, 1],
 * force_match_for_each_col=True)` + `compute_iou`; torchvision's `Matcher(0.5, 0.4,
 * allow_low_quality_matches=True)` (which forces differently: the anchor keeps its own best box).
 */
export function matchAnchors(anchors: tf.Tensor | BoxArray, gtBoxes: tf.Tensor | BoxArray, args: MatchAnchorsArgs): number[] {
  const unit = "matchAnchors";
  const opts = expectOptions(unit, args, ["format", "anchorFormat", "positiveIou", "negativeIou"], '{ format: "xyxy", positiveIou: 0.5, negativeIou: 0.4 }');
  const format = expectBoxFormat(unit, opts.format);
  const anchorFormat = opts.anchorFormat === undefined ? "centerXywh" : expectBoxFormat(unit, opts.anchorFormat, "anchorFormat");
  sameUnits(unit, format, anchorFormat);
  const positiveIou = expectNumber(unit, "positiveIou", opts.positiveIou ?? 0.5, { min: 0, max: 1 });
  const negativeIou = opts.negativeIou ?? Math.min(0.4, positiveIou);
  if (typeof negativeIou !== "number" || !Number.isFinite(negativeIou) || negativeIou < 0 || negativeIou > positiveIou) {
    throw fail(`${unit}: invalid negativeIou. Expected a number in [0, positiveIou = ${positiveIou}]. Received: negativeIou=${show(negativeIou)}.`);
  }
  const a = readBoxRows(unit, "anchors", anchors).map((r) => cornersOf(r, anchorFormat));
  const g = readBoxRows(unit, "gtBoxes", gtBoxes).map((r) => cornersOf(r, format));
  const matches = new Array<number>(a.length).fill(MATCH_NEGATIVE);
  if (g.length === 0) return matches;
  const overlaps = a.map((ca) => g.map((cg) => cornerIou(ca, cg)));
  overlaps.forEach((row, i) => {
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    matches[i] = row[best] >= positiveIou ? best : row[best] < negativeIou ? MATCH_NEGATIVE : MATCH_IGNORE;
  });
  // Force each box onto its best anchor; on a shared anchor the higher IoU wins (the earlier box on ties).
  const forced = new Map<number, number>();
  g.forEach((_, j) => {
    let best = -1;
    let bestIou = 0;
    for (let i = 0; i < a.length; i++) {
      if (overlaps[i][j] > bestIou) [best, bestIou] = [i, overlaps[i][j]];
    }
    if (best < 0) return;
    const holder = forced.get(best);
    if (holder === undefined || bestIou > overlaps[best][holder]) forced.set(best, j);
  });
  forced.forEach((j, i) => (matches[i] = j));
  return matches;
}
