/**
 * Segmentation metrics from one confusion matrix of pixels: mean IoU (the lesson's headline
 * number), IoU per class and pixel accuracy. {@link MeanIoU} accumulates over batches as Keras's
 * streaming metrics do; {@link meanIou}, {@link iouPerClass} and {@link pixelAccuracy} are one call
 * on one set of masks, counted by the same class.
 *
 * For class c, with the pixels counted (those whose true id is not `ignoreClass`):
 *   TP_c = pixels of class c predicted c, FP_c = predicted c but of another class,
 *   FN_c = of class c but predicted another,   IoU_c = TP_c / (TP_c + FP_c + FN_c).
 */
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { checkIds, idsText, MaskLike, position, readIgnoreClass, readShaped, shapeText } from "./masks";

/** Options of {@link MeanIoU}. */
export interface MeanIoUArgs {
  /** The number of classes C, an integer >= 1: ids are in [0, C). */
  numClasses: number;
  /** Pixels whose true id is this are not counted (often 255 or -1; a class in [0, C) is allowed, as in Keras). Default: none. */
  ignoreClass?: number;
  /** A name per class, in id order, for {@link MeanIoU.iouByClass}. Default: the ids ("0", "1", …). */
  classNames?: readonly string[];
}

/** Options of {@link meanIou}, {@link iouPerClass} and {@link pixelAccuracy}. */
export interface MaskIouArgs {
  /** The number of classes C, an integer >= 1. */
  numClasses: number;
  /** Pixels whose true id is this are not counted. Default: none. */
  ignoreClass?: number;
}

/** Counts a batch into a metric under the caller's unit name (set in MeanIoU's static block). */
let countInto: (metric: MeanIoU, unit: string, yTrue: MaskLike, yPred: MaskLike) => void;

/**
 * Mean intersection over union of segmentation masks, accumulated over batches: a C×C confusion
 * matrix of pixels (rows the true class, columns the predicted one), and the IoU, mean IoU and
 * pixel accuracy it gives.
 *
 * `updateState(yTrue, yPred)` takes true ids `[N, H, W]` or `[N, H, W, 1]` and predictions as ids
 * of the same shape or as scores `[N, H, W, C]` (softmax probabilities or logits; the argmax of
 * each pixel is taken, lower id on ties). Tensors are read once with `dataSync`, `{ data, shape }`
 * arrays (a datasets `Uint8Tensor`) directly; the counting is plain JavaScript, so no tensor is
 * made or kept, and nothing is disposed.
 *
 * @throws ConvlabError from the constructor for a bad option; from updateState for a prediction
 *   that fits neither as ids nor as scores with C classes, or an id that is not an integer in
 *   [0, C) (nor ignoreClass), named with its position:
 *   `MeanIoU.updateState: invalid yTrue. Expected class ids in [0, 3). Received: 7 at yTrue[0][4][2].`
 *   A batch with an error counts nothing.
 * @example
 * ```ts
 * const miou = new MeanIoU({ numClasses: 3, ignoreClass: 255, classNames: ["background", "road", "car"] });
 * for (const { xs, ys } of testBatches) miou.updateState(ys, tf.tidy(() => model.predict(xs) as tf.Tensor));
 * miou.result();        // 0.71
 * miou.iouByClass();    // { background: 0.93, road: 0.74, car: 0.46 }
 * ```
 * Keras counterpart: `keras.metrics.MeanIoU(num_classes=3, ignore_class=255, sparse_y_pred=False)`
 * (`sparse_y_pred=True`, its default, for predicted ids): `update_state`, `result`,
 * `reset_state`, and the same rule for the mean (classes with TP + FP + FN > 0; 0 before any pixel).
 */
export class MeanIoU {
  /** The Keras class name. */
  static readonly className = "MeanIoU";
  /** The number of classes C. */
  readonly numClasses: number;
  /** The true id whose pixels are not counted, if any. */
  readonly ignoreClass: number | undefined;
  /** The class names given, or the ids as strings. */
  readonly classNames: readonly string[];
  /** counts[t·C + p]: pixels of true class t predicted p. */
  #counts: Float64Array;

  static {
    countInto = (metric, unit, yTrue, yPred) => metric.#count(unit, yTrue, yPred);
  }

  /**
   * @param args numClasses (required, integer >= 1), ignoreClass (none), classNames (the ids).
   * @throws ConvlabError for a bad or unknown option, or classNames that are not C strings.
   */
  constructor(args: MeanIoUArgs) {
    const unit = "MeanIoU";
    const opts = readArgs(unit, args, true);
    this.numClasses = opts.numClasses;
    this.ignoreClass = opts.ignoreClass;
    const names = (args as MeanIoUArgs).classNames;
    if (names !== undefined && (!Array.isArray(names) || names.length !== this.numClasses || !names.every((n) => typeof n === "string"))) {
      throw fail(`${unit}: invalid classNames. Expected ${this.numClasses} strings, one per class. Received: classNames=${show(names)}.`);
    }
    this.classNames = names ? [...names] : Array.from({ length: this.numClasses }, (_, c) => String(c));
    this.#counts = new Float64Array(this.numClasses * this.numClasses);
  }

