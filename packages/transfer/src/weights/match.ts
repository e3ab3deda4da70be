/**
 * Matching a file's weights to a model's, the checks, and the assignment: shared by the Keras
 * `.h5` and the tfjs `model.json` readers. Everything is checked before anything is assigned,
 * so a failed load leaves the model as it was.
 */
import * as tf from "@tensorflow/tfjs";
import { fail } from "@convlab/engine";

/** One weight variable of a layer (tfjs's `LayerVariable`). */
export type LayerVariable = tf.LayersModel["weights"][number];

/** A layer of the model (tfjs's `Layer`). */
export type ModelLayer = tf.LayersModel["layers"][number];

/** A weight as a file describes it, before its values are read. */
export interface FileWeight {
  /** Its name in the file, e.g. `block1_conv1/kernel:0` (Keras) or `block1_conv1/kernel` (tfjs). */
  name: string;
  shape: number[];
}

/** A model variable and the file weight that goes into it. */
export interface Pair<W extends FileWeight> {
  variable: LayerVariable;
  weight: W;
}

/** The model's layers that own weights, in the model's order (Keras's `filtered_layers`). */
export function weightedLayers(model: tf.LayersModel): ModelLayer[] {
  return model.layers.filter((layer) => layer.weights.length > 0);
}

/** `[3,3,3,64]`, the form shapes take in messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Up to five names and a count, for "the file has weights for …". */
export function listNames(names: readonly string[]): string {
  if (names.length === 0) return "no layer";
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
  return names.length > 5 ? `${shown}, … (${names.length} layers)` : shown;
}

/** The error for a model layer the file has no weights for. */
export function missingLayer(unit: string, source: string, layer: string, fileLayers: readonly string[]): Error {
  return fail(
    `${unit}: ${source} has no weights for layer "${layer}" of the model. Expected a file saved from a model with the same layer names; the file has weights for ${listNames(fileLayers)}. Load the file of this architecture, or name the model's layers as in the file.`,
  );
}

/** A weight's name without TensorFlow's `:0` output index. */
export function baseName(name: string): string {
  return name.replace(/:\d+$/, "");
}

/**
 * Pairs a layer's variables with a file layer's weights, the count and every shape checked.
 *
 * Keras pairs them in order (`_legacy_weights`: trainable first, then non-trainable; tfjs's
 * `layer.weights` has the same order). When the file's names are exactly the variables' names,
 * they are paired by name instead, which gives the same pairs for ordinary layers and the right
 * ones for a nested model saved while some of its layers were frozen (freezing moves their
 * variables into the non-trainable part, changing the order).
 *
 * @throws ConvlabError naming the layer and both counts, or the first weight whose shapes
 *   differ: `block1_conv1/kernel: file has [3,3,3,64], model has [3,3,1,64]`.
 */
export function pairLayer<W extends FileWeight>(unit: string, source: string, layer: ModelLayer, weights: readonly W[]): Pair<W>[] {
  const variables = layer.weights;
  if (weights.length !== variables.length) {
    throw fail(
      `${unit}: ${source} does not fit the model: layer "${layer.name}": file has ${weights.length} weight${weights.length === 1 ? "" : "s"} (${weights.map((w) => w.name).join(", ")}), model has ${variables.length} (${variables.map((v) => v.originalName).join(", ")}). Load the file of this architecture.`,
    );
  }
  const byName = new Map(weights.map((w) => [baseName(w.name), w]));
  const named = byName.size === weights.length && variables.every((v) => byName.has(v.originalName));
  const pairs = variables.map((variable, i) => ({ variable, weight: named ? (byName.get(variable.originalName) as W) : weights[i] }));
  for (const pair of pairs) checkShape(unit, source, pair.variable, pair.weight.shape);
  return pairs;
}

/** Throws the mis-shaped-weight error unless `fileShape` is the variable's shape. */
export function checkShape(unit: string, source: string, variable: LayerVariable, fileShape: readonly number[]): void {
  const modelShape = variable.shape as number[];
  if (fileShape.length === modelShape.length && fileShape.every((d, i) => d === modelShape[i])) return;
  throw fail(
    `${unit}: ${source} does not fit the model: ${variable.originalName}: file has ${shapeText(fileShape)}, model has ${shapeText(modelShape)}. Load the weights of this architecture (same input channels, classes and includeTop).`,
  );
}

/**
 * Makes one tensor per pair with `read`, then assigns them all. A failure while reading
 * disposes what was made and rethrows: nothing has been assigned yet.
 *
 * The values are assigned as they are, as Keras's `load_weights` does: no weight constraint
 * is applied (tfjs's `LayerVariable.write` would apply it).
 */
export function assignAll<W extends FileWeight>(pairs: readonly Pair<W>[], read: (pair: Pair<W>) => tf.Tensor): void {
  const tensors: tf.Tensor[] = [];
  try {
    for (const pair of pairs) tensors.push(read(pair));
  } catch (e) {
    tf.dispose(tensors);
    throw e;
  }
  try {
    pairs.forEach((pair, i) => (pair.variable.read() as tf.Variable).assign(tensors[i]));
  } finally {
    tf.dispose(tensors);
  }
}
