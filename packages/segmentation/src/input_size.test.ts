import * as tf from "@tensorflow/tfjs";
import { checkInputSize, expectInputShape, outputStride, recordOutputStride } from "./input_size";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

describe("outputStride", () => {
  test("what the builder recorded; undefined for any other model", () => {
    const input = tf.input({ shape: [4, 4, 1] });
    const model = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 1, kernelSize: 1 }).apply(input) as tf.SymbolicTensor });
    expect(outputStride(model)).toBeUndefined();
    recordOutputStride(model, 16);
    expect(outputStride(model)).toBe(16);
    model.dispose();
  });
});

describe("checkInputSize", () => {
  test("multiples of the stride and null pass", () => {
    expect(() => checkInputSize("unet", [64, 96], 32)).not.toThrow();
    expect(() => checkInputSize("unet", [null, 32], 32)).not.toThrow();
    expect(() => checkInputSize("unet", [null, null], 32)).not.toThrow();
    expect(() => checkInputSize("unet", [7, 9], 1)).not.toThrow();
  });

  test("error lines list the multiples around the size that fails", () => {
    expect(() => checkInputSize("fcn8s", [100, 100], 32, { name: "inputShape", value: [100, 100, 3] })).toThrow(
      "fcn8s: invalid inputShape. Expected height and width divisible by 32 (…, 64, 96, 128, …). Received: inputShape=[100,100,3].",
    );
    expect(() => checkInputSize("unet", [64, 20], 32)).toThrow("unet: invalid inputShape. Expected height and width divisible by 32 (32, 64, 96, …). Received: inputShape=[64,20].");
    expect(() => checkInputSize("unet", [100, 64], 16)).toThrow("unet: invalid inputShape. Expected height and width divisible by 16 (…, 80, 96, 112, …). Received: inputShape=[100,64].");
    expect(() => checkInputSize("unet", [0, 64], 16)).toThrow("unet: invalid inputShape. Expected height and width divisible by 16 (16, 32, 48, …). Received: inputShape=[0,64].");
    const x = tf.zeros([1, 50, 64, 3]);
    expect(() => checkInputSize("predictMask", [50, 64], 16, { name: "images", value: x })).toThrow(
      "predictMask: invalid images. Expected height and width divisible by 16 (…, 32, 48, 64, …). Received: images=Tensor<float32>[1,50,64,3].",
    );
    x.dispose();
    expect(() => checkInputSize("unet", [64] as never, 16)).toThrow("unet: invalid inputShape. Expected a [height, width] (each null or a multiple of 16). Received: inputShape=[64].");
    expect(() => checkInputSize("unet", [64, 64], 0)).toThrow("checkInputSize: invalid stride. Expected a positive integer. Received: stride=0.");
  });
});

describe("expectInputShape", () => {
  test("[height, width, channels] with the size rule", () => {
    expect(expectInputShape("unet", [null, 64, 3], 16)).toEqual([null, 64, 3]);
    expect(() => expectInputShape("unet", [64, 64], 16)).toThrow(
      "unet: invalid inputShape. Expected [height, width, channels]: height and width null (any size) or multiples of 16, channels a positive integer, e.g. [null, null, 3] or [32, 32, 3]. Received: inputShape=[64,64].",
    );
    expect(() => expectInputShape("unet", [64, 64, null], 16)).toThrow("Received: inputShape=[64,64,null].");
    expect(() => expectInputShape("unet", [48, 64, 3], 32)).toThrow("unet: invalid inputShape. Expected height and width divisible by 32 (32, 64, 96, …). Received: inputShape=[48,64,3].");
  });
});
