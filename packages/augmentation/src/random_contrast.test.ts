/**
 * RandomContrast: (x − mean) · f + mean per image and channel with the seeded draws, clipping to
 * valueRange, identity at inference, config, validation lines, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { Random } from "@convlab/engine";
import { RandomContrast, randomContrast } from "./random_contrast";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** The contrast factors a layer seeded `seed` draws on its first call, one per image. */
function factors(seed: number, n: number, lower: number, upper: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => rng.uniform(1 - lower, 1 + upper));
}

describe("RandomContrast", () => {
  test("factor [0.5, 0.5]: (x - mean) * f + mean per image and channel, f in [0.5, 1.5]", () => {
    // Two 2x2 images, two channels. Image 0: channel 0 = 0, 10, 20, 30 (mean 15), channel 1 =
    // 100, 100, 50, 150 (mean 100). Image 1: channel 0 = 40 everywhere (mean 40, unchanged by any
    // f), channel 1 = 60, 80, 100, 120 (mean 90).
    const x = tf.tensor4d(
      [
        [[[0, 100], [10, 100]], [[20, 50], [30, 150]]],
        [[[40, 60], [40, 80]], [[40, 100], [40, 120]]],
      ],
    );
    const [f0, f1] = factors(3, 2, 0.5, 0.5);
    expect(f0).toBeGreaterThanOrEqual(0.5);
    expect(f0).toBeLessThan(1.5);
    expect(f1).not.toBeCloseTo(f0, 3);
    const y = randomContrast({ factor: [0.5, 0.5], seed: 3 }).apply(x, { training: true }) as tf.Tensor;
    expect(y.shape).toEqual([2, 2, 2, 2]);
    expect(y.dtype).toBe("float32");
    // Clipped to the default valueRange [0, 255]: (0 − 15) f + 15 < 0 once f > 1.
    const c = (v: number, mean: number, f: number) => Math.min(255, Math.max(0, (v - mean) * f + mean));
    const expected = [
      c(0, 15, f0), c(100, 100, f0), c(10, 15, f0), c(100, 100, f0), c(20, 15, f0), c(50, 100, f0), c(30, 15, f0), c(150, 100, f0),
      40, c(60, 90, f1), 40, c(80, 90, f1), 40, c(100, 90, f1), 40, c(120, 90, f1),
    ];
    values(y).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 3));
    tf.dispose([x, y]);
  });

  test("factor 0 is the identity; [1, 0] only lowers the contrast", () => {
    const x = tf.tensor4d([0, 10, 20, 30], [1, 2, 2, 1]);
    const same = randomContrast({ factor: 0 }).apply(x, { training: true }) as tf.Tensor;
    expect(values(same)).toEqual([0, 10, 20, 30]);
    // f uniform in [0, 1]: every value moves towards the mean 15, none crosses it.
    const flatter = randomContrast({ factor: [1, 0], seed: 1 }).apply(x, { training: true }) as tf.Tensor;
    const [f] = factors(1, 1, 1, 0);
    values(flatter).forEach((v, i) => expect(v).toBeCloseTo((i * 10 - 15) * f + 15, 4));
    tf.dispose([x, same, flatter]);
  });

  test("outputs are clipped to valueRange", () => {
    // Mean 5: for any f in [0.5, 1.5], −40 → −45 f + 5 ≤ −17.5 and 60 → 55 f + 5 ≥ 32.5.
    const x = tf.tensor4d([-40, 0, 0, 60], [1, 2, 2, 1]);
    const y = randomContrast({ factor: 0.5, valueRange: [0, 20], seed: 4 }).apply(x, { training: true }) as tf.Tensor;
    const [f] = factors(4, 1, 0.5, 0.5);
    const v = values(y);
    expect(v[0]).toBe(0);
    expect(v[3]).toBe(20);
    expect(v[1]).toBeCloseTo(-5 * f + 5, 4);
    const unit = tf.tensor4d([0, 0.25, 0.75, 1], [1, 2, 2, 1]);
    const stretched = randomContrast({ factor: [0, 1], valueRange: [0, 1], seed: 2 }).apply(unit, { training: true }) as tf.Tensor;
    for (const s of values(stretched)) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    tf.dispose([x, y, unit, stretched]);
  });

  test("a number f draws from [1 - f, 1 + f]: over many images both sides occur", () => {
    const x = tf.tile(tf.tensor4d([0, 10, 20, 30], [1, 2, 2, 1]), [200, 1, 1, 1]);
    const y = randomContrast({ factor: 0.4, seed: 5 }).apply(x, { training: true }) as tf.Tensor;
    const v = values(y);
    const fs = Array.from({ length: 200 }, (_, i) => (v[4 * i + 3] - 15) / 15);
    expect(Math.min(...fs)).toBeGreaterThanOrEqual(0.6 - 1e-5);
    expect(Math.max(...fs)).toBeLessThan(1.4 + 1e-5);
    expect(fs.filter((f) => f < 1).length).toBeGreaterThan(60);
    expect(fs.filter((f) => f > 1).length).toBeGreaterThan(60);
    tf.dispose([x, y]);
  });

  test("identity at inference; rank-3 int32 input in training; seeds", () => {
    const x = tf.tensor4d([0, 10, 20, 30], [1, 2, 2, 1]);
    const layer = randomContrast({ factor: 0.3, seed: 1 });
    expect(layer.call(x, {})).toBe(x);
    const y = layer.apply(x) as tf.Tensor;
    expect(values(y)).toEqual([0, 10, 20, 30]);
    const single = tf.tensor3d([0, 10, 20, 30], [2, 2, 1], "int32");
    const out = randomContrast({ factor: [0.5, 0.5], seed: 3 }).apply(single, { training: true }) as tf.Tensor;
    expect(out.shape).toEqual([2, 2, 1]);
    expect(out.dtype).toBe("float32");
    const [f] = factors(3, 1, 0.5, 0.5);
    values(out).forEach((v, i) => expect(v).toBeCloseTo(Math.max(0, (i * 10 - 15) * f + 15), 4));
    const twice = (l: RandomContrast) => [0, 1].map(() => tf.tidy(() => values(l.apply(x, { training: true }) as tf.Tensor).join()));
    const a = twice(randomContrast({ factor: 0.5, seed: 7 }));
    expect(twice(randomContrast({ factor: 0.5, seed: 7 }))).toEqual(a);
    expect(a[0]).not.toEqual(a[1]);
    tf.dispose([x, y, single, out]);
  });

  test("getConfig and fromConfig round trip; defaults as Keras", () => {
    const layer = randomContrast({ factor: [0.2, 0.3], valueRange: [0, 1], seed: 4, name: "contrast" });
    const config = layer.getConfig();
    expect(config).toMatchObject({ factor: [0.2, 0.3], valueRange: [0, 1], seed: 4, name: "contrast" });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap["RandomContrast"];
    const rebuilt = fromConfig(cls, config) as RandomContrast;
    expect(rebuilt).toBeInstanceOf(RandomContrast);
    expect(rebuilt.getConfig()).toEqual(config);
    expect(randomContrast({ factor: 0.2 }).getConfig()).toMatchObject({ factor: 0.2, valueRange: [0, 255], seed: null });
    expect(RandomContrast.className).toBe("RandomContrast");
  });

  test("validation lines", () => {
    const expected = "Expected a number in [0, 1] or a [lower, upper] pair in [0, 1].";
    expect(() => randomContrast({ factor: 2 })).toThrow(`RandomContrast: invalid factor. ${expected} Received: factor=2.`);
    expect(() => randomContrast({ factor: [0.5, 1.2] })).toThrow(`RandomContrast: invalid factor. ${expected} Received: factor=[0.5, 1.2].`);
    expect(() => randomContrast({ factor: [-0.5, 0.5] })).toThrow(`RandomContrast: invalid factor. ${expected} Received: factor=[-0.5, 0.5].`);
    expect(() => randomContrast({} as never)).toThrow(`RandomContrast: invalid factor. ${expected} Received: factor=undefined.`);
    const range = "RandomContrast: invalid valueRange. Expected a [low, high] pair of numbers with low < high.";
    expect(() => randomContrast({ factor: 0.2, valueRange: [255, 0] })).toThrow(`${range} Received: valueRange=[255, 0].`);
    expect(() => randomContrast({ factor: 0.2, valueRange: [0] as never })).toThrow(`${range} Received: valueRange=[0].`);
    expect(() => randomContrast({ factor: 0.2, valueRange: "0-255" as never })).toThrow(`${range} Received: valueRange="0-255".`);
    expect(() => randomContrast({ factor: 0.2, seed: 2 ** 53 })).toThrow("RandomContrast: invalid seed. Expected a non-negative integer. Received: seed=9007199254740992.");
    expect(() => randomContrast({ factor: 0.2, value_range: [0, 1] } as never)).toThrow(
      "RandomContrast: unknown option `value_range`. Expected one of `factor`, `valueRange`, `seed`, `name`, `trainable`, `inputShape`, `batchInputShape`, `batchSize`, `dtype`, `inputDType`, `weights`. Did you mean `valueRange`?",
    );
    const x = tf.ones([3, 3]);
    expect(() => randomContrast({ factor: 0.2 }).apply(x, { training: true })).toThrow(
      "RandomContrast: invalid input. Expected a rank-4 batch of images [batch, height, width, channels] or a rank-3 image [height, width, channels]. Received: input.shape=[3,3].",
    );
    x.dispose();
  });

  test("leaks nothing", () => {
    const x = tf.randomUniform([3, 4, 4, 3], 0, 255, "float32", 1);
    const layer = randomContrast({ factor: 0.3, seed: 1 });
    const run = () => tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x) as tf.Tensor]);
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
