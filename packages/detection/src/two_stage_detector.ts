/**
 * `TwoStageDetector`: a two-stage detector in the style of Faster R-CNN (Ren et al., 2015), at
 * lesson scale, on the backbone's stride-8 map.
 *
 * Stage 1, the region proposal network (RPN): a 3 × 3 convolution over the map, then per cell and
 * anchor (A = sizes × aspect ratios) one objectness logit ("is there an object here, of any
 * class?") and four box deltas that move the anchor onto it (Faster R-CNN's parameterisation, see
 * {@link encodeBoxes}). Proposals: every anchor decoded, clipped to the image, the best
 * `rpnPreNmsTopN` by objectness, non-maximum suppression at `rpnNmsThreshold`, the best
 * `rpnPostNmsTopNTrain` (training) or `rpnPostNmsTopNTest` (detection) kept.
 *
 * Stage 2, the RoI head: for each proposal, a fixed `roiOutputSize`² patch of the stride-8 map by
 * {@link roiAlign} (bilinear samples averaged per bin), Flatten → Dense(headUnits, ReLU) →
 * Dense(headUnits, ReLU) (torchvision's TwoMLPHead), then C + 1 class logits (class 0 is
 * background) and per-class box deltas (4 per object class, Faster R-CNN's choice) that refine the
 * proposal into the final box of that class.
 *
 * Training (Faster R-CNN's "approximate joint training", what torchvision and Detectron do): the
 * four losses are summed and minimised together, with the proposals taken as constants. The RoI
 * losses train the backbone through the features that RoIAlign reads, but not the RPN through the
 * proposal coordinates (RoIAlign has no gradient with respect to its boxes). The ground-truth
 * boxes are added to the proposals, so the head has positives from the first step, when the
 * untrained RPN proposes nothing useful.
 *
 * Box codings: RPN deltas against anchors with variance [1, 1, 1, 1]; head deltas against
 * proposals with variance [0.1, 0.1, 0.2, 0.2] (torchvision's weights 10, 10, 5, 5), so that the
 * small corrections of the second stage have targets of order 1. tw and th are clipped at
 * log(1000 / 16) before e^t when decoding (torchvision's bound), so an untrained head gives
 * finite boxes.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, expectSeed, fail, Random, show } from "@convlab/engine";
import { anchorGrid, encodeBoxes, MATCH_NEGATIVE, matchAnchors } from "./anchors";
import type { DetectArgs, Detections, Detector, DetectorLoss, ImageTargets } from "./detector";
import { readBoxRows } from "./boxes";
import { cornerIou } from "./iou";
import { nonMaxSuppression } from "./nms";
import { checkBatch, checkImages, expectDetectorImageShape, featureMap, finishDetections, readDetectArgs, resolveBackbone, sigmoid, sigmoidCrossEntropy, softmaxInto } from "./one_stage";
import type { Candidates } from "./one_stage";
import { roiAlign } from "./roi_align";

/** The default anchor sizes of {@link TwoStageDetector}, fractions of the smaller image side (11.5, 17.3 and 25.6 pixels on 64 × 64, for the synthetic scenes' objects of 15–40 % of the side). */
export const DEFAULT_TWO_STAGE_ANCHOR_SIZES: readonly number[] = Object.freeze([0.18, 0.27, 0.4]);

/** Options of {@link TwoStageDetector}; the names follow torchvision's `FasterRCNN` arguments in camelCase. */
export interface TwoStageDetectorArgs {
  /** Number of object classes, an integer ≥ 1 (the head adds a background class 0). Required. */
  numClasses: number;
  /** `[height, width]` of the images, multiples of 16. Required. */
  imageShape: [number, number];
  /**
   * The convolutional base: a model taking `[null, height, width, 3]` with an output of stride 8.
   * Default `detectionBackbone({ imageShape })` (its stride-16 blocks are left out of the
   * detector's model). Its layers are shared with the detector's model, not copied.
   */
  backbone?: tf.LayersModel;
  /** RPN anchor sizes in pixels (side of the square of equal area). Default {@link DEFAULT_TWO_STAGE_ANCHOR_SIZES} × min(height, width). */
  anchorSizes?: readonly number[];
  /** RPN anchor width / height ratios. Default `[0.5, 1, 2]` (with three sizes, the paper's 9 anchors per position). */
  aspectRatios?: readonly number[];
  /** An anchor whose IoU with a ground-truth box is ≥ this is an RPN positive (and each box's best anchor is), in [0, 1]. Default 0.7. */
  rpnPositiveIou?: number;
  /** An anchor whose best IoU is < this is an RPN negative, in [0, rpnPositiveIou]. Default 0.3. */
  rpnNegativeIou?: number;
  /** Anchors sampled per image for the RPN losses, an integer ≥ 1. Default 64 (the paper: 256 on 600 × 1000 images). */
  rpnBatchSizePerImage?: number;
  /** Most positives among them, a fraction in (0, 1]. Default 0.5. */
  rpnPositiveFraction?: number;
  /** Proposals considered before NMS (best objectness first), an integer ≥ 1. Default 1000. */
  rpnPreNmsTopN?: number;
  /** NMS threshold of the proposals, in [0, 1]. Default 0.7. */
  rpnNmsThreshold?: number;
  /** Proposals kept per image while training, an integer ≥ 1. Default 50. */
  rpnPostNmsTopNTrain?: number;
  /** Proposals kept per image in {@link TwoStageDetector.detect}, an integer ≥ 1. Default 30. */
  rpnPostNmsTopNTest?: number;
  /** A RoI whose IoU with a ground-truth box is ≥ this is a positive of that box's class (else background), in (0, 1]. Default 0.5. */
  boxPositiveIou?: number;
  /** RoIs sampled per image for the head's losses, an integer ≥ 1. Default 32 (the paper: 128 or 256). */
  boxBatchSizePerImage?: number;
  /** Most positives among them, a fraction in (0, 1]. Default 0.25. */
  boxPositiveFraction?: number;
  /** Side of the RoIAlign patch, an integer ≥ 1. Default 7. */
  roiOutputSize?: number;
  /** RoIAlign samples per bin and side, an integer ≥ 1. Default 2. */
  roiSamplingRatio?: number;
  /** Units of the head's two Dense layers, an integer ≥ 1. Default 128 (torchvision: 1024). */
  headUnits?: number;
  /** Seed of the anchor and RoI sampling. Default: different every run. */
  seed?: number;
}

