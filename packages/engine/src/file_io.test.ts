/**
 * file:// save and load without tfjs-node: the tfjs-node folder layout,
 * round trips (predictions, training config, optimizer state, shards), the
 * error lines, and atomic replacement under SIGKILL.
 */
import * as tf from "@tensorflow/tfjs";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileSystem, registerFileIO } from "./file_io";

const LOAD_EXPECTED = 'Expected a folder saved with model.save("file://…") containing model.json and weights.bin.';

let root: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerFileIO(tf);
  root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-file-io-"));
  // Traversable by the unprivileged child of the EACCES test.
  fs.chmodSync(root, 0o755);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh folder under the test root. */
function folder(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A conv + dense model with seeded weights. */
function smallModel(seed = 1): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 2,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 1 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 3 }),
      }),
    ],
  });
}

function inputs(): tf.Tensor4D {
  return tf.tidy(() => tf.range(0, 72).div(72).reshape([2, 6, 6, 1]) as tf.Tensor4D);
}

function targets(): tf.Tensor2D {
  return tf.tensor2d([
    [1, 0, 0],
    [0, 0, 1],
  ]);
}

function predict(model: tf.LayersModel): number[] {
  const x = inputs();
  const y = model.predict(x) as tf.Tensor;
  const values = Array.from(y.dataSync());
  tf.dispose([x, y]);
  return values;
}

