/**
 * `GridDetector`: a one-stage detector in the style of YOLO (v2/v3 ideas at lesson scale).
 *
 * The image is cut into the cells of the backbone's stride-8 map (8 × 8 cells of 8 × 8 pixels for
 * a 64 × 64 image). Every cell holds A anchor shapes (width × height priors, YOLOv2's "dimension
 * clusters"); for each cell and anchor a small head predicts K = 5 + C numbers:
 *
 *   [objectness logit, tx, ty, tw, th, class logit 0, …, class logit C − 1]
 *
 * and the box they describe, for the cell in row i, column j and an anchor of aw × ah pixels
 * (strides sx = W / gw, sy = H / gh), is YOLOv2's parameterisation:
 *
 *   cx = (j + σ(tx)) · sx,   cy = (i + σ(ty)) · sy,   w = aw · e^tw,   h = ah · e^th
 *
 * σ keeps the centre inside its cell, which is what made YOLOv2's training stable; the size is a
 * log-scale of the anchor. A detection's score is P(object) · P(class | object) =
 * σ(objectness) · softmax(class logits).
 *
 * Training targets ("responsibility"): a ground-truth box is learnt by the cell holding its
 * centre, and in that cell by the anchor whose shape fits it best (the IoU of the two shapes put
 * on the same centre). See {@link GridDetector.assignTargets} and {@link GridDetector.computeLoss}.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import type { DetectArgs, Detections, DetectorLoss, ImageTargets } from "./detector";
import { cornerIou } from "./iou";
import {
  checkBatch,
  expectDetectorImageShape,
  expectWeight,
  featureMap,
  finishDetections,
  OneStageDetector,
  readDetectArgs,
  resolveBackbone,
  sigmoid,
  sigmoidCrossEntropy,
  softmaxInto,
} from "./one_stage";
import type { Candidates } from "./one_stage";

/**
 * The default anchor shapes of {@link GridDetector}, `[width, height]` as fractions of the
 * smaller image side (pixels = fraction · min(H, W)). They fit the default synthetic scenes, whose
 * objects are 15–40 % of the side: YOLOv2's "dimension clusters", k-means with k = 3 on the box
 * shapes of 2,000 default scenes with 1 − IoU(shape, centre) as the distance, rounded. The mean
 * IoU of a box with its best anchor is 0.85 (one anchor: 0.63, five: 0.90).
 */
export const DEFAULT_GRID_ANCHORS: readonly (readonly [number, number])[] = Object.freeze([
  [0.19, 0.18],
  [0.27, 0.27],
  [0.36, 0.36],
] as [number, number][]);

/** Options of {@link GridDetector}. */
export interface GridDetectorArgs {
  /** Number of object classes, an integer ≥ 1 (no background class: objectness says "no object"). Required. */
  numClasses: number;
  /** `[height, width]` of the images, multiples of 16. Required. */
  imageShape: [number, number];
  /**
   * The convolutional base: a model taking `[null, height, width, 3]` with an output of stride 8
   * (`[null, height/8, width/8, channels]`). Default `detectionBackbone({ imageShape })`. Its
   * layers are shared with the detector's model, not copied
   * (`detector.model.dispose()` frees them too).
   */
  backbone?: tf.LayersModel;
  /** Anchor shapes `[width, height]` in pixels, at least one. Default {@link DEFAULT_GRID_ANCHORS} scaled to the image. */
  anchors?: readonly (readonly number[])[];
  /** Filters of the head's 3 × 3 convolution, an integer ≥ 1. Default 64. */
  headFilters?: number;
  /** Weight of the box loss, ≥ 0. Default 5 (YOLOv1's λ_coord). */
  boxWeight?: number;
  /** Weight of the objectness loss of responsible anchors, ≥ 0. Default 1. */
  objectWeight?: number;
  /** Weight of the objectness loss of the other (not ignored) anchors, ≥ 0. Default 1. */
  noObjectWeight?: number;
  /** Weight of the class loss, ≥ 0. Default 1. */
  classWeight?: number;
  /** A non-responsible anchor whose predicted box overlaps a ground-truth box above this IoU is left out of the no-object loss, in [0, 1]. Default 0.5 (YOLOv3). */
  ignoreIou?: number;
}

