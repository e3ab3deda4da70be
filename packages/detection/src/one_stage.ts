/**
 * What the two one-stage detectors (the grid detector and the SSD) share: reading the backbone's
 * feature maps, checking a batch and the detection options, the element-wise losses, and turning
 * per-box class scores into the final detections (score threshold, clipping, per-class NMS).
 *
 * Internal to the package: nothing here is exported from index.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { detectionBackbone } from "./backbone";
import { clipBoxes } from "./boxes";
import type { DetectArgs, Detections, Detector, DetectorLoss, ImageTargets } from "./detector";
import { checkDetectionData } from "./detector";
import { nonMaxSuppression } from "./nms";

/**
 * `[height, width]` of a detector's images: two integers ≥ 16, multiples of 16 (what the default
 * backbone needs: four blocks halve the size). @internal
 */
export function expectDetectorImageShape(unit: string, value: unknown): [number, number] {
  const v = value as unknown[];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 16 && d % 16 === 0)) {
    throw fail(`${unit}: invalid imageShape. Expected [height, width], both multiples of 16 (e.g. [64, 64], [96, 128]). Received: imageShape=${show(value)}.`);
  }
  return [v[0] as number, v[1] as number];
}

/** The backbone given, checked (one image input of `[h, w, 3]`), or the default {@link detectionBackbone}. @internal */
export function resolveBackbone(unit: string, backbone: unknown, imageShape: [number, number]): tf.LayersModel {
  if (backbone === undefined) return detectionBackbone({ imageShape });
  if (!(backbone instanceof tf.LayersModel)) {
    throw fail(`${unit}: invalid backbone. Expected a tf.LayersModel such as detectionBackbone({ imageShape: [${imageShape.join(", ")}] }). Received: backbone=${show(backbone)}.`);
  }
  const shape = backbone.inputs.length === 1 ? backbone.inputs[0].shape : undefined;
  if (!shape || shape.length !== 4 || shape[1] !== imageShape[0] || shape[2] !== imageShape[1] || shape[3] !== 3) {
    const got = backbone.inputs.map((i) => `[${i.shape.map((d) => (d === null ? "null" : d)).join(", ")}]`).join(", ");
    throw fail(`${unit}: invalid backbone. Expected one input of shape [null, ${imageShape[0]}, ${imageShape[1]}, 3] (the detector's imageShape). Received: backbone inputs ${got}.`);
  }
  return backbone;
}

/**
 * The backbone output whose cells are `stride` pixels (its size is imageShape / stride), as a
 * symbolic tensor to build the head on. @internal
 * @throws ConvlabError naming the outputs the backbone has.
 */
export function featureMap(unit: string, backbone: tf.LayersModel, imageShape: [number, number], stride: number): tf.SymbolicTensor {
  const [fh, fw] = [imageShape[0] / stride, imageShape[1] / stride];
  const found = backbone.outputs.find((o) => o.shape.length === 4 && o.shape[1] === fh && o.shape[2] === fw);
  if (!found) {
    const got = backbone.outputs.map((o) => `[${o.shape.map((d) => (d === null ? "null" : d)).join(", ")}]`).join(", ");
    throw fail(`${unit}: invalid backbone. Expected an output of stride ${stride}, shape [null, ${fh}, ${fw}, channels] for images of ${imageShape[0]}x${imageShape[1]}. Received: outputs ${got}.`);
  }
  return found;
}

/** A weight of a loss: a finite number ≥ 0. @internal */
export function expectWeight(unit: string, name: string, value: unknown, fallback: number): number {
  return expectNumber(unit, name, value ?? fallback, { min: 0 });
}

/** The options of `detect` with their defaults (score 0.3, IoU 0.45, 100 detections). @internal */
export function readDetectArgs(unit: string, args: DetectArgs | undefined): Required<DetectArgs> {
  const opts = expectOptions(unit, args, ["scoreThreshold", "iouThreshold", "maxDetections"], "{ scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 100 }");
  return {
    scoreThreshold: expectNumber(unit, "scoreThreshold", opts.scoreThreshold ?? 0.3, { min: 0, max: 1 }),
    iouThreshold: expectNumber(unit, "iouThreshold", opts.iouThreshold ?? 0.45, { min: 0, max: 1 }),
    maxDetections: expectNumber(unit, "maxDetections", opts.maxDetections ?? 100, { min: 1, integer: true }),
  };
}

/**
 * Checks a batch given to `computeLoss`: images of the detector's size, one target per image,
 * class ids in range, and boxes with a positive width and height (the box codings take their
 * logarithm). @internal
 */
export function checkBatch(unit: string, detector: Detector, images: unknown, targets: unknown): void {
  checkDetectionData(unit, "batch", { images, targets }, detector);
}

