/**
 * SpatialDropout2D: identity at inference, whole maps dropped and the rest scaled in training,
 * validation lines, save/reload, training inside fit, no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { SpatialDropout2D, spatialDropout2d } from "./spatial_dropout_2d";

beforeAll(async () => {
  tf.env().set("IS_TEST", true); // no "install tfjs-node" banner
  await tf.setBackend("cpu");
});

/** For every (sample, channel): "zero", "scaled" (x / (1 − rate)) or "other". */
function classifyMaps(x: tf.Tensor4D, y: tf.Tensor4D, rate: number, channelsLast = true): string[] {
  const xs = x.arraySync();
  const ys = y.arraySync();
  const [n, a, b, c] = x.shape;
  const [rows, cols, channels] = channelsLast ? [a, b, c] : [b, c, a];
  const kinds: string[] = [];
  for (let s = 0; s < n; s++) {
    for (let ch = 0; ch < channels; ch++) {
      let zero = true;
      let scaled = true;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const [xv, yv] = channelsLast ? [xs[s][i][j][ch], ys[s][i][j][ch]] : [xs[s][ch][i][j], ys[s][ch][i][j]];
          if (yv !== 0) zero = false;
          if (Math.abs(yv - xv / (1 - rate)) > 1e-5 * Math.abs(xv / (1 - rate))) scaled = false;
        }
      }
      kinds.push(zero ? "zero" : scaled ? "scaled" : "other");
    }
  }
  return kinds;
}

