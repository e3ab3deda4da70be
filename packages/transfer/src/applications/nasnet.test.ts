/**
 * NASNetMobile and NASNetLarge: Keras's parameter and weight counts with and without the top,
 * layer names (the unnamed ones as a fresh Keras process names them), output shapes, pooling,
 * another input size with a forward pass, and the unknown-size error.
 *
 * Expected figures:
 * - With the top: the parameter table of Keras's documentation (keras.io/api/applications):
 *   NASNetMobile 5,326,716; NASNetLarge 88,949,818.
 * - Without the top: that minus the classifier Dense(1000) on the penultimate filters
 *   (Keras's `penultimate_filters`: 1056 and 4032): 4,269,716 and 84,916,818.
 * - `len(model.weights)` / `len(model.trainable_weights)` of tf.keras with the top, as recorded
 *   in public notebooks: Mobile 1126 / 742, Large 1546 / 1018.
 * - Unnamed layers, counted in Keras's source: every cell has 1 ReLU on its input and 5
 *   separable blocks of 2 ReLUs; a projection adjust adds 1 (11 of them in Mobile, 17 in Large),
 *   a size adjust adds a ZeroPadding2D, a Cropping2D and a concatenate (4 in each model), every
 *   reduction cell one add (4), and one ReLU ends the network: Mobile 16 cells → 16·11 + 11 + 1 =
 *   188 ReLUs (`activation` … `activation_187`), Large 22 cells → 22·11 + 17 + 1 = 260.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveImagenetWeights } from "../weights";
import { NASNetLarge, NASNetMobile } from "./nasnet";

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
  { name: "NASNetMobile", build: NASNetMobile, size: 224, top: 5_326_716, channels: 1056, map: 7, weights: [1126, 742], lastRelu: 187, lastNormal: 12 },
  { name: "NASNetLarge", build: NASNetLarge, size: 331, top: 88_949_818, channels: 4032, map: 11, weights: [1546, 1018], lastRelu: 259, lastNormal: 18 },
] as const;

describe.each(CASES)("$name", (c) => {
  test("with the top: Keras's counts, names and output shape", async () => {
    const model = await c.build({ weights: null });
    try {
      expect(model.name).toBe("NASNet");
      expect(model.countParams()).toBe(c.top);
      expect(model.weights.length).toBe(c.weights[0]);
      expect(model.trainableWeights.length).toBe(c.weights[1]);
      expect(model.inputs[0].shape).toEqual([null, c.size, c.size, 3]);
      expect(model.outputs[0].shape).toEqual([null, 1000]);
      const names = model.layers.map((l) => l.name);
      expect(names.slice(1, 3)).toEqual(["stem_conv1", "stem_bn1"]);
      for (const n of [
        "reduction_conv_1_stem_1", "reduction_pad_1_stem_1", "separable_conv_1_pad_reduction_left1_stem_1",
        "separable_conv_1_reduction_left1_stem_1", "separable_conv_2_bn_reduction_right3_stem_1",
        "reduction_add3_stem_1", "reduction_add4_stem_1", "reduction_concat_stem_1",
        "adjust_relu_1_stem_2", "adjust_avg_pool_2_stem_2", "adjust_conv_2_stem_2", "adjust_bn_stem_2",
        "adjust_conv_projection_1", "normal_conv_1_0", "separable_conv_1_normal_left1_0", "normal_add_5_0", "normal_concat_0",
        `normal_concat_${c.lastNormal}`, "activation", `activation_${c.lastRelu}`, "zero_padding2d_3", "cropping2d_3", "concatenate_3", "add_3",
      ]) {
        expect(names).toContain(n);
      }
      for (const n of [`activation_${c.lastRelu + 1}`, "zero_padding2d_4", "cropping2d_4", "concatenate_4", "add_4", "adjust_bn_stem_1"]) {
        expect(names).not.toContain(n);
      }
      expect(names.slice(-4)).toEqual([`normal_concat_${c.lastNormal}`, `activation_${c.lastRelu}`, "global_average_pooling2d", "predictions"]);
      expect(model.getLayer(`activation_${c.lastRelu}`).outputShape).toEqual([null, c.map, c.map, c.channels]);
      // BatchNormalization with gamma (NASNet keeps Keras's default scale=True), momentum 0.9997.
      const bn = model.getLayer("stem_bn1");
      expect(bn.weights.map(bare)).toEqual(["gamma", "beta", "moving_mean", "moving_variance"]);
      expect(bn.getConfig().momentum).toBe(0.9997);
      const sep = model.getLayer("separable_conv_1_normal_left1_0");
      expect(sep.weights.map(bare)).toEqual(["depthwise_kernel", "pointwise_kernel"]);
    } finally {
      model.dispose();
    }
  });

  test("without the top: Keras's count and the feature map", async () => {
    const model = await c.build({ includeTop: false, weights: null, inputShape: [c.size, c.size, 3] });
    try {
      expect(model.countParams()).toBe(c.top - (c.channels * 1000 + 1000));
      expect(model.outputs[0].shape).toEqual([null, c.map, c.map, c.channels]);
    } finally {
      model.dispose();
    }
  });
});

describe("NASNet details", () => {
  test("NASNetMobile layer shapes from Keras's source", async () => {
    const model = await NASNetMobile({ weights: null });
    try {
      // filters = 1056 // 24 = 44; stem_1 has 44 // 4 = 11, stem_2 22 filters per branch.
      expect(model.getLayer("stem_conv1").weights[0].shape).toEqual([3, 3, 3, 32]);
      expect(model.getLayer("reduction_conv_1_stem_1").weights[0].shape).toEqual([1, 1, 32, 11]);
      expect(model.getLayer("separable_conv_1_reduction_right1_stem_1").weights.map((w) => w.shape)).toEqual([[7, 7, 32, 1], [1, 1, 32, 11]]);
      expect(model.getLayer("adjust_conv_1_stem_2").weights[0].shape).toEqual([1, 1, 32, 11]);
      expect(model.getLayer("reduction_concat_stem_1").outputShape).toEqual([null, 56, 56, 44]);
      expect(model.getLayer("normal_concat_0").outputShape).toEqual([null, 28, 28, 264]);
      expect(model.getLayer("adjust_conv_projection_1").weights[0].shape).toEqual([1, 1, 88, 44]);
      expect(model.getLayer("reduction_concat_reduce_8").outputShape).toEqual([null, 7, 7, 704]);
      // Stem 111x111 is odd: Keras's correct_pad pads symmetrically.
      expect(model.getLayer("reduction_pad_1_stem_1").getConfig().padding).toEqual([[1, 1], [1, 1]]);
      expect(model.getLayer("separable_conv_1_pad_reduction_right1_stem_1").getConfig().padding).toEqual([[3, 3], [3, 3]]);
    } finally {
      model.dispose();
    }
  });

  test("pooling: unnamed global pooling layers as Keras names them", async () => {
    for (const [pooling, layer] of [["avg", "global_average_pooling2d"], ["max", "global_max_pooling2d"]] as const) {
      const model = await NASNetMobile({ includeTop: false, weights: null, pooling, inputShape: [32, 32, 3] });
      try {
        expect(model.outputs[0].shape).toEqual([null, 1056]);
        expect(model.layers[model.layers.length - 1].name).toBe(layer);
      } finally {
        model.dispose();
      }
    }
  });

  test("another input size without the top, and a forward pass without leaks", async () => {
    const model = await NASNetMobile({ includeTop: false, weights: null, inputShape: [64, 48, 3] });
    try {
      // 64 → 31 → 16 → 8 → 4 → 2; 48 → 23 → 12 → 6 → 3 → 2.
      expect(model.outputs[0].shape).toEqual([null, 2, 2, 1056]);
      // After the stem 31x23, both odd: Keras's correct_pad pads symmetrically.
      expect(model.getLayer("reduction_pad_1_stem_1").getConfig().padding).toEqual([[1, 1], [1, 1]]);
      const x = tf.randomUniform([1, 64, 48, 3], -1, 1, "float32", 5);
      tf.dispose(model.predict(x) as tf.Tensor);
      const before = tf.memory().numTensors;
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 2, 2, 1056]);
      expect(Array.from(y.dataSync()).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  test("an unknown height or width is an error", async () => {
    await expect(NASNetMobile({ includeTop: false, weights: null })).rejects.toThrow(
      "NASNetMobile: NASNet needs a known height and width: its cells compare feature-map sizes while building. Received: input shape [null,null,null,3]. Pass inputShape, e.g. [224, 224, 3].",
    );
  });

  test("Keras's weight files", async () => {
    const resolve = resolveImagenetWeights as jest.MockedFunction<typeof resolveImagenetWeights>;
    resolve.mockClear();
    const model = await NASNetMobile({ includeTop: false, inputShape: [32, 32, 3] });
    model.dispose();
    expect(resolve).toHaveBeenCalledWith({
      file: "nasnet_mobile_no_top.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/NASNet-mobile-no-top.h5",
      hash: "1ed92395b5b598bdda52abe5c0dbfd63",
    });
  });
});
