/**
 * Object-detection evaluation: average precision per class and its mean (mAP), the Pascal VOC
 * way ({@link averagePrecision}) and the COCO way ({@link cocoMeanAveragePrecision}), plus a text
 * table of the result ({@link averagePrecisionTable}).
 *
 * Boxes are pixel `xyxy`: `[x1, y1, x2, y2]` with pixel column i spanning [i, i + 1), so a box
 * covering columns 0..9 has x1 = 0, x2 = 10. IoU is the package's (`cornerIou` of ./iou, what
 * `iou(a, b, { format: "xyxy" })` computes): continuous, without VOC's "+1":
 *
 *   inter = max(0, min(ax2, bx2) − max(ax1, bx1)) · max(0, min(ay2, by2) − max(ay1, by1))
 *   IoU   = inter / (area(a) + area(b) − inter),   area = (x2 − x1) · (y2 − y1)   (0 when the union is 0)
 *
 * as COCO computes it. The VOC devkit adds 1 to every width and height because its annotations
 * are 1-based inclusive pixel indices (xmin = 1, xmax = 10 is ten columns); written as pixel xyxy
 * (`[xmin − 1, ymin − 1, xmax, ymax]`) the same boxes give exactly VOC's IoU with this formula.
 */
import { expectNumber, expectOneOf, expectOptions, fail, show } from "@convlab/engine";
import type { Detections } from "./detector";
import { cornerIou } from "./iou";

/**
 * The annotated objects of one image: a detector's `ImageTargets`, plus optional difficult flags.
 * (Detections are the detectors' {@link Detections}: `{ boxes, scores, classes }`, pixel xyxy.)
 */
export interface GroundTruth {
  /** One `[x1, y1, x2, y2]` per object, pixel xyxy (x1 ≤ x2, y1 ≤ y2). */
  boxes: ReadonlyArray<readonly number[]>;
  /** The class id of each box, an integer in [0, numClasses). */
  classes: readonly number[];
  /**
   * Objects marked difficult (VOC's `<difficult>1</difficult>`): never a miss, and a detection of
   * one is neither a true nor a false positive. Default: none.
   */
  difficult?: readonly boolean[];
}

/** How {@link averagePrecision} turns a precision-recall curve into one number. */
export type Interpolation = "all" | "11point";

/** Options of {@link averagePrecision}. */
export interface AveragePrecisionArgs {
  /** Number of classes; class ids are 0..numClasses − 1. Required. */
  numClasses: number;
  /** Least IoU of a true positive, in (0, 1]; default 0.5. */
  iouThreshold?: number;
  /** `"all"` (VOC2010+, default) or `"11point"` (VOC2007). */
  interpolation?: Interpolation;
  /** A name per class for the result and its table; default the ids as text. */
  classNames?: readonly string[];
}

/** One class of an {@link AveragePrecisionResult}. */
export interface ClassAveragePrecision {
  /** The class id, 0..numClasses − 1. */
  classId: number;
  /** `classNames[classId]`, or the id as text. */
  name: string;
  /** Average precision in [0, 1]; NaN when the class has no (non-difficult) ground truth. */
  ap: number;
  /** Objects of the class that count (difficult ones excluded). */
  numGroundTruth: number;
  /** Detections of the class, all of them (those ignored on difficult objects included). */
  numDetections: number;
  /**
   * Precision after each detection that counts (true or false positive), in score order;
   * empty when the class has no ground truth (recall is undefined then).
   */
  precision: number[];
  /** Recall after each detection that counts, beside {@link ClassAveragePrecision.precision}. */
  recall: number[];
}

/** What {@link averagePrecision} returns. */
export interface AveragePrecisionResult {
  /** Mean of `ap` over the classes with ground truth; NaN when no class has any. */
  map: number;
  /** One entry per class id, 0..numClasses − 1. */
  perClass: ClassAveragePrecision[];
  /** The IoU threshold used. */
  iouThreshold: number;
  /** The interpolation used. */
  interpolation: Interpolation;
}