/** The RPN's training targets of a batch, from {@link TwoStageDetector.rpnTargets}; one entry per (image b, anchor a) at `b · numAnchors + a`. */
export interface RpnTargets {
  /** 1 at the anchors sampled for the losses, else 0. */
  sampled: Float32Array;
  /** 1 at sampled positives, else 0 (the objectness label; only sampled anchors count). */
  positive: Float32Array;
  /** Delta targets, 4 per anchor, of the matched box against the anchor (0 where not a sampled positive). */
  boxes: Float32Array;
  /** Per image, the sampled positives and negatives. */
  numPositive: number[];
  numNegative: number[];
}

/** The head's training RoIs of one image, from {@link TwoStageDetector.roiTargets}. */
export interface RoiTargets {
  /** The sampled RoIs, pixel xyxy: proposals and ground-truth boxes. */
  boxes: number[][];
  /** Their labels: 0 background, k + 1 for object class k. */
  labels: number[];
  /** Delta targets (variance 0.1, 0.1, 0.2, 0.2) of positives against their RoI; zeros for background. */
  deltas: number[][];
}

/** The proposals of one image: pixel xyxy boxes and their objectness σ(logit), best first. */
export interface Proposals {
  boxes: number[][];
  scores: number[];
}

const UNIT = "TwoStageDetector";
const KEYS = [
  "numClasses",
  "imageShape",
  "backbone",
  "anchorSizes",
  "aspectRatios",
  "rpnPositiveIou",
  "rpnNegativeIou",
  "rpnBatchSizePerImage",
  "rpnPositiveFraction",
  "rpnPreNmsTopN",
  "rpnNmsThreshold",
  "rpnPostNmsTopNTrain",
  "rpnPostNmsTopNTest",
  "boxPositiveIou",
  "boxBatchSizePerImage",
  "boxPositiveFraction",
  "roiOutputSize",
  "roiSamplingRatio",
  "headUnits",
  "seed",
] as const;
/** tw, th are clipped to this before e^t: torchvision's log(1000 / 16). */
const MAX_LOG_SCALE = Math.log(1000 / 16);
/** Proposals narrower or lower than this (pixels) after clipping are dropped. */
const MIN_PROPOSAL_SIZE = 1;
/** Smooth L1's β (quadratic below, linear above): torchvision's 1/9 for both stages. */
const SMOOTH_L1_BETA = 1 / 9;
const RPN_VARIANCE = [1, 1, 1, 1];
const HEAD_VARIANCE = [0.1, 0.1, 0.2, 0.2];
/** Images per forward pass in {@link TwoStageDetector.detect} and {@link TwoStageDetector.propose}. */
const DETECT_CHUNK = 32;

