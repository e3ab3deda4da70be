/**
 * Finding MNIST and Fashion-MNIST: the lookup order ($CONVLAB_DATA, Keras's
 * cache, Debian's folder, download), the formats in each place, the
 * download into Keras's cache, the in-memory cache, and every error line.
 * HOME, CONVLAB_DATA, CONVLAB_DATA_URL and Debian's folder point at temporary folders.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { fashionMnist, FASHION_MNIST_CLASS_NAMES } from "./fashion_mnist";
import { clearCache, DatasetNotFoundError, DatasetSplits, InternalArgs, LoadDataArgs, loadSplits } from "./load_data";
import { mnist, MNIST_CLASS_NAMES } from "./mnist";
import { idxFiles, makeSplit, npzBytes, removeDirs, Split, tempDir, writeIdxDir, writeNpz } from "./testing/fixtures";
import { serveFiles, TestServer } from "./testing/server";

const IDX_GZ = "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let home: string;
let data: string;
let debian: string;
let internal: InternalArgs;
const saved = { ...process.env };

beforeEach(() => {
  clearCache();
  home = tempDir();
  data = tempDir();
  debian = path.join(tempDir(), "fashion-mnist");
  internal = { debianDir: debian };
  process.env.HOME = home;
  for (const k of ["CONVLAB_DATA", "CONVLAB_DATA_URL", "KERAS_HOME", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"]) delete process.env[k];
});
afterEach(() => {
  process.env = { ...saved };
});
afterAll(removeDirs);

const kerasDir = () => path.join(home, ".keras", "datasets");

/** Splits whose sizes and first pixel say where they came from. */
function copy(tag: number): [Split, Split] {
  return [makeSplit(tag + 4, tag), makeSplit(tag + 1, tag + 100)];
}

function expectSplits(splits: DatasetSplits, [train, test]: [Split, Split]): void {
  const [[xTrain, yTrain], [xTest, yTest]] = splits;
  expect(xTrain.shape).toEqual([train.count, train.size, train.size]);
  expect(yTrain.shape).toEqual([train.count]);
  expect(xTest.shape).toEqual([test.count, test.size, test.size]);
  expect(yTest.shape).toEqual([test.count]);
  expect(Array.from(xTrain.data)).toEqual(Array.from(train.images));
  expect(Array.from(yTrain.data)).toEqual(Array.from(train.labels));
  expect(Array.from(xTest.data)).toEqual(Array.from(test.images));
  expect(Array.from(yTest.data)).toEqual(Array.from(test.labels));
}

const quiet: LoadDataArgs = { download: false };

