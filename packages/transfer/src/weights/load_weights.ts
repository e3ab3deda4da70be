/**
 * `loadWeights(model, path)`: Keras `.h5` files (weights only or full model) and tfjs
 * `model.json` files into a tfjs model, by layer name, everything checked before anything is
 * assigned.
 */
import * as tf from "@tensorflow/tfjs";
import { expectBoolean, expectOptions, fail, show } from "@convlab/engine";
import { promises as fsp } from "fs";
import * as nodePath from "path";
import { loadHdf5 } from "./hdf5";
import { H5Weight, describeNonHdf5, hasHdf5Signature, readKerasLayout, readWeight, withHdf5File } from "./keras_h5";
import { Pair, assignAll, missingLayer, pairLayer, weightedLayers } from "./match";
import { loadTfjsWeights, readError } from "./tfjs_format";

const UNIT = "loadWeights";

/**
 * Loads weights from a file into `model`, matching layers by name.
 *
 * Two formats, told apart by the path:
 * - a Keras HDF5 file (any other name, usually `.h5`): the weights-only layout of
 *   `model.save_weights("x.h5")` or the full-model layout of `model.save("x.h5")` (weights under
 *   `model_weights`), as TF-Keras 2.x and Keras 3's legacy HDF5 write them;
 * - a tfjs `model.json` (a name ending in `.json`, or a folder holding one) with its shard files.
 *
 * Each model layer that owns weights takes them from the file's layer of the same name: as many
 * weights, in the layer's order (Keras's: trainable first, BatchNormalization `gamma, beta,
 * moving_mean, moving_variance`, SeparableConv2D `depthwise_kernel, pointwise_kernel, bias`),
 * of the same shapes (tfjs keeps Keras's layouts: Conv2D kernels HWIO, Dense `[in, out]`,
 * DepthwiseConv2D `[h, w, in, multiplier]`). Layers of the file that the model lacks, and layers
 * of the file without weights, are ignored. Values are assigned as stored, without constraints.
 *
 * @param model The model to fill: a `tf.LayersModel` (`tf.model`, `tf.sequential`, an application).
 * @param path A file path (relative to `process.cwd()`; a `file://` prefix is accepted).
 * @param args `byName` (default true): see {@link LoadWeightsArgs}.
 * @returns When every weight is assigned.
 * @throws ConvlabError, one line, and the model is left unchanged: the path does not exist or
 *   cannot be read; the file is not an HDF5 file (a truncated download, a zip, an HTML page); it
 *   is not in the Keras 2 layout (a Keras 3 `.weights.h5`); a model layer has no weights in the
 *   file (`… has no weights for layer "block5_conv3" of the model …`); a count or shape differs
 *   (`… block1_conv1/kernel: file has [3,3,3,64], model has [3,3,1,64] …`).
 *
 * @example
 * ```ts
 * const model = await VGG16({ weights: null, includeTop: false });
 * await loadWeights(model, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5");
 * await loadWeights(model, "models/vgg/model.json");   // saved by model.save("file://models/vgg")
 * ```
 *
 * Keras equivalent: `model.load_weights("x.h5", by_name=True)`, with stricter checks: Keras
 * skips model layers absent from the file silently; here that is an error. Keras's default
 * (`by_name=False`, pairing layers by position) is `{ byName: false }`; names are the default
 * here because they stay stable when a model is built differently. Keras 1 files (Theano
 * kernels) are not converted.
 */
export async function loadWeights(model: tf.LayersModel, path: string, args: LoadWeightsArgs = {}): Promise<void> {
  checkModel(model);
  const options = expectOptions(UNIT, args, ["byName"], "{ byName: false }");
  const byName = expectBoolean(UNIT, "byName", options.byName ?? true);
  const file = resolvePath(UNIT, path);
  let stat;
  try {
    stat = await fsp.stat(file);
  } catch (e) {
    throw readError(UNIT, file, e);
  }
  if (stat.isDirectory()) {
    const json = nodePath.join(file, "model.json");
    const inside = await fsp.stat(json).catch(() => null);
    if (inside === null) {
      throw fail(`${UNIT}: ${file} is a folder without model.json. Expected a Keras .h5 weights file, or a tfjs model.json or its folder; check the path.`);
    }
    return loadTfjsWeights(UNIT, model, json);
  }
  if (/\.json$/i.test(file)) return loadTfjsWeights(UNIT, model, file);
  return loadKerasH5(model, file, byName);
}

/** Options of {@link loadWeights}. */
export interface LoadWeightsArgs {
  /**
   * `.h5` files: pair the model's layers with the file's by name (default true), or by position
   * (false: the i-th layer with weights takes the file's i-th layer with weights, as Keras's
   * default `by_name=False`, which is how Keras loads its ImageNet files: some were written
   * by Keras 2.0, whose automatic layer names counted from 1). tfjs files always go by name.
   */
  byName?: boolean;
}

async function loadKerasH5(model: tf.LayersModel, file: string, byName: boolean): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw readError(UNIT, file, e);
  }
  if (!hasHdf5Signature(bytes)) {
    throw fail(`${UNIT}: ${file} is not an HDF5 file (${describeNonHdf5(bytes)}). Expected a Keras .h5 saved by model.save_weights("x.h5") or model.save("x.h5"), or a tfjs model.json.`);
  }
  const h5 = await loadHdf5(UNIT);
  withHdf5File(h5, bytes, UNIT, file, (h5file) => {
    const layers = readKerasLayout(h5, h5file, UNIT, file);
    const pairs: Pair<H5Weight>[] = [];
    const modelLayers = weightedLayers(model);
    if (byName) {
      for (const layer of modelLayers) {
        const weights = layers.get(layer.name);
        if (weights === undefined) throw missingLayer(UNIT, file, layer.name, [...layers.keys()]);
        pairs.push(...pairLayer(UNIT, file, layer, weights));
      }
    } else {
      const fileLayers = [...layers.values()].filter((weights) => weights.length > 0);
      if (fileLayers.length !== modelLayers.length) {
        throw fail(`${UNIT}: ${file} does not fit the model: the model has ${modelLayers.length} layers with weights, the file ${fileLayers.length}. Load the file of this architecture (same includeTop), or pass { byName: true } to match layers by name.`);
      }
      modelLayers.forEach((layer, i) => pairs.push(...pairLayer(UNIT, file, layer, fileLayers[i])));
    }
    assignAll(pairs, ({ variable, weight }) => tf.tensor(readWeight(h5, h5file, weight, variable.dtype, UNIT, file), weight.shape, variable.dtype));
  });
}

/** Throws the house error unless `model` is a LayersModel (anything with `layers` of weighted layers). */
export function checkModel(model: unknown, unit = UNIT): asserts model is tf.LayersModel {
  const layers = (model as { layers?: unknown } | null)?.layers;
  if (model == null || typeof model !== "object" || !Array.isArray(layers)) {
    throw fail(`${unit}: invalid model. Expected a tf.LayersModel (tf.model, tf.sequential or an application). Received: model=${show(model)}.`);
  }
}

/** An absolute path from a path or `file://` URL, else the house error. */
export function resolvePath(unit: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw fail(`${unit}: invalid path. Expected a file path such as "weights/vgg16.h5". Received: path=${show(value)}.`);
  }
  return nodePath.resolve(value.startsWith("file://") ? value.slice("file://".length) : value);
}
