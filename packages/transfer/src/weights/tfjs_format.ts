/**
 * The TensorFlow.js layers format on disk: `model.json` (its `weightsManifest`) and the shard
 * files it lists, read with `fs` (no tfjs-node), matched to a model's variables by name.
 */
import * as tf from "@tensorflow/tfjs";
import { errnoCode, fail, messageLine } from "@convlab/engine";
import { promises as fsp } from "fs";
import * as path from "path";
import { FileWeight, LayerVariable, Pair, assignAll, checkShape, missingLayer, weightedLayers } from "./match";

type Spec = tf.io.WeightsManifestEntry;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/**
 * Loads the weights listed by the tfjs `model.json` at `jsonPath` into `model`: each variable
 * gets the manifest entry of its name (`block1_conv1/kernel`); entries the model has no
 * variable for (another head, optimizer state) are ignored.
 *
 * @throws ConvlabError (model unchanged) for an unreadable or invalid `model.json`, a missing or
 *   truncated shard, a layer of the model without weights in the file, a mis-shaped weight.
 */
export async function loadTfjsWeights(unit: string, model: tf.LayersModel, jsonPath: string): Promise<void> {
  const manifest = await readManifest(unit, jsonPath);
  const specs = manifest.flatMap((group) => group.weights);
  const byName = new Map<string, Spec>();
  for (const spec of specs) if (!byName.has(spec.name)) byName.set(spec.name, spec);
  const fileLayers = [...new Set(specs.map((s) => s.name.slice(0, Math.max(0, s.name.lastIndexOf("/"))) || s.name))];

  const pairs: Pair<FileWeight>[] = [];
  for (const layer of weightedLayers(model)) {
    const found = layer.weights.map((v) => byName.get(v.originalName));
    if (found.every((s) => s === undefined)) throw missingLayer(unit, jsonPath, layer.name, fileLayers);
    layer.weights.forEach((variable: LayerVariable, i) => {
      const spec = found[i];
      if (spec === undefined) {
        throw fail(
          `${unit}: ${jsonPath} does not fit the model: layer "${layer.name}": the file has no weight "${variable.originalName}" (it has ${found.filter((s) => s).map((s) => `"${s?.name}"`).join(", ")}). Load the file of this architecture.`,
        );
      }
      checkShape(unit, jsonPath, variable, spec.shape);
      pairs.push({ variable, weight: { name: spec.name, shape: spec.shape } });
    });
  }
  if (pairs.length === 0) return;

  const data = await readShards(unit, manifest, jsonPath);
  let decoded: tf.NamedTensorMap;
  try {
    decoded = tf.io.decodeWeights(data, specs);
  } catch (e) {
    throw fail(`${unit}: cannot decode the weights of ${jsonPath} (${messageLine(e)}). Expected a model.json written by model.save(); save the model again.`);
  }
  try {
    assignAll(pairs, ({ variable, weight }) => {
      const t = decoded[weight.name];
      return t.dtype === variable.dtype ? t.clone() : tf.cast(t, variable.dtype);
    });
  } finally {
    tf.dispose(Object.values(decoded));
  }
}

async function readManifest(unit: string, jsonPath: string): Promise<tf.io.WeightsManifestConfig> {
  let text: string;
  try {
    text = await fsp.readFile(jsonPath, "utf8");
  } catch (e) {
    throw readError(unit, jsonPath, e);
  }
  let json: { weightsManifest?: unknown } | null;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(`${unit}: ${jsonPath} is not valid JSON (${messageLine(e)}). Expected a tfjs model.json written by model.save(); save the model again.`);
  }
  const manifest = json?.weightsManifest;
  const valid =
    Array.isArray(manifest) &&
    manifest.every(
      (g) =>
        g != null &&
        Array.isArray(g.paths) &&
        g.paths.every((p: unknown) => typeof p === "string") &&
        Array.isArray(g.weights) &&
        g.weights.every((w: Spec) => w != null && typeof w.name === "string" && Array.isArray(w.shape) && typeof w.dtype === "string"),
    );
  if (!valid) {
    throw fail(`${unit}: ${jsonPath} has no valid weightsManifest. Expected a tfjs model.json with its weights (model.save() writes one); save the model again.`);
  }
  return manifest as tf.io.WeightsManifestConfig;
}

/** All shards of all groups, each group's size checked against its specs, in manifest order. */
async function readShards(unit: string, manifest: tf.io.WeightsManifestConfig, jsonPath: string): Promise<ArrayBuffer[]> {
  const dir = path.dirname(jsonPath);
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    const files: { file: string; bytes: Buffer }[] = [];
    for (const p of group.paths) {
      const file = path.resolve(dir, decodeURIComponent(p));
      try {
        files.push({ file, bytes: await fsp.readFile(file) });
      } catch (e) {
        if (errnoCode(e) === "ENOENT") {
          throw fail(`${unit}: ${file} does not exist, but ${jsonPath} lists it. Expected every weights file that model.json lists beside it; copy them together.`);
        }
        throw readError(unit, file, e);
      }
    }
    const expected = specsBytes(group.weights);
    const received = files.reduce((n, f) => n + f.bytes.length, 0);
    if (expected !== null && expected !== received) {
      const which = files.map((f) => f.file).join(" + ");
      throw fail(
        `${unit}: ${which} ${received < expected ? "is truncated" : "is longer than model.json says"}. Expected ${expected} bytes for the weights listed in ${jsonPath}. Received: ${received} bytes. Save the model again.`,
      );
    }
    for (const { bytes } of files) buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  }
  return buffers;
}

function specsBytes(specs: readonly Spec[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const size = spec.quantization != null ? QUANT_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype];
    if (size == null) return null;
    total += spec.shape.reduce((n, d) => n * d, 1) * size;
  }
  return total;
}

/** The error for a file that cannot be read: missing, not permitted, a folder, other. */
export function readError(unit: string, file: string, e: unknown): Error {
  const code = errnoCode(e);
  if (code === "ENOENT" || code === "ENOTDIR") {
    return fail(`${unit}: ${file} does not exist. Expected a Keras .h5 weights file or a tfjs model.json; check the path.`);
  }
  if (code === "EACCES" || code === "EPERM") {
    return fail(`${unit}: cannot read ${file}: permission denied (${code}). Expected a readable file; check its permissions.`);
  }
  if (code === "EISDIR") {
    return fail(`${unit}: ${file} is a folder. Expected a Keras .h5 weights file or a tfjs model.json; name the file.`);
  }
  return fail(`${unit}: cannot read ${file}: ${messageLine(e)}. Expected a readable Keras .h5 weights file or tfjs model.json.`);
}
