/**
 * Frozen BatchNormalization runs in inference mode in fit (convlab's and tfjs's): directly
 * frozen, inside a frozen nested base, deeper, in a Sequential base; an unfrozen BN still
 * trains. freezeUntil: flags (also through nested models), its error, and a compiled model
 * retrained on exactly its trainable weights with its optimizer's state realigned.
 */
import * as tf from "@tensorflow/tfjs";
import { Adam, compile, fit } from "@convlab/layers";
import { freezeUntil } from "./freeze";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

/** Inputs far from the BN's initial statistics (mean 0, variance 1), so batch and moving statistics differ. */
function data(samples = 16): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomNormal([samples, 4], 3, 2, "float32", 7) as tf.Tensor2D,
    y: tf.oneHot(tf.tensor1d(Array.from({ length: samples }, (_, i) => i % 2), "int32"), 2).toFloat() as tf.Tensor2D,
  }));
}

/** The values of a layer's weight whose name ends with `suffix` (moving_mean, kernel, …). */
function weight(layer: tf.layers.Layer, suffix: string): number[] {
  const w = layer.weights.find((v) => v.name.endsWith(suffix));
  if (!w) throw new Error(`${layer.name} has no ${suffix}`);
  return Array.from(w.read().dataSync());
}

function bnStats(bn: tf.layers.Layer): number[][] {
  return [weight(bn, "moving_mean"), weight(bn, "moving_variance")];
}

function changed(before: number[], after: number[]): boolean {
  return before.some((v, i) => Math.abs(v - after[i]) > 1e-7);
}

/** dense → BatchNormalization → (dense) : a small base with a BN. */
function base(name: string, withHead = false): { model: tf.LayersModel; bn: tf.layers.Layer; dense: tf.layers.Layer } {
  const input = tf.input({ shape: [4] });
  const dense = tf.layers.dense({ units: 3, name: `${name}_dense`, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
  const bn = tf.layers.batchNormalization({ name: `${name}_bn` });
  let out = bn.apply(dense.apply(input)) as tf.SymbolicTensor;
  if (withHead) out = tf.layers.dense({ units: 2, activation: "softmax", name: `${name}_out`, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(out) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: input, outputs: out, name }), bn, dense };
}

/** `inner` used as a layer, with a softmax head. */
function wrap(inner: tf.LayersModel, name: string): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const features = inner.apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: "softmax", name: `${name}_head`, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name });
}

type Fitter = "convlab fit" | "tfjs model.fit";

async function train(model: tf.LayersModel, how: Fitter, steps = 3): Promise<void> {
  const { x, y } = data();
  if (how === "convlab fit") {
    compile(model, { optimizer: "sgd", loss: "categorical_crossentropy" });
    await fit(model, x, y, { epochs: steps, batchSize: 16, verbose: 0, shuffle: false });
  } else {
    model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
    await model.fit(x, y, { epochs: steps, batchSize: 16, verbose: 0, shuffle: false });
  }
  tf.dispose([x, y]);
}

/** Max |training-mode output − predict output|. */
function trainingVsInference(model: tf.LayersModel): number {
  const { x, y } = data();
  const gap = tf.tidy(() => {
    const training = model.apply(x, { training: true }) as tf.Tensor;
    const inference = model.predict(x) as tf.Tensor;
    return tf.max(tf.abs(tf.sub(training, inference))).dataSync()[0];
  });
  tf.dispose([x, y]);
  return gap;
}

const FITTERS: Fitter[] = ["convlab fit", "tfjs model.fit"];

