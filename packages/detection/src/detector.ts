/**
 * What every detector of this package is, and the one loop that trains them all.
 *
 * A detector owns a tfjs model (its weights, for `summary` and saving), knows how to turn a
 * batch of images and their ground truth into a loss (its own target assignment: grid cells,
 * default boxes or region proposals), and how to turn its raw output into boxes. Training is the
 * same for all: `optimizer.minimize(loss)` over shuffled batches, with Keras's progress display
 * and a Keras-like History whose keys are the loss and its named parts.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, expectSeed, fail, Random, show } from "@convlab/engine";
import { Adam, ProgressBar } from "@convlab/layers";
import type { History } from "@convlab/layers";

/** Ground truth of one image: boxes in pixels, `xyxy` (pixel column i spans [i, i + 1)), and 0-based class ids. */
export interface ImageTargets {
  boxes: number[][];
  classes: number[];
}

/** What a detector finds in one image: pixel `xyxy` boxes, scores in [0, 1] and 0-based class ids, best first. */
export interface Detections {
  boxes: number[][];
  scores: number[];
  classes: number[];
}

/** Images and their objects, as the synthetic scenes and the annotation readers give them. */
export interface DetectionData {
  /** `[n, height, width, 3]` float32, values in [0, 1]. */
  images: tf.Tensor4D;
  /** Per image, its objects. */
  targets: ImageTargets[];
}

/** Options of {@link Detector.detect}. */
export interface DetectArgs {
  /** Keep detections scoring at least this. Default 0.3. */
  scoreThreshold?: number;
  /** Non-maximum suppression threshold, per class. Default 0.45. */
  iouThreshold?: number;
  /** At most this many detections per image. Default 100. */
  maxDetections?: number;
}

/** The loss of one batch: the total that is minimised, and its named parts (for the logs). */
export interface DetectorLoss {
  loss: tf.Scalar;
  parts: Record<string, tf.Scalar>;
}

/** A trainable object detector. */
export interface Detector {
  /** Its name in logs and tables ("yolo", "ssd", "two_stage"). */
  readonly name: string;
  /** Every trainable weight lives in this model (its `summary` is the detector's). */
  readonly model: tf.LayersModel;
  /** Number of object classes (background not counted). */
  readonly numClasses: number;
  /** `[height, width]` of the images it takes. */
  readonly imageShape: [number, number];
  /** The loss of a batch (called inside `optimizer.minimize`; `training` switches Dropout/BatchNormalization). */
  computeLoss(images: tf.Tensor4D, targets: ImageTargets[], training: boolean): DetectorLoss;
  /** Boxes found in each image, after score threshold and per-class non-maximum suppression. */
  detect(images: tf.Tensor4D, args?: DetectArgs): Detections[];
  /** Frees every weight the detector holds (its model's and any other). */
  dispose(): void;
}

/** Options of {@link trainDetector}. */
export interface TrainDetectorArgs {
  /** Passes over the data. Default 10. */
  epochs?: number;
  /** Images per step. Default 16. */
  batchSize?: number;
  /** The optimizer. Default `Adam({ learningRate: 1e-3 })`. */
  optimizer?: tf.Optimizer;
  /** Data whose loss is reported as `val_*` after each epoch. */
  validationData?: DetectionData;
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Seed of the shuffling. Default: a different order every run. */
  seed?: number;
}

const UNIT = "trainDetector";
const KEYS = ["epochs", "batchSize", "optimizer", "validationData", "verbose", "seed"] as const;

/** Checks images and targets agree: one target per image, boxes with an area inside the image, classes in range. */
export function checkDetectionData(unit: string, what: string, data: unknown, detector: Detector): DetectionData {
  const d = data as DetectionData;
  if (!d || !(d.images instanceof tf.Tensor) || !Array.isArray(d.targets)) {
    throw fail(`${unit}: invalid ${what}. Expected { images: [n, h, w, 3] tensor, targets: [{ boxes, classes }, …] }. Received: ${what}=${show(data)}.`);
  }
  const [h, w] = detector.imageShape;
  if (d.images.rank !== 4 || d.images.shape[1] !== h || d.images.shape[2] !== w || d.images.shape[3] !== 3) {
    throw fail(`${unit}: invalid ${what}.images. Expected shape [n, ${h}, ${w}, 3] (the detector's image size). Received: ${what}.images=${show(d.images)}.`);
  }
  if (d.targets.length !== d.images.shape[0]) {
    throw fail(`${unit}: invalid ${what}.targets. Expected one entry per image (${d.images.shape[0]}). Received: ${d.targets.length} entries.`);
  }
  d.targets.forEach((t, i) => {
    if (!t || !Array.isArray(t.boxes) || !Array.isArray(t.classes) || t.boxes.length !== t.classes.length) {
      throw fail(`${unit}: invalid ${what}.targets[${i}]. Expected { boxes: [[x1, y1, x2, y2], …], classes: [id, …] } of equal length. Received: ${what}.targets[${i}]=${show(t)}.`);
    }
    // Inverted, empty or outside boxes are a mistake in the data (an empty box would also encode as log 0).
    t.boxes.forEach((box, j) => {
      const ok = Array.isArray(box) && box.length === 4 && box.every(Number.isFinite) && box[2] > box[0] && box[3] > box[1];
      if (!ok || box[0] < 0 || box[1] < 0 || box[2] > w || box[3] > h) {
        throw fail(`${unit}: invalid ${what}.targets[${i}].boxes[${j}]. Expected pixel [x1, y1, x2, y2] with x2 > x1 and y2 > y1, inside the ${w}x${h} image. Received: ${show(box)}.`);
      }
    });
    t.classes.forEach((c, j) => {
      if (!Number.isInteger(c) || c < 0 || c >= detector.numClasses) {
        throw fail(`${unit}: invalid ${what}.targets[${i}].classes[${j}]. Expected a class id in [0, ${detector.numClasses - 1}]. Received: ${show(c)}.`);
      }
    });
  });
  return d;
}

