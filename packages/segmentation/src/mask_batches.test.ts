import * as tf from "@tensorflow/tfjs";
import { ImageDataGenerator } from "@convlab/augmentation";
import { ready } from "@convlab/engine";
import { Batch } from "@convlab/layers";
import { maskBatches } from "./mask_batches";

beforeAll(async () => {
  await ready({ quiet: true });
});

/** Five 2x3 one-channel images whose pixels encode (image, row, col), and masks that mirror them. */
function data(): { x: tf.Tensor4D; masks: tf.Tensor3D } {
  const n = 5, h = 2, w = 3;
  const x = new Float32Array(n * h * w);
  const m = new Int32Array(n * h * w);
  for (let i = 0; i < n; i++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
    x[(i * h + r) * w + c] = i * 100 + r * 10 + c;
    m[(i * h + r) * w + c] = c; // class = column: a horizontal flip shows in the mask
  }
  return { x: tf.tensor4d(x, [n, h, w, 1]), masks: tf.tensor3d(m, [n, h, w], "int32") };
}

async function pass(source: { iterator(): Promise<{ next(): Promise<IteratorResult<Batch>> }> }): Promise<{ xs: tf.Tensor4D; ys: tf.Tensor3D }[]> {
  const it = await source.iterator();
  const out: { xs: tf.Tensor4D; ys: tf.Tensor3D }[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value as unknown as { xs: tf.Tensor4D; ys: tf.Tensor3D });
  return out;
}

describe("maskBatches", () => {
  it("visits every image once per pass, in order without shuffle, as float32 images and float32 class ids", async () => {
    const { x, masks } = data();
    const before = tf.memory().numTensors;
    const source = maskBatches(x, masks, { numClasses: 3, batchSize: 2, shuffle: false });
    expect(source.size).toBe(3);
    expect(source.count).toBe(5);
    const batches = await pass(source);
    expect(batches.map((b) => b.xs.shape)).toEqual([[2, 2, 3, 1], [2, 2, 3, 1], [1, 2, 3, 1]]);
    expect(batches.map((b) => [b.xs.dtype, b.ys.dtype, ...b.ys.shape])).toEqual([["float32", "float32", 2, 2, 3], ["float32", "float32", 2, 2, 3], ["float32", "float32", 1, 2, 3]]);
    const firstPixels = batches.flatMap((b) => Array.from(b.xs.dataSync()).filter((_, k) => k % 6 === 0));
    expect(firstPixels).toEqual([0, 100, 200, 300, 400]);
    expect(Array.from(batches[2].ys.dataSync())).toEqual([0, 1, 2, 0, 1, 2]);
    batches.forEach((b) => tf.dispose([b.xs, b.ys]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, masks]);
  });

  it("shuffles differently every pass, the same for the same seed, and keeps each image with its mask", async () => {
    const { x, masks } = data();
    const order = async (seed: number) => {
      const source = maskBatches(x, masks, { numClasses: 3, batchSize: 5, seed });
      const passes: number[][] = [];
      for (let p = 0; p < 2; p++) {
        const [b] = await pass(source);
        passes.push(Array.from(b.xs.dataSync()).filter((_, k) => k % 6 === 0).map((v) => v / 100));
        tf.dispose([b.xs, b.ys]);
      }
      return passes;
    };
    const a = await order(7);
    expect(await order(7)).toEqual(a);
    expect([...a[0]].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(a[0]).not.toEqual(a[1]);
    tf.dispose([x, masks]);
  });

  it("moves each mask with its image: a horizontal flip reverses both", async () => {
    const { x, masks } = data();
    const augment = new ImageDataGenerator({ horizontalFlip: true });
    const source = maskBatches(x, masks, { numClasses: 3, batchSize: 5, shuffle: false, augment, seed: 3 });
    let flipped = 0;
    for (let p = 0; p < 4; p++) {
      const [b] = await pass(source);
      const xs = b.xs.dataSync();
      const ys = b.ys.dataSync();
      for (let i = 0; i < 5; i++) {
        const row = Array.from(xs.subarray(i * 6, i * 6 + 3)).map((v) => v - i * 100);
        const maskRow = Array.from(ys.subarray(i * 6, i * 6 + 3));
        expect(row).toEqual(maskRow); // image column index == mask class, flipped or not
        if (row[0] === 2) flipped++;
      }
      tf.dispose([b.xs, b.ys]);
    }
    expect(flipped).toBeGreaterThan(0);
    expect(flipped).toBeLessThan(20);
    tf.dispose([x, masks]);
  });

  it("trains a model through fit with the built-in per-pixel loss", async () => {
    const { fit, compile } = await import("@convlab/layers");
    const { x, masks } = data();
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [null, null, 1], filters: 3, kernelSize: 1, activation: "softmax" })] });
    compile(model, { optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
    const scaled = x.div(400);
    const history = await fit(model, maskBatches(scaled, masks, { numClasses: 3, batchSize: 2, seed: 1 }), { epochs: 2, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    expect(history.history.loss.every((v) => Number.isFinite(v as number))).toBe(true);
    model.dispose();
    tf.dispose([x, masks, scaled]);
  });

  it("rejects masks of another size, out-of-range ids and bad options in one line", () => {
    const { x, masks } = data();
    expect(() => maskBatches(x, masks.slice([0, 0, 0], [5, 2, 2]), { numClasses: 3 })).toThrow(/^maskBatches: invalid masks\. Expected .*2x3.*Received: .*\[5,2,2\]/);
    expect(() => maskBatches(x, masks, { numClasses: 2 })).toThrow(/^maskBatches: invalid masks\. Expected class ids in \[0, 2\).* Received: 2 at masks\[0\]\[0\]\[2\]/);
    expect(() => maskBatches(x, masks, { numClasses: 3, batchSize: 0 })).toThrow("maskBatches: invalid batchSize. Expected an integer >= 1. Received: batchSize=0.");
    expect(() => maskBatches(x, masks, { numClasses: 3, batchsize: 4 } as never)).toThrow(/Did you mean `batchSize`\?/);
    tf.dispose([x, masks]);
  });
});
