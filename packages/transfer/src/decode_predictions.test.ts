/**
 * decodePredictions: the class index file (1000 entries, unique wnids, known classes), the
 * ranking per image, ties, `top`, Keras's shape error, validation lines, no leaks.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { decodePredictions } from "./decode_predictions";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

/** A `[rows.length, 1000]` tensor, zero except `{ classIndex: value }` per row. */
function predictions(rows: Array<Record<number, number>>): tf.Tensor2D {
  const values = new Float32Array(rows.length * 1000);
  rows.forEach((row, r) => Object.entries(row).forEach(([i, v]) => (values[r * 1000 + Number(i)] = v)));
  return tf.tensor2d(values, [rows.length, 1000]);
}

describe("imagenet_class_index.json", () => {
  const index = JSON.parse(fs.readFileSync(path.join(__dirname, "imagenet_class_index.json"), "utf8")) as Record<string, [string, string]>;

  test("has Keras's 1000 entries, keys 0…999, unique WordNet ids", () => {
    expect(Object.keys(index)).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    const wnids = Object.values(index).map(([wnid]) => wnid);
    expect(new Set(wnids).size).toBe(1000);
    for (const [wnid, name] of Object.values(index)) {
      expect(wnid).toMatch(/^n\d{8}$/);
      expect(name.length).toBeGreaterThan(0);
    }
    // WordNet ids ascend with the class index (the order every ImageNet model uses).
    expect([...wnids].sort()).toEqual(wnids);
  });

  test.each([
    [0, "n01440764", "tench"],
    [1, "n01443537", "goldfish"],
    [134, "n02012849", "crane"],
    [281, "n02123045", "tabby"],
    [282, "n02123159", "tiger_cat"],
    [386, "n02504458", "African_elephant"],
    [517, "n03126707", "crane"],
    [954, "n07753592", "banana"],
    [999, "n15075141", "toilet_tissue"],
  ])("class %i is %s %s", (i, wnid, name) => {
    expect(index[String(i)]).toEqual([wnid, name]);
  });
});

describe("decodePredictions", () => {
  test("ranks each image's classes, most likely first", () => {
    const preds = predictions([
      { 281: 0.6, 282: 0.3, 954: 0.1 },
      { 0: 0.05, 954: 0.9, 1: 0.05 },
    ]);
    const decoded = decodePredictions(preds, { top: 2 });
    expect(decoded).toHaveLength(2);
    expect(decoded[0].map(({ classId, label }) => [classId, label])).toEqual([
      ["n02123045", "tabby"],
      ["n02123159", "tiger_cat"],
    ]);
    expect(decoded[0][0].probability).toBeCloseTo(0.6, 6);
    expect(decoded[0][1].probability).toBeCloseTo(0.3, 6);
    // Equal probabilities keep class order: tench (0) before goldfish (1).
    expect(decoded[1].map((p) => p.label)).toEqual(["banana", "tench"]);
  });

  test("top defaults to 5, and top: 1000 lists every class", () => {
    const preds = predictions([{ 10: 0.5 }]);
    expect(decodePredictions(preds)[0]).toHaveLength(5);
    const all = decodePredictions(preds, { top: 1000 })[0];
    expect(all).toHaveLength(1000);
    expect(all[0]).toEqual({ classId: "n01530575", label: "brambling", probability: 0.5 });
    expect(new Set(all.map((p) => p.classId)).size).toBe(1000);
  });

  test("leaves preds alone and leaks nothing", () => {
    const preds = predictions([{ 3: 1 }]);
    decodePredictions(preds);
    const before = tf.memory().numTensors;
    decodePredictions(preds);
    expect(tf.memory().numTensors).toBe(before);
    expect(preds.isDisposed).toBe(false);
  });

  test.each([
    [
      "10 classes",
      () => decodePredictions(tf.zeros([1, 10])),
      "decodePredictions: invalid preds. Expected a batch of predictions, a 2D tensor of shape [samples, 1000]. Received: preds=Tensor<float32>[1,10]. It decodes the output of a model with ImageNet's 1000-class top (includeTop: true); for another model pass its classNames.",
    ],
    [
      "one image without its batch axis",
      () => decodePredictions(tf.zeros([1000])),
      "decodePredictions: invalid preds. Expected a batch of predictions, a 2D tensor of shape [samples, 1000]. Received: preds=Tensor<float32>[1000]. For one image's predictions add the batch axis: preds.expandDims(0).",
    ],
    [
      "an array",
      () => decodePredictions([[0.1, 0.9]] as unknown as tf.Tensor),
      "decodePredictions: invalid preds. Expected a batch of predictions, a 2D tensor of shape [samples, 1000]. Received: preds=[[0.1,0.9]].",
    ],
    [
      "top 0",
      () => decodePredictions(tf.zeros([1, 1000]), { top: 0 }),
      "decodePredictions: invalid top. Expected an integer in [1, 1000]. Received: top=0.",
    ],
    [
      "an unknown option",
      () => decodePredictions(tf.zeros([1, 1000]), { topk: 3 } as unknown as { top: number }),
      "decodePredictions: unknown option `topk`. Expected one of `top`, `classNames`. Did you mean `top`?",
    ],
  ])("%s is one line", (_, call, message) => {
    expect(call).toThrow(message);
    try {
      call();
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
  });
});

describe("another model's classes", () => {
  test("classNames decode [samples, k] predictions; the shape must match", () => {
    const preds = tf.tensor2d([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]);
    const [first, second] = decodePredictions(preds, { top: 2, classNames: ["bag", "coat", "dress"] });
    expect(first.map((p) => [p.classId, p.label])).toEqual([["1", "coat"], ["2", "dress"]]);
    expect(first[0].probability).toBeCloseTo(0.7, 6);
    expect(second.map((p) => p.label)).toEqual(["bag", "dress"]);
    expect(() => decodePredictions(preds, { classNames: ["a", "b"] })).toThrow(
      "decodePredictions: invalid preds. Expected a batch of predictions, a 2D tensor of shape [samples, 2]. Received: preds=Tensor<float32>[2,3]. Pass one class name per output of the model.",
    );
    expect(() => decodePredictions(preds, { classNames: [] })).toThrow("decodePredictions: invalid classNames.");
    expect(() => decodePredictions(preds, { top: 4, classNames: ["a", "b", "c"] })).toThrow("decodePredictions: invalid top");
    preds.dispose();
  });
});
