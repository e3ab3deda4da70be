/**
 * compile: Keras strings for losses, metrics and optimizers; errors that
 * suggest the nearest name; Keras log names for tfjs's keys.
 */
import * as tf from "@tensorflow/tfjs";
import { compile, kerasLogNames, toKerasLogs } from "./compile";
import { resetNames } from "./names";
import { AdamOptimizer, RMSpropOptimizer, SGD, SGDOptimizer } from "./optimizers";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function tinyModel(units = 3): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ units, inputShape: [2], activation: units > 1 ? "softmax" : "sigmoid" })] });
}

describe("compile", () => {
  it("takes the course's strings: rmsprop, categorical_crossentropy, accuracy", () => {
    const model = tinyModel();
    compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
    expect(model.optimizer).toBeInstanceOf(RMSpropOptimizer);
    expect((model.optimizer as RMSpropOptimizer).getConfig()).toEqual({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, decay: 0 });
    expect(model.loss).toBe("categoricalCrossentropy");
    expect(model.metricsNames).toEqual(["loss", "acc"]);
    expect([...kerasLogNames(model)]).toEqual([
      ["loss", "loss"],
      ["val_loss", "val_loss"],
      ["acc", "accuracy"],
      ["val_acc", "val_accuracy"],
    ]);
    model.dispose();
  });

  it("maps every Keras loss name to tfjs's", () => {
    const cases: Array<[string, string]> = [
      ["sparse_categorical_crossentropy", "sparseCategoricalCrossentropy"],
      ["binary_crossentropy", "binaryCrossentropy"],
      ["mse", "meanSquaredError"],
      ["mean_squared_error", "meanSquaredError"],
      ["mae", "meanAbsoluteError"],
      ["mean_absolute_percentage_error", "meanAbsolutePercentageError"],
      ["msle", "meanSquaredLogarithmicError"],
      ["hinge", "hinge"],
      ["squared_hinge", "squaredHinge"],
      ["categorical_hinge", "categoricalHinge"],
      ["kl_divergence", "kullbackLeiblerDivergence"],
      ["poisson", "poisson"],
      ["log_cosh", "logcosh"],
      ["categoricalCrossentropy", "categoricalCrossentropy"],
    ];
    for (const [keras, tfjs] of cases) {
      const model = tinyModel();
      compile(model, { loss: keras });
      expect([keras, model.loss]).toEqual([keras, tfjs]);
      model.dispose();
    }
  });

  it("builds Keras's optimizers from names in any case, rmsprop by default", () => {
    const model = tinyModel();
    const built = (optimizer?: string) => {
      compile(model, { optimizer, loss: "mse" });
      return model.optimizer;
    };
    expect(built()).toBeInstanceOf(RMSpropOptimizer);
    expect(built("RMSprop")).toBeInstanceOf(RMSpropOptimizer);
    expect(built("sgd")).toBeInstanceOf(SGDOptimizer);
    expect((built("SGD") as SGDOptimizer).learningRate).toBe(0.01);
    expect(built("Adam")).toBeInstanceOf(AdamOptimizer);
    const sgd = SGD({ learningRate: 0.2, momentum: 0.9, decay: 0.01 });
    compile(model, { optimizer: sgd, loss: "mse" });
    expect(model.optimizer).toBe(sgd);
    const tfjs = tf.train.adam();
    compile(model, { optimizer: tfjs, loss: "mse" });
    expect(model.optimizer).toBe(tfjs);
    model.dispose();
  });

  it("names metrics as given: acc stays acc, functions by their name", () => {
    const model = tinyModel();
    compile(model, { loss: "categorical_crossentropy", metrics: ["acc", "mae", "categorical_accuracy"] });
    const names = kerasLogNames(model);
    expect(model.metricsNames.map((n) => names.get(n))).toEqual(["loss", "acc", "mae", "categorical_accuracy"]);
    compile(model, { loss: "sparse_categorical_crossentropy", metrics: ["sparse_categorical_accuracy"] });
    expect(model.metricsNames.map((n) => kerasLogNames(model).get(n))).toEqual(["loss", "sparse_categorical_accuracy"]);
    model.dispose();
  });

  it("finds the names through the inner model tfjs hands to callbacks of a Sequential", () => {
    const model = tinyModel();
    compile(model, { loss: "sparse_categorical_crossentropy", metrics: ["sparse_categorical_accuracy"] });
    const inner = (model as unknown as { model: tf.LayersModel }).model;
    expect(inner).toBeInstanceOf(tf.LayersModel);
    expect(inner).not.toBe(model);
    expect(toKerasLogs(inner, { loss: 1, sparseCategoricalAccuracy: 0.5, val_loss: 2, val_sparseCategoricalAccuracy: 0.25 })).toEqual([
      ["loss", 1],
      ["sparse_categorical_accuracy", 0.5],
      ["val_loss", 2],
      ["val_sparse_categorical_accuracy", 0.25],
    ]);
    model.dispose();
  });

  it("gives Keras names to a model compiled with tfjs's own compile", () => {
    const model = tinyModel();
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    expect(toKerasLogs(model, { val_loss: 1, val_acc: 0.5, loss: 2, acc: 0.25, lr: 0.1 })).toEqual([
      ["loss", 2],
      ["accuracy", 0.25],
      ["val_loss", 1],
      ["val_accuracy", 0.5],
      ["lr", 0.1],
    ]);
    model.dispose();
  });

  it("fails in one line with the nearest name", () => {
    const model = tinyModel();
    expect(() => compile(model, { loss: "categorical_crosentropy" })).toThrow(
      'compile: invalid loss. Expected a Keras loss name such as "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse" or a function. Received: loss="categorical_crosentropy". Did you mean `categorical_crossentropy`?',
    );
    expect(() => compile(model, { loss: "mse", metrics: ["acuracy"] })).toThrow(
      'compile: invalid metrics[0]. Expected a Keras metric name such as "accuracy", "mae", "mse", "precision" or a function. Received: metrics[0]="acuracy". Did you mean `accuracy`?',
    );
    expect(() => compile(model, { optimizer: "adamw", loss: "mse" })).toThrow(
      'compile: invalid optimizer. Expected one of "rmsprop", "sgd", "adam" or an optimizer such as SGD({ learningRate: 0.01 }). Received: optimizer="adamw". Did you mean `adam`?',
    );
    expect(() => compile(model, { loss: "mse", loss_weights: [1] } as never)).toThrow(
      "compile: invalid option `loss_weights`. Expected keys among `optimizer`, `loss`, `lossWeights`, `metrics`. Received: loss_weights=[1]. Did you mean `lossWeights`?",
    );
    expect(() => compile(model, {} as never)).toThrow('compile: invalid loss. Expected a loss such as "categorical_crossentropy". Received: loss=undefined.');
    model.dispose();
  });

  it("takes a loss function marked sparseTargets, with an accuracy that reads class ids or one-hot targets", () => {
    const model = tinyModel();
    const dice = Object.assign((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mean(tf.sub(yTrue, yPred)), { sparseTargets: true as const });
    compile(model, { loss: dice, metrics: ["accuracy", "mae"] });
    expect(model.loss).toBe(dice);
    expect(model.metricsNames).toEqual(["loss", "accuracy", "mae"]);
    expect(model.metricsNames.map((n) => kerasLogNames(model).get(n))).toEqual(["loss", "accuracy", "mae"]);
    const accuracy = (model.metrics as unknown[])[0] as (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;
    const yPred = tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]);
    const ids = tf.tensor2d([[0], [1]]);
    const oneHot = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
    const [fromIds, fromOneHot] = [accuracy(ids, yPred), accuracy(oneHot, yPred)];
    expect(Array.from(fromIds.dataSync())).toEqual([1, 0]);
    expect(Array.from(fromOneHot.dataSync())).toEqual([1, 0]);
    tf.dispose([yPred, ids, oneHot, fromIds, fromOneHot]);
    // "acc" keeps its name; without the mark, "accuracy" is tfjs's, named acc
    compile(model, { loss: dice, metrics: ["acc"] });
    expect(model.metricsNames).toEqual(["loss", "acc"]);
    compile(model, { loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mean(tf.sub(yTrue, yPred)), metrics: ["accuracy"] });
    expect(model.metrics).toEqual(["accuracy"]);
    expect(() => compile(model, { loss: Object.assign(dice, { sparseTargets: "yes" }) as never })).toThrow(
      'compile: invalid loss. Expected its sparseTargets property to be true (the function takes class ids) or false. Received: loss.sparseTargets="yes".',
    );
    model.dispose();
  });

  describe("with several outputs", () => {
    /** Input (2) → "dense" (softmax, 3) and "dense_1" (linear, 4). */
    function twoHeads(): tf.LayersModel {
      resetNames();
      const input = tf.input({ shape: [2] });
      const classes = tf.layers.dense({ units: 3, activation: "softmax" }).apply(input) as tf.SymbolicTensor;
      const boxes = tf.layers.dense({ units: 4 }).apply(input) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: [classes, boxes] });
    }

    it("names the logs as Keras 2: loss, <output>_loss per output, then <output>_<metric> output by output", () => {
      const model = twoHeads();
      compile(model, { loss: ["sparse_categorical_crossentropy", "mse"], lossWeights: [0.8, 0.2], metrics: ["accuracy", "mae"] });
      const keras = ["loss", "dense_loss", "dense_1_loss", "dense_accuracy", "dense_mae", "dense_1_accuracy", "dense_1_mae"];
      expect(model.metricsNames).toEqual(keras);
      expect(model.loss).toEqual(["sparseCategoricalCrossentropy", "meanSquaredError"]);
      expect(toKerasLogs(model, { val_loss: 1, dense_1_mae: 2, loss: 3, val_dense_loss: 4, dense_loss: 5 })).toEqual([
        ["loss", 3],
        ["dense_loss", 5],
        ["dense_1_mae", 2],
        ["val_loss", 1],
        ["val_dense_loss", 4],
      ]);
      // one loss for every output, a function metric by its name
      function iou(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
        return tf.sub(yTrue, yPred);
      }
      compile(model, { loss: "mse", metrics: [[], [iou]] });
      expect(model.metricsNames).toEqual(["loss", "dense_loss", "dense_1_loss", "dense_1_iou"]);
      expect(model.loss).toEqual(["meanSquaredError", "meanSquaredError"]);
      model.dispose();
    });

    it("fails in one line naming the outputs: wrong lengths, unknown or missing names, bad entries", () => {
      const model = twoHeads();
      const course = { loss: ["sparse_categorical_crossentropy", "mse"] };
      expect(() => compile(model, { loss: ["mse"] })).toThrow(
        'compile: invalid loss. Expected one loss for every output, or an array of 2 (one per output), as the model has 2 outputs ("dense", "dense_1"). Received: loss=["mse"] (1 entry).',
      );
      expect(() => compile(model, { loss: ["mse", "mes"] })).toThrow(
        'compile: invalid loss[1]. Expected a Keras loss name such as "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse" or a function. Received: loss[1]="mes". Did you mean `mse`?',
      );
      expect(() => compile(model, { loss: { dense: "mse", dense_2: "mse" } })).toThrow(
        'compile: invalid loss. Expected keys among the names of the model\'s 2 outputs ("dense", "dense_1"). Received: loss={"dense":"mse","dense_2":"mse"} with key "dense_2". Did you mean `dense_1`?',
      );
      expect(() => compile(model, { loss: { dense: "mse" } })).toThrow(
        'compile: invalid loss. Expected a loss for each of the model\'s 2 outputs ("dense", "dense_1"). Received: loss={"dense":"mse"}, without "dense_1".',
      );
      expect(() => compile(model, { loss: { dense: "mse", dense_1: "mea" } })).toThrow('compile: invalid loss.dense_1. Expected a Keras loss name such as');
      expect(() => compile(model, { ...course, lossWeights: [0.8] })).toThrow(
        'compile: invalid lossWeights. Expected 2 numbers, one per output, as the model has 2 outputs ("dense", "dense_1"), or an object keyed by output name. Received: lossWeights=[0.8] (1 entry).',
      );
      expect(() => compile(model, { ...course, lossWeights: [0.8, -0.2] })).toThrow("compile: invalid lossWeights[1]. Expected a number >= 0. Received: lossWeights[1]=-0.2.");
      expect(() => compile(model, { ...course, lossWeights: { dense: Infinity } })).toThrow("compile: invalid lossWeights.dense. Expected a number >= 0. Received: lossWeights.dense=Infinity.");
      expect(() => compile(model, { ...course, lossWeights: { dense_l: 1 } })).toThrow(
        'compile: invalid lossWeights. Expected keys among the names of the model\'s 2 outputs ("dense", "dense_1"). Received: lossWeights={"dense_l":1} with key "dense_l". Did you mean `dense_1`?',
      );
      expect(() => compile(model, { ...course, lossWeights: 0.5 as never })).toThrow(
        'compile: invalid lossWeights. Expected an array of 2 numbers (one per output: "dense", "dense_1") or an object keyed by output name. Received: lossWeights=0.5.',
      );
      expect(() => compile(model, { ...course, metrics: [["accuracy"]] })).toThrow(
        'compile: invalid metrics. Expected a flat array of metrics for every output, or one entry per output (a metric, an array of metrics or null), as the model has 2 outputs ("dense", "dense_1"). Received: metrics=[["accuracy"]] (1 entry).',
      );
      expect(() => compile(model, { ...course, metrics: [["accuracy"], ["mae", "acuracy"]] })).toThrow(
        'compile: invalid metrics[1][1]. Expected a Keras metric name such as "accuracy", "mae", "mse", "precision" or a function. Received: metrics[1][1]="acuracy". Did you mean `accuracy`?',
      );
      expect(() => compile(model, { ...course, metrics: { dense: "acc", output: "mae" } })).toThrow(
        'compile: invalid metrics. Expected keys among the names of the model\'s 2 outputs ("dense", "dense_1"). Received: metrics={"dense":"acc","output":"mae"} with key "output".',
      );
      expect(() => compile(model, { ...course, metrics: ["accuracy", "accuracy"] })).toThrow(
        'compile: invalid metrics. Expected metrics with distinct names on each output, as Keras. Received: metrics=["accuracy","accuracy"], which logs "dense_accuracy" twice.',
      );
      // a model with one output takes one-entry forms, and rejects two
      const single = tinyModel();
      compile(single, { loss: ["categorical_crossentropy"], lossWeights: { [single.layers[0].name]: 1 }, metrics: [["accuracy"]] });
      expect(single.metricsNames).toEqual(["loss", "acc"]);
      expect(() => compile(single, { loss: ["mse", "mse"] })).toThrow("compile: invalid loss. Expected one loss for every output, or an array of 1 (one per output), as the model has 1 output");
      single.dispose();
      model.dispose();
    });
  });
});
