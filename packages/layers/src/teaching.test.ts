/**
 * The teaching ops against TensorFlow.js: convolve equals tf.conv2d and pool equals
 * tf.maxPool/tf.avgPool on seeded random inputs over a grid of paddings, strides, kernel
 * sizes, channels and filters; the traces on hand-made examples; the error lines; no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { convolve, pool, ConvolveTrace } from "./teaching";
import { convPadding } from "./output_size";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

/** Seeded uniform values in [-1, 1) (mulberry32). */
function random(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe("convolve equals tf.conv2d", () => {
  test("every padding, strides 1-3, kernels 1-5, 1 and 3 channels, several filters", () => {
    let seed = 1;
    let cases = 0;
    for (const padding of ["valid", "same", "full"] as const) {
      for (let s = 1; s <= 3; s++) {
        for (let k = 1; k <= 5; k++) {
          for (const C of [1, 3]) {
            const F = [1, 2, 4][(k + s) % 3];
            const kw = k === 5 ? 2 : k; // one rectangular kernel per row of the grid
            const [H, W] = [7, 9];
            const img = random(H * W * C, seed++);
            const ker = random(k * kw * C * F, seed++);
            const ours = convolve({ data: img, shape: [H, W, C] }, { data: ker, shape: [k, kw, C, F] }, { padding, strides: s });
            const theirs = tf.tidy(() => {
              let x = tf.tensor4d(img, [1, H, W, C]);
              if (padding === "full") x = tf.pad(x, [[0, 0], [k - 1, k - 1], [kw - 1, kw - 1], [0, 0]]);
              return tf.conv2d(x, tf.tensor4d(ker, [k, kw, C, F]), s, padding === "full" ? "valid" : padding).squeeze([0]);
            });
            expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
            tf.dispose([ours, theirs]);
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(90);
  });

  test("rectangular strides and dilation", () => {
    let seed = 100;
    for (const padding of ["valid", "same", "full"] as const) {
      for (const [strides, dilation] of [
        [[1, 2], 1],
        [[3, 1], 1],
        [1, 2],
        [1, [2, 3]],
      ] as const) {
        const [H, W, C, F, K] = [9, 11, 3, 2, 3];
        const img = random(H * W * C, seed++);
        const ker = random(K * K * C * F, seed++);
        const ours = convolve({ data: img, shape: [H, W, C] }, { data: ker, shape: [K, K, C, F] }, { padding, strides: strides as [number, number], dilation: dilation as number });
        const theirs = tf.tidy(() => {
          let x = tf.tensor4d(img, [1, H, W, C]);
          const d = typeof dilation === "number" ? [dilation, dilation] : dilation;
          if (padding === "full") x = tf.pad(x, [[0, 0], [d[0] * (K - 1), d[0] * (K - 1)], [d[1] * (K - 1), d[1] * (K - 1)], [0, 0]]);
          return tf.conv2d(x, tf.tensor4d(ker, [K, K, C, F]), strides as [number, number], padding === "full" ? "valid" : padding, "NHWC", dilation as [number, number]).squeeze([0]);
        });
        expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
        tf.dispose([ours, theirs]);
      }
    }
  });

  test("a [kh, kw, C] kernel is one kernel per channel, summed into one map [H', W']", () => {
    const img = random(6 * 6 * 3, 7);
    const ker = random(3 * 3 * 3, 8);
    const ours = convolve(tf.tensor3d(img, [6, 6, 3]), { data: ker, shape: [3, 3, 3] }, { padding: "same" });
    expect(ours.shape).toEqual([6, 6]);
    const theirs = tf.tidy(() => tf.conv2d(tf.tensor4d(img, [1, 6, 6, 3]), tf.tensor4d(ker, [3, 3, 3, 1]), 1, "same").reshape([6, 6]));
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
    // The same as convolving each channel with its own kernel and adding the three maps.
    const perChannel = [0, 1, 2].map((c) =>
      convolve(
        { data: img.filter((_, i) => i % 3 === c), shape: [6, 6] },
        { data: ker.filter((_, i) => i % 3 === c), shape: [3, 3] },
        { padding: "same" },
      ),
    );
    const added = tf.addN(perChannel);
    expect(maxAbsDiff(ours, added)).toBeLessThan(1e-5);
    tf.dispose([ours, theirs, added, ...perChannel]);
  });

  test("nested arrays, a [H, W] image and a [kh, kw] kernel give [H', W'] float32", () => {
    const out = convolve(
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ],
      [
        [1, 0],
        [0, 1],
      ],
    );
    expect(out.shape).toEqual([2, 2]);
    expect(out.dtype).toBe("float32");
    expect(out.arraySync()).toEqual([
      [6, 8],
      [12, 14],
    ]);
    out.dispose();
    const int = tf.tensor2d([[0, 255], [255, 0]], [2, 2], "int32");
    const fromInt = convolve(int, [[1]]);
    expect(fromInt.arraySync()).toEqual([[0, 255], [255, 0]]);
    tf.dispose([int, fromInt]);
  });
});

describe("convolve trace", () => {
  test("each step holds the window, the products and the sum", () => {
    const { output, steps, padding } = convolve(
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ],
      [
        [1, 0],
        [0, 1],
      ],
      { trace: true },
    ) as ConvolveTrace;
    expect(output.arraySync()).toEqual([
      [6, 8],
      [12, 14],
    ]);
    expect(padding).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(steps.map((s) => [s.row, s.col, s.sum])).toEqual([
      [0, 0, 6],
      [0, 1, 8],
      [1, 0, 12],
      [1, 1, 14],
    ]);
    expect(steps[3]).toEqual({
      row: 1,
      col: 1,
      filter: 0,
      top: 1,
      left: 1,
      window: [
        [
          [5, 6],
          [8, 9],
        ],
      ],
      products: [
        [
          [5, 0],
          [0, 9],
        ],
      ],
      channelSums: [14],
      sum: 14,
    });
    output.dispose();
  });

  test("full padding reads zeros around the image; strides skip positions", () => {
    const { output, steps, padding } = convolve([[1, 2], [3, 4]], [[1, 1], [1, 1]], { padding: "full", trace: true });
    expect(padding).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(output.arraySync()).toEqual([
      [1, 3, 2],
      [4, 10, 6],
      [3, 7, 4],
    ]);
    expect(steps[0]).toMatchObject({ top: -1, left: -1, window: [[[0, 0], [0, 1]]], sum: 1 });
    output.dispose();
    const strided = convolve([[1, 2, 3, 4, 5]], [[1]], { strides: 2, trace: true });
    expect(strided.steps.map((s) => s.left)).toEqual([0, 2, 4]);
    strided.output.dispose();
  });

  test("colour: one window per channel and the per-channel sums; one step per filter", () => {
    const image = [
      [
        [1, 10, 100],
        [2, 20, 200],
      ],
    ]; // [1, 2, 3]
    const kernel = [[[[1, -1], [1, 0], [1, 0]]]]; // [1, 1, 3, 2]
    const { output, steps } = convolve(image, kernel, { trace: true });
    expect(output.shape).toEqual([1, 2, 2]);
    expect(output.arraySync()).toEqual([[[111, -1], [222, -2]]]);
    expect(steps).toHaveLength(4);
    expect(steps[0]).toMatchObject({ row: 0, col: 0, filter: 0, window: [[[1]], [[10]], [[100]]], channelSums: [1, 10, 100], sum: 111 });
    expect(steps[1]).toMatchObject({ filter: 1, products: [[[-1]], [[0]], [[0]]], channelSums: [-1, 0, 0], sum: -1 });
    output.dispose();
  });

  test("the trace's padding is convPadding's", () => {
    const { output, padding } = convolve({ data: new Uint8Array(30), shape: [5, 6] }, { data: new Float32Array(12), shape: [3, 4] }, { padding: "same", trace: true });
    expect(padding).toEqual(convPadding([5, 6], [3, 4], { padding: "same" }));
    output.dispose();
  });
});

describe("pool equals tf.maxPool / tf.avgPool", () => {
  test("valid and same, pool sizes 1-4, strides 1-3, 1 and 3 channels; min is -maxPool(-x)", () => {
    let seed = 500;
    let cases = 0;
    for (const padding of ["valid", "same"] as const) {
      for (let p = 1; p <= 4; p++) {
        for (let s = 1; s <= 3; s++) {
          for (const C of [1, 3]) {
            const [H, W] = [7, 8];
            const data = random(H * W * C, seed++);
            const x = tf.tensor4d(data, [1, H, W, C]);
            const input = { data, shape: [H, W, C] };
            const expected = {
              max: tf.tidy(() => tf.maxPool(x, p, s, padding).squeeze([0])),
              average: tf.tidy(() => tf.avgPool(x, p, s, padding).squeeze([0])),
              min: tf.tidy(() => tf.maxPool(x.neg() as tf.Tensor4D, p, s, padding).neg().squeeze([0])),
            };
            for (const mode of ["max", "average", "min"] as const) {
              const ours = pool(input, { poolSize: p, strides: s, padding, mode });
              expect([mode, padding, p, s, C, maxAbsDiff(ours, expected[mode]) < 1e-5]).toEqual([mode, padding, p, s, C, true]);
              ours.dispose();
              cases++;
            }
            tf.dispose([x, expected.max, expected.average, expected.min]);
          }
        }
      }
    }
    expect(cases).toBe(144);
  });

  test("rectangular pools and strides; a [H, W] input gives [H', W']", () => {
    const data = random(8 * 9, 9);
    const x = tf.tensor4d(data, [1, 8, 9, 1]);
    for (const padding of ["valid", "same"] as const) {
      const ours = pool({ data, shape: [8, 9] }, { poolSize: [2, 3], strides: [3, 1], padding, mode: "average" });
      const theirs = tf.tidy(() => tf.avgPool(x, [2, 3], [3, 1], padding).reshape(ours.shape));
      expect(ours.shape.length).toBe(2);
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
      tf.dispose([ours, theirs]);
    }
    x.dispose();
  });
});

describe("pool by hand and trace", () => {
  const x = [
    [1, 3, 2, 0],
    [4, 2, 1, 5],
    [0, 1, 3, 2],
    [2, 6, 1, 1],
  ];

  test("max, average and min with the Keras defaults (2x2, stride 2, valid)", () => {
    const results = (["max", "average", "min"] as const).map((mode) => pool(x, { mode }));
    expect(results.map((r) => r.arraySync())).toEqual([
      [
        [4, 5],
        [6, 3],
      ],
      [
        [2.5, 2],
        [2.25, 1.75],
      ],
      [
        [1, 0],
        [0, 1],
      ],
    ]);
    tf.dispose(results);
  });

  test("trace: window, picked cell, count; same padding ignores the outside", () => {
    const { output, steps, padding } = pool(x, { trace: true });
    expect(steps[1]).toEqual({ row: 0, col: 1, channel: 0, top: 0, left: 2, window: [[2, 0], [1, 5]], value: 5, count: 4, picked: [1, 1] });
    expect(padding).toEqual([
      [0, 0],
      [0, 0],
    ]);
    output.dispose();
    const same = pool([[1, 2, 3]], { poolSize: 2, padding: "same", mode: "average", trace: true });
    expect(same.padding).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(same.output.arraySync()).toEqual([[1.5, 3]]);
    expect(same.steps[1]).toMatchObject({ window: [[3, null], [null, null]], count: 1, value: 3, picked: null });
    same.output.dispose();
  });
});

describe("errors", () => {
  test("a kernel larger than a valid-padded image", () => {
    const image = { data: new Float32Array(16), shape: [4, 4] };
    expect(() => convolve(image, { data: new Float32Array(25), shape: [5, 5] })).toThrow(
      'convolve: invalid kernel.shape. Expected a kernel no larger than the input 4x4 with padding "valid". Received: kernel.shape=[5,5]. Use padding "same" or a smaller kernel.',
    );
    expect(() => convolve(image, { data: new Float32Array(9), shape: [3, 3] }, { dilation: 2 })).toThrow(
      'convolve: invalid kernel.shape. Expected a kernel no larger than the input 4x4 with padding "valid". Received: kernel.shape=[3,3] (dilated: 5x5). Use padding "same" or a smaller kernel.',
    );
    expect(() => pool(image, { poolSize: 5 })).toThrow('pool: invalid poolSize. Expected a pool no larger than the input 4x4 with padding "valid". Received: poolSize=5. Use padding "same" or a smaller pool.');
  });

  test("mismatched channel counts", () => {
    const rgb = tf.zeros([5, 5, 3]);
    expect(() => convolve(rgb, [[1, 0], [0, 1]])).toThrow(
      "convolve: invalid kernel. Expected 3 input channels to match the image [5,5,3]: a kernel of shape [kh, kw, 3] or [kh, kw, 3, filters]. Received: kernel.shape=[2,2].",
    );
    expect(() => convolve([[1, 2], [3, 4]], { data: new Float32Array(12), shape: [2, 2, 3] })).toThrow(
      "convolve: invalid kernel. Expected 1 input channel to match the image [2,2]: a kernel of shape [kh, kw, 1] or [kh, kw, 1, filters]. Received: kernel.shape=[2,2,3].",
    );
    rgb.dispose();
  });

  test("non-positive strides", () => {
    const image = [[1, 2], [3, 4]];
    expect(() => convolve(image, [[1]], { strides: 0 })).toThrow("convolve: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=0.");
    expect(() => convolve(image, [[1]], { strides: [1, -1] })).toThrow("convolve: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=[1,-1].");
    expect(() => pool(image, { strides: -2 })).toThrow("pool: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=-2.");
    expect(() => pool(image, { poolSize: 0 })).toThrow("pool: invalid poolSize. Expected a positive integer or a [rows, cols] pair of positive integers. Received: poolSize=0.");
  });

  test("ranks, forms, options", () => {
    const batch = tf.zeros([1, 4, 4, 1]);
    expect(() => convolve(batch, [[1]])).toThrow("convolve: invalid image. Expected one image of shape [height, width] or [height, width, channels]. Received: image.shape=[1,4,4,1]. Pass one image of the batch.");
    expect(() => pool(batch)).toThrow("pool: invalid x. Expected one image or feature map of shape [height, width] or [height, width, channels]. Received: x.shape=[1,4,4,1]. Pass one image of the batch.");
    batch.dispose();
    expect(() => convolve([[1, 2], [3]], [[1]])).toThrow("convolve: invalid image. Expected a tf.Tensor, nested arrays of numbers or { data, shape }, rectangular (every row of length 2 at depth 1). Received: a row [3].");
    expect(() => convolve({ data: [1, 2, 3], shape: [2, 2] }, [[1]])).toThrow("convolve: invalid image.data. Expected 4 values for shape [2,2]. Received: image.data=[1,2,3].");
    expect(() => convolve("cat" as never, [[1]])).toThrow('convolve: invalid image. Expected a tf.Tensor, nested arrays of numbers or { data, shape }. Received: image="cat".');
    expect(() => convolve([[1]], [1] as never)).toThrow("convolve: invalid kernel. Expected a kernel of shape [kh, kw], [kh, kw, channels] or [kh, kw, channels, filters]. Received: kernel.shape=[1].");
    expect(() => convolve([[1]], [[1]], { stride: 2 } as never)).toThrow("convolve: invalid option `stride`. Expected keys among `padding`, `strides`, `dilation`, `trace`. Received: stride=2. Did you mean `strides`?");
    expect(() => convolve([[1]], [[1]], { padding: "Same" as "same" })).toThrow('convolve: invalid padding. Expected one of "valid", "same", "full". Received: padding="Same". Did you mean `same`?');
    expect(() => pool([[1]], { mode: "mean" as "max", poolSize: 1 })).toThrow('pool: invalid mode. Expected one of "max", "average", "min". Received: mode="mean".');
    expect(() => pool([[1]], { poolSize: 1, padding: "full" as "same" })).toThrow('pool: invalid padding. Expected one of "valid", "same". Received: padding="full".');
  });
});

describe("memory", () => {
  test("only the returned tensor is new; inputs are untouched", () => {
    const image = tf.randomUniform([6, 6, 3], 0, 1, "float32", 1);
    const kernel = tf.randomUniform([3, 3, 3, 2], -1, 1, "float32", 2);
    const run = () => {
      tf.dispose([convolve(image, kernel, { padding: "same" }), convolve(image, kernel, { trace: true }).output, pool(image, { mode: "average" }), pool(image, { trace: true }).output]);
    };
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    expect(image.isDisposed || kernel.isDisposed).toBe(false);
    tf.dispose([image, kernel]);
  });
});
