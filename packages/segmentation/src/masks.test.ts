import * as tf from "@tensorflow/tfjs";
import { checkMasks, maskFromProbabilities, oneHotMask } from "./masks";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

// One 2x2 mask: background, class 1 / class 2, class 1.
const IDS = [
  [
    [0, 1],
    [2, 1],
  ],
];
const ONE_HOT = [
  [
    [
      [1, 0, 0],
      [0, 1, 0],
    ],
    [
      [0, 0, 1],
      [0, 1, 0],
    ],
  ],
];

describe("oneHotMask", () => {
  it("turns [N, H, W] and [N, H, W, 1] ids into float32 [N, H, W, C]", () => {
    const ids = tf.tensor3d(IDS, undefined, "int32");
    const ids1 = tf.tensor4d([[[[0], [1]], [[2], [1]]]]);
    const before = tf.memory().numTensors;
    const a = oneHotMask(ids, 3);
    const b = oneHotMask(ids1, 3);
    expect(a.shape).toEqual([1, 2, 2, 3]);
    expect(a.dtype).toBe("float32");
    expect(a.arraySync()).toEqual(ONE_HOT);
    expect(b.arraySync()).toEqual(ONE_HOT);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ids, ids1]);
  });

  it("takes { data, shape } (a Uint8Tensor) and gives ignored pixels an all-zero row", () => {
    const out = oneHotMask({ data: new Uint8Array([0, 255, 2, 1]), shape: [1, 2, 2] }, 3, { ignoreClass: 255 });
    expect(out.arraySync()).toEqual([
      [
        [
          [1, 0, 0],
          [0, 0, 0],
        ],
        [
          [0, 0, 1],
          [0, 1, 0],
        ],
      ],
    ]);
    out.dispose();
  });

  it("says which id is wrong and where", () => {
    const bad = tf.tensor3d([[[0, 1], [7, 1]]]);
    expect(errorOf(() => oneHotMask(bad, 3))).toBe("oneHotMask: invalid mask. Expected class ids in [0, 3). Received: 7 at mask[0][1][0].");
    expect(errorOf(() => oneHotMask({ data: [0, 1.5], shape: [1, 1, 2] }, 3))).toBe("oneHotMask: invalid mask. Expected class ids in [0, 3). Received: 1.5 at mask[0][0][1].");
    expect(errorOf(() => oneHotMask({ data: [0, -1], shape: [1, 1, 2] }, 3, { ignoreClass: 255 }))).toBe(
      "oneHotMask: invalid mask. Expected class ids in [0, 3) (or 255 to ignore). Received: -1 at mask[0][0][1].",
    );
    expect(errorOf(() => oneHotMask(bad, 0))).toBe("oneHotMask: invalid numClasses. Expected an integer >= 1. Received: numClasses=0.");
    expect(errorOf(() => oneHotMask(bad, 8, { ignoreclas: 255 } as never))).toBe("oneHotMask: unknown option `ignoreclas`. Expected one of `ignoreClass`. Did you mean `ignoreClass`?");
    expect(errorOf(() => oneHotMask(bad, 8, { ignoreClass: 0.5 }))).toBe("oneHotMask: invalid ignoreClass. Expected an integer. Received: ignoreClass=0.5.");
    expect(errorOf(() => oneHotMask({ data: [0, 1, 2], shape: [1, 2, 2] }, 3))).toBe("oneHotMask: invalid mask. Expected 4 values for shape [1,2,2]. Received: data of length 3.");
    expect(errorOf(() => oneHotMask([0, 1] as never, 3))).toBe("oneHotMask: invalid mask. Expected a tf.Tensor or { data, shape }. Received: mask=[0,1].");
    bad.dispose();
  });
});

