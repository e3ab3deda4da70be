/**
 * VGG16 / VGG19: Keras's parameter counts, layer names, weight order and output shapes; the
 * ImageNet files asked for; and, through VGG16, one test per Keras argument rule of common.ts.
 *
 * Expected counts are Keras's, never our model's output: the with-top totals, trainable counts
 * and weight-array counts are tf.keras 2.x `model.summary()` / `len(model.weights)` figures (also
 * on keras.io's applications table, rounded); the without-top ones are computed by hand from
 * `keras/applications/vgg16.py` (13 or 16 3x3 convolutions: 9·c_in·c_out + c_out each; the top
 * adds 25088·4096+4096 + 4096·4096+4096 + 4096·1000+1000 = 123,642,856).
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightsFile } from "../weights";

// The ImageNet file a builder asks for, without loading anything: the lookup records the
// request and stops the build (finishApplication then disposes the model).
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

import { VGG16, VGG19 } from "./vgg";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

let model: tf.LayersModel | undefined;
afterEach(() => {
  model?.dispose();
  model = undefined;
});

/** Total, trainable and non-trainable parameters and the number of weight arrays. */
function counts(m: tf.LayersModel): { total: number; trainable: number; nonTrainable: number; weights: number } {
  const size = (w: tf.LayerVariable): number => (w.shape as number[]).reduce((a, b) => a * b, 1);
  const total = m.countParams();
  const trainable = m.trainableWeights.reduce((s, w) => s + size(w), 0);
  return { total, trainable, nonTrainable: total - trainable, weights: m.weights.length };
}

const VGG16_NAMES = [
  "block1_conv1", "block1_conv2", "block1_pool",
  "block2_conv1", "block2_conv2", "block2_pool",
  "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool",
  "block4_conv1", "block4_conv2", "block4_conv3", "block4_pool",
  "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool",
];

describe("VGG16", () => {
  test("with the top: Keras's 138,357,544 parameters, layer names in Keras's order, [null, 1000]", async () => {
    model = await VGG16({ weights: null });
    // tf.keras: Total params 138,357,544, all trainable; len(model.weights) 32.
    expect(counts(model)).toEqual({ total: 138_357_544, trainable: 138_357_544, nonTrainable: 0, weights: 32 });
    expect(model.name).toBe("vgg16");
    expect(model.layers[0].getClassName()).toBe("InputLayer");
    expect(model.layers.slice(1).map((l) => l.name)).toEqual([...VGG16_NAMES, "flatten", "fc1", "fc2", "predictions"]);
    expect(model.inputs[0].shape).toEqual([null, 224, 224, 3]);
    expect(model.outputs[0].shape).toEqual([null, 1000]);
    expect((model.getLayer("predictions").getConfig() as { activation: string }).activation).toBe("softmax");
    // Weight order and shapes per layer are Keras's (kernel [kh, kw, in, out], then bias).
    expect(model.getLayer("block1_conv1").weights.map((w) => [w.originalName, w.shape])).toEqual([
      ["block1_conv1/kernel", [3, 3, 3, 64]],
      ["block1_conv1/bias", [64]],
    ]);
    expect(model.getLayer("fc1").weights.map((w) => w.shape)).toEqual([[25088, 4096], [4096]]);
    // Keras's default glorot_uniform (tfjs writes it as VarianceScaling; its Conv2D and Dense default to the normal one).
    const glorotUniform = { className: "VarianceScaling", config: { scale: 1, mode: "fanAvg", distribution: "uniform" } };
    expect(model.getLayer("fc1").getConfig()).toMatchObject({ kernelInitializer: glorotUniform, biasInitializer: { className: "Zeros" } });
    expect(model.getLayer("block1_conv1").getConfig()).toMatchObject({ kernelInitializer: glorotUniform });
  });

  test("without the top: 14,714,688 parameters and [null, null, null, 512]", async () => {
    model = await VGG16({ includeTop: false, weights: null });
    // By hand from vgg16.py (see the file comment); Keras's no-top .h5 holds the same 26 arrays.
    expect(counts(model)).toEqual({ total: 14_714_688, trainable: 14_714_688, nonTrainable: 0, weights: 26 });
    expect(model.layers.slice(1).map((l) => l.name)).toEqual(VGG16_NAMES);
    expect(model.outputs[0].shape).toEqual([null, null, null, 512]);
  });

  test("without the top at 150x150: [null, 4, 4, 512]; pooling gives [null, 512]", async () => {
    model = await VGG16({ includeTop: false, weights: null, inputShape: [150, 150, 3] });
    expect(model.outputs[0].shape).toEqual([null, 4, 4, 512]);
    expect(model.countParams()).toBe(14_714_688);
    model.dispose();
    model = await VGG16({ includeTop: false, weights: null, inputShape: [150, 150, 3], pooling: "avg" });
    expect(model.outputs[0].shape).toEqual([null, 512]);
    expect(model.layers[model.layers.length - 1].getClassName()).toBe("GlobalAveragePooling2D");
    model.dispose();
    model = await VGG16({ includeTop: false, weights: null, pooling: "max" });
    expect(model.outputs[0].shape).toEqual([null, 512]);
    expect(model.layers[model.layers.length - 1].getClassName()).toBe("GlobalMaxPooling2D");
  });

  test("classes and classifierActivation shape the top (logits with null)", async () => {
    model = await VGG16({ weights: null, classes: 10, classifierActivation: null });
    expect(model.outputs[0].shape).toEqual([null, 10]);
    expect((model.getLayer("predictions").getConfig() as { activation: string }).activation).toBe("linear");
    // 138,357,544 - 4096·1000 - 1000 + 4096·10 + 10
    expect(model.countParams()).toBe(134_301_514);
  });

  test("a forward pass runs, and dispose frees every tensor", async () => {
    const before = tf.memory().numTensors;
    model = await VGG16({ includeTop: false, weights: null, inputShape: [32, 32, 3], pooling: "avg" });
    const x = tf.zeros([2, 32, 32, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 512]);
    tf.dispose([x, y]);
    model.dispose();
    model = undefined;
    expect(tf.memory().numTensors).toBe(before);
  });

  test('weights: "imagenet" asks for Keras\'s files with their md5 (top and no top)', async () => {
    requested.length = 0;
    await expect(VGG16()).rejects.toThrow("offline test");
    await expect(VGG16({ includeTop: false })).rejects.toThrow("offline test");
    expect(requested).toEqual([
      {
        file: "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        url: "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        hash: "64373286793e3c8b2b4e3219cbf3544b",
      },
      {
        file: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        url: "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        hash: "6d6bbae143d832006294945121d1f1fc",
      },
    ]);
  });
});