/**
 * A Faster R-CNN-style two-stage detector (see the module comment for the two stages and how
 * they train together).
 *
 * Model (`model`, one functional model holding every weight): input `image` → backbone →
 * stride-8 map `[gh, gw, c]` → RPN: `rpn_conv` (3 × 3, c filters, ReLU) → `rpn_objectness`
 * (1 × 1, A) and `rpn_box_deltas` (1 × 1, 4A); and a second input `roi_features`
 * `[roiOutputSize, roiOutputSize, c]`, where the RoIAlign patches enter → `roi_flatten` →
 * `roi_fc1`, `roi_fc2` (Dense, ReLU) → `roi_class_logits` (C + 1) and `roi_box_deltas` (4C).
 * RoIAlign is not a layer (it needs the proposals, computed in plain JavaScript between the two
 * stages), so `model.predict` does not run the detector: use {@link TwoStageDetector.detect}.
 *
 * Loss of a batch ({@link TwoStageDetector.computeLoss}), torchvision's normalisation:
 * - `rpn_objectness_loss`: binary cross-entropy of the sampled anchors' objectness (positive:
 *   IoU ≥ rpnPositiveIou with a box, or a box's best anchor; negative: IoU < rpnNegativeIou; up to
 *   rpnBatchSizePerImage per image, at most rpnPositiveFraction positive), averaged over them;
 * - `rpn_box_loss`: smooth L1 (β = 1/9) of the positives' deltas, summed, divided by the number of
 *   sampled anchors;
 * - `class_loss`: cross-entropy over C + 1 classes of the sampled RoIs (proposals and ground-truth
 *   boxes; positive at IoU ≥ boxPositiveIou, else background; up to boxBatchSizePerImage per
 *   image, at most boxPositiveFraction positive), averaged;
 * - `box_loss`: smooth L1 (β = 1/9) of the positives' deltas for their own class, summed, divided
 *   by the number of sampled RoIs;
 * - `loss`: the sum of the four.
 *
 * @throws ConvlabError for a bad option: `numClasses` not an integer ≥ 1, an `imageShape` that is
 *   not multiples of 16, a backbone without a stride-8 output, empty or non-positive anchor sizes
 *   or ratios, IoU thresholds outside [0, 1] or rpnNegativeIou > rpnPositiveIou, fractions outside
 *   (0, 1], counts that are not integers ≥ 1, an unknown option (suggesting the nearest name).
 * @example
 * ```ts
 * const detector = new TwoStageDetector({ numClasses: 3, imageShape: [64, 64], seed: 1 });
 * summary(detector.model);
 * await trainDetector(detector, { images, targets }, { epochs: 8 });
 * const [found] = detector.detect(images.slice(0, 1), { scoreThreshold: 0.5 });
 * ```
 * Keras equivalent: KerasCV's `FasterRCNN` (keras_cv.models, ResNet-FPN backbone, a custom
 * `train_step`); torchvision's `fasterrcnn_resnet50_fpn`. This one has one feature level, a small
 * VGG-style base trained from scratch, and a few dozen proposals per image instead of thousands.
 */
export class TwoStageDetector implements Detector {
  static readonly className = "TwoStageDetector";
  readonly name = "two_stage";
  readonly model: tf.LayersModel;
  readonly numClasses: number;
  readonly imageShape: [number, number];
  /** The RPN anchors, `[gh · gw · A]` rows of centerXywh pixels, in the order of {@link anchorGrid}. */
  readonly anchors: readonly (readonly number[])[];
  /** Anchors per cell, A = sizes × ratios. */
  readonly anchorsPerCell: number;
  /** `[gh, gw]`: the cells of the stride-8 map. */
  readonly gridShape: [number, number];
  readonly rpnPositiveIou: number;
  readonly rpnNegativeIou: number;
  readonly rpnBatchSizePerImage: number;
  readonly rpnPositiveFraction: number;
  readonly rpnPreNmsTopN: number;
  readonly rpnNmsThreshold: number;
  readonly rpnPostNmsTopNTrain: number;
  readonly rpnPostNmsTopNTest: number;
  readonly boxPositiveIou: number;
  readonly boxBatchSizePerImage: number;
  readonly boxPositiveFraction: number;
  readonly roiOutputSize: number;
  readonly roiSamplingRatio: number;
  /** image → [stride-8 map, objectness logits, box deltas] (the layers of `model`). */
  private readonly rpn: tf.LayersModel;
  /** roi_features → [class logits, box deltas] (the layers of `model`). */
  private readonly head: tf.LayersModel;
  /** Layers of a default backbone that `model` leaves out (its stride-16 blocks), freed by `dispose`. */
  private readonly unusedLayers: tf.layers.Layer[];
  private readonly random: Random;
  /** Anchors as corners `[x1, y1, x2, y2]`, for matching. */
  private readonly anchorCorners: number[][];

