/**
 * MobileNetV3Small / MobileNetV3Large: Keras's parameter counts with and without the top and
 * for the minimalistic and alpha 0.75 variants, Keras's names and weight order, hard-swish as
 * Keras computes it, the preprocessing and dropout options, the ImageNet files asked for, and
 * the variants' own argument rules.
 *
 * Expected figures are Keras's, never our model's output: with the top at alpha 1, tf.keras
 * 2.x `model.summary()` / `len(model.weights)` (Small 2,554,968 total, 2,542,856 trainable,
 * 12,112 non-trainable, 210 arrays; Large 5,507,432, 5,483,032, 24,400, 266); the others are
 * computed by hand from `keras/applications/mobilenet_v3.py` (the top adds `Conv_2` and
 * `Logits`, 4 arrays: Small 576·1024+1024 + 1024·1000+1000 = 1,615,848, Large
 * 960·1280+1280 + 1280·1000+1000 = 2,511,080; minimalistic drops the squeeze-and-excite
 * convolutions and uses 3x3 kernels).
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightsFile } from "../weights";

const requested: WeightsFile[] = [];
jest.mock("../weights", () => ({
  resolveImagenetWeights: jest.fn(async (file: WeightsFile) => {
    requested.push(file);
    throw new Error("offline test: not loading");
  }),
  loadWeights: jest.fn(async () => {
    throw new Error("offline test: not loading");
  }),
}));

import { MobileNetV3Large, MobileNetV3Small } from "./mobilenet_v3";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

let model: tf.LayersModel | undefined;
afterEach(() => {
  model?.dispose();
  model = undefined;
  jest.restoreAllMocks();
});

function counts(m: tf.LayersModel): { total: number; trainable: number; nonTrainable: number; weights: number } {
  const size = (w: tf.LayerVariable): number => (w.shape as number[]).reduce((a, b) => a * b, 1);
  const total = m.countParams();
  const trainable = m.trainableWeights.reduce((s, w) => s + size(w), 0);
  return { total, trainable, nonTrainable: total - trainable, weights: m.weights.length };
}

const names = (m: tf.LayersModel): string[] => m.layers.map((l) => l.name);

describe("MobileNetV3Small", () => {
  test("with the top: Keras's 2,554,968 parameters, MobilenetV3small, Keras's layer names", async () => {
    model = await MobileNetV3Small({ weights: null });
    expect(counts(model)).toEqual({ total: 2_554_968, trainable: 2_542_856, nonTrainable: 12_112, weights: 210 });
    expect(model.name).toBe("MobilenetV3small");
    expect(model.layers[1].getClassName()).toBe("Rescaling"); // include_preprocessing
    expect(model.layers[1].getConfig()).toMatchObject({ scale: 1 / 127.5, offset: -1 });
    expect(model.layers.slice(2, 4).map((l) => l.name)).toEqual(["Conv", "Conv/BatchNorm"]);
    for (const name of [
      "expanded_conv/depthwise/pad", "expanded_conv/depthwise", "expanded_conv/depthwise/BatchNorm",
      "expanded_conv/squeeze_excite/AvgPool", "expanded_conv/squeeze_excite/Conv", "expanded_conv/squeeze_excite/Relu",
      "expanded_conv/squeeze_excite/Conv_1", "expanded_conv/squeeze_excite/Mul", "expanded_conv/project", "expanded_conv/project/BatchNorm",
      "expanded_conv_1/expand", "expanded_conv_1/expand/BatchNorm", "expanded_conv_2/Add", "expanded_conv_10/Add",
      "Conv_1", "Conv_1/BatchNorm",
    ]) {
      expect(names(model)).toContain(name);
    }
    expect(model.layers.slice(-4).map((l) => l.getClassName())).toEqual(["Dropout", "Conv2D", "Flatten", "Activation"]);
    expect(model.layers.slice(-3, -2).map((l) => l.name).concat(model.layers[model.layers.length - 1].name)).toEqual(["Logits", "Predictions"]);
    expect(names(model)).toContain("Conv_2");
    expect(model.getLayer("Conv_1").outputShape).toEqual([null, 7, 7, 576]);
    expect(model.outputs[0].shape).toEqual([null, 1000]);
    // Keras's weight names and order (slashes included), and its kernel sizes: 5x5 from block 3.
    expect(model.getLayer("expanded_conv/squeeze_excite/Conv").weights.map((w) => [w.originalName, w.shape])).toEqual([
      ["expanded_conv/squeeze_excite/Conv/kernel", [1, 1, 16, 8]],
      ["expanded_conv/squeeze_excite/Conv/bias", [8]],
    ]);
    expect(model.getLayer("expanded_conv_3/depthwise").weights.map((w) => [w.originalName, w.shape])).toEqual([["expanded_conv_3/depthwise/depthwise_kernel", [5, 5, 96, 1]]]);
    expect(model.getLayer("Conv/BatchNorm").weights.map((w) => w.originalName)).toEqual([
      "Conv/BatchNorm/gamma", "Conv/BatchNorm/beta", "Conv/BatchNorm/moving_mean", "Conv/BatchNorm/moving_variance",
    ]);
    expect(model.getLayer("Conv/BatchNorm").getConfig()).toMatchObject({ epsilon: 1e-3, momentum: 0.999 });
    // Keras's unweighted helpers: x + 3 and · 1/6 under their TFOpLambda names, ReLU6, Multiply.
    expect(names(model).filter((n) => /^tf\.__operators__\.add(_\d+)?$/.test(n)).length).toBeGreaterThan(0);
    expect(names(model).filter((n) => /^tf\.math\.multiply(_\d+)?$/.test(n)).length).toBeGreaterThan(0);
  });

  test("hard-swish is Keras's x · ReLU6(x + 3) / 6, built from layers", async () => {
    model = await MobileNetV3Small({ includeTop: false, weights: null, inputShape: [32, 32, 3] });
    // The stem's activation: Conv/BatchNorm → (+3) → ReLU6 → (·1/6) → Multiply with its input.
    const multiply = model.layers.find((l) => l.getClassName() === "Multiply" && l.inboundNodes[0].inboundLayers[0].name === "Conv/BatchNorm");
    expect(multiply).toBeDefined();
    const times = multiply!.inboundNodes[0].inboundLayers[1];
    const relu6 = times.inboundNodes[0].inboundLayers[0];
    const plus3 = relu6.inboundNodes[0].inboundLayers[0];
    expect([plus3.getClassName(), relu6.getClassName(), times.getClassName()]).toEqual(["Rescaling", "ReLU", "Rescaling"]);
    expect(plus3.name).toMatch(/^tf\.__operators__\.add(_\d+)?$/);
    expect(times.name).toMatch(/^tf\.math\.multiply(_\d+)?$/);
    const x = tf.tensor1d([-4, -3, -1, 0, 1, 3, 4]);
    const run = (layer: tf.layers.Layer, input: tf.Tensor | tf.Tensor[]): tf.Tensor => layer.apply(input) as tf.Tensor;
    const y = run(multiply!, [x, run(times, run(relu6, run(plus3, x)))]);
    const expected = [0, 0, -1 / 3, 0, 2 / 3, 3, 4];
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    tf.dispose([x, y]);
  });

  test("without the top: 939,120 parameters; [null, null, null, 576]; pooling avg_pool / max_pool", async () => {
    model = await MobileNetV3Small({ includeTop: false, weights: null });
    expect(counts(model)).toEqual({ total: 939_120, trainable: 927_008, nonTrainable: 12_112, weights: 206 });
    expect(model.outputs[0].shape).toEqual([null, null, null, 576]);
    // Unknown sizes run (correct_pad assumes even ones, as Keras).
    const x = tf.ones([1, 64, 64, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 2, 576]);
    tf.dispose([x, y]);
    model.dispose();
    model = await MobileNetV3Small({ includeTop: false, weights: null, pooling: "avg" });
    expect(model.outputs[0].shape).toEqual([null, 576]);
    expect(model.layers[model.layers.length - 1].name).toBe("avg_pool");
    model.dispose();
    model = await MobileNetV3Small({ includeTop: false, weights: null, pooling: "max" });
    expect(model.layers[model.layers.length - 1].name).toBe("max_pool");
  });

  test("minimalistic (2,056,848 / 441,000) and alpha 0.75 (2,051,552 / 583,160)", async () => {
    model = await MobileNetV3Small({ weights: null, minimalistic: true });
    expect(counts(model)).toEqual({ total: 2_056_848, trainable: 2_044_736, nonTrainable: 12_112, weights: 174 });
    expect(names(model).some((n) => n.includes("squeeze_excite"))).toBe(false);
    expect(model.layers.some((l) => l.getClassName() === "Multiply")).toBe(false);
    expect(model.getLayer("expanded_conv_3/depthwise").weights[0].shape).toEqual([3, 3, 96, 1]);
    model.dispose();
    model = await MobileNetV3Small({ includeTop: false, weights: null, minimalistic: true });
    expect(counts(model)).toEqual({ total: 441_000, trainable: 428_888, nonTrainable: 12_112, weights: 170 });
    model.dispose();
    model = await MobileNetV3Small({ weights: null, alpha: 0.75 });
    expect(counts(model)).toEqual({ total: 2_051_552, trainable: 2_041_872, nonTrainable: 9_680, weights: 210 });
    model.dispose();
    model = await MobileNetV3Small({ includeTop: false, weights: null, alpha: 0.75 });
    expect(counts(model)).toEqual({ total: 583_160, trainable: 573_480, nonTrainable: 9_680, weights: 206 });
  });

  test("includePreprocessing: false drops the Rescaling; dropoutRate 0 drops the Dropout; a forward pass", async () => {
    model = await MobileNetV3Small({ weights: null, includePreprocessing: false, dropoutRate: 0, classes: 3 });
    expect(model.layers[1].name).toBe("Conv");
    expect(model.layers.some((l) => l.getClassName() === "Dropout")).toBe(false);
    expect(model.countParams()).toBe(2_554_968 - 1_025_000 + 1024 * 3 + 3);
    const x = tf.zeros([2, 224, 224, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    const sums = y.sum(1);
    Array.from(sums.dataSync()).forEach((s) => expect(s).toBeCloseTo(1, 5));
    tf.dispose([x, y, sums]);
  });

  test('weights: "imagenet": Keras\'s files and md5s (top, no top "_v2", minimalistic)', async () => {
    requested.length = 0;
    const base = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/";
    await expect(MobileNetV3Small()).rejects.toThrow("offline test");
    await expect(MobileNetV3Small({ includeTop: false, alpha: 0.75 })).rejects.toThrow("offline test");
    await expect(MobileNetV3Large({ includeTop: false, minimalistic: true })).rejects.toThrow("offline test");
    expect(requested).toEqual([
      { file: "weights_mobilenet_v3_small_224_1.0_float.h5", url: `${base}weights_mobilenet_v3_small_224_1.0_float.h5`, hash: "8768d4c2e7dee89b9d02b2d03d65d862" },
      {
        file: "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5",
        url: `${base}weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5`,
        hash: "ebdb5cc8e0b497cd13a7c275d475c819",
      },
      {
        file: "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5",
        url: `${base}weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5`,
        hash: "ec5221f64a2f6d1ef965a614bdae7973",
      },
    ]);
  });

  test("the variants' own rules", async () => {
    await expect(MobileNetV3Small({ alpha: 0.5 })).rejects.toThrow('MobileNetV3Small: with weights="imagenet", alpha must be 0.75 or 1 (1 when minimalistic). Received: alpha=0.5, minimalistic=false.');
    await expect(MobileNetV3Large({ alpha: 0.75, minimalistic: true })).rejects.toThrow("MobileNetV3Large: with weights=\"imagenet\", alpha must be 0.75 or 1 (1 when minimalistic). Received: alpha=0.75, minimalistic=true.");
    await expect(MobileNetV3Small({ weights: null, minimalistic: "yes" as never })).rejects.toThrow('MobileNetV3Small: invalid minimalistic. Expected true or false. Received: minimalistic="yes".');
    await expect(MobileNetV3Small({ weights: null, dropoutRate: -0.1 })).rejects.toThrow("MobileNetV3Small: invalid dropoutRate. Expected a number in [0, 1). Received: dropoutRate=-0.1.");
    await expect(MobileNetV3Small({ weights: null, dropout_rate: 0.1 } as never)).rejects.toThrow("MobileNetV3Small: unknown option `dropout_rate`.");
    await expect(MobileNetV3Small({ weights: null, includePreprocesing: false } as never)).rejects.toThrow("Did you mean `includePreprocessing`?");
  });
});

describe("MobileNetV3Large", () => {
  test("with the top: Keras's 5,507,432 parameters, MobilenetV3large, Keras's layer names", async () => {
    model = await MobileNetV3Large({ weights: null });
    expect(counts(model)).toEqual({ total: 5_507_432, trainable: 5_483_032, nonTrainable: 24_400, weights: 266 });
    expect(model.name).toBe("MobilenetV3large");
    for (const name of ["Conv", "expanded_conv/depthwise", "expanded_conv/Add", "expanded_conv_1/depthwise/pad", "expanded_conv_3/squeeze_excite/Conv", "expanded_conv_14/Add", "Conv_1", "Conv_2", "Logits", "Predictions"]) {
      expect(names(model)).toContain(name);
    }
    expect(names(model)).not.toContain("expanded_conv/depthwise/pad"); // block 0 does not stride in Large
    expect(model.getLayer("Conv_1").outputShape).toEqual([null, 7, 7, 960]);
    expect(model.getLayer("Conv_2").weights.map((w) => w.shape)).toEqual([[1, 1, 960, 1280], [1280]]);
    expect(model.outputs[0].shape).toEqual([null, 1000]);
  });

  test("without the top (2,996,352), minimalistic (3,948,688 / 1,437,608), alpha 0.75 without the top (1,808,736)", async () => {
    model = await MobileNetV3Large({ includeTop: false, weights: null, inputShape: [96, 96, 3] });
    expect(counts(model)).toEqual({ total: 2_996_352, trainable: 2_971_952, nonTrainable: 24_400, weights: 262 });
    expect(model.outputs[0].shape).toEqual([null, 3, 3, 960]);
    model.dispose();
    model = await MobileNetV3Large({ weights: null, minimalistic: true });
    expect(counts(model)).toEqual({ total: 3_948_688, trainable: 3_924_288, nonTrainable: 24_400, weights: 234 });
    model.dispose();
    model = await MobileNetV3Large({ includeTop: false, weights: null, minimalistic: true });
    expect(counts(model)).toEqual({ total: 1_437_608, trainable: 1_413_208, nonTrainable: 24_400, weights: 230 });
    model.dispose();
    model = await MobileNetV3Large({ includeTop: false, weights: null, alpha: 0.75 });
    expect(counts(model)).toEqual({ total: 1_808_736, trainable: 1_789_648, nonTrainable: 19_088, weights: 262 });
  });
});
