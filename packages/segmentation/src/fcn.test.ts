import * as tf from "@tensorflow/tfjs";
import { BilinearUpsampling } from "./bilinear";
import { fcn8s } from "./fcn";
import { outputStride } from "./input_size";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

const kernelOf = (model: tf.LayersModel, name: string) => model.getLayer(name).getWeights()[0];

/** A Keras-named VGG-style base without batch normalisation (what VGG16({ includeTop: false }) looks like, smaller). */
function kerasNamedBase(inputShape: [number | null, number | null, number]): tf.LayersModel {
  const input = tf.input({ shape: inputShape as number[] });
  let x: tf.SymbolicTensor = input;
  [2, 2, 3, 3, 3].forEach((convs, b) => {
    for (let c = 1; c <= convs; c++) x = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: "same", activation: "relu", name: `block${b + 1}_conv${c}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: x, name: "vgg16" });
}

describe("fcn8s", () => {
  test("one model with null height and width: [N, H, W, numClasses] probabilities at two sizes", () => {
    const model = fcn8s({ inputShape: [null, null, 3], numClasses: 4, filters: 2 });
    expect(model.name).toBe("fcn8s");
    expect(model.outputs[0].shape).toEqual([null, null, null, 4]);
    expect(outputStride(model)).toBe(32);
    for (const shape of [
      [1, 64, 64, 3],
      [2, 32, 96, 3],
    ]) {
      const x = tf.randomUniform(shape, 0, 1, "float32", 1);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([shape[0], shape[1], shape[2], 4]);
      const sums = y.sum(-1);
      expect(tf.sub(sums, 1).abs().max().dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([x, y, sums]);
    }
    model.dispose();
  });

  test("the paper's layers, by name, with Keras's VGG names for the base", () => {
    const model = fcn8s({ inputShape: [64, 64, 3], numClasses: 3, filters: 1, name: "tiny" });
    const names = model.layers.map((l) => l.name);
    const expected = ["image", "block1_conv1", "block1_bn1", "block1_relu1", "block3_conv3", "block3_pool", "block4_pool", "block5_conv3", "block5_pool"];
    expected.push("score_fr", "upscore2", "score_pool4", "fuse_pool4", "upscore_pool4", "score_pool3", "fuse_pool3", "upscore8", "softmax");
    for (const n of expected) expect(names).toContain(n);
    expect(names.length).toBe(1 + 13 * 3 + 5 + 9); // input, conv/bn/relu ×13, 5 pools, the head
    expect(names[names.length - 1]).toBe("softmax");
    expect(model.getLayer("upscore2").outputShape).toEqual([null, 4, 4, 3]);
    expect(model.getLayer("upscore_pool4").outputShape).toEqual([null, 8, 8, 3]);
    expect(model.getLayer("upscore8").outputShape).toEqual([null, 64, 64, 3]);
    expect(model.name).toBe("tiny");
    model.dispose();
  });

  test("parameter count, by hand, of a tiny configuration", () => {
    // Base with filters 1: blocks of 1, 2, 4, 8, 8 filters, 2, 2, 3, 3, 3 convolutions (3x3, no bias), BN 4 weights a channel:
    //   block1 27 + 9 + 2·4 = 44; block2 18 + 36 + 2·8 = 70; block3 72 + 144 + 144 + 3·16 = 408;
    //   block4 288 + 576 + 576 + 3·32 = 1536; block5 3·576 + 3·32 = 1824: 3882.
    // Head with 2 classes: score_fr 8·2 + 2 = 18, upscore2 4·4·2·2 = 64, score_pool4 18, upscore_pool4 64,
    //   score_pool3 4·2 + 2 = 10, upscore8 16·16·2·2 = 1024: 1198.
    const model = fcn8s({ inputShape: [32, 32, 3], numClasses: 2, filters: 1 });
    expect(model.countParams()).toBe(3882 + 1198);
    // Not trained: BN's moving mean and variance (2 · 66 channels) and the fixed bilinear upscore8.
    const trainable = model.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((p, d) => p * d, 1), 0);
    expect(trainable).toBe(3882 + 1198 - 132 - 1024);
    model.dispose();
  });

  test("bilinear: the three upsamplings start bilinear, the last one fixed; score_pool3/4 start at zero", () => {
    const model = fcn8s({ inputShape: [32, 32, 3], numClasses: 3, filters: 1 });
    for (const [name, k] of [
      ["upscore2", 4],
      ["upscore_pool4", 4],
      ["upscore8", 16],
    ] as const) {
      const expected = new BilinearUpsampling().apply([k, k, 3, 3]);
      expect(tf.sub(kernelOf(model, name), expected).abs().max().dataSync()[0]).toBe(0);
      expected.dispose();
    }
    expect(model.getLayer("upscore8").trainable).toBe(false);
    expect(model.getLayer("upscore2").trainable).toBe(true);
    for (const name of ["score_pool4", "score_pool3"]) expect(kernelOf(model, name).abs().max().dataSync()[0]).toBe(0);
    model.dispose();

    const plain = fcn8s({ inputShape: [32, 32, 3], numClasses: 3, filters: 1, bilinear: false });
    const bilinear = new BilinearUpsampling().apply([16, 16, 3, 3]);
    expect(tf.sub(kernelOf(plain, "upscore8"), bilinear).abs().max().dataSync()[0]).toBeGreaterThan(0.01);
    expect(plain.getLayer("upscore8").trainable).toBe(true);
    bilinear.dispose();
    plain.dispose();
  });

  test("reads a Keras-named base, sharing its layers", () => {
    const base = kerasNamedBase([64, 64, 3]);
    const model = fcn8s({ base, numClasses: 3 });
    expect(model.getLayer("block1_conv1")).toBe(base.getLayer("block1_conv1"));
    expect(model.outputs[0].shape).toEqual([null, 64, 64, 3]);
    expect(outputStride(model)).toBe(32);
    const again = fcn8s({ base, numClasses: 3, inputShape: [64, 64, 3], name: "again" });
    expect(again.outputs[0].shape).toEqual([null, 64, 64, 3]);
    // Other stride-8/16/32 layers by name: the convolutions before the poolings have strides 4, 8, 16.
    const shifted = fcn8s({ base, numClasses: 2, skipLayers: ["block4_conv3", "block5_conv3", "block5_pool"], name: "shifted" });
    expect(shifted.outputs[0].shape).toEqual([null, 64, 64, 2]);
    expect(() => fcn8s({ base, numClasses: 2, skipLayers: ["block3_pool", "block4_pool", "block5_pol"] })).toThrow(
      'fcn8s: invalid skipLayers. Expected names of layers of the base "vgg16". Received: skipLayers entry "block5_pol", not a layer of it. Did you mean `block5_pool`?',
    );
    expect(() => fcn8s({ base, numClasses: 2, skipLayers: ["block2_pool", "block4_pool", "block5_pool"] })).toThrow(
      'fcn8s: invalid skipLayers. Expected layers whose outputs are the base\'s stride-8, stride-16 and stride-32 maps [batch, h/8, w/8, c], [batch, h/16, w/16, c], [batch, h/32, w/32, c]. Received: layer "block2_pool" with output shape [null,16,16,2] for input shape [null,64,64,3].',
    );
    expect(() => fcn8s({ base, numClasses: 2, filters: 8 })).toThrow('fcn8s: invalid filters. Expected no filters with a base (they size the built-in base). Received: filters=8 with base "vgg16".');
    expect(() => fcn8s({ base, numClasses: 2, inputShape: [32, 32, 3] })).toThrow(
      "fcn8s: invalid inputShape. Expected the base's input shape [64,64,3] (or no inputShape with a base). Received: inputShape=[32,32,3].",
    );
    const odd = kerasNamedBase([48, 48, 3]);
    expect(() => fcn8s({ base: odd, numClasses: 2 })).toThrow("fcn8s: invalid inputShape. Expected height and width divisible by 32 (32, 64, 96, …). Received: inputShape=[48,48,3].");
    expect(() => fcn8s({ base: {} as never, numClasses: 2 })).toThrow("fcn8s: invalid base. Expected a tf.LayersModel such as VGG16({ includeTop: false }). Received: base={}.");
    // Shared layers are disposed once, with the first model disposed: the others dispose only their heads.
    for (const m of [again, shifted]) m.layers.filter((l) => !base.layers.includes(l)).forEach((l) => l.dispose());
    [model, odd].forEach((m) => m.dispose());
  });

  test("error lines", () => {
    expect(() => fcn8s({ inputShape: [100, 100, 3], numClasses: 4 })).toThrow(
      "fcn8s: invalid inputShape. Expected height and width divisible by 32 (…, 64, 96, 128, …). Received: inputShape=[100,100,3].",
    );
    expect(() => fcn8s({ inputShape: [64, 64], numClasses: 4 } as never)).toThrow(
      "fcn8s: invalid inputShape. Expected [height, width, channels]: height and width null (any size) or multiples of 32, channels a positive integer, e.g. [null, null, 3] or [64, 64, 3]. Received: inputShape=[64,64].",
    );
    expect(() => fcn8s({ numClasses: 4 })).toThrow("fcn8s: missing inputShape. Expected [height, width, channels], e.g. [null, null, 3]. Received: options without inputShape or base.");
    expect(() => fcn8s({ inputShape: [64, 64, 3] } as never)).toThrow("fcn8s: invalid numClasses. Expected an integer >= 2. Received: numClasses=undefined.");
    expect(() => fcn8s({ inputShape: [64, 64, 3], numClasses: 1 })).toThrow("fcn8s: invalid numClasses. Expected an integer >= 2. Received: numClasses=1.");
    expect(() => fcn8s({ inputShape: [64, 64, 3], numClasses: 4, filter: 8 } as never)).toThrow(
      "fcn8s: unknown option `filter`. Expected one of `inputShape`, `numClasses`, `base`, `skipLayers`, `filters`, `bilinear`, `name`. Did you mean `filters`?",
    );
    expect(() => fcn8s({ inputShape: [64, 64, 3], numClasses: 4, filters: 0 })).toThrow("fcn8s: invalid filters. Expected an integer >= 1. Received: filters=0.");
    expect(() => fcn8s({ inputShape: [64, 64, 3], numClasses: 4, bilinear: "yes" as never })).toThrow('fcn8s: invalid bilinear. Expected true or false. Received: bilinear="yes".');
    expect(() => fcn8s({ inputShape: [64, 64, 3], numClasses: 4, skipLayers: ["block3_pool"] as never })).toThrow(
      'fcn8s: invalid skipLayers. Expected the names of the base\'s stride-8, stride-16 and stride-32 layers, e.g. ["block3_pool","block4_pool","block5_pool"]. Received: skipLayers=["block3_pool"].',
    );
    expect(() => fcn8s({ inputShape: [64, 64, 3], numClasses: 4, name: "" })).toThrow('fcn8s: invalid name. Expected a non-empty string. Received: name="".');
    expect(() => fcn8s(undefined as never)).toThrow("fcn8s: invalid options. Expected an object such as { inputShape: [null, null, 3], numClasses: 4 }. Received: options=undefined.");
  });

  test("no tensor leak: build, predict, dispose", () => {
    const build = () => {
      const model = fcn8s({ inputShape: [null, null, 3], numClasses: 3, filters: 1 });
      const x = tf.ones([1, 32, 64, 3]);
      const y = model.predict(x) as tf.Tensor;
      tf.dispose([x, y]);
      model.dispose();
    };
    build();
    const before = tf.memory().numTensors;
    build();
    expect(tf.memory().numTensors).toBe(before);
  });
});