  constructor(args: TwoStageDetectorArgs) {
    const opts = expectOptions(UNIT, args, KEYS, "{ numClasses: 3, imageShape: [64, 64] }");
    this.numClasses = expectNumber(UNIT, "numClasses", opts.numClasses, { min: 1, integer: true });
    this.imageShape = expectDetectorImageShape(UNIT, opts.imageShape);
    const side = Math.min(...this.imageShape);
    const sizes = positiveList("anchorSizes", opts.anchorSizes ?? DEFAULT_TWO_STAGE_ANCHOR_SIZES.map((s) => s * side), "[12, 18, 26]");
    const ratios = positiveList("aspectRatios", opts.aspectRatios ?? [0.5, 1, 2], "[0.5, 1, 2]");
    this.rpnPositiveIou = expectNumber(UNIT, "rpnPositiveIou", opts.rpnPositiveIou ?? 0.7, { min: 0, max: 1 });
    this.rpnNegativeIou = opts.rpnNegativeIou ?? Math.min(0.3, this.rpnPositiveIou);
    if (typeof this.rpnNegativeIou !== "number" || !(this.rpnNegativeIou >= 0 && this.rpnNegativeIou <= this.rpnPositiveIou)) {
      throw fail(`${UNIT}: invalid rpnNegativeIou. Expected a number in [0, rpnPositiveIou = ${this.rpnPositiveIou}]. Received: rpnNegativeIou=${show(opts.rpnNegativeIou)}.`);
    }
    const count = (name: (typeof KEYS)[number], fallback: number) => expectNumber(UNIT, name, opts[name as keyof TwoStageDetectorArgs] ?? fallback, { min: 1, integer: true });
    const fraction = (name: (typeof KEYS)[number], fallback: number) => expectNumber(UNIT, name, opts[name as keyof TwoStageDetectorArgs] ?? fallback, { min: 0, max: 1, exclusiveMin: true });
    this.rpnBatchSizePerImage = count("rpnBatchSizePerImage", 64);
    this.rpnPositiveFraction = fraction("rpnPositiveFraction", 0.5);
    this.rpnPreNmsTopN = count("rpnPreNmsTopN", 1000);
    this.rpnNmsThreshold = expectNumber(UNIT, "rpnNmsThreshold", opts.rpnNmsThreshold ?? 0.7, { min: 0, max: 1 });
    this.rpnPostNmsTopNTrain = count("rpnPostNmsTopNTrain", 50);
    this.rpnPostNmsTopNTest = count("rpnPostNmsTopNTest", 30);
    this.boxPositiveIou = expectNumber(UNIT, "boxPositiveIou", opts.boxPositiveIou ?? 0.5, { min: 0, max: 1, exclusiveMin: true });
    this.boxBatchSizePerImage = count("boxBatchSizePerImage", 32);
    this.boxPositiveFraction = fraction("boxPositiveFraction", 0.25);
    this.roiOutputSize = count("roiOutputSize", 7);
    this.roiSamplingRatio = count("roiSamplingRatio", 2);
    const headUnits = count("headUnits", 128);
    this.random = new Random(expectSeed(UNIT, opts.seed));

    const ownBackbone = opts.backbone === undefined;
    const backbone = resolveBackbone(UNIT, opts.backbone, this.imageShape);
    const features = featureMap(UNIT, backbone, this.imageShape, 8);
    const [gh, gw, channels] = [features.shape[1] as number, features.shape[2] as number, features.shape[3] as number];
    this.gridShape = [gh, gw];
    this.anchorsPerCell = sizes.length * ratios.length;
    const grid = anchorGrid({ imageShape: this.imageShape, featureShape: [gh, gw], sizes, aspectRatios: ratios });
    this.anchors = grid.arraySync();
    grid.dispose();
    this.anchorCorners = this.anchors.map(([cx, cy, w, h]) => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]);

