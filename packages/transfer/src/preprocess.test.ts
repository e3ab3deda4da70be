/**
 * preprocessInput: each mode on a hand-computed 1×1×2×3 image, every application's mode, rank 3,
 * int input, validation lines, no leaks. resizeImages: TF2's half-pixel grid by hand.
 */
import * as tf from "@tensorflow/tfjs";
import { APPLICATION_NAMES } from "./applications/common";
import { PREPROCESS_MODES, preprocessInput, resizeImages } from "./preprocess";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

/** Two RGB pixels: (10, 20, 30) and (255, 0, 127.5). */
function image(): tf.Tensor4D {
  return tf.tensor4d([10, 20, 30, 255, 0, 127.5], [1, 1, 2, 3]);
}

function expectValues(t: tf.Tensor, expected: number[]): void {
  const got = Array.from(t.dataSync());
  expect(got).toHaveLength(expected.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
}

describe("preprocessInput", () => {
  test("caffe: RGB → BGR, minus the ImageNet means (B, G, R)", () => {
    const y = preprocessInput(image(), "caffe");
    expect(y.shape).toEqual([1, 1, 2, 3]);
    expect(y.dtype).toBe("float32");
    // (30 − 103.939, 20 − 116.779, 10 − 123.68), (127.5 − 103.939, 0 − 116.779, 255 − 123.68)
    expectValues(y, [-73.939, -96.779, -113.68, 23.561, -116.779, 131.32]);
  });

  test("tf: x / 127.5 − 1", () => {
    // 10/127.5 − 1, 20/127.5 − 1, 30/127.5 − 1, 255 → 1, 0 → −1, 127.5 → 0
    expectValues(preprocessInput(image(), "tf"), [-0.921569, -0.843137, -0.764706, 1, -1, 0]);
  });

  test("torch: (x / 255 − mean) / std, RGB order", () => {
    // (10/255 − 0.485)/0.229, (20/255 − 0.456)/0.224, (30/255 − 0.406)/0.225, (1 − 0.485)/0.229, …
    expectValues(preprocessInput(image(), "torch"), [-1.946656, -1.685574, -1.281569, 2.248908, -2.035714, 0.417778]);
  });

  test("none: the same values in a new float32 tensor", () => {
    const x = image();
    const y = preprocessInput(x, "none");
    expect(y).not.toBe(x);
    expectValues(y, [10, 20, 30, 255, 0, 127.5]);
    y.dispose();
    expect(x.isDisposed).toBe(false);
  });

  test.each([
    ["VGG16", "caffe"],
    ["ResNet50", "caffe"],
    ["ResNet50V2", "tf"],
    ["InceptionV3", "tf"],
    ["Xception", "tf"],
    ["MobileNetV2", "tf"],
    ["NASNetMobile", "tf"],
    ["DenseNet121", "torch"],
    ["MobileNetV3Small", "none"],
    ["EfficientNetB0", "none"],
  ] as const)("%s preprocesses as %s", (name, mode) => {
    expect(PREPROCESS_MODES[name]).toBe(mode);
    expect(Array.from(preprocessInput(image(), name).dataSync())).toEqual(Array.from(preprocessInput(image(), mode).dataSync()));
  });

  test("every application has a mode", () => {
    expect(Object.keys(PREPROCESS_MODES).sort()).toEqual([...APPLICATION_NAMES].sort());
    expect(Object.isFrozen(PREPROCESS_MODES)).toBe(true);
  });

  test("one image of rank 3 and int32 pixels", () => {
    const y = preprocessInput(tf.tensor3d([10, 20, 30], [1, 1, 3], "int32"), "caffe");
    expect(y.shape).toEqual([1, 1, 3]);
    expect(y.dtype).toBe("float32");
    expectValues(y, [-73.939, -96.779, -113.68]);
  });

  test("no tensor leaks", () => {
    const x = image();
    for (const mode of ["caffe", "tf", "torch", "none"] as const) preprocessInput(x, mode).dispose();
    const before = tf.memory().numTensors;
    for (const mode of ["caffe", "tf", "torch", "none", "DenseNet201"] as const) preprocessInput(x, mode).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test.each([
    [
      "rank 2",
      () => preprocessInput(tf.zeros([2, 3]), "tf"),
      "preprocessInput: invalid x. Expected a tensor of RGB images, shape [height, width, 3] or [batch, height, width, 3] (channels last), values in 0–255. Received: x=Tensor<float32>[2,3].",
    ],
    [
      "not a tensor",
      () => preprocessInput([1, 2, 3] as unknown as tf.Tensor, "tf"),
      "preprocessInput: invalid x. Expected a tensor of RGB images, shape [height, width, 3] or [batch, height, width, 3] (channels last), values in 0–255. Received: x=[1,2,3].",
    ],
    [
      "grayscale",
      () => preprocessInput(tf.zeros([2, 4, 4, 1]), "tf"),
      "preprocessInput: invalid x. Expected a tensor of RGB images, shape [height, width, 3] or [batch, height, width, 3] (channels last), values in 0–255. Received: x=Tensor<float32>[2,4,4,1]. For grayscale images repeat the channel: tf.tile(x, [1, 1, 1, 3]).",
    ],
    [
      "channels first",
      () => preprocessInput(tf.zeros([2, 3, 4, 4]), "caffe"),
      "preprocessInput: invalid x. Expected a tensor of RGB images, shape [height, width, 3] or [batch, height, width, 3] (channels last), values in 0–255. Received: x=Tensor<float32>[2,3,4,4]. It looks channels-first: transpose it, e.g. x.transpose([0, 2, 3, 1]).",
    ],
    [
      "unknown mode",
      () => preprocessInput(image(), "vgg16" as "VGG16"),
      'preprocessInput: invalid mode. Expected "caffe", "tf", "torch", "none" or an application name such as "VGG16", "ResNet50", "MobileNetV2". Received: mode="vgg16". Did you mean `VGG16`?',
    ],
    [
      "misspelt mode",
      () => preprocessInput(image(), "tourch" as "torch"),
      'preprocessInput: invalid mode. Expected "caffe", "tf", "torch", "none" or an application name such as "VGG16", "ResNet50", "MobileNetV2". Received: mode="tourch". Did you mean `torch`?',
    ],
    [
      "missing mode",
      () => (preprocessInput as (x: tf.Tensor) => tf.Tensor)(image()),
      'preprocessInput: invalid mode. Expected "caffe", "tf", "torch", "none" or an application name such as "VGG16", "ResNet50", "MobileNetV2". Received: mode=undefined.',
    ],
  ])("%s is one line", (_, call, message) => {
    expect(call).toThrow(message);
    try {
      call();
    } catch (e) {
      expect((e as Error).message).toBe(message);
      expect((e as Error).message).not.toContain("\n");
    }
  });
});

describe("resizeImages", () => {
  test("upsampling a row [0, 4] to width 4 on TF2's half-pixel grid gives [0, 1, 3, 4]", () => {
    // Output column j samples input x = (j + 0.5)·2/4 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to [0, 1].
    const y = resizeImages(tf.tensor3d([0, 4], [1, 2, 1], "int32"), [1, 4]);
    expect(y.shape).toEqual([1, 4, 1]);
    expect(y.dtype).toBe("float32");
    expectValues(y, [0, 1, 3, 4]);
  });

  test("downsampling a row [0, 4, 8] to width 2 gives [1, 7], batch and channels kept", () => {
    // x = (j + 0.5)·3/2 − 0.5 = 0.25, 1.75.
    const y = resizeImages(tf.tensor4d([0, 0, 4, 40, 8, 80], [1, 1, 3, 2]), [1, 2]);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectValues(y, [1, 10, 7, 70]);
  });

  test("bad size and rank are one line each", () => {
    expect(() => resizeImages(tf.zeros([4, 4, 3]), [0, 4])).toThrow(
      "resizeImages: invalid size. Expected [height, width], two positive integers. Received: size=[0,4].",
    );
    expect(() => resizeImages(tf.zeros([4, 4]), [2, 2])).toThrow(
      "resizeImages: invalid x. Expected a tensor of images, shape [height, width, channels] or [batch, height, width, channels]. Received: x=Tensor<float32>[4,4].",
    );
  });
});
