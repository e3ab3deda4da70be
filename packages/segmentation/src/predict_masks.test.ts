import * as tf from "@tensorflow/tfjs";
import { predictMasks } from "./predict_masks";
import { unet } from "./unet";

describe("predictMasks", () => {
  it("gives the argmax class of every pixel, batch by batch, as int32 [N, H, W], leaving no tensor", () => {
    // A 1x1 convolution whose class-k score is the k-th channel: the mask is the argmax channel.
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [null, null, 3], filters: 3, kernelSize: 1, useBias: false, activation: "softmax" })] });
    model.layers[0].setWeights([tf.eye(3).reshape([1, 1, 3, 3])]);
    const x = tf.tensor4d([1, 0, 0, 0, 5, 0, 0, 0, 2, 3, 2, 1, 0, 1, 0, 0, 0, 9], [3, 1, 2, 3]);
    const before = tf.memory().numTensors;
    const masks = predictMasks(model, x, { batchSize: 2 });
    expect(masks.dtype).toBe("int32");
    expect(masks.shape).toEqual([3, 1, 2]);
    expect(Array.from(masks.dataSync())).toEqual([0, 1, 2, 0, 1, 2]);
    masks.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const one = predictMasks(model, x, { batchSize: 8 });
    expect(Array.from(one.dataSync())).toEqual([0, 1, 2, 0, 1, 2]);
    tf.dispose([one, x]);
    model.dispose();
  });

  it("says which sizes a U-Net can take, and rejects what is not a float32 image batch", () => {
    const model = unet({ inputShape: [null, null, 3], numClasses: 2, filters: 2, depth: 2 });
    const x = tf.zeros([1, 10, 12, 3]);
    expect(() => predictMasks(model, x)).toThrow("predictMasks: invalid images. Expected height and width divisible by 4 (4, 8, 12, …). Received: images=Tensor<float32>[1,10,12,3].");
    const ints = tf.zeros([1, 8, 8, 3], "int32");
    expect(() => predictMasks(model, ints)).toThrow("predictMasks: invalid images. Expected a float32 tensor [N, height, width, channels], e.g. pixels scaled to [0, 1]. Received: images=Tensor<int32>[1,8,8,3].");
    expect(() => predictMasks(model, x, { batchSize: 0 })).toThrow("predictMasks: invalid batchSize. Expected an integer >= 1. Received: batchSize=0.");
    tf.dispose([x, ints]);
    model.dispose();
  });
});
