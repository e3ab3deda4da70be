/**
 * Downloads against local servers (offline): progress, checksum (sha256 and md5, as Keras's
 * file_hash), atomic placement (nothing left behind on failure), redirects, HTTP errors,
 * timeouts, DownloadError's stages, request validation, the http proxy, the CONNECT tunnel for
 * https, and the default printer.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { DownloadError, DownloadProgress, DownloadRequest, downloadFile, hashAlgorithm, hashFile, progressPrinter, proxyFor } from "./download";
import { removeDirs, tempDir, withEnv } from "./testing/fixtures";
import { listen, selfSignedCert, serveFiles, startProxy, TestServer } from "./testing/server";

const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 31) % 256));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const BODY_SHA = sha(body);
const BODY_MD5 = createHash("md5").update(body).digest("hex");

let server: TestServer;
beforeAll(async () => {
  server = await serveFiles({ "mnist.npz": body, "other.bin": Buffer.from("other") }, (req, res) => {
    if (req.url === "/moved.npz") {
      res.writeHead(302, { Location: "/mnist.npz" }).end();
      return true;
    }
    if (req.url === "/cut.npz") {
      res.writeHead(200, { "Content-Length": 1000 });
      res.write(Buffer.alloc(100), () => setTimeout(() => res.socket?.destroy(), 20));
      return true;
    }
    if (req.url === "/silent.npz") return true; // never answers
    return false;
  });
});
afterAll(async () => {
  await server.close();
  removeDirs();
});

/** Without proxy variables from the machine. */
const noProxyEnv = { http_proxy: undefined, HTTP_PROXY: undefined, https_proxy: undefined, HTTPS_PROXY: undefined, no_proxy: undefined, NO_PROXY: undefined };