/** Where one ground-truth box is learnt: the cell (row, column) of its centre and the anchor. */
export interface GridAssignment {
  row: number;
  column: number;
  anchor: number;
}

/**
 * The training targets of a batch, from {@link GridDetector.assignTargets}. The dense arrays have
 * one entry per slot (image b, row i, column j, anchor a) at `((b · gh + i) · gw + j) · A + a`.
 */
export interface GridTargets {
  /** Per image, per ground-truth box, its slot; `null` when every anchor of its cell was taken by other boxes. */
  assignments: (GridAssignment | null)[][];
  /** 1 at responsible slots, else 0. */
  object: Float32Array;
  /** 1 at slots left out of the no-object loss (not responsible, predicted box IoU > ignoreIou with a ground-truth box), else 0. */
  ignore: Float32Array;
  /** Box targets, 4 per slot: σ(tx)'s target (centre x offset in the cell, in [0, 1]), σ(ty)'s, tw's = log(w / aw), th's = log(h / ah); 0 where not responsible. */
  box: Float32Array;
  /** Class id at responsible slots, else −1. */
  classes: Int32Array;
}

const UNIT = "GridDetector";
const KEYS = ["numClasses", "imageShape", "backbone", "anchors", "headFilters", "boxWeight", "objectWeight", "noObjectWeight", "classWeight", "ignoreIou"] as const;
/** Prior probability of an object in a slot at initialisation: the objectness bias starts at log(p / (1 − p)) (RetinaNet's prior). */
const OBJECT_PRIOR = 0.01;
/** tw, th are clipped to this before e^t when decoding, so that an untrained head gives finite boxes. */
const MAX_LOG_SCALE = 8;

/**
 * A YOLO-style one-stage detector on the stride-8 map of a backbone (see the module comment for
 * the box parameterisation).
 *
 * Model: backbone → stride-8 map `[gh, gw, c]` → Conv2D 3 × 3 (`headFilters`, no bias) →
 * BatchNormalization → LeakyReLU(0.1) (Darknet's block) → Conv2D 1 × 1 with A · (5 + C) filters,
 * output `[batch, gh, gw, A · (5 + C)]`, slot a's numbers at channels a·K … a·K + K − 1.
 *
 * Loss of a batch ({@link GridDetector.computeLoss}), each part summed over the slots of an image
 * and averaged over the images (YOLO's per-image sums):
 * - `objectness_loss` = objectWeight · Σ_responsible BCE(obj, 1) + noObjectWeight · Σ_negative
 *   BCE(obj, 0). Negatives are the slots neither responsible nor ignored. The two kinds are
 *   weighted separately because negatives outnumber objects about 50 : 1 on an 8 × 8 × 3 grid;
 *   instead of YOLOv1's λ_noobj = 0.5 the objectness bias starts at the prior P(object) = 0.01, so
 *   the many negatives begin with a small loss and do not drown the few objects (RetinaNet's
 *   initialisation), and both weights can stay 1.
 * - `box_loss` = boxWeight · Σ_responsible [(σ(tx) − tx*)² + (σ(ty) − ty*)² + (tw − tw*)² + (th − th*)²]:
 *   squared error on the offsets (YOLOv2/v3), not on pixels, so small and large boxes weigh alike.
 * - `class_loss` = classWeight · Σ_responsible −log softmax(class logits)[class]: one class per
 *   object, as the synthetic scenes have (YOLOv3 uses independent sigmoids for overlapping labels).
 * - `loss` = the sum of the three (the parts are reported weighted).
 *
 * Ignored slots (YOLOv3): a slot that is not responsible for any box but whose predicted box
 * already overlaps a ground-truth box with IoU > `ignoreIou` is a good box in the wrong slot;
 * pushing its objectness to 0 would fight the responsible slot's lesson next door, so it is left
 * out of the no-object loss (and of the other losses, which count only responsible slots).
 *
 * @throws ConvlabError for a bad option: `numClasses` not an integer ≥ 1, an `imageShape` that is
 *   not multiples of 16, a backbone without a stride-8 output or with another input size, anchors
 *   that are not positive `[width, height]` pairs, negative loss weights, `ignoreIou` outside
 *   [0, 1], an unknown option (suggesting the nearest name).
 * @example
 * ```ts
 * const detector = new GridDetector({ numClasses: 3, imageShape: [64, 64] });
 * summary(detector.model);
 * // on 2,000 synthetic 64 × 64 scenes this reaches mAP@0.5 ≈ 0.97 on held-out scenes
 * await trainDetector(detector, { images, targets }, { epochs: 4, batchSize: 8, optimizer: Adam({ learningRate: 2e-3 }) });
 * const [found] = detector.detect(images.slice(0, 1), { scoreThreshold: 0.3 });
 * ```
 * Keras equivalent: none in Keras; KerasCV's `YOLOV8Detector` is the modern descendant
 * (anchor-free, CIoU + distribution focal loss, task-aligned assignment). This class follows
 * YOLOv3's recipe on a single scale: anchors, responsibility, ignore threshold, objectness.
 */
