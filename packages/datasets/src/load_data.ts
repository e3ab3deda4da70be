/**
 * Finding, downloading and decoding MNIST and Fashion-MNIST: the shared
 * work behind `mnist.loadData()` and `fashionMnist.loadData()`.
 *
 * Lookup order, the first place that has every file wins:
 * 1. `$CONVLAB_DATA` (or the `dataDir` option), laid out like Keras's cache:
 *    `mnist.npz`, or the IDX files in `mnist/`; Fashion-MNIST's in `fashion-mnist/`.
 * 2. Keras's cache, `$KERAS_HOME/datasets` or `~/.keras/datasets`:
 *    `mnist.npz`; `fashion-mnist/*.gz`.
 * 3. Debian's `dataset-fashion-mnist`: `/usr/share/datasets/fashion-mnist/` (Fashion-MNIST only).
 * 4. A download from Keras's URLs (or `$CONVLAB_DATA_URL`) into Keras's cache.
 * A file that is found but broken is an error, never skipped: silently
 * reading other data than the one placed would be worse.
 */
import { ConvlabError, expectKnownKeys, fail, show } from "@convlab/engine";
import { promises as fsp } from "fs";
import * as os from "os";
import * as path from "path";
import { downloadFile, ProgressCallback } from "./download";
import { readIdxFile } from "./idx";
import { readNpzFile } from "./npz";
import { Uint8Tensor } from "./uint8_tensor";

/** The datasets {@link loadSplits} knows, by their Keras module names. */
export const DATASET_NAMES = ["mnist", "fashion_mnist"] as const;
/** A dataset name: `"mnist"` or `"fashion_mnist"`, as in `keras.datasets.<name>`. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** `[[xTrain, yTrain], [xTest, yTest]]`, as Keras's `load_data()` returns them. */
export type DatasetSplits = [[Uint8Tensor, Uint8Tensor], [Uint8Tensor, Uint8Tensor]];

/** Options of `mnist.loadData()` and `fashionMnist.loadData()`. */
export interface LoadDataArgs {
  /** The folder searched first; default `$CONVLAB_DATA`. Laid out like `~/.keras/datasets`, plus `mnist/` for MNIST's IDX files. */
  dataDir?: string;
  /** Whether to download when no local copy exists; default true. */
  download?: boolean;
  /**
   * Where to download from: a folder URL holding `mnist.npz` and the four
   * Fashion-MNIST `.gz` files; default `$CONVLAB_DATA_URL`, else Keras's
   * `https://storage.googleapis.com/tensorflow/tf-keras-datasets/`.
   */
  baseUrl?: string;
  /** Download progress reports; `false` for silence; default one line on stdout. */
  onProgress?: ProgressCallback | false;
}

/** Options not offered to users: other folders and checksums for tests. */
export interface InternalArgs {
  /** Instead of `/usr/share/datasets/fashion-mnist`. */
  debianDir?: string;
  /** Instead of Keras's SHA-256 of each download, by file name. */
  sha256?: Record<string, string>;
  /** Trusted certificates for a test origin. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/** Thrown when no place has a dataset and it could not be downloaded; `loadDataset`'s fallback catches it. */
export class DatasetNotFoundError extends ConvlabError {
  constructor(
    message: string,
    /** The places searched and the download outcome, e.g. `/root/.keras/datasets/mnist.npz; download failed (…)`. */
    readonly searched: string,
  ) {
    super(message);
  }
}

/** Keras's download folder for both datasets. */
export const KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/";
const DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
const IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] as const;
const IDX_GZ = IDX_FILES.map((f) => `${f}.gz`);

/** SHA-256 of the files at Keras's URLs, as Keras's `get_file(file_hash=…)` checks them. */
export const KERAS_SHA256: Readonly<Record<string, string>> = Object.freeze({
  "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
  "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
  "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
  "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
  "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
});

/** How each dataset is called in messages. */
export const DISPLAY_NAMES: Readonly<Record<DatasetName, string>> = Object.freeze({ mnist: "MNIST", fashion_mnist: "Fashion-MNIST" });

/** The keys of {@link LoadDataArgs}. */
export const OPTION_KEYS = ["dataDir", "download", "baseUrl", "onProgress"] as const;

/** A place that may hold a dataset: an `.npz` file or a folder of the four IDX files. */
interface Place {
  kind: "npz" | "idx";
  path: string;
}

const memory = new Map<string, Promise<DatasetSplits>>();

