import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { createCanvas } from "canvas";
import { ImageDataGenerator } from "./image_data_generator";

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-augmentation-"));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A solid-colour PNG (or JPEG) of w x h with value `v` in red, written to `file`. */
function writeImage(file: string, v: number, w = 8, h = 6, mime: "image/png" | "image/jpeg" = "image/png"): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = `rgb(${v}, 0, 0)`;
  ctx.fillRect(0, 0, w, h);
  fs.writeFileSync(file, mime === "image/png" ? canvas.toBuffer("image/png") : canvas.toBuffer("image/jpeg", { quality: 1 }));
}

function capture<T>(fn: () => T): { result: T; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const warn = jest.spyOn(console, "warn").mockImplementation((...a) => void err.push(a.join(" ")));
  try {
    return { result: fn(), out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    warn.mockRestore();
  }
}

describe("flow", () => {
  const x = () => tf.tensor4d(Array.from({ length: 5 * 4 * 4 }, (_, i) => i), [5, 4, 4, 1]);

  it("yields every sample once per pass, in batches of batchSize, labels [batch, 1] alongside", () => {
    const it = new ImageDataGenerator().flow(x(), [0, 1, 2, 3, 4], { batchSize: 2, shuffle: true, seed: 1 });
    expect(it.n).toBe(5);
    expect(it.size).toBe(3);
    const seen: number[] = [];
    for (let b = 0; b < 3; b++) {
      const [xb, yb] = it.next();
      expect(yb.shape).toEqual([b < 2 ? 2 : 1, 1]);
      const labels = Array.from(yb.dataSync());
      // Identity generator: the image of label k starts with value 16 k.
      const firsts = Array.from({ length: labels.length }, (_, i) => xb.dataSync()[i * 16]);
      expect(firsts).toEqual(labels.map((k) => 16 * k));
      seen.push(...labels);
      tf.dispose([xb, yb]);
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("the same seed gives the same batches; rescale and transforms are applied", () => {
    const datagen = new ImageDataGenerator({ rescale: 0.5, rotationRange: 90, horizontalFlip: true });
    const a = datagen.flow(x(), undefined, { batchSize: 5, seed: 9 }).next();
    const b = datagen.flow(x(), undefined, { batchSize: 5, seed: 9 }).next();
    const c = datagen.flow(x(), undefined, { batchSize: 5, seed: 10 }).next();
    expect(a.arraySync()).toEqual(b.arraySync());
    expect(a.arraySync()).not.toEqual(c.arraySync());
    expect(a.max().dataSync()[0]).toBeLessThanOrEqual(79 * 0.5 + 1e-4);
  });

  it("splits with validationSplit and subset, and checks its input", () => {
    const datagen = new ImageDataGenerator({ validationSplit: 0.4 });
    expect(datagen.flow(x(), undefined, { subset: "validation" }).n).toBe(2);
    expect(datagen.flow(x(), undefined, { subset: "training" }).n).toBe(3);
    expect(() => new ImageDataGenerator().flow(x(), undefined, { subset: "validation" })).toThrow(
      'flow: invalid subset. Expected no subset when the generator has no validationSplit. Received: subset="validation"; create the generator with e.g. { validationSplit: 0.2 }.',
    );
    expect(() => new ImageDataGenerator().flow(tf.zeros([5, 4, 4]))).toThrow(
      "flow: invalid x. Expected images [N, height, width, channels] with 1, 3 or 4 channels. Received: x of shape [5, 4, 4]. Add the channel axis, e.g. x.reshape([5, 4, 4, 1]).",
    );
    expect(() => new ImageDataGenerator().flow(x(), [1, 2])).toThrow("flow: invalid y. Expected 5 labels, one per image in x. Received: y of shape [2].");
    expect(() => new ImageDataGenerator().flow(x(), undefined, { batchsize: 4 } as never)).toThrow("Did you mean `batchSize`?");
  });

  it("trains a model through tfjs's fitDataset with batchesPerEpoch, without leaking tensors", async () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 1, activation: "sigmoid" })] });
    model.compile({ optimizer: "sgd", loss: "binaryCrossentropy" });
    const it = new ImageDataGenerator({ rescale: 1 / 80, horizontalFlip: true }).flow(x(), [0, 1, 0, 1, 1], { batchSize: 2, seed: 2 });
    const before = tf.memory().numTensors;
    const history = await model.fitDataset(it as never, { epochs: 2, batchesPerEpoch: 3, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("flowFromDirectory", () => {
  it("reads class folders in sorted order, prints Keras's line, labels by classMode", () => {
    const dir = path.join(root, "basic");
    writeImage(path.join(dir, "dogs", "d1.png"), 200);
    writeImage(path.join(dir, "cats", "c1.png"), 10);
    writeImage(path.join(dir, "cats", "c2.jpg"), 30, 8, 6, "image/jpeg");
    writeImage(path.join(dir, "cats", "nested", "c3.png"), 50);
    const { result: it, out } = capture(() => new ImageDataGenerator({ rescale: 1 / 255 }).flowFromDirectory(dir, { targetSize: [6, 8], batchSize: 4, classMode: "binary", shuffle: false }));
    expect(out).toBe("Found 4 images belonging to 2 classes.");
    expect(it.classIndices).toEqual({ cats: 0, dogs: 1 });
    expect(it.filenames).toEqual(["cats/c1.png", "cats/c2.jpg", "cats/nested/c3.png", "dogs/d1.png"]);
    expect(Array.from(it.classes)).toEqual([0, 0, 0, 1]);
    const [xb, yb] = it.next();
    expect(xb.shape).toEqual([4, 6, 8, 3]);
    expect(Array.from(yb.dataSync())).toEqual([0, 0, 0, 1]);
    // Red channel of the first pixel of each image, rescaled.
    const red = [0, 1, 2, 3].map((i) => Math.round(xb.dataSync()[i * 144] * 255));
    expect(red[0]).toBe(10);
    expect(Math.abs(red[1] - 30)).toBeLessThanOrEqual(3); // JPEG
    expect(red.slice(2)).toEqual([50, 200]);
    const categorical = capture(() => new ImageDataGenerator().flowFromDirectory(dir, { targetSize: [6, 8], batchSize: 4, shuffle: false })).result.next();
    expect(categorical[1].arraySync()).toEqual([[1, 0], [1, 0], [1, 0], [0, 1]]);
    const sparse = capture(() => new ImageDataGenerator().flowFromDirectory(dir, { targetSize: [3, 3], classMode: "sparse", colorMode: "grayscale", shuffle: false })).result.next();
    expect(sparse[0].shape).toEqual([4, 3, 3, 1]);
    expect(sparse[1].shape).toEqual([4, 1]);
    const only = capture(() => new ImageDataGenerator().flowFromDirectory(dir, { targetSize: [3, 3], classMode: null })).result.next();
    expect(only.shape).toEqual([4, 3, 3, 3]);
  });

  it("splits each class with validationSplit: the first files are the validation subset", () => {
    const dir = path.join(root, "split");
    for (let i = 0; i < 5; i++) {
      writeImage(path.join(dir, "a", `${i}.png`), i);
      writeImage(path.join(dir, "b", `${i}.png`), 100 + i);
    }
    const datagen = new ImageDataGenerator({ validationSplit: 0.4 });
    const val = capture(() => datagen.flowFromDirectory(dir, { targetSize: [2, 2], subset: "validation" }));
    expect(val.out).toBe("Found 4 images belonging to 2 classes.");
    expect(val.result.filenames).toEqual(["a/0.png", "a/1.png", "b/0.png", "b/1.png"]);
    expect(capture(() => datagen.flowFromDirectory(dir, { targetSize: [2, 2], subset: "training" })).result.n).toBe(6);
  });

  it("skips a truncated or corrupt image with a warning naming it, counted in the Found line; warns of non-images and empty classes", () => {
    const dir = path.join(root, "bad");
    writeImage(path.join(dir, "cats", "ok.png"), 10);
    writeImage(path.join(dir, "cats", "cut.png"), 20);
    const cut = fs.readFileSync(path.join(dir, "cats", "cut.png"));
    fs.writeFileSync(path.join(dir, "cats", "cut.png"), cut.subarray(0, cut.length - 20));
    fs.writeFileSync(path.join(dir, "cats", "fake.jpg"), "not a picture");
    fs.writeFileSync(path.join(dir, "cats", "notes.txt"), "hello");
    fs.mkdirSync(path.join(dir, "dogs"));
    const { result: it, out, err } = capture(() => new ImageDataGenerator().flowFromDirectory(dir, { targetSize: [4, 4], classMode: "sparse" }));
    expect(out).toBe("Found 1 images belonging to 2 classes. (2 unreadable files skipped.)");
    const lines = err.split("\n");
    expect(lines).toContain(`flowFromDirectory: skipped "${path.join(dir, "cats/cut.png")}": a PNG file without its IEND chunk (truncated).`);
    expect(lines.some((l) => l.startsWith(`flowFromDirectory: skipped "${path.join(dir, "cats/fake.jpg")}": 13 bytes that canvas could not decode`))).toBe(true);
    expect(lines).toContain('flowFromDirectory: ignored 1 file that is not .png/.jpg/.jpeg/.bmp/.gif images: "cats/notes.txt".');
    expect(lines).toContain(`flowFromDirectory: class folder "${path.join(dir, "dogs")}" has no images; class "dogs" keeps its index but no sample has it.`);
    expect(it.filenames).toEqual(["cats/ok.png"]);
    // Batches never fail mid-epoch: all of them are made of readable images.
    for (let i = 0; i < 3; i++) tf.dispose(it.next());
  });

  it("says what is wrong with the folder or the options, in one line", () => {
    const flat = path.join(root, "flat");
    writeImage(path.join(flat, "a.png"), 1);
    const datagen = new ImageDataGenerator();
    expect(() => datagen.flowFromDirectory(flat)).toThrow(
      `flowFromDirectory: no class folders in "${flat}". Expected one sub-folder per class (${flat}/cats/…, ${flat}/dogs/…). Received: a folder with 1 file and no sub-folders.`,
    );
    expect(() => datagen.flowFromDirectory(path.join(root, "missing"))).toThrow(`flowFromDirectory: folder not found: "${path.join(root, "missing")}"`);
    expect(() => datagen.flowFromDirectory(flat, { targetSize: [150] as never })).toThrow("flowFromDirectory: invalid targetSize. Expected [height, width], two positive integers. Received: targetSize=[150].");
    expect(() => datagen.flowFromDirectory(flat, { classMode: "binar" as never })).toThrow("Did you mean `binary`?");
    const three = path.join(root, "three");
    for (const c of ["a", "b", "c"]) writeImage(path.join(three, c, "1.png"), 1);
    expect(() => datagen.flowFromDirectory(three, { classMode: "binary" })).toThrow(
      'flowFromDirectory: invalid classMode. Expected exactly 2 class folders for "binary". Received: 3 ("a", "b", "c")',
    );
  });
});