function weightValues(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

function disposeAll(...items: Array<tf.LayersModel | tf.Tensor>): void {
  for (const item of items) item.dispose();
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a rejection");
}

function readJSON(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

describe("registerFileIO", () => {
  it("is idempotent: exactly one save and one load handler for file://", () => {
    expect(registerFileIO(tf)).toBe(false);
    expect(registerFileIO(tf)).toBe(false);
    expect(tf.io.getSaveHandlers("file:///tmp/x")).toHaveLength(1);
    expect(tf.io.getLoadHandlers("file:///tmp/x")).toHaveLength(1);
    expect(tf.io.getSaveHandlers("localstorage://x")).toHaveLength(0);
  });
});

describe("save and load", () => {
  it("writes the tfjs-node layout: model.json and weights.bin", async () => {
    const dir = path.join(folder("layout"), "model");
    const model = smallModel();
    const result = await model.save(`file://${dir}`);

    expect(fs.readdirSync(path.dirname(dir))).toEqual(["model"]);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    const json = readJSON(path.join(dir, "model.json"));
    expect(Object.keys(json)).toEqual(["modelTopology", "format", "generatedBy", "convertedBy", "weightsManifest"]);
    expect(json.format).toBe("layers-model");
    expect(json.generatedBy).toBe("TensorFlow.js tfjs-layers v4.22.0");
    expect(json.convertedBy).toBeNull();
    expect((json.modelTopology as { class_name: string }).class_name).toBe("Sequential");
    const manifest = json.weightsManifest as tf.io.WeightsManifestConfig;
    expect(manifest).toHaveLength(1);
    expect(manifest[0].paths).toEqual(["weights.bin"]);
    expect(manifest[0].weights.map((w) => [w.shape, w.dtype])).toEqual([
      [[3, 3, 1, 2], "float32"],
      [[2], "float32"],
      [[32, 3], "float32"],
      [[3], "float32"],
    ]);
    const bytes = 4 * (18 + 2 + 96 + 3);
    expect(fs.statSync(path.join(dir, "weights.bin")).size).toBe(bytes);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(bytes);
    expect(result.modelArtifactsInfo.modelTopologyType).toBe("JSON");
    model.dispose();
  });

  it("loads by folder and by model.json, relative or absolute, with equal predictions and no leaked tensors", async () => {
    const dir = path.join(folder("roundtrip"), "model");
    const model = smallModel(7);
    await model.save(`file://${dir}`);
    const expected = predict(model);

    const before = tf.memory().numTensors;
    for (const url of [`file://${dir}`, `file://${dir}/model.json`, `file://${path.relative(process.cwd(), dir)}`]) {
      const loaded = await tf.loadLayersModel(url);
      expect(predict(loaded)).toEqual(expected);
      expect(weightValues(loaded)).toEqual(weightValues(model));
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("saving to …/model.json writes its folder", async () => {
    const dir = path.join(folder("jsonurl"), "model");
    const model = smallModel();
    await model.save(`file://${dir}/model.json`);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
    expect(predict(loaded)).toEqual(predict(model));
    disposeAll(model, loaded);
  });

  it("replaces an existing model and leaves nothing beside it", async () => {
    const parent = folder("replace");
    const dir = path.join(parent, "model");
    const first = smallModel(1);
    const second = smallModel(11);
    await first.save(`file://${dir}`);
    await second.save(`file://${dir}`);
    expect(fs.readdirSync(parent)).toEqual(["model"]);
    const loaded = await tf.loadLayersModel(`file://${dir}`);
    expect(predict(loaded)).toEqual(predict(second));
    expect(predict(loaded)).not.toEqual(predict(first));
    disposeAll(first, second, loaded);
  });

  it("with includeOptimizer, trainingConfig and Adam state round-trip: both models train on identically", async () => {
    const dir = path.join(folder("optimizer"), "model");
    const model = smallModel(3);
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const x = inputs();
    const y = targets();
    await model.fit(x, y, { epochs: 5, batchSize: 1, shuffle: false, verbose: 0 });
    await model.save(`file://${dir}`, { includeOptimizer: true });

    const json = readJSON(path.join(dir, "model.json"));
    expect(json.trainingConfig).toEqual({
      loss: "categorical_crossentropy",
      metrics: ["accuracy"],
      optimizer_config: {
        class_name: "Adam",
        config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: expect.any(Number) },
      },
    });
    const specs = (json.weightsManifest as tf.io.WeightsManifestConfig)[0].weights;
    const optimizerSpecs = specs.filter((s) => s.group === "optimizer");
    expect(optimizerSpecs.map((s) => s.name)[0]).toBe("iter");
    expect(optimizerSpecs).toHaveLength(1 + 2 * 4);

    const loaded = await tf.loadLayersModel(`file://${dir}`);
    expect(loaded.optimizer).toBeDefined();
    expect(loaded.optimizer.getClassName()).toBe("Adam");
    const savedState = await model.optimizer.getWeights();
    const loadedState = await loaded.optimizer.getWeights();
    expect(loadedState.map((w) => Array.from(w.tensor.dataSync()))).toEqual(savedState.map((w) => Array.from(w.tensor.dataSync())));

    // Same weights, Adam moments and step: one more epoch gives the same weights. Not bit-equal:
    // tfjs Adam.setWeights recomputes beta^t with pow() where training multiplied it step by step.
    const restarted = smallModel(3);
    restarted.setWeights(model.getWeights());
    const h1 = await model.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0 });
    const h2 = await loaded.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0 });
    expect(h2.history.loss).toEqual(h1.history.loss);
    const maxDiff = (a: number[][], b: number[][]): number =>
      Math.max(...a.flat().map((v, i) => Math.abs(v - b.flat()[i])));
    expect(maxDiff(weightValues(loaded), weightValues(model))).toBeLessThan(1e-6);
    // Without the saved state (a fresh Adam at step 1) the same epoch ends elsewhere.
    restarted.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    await restarted.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0 });
    expect(maxDiff(weightValues(restarted), weightValues(model))).toBeGreaterThan(1e-3);
    restarted.dispose();
    disposeAll(x, y, model, loaded);
  });

  it("without includeOptimizer there is no trainingConfig, and the loaded model compiles and trains", async () => {
    const dir = path.join(folder("nooptimizer"), "model");
    const model = smallModel(5);
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    await model.save(`file://${dir}`);
    expect(readJSON(path.join(dir, "model.json"))).not.toHaveProperty("trainingConfig");

    const loaded = await tf.loadLayersModel(`file://${dir}`);
    expect(loaded.optimizer).toBeUndefined();
    loaded.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    const x = inputs();
    const y = targets();
    const before = weightValues(loaded);
    const history = await loaded.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
    expect(Number.isFinite(history.history.loss[0] as number)).toBe(true);
    expect(weightValues(loaded)).not.toEqual(before);
    disposeAll(x, y, model, loaded);
  });

  it("reads every listed weights file: several groups and shards", async () => {
    const dir = path.join(folder("shards"), "model");
    const model = smallModel(9);
    await model.save(`file://${dir}`);
    const json = readJSON(path.join(dir, "model.json"));
    const [group] = json.weightsManifest as tf.io.WeightsManifestConfig;
    const bin = fs.readFileSync(path.join(dir, "weights.bin"));
    // Conv kernel + bias (80 bytes) in two shards split inside the kernel; dense weights in a second group.
    fs.writeFileSync(path.join(dir, "group1-shard1of2.bin"), bin.subarray(0, 50));
    fs.writeFileSync(path.join(dir, "group1-shard2of2.bin"), bin.subarray(50, 80));
    fs.writeFileSync(path.join(dir, "group2-shard1of1.bin"), bin.subarray(80));
    fs.rmSync(path.join(dir, "weights.bin"));
    json.weightsManifest = [
      { paths: ["group1-shard1of2.bin", "group1-shard2of2.bin"], weights: group.weights.slice(0, 2) },
      { paths: ["group2-shard1of1.bin"], weights: group.weights.slice(2) },
    ];
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));

    const artifacts = await fileSystem(dir).load!();
    expect(Array.isArray(artifacts.weightData)).toBe(true);
    expect((artifacts.weightData as ArrayBuffer[]).map((b) => b.byteLength)).toEqual([50, 30, bin.length - 80]);
    const loaded = await tf.loadLayersModel(`file://${dir}`);
    expect(predict(loaded)).toEqual(predict(model));

    // A sharded folder is a saved model: saving over it is allowed and leaves the plain layout.
    await loaded.save(`file://${dir}`);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    disposeAll(model, loaded);
  });

  it("saves weightData given as an array of ArrayBuffers as one weights.bin", async () => {
    const dir = path.join(folder("arraydata"), "model");
    const model = smallModel(13);
    const named = model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
    const { data, specs } = await tf.io.encodeWeights(named);
    const whole = data as ArrayBuffer;
    const parts = [whole.slice(0, 100), whole.slice(100, 101), whole.slice(101)];
    await fileSystem(`file://${dir}`).save!({
      modelTopology: model.toJSON(null, false) as {},
      format: "layers-model",
      generatedBy: "test",
      convertedBy: null,
      weightSpecs: specs,
      weightData: parts,
    });
    expect(Buffer.compare(fs.readFileSync(path.join(dir, "weights.bin")), Buffer.from(whole))).toBe(0);
    const loaded = await tf.loadLayersModel(`file://${dir}`);
    expect(predict(loaded)).toEqual(predict(model));
    disposeAll(model, loaded);
  });
});

