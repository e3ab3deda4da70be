/** loadDataset: names and class names, the one-line fallback, and its limits (unknown names, broken files). */
import * as fs from "fs";
import * as path from "path";
import { clearCache, DatasetNotFoundError } from "./load_data";
import { loadDataset, loadDatasetWith } from "./load_dataset";
import { makeSplit, removeDirs, tempDir, writeIdxDir, writeNpz } from "./testing/fixtures";

let home: string;
let debian: string;
const saved = { ...process.env };
let log: jest.SpyInstance;

beforeEach(() => {
  clearCache();
  home = tempDir();
  debian = tempDir();
  process.env.HOME = home;
  for (const k of ["CONVLAB_DATA", "CONVLAB_DATA_URL", "KERAS_HOME"]) delete process.env[k];
  log = jest.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(() => {
  process.env = { ...saved };
  log.mockRestore();
});
afterAll(removeDirs);

const offline = { download: false } as const;

describe("loadDataset", () => {
  test("returns name, class names and the two splits", async () => {
    writeNpz(path.join(home, ".keras", "datasets", "mnist.npz"), makeSplit(5, 1), makeSplit(3, 2));
    const data = await loadDatasetWith("mnist", { ...offline, fallback: "fashion_mnist" }, { debianDir: debian });
    expect(data.name).toBe("mnist");
    expect(data.classNames[9]).toBe("9");
    expect(data.train[0].shape).toEqual([5, 4, 4]);
    expect(data.train[1].shape).toEqual([5]);
    expect(data.test[0].shape).toEqual([3, 4, 4]);
    expect(log).not.toHaveBeenCalled();
  });

  test("MNIST missing + fallback: exactly one line, then Fashion-MNIST", async () => {
    writeIdxDir(debian, makeSplit(6, 1), makeSplit(2, 2));
    const data = await loadDatasetWith("mnist", { ...offline, fallback: "fashion_mnist" }, { debianDir: debian });
    expect(data.name).toBe("fashion_mnist");
    expect(data.classNames[0]).toBe("T-shirt/top");
    expect(data.train[0].shape).toEqual([6, 4, 4]);
    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith(
      `datasets: MNIST not found (looked in $CONVLAB_DATA (not set); ${home}/.keras/datasets/mnist.npz (missing); download off); using Fashion-MNIST instead.`,
    );
  });

  test("without a fallback the not-found error stands; a broken file never falls back", async () => {
    await expect(loadDatasetWith("mnist", offline, { debianDir: debian })).rejects.toThrow(DatasetNotFoundError);
    writeIdxDir(debian, makeSplit(6, 1), makeSplit(2, 2));
    const dir = path.join(home, ".keras", "datasets");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "mnist.npz"), "garbage!");
    await expect(loadDatasetWith("mnist", { ...offline, fallback: "fashion_mnist" }, { debianDir: debian })).rejects.toThrow(
      `datasets: not a zip (.npz) file, or truncated: ${dir}/mnist.npz.`,
    );
    expect(log).not.toHaveBeenCalled();
  });

  test("both missing: the fallback's own error after the one line", async () => {
    await expect(loadDatasetWith("mnist", { ...offline, fallback: "fashion_mnist" }, { debianDir: debian })).rejects.toThrow(/^datasets: Fashion-MNIST not found\. Looked in: /);
    expect(log).toHaveBeenCalledTimes(1);
  });

  test("unknown names and options suggest the nearest", async () => {
    await expect(loadDataset("fashion-mnist" as never)).rejects.toThrow(
      'loadDataset: invalid name. Expected one of "mnist", "fashion_mnist". Received: name="fashion-mnist". Did you mean `fashion_mnist`?',
    );
    await expect(loadDataset("mnist", { fallback: "fashion" as never })).rejects.toThrow(
      'loadDataset: invalid fallback. Expected one of "mnist", "fashion_mnist". Received: fallback="fashion".',
    );
    await expect(loadDataset("mnist", { fallbak: "fashion_mnist" } as never)).rejects.toThrow(
      "loadDataset: unknown option `fallbak`. Expected one of `dataDir`, `download`, `baseUrl`, `onProgress`, `fallback`. Did you mean `fallback`?",
    );
  });
});
