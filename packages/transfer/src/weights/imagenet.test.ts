/**
 * resolveImagenetWeights: the lookup order (CONVLAB_WEIGHTS, then Keras's cache), hash checks
 * (md5 and sha256 as Keras's get_file chooses), the download from a local HTTP server by
 * @convlab/datasets's downloadFile (progress line, redirect, atomic write, http_proxy), and the
 * errors: hash mismatch (nothing kept), offline, HTTP error, broken transfer. HOME and KERAS_HOME
 * point into a temporary folder: the real ~/.keras is never touched. The machine's proxy
 * variables are cleared, so the local server is reached directly.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { kerasModelsDir, resolveImagenetWeights } from "./index";

const CONTENT = Buffer.from("pretend these are VGG16's weights ".repeat(4000));
const MD5 = createHash("md5").update(CONTENT).digest("hex");
const SHA256 = createHash("sha256").update(CONTENT).digest("hex");
const NAME = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5";

let root: string;
let server: http.Server;
let base: string;
let requests: string[];
const PROXY_VARS = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"];
const saved: Record<string, string | undefined> = { HOME: process.env.HOME, KERAS_HOME: process.env.KERAS_HOME, CONVLAB_WEIGHTS: process.env.CONVLAB_WEIGHTS };
for (const k of PROXY_VARS) saved[k] = process.env[k];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-imagenet-"));
  requests = [];
  server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === `/models/${NAME}`) {
      res.writeHead(200, { "Content-Length": CONTENT.length });
      res.end(CONTENT);
    } else if (req.url === "/cut") {
      res.writeHead(200, { "Content-Length": CONTENT.length });
      res.write(CONTENT.subarray(0, 1000), () => setTimeout(() => res.socket?.destroy(), 20));
    } else if (req.url === "/moved") {
      res.writeHead(302, { Location: `/models/${NAME}` });
      res.end();
    } else {
      res.writeHead(404, "Not Found");
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(root, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(root, "home-"));
  process.env.HOME = home;
  delete process.env.KERAS_HOME;
  delete process.env.CONVLAB_WEIGHTS;
  for (const k of PROXY_VARS) delete process.env[k];
  requests.length = 0;
  // Never the real ~/.keras: jest gives tests their own process.env, which os.homedir() ignores.
  expect(kerasModelsDir()).toBe(path.join(home, ".keras", "models"));
});

/** A stream that keeps what is written (the progress lines). */
function sink(isTTY = false): { write: (s: string) => boolean; isTTY: boolean; parts: string[]; text: () => string } {
  const parts: string[] = [];
  return { write: (s: string) => (parts.push(s), true), isTTY, parts, text: () => parts.join("") };
}

