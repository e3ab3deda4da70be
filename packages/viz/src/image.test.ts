import * as tf from "@tensorflow/tfjs";
import { image } from "./image";
import { imageGrid } from "./image_grid";
import { countPixels, decode, errorOf } from "./testing/png";

const isRed = ([r, g, b]: number[]) => r > 180 && g < 90 && b < 90;

describe("image", () => {
  it("enlarges a 28x28 digit to 280x280 by default, crisp", async () => {
    const buffer = tf.buffer([28, 28, 1]);
    buffer.set(1, 0, 0, 0);
    const x = buffer.toTensor();
    const fig = image(x);
    expect([fig.width, fig.height]).toEqual([280, 280]);
    expect(String(fig)).toBe("<Figure 280x280: 28x28 image>");
    const img = await decode(fig.toPng());
    expect(img.rgb(0, 0)).toEqual([255, 255, 255]);
    expect(img.rgb(9, 9)).toEqual([255, 255, 255]);
    expect(img.rgb(10, 0)).toEqual([0, 0, 0]);
    x.dispose();
  });

  it("keeps a given scale and adds a 24 px title band", async () => {
    const x = tf.ones([4, 4]);
    const fig = image(x, { scale: 2, title: "ones" });
    expect(fig.height).toBe(24 + 8 + 2 * 6);
    expect(fig.width).toBeGreaterThanOrEqual(8 + 2 * 6);
    expect(fig.title).toBe("ones");
    const img = await decode(fig.toPng());
    expect(countPixels(img, 0, 0, img.width, 24, ([r]) => r < 100)).toBeGreaterThan(0); // the title's ink
    x.dispose();
  });

  it("says what is wrong in one line", () => {
    const x = tf.zeros([2, 2]);
    expect(errorOf(() => image(x, { scale: 0 }))).toBe("image: invalid scale. Expected an integer in [1, 64]. Received: scale=0.");
    expect(errorOf(() => image(x, { title: 3 as never }))).toBe("image: invalid title. Expected a string. Received: title=3.");
    x.dispose();
  });
});