describe("lookup order", () => {
  test("Fashion-MNIST: $CONVLAB_DATA, then Keras's cache, then Debian's folder", async () => {
    const [a, b, c] = [copy(1), copy(2), copy(3)];
    writeIdxDir(path.join(data, "fashion-mnist"), ...a);
    writeIdxDir(path.join(kerasDir(), "fashion-mnist"), ...b);
    writeIdxDir(debian, ...c, false);
    process.env.CONVLAB_DATA = data;
    expectSplits(await loadSplits("fashion_mnist", quiet, internal), a);
    delete process.env.CONVLAB_DATA;
    expectSplits(await loadSplits("fashion_mnist", quiet, internal), b);
    fs.rmSync(path.join(kerasDir(), "fashion-mnist"), { recursive: true });
    clearCache(); // same configuration as the previous load: it would be served from memory
    expectSplits(await loadSplits("fashion_mnist", quiet, internal), c);
  });

  test("MNIST: $CONVLAB_DATA/mnist.npz, then $CONVLAB_DATA/mnist/ IDX, then Keras's mnist.npz", async () => {
    const [a, b, c] = [copy(1), copy(2), copy(3)];
    writeNpz(path.join(data, "mnist.npz"), ...a, "deflated");
    writeIdxDir(path.join(data, "mnist"), ...b, false);
    writeNpz(path.join(kerasDir(), "mnist.npz"), ...c);
    process.env.CONVLAB_DATA = data;
    expectSplits(await loadSplits("mnist", quiet, internal), a);
    fs.rmSync(path.join(data, "mnist.npz"));
    clearCache();
    expectSplits(await loadSplits("mnist", quiet, internal), b);
    delete process.env.CONVLAB_DATA;
    expectSplits(await loadSplits("mnist", quiet, internal), c);
  });

  test("MNIST is never taken from Debian's Fashion-MNIST folder", async () => {
    writeIdxDir(debian, ...copy(3));
    await expect(loadSplits("mnist", quiet, internal)).rejects.toThrow(DatasetNotFoundError);
  });

  test("the dataDir option overrides $CONVLAB_DATA; KERAS_HOME moves Keras's cache", async () => {
    const other = tempDir();
    writeIdxDir(path.join(data, "fashion-mnist"), ...copy(1));
    writeIdxDir(path.join(other, "fashion-mnist"), ...copy(2));
    process.env.CONVLAB_DATA = data;
    expectSplits(await loadSplits("fashion_mnist", { ...quiet, dataDir: other }, internal), copy(2));
    delete process.env.CONVLAB_DATA;
    const kerasHome = tempDir();
    writeNpz(path.join(kerasHome, "datasets", "mnist.npz"), ...copy(4));
    process.env.KERAS_HOME = kerasHome;
    expectSplits(await loadSplits("mnist", quiet, internal), copy(4));
  });

  test("nothing anywhere: one line listing each place and where to put which files", async () => {
    fs.mkdirSync(path.join(data, "fashion-mnist"), { recursive: true });
    const partial = idxFiles(...copy(1));
    fs.writeFileSync(path.join(data, "fashion-mnist", "train-images-idx3-ubyte.gz"), partial["train-images-idx3-ubyte.gz"]);
    fs.writeFileSync(path.join(data, "fashion-mnist", "train-labels-idx1-ubyte"), Buffer.alloc(0));
    process.env.CONVLAB_DATA = data;
    const k = kerasDir();
    await expect(loadSplits("fashion_mnist", quiet, internal)).rejects.toThrow(
      `datasets: Fashion-MNIST not found. Looked in: ${data}/fashion-mnist/ (missing t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]); ` +
        `${k}/fashion-mnist/ (no IDX files); ${debian}/ (no IDX files); download off. ` +
        `Put the four IDX files (${IDX_GZ}) in ${k}/fashion-mnist or ${data}/fashion-mnist, or install Debian's dataset-fashion-mnist.`,
    );
    delete process.env.CONVLAB_DATA;
    const error = await loadSplits("mnist", quiet, internal).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error.name).toBe("ConvlabError");
    expect(error.message).toBe(
      `datasets: MNIST not found. Looked in: $CONVLAB_DATA (not set); ${k}/mnist.npz (missing); download off. ` +
        `Put Keras's mnist.npz in ${k} or $CONVLAB_DATA, or the four IDX files (${IDX_GZ}) in $CONVLAB_DATA/mnist.`,
    );
    expect(error.searched).toBe(`$CONVLAB_DATA (not set); ${k}/mnist.npz (missing); download off`);
  });
});

