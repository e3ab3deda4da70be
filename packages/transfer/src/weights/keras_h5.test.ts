/**
 * Keras `.h5` weights: the round trip save → load over Conv2D, BatchNormalization,
 * DepthwiseConv2D, SeparableConv2D and Dense; files written here with h5wasm directly in both
 * Keras layouts (weights only; full model under `model_weights`), with NUL-padded names and
 * split `layer_names0/1` attributes; the layout saveWeights writes; every error by its text,
 * with the model left unchanged.
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { H5File, H5Group, loadHdf5 } from "./hdf5";
import { loadWeights, saveWeights } from "./index";
import { halfToFloat, readNameList } from "./keras_h5";

let dir: string;

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-weights-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The small model of these tests: every layer kind whose weight order matters. */
function smallModel(inputChannels = 3): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, inputChannels] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: "c1" }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "bn" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: "dw" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({ filters: 5, kernelSize: 2, name: "sep" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: "flat" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, name: "d" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: "small" });
}

/** Distinct values in every variable (BatchNormalization's defaults are all 0 or 1). */
function randomize(model: tf.LayersModel, seed: number): void {
  model.weights.forEach((v, i) => {
    const t = tf.randomUniform(v.shape as number[], 0.5, 1.5, "float32", seed + i);
    (v.read() as tf.Variable).assign(t);
    t.dispose();
  });
}

function snapshot(model: tf.LayersModel): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const v of model.weights) out[v.originalName] = Array.from(v.read().dataSync());
  return out;
}

/** Writes an HDF5 file with h5wasm directly, as another program (h5py) would. */
async function writeH5(file: string, build: (f: H5File) => void): Promise<void> {
  const h5 = await loadHdf5("test");
  const name = h5.tempName();
  const f = new h5.File(name, "w");
  try {
    build(f);
  } finally {
    f.close();
  }
  fs.writeFileSync(file, h5.module.FS.readFile(name));
  h5.module.FS.unlink(name);
}

/** Reads an HDF5 file with h5wasm directly. */
async function readH5<T>(file: string, use: (f: H5File) => T): Promise<T> {
  const h5 = await loadHdf5("test");
  const name = h5.tempName();
  h5.module.FS.writeFile(name, fs.readFileSync(file));
  const f = new h5.File(name, "r");
  try {
    return use(f);
  } finally {
    f.close();
    h5.module.FS.unlink(name);
  }
}

/** Fixed-length strings exactly as wide as the longest name, NUL-padded: numpy's `S<n>`, as h5py stores Keras's lists. */
function fixedNames(group: H5Group, attr: string, names: string[], extraWidth = 0): void {
  const width = Math.max(1, ...names.map((n) => Buffer.byteLength(n))) + extraWidth;
  if (names.length === 0) group.create_attribute(attr, new Float64Array(0), [0], "<d");
  else group.create_attribute(attr, names, [names.length], `A${width}`);
}

/** One layer group in Keras's layout: `weight_names` and the datasets (intermediate groups made, as h5py does). */
function kerasLayer(root: H5Group, layer: string, weights: Array<[string, number[], Float32Array]>, extraWidth = 0): void {
  const g = root.create_group(layer);
  fixedNames(g, "weight_names", weights.map(([n]) => n), extraWidth);
  const made = new Set<string>();
  for (const [name, shape, values] of weights) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const sub = parts.slice(0, i).join("/");
      if (!made.has(sub)) g.create_group(sub);
      made.add(sub);
    }
    g.create_dataset({ name, data: values, shape, dtype: "<f" });
  }
}

/** The weights of `model` in Keras's naming, with values `base + index`. */
function kerasWeightsOf(model: tf.LayersModel, base: number): Map<string, Array<[string, number[], Float32Array]>> {
  const out = new Map<string, Array<[string, number[], Float32Array]>>();
  let k = 0;
  for (const layer of model.layers) {
    out.set(
      layer.name,
      layer.weights.map((v) => {
        const size = (v.shape as number[]).reduce((a, b) => a * b, 1);
        const values = Float32Array.from({ length: size }, (_, i) => base + k * 0.01 + i * 1e-4);
        k++;
        return [`${v.originalName}:0`, v.shape as number[], values];
      }),
    );
  }
  return out;
}

