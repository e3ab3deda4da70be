/**
 * RandomRotation: direction and exactness of quarter turns, the corners a 45° turn uncovers in
 * every fill mode (hand-computed), one angle per image, seeds, identity at inference, config,
 * validation lines, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { RandomRotation, randomRotation } from "./random_rotation";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

/** A 4x4 one-channel image with pixel (row r, column c) = 4r + c + 1. */
function grid4(): tf.Tensor4D {
  return tf.range(1, 17, 1, "float32").reshape([1, 4, 4, 1]) as tf.Tensor4D;
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectClose(actual: number[], expected: number[], digits = 4): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], digits));
}

const FILL_MODES = ["reflect", "wrap", "constant", "nearest"] as const;

describe("RandomRotation", () => {
  test("a positive quarter turn is counter-clockwise (np.rot90), by hand on 3x3", () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const ccw = randomRotation({ factor: [0.25, 0.25] }).apply(x, { training: true }) as tf.Tensor;
    const cw = randomRotation({ factor: [-0.25, -0.25] }).apply(x, { training: true }) as tf.Tensor;
    expect(values(ccw)).toEqual([3, 6, 9, 2, 5, 8, 1, 4, 7]);
    expect(values(cw)).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
    tf.dispose([x, ccw, cw]);
  });

  test.each(FILL_MODES.flatMap((fillMode) => (["bilinear", "nearest"] as const).map((interpolation) => [fillMode, interpolation] as const)))(
    "factor [0.25, 0.25] equals transpose then flip rows, exactly (fillMode %s, %s), every image of the batch",
    (fillMode, interpolation) => {
      const x = tf.randomUniform([3, 4, 4, 2], 0, 1, "float32", 7) as tf.Tensor4D;
      const expected = tf.reverse(tf.transpose(x, [0, 2, 1, 3]), [1]);
      const y = randomRotation({ factor: [0.25, 0.25], fillMode, interpolation, fillValue: -1 }).apply(x, { training: true }) as tf.Tensor;
      expect(y.shape).toEqual([3, 4, 4, 2]);
      expect(values(y)).toEqual(values(expected));
      const back = randomRotation({ factor: [-0.25, -0.25], fillMode, interpolation }).apply(y, { training: true }) as tf.Tensor;
      expect(values(back)).toEqual(values(x));
      tf.dispose([x, expected, y, back]);
    },
  );

  // A 45° turn of the 4x4 grid about (1.5, 1.5): output pixel (x, y) reads the input at
  // x' = c(x − 1.5) − s(y − 1.5) + 1.5, y' = s(x − 1.5) + c(y − 1.5) + 1.5 with c = s = √2/2.
  // The grid is linear (4 y' + x' + 1), so bilinear reads give 4 y' + x' + 1 inside. E.g.
  // (1, 0) reads (2.2071, 0.0858): 4 · 0.0858 + 2.2071 + 1 = 3.5503. The corners read points
  // 0.62 px outside: (0, 0) → (1.5, −0.62), (3, 0) → (3.62, 1.5), (0, 3) → (−0.62, 1.5),
  // (3, 3) → (1.5, 3.62).
  const inside45 = [
    [1, 0, 3.5503], [2, 0, 7.0858],
    [0, 1, 2.136], [1, 1, 5.6716], [2, 1, 9.2071], [3, 1, 12.7426],
    [0, 2, 4.2574], [1, 2, 7.7929], [2, 2, 11.3284], [3, 2, 14.864],
    [1, 3, 9.9142], [2, 3, 13.4497],
  ];
  const corners45: Record<(typeof FILL_MODES)[number], [number, number, number, number]> = {
    // fillValue everywhere outside.
    constant: [-1, -1, -1, -1],
    // −0.62 reflects to −0.38 and 3.62 stays inside the last pixel; both clamp to the edge:
    // (0,0) reads (1.5, 0) = (2 + 3)/2, (3,0) reads (3, 1.5) = (8 + 12)/2, (0,3) reads (0, 1.5) = (5 + 9)/2, (3,3) reads (1.5, 3) = (14 + 15)/2.
    reflect: [2.5, 10, 7, 14.5],
    // the edge pixel: the same points as reflect here.
    nearest: [2.5, 10, 7, 14.5],
    // −0.62 wraps to 3.38 (clamped to 3), 3.62 to −0.38 (clamped to 0): (0,0) reads (1.5, 3), (3,0) reads (0, 1.5), (0,3) reads (3, 1.5), (3,3) reads (1.5, 0).
    wrap: [14.5, 7, 10, 2.5],
  };

  test.each(FILL_MODES)("45° on a 4x4 image, fillMode %s: hand-computed corners and inside", (fillMode) => {
    const x = grid4();
    const y = randomRotation({ factor: [0.125, 0.125], fillMode, fillValue: -1 }).apply(x, { training: true }) as tf.Tensor;
    const expected = new Array<number>(16).fill(NaN);
    for (const [px, py, v] of inside45) expected[py * 4 + px] = v;
    const [c00, c30, c03, c33] = corners45[fillMode];
    expected[0] = c00;
    expected[3] = c30;
    expected[12] = c03;
    expected[15] = c33;
    expectClose(values(y), expected);
    tf.dispose([x, y]);
  });

  test("45° with nearest interpolation and constant fill: corners exactly fillValue", () => {
    // 5x5 (centre (2, 2)) so that no point falls on a half pixel.
    const x = tf.range(1, 26, 1, "float32").reshape([1, 5, 5, 1]);
    const y = randomRotation({ factor: [0.125, 0.125], fillMode: "constant", interpolation: "nearest", fillValue: 0 }).apply(x, { training: true }) as tf.Tensor;
    // Output (x, y) reads (round x', round y'), x' = c(x−2) − s(y−2) + 2, y' = s(x−2) + c(y−2) + 2,
    // or 0 when (x', y') is outside [0, 4]²: (0, 2) reads (0.59, 0.59) → pixel (1, 1) = 7;
    // (1, 0) reads (2.71, −0.12) → outside → 0 (tfjs alone would round −0.12 onto row 0).
    expect(values(y)).toEqual([
      0, 0, 9, 0, 0,
      0, 8, 9, 14, 0,
      7, 7, 13, 19, 19,
      0, 12, 17, 18, 0,
      0, 0, 17, 0, 0,
    ]);
    tf.dispose([x, y]);
  });

  test("one angle per image, a new draw per call, the same sequence for the same seed", () => {
    const x = tf.tile(grid4(), [4, 1, 1, 1]);
    const run = (layer: RandomRotation) =>
      [0, 1].map(() => {
        const y = layer.apply(x, { training: true }) as tf.Tensor4D;
        const images = tf.tidy(() => tf.split(y, 4).map((t) => values(t).join()));
        y.dispose();
        return images;
      });
    const first = run(randomRotation({ factor: 0.5, seed: 4 }));
    expect(new Set(first[0]).size).toBe(4);
    expect(first[1]).not.toEqual(first[0]);
    expect(run(randomRotation({ factor: 0.5, seed: 4 }))).toEqual(first);
    x.dispose();
  });

  test("identity at inference; rank-3 input in training", () => {
    const x = grid4();
    const layer = randomRotation({ factor: 0.2 });
    expect(layer.call(x, {})).toBe(x);
    const y = layer.apply(x) as tf.Tensor;
    expect(values(y)).toEqual(values(x));
    const single = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1], "int32");
    const turned = randomRotation({ factor: [0.25, 0.25] }).apply(single, { training: true }) as tf.Tensor;
    expect(turned.shape).toEqual([3, 3, 1]);
    expect(turned.dtype).toBe("float32");
    expect(values(turned)).toEqual([3, 6, 9, 2, 5, 8, 1, 4, 7]);
    tf.dispose([x, y, single, turned]);
  });

  test("getConfig and fromConfig round trip; defaults as Keras", () => {
    const layer = randomRotation({ factor: [-0.1, 0.2], fillMode: "constant", interpolation: "nearest", seed: 3, fillValue: 0.5, name: "rot" });
    const config = layer.getConfig();
    expect(config).toMatchObject({ factor: [-0.1, 0.2], fillMode: "constant", interpolation: "nearest", seed: 3, fillValue: 0.5, name: "rot" });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap["RandomRotation"];
    const rebuilt = fromConfig(cls, config) as RandomRotation;
    expect(rebuilt).toBeInstanceOf(RandomRotation);
    expect(rebuilt.getConfig()).toEqual(config);
    expect(randomRotation({ factor: 0.1 }).getConfig()).toMatchObject({ factor: 0.1, fillMode: "reflect", interpolation: "bilinear", seed: null, fillValue: 0 });
    expect(RandomRotation.className).toBe("RandomRotation");
  });

  test("validation lines", () => {
    const factor = "RandomRotation: invalid factor. Expected a number in [0, 1] or a [min, max] pair.";
    expect(() => randomRotation({ factor: [0.3, 0.1] })).toThrow(`${factor} Received: factor=[0.3, 0.1].`);
    expect(() => randomRotation({ factor: 1.5 })).toThrow(`${factor} Received: factor=1.5.`);
    expect(() => randomRotation({ factor: -0.1 })).toThrow(`${factor} Received: factor=-0.1.`);
    expect(() => randomRotation({ factor: [0.1] as never })).toThrow(`${factor} Received: factor=[0.1].`);
    expect(() => randomRotation({ factor: "0.1" as never })).toThrow(`${factor} Received: factor="0.1".`);
    expect(() => randomRotation({} as never)).toThrow(`${factor} Received: factor=undefined.`);
    expect(() => randomRotation(undefined as never)).toThrow(`${factor} Received: factor=undefined.`);
    expect(() => randomRotation({ factor: 0.1, fillMode: "reflection" as never })).toThrow(
      'RandomRotation: invalid fillMode. Expected one of "reflect", "wrap", "constant", "nearest". Received: fillMode="reflection". Did you mean `reflect`?',
    );
    expect(() => randomRotation({ factor: 0.1, interpolation: "bicubic" as never })).toThrow(
      'RandomRotation: invalid interpolation. Expected one of "bilinear", "nearest". Received: interpolation="bicubic".',
    );
    expect(() => randomRotation({ factor: 0.1, fillValue: NaN })).toThrow("RandomRotation: invalid fillValue. Expected a finite number. Received: fillValue=NaN.");
    expect(() => randomRotation({ factor: 0.1, seed: "1" as never })).toThrow('RandomRotation: invalid seed. Expected a non-negative integer. Received: seed="1".');
    expect(() => randomRotation({ factor: 0.1, fill_mode: "constant" } as never)).toThrow(
      "RandomRotation: unknown option `fill_mode`. Expected one of `factor`, `fillMode`, `interpolation`, `seed`, `fillValue`, `name`, `trainable`, `inputShape`, `batchInputShape`, `batchSize`, `dtype`, `inputDType`, `weights`. Did you mean `fillMode`?",
    );
    const x = tf.ones([1, 2, 2, 2, 1]);
    expect(() => randomRotation({ factor: 0.1 }).apply(x, { training: true })).toThrow(
      "RandomRotation: invalid input. Expected a rank-4 batch of images [batch, height, width, channels] or a rank-3 image [height, width, channels]. Received: input.shape=[1,2,2,2,1].",
    );
    x.dispose();
  });

  test("leaks nothing", () => {
    const x = tf.tile(grid4(), [3, 1, 1, 2]);
    for (const fillMode of FILL_MODES) {
      const layer = randomRotation({ factor: 0.3, fillMode, seed: 1 });
      const run = () => tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x) as tf.Tensor]);
      run();
      const before = tf.memory().numTensors;
      run();
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
  });
});
