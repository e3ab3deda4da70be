/**
 * `SsdDetector`: a one-stage detector in the style of SSD (Liu et al., 2016), on two feature maps.
 *
 * Default boxes ("anchors") sit on every cell of the backbone's stride-8 map (small objects) and
 * stride-16 map (larger ones), a few sizes and shapes per cell. For every default box a 3 × 3
 * convolution predicts C + 1 class logits (class 0 is the background, object class k is k + 1)
 * and 4 offsets, Faster R-CNN's parameterisation divided by SSD's variances
 * v = [0.1, 0.1, 0.2, 0.2]: for a default box (xa, ya, wa, ha) in pixels and offsets (tx, ty, tw, th)
 *
 *   x = xa + tx · 0.1 · wa,   y = ya + ty · 0.1 · ha,   w = wa · e^(tw · 0.2),   h = ha · e^(th · 0.2)
 *
 * (the variances only scale the targets to about unit variance, so that one learning rate suits
 * all four). Training matches default boxes to the ground truth by IoU, and the loss is a softmax
 * cross-entropy with hard-negative mining plus a smooth L1 on the matched boxes' offsets; see
 * {@link SsdDetector}.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { anchorGrid, decodeBoxes, encodeBoxes, matchAnchors, MATCH_NEGATIVE } from "./anchors";
import type { DetectArgs, Detections, DetectorLoss, ImageTargets } from "./detector";
import { checkBatch, expectDetectorImageShape, expectWeight, featureMap, finishDetections, OneStageDetector, readDetectArgs, resolveBackbone, smoothL1, softmaxInto } from "./one_stage";
import type { Candidates } from "./one_stage";

/** The strides of the maps the default boxes sit on, smallest first. */
export const SSD_STRIDES: readonly number[] = Object.freeze([8, 16]);

/**
 * The default sizes of the default boxes, per map (stride 8, stride 16), as fractions of the
 * smaller image side: SSD's scales with s_min = 0.2 and s_max = 0.4 for two maps,
 * s_k = 0.2, 0.4, and at each the extra scale √(s_k · s_(k+1)) (with s_3 = 0.6): 0.28 and 0.49.
 * The default scenes' objects are 15–40 % of the side.
 */
export const DEFAULT_SSD_SCALES: readonly (readonly number[])[] = Object.freeze([
  [0.2, 0.28],
  [0.4, 0.49],
]);

/** The default aspect ratios (width / height) per map: square, wide and tall, SSD's {1, 2, 1/2}. */
export const DEFAULT_SSD_ASPECT_RATIOS: readonly (readonly number[])[] = Object.freeze([
  [1, 2, 0.5],
  [1, 2, 0.5],
]);

/** SSD's variances of (tx, ty, tw, th). */
export const SSD_VARIANCE: readonly number[] = Object.freeze([0.1, 0.1, 0.2, 0.2]);

/** Options of {@link SsdDetector}. */
export interface SsdDetectorArgs {
  /** Number of object classes, an integer ≥ 1 (the background class is added: the head predicts C + 1). Required. */
  numClasses: number;
  /** `[height, width]` of the images, multiples of 16. Required. */
  imageShape: [number, number];
  /**
   * The convolutional base: a model taking `[null, height, width, 3]` with outputs of stride 8 and
   * 16. Default `detectionBackbone({ imageShape })`. Its layers are shared with the detector's
   * model, not copied (`detector.model.dispose()` frees them too).
   */
  backbone?: tf.LayersModel;
  /**
   * Sizes of the default boxes per map (stride 8, then 16): for each, a non-empty array of
   * fractions of the smaller image side, each in (0, 2]. A size s is the side of the square of the
   * same area (w = s·√r, h = s/√r). Default {@link DEFAULT_SSD_SCALES}.
   */
  scales?: readonly (readonly number[])[];
  /** Aspect ratios (width / height, > 0) per map. Default {@link DEFAULT_SSD_ASPECT_RATIOS}. Every size gets every ratio. */
  aspectRatios?: readonly (readonly number[])[];
  /** Divisors of the offsets, 4 positive numbers. Default {@link SSD_VARIANCE} [0.1, 0.1, 0.2, 0.2]. */
  variance?: readonly number[];
  /** A default box is positive when its IoU with a ground-truth box is ≥ this, in (0, 1]; below it, negative. Default 0.5 (SSD). */
  positiveIou?: number;
  /** Negatives kept per positive by hard-negative mining, a number ≥ 0. Default 3 (SSD's 3 : 1). */
  negativeRatio?: number;
  /** Weight α of the box loss against the class loss, ≥ 0. Default 1 (SSD). */
  boxWeight?: number;
}

