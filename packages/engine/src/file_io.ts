/**
 * `file://` model saving and loading for TensorFlow.js in Node without
 * `@tensorflow/tfjs-node`, in the folder layout tfjs-node writes
 * (`model.json` + `weights.bin`), with atomic replacement of an existing model.
 *
 * How a save stays atomic: atomic_folder.ts writes the model into a hidden
 * sibling folder and renames it into place; a crash leaves the old model or
 * the new one, and the next save or load puts an old model set aside back.
 */
import { promises as fsp } from "fs";
import * as path from "path";
import type { io } from "@tensorflow/tfjs";
import { findLeftovers, inUse, restoreAside, tidyLeftovers, writeFolderAtomicallyAsync } from "./atomic_folder";
import { errnoCode, messageLine as oneLine } from "./errors";

/** The URL scheme handled by {@link registerFileIO}. */
const FILE_SCHEME = "file://";
const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";
const LOAD_EXPECTED = 'Expected a folder saved with model.save("file://…") containing model.json and weights.bin.';

/** An error whose one-line message is meant for a person. */
class FileIOError extends Error {
  override name = "ConvlabError";
}

/** The parts of `tf` that {@link registerFileIO} uses; `@tensorflow/tfjs` and `@tensorflow/tfjs-core` both fit. */
export interface TfWithIO {
  io: Pick<typeof io, "registerSaveRouter" | "registerLoadRouter" | "getSaveHandlers" | "getLoadHandlers">;
}

/**
 * Makes `model.save("file://dir")` and `tf.loadLayersModel("file://dir")`
 * work in Node with plain `@tensorflow/tfjs`, by registering a `file://` save
 * router and load router with `tf.io`.
 *
 * Idempotent: a router is registered only when no handler for `file://`
 * exists yet, so a second call, or `@tensorflow/tfjs-node` loaded before,
 * leaves the registry as it is (loading tfjs-node after this call gives
 * tfjs "Found more than one (2) save handlers"; use one or the other).
 *
 * @param tf The `@tensorflow/tfjs` (or `@tensorflow/tfjs-core`) module.
 * @returns `true` when a router was registered by this call, `false` when
 *   `file://` was already handled.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * registerFileIO(tf);
 * await model.save("file://models/cnn", { includeOptimizer: true });
 * const again = await tf.loadLayersModel("file://models/cnn");
 * ```
 *
 * Keras equivalent: `model.save("models/cnn.keras")` and
 * `keras.models.load_model("models/cnn.keras")`; here the model is a folder in
 * the TensorFlow.js layers format, not a `.keras` zip.
 */
export function registerFileIO(tf: TfWithIO): boolean {
  const probe = `${FILE_SCHEME}/convlab-probe`;
  let registered = false;
  if (tf.io.getSaveHandlers(probe).length === 0) {
    tf.io.registerSaveRouter(fileRouter);
    registered = true;
  }
  if (tf.io.getLoadHandlers(probe).length === 0) {
    tf.io.registerLoadRouter(fileRouter);
    registered = true;
  }
  return registered;
}

/** Routers return null for URLs they do not handle; tfjs's `IORouter` type leaves the null out. */
function fileRouter(url: string | string[]): io.IOHandler {
  if (typeof url !== "string" || !url.startsWith(FILE_SCHEME)) return null as unknown as io.IOHandler;
  return fileSystem(url);
}

