/**
 * Keras's published ImageNet weight files: found on this machine, or downloaded as Keras's
 * `get_file` does (into `~/.keras/models`, hash checked), atomically, by `@convlab/datasets`'s
 * `downloadFile`, convlab's one downloader.
 */
import { DownloadError, downloadFile, hashAlgorithm, hashFile, progressPrinter } from "@convlab/datasets";
import type { ProgressCallback, ProgressStream } from "@convlab/datasets";
import { errnoCode, fail, messageLine, show } from "@convlab/engine";
import { promises as fsp } from "fs";
import * as os from "os";
import * as path from "path";

const UNIT = "resolveImagenetWeights";

/** One of Keras's published weight files. */
export interface WeightsFile {
  /** Keras's file name, e.g. "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5". */
  file: string;
  /** Where Keras downloads it from (full URL). */
  url: string;
  /** Keras's `file_hash` for it (md5 or sha256 hex). */
  hash: string;
}

/** Options of {@link resolveImagenetWeights}; tests and scripts use them, notebooks rarely. */
export interface ResolveWeightsOptions {
  /** Where progress goes; default `process.stderr`. `false`: no progress. */
  progress?: ProgressStream | false;
  /** Give up when the server sends nothing for this long, in ms; default 30,000. */
  timeoutMs?: number;
}

/**
 * Keras's cache folder for weight files: `$KERAS_HOME/models` when `KERAS_HOME` is set, else
 * `~/.keras/models` (Keras's `get_file(cache_subdir="models")`).
 *
 * `~` is `$HOME` when set (`$USERPROFILE` on Windows), as Python's `expanduser` reads it; the
 * account's home folder otherwise.
 */
export function kerasModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = (process.platform === "win32" ? env.USERPROFILE : env.HOME) || os.homedir();
  const keras = env.KERAS_HOME ? path.resolve(env.KERAS_HOME) : path.join(home, ".keras");
  return path.join(keras, "models");
}

/**
 * The local path of one of Keras's ImageNet weight files, downloading it when it is not here.
 *
 * Looked up in order:
 * 1. the folder named by `CONVLAB_WEIGHTS`, when set (a shared or offline copy);
 * 2. Keras's cache, `$KERAS_HOME/models` or `~/.keras/models`, where Keras itself keeps them,
 *    so files Keras downloaded are reused;
 * 3. else downloaded from `url` into that cache by `@convlab/datasets`'s `downloadFile`: through
 *    the proxies named by `https_proxy`/`http_proxy` (and `no_proxy`), with Keras's
 *    "Downloading data from <url>" and one progress line on stderr, its md5 or sha256 (chosen by
 *    the hash's length, as Keras's `get_file` does) checked before the file is renamed into
 *    place: an interrupted or corrupt download leaves nothing.
 *
 * A file found locally is checked against `hash` too (once per process while it is unchanged).
 * A cached file with another hash is downloaded again, as Keras does. Unlike Keras, an
 * unwritable `~/.keras` is an error (Keras falls back to `/tmp/.keras`); set `KERAS_HOME`.
 *
 * @param file Keras's file name, URL and hash (the applications pass theirs).
 * @param options `progress` (a stream, or false) and `timeoutMs` (default 30 s without data).
 * @returns The absolute path of the verified file.
 * @throws ConvlabError, one line: offline or the server failed (naming the file and the two
 *   folders where it may be put); the transfer broke off or the download's hash differs
 *   (nothing kept); the cache folder is not writable; a file in `CONVLAB_WEIGHTS` has another hash.
 *
 * @example
 * ```ts
 * const file = await resolveImagenetWeights({
 *   file: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
 *   url: "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
 *   hash: "6d6bbae143d832006294945121d1f1fc",
 * });
 * await loadWeights(model, file);
 * ```
 *
 * Keras equivalent: `keras.utils.get_file(fname, origin, cache_subdir="models", file_hash=hash)`,
 * which the applications call; `CONVLAB_WEIGHTS` is convlab's addition.
 */
export async function resolveImagenetWeights(file: WeightsFile, options: ResolveWeightsOptions = {}): Promise<string> {
  const { name, url, hash } = checkWeightsFile(file);
  const shared = process.env.CONVLAB_WEIGHTS ? path.resolve(process.env.CONVLAB_WEIGHTS) : undefined;
  const cache = kerasModelsDir();
  if (shared !== undefined) {
    const candidate = path.join(shared, name);
    if (await isFile(candidate)) {
      const actual = await fileHash(candidate, hash);
      if (actual === undefined || actual === hash) return candidate;
      throw fail(
        `${UNIT}: ${candidate} is not Keras's ${name}: its ${hashAlgorithm(hash)} is ${actual}. Expected ${hash}; replace it with the file from ${url}.`,
      );
    }
  }
  const cached = path.join(cache, name);
  if (await isFile(cached)) {
    const actual = await fileHash(cached, hash);
    if (actual === undefined || actual === hash) return cached;
    // Keras: "A local file was found, but it seems to be incomplete or outdated" → download again.
  }
  return downloadOnce(url, cached, hash, name, shared, options);
}

const downloads = new Map<string, Promise<string>>();

