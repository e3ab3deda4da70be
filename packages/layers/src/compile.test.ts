/**
 * compile: Keras strings for losses, metrics and optimizers; errors that
 * suggest the nearest name; Keras log names for tfjs's keys.
 */
import * as tf from "@tensorflow/tfjs";
import { compile, kerasLogNames, toKerasLogs } from "./compile";
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
    expect(() => compile(model, { loss: "mse", lossWeights: [1] } as never)).toThrow(
      "compile: invalid option `lossWeights`. Expected keys among `optimizer`, `loss`, `metrics`. Received: lossWeights=[1].",
    );
    expect(() => compile(model, {} as never)).toThrow('compile: invalid loss. Expected a loss such as "categorical_crossentropy". Received: loss=undefined.');
    model.dispose();
  });
});