describe("VGG19", () => {
  test("with the top: Keras's 143,667,240 parameters; 16 convolutions", async () => {
    model = await VGG19({ weights: null });
    // tf.keras: Total params 143,667,240; len(model.weights) 38.
    expect(counts(model)).toEqual({ total: 143_667_240, trainable: 143_667_240, nonTrainable: 0, weights: 38 });
    expect(model.name).toBe("vgg19");
    expect(model.layers[1].name).toBe("block1_conv1");
    expect(model.layers.filter((l) => l.getClassName() === "Conv2D")).toHaveLength(16);
    expect(model.getLayer("block5_conv4").outputShape).toEqual([null, 14, 14, 512]);
    expect(model.layers[model.layers.length - 1].name).toBe("predictions");
  });

  test("without the top: 20,024,384 parameters", async () => {
    model = await VGG19({ includeTop: false, weights: null });
    // VGG16's 14,714,688 + block3_conv4 (9·256·256+256) + block4_conv4 and block5_conv4 (9·512·512+512 each).
    expect(counts(model)).toEqual({ total: 20_024_384, trainable: 20_024_384, nonTrainable: 0, weights: 32 });
    expect(model.layers[model.layers.length - 1].name).toBe("block5_pool");
  });

  test('weights: "imagenet" asks for Keras\'s VGG19 files', async () => {
    requested.length = 0;
    await expect(VGG19({ includeTop: false })).rejects.toThrow("offline test");
    expect(requested).toEqual([
      {
        file: "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        url: "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        hash: "253f8cb515780f3b799900260a226db6",
      },
    ]);
  });
});