/**
 * An IOHandler that saves a model to a folder and loads it back, the
 * tfjs-node `tf.io.fileSystem` equivalent with atomic saves.
 *
 * Saving writes `<folder>/model.json` (`modelTopology`, `format`
 * `"layers-model"`, `generatedBy`, `convertedBy`, `weightsManifest` with paths
 * `["weights.bin"]`, and `trainingConfig` when the model was saved with
 * `includeOptimizer: true`) and `<folder>/weights.bin` (all weight values,
 * optimizer weights last, in the order of the manifest). `weightData` may be
 * one ArrayBuffer or an array of them; both are written as one file. An
 * existing model at the folder is replaced atomically: after a crash at any
 * moment the folder holds the complete old or the complete new model.
 *
 * Loading accepts the folder or its `model.json`, reads every weights file
 * the manifest lists (also several shards, e.g. from the tfjs converter) and
 * checks their sizes against the manifest.
 *
 * @param pathOrUrl A folder path or `file://` URL (`file://./models/cnn`,
 *   `file:///abs/cnn`); the text after `file://` is a path, relative ones are
 *   resolved against `process.cwd()`. A path ending in `model.json` means its
 *   folder for saving.
 * @returns An IOHandler with `save` and `load`.
 * @throws From `save`: `saveModel: cannot write file:///x/model: permission
 *   denied (EACCES). Expected a writable folder; choose another path.` (also
 *   for a file at the path, a folder with unrelated files, no space).
 *   From `load`: `loadModel: /x/model.json does not exist. Expected a folder
 *   saved with model.save("file://…") containing model.json and weights.bin.`
 *   (also for a missing or truncated weights file, invalid JSON).
 *
 * @example
 * ```ts
 * await model.save(fileSystem("models/cnn"));
 * const again = await tf.loadLayersModel(fileSystem("models/cnn"));
 * ```
 *
 * Keras equivalent: `model.save(path)` / `keras.models.load_model(path)`.
 */
export function fileSystem(pathOrUrl: string): io.IOHandler {
  if (typeof pathOrUrl !== "string" || pathOrUrl.length === 0) {
    throw new FileIOError(
      `fileSystem: invalid path. Expected a folder path or a "file://…" URL. Received: path=${JSON.stringify(pathOrUrl)}.`,
    );
  }
  const raw = pathOrUrl.startsWith(FILE_SCHEME) ? pathOrUrl.slice(FILE_SCHEME.length) : pathOrUrl;
  const resolved = path.resolve(raw);
  return {
    save: (artifacts: io.ModelArtifacts) => saveModel(resolved, artifacts),
    load: () => loadModel(resolved),
  };
}

// ---------------------------------------------------------------- saving

/** Per-process serialisation of saves to the same folder. */
const saveQueues = new Map<string, Promise<unknown>>();

async function saveModel(requested: string, artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
  const target = path.basename(requested) === MODEL_JSON ? path.dirname(requested) : requested;
  const url = FILE_SCHEME + target;
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new FileIOError(
      `saveModel: cannot write ${url}: the model topology is binary (a GraphDef). Expected a layers model with a JSON topology; save a tf.LayersModel.`,
    );
  }
  const chunks = weightChunks(artifacts.weightData);
  const weightBytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  if (artifacts.weightSpecs != null && chunks.length > 0) {
    const expected = specsByteLength(artifacts.weightSpecs);
    if (expected != null && expected !== weightBytes) {
      throw new FileIOError(
        `saveModel: cannot write ${url}: the weight data has ${weightBytes} bytes but the weight specs describe ${expected}. Expected artifacts from model.save(); save the model, not hand-made artifacts.`,
      );
    }
  }
  const modelJSON = modelJSONFor(artifacts, chunks.length > 0 && artifacts.weightSpecs != null);
  const previous = saveQueues.get(target) ?? Promise.resolve();
  const run = previous.then(
    () => writeAtomically(target, url, modelJSON, chunks),
    () => writeAtomically(target, url, modelJSON, chunks),
  );
  const tail = run.catch(() => undefined);
  saveQueues.set(target, tail);
  try {
    await run;
  } finally {
    if (saveQueues.get(target) === tail) saveQueues.delete(target);
  }
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: "JSON",
      modelTopologyBytes: artifacts.modelTopology == null ? 0 : utf8Length(JSON.stringify(artifacts.modelTopology)),
      weightSpecsBytes: artifacts.weightSpecs == null ? 0 : utf8Length(JSON.stringify(artifacts.weightSpecs)),
      weightDataBytes: weightBytes,
    },
  };
}

/** The on-disk `model.json` of tfjs (`getModelJSONForModelArtifacts`), weights in `weights.bin`. */
function modelJSONFor(artifacts: io.ModelArtifacts, hasWeights: boolean): io.ModelJSON {
  const result: io.ModelJSON = {
    modelTopology: artifacts.modelTopology as {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: hasWeights ? [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }] : [],
  };
  if (artifacts.signature != null) result.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) result.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) result.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) result.initializerSignature = artifacts.initializerSignature;
  if (artifacts.trainingConfig != null) result.trainingConfig = artifacts.trainingConfig;
  return result;
}

