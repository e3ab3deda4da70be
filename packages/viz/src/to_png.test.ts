import * as tf from "@tensorflow/tfjs";
import { toPng } from "./to_png";
import { decode, errorOf } from "./testing/png";

describe("toPng", () => {
  it("maps a 2x2 float image 0..1 to exact grey levels round(255·t)", async () => {
    const x = tf.tensor2d([
      [0, 0.25],
      [0.5, 1],
    ]);
    const img = await decode(toPng(x));
    expect([img.width, img.height]).toEqual([2, 2]);
    expect(img.at(0, 0)).toEqual([0, 0, 0, 255]);
    expect(img.at(1, 0)).toEqual([64, 64, 64, 255]);
    expect(img.at(0, 1)).toEqual([128, 128, 128, 255]);
    expect(img.at(1, 1)).toEqual([255, 255, 255, 255]);
    x.dispose();
  });

  it("scale 4 turns 2x2 into 8x8 of crisp 4x4 blocks", async () => {
    const x = tf.tensor3d([0, 1, 1, 0], [2, 2, 1]);
    const img = await decode(toPng(x, { scale: 4 }));
    expect([img.width, img.height]).toEqual([8, 8]);
    for (let y = 0; y < 8; y++) {
      for (let xx = 0; xx < 8; xx++) {
        const white = (xx < 4) !== (y < 4);
        expect(img.rgb(xx, y)).toEqual(white ? [255, 255, 255] : [0, 0, 0]);
      }
    }
    x.dispose();
  });

  it("takes a uint8 {data, shape} array (the datasets Uint8Tensor) as 0..255, and int tensors likewise", async () => {
    const digit = { data: Uint8Array.from([0, 10, 200, 255]), shape: [1, 2, 2, 1] };
    const img = await decode(toPng(digit));
    expect([img.rgb(0, 0), img.rgb(1, 0), img.rgb(0, 1), img.rgb(1, 1)]).toEqual([
      [0, 0, 0],
      [10, 10, 10],
      [200, 200, 200],
      [255, 255, 255],
    ]);
    const ints = tf.tensor2d([[7, 128]], [1, 2], "int32");
    expect((await decode(toPng(ints))).rgb(0, 0)).toEqual([7, 7, 7]);
    ints.dispose();
  });

  it("rescales by a given range (clipping outside) or by the image's own min..max", async () => {
    const x = tf.tensor2d([[-1, 0, 1, 3]]);
    const given = await decode(toPng(x, { range: [0, 2] }));
    expect([0, 1, 2, 3].map((i) => given.rgb(i, 0)[0])).toEqual([0, 0, 128, 255]);
    const auto = await decode(toPng(x, { range: "auto" }));
    expect([0, 1, 2, 3].map((i) => auto.rgb(i, 0)[0])).toEqual([0, 64, 128, 255]);
    x.dispose();
  });

  it("bwr maps 0 to white, -max to blue and +max to red (range symmetric around 0 by default)", async () => {
    const x = tf.tensor2d([[-0.5, 0, 0.25, 0.5]]);
    const img = await decode(toPng(x, { colormap: "bwr" }));
    expect(img.rgb(0, 0)).toEqual([0, 0, 255]);
    expect(img.rgb(1, 0)).toEqual([255, 255, 255]);
    expect(img.rgb(2, 0)).toEqual([255, 128, 128]);
    expect(img.rgb(3, 0)).toEqual([255, 0, 0]);
    x.dispose();
  });

  it("viridis goes from matplotlib's dark purple to yellow", async () => {
    const x = tf.tensor2d([[0, 1]]);
    const img = await decode(toPng(x, { colormap: "viridis" }));
    expect(img.rgb(0, 0)).toEqual([0x44, 0x01, 0x54]);
    expect(img.rgb(1, 0)).toEqual([0xfd, 0xe7, 0x25]);
    x.dispose();
  });

  it("draws RGB and RGBA images channel by channel", async () => {
    const rgb = tf.tensor3d([1, 0, 0, 0, 1, 0.5], [1, 2, 3]);
    const img = await decode(toPng(rgb));
    expect(img.at(0, 0)).toEqual([255, 0, 0, 255]);
    expect(img.at(1, 0)).toEqual([0, 255, 128, 255]);
    const rgba = { data: Uint8Array.from([0, 0, 255, 255, 0, 255, 0, 255]), shape: [1, 2, 4] };
    const img2 = await decode(toPng(rgba));
    expect(img2.at(0, 0)).toEqual([0, 0, 255, 255]);
    expect(img2.at(1, 0)).toEqual([0, 255, 0, 255]);
    rgb.dispose();
  });

  it("a constant image with range auto maps to the low end (gray) or to white (bwr)", async () => {
    const x = tf.zeros([2, 2]);
    expect((await decode(toPng(x, { range: "auto" }))).rgb(0, 0)).toEqual([0, 0, 0]);
    expect((await decode(toPng(x, { colormap: "bwr" }))).rgb(1, 1)).toEqual([255, 255, 255]);
    x.dispose();
  });

  it("rejects bad shapes, batches, NaN values and bad options in one line each", () => {
    const rank5 = tf.zeros([1, 2, 2, 2, 1]);
    expect(errorOf(() => toPng(rank5))).toBe(
      "toPng: invalid image. Expected a tensor of shape [H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4. Received: image=Tensor<float32>[1,2,2,2,1].",
    );
    const twoChannels = tf.zeros([28, 28, 2]);
    expect(errorOf(() => toPng(twoChannels))).toBe(
      "toPng: invalid image. Expected a tensor of shape [H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4. Received: image=Tensor<float32>[28,28,2].",
    );
    const batch = tf.zeros([4, 28, 28, 1]);
    expect(errorOf(() => toPng(batch))).toBe(
      "toPng: invalid image. Expected one image of shape [H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4; for a batch use imageGrid. Received: image=Tensor<float32>[4,28,28,1].",
    );
    const nan = tf.tensor2d([
      [NaN, 1],
      [NaN, Infinity],
    ]);
    expect(errorOf(() => toPng(nan))).toBe("toPng: invalid image. Expected finite values. Received: image=Tensor<float32>[2,2] with 2 NaN values and 1 infinite value (of 4).");
    const ok = tf.zeros([2, 2]);
    expect(errorOf(() => toPng(ok, { range: [1, 0] }))).toBe(
      'toPng: invalid range. Expected "auto" or a [lo, hi] pair of finite numbers with lo < hi. Received: range=[1,0].',
    );
    expect(errorOf(() => toPng(ok, { scale: 2.5 }))).toBe("toPng: invalid scale. Expected an integer in [1, 64]. Received: scale=2.5.");
    expect(errorOf(() => toPng(ok, { colormap: "virdis" as never }))).toBe(
      'toPng: invalid colormap. Expected one of "gray", "viridis", "bwr". Received: colormap="virdis". Did you mean `viridis`?',
    );
    expect(errorOf(() => toPng(ok, { scal: 2 } as never))).toBe("toPng: unknown option `scal`. Expected one of `range`, `colormap`, `scale`. Did you mean `scale`?");
    const rgb = tf.zeros([2, 2, 3]);
    expect(errorOf(() => toPng(rgb, { colormap: "viridis" }))).toBe(
      'toPng: invalid colormap. Expected "gray" (or no colormap) for an image with 3 channels: colormaps apply to single-channel images. Received: colormap="viridis".',
    );
    expect(errorOf(() => toPng({ data: new Uint8Array(3), shape: [2, 2] }))).toBe("toPng: invalid image. Expected data of 4 values for shape [2,2]. Received: data=Uint8Array(3).");
    expect(errorOf(() => toPng([1, 2] as never))).toBe(
      "toPng: invalid image. Expected a tf.Tensor or a {data, shape} array of shape [H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4. Received: image=an array of 2 items.",
    );
    tf.dispose([rank5, twoChannels, batch, nan, ok, rgb]);
  });

  it("leaks no tensor", () => {
    const x = tf.randomUniform([1, 28, 28, 1]);
    toPng(x, { scale: 2 });
    const before = tf.memory().numTensors;
    toPng(x, { scale: 2, range: "auto", colormap: "viridis" });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
