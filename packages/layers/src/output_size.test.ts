/**
 * Output sizes and padding amounts: hand-made cases from the course, the shapes tf.conv2d
 * and tf.maxPool produce over a grid, and the error lines.
 */
import * as tf from "@tensorflow/tfjs";
import { convOutputSize, convPadding, convTransposeOutputSize, poolOutputSize } from "./output_size";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

describe("convOutputSize", () => {
  test("the course's numbers", () => {
    expect(convOutputSize(28, 3)).toBe(26);
    expect(convOutputSize(5, 3)).toBe(3); // "Para una entrada de 5x5 con un kernel de 3x3 y un stride de (1,1) se genera un filtro de 3x3"
    expect(convOutputSize(7, 3, { strides: 2 })).toBe(3);
    expect(convOutputSize(28, 3, { padding: "same" })).toBe(28);
    expect(convOutputSize(28, 5, { padding: "full" })).toBe(32);
    expect(convOutputSize(13, 3, { padding: "same", strides: 2 })).toBe(7);
    expect(convOutputSize(10, 3, { dilation: 2 })).toBe(6);
    expect(convOutputSize([28, 20], [3, 5])).toEqual([26, 16]);
    expect(convOutputSize([28, 20], 3, { strides: [1, 2], padding: "same" })).toEqual([28, 10]);
  });

  test("valid and same equal the shapes tf.conv2d produces", () => {
    for (const padding of ["valid", "same"] as const) {
      for (let n = 1; n <= 10; n++) {
        for (let k = 1; k <= 5; k++) {
          for (let s = 1; s <= 3; s++) {
            for (let d = 1; d <= 2; d++) {
              if (d > 1 && s > 1) continue; // tfjs computes dilation only with stride 1
              if (padding === "valid" && d * (k - 1) + 1 > n) continue;
              const shape = tf.tidy(() => tf.conv2d(tf.zeros([1, n, n + 2, 1]) as tf.Tensor4D, tf.zeros([k, k, 1, 1]) as tf.Tensor4D, s, padding, "NHWC", d).shape);
              expect([padding, n, k, s, d, convOutputSize([n, n + 2], k, { padding, strides: s, dilation: d })]).toEqual([padding, n, k, s, d, [shape[1], shape[2]]]);
            }
          }
        }
      }
    }
  });

  test("full equals a valid tf.conv2d over the input padded with k'-1 zeros per side", () => {
    for (let n = 1; n <= 8; n++) {
      for (let k = 1; k <= 5; k++) {
        for (let s = 1; s <= 3; s++) {
          const shape = tf.tidy(() => {
            const x = tf.pad(tf.zeros([1, n, n, 1]), [[0, 0], [k - 1, k - 1], [k - 1, k - 1], [0, 0]]) as tf.Tensor4D;
            return tf.conv2d(x, tf.zeros([k, k, 1, 1]) as tf.Tensor4D, s, "valid").shape;
          });
          expect(convOutputSize(n, k, { padding: "full", strides: s })).toBe(shape[1]);
        }
      }
    }
    expect(convOutputSize(6, 3, { padding: "full", dilation: 2 })).toBe(10);
  });

  test("error lines", () => {
    expect(() => convOutputSize(4, 5)).toThrow('convOutputSize: invalid kernelSize. Expected a kernel no larger than the input 4x4 with padding "valid". Received: kernelSize=5. Use padding "same" or a smaller kernel.');
    expect(() => convOutputSize(4, 3, { dilation: 2 })).toThrow('convOutputSize: invalid kernelSize. Expected a kernel no larger than the input 4x4 with padding "valid". Received: kernelSize=3 (dilated: 5x5). Use padding "same" or a smaller kernel.');
    expect(() => convOutputSize(28, 3, { strides: 0 })).toThrow("convOutputSize: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=0.");
    expect(() => convOutputSize(28, 3, { strides: [1, -2] })).toThrow("convOutputSize: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=[1,-2].");
    expect(() => convOutputSize(28, 2.5)).toThrow("convOutputSize: invalid kernelSize. Expected a positive integer or a [rows, cols] pair of positive integers. Received: kernelSize=2.5.");
    expect(() => convOutputSize(0, 3)).toThrow("convOutputSize: invalid inputSize. Expected a positive integer or a [rows, cols] pair of positive integers. Received: inputSize=0.");
    expect(() => convOutputSize(28, 3, { padding: "SAME" as "same" })).toThrow('convOutputSize: invalid padding. Expected one of "valid", "same", "full". Received: padding="SAME". Did you mean `same`?');
    expect(() => convOutputSize(28, 3, { stride: 2 } as never)).toThrow("convOutputSize: invalid option `stride`. Expected keys among `padding`, `strides`, `dilation`. Received: stride=2. Did you mean `strides`?");
  });
});

