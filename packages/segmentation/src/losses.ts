/**
 * Per-pixel losses of semantic segmentation, for `compile({ loss })` of @convlab/layers: weighted
 * cross-entropy over class ids, and the soft Dice and Jaccard (IoU) losses that suit rare classes.
 *
 * Every loss takes yTrue as class ids `[N, H, W]` or `[N, H, W, 1]` (any numeric dtype; tfjs hands
 * targets over as float32) or as their one-hot `[N, H, W, C]` (from `oneHotMask`), and yPred
 * as softmax probabilities `[N, H, W, C]`. It returns a scalar for the batch, so that compile, fit
 * and evaluate report exactly the formula documented (tfjs takes the mean of a loss's value, a
 * no-op on a scalar). Over several batches, `evaluate` averages the batch values weighted by batch
 * size, as Keras does; for Dice and Jaccard, which pool a batch's pixels, that differs from the
 * value of the whole set in one batch.
 *
 * Targets for convlab's `fit`/`evaluate`: every loss here is marked `sparseTargets: true`
 * (@convlab/layers' `SparseLossFn`), so they take the masks as class ids `[N, H, W]` or
 * `[N, H, W, 1]`, from tensors (also `validationData`) and batch sources alike; the loss gets
 * them as `[N, H, W, 1]`. One-hot targets `oneHotMask(masks, C, { ignoreClass })` work too
 * (ignored pixels become all-zero rows, which the losses skip when given an `ignoreClass`; an
 * `ignoreClass` inside [0, C) is only recognised in ids).
 *
 * Ids are not range-checked here (that would read the tensor at every step): check a dataset once
 * with `checkMasks`. An id outside [0, C) that is not `ignoreClass` matches no class.
 */
import * as tf from "@tensorflow/tfjs";
import { expectBoolean, expectNumber, expectOptions, fail, show } from "@convlab/engine";
import type { LossOrMetricFn, SparseLossFn } from "@convlab/layers";
import { readIgnoreClass, shapeText } from "./masks";

/** Keras's `backend.epsilon()`: probabilities are clipped to [EPSILON, 1 − EPSILON] before the log. */
const EPSILON = 1e-7;

/** Class weights: one per class in id order, or `{ classId: weight }` (missing classes weigh 1). */
export type ClassWeights = readonly number[] | { readonly [classId: number]: number };

/** Options of {@link sparseCategoricalCrossentropy}. */
export interface SparseCategoricalCrossentropyArgs {
  /**
   * The weight (finite, >= 0) of a pixel of each class: an array with one weight per class (its
   * length must be C), or an object `{ classId: weight }` where missing classes weigh 1. Default:
   * every class 1.
   */
  classWeights?: ClassWeights;
  /** Pixels of this id contribute nothing and are not counted (often 255 or -1; may be a class in [0, C)). Default: none. */
  ignoreClass?: number;
  /** Whether yPred holds logits rather than softmax probabilities. Default false. */
  fromLogits?: boolean;
}

/** Options of {@link diceLoss}. */
export interface DiceLossArgs {
  /** Added to numerator and denominator of each class's Dice, a number > 0: an absent, unpredicted class scores 1 rather than 0/0. Default 1. */
  smooth?: number;
  /** Pixels of this id are left out of every sum (prediction and truth). Default: none. */
  ignoreClass?: number;
  /** The class ids whose Dice is averaged (e.g. `[1, 2]` to leave out the background). Default: every class of yPred. */
  classes?: readonly number[];
}

/** Options of {@link jaccardLoss}. */
export interface JaccardLossArgs {
  /** Added to intersection and union of each class, a number > 0. Default 1. */
  smooth?: number;
  /** Pixels of this id are left out of every sum. Default: none. */
  ignoreClass?: number;
  /** The class ids whose IoU is averaged. Default: every class of yPred. */
  classes?: readonly number[];
}

