import type { Detections } from "./detector";
import { cornerIou } from "./iou";
import {
  averagePrecision,
  averagePrecisionTable,
  COCO_IOU_THRESHOLDS,
  COCO_RECALL_THRESHOLDS,
  cocoMeanAveragePrecision,
} from "./mean_average_precision";
import type { GroundTruth } from "./mean_average_precision";

/*
 * Every expected value is worked out by hand in the comments (TP/FP sequence, precision, recall,
 * then the area or the sampled points). The COCO values were also checked against a small Python
 * re-implementation of pycocotools' COCOeval.evaluateImg / accumulate / summarize (numpy
 * linspace thresholds, searchsorted "left", tp / (tp + fp + np.spacing(1)), mean over s > -1),
 * written from its documented algorithm, and the VOC values against one of VOCevaldet; the two
 * agreed with this module to 1e-12 on these cases and on 400 random ones (ties, difficult objects,
 * maxDetections 2 and 3).
 */

const none: Detections = { boxes: [], scores: [], classes: [] };
const noObjects: GroundTruth = { boxes: [], classes: [] };
const close = (actual: number, expected: number) => expect(actual).toBeCloseTo(expected, 12);

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("IoU convention", () => {
  it("is continuous, without VOC's +1 (pixel xyxy, column i spanning [i, i + 1))", () => {
    // [0,0,3,1] inside [0,0,3,3]: IoU 3/9 = 1/3, a miss at 0.5. VOC's "+1" on the same numbers
    // would give (4·2)/(4·4) = 1/2, a hit.
    const gt: GroundTruth[] = [{ boxes: [[0, 0, 3, 3]], classes: [0] }];
    const dt: Detections[] = [{ boxes: [[0, 0, 3, 1]], scores: [1], classes: [0] }];
    expect(averagePrecision(dt, gt, { numClasses: 1 }).map).toBe(0);
    expect(averagePrecision(dt, gt, { numClasses: 1, iouThreshold: 1 / 3 }).map).toBe(1);
    expect(cocoMeanAveragePrecision(dt, gt, { numClasses: 1 }).map).toBe(0);
    expect([cornerIou([0, 0, 3, 1], [0, 0, 3, 3]), cornerIou([0, 0, 10, 10], [10, 0, 20, 10]), cornerIou([3, 3, 3, 3], [3, 3, 3, 3])]).toEqual([1 / 3, 0, 0]);
    // VOC's boxes are 1-based inclusive: (xmin, ymin, xmax, ymax) = (1, 1, 3, 3) is [0, 0, 3, 3] in
    // pixel xyxy, and then both conventions agree: VOC (1,1,3,1) vs (1,1,3,3) → (3·1)/(3·3) = 1/3.
  });
});