describe("convPadding", () => {
  test("TensorFlow's split: the odd zero goes after", () => {
    expect(convPadding(5, 3, { padding: "same" })).toEqual([1, 1]);
    expect(convPadding(6, 3, { padding: "same", strides: 2 })).toEqual([0, 1]);
    expect(convPadding(5, 4, { padding: "same" })).toEqual([1, 2]);
    expect(convPadding(5, 3)).toEqual([0, 0]);
    expect(convPadding(5, 3, { padding: "full" })).toEqual([2, 2]);
    expect(convPadding([5, 6], [3, 4], { padding: "same" })).toEqual([
      [1, 1],
      [1, 2],
    ]);
  });
});

describe("poolOutputSize", () => {
  test("the course's numbers; strides default to the pool size", () => {
    expect(poolOutputSize(26, 2)).toBe(13);
    expect(poolOutputSize(11, 2)).toBe(5);
    expect(poolOutputSize(5, 2, { padding: "same" })).toBe(3);
    expect(poolOutputSize([13, 13], 3, { strides: 1 })).toEqual([11, 11]);
  });

  test("equals the shapes tf.maxPool produces", () => {
    for (const padding of ["valid", "same"] as const) {
      for (let n = 1; n <= 9; n++) {
        for (let p = 1; p <= 4; p++) {
          for (let s = 1; s <= 3; s++) {
            if (padding === "valid" && p > n) continue;
            const shape = tf.tidy(() => tf.maxPool(tf.zeros([1, n, n + 1, 1]) as tf.Tensor4D, p, s, padding).shape);
            expect(poolOutputSize([n, n + 1], p, { padding, strides: s })).toEqual([shape[1], shape[2]]);
          }
        }
      }
    }
  });

  test("error lines", () => {
    expect(() => poolOutputSize(3, 4)).toThrow('poolOutputSize: invalid poolSize. Expected a pool no larger than the input 3x3 with padding "valid". Received: poolSize=4. Use padding "same" or a smaller pool.');
    expect(() => poolOutputSize(8, 2, { padding: "full" as "same" })).toThrow('poolOutputSize: invalid padding. Expected one of "valid", "same". Received: padding="full".');
    expect(() => poolOutputSize(8, 2, { strides: 0 })).toThrow("poolOutputSize: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=0.");
  });
});

