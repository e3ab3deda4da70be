/**
 * RandomTranslation: whole-row and whole-column shifts in every fill mode (a slice plus the fill
 * band), a half-pixel shift with TensorFlow's constant rule, seeds, identity at inference,
 * config, validation lines, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { RandomTranslation, randomTranslation } from "./random_translation";

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

const FILL_MODES = ["reflect", "wrap", "constant", "nearest"] as const;

describe("RandomTranslation", () => {
  // The row that enters at the top when the picture moves down one row (row −1 of the source),
  // and the column that enters on the right when it moves left one column (column 4).
  const entering: Record<(typeof FILL_MODES)[number], (x: tf.Tensor4D, axis: 1 | 2) => tf.Tensor> = {
    reflect: (x, axis) => (axis === 1 ? tf.slice(x, [0, 0, 0, 0], [1, 1, 4, 1]) : tf.slice(x, [0, 0, 3, 0], [1, 4, 1, 1])),
    wrap: (x, axis) => (axis === 1 ? tf.slice(x, [0, 3, 0, 0], [1, 1, 4, 1]) : tf.slice(x, [0, 0, 0, 0], [1, 4, 1, 1])),
    nearest: (x, axis) => (axis === 1 ? tf.slice(x, [0, 0, 0, 0], [1, 1, 4, 1]) : tf.slice(x, [0, 0, 3, 0], [1, 4, 1, 1])),
    constant: (_x, axis) => tf.fill(axis === 1 ? [1, 1, 4, 1] : [1, 4, 1, 1], -7),
  };

  test.each(FILL_MODES)("heightFactor [0.25, 0.25] moves a 4x4 image down one row (fillMode %s)", (fillMode) => {
    const x = grid4();
    const y = randomTranslation({ heightFactor: [0.25, 0.25], widthFactor: 0, fillMode, fillValue: -7 }).apply(x, { training: true }) as tf.Tensor;
    const expected = tf.tidy(() => tf.concat([entering[fillMode](x, 1), tf.slice(x, [0, 0, 0, 0], [1, 3, 4, 1])], 1));
    expect(values(y)).toEqual(values(expected));
    tf.dispose([x, y, expected]);
  });

  test.each(FILL_MODES)("widthFactor [-0.25, -0.25] moves a 4x4 image left one column (fillMode %s)", (fillMode) => {
    const x = grid4();
    const y = randomTranslation({ heightFactor: 0, widthFactor: [-0.25, -0.25], fillMode, fillValue: -7 }).apply(x, { training: true }) as tf.Tensor;
    const expected = tf.tidy(() => tf.concat([tf.slice(x, [0, 0, 1, 0], [1, 4, 3, 1]), entering[fillMode](x, 2)], 2));
    expect(values(y)).toEqual(values(expected));
    tf.dispose([x, y, expected]);
  });

  test("by hand: two rows down tell reflect, wrap, nearest and constant apart", () => {
    const x = grid4();
    const rowsOf = (fillMode: (typeof FILL_MODES)[number]) => {
      const y = randomTranslation({ heightFactor: [0.5, 0.5], widthFactor: 0, fillMode, interpolation: "nearest", fillValue: 0 }).apply(x, { training: true }) as tf.Tensor;
      const v = values(y);
      y.dispose();
      return [0, 4, 8, 12].map((i) => v[i]); // the first column: 4r + 1 for the source row r
    };
    // Output rows read source rows −2, −1, 0, 1.
    expect(rowsOf("reflect")).toEqual([5, 1, 1, 5]); // −2 → 1, −1 → 0
    expect(rowsOf("wrap")).toEqual([9, 13, 1, 5]); // −2 → 2, −1 → 3
    expect(rowsOf("nearest")).toEqual([1, 1, 1, 5]); // → 0
    expect(rowsOf("constant")).toEqual([0, 0, 1, 5]);
    x.dispose();
  });

  test("half a row down with constant fill: the top row is fillValue, as in TensorFlow", () => {
    // Rows read −0.5, 0.5, 1.5, 2.5. TF fills any point outside [0, 3]; tfjs alone would blend
    // row 0 with the fill (bilinear) or round −0.5 onto row 0 (nearest).
    const x = grid4();
    const bilinear = randomTranslation({ heightFactor: [0.125, 0.125], widthFactor: 0, fillMode: "constant", fillValue: 100 }).apply(x, { training: true }) as tf.Tensor;
    const expected = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => (r === 0 ? 100 : 4 * (r - 0.5) + c + 1)));
    values(bilinear).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    const nearest = randomTranslation({ heightFactor: [0.125, 0.125], widthFactor: 0, fillMode: "constant", interpolation: "nearest", fillValue: 100 }).apply(x, { training: true }) as tf.Tensor;
    // 0.5 → 1, 1.5 → 2, 2.5 → 3 (half rounds up).
    expect(values(nearest)).toEqual([100, 100, 100, 100, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    tf.dispose([x, bilinear, nearest]);
  });

  test("both axes at once, on every image of a batch", () => {
    const x = tf.tile(grid4(), [3, 1, 1, 2]);
    const y = randomTranslation({ heightFactor: [-0.25, -0.25], widthFactor: [0.25, 0.25], fillMode: "constant" }).apply(x, { training: true }) as tf.Tensor4D;
    // Up one row and right one column: (r, c) reads (r + 1, c − 1).
    const one = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].flatMap((c) => (r === 3 || c === 0 ? [0, 0] : [4 * (r + 1) + (c - 1) + 1, 4 * (r + 1) + (c - 1) + 1])));
    expect(values(y)).toEqual([...one, ...one, ...one]);
    tf.dispose([x, y]);
  });

  test("one shift per image, new per call, the same sequence for the same seed", () => {
    const x = tf.tile(grid4(), [4, 1, 1, 1]);
    const run = (layer: RandomTranslation) =>
      [0, 1].map(() => {
        const y = layer.apply(x, { training: true }) as tf.Tensor4D;
        const images = tf.tidy(() => tf.split(y, 4).map((t) => values(t).join()));
        y.dispose();
        return images;
      });
    const first = run(randomTranslation({ heightFactor: 0.4, widthFactor: 0.4, seed: 12 }));
    expect(new Set(first[0]).size).toBe(4);
    expect(first[1]).not.toEqual(first[0]);
    expect(run(randomTranslation({ heightFactor: 0.4, widthFactor: 0.4, seed: 12 }))).toEqual(first);
    x.dispose();
  });

  test("identity at inference; rank-3 input in training", () => {
    const x = grid4();
    const layer = randomTranslation({ heightFactor: 0.2, widthFactor: 0.2 });
    expect(layer.call(x, {})).toBe(x);
    const y = layer.apply(x, { training: false }) as tf.Tensor;
    expect(values(y)).toEqual(values(x));
    const single = tf.reshape(x, [4, 4, 1]);
    const moved = randomTranslation({ heightFactor: [0.25, 0.25], widthFactor: 0, fillMode: "constant" }).apply(single, { training: true }) as tf.Tensor;
    expect(moved.shape).toEqual([4, 4, 1]);
    expect(values(moved)).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    tf.dispose([x, y, single, moved]);
  });

  test("getConfig and fromConfig round trip; defaults as Keras", () => {
    const layer = randomTranslation({ heightFactor: [-0.1, 0.2], widthFactor: 0.3, fillMode: "nearest", interpolation: "nearest", seed: 8, fillValue: 1, name: "shift" });
    const config = layer.getConfig();
    expect(config).toMatchObject({ heightFactor: [-0.1, 0.2], widthFactor: 0.3, fillMode: "nearest", interpolation: "nearest", seed: 8, fillValue: 1, name: "shift" });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap["RandomTranslation"];
    const rebuilt = fromConfig(cls, config) as RandomTranslation;
    expect(rebuilt).toBeInstanceOf(RandomTranslation);
    expect(rebuilt.getConfig()).toEqual(config);
    expect(randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }).getConfig()).toMatchObject({ fillMode: "reflect", interpolation: "bilinear", seed: null, fillValue: 0 });
    expect(RandomTranslation.className).toBe("RandomTranslation");
  });

  test("validation lines", () => {
    const expected = "Expected a number in [0, 1] or a [min, max] pair in [-1, 1].";
    expect(() => randomTranslation({ heightFactor: 0.1 } as never)).toThrow(`RandomTranslation: invalid widthFactor. ${expected} Received: widthFactor=undefined.`);
    expect(() => randomTranslation({ heightFactor: [0, 1.2], widthFactor: 0 })).toThrow(`RandomTranslation: invalid heightFactor. ${expected} Received: heightFactor=[0, 1.2].`);
    expect(() => randomTranslation({ heightFactor: 0, widthFactor: -0.2 })).toThrow(`RandomTranslation: invalid widthFactor. ${expected} Received: widthFactor=-0.2.`);
    expect(() => randomTranslation({ heightFactor: 0, widthFactor: [0.2, 0.1] })).toThrow(`RandomTranslation: invalid widthFactor. ${expected} Received: widthFactor=[0.2, 0.1].`);
    expect(() => randomTranslation({ heightFactor: 0, widthFactor: 0, fillMode: "mirror" as never })).toThrow(
      'RandomTranslation: invalid fillMode. Expected one of "reflect", "wrap", "constant", "nearest". Received: fillMode="mirror".',
    );
    expect(() => randomTranslation({ heightFactor: 0, widthFactor: 0, fillValue: Infinity })).toThrow("RandomTranslation: invalid fillValue. Expected a finite number. Received: fillValue=Infinity.");
    expect(() => randomTranslation({ heightFactor: 0, widthFactor: 0, heigthFactor: 0.1 } as never)).toThrow(/^RandomTranslation: unknown option `heigthFactor`\. .* Did you mean `heightFactor`\?$/);
    const x = tf.ones([2, 2, 2, 2, 2]);
    expect(() => randomTranslation({ heightFactor: 0, widthFactor: 0 }).apply(x)).toThrow(
      "RandomTranslation: invalid input. Expected a rank-4 batch of images [batch, height, width, channels] or a rank-3 image [height, width, channels]. Received: input.shape=[2,2,2,2,2].",
    );
    x.dispose();
  });

  test("leaks nothing", () => {
    const x = tf.tile(grid4(), [3, 1, 1, 2]);
    for (const fillMode of FILL_MODES) {
      const layer = randomTranslation({ heightFactor: 0.3, widthFactor: 0.3, fillMode, seed: 1 });
      const run = () => tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x) as tf.Tensor]);
      run();
      const before = tf.memory().numTensors;
      run();
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
  });
});