describe("averagePrecision (Pascal VOC)", () => {
  it("gives 1 to a perfect detector, whatever the scores, with both interpolations", () => {
    const gt: GroundTruth[] = [
      { boxes: [[0, 0, 10, 10], [20, 20, 40, 30]], classes: [0, 1] },
      noObjects,
      { boxes: [[5, 5, 15, 25]], classes: [0] },
    ];
    const dt: Detections[] = [
      { boxes: [[20, 20, 40, 30], [0, 0, 10, 10]], scores: [0.3, 0.2], classes: [1, 0] },
      none,
      { boxes: [[5, 5, 15, 25]], scores: [0.9], classes: [0] },
    ];
    for (const interpolation of ["all", "11point"] as const) {
      const r = averagePrecision(dt, gt, { numClasses: 2, interpolation });
      expect(r.map).toBe(1);
      expect(r.perClass.map((k) => k.ap)).toEqual([1, 1]);
    }
    const r = averagePrecision(dt, gt, { numClasses: 2, classNames: ["cat", "dog"] });
    expect(r.perClass[0]).toEqual({ classId: 0, name: "cat", ap: 1, numGroundTruth: 2, numDetections: 2, precision: [1, 1], recall: [0.5, 1] });
    expect([r.iouThreshold, r.interpolation]).toEqual([0.5, "all"]);
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 2 });
    expect([coco.map, coco.map50, coco.map75]).toEqual([1, 1, 1]);
  });

  it("counts a second detection of one object as a false positive; all-point and 11-point differ", () => {
    // image 0: one cat. Detections by score: exact (TP), IoU 0.9 with the same cat (duplicate: FP),
    // far away (FP). image 1: one cat, found (TP).
    const gt: GroundTruth[] = [
      { boxes: [[0, 0, 10, 10]], classes: [0] },
      { boxes: [[0, 0, 10, 10]], classes: [0] },
    ];
    const dt: Detections[] = [
      { boxes: [[0, 0, 10, 10], [0, 0, 10, 9], [100, 100, 110, 110]], scores: [0.9, 0.8, 0.7], classes: [0, 0, 0] },
      { boxes: [[0, 0, 10, 10]], scores: [0.6], classes: [0] },
    ];
    const all = averagePrecision(dt, gt, { numClasses: 1 });
    // TP FP FP TP: recall 1/2 1/2 1/2 1, precision 1 1/2 1/3 1/2.
    expect(all.perClass[0].recall).toEqual([0.5, 0.5, 0.5, 1]);
    expect(all.perClass[0].precision).toEqual([1, 0.5, 1 / 3, 0.5]);
    // Envelope: 1 up to recall 1/2, then 1/2 up to recall 1: 0.5 · 1 + 0.5 · 0.5.
    expect(all.map).toBe(0.75);
    // 11-point: t = 0 … 0.5 see precision 1 (6 points), t = 0.6 … 1 see 1/2 (5 points): 8.5 / 11.
    expect(averagePrecision(dt, gt, { numClasses: 1, interpolation: "11point" }).map).toBe(17 / 22);
    // COCO, at every threshold the same TP FP FP TP: precision made monotone 1 ½ ½ ½; recall
    // thresholds 0 … 0.50 (51 of them) reach recall 1/2 → 1, the 50 above reach recall 1 → 1/2:
    // (51 + 25) / 101.
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 1 });
    close(coco.map, 76 / 101);
    expect(coco.perClass[0].apPerThreshold.every((ap) => ap === 76 / 101)).toBe(true);
    // maxDetections 1 keeps only the best detection per image and class: TP TP.
    const top1 = cocoMeanAveragePrecision(dt, gt, { numClasses: 1, maxDetections: 1 });
    expect([top1.map, top1.perClass[0].numDetections, coco.perClass[0].numDetections]).toEqual([1, 2, 4]);
  });

  it("orders tied scores by image, then by position within the image (stable, documented)", () => {
    // Two cats in one image; a tied false positive at score 0.9 either in another image (no
    // objects) or listed in the same image.
    const cats: GroundTruth = { boxes: [[0, 0, 10, 10], [20, 0, 30, 10]], classes: [0, 0] };
    const found: Detections = { boxes: [[20, 0, 30, 10], [0, 0, 10, 10]], scores: [0.5, 0.9], classes: [0, 0] };
    const stray: Detections = { boxes: [[50, 50, 60, 60]], scores: [0.9], classes: [0] };
    // TP (0.9, image 0), FP (0.9, image 1), TP (0.5): recall ½ ½ 1, precision 1 ½ ⅔ → ½·1 + ½·⅔.
    const tpFirst = averagePrecision([found, stray], [cats, noObjects], { numClasses: 1 });
    expect(tpFirst.perClass[0].precision).toEqual([1, 0.5, 2 / 3]);
    close(tpFirst.map, 5 / 6);
    // FP first (image 0 is now the empty one): recall 0 ½ 1, precision 0 ½ ⅔ → ½·⅔ + ½·⅔.
    const fpFirst = averagePrecision([stray, found], [noObjects, cats], { numClasses: 1 });
    expect(fpFirst.perClass[0].precision).toEqual([0, 0.5, 2 / 3]);
    close(fpFirst.map, 2 / 3);
    // Within one image: the order of the lists.
    const fpListedFirst: Detections = { boxes: [[50, 50, 60, 60], [0, 0, 10, 10], [20, 0, 30, 10]], scores: [0.9, 0.9, 0.5], classes: [0, 0, 0] };
    close(averagePrecision([fpListedFirst], [cats], { numClasses: 1 }).map, 2 / 3);
    const tpListedFirst: Detections = { boxes: [[0, 0, 10, 10], [50, 50, 60, 60], [20, 0, 30, 10]], scores: [0.9, 0.9, 0.5], classes: [0, 0, 0] };
    close(averagePrecision([tpListedFirst], [cats], { numClasses: 1 }).map, 5 / 6);
    // COCO, same rule. TP FP TP: monotone precision 1 ⅔ ⅔; 51 thresholds ≤ ½ → 1, 50 → ⅔:
    // (51 + 100/3) / 101 = 253/303. FP TP TP: monotone ⅔ ⅔ ⅔ at all 101 thresholds → ⅔.
    close(cocoMeanAveragePrecision([found, stray], [cats, noObjects], { numClasses: 1 }).map, 253 / 303);
    close(cocoMeanAveragePrecision([stray, found], [noObjects, cats], { numClasses: 1 }).map, 2 / 3);
  });

  it("counts detections on an image without objects as false positives, and a class never detected as AP 0", () => {
    const gt: GroundTruth[] = [
      { boxes: [[0, 0, 10, 10]], classes: [0] },
      noObjects,
      { boxes: [[0, 0, 10, 10], [30, 30, 50, 50]], classes: [0, 1] }, // no detections at all here
    ];
    const dt: Detections[] = [
      { boxes: [[0, 0, 10, 10]], scores: [0.9], classes: [0] },
      { boxes: [[0, 0, 10, 10]], scores: [0.8], classes: [0] },
      none,
    ];
    const r = averagePrecision(dt, gt, { numClasses: 2 });
    // cat: TP FP, 2 objects: recall ½ ½, precision 1 ½; recall 1 is never reached: AP = ½ · 1.
    expect(r.perClass[0]).toMatchObject({ ap: 0.5, numGroundTruth: 2, numDetections: 2, precision: [1, 0.5], recall: [0.5, 0.5] });
    // dog: one object, no detection: AP 0, and it counts in the mean.
    expect(r.perClass[1]).toMatchObject({ ap: 0, numGroundTruth: 1, numDetections: 0, precision: [], recall: [] });
    expect(r.map).toBe(0.25);
    // 11-point: t = 0 … 0.5 see precision 1 (6 points), the rest 0.
    expect(averagePrecision(dt, gt, { numClasses: 2, interpolation: "11point" }).perClass[0].ap).toBe(6 / 11);
    // COCO: 51 recall thresholds ≤ ½ → 1, the others are never reached → 0.
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 2 });
    expect(coco.perClass.map((k) => k.ap50)).toEqual([51 / 101, 0]);
    close(coco.map, 51 / 202);
  });

  it("leaves a class without ground truth out of the mean (AP NaN)", () => {
    const gt: GroundTruth[] = [{ boxes: [[0, 0, 10, 10]], classes: [0] }, noObjects];
    const dt: Detections[] = [
      { boxes: [[0, 0, 10, 10], [0, 0, 10, 10]], scores: [0.9, 0.4], classes: [0, 2] },
      { boxes: [[5, 5, 8, 8]], scores: [0.7], classes: [2] },
    ];
    const names = ["cat", "dog", "bird"];
    const r = averagePrecision(dt, gt, { numClasses: 3, classNames: names });
    expect(r.map).toBe(1); // cat only: dog (nothing) and bird (detections only) have no ground truth
    expect(r.perClass[1]).toEqual({ classId: 1, name: "dog", ap: NaN, numGroundTruth: 0, numDetections: 0, precision: [], recall: [] });
    expect(r.perClass[2]).toEqual({ classId: 2, name: "bird", ap: NaN, numGroundTruth: 0, numDetections: 2, precision: [], recall: [] });
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 3, classNames: names });
    expect([coco.map, coco.map50, coco.map75]).toEqual([1, 1, 1]);
    expect(coco.perClass[2]).toMatchObject({ name: "bird", ap: NaN, ap50: NaN, ap75: NaN, numGroundTruth: 0, numDetections: 2 });
    // No class with ground truth at all: no mean.
    expect(averagePrecision([dt[1]], [noObjects], { numClasses: 3 }).map).toBeNaN();
    expect(cocoMeanAveragePrecision([dt[1]], [noObjects], { numClasses: 3 }).map).toBeNaN();
  });

  it("neither rewards nor punishes detections of difficult objects, nor counts them as misses", () => {
    // Objects: A (found), B difficult (found twice), C (missed). Detections by score: on B, on A,
    // on B again, on nothing.
    const boxes = [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]];
    const gt: GroundTruth[] = [{ boxes, classes: [0, 0, 0], difficult: [false, true, false] }];
    const dt: Detections[] = [{ boxes: [[20, 0, 30, 10], [0, 0, 10, 10], [20, 0, 30, 10], [60, 0, 70, 10]], scores: [0.95, 0.9, 0.85, 0.8], classes: [0, 0, 0, 0] }];
    // VOC: both detections of B ignored; TP FP over 2 objects: recall ½ ½, precision 1 ½ → ½.
    const r = averagePrecision(dt, gt, { numClasses: 1 });
    expect(r.perClass[0]).toMatchObject({ ap: 0.5, numGroundTruth: 2, numDetections: 4, precision: [1, 0.5], recall: [0.5, 0.5] });
    // Without the flag B is an ordinary object: TP TP FP FP over 3: recall ⅓ ⅔ ⅔ ⅔ → ⅔.
    close(averagePrecision(dt, [{ boxes, classes: [0, 0, 0] }], { numClasses: 1 }).map, 2 / 3);
    // COCO: the first detection of B is ignored, the second finds B taken: FP. Ignored TP FP FP:
    // recall 0 ½ ½ ½, monotone precision 1 1 ½ ⅓ → 51 thresholds ≤ ½ at 1: 51/101.
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 1 });
    expect(coco.perClass[0]).toMatchObject({ ap50: 51 / 101, ap75: 51 / 101, numGroundTruth: 2, numDetections: 4 });
  });

  it("takes the best-IoU object, matched or not (VOC), where COCO takes the best unmatched one", () => {
    // Two overlapping cats A = [0,0,10,10], B = [2,0,12,10]. The first detection is A exactly (TP).
    // The second, [0.5,0,10.5,10], has IoU 9.5/10.5 = 0.905 with A and 85/115 = 0.739 with B.
    const gt: GroundTruth[] = [{ boxes: [[0, 0, 10, 10], [2, 0, 12, 10]], classes: [0, 0] }];
    const dt: Detections[] = [{ boxes: [[0, 0, 10, 10], [0.5, 0, 10.5, 10]], scores: [0.9, 0.8], classes: [0, 0] }];
    // VOC: its best object A is taken: a duplicate, FP. TP FP: recall ½ ½ → AP ½.
    expect(averagePrecision(dt, gt, { numClasses: 1 }).map).toBe(0.5);
    // COCO: B is free and IoU 0.739 ≥ t for t = 0.50 … 0.70: TP TP → 1; for t = 0.75 … 0.95: FP → 51/101.
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 1 });
    expect(coco.perClass[0].apPerThreshold).toEqual([1, 1, 1, 1, 1, 51 / 101, 51 / 101, 51 / 101, 51 / 101, 51 / 101]);
    expect([coco.map50, coco.map75]).toEqual([1, 51 / 101]);
    close(coco.map, 76 / 101); // (5 · 1 + 5 · 51/101) / 10
    expect(coco.perThreshold.map((t) => t.iouThreshold)).toEqual([...COCO_IOU_THRESHOLDS]);
    expect(coco.perThreshold[5]).toEqual({ iouThreshold: 0.75, map: 51 / 101 });
    // Other thresholds: map50 / map75 exist only when 0.5 / 0.75 are among them.
    const at60 = cocoMeanAveragePrecision(dt, gt, { numClasses: 1, iouThresholds: [0.6, 0.8] });
    expect([at60.map, at60.map50, at60.map75]).toEqual([(1 + 51 / 101) / 2, NaN, NaN]);
  });

  it("counts an IoU equal to the threshold as a match", () => {
    // [0,0,10,5] covers half of [0,0,10,10]: IoU exactly 0.5.
    const gt: GroundTruth[] = [{ boxes: [[0, 0, 10, 10]], classes: [0] }];
    const dt: Detections[] = [{ boxes: [[0, 0, 10, 5]], scores: [1], classes: [0] }];
    expect(averagePrecision(dt, gt, { numClasses: 1 }).map).toBe(1);
    expect(averagePrecision(dt, gt, { numClasses: 1, iouThreshold: 0.51 }).map).toBe(0);
    expect(cocoMeanAveragePrecision(dt, gt, { numClasses: 1, iouThresholds: [0.5] }).map).toBe(1);
  });

  it("matches the cross-checked mixed case (4 images, ties, a duplicate, a difficult object, an empty image)", () => {
    const gt: GroundTruth[] = [
      { boxes: [[10, 10, 50, 50], [60, 10, 100, 60], [0, 60, 30, 90]], classes: [0, 1, 0], difficult: [false, false, true] },
      { boxes: [[20, 20, 60, 60], [0, 0, 40, 30], [45, 0, 85, 30]], classes: [0, 1, 1] },
      noObjects,
      { boxes: [[5, 5, 25, 25]], classes: [0] },
    ];
    const dt: Detections[] = [
      { boxes: [[12, 10, 50, 52], [60, 15, 100, 60], [0, 62, 30, 90], [11, 11, 49, 49], [0, 0, 5, 5]], scores: [0.9, 0.8, 0.7, 0.6, 0.5], classes: [0, 1, 0, 0, 2] },
      { boxes: [[0, 0, 40, 33], [50, 0, 85, 30], [0, 0, 85, 30], [30, 30, 70, 70], [22, 20, 60, 62]], scores: [0.85, 0.8, 0.75, 0.65, 0.9], classes: [1, 1, 1, 0, 0] },
      { boxes: [[0, 0, 10, 10], [0, 0, 20, 20]], scores: [0.95, 0.3], classes: [0, 1] },
      none,
    ];
    // cat, 3 objects (one more difficult): FP 0.95 (empty image), TP 0.9 (IoU 1520/1676 = 0.907),
    // TP 0.9 (same), ignored 0.7 (difficult, IoU 0.933), FP 0.65 (IoU 0.391), FP 0.6 (duplicate).
    // Precision 0 ½ ⅔ ½ ⅖ at recall 0 ⅓ ⅔ ⅔ ⅔: all-point ⅓·⅔ + ⅓·⅔ = 4/9; 11-point 7 · ⅔ / 11 = 14/33.
    // dog, 3 objects: TP (IoU 0.909), TP (0.9), TP (0.875), FP (0.47), FP: AP 1.
    // bird: no ground truth.
    const voc = averagePrecision(dt, gt, { numClasses: 3 });
    close(voc.perClass[0].ap, 4 / 9);
    expect(voc.perClass.map((k) => k.ap).slice(1)).toEqual([1, NaN]);
    close(voc.map, 13 / 18); // Python VOCevaldet re-implementation: 0.7222222222222222
    const voc07 = averagePrecision(dt, gt, { numClasses: 3, interpolation: "11point" });
    close(voc07.map, 47 / 66); // Python: 0.7121212121212122 (cat 14/33, dog 1)
    // COCO. cat at t ≤ 0.9: FP TP TP Ignored FP FP, monotone precision ⅔ up to recall ⅔: 67 of the
    // 101 thresholds (0 … 0.66) → 134/303; at 0.95 nothing matches (the difficult one neither: FP) → 0.
    // dog: AP 1 at t ≤ 0.85; at 0.9 (0.8999999999999999) the IoU 0.875 one misses: TP TP FP FP FP → 67/101;
    // at 0.95 → 0.
    const coco = cocoMeanAveragePrecision(dt, gt, { numClasses: 3 });
    close(coco.perClass[0].ap, (9 * 134) / 303 / 10); // Python: 0.39801980198019804
    close(coco.perClass[1].ap, (8 + 67 / 101) / 10); // Python: 0.8663366336633663
    close(coco.map, 3831 / 6060); // Python: 0.6321782178217822
    close(coco.map50, 437 / 606); // Python: 0.721122112211221
    close(coco.map75, 437 / 606);
    close(coco.perThreshold[8].map, (134 / 303 + 67 / 101) / 2); // Python: 0.5528052805280528
    expect(coco.perThreshold[9].map).toBe(0);
    expect(coco.perClass.map((k) => k.numDetections)).toEqual([6, 5, 1]);
  });

  it("uses pycocotools' thresholds bit for bit", () => {
    // np.linspace(0, 1, 101) is i * 0.01: 0.5700000000000001, not 0.57; np.linspace(.5, .95, 10) has 0.8999999999999999.
    expect(COCO_RECALL_THRESHOLDS.length).toBe(101);
    expect([COCO_RECALL_THRESHOLDS[0], COCO_RECALL_THRESHOLDS[50], COCO_RECALL_THRESHOLDS[57], COCO_RECALL_THRESHOLDS[100]]).toEqual([0, 0.5, 0.5700000000000001, 1]);
    expect(COCO_IOU_THRESHOLDS[8]).toBe(0.8999999999999999);
    // 100 cats, the first 57 found (in score order), then 43 false positives: recall 57/100 = 0.57
    // does not reach the threshold 0.5700000000000001, so 57 thresholds (0 … 0.56) see precision 1.
    const gt: GroundTruth[] = [{ boxes: Array.from({ length: 100 }, (_, i) => [20 * i, 0, 20 * i + 10, 10]), classes: Array(100).fill(0) }];
    const boxes = Array.from({ length: 100 }, (_, i) => (i < 57 ? [20 * i, 0, 20 * i + 10, 10] : [20 * i, 50, 20 * i + 10, 60]));
    const dt: Detections[] = [{ boxes, scores: boxes.map((_, i) => 1 - i / 1000), classes: Array(100).fill(0) }];
    expect(cocoMeanAveragePrecision(dt, gt, { numClasses: 1, iouThresholds: [0.5] }).map).toBe(57 / 101);
  });
});