/** Mean loss and parts over `data`, in batches, without training. */
async function meanLoss(detector: Detector, data: DetectionData, batchSize: number): Promise<Record<string, number>> {
  const n = data.images.shape[0];
  const sums: Record<string, number> = {};
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const values = tf.tidy(() => {
      const images = data.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      const { loss, parts } = detector.computeLoss(images, data.targets.slice(start, start + size), false);
      return { loss, ...parts };
    });
    for (const [key, value] of Object.entries(values)) {
      sums[key] = (sums[key] ?? 0) + (await value.data())[0] * size;
      value.dispose();
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
}

/**
 * Trains a detector: shuffled batches, `optimizer.minimize` of its loss, Keras's progress
 * display, and a History with `loss`, the detector's loss parts (e.g. `box_loss`) and their
 * `val_` versions when `validationData` is given.
 *
 * @throws ConvlabError for images of another size than the detector's, targets that do not match
 *   the images, class ids out of range, or bad options.
 * @example
 * ```ts
 * const history = await trainDetector(detector, train, { epochs: 20, validationData: validation });
 * ```
 * Keras equivalent: `model.fit(...)` with the detector's loss; the loss needs each image's boxes,
 * which a Keras model gets through a custom `train_step` (as KerasCV's detectors do).
 */
export async function trainDetector(detector: Detector, data: DetectionData, args: TrainDetectorArgs = {}): Promise<History> {
  const options = expectOptions(UNIT, args, KEYS, "{ epochs: 10, batchSize: 16 }");
  const train = checkDetectionData(UNIT, "data", data, detector);
  const validation = options.validationData === undefined ? undefined : checkDetectionData(UNIT, "validationData", options.validationData, detector);
  const epochs = expectNumber(UNIT, "epochs", options.epochs ?? 10, { min: 1, integer: true });
  const batchSize = expectNumber(UNIT, "batchSize", options.batchSize ?? 16, { min: 1, integer: true });
  const verbose = options.verbose ?? 1;
  if (![0, 1, 2].includes(verbose)) throw fail(`${UNIT}: invalid verbose. Expected 0, 1 or 2. Received: verbose=${show(verbose)}.`);
  if (options.optimizer !== undefined && !(options.optimizer instanceof tf.Optimizer)) {
    throw fail(`${UNIT}: invalid optimizer. Expected an optimizer such as Adam({ learningRate: 1e-3 }). Received: optimizer=${show(options.optimizer)}.`);
  }
  const optimizer = options.optimizer ?? Adam({ learningRate: 1e-3 });
  const rng = new Random(expectSeed(UNIT, options.seed));
  const n = train.images.shape[0];
  const steps = Math.ceil(n / batchSize);
  const progress = verbose === 0 ? undefined : new ProgressBar({ verbose });
  progress?.setParams({ epochs, steps, batchSize, samples: n });
  progress?.setModel(detector.model);
  await progress?.onTrainBegin();
  const history: Record<string, number[]> = {};
  const weights = detector.model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      await progress?.onEpochBegin(epoch);
      const order = rng.permutation(n);
      const sums: Record<string, number> = {};
      for (let step = 0; step < steps; step++) {
        const indices = Array.from(order.subarray(step * batchSize, (step + 1) * batchSize));
        const targets = indices.map((i) => train.targets[i]);
        const images = tf.tidy(() => tf.gather(train.images, indices)) as tf.Tensor4D;
        let parts: Record<string, tf.Scalar> = {};
        const loss = optimizer.minimize(() => {
          const out = detector.computeLoss(images, targets, true);
          parts = Object.fromEntries(Object.entries(out.parts).map(([k, v]) => [k, tf.keep(v)]));
          return out.loss;
        }, true, weights) as tf.Scalar;
        images.dispose();
        const logs: Record<string, number> = { loss: (await loss.data())[0] };
        for (const [k, v] of Object.entries(parts)) logs[k] = (await v.data())[0];
        tf.dispose([loss, ...Object.values(parts)]);
        if (!Number.isFinite(logs.loss)) {
          throw fail(`${UNIT}: the loss became ${logs.loss} at epoch ${epoch + 1}, step ${step + 1}. Expected a finite loss: lower the learning rate (e.g. Adam({ learningRate: 1e-4 })).`);
        }
        for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v * indices.length;
        await progress?.onBatchEnd(step, { ...logs, size: indices.length, batch: step });
      }
      const epochLogs: Record<string, number> = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
      if (validation) {
        for (const [k, v] of Object.entries(await meanLoss(detector, validation, batchSize))) epochLogs[`val_${k}`] = v;
      }
      for (const [k, v] of Object.entries(epochLogs)) (history[k] ??= []).push(v);
      await progress?.onEpochEnd(epoch, epochLogs);
    }
  } finally {
    if (options.optimizer === undefined) optimizer.dispose();
  }
  return { history, epoch: Array.from({ length: epochs }, (_, i) => i), params: { verbose, epochs, steps } };
}