describe("downloadFile", () => {
  test("writes the file, reports progress from 0 to done, leaves no temporary file", async () => {
    const dir = path.join(tempDir(), "cache", "datasets");
    const events: DownloadProgress[] = [];
    await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}mnist.npz`, dest: path.join(dir, "mnist.npz"), hash: BODY_SHA, onProgress: (p) => events.push({ ...p }) }));
    expect(fs.readFileSync(path.join(dir, "mnist.npz")).equals(body)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(["mnist.npz"]);
    expect(events[0]).toEqual({ file: "mnist.npz", url: `${server.url}mnist.npz`, received: 0, total: body.length, done: false });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.at(-1)).toEqual({ file: "mnist.npz", url: `${server.url}mnist.npz`, received: body.length, total: body.length, done: true });
    for (let i = 1; i < events.length; i++) expect(events[i].received).toBeGreaterThanOrEqual(events[i - 1].received);
  });

  test("checksum mismatch: rejected, nothing saved; a later good download succeeds", async () => {
    const dir = tempDir();
    const dest = path.join(dir, "mnist.npz");
    const wrong = "0".repeat(64);
    await expect(withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}mnist.npz`, dest, hash: wrong, onProgress: false }))).rejects.toThrow(
      `datasets: checksum mismatch for ${server.url}mnist.npz. Expected sha256 ${wrong}, received ${BODY_SHA}. The file was not saved.`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
    await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}mnist.npz`, dest, hash: BODY_SHA, onProgress: false }));
    expect(fs.readdirSync(dir)).toEqual(["mnist.npz"]);
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
  });

  test("md5 as Keras's file_hash (32 hex digits, any case): checked, file written", async () => {
    const dir = tempDir();
    const dest = path.join(dir, "vgg16_notop.h5");
    await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}mnist.npz`, dest, hash: BODY_MD5.toUpperCase(), onProgress: false }));
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(["vgg16_notop.h5"]);
  });

  test("md5 mismatch: a DownloadError with the actual md5; an older file at dest stays, nothing beside it", async () => {
    const dir = tempDir();
    const dest = path.join(dir, "vgg16_notop.h5");
    fs.writeFileSync(dest, "old");
    const wrong = "0".repeat(32);
    const error = await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}mnist.npz`, dest, hash: wrong, onProgress: false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).message).toBe(`datasets: checksum mismatch for ${server.url}mnist.npz. Expected md5 ${wrong}, received ${BODY_MD5}. The file was not saved.`);
    expect(error).toMatchObject({ name: "ConvlabError", stage: "checksum", reason: `its md5 is ${BODY_MD5}, expected ${wrong}`, received: body.length, actualHash: BODY_MD5 });
    expect(fs.readdirSync(dir)).toEqual(["vgg16_notop.h5"]);
    expect(fs.readFileSync(dest, "utf8")).toBe("old");
  });

  test("hash null: not checked (Keras's file_hash=None)", async () => {
    const dest = path.join(tempDir(), "other.bin");
    await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}other.bin`, dest, hash: null, onProgress: false }));
    expect(fs.readFileSync(dest, "utf8")).toBe("other");
  });

  test("DownloadError says where it failed: request (HTTP status, refused connection) or transfer", async () => {
    const dir = tempDir();
    const missing = await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}missing.npz`, dest: path.join(dir, "m.npz"), hash: BODY_MD5, onProgress: false })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ stage: "request", reason: "HTTP 404 Not Found", received: 0, actualHash: undefined });
    const closed = await serveFiles({});
    await closed.close();
    const refused = await withEnv(noProxyEnv, () => downloadFile({ url: `${closed.url}m.npz`, dest: path.join(dir, "m.npz"), hash: BODY_MD5, onProgress: false })).catch((e: unknown) => e);
    expect(refused).toMatchObject({ stage: "request", reason: `connect ECONNREFUSED 127.0.0.1:${closed.port}`, received: 0 });
    const cut = await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}cut.npz`, dest: path.join(dir, "cut.npz"), hash: BODY_MD5, onProgress: false })).catch((e: unknown) => e);
    expect(cut).toMatchObject({ stage: "transfer", reason: "connection closed after 100 of 1000 bytes", received: 100 });
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.writeFileSync(path.join(dir, "a-file"), "");
    const unwritable = await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}mnist.npz`, dest: path.join(dir, "a-file", "m.npz"), hash: BODY_MD5, onProgress: false })).catch((e: unknown) => e);
    expect(unwritable).toMatchObject({ stage: "write", received: 0 });
    expect((unwritable as DownloadError).reason).toMatch(/^(EEXIST|ENOTDIR): /);
  });

  test("invalid requests are refused before any network access", async () => {
    const before = server.requests.length;
    const dest = path.join(tempDir(), "m.npz");
    const url = `${server.url}mnist.npz`;
    await expect(downloadFile({ url, dest, sha256: BODY_SHA } as unknown as DownloadRequest)).rejects.toThrow(
      "downloadFile: unknown option `sha256`. Expected `hash`: Keras's file_hash, 32 (md5) or 64 (sha256) hex digits.",
    );
    await expect(downloadFile({ url, dest, hash: "abc" })).rejects.toThrow(
      'downloadFile: invalid hash. Expected Keras\'s file_hash: 32 (md5) or 64 (sha256) hex digits, or null for none. Received: hash="abc".',
    );
    await expect(downloadFile({ url, dest } as unknown as DownloadRequest)).rejects.toThrow(
      "downloadFile: invalid hash. Expected Keras's file_hash: 32 (md5) or 64 (sha256) hex digits, or null for none. Received: hash=undefined.",
    );
    await expect(downloadFile({ url, dest, hash: BODY_SHA, onProgres: false } as unknown as DownloadRequest)).rejects.toThrow(
      "downloadFile: unknown option `onProgres`. Expected one of `url`, `dest`, `hash`, `onProgress`, `timeoutMs`, `ca`. Did you mean `onProgress`?",
    );
    await expect(downloadFile({ url, dest: "", hash: BODY_SHA })).rejects.toThrow('downloadFile: invalid dest. Expected the path of the file to write. Received: dest="".');
    expect(server.requests.length).toBe(before);
  });

  test("hashAlgorithm and hashFile: Keras's auto choice and hash_file", async () => {
    expect(hashAlgorithm(BODY_SHA)).toBe("sha256");
    expect(hashAlgorithm(BODY_MD5)).toBe("md5");
    const file = path.join(tempDir(), "body.bin");
    fs.writeFileSync(file, body);
    expect(await hashFile(file)).toBe(BODY_SHA);
    expect(await hashFile(file, "md5")).toBe(BODY_MD5);
  });

  test("an interrupted transfer fails and leaves nothing", async () => {
    const dir = tempDir();
    await expect(withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}cut.npz`, dest: path.join(dir, "cut.npz"), hash: BODY_SHA, onProgress: false }))).rejects.toThrow(
      `datasets: download of ${server.url}cut.npz failed (connection closed after 100 of 1000 bytes).`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("HTTP errors; no cache folder is created for a failed request", async () => {
    const dir = path.join(tempDir(), "not-yet");
    await expect(withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}missing.npz`, dest: path.join(dir, "m.npz"), hash: BODY_SHA, onProgress: false }))).rejects.toThrow(
      `datasets: download of ${server.url}missing.npz failed (HTTP 404 Not Found).`,
    );
    expect(fs.existsSync(dir)).toBe(false);
    await expect(downloadFile({ url: "ftp://example.org/m.npz", dest: path.join(dir, "m.npz"), hash: BODY_SHA, onProgress: false })).rejects.toThrow(
      'datasets: cannot download ftp://example.org/m.npz. Expected an http:// or https:// URL, received "ftp:".',
    );
  });

  test("follows redirects", async () => {
    const dest = path.join(tempDir(), "mnist.npz");
    await withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}moved.npz`, dest, hash: BODY_SHA, onProgress: false }));
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
  });

  test("gives up when the server is silent", async () => {
    const dir = tempDir();
    await expect(withEnv(noProxyEnv, () => downloadFile({ url: `${server.url}silent.npz`, dest: path.join(dir, "s.npz"), hash: BODY_SHA, onProgress: false, timeoutMs: 200 }))).rejects.toThrow(
      `datasets: download of ${server.url}silent.npz failed (no response for 0.2 s).`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("proxies", () => {
  test("proxyFor: scheme-specific variables, lowercase first, no_proxy suffixes and ports", () => {
    const env = { https_proxy: "http://proxy:3128", HTTP_PROXY: "proxy2:8080", no_proxy: "internal.example, .corp:8443" };
    expect(proxyFor(new URL("https://storage.googleapis.com/x"), env)?.href).toBe("http://proxy:3128/");
    expect(proxyFor(new URL("http://example.org/x"), env)?.href).toBe("http://proxy2:8080/");
    expect(proxyFor(new URL("https://a.internal.example/x"), env)).toBeUndefined();
    expect(proxyFor(new URL("https://x.corp:8443/x"), env)).toBeUndefined();
    expect(proxyFor(new URL("https://x.corp/x"), env)?.host).toBe("proxy:3128");
    expect(proxyFor(new URL("https://x/"), { HTTPS_PROXY: "http://p:1", no_proxy: "*" })).toBeUndefined();
    expect(proxyFor(new URL("https://x/"), {})).toBeUndefined();
    expect(() => proxyFor(new URL("https://x/"), { HTTPS_PROXY: "socks5://p:1080" })).toThrow(
      'datasets: unsupported proxy socks5://p:1080. Expected an http:// proxy URL in HTTPS_PROXY, received "socks5:".',
    );
  });

  test("http URLs go through http_proxy in absolute form, with Proxy-Authorization", async () => {
    const proxy = await startProxy({ "tf/mnist.npz": body });
    try {
      const dest = path.join(tempDir(), "mnist.npz");
      await withEnv({ ...noProxyEnv, http_proxy: `http://user:p%40ss@127.0.0.1:${proxy.port}` }, () =>
        downloadFile({ url: "http://datasets.invalid/tf/mnist.npz", dest, hash: BODY_SHA, onProgress: false }),
      );
      expect(fs.readFileSync(dest).equals(body)).toBe(true);
      expect(proxy.seen).toEqual(["GET http://datasets.invalid/tf/mnist.npz"]);
      expect(proxy.headers[0]["proxy-authorization"]).toBe(`Basic ${Buffer.from("user:p@ss").toString("base64")}`);
      expect(proxy.headers[0].authorization).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });

  test("https URLs go through a CONNECT tunnel of https_proxy", async () => {
    const tls = selfSignedCert(tempDir());
    if (!tls) {
      console.warn("skipped the CONNECT tunnel download: no openssl CLI to make a test certificate");
      return;
    }
    const origin = await listen(https.createServer({ key: tls.key, cert: tls.cert }, (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200, { "Content-Length": body.length }).end(body);
    }), "https", "localhost");
    const proxy = await startProxy({});
    try {
      const dest = path.join(tempDir(), "mnist.npz");
      await withEnv({ ...noProxyEnv, HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` }, () =>
        downloadFile({ url: `${origin.url}mnist.npz`, dest, hash: BODY_SHA, onProgress: false, ca: tls.cert }),
      );
      expect(fs.readFileSync(dest).equals(body)).toBe(true);
      expect(proxy.seen).toEqual([`CONNECT localhost:${origin.port}`]);
    } finally {
      await proxy.close();
      await origin.close();
    }
  });

  test("a proxy refusing CONNECT is reported", async () => {
    const proxy = await startProxy({}, 403);
    try {
      const dir = tempDir();
      await expect(
        withEnv({ ...noProxyEnv, https_proxy: `http://127.0.0.1:${proxy.port}` }, () =>
          downloadFile({ url: "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz", dest: path.join(dir, "mnist.npz"), hash: BODY_SHA, onProgress: false }),
        ),
      ).rejects.toThrow(
        `datasets: download of https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz failed (proxy 127.0.0.1:${proxy.port} refused CONNECT storage.googleapis.com:443: HTTP 403).`,
      );
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe("progressPrinter", () => {
  function feed(isTTY: boolean, total?: number): string[] {
    const writes: string[] = [];
    const print = progressPrinter({ isTTY, write: (s: string) => (writes.push(s), true) } as never);
    const size = total ?? 25_000_000;
    for (let k = 0; k <= 200; k++) print({ file: "mnist.npz", url: "u", received: Math.round((k * size) / 200), total, done: false });
    print({ file: "mnist.npz", url: "u", received: size, total, done: true });
    return writes;
  }

  test("not a terminal: a new line at most every 10%", () => {
    const lines = feed(false, 11_490_434);
    expect(lines.length).toBe(11);
    expect(lines[0]).toBe("datasets: downloading mnist.npz   0% (0.0 MB of 11.5 MB)\n");
    expect(lines[5]).toBe("datasets: downloading mnist.npz  50% (5.7 MB of 11.5 MB)\n");
    expect(lines.at(-1)).toBe("datasets: downloading mnist.npz 100% (11.5 MB of 11.5 MB), done\n");
    expect(lines.filter((l) => l.includes("100%"))).toHaveLength(1);
  });

  test("not a terminal, size unknown: every 10 MB, then done", () => {
    const lines = feed(false);
    expect(lines).toEqual([
      "datasets: downloading mnist.npz 0.0 MB\n",
      "datasets: downloading mnist.npz 10.0 MB\n",
      "datasets: downloading mnist.npz 20.0 MB\n",
      "datasets: downloading mnist.npz 25.0 MB, done\n",
    ]);
  });

  test("a title replaces the start of the line", () => {
    const writes: string[] = [];
    const print = progressPrinter({ write: (s: string) => (writes.push(s), true) }, { title: "vgg16_notop.h5:" });
    print({ file: "vgg16_notop.h5", url: "u", received: 0, total: 100_000, done: false });
    print({ file: "vgg16_notop.h5", url: "u", received: 100_000, total: 100_000, done: false });
    print({ file: "vgg16_notop.h5", url: "u", received: 100_000, total: 100_000, done: true });
    expect(writes).toEqual(["vgg16_notop.h5:   0% (0.0 MB of 0.1 MB)\n", "vgg16_notop.h5: 100% (0.1 MB of 0.1 MB), done\n"]);
  });

  test("a terminal: one line rewritten with \\r, ended by a newline", () => {
    const writes = feed(true, 11_490_434);
    expect(writes.length).toBeLessThanOrEqual(102);
    expect(writes.every((w) => w.startsWith("\r"))).toBe(true);
    expect(writes.slice(0, -1).some((w) => w.includes("\n"))).toBe(false);
    expect(writes.at(-1)).toBe("\rdatasets: downloading mnist.npz 100% (11.5 MB of 11.5 MB), done\n");
  });
});
