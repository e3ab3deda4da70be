/**
 * The Keras 2 HDF5 weight layout, read and written (TF-Keras `hdf5_format`, which Keras 3 keeps
 * as its legacy `.h5` format).
 *
 * ```
 * /                          attrs: layer_names = [every layer's name, in model order]
 *                                   backend = "tensorflow", keras_version = "2.x"
 *   <layer name>/            attrs: weight_names = ["<layer>/kernel:0", "<layer>/bias:0"]
 *     <layer name>/kernel:0  dataset, the weight's value (HWIO for Conv2D, [in, out] for Dense)
 *   top_level_model_weights/ attrs: weight_names = [] (TF-Keras >= 2.13)
 * ```
 *
 * A full-model file (`model.save("x.h5")`) has the same tree under `/model_weights`, and the
 * model's JSON in the root attribute `model_config`. Names are fixed-length, NUL-padded byte
 * strings; a list too big for one HDF5 object header (64,512 bytes) is split into
 * `layer_names0`, `layer_names1`, … (likewise `weight_names0`, …).
 */
import { fail } from "@convlab/engine";
import type { FileWeight } from "./match";
import { H5Dataset, H5File, H5Group, H5Metadata, H5T_FLOAT, H5T_INTEGER, H5T_STRING, H5T_STR_SPACEPAD, Hdf5, hdf5Failed, hdf5Reason, reserveFile } from "./hdf5";

/** Keras's limit for one attribute (`HDF5_OBJECT_HEADER_LIMIT`). */
export const HDF5_OBJECT_HEADER_LIMIT = 64512;

/** The `keras_version` written: the TF-Keras release whose layout the files follow. */
export const WRITTEN_KERAS_VERSION = "2.15.0";

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** A weight of the file: its name, shape, type, and dataset path. */
export interface H5Weight extends FileWeight {
  /** The dataset's absolute path in the file. */
  path: string;
  /** HDF5 type class and size, for reading. */
  type: number;
  size: number;
  signed: boolean;
}

/** The file's layers that have weights, in `layer_names` order, each with its weights in `weight_names` order. */
export type H5Layers = Map<string, H5Weight[]>;

/** Whether `bytes` start with the HDF5 signature (at 0, or after a user block of 512, 1024, 2048, … bytes). */
export function hasHdf5Signature(bytes: Uint8Array): boolean {
  for (let offset = 0; offset + SIGNATURE.length <= bytes.length; offset = offset === 0 ? 512 : offset * 2) {
    if (SIGNATURE.every((b, i) => bytes[offset + i] === b)) return true;
  }
  return false;
}

/** A few words on what a non-HDF5 file looks like, for the error. */
export function describeNonHdf5(bytes: Uint8Array): string {
  if (bytes.length === 0) return "it is empty";
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return "it is a zip archive, such as a Keras 3 .keras file";
  const head = Buffer.from(bytes.subarray(0, 64)).toString("latin1").trimStart();
  if (head.startsWith("{")) return "it looks like JSON; a tfjs model.json is loaded by its name ending in .json";
  if (head.startsWith("<")) return "it looks like an HTML page, e.g. an error page saved instead of the file";
  return `it starts with bytes ${Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ")}, not the HDF5 signature 89 48 44 46`;
}

/**
 * Opens `bytes` as HDF5 in h5wasm's memory file system, runs `use` on the file, then closes
 * and removes it. `use` runs synchronously, so sessions never interleave.
 *
 * @throws ConvlabError "<unit>: <source> is not an HDF5 file …" when HDF5 cannot open it
 *   (truncated or damaged).
 */
export function withHdf5File<T>(h5: Hdf5, bytes: Uint8Array, unit: string, source: string, use: (file: H5File) => T): T {
  const name = h5.tempName();
  // canOwn: the in-memory file system keeps this array instead of copying it (large files).
  h5.module.FS.writeFile(name, bytes, { canOwn: true });
  try {
    h5.clearLog();
    const file = new h5.File(name, "r");
    if (file.file_id < 0n) {
      const reason = hdf5Reason(h5.log);
      const truncated = /eof = (\d+).*stored_eof = (\d+)/.exec(reason);
      if (truncated) {
        throw fail(
          `${unit}: ${source} is not an HDF5 file in one piece: it is truncated (${truncated[1]} bytes; its header says ${truncated[2]}). Download or save it again.`,
        );
      }
      throw fail(`${unit}: ${source} is not an HDF5 file that HDF5 can open (${reason || "unknown error"}). Expected a Keras .h5 file; download or save it again.`);
    }
    try {
      return use(file);
    } finally {
      file.close();
    }
  } finally {
    h5.module.FS.unlink(name);
  }
}