describe("imageGrid", () => {
  it("lays out tiles in columns with a caption line: 3 tiles 8x8, 2 columns -> 34x66", async () => {
    const batch = tf.tidy(() => tf.stack([tf.zeros([2, 2, 1]), tf.ones([2, 2, 1]), tf.zeros([2, 2, 1])]));
    const fig = imageGrid(batch, { scale: 4, cols: 2, captions: ["a", "b", "c"] });
    // width = cols·8 + (cols+1)·6; height = rows·(8 + 16) + (rows+1)·6
    expect([fig.width, fig.height]).toEqual([34, 66]);
    const img = await decode(fig.toPng());
    expect(img.rgb(6, 6)).toEqual([0, 0, 0]); // tile 0
    expect(img.rgb(13, 13)).toEqual([0, 0, 0]);
    expect(img.rgb(20, 6)).toEqual([255, 255, 255]); // tile 1 (white)
    expect(img.rgb(6, 36)).toEqual([0, 0, 0]); // tile 2, second row
    expect(img.rgb(3, 3)).toEqual([255, 255, 255]); // the gap
    expect(String(fig)).toBe("<Figure 34x66: 3 images in 2 columns>");
    batch.dispose();
  });

  it("colours each caption: wrong predictions in red", async () => {
    const batch = tf.zeros([2, 28, 28, 1]);
    const fig = imageGrid(batch, { captions: ["pred 7 / true 7", "pred 1 / true 7"], captionColors: ["black", "red"] });
    expect([fig.width, fig.height]).toEqual([2 * 112 + 3 * 6, 112 + 16 + 2 * 6]);
    const img = await decode(fig.toPng());
    const band = 6 + 112;
    expect(countPixels(img, 6, band, 6 + 112, band + 16, ([r, g, b]) => r + g + b < 200)).toBeGreaterThan(10);
    expect(countPixels(img, 6, band, 6 + 112, band + 16, isRed)).toBe(0);
    expect(countPixels(img, 124, band, 124 + 112, band + 16, isRed)).toBeGreaterThan(10);
    batch.dispose();
  });

  it("takes [N,H,W] arrays, arrays of images of different sizes, count and indices", async () => {
    const digits = { data: Uint8Array.from([0, 0, 0, 0, 255, 255, 255, 255, 9, 9, 9, 9]), shape: [3, 2, 2] };
    const fig = imageGrid(digits, { scale: 1, cols: 3 });
    expect([fig.width, fig.height]).toEqual([3 * 2 + 4 * 6, 2 + 2 * 6]);
    const img = await decode(fig.toPng());
    expect([img.rgb(6, 6), img.rgb(14, 6), img.rgb(22, 6)]).toEqual([
      [0, 0, 0],
      [255, 255, 255],
      [9, 9, 9],
    ]);
    const a = tf.zeros([2, 2]);
    const b = tf.ones([4, 4, 3]);
    const mixed = imageGrid([a, b], { scale: 1 });
    expect([mixed.width, mixed.height]).toEqual([2 * 4 + 3 * 6, 4 + 2 * 6]);
    const centred = await decode(mixed.toPng());
    expect(centred.rgb(7, 7)).toEqual([0, 0, 0]); // the black 2x2 tile, centred in a 4x4 cell
    expect(centred.rgb(8, 8)).toEqual([0, 0, 0]);
    expect(centred.rgb(6, 6)).toEqual([255, 255, 255]); // background around it
    expect(centred.rgb(9, 9)).toEqual([255, 255, 255]);
    const levels = tf.tidy(() => tf.linspace(0, 1, 5).reshape([5, 1, 1, 1]).tile([1, 2, 2, 1]));
    const picked = await decode(imageGrid(levels, { indices: [4, 0], scale: 1 }).toPng());
    expect([picked.rgb(6, 6), picked.rgb(14, 6)]).toEqual([
      [255, 255, 255],
      [0, 0, 0],
    ]);
    expect(imageGrid(levels, { count: 2, scale: 1 }).width).toBe(2 * 2 + 3 * 6);
    tf.dispose([a, b, levels]);
  });

  it("reads only the picked images and leaks no tensor", () => {
    const batch = tf.randomUniform([50, 8, 8, 1]);
    imageGrid(batch, { indices: [3, 1, 4] });
    const before = tf.memory().numTensors;
    imageGrid(batch, { indices: [3, 1, 4] });
    imageGrid(batch, { count: 5 });
    expect(tf.memory().numTensors).toBe(before);
    batch.dispose();
  });

  it("says what is wrong in one line", () => {
    const batch = tf.zeros([3, 2, 2, 1]);
    expect(errorOf(() => imageGrid(batch, { captions: ["a", "b"] }))).toBe("imageGrid: invalid captions. Expected one per image shown (3). Received: 2 captions.");
    expect(errorOf(() => imageGrid(batch, { captionColors: ["red"] }))).toBe("imageGrid: invalid captionColors. Expected one per image shown (3). Received: 1 captionColors.");
    expect(errorOf(() => imageGrid(batch, { count: 2, indices: [0] }))).toBe("imageGrid: invalid options. Expected `count` or `indices`, not both. Received: count=2, indices=[0].");
    expect(errorOf(() => imageGrid(batch, { indices: [0, 3] }))).toBe("imageGrid: invalid indices. Expected integers in [0, 2] (the batch has 3 images). Received: indices[1]=3.");
    expect(errorOf(() => imageGrid(batch, { captionColor: "red" } as never))).toMatch(/^imageGrid: unknown option `captionColor`\. Expected one of .*\. Did you mean `captionColors`\?$/);
    const many = tf.zeros([401, 1, 1]);
    expect(errorOf(() => imageGrid(many))).toBe(
      "imageGrid: too many images. Expected at most 400; pick some with { count: 16 } or { indices: [...] }. Received: 401 images (Tensor<float32>[401,1,1]).",
    );
    const two = tf.zeros([2, 5, 5, 2]);
    expect(errorOf(() => imageGrid(two))).toBe(
      "imageGrid: invalid images. Expected a batch tensor [N,H,W] or [N,H,W,C] (C = 1, 3 or 4), or an array of images. Received: images=Tensor<float32>[2,5,5,2].",
    );
    const nan = tf.tensor3d([0, 0, 0, NaN, NaN, NaN], [2, 3, 1]);
    const one = tf.zeros([1, 1]);
    expect(errorOf(() => imageGrid([one, nan]))).toBe("imageGrid: invalid images[1]. Expected finite values. Received: images[1]=Tensor<float32>[2,3,1] with 3 NaN values (of 6).");
    tf.dispose([batch, many, two, nan, one]);
  });
});
