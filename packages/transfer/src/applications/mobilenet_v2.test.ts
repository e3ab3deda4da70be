/**
 * MobileNetV2: Keras's parameter counts with and without the top and for other alphas,
 * Keras's names and weight order, output shapes, the ImageNet files asked for, and
 * MobileNetV2's own argument rules (the channel rounding and stride-2 padding are tested in
 * common.test.ts).
 *
 * Expected figures are Keras's, never our model's output: with the top at alpha 1, tf.keras
 * 2.x `model.summary()` / `len(model.weights)` (3,538,984 total, 3,504,872 trainable, 34,112
 * non-trainable, 262 arrays); 154 layers without the top is the figure TensorFlow's transfer
 * learning tutorial prints for `MobileNetV2(include_top=False)`; the other counts are computed
 * by hand from `keras/applications/mobilenet_v2.py` (the top adds `predictions`,
 * 1280·1000 + 1000 = 1,281,000 parameters and 2 arrays; alpha changes the block widths through
 * `_make_divisible`).
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

import { MobileNetV2 } from "./mobilenet_v2";

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

describe("MobileNetV2", () => {
  test("with the top: Keras's 3,538,984 parameters, mobilenetv2_1.00_224, Keras's layer names", async () => {
    model = await MobileNetV2({ weights: null });
    expect(counts(model)).toEqual({ total: 3_538_984, trainable: 3_504_872, nonTrainable: 34_112, weights: 262 });
    expect(model.name).toBe("mobilenetv2_1.00_224");
    expect(model.layers).toHaveLength(156);
    expect(model.layers.slice(1, 13).map((l) => l.name)).toEqual([
      "Conv1", "bn_Conv1", "Conv1_relu",
      "expanded_conv_depthwise", "expanded_conv_depthwise_BN", "expanded_conv_depthwise_relu",
      "expanded_conv_project", "expanded_conv_project_BN",
      "block_1_expand", "block_1_expand_BN", "block_1_expand_relu", "block_1_pad",
    ]);
    expect(model.layers.slice(-5).map((l) => l.name)).toEqual(["Conv_1", "Conv_1_bn", "out_relu", expect.stringMatching(/^global_average_pooling2d(_\d+)?$/), "predictions"]);
    expect(model.getLayer("block_2_add").getClassName()).toBe("Add");
    expect(model.getLayer("out_relu").outputShape).toEqual([null, 7, 7, 1280]);
    expect(model.outputs[0].shape).toEqual([null, 1000]);
    expect(model.getLayer("block_1_depthwise").weights.map((w) => [w.originalName, w.shape])).toEqual([["block_1_depthwise/depthwise_kernel", [3, 3, 96, 1]]]);
    expect(model.getLayer("bn_Conv1").getConfig()).toMatchObject({ epsilon: 1e-3, momentum: 0.999 });
    expect(model.getLayer("bn_Conv1").weights.map((w) => w.originalName)).toEqual(["bn_Conv1/gamma", "bn_Conv1/beta", "bn_Conv1/moving_mean", "bn_Conv1/moving_variance"]);
  });

  test("without the top: 2,257,984 parameters, 154 layers; [null, 5, 5, 1280] at 160x160", async () => {
    model = await MobileNetV2({ includeTop: false, weights: null, inputShape: [160, 160, 3] });
    expect(counts(model)).toEqual({ total: 2_257_984, trainable: 2_223_872, nonTrainable: 34_112, weights: 260 });
    expect(model.layers).toHaveLength(154);
    expect(model.outputs[0].shape).toEqual([null, 5, 5, 1280]);
    expect(model.name).toBe("mobilenetv2_1.00_160");
    model.dispose();
    model = await MobileNetV2({ includeTop: false, weights: null, pooling: "avg" });
    expect(model.outputs[0].shape).toEqual([null, 1280]);
    expect(model.name).toBe("mobilenetv2_1.00_None");
  });

  test("alpha 1.4 and 0.35: Keras's widths and counts", async () => {
    model = await MobileNetV2({ weights: null, alpha: 1.4 });
    expect(counts(model)).toEqual({ total: 6_156_712, trainable: 6_108_776, nonTrainable: 47_936, weights: 262 });
    expect(model.getLayer("Conv1").weights[0].shape).toEqual([3, 3, 3, 48]); // _make_divisible(32·1.4, 8)
    expect(model.getLayer("Conv_1").weights[0].shape).toEqual([1, 1, 448, 1792]); // widened past 1280 when alpha > 1
    expect(model.name).toBe("mobilenetv2_1.40_224");
    model.dispose();
    model = await MobileNetV2({ includeTop: false, weights: null, alpha: 0.35 });
    expect(counts(model)).toEqual({ total: 410_208, trainable: 396_128, nonTrainable: 14_080, weights: 260 });
    expect(model.getLayer("Conv_1").weights[0].shape).toEqual([1, 1, 112, 1280]); // not narrowed below 1280
  });

  test("a forward pass at an odd size (Keras's correct_pad pads 1 on every side)", async () => {
    model = await MobileNetV2({ includeTop: false, weights: null, inputShape: [33, 33, 3] });
    expect(model.getLayer("block_1_pad").getConfig()).toMatchObject({ padding: [[1, 1], [1, 1]] });
    const x = tf.ones([1, 33, 33, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 2, 1280]);
    tf.dispose([x, y]);
  });

  test('weights: "imagenet": Keras\'s file names (alpha as Python prints it, the size; no hash in Keras)', async () => {
    requested.length = 0;
    const base = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/";
    await expect(MobileNetV2()).rejects.toThrow("offline test");
    await expect(MobileNetV2({ includeTop: false, alpha: 0.35, inputShape: [96, 96, 3] })).rejects.toThrow("offline test");
    // The default size comes from inputTensor too, so a 160x160 tensor is fine with the top.
    await expect(MobileNetV2({ inputTensor: tf.input({ shape: [160, 160, 3] }), alpha: 0.5 })).rejects.toThrow("offline test");
    expect(requested).toEqual([
      { file: "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", url: `${base}mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5`, hash: "" },
      {
        file: "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5",
        url: `${base}mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5`,
        hash: "",
      },
      { file: "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160.h5", url: `${base}mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160.h5`, hash: "" },
    ]);
  });

  test("ImageNet weights for a size Keras has none for: Keras's warning, the 224 file", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => {});
    requested.length = 0;
    await expect(MobileNetV2({ includeTop: false, inputShape: [120, 160, 3] })).rejects.toThrow("offline test");
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("MobileNetV2: inputShape is undefined or non-square, or its rows are not in [96, 128, 160, 192, 224]."));
    expect(requested.map((f) => f.file)).toEqual(["mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"]);
  });

  test("MobileNetV2's own rules", async () => {
    await expect(MobileNetV2({ alpha: 0.9 })).rejects.toThrow('MobileNetV2: with weights="imagenet", alpha must be one of 0.35, 0.5, 0.75, 1, 1.3 or 1.4. Received: alpha=0.9.');
    await expect(MobileNetV2({ weights: null, alpha: -1 })).rejects.toThrow("MobileNetV2: invalid alpha. Expected a number > 0. Received: alpha=-1.");
    await expect(MobileNetV2({ weights: null, depthMultiplier: 1 } as never)).rejects.toThrow("MobileNetV2: unknown option `depthMultiplier`.");
  });
});