function expectLoaded(model: tf.LayersModel, weights: Map<string, Array<[string, number[], Float32Array]>>): void {
  for (const layer of model.layers) {
    const expected = weights.get(layer.name) ?? [];
    expect(layer.weights.length).toBe(expected.length);
    layer.weights.forEach((v, i) => {
      expect(v.shape).toEqual(expected[i][1]);
      expect(Array.from(v.read().dataSync())).toEqual(Array.from(expected[i][2]));
    });
  }
}

describe("saveWeights → loadWeights", () => {
  test("round trip: every weight of Conv2D, BatchNormalization, DepthwiseConv2D, SeparableConv2D, Dense comes back equal", async () => {
    const a = smallModel();
    randomize(a, 1);
    const file = path.join(dir, "round.h5");
    await saveWeights(a, file);
    const b = smallModel();
    randomize(b, 100);
    expect(snapshot(b)).not.toEqual(snapshot(a));
    await loadWeights(b, file);
    expect(snapshot(b)).toEqual(snapshot(a));
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 7);
    expect(Array.from((b.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((a.predict(x) as tf.Tensor).dataSync()));
    // No temporary file is left beside it.
    expect(fs.readdirSync(dir).filter((n) => n.includes("round"))).toEqual(["round.h5"]);
    tf.dispose([x]);
    a.dispose();
    b.dispose();
  });

  test("the file has Keras's layout: layer_names in model order, backend, keras_version, sorted groups with weight_names and datasets", async () => {
    const model = smallModel();
    const file = path.join(dir, "layout.h5");
    await saveWeights(model, file);
    const h5 = await loadHdf5("test");
    const seen = await readH5(file, (f) => {
      const layerNames = readNameList(h5, f, "layer_names", "test", file);
      const bn = f.get("bn") as H5Group;
      return {
        layerNames,
        backend: f.attrs.backend.value,
        kerasVersion: f.attrs.keras_version.value,
        keys: f.keys(),
        bnWeights: readNameList(h5, bn, "weight_names", "test", file),
        dwWeights: readNameList(h5, f.get("dw") as H5Group, "weight_names", "test", file),
        sepWeights: readNameList(h5, f.get("sep") as H5Group, "weight_names", "test", file),
        flatWeights: readNameList(h5, f.get("flat") as H5Group, "weight_names", "test", file),
        top: readNameList(h5, f.get("top_level_model_weights") as H5Group, "weight_names", "test", file),
        kernelShape: (f.get("c1/c1/kernel:0") as { shape: number[] }).shape,
        sepShape: (f.get("sep/sep/pointwise_kernel:0") as { shape: number[] }).shape,
        dwShape: (f.get("dw/dw/depthwise_kernel:0") as { shape: number[] }).shape,
      };
    });
    expect(seen.layerNames).toEqual(model.layers.map((l) => l.name));
    expect(seen.backend).toBe("tensorflow");
    expect(seen.kerasVersion).toMatch(/^2\.\d+\.\d+$/);
    expect(seen.keys).toEqual(expect.arrayContaining(["bn", "c1", "d", "dw", "flat", "sep", "top_level_model_weights"]));
    // Keras's orders (tfjs's layer.weights follows them).
    expect(seen.bnWeights).toEqual(["bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"]);
    expect(seen.dwWeights).toEqual(["dw/depthwise_kernel:0", "dw/bias:0"]);
    expect(seen.sepWeights).toEqual(["sep/depthwise_kernel:0", "sep/pointwise_kernel:0", "sep/bias:0"]);
    expect(seen.flatWeights).toEqual([]);
    expect(seen.top).toEqual([]);
    expect(seen.kernelShape).toEqual([3, 3, 3, 4]);
    expect(seen.dwShape).toEqual([3, 3, 4, 2]);
    expect(seen.sepShape).toEqual([1, 1, 8, 5]);
    model.dispose();
  });

  test("a long list of layer names is split into layer_names0, layer_names1, … as Keras splits it, and loads back", async () => {
    // 300 names of 230 bytes: 300 * 231 > 64,512 bytes, so two attributes of 150 names.
    const input = tf.input({ shape: [2] });
    let x = input;
    for (let i = 0; i < 300; i++) x = tf.layers.activation({ activation: "linear", name: `a${String(i).padStart(3, "0")}_${"x".repeat(226)}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 2, name: "last" }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x });
    randomize(model, 3);
    const file = path.join(dir, "long.h5");
    await saveWeights(model, file);
    const h5 = await loadHdf5("test");
    const attrs = await readH5(file, (f) => ({
      names: Object.keys(f.attrs).sort(),
      first: readNameList(h5, f, "layer_names0", "test", file)?.length,
      all: readNameList(h5, f, "layer_names", "test", file),
    }));
    expect(attrs.names).toEqual(["backend", "keras_version", "layer_names0", "layer_names1"]);
    expect(attrs.first).toBe(151); // 302 layers (input, 300 activations, dense): numpy's array_split halves
    expect(attrs.all).toEqual(model.layers.map((l) => l.name));
    const again = tf.model({ inputs: model.inputs, outputs: model.outputs });
    const before = snapshot(model);
    randomize(model, 50);
    await loadWeights(again, file);
    expect(snapshot(model)).toEqual(before);
    model.dispose();
  });

  test("saveWeights replaces an existing file, and refuses other extensions", async () => {
    const file = path.join(dir, "replace.h5");
    fs.writeFileSync(file, "old");
    const model = smallModel();
    await saveWeights(model, file);
    expect(fs.readFileSync(file).subarray(0, 4).toString("latin1")).toBe("\x89HDF");
    await expect(saveWeights(model, path.join(dir, "x.bin"))).rejects.toThrow(
      `saveWeights: invalid path. Expected a file name ending in .h5 (Keras's HDF5 weights); for the tfjs format use model.save("file://…"). Received: path="${path.join(dir, "x.bin")}".`,
    );
    model.dispose();
  });

  test("a failed save leaves no file: the target is a folder", async () => {
    const target = path.join(dir, "folder.h5");
    fs.mkdirSync(target);
    const model = smallModel();
    await expect(saveWeights(model, target)).rejects.toThrow(/^saveWeights: cannot write .*folder\.h5: /);
    expect(fs.readdirSync(dir).filter((n) => n.includes("folder.h5"))).toEqual(["folder.h5"]);
    model.dispose();
  });

  test("saveWeights creates missing folders", async () => {
    const model = smallModel();
    const file = path.join(dir, "deep", "er", "w.h5");
    await saveWeights(model, file);
    expect(fs.existsSync(file)).toBe(true);
    model.dispose();
  });
});

describe("loadWeights: files in Keras's layouts, written with h5wasm directly", () => {
  test("weights-only layout (model.save_weights): NUL-padded names, layers without weights skipped, extra file layers ignored", async () => {
    const model = smallModel();
    const weights = kerasWeightsOf(model, 1);
    const file = path.join(dir, "keras_weights_only.h5");
    await writeH5(file, (f) => {
      const names = [...model.layers.map((l) => l.name), "extra_head"];
      fixedNames(f, "layer_names", names);
      f.create_attribute("backend", "tensorflow", null, "A10");
      f.create_attribute("keras_version", "2.15.0", null, "A6");
      for (const layer of model.layers) kerasLayer(f, layer.name, weights.get(layer.name) ?? []);
      kerasLayer(f, "extra_head", [["extra_head/kernel:0", [7, 7], new Float32Array(49)]]);
    });
    await loadWeights(model, file);
    expectLoaded(model, weights);
    model.dispose();
  });

  test("full-model layout (model.save): model_config at the root, the weights under model_weights, variable-length and wider NUL-padded names", async () => {
    const model = smallModel();
    const weights = kerasWeightsOf(model, 2);
    const file = path.join(dir, "keras_full.h5");
    await writeH5(file, (f) => {
      const config = JSON.stringify({ class_name: "Functional", config: { name: "small" } });
      f.create_attribute("model_config", config, null, `A${config.length}`);
      f.create_attribute("keras_version", "2.15.0", null, "A6");
      f.create_attribute("backend", "tensorflow", null, "A10");
      const mw = f.create_group("model_weights");
      // h5py 3 stores a Python list of bytes as variable-length strings.
      mw.create_attribute("layer_names", model.layers.map((l) => l.name), [model.layers.length], "S");
      mw.create_attribute("backend", "tensorflow", null, "A10");
      mw.create_attribute("keras_version", "2.15.0", null, "A6");
      for (const layer of model.layers) kerasLayer(mw, layer.name, weights.get(layer.name) ?? [], 5);
      f.create_group("optimizer_weights");
    });
    await loadWeights(model, file);
    expectLoaded(model, weights);
    model.dispose();
  });

  test("layer_names0/1 and weight_names0/1 split attributes are joined in order", async () => {
    const model = smallModel();
    const weights = kerasWeightsOf(model, 3);
    const file = path.join(dir, "keras_split.h5");
    await writeH5(file, (f) => {
      const names = model.layers.map((l) => l.name);
      fixedNames(f, "layer_names0", names.slice(0, 4));
      fixedNames(f, "layer_names1", names.slice(4));
      for (const layer of model.layers) {
        const ws = weights.get(layer.name) ?? [];
        if (layer.name !== "bn") {
          kerasLayer(f, layer.name, ws);
          continue;
        }
        const g = f.create_group("bn");
        fixedNames(g, "weight_names0", ws.slice(0, 3).map(([n]) => n));
        fixedNames(g, "weight_names1", ws.slice(3).map(([n]) => n));
        g.create_group("bn");
        for (const [n, shape, values] of ws) g.create_dataset({ name: n, data: values, shape, dtype: "<f" });
      }
    });
    await loadWeights(model, file);
    expectLoaded(model, weights);
    model.dispose();
  });

  test("Keras's order within a layer: BatchNormalization gamma, beta, moving_mean, moving_variance even under other weight names", async () => {
    // Old TF graphs uniquified names (batch_normalization_1/gamma:0): the order alone decides then.
    const model = smallModel();
    const file = path.join(dir, "keras_order.h5");
    const bn = (v: number): Float32Array => new Float32Array([v, v + 0.1, v + 0.2, v + 0.3]);
    const weights = kerasWeightsOf(model, 4);
    weights.set("bn", [
      ["batch_normalization_1/gamma:0", [4], bn(1)],
      ["batch_normalization_1/beta:0", [4], bn(2)],
      ["batch_normalization_1/moving_mean:0", [4], bn(3)],
      ["batch_normalization_1/moving_variance:0", [4], bn(4)],
    ]);
    await writeH5(file, (f) => {
      fixedNames(f, "layer_names", model.layers.map((l) => l.name));
      for (const layer of model.layers) kerasLayer(f, layer.name, weights.get(layer.name) ?? []);
    });
    await loadWeights(model, file);
    const layer = model.getLayer("bn");
    expect(layer.weights.map((w) => w.originalName)).toEqual(["bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"]);
    expect(layer.weights.map((w) => Array.from(w.read().dataSync())[0])).toEqual([1, 2, 3, 4].map((v) => Math.fround(v)));
    model.dispose();
  });

  test("Keras's kernel layouts give Keras's outputs: Conv2D HWIO and Dense [in, out]", async () => {
    const input = tf.input({ shape: [1, 1, 2] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: "conv", useBias: false }).apply(input) as tf.SymbolicTensor;
    const flat = tf.layers.flatten({ name: "flatten" }).apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: "dense" }).apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const file = path.join(dir, "keras_layouts.h5");
    // kernel[0,0,i,o] = 10 i + o; dense kernel[i,o] = i == o; bias [100, 200].
    await writeH5(file, (f) => {
      fixedNames(f, "layer_names", ["input_1", "conv", "flatten", "dense"]);
      kerasLayer(f, "input_1", []);
      kerasLayer(f, "conv", [["conv/kernel:0", [1, 1, 2, 3], new Float32Array([0, 1, 2, 10, 11, 12])]]);
      kerasLayer(f, "flatten", []);
      kerasLayer(f, "dense", [
        ["dense/kernel:0", [3, 2], new Float32Array([1, 0, 0, 1, 0, 0])],
        ["dense/bias:0", [2], new Float32Array([100, 200])],
      ]);
    });
    await loadWeights(model, file);
    // x = [1, 2]: conv = [0*1 + 10*2, 1 + 22, 2 + 24] = [20, 23, 26]; dense = [20 + 100, 23 + 200].
    const y = model.predict(tf.tensor4d([1, 2], [1, 1, 1, 2])) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual([120, 223]);
    model.dispose();
  });

  test("float64 and integer datasets are converted to the variables' float32", async () => {
    const input = tf.input({ shape: [2] });
    const out = tf.layers.dense({ units: 1, name: "dense" }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const file = path.join(dir, "keras_f64.h5");
    await writeH5(file, (f) => {
      fixedNames(f, "layer_names", ["dense"]);
      const g = f.create_group("dense");
      fixedNames(g, "weight_names", ["dense/kernel:0", "dense/bias:0"]);
      g.create_group("dense");
      g.create_dataset({ name: "dense/kernel:0", data: new Float64Array([0.25, -2]), shape: [2, 1], dtype: "<d" });
      g.create_dataset({ name: "dense/bias:0", data: new Int32Array([3]), shape: [1], dtype: "<i" });
    });
    await loadWeights(model, file);
    expect(model.weights.map((w) => Array.from(w.read().dataSync()))).toEqual([[0.25, -2], [3]]);
    model.dispose();
  });

  test("float16 values (mixed-precision files) are decoded exactly", () => {
    // 1, -2, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), +Infinity, 0
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x0000]);
    expect(Array.from(halfToFloat(halves))).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity, 0]);
  });

  test("a nested model is one layer of the file, its weights paired by name when the order differs (frozen inner layers)", async () => {
    const inner = smallModel();
    const input = tf.input({ shape: [8, 8, 3] });
    const head = tf.layers.dense({ units: 2, name: "head" }).apply(inner.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const outer = tf.model({ inputs: input, outputs: head });
    randomize(outer, 11);
    inner.getLayer("c1").trainable = false; // c1's kernel and bias move after the trainable weights
    const file = path.join(dir, "nested.h5");
    await saveWeights(outer, file);
    const h5 = await loadHdf5("test");
    const order = await readH5(file, (f) => readNameList(h5, f.get("small") as H5Group, "weight_names", "test", file));
    expect(order?.slice(-4)).toEqual(["c1/kernel:0", "c1/bias:0", "bn/moving_mean:0", "bn/moving_variance:0"]);
    inner.getLayer("c1").trainable = true;
    expect(inner.weights[0].originalName).toBe("c1/kernel");
    const saved = snapshot(outer);
    randomize(outer, 77);
    await loadWeights(outer, file);
    expect(snapshot(outer)).toEqual(saved);
    outer.dispose();
  });
});