export class GridDetector extends OneStageDetector {
  static readonly className = "GridDetector";
  protected readonly unit = UNIT;
  readonly name = "yolo";
  readonly model: tf.LayersModel;
  readonly numClasses: number;
  readonly imageShape: [number, number];
  /** Anchor shapes `[width, height]` in pixels. */
  readonly anchors: readonly (readonly [number, number])[];
  /** `[gh, gw]`: the cells of the stride-8 map. */
  readonly gridShape: [number, number];
  readonly boxWeight: number;
  readonly objectWeight: number;
  readonly noObjectWeight: number;
  readonly classWeight: number;
  readonly ignoreIou: number;

  constructor(args: GridDetectorArgs) {
    super();
    const opts = expectOptions(UNIT, args, KEYS, "{ numClasses: 3, imageShape: [64, 64] }");
    this.numClasses = expectNumber(UNIT, "numClasses", opts.numClasses, { min: 1, integer: true });
    this.imageShape = expectDetectorImageShape(UNIT, opts.imageShape);
    const side = Math.min(...this.imageShape);
    this.anchors = checkAnchors(opts.anchors ?? DEFAULT_GRID_ANCHORS.map(([w, h]) => [w * side, h * side]));
    const headFilters = expectNumber(UNIT, "headFilters", opts.headFilters ?? 64, { min: 1, integer: true });
    this.boxWeight = expectWeight(UNIT, "boxWeight", opts.boxWeight, 5);
    this.objectWeight = expectWeight(UNIT, "objectWeight", opts.objectWeight, 1);
    this.noObjectWeight = expectWeight(UNIT, "noObjectWeight", opts.noObjectWeight, 1);
    this.classWeight = expectWeight(UNIT, "classWeight", opts.classWeight, 1);
    this.ignoreIou = expectNumber(UNIT, "ignoreIou", opts.ignoreIou ?? 0.5, { min: 0, max: 1 });
    const backbone = resolveBackbone(UNIT, opts.backbone, this.imageShape);
    const features = featureMap(UNIT, backbone, this.imageShape, 8);
    this.gridShape = [features.shape[1] as number, features.shape[2] as number];

    const a = this.anchors.length;
    const k = 5 + this.numClasses;
    let x = tf.layers.conv2d({ filters: headFilters, kernelSize: 3, padding: "same", useBias: false, name: "yolo_head_conv" }).apply(features) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: "yolo_head_bn" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.leakyReLU({ alpha: 0.1, name: "yolo_head_leaky" }).apply(x) as tf.SymbolicTensor;
    const outputLayer = tf.layers.conv2d({ filters: a * k, kernelSize: 1, name: "yolo_head_output" });
    const output = outputLayer.apply(x) as tf.SymbolicTensor;
    this.model = tf.model({ inputs: backbone.inputs, outputs: output, name: "grid_detector" });
    if (opts.backbone === undefined) {
      // The default backbone's stride-16 blocks are not part of this model: free their weights
      // now, or they would outlive `model.dispose()`.
      const used = new Set(this.model.layers);
      for (const layer of backbone.layers) if (!used.has(layer)) layer.dispose();
    }

    // Objectness bias at the prior (see the class comment); class and box biases stay 0.
    tf.tidy(() => {
      const [kernel, bias] = outputLayer.getWeights();
      const values = bias.arraySync() as number[];
      for (let s = 0; s < a; s++) values[s * k] = Math.log(OBJECT_PRIOR / (1 - OBJECT_PRIOR));
      outputLayer.setWeights([kernel, tf.tensor1d(values)]);
    });
  }

