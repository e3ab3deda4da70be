import * as tf from "@tensorflow/tfjs";
import { filters } from "./filters";
import { decode, errorOf } from "./testing/png";

/** kernel[i, j, c, o] = f(i, j, c, o) as a [kh, kw, cin, cout] tensor. */
function kernel(kh: number, kw: number, cin: number, cout: number, f: (i: number, j: number, c: number, o: number) => number): tf.Tensor4D {
  const data: number[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) data.push(f(i, j, c, o));
  return tf.tensor4d(data, [kh, kw, cin, cout]);
}

describe("filters", () => {
  it("draws one tile per output channel, blue-white-red with one range symmetric around 0", async () => {
    // filter 0: row 0 = -1, row 1 = 0, row 2 = 1; filter 1: 0.5 everywhere
    const k = kernel(3, 3, 1, 2, (i, _j, _c, o) => (o === 0 ? i - 1 : 0.5));
    const fig = filters(k, { scale: 1, cols: 2, captions: false });
    expect([fig.width, fig.height]).toEqual([2 * 3 + 3 * 6, 3 + 2 * 6]);
    const img = await decode(fig.toPng());
    expect(img.rgb(6, 6)).toEqual([0, 0, 255]);
    expect(img.rgb(8, 7)).toEqual([255, 255, 255]);
    expect(img.rgb(7, 8)).toEqual([255, 0, 0]);
    expect(img.rgb(15, 6)).toEqual([255, 128, 128]); // 0.5 of a shared ±1 range
    const own = await decode(filters(k, { scale: 1, cols: 2, captions: false, range: "auto" }).toPng());
    expect(own.rgb(15, 6)).toEqual([255, 0, 0]); // its own range: 0.5 is the top
    k.dispose();
  });

  it("shows 3-channel kernels as colour, and the mean or one input channel of others", async () => {
    const rgb = tf.tensor4d([1, 0, -1], [1, 1, 3, 1]);
    expect((await decode(filters(rgb, { scale: 1, captions: false }).toPng())).rgb(6, 6)).toEqual([255, 128, 0]);
    // [1,1,2,2]: c0 = (1, 0), c1 = (0, -1) for outputs (0, 1)
    const two = tf.tensor4d([1, 0, 0, -1], [1, 1, 2, 2]);
    const mean = await decode(filters(two, { inputChannel: "mean", scale: 1, captions: false }).toPng());
    expect([mean.rgb(6, 6), mean.rgb(13, 6)]).toEqual([
      [255, 0, 0],
      [0, 0, 255],
    ]);
    const second = await decode(filters(two, { inputChannel: 1, scale: 1, captions: false }).toPng());
    expect([second.rgb(6, 6), second.rgb(13, 6)]).toEqual([
      [255, 255, 255],
      [0, 0, 255],
    ]);
    tf.dispose([rgb, two]);
  });

  it("takes a Conv2D layer, titles it, and says when filters are left out", () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ name: "conv_a", filters: 5, kernelSize: 3, inputShape: [8, 8, 1] })] });
    const fig = filters(model.layers[0]);
    expect(String(fig)).toBe("<Figure " + `${fig.width}x${fig.height}` + ": conv_a: 5 filters 3x3>");
    expect(filters(model.layers[0], { maxFilters: 2 }).title).toBe("conv_a: 5 filters 3x3 (first 2 of 5 filters)");
    expect(filters(model.getWeights()[0], { maxFilters: 2 }).title).toBe("first 2 of 5 filters");
    const before = tf.memory().numTensors;
    filters(model.layers[0]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("says what is wrong in one line", () => {
    const flat = tf.zeros([3, 3]);
    expect(errorOf(() => filters(flat))).toBe(
      "filters: invalid kernel. Expected a Conv2D kernel [kh,kw,cin,cout] (tensor or {data, shape} array) or a Conv2D layer. Received: kernel=Tensor<float32>[3,3].",
    );
    const dense = tf.sequential({ layers: [tf.layers.dense({ name: "dense_a", units: 10, inputShape: [784] })] });
    expect(errorOf(() => filters(dense.layers[0]))).toBe(
      'filters: invalid kernel. Expected a Conv2D kernel [kh,kw,cin,cout] (tensor or {data, shape} array) or a Conv2D layer. Received: kernel=layer "dense_a" (Dense) with weights [784,10], [10].',
    );
    const unbuilt = tf.layers.conv2d({ name: "conv_b", filters: 2, kernelSize: 3 });
    expect(errorOf(() => filters(unbuilt))).toBe(
      'filters: invalid kernel. Expected a Conv2D kernel [kh,kw,cin,cout] (tensor or {data, shape} array) or a Conv2D layer with weights: build the model first (inputShape on its first layer). Received: kernel=layer "conv_b" (Conv2D) with no weights.',
    );
    const k = tf.zeros([3, 3, 2, 4]);
    expect(errorOf(() => filters(k, { inputChannel: 2 }))).toBe('filters: invalid inputChannel. Expected an index in [0, 1], "mean". Received: inputChannel=2.');
    expect(errorOf(() => filters(k, { inputChannel: "rgb" }))).toBe(
      'filters: invalid inputChannel. Expected "rgb" only for a kernel with 3 input channels, else an index in [0, 1] or "mean". Received: inputChannel="rgb" for cin=2.',
    );
    const nan = tf.tensor4d([NaN, 1], [1, 1, 1, 2]);
    expect(errorOf(() => filters(nan))).toBe("filters: invalid kernel. Expected finite values. Received: kernel=Tensor<float32>[1,1,1,2] with 1 NaN value (of 2).");
    tf.dispose([flat, k, nan]);
    dense.dispose();
  });
});