describe("a frozen BatchNormalization runs in inference mode", () => {
  test.each(FITTERS)("frozen directly (bn.trainable = false), %s: moving statistics kept, training output = inference output", async (how) => {
    const { model, bn, dense } = base(`direct_${how.split(" ")[0]}`, true);
    bn.trainable = false;
    const [mean0, var0] = bnStats(bn);
    const gamma0 = weight(bn, "gamma");
    const kernel0 = weight(dense, "kernel");
    await train(model, how);
    const [mean1, var1] = bnStats(bn);
    expect(mean1).toEqual(mean0);
    expect(var1).toEqual(var0);
    expect(weight(bn, "gamma")).toEqual(gamma0);
    expect(changed(kernel0, weight(dense, "kernel"))).toBe(true); // training did happen
    expect(trainingVsInference(model)).toBeLessThan(1e-6);
  });

  test.each(FITTERS)("an unfrozen BN still trains, %s: its statistics move and training differs from inference", async (how) => {
    const { model, bn } = base(`control_${how.split(" ")[0]}`, true);
    const [mean0, var0] = bnStats(bn);
    await train(model, how);
    const [mean1, var1] = bnStats(bn);
    expect(changed(mean0, mean1)).toBe(true);
    expect(changed(var0, var1)).toBe(true);
    expect(trainingVsInference(model)).toBeGreaterThan(1e-3);
  });

  test.each(FITTERS)("inside a frozen nested base (base.trainable = false), %s", async (how) => {
    const inner = base(`nested_${how.split(" ")[0]}`);
    inner.model.trainable = false;
    const model = wrap(inner.model, `outer_${how.split(" ")[0]}`);
    const stats0 = bnStats(inner.bn);
    const kernel0 = weight(inner.dense, "kernel");
    const head0 = weight(model.getLayer(`outer_${how.split(" ")[0]}_head`), "kernel");
    await train(model, how);
    expect(bnStats(inner.bn)).toEqual(stats0);
    expect(weight(inner.dense, "kernel")).toEqual(kernel0);
    expect(changed(head0, weight(model.getLayer(`outer_${how.split(" ")[0]}_head`), "kernel"))).toBe(true);
    expect(trainingVsInference(model)).toBeLessThan(1e-6);
  });

  test("two levels down: a BN in a base inside a frozen middle model", async () => {
    // tfjs's middle.trainable = false marks only middle's direct layers; the BN learns it from the call.
    const inner = base("deep_base");
    const middle = wrap(inner.model, "deep_middle");
    middle.trainable = false;
    const model = wrap(middle, "deep_outer");
    const stats0 = bnStats(inner.bn);
    await train(model, "convlab fit");
    expect(bnStats(inner.bn)).toEqual(stats0);
    expect(trainingVsInference(model)).toBeLessThan(1e-6);
  });

  test("the layers of a frozen base reused flat (tf.model on base.inputs)", async () => {
    const inner = base("flat_base");
    inner.model.trainable = false;
    const head = tf.layers.dense({ units: 2, activation: "softmax", name: "flat_head" }).apply(inner.model.outputs[0]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inner.model.inputs, outputs: head, name: "flat" });
    const stats0 = bnStats(inner.bn);
    const kernel0 = weight(inner.dense, "kernel");
    await train(model, "tfjs model.fit");
    expect(bnStats(inner.bn)).toEqual(stats0);
    expect(weight(inner.dense, "kernel")).toEqual(kernel0);
    expect(trainingVsInference(model)).toBeLessThan(1e-6);
  });

  test.each(FITTERS)("the course's Sequential: model.add(base); base.trainable = false; compile, %s: the base stays frozen", async (how) => {
    // tfjs adopts a first-added base's layers and used to unfreeze them at every compile.
    const tag = how.split(" ")[0];
    const dense = tf.layers.dense({ units: 3, inputShape: [4], name: `course_${tag}_dense` });
    const bn = tf.layers.batchNormalization({ name: `course_${tag}_bn` });
    const convBase = tf.sequential({ name: `course_${tag}_base`, layers: [dense, bn] });
    const model = tf.sequential({ name: `course_${tag}` });
    model.add(convBase);
    model.add(tf.layers.dense({ units: 2, activation: "softmax", name: `course_${tag}_head` }));
    convBase.trainable = false;
    const kernel0 = weight(dense, "kernel");
    const gamma0 = weight(bn, "gamma");
    const stats0 = bnStats(bn);
    const head0 = weight(model.getLayer(`course_${tag}_head`), "kernel");
    await train(model, how);
    expect(weight(dense, "kernel")).toEqual(kernel0);
    expect(weight(bn, "gamma")).toEqual(gamma0);
    expect(bnStats(bn)).toEqual(stats0);
    expect(changed(head0, weight(model.getLayer(`course_${tag}_head`), "kernel"))).toBe(true);
    expect(trainingVsInference(model)).toBeLessThan(1e-6);
    // Unfrozen, it all trains again.
    convBase.trainable = true;
    await train(model, how);
    expect(changed(kernel0, weight(dense, "kernel"))).toBe(true);
    expect(changed(stats0[0], bnStats(bn)[0])).toBe(true);
  });

  test("a nested Sequential built while frozen, unfrozen later: its BN trains again", async () => {
    const bn = tf.layers.batchNormalization({ name: "nseq_bn" });
    const seqBase = tf.sequential({ name: "nseq_base", layers: [tf.layers.dense({ units: 3, inputShape: [4], name: "nseq_dense" }), bn] });
    seqBase.trainable = false;
    const model = wrap(seqBase, "nseq_outer"); // builds seqBase's inner model, which copies trainable = false
    const stats0 = bnStats(bn);
    await train(model, "convlab fit");
    expect(bnStats(bn)).toEqual(stats0);
    seqBase.trainable = true;
    await train(model, "convlab fit");
    expect(changed(stats0[0], bnStats(bn)[0])).toBe(true);
  });

  test("inference and plain layer calls are unchanged", () => {
    const { bn } = base("plain");
    bn.trainable = false;
    const x = tf.tensor2d([[1, 2, 3], [3, 2, 1]]);
    const before = tf.memory().numTensors;
    const y = bn.apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array.from((bn.apply(x) as tf.Tensor).dataSync()));
    tf.dispose(y);
    expect(tf.memory().numTensors).toBe(before + 1); // only the second, undisposed result
  });
});

