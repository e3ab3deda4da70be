/**
 * Downloading one dataset file as Keras's `get_file` does: into the cache
 * folder, SHA-256 checked, with a progress line; here also atomically (a
 * temporary sibling file renamed into place only after its checksum matched,
 * so an interrupted or corrupt download never leaves a file that later loads
 * would trust).
 *
 * Proxies, with Node built-ins only: `https_proxy`/`HTTPS_PROXY` for https
 * URLs (a CONNECT tunnel, then TLS to the origin through it),
 * `http_proxy`/`HTTP_PROXY` for http URLs (absolute-form requests),
 * `no_proxy`/`NO_PROXY` (comma-separated host suffixes, `*` for all). The
 * proxy itself must be an `http://` URL; `user:password@` is sent as Basic
 * `Proxy-Authorization`.
 */
import { fail } from "@convlab/engine";
import { createHash, randomBytes } from "crypto";
import { createWriteStream, promises as fsp } from "fs";
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
  url: string;
  /** The final path; its folder is created. */
  dest: string;
  /** Lowercase hex SHA-256 the bytes must have. */
  sha256: string;
  /** Progress reports; `false` for none; default {@link progressPrinter} on stdout. */
  onProgress?: ProgressCallback | false;
  /** Give up when no data arrives for this long; default 30 s. */
  timeoutMs?: number;
  /** Extra trusted certificates (tests' self-signed origin). */
  ca?: string | Buffer;
}

const MAX_REDIRECTS = 5;

/**
 * Downloads `url` to `dest`, checking its SHA-256 before the file appears.
 *
 * @throws ConvlabError on a network or HTTP error, a size or checksum
 *   mismatch (then nothing is left at `dest` nor beside it).
 */
export async function downloadFile(request: DownloadRequest): Promise<void> {
  const { url, dest, sha256 } = request;
  const file = path.basename(dest);
  const report = request.onProgress === false ? () => undefined : (request.onProgress ?? progressPrinter());
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `.${file}.convlab-tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const response = await get(new URL(url), request, MAX_REDIRECTS);
    // Only now: a failed request leaves no empty cache folder behind.
    await fsp.mkdir(dir, { recursive: true }).catch((error) => {
      response.destroy();
      throw error;
    });
    const header = response.headers["content-length"];
    const total = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
    const hash = createHash("sha256");
    let received = 0;
    report({ file, url, received, total, done: false });
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        received += chunk.length;
        report({ file, url, received, total, done: false });
        callback(null, chunk);
      },
    });
    try {
      await pipeline(response, meter, createWriteStream(tmp, { flags: "wx" }));
    } catch (error) {
      if (total !== undefined && received < total) {
        throw new Error(`connection closed after ${received} of ${total} bytes`);
      }
      throw error;
    }
    if (total !== undefined && received !== total) {
      throw new Error(`received ${received} bytes, the server announced ${total}`);
    }
    const actual = hash.digest("hex");
    if (actual !== sha256.toLowerCase()) {
      throw fail(`datasets: checksum mismatch for ${url}. Expected sha256 ${sha256}, received ${actual}. The file was not saved.`);
    }
    const handle = await fsp.open(tmp, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, dest);
    await syncDir(dir);
    report({ file, url, received, total, done: true });
  } catch (error) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if ((error as Error).name === "ConvlabError") throw error;
    throw fail(`datasets: download of ${url} failed (${describe(error)}).`);
  }
}

/**
 * The default progress reporter: one line on `stream`. On a terminal it is
 * rewritten in place with `\r`; otherwise (a notebook, a log) a new line is
 * printed only each time another 10% arrived (every 10 MB when the size is unknown).
 */
export function progressPrinter(stream: Pick<NodeJS.WriteStream, "write"> & { isTTY?: boolean } = process.stdout): ProgressCallback {
  let lastStep = -1;
  let lastPercent = -1;
  return (p) => {
    const line = `datasets: downloading ${p.file} ${progressText(p)}`;
    if (stream.isTTY) {
      const percent = p.total ? Math.floor((100 * p.received) / p.total) : Math.floor(p.received / 1e5);
      if (percent === lastPercent && !p.done) return;
      lastPercent = percent;
      stream.write(`\r${line}${p.done ? "\n" : ""}`);
      return;
    }
    const step = p.total ? Math.floor((10 * p.received) / p.total) : Math.floor(p.received / 1e7);
    if (p.done) {
      if (lastStep !== (p.total ? 10 : -2)) stream.write(`${line}\n`);
      return;
    }
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

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse to fsync a folder; the rename is still atomic.
  }
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code && e.message && !e.message.includes(e.code)) return `${e.code}: ${e.message}`;
  return e?.message ?? String(error);
}
