import * as tf from "@tensorflow/tfjs";
import { featureMaps } from "./feature_maps";
import { layerOutputs } from "./layer_outputs";
import { decode, errorOf } from "./testing/png";

function smallModel(): tf.Sequential {
  return tf.sequential({
    name: "small",
    layers: [
      tf.layers.conv2d({ name: "conv_1", filters: 4, kernelSize: 3, activation: "relu", inputShape: [8, 8, 1] }),
      tf.layers.maxPooling2d({ name: "pool_1", poolSize: 2 }),
      tf.layers.flatten({ name: "flat" }),
      tf.layers.dense({ name: "out", units: 3, activation: "softmax" }),
    ],
  });
}

describe("featureMaps", () => {
  it("draws one tile per channel, each rescaled by its own min..max", async () => {
    // [1,2,2,3]: channel 0 = 0,1,2,3; channel 1 = 0,50,100,100; channel 2 = 7 (constant)
    const values = [0, 0, 7, 1, 50, 7, 2, 100, 7, 3, 100, 7];
    const act = tf.tensor4d(values, [1, 2, 2, 3]);
    const fig = featureMaps(act, { colormap: "gray", scale: 1, captions: false, cols: 3 });
    expect([fig.width, fig.height]).toEqual([3 * 2 + 4 * 6, 2 + 2 * 6]);
    const img = await decode(fig.toPng());
    expect([img.rgb(6, 6)[0], img.rgb(7, 6)[0], img.rgb(6, 7)[0], img.rgb(7, 7)[0]]).toEqual([0, 85, 170, 255]);
    expect([img.rgb(14, 6)[0], img.rgb(15, 6)[0], img.rgb(15, 7)[0]]).toEqual([0, 128, 255]);
    expect(img.rgb(22, 6)).toEqual([0, 0, 0]); // a constant (dead) map: the low end
    const viridis = await decode(featureMaps(act, { scale: 1, captions: false, cols: 3 }).toPng());
    expect(viridis.rgb(7, 7)).toEqual([0xfd, 0xe7, 0x25]);
    expect(viridis.rgb(15, 7)).toEqual([0xfd, 0xe7, 0x25]);
    act.dispose();
  });

  it("caps the number of maps and says so in the title", () => {
    const act = tf.zeros([1, 3, 3, 10]);
    const fig = featureMaps(act, { maxMaps: 4 });
    expect(fig.title).toBe("first 4 of 10 maps");
    expect(featureMaps(act, { maxMaps: 4, title: "conv" }).title).toBe("conv (first 4 of 10 maps)");
    act.dispose();
  });

  it("says what is wrong in one line", () => {
    const dense = tf.zeros([1, 64]);
    expect(errorOf(() => featureMaps(dense))).toBe(
      "featureMaps: invalid activations. Expected an activation of shape [1,H,W,C] or [H,W,C] (the output of a Conv2D or pooling layer). Received: activations=Tensor<float32>[1,64].",
    );
    const batch = tf.zeros([2, 4, 4, 3]);
    expect(errorOf(() => featureMaps(batch))).toBe(
      "featureMaps: invalid activations. Expected an activation of shape [1,H,W,C] or [H,W,C] (the output of a Conv2D or pooling layer). Pass one example, e.g. activation.slice(0, 1). Received: activations=Tensor<float32>[2,4,4,3].",
    );
    const nan = tf.tensor3d([NaN, 0, 0, NaN], [2, 1, 2]);
    expect(errorOf(() => featureMaps(nan))).toBe("featureMaps: invalid activations. Expected finite values. Received: activations=Tensor<float32>[2,1,2] with 2 NaN values (of 4).");
    expect(errorOf(() => featureMaps(nan, { maxmaps: 2 } as never))).toMatch(/^featureMaps: unknown option `maxmaps`\. .* Did you mean `maxMaps`\?$/);
    tf.dispose([dense, batch, nan]);
  });
});

describe("layerOutputs", () => {
  it("returns the 4-D layers' activations for one input, feeding featureMaps, and leaks nothing", () => {
    const model = smallModel();
    const x = tf.randomUniform([8, 8, 1]);
    const before = tf.memory().numTensors;
    const outs = layerOutputs(model, x);
    expect(outs.map((o) => [o.name, o.className, o.activation.shape])).toEqual([
      ["conv_1", "Conv2D", [1, 6, 6, 4]],
      ["pool_1", "MaxPooling2D", [1, 3, 3, 4]],
    ]);
    expect(tf.memory().numTensors).toBe(before + 2);
    const fig = featureMaps(outs[0]);
    expect(fig.title).toBe("conv_1: 4 maps 6x6");
    tf.dispose(outs.map((o) => o.activation));
    expect(tf.memory().numTensors).toBe(before);

    // the activations equal the model's own layers applied in turn
    const [conv] = layerOutputs(model, x.expandDims(0), ["conv_1"]);
    const direct = tf.tidy(() => model.layers[0].apply(x.expandDims(0)) as tf.Tensor);
    expect(Array.from(conv.activation.dataSync())).toEqual(Array.from(direct.dataSync()));
    tf.dispose([conv.activation, direct]);

    // the model still works: the helper model was not disposed with the shared layers
    const y = model.predict(x.expandDims(0)) as tf.Tensor;
    expect(y.shape).toEqual([1, 3]);
    y.dispose();
    const [dense] = layerOutputs(model, x, ["out"]);
    expect(dense.activation.shape).toEqual([1, 3]);
    dense.activation.dispose();
    x.dispose();
    model.dispose();
  });

  it("says what is wrong in one line", () => {
    const model = smallModel();
    const x = tf.zeros([8, 8, 1]);
    expect(errorOf(() => layerOutputs(model, x, ["conv1"]))).toBe(
      'layerOutputs: invalid layerName. Expected one of "conv_1", "pool_1", "flat", "out". Received: layerName="conv1". Did you mean `conv_1`?',
    );
    const batch = tf.zeros([2, 8, 8, 1]);
    expect(errorOf(() => layerOutputs(model, batch))).toBe(
      "layerOutputs: invalid input. Expected one example of shape [8,8,1] or [1,8,8,1]. Pass one example, e.g. x.slice(0, 1). Received: input=Tensor<float32>[2,8,8,1].",
    );
    const wrong = tf.zeros([28, 28, 1]);
    expect(errorOf(() => layerOutputs(model, wrong))).toBe("layerOutputs: invalid input. Expected one example of shape [8,8,1] or [1,8,8,1]. Received: input=Tensor<float32>[28,28,1].");
    const unbuilt = tf.sequential(); // no layer yet
    expect(errorOf(() => layerOutputs(unbuilt, x))).toMatch(/^layerOutputs: invalid model\. Expected a built model: give its first layer an inputShape\. Received: model "sequential_\d+" with no inputs yet\.$/);
    tf.dispose([x, batch, wrong]);
    model.dispose();
  });
});
