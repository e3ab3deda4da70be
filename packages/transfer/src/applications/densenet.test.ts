/**
 * DenseNet121/169/201: Keras's parameter and weight counts, layer names, output shapes with and
 * without the top, pooling, another input size, and a forward pass on a small input.
 *
 * Expected figures:
 * - With the top: the parameter table of Keras's documentation (keras.io/api/applications:
 *   DenseNet121 8,062,504; DenseNet169 14,307,880; DenseNet201 20,242,984).
 * - Without the top: that figure minus the classifier Dense(1000) on the last feature map's
 *   channels C (C·1000 + 1000), C from Keras's architecture (64 + 32·blocks, halved at each
 *   transition): C = 1024, 1664, 1920.
 * - `model.weights.length` with the top: 606, 846, 1006, as tf.keras prints `len(model.weights)`
 *   (recorded in public notebooks that list every application).
 */
import * as tf from "@tensorflow/tfjs";
import { resolveImagenetWeights } from "../weights";
import { DenseNet121, DenseNet169, DenseNet201 } from "./densenet";

// Weight files are another unit's job: here only which file a builder asks for.
jest.mock("../weights", () => ({
  loadWeights: jest.fn(async () => undefined),
  resolveImagenetWeights: jest.fn(async (file: { file: string }) => `/nowhere/${file.file}`),
}));

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

const CASES = [
  { name: "DenseNet121", build: DenseNet121, top: 8_062_504, channels: 1024, weights: 606 },
  { name: "DenseNet169", build: DenseNet169, top: 14_307_880, channels: 1664, weights: 846 },
  { name: "DenseNet201", build: DenseNet201, top: 20_242_984, channels: 1920, weights: 1006 },
] as const;

describe.each(CASES)("$name", ({ name, build, top, channels, weights }) => {
  test("with the top: Keras's parameter and weight counts, names and output shape", async () => {
    const model = await build({ weights: null });
    try {
      expect(model.name).toBe(name.toLowerCase());
      expect(model.countParams()).toBe(top);
      expect(model.weights.length).toBe(weights);
      expect(model.inputs[0].shape).toEqual([null, 224, 224, 3]);
      expect(model.outputs[0].shape).toEqual([null, 1000]);
      const names = model.layers.map((l) => l.name);
      expect(names.slice(1, 7)).toEqual(["zero_padding2d", "conv1/conv", "conv1/bn", "conv1/relu", "zero_padding2d_1", "pool1"]);
      expect(names).toContain("conv2_block1_0_bn");
      expect(names).toContain("conv2_block6_concat");
      expect(names).toContain("pool4_conv");
      expect(names.slice(-4)).toEqual(["bn", "relu", "avg_pool", "predictions"]);
      // Keras's weight order per layer: BatchNormalization gamma, beta, moving_mean, moving_variance.
      const bn = model.getLayer("conv1/bn");
      expect(bn.weights.map((w) => w.name.split("/").pop()!.replace(/_\d+$/, ""))).toEqual(["gamma", "beta", "moving_mean", "moving_variance"]);
      expect(model.getLayer("conv1/conv").weights.map((w) => w.shape)).toEqual([[7, 7, 3, 64]]);
    } finally {
      model.dispose();
    }
  });

  test("without the top: Keras's count and feature map", async () => {
    const noTop = top - (channels * 1000 + 1000);
    const model = await build({ includeTop: false, weights: null, inputShape: [224, 224, 3] });
    try {
      expect(model.countParams()).toBe(noTop);
      expect(model.outputs[0].shape).toEqual([null, 7, 7, channels]);
      expect(model.layers[model.layers.length - 1].name).toBe("relu");
    } finally {
      model.dispose();
    }
  });
});

describe("DenseNet121 options", () => {
  test("pooling avg and max name the layer as Keras", async () => {
    for (const [pooling, layer] of [["avg", "avg_pool"], ["max", "max_pool"]] as const) {
      const model = await DenseNet121({ includeTop: false, weights: null, pooling });
      try {
        expect(model.outputs[0].shape).toEqual([null, 1024]);
        expect(model.layers[model.layers.length - 1].name).toBe(layer);
        expect(model.countParams()).toBe(7_037_504);
      } finally {
        model.dispose();
      }
    }
  });

  test("no input shape without the top: any size", async () => {
    const model = await DenseNet121({ includeTop: false, weights: null });
    try {
      expect(model.inputs[0].shape).toEqual([null, null, null, 3]);
      expect(model.outputs[0].shape).toEqual([null, null, null, 1024]);
    } finally {
      model.dispose();
    }
  });

  test("another input size without the top, and a forward pass", async () => {
    const model = await DenseNet121({ includeTop: false, weights: null, inputShape: [64, 96, 3] });
    try {
      expect(model.outputs[0].shape).toEqual([null, 2, 3, 1024]);
      const before = tf.memory().numTensors;
      const x = tf.zeros([1, 64, 96, 3]);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 2, 3, 1024]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  test("classes and a linear classifier", async () => {
    const model = await DenseNet121({ weights: null, classes: 10, classifierActivation: null });
    try {
      expect(model.outputs[0].shape).toEqual([null, 10]);
      expect(model.countParams()).toBe(7_037_504 + 1024 * 10 + 10);
      const config = model.getLayer("predictions").getConfig();
      expect(config.activation).toBe("linear");
    } finally {
      model.dispose();
    }
  });
});

describe("DenseNet ImageNet weights", () => {
  test("asks for Keras's files (name, URL, md5) with and without the top", async () => {
    const resolve = resolveImagenetWeights as jest.MockedFunction<typeof resolveImagenetWeights>;
    (await DenseNet121()).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "densenet121_weights_tf_dim_ordering_tf_kernels.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet121_weights_tf_dim_ordering_tf_kernels.h5",
      hash: "9d60b8095a5708f2dcce2bca79d332c7",
    });
    (await DenseNet121({ includeTop: false, inputShape: [32, 32, 3] })).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
      hash: "30ee3e1110167f948a6b9946edeeb738",
    });
    (await DenseNet169({ includeTop: false, inputShape: [32, 32, 3] })).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
      hash: "b8c4d4c20dd625c148057b9ff1c1176b",
    });
    (await DenseNet201({ includeTop: false, inputShape: [32, 32, 3] })).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
      hash: "c13680b51ded0fb44dff2d8f86ac8bb1",
    });
  });
});