describe("maskFromProbabilities", () => {
  it("takes the argmax of the last axis: [N, H, W, C] → int32 [N, H, W], [H, W, C] → [H, W], ties to the lower id", () => {
    const probs = tf.tensor4d([
      [
        [
          [0.7, 0.2, 0.1],
          [0.1, 0.8, 0.1],
        ],
        [
          [0.2, 0.3, 0.5],
          [0.25, 0.5, 0.25],
        ],
      ],
    ]);
    const before = tf.memory().numTensors;
    const ids = maskFromProbabilities(probs);
    expect(ids.shape).toEqual([1, 2, 2]);
    expect(ids.dtype).toBe("int32");
    expect(ids.arraySync()).toEqual(IDS);
    const single = tf.tidy(() => maskFromProbabilities(tf.squeeze(probs, [0])));
    expect(single.arraySync()).toEqual(IDS[0]);
    const tie = maskFromProbabilities({ data: new Float32Array([0.4, 0.4, 0.2, 0, 0.5, 0.5]), shape: [1, 2, 3] });
    expect(tie.arraySync()).toEqual([[0, 1]]);
    tf.dispose([ids, single, tie]);
    expect(tf.memory().numTensors).toBe(before);
    probs.dispose();
  });

  it("says what is wrong in one line", () => {
    const flat = tf.zeros([4, 3]);
    expect(errorOf(() => maskFromProbabilities(flat))).toBe("maskFromProbabilities: invalid probs. Expected scores of shape [N, H, W, C] or [H, W, C]. Received: probs of shape [4,3].");
    expect(errorOf(() => maskFromProbabilities(undefined as never))).toBe("maskFromProbabilities: invalid probs. Expected a tf.Tensor or { data, shape }. Received: probs=undefined.");
    flat.dispose();
  });
});

describe("checkMasks", () => {
  it("returns the count and size of masks that fit their images", () => {
    const images = tf.zeros([2, 3, 4, 3]);
    const masks = tf.zeros([2, 3, 4, 1], "int32");
    expect(checkMasks("maskBatches", { images, masks, numClasses: 3 })).toEqual({ count: 2, height: 3, width: 4 });
    // a Uint8Tensor-like { data, shape } for both, 255 allowed when ignored
    const data = new Uint8Array(24).fill(2);
    data[5] = 255;
    expect(checkMasks("maskBatches", { images: { data: new Uint8Array(72), shape: [2, 3, 4, 3] }, masks: { data, shape: [2, 3, 4] }, numClasses: 3, ignoreClass: 255 })).toEqual({
      count: 2,
      height: 3,
      width: 4,
    });
    tf.dispose([images, masks]);
  });

  it("names the value and position of a bad id, and what does not fit", () => {
    const data = new Uint8Array(4 * 32 * 32);
    data[2 * 1024 + 10 * 32 + 31] = 7;
    const masks = { data, shape: [4, 32, 32] };
    expect(errorOf(() => checkMasks("maskBatches", { masks, numClasses: 3, ignoreClass: 255 }))).toBe(
      "maskBatches: invalid masks. Expected class ids in [0, 3) (or 255 to ignore). Received: 7 at masks[2][10][31].",
    );
    const four = { data, shape: [4, 32, 32, 1] };
    expect(errorOf(() => checkMasks("maskBatches", { masks: four, numClasses: 3 }))).toBe("maskBatches: invalid masks. Expected class ids in [0, 3). Received: 7 at masks[2][10][31][0].");
    const images = { data: new Uint8Array(4 * 64 * 64 * 3), shape: [4, 64, 64, 3] };
    expect(errorOf(() => checkMasks("maskBatches", { images, masks, numClasses: 3 }))).toBe("maskBatches: invalid masks. Expected masks of the images' size 64x64. Received: masks of shape [4,32,32].");
    const three = { data: new Uint8Array(3 * 64 * 64), shape: [3, 64, 64] };
    expect(errorOf(() => checkMasks("maskBatches", { images, masks: three, numClasses: 3 }))).toBe("maskBatches: invalid masks. Expected one mask per image (4). Received: masks of shape [3,64,64].");
    expect(errorOf(() => checkMasks("maskBatches", { images: three, masks: three, numClasses: 3 }))).toBe("maskBatches: invalid images. Expected images of shape [N, H, W, C]. Received: images of shape [3,64,64].");
    expect(errorOf(() => checkMasks("maskBatches", { masks: images, numClasses: 3 }))).toBe("maskBatches: invalid masks. Expected masks of shape [N, H, W] or [N, H, W, 1]. Received: masks of shape [4,64,64,3].");
    const text = tf.tensor(["a"]);
    expect(errorOf(() => checkMasks("maskBatches", { masks: text, numClasses: 3 }))).toBe("maskBatches: invalid masks. Expected numeric values. Received: masks=Tensor<string>[1].");
    expect(errorOf(() => checkMasks("maskBatches", { masks, numClasses: 2.5 }))).toBe("maskBatches: invalid numClasses. Expected an integer >= 1. Received: numClasses=2.5.");
    expect(errorOf(() => checkMasks("maskBatches", { masks, classes: 3 } as never))).toMatch(/^maskBatches: unknown option `classes`\./);
    text.dispose();
  });
});
