/**
 * The shared machinery: a model with all five layers saved and reloaded, and training through
 * model.fit (the training flag reaches the layers; predict leaves the images alone). The
 * corrected tf.image.transform kernel they run on is tested in @convlab/engine (transform.test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { RandomContrast, randomContrast } from "./random_contrast";
import { RandomFlip, randomFlip } from "./random_flip";
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