function weightChunks(data: io.WeightData | undefined): ArrayBuffer[] {
  if (data == null) return [];
  return Array.isArray(data) ? data : [data];
}

async function writeAtomically(target: string, url: string, modelJSON: io.ModelJSON, chunks: ArrayBuffer[]): Promise<void> {
  try {
    let real = target;
    try {
      real = await fsp.realpath(target);
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw e;
    }
    const cwd = process.cwd();
    if (real === cwd || cwd.startsWith(real.endsWith(path.sep) ? real : real + path.sep)) {
      throw new FileIOError(
        `saveModel: cannot write ${url}: it is the working folder or contains it. Expected a folder for the model alone; choose a subfolder such as file://./model.`,
      );
    }
    await fsp.mkdir(path.dirname(real), { recursive: true });
    tidyLeftovers(real);
    const existing = await statOrNull(real);
    if (existing != null) {
      if (!existing.isDirectory()) {
        throw new FileIOError(
          `saveModel: cannot write ${url}: a file exists at this path. Expected a folder path (new, or a saved model); choose another path or remove the file.`,
        );
      }
      await assertReplaceable(real, url);
    }
    await writeFolderAtomicallyAsync(real, async (tmp) => {
      await writeSynced(path.join(tmp, MODEL_JSON), [Buffer.from(JSON.stringify(modelJSON), "utf8")]);
      if (modelJSON.weightsManifest.length > 0) {
        await writeSynced(path.join(tmp, WEIGHTS_BIN), chunks.map((c) => new Uint8Array(c)));
      }
    });
  } catch (e) {
    throw saveError(url, e, chunks);
  }
}

/** Refuses to replace a folder that holds anything besides a saved model (e.g. `file://.`). */
async function assertReplaceable(folder: string, url: string): Promise<void> {
  const entries = await fsp.readdir(folder, { withFileTypes: true });
  const allowed = new Set([MODEL_JSON, WEIGHTS_BIN]);
  if (entries.some((e) => e.name === MODEL_JSON)) {
    try {
      const json = JSON.parse(await fsp.readFile(path.join(folder, MODEL_JSON), "utf8")) as Partial<io.ModelJSON>;
      for (const group of json.weightsManifest ?? []) {
        for (const p of group.paths ?? []) {
          if (typeof p === "string" && !p.includes("/") && !p.includes(path.sep)) allowed.add(p);
        }
      }
    } catch {
      // A broken model.json is still a model folder; only listed shards are extra.
    }
  }
  const others = entries.filter((e) => !(e.isFile() && allowed.has(e.name))).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
  if (others.length > 0) {
    const shown = others.slice(0, 3).join(", ") + (others.length > 3 ? ", …" : "");
    throw new FileIOError(
      `saveModel: cannot write ${url}: the folder holds other files (${shown}). Expected a new folder or one written by model.save(); choose another path or move those files.`,
    );
  }
}