/** One download per target at a time in this process; later callers share it. */
function downloadOnce(url: string, target: string, hash: string, name: string, shared: string | undefined, options: ResolveWeightsOptions): Promise<string> {
  let running = downloads.get(target);
  if (running === undefined) {
    running = download(url, target, hash, name, shared, options).finally(() => downloads.delete(target));
    downloads.set(target, running);
  }
  return running;
}

async function download(url: string, target: string, hash: string, name: string, shared: string | undefined, options: ResolveWeightsOptions): Promise<string> {
  const whereToPut = `Put ${name} in ${path.dirname(target)} (Keras's cache) or in the folder named by CONVLAB_WEIGHTS (${shared ?? "not set"}), or connect to the network.`;
  const orWhereToPut = `${whereToPut[0].toLowerCase()}${whereToPut.slice(1)}`;
  const stream = options.progress === false ? undefined : (options.progress ?? process.stderr);
  try {
    await downloadFile({ url, dest: target, hash: hash || null, onProgress: stream ? progressLine(stream, name, url) : false, timeoutMs: options.timeoutMs });
  } catch (e) {
    if (!(e instanceof DownloadError)) throw e;
    switch (e.stage) {
      case "request":
        throw fail(`${UNIT}: ${name} is not on this machine and cannot be downloaded from ${url} (${e.reason}). ${whereToPut}`);
      case "write":
        throw fail(
          `${UNIT}: cannot write ${name} into Keras's cache folder ${path.dirname(target)} (${e.reason}); nothing was kept. Expected a writable home folder; set KERAS_HOME to a writable folder, or put ${name} in the folder named by CONVLAB_WEIGHTS.`,
        );
      case "checksum":
        throw fail(
          `${UNIT}: the file downloaded from ${url} is not Keras's ${name}: its ${hashAlgorithm(hash)} is ${e.actualHash}, expected ${hash}; it was not kept. Try again later, or ${orWhereToPut}`,
        );
      default:
        throw fail(`${UNIT}: the download of ${name} from ${url} failed after ${e.received} bytes (${e.reason}); nothing was kept. Try again, or ${orWhereToPut}`);
    }
  }
  verified.set(target, await stamp(target, hash));
  return target;
}

/**
 * Keras's "Downloading data from <url>" once the server answered, then `progressPrinter`'s one
 * line, `<file>:  42% (…)`: rewritten in place on a terminal, a new line per 10% elsewhere.
 */
function progressLine(stream: ProgressStream, name: string, url: string): ProgressCallback {
  const line = progressPrinter(stream, { title: `${name}:` });
  let started = false;
  return (p) => {
    if (!started) {
      started = true;
      stream.write(`Downloading data from ${url}\n`);
    }
    line(p);
  };
}

/** Hashes already checked in this process, keyed by path, valid while size and mtime are unchanged. */
const verified = new Map<string, { size: number; mtimeMs: number; hash: string; actual: string }>();

async function stamp(file: string, hash: string): Promise<{ size: number; mtimeMs: number; hash: string; actual: string }> {
  const st = await fsp.stat(file);
  return { size: st.size, mtimeMs: st.mtimeMs, hash, actual: hash };
}

/** The file's hash in the algorithm of `hash` (md5 for 32 hex digits, sha256 for 64); undefined when there is no hash to check. */
async function fileHash(file: string, hash: string): Promise<string | undefined> {
  if (!hash) return undefined;
  const st = await fsp.stat(file);
  const known = verified.get(file);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.hash === hash) return known.actual;
  const actual = await hashFile(file, hashAlgorithm(hash));
  verified.set(file, { size: st.size, mtimeMs: st.mtimeMs, hash, actual });
  return actual;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw fail(`${UNIT}: cannot read ${file}: ${messageLine(e)}. Expected a readable file or none; check its permissions.`);
  }
}

function checkWeightsFile(file: unknown): { name: string; url: string; hash: string } {
  const f = file as Partial<WeightsFile> | null;
  const example = `{ file: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", url: "https://…", hash: "6d6bbae1…" }`;
  if (f == null || typeof f !== "object") throw fail(`${UNIT}: invalid file. Expected ${example}. Received: file=${show(file)}.`);
  if (typeof f.file !== "string" || f.file === "" || f.file !== path.basename(f.file) || f.file === "." || f.file === "..") {
    throw fail(`${UNIT}: invalid file name. Expected a bare file name such as "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5". Received: file=${show(f.file)}.`);
  }
  if (typeof f.url !== "string" || !/^https?:\/\//i.test(f.url)) {
    throw fail(`${UNIT}: invalid url. Expected an http:// or https:// URL. Received: url=${show(f.url)}.`);
  }
  if (typeof f.hash !== "string" || !(f.hash === "" || /^([0-9a-f]{32}|[0-9a-f]{64})$/i.test(f.hash))) {
    throw fail(`${UNIT}: invalid hash. Expected Keras's file_hash: 32 (md5) or 64 (sha256) hex digits, or "" for none. Received: hash=${show(f.hash)}.`);
  }
  return { name: f.file, url: f.url, hash: f.hash.toLowerCase() };
}