describe("loadWeights by position ({ byName: false }, Keras's default)", () => {
  test("Keras 2.0's names (counted from 1) load by position, not by name; a layer-count mismatch is one line", async () => {
    const model = smallModel();
    const weights = kerasWeightsOf(model, 3);
    // The file's layers carry other names (as Keras 2.0 named conv2d_1, …), in the model's order.
    const renamed = new Map([...weights].map(([name, w], i) => [`old_${i + 1}_${name}`, w]));
    const file = path.join(dir, "keras_positional.h5");
    await writeH5(file, (f) => {
      fixedNames(f, "layer_names", [...renamed.keys()]);
      f.create_attribute("backend", "tensorflow", null, "A10");
      f.create_attribute("keras_version", "2.0.8", null, "A5");
      for (const [name, w] of renamed) kerasLayer(f, name, w);
    });
    const before = snapshot(model);
    await expect(loadWeights(model, file)).rejects.toThrow(`has no weights for layer "c1" of the model`);
    expect(snapshot(model)).toEqual(before);
    await loadWeights(model, file, { byName: false });
    expectLoaded(model, weights);

    const fewer = path.join(dir, "keras_positional_fewer.h5");
    await writeH5(fewer, (f) => {
      const kept = [...renamed].slice(0, 3); // the input layer (no weights), c1, bn
      fixedNames(f, "layer_names", kept.map(([n]) => n));
      for (const [name, w] of kept) kerasLayer(f, name, w);
    });
    await expect(loadWeights(model, fewer, { byName: false })).rejects.toThrow(
      `loadWeights: ${fewer} does not fit the model: the model has 5 layers with weights, the file 2. Load the file of this architecture (same includeTop), or pass { byName: true } to match layers by name.`,
    );
    await expect(loadWeights(model, fewer, { byname: false } as never)).rejects.toThrow("byName");
    model.dispose();
  });
});