describe("resolveImagenetWeights", () => {
  test("the Keras cache is ~/.keras/models, or $KERAS_HOME/models", () => {
    expect(kerasModelsDir()).toBe(path.join(home, ".keras", "models"));
    process.env.KERAS_HOME = path.join(root, "kh");
    expect(kerasModelsDir()).toBe(path.join(root, "kh", "models"));
  });

  test("lookup order: CONVLAB_WEIGHTS first, then Keras's cache; no download when found", async () => {
    const shared = path.join(root, "shared");
    fs.mkdirSync(shared, { recursive: true });
    const cache = path.join(home, ".keras", "models");
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, NAME), CONTENT);
    const file = { file: NAME, url: `${base}/models/${NAME}`, hash: MD5 };

    expect(await resolveImagenetWeights(file)).toBe(path.join(cache, NAME));
    process.env.CONVLAB_WEIGHTS = shared;
    expect(await resolveImagenetWeights(file)).toBe(path.join(cache, NAME)); // not in the shared folder yet
    fs.writeFileSync(path.join(shared, NAME), CONTENT);
    expect(await resolveImagenetWeights(file)).toBe(path.join(shared, NAME));
    process.env.KERAS_HOME = path.join(root, "elsewhere");
    delete process.env.CONVLAB_WEIGHTS;
    fs.mkdirSync(path.join(root, "elsewhere", "models"), { recursive: true });
    fs.writeFileSync(path.join(root, "elsewhere", "models", NAME), CONTENT);
    expect(await resolveImagenetWeights({ ...file, hash: SHA256 })).toBe(path.join(root, "elsewhere", "models", NAME));
    expect(requests).toEqual([]);
  });

  test("a file in CONVLAB_WEIGHTS with another hash is an error naming both hashes", async () => {
    const shared = path.join(root, "shared-bad");
    fs.mkdirSync(shared, { recursive: true });
    fs.writeFileSync(path.join(shared, NAME), "something else");
    process.env.CONVLAB_WEIGHTS = shared;
    const actual = createHash("md5").update("something else").digest("hex");
    const url = `${base}/models/${NAME}`;
    await expect(resolveImagenetWeights({ file: NAME, url, hash: MD5 })).rejects.toThrow(
      `resolveImagenetWeights: ${path.join(shared, NAME)} is not Keras's ${NAME}: its md5 is ${actual}. Expected ${MD5}; replace it with the file from ${url}.`,
    );
  });

  test("downloads into ~/.keras/models with Keras's progress line, sha256 checked, through a redirect; then reuses it", async () => {
    const out = sink();
    const target = path.join(home, ".keras", "models", NAME);
    const got = await resolveImagenetWeights({ file: NAME, url: `${base}/moved`, hash: SHA256 }, { progress: out });
    expect(got).toBe(target);
    expect(fs.readFileSync(target).equals(CONTENT)).toBe(true);
    expect(requests).toEqual(["/moved", `/models/${NAME}`]);
    expect(out.text()).toContain(`Downloading data from ${base}/moved\n`);
    expect(out.text()).toContain(`${NAME}: 100% (0.1 MB of 0.1 MB), done\n`);
    expect(out.parts.filter((line) => line.includes("100%"))).toHaveLength(1);
    expect(fs.readdirSync(path.dirname(target))).toEqual([NAME]);
    await resolveImagenetWeights({ file: NAME, url: `${base}/moved`, hash: SHA256 }, { progress: out });
    expect(requests).toHaveLength(2);
  });

  test("on a terminal: Keras's header, then one progress line rewritten in place", async () => {
    const out = sink(true);
    await resolveImagenetWeights({ file: NAME, url: `${base}/models/${NAME}`, hash: MD5 }, { progress: out });
    const [header, ...line] = out.parts;
    expect(header).toBe(`Downloading data from ${base}/models/${NAME}\n`);
    expect(line.length).toBeGreaterThanOrEqual(2);
    expect(line.every((w) => w.startsWith(`\r${NAME}: `))).toBe(true);
    expect(line.slice(0, -1).some((w) => w.includes("\n"))).toBe(false);
    expect(line.at(-1)).toBe(`\r${NAME}: 100% (0.1 MB of 0.1 MB), done\n`);
  });

  test("downloads through http_proxy (absolute-form request)", async () => {
    const seen: string[] = [];
    const proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "Content-Length": CONTENT.length });
      res.end(CONTENT);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      process.env.http_proxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const url = `http://weights.invalid/models/${NAME}`;
      const got = await resolveImagenetWeights({ file: NAME, url, hash: MD5 }, { progress: false });
      expect(fs.readFileSync(got).equals(CONTENT)).toBe(true);
      expect(seen).toEqual([`GET ${url}`]);
      expect(requests).toEqual([]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test("a cached file with another hash is downloaded again (md5), as Keras does", async () => {
    const cache = path.join(home, ".keras", "models");
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, NAME), CONTENT.subarray(0, 100)); // an interrupted old download
    const got = await resolveImagenetWeights({ file: NAME, url: `${base}/models/${NAME}`, hash: MD5 }, { progress: false });
    expect(fs.readFileSync(got).equals(CONTENT)).toBe(true);
    expect(requests).toEqual([`/models/${NAME}`]);
  });

  test("a download with the wrong hash is an error and leaves no file, nor a temporary one", async () => {
    const wrong = "0".repeat(32);
    const url = `${base}/models/${NAME}`;
    const cache = path.join(home, ".keras", "models");
    await expect(resolveImagenetWeights({ file: NAME, url, hash: wrong }, { progress: false })).rejects.toThrow(
      `resolveImagenetWeights: the file downloaded from ${url} is not Keras's ${NAME}: its md5 is ${MD5}, expected ${wrong}; it was not kept. Try again later, or put ${NAME} in ${cache} (Keras's cache) or in the folder named by CONVLAB_WEIGHTS (not set), or connect to the network.`,
    );
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  test("offline: one line naming the file and the two folders where to put it; nothing created", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    process.env.CONVLAB_WEIGHTS = path.join(root, "offline-shared");
    const url = `http://127.0.0.1:${port}/${NAME}`;
    const cache = path.join(home, ".keras", "models");
    const error = await resolveImagenetWeights({ file: NAME, url, hash: MD5 }, { progress: false }).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `resolveImagenetWeights: ${NAME} is not on this machine and cannot be downloaded from ${url} (connect ECONNREFUSED 127.0.0.1:${port}). Put ${NAME} in ${cache} (Keras's cache) or in the folder named by CONVLAB_WEIGHTS (${path.join(root, "offline-shared")}), or connect to the network.`,
    );
    expect((error as Error).message).not.toContain("\n");
    expect(fs.existsSync(path.join(home, ".keras"))).toBe(false);
  });

  test("a transfer that breaks off is an error naming the bytes received; nothing kept", async () => {
    const url = `${base}/cut`;
    const cache = path.join(home, ".keras", "models");
    await expect(resolveImagenetWeights({ file: NAME, url, hash: MD5 }, { progress: false })).rejects.toThrow(
      `resolveImagenetWeights: the download of ${NAME} from ${url} failed after 1000 bytes (connection closed after 1000 of ${CONTENT.length} bytes); nothing was kept. Try again, or put ${NAME} in ${cache} (Keras's cache)`,
    );
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  test("an unwritable cache folder is an error suggesting KERAS_HOME", async () => {
    const blocker = path.join(home, "not-a-folder");
    fs.writeFileSync(blocker, "");
    process.env.KERAS_HOME = blocker;
    const error = await resolveImagenetWeights({ file: NAME, url: `${base}/models/${NAME}`, hash: MD5 }, { progress: false }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`^resolveImagenetWeights: cannot write ${NAME.replace(/\./g, "\\.")} into Keras's cache folder ${path.join(blocker, "models")} \\((EEXIST|ENOTDIR): .*\\); nothing was kept\\. Expected a writable home folder; set KERAS_HOME to a writable folder, or put ${NAME.replace(/\./g, "\\.")} in the folder named by CONVLAB_WEIGHTS\\.$`),
    );
  });

  test("an HTTP error is reported the same way", async () => {
    const url = `${base}/missing.h5`;
    await expect(resolveImagenetWeights({ file: NAME, url, hash: MD5 }, { progress: false })).rejects.toThrow(
      `resolveImagenetWeights: ${NAME} is not on this machine and cannot be downloaded from ${url} (HTTP 404 Not Found).`,
    );
  });

  test("invalid arguments", async () => {
    await expect(resolveImagenetWeights({ file: "../x.h5", url: `${base}/x`, hash: MD5 })).rejects.toThrow(
      'resolveImagenetWeights: invalid file name. Expected a bare file name such as "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5". Received: file="../x.h5".',
    );
    await expect(resolveImagenetWeights({ file: NAME, url: "ftp://x", hash: MD5 })).rejects.toThrow(
      'resolveImagenetWeights: invalid url. Expected an http:// or https:// URL. Received: url="ftp://x".',
    );
    await expect(resolveImagenetWeights({ file: NAME, url: `${base}/x`, hash: "abc" })).rejects.toThrow(
      'resolveImagenetWeights: invalid hash. Expected Keras\'s file_hash: 32 (md5) or 64 (sha256) hex digits, or "" for none. Received: hash="abc".',
    );
  });
});
