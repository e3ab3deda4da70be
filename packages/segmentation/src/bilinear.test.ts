/**
 * The bilinear initializer: its weights by hand, what a stride-2 transposed convolution does with
 * it (constants stay constant, ramps stay ramps, as tf.image.resizeBilinear), and a save/load
 * round trip by its registered name.
 */
import * as tf from "@tensorflow/tfjs";
import { BilinearUpsampling, bilinearUpsampling, bilinearWeights } from "./bilinear";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

function upsampler(channels: number, factor = 2): tf.layers.Layer {
  return tf.layers.conv2dTranspose({ filters: channels, kernelSize: 2 * factor, strides: factor, padding: "same", useBias: false, kernelInitializer: bilinearUpsampling() });
}

/** The largest absolute difference over rows/cols [lo, hi) of two [1, h, w, c] tensors. */
function worstInterior(a: tf.Tensor, b: tf.Tensor, lo: number, hi: number): number {
  return tf.tidy(() => {
    const size = [1, hi - lo, hi - lo, a.shape[3] as number];
    return tf.sub(a.slice([0, lo, lo, 0], size), b.slice([0, lo, lo, 0], size)).abs().max().dataSync()[0];
  });
}

describe("bilinearWeights", () => {
  test("FCN's upsample_filt along one axis", () => {
    expect(Array.from(bilinearWeights(4))).toEqual([0.25, 0.75, 0.75, 0.25]);
    expect(Array.from(bilinearWeights(3))).toEqual([0.5, 1, 0.5]);
    expect(Array.from(bilinearWeights(2))).toEqual([0.5, 0.5]);
    expect(Array.from(bilinearWeights(1))).toEqual([1]);
    expect(Array.from(bilinearWeights(16))).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 15, 13, 11, 9, 7, 5, 3, 1].map((v) => v / 16));
  });
});

