/**
 * The offline pretrained base: MiniVGG's parameter counts and names, pretraining on the eight
 * source classes of Fashion-MNIST, the cached result reused, and its `_notop` file loading into
 * a base without the top with the same convolution weights.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { ready } from "@convlab/engine";
import { MiniVGG } from "./applications/vgg";
import { pretrainMiniVGG, SOURCE_CLASSES } from "./local_base";

let dir: string;

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await ready({ quiet: true }); // native kernels: training on tfjs's cpu backend takes minutes
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-minivgg-"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("MiniVGG: VGG's names and counts by hand (3x3 convs 3→32→32→64→64→128→128, fc1 256)", async () => {
  // Convolutions: (9·3+1)·32 + (9·32+1)·32 + (9·32+1)·64 + (9·64+1)·64 + (9·64+1)·128 + (9·128+1)·128 = 287,008.
  // Top at 64x64: 8·8·128 → 256: 2,097,408; 256 → 8: 2,056.
  const model = await MiniVGG({ classes: 8 });
  expect(model.countParams()).toBe(287_008 + 2_097_408 + 2_056);
  expect(model.layers.map((l) => l.name)).toContain("block3_conv1");
  expect(model.outputs[0].shape).toEqual([null, 8]);
  model.dispose();
  const base = await MiniVGG({ includeTop: false });
  expect(base.countParams()).toBe(287_008);
  expect(base.outputs[0].shape).toEqual([null, null, null, 128]);
  base.dispose();
  await expect(MiniVGG({ weights: "imagenet", includeTop: false })).rejects.toThrow("MiniVGG: Keras publishes no ImageNet weights without the top for this model. Use weights: null.");
});

test("pretrainMiniVGG trains on the eight source classes, saves both files, and reuses them", async () => {
  const log = jest.spyOn(console, "log").mockImplementation(() => {});
  const first = await pretrainMiniVGG({ dir, imageSize: 32, perClass: 100, epochs: 3, batchSize: 32, verbose: 0 });
  expect(first.classNames).toEqual(["T-shirt/top", "Trouser", "Dress", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
  expect(SOURCE_CLASSES).not.toContain(2);
  expect(SOURCE_CLASSES).not.toContain(4);
  expect(first.history?.history.loss).toHaveLength(3);
  // Far better than chance (1/8) after 3 epochs of 800 images: the labels reach the model.
  expect(first.testAccuracy).toBeGreaterThan(0.5);
  expect(fs.existsSync(first.weights) && fs.existsSync(first.weightsNoTop)).toBe(true);

  const again = await pretrainMiniVGG({ dir, imageSize: 32, perClass: 100, epochs: 3, batchSize: 32, verbose: 0 });
  expect(again.history).toBeUndefined();
  expect(again.testAccuracy).toBe(first.testAccuracy);
  // Weights pretrained on another set of classes (an older convlab's cache) are not reused.
  const manifest = first.weights.replace(/\.h5$/, ".json");
  const recorded = JSON.parse(fs.readFileSync(manifest, "utf8"));
  fs.writeFileSync(manifest, JSON.stringify({ ...recorded, classNames: ["Trouser", "Pullover"] }));
  const retrained = await pretrainMiniVGG({ dir, imageSize: 32, perClass: 100, epochs: 3, batchSize: 32, verbose: 0 });
  expect(retrained.history?.history.loss).toHaveLength(3);
  expect(JSON.parse(fs.readFileSync(manifest, "utf8")).classNames).toEqual(first.classNames);

  const full = await MiniVGG({ weights: first.weights, classes: 8, inputShape: first.inputShape });
  const base = await MiniVGG({ includeTop: false, weights: first.weightsNoTop, inputShape: first.inputShape });
  const kernel = (m: tf.LayersModel) => Array.from(m.getLayer("block3_conv2").getWeights()[0].dataSync());
  expect(kernel(base)).toEqual(kernel(full));
  // Loading the with-top file into a base without the top is Keras's layer-count error.
  await expect(MiniVGG({ includeTop: false, weights: first.weights })).rejects.toThrow("the model has 6 layers with weights, the file 8");
  full.dispose();
  base.dispose();
  log.mockRestore();
});

test("pretraining leaves no tensor behind (model, optimizer slots, data)", async () => {
  const before = tf.memory().numTensors;
  await pretrainMiniVGG({ dir: path.join(dir, "leak"), imageSize: 32, perClass: 10, epochs: 1, verbose: 0 });
  expect(tf.memory().numTensors).toBe(before);
});

test("bad options: one line each", async () => {
  await expect(pretrainMiniVGG({} as never)).rejects.toThrow('pretrainMiniVGG: invalid dir. Expected a folder path. Received: dir=undefined.');
  await expect(pretrainMiniVGG({ dir, imageSize: 8 })).rejects.toThrow("pretrainMiniVGG: invalid imageSize");
  await expect(pretrainMiniVGG({ dir, perClasss: 3 } as never)).rejects.toThrow("Did you mean `perClass`?");
});
