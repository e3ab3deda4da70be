/**
 * `saveWeights(model, path)`: a model's weights as a Keras `.h5` in the layout TF-Keras 2.x's
 * `model.save_weights("x.h5")` writes, written atomically.
 */
import * as tf from "@tensorflow/tfjs";
import { errnoCode, fail, messageLine, writeFileAtomically } from "@convlab/engine";
import { promises as fsp } from "fs";
import { loadHdf5 } from "./hdf5";
import { LayerToWrite, duplicateName, writeKerasLayout } from "./keras_h5";
import { checkModel, resolvePath } from "./load_weights";

const UNIT = "saveWeights";

/**
 * Saves the weights of `model` to a Keras HDF5 file (weights-only layout).
 *
 * The file has, as Keras writes it: the root attributes `layer_names` (every layer, in model
 * order), `backend` ("tensorflow") and `keras_version` ("2.15.0", the TF-Keras layout followed);
 * one group per layer with the attribute `weight_names` (`conv/kernel:0`, …; empty for layers
 * without weights) and one float32 dataset per weight, in Keras's shapes (tfjs and Keras share
 * them); long name lists split into `layer_names0`, `layer_names1`, …. TF-Keras 2.x
 * (`model.load_weights`), Keras 3 (`model.load_weights` of an `.h5`) and {@link loadWeights} read it.
 *
 * The file is written beside its target under a hidden temporary name, fsynced, and renamed into
 * place: an existing file is replaced only by a complete one, and a failure leaves no half file.
 * Missing folders are created.
 *
 * @param model A `tf.LayersModel`.
 * @param path The file to write, ending in `.h5` or `.hdf5` (relative to `process.cwd()`).
 * @throws ConvlabError for another extension, a layer name containing "/" (an HDF5 path
 *   separator), two weights of one layer with the same name, an unwritable folder.
 *
 * @example
 * ```ts
 * await saveWeights(model, "checkpoints/cnn.weights.h5");
 * await loadWeights(sameArchitecture, "checkpoints/cnn.weights.h5");
 * ```
 *
 * Keras equivalent: TF-Keras 2.x `model.save_weights("cnn.h5")`. Keras 3's own
 * `save_weights("x.weights.h5")` writes a different layout; this one is its legacy `.h5`.
 */
export async function saveWeights(model: tf.LayersModel, path: string): Promise<void> {
  checkModel(model, UNIT);
  const target = resolvePath(UNIT, path);
  if (!/\.(h5|hdf5)$/i.test(target)) {
    throw fail(`${UNIT}: invalid path. Expected a file name ending in .h5 (Keras's HDF5 weights); for the tfjs format use model.save("file://…"). Received: path=${JSON.stringify(path)}.`);
  }
  const layers: LayerToWrite[] = [];
  for (const layer of model.layers) {
    if (layer.name.includes("/")) {
      throw fail(`${UNIT}: layer name "${layer.name}" contains "/", which HDF5 reads as a path. Expected layer names without "/"; rename the layer.`);
    }
    const weights: LayerToWrite["weights"] = [];
    for (const variable of layer.weights) {
      if (variable.dtype !== "float32" && variable.dtype !== "int32") {
        throw fail(`${UNIT}: weight "${variable.originalName}" has dtype ${variable.dtype}. Expected float32 or int32 weights.`);
      }
      const values = (await variable.read().data()) as Float32Array | Int32Array;
      weights.push({ name: `${variable.originalName}:0`, shape: [...variable.shape] as number[], dtype: variable.dtype, values });
    }
    const twice = duplicateName(weights.map((w) => w.name));
    if (twice !== undefined) {
      throw fail(`${UNIT}: layer "${layer.name}" has two weights named "${twice}". Expected distinct weight names in a layer; Keras could not save this layer either.`);
    }
    layers.push({ name: layer.name, weights });
  }
  const h5 = await loadHdf5(UNIT);
  const bytes = writeKerasLayout(h5, layers, UNIT, target);
  try {
    await writeFileAtomically(target, (tmp) => fsp.writeFile(tmp, bytes, { flag: "wx" }));
  } catch (e) {
    const code = errnoCode(e);
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw fail(`${UNIT}: cannot write ${target}: permission denied (${code}). Expected a writable folder; choose another path.`);
    }
    if (code === "EISDIR") throw fail(`${UNIT}: cannot write ${target}: it is a folder. Expected a file path ending in .h5; choose another path.`);
    throw fail(`${UNIT}: cannot write ${target}: ${messageLine(e)}. Expected a writable folder with free space; choose another path.`);
  }
}
