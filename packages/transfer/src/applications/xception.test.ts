/**
 * Xception: Keras's parameter and weight counts, layer names (including the unnamed residual
 * projections, named as a fresh Keras process names them), weight order, output shapes with
 * and without the top, pooling, another input size and a forward pass.
 *
 * Expected figures:
 * - 22,910,480 parameters with the top: the parameter table of Keras's documentation
 *   (keras.io/api/applications).
 * - 20,861,480 without: that minus the classifier Dense(1000) on 2048 channels (2,049,000).
 * - 236 weights: tf.keras's `len(model.weights)` as recorded in public notebooks; also counted
 *   from Keras's source: 6 Conv2D kernels (2 stem + 4 projections), 34 SeparableConv2D
 *   (2 + 2 + 2 + 8·3 + 2 + 2) with a depthwise and a pointwise kernel each, 40
 *   BatchNormalizations with 4 weights each, the Dense's kernel and bias: 6 + 68 + 160 + 2.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveImagenetWeights } from "../weights";
import { Xception } from "./xception";

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

describe("Xception", () => {
  test("with the top: Keras's counts, names, weight order and output shape", async () => {
    const model = await Xception({ weights: null });
    try {
      expect(model.name).toBe("xception");
      expect(model.countParams()).toBe(22_910_480);
      expect(model.weights.length).toBe(236);
      expect(model.inputs[0].shape).toEqual([null, 299, 299, 3]);
      expect(model.outputs[0].shape).toEqual([null, 1000]);
      const names = model.layers.map((l) => l.name);
      expect(names.slice(1, 7)).toEqual(["block1_conv1", "block1_conv1_bn", "block1_conv1_act", "block1_conv2", "block1_conv2_bn", "block1_conv2_act"]);
      for (const n of ["conv2d", "conv2d_3", "batch_normalization_3", "add", "add_11", "block5_sepconv1_act", "block12_sepconv3_bn", "block13_pool", "block14_sepconv2_act"]) {
        expect(names).toContain(n);
      }
      expect(names).not.toContain("conv2d_4");
      expect(names).not.toContain("add_12");
      expect(names.slice(-3)).toEqual(["block14_sepconv2_act", "avg_pool", "predictions"]);
      // Projections in Keras's order: 128, 256, 728, 1024 filters, 1x1, stride 2.
      expect(["conv2d", "conv2d_1", "conv2d_2", "conv2d_3"].map((n) => model.getLayer(n).weights[0].shape)).toEqual([
        [1, 1, 64, 128],
        [1, 1, 128, 256],
        [1, 1, 256, 728],
        [1, 1, 728, 1024],
      ]);
      // SeparableConv2D: depthwise_kernel then pointwise_kernel, no bias.
      const sep = model.getLayer("block14_sepconv2");
      expect(sep.weights.map(bare)).toEqual(["depthwise_kernel", "pointwise_kernel"]);
      expect(sep.weights.map((w) => w.shape)).toEqual([[3, 3, 1536, 1], [1, 1, 1536, 2048]]);
      expect(model.getLayer("block1_conv1_bn").weights.map(bare)).toEqual(["gamma", "beta", "moving_mean", "moving_variance"]);
      expect(model.getLayer("block14_sepconv2_act").outputShape).toEqual([null, 10, 10, 2048]);
    } finally {
      model.dispose();
    }
  });

  test("without the top: Keras's count and the 10x10x2048 feature map", async () => {
    const model = await Xception({ includeTop: false, weights: null, inputShape: [299, 299, 3] });
    try {
      expect(model.countParams()).toBe(20_861_480);
      expect(model.outputs[0].shape).toEqual([null, 10, 10, 2048]);
    } finally {
      model.dispose();
    }
  });

  test("pooling: unnamed global pooling layers as Keras names them", async () => {
    for (const [pooling, layer] of [["avg", "global_average_pooling2d"], ["max", "global_max_pooling2d"]] as const) {
      const model = await Xception({ includeTop: false, weights: null, pooling });
      try {
        expect(model.outputs[0].shape).toEqual([null, 2048]);
        expect(model.layers[model.layers.length - 1].name).toBe(layer);
      } finally {
        model.dispose();
      }
    }
  });

  test("another input size without the top, and a forward pass without leaks", async () => {
    const model = await Xception({ includeTop: false, weights: null, inputShape: [71, 80, 3] });
    try {
      // 71 → 35 → 33 → 17 → 9 → 5 → 3; 80 → 39 → 37 → 19 → 10 → 5 → 3.
      expect(model.outputs[0].shape).toEqual([null, 3, 3, 2048]);
      const x = tf.randomUniform([1, 71, 80, 3], -1, 1, "float32", 2);
      tf.dispose(model.predict(x) as tf.Tensor);
      const before = tf.memory().numTensors;
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 3, 3, 2048]);
      expect(Array.from(y.dataSync()).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe("Xception ImageNet weights", () => {
  test("asks for Keras's files (name, URL, md5) with and without the top", async () => {
    const resolve = resolveImagenetWeights as jest.MockedFunction<typeof resolveImagenetWeights>;
    (await Xception()).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "xception_weights_tf_dim_ordering_tf_kernels.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels.h5",
      hash: "0a58e3b7378bc2990ea3b43d5981f1f6",
    });
    (await Xception({ includeTop: false, inputShape: [71, 71, 3] })).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
      hash: "b0042744bf5b25fce3cb969f33bebb97",
    });
  });
});