  /** Numbers per slot: objectness, tx, ty, tw, th and the class logits. */
  private get slotSize(): number {
    return 5 + this.numClasses;
  }

  /**
   * The targets of a batch (see {@link GridTargets}):
   *
   * 1. Each ground-truth box goes to the cell holding its centre: column j = ⌊cx / sx⌋,
   *    row i = ⌊cy / sy⌋ (clamped to the grid), and there to the anchor of the best shape IoU,
   *    IoU(w × h, aw × ah) = min(w, aw)·min(h, ah) / (w·h + aw·ah − min(w, aw)·min(h, ah)), both
   *    shapes on the same centre. Targets: tx* = cx / sx − j, ty* = cy / sy − i, tw* = log(w / aw),
   *    th* = log(h / ah).
   * 2. When two boxes want the same slot, the box assigned second takes the next best free anchor of
   *    the cell (boxes are taken in their given order); with every anchor of the cell taken it is
   *    left out (its assignment is `null`). YOLOv3 lets the last box overwrite the first.
   * 3. With `predictions` (the raw head output of the batch, as values), the slots that are not
   *    responsible but whose predicted box has an IoU above `ignoreIou` with a ground-truth box of
   *    their image are marked ignored.
   *
   * @param targets one `{ boxes (pixel xyxy), classes }` per image.
   * @param predictions optional raw output values `[B · gh · gw · A · (5 + C)]` (the model's output read with `dataSync`).
   * @example
   * ```ts
   * const t = detector.assignTargets([{ boxes: [[10, 20, 30, 36]], classes: [1] }]);
   * t.assignments[0][0]   // { row: 3, column: 2, anchor: 0 } on 8-pixel cells
   * ```
   */
  assignTargets(targets: readonly ImageTargets[], predictions?: ArrayLike<number>): GridTargets {
    const [gh, gw] = this.gridShape;
    const [sy, sx] = [this.imageShape[0] / gh, this.imageShape[1] / gw];
    const a = this.anchors.length;
    const slots = targets.length * gh * gw * a;
    const object = new Float32Array(slots);
    const ignore = new Float32Array(slots);
    const box = new Float32Array(slots * 4);
    const classes = new Int32Array(slots).fill(-1);
    const assignments = targets.map((t, b) =>
      t.boxes.map((gt, g): GridAssignment | null => {
        const [x1, y1, x2, y2] = gt;
        const [cx, cy, w, h] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
        const column = Math.min(gw - 1, Math.max(0, Math.floor(cx / sx)));
        const row = Math.min(gh - 1, Math.max(0, Math.floor(cy / sy)));
        const order = this.anchors.map((_, k) => k).sort((p, q) => shapeIou(w, h, this.anchors[q]) - shapeIou(w, h, this.anchors[p]) || p - q);
        const first = ((b * gh + row) * gw + column) * a;
        const anchor = order.find((k) => object[first + k] === 0);
        if (anchor === undefined) return null;
        const s = first + anchor;
        object[s] = 1;
        classes[s] = t.classes[g];
        box.set([cx / sx - column, cy / sy - row, Math.log(w / this.anchors[anchor][0]), Math.log(h / this.anchors[anchor][1])], 4 * s);
        return { row, column, anchor };
      }),
    );
    if (predictions !== undefined) {
      const predicted = this.slotBoxes(predictions, targets.length);
      targets.forEach((t, b) => {
        if (t.boxes.length === 0) return;
        for (let s = b * gh * gw * a; s < (b + 1) * gh * gw * a; s++) {
          if (object[s] === 1) continue;
          const p = Array.from(predicted.subarray(4 * s, 4 * s + 4));
          if (t.boxes.some((gt) => cornerIou(p, gt) > this.ignoreIou)) ignore[s] = 1;
        }
      });
    }
    return { assignments, object, ignore, box, classes };
  }