describe("error lines", () => {
  let saved: string;

  beforeAll(async () => {
    saved = path.join(folder("errors"), "good");
    const model = smallModel();
    await model.save(`file://${saved}`);
    model.dispose();
  });

  /** A copy of the good model to break. */
  function copy(name: string): string {
    const dir = path.join(root, "errors", name);
    fs.cpSync(saved, dir, { recursive: true });
    return dir;
  }

  it("a missing folder", async () => {
    const dir = path.join(root, "errors", "nowhere");
    expect(await errorOf(tf.loadLayersModel(`file://${dir}`))).toBe(`loadModel: ${dir} does not exist. ${LOAD_EXPECTED}`);
    expect(await errorOf(tf.loadLayersModel(`file://${dir}/model.json`))).toBe(
      `loadModel: ${dir}/model.json does not exist. ${LOAD_EXPECTED}`,
    );
  });

  it("a folder without model.json", async () => {
    const dir = folder("errors/empty");
    expect(await errorOf(tf.loadLayersModel(`file://${dir}`))).toBe(`loadModel: ${dir}/model.json does not exist. ${LOAD_EXPECTED}`);
  });

  it("a missing weights file", async () => {
    const dir = copy("noweights");
    fs.rmSync(path.join(dir, "weights.bin"));
    expect(await errorOf(tf.loadLayersModel(`file://${dir}`))).toBe(
      `loadModel: ${dir}/weights.bin does not exist, but ${dir}/model.json lists it. Expected every weights file that model.json lists beside it; save the model again.`,
    );
  });

  it("a truncated weights file: expected and received byte counts", async () => {
    const dir = copy("truncated");
    fs.truncateSync(path.join(dir, "weights.bin"), 10);
    expect(await errorOf(tf.loadLayersModel(`file://${dir}/model.json`))).toBe(
      `loadModel: ${dir}/weights.bin is truncated. Expected 476 bytes for the weights listed in ${dir}/model.json. Received: 10 bytes. Save the model again.`,
    );
  });

  it("a model.json that is not JSON", async () => {
    const dir = copy("badjson");
    fs.writeFileSync(path.join(dir, "model.json"), '{"modelTopology": ');
    expect(await errorOf(tf.loadLayersModel(`file://${dir}`))).toMatch(
      new RegExp(
        `^loadModel: ${dir}/model\\.json is not valid JSON \\([^\\n]+\\)\\. Expected a model\\.json written by model\\.save\\("file://…"\\); save the model again\\.$`,
      ),
    );
  });

  it("saving where a file is, or below a file", async () => {
    const file = path.join(root, "errors", "a-file");
    fs.writeFileSync(file, "not a folder");
    const model = smallModel();
    expect(await errorOf(model.save(`file://${file}`))).toBe(
      `saveModel: cannot write file://${file}: a file exists at this path. Expected a folder path (new, or a saved model); choose another path or remove the file.`,
    );
    expect(await errorOf(model.save(`file://${file}/model`))).toBe(
      `saveModel: cannot write file://${file}/model: a parent of the path is a file (ENOTDIR). Expected a path whose parents are folders; choose another path.`,
    );
    expect(fs.readFileSync(file, "utf8")).toBe("not a folder");
    model.dispose();
  });

  it("saving over a folder with other files, or over the working folder, is refused and touches nothing", async () => {
    const dir = folder("errors/project");
    fs.writeFileSync(path.join(dir, "notes.txt"), "keep me");
    fs.mkdirSync(path.join(dir, "data"));
    const model = smallModel();
    expect(await errorOf(model.save(`file://${dir}`))).toBe(
      `saveModel: cannot write file://${dir}: the folder holds other files (data/, notes.txt). Expected a new folder or one written by model.save(); choose another path or move those files.`,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(["data", "notes.txt"]);
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => n.includes("convlab-"))).toEqual([]);

    const cwdBefore = fs.readdirSync(process.cwd()).sort();
    expect(await errorOf(model.save("file://."))).toBe(
      `saveModel: cannot write file://${process.cwd()}: it is the working folder or contains it. Expected a folder for the model alone; choose a subfolder such as file://./model.`,
    );
    expect(fs.readdirSync(process.cwd()).sort()).toEqual(cwdBefore);
    model.dispose();
  });

  it("saving without write permission (EACCES)", async () => {
    const dir = folder("errors/readonly");
    const target = path.join(dir, "model");
    if (process.getuid?.() === 0) {
      // Root writes anywhere: save from a child running as nobody.
      const child = new SaveChild({ CONVLAB_SAVE_URL: `file://${target}` }, { uid: 65534, gid: 65534 });
      const { code } = await child.exited;
      expect(code).toBe(1);
      expect(child.lines.find((l) => l.startsWith("ERROR "))).toBe(
        `ERROR saveModel: cannot write file://${target}: permission denied (EACCES). Expected a writable folder; choose another path.`,
      );
    } else {
      fs.chmodSync(dir, 0o555);
      const model = smallModel();
      try {
        expect(await errorOf(model.save(`file://${target}`))).toBe(
          `saveModel: cannot write file://${target}: permission denied (EACCES). Expected a writable folder; choose another path.`,
        );
      } finally {
        fs.chmodSync(dir, 0o755);
        model.dispose();
      }
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

// ------------------------------------------------------------------ atomicity

const CHILD = path.join(__dirname, "testing", "save_child.ts");
/** Runs the TypeScript child with a transpile-only require hook (no build step). */
const BOOT = `
const ts = require(${JSON.stringify(require.resolve("typescript"))});
const fs = require("fs");
require.extensions[".ts"] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, "utf8"), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: f,
}).outputText, f);
require(${JSON.stringify(CHILD)});
`;

/** The save_child.ts process: its stdout lines, a wait for a line, its exit. */
class SaveChild {
  readonly lines: string[] = [];
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(env: Record<string, string>, ids: { uid?: number; gid?: number } = {}) {
    this.process = spawn(process.execPath, ["-e", BOOT], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "ignore"],
      ...ids,
    });
    let buffered = "";
    this.process.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      this.lines.push(...parts);
      this.waiters.forEach((w) => w());
    });
    this.exited = new Promise((resolve) => this.process.on("exit", (code, signal) => resolve({ code, signal })));
  }

  async waitFor(line: string): Promise<void> {
    while (!this.lines.includes(line)) {
      const exited = this.exited.then(() => {
        throw new Error(`save_child exited before "${line}": ${this.lines.join(" | ")}`);
      });
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), exited]);
    }
  }
}