/** Forgets the decoded arrays (tests; or to let them be garbage-collected). */
export function clearCache(): void {
  memory.clear();
}

/**
 * The four arrays of `name`, from the first place that has them (see the
 * module comment), decoded once per process and configuration: later calls
 * return the same arrays at once.
 *
 * @throws DatasetNotFoundError when no place has them and downloading is off or failed.
 * @throws ConvlabError on invalid options or a broken file (naming it).
 */
export async function loadSplits(name: DatasetName, options: LoadDataArgs = {}, internal: InternalArgs = {}, unit = name === "mnist" ? "mnist.loadData" : "fashionMnist.loadData"): Promise<DatasetSplits> {
  checkOptions(unit, options);
  const dataDir = options.dataDir ?? (process.env.CONVLAB_DATA || undefined);
  // HOME read from process.env (not only os.homedir()) so that a changed HOME is seen at once.
  const kerasDir = path.join(process.env.KERAS_HOME || path.join(process.env.HOME || os.homedir(), ".keras"), "datasets");
  const debianDir = internal.debianDir ?? DEBIAN_DIR;
  const key = JSON.stringify([name, dataDir, kerasDir, debianDir]);
  let pending = memory.get(key);
  if (!pending) {
    pending = locateAndDecode(name, options, internal, dataDir, kerasDir, debianDir);
    memory.set(key, pending);
    pending.catch(() => memory.delete(key));
  }
  const [[xTrain, yTrain], [xTest, yTest]] = await pending;
  return [[xTrain, yTrain], [xTest, yTest]];
}

async function locateAndDecode(name: DatasetName, options: LoadDataArgs, internal: InternalArgs, dataDir: string | undefined, kerasDir: string, debianDir: string): Promise<DatasetSplits> {
  const sub = name === "mnist" ? "mnist" : "fashion-mnist";
  const kerasPlace: Place = name === "mnist" ? { kind: "npz", path: path.join(kerasDir, "mnist.npz") } : { kind: "idx", path: path.join(kerasDir, "fashion-mnist") };
  const places: Place[] = [];
  if (dataDir !== undefined) {
    if (name === "mnist") places.push({ kind: "npz", path: path.join(dataDir, "mnist.npz") });
    places.push({ kind: "idx", path: path.join(dataDir, sub) });
  }
  places.push(kerasPlace);
  if (name === "fashion_mnist") places.push({ kind: "idx", path: debianDir });

  const searched: string[] = dataDir === undefined ? ["$CONVLAB_DATA (not set)"] : [];
  for (const place of places) {
    const found = await probe(place);
    if (found.files) return decode(place, found.files);
    searched.push(found.note);
  }

  const baseUrl = options.baseUrl ?? (process.env.CONVLAB_DATA_URL || KERAS_BASE_URL);
  const wanted = kerasPlace.kind === "npz" ? ["mnist.npz"] : IDX_GZ;
  if (options.download === false) {
    searched.push("download off");
  } else {
    const dir = kerasPlace.kind === "npz" ? kerasDir : kerasPlace.path;
    try {
      for (const file of wanted) {
        const dest = path.join(dir, file);
        if (kerasPlace.kind === "idx" && (await isFile(dest))) continue;
        const hash = internal.sha256?.[file] ?? KERAS_SHA256[file];
        await downloadFile({ url: joinUrl(baseUrl, file), dest, hash, onProgress: options.onProgress, ca: internal.ca, timeoutMs: internal.timeoutMs });
      }
      const found = await probe(kerasPlace);
      if (found.files) return decode(kerasPlace, found.files);
      searched.push(`download to ${kerasPlace.path} incomplete`);
    } catch (error) {
      if (!(error instanceof ConvlabError)) throw error;
      searched.push(error.message.replace(/^datasets: /, "").replace(/\.$/, ""));
    }
  }

  const display = DISPLAY_NAMES[name];
  const list = searched.join("; ");
  const where = dataDir ?? "$CONVLAB_DATA";
  const hint =
    name === "mnist"
      ? `Put Keras's mnist.npz in ${kerasDir} or ${where}, or the four IDX files (${IDX_GZ.join(", ")}) in ${path.join(where, "mnist")}.`
      : `Put the four IDX files (${IDX_GZ.join(", ")}) in ${kerasPlace.path} or ${path.join(where, "fashion-mnist")}, or install Debian's dataset-fashion-mnist.`;
  throw new DatasetNotFoundError(`datasets: ${display} not found. Looked in: ${list}. ${hint}`, list);
}