/**
 * Reads the layout of a Keras `.h5` (either kind): every layer with weights, the names, shapes
 * and types of its weights; no values yet.
 *
 * @throws ConvlabError when the file is not in the Keras 2 layout (a Keras 3 `.weights.h5`,
 *   another HDF5 file) or is inconsistent (a listed layer or weight missing).
 */
export function readKerasLayout(h5: Hdf5, file: H5File, unit: string, source: string): H5Layers {
  let root: H5Group = file;
  let layerNames = readNameList(h5, root, "layer_names", unit, source);
  if (layerNames === undefined) {
    const nested = file.get("model_weights");
    if (h5.isGroup(nested)) {
      root = nested;
      layerNames = readNameList(h5, root, "layer_names", unit, source);
    }
  }
  if (layerNames === undefined) {
    const keys = file.keys();
    const keras3 = keys.includes("layers") || keys.includes("_layer_checkpoint_dependencies") || keys.includes("vars");
    if (keras3) {
      throw fail(
        `${unit}: ${source} is in the Keras 3 ".weights.h5" layout, which is not read here. Expected the Keras 2 layout: in Keras 3 save it with model.save("x.h5") (legacy HDF5), in TF-Keras 2 with model.save_weights("x.h5").`,
      );
    }
    throw fail(
      `${unit}: ${source} is an HDF5 file but not Keras weights: it has no "layer_names" attribute, at its root or in "model_weights". Expected a file saved by Keras's model.save_weights("x.h5") or model.save("x.h5").`,
    );
  }
  const layers: H5Layers = new Map();
  for (const layerName of layerNames) {
    const group = root.get(layerName);
    if (!h5.isGroup(group)) throw damaged(unit, source, `"layer_names" lists "${layerName}" but there is no such group`);
    const weightNames = readNameList(h5, group, "weight_names", unit, source) ?? [];
    // Layers without weights are skipped, as Keras does (their groups have an empty list).
    if (weightNames.length === 0) continue;
    const weights = weightNames.map((weightName) => {
      const dataset = group.get(weightName);
      if (!h5.isDataset(dataset)) throw damaged(unit, source, `layer "${layerName}" lists weight "${weightName}" but there is no such dataset`);
      return describeDataset(dataset, weightName, unit, source);
    });
    layers.set(layerName, weights);
  }
  return layers;
}

function describeDataset(dataset: H5Dataset, name: string, unit: string, source: string): H5Weight {
  const meta = dataset.metadata;
  const numeric =
    (meta.type === H5T_FLOAT && [2, 4, 8].includes(meta.size)) || (meta.type === H5T_INTEGER && [1, 2, 4, 8].includes(meta.size));
  if (!numeric || meta.shape == null) {
    throw fail(`${unit}: ${source}: weight "${name}" is not an array of numbers (HDF5 type class ${meta.type}, ${meta.size} bytes). Expected float or integer weights, as Keras saves them.`);
  }
  return { name, shape: [...meta.shape], path: dataset.path, type: meta.type, size: meta.size, signed: meta.signed };
}

function damaged(unit: string, source: string, what: string): Error {
  return fail(`${unit}: ${source} is damaged: ${what}. Expected a Keras .h5 file as Keras writes it; save or download it again.`);
}

/**
 * The values of `weight`, as float32 or int32 (Keras files hold float32 mostly; float16 and
 * float64 are converted, as are integers).
 */