const BIG_INPUT = 5000;
const BIG_UNITS = 4000; // 20M kernel weights, 80 MB weights.bin

/** Saves the big model with every weight equal to `marker`, in this process. */
async function saveBig(url: string, marker: number): Promise<void> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: BIG_UNITS,
        inputShape: [BIG_INPUT],
        kernelInitializer: tf.initializers.constant({ value: marker }),
        biasInitializer: tf.initializers.constant({ value: marker }),
      }),
    ],
  });
  await model.save(url);
  model.dispose();
}

/** Loads the big model and returns its marker, checking every weight carries it. */
async function markerOf(url: string): Promise<number> {
  const model = await tf.loadLayersModel(url);
  const [kernel, bias] = model.getWeights();
  const marker = bias.dataSync()[0];
  const uniform = tf.tidy(() => tf.logicalAnd(tf.all(tf.equal(kernel, marker)), tf.all(tf.equal(bias, marker))).dataSync()[0]);
  expect(kernel.shape).toEqual([BIG_INPUT, BIG_UNITS]);
  expect(uniform).toBe(1);
  model.dispose();
  return marker;
}

type EntryKind = "tmp" | "old" | "del";

/** Polls `parent` until a `.…convlab-<kind>-…` entry shows up; false when the child ended first. */
async function waitForEntry(parent: string, kind: EntryKind, child: SaveChild): Promise<boolean> {
  let ended = false;
  void child.exited.then(() => (ended = true));
  while (!ended && !child.lines.includes("DONE")) {
    if (fs.readdirSync(parent).some((n) => n.includes(`.convlab-${kind}-`))) return true;
    await new Promise((r) => setTimeout(r, 1));
  }
  return false;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.on("exit", r));
  return child.pid!;
}

