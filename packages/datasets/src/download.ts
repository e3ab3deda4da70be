/**
 * Downloading one file as Keras's `get_file` does: md5 or sha256 checked (chosen by the
 * hash's length, Keras's `hash_algorithm="auto"`), with a progress line; here also atomically
 * (a temporary sibling file renamed into place only after its checksum matched, so an
 * interrupted or corrupt download never leaves a file that later loads would trust). The one
 * downloader of convlab: datasets and `@convlab/transfer`'s ImageNet weights both use it.
 *
 * Proxies, with Node built-ins only: `https_proxy`/`HTTPS_PROXY` for https
 * URLs (a CONNECT tunnel, then TLS to the origin through it),
 * `http_proxy`/`HTTP_PROXY` for http URLs (absolute-form requests),
 * `no_proxy`/`NO_PROXY` (comma-separated host suffixes, `*` for all). The
 * proxy itself must be an `http://` URL; `user:password@` is sent as Basic
 * `Proxy-Authorization`.
 */
import { ConvlabError, expectKnownKeys, fail, show, writeFileAtomically } from "@convlab/engine";
import { createHash } from "crypto";
import { createReadStream, createWriteStream } from "fs";
import * as http from "http";
import * as https from "https";
import type { Socket } from "net";
import * as path from "path";
import { Transform } from "stream";
import { pipeline } from "stream/promises";
import * as tls from "tls";

/** One progress report of a download. */
export interface DownloadProgress {
  /** The file's name, e.g. `mnist.npz`. */
  file: string;
  /** Where it comes from. */
  url: string;
  /** Bytes received so far. */
  received: number;
  /** The size the server announced, when it did. */
  total?: number;
  /** True on the last report, after the checksum matched and the file is in place. */
  done: boolean;
}

/** Called with each {@link DownloadProgress}: at the start, as data arrives, and once at the end. */
export type ProgressCallback = (progress: DownloadProgress) => void;

/** What {@link downloadFile} needs. */
export interface DownloadRequest {
  /** Where the file comes from: an `http://` or `https://` URL (Keras's `origin`). */
  url: string;
  /** The final path; its folder is created (only once the server answered). */
  dest: string;
  /**
   * Keras's `file_hash`: the hex md5 (32 digits) or sha256 (64 digits) the bytes must have,
   * any case; the length chooses the algorithm, as Keras's `hash_algorithm="auto"`. `null`:
   * not checked (Keras's `file_hash=None`); every published file has one, so pass it.
   */
  hash: string | null;
  /** Progress reports; `false` for none; default {@link progressPrinter} on stdout. */
  onProgress?: ProgressCallback | false;
  /** Give up when no data arrives for this long, in ms; default 30,000. */
  timeoutMs?: number;
  /** Extra trusted certificates (a test's self-signed origin). */
  ca?: string | Buffer;
}

const REQUEST_KEYS = ["url", "dest", "hash", "onProgress", "timeoutMs", "ca"] as const;

/** The hash algorithms of Keras's `get_file`. */
export type HashAlgorithm = "md5" | "sha256";

/**
 * Where a download failed, on {@link DownloadError}:
 * - `"request"`: no usable answer (offline, DNS, proxy, HTTP status, too many redirects,
 *   a silent server, not an http(s) URL); nothing was written, not even the folder;
 * - `"write"`: the folder or the file could not be written (permissions, disk full);
 * - `"transfer"`: the data stopped or did not match the announced size;
 * - `"checksum"`: all bytes arrived but their hash differs from `hash`.
 */
export type DownloadStage = "request" | "write" | "transfer" | "checksum";

/**
 * Thrown by {@link downloadFile}: a {@link ConvlabError} whose message stands alone, plus the
 * parts a caller needs to word its own message. Nothing is left at `dest` nor beside it.
 */
export class DownloadError extends ConvlabError {
  constructor(
    message: string,
    /** Where it failed. */
    readonly stage: DownloadStage,
    /** The cause in a few words, e.g. `HTTP 404 Not Found`, `connect ECONNREFUSED 127.0.0.1:8080`. */
    readonly reason: string,
    /** Bytes received before it failed. */
    readonly received: number,
    /** On `"checksum"`: the hash the bytes have, in the algorithm of the expected one. */
    readonly actualHash?: string,
  ) {
    super(message);
  }
}