/** The files of a place when all are there, else a note on what is missing. */
async function probe(place: Place): Promise<{ files?: string[]; note: string }> {
  if (place.kind === "npz") {
    return (await isFile(place.path)) ? { files: [place.path], note: "" } : { note: `${place.path} (missing)` };
  }
  const files: string[] = [];
  for (const base of IDX_FILES) {
    for (const candidate of [`${base}.gz`, base]) {
      const file = path.join(place.path, candidate);
      if (await isFile(file)) {
        files.push(file);
        break;
      }
    }
  }
  if (files.length === IDX_FILES.length) return { files, note: "" };
  if (files.length === 0) return { note: `${place.path}${path.sep} (no IDX files)` };
  const missing = IDX_FILES.filter((base) => !files.some((f) => path.basename(f).startsWith(base)));
  return { note: `${place.path}${path.sep} (missing ${missing.map((m) => `${m}[.gz]`).join(", ")})` };
}

async function decode(place: Place, files: string[]): Promise<DatasetSplits> {
  if (place.kind === "npz") {
    const file = files[0];
    const arrays = await readNpzFile(file);
    const keys = ["x_train", "y_train", "x_test", "y_test"];
    const missing = keys.filter((k) => !arrays.has(k));
    if (missing.length > 0) {
      throw fail(`datasets: ${file} lacks ${missing.map((k) => `${k}.npy`).join(", ")}. Expected entries x_train, y_train, x_test, y_test (Keras's mnist.npz), received ${show([...arrays.keys()])}.`);
    }
    const [xTrain, yTrain, xTest, yTest] = keys.map((k) => arrays.get(k)!);
    checkPair(`x_train.npy in ${file}`, xTrain, `y_train.npy in ${file}`, yTrain);
    checkPair(`x_test.npy in ${file}`, xTest, `y_test.npy in ${file}`, yTest);
    return [[xTrain, yTrain], [xTest, yTest]];
  }
  const [xTrain, yTrain, xTest, yTest] = await Promise.all(files.map((f, i) => readIdxFile(f, i % 2 === 0 ? 3 : 1)));
  checkPair(files[0], xTrain, files[1], yTrain);
  checkPair(files[2], xTest, files[3], yTest);
  return [[xTrain, yTrain], [xTest, yTest]];
}

function checkPair(xName: string, x: Uint8Tensor, yName: string, y: Uint8Tensor): void {
  if (x.rank !== 3) {
    throw fail(`datasets: ${xName} has shape [${x.shape.join(",")}]. Expected images [count, height, width], received ${x.rank} dimensions.`);
  }
  if (y.rank !== 1) {
    throw fail(`datasets: ${yName} has shape [${y.shape.join(",")}]. Expected labels [count], received ${y.rank} dimensions.`);
  }
  if (x.shape[0] !== y.shape[0]) {
    throw fail(`datasets: ${xName} and ${yName} disagree. Expected as many labels as images (${x.shape[0]}), received ${y.shape[0]}.`);
  }
}

function checkOptions(unit: string, options: LoadDataArgs): void {
  if (options === null || typeof options !== "object") {
    throw fail(`${unit}: invalid options. Expected an object. Received: ${show(options)}.`);
  }
  expectKnownKeys(unit, options, OPTION_KEYS);
  const { dataDir, download, baseUrl, onProgress } = options;
  if (dataDir !== undefined && (typeof dataDir !== "string" || dataDir === "")) {
    throw fail(`${unit}: invalid dataDir. Expected a folder path. Received: dataDir=${show(dataDir)}.`);
  }
  if (download !== undefined && typeof download !== "boolean") {
    throw fail(`${unit}: invalid download. Expected true or false. Received: download=${show(download)}.`);
  }
  if (baseUrl !== undefined && (typeof baseUrl !== "string" || !/^https?:\/\//.test(baseUrl))) {
    throw fail(`${unit}: invalid baseUrl. Expected an http:// or https:// folder URL. Received: baseUrl=${show(baseUrl)}.`);
  }
  if (onProgress !== undefined && onProgress !== false && typeof onProgress !== "function") {
    throw fail(`${unit}: invalid onProgress. Expected a function or false. Received: onProgress=${show(onProgress)}.`);
  }
}

function joinUrl(base: string, file: string): string {
  return base.endsWith("/") ? base + file : `${base}/${file}`;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch {
    return false;
  }
}
