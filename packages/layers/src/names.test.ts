/**
 * Keras names: unnamed layers and models get `conv2d`, `conv2d_1`,
 * `sequential`, `model`, `input_1`; explicit names, and names read back from
 * a saved model (even tfjs's `conv2d_Conv2D1`), are left alone.
 */
import * as tf from "@tensorflow/tfjs";
import { resetNames, snakeCase } from "./names";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

beforeEach(() => resetNames());

describe("Keras names", () => {
  it("names layers per snake_case class, the first without suffix", () => {
    const names = [
      tf.layers.conv2d({ filters: 1, kernelSize: 1 }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 1, kernelSize: 1 }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 1 }),
      tf.layers.conv2d({ filters: 1, kernelSize: 1 }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.dense({ units: 1 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
    ].map((l) => l.name);
    expect(names).toEqual([
      "conv2d",
      "max_pooling2d",
      "conv2d_1",
      "batch_normalization",
      "dense",
      "conv2d_2",
      "max_pooling2d_1",
      "dense_1",
      "flatten",
      "dropout",
    ]);
  });

  it("names Sequential models sequential, sequential_1, and their input layers <first>_input", () => {
    const a = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    const b = tf.sequential();
    b.add(tf.layers.dense({ units: 1, inputShape: [3] }));
    expect([a.name, b.name]).toEqual(["sequential", "sequential_1"]);
    expect(b.layers[0].name).toBe("dense_1");
    expect(b.inputs[0].sourceLayer.name).toBe("dense_1_input");
    a.dispose();
    b.dispose();
  });

  it("names functional models model, model_1 and inputs input_1, input_2 (from 1, as keras.Input)", () => {
    const x1 = tf.input({ shape: [2] });
    const m1 = tf.model({ inputs: x1, outputs: tf.layers.dense({ units: 1 }).apply(x1) as tf.SymbolicTensor });
    const x2 = tf.input({ shape: [2] });
    const m2 = tf.model({ inputs: x2, outputs: tf.layers.dense({ units: 1 }).apply(x2) as tf.SymbolicTensor });
    expect([x1.sourceLayer.name, x2.sourceLayer.name]).toEqual(["input_1", "input_2"]);
    expect([m1.name, m2.name]).toEqual(["model", "model_1"]);
    m1.dispose();
    m2.dispose();
  });

  it("keeps explicit names, including ones that look like tfjs's or Keras's defaults", () => {
    const layers = [
      tf.layers.dense({ units: 1, name: "classifier" }),
      tf.layers.dense({ units: 1, name: "dense_Dense7" }),
      tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "conv2d_5" }),
    ];
    expect(layers.map((l) => l.name)).toEqual(["classifier", "dense_Dense7", "conv2d_5"]);
    expect(tf.sequential({ name: "my_model" }).name).toBe("my_model");
    const x = tf.input({ shape: [2], name: "pixels" });
    expect(x.sourceLayer.name).toBe("pixels");
    const m = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 1 }).apply(x) as tf.SymbolicTensor, name: "model7" });
    expect(m.name).toBe("model7");
    // explicit names do not use up Keras's counters
    expect(m.layers[1].name).toBe("dense");
    m.dispose();
  });

  it("keeps the names of a model read back from JSON, even tfjs-style ones", async () => {
    const config = {
      class_name: "Sequential",
      config: {
        name: "sequential_9",
        layers: [
          { class_name: "Dense", config: { name: "dense_Dense1", units: 2, batch_input_shape: [null, 3], use_bias: true, activation: "linear" } },
          { class_name: "Dense", config: { name: "dense_Dense2", units: 1, use_bias: true, activation: "linear" } },
        ],
      },
    };
    const model = await tf.models.modelFromJSON({ modelTopology: config } as unknown as tf.io.ModelJSON);
    expect(model.name).toBe("sequential_9");
    expect(model.layers.map((l) => l.name)).toEqual(["dense_Dense1", "dense_Dense2"]);
    expect(model.getWeights().length).toBe(4);
    model.dispose();
  });

  it("starts again after resetNames, like keras.backend.clear_session()", () => {
    tf.layers.dense({ units: 1 });
    tf.layers.dense({ units: 1 });
    resetNames();
    expect(tf.layers.dense({ units: 1 }).name).toBe("dense");
    const s = tf.sequential();
    expect(s.name).toBe("sequential");
    expect(tf.input({ shape: [1] }).sourceLayer.name).toBe("input_1");
  });

  it("uses the Keras names in weight names, so a saved model loads back", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    expect(model.weights.map((w) => w.originalName)).toEqual(["dense/kernel", "dense/bias"]);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[0].name).toBe("dense");
    const x = tf.ones([1, 3]);
    const [p, q] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([x, p, q]);
    model.dispose();
    loaded.dispose();
  });

  it("converts class names to snake_case as Keras", () => {
    expect(["Conv2D", "MaxPooling2D", "BatchNormalization", "Dense", "SpatialDropout2D", "GlobalAveragePooling2D", "InputLayer"].map(snakeCase)).toEqual([
      "conv2d",
      "max_pooling2d",
      "batch_normalization",
      "dense",
      "spatial_dropout2d",
      "global_average_pooling2d",
      "input_layer",
    ]);
  });
});