export function readWeight(h5: Hdf5, file: H5File, weight: H5Weight, dtype: string, unit: string, source: string): Float32Array | Int32Array {
  const count = weight.shape.reduce((n, d) => n * d, 1);
  const nbytes = count * weight.size;
  const m = h5.module;
  const ptr = m._malloc(Math.max(nbytes, 1));
  if (ptr === 0) throw fail(`${unit}: cannot read ${source}: weight "${weight.name}" (${nbytes} bytes) does not fit in h5wasm's memory. Free memory, or load a smaller file.`);
  let bytes: Uint8Array;
  try {
    h5.clearLog();
    const status = m.get_dataset_data(file.file_id, weight.path, null, null, null, BigInt(ptr));
    if (status < 0 || hdf5Failed(h5)) throw damaged(unit, source, `weight "${weight.name}" cannot be read (${hdf5Reason(h5.log) || `status ${status}`})`);
    // HEAPU8 is fetched after the call: the heap may have grown.
    bytes = m.HEAPU8.slice(ptr, ptr + nbytes);
  } finally {
    m._free(ptr);
  }
  const raw = typedView(bytes, weight);
  if (dtype === "int32") return raw instanceof Int32Array ? raw : Int32Array.from(raw as ArrayLike<number>, Number);
  return raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>, Number);
}

function typedView(bytes: Uint8Array, weight: H5Weight): ArrayLike<number | bigint> {
  const { buffer } = bytes;
  if (weight.type === H5T_FLOAT) {
    if (weight.size === 4) return new Float32Array(buffer);
    if (weight.size === 8) return new Float64Array(buffer);
    return halfToFloat(new Uint16Array(buffer));
  }
  switch (weight.size) {
    case 1:
      return weight.signed ? new Int8Array(buffer) : new Uint8Array(buffer);
    case 2:
      return weight.signed ? new Int16Array(buffer) : new Uint16Array(buffer);
    case 4:
      return weight.signed ? new Int32Array(buffer) : new Uint32Array(buffer);
    default:
      return weight.signed ? new BigInt64Array(buffer) : new BigUint64Array(buffer);
  }
}

/** IEEE 754 half precision to single (mixed-precision files may store float16). */
export function halfToFloat(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}

/**
 * A list of names stored as an attribute (Keras's `load_attributes_from_hdf5_group`): `name`
 * itself, else the chunks `name0`, `name1`, … in order; `undefined` when neither exists.
 * Fixed-length strings are decoded as UTF-8 up to their first NUL; an empty numeric array
 * (what h5py stores for an empty Python list) is an empty list.
 */
export function readNameList(h5: Hdf5, group: H5Group, name: string, unit: string, source: string): string[] | undefined {
  const attrs = group.attrs;
  if (name in attrs) return readStrings(h5, group, name, attrs[name].metadata, unit, source);
  if (!(`${name}0` in attrs)) return undefined;
  const names: string[] = [];
  for (let chunk = 0; `${name}${chunk}` in attrs; chunk++) {
    names.push(...readStrings(h5, group, `${name}${chunk}`, attrs[`${name}${chunk}`].metadata, unit, source));
  }
  return names;
}

function readStrings(h5: Hdf5, group: H5Group, name: string, meta: H5Metadata, unit: string, source: string): string[] {
  if (meta.type !== H5T_STRING) {
    if (meta.total_size === 0) return [];
    throw damaged(unit, source, `attribute "${name}" of ${group.path} is not a list of names`);
  }
  if (meta.vlen) {
    const value = group.attrs[name].value;
    return (Array.isArray(value) ? value : [value]).map(String);
  }
  const count = meta.total_size;
  const nbytes = count * meta.size;
  const m = h5.module;
  const ptr = m._malloc(Math.max(nbytes, 1));
  let bytes: Uint8Array;
  try {
    h5.clearLog();
    const status = m.get_attribute_data(group.file_id, group.path, name, BigInt(ptr));
    if (status < 0 || hdf5Failed(h5)) throw damaged(unit, source, `attribute "${name}" of ${group.path} cannot be read`);
    bytes = m.HEAPU8.slice(ptr, ptr + nbytes);
  } finally {
    m._free(ptr);
  }
  const decoder = new TextDecoder("utf-8");
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    let item = bytes.subarray(i * meta.size, (i + 1) * meta.size);
    const nul = item.indexOf(0);
    if (nul >= 0) item = item.subarray(0, nul);
    let text = decoder.decode(item);
    if (meta.strpad === H5T_STR_SPACEPAD) text = text.replace(/ +$/, "");
    names.push(text);
  }
  return names;
}

/** A layer to write: its name and its weights with their values. */
export interface LayerToWrite {
  name: string;
  weights: { name: string; shape: number[]; dtype: string; values: Float32Array | Int32Array }[];
}