describe("convTransposeOutputSize", () => {
  test("hand-worked cases (Keras's deconv_output_length)", () => {
    expect(convTransposeOutputSize(7, 3, { strides: 2 })).toBe(15); // (7 − 1)·2 + 3
    expect(convTransposeOutputSize(7, 2, { strides: 2 })).toBe(14); // U-Net's 2x2 up-convolution doubles
    expect(convTransposeOutputSize(7, 1, { strides: 3 })).toBe(21); // k < s: n·s, not (n − 1)·s + k
    expect(convTransposeOutputSize(5, 3)).toBe(7); // stride 1: n + k − 1, the "full" convolution's size
    expect(convTransposeOutputSize(16, 4, { strides: 2, padding: "same" })).toBe(32);
    expect(convTransposeOutputSize(2, 16, { strides: 8, padding: "same" })).toBe(16); // FCN-8s's upscore8
    expect(convTransposeOutputSize(7, 3, { strides: 2, padding: "same", outputPadding: 0 })).toBe(13); // (7 − 1)·2 + 1
    expect(convTransposeOutputSize(7, 3, { strides: 2, outputPadding: 1 })).toBe(16);
    expect(convTransposeOutputSize(7, 4, { strides: 2, padding: "same", outputPadding: 1 })).toBe(13);
    expect(convTransposeOutputSize([4, 6], 3, { strides: [2, 3] })).toEqual([9, 18]);
    expect(convTransposeOutputSize([4, 6], [2, 4], { strides: 2, padding: "same", outputPadding: [1, 1] })).toEqual([7, 11]);
  });

  test("equals the shapes tf.layers.conv2dTranspose reports and outputs", () => {
    for (const padding of ["valid", "same"] as const) {
      for (let n = 1; n <= 6; n++) {
        for (let k = 1; k <= 5; k++) {
          for (let s = 1; s <= 4; s++) {
            const layer = tf.layers.conv2dTranspose({ filters: 2, kernelSize: [k, k + 1], strides: [s, s + 1], padding });
            const reported = layer.computeOutputShape([1, n, n + 1, 1]) as number[];
            const x = tf.zeros([1, n, n + 1, 1]);
            const y = layer.apply(x) as tf.Tensor;
            const expected = convTransposeOutputSize([n, n + 1], [k, k + 1], { padding, strides: [s, s + 1] });
            expect([padding, n, k, s, expected]).toEqual([padding, n, k, s, [reported[1], reported[2]]]);
            expect([padding, n, k, s, expected]).toEqual([padding, n, k, s, [y.shape[1], y.shape[2]]]);
            tf.dispose([x, y]);
            layer.dispose();
          }
        }
      }
    }
  });

  test("the convolution it transposes maps the output back to n; outputPadding picks each such size", () => {
    for (const padding of ["valid", "same"] as const) {
      for (let n = 1; n <= 6; n++) {
        for (let k = 1; k <= 5; k++) {
          for (let s = 1; s <= 4; s++) {
            const back = (m: number) => convOutputSize(m, k, { padding, strides: s });
            expect(back(convTransposeOutputSize(n, k, { padding, strides: s }))).toBe(n);
            const sizes = new Set<number>();
            for (let p = 0; p < s; p++) {
              if (padding === "same" && k % 2 === 0 && p === 0) continue; // rejected (see the error test)
              const m = convTransposeOutputSize(n, k, { padding, strides: s, outputPadding: p });
              expect([padding, n, k, s, p, back(m)]).toEqual([padding, n, k, s, p, n]);
              // tf.conv2dTranspose (the op, which takes the output shape) produces it.
              const shape = tf.tidy(() => tf.conv2dTranspose(tf.zeros([1, n, n, 1]) as tf.Tensor4D, tf.zeros([k, k, 1, 1]) as tf.Tensor4D, [1, m, m, 1], s, padding).shape);
              expect(shape).toEqual([1, m, m, 1]);
              sizes.add(m);
            }
            // Odd kernels (and valid padding): the s paddings give the s sizes that map back to n.
            if (padding === "valid" || k % 2 === 1) expect(sizes.size).toBe(s);
          }
        }
      }
    }
  });

  test("error lines", () => {
    expect(() => convTransposeOutputSize(8, 3, { strides: 2, outputPadding: 2 })).toThrow(
      "convTransposeOutputSize: invalid outputPadding. Expected an integer in [0, strides − 1] or a [rows, cols] pair of them, smaller than the strides. Received: outputPadding=2 with strides=2.",
    );
    expect(() => convTransposeOutputSize(8, 3, { strides: [2, 1], outputPadding: [1, 1] })).toThrow(
      "convTransposeOutputSize: invalid outputPadding. Expected an integer in [0, strides − 1] or a [rows, cols] pair of them, smaller than the strides. Received: outputPadding=[1,1] with strides=[2,1].",
    );
    expect(() => convTransposeOutputSize(8, 3, { outputPadding: -1 })).toThrow("Received: outputPadding=-1 with strides=1.");
    expect(() => convTransposeOutputSize(8, 4, { strides: 2, padding: "same", outputPadding: 0 })).toThrow(
      'convTransposeOutputSize: invalid outputPadding. Expected an outputPadding of at least 1 with padding "same" and an even kernel (Keras\'s (n − 1)·s + outputPadding would give a size that a "same" convolution maps back to n − 1). Received: outputPadding=0, kernelSize=4. Leave outputPadding out for n·s.',
    );
    expect(() => convTransposeOutputSize(8, 3, { padding: "full" as "same" })).toThrow('convTransposeOutputSize: invalid padding. Expected one of "valid", "same". Received: padding="full".');
    expect(() => convTransposeOutputSize(8, 0)).toThrow("convTransposeOutputSize: invalid kernelSize. Expected a positive integer or a [rows, cols] pair of positive integers. Received: kernelSize=0.");
    expect(() => convTransposeOutputSize(8, 3, { strides: 1.5 })).toThrow("convTransposeOutputSize: invalid strides. Expected a positive integer or a [rows, cols] pair of positive integers. Received: strides=1.5.");
    expect(() => convTransposeOutputSize([8] as never, 3)).toThrow("convTransposeOutputSize: invalid inputSize. Expected a positive integer or a [rows, cols] pair of positive integers. Received: inputSize=[8].");
    expect(() => convTransposeOutputSize(8, 3, { output_padding: 1 } as never)).toThrow(
      "convTransposeOutputSize: invalid option `output_padding`. Expected keys among `padding`, `strides`, `outputPadding`. Received: output_padding=1. Did you mean `outputPadding`?",
    );
  });
});