describe("averagePrecisionTable", () => {
  const gt: GroundTruth[] = [{ boxes: [[0, 0, 10, 10], [40, 0, 50, 10], [20, 20, 30, 30]], classes: [0, 0, 1] }];
  const dt: Detections[] = [{ boxes: [[0, 0, 10, 10], [50, 50, 60, 60], [40, 0, 50, 10], [20, 20, 30, 30]], scores: [0.9, 0.8, 0.7, 0.6], classes: [0, 0, 0, 1] }];
  const classNames = ["cat", "dog", "bird"];

  it("prints a VOC result, NaN for a class without ground truth", () => {
    // cat: TP FP TP → ½·1 + ½·⅔ = 0.833; dog 1; mean 0.917.
    expect(averagePrecisionTable(averagePrecision(dt, gt, { numClasses: 3, classNames }))).toBe(
      [
        "AP at IoU >= 0.5, all-point interpolation (Pascal VOC)",
        "class     AP  objects  detections",
        "cat    0.833        2           3",
        "dog    1.000        1           1",
        "bird     NaN        0           0",
        "mAP    0.917",
      ].join("\n"),
    );
    expect(averagePrecisionTable(averagePrecision(dt, gt, { numClasses: 2, iouThreshold: 0.7, interpolation: "11point" })).split("\n")[0]).toBe(
      "AP at IoU >= 0.7, 11-point interpolation (Pascal VOC)",
    );
  });

  it("prints a COCO result", () => {
    // cat: TP FP TP at every threshold → 253/303 = 0.835.
    expect(averagePrecisionTable(cocoMeanAveragePrecision(dt, gt, { numClasses: 3, classNames }))).toBe(
      [
        "AP at IoU 0.50:0.05:0.95, 101-point interpolation, at most 100 detections per image and class (COCO)",
        "class     AP   AP50   AP75  objects  detections",
        "cat    0.835  0.835  0.835        2           3",
        "dog    1.000  1.000  1.000        1           1",
        "bird     NaN    NaN    NaN        0           0",
        "mAP    0.917  0.917  0.917",
      ].join("\n"),
    );
    expect(averagePrecisionTable(cocoMeanAveragePrecision(dt, gt, { numClasses: 2, iouThresholds: [0.5, 0.75], maxDetections: 5 })).split("\n")[0]).toBe(
      "AP at IoU 0.5, 0.75, 101-point interpolation, at most 5 detections per image and class (COCO)",
    );
  });

  it("says what is wrong", () => {
    expect(errorOf(() => averagePrecisionTable({ ap: 1 } as never))).toBe(
      'averagePrecisionTable: invalid result. Expected what averagePrecision or cocoMeanAveragePrecision returned. Received: result={"ap":1}.',
    );
  });
});