/**
 * Per-pixel categorical cross-entropy from class ids, weighted by class, with pixels to ignore.
 *
 * For counted pixels i (those not of `ignoreClass`) with class t_i and probabilities p_i:
 *   loss = Σ_i w[t_i] · −log p_i[t_i] / (number of counted pixels)
 * where p is clipped to [1e−7, 1 − 1e−7] and renormalised to sum 1, as Keras and tfjs do, and w is
 * `classWeights` (1 by default). No counted pixel gives 0. Without options the value equals the
 * mean of tfjs's `tf.metrics.sparseCategoricalCrossentropy(yTrue, yPred)`.
 *
 * Shapes: yTrue `[N, H, W]`, `[N, H, W, 1]` or one-hot `[N, H, W, C]`; yPred `[N, H, W, C]` → a scalar.
 *
 * @param args classWeights (every class 1), ignoreClass (none), fromLogits (false).
 * @returns A loss function named "sparse_categorical_crossentropy" and marked `sparseTargets: true`,
 *   for `compile({ loss })` or `tf.grad`. It throws ConvlabError when yTrue's shape does not fit yPred's, or when the class
 *   weights or their keys do not fit yPred's C.
 * @throws ConvlabError for a bad option (a negative weight, a key that is not a class id, a
 *   fractional ignoreClass, an unknown option).
 * @example
 * ```ts
 * compile(unet, { optimizer: "adam", loss: sparseCategoricalCrossentropy({ classWeights: { 1: 5 }, ignoreClass: 255 }) });
 * await fit(unet, x, masks, { epochs: 10 });   // masks [N, H, W]: class ids, 255 for void
 * ```
 * Keras counterpart: `keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=255)`,
 * whose "sum_over_batch_size" reduction with the ignore mask is also Σ w·ce / (counted pixels).
 * Keras's `fit(class_weight=…)` rejects 3-D targets; its recipe for masks is a per-pixel
 * `sample_weight = weights[mask]`, which gives this value.
 */
export function sparseCategoricalCrossentropy(args?: SparseCategoricalCrossentropyArgs): SparseLossFn {
  const unit = "sparseCategoricalCrossentropy";
  const opts = expectOptions(unit, args, ["classWeights", "ignoreClass", "fromLogits"], "{ classWeights: { 1: 5 }, ignoreClass: 255 }");
  const weights = readClassWeights(unit, opts.classWeights);
  const ignoreClass = readIgnoreClass(unit, opts.ignoreClass);
  const fromLogits = opts.fromLogits === undefined ? false : expectBoolean(unit, "fromLogits", opts.fromLogits);
  return sparseLoss("sparse_categorical_crossentropy", (yTrue, yPred) => {
    const classes = checkPair(unit, yTrue, yPred);
    const w = weights && weightVector(unit, weights, classes);
    return tf.tidy(() => {
      const { t, valid, p } = pixels(yTrue, yPred, classes, ignoreClass);
      let logp: tf.Tensor;
      if (fromLogits) {
        logp = tf.logSoftmax(p);
      } else {
        // tfjs's order (clip, renormalise, clip), so that the unweighted loss is tfjs's to the last bit
        const clipped = tf.clipByValue(p, EPSILON, 1 - EPSILON);
        logp = tf.log(tf.clipByValue(tf.div(clipped, tf.sum(clipped, -1, true)), EPSILON, 1 - EPSILON));
      }
      let ce = tf.neg(tf.sum(tf.mul(t, logp), -1));
      if (w) ce = tf.mul(ce, tf.sum(tf.mul(t, tf.tensor1d(w)), -1));
      return tf.div(tf.sum(tf.mul(ce, valid)), tf.maximum(tf.sum(valid), 1));
    });
  });
}

/**
 * Soft multi-class Dice loss from class ids: 1 − the mean over classes of each class's Dice.
 *
 * For class c, with p the predicted probability of c and t = 1 where the pixel is of class c,
 * summed over the batch and its pixels (ignored pixels left out):
 *   dice_c = (2·Σ p·t + smooth) / (Σ p + Σ t + smooth),   loss = 1 − mean over `classes` of dice_c.
 * Every class counts the same however few its pixels, which is why Dice suits rare classes.
 *
 * Shapes: yTrue `[N, H, W]`, `[N, H, W, 1]` or one-hot `[N, H, W, C]`; yPred `[N, H, W, C]` → a scalar.
 *
 * @param args smooth (1, > 0), ignoreClass (none), classes (every class).
 * @returns A loss function named "dice", marked `sparseTargets: true`. It throws ConvlabError when yTrue's shape does not fit
 *   yPred's, or a class of `classes` is not below yPred's C.
 * @throws ConvlabError for a bad option.
 * @example
 * ```ts
 * compile(unet, { optimizer: "adam", loss: diceLoss({ classes: [1, 2] }) });   // Dice of the foreground classes
 * ```
 * Keras counterpart: `keras.losses.Dice()`, which takes one-hot targets and pools every class
 * and pixel into one Dice, 1 − 2·Σ p·t / (Σ p + Σ t + 1e−7): frequent classes dominate it and
 * an empty batch is 0/0. This one is the per-class mean ("macro" Dice, as segmentation_models'
 * `DiceLoss`), from ids, with a smoothing term.
 */
