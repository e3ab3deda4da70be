/**
 * InceptionResNetV2: Keras's parameter and weight counts, the names a fresh Keras process gives
 * the unnamed layers, output shapes with and without the top, pooling, another input size; and
 * CustomScaleLayer: exact values, shapes, config round trip, validation, no leaks.
 *
 * Expected figures:
 * - 55,873,736 parameters with the top: the parameter table of Keras's documentation
 *   (keras.io/api/applications).
 * - 54,336,736 without: that minus the classifier Dense(1000) on 1536 channels (1,537,000).
 * - 898 weights, 490 trainable: tf.keras's `len(model.weights)` / `len(model.trainable_weights)`
 *   as recorded in public notebooks; also counted from Keras's source: 203 unnamed conv2d_bn
 *   (stem 5, mixed_5b 7, 10 × 6, mixed_6a 4, 20 × 4, mixed_7a 7, 10 × 4) with a kernel and 3 BN
 *   weights (no gamma), 40 block convs with bias, conv_7b (kernel + 3 BN), the Dense:
 *   203·4 + 40·2 + 4 + 2 = 898; trainable 203·2 + 40·2 + 2 + 2 = 490.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveImagenetWeights } from "../weights";
import { CustomScaleLayer, InceptionResNetV2 } from "./inception_resnet_v2";

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

describe("InceptionResNetV2", () => {
  test("with the top: Keras's counts, names, weight shapes and output shape", async () => {
    const model = await InceptionResNetV2({ weights: null });
    try {
      expect(model.name).toBe("inception_resnet_v2");
      expect(model.countParams()).toBe(55_873_736);
      expect(model.weights.length).toBe(898);
      expect(model.trainableWeights.length).toBe(490);
      expect(model.inputs[0].shape).toEqual([null, 299, 299, 3]);
      expect(model.outputs[0].shape).toEqual([null, 1000]);
      const names = model.layers.map((l) => l.name);
      expect(names.slice(1, 4)).toEqual(["conv2d", "batch_normalization", "activation"]);
      for (const n of [
        "conv2d_202", "batch_normalization_202", "activation_202", "max_pooling2d_3", "average_pooling2d",
        "mixed_5b", "block35_1_mixed", "block35_1_conv", "custom_scale_layer", "block35_1_ac", "block35_10_ac",
        "mixed_6a", "block17_20_ac", "mixed_7a", "block8_9_ac", "block8_10_conv", "custom_scale_layer_39",
        "conv_7b", "conv_7b_bn", "conv_7b_ac",
      ]) {
        expect(names).toContain(n);
      }
      for (const n of ["conv2d_203", "custom_scale_layer_40", "block8_10_ac", "average_pooling2d_1", "max_pooling2d_4", "block35_1_conv_bn"]) {
        expect(names).not.toContain(n);
      }
      // block8_10 ends without ReLU: its scaled sum feeds conv_7b directly.
      expect(names.slice(-6)).toEqual(["custom_scale_layer_39", "conv_7b", "conv_7b_bn", "conv_7b_ac", "avg_pool", "predictions"]);
      expect(model.getLayer("conv2d").weights[0].shape).toEqual([3, 3, 3, 32]);
      expect(model.getLayer("conv2d_202").weights[0].shape).toEqual([3, 1, 224, 256]);
      expect(model.getLayer("block35_1_conv").weights.map((w) => w.shape)).toEqual([[1, 1, 128, 320], [320]]);
      expect(model.getLayer("block17_1_conv").weights.map((w) => w.shape)).toEqual([[1, 1, 384, 1088], [1088]]);
      expect(model.getLayer("block8_10_conv").weights.map((w) => w.shape)).toEqual([[1, 1, 448, 2080], [2080]]);
      expect(model.getLayer("conv_7b").weights.map((w) => w.shape)).toEqual([[1, 1, 2080, 1536]]);
      expect(model.getLayer("conv_7b_bn").weights.map(bare)).toEqual(["beta", "moving_mean", "moving_variance"]);
      expect(model.getLayer("custom_scale_layer").getConfig().scale).toBe(0.17);
      expect(model.getLayer("custom_scale_layer_10").getConfig().scale).toBe(0.1);
      expect(model.getLayer("custom_scale_layer_30").getConfig().scale).toBe(0.2);
      expect(model.getLayer("custom_scale_layer_39").getConfig().scale).toBe(1);
      expect(model.getLayer("custom_scale_layer").weights).toEqual([]);
      expect(model.getLayer("mixed_5b").outputShape).toEqual([null, 35, 35, 320]);
      expect(model.getLayer("mixed_6a").outputShape).toEqual([null, 17, 17, 1088]);
      expect(model.getLayer("mixed_7a").outputShape).toEqual([null, 8, 8, 2080]);
    } finally {
      model.dispose();
    }
  });

  test("without the top: Keras's count, feature map and pooling", async () => {
    const model = await InceptionResNetV2({ includeTop: false, weights: null, inputShape: [299, 299, 3] });
    try {
      expect(model.countParams()).toBe(54_336_736);
      expect(model.outputs[0].shape).toEqual([null, 8, 8, 1536]);
    } finally {
      model.dispose();
    }
    for (const [pooling, layer] of [["avg", "global_average_pooling2d"], ["max", "global_max_pooling2d"]] as const) {
      const pooled = await InceptionResNetV2({ includeTop: false, weights: null, pooling, inputShape: [75, 75, 3] });
      try {
        expect(pooled.outputs[0].shape).toEqual([null, 1536]);
        expect(pooled.layers[pooled.layers.length - 1].name).toBe(layer);
      } finally {
        pooled.dispose();
      }
    }
  });

  test("the smallest input without the top, and a forward pass without leaks", async () => {
    const model = await InceptionResNetV2({ includeTop: false, weights: null, inputShape: [75, 75, 3] });
    try {
      expect(model.outputs[0].shape).toEqual([null, 1, 1, 1536]);
      const x = tf.randomUniform([1, 75, 75, 3], -1, 1, "float32", 4);
      tf.dispose(model.predict(x) as tf.Tensor);
      const before = tf.memory().numTensors;
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 1, 1, 1536]);
      expect(Array.from(y.dataSync()).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe("CustomScaleLayer", () => {
  test("x + residual · scale, exact values, shape and dtype, no leaks", () => {
    const layer = new CustomScaleLayer({ scale: 0.5 });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const r = tf.tensor4d([10, 20, -30, 0.5], [1, 2, 2, 1]);
    const first = layer.apply([x, r]) as tf.Tensor;
    expect(first.shape).toEqual([1, 2, 2, 1]);
    expect(first.dtype).toBe("float32");
    expect(Array.from(first.dataSync())).toEqual([6, 12, -12, 4.25]);
    first.dispose();
    const before = tf.memory().numTensors;
    tf.dispose(layer.apply([x, r]) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r]);
  });

  test("symbolic shape, no weights, config round trip", async () => {
    const a = tf.input({ shape: [4, 4, 3] });
    const b = tf.input({ shape: [4, 4, 3] });
    const out = new CustomScaleLayer({ scale: 0.17, name: "block35_1" }).apply([a, b]) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 4, 4, 3]);
    const model = tf.model({ inputs: [a, b], outputs: out });
    expect(model.countParams()).toBe(0);
    const json = model.toJSON(null, false) as unknown as tf.serialization.ConfigDict;
    const copy = await tf.models.modelFromJSON({ modelTopology: json });
    const layer = copy.getLayer("block35_1");
    expect(layer).toBeInstanceOf(CustomScaleLayer);
    expect(layer.getConfig().scale).toBe(0.17);
    model.dispose();
    copy.dispose();
  });

  test("invalid scale and inputs", () => {
    expect(() => new CustomScaleLayer({ scale: Number.NaN })).toThrow("CustomScaleLayer: invalid scale. Expected a finite number. Received: scale=");
    expect(() => new CustomScaleLayer({} as never)).toThrow("CustomScaleLayer: invalid scale. Expected a finite number. Received: scale=undefined.");
    const layer = new CustomScaleLayer({ scale: 1 });
    const x = tf.zeros([1, 2]);
    expect(() => layer.apply(x)).toThrow("CustomScaleLayer: invalid inputs. Expected two tensors [x, residual]. Received: one tensor.");
    x.dispose();
  });
});

describe("InceptionResNetV2 ImageNet weights", () => {
  test("asks for Keras's files (name, URL, md5) with and without the top", async () => {
    const resolve = resolveImagenetWeights as jest.MockedFunction<typeof resolveImagenetWeights>;
    (await InceptionResNetV2({ includeTop: false, inputShape: [75, 75, 3] })).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
      hash: "d19885ff4a710c122648d3b5c3b684e4",
    });
    (await InceptionResNetV2()).dispose();
    expect(resolve).toHaveBeenLastCalledWith({
      file: "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
      url: "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
      hash: "e693bd0210a403b3192acc6073ad2e96",
    });
  });
});
