/**
 * Keras's `decode_predictions`: the top ImageNet classes of a batch of predictions.
 *
 * The class index (`imagenet_class_index.json`, beside this file) is Keras's file, which
 * Keras downloads from storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json:
 * `{"0": ["n01440764", "tench"], …, "999": ["n15075141", "toilet_tissue"]}`, class index →
 * [WordNet id, name]. The machine that wrote it was offline; it was taken from a public copy
 * (github.com/mpsido/cats-and-dogs, imagenet_class_index.json) whose JSON re-serialised as
 * Python's `json.dumps` has Keras's `file_hash` md5 c2c37ea517e94d9795004a39431a14cb, and
 * checked against torchvision's `_IMAGENET_CATEGORIES` (same order; 998 of 1000 names equal up
 * to `_`/case, the other two are torchvision's disambiguations "crane bird" and "maillot tank suit").
 * Stored here one class a line.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import IMAGENET_CLASS_INDEX from "./imagenet_class_index.json";

/** One guess of {@link decodePredictions}: Keras's tuple `(class_name, class_description, score)`. */
export interface ImagenetPrediction {
  /** The WordNet id of the class, e.g. `"n01440764"` (Keras's `class_name`). */
  classId: string;
  /** Keras's human name of the class, e.g. `"tench"`, `"tiger_cat"` (Keras's `class_description`). */
  label: string;
  /** The model's output for that class (a probability with a softmax top). */
  probability: number;
}

/** Options of {@link decodePredictions}. */
export interface DecodePredictionsArgs {
  /** How many classes to return per image, integer in [1, number of classes]. Default 5 (Keras `top`). */
  top?: number;
  /**
   * The class names of another model (not ImageNet's): `preds` is then `[samples, classNames.length]`
   * and each result's `classId` is the class index as a string. Default: ImageNet's 1000 classes.
   */
  classNames?: readonly string[];
}

const UNIT = "decodePredictions";
const CLASSES = 1000;
/** `[wnid, name]` by class index (Keras's module-level `CLASS_INDEX`). */
const CLASS_INDEX: ReadonlyArray<readonly [string, string]> = Array.from({ length: CLASSES }, (_, i) => {
  const [wnid, name] = (IMAGENET_CLASS_INDEX as Record<string, string[]>)[String(i)];
  return [wnid, name] as const;
});

/**
 * The `top` most likely ImageNet classes of each image, most likely first
 * (Keras `decode_predictions`).
 *
 * @param preds `[samples, 1000]`: the output of an application model with its ImageNet top
 *   (`includeTop: true`), one row per image. Not disposed.
 * @param args `top`: classes per image, default 5; `classNames`: another model's classes instead of ImageNet's.
 * @returns One list per image of `{ classId, label, probability }`, sorted by probability
 *   (ties: lower class index first).
 * @throws ConvlabError when `preds` is not a `[samples, 1000]` tensor (Keras's error), or `top`
 *   is not an integer in [1, 1000].
 * @example
 * const preds = model.predict(preprocessInput(images, "VGG16")) as tf.Tensor;
 * decodePredictions(preds, { top: 3 })[0];
 * // [{ classId: "n02504458", label: "African_elephant", probability: 0.91 }, …]
 *
 * Keras equivalent: `keras.applications.vgg16.decode_predictions(preds, top=3)`, which gives
 * tuples `('n02504458', 'African_elephant', 0.91)`; here objects with named fields. Synchronous,
 * as Keras: it reads `preds` with `dataSync`.
 */
export function decodePredictions(preds: tf.Tensor, args?: DecodePredictionsArgs): ImagenetPrediction[][] {
  const options = expectOptions(UNIT, args, ["top", "classNames"], "{ top: 5 }");
  const names = options.classNames;
  if (names !== undefined && (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string"))) {
    throw fail(`${UNIT}: invalid classNames. Expected a non-empty array of strings, one per class of the model. Received: classNames=${show(names)}.`);
  }
  const classes = names?.length ?? CLASSES;
  const index: ReadonlyArray<readonly [string, string]> = names ? names.map((n, i) => [String(i), n] as const) : CLASS_INDEX;
  const top = expectNumber(UNIT, "top", options.top ?? Math.min(5, classes), { min: 1, max: classes, integer: true });
  if (!(preds instanceof tf.Tensor) || preds.rank !== 2 || preds.shape[1] !== classes) {
    let hint = "";
    if (preds instanceof tf.Tensor && preds.rank === 1 && preds.shape[0] === classes) hint = " For one image's predictions add the batch axis: preds.expandDims(0).";
    else if (preds instanceof tf.Tensor && preds.rank === 2) hint = names ? " Pass one class name per output of the model." : " It decodes the output of a model with ImageNet's 1000-class top (includeTop: true); for another model pass its classNames.";
    throw fail(`${UNIT}: invalid preds. Expected a batch of predictions, a 2D tensor of shape [samples, ${classes}]. Received: preds=${show(preds)}.${hint}`);
  }
  const values = preds.dataSync();
  const samples = preds.shape[0];
  const order = Array.from({ length: classes }, (_, i) => i);
  const results: ImagenetPrediction[][] = [];
  for (let s = 0; s < samples; s++) {
    const row = values.subarray(s * classes, (s + 1) * classes);
    // NaN sorts last; equal values keep class order.
    const key = (i: number): number => (Number.isNaN(row[i]) ? -Infinity : row[i]);
    const ranked = [...order].sort((a, b) => key(b) - key(a) || a - b).slice(0, top);
    results.push(ranked.map((i) => ({ classId: index[i][0], label: index[i][1], probability: row[i] })));
  }
  return results;
}