describe("SpatialDropout2D", () => {
  test("identity at inference", () => {
    const x = tf.randomUniform([2, 4, 4, 3], 0.5, 1, "float32", 1) as tf.Tensor4D;
    const layer = spatialDropout2d({ rate: 0.5 });
    for (const kwargs of [undefined, { training: false }]) {
      const y = layer.apply(x, kwargs) as tf.Tensor;
      expect(y.shape).toEqual(x.shape);
      expect(y.dataSync()).toEqual(x.dataSync());
      y.dispose();
    }
    x.dispose();
  });

  test("in training every map of every sample is all zero or all x / (1 - rate)", () => {
    const x = tf.randomUniform([4, 5, 6, 8], 0.5, 1, "float32", 2) as tf.Tensor4D;
    for (const rate of [0.25, 0.5, 0.8]) {
      const layer = new SpatialDropout2D({ rate, seed: 7 });
      const y = layer.apply(x, { training: true }) as tf.Tensor4D;
      const kinds = classifyMaps(x, y, rate);
      expect(kinds).toHaveLength(32);
      expect(kinds.filter((k) => k === "other")).toEqual([]);
      expect(kinds).toContain("zero");
      expect(kinds).toContain("scaled");
      y.dispose();
    }
    x.dispose();
  });

  test("channelsFirst drops along axis 1", () => {
    const x = tf.randomUniform([3, 6, 4, 5], 0.5, 1, "float32", 3) as tf.Tensor4D;
    const y = spatialDropout2d({ rate: 0.5, dataFormat: "channelsFirst", seed: 3 }).apply(x, { training: true }) as tf.Tensor4D;
    const kinds = classifyMaps(x, y, 0.5, false);
    expect(kinds).toHaveLength(18);
    expect(kinds.filter((k) => k === "other")).toEqual([]);
    expect(new Set(kinds)).toEqual(new Set(["zero", "scaled"]));
    tf.dispose([x, y]);
  });

  test("a seeded layer draws a new mask per call, the same sequence per layer", () => {
    const x = tf.ones([8, 2, 2, 8]);
    const masks = (layer: SpatialDropout2D) =>
      [0, 1].map(() => {
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        const values = Array.from(y.dataSync());
        y.dispose();
        return values.join();
      });
    const first = masks(spatialDropout2d({ rate: 0.5, seed: 11 }));
    const second = masks(spatialDropout2d({ rate: 0.5, seed: 11 }));
    expect(first[0]).not.toEqual(first[1]);
    expect(second).toEqual(first);
    x.dispose();
  });

  test("rate 0 is the identity in training too", () => {
    const x = tf.ones([1, 2, 2, 2]);
    const y = spatialDropout2d({ rate: 0 }).apply(x, { training: true }) as tf.Tensor;
    expect(y.dataSync()).toEqual(x.dataSync());
    tf.dispose([x, y]);
  });

  test("validation lines", () => {
    const expected = "Expected a number in [0, 1).";
    expect(() => spatialDropout2d({ rate: 1 })).toThrow(`SpatialDropout2D: invalid rate. ${expected} Received: rate=1.`);
    expect(() => spatialDropout2d({ rate: -0.1 })).toThrow(`SpatialDropout2D: invalid rate. ${expected} Received: rate=-0.1.`);
    expect(() => spatialDropout2d({ rate: "0.5" as never })).toThrow(`SpatialDropout2D: invalid rate. ${expected} Received: rate="0.5".`);
    expect(() => spatialDropout2d({} as never)).toThrow(`SpatialDropout2D: invalid rate. ${expected} Received: rate=undefined.`);
    expect(() => spatialDropout2d({ rate: 0.5, dataFormat: "channels_last" as never })).toThrow(
      'SpatialDropout2D: invalid dataFormat. Expected one of "channelsLast", "channelsFirst". Received: dataFormat="channels_last". Did you mean `channelsLast`?',
    );
    expect(() => spatialDropout2d({ rate: 0.5, seed: 1.5 })).toThrow("SpatialDropout2D: invalid seed. Expected an integer. Received: seed=1.5.");
    const rank3 = "SpatialDropout2D: invalid input. Expected a rank-4 input [batch, rows, cols, channels] (a stack of feature maps, e.g. a Conv2D's output).";
    const x = tf.ones([2, 3, 4]);
    expect(() => spatialDropout2d({ rate: 0.5 }).apply(x)).toThrow(`${rank3} Received: input.shape=[2,3,4].`);
    x.dispose();
    expect(() => tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), spatialDropout2d({ rate: 0.5 })] })).toThrow(`${rank3} Received: input.shape=[null,4].`);
  });

  test("getConfig and fromConfig round trip", () => {
    const layer = spatialDropout2d({ rate: 0.3, dataFormat: "channelsFirst", seed: 5, name: "drop" });
    const config = layer.getConfig();
    expect(config).toMatchObject({ rate: 0.3, dataFormat: "channelsFirst", seed: 5, name: "drop" });
    const copy = tf.serialization.SerializationMap.getMap().classNameMap["SpatialDropout2D"];
    const rebuilt = copy[1](copy[0], config) as SpatialDropout2D;
    expect(rebuilt).toBeInstanceOf(SpatialDropout2D);
    expect(rebuilt.getConfig()).toEqual(config);
    expect(spatialDropout2d({ rate: 0.1 }).getConfig()).toMatchObject({ seed: null, dataFormat: "channelsLast" });
  });

  test("a model containing it saves and reloads, trains, and leaks nothing", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 4, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        spatialDropout2d({ rate: 0.5, seed: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const topology = JSON.stringify(artifacts!.modelTopology);
    expect(topology).toContain('"class_name":"SpatialDropout2D"');
    expect(topology).toContain('"rate":0.5');
    expect(topology).toContain('"data_format":"channels_last"');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[1]).toBeInstanceOf(SpatialDropout2D);
    expect((loaded.layers[1] as SpatialDropout2D).rate).toBe(0.5);
    const x = tf.randomUniform([3, 6, 6, 1], 0, 1, "float32", 4);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(b.dataSync()).toEqual(a.dataSync());
    tf.dispose([a, b]);

    const y = tf.oneHot(tf.tensor1d([0, 1, 0], "int32"), 2).toFloat();
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    const spy = jest.spyOn(SpatialDropout2D.prototype, "call");
    const history = await model.fit(x, y, { epochs: 2, batchSize: 3, verbose: 0 });
    expect(spy.mock.calls.map(([, kwargs]) => kwargs["training"])).toEqual([true, true]);
    spy.mockRestore();
    expect(history.history.loss.every((l) => Number.isFinite(l as number))).toBe(true);

    const layer = spatialDropout2d({ rate: 0.5 });
    const run = () => tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x) as tf.Tensor]);
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  });
});