const MAX_REDIRECTS = 5;

/**
 * Downloads `url` to `dest`, checking its md5 or sha256 before the file appears.
 *
 * Proxies come from the environment (`https_proxy`, `http_proxy`, `no_proxy`, either case);
 * redirects are followed (at most 5). The bytes go to a hidden temporary sibling of `dest`,
 * which is fsynced and renamed into place only after the hash matched; an existing `dest` is
 * replaced then. Progress is reported at the start, as data arrives and once at the end.
 *
 * @param request `url`, `dest`, `hash` (Keras's `file_hash`, or null), and optionally
 *   `onProgress` (default one line on stdout), `timeoutMs` (default 30,000 ms without data), `ca`.
 * @throws ConvlabError for an invalid request (unknown key, a hash that is neither 32 nor 64
 *   hex digits), before any network access.
 * @throws DownloadError on a network or HTTP error, a write error, a size or hash mismatch;
 *   then nothing is left at `dest` (an older file there stays) nor beside it.
 *
 * @example
 * ```ts
 * import { downloadFile } from "@convlab/datasets";
 * await downloadFile({
 *   url: "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
 *   dest: "data/mnist.npz",
 *   hash: "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
 * });
 * ```
 *
 * Keras equivalent: `keras.utils.get_file(fname, origin, file_hash=hash)` for the download
 * itself. Unlike Keras, it always downloads (finding a cached copy is the caller's job: the
 * datasets and ImageNet weights have their own lookup orders), takes the full destination path
 * instead of `cache_dir`/`cache_subdir`, and does not extract archives.
 */
export async function downloadFile(request: DownloadRequest): Promise<void> {
  const expected = checkRequest(request);
  const { url, dest } = request;
  const file = path.basename(dest);
  const report = request.onProgress === false ? () => undefined : (request.onProgress ?? progressPrinter());
  let stage: DownloadStage = "request";
  let received = 0;
  let total: number | undefined;
  try {
    const response = await get(new URL(url), request, MAX_REDIRECTS);
    // Only now is the folder made: a failed request leaves no empty cache folder behind.
    stage = "write";
    // The bytes go to a hidden sibling, renamed into place only once the hash matched.
    await writeFileAtomically(dest, async (tmp) => {
      stage = "transfer";
      const header = response.headers["content-length"];
      total = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
      const hasher = expected ? createHash(hashAlgorithm(expected)) : undefined;
      report({ file, url, received, total, done: false });
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hasher?.update(chunk);
          received += chunk.length;
          report({ file, url, received, total, done: false });
          callback(null, chunk);
        },
      });
      try {
        await pipeline(response, meter, createWriteStream(tmp, { flags: "wx" }));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).path !== undefined) stage = "write"; // fs errors name their path
        else if (total !== undefined && received < total) throw new Error(`connection closed after ${received} of ${total} bytes`);
        throw error;
      }
      if (total !== undefined && received !== total) {
        throw new Error(`received ${received} bytes, the server announced ${total}`);
      }
      const actual = hasher?.digest("hex");
      if (expected && actual !== expected) {
        const algorithm = hashAlgorithm(expected);
        throw new DownloadError(
          `datasets: checksum mismatch for ${url}. Expected ${algorithm} ${expected}, received ${actual}. The file was not saved.`,
          "checksum",
          `its ${algorithm} is ${actual}, expected ${expected}`,
          received,
          actual,
        );
      }
      stage = "write";
    }).catch((error) => {
      response.destroy();
      throw error;
    });
  } catch (error) {
    if (error instanceof DownloadError) throw error;
    if (error instanceof ConvlabError) {
      // Already worded here (not an http(s) URL, an unsupported proxy).
      throw new DownloadError(error.message, stage, error.message.replace(/^datasets: /, "").replace(/\.$/, ""), received);
    }
    const reason = describe(error);
    throw new DownloadError(`datasets: download of ${url} failed (${reason}).`, stage, reason, received);
  }
  report({ file, url, received, total, done: true });
}

/**
 * Keras's `hash_algorithm="auto"` for a `file_hash`: `"sha256"` for 64 hex digits, else
 * `"md5"` (Keras's published weights use md5, its datasets sha256).
 */
export function hashAlgorithm(fileHash: string): HashAlgorithm {
  return fileHash.length === 64 ? "sha256" : "md5";
}

