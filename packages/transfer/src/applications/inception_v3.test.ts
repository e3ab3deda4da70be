/**
 * InceptionV3: Keras's parameter and weight counts, the names a fresh Keras process gives the
 * unnamed layers, output shapes with and without the top, pooling, another input size.
 *
 * Expected figures:
 * - 23,851,784 parameters with the top: the parameter table of Keras's documentation
 *   (keras.io/api/applications).
 * - 21,802,784 without: that minus the classifier Dense(1000) on 2048 channels (2,049,000).
 * - 378 weights, 190 trainable: tf.keras's `len(model.weights)` / `len(model.trainable_weights)`
 *   as recorded in public notebooks; also 94 conv kernels + 94·3 BN weights (no gamma) + 2, and
 *   94 kernels + 94 betas + 2 trainable, counting the conv2d_bn calls in Keras's source.
 * - Kernel shapes of conv2d (first stem conv), conv2d_5 (mixed0's first 1x1: five stem convs
 *   come before it) and conv2d_93 (mixed10's pool branch), from Keras's source order.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveImagenetWeights } from "../weights";
import { InceptionV3 } from "./inception_v3";

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

describe("InceptionV3", () => {
  test("with the top: Keras's counts, names, weight order and output shape", async () => {
    // Something built before must not shift the names (Keras's counters are per process; ours per model).
    tf.layers.conv2d({ filters: 1, kernelSize: 1 });
    const model = await InceptionV3({ weights: null });
    try {
      expect(model.name).toBe("inception_v3");
      expect(model.countParams()).toBe(23_851_784);
      expect(model.weights.length).toBe(378);
      expect(model.trainableWeights.length).toBe(190);
      expect(model.inputs[0].shape).toEqual([null, 299, 299, 3]);
      expect(model.outputs[0].shape).toEqual([null, 1000]);
      const names = model.layers.map((l) => l.name);
      expect(names.slice(1, 4)).toEqual(["conv2d", "batch_normalization", "activation"]);
      for (const n of ["conv2d_93", "batch_normalization_93", "activation_93", "max_pooling2d_3", "average_pooling2d_8", "mixed0", "mixed9_0", "mixed9_1", "concatenate", "concatenate_1", "mixed10"]) {
        expect(names).toContain(n);
      }
      expect(names).not.toContain("conv2d_94");
      expect(names).not.toContain("concatenate_2");
      expect(names.slice(-3)).toEqual(["mixed10", "avg_pool", "predictions"]);
      expect(model.getLayer("conv2d").weights.map((w) => w.shape)).toEqual([[3, 3, 3, 32]]);
      expect(model.getLayer("conv2d_5").weights.map((w) => w.shape)).toEqual([[1, 1, 192, 64]]);
      expect(model.getLayer("conv2d_93").weights.map((w) => w.shape)).toEqual([[1, 1, 2048, 192]]);
      // scale=False: no gamma; Keras's order beta, moving_mean, moving_variance.
      expect(model.getLayer("batch_normalization_93").weights.map(bare)).toEqual(["beta", "moving_mean", "moving_variance"]);
      expect(model.getLayer("mixed10").outputShape).toEqual([null, 8, 8, 2048]);
    } finally {
      model.dispose();
    }
  });

  test("without the top: Keras's count and the 8x8x2048 feature map", async () => {
    const model = await InceptionV3({ includeTop: false, weights: null, inputShape: [299, 299, 3] });
    try {
      expect(model.countParams()).toBe(21_802_784);
      expect(model.outputs[0].shape).toEqual([null, 8, 8, 2048]);
      expect(model.layers[model.layers.length - 1].name).toBe("mixed10");
    } finally {
      model.dispose();
    }
  });

  test("pooling: unnamed global pooling layers as Keras names them", async () => {
    for (const [pooling, layer] of [["avg", "global_average_pooling2d"], ["max", "global_max_pooling2d"]] as const) {
      const model = await InceptionV3({ includeTop: false, weights: null, pooling });
      try {
        expect(model.outputs[0].shape).toEqual([null, 2048]);
        expect(model.layers[model.layers.length - 1].name).toBe(layer);
      } finally {
        model.dispose();
      }
    }
  });

  test("the smallest input without the top, and a forward pass without leaks", async () => {
    const model = await InceptionV3({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
    try {
      expect(model.outputs[0].shape).toEqual([null, 1, 1, 2048]);
      const x = tf.randomUniform([1, 75, 75, 3], -1, 1, "float32", 1);
      tf.dispose(model.predict(x) as tf.Tensor); // the first call may allocate once
      const before = tf.memory().numTensors;
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 1, 1, 2048]);
      expect(Array.from(y.dataSync()).every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // after ReLU
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  test("below the minimum size: Keras's rule from common", async () => {
    await expect(InceptionV3({ includeTop: false, weights: null, inputShape: [74, 74, 3] })).rejects.toThrow("InceptionV3: input size must be at least 75x75");
  });
});

describe("InceptionV3 ImageNet weights", () => {
  test("asks for Keras's files (name, URL, md5) with and without the top", async () => {
    const resolve = resolveImagenetWeights as jest.MockedFunction<typeof resolveImagenetWeights>;
    (await InceptionV3()).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
      hash: "9a0d58056eeedaa3f26cb7ebd46da564",
    });
    (await InceptionV3({ includeTop: false, inputShape: [75, 75, 3] })).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
      hash: "bcbd6486424b2319ff4ef7d526e38f63",
    });
  });
});