/** The training targets of a batch, from {@link SsdDetector.assignTargets}; slot `b · N + d` is default box d of image b. */
export interface SsdTargets {
  /** Per image, what `matchAnchors` gave each default box: the index of its ground-truth box, −1 negative, −2 ignored. */
  matches: number[][];
  /** Per slot: 0 background (negative), k + 1 for a positive of class k, −1 ignored. */
  labels: Int32Array;
  /** Per slot, 4 offsets (encoded with the variances) of the matched box; 0 where not positive. */
  box: Float32Array;
  /** Positives per image. */
  positives: number[];
}

const UNIT = "SsdDetector";
const KEYS = ["numClasses", "imageShape", "backbone", "scales", "aspectRatios", "variance", "positiveIou", "negativeRatio", "boxWeight"] as const;

/**
 * An SSD-style one-stage detector on the stride-8 and stride-16 maps of a backbone (see the module
 * comment for the default boxes and the offsets).
 *
 * Model: backbone → for each map, Conv2D 3 × 3 with A · (4 + C + 1) filters (SSD's predictors,
 * offsets and class logits of one default box side by side) → Reshape `[fh · fw · A, 4 + C + 1]`
 * → Concatenate over the maps: output `[batch, N, 4 + C + 1]`, N default boxes in the order of
 * {@link SsdDetector.anchors}, each row `[tx, ty, tw, th, background logit, class 0 logit, …]`.
 *
 * Matching ({@link SsdDetector.assignTargets}): `matchAnchors` with one threshold: IoU ≥
 * `positiveIou` (0.5) is positive, below it negative, and every ground-truth box is forced onto
 * its best default box (so a small object is never left without one).
 *
 * Loss ({@link SsdDetector.computeLoss}), over the batch, with P the number of positives:
 * - `class_loss` = (Σ_positives CE + Σ_hard negatives CE) / P, CE = −log softmax(logits)[label];
 * - `box_loss` = boxWeight · Σ_positives Σ_4 smoothL1(t − t*) / P;
 * - `loss` = class_loss + box_loss. With no positive in the batch, P counts as 1.
 *
 * Hard-negative mining (SSD): most default boxes are background, and a loss over all of them is
 * dominated by easy ones. Per image, the negatives are ranked by their background loss
 * −log p(background), highest first, and only the first `negativeRatio` · positives of that image
 * count (3 : 1); an image without objects keeps `negativeRatio` negatives, as if it had one. The
 * choice is made on values read from the forward pass (`dataSync`), and the result enters the
 * loss as a constant 0/1 mask: no gradient flows through the ranking. It cannot be made with
 * tensor ops on the taped path: tfjs has no gradient for `topk` nor for comparisons ("gradient
 * function not found for TopK"), and has no `stopGradient`; a `tf.customGrad` that returns a zero
 * gradient also works, but needs a per-image k, which `topk` does not take.
 *
 * @throws ConvlabError for a bad option: `numClasses` not an integer ≥ 1, an `imageShape` that is
 *   not multiples of 16, a backbone without stride-8 and stride-16 outputs, scales or aspect
 *   ratios that are not one non-empty positive list per map, a bad variance, `positiveIou`
 *   outside (0, 1], a negative `negativeRatio` or `boxWeight`, an unknown option.
 * @example
 * ```ts
 * const ssd = new SsdDetector({ numClasses: 3, imageShape: [64, 64] });
 * ssd.anchors.length                 // 480: 8·8·6 + 4·4·6
 * // on 2,000 synthetic 64 × 64 scenes this reaches mAP@0.5 ≈ 0.95 on held-out scenes
 * await trainDetector(ssd, { images, targets }, { epochs: 4, batchSize: 8, optimizer: Adam({ learningRate: 2e-3 }) });
 * const found = ssd.detect(images, { scoreThreshold: 0.3 });
 * ```
 * Keras equivalent: KerasCV has no SSD; its `RetinaNet` is the nearest (default boxes on several
 * maps, the same matching with forced matches, `encode_box_to_deltas` with variances), with a
 * focal loss in place of hard-negative mining and sigmoid classes in place of a softmax with a
 * background class.
 */
