/**
 * EfficientNetB0 … B7: Keras's parameter and weight counts with and without the top, layer
 * names, squeeze-excite and drop-connect as Keras, preprocessing layers (with the extra
 * Rescaling for ImageNet weights), output shapes, options, a forward pass (the Keras initialiser
 * is tested in initializers.test.ts).
 *
 * Expected figures:
 * - With the top: the parameter table of Keras's documentation (keras.io/api/applications):
 *   B0 5,330,571; B1 7,856,239; B2 9,177,569; B3 12,320,535; B4 19,466,823; B5 30,562,527;
 *   B6 43,265,143; B7 66,658,687 (the Normalization's mean, variance and count included).
 * - Without the top: that minus the classifier Dense(1000) on the last conv's channels
 *   C = round_filters(1280) by Keras's rule for width 1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0:
 *   1280, 1280, 1408, 1536, 1792, 2048, 2304, 2560 (C·1000 + 1000 fewer).
 * - `len(model.weights)` / `len(model.trainable_weights)` of tf.keras with the top, as recorded
 *   in public notebooks: B0 314 / 213, B1 442 / 301, B7 1040 / 711.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveImagenetWeights } from "../weights";
import {
  EfficientNetB0,
  EfficientNetB1,
  EfficientNetB2,
  EfficientNetB3,
  EfficientNetB4,
  EfficientNetB5,
  EfficientNetB6,
  EfficientNetB7,
} from "./efficientnet";

// Weight files are another unit's job: here only which file a builder asks for.
jest.mock("../weights", () => ({
  loadWeights: jest.fn(async () => undefined),
  resolveImagenetWeights: jest.fn(async (file: { file: string }) => `/nowhere/${file.file}`),
}));

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

const bare = (w: tf.LayerVariable): string => w.name.split("/").pop()!.replace(/_\d+$/, "");

const CASES = [
  { name: "EfficientNetB0", build: EfficientNetB0, top: 5_330_571, channels: 1280, weights: [314, 213] },
  { name: "EfficientNetB1", build: EfficientNetB1, top: 7_856_239, channels: 1280, weights: [442, 301] },
  { name: "EfficientNetB2", build: EfficientNetB2, top: 9_177_569, channels: 1408 },
  { name: "EfficientNetB3", build: EfficientNetB3, top: 12_320_535, channels: 1536 },
  { name: "EfficientNetB4", build: EfficientNetB4, top: 19_466_823, channels: 1792 },
  { name: "EfficientNetB5", build: EfficientNetB5, top: 30_562_527, channels: 2048 },
  { name: "EfficientNetB6", build: EfficientNetB6, top: 43_265_143, channels: 2304 },
  { name: "EfficientNetB7", build: EfficientNetB7, top: 66_658_687, channels: 2560, weights: [1040, 711] },
] as const;

describe.each(CASES)("$name", (c) => {
  test("Keras's parameter counts with and without the top", async () => {
    const withTop = await c.build({ weights: null });
    try {
      expect(withTop.name).toBe(c.name.toLowerCase());
      expect(withTop.countParams()).toBe(c.top);
      if ("weights" in c) {
        expect(withTop.weights.length).toBe(c.weights[0]);
        expect(withTop.trainableWeights.length).toBe(c.weights[1]);
      }
      expect(withTop.outputs[0].shape).toEqual([null, 1000]);
    } finally {
      withTop.dispose();
    }
    const noTop = await c.build({ includeTop: false, weights: null, inputShape: [64, 64, 3] });
    try {
      expect(noTop.countParams()).toBe(c.top - (c.channels * 1000 + 1000));
      expect(noTop.outputs[0].shape).toEqual([null, 2, 2, c.channels]);
    } finally {
      noTop.dispose();
    }
  });
});

describe("EfficientNetB0 structure", () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    model = await EfficientNetB0({ weights: null });
  });
  afterAll(() => model.dispose());

  test("names and order as Keras", () => {
    const names = model.layers.map((l) => l.name);
    expect(names.slice(1, 7)).toEqual(["rescaling", "normalization", "stem_conv_pad", "stem_conv", "stem_bn", "stem_activation"]);
    // B0's stage 1 has one block (no expansion, 32 → 16: no skip).
    expect(names.slice(7, 16)).toEqual([
      "block1a_dwconv",
      "block1a_bn",
      "block1a_activation",
      "block1a_se_squeeze",
      "block1a_se_reshape",
      "block1a_se_reduce",
      "block1a_se_expand",
      "block1a_se_excite",
      "block1a_project_conv",
    ]);
    for (const n of ["block2a_expand_conv", "block2a_dwconv_pad", "block2b_drop", "block2b_add", "block6d_add", "block7a_project_bn", "top_conv", "top_bn"]) {
      expect(names).toContain(n);
    }
    for (const n of ["block1a_add", "block1b_dwconv", "block2a_add", "block7b_dwconv", "rescaling_1"]) {
      expect(names).not.toContain(n);
    }
    expect(names.slice(-5)).toEqual(["top_bn", "top_activation", "avg_pool", "top_dropout", "predictions"]);
  });

  test("weights and their order per layer", () => {
    const norm = model.getLayer("normalization");
    expect(norm.weights.map(bare)).toEqual(["mean", "variance", "count"]);
    expect(norm.weights.map((w) => w.shape)).toEqual([[3], [3], []]);
    expect(model.getLayer("stem_conv").weights.map((w) => w.shape)).toEqual([[3, 3, 3, 32]]);
    expect(model.getLayer("block1a_dwconv").weights.map(bare)).toEqual(["depthwise_kernel"]);
    expect(model.getLayer("block1a_dwconv").weights.map((w) => w.shape)).toEqual([[3, 3, 32, 1]]);
    // Squeeze to max(1, int(32 · 0.25)) = 8 channels, with biases.
    expect(model.getLayer("block1a_se_reduce").weights.map((w) => w.shape)).toEqual([[1, 1, 32, 8], [8]]);
    expect(model.getLayer("block1a_se_expand").weights.map((w) => w.shape)).toEqual([[1, 1, 8, 32], [32]]);
    // block2b: filters_in 24, expanded 144, squeeze to int(24 · 0.25) = 6.
    expect(model.getLayer("block2b_se_reduce").weights.map((w) => w.shape)).toEqual([[1, 1, 144, 6], [6]]);
    expect(model.getLayer("top_bn").weights.map(bare)).toEqual(["gamma", "beta", "moving_mean", "moving_variance"]);
    expect(model.getLayer("predictions").weights.map((w) => w.shape)).toEqual([[1280, 1000], [1000]]);
  });

  test("activations, drop-connect and dropout as Keras", () => {
    expect(model.getLayer("stem_activation").getConfig().activation).toBe("swish");
    expect(model.getLayer("block1a_se_reduce").getConfig().activation).toBe("swish");
    expect(model.getLayer("block1a_se_expand").getConfig().activation).toBe("sigmoid");
    expect(model.getLayer("predictions").getConfig().activation).toBe("softmax");
    // Block b of 16 drops with 0.2 · b / 16: block2b is b = 2, block7a (the last) b = 15 has no skip.
    const drop = model.getLayer("block2b_drop").getConfig();
    expect(drop.rate).toBeCloseTo(0.025, 12);
    expect(drop.noiseShape).toEqual([null, 1, 1, 1]);
    expect(model.getLayer("block6d_drop").getConfig().rate).toBeCloseTo((0.2 * 14) / 16, 12);
    expect(model.getLayer("top_dropout").getConfig().rate).toBe(0.2);
    expect(model.getLayer("rescaling").getConfig().scale).toBeCloseTo(1 / 255, 12);
  });
});

describe("EfficientNet options and shapes", () => {
  test("without the top: pooling layers named as Keras", async () => {
    for (const [pooling, layer] of [["avg", "avg_pool"], ["max", "max_pool"]] as const) {
      const model = await EfficientNetB0({ includeTop: false, weights: null, pooling });
      try {
        expect(model.outputs[0].shape).toEqual([null, 1280]);
        expect(model.layers[model.layers.length - 1].name).toBe(layer);
        expect(model.countParams()).toBe(4_049_571);
      } finally {
        model.dispose();
      }
    }
  });

  test("any size without the top: ⌈h/32⌉ × ⌈w/32⌉ (Keras's correct_pad)", async () => {
    const model = await EfficientNetB0({ includeTop: false, weights: null, inputShape: [100, 120, 3] });
    try {
      expect(model.outputs[0].shape).toEqual([null, 4, 4, 1280]);
      // Even 100x120: pad bottom/right only; after the stem 50x60.
      expect(model.getLayer("stem_conv_pad").getConfig().padding).toEqual([[0, 1], [0, 1]]);
      expect(model.getLayer("stem_activation").outputShape).toEqual([null, 50, 60, 32]);
    } finally {
      model.dispose();
    }
    const free = await EfficientNetB0({ includeTop: false, weights: null });
    try {
      expect(free.outputs[0].shape).toEqual([null, null, null, 1280]);
      expect(free.getLayer("stem_conv_pad").getConfig().padding).toEqual([[0, 1], [0, 1]]);
    } finally {
      free.dispose();
    }
  });

  test("a forward pass without leaks", async () => {
    const model = await EfficientNetB0({ includeTop: false, weights: null, inputShape: [64, 64, 3] });
    try {
      // Keras's fresh Normalization is the identity (mean 0, variance 1); convlab's asks for
      // adapt() until its count is positive, so give it Keras's identity statistics explicitly.
      model.getLayer("normalization").setWeights([tf.zeros([3]), tf.ones([3]), tf.scalar(1, "int32")]);
      const x = tf.randomUniform([1, 64, 64, 3], 0, 255, "float32", 3);
      tf.dispose(model.predict(x) as tf.Tensor);
      const before = tf.memory().numTensors;
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 2, 2, 1280]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  test("EfficientNet's own options", async () => {
    const model = await EfficientNetB1({ includeTop: false, weights: null, dropConnectRate: 0, activation: "relu", inputShape: [32, 32, 3] });
    try {
      const names = model.layers.map((l) => l.name);
      expect(names.some((n) => n.endsWith("_drop"))).toBe(false); // rate 0: no Dropout, as Keras
      expect(names).toContain("block1b_add");
      expect(model.getLayer("block1b_activation").getConfig().activation).toBe("relu");
      expect(model.countParams()).toBe(6_575_239);
    } finally {
      model.dispose();
    }
    const divided = await EfficientNetB0({ includeTop: false, weights: null, depthDivisor: 16, inputShape: [32, 32, 3] });
    try {
      // round_filters(16) with divisor 16 is 16; round_filters(24) = max(16, int(24 + 8) // 16 · 16) = 32.
      expect(divided.getLayer("block1a_project_conv").weights[0].shape).toEqual([1, 1, 32, 16]);
      expect(divided.getLayer("block2a_project_conv").weights[0].shape).toEqual([1, 1, 96, 32]);
    } finally {
      divided.dispose();
    }
  });

  test("invalid options", async () => {
    await expect(EfficientNetB0({ weights: null, dropConnectRate: 1 })).rejects.toThrow(
      "EfficientNetB0: invalid dropConnectRate. Expected a number in [0, 1). Received: dropConnectRate=1.",
    );
    await expect(EfficientNetB0({ weights: null, activation: "hard_swish" as never })).rejects.toThrow('EfficientNetB0: invalid activation. Expected one of "elu"');
    await expect(EfficientNetB0({ weights: null, dropConectRate: 0.1 } as never)).rejects.toThrow("Did you mean `dropConnectRate`?");
    await expect(EfficientNetB0({ weights: null, inputShape: [31, 31, 3], includeTop: false })).rejects.toThrow("EfficientNetB0: input size must be at least 32x32");
  });
});

describe("EfficientNet with ImageNet weights", () => {
  test("the extra Rescaling by 1/sqrt(stddev) and Keras's files", async () => {
    const resolve = resolveImagenetWeights as jest.MockedFunction<typeof resolveImagenetWeights>;
    resolve.mockClear();
    const model = await EfficientNetB0();
    try {
      const names = model.layers.map((l) => l.name);
      expect(names.slice(1, 5)).toEqual(["rescaling", "normalization", "rescaling_1", "stem_conv_pad"]);
      const scale = model.getLayer("rescaling_1").getConfig().scale as number[];
      expect(scale.map((s) => 1 / (s * s))).toEqual([0.229, 0.224, 0.225].map((v) => expect.closeTo(v, 12)));
      expect(model.countParams()).toBe(5_330_571);
      expect(resolve).toHaveBeenCalledWith({
        file: "efficientnetb0.h5",
        url: "https://storage.googleapis.com/keras-applications/efficientnetb0.h5",
        hash: "902e53a9f72be733fc0bcb005b3ebbac",
      });
    } finally {
      model.dispose();
    }
    const base = await EfficientNetB1({ includeTop: false, inputShape: [32, 32, 3] });
    try {
      expect(resolve).toHaveBeenLastCalledWith({
        file: "efficientnetb1_notop.h5",
        url: "https://storage.googleapis.com/keras-applications/efficientnetb1_notop.h5",
        hash: "74c4e6b3e1f6a1eea24c589628592432",
      });
    } finally {
      base.dispose();
    }
  });
});

describe("EfficientNet behaviour", () => {
  test("drop-connect keeps or drops each sample whole in training, nothing at inference", async () => {
    const model = await EfficientNetB0({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
    try {
      const config = model.getLayer("block2b_drop").getConfig();
      // The same layer with a rate that makes drops certain to show among 64 samples.
      const drop = tf.layers.dropout({ rate: 0.5, noiseShape: config.noiseShape as number[] });
      const x = tf.ones([64, 2, 2, 3]);
      const y = drop.apply(x, { training: true }) as tf.Tensor;
      const rows = (y.arraySync() as number[][][][]).map((sample) => sample.flat(2));
      expect(rows.every((r) => r.every((v) => v === r[0]) && (r[0] === 0 || r[0] === 2))).toBe(true);
      expect(rows.some((r) => r[0] === 0) && rows.some((r) => r[0] === 2)).toBe(true);
      const atInference = model.getLayer("block2b_drop").apply(x) as tf.Tensor;
      expect(Array.from(atInference.dataSync())).toEqual(Array.from(x.dataSync()));
      tf.dispose([x, y, atInference]);
    } finally {
      model.dispose();
    }
  });

  test("the model with ImageNet's preprocessing survives a JSON round trip", async () => {
    const model = await EfficientNetB0({ includeTop: false, inputShape: [32, 32, 3] });
    try {
      const json = model.toJSON(null, false) as unknown as tf.serialization.ConfigDict;
      const copy = await tf.models.modelFromJSON({ modelTopology: json });
      try {
        expect(copy.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
        expect(copy.countParams()).toBe(4_049_571);
        expect(copy.getLayer("rescaling_1").getConfig().scale).toEqual(model.getLayer("rescaling_1").getConfig().scale);
        expect(copy.getLayer("normalization").getClassName()).toBe("Normalization");
        const init = (copy.getLayer("stem_conv").getConfig().kernelInitializer as { className: string; config: Record<string, unknown> });
        expect(init.className).toBe("VarianceScaling");
        expect(init.config).toMatchObject({ scale: 2, distribution: "normal" });
      } finally {
        copy.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});