    // Stage 1: torchvision's RPNHead (3 x 3 conv with the map's channels, then two 1 x 1 convs), N(0, 0.01) weights.
    const a = this.anchorsPerCell;
    const small = (stddev: number) => tf.initializers.randomNormal({ mean: 0, stddev });
    const shared = tf.layers.conv2d({ filters: channels, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: small(0.01), name: "rpn_conv" }).apply(features) as tf.SymbolicTensor;
    const objectness = tf.layers.conv2d({ filters: a, kernelSize: 1, kernelInitializer: small(0.01), name: "rpn_objectness" }).apply(shared) as tf.SymbolicTensor;
    const rpnDeltas = tf.layers.conv2d({ filters: 4 * a, kernelSize: 1, kernelInitializer: small(0.01), name: "rpn_box_deltas" }).apply(shared) as tf.SymbolicTensor;
    // Stage 2: the RoI head on RoIAlign patches.
    const p = this.roiOutputSize;
    const roiInput = tf.input({ shape: [p, p, channels], name: "roi_features" });
    let x = tf.layers.flatten({ name: "roi_flatten" }).apply(roiInput) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: headUnits, activation: "relu", name: "roi_fc1" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: headUnits, activation: "relu", name: "roi_fc2" }).apply(x) as tf.SymbolicTensor;
    const classLogits = tf.layers.dense({ units: this.numClasses + 1, kernelInitializer: small(0.01), name: "roi_class_logits" }).apply(x) as tf.SymbolicTensor;
    const boxDeltas = tf.layers.dense({ units: 4 * this.numClasses, kernelInitializer: small(0.001), name: "roi_box_deltas" }).apply(x) as tf.SymbolicTensor;

    this.model = tf.model({ inputs: [...backbone.inputs, roiInput], outputs: [objectness, rpnDeltas, classLogits, boxDeltas], name: "two_stage_detector" });
    this.rpn = tf.model({ inputs: backbone.inputs, outputs: [features, objectness, rpnDeltas], name: "two_stage_rpn" });
    this.head = tf.model({ inputs: roiInput, outputs: [classLogits, boxDeltas], name: "two_stage_roi_head" });
    const used = new Set(this.model.layers);
    this.unusedLayers = ownBackbone ? backbone.layers.filter((layer) => !used.has(layer)) : [];
  }

  /** Anchors per image: gh · gw · A. */
  get numAnchors(): number {
    return this.anchors.length;
  }

  /**
   * The RPN's targets of a batch (see {@link RpnTargets}): per image, {@link matchAnchors} with
   * `rpnPositiveIou` / `rpnNegativeIou` (plus each box's best anchor), then a random sample of at
   * most `rpnPositiveFraction · rpnBatchSizePerImage` positives and negatives to fill
   * `rpnBatchSizePerImage` (fewer when there are not enough), as Faster R-CNN samples its
   * minibatch of anchors. Ignored anchors (between the thresholds) are never sampled.
   *
   * @param targets one `{ boxes (pixel xyxy), classes }` per image.
   * @example
   * ```ts
   * const t = detector.rpnTargets([{ boxes: [[10, 20, 30, 36]], classes: [1] }]);
   * t.numPositive[0] + t.numNegative[0]   // 64
   * ```
   */
  rpnTargets(targets: readonly ImageTargets[]): RpnTargets {
    const n = this.numAnchors;
    const sampled = new Float32Array(targets.length * n);
    const positive = new Float32Array(targets.length * n);
    const boxes = new Float32Array(targets.length * n * 4);
    const numPositive: number[] = [];
    const numNegative: number[] = [];
    targets.forEach((t, b) => {
      const matches = t.boxes.length === 0 ? new Array<number>(n).fill(MATCH_NEGATIVE) : matchAnchors(this.anchorCorners, t.boxes, { format: "xyxy", anchorFormat: "xyxy", positiveIou: this.rpnPositiveIou, negativeIou: this.rpnNegativeIou });
      const positives = matches.flatMap((m, i) => (m >= 0 ? [i] : []));
      const negatives = matches.flatMap((m, i) => (m === MATCH_NEGATIVE ? [i] : []));
      const pos = this.sample(positives, Math.floor(this.rpnBatchSizePerImage * this.rpnPositiveFraction));
      const neg = this.sample(negatives, this.rpnBatchSizePerImage - pos.length);
      numPositive.push(pos.length);
      numNegative.push(neg.length);
      for (const i of neg) sampled[b * n + i] = 1;
      if (pos.length === 0) return;
      const deltas = encodeBoxes(
        pos.map((i) => t.boxes[matches[i]]),
        pos.map((i) => this.anchors[i]),
        { format: "xyxy", variance: RPN_VARIANCE },
      );
      pos.forEach((i, k) => {
        sampled[b * n + i] = 1;
        positive[b * n + i] = 1;
        boxes.set(deltas[k], 4 * (b * n + i));
      });
    });
    return { sampled, positive, boxes, numPositive, numNegative };
  }

  /**
   * The proposals of a batch from the RPN's raw output values (see the module comment): decoded,
   * clipped, boxes smaller than 1 pixel dropped, the best `rpnPreNmsTopN`, NMS at
   * `rpnNmsThreshold`, at most `topN` kept per image.
   *
   * @param objectness `[n · numAnchors]` logits; `deltas` `[n · numAnchors · 4]`.
   */
  proposalsFromOutput(objectness: ArrayLike<number>, deltas: ArrayLike<number>, n: number, topN: number): Proposals[] {
    const count = this.numAnchors;
    const [h, w] = this.imageShape;
    const out: Proposals[] = [];
    for (let b = 0; b < n; b++) {
      const order = Array.from({ length: count }, (_, i) => i);
      order.sort((i, j) => objectness[b * count + j] - objectness[b * count + i] || i - j);
      const boxes: number[][] = [];
      const scores: number[] = [];
      for (const i of order.slice(0, this.rpnPreNmsTopN)) {
        const o = 4 * (b * count + i);
        const [x1, y1, x2, y2] = decodeOne(deltas, o, this.anchors[i], RPN_VARIANCE);
        const box = [clamp(x1, w), clamp(y1, h), clamp(x2, w), clamp(y2, h)];
        if (box[2] - box[0] < MIN_PROPOSAL_SIZE || box[3] - box[1] < MIN_PROPOSAL_SIZE) continue;
        boxes.push(box);
        scores.push(sigmoid(objectness[b * count + i]));
      }
      if (boxes.length === 0) {
        out.push({ boxes: [], scores: [] });
        continue;
      }
      const kept = nonMaxSuppression(boxes, scores, { format: "xyxy", iouThreshold: this.rpnNmsThreshold, maxDetections: topN });
      out.push({ boxes: kept.boxes, scores: kept.scores });
    }
    return out;
  }

  /**
   * The head's training RoIs of a batch (see {@link RoiTargets}): per image, the proposals plus
   * the ground-truth boxes, each labelled by its best ground-truth box (positive, of that box's
   * class, at IoU ≥ `boxPositiveIou`; background otherwise, or when the image has no boxes), then
   * a random sample of at most `boxPositiveFraction · boxBatchSizePerImage` positives and
   * background RoIs to fill `boxBatchSizePerImage`.
   *
   * @param proposals per image, pixel xyxy boxes (constants).
   * @param targets one `{ boxes, classes }` per image.
   */
  roiTargets(proposals: readonly (readonly (readonly number[])[])[], targets: readonly ImageTargets[]): RoiTargets[] {
    return targets.map((t, b) => {
      const candidates = [...proposals[b].map((box) => Array.from(box)), ...t.boxes.map((box) => Array.from(box))];
      const best = candidates.map((box) => {
        let iou = 0;
        let index = -1;
        t.boxes.forEach((gt, g) => {
          const v = cornerIou(box, gt);
          if (v > iou) [iou, index] = [v, g];
        });
        return { iou, index };
      });
      const positives = best.flatMap((m, i) => (m.index >= 0 && m.iou >= this.boxPositiveIou ? [i] : []));
      const negatives = best.flatMap((m, i) => (m.index >= 0 && m.iou >= this.boxPositiveIou ? [] : [i]));
      const pos = this.sample(positives, Math.floor(this.boxBatchSizePerImage * this.boxPositiveFraction));
      const neg = this.sample(negatives, this.boxBatchSizePerImage - pos.length);
      const deltas = pos.length === 0 ? [] : encodeBoxes(pos.map((i) => t.boxes[best[i].index]), pos.map((i) => candidates[i]), { format: "xyxy", anchorFormat: "xyxy", variance: HEAD_VARIANCE });
      return {
        boxes: [...pos, ...neg].map((i) => candidates[i]),
        labels: [...pos.map((i) => t.classes[best[i].index] + 1), ...neg.map(() => 0)],
        deltas: [...deltas, ...neg.map(() => [0, 0, 0, 0])],
      };
    });
  }

  /**
   * The loss of a batch: `{ loss, parts: { rpn_objectness_loss, rpn_box_loss, class_loss,
   * box_loss } }`, scalars (see the class comment). Reads the RPN's output once (`dataSync`) to
   * make the proposals, which then enter as constants. The anchor and RoI samples are random
   * (the detector's `seed`), whatever `training` says; `training` switches BatchNormalization.
   *
   * @throws ConvlabError for images of another size, targets that do not match them, class ids
   *   out of range, boxes without area.
   */
  computeLoss(images: tf.Tensor4D, targets: ImageTargets[], training: boolean): DetectorLoss {
    checkBatch(`${UNIT}.computeLoss`, this, images, targets);
    const n = images.shape[0];
    const m = this.numAnchors;
    const c = this.numClasses;
    return tf.tidy(() => {
      const [features, objectnessMap, deltaMap] = this.rpn.apply(images, { training }) as tf.Tensor[];
      const objectness = tf.reshape(objectnessMap, [n, m]);
      const deltas = tf.reshape(deltaMap, [n, m, 4]);

      // Stage 1 losses on the sampled anchors.
      const rpn = this.rpnTargets(targets);
      const sampledCount = Math.max(1, rpn.sampled.reduce((s, v) => s + v, 0));
      const sampled = tf.tensor2d(rpn.sampled, [n, m]);
      const positive = tf.tensor2d(rpn.positive, [n, m]);
      const rpnObjectness = tf.div(tf.sum(tf.mul(sampled, sigmoidCrossEntropy(objectness, positive))), sampledCount) as tf.Scalar;
      const rpnBoxError = tf.sum(smoothL1(tf.sub(deltas, tf.tensor3d(rpn.boxes, [n, m, 4]))), -1);
      const rpnBox = tf.div(tf.sum(tf.mul(positive, rpnBoxError)), sampledCount) as tf.Scalar;

      // Proposals (constants), then the sampled RoIs and their patches.
      const proposals = this.proposalsFromOutput(objectness.dataSync(), deltas.dataSync(), n, this.rpnPostNmsTopNTrain);
      const rois = this.roiTargets(
        proposals.map((p) => p.boxes),
        targets,
      );
      // Every image gets the same number of RoIs (RoIAlign's one batched matmul): short lists are
      // padded with the whole image, which the losses leave out.
      const perImage = Math.max(...rois.map((roi) => roi.boxes.length));
      const r = rois.reduce((s, roi) => s + roi.boxes.length, 0);
      let classLoss: tf.Scalar;
      let boxLoss: tf.Scalar;
      if (r === 0) {
        [classLoss, boxLoss] = [tf.scalar(0), tf.scalar(0)];
      } else {
        const [h, w] = this.imageShape;
        const padded = rois.map((roi) => padTo(roi.boxes, perImage, [0, 0, w, h]));
        const real = rois.flatMap((roi) => padTo(roi.labels.map(() => 1), perImage, 0));
        const labels = rois.flatMap((roi) => padTo(roi.labels, perImage, 0));
        const deltaTargets = rois.flatMap((roi) => padTo(roi.deltas, perImage, [0, 0, 0, 0]));
        const rows = n * perImage;
        const patches = roiAlign(features as tf.Tensor4D, padded, this.alignArgs());
        const [classLogits, boxDeltas] = this.head.apply(patches, { training }) as tf.Tensor[];
        const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), c + 1).toFloat();
        const crossEntropy = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(classLogits)), -1));
        classLoss = tf.div(tf.sum(tf.mul(tf.tensor1d(real), crossEntropy)), r) as tf.Scalar;
        // The deltas of each positive's own class: a one-hot mask over the C classes (background and padding have none).
        const ownClass = tf.slice(oneHot, [0, 1], [rows, c]);
        const error = tf.sum(smoothL1(tf.sub(tf.reshape(boxDeltas, [rows, c, 4]), tf.expandDims(tf.tensor2d(deltaTargets, [rows, 4]), 1))), -1);
        boxLoss = tf.div(tf.sum(tf.mul(ownClass, error)), r) as tf.Scalar;
      }
      const loss = tf.addN([rpnObjectness, rpnBox, classLoss, boxLoss]) as tf.Scalar;
      return { loss, parts: { rpn_objectness_loss: rpnObjectness, rpn_box_loss: rpnBox, class_loss: classLoss, box_loss: boxLoss } };
    });
  }

  /**
   * What the RPN proposes for each image, at detection settings (best `rpnPostNmsTopNTest`
   * after NMS): pixel xyxy boxes and objectness, best first. The first stage on its own, to look at.
   *
   * @throws ConvlabError for images of another shape.
   */
  propose(images: tf.Tensor4D): Proposals[] {
    checkImages(`${UNIT}.propose`, images, this.imageShape);
    const out: Proposals[] = [];
    this.chunks(images, (chunk) => {
      const [features, objectness, deltas] = this.rpn.predict(chunk) as tf.Tensor[];
      try {
        out.push(...this.proposalsFromOutput(objectness.dataSync(), deltas.dataSync(), chunk.shape[0], this.rpnPostNmsTopNTest));
      } finally {
        tf.dispose([features, objectness, deltas]);
      }
    });
    return out;
  }

  /**
   * The detections of a batch of images: proposals → RoIAlign → head → per class, the
   * proposal refined by that class's deltas and scored by the class's softmax probability; those
   * at or above `scoreThreshold` are clipped to the image and go through per-class NMS. Pixel xyxy.
   *
   * @param images `[n, height, width, 3]` in [0, 1] (not disposed); run 32 at a time.
   * @param args `scoreThreshold` (default 0.3), `iouThreshold` (0.45), `maxDetections` (100).
   * @throws ConvlabError for images of another shape or bad options.
   */
  detect(images: tf.Tensor4D, args?: DetectArgs): Detections[] {
    const unit = `${UNIT}.detect`;
    const options = readDetectArgs(unit, args);
    checkImages(unit, images, this.imageShape);
    const out: Detections[] = [];
    this.chunks(images, (chunk) => {
      const [features, objectness, deltas] = this.rpn.predict(chunk) as tf.Tensor[];
      let head: tf.Tensor[] = [];
      try {
        const proposals = this.proposalsFromOutput(objectness.dataSync(), deltas.dataSync(), chunk.shape[0], this.rpnPostNmsTopNTest).map((p) => p.boxes);
        // Padded to the same number per image (one batched RoIAlign); the padding is not decoded.
        const perImage = Math.max(...proposals.map((p) => p.length));
        if (perImage === 0) {
          out.push(...proposals.map(() => ({ boxes: [], scores: [], classes: [] })));
          return;
        }
        const [h, w] = this.imageShape;
        head = tf.tidy(() => this.head.apply(roiAlign(features as tf.Tensor4D, proposals.map((p) => padTo(p, perImage, [0, 0, w, h])), this.alignArgs()), { training: false }) as tf.Tensor[]);
        out.push(...this.decodeValues(proposals, head[0].dataSync(), head[1].dataSync(), (b, k) => b * perImage + k, options));
      } finally {
        tf.dispose([features, objectness, deltas, ...head]);
      }
    });
    return out;
  }

  /**
   * The detections described by the head's raw output for given proposals: the decoding step of
   * {@link TwoStageDetector.detect} on its own. For RoI r (image by image, in order) and class k:
   * score = softmax(classLogits[r])[k + 1], box = the proposal moved by `boxDeltas[r, 4k … 4k + 3]`
   * (variance 0.1, 0.1, 0.2, 0.2); candidates at or above `scoreThreshold`, clipped, per-class NMS.
   *
   * @param proposals per image, its proposals (pixel xyxy).
   * @param classLogits `[R, C + 1]`, R the number of proposals of all images (read, not disposed).
   * @param boxDeltas `[R, 4C]` (read, not disposed).
   * @throws ConvlabError for tensors of other shapes or bad options.
   */
  decodeOutput(proposals: readonly (readonly (readonly number[])[])[], classLogits: tf.Tensor, boxDeltas: tf.Tensor, args?: DetectArgs): Detections[] {
    const unit = `${UNIT}.decodeOutput`;
    const options = readDetectArgs(unit, args);
    const c = this.numClasses;
    if (!Array.isArray(proposals)) {
      throw fail(`${unit}: invalid proposals. Expected one array of pixel xyxy boxes per image, such as [[[8, 8, 30, 40]], []]. Received: proposals=${show(proposals)}.`);
    }
    const lists = proposals.map((p, b) => readBoxRows(unit, `proposals[${b}]`, p));
    const r = lists.reduce((s, p) => s + p.length, 0);
    if (!(classLogits instanceof tf.Tensor) || classLogits.rank !== 2 || classLogits.shape[0] !== r || classLogits.shape[1] !== c + 1) {
      throw fail(`${unit}: invalid classLogits. Expected shape [${r}, ${c + 1}] (one row per proposal, background first). Received: classLogits=${show(classLogits)}.`);
    }
    if (!(boxDeltas instanceof tf.Tensor) || boxDeltas.rank !== 2 || boxDeltas.shape[0] !== r || boxDeltas.shape[1] !== 4 * c) {
      throw fail(`${unit}: invalid boxDeltas. Expected shape [${r}, ${4 * c}] (4 deltas per class and proposal). Received: boxDeltas=${show(boxDeltas)}.`);
    }
    const offsets = lists.map((_, b) => lists.slice(0, b).reduce((s, p) => s + p.length, 0));
    return this.decodeValues(lists, classLogits.dataSync(), boxDeltas.dataSync(), (b, k) => offsets[b] + k, options);
  }

  /** {@link TwoStageDetector.decodeOutput} on values: proposal k of image b is head output row `row(b, k)`. */
  private decodeValues(
    proposals: readonly (readonly (readonly number[])[])[],
    logits: ArrayLike<number>,
    deltas: ArrayLike<number>,
    row: (b: number, k: number) => number,
    options: Required<DetectArgs>,
  ): Detections[] {
    const c = this.numClasses;
    const probabilities = new Float64Array(c + 1);
    return proposals.map((list, b) => {
      const candidates: Candidates = { boxes: [], scores: [], classes: [] };
      list.forEach(([x1, y1, x2, y2], k) => {
        const g = row(b, k);
        softmaxInto(logits, g * (c + 1), c + 1, probabilities);
        const centre = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
        for (let cls = 0; cls < c; cls++) {
          const score = probabilities[cls + 1];
          if (score < options.scoreThreshold) continue;
          candidates.boxes.push(decodeOne(deltas, g * 4 * c + 4 * cls, centre, HEAD_VARIANCE));
          candidates.scores.push(score);
          candidates.classes.push(cls);
        }
      });
      return finishDetections(candidates, this.imageShape, options);
    });
  }

  /**
   * Frees the weights: the model's layers (those of a backbone given as `backbone` too, which are
   * shared) and the unused stride-16 layers of a default backbone. The detector is unusable afterwards.
   */
  dispose(): void {
    this.model.dispose();
    for (const layer of this.unusedLayers) layer.dispose();
  }

  private alignArgs() {
    return { format: "xyxy" as const, imageShape: this.imageShape, outputSize: this.roiOutputSize, samplingRatio: this.roiSamplingRatio };
  }

  /** Runs `fn` on slices of at most DETECT_CHUNK images (each slice disposed after). */
  private chunks(images: tf.Tensor4D, fn: (chunk: tf.Tensor4D) => void): void {
    const n = images.shape[0];
    for (let start = 0; start < n; start += DETECT_CHUNK) {
      const size = Math.min(DETECT_CHUNK, n - start);
      const chunk = size === n ? images : images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      try {
        fn(chunk);
      } finally {
        if (chunk !== images) chunk.dispose();
      }
    }
  }

  /** A random subset of at most `k` of `items`, in random order. */
  private sample(items: number[], k: number): number[] {
    if (items.length <= k) return items;
    const copy = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.random.int(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, k);
  }
}