  /**
   * Counts the pixels of a batch.
   *
   * @param yTrue True class ids `[N, H, W]` or `[N, H, W, 1]` (a tensor of any numeric dtype or `{ data, shape }`).
   * @param yPred Predicted ids of the same shape, or scores `[N, H, W, C]` whose argmax is taken.
   * @throws ConvlabError for shapes that do not fit or ids out of range; the state is then unchanged.
   */
  updateState(yTrue: MaskLike, yPred: MaskLike): void {
    this.#count("MeanIoU.updateState", yTrue, yPred);
  }

  /** The mean IoU, as Keras's `result()`: {@link MeanIoU.meanIou}. */
  result(): number {
    return this.meanIou();
  }

  /** Forgets every pixel counted (Keras's `reset_state()`), e.g. between epochs. */
  resetState(): void {
    this.#counts.fill(0);
  }

  /** The C×C confusion matrix of pixels: `[t][p]` counts pixels of true class t predicted p (a copy). */
  confusionMatrix(): number[][] {
    const c = this.numClasses;
    return Array.from({ length: c }, (_, t) => Array.from(this.#counts.subarray(t * c, (t + 1) * c)));
  }

  /** IoU_c = TP / (TP + FP + FN) for every class c, NaN for a class neither true nor predicted in any pixel counted. */
  iouPerClass(): number[] {
    return this.#perClass().map(({ tp, union }) => (union > 0 ? tp / union : NaN));
  }

  /** {@link MeanIoU.iouPerClass} keyed by class name: `{ background: 0.93, road: 0.74, car: NaN }`. */
  iouByClass(): Record<string, number> {
    const iou = this.iouPerClass();
    return Object.fromEntries(this.classNames.map((name, c) => [name, iou[c]]));
  }

  /** The mean of IoU_c over the classes with TP + FP + FN > 0 (Keras's rule); 0 when no pixel was counted. */
  meanIou(): number {
    const present = this.#perClass().filter(({ union }) => union > 0);
    return present.length === 0 ? 0 : present.reduce((s, { tp, union }) => s + tp / union, 0) / present.length;
  }

  /** The fraction of counted pixels whose predicted class is the true one; 0 when no pixel was counted. */
  pixelAccuracy(): number {
    const c = this.numClasses;
    let correct = 0;
    let total = 0;
    for (let t = 0; t < c; t++) {
      correct += this.#counts[t * c + t];
      for (let p = 0; p < c; p++) total += this.#counts[t * c + p];
    }
    return total === 0 ? 0 : correct / total;
  }

  /** TP and TP + FP + FN of every class. */
  #perClass(): Array<{ tp: number; union: number }> {
    const c = this.numClasses;
    const rows = new Array<number>(c).fill(0);
    const cols = new Array<number>(c).fill(0);
    for (let t = 0; t < c; t++) {
      for (let p = 0; p < c; p++) {
        rows[t] += this.#counts[t * c + p];
        cols[p] += this.#counts[t * c + p];
      }
    }
    return rows.map((row, k) => {
      const tp = this.#counts[k * c + k];
      return { tp, union: row + cols[k] - tp };
    });
  }

  /** Counts one batch into a local matrix, merged only when every pixel was valid. */
  #count(unit: string, yTrue: MaskLike, yPred: MaskLike): void {
    const c = this.numClasses;
    const truth = readShaped(unit, "yTrue", yTrue);
    const pred = readShaped(unit, "yPred", yPred);
    const base = dropTrailingOne(truth.shape);
    let scores: boolean;
    if (sameShape(dropTrailingOne(pred.shape), base)) {
      scores = false;
    } else if (pred.shape.length === base.length + 1 && sameShape(pred.shape.slice(0, -1), base) && pred.shape[base.length] === c) {
      scores = true;
    } else {
      throw fail(
        `${unit}: invalid yPred. Expected class ids of shape ${shapeText(base)} or scores of shape ${shapeText([...base, c])} (numClasses ${c}) for yTrue of shape ${shapeText(truth.shape)}. Received: yPred of shape ${shapeText(pred.shape)}.`,
      );
    }
    const t = truth.values();
    const p = pred.values();
    if (!scores) checkIds(unit, "yPred", p, pred.shape, c, undefined);
    const local = new Float64Array(c * c);
    for (let i = 0; i < t.length; i++) {
      const id = t[i];
      if (id === this.ignoreClass) continue;
      if (!(Number.isInteger(id) && id >= 0 && id < c)) {
        throw fail(`${unit}: invalid yTrue. Expected ${idsText(c, this.ignoreClass)}. Received: ${show(id)} at ${position("yTrue", truth.shape, i)}.`);
      }
      let predicted: number;
      if (scores) {
        predicted = 0;
        let best = p[i * c];
        for (let k = 1; k < c; k++) {
          if (p[i * c + k] > best) [best, predicted] = [p[i * c + k], k];
        }
      } else {
        predicted = p[i];
      }
      local[id * c + predicted] += 1;
    }
    for (let k = 0; k < local.length; k++) this.#counts[k] += local[k];
  }
}

