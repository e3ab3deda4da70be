/**
 * loadWeights of the tfjs layers format: a model.json written by tfjs's `model.save` (through
 * a save handler that writes the files tfjs-node would), one shard or several, by file and by
 * folder; matching by name, ignored extra entries, and the errors with the model unchanged.
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadWeights } from "./index";

let dir: string;

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-tfjs-weights-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function smallModel(units = 3): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: "c1" }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "bn" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({ filters: 3, kernelSize: 2, name: "sep" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units, name: "d" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

function randomize(model: tf.LayersModel, seed: number): void {
  model.weights.forEach((v, i) => {
    const t = tf.randomUniform(v.shape as number[], -1, 1, "float32", seed + i);
    (v.read() as tf.Variable).assign(t);
    t.dispose();
  });
}

function snapshot(model: tf.LayersModel): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const v of model.weights) out[v.originalName] = Array.from(v.read().dataSync());
  return out;
}

/** Saves with tfjs's model.save into `folder`: model.json + the weights cut into `shards` files. */
async function saveTfjs(model: tf.LayersModel, folder: string, shards = 1): Promise<void> {
  fs.mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const parts = Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData as ArrayBuffer];
      const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
      const step = Math.ceil(all.length / shards);
      const paths: string[] = [];
      for (let i = 0; i < shards; i++) {
        const name = `group1-shard${i + 1}of${shards}.bin`;
        fs.writeFileSync(path.join(folder, name), all.subarray(i * step, (i + 1) * step));
        paths.push(name);
      }
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
      };
      fs.writeFileSync(path.join(folder, "model.json"), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
}

describe("loadWeights: tfjs model.json", () => {
  test("a model.json saved by tfjs loads by its path and by its folder, one shard or three", async () => {
    const a = smallModel();
    randomize(a, 1);
    await saveTfjs(a, path.join(dir, "one"));
    await saveTfjs(a, path.join(dir, "three"), 3);
    for (const target of [path.join(dir, "one", "model.json"), path.join(dir, "three")]) {
      const b = smallModel();
      randomize(b, 50);
      await loadWeights(b, target);
      expect(snapshot(b)).toEqual(snapshot(a));
      b.dispose();
    }
    a.dispose();
  });

  test("extra entries (another head, optimizer state) are ignored; a model layer absent from the file is named", async () => {
    const full = smallModel();
    randomize(full, 2);
    const folder = path.join(dir, "full");
    await saveTfjs(full, folder);
    // The base only (no dense layer): loads, the file's "d" is ignored.
    const base = tf.model({ inputs: full.inputs, outputs: full.getLayer("gap").output as tf.SymbolicTensor });
    const reference = snapshot(full);
    randomize(full, 90);
    await loadWeights(base, path.join(folder, "model.json"));
    for (const v of base.weights) expect(Array.from(v.read().dataSync())).toEqual(reference[v.originalName]);

    // A model with an extra layer "extra" the file lacks.
    const input = tf.input({ shape: [6, 6, 2] });
    const extra = tf.layers.dense({ units: 2, name: "extra" }).apply(tf.layers.flatten({ name: "f" }).apply(input)) as tf.SymbolicTensor;
    const other = tf.model({ inputs: input, outputs: extra });
    const before = snapshot(other);
    const json = path.join(folder, "model.json");
    await expect(loadWeights(other, json)).rejects.toThrow(
      `loadWeights: ${json} has no weights for layer "extra" of the model. Expected a file saved from a model with the same layer names; the file has weights for "c1", "bn", "sep", "d". Load the file of this architecture, or name the model's layers as in the file.`,
    );
    expect(snapshot(other)).toEqual(before);
    full.dispose();
    other.dispose();
  });

  test("a mis-shaped weight: named with both shapes, model unchanged", async () => {
    const a = smallModel(3);
    const folder = path.join(dir, "shapes");
    await saveTfjs(a, folder);
    const b = smallModel(5);
    const before = snapshot(b);
    const json = path.join(folder, "model.json");
    await expect(loadWeights(b, json)).rejects.toThrow(
      `loadWeights: ${json} does not fit the model: d/kernel: file has [3,3], model has [3,5]. Load the weights of this architecture (same input channels, classes and includeTop).`,
    );
    expect(snapshot(b)).toEqual(before);
    a.dispose();
    b.dispose();
  });

  test("a missing or truncated shard, invalid JSON, no manifest: one line each, model unchanged", async () => {
    const a = smallModel();
    const folder = path.join(dir, "broken");
    await saveTfjs(a, folder, 2);
    const json = path.join(folder, "model.json");
    const shard = path.join(folder, "group1-shard2of2.bin");
    const before = snapshot(a);

    const bytes = fs.readFileSync(shard);
    fs.writeFileSync(shard, bytes.subarray(0, 10));
    const total = fs.readFileSync(path.join(folder, "group1-shard1of2.bin")).length + bytes.length;
    await expect(loadWeights(a, json)).rejects.toThrow(
      `loadWeights: ${path.join(folder, "group1-shard1of2.bin")} + ${shard} is truncated. Expected ${total} bytes for the weights listed in ${json}. Received: ${total - bytes.length + 10} bytes. Save the model again.`,
    );
    fs.rmSync(shard);
    await expect(loadWeights(a, json)).rejects.toThrow(
      `loadWeights: ${shard} does not exist, but ${json} lists it. Expected every weights file that model.json lists beside it; copy them together.`,
    );
    fs.writeFileSync(json, "{ not json");
    await expect(loadWeights(a, json)).rejects.toThrow(new RegExp(`^loadWeights: ${json.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON \\(`));
    fs.writeFileSync(json, JSON.stringify({ modelTopology: {} }));
    await expect(loadWeights(a, json)).rejects.toThrow(
      `loadWeights: ${json} has no valid weightsManifest. Expected a tfjs model.json with its weights (model.save() writes one); save the model again.`,
    );
    expect(snapshot(a)).toEqual(before);
    a.dispose();
  });

  test("no tensor leaks", async () => {
    const a = smallModel();
    const folder = path.join(dir, "leaks");
    await saveTfjs(a, folder);
    await loadWeights(a, folder);
    const n = tf.memory().numTensors;
    await loadWeights(a, folder);
    expect(tf.memory().numTensors).toBe(n);
    a.dispose();
  });
});
