/** exportImageFolder: layout, counts, exact pixels read back, resizing, seeds, atomic writes, no leaked tensors, every error line. */
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as path from "path";
import { exportImageFolder } from "./export_image_folder";
import { loadImage } from "./image_file";
import { Uint8Tensor } from "./uint8_tensor";
import { removeDirs, tempDir } from "./testing/fixtures";

// The fs module object itself (not an import wrapper), so a spy on it is seen by the code under test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realFs: typeof fs = require("fs");

let root: string;
let log: jest.SpyInstance;
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = tempDir("convlab-export-");
});
afterAll(removeDirs);
beforeEach(() => {
  log = jest.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

let counter = 0;
/** A fresh path under the test's temporary folder (not created). */
function fresh(name = "set"): string {
  return path.join(root, `${name}-${counter++}`);
}

/** `n` images `h`x`w` with `c` channels (none: [N,H,W]), every byte different from its neighbours'. */
function images(n: number, h = 4, w = 4, c?: number): Uint8Tensor {
  const size = n * h * w * (c ?? 1);
  const data = Uint8Array.from({ length: size }, (_, i) => (i * 37 + Math.floor(i / 7) * 11) % 256);
  return new Uint8Tensor(data, c === undefined ? [n, h, w] : [n, h, w, c]);
}

/** Labels 0, 1, 2, 0, 1, 2, …: class `k` holds the images `k`, `k + 3`, `k + 6`, … */
function cyclic(n: number, k = 3): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i % k);
}

/** Every file under `dir`, as sorted relative paths with "/". */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => fs.statSync(path.join(dir, p)).isFile())
    .map((p) => p.split(path.sep).join("/"))
    .sort();
}

/** The image indices written to `dir/split/name`. */
function indices(dir: string, split: string, name: string): number[] {
  return fs
    .readdirSync(path.join(dir, split, name))
    .map((f) => {
      expect(f).toMatch(/^(0|[1-9][0-9]*)\.png$/);
      return Number(f.slice(0, -4));
    })
    .sort((a, b) => a - b);
}

/** The bytes of image `i` of a Uint8Tensor [N,H,W(,C)]. */
function sample(t: Uint8Tensor, i: number): number[] {
  const stride = t.size / t.shape[0];
  return Array.from(t.data.subarray(i * stride, (i + 1) * stride));
}

/** The PNG colour type in the IHDR chunk: 0 grey, 2 RGB, 6 RGBA. */
function colorType(file: string): number {
  return fs.readFileSync(file)[25];
}

/** Entries beside `dir` other than `dir` itself (temporary or aside folders left behind). */
function siblings(dir: string): string[] {
  return fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith(`.${path.basename(dir)}.`));
}