  /**
   * The loss of a batch: `{ loss, parts: { box_loss, objectness_loss, class_loss } }`, scalars
   * (see the class comment for the formulas). Reads the head's output once (`dataSync`) to find
   * the ignored slots: a mask made from values carries no gradient, which is what the ignore rule
   * needs (tfjs has no gradient for comparisons).
   *
   * @throws ConvlabError for images of another size, targets that do not match the images, class
   *   ids out of range, boxes without area.
   */
  override computeLoss(images: tf.Tensor4D, targets: ImageTargets[], training: boolean): DetectorLoss {
    checkBatch(`${UNIT}.computeLoss`, this, images, targets);
    const [gh, gw] = this.gridShape;
    const n = images.shape[0];
    const a = this.anchors.length;
    const k = this.slotSize;
    const c = this.numClasses;
    return tf.tidy(() => {
      const output = this.model.apply(images, { training }) as tf.Tensor;
      const t = this.assignTargets(targets, output.dataSync());
      // Slot-major [S, K] to field-major [K, S] (S = n · gh · gw · A): the fields are then
      // contiguous rows, which tfjs splits by copying blocks, where a split along the last axis
      // runs a per-element loop about 20 times slower (gradients included).
      const s = n * gh * gw * a;
      const fields = tf.transpose(tf.reshape(output, [s, k]));
      const [obj, txy, twh, classLogits] = tf.split(fields, [1, 2, 2, c], 0);
      const object = tf.tensor2d(t.object, [1, s]);
      const negative = tf.tensor2d(t.object.map((o, i) => (o === 1 || t.ignore[i] === 1 ? 0 : 1)), [1, s]);
      const boxTarget = tf.transpose(tf.tensor2d(t.box, [s, 4]));
      const [centreTarget, sizeTarget] = tf.split(boxTarget, 2, 0);
      const classTarget = tf.transpose(tf.oneHot(tf.tensor1d(Int32Array.from(t.classes, (v) => Math.max(v, 0)), "int32"), c).toFloat());

      const objectTerm = tf.mul(this.objectWeight, tf.sum(tf.mul(object, sigmoidCrossEntropy(obj, 1))));
      const noObjectTerm = tf.mul(this.noObjectWeight, tf.sum(tf.mul(negative, sigmoidCrossEntropy(obj, 0))));
      const objectness = tf.div(tf.add(objectTerm, noObjectTerm), n) as tf.Scalar;

      const boxError = tf.add(tf.sum(tf.square(tf.sub(tf.sigmoid(txy), centreTarget)), 0, true), tf.sum(tf.square(tf.sub(twh, sizeTarget)), 0, true));
      const boxLoss = tf.div(tf.mul(this.boxWeight, tf.sum(tf.mul(object, boxError))), n) as tf.Scalar;

      // log softmax over the class rows: x − log Σ e^x (tf.logSoftmax works on the last axis only)
      const logProbabilities = tf.sub(classLogits, tf.logSumExp(classLogits, 0, true));
      const crossEntropy = tf.neg(tf.sum(tf.mul(classTarget, logProbabilities), 0, true));
      const classLoss = tf.div(tf.mul(this.classWeight, tf.sum(tf.mul(object, crossEntropy))), n) as tf.Scalar;

      const loss = tf.addN([boxLoss, objectness, classLoss]) as tf.Scalar;
      return { loss, parts: { box_loss: boxLoss, objectness_loss: objectness, class_loss: classLoss } };
    });
  }