/**
 * Makes a {@link TwoStageDetector}: `twoStageDetector(args)` is `new TwoStageDetector(args)`.
 *
 * @example
 * ```ts
 * const fasterRcnn = twoStageDetector({ numClasses: 3, imageShape: [64, 64] });
 * ```
 * Keras equivalent: see {@link TwoStageDetector}.
 */
export function twoStageDetector(args: TwoStageDetectorArgs): TwoStageDetector {
  return new TwoStageDetector(args);
}

/**
 * Element-wise smooth L1 with threshold β: 0.5·d²/β where |d| < β, |d| − 0.5·β elsewhere, written
 * 0.5·q²/β + (|d| − q) with q = min(|d|, β) so that no comparison (no gradient in tfjs) is on the
 * gradient's path. Inside tf.tidy.
 */
function smoothL1(d: tf.Tensor, beta = SMOOTH_L1_BETA): tf.Tensor {
  const a = tf.abs(d);
  const q = tf.minimum(a, beta);
  return tf.add(tf.mul(0.5 / beta, tf.square(q)), tf.sub(a, q));
}

/** One box, pixel xyxy, from the deltas at `values[o … o + 3]` against a centerXywh reference (tw, th clipped). */
function decodeOne(values: ArrayLike<number>, o: number, [xa, ya, wa, ha]: readonly number[], variance: readonly number[]): number[] {
  const cx = values[o] * variance[0] * wa + xa;
  const cy = values[o + 1] * variance[1] * ha + ya;
  const w = wa * Math.exp(Math.min(values[o + 2] * variance[2], MAX_LOG_SCALE));
  const h = ha * Math.exp(Math.min(values[o + 3] * variance[3], MAX_LOG_SCALE));
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/** `items` followed by copies of `filler` up to `length`. */
function padTo<T>(items: readonly T[], length: number, filler: T): T[] {
  return [...items, ...new Array<T>(length - items.length).fill(filler)];
}

function clamp(v: number, high: number): number {
  return Math.min(high, Math.max(0, v));
}

function positiveList(name: string, value: unknown, example: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "number" && Number.isFinite(v) && v > 0)) {
    throw fail(`${UNIT}: invalid ${name}. Expected a non-empty array of positive numbers such as ${example}. Received: ${name}=${show(value)}.`);
  }
  return value as number[];
}