describe("broken files are reported, never skipped", () => {
  test("a bad mnist.npz in $CONVLAB_DATA is an error even when Keras's cache has a good one", async () => {
    fs.writeFileSync(path.join(data, "mnist.npz"), "not a zip");
    writeNpz(path.join(kerasDir(), "mnist.npz"), ...copy(2));
    process.env.CONVLAB_DATA = data;
    await expect(loadSplits("mnist", quiet, internal)).rejects.toThrow(
      `datasets: not a zip (.npz) file, or truncated: ${data}/mnist.npz. Expected an end-of-central-directory record, received 9 bytes without one.`,
    );
  });

  test("a truncated IDX file names the file and both sizes", async () => {
    const files = idxFiles(...copy(1));
    writeIdxDir(debian, ...copy(1));
    const images = path.join(debian, "train-images-idx3-ubyte.gz");
    const raw = require("zlib").gunzipSync(files["train-images-idx3-ubyte.gz"]) as Buffer;
    fs.writeFileSync(images, require("zlib").gzipSync(raw.subarray(0, 30)));
    await expect(loadSplits("fashion_mnist", quiet, internal)).rejects.toThrow(`datasets: truncated IDX file ${images}. Expected ${raw.length} bytes, received 30.`);
  });

  test("images and labels that disagree; an .npz without the Keras entries", async () => {
    const [train, test] = copy(1);
    writeIdxDir(debian, train, test);
    fs.writeFileSync(path.join(debian, "t10k-labels-idx1-ubyte.gz"), idxFiles(train, train)["t10k-labels-idx1-ubyte.gz"]);
    await expect(loadSplits("fashion_mnist", quiet, internal)).rejects.toThrow(
      `datasets: ${debian}/t10k-images-idx3-ubyte.gz and ${debian}/t10k-labels-idx1-ubyte.gz disagree. Expected as many labels as images (${test.count}), received ${train.count}.`,
    );
    const { zipBytes, npyBytes } = await import("./testing/fixtures");
    fs.mkdirSync(kerasDir(), { recursive: true });
    fs.writeFileSync(path.join(kerasDir(), "mnist.npz"), zipBytes([{ name: "x_train.npy", data: npyBytes([1, 2, 2], new Uint8Array(4)) }]));
    await expect(loadSplits("mnist", quiet, internal)).rejects.toThrow(
      `datasets: ${kerasDir()}/mnist.npz lacks y_train.npy, x_test.npy, y_test.npy. Expected entries x_train, y_train, x_test, y_test (Keras's mnist.npz), received ["x_train"].`,
    );
  });
});

describe("download into Keras's cache", () => {
  let server: TestServer;
  const mnistNpz = npzBytes(...copy(5));
  const fashion = idxFiles(...copy(6));
  const hashes: Record<string, string> = { "mnist.npz": sha(mnistNpz) };
  for (const [name, bytes] of Object.entries(fashion)) hashes[name] = sha(bytes);

  beforeAll(async () => {
    server = await serveFiles({ "mnist.npz": mnistNpz, ...fashion });
  });
  afterAll(() => server.close());

  test("MNIST from $CONVLAB_DATA_URL, with progress, then found in the cache", async () => {
    process.env.CONVLAB_DATA_URL = server.url;
    const events: string[] = [];
    const splits = await loadSplits("mnist", { onProgress: (p) => events.push(`${p.file} ${p.received}/${p.total}${p.done ? " done" : ""}`) }, { ...internal, sha256: hashes });
    expectSplits(splits, copy(5));
    expect(events[0]).toBe(`mnist.npz 0/${mnistNpz.length}`);
    expect(events.at(-1)).toBe(`mnist.npz ${mnistNpz.length}/${mnistNpz.length} done`);
    expect(fs.readdirSync(kerasDir())).toEqual(["mnist.npz"]);
    clearCache();
    const before = server.requests.length;
    expectSplits(await loadSplits("mnist", { onProgress: false }, internal), copy(5));
    expect(server.requests.length).toBe(before);
  });

  test("Fashion-MNIST: only the files missing from Keras's cache are fetched (baseUrl option over the variable)", async () => {
    process.env.CONVLAB_DATA_URL = "http://127.0.0.1:9/unused/";
    const dir = path.join(kerasDir(), "fashion-mnist");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "train-images-idx3-ubyte.gz"), fashion["train-images-idx3-ubyte.gz"]);
    const before = server.requests.length;
    const splits = await loadSplits("fashion_mnist", { baseUrl: server.url.slice(0, -1), onProgress: false }, { ...internal, sha256: hashes });
    expectSplits(splits, copy(6));
    expect(server.requests.slice(before).map((r) => r.url)).toEqual(["/train-labels-idx1-ubyte.gz", "/t10k-images-idx3-ubyte.gz", "/t10k-labels-idx1-ubyte.gz"]);
    expect(fs.readdirSync(dir).sort()).toEqual(Object.keys(fashion).sort());
  });

  test("a checksum mismatch leaves no file, is reported in the not-found line, and a retry succeeds", async () => {
    process.env.CONVLAB_DATA_URL = server.url;
    const wrong = "f".repeat(64);
    const error = await loadSplits("mnist", { onProgress: false }, { ...internal, sha256: { "mnist.npz": wrong } }).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error.message).toBe(
      `datasets: MNIST not found. Looked in: $CONVLAB_DATA (not set); ${kerasDir()}/mnist.npz (missing); ` +
        `checksum mismatch for ${server.url}mnist.npz. Expected sha256 ${wrong}, received ${hashes["mnist.npz"]}. The file was not saved. ` +
        `Put Keras's mnist.npz in ${kerasDir()} or $CONVLAB_DATA, or the four IDX files (${IDX_GZ}) in $CONVLAB_DATA/mnist.`,
    );
    expect(fs.readdirSync(kerasDir())).toEqual([]);
    expectSplits(await loadSplits("mnist", { onProgress: false }, { ...internal, sha256: hashes }), copy(5));
  });

  test("an unreachable server is reported with the URL", async () => {
    process.env.CONVLAB_DATA_URL = `${server.url}nothing-here/`;
    await expect(loadSplits("mnist", { onProgress: false }, internal)).rejects.toThrow(
      `datasets: MNIST not found. Looked in: $CONVLAB_DATA (not set); ${kerasDir()}/mnist.npz (missing); download of ${server.url}nothing-here/mnist.npz failed (HTTP 404 Not Found). Put`,
    );
    expect(fs.existsSync(kerasDir())).toBe(false);
  });
});