  /**
   * The detections described by a raw head output `[n, gh, gw, A · (5 + C)]` (what `model.predict`
   * returns; read, not disposed): the decoding step of {@link GridDetector.detect} on its own.
   *
   * @throws ConvlabError for a tensor of another shape or bad options.
   */
  override decodeOutput(raw: tf.Tensor, args?: DetectArgs): Detections[] {
    const unit = `${UNIT}.decodeOutput`;
    const options = readDetectArgs(unit, args);
    const [gh, gw] = this.gridShape;
    const depth = this.anchors.length * this.slotSize;
    if (!(raw instanceof tf.Tensor) || raw.rank !== 4 || raw.shape[1] !== gh || raw.shape[2] !== gw || raw.shape[3] !== depth) {
      throw fail(`${unit}: invalid raw. Expected the model's output, shape [n, ${gh}, ${gw}, ${depth}]. Received: raw=${show(raw)}.`);
    }
    const n = raw.shape[0];
    const values = raw.dataSync();
    const boxes = this.slotBoxes(values, n);
    const c = this.numClasses;
    const k = this.slotSize;
    const perImage = gh * gw * this.anchors.length;
    const probabilities = new Float64Array(c);
    const result: Detections[] = [];
    for (let b = 0; b < n; b++) {
      const candidates: Candidates = { boxes: [], scores: [], classes: [] };
      for (let s = b * perImage; s < (b + 1) * perImage; s++) {
        const objectness = sigmoid(values[s * k]);
        if (objectness < options.scoreThreshold) continue; // every class score is below it too
        softmaxInto(values, s * k + 5, c, probabilities);
        for (let cls = 0; cls < c; cls++) {
          const score = objectness * probabilities[cls];
          if (score < options.scoreThreshold) continue;
          candidates.boxes.push(Array.from(boxes.subarray(4 * s, 4 * s + 4)));
          candidates.scores.push(score);
          candidates.classes.push(cls);
        }
      }
      result.push(finishDetections(candidates, this.imageShape, options));
    }
    return result;
  }

  /** The pixel xyxy box of every slot of `n` images from raw output values (not clipped). */
  private slotBoxes(values: ArrayLike<number>, n: number): Float32Array {
    const [gh, gw] = this.gridShape;
    const [sy, sx] = [this.imageShape[0] / gh, this.imageShape[1] / gw];
    const a = this.anchors.length;
    const k = this.slotSize;
    const out = new Float32Array(n * gh * gw * a * 4);
    let s = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < gh; i++) {
        for (let j = 0; j < gw; j++) {
          for (let anchor = 0; anchor < a; anchor++, s++) {
            const o = s * k;
            const cx = (j + sigmoid(values[o + 1])) * sx;
            const cy = (i + sigmoid(values[o + 2])) * sy;
            const w = this.anchors[anchor][0] * Math.exp(Math.min(values[o + 3], MAX_LOG_SCALE));
            const h = this.anchors[anchor][1] * Math.exp(Math.min(values[o + 4], MAX_LOG_SCALE));
            out.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 4 * s);
          }
        }
      }
    }
    return out;
  }
}

/**
 * Makes a {@link GridDetector}: `gridDetector(args)` is `new GridDetector(args)`.
 *
 * @example
 * ```ts
 * const yolo = gridDetector({ numClasses: 3, imageShape: [64, 64] });
 * ```
 * Keras equivalent: see {@link GridDetector}.
 */
export function gridDetector(args: GridDetectorArgs): GridDetector {
  return new GridDetector(args);
}

/** IoU of a w × h box and an anchor shape put on the same centre. */
function shapeIou(w: number, h: number, anchor: readonly number[]): number {
  const inter = Math.min(w, anchor[0]) * Math.min(h, anchor[1]);
  return inter / (w * h + anchor[0] * anchor[1] - inter);
}

function checkAnchors(value: unknown): [number, number][] {
  const ok = Array.isArray(value) && value.length > 0 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v) && v > 0));
  if (!ok) {
    throw fail(`${UNIT}: invalid anchors. Expected a non-empty array of [width, height] pairs in pixels, all > 0, such as [[12, 12], [24, 16]]. Received: anchors=${show(value)}.`);
  }
  return (value as number[][]).map((p) => [p[0], p[1]]);
}
