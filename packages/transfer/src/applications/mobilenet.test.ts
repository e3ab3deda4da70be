/**
 * MobileNet (v1): Keras's parameter counts with and without the top and for other alpha /
 * depth multipliers, Keras's names (model and layers) and weight order, output shapes, the
 * ImageNet files asked for, and MobileNet's own argument rules.
 *
 * Expected figures are Keras's, never our model's output: with the top at alpha 1, tf.keras
 * 2.x `model.summary()` / `len(model.weights)` (4,253,864 total, 4,231,976 trainable, 21,888
 * non-trainable, 137 arrays); the others are computed by hand from
 * `keras/applications/mobilenet.py` (the top adds `conv_preds`, 1024·alpha·1000 + 1000
 * parameters and 2 arrays; a depthwise block has 9·c·m + 4·c·m + c·m·p + 4·p parameters, of
 * which 2·c·m + 2·p are BatchNormalization statistics).
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

import { MobileNet } from "./mobilenet";

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

describe("MobileNet", () => {
  test("with the top: Keras's 4,253,864 parameters, mobilenet_1.00_224, Keras's layer names", async () => {
    model = await MobileNet({ weights: null });
    expect(counts(model)).toEqual({ total: 4_253_864, trainable: 4_231_976, nonTrainable: 21_888, weights: 137 });
    expect(model.name).toBe("mobilenet_1.00_224");
    expect(model.layers.slice(1, 11).map((l) => l.name)).toEqual([
      "conv1", "conv1_bn", "conv1_relu",
      "conv_dw_1", "conv_dw_1_bn", "conv_dw_1_relu", "conv_pw_1", "conv_pw_1_bn", "conv_pw_1_relu",
      "conv_pad_2",
    ]);
    expect(model.layers.slice(-5).map((l) => l.name)).toEqual(["reshape_1", "dropout", "conv_preds", "reshape_2", "predictions"]);
    expect(model.getLayer("conv_pw_13_relu").outputShape).toEqual([null, 7, 7, 1024]);
    expect(model.getLayer("reshape_1").outputShape).toEqual([null, 1, 1, 1024]); // Keras's GlobalAveragePooling2D(keepdims=True)
    expect(model.outputs[0].shape).toEqual([null, 1000]);
    // Keras's weight order: DepthwiseConv2D has only its depthwise_kernel (no bias); BN four arrays.
    expect(model.getLayer("conv_dw_1").weights.map((w) => [w.originalName, w.shape])).toEqual([["conv_dw_1/depthwise_kernel", [3, 3, 32, 1]]]);
    expect(model.getLayer("conv_dw_1_bn").weights.map((w) => w.originalName)).toEqual([
      "conv_dw_1_bn/gamma", "conv_dw_1_bn/beta", "conv_dw_1_bn/moving_mean", "conv_dw_1_bn/moving_variance",
    ]);
    expect(model.getLayer("conv_preds").weights.map((w) => w.shape)).toEqual([[1, 1, 1024, 1000], [1000]]);
    expect(model.getLayer("conv_dw_2").getConfig()).toMatchObject({ strides: [2, 2], padding: "valid" });
    expect(model.getLayer("conv1_relu").getConfig()).toMatchObject({ maxValue: 6 });
    expect(model.getLayer("dropout").getConfig()).toMatchObject({ rate: 0.001 });
  });

  test("without the top: 3,228,864 parameters, [null, null, null, 1024], mobilenet_1.00_None", async () => {
    model = await MobileNet({ includeTop: false, weights: null });
    expect(counts(model)).toEqual({ total: 3_228_864, trainable: 3_206_976, nonTrainable: 21_888, weights: 135 });
    expect(model.outputs[0].shape).toEqual([null, null, null, 1024]);
    expect(model.name).toBe("mobilenet_1.00_None"); // Keras's name when the size is unknown
    expect(model.layers[model.layers.length - 1].name).toBe("conv_pw_13_relu");
  });

  test("alpha 0.5, depthMultiplier 2: Keras's counts (2,159,672 with the top, 1,646,672 without)", async () => {
    model = await MobileNet({ weights: null, alpha: 0.5, depthMultiplier: 2 });
    expect(counts(model)).toEqual({ total: 2_159_672, trainable: 2_143_768, nonTrainable: 15_904, weights: 137 });
    expect(model.name).toBe("mobilenet_0.50_224");
    expect(model.getLayer("conv_dw_1").weights[0].shape).toEqual([3, 3, 16, 2]);
    model.dispose();
    model = await MobileNet({ includeTop: false, weights: null, alpha: 0.5, depthMultiplier: 2, inputShape: [160, 160, 3] });
    expect(counts(model)).toEqual({ total: 1_646_672, trainable: 1_630_768, nonTrainable: 15_904, weights: 135 });
    expect(model.outputs[0].shape).toEqual([null, 5, 5, 512]);
    expect(model.name).toBe("mobilenet_0.50_160");
  });

  test("pooling and a forward pass; classes and dropout reach the top", async () => {
    model = await MobileNet({ includeTop: false, weights: null, pooling: "max", inputShape: [64, 64, 3] });
    expect(model.outputs[0].shape).toEqual([null, 1024]);
    const x = tf.ones([2, 64, 64, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 1024]);
    tf.dispose([x, y]);
    model.dispose();
    model = await MobileNet({ weights: null, classes: 7, dropout: 0.5, classifierActivation: null });
    expect(model.outputs[0].shape).toEqual([null, 7]);
    expect(model.getLayer("dropout").getConfig()).toMatchObject({ rate: 0.5 });
    expect(model.getLayer("predictions").getConfig()).toMatchObject({ activation: "linear" });
    expect(model.countParams()).toBe(4_253_864 - 1_025_000 + 1024 * 7 + 7);
  });

  test('weights: "imagenet": Keras\'s file names per alpha and size (no hash in Keras)', async () => {
    requested.length = 0;
    await expect(MobileNet()).rejects.toThrow("offline test");
    await expect(MobileNet({ inputShape: [128, 128, 3], alpha: 0.75 })).rejects.toThrow("offline test"); // 128 is a default size
    await expect(MobileNet({ includeTop: false, alpha: 0.25, inputShape: [192, 192, 3] })).rejects.toThrow("offline test");
    const base = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/";
    expect(requested).toEqual([
      { file: "mobilenet_1_0_224_tf.h5", url: `${base}mobilenet_1_0_224_tf.h5`, hash: "" },
      { file: "mobilenet_7_5_128_tf.h5", url: `${base}mobilenet_7_5_128_tf.h5`, hash: "" },
      { file: "mobilenet_2_5_192_tf_no_top.h5", url: `${base}mobilenet_2_5_192_tf_no_top.h5`, hash: "" },
    ]);
  });

  test("ImageNet weights for a size Keras has none for: Keras's warning, the 224 file", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => {});
    requested.length = 0;
    await expect(MobileNet({ includeTop: false, inputShape: [100, 100, 3] })).rejects.toThrow("offline test");
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("MobileNet: inputShape is undefined or non-square, or its rows are not in [128, 160, 192, 224]."));
    expect(requested.map((f) => f.file)).toEqual(["mobilenet_1_0_224_tf_no_top.h5"]);
  });

  test("MobileNet's own rules: ImageNet alphas and depth multiplier, option values and names", async () => {
    await expect(MobileNet({ depthMultiplier: 2 })).rejects.toThrow('MobileNet: with weights="imagenet", depthMultiplier must be 1. Received: depthMultiplier=2.');
    await expect(MobileNet({ alpha: 0.6 })).rejects.toThrow('MobileNet: with weights="imagenet", alpha must be one of 0.25, 0.5, 0.75 or 1. Received: alpha=0.6.');
    await expect(MobileNet({ weights: null, alpha: 0 })).rejects.toThrow("MobileNet: invalid alpha. Expected a number > 0. Received: alpha=0.");
    await expect(MobileNet({ weights: null, depthMultiplier: 1.5 })).rejects.toThrow("MobileNet: invalid depthMultiplier. Expected an integer >= 1. Received: depthMultiplier=1.5.");
    await expect(MobileNet({ weights: null, dropout: 1 })).rejects.toThrow("MobileNet: invalid dropout. Expected a number in [0, 1). Received: dropout=1.");
    await expect(MobileNet({ weights: null, alpah: 0.5 } as never)).rejects.toThrow("MobileNet: unknown option `alpah`. Expected one of");
    await expect(MobileNet({ weights: null, alpah: 0.5 } as never)).rejects.toThrow("Did you mean `alpha`?");
    // Keras's common rules still apply (through common.ts).
    await expect(MobileNet({ classes: 10 })).rejects.toThrow("MobileNet: if using weights=\"imagenet\" with includeTop=true, classes should be 1000.");
    await expect(MobileNet(5 as never)).rejects.toThrow("MobileNet: invalid options.");
  });
});