/** Options of {@link cocoMeanAveragePrecision}. */
export interface CocoMeanAveragePrecisionArgs {
  /** Number of classes; class ids are 0..numClasses − 1. Required. */
  numClasses: number;
  /** IoU thresholds in (0, 1]; default COCO's 0.50:0.05:0.95 ({@link COCO_IOU_THRESHOLDS}). */
  iouThresholds?: readonly number[];
  /** Detections kept per image and class, the highest scores; default 100. */
  maxDetections?: number;
  /** A name per class for the result and its table; default the ids as text. */
  classNames?: readonly string[];
}

/** One class of a {@link CocoMeanAveragePrecisionResult}. */
export interface CocoClassAveragePrecision {
  /** The class id, 0..numClasses − 1. */
  classId: number;
  /** `classNames[classId]`, or the id as text. */
  name: string;
  /** 101-point AP averaged over the IoU thresholds; NaN when the class has no (non-difficult) ground truth. */
  ap: number;
  /** AP at IoU 0.5 (NaN when 0.5 is not among the thresholds). */
  ap50: number;
  /** AP at IoU 0.75 (NaN when 0.75 is not among the thresholds). */
  ap75: number;
  /** AP at each IoU threshold, in the order of `iouThresholds`. */
  apPerThreshold: number[];
  /** Objects of the class that count (difficult ones excluded). */
  numGroundTruth: number;
  /** Detections of the class evaluated (at most `maxDetections` per image). */
  numDetections: number;
}

/** What {@link cocoMeanAveragePrecision} returns. */
export interface CocoMeanAveragePrecisionResult {
  /** COCO's "AP": mean over classes with ground truth and over IoU thresholds; NaN when no class has ground truth. */
  map: number;
  /** COCO's "AP50": the mean over classes at IoU 0.5 (NaN when 0.5 is not a threshold). */
  map50: number;
  /** COCO's "AP75": the mean over classes at IoU 0.75 (NaN when 0.75 is not a threshold). */
  map75: number;
  /** One entry per class id, 0..numClasses − 1. */
  perClass: CocoClassAveragePrecision[];
  /** The mean over classes at each IoU threshold. */
  perThreshold: Array<{ iouThreshold: number; map: number }>;
  /** The IoU thresholds used. */
  iouThresholds: number[];
  /** The most detections per image and class that were evaluated. */
  maxDetections: number;
}

/**
 * COCO's IoU thresholds 0.50:0.05:0.95, bit for bit as pycocotools' `np.linspace(.5, .95, 10)`
 * makes them (0.9 comes out as 0.8999999999999999; it matters only for an IoU within 1e-16 of 0.9).
 */
