/**
 * RandomFlip: which images flip and how, the share that flips, identity at inference, rank-3
 * input, seeds, config round trip, validation lines, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { Random } from "@convlab/engine";
import { RandomFlip, randomFlip } from "./random_flip";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

/** Distinct values everywhere, so that no image equals its mirror. */
function ramp(shape: [number, number, number, number]): tf.Tensor4D {
  return tf.range(0, shape.reduce((a, b) => a * b), 1, "float32").reshape(shape) as tf.Tensor4D;
}

/** The coins a layer seeded `seed` tosses for `n` images (its first call). */
function coins(seed: number, n: number): boolean[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => rng.next() < 0.5);
}

function imageOf(t: tf.Tensor4D, i: number): number[] {
  const [, h, w, c] = t.shape;
  return Array.from(tf.tidy(() => tf.slice(t, [i, 0, 0, 0], [1, h, w, c]).dataSync()));
}

describe("RandomFlip", () => {
  test.each([
    ["horizontal", [2]],
    ["vertical", [1]],
    ["horizontal_and_vertical", [1, 2]],
  ] as const)("%s: flipped images equal tf.reverse(x, %j), the others x", (mode, axes) => {
    const x = ramp([12, 3, 4, 2]);
    const mirrored = tf.reverse(x, [...axes]) as tf.Tensor4D;
    const y = randomFlip({ mode, seed: 5 }).apply(x, { training: true }) as tf.Tensor4D;
    expect(y.shape).toEqual([12, 3, 4, 2]);
    expect(y.dtype).toBe("float32");
    const expected = coins(5, 12);
    expect(expected).toContain(true);
    expect(expected).toContain(false);
    for (let i = 0; i < 12; i++) {
      expect(imageOf(y, i)).toEqual(imageOf(expected[i] ? mirrored : x, i));
    }
    tf.dispose([x, mirrored, y]);
  });

  test("a 2x2 image by hand", () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    // Seed 2's first coin is heads (see the coins above): the image flips.
    expect(coins(2, 1)).toEqual([true]);
    const run = (mode: "horizontal" | "vertical" | "horizontal_and_vertical") => {
      const y = randomFlip({ mode, seed: 2 }).apply(x, { training: true }) as tf.Tensor;
      const values = Array.from(y.dataSync());
      y.dispose();
      return values;
    };
    expect(run("horizontal")).toEqual([2, 1, 4, 3]);
    expect(run("vertical")).toEqual([3, 4, 1, 2]);
    expect(run("horizontal_and_vertical")).toEqual([4, 3, 2, 1]);
    x.dispose();
  });

  test("about half the images flip over many draws, a new draw per call", () => {
    const x = ramp([50, 1, 2, 1]);
    const layer = randomFlip({ mode: "horizontal", seed: 1 });
    let flipped = 0;
    const perCall: number[] = [];
    for (let call = 0; call < 20; call++) {
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const [xs, ys] = [x.dataSync(), y.dataSync()];
      let n = 0;
      for (let i = 0; i < 50; i++) if (ys[2 * i] !== xs[2 * i]) n++;
      perCall.push(n);
      flipped += n;
      y.dispose();
    }
    expect(flipped / 1000).toBeGreaterThan(0.45);
    expect(flipped / 1000).toBeLessThan(0.55);
    expect(new Set(perCall).size).toBeGreaterThan(1);
    x.dispose();
  });

  test("identity at inference: the input itself", () => {
    const x = ramp([2, 3, 3, 1]);
    const layer = randomFlip({ seed: 5 });
    expect(layer.call(x, {})).toBe(x);
    expect(layer.call(x, { training: false })).toBe(x);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.dataSync()).toEqual(x.dataSync());
    tf.dispose([x, y]);
  });

  test("a rank-3 input is one image; int32 becomes float32", () => {
    const x = tf.tensor3d([1, 2, 3, 4], [2, 2, 1], "int32");
    const y = randomFlip({ mode: "horizontal", seed: 2 }).apply(x, { training: true }) as tf.Tensor;
    expect(y.shape).toEqual([2, 2, 1]);
    expect(y.dtype).toBe("float32");
    expect(Array.from(y.dataSync())).toEqual([2, 1, 4, 3]);
    tf.dispose([x, y]);
  });

  test("the same seed gives the same sequence; calls differ", () => {
    const x = ramp([16, 2, 2, 1]);
    const outputs = (layer: RandomFlip) =>
      [0, 1].map(() => {
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        const values = Array.from(y.dataSync()).join();
        y.dispose();
        return values;
      });
    const first = outputs(randomFlip({ seed: 9 }));
    expect(outputs(randomFlip({ seed: 9 }))).toEqual(first);
    expect(first[0]).not.toEqual(first[1]);
    x.dispose();
  });

  test("getConfig and fromConfig round trip, Keras's spelling of the mode included", () => {
    const layer = randomFlip({ mode: "horizontal_and_vertical", seed: 3, name: "flip" });
    const config = layer.getConfig();
    expect(config).toMatchObject({ mode: "horizontal_and_vertical", seed: 3, name: "flip" });
    expect(RandomFlip.className).toBe("RandomFlip");
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap["RandomFlip"];
    const rebuilt = fromConfig(cls, config) as RandomFlip;
    expect(rebuilt).toBeInstanceOf(RandomFlip);
    expect(rebuilt.getConfig()).toEqual(config);
    // tfjs camel-cases string values when it reads a saved model; Keras writes data_format.
    const loaded = fromConfig(cls, { mode: "horizontalAndVertical", seed: null, dataFormat: "channelsLast", name: "f" }) as RandomFlip;
    expect(loaded.mode).toBe("horizontal_and_vertical");
    expect(loaded.seed).toBeUndefined();
    expect(() => fromConfig(cls, { mode: "vertical", dataFormat: "channelsFirst" })).toThrow(
      'RandomFlip: invalid dataFormat. Expected "channelsLast" (images [batch, height, width, channels]). Received: dataFormat="channelsFirst".',
    );
    expect(randomFlip().getConfig()).toMatchObject({ mode: "horizontal_and_vertical", seed: null });
    expect(layer.computeOutputShape([null, 5, 6, 3])).toEqual([null, 5, 6, 3]);
  });

  test("validation lines", () => {
    expect(() => randomFlip({ mode: "horizontl" as never })).toThrow(
      'RandomFlip: invalid mode. Expected one of "horizontal", "vertical", "horizontal_and_vertical". Received: mode="horizontl". Did you mean `horizontal`?',
    );
    expect(() => randomFlip({ seed: -1 })).toThrow("RandomFlip: invalid seed. Expected a non-negative integer. Received: seed=-1.");
    expect(() => randomFlip({ seed: 1.5 })).toThrow("RandomFlip: invalid seed. Expected a non-negative integer. Received: seed=1.5.");
    expect(() => randomFlip({ mod: "vertical" } as never)).toThrow(
      "RandomFlip: unknown option `mod`. Expected one of `mode`, `seed`, `name`, `trainable`, `inputShape`, `batchInputShape`, `batchSize`, `dtype`, `inputDType`, `weights`. Did you mean `mode`?",
    );
    expect(() => randomFlip("horizontal" as never)).toThrow('RandomFlip: invalid arguments. Expected an options object, e.g. { mode: "horizontal" }. Received: "horizontal".');
    const rank = "RandomFlip: invalid input. Expected a rank-4 batch of images [batch, height, width, channels] or a rank-3 image [height, width, channels].";
    const x = tf.ones([4, 4]);
    expect(() => randomFlip().apply(x, { training: true })).toThrow(`${rank} Received: input.shape=[4,4].`);
    expect(() => randomFlip().apply(x)).toThrow(`${rank} Received: input.shape=[4,4].`);
    x.dispose();
    expect(() => tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), randomFlip()] })).toThrow(`${rank} Received: input.shape=[null,4].`);
    // A model of 28x28 images without a channel axis: a batch of 2-D arrays, not one image.
    expect(() => tf.sequential({ layers: [randomFlip({ inputShape: [28, 28] })] })).toThrow(`${rank} Received: input.shape=[null,28,28].`);
    const b = tf.tensor4d([true, false], [1, 1, 2, 1], "bool");
    expect(() => randomFlip().apply(b, { training: true })).toThrow("RandomFlip: invalid input. Expected a float32 or int32 tensor of images. Received: input=Tensor<bool>[1,1,2,1].");
    b.dispose();
  });

  test("leaks nothing", () => {
    const x = ramp([4, 3, 3, 2]);
    const layer = randomFlip({ seed: 2 });
    const run = () => tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x) as tf.Tensor]);
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
