/**
 * The real Fashion-MNIST from Debian's dataset-fashion-mnist, through the
 * public loader: shapes, label range and counts, and known first labels.
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import { fashionMnist } from "./fashion_mnist";
import { clearCache } from "./load_data";
import { removeDirs, tempDir } from "./testing/fixtures";

const DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
const present = fs.existsSync(`${DEBIAN_DIR}/train-images-idx3-ubyte.gz`);
const saved = { ...process.env };

beforeAll(async () => {
  await tf.setBackend("cpu");
  clearCache();
  process.env.HOME = tempDir(); // an empty Keras cache, so the lookup reaches Debian's folder
  delete process.env.CONVLAB_DATA;
  delete process.env.KERAS_HOME;
});
afterAll(() => {
  process.env = { ...saved };
  removeDirs();
});

const realTest = present ? test : test.skip;
if (!present) {
  test.skip(`real Fashion-MNIST: skipped, ${DEBIAN_DIR} is absent (apt-get install dataset-fashion-mnist)`, () => undefined);
}

function counts(labels: Uint8Array): number[] {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

describe("Fashion-MNIST from Debian's dataset-fashion-mnist", () => {
  realTest("shapes, labels 0-9 with 6000 per class in train and 1000 in test, known first labels", async () => {
    const [[xTrain, yTrain], [xTest, yTest]] = await fashionMnist.loadData({ download: false });
    expect(xTrain.shape).toEqual([60000, 28, 28]);
    expect(yTrain.shape).toEqual([60000]);
    expect(xTest.shape).toEqual([10000, 28, 28]);
    expect(yTest.shape).toEqual([10000]);
    expect(String(xTrain)).toBe("Uint8Tensor[60000,28,28]");
    expect(counts(yTrain.data)).toEqual(new Array(10).fill(6000));
    expect(counts(yTest.data)).toEqual(new Array(10).fill(1000));
    expect(fashionMnist.classNames[yTrain.get(0)]).toBe("Ankle boot");
    expect(fashionMnist.classNames[yTest.get(0)]).toBe("Ankle boot");
    let max = 0;
    for (const v of xTrain.data) if (v > max) max = v;
    expect(max).toBe(255);
    expect(xTrain.get(0, 0, 0)).toBe(0); // the background corner
  });

  realTest("a second load is served from memory; a batch becomes a tensor without leaks", async () => {
    const first = await fashionMnist.loadData({ download: false });
    const start = Date.now();
    const [[xTrain]] = await fashionMnist.loadData({ download: false });
    expect(Date.now() - start).toBeLessThan(50);
    expect(xTrain).toBe(first[0][0]);
    const before = tf.memory().numTensors;
    const batch = xTrain.slice(0, 64).reshape([-1, 28, 28, 1]).toTensor("float32", { scale: 1 / 255 });
    expect(batch.shape).toEqual([64, 28, 28, 1]);
    expect(tf.tidy(() => batch.max().dataSync()[0])).toBeLessThanOrEqual(1);
    tf.dispose(batch);
    tf.tidy(() => void xTrain.slice(0, 64).toTensor().max());
    expect(tf.memory().numTensors).toBe(before);
  });
});