/** Checks images given to `detect`: a tensor `[n, height, width, 3]` of the detector's size. @internal */
export function checkImages(unit: string, images: unknown, [h, w]: [number, number]): void {
  const t = images as tf.Tensor;
  if (!(t instanceof tf.Tensor) || t.rank !== 4 || t.shape[1] !== h || t.shape[2] !== w || t.shape[3] !== 3) {
    throw fail(`${unit}: invalid images. Expected a tensor of shape [n, ${h}, ${w}, 3] (the detector's image size). Received: images=${show(images)}.`);
  }
}

/**
 * Element-wise binary cross-entropy of logits `x` against labels `z` in [0, 1], in the stable
 * form max(x, 0) − x·z + log(1 + e^−|x|) (no overflow for large |x|). Inside tf.tidy. @internal
 */
export function sigmoidCrossEntropy(logits: tf.Tensor, labels: tf.Tensor | number): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.softplus(tf.neg(tf.abs(logits))));
}

/**
 * Element-wise smooth L1 (Huber with δ = 1, Fast R-CNN's): 0.5·d² where |d| < 1, |d| − 0.5
 * elsewhere, written as 0.5·q² + (|d| − q) with q = min(|d|, 1), so that no comparison (which
 * has no gradient in tfjs) lies on the path of the gradient. Inside tf.tidy. @internal
 */
export function smoothL1(d: tf.Tensor): tf.Tensor {
  const a = tf.abs(d);
  const q = tf.minimum(a, 1);
  return tf.add(tf.mul(0.5, tf.square(q)), tf.sub(a, q));
}

/** Candidate boxes of one image, before non-maximum suppression. @internal */
export interface Candidates {
  /** Pixel xyxy boxes (not clipped yet). */
  boxes: number[][];
  scores: number[];
  classes: number[];
}

/**
 * The detections of one image from its candidates: boxes clipped to the image, boxes left
 * without area (wholly outside) dropped, then per-class greedy NMS keeping the best
 * `maxDetections`. Candidates are already at or above the score threshold. @internal
 */
export function finishDetections(c: Candidates, imageShape: [number, number], args: Required<DetectArgs>): Detections {
  if (c.boxes.length === 0) return { boxes: [], scores: [], classes: [] };
  const clipped = clipBoxes(c.boxes, { format: "xyxy", imageShape });
  const keep = clipped.map((_, i) => i).filter((i) => clipped[i][2] > clipped[i][0] && clipped[i][3] > clipped[i][1]);
  if (keep.length === 0) return { boxes: [], scores: [], classes: [] };
  const kept = nonMaxSuppression(
    keep.map((i) => clipped[i]),
    keep.map((i) => c.scores[i]),
    { format: "xyxy", classes: keep.map((i) => c.classes[i]), perClass: true, iouThreshold: args.iouThreshold, maxDetections: args.maxDetections },
  );
  return { boxes: kept.boxes, scores: kept.scores, classes: kept.classes };
}

/** The logistic function on a plain number. @internal */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Softmax of `values[offset .. offset + n)` into `out` (max subtracted first). @internal */
export function softmaxInto(values: ArrayLike<number>, offset: number, n: number, out: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, values[offset + k]);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += out[k] = Math.exp(values[offset + k] - max);
  for (let k = 0; k < n; k++) out[k] /= sum;
}

/**
 * What `detect` and `dispose` are for both one-stage detectors: run the model on the images,
 * then decode its raw output (each subclass's `decodeOutput`). @internal
 */
export abstract class OneStageDetector implements Detector {
  abstract readonly name: string;
  abstract readonly model: tf.LayersModel;
  abstract readonly numClasses: number;
  abstract readonly imageShape: [number, number];
  /** The class name errors start with. */
  protected abstract readonly unit: string;

  abstract computeLoss(images: tf.Tensor4D, targets: ImageTargets[], training: boolean): DetectorLoss;

  /** The detections described by the model's raw output (read, not disposed). */
  abstract decodeOutput(raw: tf.Tensor, args?: DetectArgs): Detections[];

  /**
   * The detections of a batch of images: the model's output decoded by `decodeOutput` (pixel
   * xyxy boxes clipped to the image, scores at or above `scoreThreshold`, per-class NMS).
   *
   * @param images `[n, height, width, 3]` in [0, 1] (not disposed).
   * @param args `scoreThreshold` (default 0.3), `iouThreshold` (0.45), `maxDetections` (100).
   * @throws ConvlabError for images of another shape or bad options.
   */
  detect(images: tf.Tensor4D, args?: DetectArgs): Detections[] {
    const unit = `${this.unit}.detect`;
    const options = readDetectArgs(unit, args);
    checkImages(unit, images, this.imageShape);
    const raw = tf.tidy(() => this.model.predict(images) as tf.Tensor);
    try {
      return this.decodeOutput(raw, options);
    } finally {
      raw.dispose();
    }
  }

  /** Frees the detector's weights (`model.dispose()`, backbone included). */
  dispose(): void {
    this.model.dispose();
  }
}
