/**
 * Out-of-memory reports: the kernel, the tensor and, in fit, the batch size, in one line;
 * the process survives and the model can train again with a smaller batch.
 */
import * as tf from "@tensorflow/tfjs";
import { loadNativeAddon } from "./native_addon";
import { NATIVE_BACKEND, registerNativeBackend } from "./native_backend";
import { OutOfMemoryError, reportBatchSizeOnOutOfMemory } from "./oom";

const loaded = loadNativeAddon();
const describeNative = "addon" in loaded ? describe : describe.skip;

describeNative("out of memory on the native backend", () => {
  beforeAll(async () => {
    if ("addon" in loaded) registerNativeBackend(loaded.addon, 2.5);
    reportBatchSizeOnOutOfMemory();
    await tf.setBackend(NATIVE_BACKEND);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("fit names the batch size, the kernel and the tensor, and training goes on with a smaller batch", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 1024, kernelSize: 3, activation: "relu" }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 10, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    const x = tf.zeros([20000, 28, 28, 1]);
    const y = tf.oneHot(tf.zeros([20000], "int32"), 10).toFloat();
    let t = Date.now();
    const error = await model.fit(x, y, { batchSize: 20000, epochs: 1, verbose: 0 }).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(OutOfMemoryError);
    const message = (error as Error).message;
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(/^engine: out of memory while training with batchSize 20000 in (Fused)?Conv2D \(inputs x float32\[20000,28,28,1\], filter float32\[3,3,1,1024\].*\): a tensor of 13,844,480,000 float32 values \(51\.6 GiB\) did not fit \(.* GiB free\)\. Use a smaller batchSize \(e\.g\. 5000\) or smaller layers\.$/);
    console.log("failing fit ms", Date.now() - t); t = Date.now();
    const small = await model.fit(x.slice(0, 8), y.slice(0, 8), { batchSize: 8, epochs: 1, verbose: 0 });
    expect(Number.isFinite(small.history.loss[0] as number)).toBe(true);
    console.log("small fit ms", Date.now() - t);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("a cpu kernel's allocation failure is reported the same way", () => {
    expect(() => tf.oneHot(tf.tensor1d([0, 1], "int32"), 3e9)).toThrow(/^engine: out of memory in OneHot \(inputs indices int32\[2\]\): a tensor did not fit/);
  });
});
