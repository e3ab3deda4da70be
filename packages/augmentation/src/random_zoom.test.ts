/**
 * RandomZoom: zoom in is the centre crop enlarged, zoom out frames the picture with the fill,
 * the aspect kept without widthFactor, seeds, identity at inference, config, validation lines,
 * no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { RandomZoom, randomZoom } from "./random_zoom";

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

describe("RandomZoom", () => {
  test("factor [-0.5, -0.5] with nearest: the centre 2x2 crop enlarged twice", () => {
    // Output column x reads 0.5 (x − 1.5) + 1.5 = 0.75, 1.25, 1.75, 2.25 → columns 1, 1, 2, 2 (rows alike).
    const x = grid4();
    const y = randomZoom({ heightFactor: [-0.5, -0.5], interpolation: "nearest" }).apply(x, { training: true }) as tf.Tensor;
    expect(values(y)).toEqual([6, 6, 7, 7, 6, 6, 7, 7, 10, 10, 11, 11, 10, 10, 11, 11]);
    const crop = tf.slice(x, [0, 1, 1, 0], [1, 2, 2, 1]);
    const enlarged = tf.image.resizeNearestNeighbor(crop as tf.Tensor4D, [4, 4]);
    expect(values(y)).toEqual(values(enlarged));
    tf.dispose([x, y, crop, enlarged]);
  });

  test("factor [-0.5, -0.5] with bilinear reads the centre at quarter pixels", () => {
    // The grid is linear (4 y' + x' + 1): rows and columns read 0.75, 1.25, 1.75, 2.25.
    const x = grid4();
    const y = randomZoom({ heightFactor: [-0.5, -0.5] }).apply(x, { training: true }) as tf.Tensor;
    const at = [0.75, 1.25, 1.75, 2.25];
    const expected = at.flatMap((r) => at.map((c) => 4 * r + c + 1));
    values(y).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    tf.dispose([x, y]);
  });

  test("zoom out with constant fill: fillValue on the border, the picture shrunk inside", () => {
    // Factor 0.5: output x reads 1.5 (x − 1.5) + 1.5 = −0.75, 0.75, 2.25, 3.75; the ends fall outside.
    const x = grid4();
    const nearest = randomZoom({ heightFactor: [0.5, 0.5], fillMode: "constant", interpolation: "nearest", fillValue: 9 }).apply(x, { training: true }) as tf.Tensor;
    expect(values(nearest)).toEqual([9, 9, 9, 9, 9, 6, 7, 9, 9, 10, 11, 9, 9, 9, 9, 9]);
    // Bilinear: exactly fillValue on the border too (TensorFlow's rule; tfjs alone blends it in).
    const bilinear = randomZoom({ heightFactor: [0.5, 0.5], fillMode: "constant", fillValue: 100 }).apply(x, { training: true }) as tf.Tensor;
    const expected = [100, 100, 100, 100, 100, 4.75, 6.25, 100, 100, 10.75, 12.25, 100, 100, 100, 100, 100];
    values(bilinear).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    tf.dispose([x, nearest, bilinear]);
  });

  test("zoom out with the other fill modes: the border from the picture", () => {
    // Factor 1 (z = 2): columns read −1.5, 0.5, 2.5, 4.5; nearest interpolation rounds half up.
    const x = grid4();
    const run = (fillMode: "reflect" | "wrap" | "nearest") => {
      const y = randomZoom({ heightFactor: [1, 1], fillMode, interpolation: "nearest" }).apply(x, { training: true }) as tf.Tensor;
      const v = values(y);
      y.dispose();
      return v;
    };
    // reflect (about the pixel edge: −1.5 ↦ −(−1.5) − 1, 4.5 ↦ 2·4 − 4.5 − 1): −1.5 → 0.5 → 1,
    // 4.5 → 2.5 → 3; nearest: −1.5 → 0, 4.5 → 3; wrap (period 4): −1.5 → 2.5 → 3, 4.5 → 0.5 → 1.
    const pick = (idx: number[]) => idx.flatMap((r) => idx.map((c) => 4 * r + c + 1));
    expect(run("reflect")).toEqual(pick([1, 1, 3, 3]));
    expect(run("nearest")).toEqual(pick([0, 1, 3, 3]));
    expect(run("wrap")).toEqual(pick([3, 1, 3, 1]));
    x.dispose();
  });

  test("widthFactor zooms the columns alone", () => {
    const x = grid4();
    const y = randomZoom({ heightFactor: [0, 0], widthFactor: [-0.5, -0.5], interpolation: "nearest" }).apply(x, { training: true }) as tf.Tensor;
    expect(values(y)).toEqual([2, 2, 3, 3, 6, 6, 7, 7, 10, 10, 11, 11, 14, 14, 15, 15]);
    tf.dispose([x, y]);
  });

  test("without widthFactor the height's draw zooms both axes (the aspect kept)", () => {
    const x = tf.randomUniform([6, 5, 5, 1], 0, 1, "float32", 3) as tf.Tensor4D;
    const xt = tf.transpose(x, [0, 2, 1, 3]);
    const zoomOf = (seed: number, widthFactor?: [number, number]) => {
      const a = randomZoom({ heightFactor: [-0.4, 0.4], widthFactor, seed }).apply(x, { training: true }) as tf.Tensor;
      const b = randomZoom({ heightFactor: [-0.4, 0.4], widthFactor, seed }).apply(xt, { training: true }) as tf.Tensor;
      const bt = tf.transpose(b, [0, 2, 1, 3]);
      const diff = tf.max(tf.abs(tf.sub(a, bt))).dataSync()[0];
      tf.dispose([a, b, bt]);
      return diff;
    };
    // Equal zooms on both axes commute with the transpose; independent ones do not.
    expect(zoomOf(8)).toBeLessThan(1e-6);
    expect(zoomOf(8, [-0.4, 0.4])).toBeGreaterThan(1e-3);
    tf.dispose([x, xt]);
  });

  test("one zoom per image, new per call, the same sequence for the same seed", () => {
    const x = tf.tile(grid4(), [4, 1, 1, 1]);
    const run = (layer: RandomZoom) =>
      [0, 1].map(() => {
        const y = layer.apply(x, { training: true }) as tf.Tensor4D;
        const images = tf.tidy(() => tf.split(y, 4).map((t) => values(t).join()));
        y.dispose();
        return images;
      });
    const first = run(randomZoom({ heightFactor: 0.5, seed: 6 }));
    expect(new Set(first[0]).size).toBe(4);
    expect(first[1]).not.toEqual(first[0]);
    expect(run(randomZoom({ heightFactor: 0.5, seed: 6 }))).toEqual(first);
    x.dispose();
  });

  test("identity at inference; rank-3 input in training", () => {
    const x = grid4();
    const layer = randomZoom({ heightFactor: 0.3 });
    expect(layer.call(x, { training: false })).toBe(x);
    const y = layer.apply(x) as tf.Tensor;
    expect(values(y)).toEqual(values(x));
    const single = tf.reshape(x, [4, 4, 1]);
    const zoomed = randomZoom({ heightFactor: [-0.5, -0.5], interpolation: "nearest" }).apply(single, { training: true }) as tf.Tensor;
    expect(zoomed.shape).toEqual([4, 4, 1]);
    expect(values(zoomed)).toEqual([6, 6, 7, 7, 6, 6, 7, 7, 10, 10, 11, 11, 10, 10, 11, 11]);
    tf.dispose([x, y, single, zoomed]);
  });

  test("getConfig and fromConfig round trip; defaults as Keras", () => {
    const layer = randomZoom({ heightFactor: [-0.2, 0.3], widthFactor: 0.1, fillMode: "wrap", interpolation: "nearest", seed: 2, fillValue: 3, name: "zoom" });
    const config = layer.getConfig();
    expect(config).toMatchObject({ heightFactor: [-0.2, 0.3], widthFactor: 0.1, fillMode: "wrap", interpolation: "nearest", seed: 2, fillValue: 3, name: "zoom" });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap["RandomZoom"];
    const rebuilt = fromConfig(cls, config) as RandomZoom;
    expect(rebuilt).toBeInstanceOf(RandomZoom);
    expect(rebuilt.getConfig()).toEqual(config);
    expect(randomZoom({ heightFactor: 0.2 }).getConfig()).toMatchObject({ heightFactor: 0.2, widthFactor: null, fillMode: "reflect", interpolation: "bilinear", seed: null, fillValue: 0 });
    expect(RandomZoom.className).toBe("RandomZoom");
  });

  test("validation lines", () => {
    const expected = "Expected a number in [0, 1] or a [min, max] pair in [-1, 1].";
    expect(() => randomZoom({ heightFactor: [-1.5, 0] })).toThrow(`RandomZoom: invalid heightFactor. ${expected} Received: heightFactor=[-1.5, 0].`);
    expect(() => randomZoom({ heightFactor: [0.3, -0.3] })).toThrow(`RandomZoom: invalid heightFactor. ${expected} Received: heightFactor=[0.3, -0.3].`);
    expect(() => randomZoom({ heightFactor: 2 })).toThrow(`RandomZoom: invalid heightFactor. ${expected} Received: heightFactor=2.`);
    expect(() => randomZoom({ heightFactor: 0.2, widthFactor: [0.2, 0.1] })).toThrow(`RandomZoom: invalid widthFactor. ${expected} Received: widthFactor=[0.2, 0.1].`);
    expect(() => randomZoom({ widthFactor: 0.2 } as never)).toThrow(`RandomZoom: invalid heightFactor. ${expected} Received: heightFactor=undefined.`);
    expect(() => randomZoom({ heightFactor: 0.2, fillMode: "constnt" as never })).toThrow(
      'RandomZoom: invalid fillMode. Expected one of "reflect", "wrap", "constant", "nearest". Received: fillMode="constnt". Did you mean `constant`?',
    );
    expect(() => randomZoom({ heightFactor: 0.2, interpolation: "Nearest" as never })).toThrow(
      'RandomZoom: invalid interpolation. Expected one of "bilinear", "nearest". Received: interpolation="Nearest". Did you mean `nearest`?',
    );
    expect(() => randomZoom({ heightFactor: 0.2, fillValue: "0" as never })).toThrow('RandomZoom: invalid fillValue. Expected a finite number. Received: fillValue="0".');
    expect(() => randomZoom({ heightFactor: 0.2, seed: -3 })).toThrow("RandomZoom: invalid seed. Expected a non-negative integer. Received: seed=-3.");
    expect(() => randomZoom({ heightFactor: 0.2, zoomFactor: 0.1 } as never)).toThrow(/^RandomZoom: unknown option `zoomFactor`\. Expected one of `heightFactor`, `widthFactor`, /);
    expect(() => randomZoom(0.2 as never)).toThrow("RandomZoom: invalid arguments. Expected an options object, e.g. { heightFactor: 0.2 }. Received: 0.2.");
    const x = tf.ones([4]);
    expect(() => randomZoom({ heightFactor: 0.2 }).apply(x, { training: true })).toThrow(
      "RandomZoom: invalid input. Expected a rank-4 batch of images [batch, height, width, channels] or a rank-3 image [height, width, channels]. Received: input.shape=[4].",
    );
    x.dispose();
  });

  test("leaks nothing", () => {
    const x = tf.tile(grid4(), [3, 1, 1, 2]);
    for (const fillMode of ["constant", "reflect"] as const) {
      const layer = randomZoom({ heightFactor: 0.3, widthFactor: [-0.2, 0.2], fillMode, seed: 1 });
      const run = () => tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x) as tf.Tensor]);
      run();
      const before = tf.memory().numTensors;
      run();
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
  });
});