describe("Keras's argument rules (common.ts), through VGG16", () => {
  test("weights must be null, \"imagenet\" or a path", async () => {
    await expect(VGG16({ weights: "" })).rejects.toThrow(
      'VGG16: invalid weights. The `weights` argument should be either null (random initialization), "imagenet" (pre-training on ImageNet), or the path to the weights file to be loaded. Received: weights="".',
    );
  });

  test("ImageNet weights with the top need 1000 classes", async () => {
    await expect(VGG16({ classes: 10 })).rejects.toThrow('VGG16: if using weights="imagenet" with includeTop=true, classes should be 1000. Received: classes=10.');
  });

  test("ImageNet weights with the top need softmax or null", async () => {
    await expect(VGG16({ classifierActivation: "sigmoid" })).rejects.toThrow(
      'VGG16: only "softmax" or null may be used as classifierActivation with the ImageNet weights. Received: classifierActivation="sigmoid".',
    );
  });

  test("ImageNet weights with the top need the default input shape", async () => {
    await expect(VGG16({ inputShape: [150, 150, 3] })).rejects.toThrow('VGG16: with includeTop: true and weights: "imagenet", inputShape should be [224, 224, 3].');
  });

  test("ImageNet weights need 3 channels", async () => {
    await expect(VGG16({ includeTop: false, inputShape: [64, 64, 1] })).rejects.toThrow("VGG16: the ImageNet weights need 3 input channels. Received: inputShape=[64,64,1].");
  });

  test("height and width of at least 32", async () => {
    await expect(VGG16({ includeTop: false, weights: null, inputShape: [31, 64, 3] })).rejects.toThrow("VGG16: input size must be at least 32x32. Received: inputShape=[31,64,3].");
  });

  test("with the top, height and width must be known", async () => {
    await expect(VGG16({ weights: null, inputShape: [null, null, 3] })).rejects.toThrow("VGG16: with includeTop: true, height and width must be known.");
  });

  test("the number of channels must be known", async () => {
    await expect(VGG16({ includeTop: false, weights: null, inputShape: [64, 64, null] })).rejects.toThrow("VGG16: the number of channels must be known.");
  });

  test("inputShape must be [height, width, channels]", async () => {
    await expect(VGG16({ includeTop: false, weights: null, inputShape: [64, 64] })).rejects.toThrow("VGG16: invalid inputShape.");
  });

  test("pooling is \"avg\", \"max\" or null", async () => {
    await expect(VGG16({ includeTop: false, weights: null, pooling: "mean" as "avg" })).rejects.toThrow('VGG16: invalid pooling. Expected "avg", "max" or null. Received: pooling="mean".');
  });

  test("an unknown option is named, with the nearest known one", async () => {
    await expect(VGG16({ include_top: false } as never)).rejects.toThrow("VGG16: unknown option `include_top`.");
    await expect(VGG16({ includeTop: false, weights: null, pooling: null, inputshape: [64, 64, 3] } as never)).rejects.toThrow("Did you mean `inputShape`?");
  });

  test("includeTop is a boolean, classes a positive integer", async () => {
    await expect(VGG16({ includeTop: "no" as never })).rejects.toThrow('VGG16: invalid includeTop. Expected true or false. Received: includeTop="no".');
    await expect(VGG16({ weights: null, classes: 2.5 })).rejects.toThrow("VGG16: invalid classes. Expected an integer >= 1. Received: classes=2.5.");
  });

  test("inputTensor must be symbolic and match the input shape", async () => {
    await expect(VGG16({ inputTensor: tf.zeros([1, 224, 224, 3]) as never })).rejects.toThrow("VGG16: invalid inputTensor. Expected a symbolic tensor");
    const small = tf.input({ shape: [64, 64, 3] });
    await expect(VGG16({ includeTop: false, weights: null, inputTensor: small, inputShape: [96, 96, 3] })).rejects.toThrow(
      "VGG16: inputTensor has shape [null, 64, 64, 3]; expected [null, 96, 96, 3].",
    );
  });

  test("inputTensor: the model starts from the tensor's source input (Keras get_source_inputs)", async () => {
    const image = tf.input({ shape: [64, 64, 3] });
    const scaled = tf.layers.rescaling({ scale: 1 / 255 }).apply(image) as tf.SymbolicTensor;
    model = await VGG16({ includeTop: false, weights: null, inputTensor: scaled });
    expect(model.inputs).toEqual([image]);
    expect(model.inputs[0].shape).toEqual([null, 64, 64, 3]);
    expect(model.outputs[0].shape).toEqual([null, 2, 2, 512]);
    expect(model.countParams()).toBe(14_714_688);
  });
});