describe("freezeUntil", () => {
  /** a → b → c → d, dense layers on [4]. */
  function chain(name: string, prefix = name): tf.LayersModel {
    const input = tf.input({ shape: [4] });
    let x: tf.SymbolicTensor = input;
    for (const [i, layer] of ["a", "b", "c", "d"].entries()) {
      x = tf.layers.dense({ units: layer === "d" ? 2 : 4, name: `${prefix}_${layer}`, activation: layer === "d" ? "softmax" : "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 10 + i }) }).apply(x) as tf.SymbolicTensor;
    }
    return tf.model({ inputs: input, outputs: x, name });
  }

  test("freezes the layers before the named one, trains it and the rest", () => {
    const model = chain("flags");
    freezeUntil(model, "flags_c");
    expect(model.layers.slice(1).map((l) => [l.name, l.trainable])).toEqual([
      ["flags_a", false],
      ["flags_b", false],
      ["flags_c", true],
      ["flags_d", true],
    ]);
    expect(model.trainableWeights.map((w) => w.name)).toEqual(["flags_c/kernel", "flags_c/bias", "flags_d/kernel", "flags_d/bias"]);
    freezeUntil(model, "flags_a");
    expect(model.trainableWeights).toHaveLength(8);
  });

  test("reaches into a nested base, keeping it trainable when the named layer is inside", () => {
    const inner = base("fu_base");
    inner.model.trainable = false;
    const model = wrap(inner.model, "fu_outer");
    freezeUntil(model, "fu_base_bn");
    expect(inner.model.trainable).toBe(true);
    expect(inner.dense.trainable).toBe(false);
    expect(inner.bn.trainable).toBe(true);
    expect(model.trainableWeights.map((w) => w.name)).toEqual(["fu_base_bn/gamma", "fu_base_bn/beta", "fu_outer_head/kernel", "fu_outer_head/bias"]);
    freezeUntil(model, "fu_outer_head");
    expect(inner.model.trainable).toBe(false);
    expect(model.trainableWeights.map((w) => w.name)).toEqual(["fu_outer_head/kernel", "fu_outer_head/bias"]);
  });

  test.each([
    ["functional", "convlab's Adam"],
    ["sequential", "convlab's Adam"],
    ["functional", "tf.train.adam"],
  ] as const)(
    "%s, compiled with %s: the next fit trains exactly the trainable weights, the optimizer's state follows its variables",
    async (kind, adam) => {
      const model =
        kind === "functional"
          ? chain("adam_fn", adam === "tf.train.adam" ? "adam_tf" : "adam_fn")
          : tf.sequential({
              name: "adam_seq",
              layers: ["a", "b", "c", "d"].map((l, i) =>
                tf.layers.dense({ units: l === "d" ? 2 : 4, name: `adam_seq_${l}`, inputShape: i === 0 ? [4] : undefined, activation: l === "d" ? "softmax" : "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 20 + i }) }),
              ),
            });
      const prefix = kind === "sequential" ? "adam_seq" : adam === "tf.train.adam" ? "adam_tf" : "adam_fn";
      const layer = (l: string): tf.layers.Layer => model.getLayer(`${prefix}_${l}`);
      const optimizer = adam === "tf.train.adam" ? tf.train.adam(0.01) : Adam({ learningRate: 0.01 });
      compile(model, { optimizer, loss: "categorical_crossentropy", metrics: ["accuracy"] });
      const { x, y } = data();
      const run = () => fit(model, x, y, { epochs: 1, batchSize: 16, verbose: 0, shuffle: false });

      freezeUntil(model, `${prefix}_d`); // top only
      let snapshot = ["a", "b", "c", "d"].map((l) => weight(layer(l), "kernel"));
      await run();
      expect(["a", "b", "c", "d"].map((l, i) => changed(snapshot[i], weight(layer(l), "kernel")))).toEqual([false, false, false, true]);
      const topState = Object.fromEntries((await optimizer.getWeights()).map((w) => [w.name, Array.from(w.tensor.dataSync())]));

      freezeUntil(model, `${prefix}_b`); // unfreeze two more, same optimizer: tfjs alone fails here
      const realigned = await optimizer.getWeights();
      const kept = realigned.filter((w) => w.name.startsWith(`${prefix}_d/`));
      expect(kept.length).toBe(4); // m and v of d's kernel and bias, values intact
      for (const w of kept) expect(Array.from(w.tensor.dataSync())).toEqual(topState[w.name]);

      snapshot = ["a", "b", "c", "d"].map((l) => weight(layer(l), "kernel"));
      const history = await run();
      expect(Object.keys(history.history)).toEqual(["loss", "accuracy"]);
      expect(["a", "b", "c", "d"].map((l, i) => changed(snapshot[i], weight(layer(l), "kernel")))).toEqual([false, true, true, true]);
      // Every slot has the shape of the variable it belongs to.
      for (const w of await optimizer.getWeights()) {
        if (w.name === "iter") continue;
        const owner = w.name.slice(0, w.name.lastIndexOf("/"));
        expect([owner, w.tensor.shape]).toEqual([owner, tf.engine().registeredVariables[owner].shape]);
      }

      freezeUntil(model, `${prefix}_c`); // freeze b again: its state is freed, the rest keeps going
      snapshot = ["a", "b", "c", "d"].map((l) => weight(layer(l), "kernel"));
      await run();
      expect(["a", "b", "c", "d"].map((l, i) => changed(snapshot[i], weight(layer(l), "kernel")))).toEqual([false, false, true, true]);
      expect((await optimizer.getWeights()).some((w) => w.name.startsWith(`${prefix}_b/`))).toBe(false);
      tf.dispose([x, y]);
    },
  );

  test("the course's fine-tuning: a base added first to a Sequential, frozen, then unfrozen from a layer on", async () => {
    const layers = ["blk1_conv", "blk2_conv", "blk2_bn", "blk3_conv"].map((name, i) =>
      name.endsWith("bn")
        ? tf.layers.batchNormalization({ name })
        : tf.layers.dense({ units: 4, name, activation: "relu", inputShape: i === 0 ? [4] : undefined, kernelInitializer: tf.initializers.glorotUniform({ seed: 30 + i }) }),
    );
    const convBase = tf.sequential({ name: "ft_base", layers });
    const model = tf.sequential({ name: "ft_model" });
    model.add(convBase);
    model.add(tf.layers.dense({ units: 2, activation: "softmax", name: "ft_head" }));
    convBase.trainable = false;
    compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
    const { x, y } = data();
    const kernels = (): number[][] => ["blk1_conv", "blk2_conv", "blk3_conv", "ft_head"].map((n) => weight(n === "ft_head" ? model.getLayer(n) : convBase.getLayer(n), "kernel"));
    const movedSince = (before: number[][]): boolean[] => kernels().map((k, i) => changed(before[i], k));

    let before = kernels();
    await fit(model, x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(movedSince(before)).toEqual([false, false, false, true]);

    freezeUntil(model, "blk2_conv");
    expect(convBase.getLayer("blk1_conv").trainable).toBe(false);
    before = kernels();
    const stats0 = bnStats(convBase.getLayer("blk2_bn"));
    const history = await fit(model, x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(movedSince(before)).toEqual([false, true, true, true]);
    expect(changed(stats0[0], bnStats(convBase.getLayer("blk2_bn"))[0])).toBe(true); // an unfrozen BN trains
    expect(Object.keys(history.history)).toEqual(["loss", "accuracy"]);
    tf.dispose([x, y]);
  });

  test("a model compiled with an optimizer by name keeps owning it", () => {
    const model = chain("owned");
    compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy" });
    freezeUntil(model, "owned_c");
    expect((model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned).toBe(true);
  });

  test("an unknown layer name is one line with the nearest names", () => {
    const input = tf.input({ shape: [4] });
    let x: tf.SymbolicTensor = input;
    for (const name of ["block4_conv1", "block5_conv1", "block5_conv2", "flatten_top"]) x = tf.layers.dense({ units: 2, name }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x, name: "vggish" });
    const message =
      'freezeUntil: invalid layerName. Expected the name of one of the 4 layers of model "vggish" ("block4_conv1" … "flatten_top"); summary(model) lists them. Received: layerName="block5_conv". Did you mean `block5_conv1`, `block5_conv2`, `block4_conv1`?';
    expect(() => freezeUntil(model, "block5_conv")).toThrow(message);
    expect(() => freezeUntil(model, "zzz")).toThrow(
      'freezeUntil: invalid layerName. Expected the name of one of the 4 layers of model "vggish" ("block4_conv1" … "flatten_top"); summary(model) lists them. Received: layerName="zzz".',
    );
    expect(() => freezeUntil({} as tf.LayersModel, "a")).toThrow("freezeUntil: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model={}.");
    // Nothing changed on failure.
    expect(model.layers.every((l) => l.trainable || l.getClassName() === "InputLayer")).toBe(true);
  });
});
