/**
 * ResNet v1 and v2: Keras's parameter counts (total, trainable, non-trainable, weight arrays)
 * with and without the top, Keras's layer names and weight order, output shapes, and the
 * ImageNet files asked for.
 *
 * Where the expected figures come from (never from our model): with the top, tf.keras 2.x
 * `model.summary()` and `len(model.weights)` for each model (ResNet50 25,636,712 / 25,583,592
 * trainable / 53,120 non-trainable / 320 arrays, …; keras.io's applications table gives the
 * same totals rounded); without the top, those minus Keras's `predictions` layer
 * (2048·1000 + 1000 = 2,049,000 parameters, 2 arrays), which is all `include_top` adds besides
 * the unweighted `avg_pool`; layer counts by hand from `keras/applications/resnet.py`.
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

import { ResNet101, ResNet101V2, ResNet152, ResNet152V2, ResNet50, ResNet50V2 } from "./resnet";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

let model: tf.LayersModel | undefined;
afterEach(() => {
  model?.dispose();
  model = undefined;
});

function counts(m: tf.LayersModel): { total: number; trainable: number; nonTrainable: number; weights: number } {
  const size = (w: tf.LayerVariable): number => (w.shape as number[]).reduce((a, b) => a * b, 1);
  const total = m.countParams();
  const trainable = m.trainableWeights.reduce((s, w) => s + size(w), 0);
  return { total, trainable, nonTrainable: total - trainable, weights: m.weights.length };
}

const TOP = { total: 2_049_000, weights: 2 }; // the `predictions` Dense(1000) on 2048 features

type Builder = (args?: { includeTop?: boolean; weights?: null | string }) => Promise<tf.LayersModel>;
const MODELS: [string, Builder, string, { total: number; trainable: number; nonTrainable: number; weights: number }][] = [
  ["ResNet50", ResNet50, "resnet50", { total: 25_636_712, trainable: 25_583_592, nonTrainable: 53_120, weights: 320 }],
  ["ResNet101", ResNet101, "resnet101", { total: 44_707_176, trainable: 44_601_832, nonTrainable: 105_344, weights: 626 }],
  ["ResNet152", ResNet152, "resnet152", { total: 60_419_944, trainable: 60_268_520, nonTrainable: 151_424, weights: 932 }],
  ["ResNet50V2", ResNet50V2, "resnet50v2", { total: 25_613_800, trainable: 25_568_360, nonTrainable: 45_440, weights: 272 }],
  ["ResNet101V2", ResNet101V2, "resnet101v2", { total: 44_675_560, trainable: 44_577_896, nonTrainable: 97_664, weights: 544 }],
  ["ResNet152V2", ResNet152V2, "resnet152v2", { total: 60_380_648, trainable: 60_236_904, nonTrainable: 143_744, weights: 816 }],
];

describe.each(MODELS)("%s", (_unit, build, kerasName, withTop) => {
  test("with the top: Keras's counts, name, [null, 1000]", async () => {
    model = await build({ weights: null });
    expect(counts(model)).toEqual(withTop);
    expect(model.name).toBe(kerasName);
    expect(model.inputs[0].shape).toEqual([null, 224, 224, 3]);
    expect(model.outputs[0].shape).toEqual([null, 1000]);
    expect(model.layers.slice(1, 3).map((l) => l.name)).toEqual(["conv1_pad", "conv1_conv"]);
    expect(model.layers.slice(-2).map((l) => l.name)).toEqual(["avg_pool", "predictions"]);
  });

  test("without the top: Keras's counts less `predictions`, [null, null, null, 2048]", async () => {
    model = await build({ includeTop: false, weights: null });
    expect(counts(model)).toEqual({
      total: withTop.total - TOP.total,
      trainable: withTop.trainable - TOP.total,
      nonTrainable: withTop.nonTrainable,
      weights: withTop.weights - TOP.weights,
    });
    expect(model.outputs[0].shape).toEqual([null, null, null, 2048]);
  });
});

describe("ResNet50 (v1)", () => {
  test("Keras's layer sequence: stem, conv2_block1 with its projection shortcut, 177 layers", async () => {
    model = await ResNet50({ weights: null });
    // 7 stem layers (with the input), 4 projection blocks of 12 layers, 12 identity blocks of 10, avg_pool, predictions.
    expect(model.layers).toHaveLength(177);
    expect(model.layers.slice(1, 20).map((l) => l.name)).toEqual([
      "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
      "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu",
      "conv2_block1_2_conv", "conv2_block1_2_bn", "conv2_block1_2_relu",
      "conv2_block1_0_conv", "conv2_block1_3_conv", "conv2_block1_0_bn", "conv2_block1_3_bn",
      "conv2_block1_add", "conv2_block1_out", "conv2_block2_1_conv",
    ]);
    expect(model.getLayer("conv5_block3_out").outputShape).toEqual([null, 7, 7, 2048]);
    expect(model.getLayer("conv1_conv").weights.map((w) => [w.originalName, w.shape])).toEqual([
      ["conv1_conv/kernel", [7, 7, 3, 64]],
      ["conv1_conv/bias", [64]],
    ]);
    // BatchNormalization: gamma, beta, moving_mean, moving_variance, as Keras's .h5; epsilon 1.001e-5.
    const bn = model.getLayer("conv1_bn");
    expect(bn.weights.map((w) => w.originalName)).toEqual(["conv1_bn/gamma", "conv1_bn/beta", "conv1_bn/moving_mean", "conv1_bn/moving_variance"]);
    expect(bn.getConfig()).toMatchObject({ axis: 3, epsilon: 1.001e-5, momentum: 0.99 });
    expect(model.getLayer("conv2_block1_0_conv").weights.map((w) => w.shape)).toEqual([[1, 1, 64, 256], [256]]);
    // Keras's default glorot_uniform, which tfjs writes as VarianceScaling.
    expect(model.getLayer("conv1_conv").getConfig()).toMatchObject({ kernelInitializer: { className: "VarianceScaling", config: { mode: "fanAvg", distribution: "uniform" } } });
    expect(model.getLayer("conv3_block1_1_conv").getConfig()).toMatchObject({ strides: [2, 2] }); // v1 strides the first 1x1
  });

  test("without the top at 150x150 and with pooling: [null, 5, 5, 2048], avg_pool / max_pool", async () => {
    model = await ResNet50({ includeTop: false, weights: null, inputShape: [150, 150, 3] });
    expect(model.outputs[0].shape).toEqual([null, 5, 5, 2048]);
    model.dispose();
    model = await ResNet50({ includeTop: false, weights: null, pooling: "avg" });
    expect(model.outputs[0].shape).toEqual([null, 2048]);
    expect(model.layers[model.layers.length - 1].name).toBe("avg_pool");
    model.dispose();
    model = await ResNet50({ includeTop: false, weights: null, pooling: "max" });
    expect(model.layers[model.layers.length - 1].name).toBe("max_pool");
    expect(model.layers[model.layers.length - 1].getClassName()).toBe("GlobalMaxPooling2D");
  });

  test("a forward pass at the smallest size, and no tensor left after dispose", async () => {
    const before = tf.memory().numTensors;
    model = await ResNet50({ includeTop: false, weights: null, inputShape: [32, 32, 3], pooling: "avg" });
    const x = tf.ones([1, 32, 32, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2048]);
    tf.dispose([x, y]);
    model.dispose();
    model = undefined;
    expect(tf.memory().numTensors).toBe(before);
  });

  test('weights: "imagenet" asks for Keras\'s files and md5s', async () => {
    requested.length = 0;
    await expect(ResNet50({ includeTop: false })).rejects.toThrow("offline test");
    await expect(ResNet152V2()).rejects.toThrow("offline test");
    expect(requested).toEqual([
      {
        file: "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        url: "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        hash: "4d473c1dd8becc155b73f8504c6f6626",
      },
      {
        file: "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5",
        url: "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels.h5",
        hash: "a49b44d1979771252814e80f8ec446f9",
      },
    ]);
  });
});

describe("ResNet50V2", () => {
  test("Keras's pre-activation layout: 192 layers, post_bn, strided last blocks, max-pooled shortcuts", async () => {
    model = await ResNet50V2({ weights: null });
    // 5 stem layers (with the input), 16 blocks of 11, 4 projection convolutions, 3 max-pooled
    // shortcuts, post_bn, post_relu, avg_pool, predictions.
    expect(model.layers).toHaveLength(192);
    expect(model.layers.slice(1, 10).map((l) => l.name)).toEqual([
      "conv1_pad", "conv1_conv", "pool1_pad", "pool1_pool",
      "conv2_block1_preact_bn", "conv2_block1_preact_relu", "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu",
    ]);
    expect(model.layers.slice(-4).map((l) => l.name)).toEqual(["post_bn", "post_relu", "avg_pool", "predictions"]);
    // The stride is on the last block's 3x3 convolution; its shortcut is a 1x1 max pooling (Keras leaves it unnamed).
    expect(model.getLayer("conv2_block3_2_conv").getConfig()).toMatchObject({ strides: [2, 2], useBias: false });
    const shortcut = model.getLayer("conv2_block3_out").inboundNodes[0].inboundLayers[0];
    expect(shortcut.getClassName()).toBe("MaxPooling2D");
    expect(model.getLayer("conv2_block3_out").outputShape).toEqual([null, 28, 28, 256]);
    expect(model.getLayer("conv5_block3_out").outputShape).toEqual([null, 7, 7, 2048]);
    expect(model.getLayer("conv1_conv").weights.map((w) => w.originalName)).toEqual(["conv1_conv/kernel", "conv1_conv/bias"]);
    expect(model.getLayer("conv2_block1_1_conv").weights.map((w) => w.originalName)).toEqual(["conv2_block1_1_conv/kernel"]);
    expect(model.getLayer("conv2_block1_3_conv").weights.map((w) => w.originalName)).toEqual(["conv2_block1_3_conv/kernel", "conv2_block1_3_conv/bias"]);
  });
});