async function writeSynced(file: string, chunks: Uint8Array[]): Promise<void> {
  const fh = await fsp.open(file, "wx");
  try {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const SAVE_REASONS: Record<string, [string, string]> = {
  EACCES: ["permission denied", "Expected a writable folder; choose another path."],
  EPERM: ["operation not permitted", "Expected a writable folder; choose another path."],
  EROFS: ["read-only file system", "Expected a writable folder; choose another path."],
  ENOTDIR: ["a parent of the path is a file", "Expected a path whose parents are folders; choose another path."],
  ENAMETOOLONG: ["the name is too long", "Expected a shorter path; choose another path."],
  EBUSY: ["the folder is in use", "Expected a folder no other program holds open; close it or choose another path."],
};

function saveError(url: string, e: unknown, chunks: ArrayBuffer[]): Error {
  if (e instanceof FileIOError) return e;
  const code = errnoCode(e);
  if (code === "ENOSPC" || code === "EDQUOT") {
    const bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
    const reason = code === "ENOSPC" ? "no space left on device" : "disk quota exceeded";
    return new FileIOError(
      `saveModel: cannot write ${url}: ${reason} (${code}). Expected room for about ${bytes} bytes beside the old model; free some space or choose another path.`,
    );
  }
  const known = code != null ? SAVE_REASONS[code] : undefined;
  const reason = known ? `${known[0]} (${code})` : oneLine(e);
  const advice = known ? known[1] : "Expected a writable folder; choose another path.";
  return new FileIOError(`saveModel: cannot write ${url}: ${reason}. ${advice}`);
}

// ---------------------------------------------------------------- leftovers

/**
 * For a load of a missing folder: the folder to read instead, when a save
 * was interrupted between its two renames (or is between them right now).
 */
async function recoverForLoad(folder: string): Promise<string | null> {
  const parent = path.dirname(folder);
  const base = path.basename(folder);
  const asides = findLeftovers(parent, base).filter((l) => l.kind === "old");
  if (asides.length === 0) return null;
  const dead = asides.find((l) => !inUse(l));
  if (dead != null && restoreAside(dead.full, folder)) return folder;
  // A live save is between its renames: its new folder appears within moments.
  for (let i = 0; i < 100; i++) {
    if ((await statOrNull(folder)) != null) return folder;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await statOrNull(asides[0].full)) != null ? asides[0].full : null;
}

// ---------------------------------------------------------------- loading

async function loadModel(requested: string): Promise<io.ModelArtifacts> {
  let folder: string;
  let jsonPath: string;
  let st;
  try {
    st = await statOrNull(requested);
  } catch (e) {
    throw readError(requested, e);
  }
  if (st?.isDirectory()) {
    folder = requested;
    jsonPath = path.join(requested, MODEL_JSON);
  } else if (st != null) {
    folder = path.dirname(requested);
    jsonPath = requested;
  } else {
    const named = requested.endsWith(".json");
    folder = named ? path.dirname(requested) : requested;
    const source = (await statOrNull(folder)) == null ? await recoverForLoad(folder) : null;
    if (source == null) throw new FileIOError(`loadModel: ${requested} does not exist. ${LOAD_EXPECTED}`);
    if (source !== folder) {
      folder = source;
      jsonPath = path.join(source, named ? path.basename(requested) : MODEL_JSON);
    } else {
      jsonPath = named ? requested : path.join(folder, MODEL_JSON);
    }
  }

  const modelJSON = await readModelJSON(jsonPath);
  const artifacts: io.ModelArtifacts = {
    modelTopology: modelJSON.modelTopology,
    format: modelJSON.format,
    generatedBy: modelJSON.generatedBy,
    convertedBy: modelJSON.convertedBy,
  };
  if (modelJSON.trainingConfig != null) artifacts.trainingConfig = modelJSON.trainingConfig;
  if (modelJSON.signature != null) artifacts.signature = modelJSON.signature;
  if (modelJSON.userDefinedMetadata != null) artifacts.userDefinedMetadata = modelJSON.userDefinedMetadata;
  if (modelJSON.modelInitializer != null) artifacts.modelInitializer = modelJSON.modelInitializer;
  if (modelJSON.initializerSignature != null) artifacts.initializerSignature = modelJSON.initializerSignature;
  const manifest = modelJSON.weightsManifest ?? [];
  if (manifest.length > 0) {
    const [specs, data] = await readWeights(manifest, path.dirname(jsonPath), jsonPath);
    artifacts.weightSpecs = specs;
    artifacts.weightData = data;
  }
  return artifacts;
}

async function readModelJSON(jsonPath: string): Promise<io.ModelJSON> {
  let text: string;
  try {
    text = await fsp.readFile(jsonPath, "utf8");
  } catch (e) {
    throw readError(jsonPath, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FileIOError(
      `loadModel: ${jsonPath} is not valid JSON (${oneLine(e)}). Expected a model.json written by model.save("file://…"); save the model again.`,
    );
  }
  const json = parsed as Partial<io.ModelJSON> | null;
  if (json == null || typeof json !== "object" || Array.isArray(json) || json.modelTopology == null) {
    throw new FileIOError(
      `loadModel: ${jsonPath} has no modelTopology. Expected a model.json written by model.save("file://…"); save the model again.`,
    );
  }
  const manifest = json.weightsManifest;
  const validManifest =
    manifest == null ||
    (Array.isArray(manifest) &&
      manifest.every(
        (g) =>
          g != null &&
          Array.isArray(g.paths) &&
          g.paths.every((p) => typeof p === "string") &&
          Array.isArray(g.weights),
      ));
  if (!validManifest) {
    throw new FileIOError(
      `loadModel: ${jsonPath} has an invalid weightsManifest. Expected a list of {paths, weights} groups; save the model again.`,
    );
  }
  return json as io.ModelJSON;
}

/** Reads every file of every group, checking each group's total size against its weight specs. */
async function readWeights(
  manifest: io.WeightsManifestConfig,
  dir: string,
  jsonPath: string,
): Promise<[io.WeightsManifestEntry[], io.WeightData]> {
  const specs: io.WeightsManifestEntry[] = [];
  const files: Array<{ file: string; size: number }> = [];
  for (const group of manifest) {
    const groupFiles: Array<{ file: string; size: number }> = [];
    for (const p of group.paths) {
      const file = path.resolve(dir, p);
      let st;
      try {
        st = await fsp.stat(file);
      } catch (e) {
        if (errnoCode(e) === "ENOENT") {
          throw new FileIOError(
            `loadModel: ${file} does not exist, but ${jsonPath} lists it. Expected every weights file that model.json lists beside it; save the model again.`,
          );
        }
        throw readError(file, e);
      }
      groupFiles.push({ file, size: st.size });
    }
    const expected = specsByteLength(group.weights);
    const received = groupFiles.reduce((n, f) => n + f.size, 0);
    if (expected != null && expected !== received) {
      const which = groupFiles.length === 1 ? groupFiles[0].file : `${groupFiles.map((f) => f.file).join(" + ")}`;
      const state = received < expected ? "is truncated" : "is longer than model.json says";
      throw new FileIOError(
        `loadModel: ${which} ${state}. Expected ${expected} bytes for the weights listed in ${jsonPath}. Received: ${received} bytes. Save the model again.`,
      );
    }
    specs.push(...group.weights);
    files.push(...groupFiles);
  }
  const buffers: ArrayBuffer[] = [];
  for (const { file, size } of files) buffers.push(await readExactly(file, size));
  return [specs, buffers.length === 1 ? buffers[0] : buffers];
}

/** Reads a file straight into a fresh ArrayBuffer of its size (no pooled Buffer, no copy). */
async function readExactly(file: string, size: number): Promise<ArrayBuffer> {
  const out = new ArrayBuffer(size);
  const view = new Uint8Array(out);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, "r");
  } catch (e) {
    throw readError(file, e);
  }
  try {
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await fh.read(view, offset, size - offset, offset);
      if (bytesRead === 0) {
        throw new FileIOError(
          `loadModel: ${file} is truncated. Expected ${size} bytes. Received: ${offset} bytes (it shrank while loading). Save the model again.`,
        );
      }
      offset += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return out;
}

function readError(file: string, e: unknown): Error {
  if (e instanceof FileIOError) return e;
  const code = errnoCode(e);
  if (code === "ENOENT") return new FileIOError(`loadModel: ${file} does not exist. ${LOAD_EXPECTED}`);
  if (code === "EACCES" || code === "EPERM") {
    return new FileIOError(`loadModel: cannot read ${file}: permission denied (${code}). Expected a readable file; check its permissions.`);
  }
  if (code === "EISDIR") {
    return new FileIOError(`loadModel: ${file} is a folder. ${LOAD_EXPECTED}`);
  }
  return new FileIOError(`loadModel: cannot read ${file}: ${oneLine(e)}. ${LOAD_EXPECTED}`);
}

// ---------------------------------------------------------------- helpers

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Bytes the specs occupy in the weights data, or `null` when not computable (string weights). */
function specsByteLength(specs: io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const size = spec.quantization != null ? QUANT_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype];
    if (size == null || !Array.isArray(spec.shape)) return null;
    total += spec.shape.reduce((n, d) => n * d, 1) * size;
  }
  return total;
}

async function statOrNull(p: string) {
  try {
    return await fsp.stat(p);
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}


function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}