describe("BilinearUpsampling", () => {
  test("a per-channel diagonal kernel [kh, kw, c, c] of outer products", () => {
    const kernel = new BilinearUpsampling().apply([4, 2, 3, 3], "float32");
    expect(kernel.shape).toEqual([4, 2, 3, 3]);
    const values = kernel.arraySync() as number[][][][];
    const wh = [0.25, 0.75, 0.75, 0.25];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 2; j++) {
        for (let o = 0; o < 3; o++) {
          for (let c = 0; c < 3; c++) expect(values[i][j][o][c]).toBeCloseTo(o === c ? wh[i] * 0.5 : 0, 7);
        }
      }
    }
    kernel.dispose();
  });

  test("a stride-2, 4x4, 'same' transposed convolution keeps a constant image constant inside", () => {
    const layer = upsampler(2);
    const x = tf.concat([tf.fill([1, 6, 7, 1], 3), tf.fill([1, 6, 7, 1], -1.5)], 3);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 12, 14, 2]);
    const expected = tf.concat([tf.fill([1, 12, 14, 1], 3), tf.fill([1, 12, 14, 1], -1.5)], 3);
    // The outer pixel on each side sees the zero padding (one tap of 0.75 instead of 0.75 + 0.25).
    expect(worstInterior(y, expected, 1, 11)).toBeLessThan(1e-6);
    const edge = y.slice([0, 0, 5, 0], [1, 1, 1, 1]).dataSync()[0];
    expect(edge).toBeCloseTo(0.75 * 3, 5);
    tf.dispose([x, y, expected]);
    layer.dispose();
  });

  test("upsamples a linear ramp to a linear ramp: tf.image.resizeBilinear with half-pixel centres, inside", () => {
    for (const factor of [2, 4]) {
      const n = 6;
      const layer = upsampler(1, factor);
      const x = tf.tidy(() => {
        const rows = tf.range(0, n).reshape([n, 1]).tile([1, n]);
        const cols = tf.range(0, n).reshape([1, n]).tile([n, 1]);
        return tf.add(tf.mul(rows, 2), tf.mul(cols, -3)).add(1).reshape([1, n, n, 1]);
      });
      const y = layer.apply(x) as tf.Tensor;
      const m = n * factor;
      expect(y.shape).toEqual([1, m, m, 1]);
      // Output pixel p sits at input coordinate u = (p + 0.5)/factor − 0.5: the value 1 + 2·u(row) − 3·u(col).
      const u = (p: number) => (p + 0.5) / factor - 0.5;
      const ramp = tf.tensor4d(Array.from({ length: m * m }, (_, k) => 1 + 2 * u(Math.floor(k / m)) - 3 * u(k % m)), [1, m, m, 1]);
      const resized = tf.image.resizeBilinear(x as tf.Tensor4D, [m, m], false, true);
      const lo = factor / 2;
      expect(worstInterior(y, ramp, lo, m - lo)).toBeLessThan(1e-4);
      expect(worstInterior(y, resized, lo, m - lo)).toBeLessThan(1e-4);
      tf.dispose([x, y, ramp, resized]);
      layer.dispose();
    }
  });

  test("survives a save/load round trip by its registered name", async () => {
    const input = tf.input({ shape: [null, null, 3] as unknown as number[] });
    const output = tf.layers
      .conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: "same", useBias: false, kernelInitializer: bilinearUpsampling(), name: "up" })
      .apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    expect(JSON.stringify(saved!.modelTopology)).toContain('"kernel_initializer":{"class_name":"BilinearUpsampling","config":{}}');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect((loaded.getLayer("up") as unknown as { kernelInitializer: unknown }).kernelInitializer).toBeInstanceOf(BilinearUpsampling);
    const x = tf.randomUniform([1, 4, 6, 3], 0, 1, "float32", 7);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(b.shape).toEqual([1, 8, 12, 3]);
    expect(tf.sub(a, b).abs().max().dataSync()[0]).toBe(0);
    // A fresh layer from the saved config builds the same bilinear kernel.
    const config = loaded.getLayer("up").getConfig();
    const fresh = tf.layers.conv2dTranspose({ ...(config as object), kernelInitializer: (config as { kernelInitializer: unknown }).kernelInitializer } as never);
    const c = fresh.apply(x) as tf.Tensor;
    expect(tf.sub(a, c).abs().max().dataSync()[0]).toBe(0);
    tf.dispose([x, a, b, c]);
    [model, loaded].forEach((m) => m.dispose());
    fresh.dispose();
  });

  test("errors: channels that differ, a dtype, options", () => {
    const layer = tf.layers.conv2dTranspose({ filters: 2, kernelSize: 4, strides: 2, padding: "same", kernelInitializer: bilinearUpsampling() });
    const x = tf.zeros([1, 4, 4, 3]);
    expect(() => layer.apply(x)).toThrow(
      "BilinearUpsampling: invalid kernel shape. Expected a Conv2DTranspose kernel [kh, kw, c, c] with as many filters as input channels (each channel is upsampled on its own). Received: shape=[4,4,2,3].",
    );
    expect(() => new BilinearUpsampling().apply([4, 4, 1, 1], "int32")).toThrow('BilinearUpsampling: invalid dtype. Expected "float32". Received: dtype="int32".');
    expect(() => bilinearUpsampling({ factor: 2 } as never)).toThrow(
      "bilinearUpsampling: invalid options. Expected none (the kernel follows from the layer's kernelSize and filters). Received: options={\"factor\":2}.",
    );
    expect(bilinearUpsampling({})).toBeInstanceOf(BilinearUpsampling);
    x.dispose();
  });

  test("no tensor leaks: building the kernel leaves only the layer's variable", () => {
    const before = tf.memory().numTensors;
    const layer = upsampler(3);
    const x = tf.ones([1, 4, 4, 3]);
    const y = layer.apply(x) as tf.Tensor;
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before + 1); // the kernel
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