describe("validation", () => {
  const gt: GroundTruth[] = [{ boxes: [[0, 0, 10, 10]], classes: [0] }];
  const dt: Detections[] = [{ boxes: [[0, 0, 10, 10]], scores: [0.9], classes: [0] }];

  it("checks the options", () => {
    expect(errorOf(() => averagePrecision(dt, gt, undefined as never))).toBe("averagePrecision: invalid numClasses. Expected an integer >= 1. Received: numClasses=undefined.");
    expect(errorOf(() => averagePrecision(dt, gt, { numClasses: 1.5 }))).toBe("averagePrecision: invalid numClasses. Expected an integer >= 1. Received: numClasses=1.5.");
    expect(errorOf(() => averagePrecision(dt, gt, { numClasses: 1, iouThresh: 0.5 } as never))).toBe(
      "averagePrecision: unknown option `iouThresh`. Expected one of `numClasses`, `iouThreshold`, `interpolation`, `classNames`. Did you mean `iouThreshold`?",
    );
    expect(errorOf(() => averagePrecision(dt, gt, { numClasses: 1, iouThreshold: 0 }))).toBe("averagePrecision: invalid iouThreshold. Expected a number in (0, 1]. Received: iouThreshold=0.");
    expect(errorOf(() => averagePrecision(dt, gt, { numClasses: 1, interpolation: "11-point" as never }))).toBe(
      'averagePrecision: invalid interpolation. Expected one of "all", "11point". Received: interpolation="11-point". Did you mean `11point`?',
    );
    expect(errorOf(() => averagePrecision(dt, gt, { numClasses: 2, classNames: ["cat"] }))).toBe(
      'averagePrecision: invalid classNames. Expected an array of length 2, one name per class. Received: classNames=["cat"].',
    );
    expect(errorOf(() => cocoMeanAveragePrecision(dt, gt, { numClasses: 1, iouThresholds: [0.5, 50] }))).toBe(
      "cocoMeanAveragePrecision: invalid iouThresholds. Expected a non-empty array of numbers in (0, 1], such as [0.5, 0.75]. Received: iouThresholds=[0.5,50].",
    );
    expect(errorOf(() => cocoMeanAveragePrecision(dt, gt, { numClasses: 1, maxDetections: 0 }))).toBe(
      "cocoMeanAveragePrecision: invalid maxDetections. Expected an integer >= 1. Received: maxDetections=0.",
    );
    expect(errorOf(() => cocoMeanAveragePrecision(dt, gt, { numClasses: 1, maxDets: 10 } as never))).toBe(
      "cocoMeanAveragePrecision: unknown option `maxDets`. Expected one of `numClasses`, `iouThresholds`, `maxDetections`, `classNames`.",
    );
  });

  it("checks detections and ground truth, naming the image and the box", () => {
    const ap = (d: unknown, g: unknown = gt) => errorOf(() => averagePrecision(d as Detections[], g as GroundTruth[], { numClasses: 2 }));
    expect(ap([dt[0], none])).toBe(
      "averagePrecision: invalid detections. Expected one entry per image of groundTruth (1), an empty { boxes: [], scores: [], classes: [] } for an image without detections. Received: detections.length=2.",
    );
    expect(ap(dt, { boxes: [] })).toBe("averagePrecision: invalid groundTruth. Expected an array with one { boxes, classes, difficult? } per image. Received: groundTruth={\"boxes\":[]}.");
    expect(ap([{ boxes: [[5, 0, 1, 1]], scores: [1], classes: [0] }])).toBe(
      "averagePrecision: invalid detections[0].boxes[0]. Expected [x1, y1, x2, y2], four finite numbers with x1 <= x2 and y1 <= y2 (pixel xyxy). Received: detections[0].boxes[0]=[5,0,1,1].",
    );
    expect(ap([{ boxes: [[0, 0, 1, 1]], scores: [], classes: [0] }])).toBe(
      "averagePrecision: invalid detections[0].scores. Expected an array of length 1, one score per box. Received: detections[0].scores=[].",
    );
    expect(ap([{ boxes: [[0, 0, 1, 1]], scores: [NaN], classes: [0] }])).toBe(
      "averagePrecision: invalid detections[0].scores[0]. Expected a finite number. Received: detections[0].scores[0]=NaN.",
    );
    expect(ap([{ boxes: [[0, 0, 1, 1]], scores: [1], classes: [2] }])).toBe(
      "averagePrecision: invalid detections[0].classes[0]. Expected an integer in [0, 2) (numClasses=2). Received: detections[0].classes[0]=2.",
    );
    expect(ap(dt, [{ boxes: [[0, 0, 1, 1]], classes: [0], difficult: [1] }])).toBe(
      "averagePrecision: invalid groundTruth[0].difficult. Expected an array of length 1, one boolean per box. Received: groundTruth[0].difficult=[1].",
    );
    expect(ap(dt, [{ boxes: [[0, 0, 1, 1]], classes: [] }])).toBe(
      "averagePrecision: invalid groundTruth[0].classes. Expected an array of length 1, one class id per box. Received: groundTruth[0].classes=[].",
    );
    expect(ap([null])).toBe("averagePrecision: invalid detections[0]. Expected { boxes, scores, classes }. Received: detections[0]=null.");
  });
});
