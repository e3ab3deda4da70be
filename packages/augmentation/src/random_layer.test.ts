/**
 * The shared machinery: the two tfjs 4.22 deviations transformImages corrects (and that they
 * still exist), a model with all five layers saved and reloaded, and training through
 * model.fit (the training flag reaches the layers; predict leaves the images alone).
 */
import * as tf from "@tensorflow/tfjs";
import { setupWasm } from "@convlab/engine";
import { RandomContrast, randomContrast } from "./random_contrast";
import { RandomFlip, randomFlip } from "./random_flip";
import { AffineMap, transformImages } from "./random_layer";
import { RandomRotation, randomRotation } from "./random_rotation";
import { RandomTranslation, randomTranslation } from "./random_translation";
import { RandomZoom, randomZoom } from "./random_zoom";

beforeAll(async () => {
  tf.env().set("IS_TEST", true);
  await tf.setBackend("cpu");
});

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

const IDENTITY: AffineMap = [1, 0, 0, 0, 1, 0];

describe("transformImages (tf.image.transform with TensorFlow's semantics)", () => {
  test("every image of a batch is transformed (tfjs 4.22's cpu kernel stops after the first)", () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    // The deviation itself: the second image comes back as fillValue. If this starts failing,
    // tfjs has fixed its kernel and transformImages could send the batch at once again.
    const raw = tf.image.transform(x, tf.tensor2d([[1, 0, 0, 0, 1, 0, 0, 0]]), "nearest", "constant", 9);
    expect(values(raw)).toEqual([1, 2, 3, 4, 9, 9, 9, 9]);
    const fixed = transformImages(x, [IDENTITY, [1, 0, 1, 0, 1, 0]], "nearest", "constant", 9);
    expect(values(fixed)).toEqual([1, 2, 3, 4, 6, 9, 8, 9]);
    tf.dispose([x, raw, fixed]);
  });

  test("constant fill: a point outside [0, len - 1] is fillValue (tfjs blends the edge or rounds onto it)", () => {
    const row = tf.tensor4d([0, 10, 20, 30], [1, 1, 4, 1]);
    const shift: AffineMap = [1, 0, -0.5, 0, 1, 0]; // column x reads x − 0.5
    const t = tf.tensor2d([[...shift, 0, 0]]);
    // tfjs alone: bilinear mixes the fill into column 0, nearest rounds −0.5 onto column 0.
    expect(values(tf.image.transform(row, t, "bilinear", "constant", 100))).toEqual([50, 5, 15, 25]);
    expect(values(tf.image.transform(row, t, "nearest", "constant", 100))).toEqual([0, 10, 20, 30]);
    // TensorFlow: column 0 reads −0.5, outside, so fillValue.
    expect(values(transformImages(row as tf.Tensor4D, [shift], "bilinear", "constant", 100))).toEqual([100, 5, 15, 25]);
    expect(values(transformImages(row as tf.Tensor4D, [shift], "nearest", "constant", 100))).toEqual([100, 10, 20, 30]);
    tf.dispose([row, t]);
  });

  test("the other fill modes follow TensorFlow's definitions on a row a b c d", () => {
    // Shifts of −3 … 3 columns (column x reads x − s) on a row 0 1 2 3, nearest interpolation.
    const row = tf.tensor4d([0, 1, 2, 3], [1, 1, 4, 1]) as tf.Tensor4D;
    const shifted = (s: number, mode: "reflect" | "wrap" | "nearest") => {
      const y = transformImages(row, [[1, 0, -s, 0, 1, 0]], "nearest", mode, 0);
      const v = values(y);
      y.dispose();
      return v;
    };
    // reflect: d c b a | a b c d | d c b a
    expect(shifted(2, "reflect")).toEqual([1, 0, 0, 1]);
    expect(shifted(-2, "reflect")).toEqual([2, 3, 3, 2]);
    // nearest: a a a a | a b c d | d d d d
    expect(shifted(2, "nearest")).toEqual([0, 0, 0, 1]);
    expect(shifted(-2, "nearest")).toEqual([2, 3, 3, 3]);
    // wrap: a b c d | a b c d | a b c d, exact for shifts under len − 1 pixels…
    expect(shifted(2, "wrap")).toEqual([2, 3, 0, 1]);
    expect(shifted(-2, "wrap")).toEqual([2, 3, 0, 1]);
    // …and TensorFlow's formula (which tfjs shares) lands on an edge beyond: a true wrap of 3
    // would be 1 2 3 0.
    expect(shifted(3, "wrap")).toEqual([3, 2, 3, 0]);
    row.dispose();
  });

  test("the same results on the wasm backend (whose reflect reads the far edge for negative points)", async () => {
    const maps: AffineMap[] = [
      [1, 0, -1.3, 0, 1, 0.7], // shifts, fractional
      [1, 0, 6.3, 0, 1, -9.2], // beyond a whole period
      [0.6, 0, 0.8, 0, 0.6, 1.2], // zoom in
      [1.4, 0, -0.8, 0, 1.7, -1.2], // zoom out
      [Math.SQRT1_2, -Math.SQRT1_2, 2, Math.SQRT1_2, Math.SQRT1_2, -1.5], // 45° turn
    ];
    const modes = ["reflect", "wrap", "constant", "nearest"] as const;
    const run = () =>
      tf.tidy(() => {
        const x = tf.randomUniform([1, 5, 6, 2], 0, 1, "float32", 3) as tf.Tensor4D;
        const raw = values(tf.image.transform(x, tf.tensor2d([[1, 0, -1, 0, 1, 0, 0, 0]]), "nearest", "reflect"));
        const fixed = modes.flatMap((mode) => (["bilinear", "nearest"] as const).flatMap((ip) => maps.map((m) => values(transformImages(x, [m], ip, mode, -1)))));
        return { first: values(tf.slice(x, [0, 0, 0, 0], [1, 5, 1, 2])), last: values(tf.slice(x, [0, 0, 5, 0], [1, 5, 1, 2])), raw, fixed };
      });
    const onCpu = run();
    await setupWasm(tf, { threads: 1 });
    try {
      expect(tf.getBackend()).toBe("wasm");
      const onWasm = run();
      // The deviation: column 0 reads column −1, which reflects to column 0; wasm reads column 5.
      const column0 = (v: number[]) => [0, 1, 2, 3, 4].flatMap((r) => [v[r * 12], v[r * 12 + 1]]);
      expect(column0(onCpu.raw)).toEqual(onCpu.first);
      expect(column0(onWasm.raw)).toEqual(onCpu.last);
      onWasm.fixed.forEach((image, k) => image.forEach((v, j) => expect(v).toBeCloseTo(onCpu.fixed[k][j], 4)));
    } finally {
      await tf.setBackend("cpu");
      tf.removeBackend("wasm");
    }
  });

  test("leaks nothing", () => {
    const x = tf.ones([3, 4, 4, 2]) as tf.Tensor4D;
    const maps: AffineMap[] = [IDENTITY, [1, 0, 0.5, 0, 1, 0], [0.5, 0, 1, 0, 2, -1]];
    const run = () => transformImages(x, maps, "bilinear", "constant", 0).dispose();
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("the five layers in a model", () => {
  function allFive(): tf.Sequential {
    return tf.sequential({
      layers: [
        randomFlip({ mode: "horizontal_and_vertical", seed: 1, inputShape: [8, 8, 3] }),
        randomRotation({ factor: [-0.1, 0.2], fillMode: "constant", fillValue: 0.5, seed: 2 }),
        randomZoom({ heightFactor: 0.2, interpolation: "nearest", seed: 3 }),
        randomTranslation({ heightFactor: 0.1, widthFactor: [-0.2, 0.1], fillMode: "wrap" }),
        randomContrast({ factor: [0.2, 0.3], valueRange: [0, 1], seed: 5 }),
        tf.layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
  }

  test("saves and reloads with Keras's class names and keys", async () => {
    const model = allFive();
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const topology = JSON.stringify(artifacts!.modelTopology);
    for (const name of ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast"]) {
      expect(topology).toContain(`"class_name":"${name}"`);
    }
    expect(topology).toContain('"mode":"horizontal_and_vertical"');
    expect(topology).toContain('"factor":[-0.1,0.2]');
    expect(topology).toContain('"fill_mode":"constant"');
    expect(topology).toContain('"fill_value":0.5');
    expect(topology).toContain('"height_factor":0.2,"width_factor":null');
    expect(topology).toContain('"value_range":[0,1]');

    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const classes = [RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast];
    classes.forEach((cls, i) => {
      expect(loaded.layers[i]).toBeInstanceOf(cls);
      expect(loaded.layers[i].getConfig()).toEqual(model.layers[i].getConfig());
    });
    expect((loaded.layers[0] as RandomFlip).mode).toBe("horizontal_and_vertical");
    expect((loaded.layers[3] as RandomTranslation).seed).toBeUndefined();

    // modelFromJSON takes the same topology.
    const fromJson = await tf.models.modelFromJSON({ modelTopology: artifacts!.modelTopology } as Parameters<typeof tf.models.modelFromJSON>[0]);
    expect(fromJson.layers[2]).toBeInstanceOf(RandomZoom);

    // At inference the augmentation is the identity: both models predict the same.
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 4);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(values(b)).toEqual(values(a));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
    fromJson.dispose();
  });

  test("trains with model.fit: the layers change the images in training, not in predict", async () => {
    const model = tf.sequential({
      layers: [
        randomFlip({ mode: "horizontal", seed: 2, inputShape: [6, 6, 1] }),
        randomRotation({ factor: [0.25, 0.25], seed: 3 }),
        tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([8, 6, 6, 1], 0, 1, "float32", 5);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], "int32"), 2).toFloat();

    type Seen = { layer: string; training: unknown; changed: boolean };
    const seen: Seen[] = [];
    const spies = [RandomFlip, RandomRotation].map((cls) => {
      const original = cls.prototype.call;
      return jest.spyOn(cls.prototype, "call").mockImplementation(function (this: tf.layers.Layer, inputs, kwargs) {
        const out = original.call(this, inputs, kwargs);
        const input = Array.isArray(inputs) ? inputs[0] : inputs;
        seen.push({ layer: cls.className, training: kwargs["training"], changed: values(out).join() !== values(input).join() });
        return out;
      });
    });

    const history = await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    expect(history.history.loss.every((l) => Number.isFinite(l as number))).toBe(true);
    const inFit = seen.splice(0);
    expect(inFit).toHaveLength(8); // 2 epochs × 2 batches × 2 layers
    expect(inFit.every((s) => s.training === true)).toBe(true);
    // The quarter turn always changes the batch; the flips change some of them.
    expect(inFit.filter((s) => s.layer === "RandomRotation").every((s) => s.changed)).toBe(true);
    expect(inFit.some((s) => s.layer === "RandomFlip" && s.changed)).toBe(true);

    const p = model.predict(x) as tf.Tensor;
    const inPredict = seen.splice(0);
    expect(inPredict).toHaveLength(2);
    expect(inPredict.every((s) => s.training !== true && !s.changed)).toBe(true);
    spies.forEach((s) => s.mockRestore());

    // No leak from a training step or a prediction.
    const step = async () => {
      await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      (model.predict(x) as tf.Tensor).dispose();
    };
    await step();
    const before = tf.memory().numTensors;
    await step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, p]);
    model.dispose();
  });
});