export class SsdDetector extends OneStageDetector {
  static readonly className = "SsdDetector";
  protected readonly unit = UNIT;
  readonly name = "ssd";
  readonly model: tf.LayersModel;
  readonly numClasses: number;
  readonly imageShape: [number, number];
  /** Every default box, `centerXywh` pixels `[cx, cy, w, h]`: the stride-8 map's then the stride-16 map's, each cell by cell (row-major), then size, then ratio. */
  readonly anchors: readonly (readonly number[])[];
  /** Default boxes per cell of each map. */
  readonly anchorsPerCell: readonly number[];
  readonly variance: readonly number[];
  readonly positiveIou: number;
  readonly negativeRatio: number;
  readonly boxWeight: number;

  constructor(args: SsdDetectorArgs) {
    super();
    const opts = expectOptions(UNIT, args, KEYS, "{ numClasses: 3, imageShape: [64, 64] }");
    this.numClasses = expectNumber(UNIT, "numClasses", opts.numClasses, { min: 1, integer: true });
    this.imageShape = expectDetectorImageShape(UNIT, opts.imageShape);
    const scales = perMapLists("scales", opts.scales ?? DEFAULT_SSD_SCALES, 2, "[[0.2, 0.28], [0.4, 0.49]]");
    const ratios = perMapLists("aspectRatios", opts.aspectRatios ?? DEFAULT_SSD_ASPECT_RATIOS, Infinity, "[[1, 2, 0.5], [1, 2, 0.5]]");
    const v = opts.variance ?? SSD_VARIANCE;
    if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0)) {
      throw fail(`${UNIT}: invalid variance. Expected 4 positive numbers such as [0.1, 0.1, 0.2, 0.2]. Received: variance=${show(v)}.`);
    }
    this.variance = [...v];
    this.positiveIou = expectNumber(UNIT, "positiveIou", opts.positiveIou ?? 0.5, { min: 0, max: 1, exclusiveMin: true });
    this.negativeRatio = expectNumber(UNIT, "negativeRatio", opts.negativeRatio ?? 3, { min: 0 });
    this.boxWeight = expectWeight(UNIT, "boxWeight", opts.boxWeight, 1);
    const backbone = resolveBackbone(UNIT, opts.backbone, this.imageShape);
    const maps = SSD_STRIDES.map((stride) => featureMap(UNIT, backbone, this.imageShape, stride));

    const side = Math.min(...this.imageShape);
    const k = 4 + this.numClasses + 1;
    const anchors: number[][] = [];
    const perCell: number[] = [];
    const heads = maps.map((map, m) => {
      const [fh, fw] = [map.shape[1] as number, map.shape[2] as number];
      const grid = anchorGrid({ imageShape: this.imageShape, featureShape: [fh, fw], sizes: scales[m].map((s) => s * side), aspectRatios: ratios[m] });
      anchors.push(...(grid.arraySync() as number[][]));
      grid.dispose();
      const a = scales[m].length * ratios[m].length;
      perCell.push(a);
      const name = `ssd_head_stride${SSD_STRIDES[m]}`;
      const y = tf.layers.conv2d({ filters: a * k, kernelSize: 3, padding: "same", name }).apply(map) as tf.SymbolicTensor;
      return tf.layers.reshape({ targetShape: [fh * fw * a, k], name: `${name}_boxes` }).apply(y) as tf.SymbolicTensor;
    });
    const output = tf.layers.concatenate({ axis: 1, name: "ssd_output" }).apply(heads) as tf.SymbolicTensor;
    this.model = tf.model({ inputs: backbone.inputs, outputs: output, name: "ssd_detector" });
    this.anchors = anchors;
    this.anchorsPerCell = perCell;
  }

  /**
   * The targets of a batch (see {@link SsdTargets}): per image, `matchAnchors(anchors, boxes,
   * { positiveIou, negativeIou: positiveIou })` (forced best matches included), labels k + 1 for a
   * default box matched to a box of class k and 0 for a negative, and the matched boxes' offsets
   * `encodeBoxes(box, anchor, { variance })`.
   *
   * @example
   * ```ts
   * const t = ssd.assignTargets([{ boxes: [[8, 8, 24, 24]], classes: [2] }]);
   * t.positives[0]   // the default boxes with IoU ≥ 0.5 (at least one)
   * ```
   */
  assignTargets(targets: readonly ImageTargets[]): SsdTargets {
    const n = this.anchors.length;
    const labels = new Int32Array(targets.length * n);
    const box = new Float32Array(targets.length * n * 4);
    const positives: number[] = [];
    const matches = targets.map((t, b) => {
      const match = matchAnchors(this.anchors, t.boxes, { format: "xyxy", positiveIou: this.positiveIou, negativeIou: this.positiveIou });
      const matched = match.map((g, d) => [g, d]).filter(([g]) => g >= 0);
      const deltas = matched.length === 0 ? [] : encodeBoxes(matched.map(([g]) => t.boxes[g]), matched.map(([, d]) => this.anchors[d]), { format: "xyxy", variance: this.variance });
      match.forEach((g, d) => (labels[b * n + d] = g >= 0 ? t.classes[g] + 1 : g === MATCH_NEGATIVE ? 0 : -1));
      matched.forEach(([, d], i) => box.set(deltas[i], 4 * (b * n + d)));
      positives.push(matched.length);
      return match;
    });
    return { matches, labels, box, positives };
  }

  /**
   * Hard-negative mining: which slots the class loss counts. Per image, every positive
   * (label > 0), and among the negatives (label 0) the `negativeRatio` · positives with the
   * highest `backgroundLoss` (−log p(background)); an image without positives keeps
   * `negativeRatio` negatives. Ties go to the earlier default box.
   *
   * @param labels per slot, as {@link SsdTargets.labels} (`[images · N]`).
   * @param backgroundLoss per slot, −log p(background) (values, e.g. read with `dataSync`).
   * @returns a 0/1 mask per slot.
   */
  selectHardNegatives(labels: ArrayLike<number>, backgroundLoss: ArrayLike<number>): Float32Array {
    const n = this.anchors.length;
    const images = labels.length / n;
    const mask = new Float32Array(labels.length);
    for (let b = 0; b < images; b++) {
      const negatives: number[] = [];
      let positives = 0;
      for (let s = b * n; s < (b + 1) * n; s++) {
        if (labels[s] > 0) {
          mask[s] = 1;
          positives++;
        } else if (labels[s] === 0) negatives.push(s);
      }
      const keep = Math.min(negatives.length, Math.round(this.negativeRatio * Math.max(positives, 1)));
      negatives.sort((p, q) => backgroundLoss[q] - backgroundLoss[p] || p - q);
      for (let i = 0; i < keep; i++) mask[negatives[i]] = 1;
    }
    return mask;
  }

  /**
   * The loss of a batch: `{ loss, parts: { class_loss, box_loss } }`, scalars (see the class
   * comment for the formulas and how hard negatives are chosen without a gradient).
   *
   * @throws ConvlabError for images of another size, targets that do not match the images, class
   *   ids out of range, boxes without area.
   */
  override computeLoss(images: tf.Tensor4D, targets: ImageTargets[], training: boolean): DetectorLoss {
    checkBatch(`${UNIT}.computeLoss`, this, images, targets);
    const t = this.assignTargets(targets);
    const n = images.shape[0];
    const c = this.numClasses + 1;
    const s = n * this.anchors.length;
    const positives = Math.max(1, t.positives.reduce((p, q) => p + q, 0));
    return tf.tidy(() => {
      const output = this.model.apply(images, { training }) as tf.Tensor;
      // Box-major [S, 4 + C + 1] to field-major [4 + C + 1, S]: tfjs splits rows by copying
      // blocks, where a split along the last axis runs a per-element loop.
      const fields = tf.transpose(tf.reshape(output, [s, 4 + c]));
      const [offsets, logits] = tf.split(fields, [4, c], 0);
      const logProbabilities = tf.sub(logits, tf.logSumExp(logits, 0, true));
      const labels = Int32Array.from(t.labels, (l) => Math.max(l, 0));
      const classTarget = tf.transpose(tf.oneHot(tf.tensor1d(labels, "int32"), c).toFloat());
      const crossEntropy = tf.neg(tf.sum(tf.mul(classTarget, logProbabilities), 0)); // [S]; a negative's is its background loss
      const counted = tf.tensor1d(this.selectHardNegatives(t.labels, crossEntropy.dataSync()));
      const classLoss = tf.div(tf.sum(tf.mul(counted, crossEntropy)), positives) as tf.Scalar;

      const positive = tf.tensor2d(Float32Array.from(t.labels, (l) => (l > 0 ? 1 : 0)), [1, s]);
      const boxTarget = tf.transpose(tf.tensor2d(t.box, [s, 4]));
      const boxLoss = tf.div(tf.mul(this.boxWeight, tf.sum(tf.mul(positive, smoothL1(tf.sub(offsets, boxTarget))))), positives) as tf.Scalar;
      return { loss: tf.add(classLoss, boxLoss) as tf.Scalar, parts: { class_loss: classLoss, box_loss: boxLoss } };
    });
  }

  /**
   * The detections described by a raw output `[n, N, 4 + C + 1]` (what `model.predict` returns;
   * read, not disposed): the decoding step of {@link SsdDetector.detect} on its own.
   *
   * @throws ConvlabError for a tensor of another shape or bad options.
   */
  override decodeOutput(raw: tf.Tensor, args?: DetectArgs): Detections[] {
    const unit = `${UNIT}.decodeOutput`;
    const options = readDetectArgs(unit, args);
    const n = this.anchors.length;
    const k = 4 + this.numClasses + 1;
    if (!(raw instanceof tf.Tensor) || raw.rank !== 3 || raw.shape[1] !== n || raw.shape[2] !== k) {
      throw fail(`${unit}: invalid raw. Expected the model's output, shape [n, ${n}, ${k}]. Received: raw=${show(raw)}.`);
    }
    const values = raw.dataSync();
    const probabilities = new Float64Array(this.numClasses + 1);
    const result: Detections[] = [];
    for (let b = 0; b < raw.shape[0]; b++) {
      const candidates: Candidates = { boxes: [], scores: [], classes: [] };
      const deltas: number[][] = [];
      const anchors: (readonly number[])[] = [];
      for (let d = 0; d < n; d++) {
        const o = (b * n + d) * k;
        softmaxInto(values, o + 4, this.numClasses + 1, probabilities);
        for (let cls = 0; cls < this.numClasses; cls++) {
          if (probabilities[cls + 1] < options.scoreThreshold) continue;
          deltas.push(Array.from(values.subarray(o, o + 4)));
          anchors.push(this.anchors[d]);
          candidates.scores.push(probabilities[cls + 1]);
          candidates.classes.push(cls);
        }
      }
      // tw, th clipped so that an untrained head still gives finite boxes
      const safe = deltas.map(([tx, ty, tw, th]) => [tx, ty, Math.min(tw, 40), Math.min(th, 40)]);
      candidates.boxes = safe.length === 0 ? [] : decodeBoxes(safe, anchors, { format: "xyxy", variance: this.variance });
      result.push(finishDetections(candidates, this.imageShape, options));
    }
    return result;
  }
}

/**
 * Makes an {@link SsdDetector}: `ssdDetector(args)` is `new SsdDetector(args)`.
 *
 * @example
 * ```ts
 * const ssd = ssdDetector({ numClasses: 3, imageShape: [64, 64] });
 * ```
 * Keras equivalent: see {@link SsdDetector}.
 */
export function ssdDetector(args: SsdDetectorArgs): SsdDetector {
  return new SsdDetector(args);
}

/** One non-empty list of positive numbers per map (each ≤ `max`). */
function perMapLists(name: string, value: unknown, max: number, example: string): number[][] {
  const ok =
    Array.isArray(value) &&
    value.length === SSD_STRIDES.length &&
    value.every((list) => Array.isArray(list) && list.length > 0 && list.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0 && x <= max));
  if (!ok) {
    const range = Number.isFinite(max) ? `in (0, ${max}]` : "> 0";
    throw fail(`${UNIT}: invalid ${name}. Expected one non-empty array of numbers ${range} per map (strides ${SSD_STRIDES.join(" and ")}), such as ${example}. Received: ${name}=${show(value)}.`);
  }
  return (value as number[][]).map((list) => [...list]);
}