/**
 * Mean IoU of predicted masks against true ones, in one call: mean over the classes with
 * TP + FP + FN > 0 of TP / (TP + FP + FN).
 *
 * Shapes: yTrue `[N, H, W]` or `[N, H, W, 1]`; yPred ids of the same shape or scores `[N, H, W, C]` → a number.
 *
 * @param args numClasses (required), ignoreClass (none).
 * @throws ConvlabError as {@link MeanIoU} (shapes that do not fit, ids out of range, bad options).
 * @example
 * ```ts
 * meanIou(yTest, model.predict(xTest) as tf.Tensor, { numClasses: 3 });   // 0.71
 * ```
 * Keras counterpart: `m = keras.metrics.MeanIoU(num_classes=3); m.update_state(y, pred); m.result()`.
 */
export function meanIou(yTrue: MaskLike, yPred: MaskLike, args: MaskIouArgs): number {
  return counted("meanIou", yTrue, yPred, args).meanIou();
}

/**
 * IoU of every class in one call: TP / (TP + FP + FN), NaN for a class neither true nor predicted.
 *
 * Shapes: yTrue `[N, H, W]` or `[N, H, W, 1]`; yPred ids of the same shape or scores `[N, H, W, C]` → C numbers.
 *
 * @param args numClasses (required), ignoreClass (none).
 * @throws ConvlabError as {@link MeanIoU}.
 * @example
 * ```ts
 * iouPerClass(masks, predicted, { numClasses: 3, ignoreClass: 255 });   // [0.93, 0.74, 0.46]
 * ```
 * Keras counterpart: one `keras.metrics.IoU(num_classes=3, target_class_ids=[c])` per class c
 * (which gives 0 rather than NaN for an absent class).
 */
export function iouPerClass(yTrue: MaskLike, yPred: MaskLike, args: MaskIouArgs): number[] {
  return counted("iouPerClass", yTrue, yPred, args).iouPerClass();
}

/**
 * Pixel accuracy in one call: the fraction of counted pixels whose predicted class is the true one.
 *
 * Shapes: yTrue `[N, H, W]` or `[N, H, W, 1]`; yPred ids of the same shape or scores `[N, H, W, C]` → a number.
 *
 * @param args numClasses (required), ignoreClass (none).
 * @throws ConvlabError as {@link MeanIoU}.
 * @example
 * ```ts
 * pixelAccuracy(masks, predicted, { numClasses: 3 });   // 0.94
 * ```
 * Keras counterpart: `keras.metrics.SparseCategoricalAccuracy()` on scores, `Accuracy()` on ids;
 * neither ignores a class.
 */
export function pixelAccuracy(yTrue: MaskLike, yPred: MaskLike, args: MaskIouArgs): number {
  return counted("pixelAccuracy", yTrue, yPred, args).pixelAccuracy();
}

/** A MeanIoU that has counted one batch, errors named after the one-shot function. */
function counted(unit: string, yTrue: MaskLike, yPred: MaskLike, args: MaskIouArgs): MeanIoU {
  const metric = new MeanIoU(readArgs(unit, args, false));
  countInto(metric, unit, yTrue, yPred);
  return metric;
}

function readArgs(unit: string, args: MeanIoUArgs | MaskIouArgs, withNames: boolean): { numClasses: number; ignoreClass: number | undefined } {
  if (args === undefined) throw fail(`${unit}: missing options. Expected an object such as { numClasses: 3 }. Received: options=undefined.`);
  const allowed = withNames ? ["numClasses", "ignoreClass", "classNames"] : ["numClasses", "ignoreClass"];
  const opts = expectOptions(unit, args, allowed, "{ numClasses: 3 }");
  return { numClasses: expectNumber(unit, "numClasses", opts.numClasses, { min: 1, integer: true }), ignoreClass: readIgnoreClass(unit, opts.ignoreClass) };
}

function dropTrailingOne(shape: readonly number[]): readonly number[] {
  return shape.length > 1 && shape[shape.length - 1] === 1 ? shape.slice(0, -1) : shape;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