describe("atomic replacement", () => {
  it("a save killed with SIGKILL at any moment leaves the old or the new model; the next save tidies up", async () => {
    const parent = folder("kill");
    const target = path.join(parent, "big");
    const url = `file://${target}`;
    const env = {
      CONVLAB_SAVE_URL: url,
      CONVLAB_SAVE_MARKER: "2",
      CONVLAB_SAVE_INPUT: String(BIG_INPUT),
      CONVLAB_SAVE_UNITS: String(BIG_UNITS),
    };

    // A full run over the old model, to time its phases: encoding in memory, then writing.
    await saveBig(url, 1);
    const full = new SaveChild(env);
    await full.waitFor("SAVING");
    expect(await waitForEntry(parent, "tmp", full)).toBe(true);
    const tWrite = Date.now();
    await full.waitFor("DONE");
    const tDone = Date.now();
    expect((await full.exited).code).toBe(0);
    expect(await markerOf(url)).toBe(2);
    const writing = tDone - tWrite;

    // Kill points: after "SAVING" (mostly encoding), after the temp folder appears (writing),
    // and as soon as the old folder is being removed (after the swap).
    const points: Array<{ anchor: "SAVING" | EntryKind; delay: number }> = [
      { anchor: "SAVING", delay: 10 },
      { anchor: "SAVING", delay: 50 },
      { anchor: "SAVING", delay: 200 },
      ...[0, 0.25, 0.5, 0.75].map((f) => ({ anchor: "tmp" as const, delay: Math.round(f * writing) })),
      { anchor: "del", delay: 0 },
    ];
    const outcomes: string[] = [];
    for (const { anchor, delay } of points) {
      await saveBig(url, 1);
      expect(fs.readdirSync(parent)).toEqual(["big"]);
      const child = new SaveChild(env);
      await child.waitFor("SAVING");
      if (anchor !== "SAVING") await waitForEntry(parent, anchor, child);
      await new Promise((r) => setTimeout(r, delay));
      child.process.kill("SIGKILL");
      const { signal } = await child.exited;
      const leftovers = fs.readdirSync(parent).filter((n) => n !== "big");
      const marker = await markerOf(url);
      expect([1, 2]).toContain(marker);
      const kinds = leftovers.map((n) => /convlab-(\w+)-/.exec(n)?.[1] ?? n).join("+") || "clean";
      outcomes.push(`${anchor}+${delay}ms:${signal ?? "finished"}:${marker === 1 ? "old" : "new"}:${kinds}`);
    }
    // At least one kill landed mid-write: the old model stayed and a temp folder was left.
    // (On failure the list shows where each kill landed, e.g. "tmp+105ms:SIGKILL:old:tmp".)
    expect(outcomes).toContainEqual(expect.stringMatching(/:old:tmp$/));

    await saveBig(url, 3);
    expect(fs.readdirSync(parent)).toEqual(["big"]);
    expect(await markerOf(url)).toBe(3);
  });

  it("a crash between the two renames: load puts the old model back, and so does save", async () => {
    const parent = folder("between");
    const target = path.join(parent, "model");
    const model = smallModel(21);
    await model.save(`file://${target}`);
    const pid = await deadPid();

    // The state a SIGKILL between "rename old aside" and "rename new into place" leaves.
    const crash = (): void => {
      fs.renameSync(target, path.join(parent, `.model.convlab-old-${pid}-0a0b0c`));
      fs.mkdirSync(path.join(parent, `.model.convlab-tmp-${pid}-0d0e0f`));
      fs.writeFileSync(path.join(parent, `.model.convlab-tmp-${pid}-0d0e0f`, "model.json"), "{");
    };

    crash();
    const loaded = await tf.loadLayersModel(`file://${target}`);
    expect(predict(loaded)).toEqual(predict(model));
    expect(fs.existsSync(path.join(target, "model.json"))).toBe(true);

    // The next save removes what the dead save left.
    const other = smallModel(22);
    await other.save(`file://${target}`);
    expect(fs.readdirSync(parent)).toEqual(["model"]);

    crash();
    await model.save(`file://${target}`);
    expect(fs.readdirSync(parent)).toEqual(["model"]);
    const again = await tf.loadLayersModel(`file://${target}`);
    expect(predict(again)).toEqual(predict(model));
    disposeAll(model, other, loaded, again);
  });

  it("leaves alone the temporary folder of a save still running in another process", async () => {
    const parent = folder("live");
    const target = path.join(parent, "model");
    const live = path.join(parent, `.model.convlab-tmp-${process.ppid}-0a0b0c`);
    fs.mkdirSync(live);
    const model = smallModel();
    await model.save(`file://${target}`);
    expect(fs.readdirSync(parent).sort()).toEqual([".model.convlab-tmp-" + process.ppid + "-0a0b0c", "model"]);
    model.dispose();
  });
});