describe("in-memory cache", () => {
  test("a second load returns the same arrays at once, without reading files", async () => {
    writeIdxDir(debian, ...copy(1));
    const [[x1, y1]] = await loadSplits("fashion_mnist", quiet, internal);
    fs.rmSync(debian, { recursive: true });
    const start = process.hrtime.bigint();
    const again = await loadSplits("fashion_mnist", quiet, internal);
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(50);
    expect(again[0][0]).toBe(x1);
    expect(again[0][1]).toBe(y1);
  });

  test("concurrent loads share one read; a failed load is not cached", async () => {
    await expect(loadSplits("fashion_mnist", quiet, internal)).rejects.toThrow(DatasetNotFoundError);
    writeIdxDir(debian, ...copy(2));
    const [a, b] = await Promise.all([loadSplits("fashion_mnist", quiet, internal), loadSplits("fashion_mnist", quiet, internal)]);
    expect(a[0][0]).toBe(b[0][0]);
  });
});

describe("public loaders", () => {
  test("mnist.loadData and fashionMnist.loadData, with their class names", async () => {
    writeNpz(path.join(data, "mnist.npz"), ...copy(1));
    writeIdxDir(path.join(data, "fashion-mnist"), ...copy(2));
    process.env.CONVLAB_DATA = data;
    expectSplits(await mnist.loadData({ download: false }), copy(1));
    expectSplits(await fashionMnist.loadData(), copy(2));
    expect(mnist.classNames).toBe(MNIST_CLASS_NAMES);
    expect(MNIST_CLASS_NAMES).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(FASHION_MNIST_CLASS_NAMES).toEqual(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
    expect(Object.isFrozen(mnist)).toBe(true);
  });

  test("option errors", async () => {
    await expect(mnist.loadData({ baseURL: "x" } as never)).rejects.toThrow(
      "mnist.loadData: unknown option `baseURL`. Expected one of `dataDir`, `download`, `baseUrl`, `onProgress`. Did you mean `baseUrl`?",
    );
    await expect(fashionMnist.loadData({ download: "no" } as never)).rejects.toThrow('fashionMnist.loadData: invalid download. Expected true or false. Received: download="no".');
    await expect(mnist.loadData({ baseUrl: "storage.googleapis.com" })).rejects.toThrow(
      'mnist.loadData: invalid baseUrl. Expected an http:// or https:// folder URL. Received: baseUrl="storage.googleapis.com".',
    );
    await expect(mnist.loadData({ onProgress: true } as never)).rejects.toThrow("mnist.loadData: invalid onProgress. Expected a function or false. Received: onProgress=true.");
    await expect(mnist.loadData({ dataDir: "" })).rejects.toThrow('mnist.loadData: invalid dataDir. Expected a folder path. Received: dataDir="".');
    await expect(mnist.loadData(null as never)).rejects.toThrow("mnist.loadData: invalid options. Expected an object. Received: null.");
  });
});