export function diceLoss(args?: DiceLossArgs): SparseLossFn {
  return overlapLoss("diceLoss", "dice", args, (i, p, t, s) => tf.div(tf.add(tf.mul(2, i), s), tf.add(tf.add(p, t), s)));
}

/**
 * Soft multi-class Jaccard (IoU) loss from class ids: 1 − the mean over classes of each class's soft IoU.
 *
 * For class c, summed over the batch and its pixels (ignored pixels left out):
 *   I_c = Σ p·t,   U_c = Σ p + Σ t − I_c,   loss = 1 − mean over `classes` of (I_c + smooth) / (U_c + smooth).
 * The differentiable counterpart of `MeanIoU`, which counts argmax pixels.
 *
 * Shapes: yTrue `[N, H, W]`, `[N, H, W, 1]` or one-hot `[N, H, W, C]`; yPred `[N, H, W, C]` → a scalar.
 *
 * @param args smooth (1, > 0), ignoreClass (none), classes (every class).
 * @returns A loss function named "jaccard", marked `sparseTargets: true`. It throws ConvlabError when yTrue's shape does not
 *   fit yPred's, or a class of `classes` is not below yPred's C.
 * @throws ConvlabError for a bad option.
 * @example
 * ```ts
 * compile(unet, { optimizer: "adam", loss: jaccardLoss({ ignoreClass: 255 }) });
 * ```
 * Keras counterpart: none in Keras (its `keras.metrics.IoU`/`MeanIoU` count hard predictions and
 * have no gradient); segmentation_models' `JaccardLoss` is this per-class mean.
 */
export function jaccardLoss(args?: JaccardLossArgs): SparseLossFn {
  return overlapLoss("jaccardLoss", "jaccard", args, (i, p, t, s) => {
    const union = tf.sub(tf.add(p, t), i);
    return tf.div(tf.add(i, s), tf.add(union, s));
  });
}

/** Dice and Jaccard: per class sums of p·t, p and t, a score per class, 1 − its mean. */
function overlapLoss(
  unit: string,
  name: string,
  args: DiceLossArgs | JaccardLossArgs | undefined,
  score: (intersection: tf.Tensor, predicted: tf.Tensor, truth: tf.Tensor, smooth: number) => tf.Tensor,
): SparseLossFn {
  const opts = expectOptions(unit, args, ["smooth", "ignoreClass", "classes"], "{ smooth: 1, ignoreClass: 255 }");
  const smooth = opts.smooth === undefined ? 1 : expectNumber(unit, "smooth", opts.smooth, { min: 0, exclusiveMin: true });
  const ignoreClass = readIgnoreClass(unit, opts.ignoreClass);
  const selected = readClasses(unit, opts.classes);
  return sparseLoss(name, (yTrue, yPred) => {
    const classes = checkPair(unit, yTrue, yPred);
    if (selected && selected.some((c) => c >= classes)) {
      throw fail(`${unit}: invalid classes. Expected class ids in [0, ${classes}) (the last axis of yPred). Received: classes=${show(selected)}.`);
    }
    return tf.tidy(() => {
      const { t, valid, p } = pixels(yTrue, yPred, classes, ignoreClass);
      const pm = tf.mul(p, tf.expandDims(valid, -1));
      const perClass = score(tf.sum(tf.mul(pm, t), 0), tf.sum(pm, 0), tf.sum(t, 0), smooth);
      const kept = selected ? tf.gather(perClass, tf.tensor1d(selected, "int32")) : perClass;
      return tf.sub(1, tf.mean(kept));
    });
  });
}

/**
 * The number of classes C, after checking that yTrue is ids `[..]`/`[.., 1]` or one-hot `[.., C]`
 * for yPred `[.., C]`. Shapes only: called at every step, it reads no values.
 */
function checkPair(unit: string, yTrue: tf.Tensor, yPred: tf.Tensor): number {
  if (!(yPred instanceof tf.Tensor) || yPred.rank < 2) {
    throw fail(`${unit}: invalid yPred. Expected probabilities of shape [N, H, W, C]. Received: yPred=${show(yPred)}.`);
  }
  if (!(yTrue instanceof tf.Tensor) || yTrue.dtype === "string" || yTrue.dtype === "complex64") {
    throw fail(`${unit}: invalid yTrue. Expected a tensor of class ids. Received: yTrue=${show(yTrue)}.`);
  }
  const base = yPred.shape.slice(0, -1);
  const classes = yPred.shape[yPred.rank - 1];
  const fits = sameShape(yTrue.shape, base) || sameShape(yTrue.shape, [...base, 1]) || sameShape(yTrue.shape, yPred.shape);
  if (!fits) {
    throw fail(
      `${unit}: invalid yTrue. Expected class ids of shape ${shapeText(base)} or ${shapeText([...base, 1])}, or their one-hot ${shapeText(yPred.shape)}, for yPred of shape ${shapeText(yPred.shape)}. Received: yTrue=${show(yTrue)}.`,
    );
  }
  return classes;
}