/**
 * Writes the Keras 2 weights-only layout (what TF-Keras's `model.save_weights("x.h5")` writes)
 * and returns the file's bytes. `layers` are all the model's layers in model order, with or
 * without weights.
 */
export function writeKerasLayout(h5: Hdf5, layers: readonly LayerToWrite[], unit: string, target: string): Uint8Array {
  const name = h5.tempName();
  h5.clearLog();
  const file = new h5.File(name, "w");
  if (file.file_id < 0n) throw fail(`${unit}: h5wasm cannot create an HDF5 file (${hdf5Reason(h5.log) || "unknown error"}). Expected a working h5wasm; reinstall it.`);
  // Values plus room for HDF5's headers, names and attributes.
  const valueBytes = layers.reduce((n, l) => n + l.weights.reduce((m, w) => m + w.values.byteLength, 0), 0);
  reserveFile(h5, name, valueBytes + 4096 * (layers.length + 16) + 64 * layers.reduce((n, l) => n + l.weights.length, 0));
  try {
    try {
      writeNameList(file, "layer_names", layers.map((l) => l.name));
      writeScalarString(file, "backend", "tensorflow");
      writeScalarString(file, "keras_version", WRITTEN_KERAS_VERSION);
      // Keras sorts the groups by name ("strictly growing" names avoid prefix issues in h5py).
      for (const layer of [...layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const group = file.create_group(layer.name);
        writeNameList(group, "weight_names", layer.weights.map((w) => w.name));
        const made = new Set<string>();
        for (const weight of layer.weights) {
          // h5py creates intermediate groups ("conv/kernel:0" is dataset "kernel:0" in group "conv"); h5wasm does not.
          const parts = weight.name.split("/");
          for (let i = 1; i < parts.length; i++) {
            const sub = parts.slice(0, i).join("/");
            if (!made.has(sub)) {
              group.create_group(sub);
              made.add(sub);
            }
          }
          group.create_dataset({ name: weight.name, data: weight.values, shape: weight.shape, dtype: weight.dtype === "int32" ? "<i" : "<f" });
        }
      }
      const top = file.create_group("top_level_model_weights");
      writeNameList(top, "weight_names", []);
    } finally {
      file.close();
    }
    if (hdf5Failed(h5)) throw fail(`${unit}: HDF5 could not write ${target} (${hdf5Reason(h5.log) || "unknown error"}). Expected layer and weight names HDF5 accepts; rename the layer.`);
    return h5.module.FS.readFile(name);
  } finally {
    h5.module.FS.unlink(name);
  }
}

/**
 * Writes a list of names as Keras does (`save_attributes_to_hdf5_group`): fixed-length NUL-padded
 * strings, split into `name0`, `name1`, … when the array is bigger than 64,512 bytes (numpy's
 * `array_split`: the first chunks one longer). An empty list is an empty float64 array, as h5py
 * stores `[]`.
 */
export function writeNameList(group: H5Group, name: string, names: readonly string[]): void {
  if (names.length === 0) {
    group.create_attribute(name, new Float64Array(0), [0], "<d");
    return;
  }
  // One byte more than the longest name: h5wasm's fixed strings are typed NUL-terminated (C_S1),
  // and HDF5's conversion of such strings keeps at most width - 1 bytes (h5py reads them whole).
  const width = Math.max(...names.map((n) => Buffer.byteLength(n, "utf8"))) + 1;
  let chunks = 1;
  while (Math.ceil(names.length / chunks) * width > HDF5_OBJECT_HEADER_LIMIT) chunks++;
  if (chunks === 1) {
    group.create_attribute(name, [...names], [names.length], `A${width}`);
    return;
  }
  const base = Math.floor(names.length / chunks);
  const extra = names.length % chunks;
  let start = 0;
  for (let chunk = 0; chunk < chunks; chunk++) {
    const size = base + (chunk < extra ? 1 : 0);
    const part = names.slice(start, start + size);
    start += size;
    group.create_attribute(`${name}${chunk}`, part, [part.length], `A${width}`);
  }
}

function writeScalarString(group: H5Group, name: string, value: string): void {
  group.create_attribute(name, value, null, `A${Buffer.byteLength(value, "utf8") + 1}`);
}

/** Whether two weights of one layer would land on the same dataset. */
export function duplicateName(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}