describe("loadWeights: errors leave the model unchanged", () => {
  let file: string;
  let model: tf.LayersModel;

  beforeAll(async () => {
    file = path.join(dir, "errors_source.h5");
    const source = smallModel();
    await saveWeights(source, file);
    source.dispose();
  });

  beforeEach(() => {
    model = smallModel(1);
  });

  afterEach(() => model.dispose());

  test("a mis-shaped weight is named with both shapes", async () => {
    const before = snapshot(model);
    await expect(loadWeights(model, file)).rejects.toThrow(
      `loadWeights: ${file} does not fit the model: c1/kernel: file has [3,3,3,4], model has [3,3,1,4]. Load the weights of this architecture (same input channels, classes and includeTop).`,
    );
    expect(snapshot(model)).toEqual(before);
  });

  test("a model layer missing from the file is named, and no layer before it was changed", async () => {
    const m = smallModel();
    const renamed = path.join(dir, "errors_missing.h5");
    await writeH5(renamed, (f) => {
      const weights = kerasWeightsOf(m, 5);
      const names = m.layers.map((l) => (l.name === "sep" ? "sep_other" : l.name));
      fixedNames(f, "layer_names", names);
      for (const layer of m.layers) kerasLayer(f, layer.name === "sep" ? "sep_other" : layer.name, weights.get(layer.name) ?? []);
    });
    const before = snapshot(m);
    await expect(loadWeights(m, renamed)).rejects.toThrow(
      `loadWeights: ${renamed} has no weights for layer "sep" of the model. Expected a file saved from a model with the same layer names; the file has weights for "c1", "bn", "dw", "sep_other", "d". Load the file of this architecture, or name the model's layers as in the file.`,
    );
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  test("a layer with another number of weights is named with both counts", async () => {
    const m = smallModel();
    const fewer = path.join(dir, "errors_count.h5");
    const weights = kerasWeightsOf(m, 6);
    weights.set("bn", (weights.get("bn") ?? []).slice(0, 2));
    await writeH5(fewer, (f) => {
      fixedNames(f, "layer_names", m.layers.map((l) => l.name));
      for (const layer of m.layers) kerasLayer(f, layer.name, weights.get(layer.name) ?? []);
    });
    const before = snapshot(m);
    await expect(loadWeights(m, fewer)).rejects.toThrow(
      `loadWeights: ${fewer} does not fit the model: layer "bn": file has 2 weights (bn/gamma:0, bn/beta:0), model has 4 (bn/gamma, bn/beta, bn/moving_mean, bn/moving_variance). Load the file of this architecture.`,
    );
    expect(snapshot(m)).toEqual(before);
    m.dispose();
  });

  test("a truncated file: not an HDF5 file in one piece", async () => {
    const bytes = fs.readFileSync(file);
    const cut = path.join(dir, "errors_truncated.h5");
    fs.writeFileSync(cut, bytes.subarray(0, 3000));
    const before = snapshot(model);
    await expect(loadWeights(model, cut)).rejects.toThrow(
      `loadWeights: ${cut} is not an HDF5 file in one piece: it is truncated (3000 bytes; its header says ${bytes.length}). Download or save it again.`,
    );
    expect(snapshot(model)).toEqual(before);
  });

  test("a file that is not HDF5: an HTML page, a zip (.keras), JSON, empty", async () => {
    const cases: Array<[string, string | Buffer, string]> = [
      ["page.h5", "<html><body>403 Forbidden</body></html>", "it looks like an HTML page, e.g. an error page saved instead of the file"],
      ["model.keras", Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), "it is a zip archive, such as a Keras 3 .keras file"],
      ["weights.txt", ' {"weightsManifest": []}', "it looks like JSON; a tfjs model.json is loaded by its name ending in .json"],
      ["empty.h5", "", "it is empty"],
      ["junk.h5", Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), "it starts with bytes 01 02 03 04 05 06 07 08, not the HDF5 signature 89 48 44 46"],
    ];
    for (const [name, content, why] of cases) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, content);
      await expect(loadWeights(model, p)).rejects.toThrow(
        `loadWeights: ${p} is not an HDF5 file (${why}). Expected a Keras .h5 saved by model.save_weights("x.h5") or model.save("x.h5"), or a tfjs model.json.`,
      );
    }
  });

  test("an HDF5 file that is not Keras weights, and a Keras 3 .weights.h5", async () => {
    const other = path.join(dir, "other.h5");
    await writeH5(other, (f) => {
      f.create_group("data");
    });
    await expect(loadWeights(model, other)).rejects.toThrow(
      `loadWeights: ${other} is an HDF5 file but not Keras weights: it has no "layer_names" attribute, at its root or in "model_weights". Expected a file saved by Keras's model.save_weights("x.h5") or model.save("x.h5").`,
    );
    const keras3 = path.join(dir, "model.weights.h5");
    await writeH5(keras3, (f) => {
      f.create_group("layers");
      f.create_group("vars");
    });
    await expect(loadWeights(model, keras3)).rejects.toThrow(`loadWeights: ${keras3} is in the Keras 3 ".weights.h5" layout`);
  });

  test("a missing file, a folder without model.json, a bad argument", async () => {
    const missing = path.join(dir, "nope.h5");
    await expect(loadWeights(model, missing)).rejects.toThrow(
      `loadWeights: ${missing} does not exist. Expected a Keras .h5 weights file or a tfjs model.json; check the path.`,
    );
    const folder = path.join(dir, "empty_folder");
    fs.mkdirSync(folder);
    await expect(loadWeights(model, folder)).rejects.toThrow(
      `loadWeights: ${folder} is a folder without model.json. Expected a Keras .h5 weights file, or a tfjs model.json or its folder; check the path.`,
    );
    await expect(loadWeights(model, "" as string)).rejects.toThrow('loadWeights: invalid path. Expected a file path such as "weights/vgg16.h5". Received: path="".');
    await expect(loadWeights({} as tf.LayersModel, file)).rejects.toThrow(
      "loadWeights: invalid model. Expected a tf.LayersModel (tf.model, tf.sequential or an application). Received: model={}.",
    );
  });

  test("a damaged file: a listed weight that is not there", async () => {
    const damaged = path.join(dir, "errors_damaged.h5");
    await writeH5(damaged, (f) => {
      fixedNames(f, "layer_names", ["d"]);
      const g = f.create_group("d");
      fixedNames(g, "weight_names", ["d/kernel:0", "d/bias:0"]);
    });
    await expect(loadWeights(model, damaged)).rejects.toThrow(
      `loadWeights: ${damaged} is damaged: layer "d" lists weight "d/kernel:0" but there is no such dataset. Expected a Keras .h5 file as Keras writes it; save or download it again.`,
    );
  });

  test("no tensor leaks, after a load and after a failed one", async () => {
    const m = smallModel();
    const good = path.join(dir, "leaks.h5");
    await saveWeights(m, good);
    await loadWeights(m, good);
    const n = tf.memory().numTensors;
    await loadWeights(m, good);
    await expect(loadWeights(model, good)).rejects.toThrow(/does not fit the model/);
    expect(tf.memory().numTensors).toBe(n);
    m.dispose();
  });
});