describe("exportImageFolder", () => {
  test("writes dir/<split>/<class>/<index>.png with the counts asked, class names sorted, one line printed", () => {
    const dir = fresh();
    const result = exportImageFolder(dir, { images: images(12), labels: cyclic(12) }, {
      classes: { 0: "tshirt", 2: "shirt" },
      splits: { train: 2, validation: 1, test: 1 },
      seed: 42,
    });
    expect(result).toEqual({
      dir,
      classNames: ["shirt", "tshirt"],
      counts: { train: { shirt: 2, tshirt: 2 }, validation: { shirt: 1, tshirt: 1 }, test: { shirt: 1, tshirt: 1 } },
    });
    expect(Object.keys(result.counts)).toEqual(["train", "validation", "test"]);
    expect(fs.readdirSync(dir).sort()).toEqual(["test", "train", "validation"]);
    for (const split of ["train", "validation", "test"]) expect(fs.readdirSync(path.join(dir, split)).sort()).toEqual(["shirt", "tshirt"]);
    // Each class's images (label 0: 0, 3, 6, 9; label 2: 2, 5, 8, 11) split without overlap.
    for (const [name, all] of [["tshirt", [0, 3, 6, 9]], ["shirt", [2, 5, 8, 11]]] as const) {
      const parts = ["train", "validation", "test"].map((s) => indices(dir, s, name));
      expect(parts.map((p) => p.length)).toEqual([2, 1, 1]);
      expect(parts.flat().sort((a, b) => a - b)).toEqual(all);
    }
    expect(tree(dir)).toHaveLength(8);
    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith(`Wrote 8 images of 2 classes to ${dir}: train 4, validation 2, test 2.`);
    expect(siblings(dir)).toEqual([]);
  });

  test("grey images come back exactly through loadImage(file, { colorMode: \"grayscale\" }), as 1-channel PNGs", async () => {
    for (const x of [images(6, 5, 3), images(6, 5, 3, 1)]) {
      const dir = fresh();
      exportImageFolder(dir, { images: x, labels: cyclic(6, 2) }, { splits: { train: 2, validation: 1 }, seed: 1 });
      const files = tree(dir);
      expect(files).toHaveLength(6);
      for (const file of files) {
        const i = Number(path.basename(file, ".png"));
        expect(colorType(path.join(dir, file))).toBe(0);
        const back = await loadImage(path.join(dir, file), { colorMode: "grayscale" });
        expect(back.shape).toEqual([5, 3, 1]);
        expect(Array.from(back.data)).toEqual(sample(x, i));
      }
    }
  });

  test("RGB and RGBA images come back exactly; colorMode converts grey to RGB and RGB to PIL's luma", async () => {
    const rgb = images(4, 3, 5, 3);
    const dir = fresh();
    exportImageFolder(dir, [rgb, [0, 1, 0, 1]], { splits: { train: 1 }, seed: 3 });
    for (const file of tree(dir)) {
      expect(colorType(path.join(dir, file))).toBe(2);
      const back = await loadImage(path.join(dir, file));
      expect(Array.from(back.data)).toEqual(sample(rgb, Number(path.basename(file, ".png"))));
    }

    const rgba = new Uint8Tensor(Uint8Array.from({ length: 2 * 2 * 2 * 4 }, (_, i) => (i % 4 === 3 ? 255 : i * 9)), [2, 2, 2, 4]);
    const opaque = fresh();
    exportImageFolder(opaque, [rgba, [0, 0]], { splits: { train: 1 } });
    for (const file of tree(opaque)) {
      expect(colorType(path.join(opaque, file))).toBe(6);
      const back = await loadImage(path.join(opaque, file), { colorMode: "rgba" });
      expect(Array.from(back.data)).toEqual(sample(rgba, Number(path.basename(file, ".png"))));
    }

    const grey = images(2, 2, 3);
    const asRgb = fresh();
    exportImageFolder(asRgb, [grey, [0, 0]], { splits: { train: 1 }, colorMode: "rgb" });
    for (const file of tree(asRgb)) {
      expect(colorType(path.join(asRgb, file))).toBe(2);
      const back = await loadImage(path.join(asRgb, file));
      expect(Array.from(back.data)).toEqual(sample(grey, Number(path.basename(file, ".png"))).flatMap((v) => [v, v, v]));
    }

    const asGrey = fresh();
    exportImageFolder(asGrey, [rgb, [0, 0, 0, 0]], { splits: { train: 1 }, colorMode: "grayscale" });
    for (const file of tree(asGrey)) {
      expect(colorType(path.join(asGrey, file))).toBe(0);
      const pixels = sample(rgb, Number(path.basename(file, ".png")));
      const luma = Array.from({ length: 15 }, (_, p) => (pixels[3 * p] * 19595 + pixels[3 * p + 1] * 38470 + pixels[3 * p + 2] * 7471 + 0x8000) >>> 16);
      expect(Array.from((await loadImage(path.join(asGrey, file), { colorMode: "grayscale" })).data)).toEqual(luma);
    }
  });

  test("tf.Tensors (float32 0-1 or 0-255, int32; one-hot labels) give the same files and pixels, and no tensor leaks", async () => {
    const x = images(9, 4, 4, 1);
    const labels = cyclic(9);
    const reference = fresh("ref");
    exportImageFolder(reference, { images: x, labels }, { splits: { train: 2, test: 1 }, seed: 7 });
    const expected = tree(reference);

    const unit = x.toTensor("float32", { scale: 1 / 255 });
    const bytes = x.toTensor("float32");
    const ints = x.toTensor("int32");
    const oneHot = tf.oneHot(tf.tensor1d(Array.from(labels), "int32"), 3);
    const plain = tf.tensor1d(Array.from(labels), "int32");
    const before = tf.memory().numTensors;
    for (const [images, labelTensor] of [[unit, oneHot], [bytes, plain], [ints, oneHot]] as const) {
      const dir = fresh("tensor");
      exportImageFolder(dir, { images, labels: labelTensor }, { splits: { train: 2, test: 1 }, seed: 7 });
      expect(tree(dir)).toEqual(expected);
      for (const file of tree(dir)) {
        const back = await loadImage(path.join(dir, file), { colorMode: "grayscale" });
        expect(Array.from(back.data)).toEqual(sample(x, Number(path.basename(file, ".png"))));
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect([unit, bytes, ints, oneHot, plain].every((t) => !t.isDisposed)).toBe(true);
    tf.dispose([unit, bytes, ints, oneHot, plain]);
  });

  test("targetSize resizes every image (bilinear); the images' own size leaves the pixels exact", async () => {
    const flat = new Uint8Tensor(new Uint8Array(3 * 4 * 4).fill(200), [3, 4, 4]);
    const dir = fresh();
    exportImageFolder(dir, [flat, [0, 0, 1]], { splits: { train: 1 }, targetSize: [8, 6] });
    const files = tree(dir);
    expect(files).toEqual(["train/0/0.png", "train/0/1.png", "train/1/2.png"]);
    for (const file of files) {
      const back = await loadImage(path.join(dir, file), { colorMode: "grayscale" });
      expect(back.shape).toEqual([8, 6, 1]);
      expect(back.data.every((v) => v === 200)).toBe(true);
    }
    const rgbDir = fresh();
    exportImageFolder(rgbDir, [images(1, 4, 4, 3), [0]], { splits: { train: 1 }, targetSize: [150, 150] });
    expect((await loadImage(path.join(rgbDir, "train/0/0.png"))).shape).toEqual([150, 150, 3]);

    const x = images(2, 4, 4);
    const same = fresh();
    exportImageFolder(same, [x, [0, 0]], { splits: { train: 1 }, targetSize: [4, 4] });
    expect(Array.from((await loadImage(path.join(same, "train/0/1.png"), { colorMode: "grayscale" })).data)).toEqual(sample(x, 1));
  });

  test("the same seed writes the same files, another seed others", () => {
    const data = { images: images(60), labels: cyclic(60, 2) };
    const options = { splits: { train: 10, validation: 5, test: 5 } };
    const [a, b, c] = [fresh(), fresh(), fresh()];
    exportImageFolder(a, data, { ...options, seed: 1 });
    exportImageFolder(b, data, { ...options, seed: 1 });
    exportImageFolder(c, data, { ...options, seed: 2 });
    expect(tree(a)).toEqual(tree(b));
    expect(tree(a)).not.toEqual(tree(c));
    const unseeded = fresh();
    exportImageFolder(unseeded, data, options);
    expect(tree(unseeded)).toHaveLength(40);
  });

  test("fractions: of each class, rounded down, all images used when they sum to 1; a split of 0 is not written", () => {
    const data = { images: images(12), labels: cyclic(12) };
    // Default { train: 0.8, validation: 0.2 } of 4 images: 3.2 and 0.8, the leftover to validation.
    const byDefault = exportImageFolder(fresh(), data, { seed: 0 });
    expect(byDefault.counts).toEqual({ train: { 0: 3, 1: 3, 2: 3 }, validation: { 0: 1, 1: 1, 2: 1 } });
    expect(byDefault.classNames).toEqual(["0", "1", "2"]);
    expect(log).toHaveBeenLastCalledWith(`Wrote 12 images of 3 classes to ${byDefault.dir}: train 9, validation 3.`);

    expect(exportImageFolder(fresh(), data, { splits: { train: 0.5 } }).counts).toEqual({ train: { 0: 2, 1: 2, 2: 2 } });
    expect(exportImageFolder(fresh(), data, { splits: { train: 1, validation: 0 } }).counts).toEqual({ train: { 0: 4, 1: 4, 2: 4 } });

    const hundred = { images: images(100), labels: new Int32Array(100) };
    expect(exportImageFolder(fresh(), hundred, { splits: { train: 0.29, validation: 0.5 } }).counts).toEqual({ train: { 0: 29 }, validation: { 0: 50 } });
    expect(exportImageFolder(fresh(), hundred, { splits: { train: 0.7, validation: 0.2, test: 0.1 } }).counts).toEqual({ train: { 0: 70 }, validation: { 0: 20 }, test: { 0: 10 } });

    const dir = fresh();
    const counts = exportImageFolder(dir, data, { splits: { train: 2, validation: 0, test: 1 } }).counts;
    expect(counts).toEqual({ train: { 0: 2, 1: 2, 2: 2 }, test: { 0: 1, 1: 1, 2: 1 } });
    expect(fs.readdirSync(dir).sort()).toEqual(["test", "train"]);
  });

  test("every class gets a folder in every split, even when a fraction gives it none", () => {
    // Label 0: 10 images, label 1: 2; validation 0.2 of 2 is 0.4, rounded down to 0.
    const labels = Int32Array.from({ length: 12 }, (_, i) => (i < 10 ? 0 : 1));
    const dir = fresh();
    const result = exportImageFolder(dir, { images: images(12), labels }, { splits: { train: 0.5, validation: 0.2 } });
    expect(result.counts).toEqual({ train: { 0: 5, 1: 1 }, validation: { 0: 2, 1: 0 } });
    expect(fs.readdirSync(path.join(dir, "validation")).sort()).toEqual(["0", "1"]);
    expect(fs.readdirSync(path.join(dir, "validation", "1"))).toEqual([]);
  });

  test("classes: default names are the labels (zero-padded past 9), an array names labels 0..K-1 and keeps only those", () => {
    const labels = Int32Array.from({ length: 12 }, (_, i) => i);
    const padded = exportImageFolder(fresh(), { images: images(12), labels }, { splits: { train: 1 } });
    expect(padded.classNames).toEqual(["00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"]);

    const dir = fresh();
    const named = exportImageFolder(dir, { images: images(12), labels: cyclic(12) }, { classes: ["zebra", "ant"], splits: { train: 1 } });
    expect(named.classNames).toEqual(["ant", "zebra"]);
    expect(indices(dir, "train", "zebra")).toEqual([0, 3, 6, 9]);
    expect(indices(dir, "train", "ant")).toEqual([1, 4, 7, 10]);
    // Python's sorted order (code points): upper case before lower case.
    expect(exportImageFolder(fresh(), { images: images(12), labels: cyclic(12) }, { classes: ["b", "a", "C"], splits: { train: 1 } }).classNames).toEqual(["C", "a", "b"]);
  });

  test("verbose: false prints nothing", () => {
    exportImageFolder(fresh(), [images(2), [0, 1]], { splits: { train: 1 }, verbose: false });
    expect(log).not.toHaveBeenCalled();
  });

  test("a folder that is not empty is refused; an empty one is used; overwrite: true replaces it, leaving nothing beside it", () => {
    const dir = fresh();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "old.txt"), "keep");
    const data = { images: images(6), labels: cyclic(6, 2) };
    expect(() => exportImageFolder(dir, data, { splits: { train: 1 } })).toThrow(
      `exportImageFolder: folder ${JSON.stringify(dir)} is not empty (1 entry). Expected a new or empty folder; pass overwrite: true to replace it.`,
    );
    expect(fs.readdirSync(dir)).toEqual(["old.txt"]);

    exportImageFolder(dir, data, { splits: { train: 1 }, overwrite: true });
    expect(tree(dir)).toEqual(["train/0/0.png", "train/0/2.png", "train/0/4.png", "train/1/1.png", "train/1/3.png", "train/1/5.png"]);
    expect(siblings(dir)).toEqual([]);

    const empty = fresh();
    fs.mkdirSync(empty);
    exportImageFolder(empty, data, { splits: { validation: 1 } });
    expect(fs.readdirSync(empty)).toEqual(["validation"]);

    const nested = path.join(fresh(), "a", "b");
    exportImageFolder(nested, data, { splits: { train: 1 } });
    expect(tree(nested)).toHaveLength(6);
  });

  test("a failure midway leaves no half-written folder, and a folder being replaced untouched", () => {
    const data = { images: images(6), labels: cyclic(6, 2) };
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    const original = realFs.writeFileSync;
    let calls = 0;
    jest.spyOn(realFs, "writeFileSync").mockImplementation((...args: Parameters<typeof fs.writeFileSync>) => {
      if (++calls === 3) throw full;
      return original(...args);
    });
    const dir = fresh();
    const message = `exportImageFolder: cannot write ${JSON.stringify(dir)}: no space left on device (ENOSPC). Expected a writable folder with room for the images; nothing was written, choose another path or free some space.`;
    expect(() => exportImageFolder(dir, data, { splits: { train: 1 } })).toThrow(message);
    expect(fs.existsSync(dir)).toBe(false);
    expect(siblings(dir)).toEqual([]);

    const kept = fresh();
    fs.mkdirSync(kept);
    fs.writeFileSync(path.join(kept, "old.txt"), "keep");
    calls = 0;
    expect(() => exportImageFolder(kept, data, { splits: { train: 1 }, overwrite: true })).toThrow(
      message.replace(JSON.stringify(dir), JSON.stringify(kept)),
    );
    expect(fs.readdirSync(kept)).toEqual(["old.txt"]);
    expect(siblings(kept)).toEqual([]);
    expect(log).not.toHaveBeenCalled();
  });

  test("leftovers of a dead process are removed, and a folder it left aside is put back", () => {
    // 4194305 is above Linux's largest pid, so no process has it.
    const dir = fresh();
    const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.convlab-tmp-4194305-abcdef012345`);
    fs.mkdirSync(path.join(tmp, "train"), { recursive: true });
    exportImageFolder(dir, [images(2), [0, 1]], { splits: { train: 1 } });
    expect(siblings(dir)).toEqual([]);

    const lost = fresh();
    const aside = path.join(path.dirname(lost), `.${path.basename(lost)}.convlab-old-4194305-abcdef012345`);
    fs.mkdirSync(aside);
    fs.writeFileSync(path.join(aside, "old.txt"), "keep");
    expect(() => exportImageFolder(lost, [images(2), [0, 1]], { splits: { train: 1 } })).toThrow(/is not empty \(1 entry\)/);
    expect(fs.readdirSync(lost)).toEqual(["old.txt"]);
    expect(siblings(lost)).toEqual([]);
  });

  test("refuses a path that is a file or holds the working folder", () => {
    const file = fresh();
    fs.writeFileSync(file, "x");
    expect(() => exportImageFolder(file, [images(2), [0, 1]], { overwrite: true })).toThrow(
      `exportImageFolder: cannot write ${JSON.stringify(file)}: it is a file. Expected the path of a new or empty folder (or of a folder to replace, with overwrite: true).`,
    );
    expect(() => exportImageFolder(path.join(file, "sub"), [images(2), [0, 1]])).toThrow(
      `exportImageFolder: cannot write ${JSON.stringify(path.join(file, "sub"))}: a parent of the path is a file. Expected a path whose parents are folders; choose another path.`,
    );

    const outer = fresh();
    const inner = path.join(outer, "notebooks");
    fs.mkdirSync(inner, { recursive: true });
    const cwd = process.cwd();
    process.chdir(inner);
    try {
      expect(() => exportImageFolder(outer, [images(2), [0, 1]], { overwrite: true })).toThrow(
        `exportImageFolder: cannot write ${JSON.stringify(outer)}: it holds the working folder ${JSON.stringify(inner)}. Expected a folder of its own, e.g. "data/shirts".`,
      );
      expect(() => exportImageFolder(".", [images(2), [0, 1]], { overwrite: true })).toThrow(/^exportImageFolder: cannot write "\.": it holds the working folder/);
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readdirSync(outer)).toEqual(["notebooks"]);
  });

  describe("errors, one line each, before anything is written", () => {
    const x = images(12);
    const y = cyclic(12);
    const cases: Array<[string, () => unknown, string]> = [
      ["dir", () => exportImageFolder("", { images: x, labels: y }), 'exportImageFolder: invalid dir. Expected the path of a folder to create, e.g. "data/shirts". Received: dir="".'],
      ["data", () => exportImageFolder("d", { images: x } as never), "exportImageFolder: invalid data. Expected { images, labels } or [images, labels]. Received: data={ images: Tensor<uint8>[12,4,4] }."],
      ["data pair", () => exportImageFolder("d", [x] as never), "exportImageFolder: invalid data. Expected { images, labels } or [images, labels]. Received: data=[Tensor<uint8>[12,4,4]]."],
      ["images", () => exportImageFolder("d", { images: [[1]] as never, labels: y }), "exportImageFolder: invalid images. Expected a Uint8Tensor or tf.Tensor of shape [N, H, W] or [N, H, W, C] with C 1, 3 or 4. Received: images=[[1]]."],
      ["channels", () => exportImageFolder("d", { images: images(12, 4, 4, 2), labels: y }), "exportImageFolder: invalid images. Expected a Uint8Tensor or tf.Tensor of shape [N, H, W] or [N, H, W, C] with C 1, 3 or 4. Received: images=Tensor<uint8>[12,4,4,2]."],
      ["rank", () => exportImageFolder("d", { images: x.reshape([12, 16]), labels: y }), "exportImageFolder: invalid images. Expected a Uint8Tensor or tf.Tensor of shape [N, H, W] or [N, H, W, C] with C 1, 3 or 4. Received: images=Tensor<uint8>[12,16]."],
      ["no images", () => exportImageFolder("d", { images: x.slice(0, 0), labels: [] }), "exportImageFolder: invalid images. Expected at least one image. Received: images=Tensor<uint8>[0,4,4]."],
      ["labels type", () => exportImageFolder("d", { images: x, labels: "cats" as never }), 'exportImageFolder: invalid labels. Expected a Uint8Tensor, tf.Tensor, Int32Array, Uint8Array or number[] of one label per image (or one-hot [N, K]). Received: labels="cats".'],
      ["labels count", () => exportImageFolder("d", { images: x, labels: y.subarray(0, 11) }), "exportImageFolder: invalid labels. Expected 12 labels, one per image. Received: 11 (labels=Int32Array(11))."],
      ["labels values", () => exportImageFolder("d", { images: x, labels: [0, 1, 2, -1, 0, 1, 2, 0, 1, 2, 0, 1] }), "exportImageFolder: invalid labels. Expected non-negative integers. Received: labels[3]=-1."],
      ["options", () => exportImageFolder("d", [x, y], 5 as never), "exportImageFolder: invalid options. Expected an object such as { splits: { train: 1000, validation: 500 } }. Received: options=5."],
      ["unknown option", () => exportImageFolder("d", [x, y], { sed: 1 } as never), "exportImageFolder: unknown option `sed`. Expected one of `classes`, `splits`, `targetSize`, `colorMode`, `seed`, `overwrite`, `verbose`. Did you mean `seed`?"],
      ["splits", () => exportImageFolder("d", [x, y], { splits: { train: -1 } }), 'exportImageFolder: invalid splits. Expected counts or fractions per split, e.g. { train: 1000, validation: 500 }. Received: splits={"train":-1}.'],
      ["splits type", () => exportImageFolder("d", [x, y], { splits: [0.5] as never }), "exportImageFolder: invalid splits. Expected counts or fractions per split, e.g. { train: 1000, validation: 500 }. Received: splits=[0.5]."],
      ["split name", () => exportImageFolder("d", [x, y], { splits: { valdation: 2 } as never }), "exportImageFolder: unknown split `valdation`. Expected one of `train`, `validation`, `test`. Did you mean `validation`?"],
      ["fraction sum", () => exportImageFolder("d", [x, y], { splits: { train: 0.8, validation: 0.4 } }), 'exportImageFolder: invalid splits. Expected fractions summing to at most 1 (or counts per class, integers). Received: splits={"train":0.8,"validation":0.4} (sum 1.2).'],
      ["counts and fractions", () => exportImageFolder("d", [x, y], { splits: { train: 3, validation: 0.5 } }), 'exportImageFolder: invalid splits. Expected counts per class (integers) or fractions in [0, 1], not both. Received: splits={"train":3,"validation":0.5}.'],
      ["all zero", () => exportImageFolder("d", [x, y], { splits: { train: 0 } }), 'exportImageFolder: invalid splits. Expected at least one split above 0. Received: splits={"train":0}.'],
      ["targetSize", () => exportImageFolder("d", [x, y], { targetSize: [0, 5] as never }), "exportImageFolder: invalid targetSize. Expected [height, width], two positive integers. Received: targetSize=[0,5]."],
      ["colorMode", () => exportImageFolder("d", [x, y], { colorMode: "greyscale" as never }), 'exportImageFolder: invalid colorMode. Expected one of "rgb", "grayscale", "rgba". Received: colorMode="greyscale". Did you mean `grayscale`?'],
      ["seed", () => exportImageFolder("d", [x, y], { seed: 1.5 }), "exportImageFolder: invalid seed. Expected a non-negative integer (or null for a random draw). Received: seed=1.5."],
      ["overwrite", () => exportImageFolder("d", [x, y], { overwrite: "yes" as never }), 'exportImageFolder: invalid overwrite. Expected true or false. Received: overwrite="yes".'],
      ["classes", () => exportImageFolder("d", [x, y], { classes: {} }), 'exportImageFolder: invalid classes. Expected an object mapping labels to folder names, e.g. { 0: "tshirt", 6: "shirt" }, or an array of names for the labels 0, 1, …. Received: classes={}.'],
      ["classes keys", () => exportImageFolder("d", [x, y], { classes: { shirt: "6" } as never }), 'exportImageFolder: invalid classes. Expected labels (non-negative integers) as keys, e.g. { 0: "tshirt", 6: "shirt" }. Received: classes={"shirt":"6"}.'],
      ["class name", () => exportImageFolder("d", [x, y], { classes: { 0: "a/b" } }), 'exportImageFolder: invalid class name for label 0. Expected a folder name: a non-empty string without "/", "\\" or control characters, not "." or "..". Received: classes[0]="a/b".'],
      ["class names", () => exportImageFolder("d", [x, y], { classes: ["Shirt", "shirt"] }), 'exportImageFolder: invalid classes. Expected a different folder name for each label (letter case aside: some file systems ignore it). Received: classes[0]="Shirt" and classes[1]="shirt".'],
      ["absent class", () => exportImageFolder("d", [x, y], { classes: { 0: "tshirt", 6: "shirt" } }), 'exportImageFolder: no images of class "shirt" (label 6). Expected a label present in the data: 0, 1, 2. Received: 0 images with label 6.'],
      ["too few", () => exportImageFolder("d", [x, y], { classes: { 2: "shirt" }, splits: { train: 3, validation: 2 } }), 'exportImageFolder: too few images of class "shirt" (label 2) for the splits asked. Expected at least 5 (train 3, validation 2). Received: 4 images with label 2.'],
    ];
    test.each(cases)("%s", (_, call, message) => {
      const cwd = process.cwd();
      process.chdir(root);
      try {
        let thrown: unknown;
        try {
          call();
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(Error);
        expect((thrown as Error).name).toBe("ConvlabError");
        expect((thrown as Error).message).toBe(message);
        expect(message).not.toContain("\n");
        expect(fs.existsSync(path.join(root, "d"))).toBe(false);
        expect(siblings(path.join(root, "d"))).toEqual([]);
      } finally {
        process.chdir(cwd);
      }
    });

    test("a disposed or out-of-range tf.Tensor", () => {
      const t = tf.tensor4d([0, 0.5, 2, 300], [1, 2, 2, 1]);
      expect(() => exportImageFolder("d", [t, [0]])).toThrow(
        "exportImageFolder: invalid images. Expected pixel values in [0, 1] or [0, 255]. Received: values from 0 to 300 in Tensor<float32>[1,2,2,1].",
      );
      const b = tf.tensor3d([1, 0, 1, 1], [1, 2, 2], "bool");
      expect(() => exportImageFolder("d", [b, [0]])).toThrow(
        "exportImageFolder: invalid images. Expected a tf.Tensor of dtype float32 or int32. Received: images=Tensor<bool>[1,2,2].",
      );
      tf.dispose([t, b]);
      expect(() => exportImageFolder("d", [t, [0]])).toThrow(
        "exportImageFolder: invalid images. Expected a tensor that is not disposed. Received: a disposed Tensor<float32>[1,2,2,1].",
      );
    });
  });
});