/**
 * The lowercase hex digest of a file, read as a stream (weight files are large).
 *
 * @param file The file's path.
 * @param algorithm `"md5"` or `"sha256"` (default, as Keras); {@link hashAlgorithm} picks the
 *   one of a given `file_hash`.
 * @throws The file system's error when it cannot be read.
 *
 * Keras equivalent: `keras.utils.file_utils.hash_file(fpath, algorithm)`; compare it with the
 * expected hash for `validate_file`.
 */
export async function hashFile(file: string, algorithm: HashAlgorithm = "sha256"): Promise<string> {
  const hasher = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest("hex");
}

/** Validates `request` before any network access; the expected hash in lowercase, or undefined. */
function checkRequest(request: DownloadRequest): string | undefined {
  if (request == null || typeof request !== "object") {
    throw fail(`downloadFile: invalid request. Expected { url, dest, hash }. Received: request=${show(request)}.`);
  }
  if ("sha256" in request) {
    throw fail("downloadFile: unknown option `sha256`. Expected `hash`: Keras's file_hash, 32 (md5) or 64 (sha256) hex digits.");
  }
  expectKnownKeys("downloadFile", request, REQUEST_KEYS);
  if (typeof request.url !== "string") throw fail(`downloadFile: invalid url. Expected an http:// or https:// URL. Received: url=${show(request.url)}.`);
  if (typeof request.dest !== "string" || request.dest === "") {
    throw fail(`downloadFile: invalid dest. Expected the path of the file to write. Received: dest=${show(request.dest)}.`);
  }
  const { hash } = request;
  if (hash === null) return undefined;
  if (typeof hash !== "string" || !/^([0-9a-f]{32}|[0-9a-f]{64})$/i.test(hash)) {
    throw fail(`downloadFile: invalid hash. Expected Keras's file_hash: 32 (md5) or 64 (sha256) hex digits, or null for none. Received: hash=${show(hash)}.`);
  }
  return hash.toLowerCase();
}

/** Where {@link progressPrinter} writes: `process.stdout`, `process.stderr`, or any writable with `write`. */
export type ProgressStream = Pick<NodeJS.WriteStream, "write"> & { isTTY?: boolean };

/** Options of {@link progressPrinter}. */
export interface ProgressPrinterArgs {
  /** The start of each line, before the percentage; default `datasets: downloading <file>`. */
  title?: string;
}

/**
 * A progress reporter for {@link downloadFile}: one line on `stream`, e.g.
 * `datasets: downloading mnist.npz  50% (5.7 MB of 11.5 MB)`, ending in `, done`.
 *
 * On a terminal the line is rewritten in place with `\r` (at most once per percent, or per
 * 0.1 MB when the size is unknown) and ended by a newline when done; elsewhere (a notebook, a
 * log, where `\r` does not rewrite) a new line is printed each time another 10% arrived (every
 * 10 MB when the size is unknown), the last one ending in `, done`.
 *
 * @param stream Where to write; default `process.stdout`.
 * @param args `title`: the start of each line instead of `datasets: downloading <file>`.
 * @returns The callback to pass as `onProgress`; one per download (it keeps the last line printed).
 *
 * @example
 * ```ts
 * await downloadFile({ url, dest, hash, onProgress: progressPrinter(process.stderr, { title: "weights.h5:" }) });
 * ```
 *
 * Keras equivalent: the `Progbar` that `keras.utils.get_file` shows.
 */
export function progressPrinter(stream: ProgressStream = process.stdout, args: ProgressPrinterArgs = {}): ProgressCallback {
  let lastStep = -1;
  let lastPercent = -1;
  return (p) => {
    const line = `${args.title ?? `datasets: downloading ${p.file}`} ${progressText(p)}`;
    if (stream.isTTY) {
      const percent = p.total ? Math.floor((100 * p.received) / p.total) : Math.floor(p.received / 1e5);
      if (percent === lastPercent && !p.done) return;
      lastPercent = percent;
      stream.write(`\r${line}${p.done ? "\n" : ""}`);
      return;
    }
    if (p.done) {
      stream.write(`${line}\n`);
      return;
    }
    // The complete size waits for the done line: one 100% line, saying done.
    if (p.total !== undefined && p.received >= p.total) return;
    const step = p.total ? Math.floor((10 * p.received) / p.total) : Math.floor(p.received / 1e7);
    if (step === lastStep) return;
    lastStep = step;
    stream.write(`${line}\n`);
  };
}