export const COCO_IOU_THRESHOLDS: readonly number[] = Object.freeze([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);

/**
 * COCO's 101 recall thresholds 0:0.01:1, bit for bit as `np.linspace(0, 1, 101)`: i · 0.01, then
 * exactly 1. This matters: 57 · 0.01 is 0.5700000000000001, so a recall of exactly 57/100 does not
 * reach the threshold "0.57" in pycocotools, and neither here.
 */
export const COCO_RECALL_THRESHOLDS: readonly number[] = Object.freeze(Array.from({ length: 101 }, (_, i) => (i === 100 ? 1 : i * 0.01)));

// ---------------------------------------------------------------------------------------------
// Input checks (at the entry, before any matching)

interface CheckedImage {
  gtBoxes: ReadonlyArray<readonly number[]>;
  gtClasses: readonly number[];
  gtDifficult: readonly boolean[];
  dtBoxes: ReadonlyArray<readonly number[]>;
  dtScores: readonly number[];
  dtClasses: readonly number[];
}

/** A value as messages print it, never a whole long array. */
function brief(value: unknown): string {
  if (Array.isArray(value) && value.length > 8) return `an array of ${value.length} items`;
  return show(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkBoxes(unit: string, at: string, value: unknown): ReadonlyArray<readonly number[]> {
  if (!Array.isArray(value)) throw fail(`${unit}: invalid ${at}. Expected an array of [x1, y1, x2, y2] boxes (pixel xyxy). Received: ${at}=${brief(value)}.`);
  value.forEach((box: unknown, j) => {
    const ok =
      Array.isArray(box) &&
      box.length === 4 &&
      box.every((v) => typeof v === "number" && Number.isFinite(v)) &&
      (box[0] as number) <= (box[2] as number) &&
      (box[1] as number) <= (box[3] as number);
    if (!ok) {
      throw fail(`${unit}: invalid ${at}[${j}]. Expected [x1, y1, x2, y2], four finite numbers with x1 <= x2 and y1 <= y2 (pixel xyxy). Received: ${at}[${j}]=${brief(box)}.`);
    }
  });
  return value as number[][];
}

function checkClasses(unit: string, at: string, value: unknown, n: number, numClasses: number): readonly number[] {
  if (!Array.isArray(value) || value.length !== n) {
    throw fail(`${unit}: invalid ${at}. Expected an array of length ${n}, one class id per box. Received: ${at}=${brief(value)}.`);
  }
  value.forEach((c: unknown, j) => {
    if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw fail(`${unit}: invalid ${at}[${j}]. Expected an integer in [0, ${numClasses}) (numClasses=${numClasses}). Received: ${at}[${j}]=${show(c)}.`);
    }
  });
  return value as number[];
}

function checkImages(unit: string, detections: unknown, groundTruth: unknown, numClasses: number): CheckedImage[] {
  if (!Array.isArray(groundTruth)) {
    throw fail(`${unit}: invalid groundTruth. Expected an array with one { boxes, classes, difficult? } per image. Received: groundTruth=${brief(groundTruth)}.`);
  }
  if (!Array.isArray(detections)) {
    throw fail(`${unit}: invalid detections. Expected an array with one { boxes, scores, classes } per image. Received: detections=${brief(detections)}.`);
  }
  if (detections.length !== groundTruth.length) {
    throw fail(`${unit}: invalid detections. Expected one entry per image of groundTruth (${groundTruth.length}), an empty { boxes: [], scores: [], classes: [] } for an image without detections. Received: detections.length=${detections.length}.`);
  }
  return groundTruth.map((gt: unknown, i): CheckedImage => {
    if (!isRecord(gt)) throw fail(`${unit}: invalid groundTruth[${i}]. Expected { boxes, classes, difficult? }. Received: groundTruth[${i}]=${brief(gt)}.`);
    const gtBoxes = checkBoxes(unit, `groundTruth[${i}].boxes`, gt.boxes);
    const gtClasses = checkClasses(unit, `groundTruth[${i}].classes`, gt.classes, gtBoxes.length, numClasses);
    let gtDifficult: readonly boolean[] = gtBoxes.map(() => false);
    if (gt.difficult !== undefined) {
      const d = gt.difficult;
      if (!Array.isArray(d) || d.length !== gtBoxes.length || d.some((v) => typeof v !== "boolean")) {
        throw fail(`${unit}: invalid groundTruth[${i}].difficult. Expected an array of length ${gtBoxes.length}, one boolean per box. Received: groundTruth[${i}].difficult=${brief(d)}.`);
      }
      gtDifficult = d as boolean[];
    }
    const dt: unknown = detections[i];
    if (!isRecord(dt)) throw fail(`${unit}: invalid detections[${i}]. Expected { boxes, scores, classes }. Received: detections[${i}]=${brief(dt)}.`);
    const dtBoxes = checkBoxes(unit, `detections[${i}].boxes`, dt.boxes);
    const scores = dt.scores;
    if (!Array.isArray(scores) || scores.length !== dtBoxes.length) {
      throw fail(`${unit}: invalid detections[${i}].scores. Expected an array of length ${dtBoxes.length}, one score per box. Received: detections[${i}].scores=${brief(scores)}.`);
    }
    scores.forEach((s: unknown, j) => {
      if (typeof s !== "number" || !Number.isFinite(s)) {
        throw fail(`${unit}: invalid detections[${i}].scores[${j}]. Expected a finite number. Received: detections[${i}].scores[${j}]=${show(s)}.`);
      }
    });
    const dtClasses = checkClasses(unit, `detections[${i}].classes`, dt.classes, dtBoxes.length, numClasses);
    return { gtBoxes, gtClasses, gtDifficult, dtBoxes, dtScores: scores as number[], dtClasses };
  });
}

function checkClassNames(unit: string, value: unknown, numClasses: number): string[] {
  if (value === undefined) return Array.from({ length: numClasses }, (_, c) => String(c));
  if (!Array.isArray(value) || value.length !== numClasses || value.some((v) => typeof v !== "string")) {
    throw fail(`${unit}: invalid classNames. Expected an array of length ${numClasses}, one name per class. Received: classNames=${brief(value)}.`);
  }
  return [...(value as string[])];
}

/** A detection of one class in one image. */
interface Candidate {
  image: number;
  box: readonly number[];
  score: number;
}

/**
 * The detections of class `c`, highest score first. Ties keep input order: the earlier image first,
 * then the earlier detection within the image (Array.prototype.sort is stable).
 */
function candidatesOf(images: CheckedImage[], c: number): Candidate[] {
  const out: Candidate[] = [];
  images.forEach((im, image) => im.dtClasses.forEach((k, j) => k === c && out.push({ image, box: im.dtBoxes[j], score: im.dtScores[j] })));
  return out.sort((a, b) => b.score - a.score);
}

function mean(values: number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : NaN;
}

// ---------------------------------------------------------------------------------------------
// Pascal VOC

const VOC_KEYS = ["numClasses", "iouThreshold", "interpolation", "classNames"] as const;

/**
 * Average precision per class and its mean (mAP), as the Pascal VOC devkit computes it
 * (VOC2010+ `VOCevaldet.m`, and py-faster-rcnn's `voc_eval.py`).
 *
 * For each class, the detections of that class over all images are taken by score, highest first
 * (ties: the earlier image first, then the earlier detection within the image — the order of the
 * devkit's stable MATLAB `sort`; py-faster-rcnn's `np.argsort` is not stable, so its AP can differ
 * on ties). Each detection finds, among the objects of its class in its image, the one of highest
 * IoU (the first on a tie), whether already matched or not, as the devkit does; then:
 * - IoU ≥ `iouThreshold` and the object is difficult: ignored (neither TP nor FP);
 * - IoU ≥ `iouThreshold` and the object is not matched yet: true positive, the object is matched;
 * - IoU ≥ `iouThreshold` and the object is already matched: false positive (a duplicate), even if
 *   another, unmatched object overlaps it enough (COCO would take that one: see
 *   {@link cocoMeanAveragePrecision});
 * - otherwise (no object of the class, as on an image without objects, or too little overlap):
 *   false positive.
 * With `tp` and `fp` counted after each detection and `npos` the class's non-difficult objects,
 * recall = tp / npos and precision = tp / (tp + fp). Then, with `"all"` (all-point, VOC2010+):
 * the precision envelope p̂(r) = max precision at recall ≥ r, and
 *   AP = Σ (r_i − r_{i−1}) · p̂(r_i)   over the recall steps (r_0 = 0),
 * the area under the envelope; with `"11point"` (VOC2007): AP = (1/11) Σ_{t = 0, 0.1, …, 1} max{precision at recall ≥ t}
 * (0 when recall never reaches t). The thresholds are k/10, so a recall of exactly 0.3 reaches
 * "0.3" (numpy's `arange(0, 1.1, 0.1)` gives 0.30000000000000004 and misses it).
 *
 * A class with no non-difficult object has no recall: its AP is NaN and it is left out of the
 * mean (VOC never has such a class; excluding it is what COCO does). mAP is NaN when no class has
 * objects. IoU is continuous, without VOC's "+1" (see the module comment for why the numbers still
 * agree with VOC's for VOC's integer boxes written as pixel xyxy). The devkit compares IoU ≥ 0.5, as
 * here; `voc_eval.py` uses > 0.5 (they differ only at exactly 0.5).
 *
 * @param detections one `{ boxes, scores, classes }` per image (pixel xyxy boxes), empty arrays for
 *   an image without detections.
 * @param groundTruth one `{ boxes, classes, difficult? }` per image, in the same order; empty arrays
 *   for an image without objects.
 * @param options `numClasses` (required, integer ≥ 1), `iouThreshold` in (0, 1] (default 0.5),
 *   `interpolation` `"all"` (default) or `"11point"`, `classNames` (numClasses strings).
 * @returns `{ map, perClass, iouThreshold, interpolation }`; `perClass[c]` holds `classId`, `name`,
 *   `ap`, `numGroundTruth`, `numDetections` and the `precision` / `recall` points (plot them with
 *   `precisionRecallPlot` of @convlab/viz).
 * @throws ConvlabError for an unknown option, a missing or invalid `numClasses`, a threshold outside
 *   (0, 1], lists of different lengths, a box that is not four finite numbers with x1 ≤ x2 and
 *   y1 ≤ y2, a class id outside [0, numClasses), a non-finite score.
 * @example
 * const result = averagePrecision(detections, groundTruth, { numClasses: 20, classNames: VOC_CLASSES });
 * result.map                                   // 0.71
 * console.log(averagePrecisionTable(result))
 *
 * Keras has no detection metric; keras_cv's `BoxCOCOMetrics` is COCO's. This is the devkit's
 * `VOCevaldet` with all classes at once.
 */
export function averagePrecision(detections: readonly Detections[], groundTruth: readonly GroundTruth[], options: AveragePrecisionArgs): AveragePrecisionResult {
  const unit = "averagePrecision";
  const args = expectOptions(unit, options, VOC_KEYS, "{ numClasses: 20 }");
  const numClasses = expectNumber(unit, "numClasses", args.numClasses, { min: 1, integer: true });
  const iouThreshold = args.iouThreshold === undefined ? 0.5 : expectNumber(unit, "iouThreshold", args.iouThreshold, { min: 0, max: 1, exclusiveMin: true });
  const interpolation = args.interpolation === undefined ? "all" : expectOneOf(unit, "interpolation", args.interpolation, ["all", "11point"] as const);
  const names = checkClassNames(unit, args.classNames, numClasses);
  const images = checkImages(unit, detections, groundTruth, numClasses);

  const perClass = names.map((name, c): ClassAveragePrecision => {
    // The objects of class c, per image, with their matched flags.
    const objects = images.map((im) => {
      const boxes: Array<readonly number[]> = [];
      const difficult: boolean[] = [];
      im.gtClasses.forEach((k, j) => {
        if (k !== c) return;
        boxes.push(im.gtBoxes[j]);
        difficult.push(im.gtDifficult[j]);
      });
      return { boxes, difficult, matched: boxes.map(() => false) };
    });
    const npos = objects.reduce((n, o) => n + o.difficult.filter((d) => !d).length, 0);
    const candidates = candidatesOf(images, c);
    const precision: number[] = [];
    const recall: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const d of candidates) {
      const o = objects[d.image];
      let best = -Infinity;
      let jBest = -1;
      o.boxes.forEach((box, j) => {
        const v = cornerIou(d.box, box);
        if (v > best) [best, jBest] = [v, j];
      });
      if (jBest >= 0 && best >= iouThreshold) {
        if (o.difficult[jBest]) continue;
        if (o.matched[jBest]) fp++;
        else {
          o.matched[jBest] = true;
          tp++;
        }
      } else fp++;
      precision.push(tp / (tp + fp));
      recall.push(tp / npos);
    }
    if (npos === 0) return { classId: c, name, ap: NaN, numGroundTruth: 0, numDetections: candidates.length, precision: [], recall: [] };
    const ap = interpolation === "all" ? allPointAp(precision, recall) : elevenPointAp(precision, recall);
    return { classId: c, name, ap, numGroundTruth: npos, numDetections: candidates.length, precision, recall };
  });
  const map = mean(perClass.filter((k) => k.numGroundTruth > 0).map((k) => k.ap));
  return { map, perClass, iouThreshold, interpolation };
}

/** Area under the precision envelope: VOC2010+ (`mrec = [0, rec, 1]`, `mpre = [0, prec, 0]`, made non-increasing from the right). */
function allPointAp(precision: number[], recall: number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}

/** VOC2007: the mean of the best precision at recall ≥ t for t = 0, 0.1, …, 1 (summed, then divided by 11). */
function elevenPointAp(precision: number[], recall: number[]): number {
  let sum = 0;
  for (let k = 0; k <= 10; k++) {
    let p = 0;
    recall.forEach((r, i) => {
      if (r >= k / 10) p = Math.max(p, precision[i]);
    });
    sum += p;
  }
  return sum / 11;
}

// ---------------------------------------------------------------------------------------------
// COCO

const COCO_KEYS = ["numClasses", "iouThresholds", "maxDetections", "classNames"] as const;

/** What a detection became at one IoU threshold: a false positive, a true positive, or ignored (matched to a difficult object). */
const Outcome = { FalsePositive: 0, TruePositive: 1, Ignored: 2 } as const;
type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * COCO-style mean average precision (pycocotools `COCOeval` for bounding boxes: `evaluateImg`,
 * `accumulate`, `summarize`), without crowd regions and area ranges.
 *
 * Per image and class, the detections are taken by score, highest first (stable: input order on a
 * tie), and only the first `maxDetections` are kept. At each IoU threshold t, each detection in turn
 * takes, among the objects not matched yet, the one of highest IoU ≥ t (on a tie the later object,
 * as pycocotools; non-difficult objects are tried first, and a difficult one only when no
 * non-difficult one matches). Matched to a non-difficult object: a true positive; to a difficult one:
 * ignored; unmatched: a false positive. A difficult object, like any object, is matched once: a second
 * detection of it is a false positive here, where VOC ignores it. Then, per class and threshold, over
 * all images (stable order by score, earlier image first on a tie), with `npos` the non-difficult objects:
 *   recall_i = tp_i / npos,  precision_i = tp_i / (tp_i + fp_i)   (0 when both are 0),
 * precision is made non-increasing from the right (p_i = max_{j ≥ i} p_j), and for each of the 101
 * recall thresholds r ({@link COCO_RECALL_THRESHOLDS}) the precision at the first detection whose
 * recall ≥ r (numpy's `searchsorted(..., side="left")`), 0 when recall never reaches r. AP at t is
 * the mean of these 101 values; a class's `ap` is its mean over the thresholds; `map` the mean of
 * `ap` over the classes that have non-difficult objects (the others: NaN, left out, as pycocotools
 * leaves out its −1 entries). `map50` and `map75` are the means at the thresholds equal to 0.5 and
 * 0.75.
 *
 * Left out from pycocotools: `iscrowd` regions (a detection on a crowd is ignored and several may
 * match it), the area ranges (small / medium / large: everything here is "all"), the maxDets 1 and 10
 * variants, recall (AR), and segmentation / keypoint IoU. Difficult objects play the part of
 * pycocotools' ignored objects. Where pycocotools divides by tp + fp + 2.2e-16 (np.spacing(1)), this
 * divides by tp + fp and uses 0 for 0/0: the two differ only at tp = 1, fp = 0 (precision 1 here,
 * 1 − 2.2e-16 there), by at most 2.2e-16 in an AP, and a perfect detector scores exactly 1. Boxes are pixel xyxy (COCO's json is xywh:
 * `[x, y, x + w, y + h]`); IoU is continuous, as COCO's.
 *
 * @param detections one `{ boxes, scores, classes }` per image.
 * @param groundTruth one `{ boxes, classes, difficult? }` per image, in the same order.
 * @param options `numClasses` (required, integer ≥ 1), `iouThresholds` (numbers in (0, 1], default
 *   0.50:0.05:0.95), `maxDetections` (integer ≥ 1, default 100, per image and class as in
 *   pycocotools), `classNames`.
 * @returns `{ map, map50, map75, perClass, perThreshold, iouThresholds, maxDetections }`.
 * @throws ConvlabError as {@link averagePrecision}, and for thresholds that are not a non-empty array
 *   of numbers in (0, 1] or a `maxDetections` that is not a positive integer.
 * @example
 * const coco = cocoMeanAveragePrecision(detections, groundTruth, { numClasses: 3, classNames: ["cat", "dog", "bird"] });
 * [coco.map, coco.map50, coco.map75]           // COCO's AP, AP50, AP75
 *
 * Keras counterpart: keras_cv `BoxCOCOMetrics` ("MaP", "MaP@[IoU=50]", "MaP@[IoU=75]").
 */
export function cocoMeanAveragePrecision(
  detections: readonly Detections[],
  groundTruth: readonly GroundTruth[],
  options: CocoMeanAveragePrecisionArgs,
): CocoMeanAveragePrecisionResult {
  const unit = "cocoMeanAveragePrecision";
  const args = expectOptions(unit, options, COCO_KEYS, "{ numClasses: 80 }");
  const numClasses = expectNumber(unit, "numClasses", args.numClasses, { min: 1, integer: true });
  const thresholds = args.iouThresholds === undefined ? [...COCO_IOU_THRESHOLDS] : checkThresholds(unit, args.iouThresholds);
  const maxDetections = args.maxDetections === undefined ? 100 : expectNumber(unit, "maxDetections", args.maxDetections, { min: 1, integer: true });
  const names = checkClassNames(unit, args.classNames, numClasses);
  const images = checkImages(unit, detections, groundTruth, numClasses);
  const at50 = thresholds.indexOf(0.5);
  const at75 = thresholds.indexOf(0.75);

  const perClass = names.map((name, c): CocoClassAveragePrecision => {
    // evaluateImg: per image, outcomes[t][d] for its kept detections.
    const scored: Array<{ score: number; outcomes: Outcome[] }> = [];
    let npos = 0;
    images.forEach((im) => {
      const objects: Array<{ box: readonly number[]; difficult: boolean }> = [];
      im.gtClasses.forEach((k, j) => k === c && objects.push({ box: im.gtBoxes[j], difficult: im.gtDifficult[j] }));
      // non-difficult objects first (pycocotools sorts by its ignore flag, stably)
      objects.sort((a, b) => Number(a.difficult) - Number(b.difficult));
      npos += objects.filter((o) => !o.difficult).length;
      const kept: Array<{ box: readonly number[]; score: number }> = [];
      im.dtClasses.forEach((k, j) => k === c && kept.push({ box: im.dtBoxes[j], score: im.dtScores[j] }));
      kept.sort((a, b) => b.score - a.score);
      kept.length = Math.min(kept.length, maxDetections);
      const ious = kept.map((d) => objects.map((o) => cornerIou(d.box, o.box)));
      const outcomes = kept.map(() => [] as Outcome[]);
      thresholds.forEach((t) => {
        const matched = objects.map(() => false);
        kept.forEach((_, d) => {
          let best = Math.min(t, 1 - 1e-10);
          let m = -1;
          for (let g = 0; g < objects.length; g++) {
            if (matched[g]) continue;
            if (m > -1 && !objects[m].difficult && objects[g].difficult) break;
            if (ious[d][g] < best) continue;
            best = ious[d][g];
            m = g;
          }
          if (m === -1) outcomes[d].push(Outcome.FalsePositive);
          else {
            matched[m] = true;
            outcomes[d].push(objects[m].difficult ? Outcome.Ignored : Outcome.TruePositive);
          }
        });
      });
      kept.forEach((d, i) => scored.push({ score: d.score, outcomes: outcomes[i] }));
    });
    // accumulate: all images together, by score (stable: image order, then score order within the image)
    scored.sort((a, b) => b.score - a.score);
    const apPerThreshold = thresholds.map((_, t) => (npos === 0 ? NaN : interpolatedAp(scored.map((s) => s.outcomes[t]), npos)));
    return {
      classId: c,
      name,
      ap: npos === 0 ? NaN : mean(apPerThreshold),
      ap50: at50 >= 0 ? apPerThreshold[at50] : NaN,
      ap75: at75 >= 0 ? apPerThreshold[at75] : NaN,
      apPerThreshold,
      numGroundTruth: npos,
      numDetections: scored.length,
    };
  });
  const counted = perClass.filter((k) => k.numGroundTruth > 0);
  const perThreshold = thresholds.map((iouThreshold, t) => ({ iouThreshold, map: mean(counted.map((k) => k.apPerThreshold[t])) }));
  return {
    map: mean(counted.map((k) => k.ap)),
    map50: at50 >= 0 ? perThreshold[at50].map : NaN,
    map75: at75 >= 0 ? perThreshold[at75].map : NaN,
    perClass,
    perThreshold,
    iouThresholds: thresholds,
    maxDetections,
  };
}

function checkThresholds(unit: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((t) => typeof t !== "number" || !(t > 0 && t <= 1))) {
    throw fail(`${unit}: invalid iouThresholds. Expected a non-empty array of numbers in (0, 1], such as [0.5, 0.75]. Received: iouThresholds=${brief(value)}.`);
  }
  return [...(value as number[])];
}

/** pycocotools' accumulate for one class and threshold: the 101-point interpolated AP of outcomes in score order. */
function interpolatedAp(outcomes: Outcome[], npos: number): number {
  const recall: number[] = [];
  const precision: number[] = [];
  let tp = 0;
  let fp = 0;
  // Ignored detections stay in the sequence (repeating the previous point), as in pycocotools.
  for (const o of outcomes) {
    if (o === Outcome.TruePositive) tp++;
    else if (o === Outcome.FalsePositive) fp++;
    recall.push(tp / npos);
    precision.push(tp + fp > 0 ? tp / (tp + fp) : 0);
  }
  for (let i = precision.length - 1; i > 0; i--) if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
  let sum = 0;
  let i = 0;
  for (const r of COCO_RECALL_THRESHOLDS) {
    while (i < recall.length && recall[i] < r) i++;
    if (i === recall.length) break; // recall never reaches r, nor any larger threshold: 0
    sum += precision[i];
  }
  return sum / COCO_RECALL_THRESHOLDS.length;
}

// ---------------------------------------------------------------------------------------------
// Table

/**
 * The per-class AP of a result as a text table, one row per class then the mean, for
 * `console.log` in a notebook. A VOC result shows AP, ground truth and detection counts; a COCO
 * result shows AP (0.50:0.95), AP50, AP75 and the counts. Values have three decimals; a class
 * without ground truth shows NaN and is not in the mean.
 *
 * @param result what {@link averagePrecision} or {@link cocoMeanAveragePrecision} returned.
 * @throws ConvlabError when `result` is neither.
 * @example
 * console.log(averagePrecisionTable(averagePrecision(dets, gts, { numClasses: 2, classNames: ["cat", "dog"] })))
 * // AP at IoU >= 0.5, all-point interpolation (Pascal VOC)
 * // class     AP  objects  detections
 * // cat    0.750        2           4
 * // dog    1.000        1           1
 * // mAP    0.875
 *
 * pycocotools counterpart: `COCOeval.summarize()` prints the means only; per class one reads
 * `eval["precision"]`.
 */
export function averagePrecisionTable(result: AveragePrecisionResult | CocoMeanAveragePrecisionResult): string {
  const r = result as Partial<AveragePrecisionResult & CocoMeanAveragePrecisionResult> | null;
  if (!isRecord(r) || typeof r.map !== "number" || !Array.isArray(r.perClass)) {
    throw fail(`averagePrecisionTable: invalid result. Expected what averagePrecision or cocoMeanAveragePrecision returned. Received: result=${brief(result)}.`);
  }
  const f = (v: number) => (Number.isNaN(v) ? "NaN" : v.toFixed(3));
  let title: string;
  let header: string[];
  let rows: string[][];
  let footer: string[];
  if (Array.isArray(r.iouThresholds)) {
    const coco = r as CocoMeanAveragePrecisionResult;
    const same = coco.iouThresholds.length === COCO_IOU_THRESHOLDS.length && coco.iouThresholds.every((t, i) => t === COCO_IOU_THRESHOLDS[i]);
    const ious = same ? "0.50:0.05:0.95" : coco.iouThresholds.map((t) => Number(t.toFixed(4))).join(", ");
    title = `AP at IoU ${ious}, 101-point interpolation, at most ${coco.maxDetections} detections per image and class (COCO)`;
    header = ["class", "AP", "AP50", "AP75", "objects", "detections"];
    rows = coco.perClass.map((k) => [k.name, f(k.ap), f(k.ap50), f(k.ap75), String(k.numGroundTruth), String(k.numDetections)]);
    footer = ["mAP", f(coco.map), f(coco.map50), f(coco.map75)];
  } else {
    const voc = r as AveragePrecisionResult;
    title = `AP at IoU >= ${voc.iouThreshold}, ${voc.interpolation === "all" ? "all-point" : "11-point"} interpolation (Pascal VOC)`;
    header = ["class", "AP", "objects", "detections"];
    rows = voc.perClass.map((k) => [k.name, f(k.ap), String(k.numGroundTruth), String(k.numDetections)]);
    footer = ["mAP", f(voc.map)];
  }
  const all = [header, ...rows, footer];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  // names left-aligned, numbers right-aligned
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ").trimEnd();
  return [title, ...all.map(line)].join("\n");
}