/**
 * Flattened pixels, inside tf.tidy: t one-hot `[P, C]` float32 (zero rows for ignored pixels),
 * valid `[P]` (1 for a counted pixel), p the predictions `[P, C]`.
 */
function pixels(yTrue: tf.Tensor, yPred: tf.Tensor, classes: number, ignoreClass: number | undefined): { t: tf.Tensor; valid: tf.Tensor; p: tf.Tensor } {
  const p = tf.reshape(tf.cast(yPred, "float32"), [-1, classes]);
  const oneHot = classes > 1 && sameShape(yTrue.shape, yPred.shape);
  if (oneHot) {
    const t = tf.reshape(tf.cast(yTrue, "float32"), [-1, classes]);
    // one-hot targets mark ignored pixels by an all-zero row (oneHotMask's ignoreClass)
    const valid = ignoreClass === undefined ? tf.ones([t.shape[0]]) : tf.cast(tf.greater(tf.sum(t, -1), 0), "float32");
    return { t, valid, p };
  }
  const ids = tf.reshape(tf.cast(yTrue, "int32"), [-1]);
  let t = tf.cast(tf.equal(tf.expandDims(ids, -1), tf.range(0, classes, 1, "int32")), "float32");
  if (ignoreClass === undefined) return { t, valid: tf.ones([t.shape[0]]), p };
  const valid = tf.cast(tf.notEqual(ids, ignoreClass), "float32");
  // an ignored id inside [0, C) would otherwise still count as its class
  if (ignoreClass >= 0 && ignoreClass < classes) t = tf.mul(t, tf.expandDims(valid, -1));
  return { t, valid, p };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The loss named `name` (its log and message name), marked `sparseTargets: true` so that
 * @convlab/layers' fit and evaluate hand it class ids rather than asking for one-hot targets.
 */
function sparseLoss(name: string, fn: LossOrMetricFn): SparseLossFn {
  Object.defineProperty(fn, "name", { value: name });
  Object.defineProperty(fn, "sparseTargets", { value: true, enumerable: true });
  return fn as SparseLossFn;
}

/** classWeights as given, checked: an array of weights, or a map of class id → weight. */
function readClassWeights(unit: string, value: unknown): number[] | Map<number, number> | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) throw fail(`${unit}: invalid classWeights. Expected one weight per class. Received: classWeights=[].`);
    return value.map((w, i) => expectNumber(unit, `classWeights[${i}]`, w, { min: 0 }));
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const map = new Map<number, number>();
    for (const [key, w] of Object.entries(value)) {
      if (!/^(0|[1-9]\d*)$/.test(key)) {
        throw fail(`${unit}: invalid classWeights. Expected class ids (integers >= 0) as keys, such as { 1: 5 }. Received: key ${JSON.stringify(key)}.`);
      }
      map.set(Number(key), expectNumber(unit, `classWeights[${key}]`, w, { min: 0 }));
    }
    return map;
  }
  throw fail(`${unit}: invalid classWeights. Expected an array with one weight per class or an object { classId: weight }. Received: classWeights=${show(value)}.`);
}

/** The weight of every class 0..C−1, checked against C. */
function weightVector(unit: string, weights: number[] | Map<number, number>, classes: number): number[] {
  if (Array.isArray(weights)) {
    if (weights.length !== classes) {
      throw fail(`${unit}: invalid classWeights. Expected one weight per class (${classes}, the last axis of yPred). Received: classWeights=${show(weights)}.`);
    }
    return weights;
  }
  for (const id of weights.keys()) {
    if (id >= classes) throw fail(`${unit}: invalid classWeights. Expected class ids in [0, ${classes}) (the last axis of yPred) as keys. Received: key ${id}.`);
  }
  return Array.from({ length: classes }, (_, c) => weights.get(c) ?? 1);
}

/** `classes`: a non-empty array of distinct integers >= 0 (checked against C at each call). */
function readClasses(unit: string, value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const ok = Array.isArray(value) && value.length > 0 && value.every((c) => Number.isInteger(c) && c >= 0) && new Set(value).size === value.length;
  if (!ok) throw fail(`${unit}: invalid classes. Expected a non-empty array of distinct class ids (integers >= 0). Received: classes=${show(value)}.`);
  return [...(value as number[])];
}