function progressText(p: DownloadProgress): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  if (p.total === undefined) return `${mb(p.received)}${p.done ? ", done" : ""}`;
  const percent = p.total === 0 ? 100 : Math.floor((100 * p.received) / p.total);
  return `${String(percent).padStart(3)}% (${mb(p.received)} of ${mb(p.total)})${p.done ? ", done" : ""}`;
}

/** A 200 response for `url`, following redirects, through a proxy when the environment names one. */
async function get(url: URL, request: DownloadRequest, redirects: number): Promise<http.IncomingMessage> {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw fail(`datasets: cannot download ${url.href}. Expected an http:// or https:// URL, received ${JSON.stringify(url.protocol)}.`);
  }
  const timeoutMs = request.timeoutMs ?? 30_000;
  const proxy = proxyFor(url);
  const headers: http.OutgoingHttpHeaders = { "User-Agent": "convlab-datasets" };
  const options: https.RequestOptions = { headers, ca: request.ca };
  let target: URL | string = url;
  if (proxy && url.protocol === "https:") {
    const socket = await connectTunnel(proxy, url, timeoutMs);
    options.createConnection = () => tls.connect({ socket, servername: url.hostname, ca: request.ca });
  } else if (proxy) {
    target = new URL(`${proxy.protocol}//${proxy.host}`); // credentials go in Proxy-Authorization, not Authorization
    Object.assign(options, { path: url.href, protocol: "http:" });
    Object.assign(headers, { Host: url.host }, proxyAuthorization(proxy));
  }
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const mod = (typeof target === "string" ? new URL(target) : target).protocol === "https:" ? https : http;
    const req = mod.request(target, options, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response for ${timeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end();
  });
  response.setTimeout?.(timeoutMs, () => response.destroy(new Error(`no data for ${timeoutMs / 1000} s`)));
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400 && response.headers.location) {
    response.resume();
    if (redirects === 0) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    return get(new URL(response.headers.location, url), request, redirects - 1);
  }
  if (status !== 200) {
    response.resume();
    throw new Error(`HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}`);
  }
  return response;
}

/** A socket to `url`'s host through `proxy`'s CONNECT method. */
function connectTunnel(proxy: URL, url: URL, timeoutMs: number): Promise<Socket> {
  const authority = `${url.hostname}:${url.port || 443}`;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: "CONNECT",
      path: authority,
      headers: { Host: authority, ...proxyAuthorization(proxy) },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`proxy ${proxy.host} did not answer for ${timeoutMs / 1000} s`)));
    req.on("connect", (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: HTTP ${res.statusCode}`));
      } else {
        req.setTimeout(0);
        resolve(socket);
      }
    });
    req.on("error", (error) => reject(new Error(`proxy ${proxy.host}: ${describe(error)}`)));
    req.end();
  });
}

/** The proxy for `url` from the environment, or undefined (none set, or `no_proxy` matches). */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const value = url.protocol === "https:" ? (env.https_proxy ?? env.HTTPS_PROXY) : (env.http_proxy ?? env.HTTP_PROXY);
  if (!value) return undefined;
  const noProxy = (env.no_proxy ?? env.NO_PROXY ?? "").split(/[\s,]+/).filter(Boolean);
  const host = url.hostname.toLowerCase();
  for (const entry of noProxy) {
    if (entry === "*") return undefined;
    const [name, port] = entry.toLowerCase().replace(/^\*?\./, "").split(":");
    if ((host === name || host.endsWith(`.${name}`)) && (!port || port === (url.port || (url.protocol === "https:" ? "443" : "80")))) return undefined;
  }
  const proxy = new URL(value.includes("://") ? value : `http://${value}`);
  if (proxy.protocol !== "http:") {
    throw fail(`datasets: unsupported proxy ${proxy.protocol}//${proxy.host}. Expected an http:// proxy URL in ${url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY"}, received ${JSON.stringify(proxy.protocol)}.`);
  }
  return proxy;
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "Proxy-Authorization": `Basic ${Buffer.from(credentials).toString("base64")}` };
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code && e.message && !e.message.includes(e.code)) return `${e.code}: ${e.message}`;
  return e?.message ?? String(error);
}
