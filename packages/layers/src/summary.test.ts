/**
 * summary: the course's first model printed exactly as tf.keras 2.x prints
 * it (the expected text below is written from Keras's print_summary format,
 * line by line, trailing spaces included); the table; functional models.
 */
import * as tf from "@tensorflow/tfjs";
import { resetNames } from "./names";
import { summary, summaryTable } from "./summary";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

beforeEach(() => resetNames());

/** The course's first model (U.T.6, "LAS NUEVAS CAPAS"), base only or with its classifier. */
function courseModel(withClassifier: boolean): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: "relu", inputShape: [28, 28, 1] }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }));
  if (withClassifier) {
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 64, activation: "relu" }));
    model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  }
  return model;
}

const BASE = [
  'Model: "sequential"',
  "_________________________________________________________________",
  "Layer (type)                 Output Shape              Param #   ",
  "=================================================================",
  "conv2d (Conv2D)              (None, 26, 26, 32)        320       ",
  "_________________________________________________________________",
  "max_pooling2d (MaxPooling2D) (None, 13, 13, 32)        0         ",
  "_________________________________________________________________",
  "conv2d_1 (Conv2D)            (None, 11, 11, 64)        18496     ",
  "_________________________________________________________________",
  "max_pooling2d_1 (MaxPooling2 (None, 5, 5, 64)          0         ",
  "_________________________________________________________________",
  "conv2d_2 (Conv2D)            (None, 3, 3, 64)          36928     ",
  "=================================================================",
  "Total params: 55,744",
  "Trainable params: 55,744",
  "Non-trainable params: 0",
  "_________________________________________________________________",
];

const FULL = [
  'Model: "sequential"',
  "_________________________________________________________________",
  "Layer (type)                 Output Shape              Param #   ",
  "=================================================================",
  "conv2d (Conv2D)              (None, 26, 26, 32)        320       ",
  "_________________________________________________________________",
  "max_pooling2d (MaxPooling2D) (None, 13, 13, 32)        0         ",
  "_________________________________________________________________",
  "conv2d_1 (Conv2D)            (None, 11, 11, 64)        18496     ",
  "_________________________________________________________________",
  "max_pooling2d_1 (MaxPooling2 (None, 5, 5, 64)          0         ",
  "_________________________________________________________________",
  "conv2d_2 (Conv2D)            (None, 3, 3, 64)          36928     ",
  "_________________________________________________________________",
  "flatten (Flatten)            (None, 576)               0         ",
  "_________________________________________________________________",
  "dense (Dense)                (None, 64)                36928     ",
  "_________________________________________________________________",
  "dense_1 (Dense)              (None, 10)                650       ",
  "=================================================================",
  "Total params: 93,322",
  "Trainable params: 93,322",
  "Non-trainable params: 0",
  "_________________________________________________________________",
];

describe("summary", () => {
  it("prints the course's convolutional base as Keras does, line by line", () => {
    const model = courseModel(false);
    const lines = summary(model, { print: false }).split("\n");
    expect(lines).toHaveLength(BASE.length);
    lines.forEach((line, i) => expect([i, line]).toEqual([i, BASE[i]]));
    model.dispose();
  });

  it("prints the full first model (93,322 parameters) as Keras does, line by line", () => {
    const model = courseModel(true);
    const lines = summary(model, { print: false }).split("\n");
    expect(lines).toHaveLength(FULL.length);
    lines.forEach((line, i) => expect([i, line]).toEqual([i, FULL[i]]));
    model.dispose();
  });

  it("prints a Sequential read back the same", async () => {
    const model = courseModel(true);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(summary(loaded, { print: false }).split("\n")).toEqual(FULL);
    model.dispose();
    loaded.dispose();
  });

  it("prints with console.log by default (returning nothing, as Keras returns None)", () => {
    const model = courseModel(false);
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(summary(model)).toBeUndefined();
      expect(log).toHaveBeenCalledTimes(1);
      expect(log.mock.calls[0][0]).toBe(BASE.join("\n"));
    } finally {
      log.mockRestore();
    }
    model.dispose();
  });

  it("scales the columns with lineLength", () => {
    const model = courseModel(false);
    const lines = summary(model, { print: false, lineLength: 100 }).split("\n");
    expect(lines[1]).toBe("_".repeat(100));
    // columns end at 45 and 85
    expect(lines[2]).toBe(`${"Layer (type)".padEnd(45)}${"Output Shape".padEnd(40)}${"Param #".padEnd(15)}`);
    expect(lines[10]).toBe(`${"max_pooling2d_1 (MaxPooling2D)".padEnd(45)}${"(None, 5, 5, 64)".padEnd(40)}${"0".padEnd(15)}`);
    model.dispose();
  });

  it("counts frozen weights as non-trainable", () => {
    const model = courseModel(true);
    model.layers[0].trainable = false;
    const lines = summary(model, { print: false }).split("\n");
    expect(lines.slice(-4, -1)).toEqual(["Total params: 93,322", "Trainable params: 93,002", "Non-trainable params: 320"]);
    model.dispose();
  });

  it("adds Keras's Connected to column for a non-sequential functional model", () => {
    const input = tf.input({ shape: [4] });
    const a = tf.layers.dense({ units: 3, name: "left" }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: sum });
    const lines = summary(model, { print: false }).split("\n");
    const rule = (c: string) => c.repeat(98);
    const row = (cells: string[]) => `${cells[0].padEnd(32)}${cells[1].padEnd(21)}${cells[2].padEnd(12)}${cells[3].padEnd(33)}`;
    expect(lines).toEqual([
      'Model: "model"',
      rule("_"),
      row(["Layer (type)", "Output Shape", "Param #", "Connected to"]),
      rule("="),
      row(["input_1 (InputLayer)", "[(None, 4)]", "0", ""]),
      rule("_"),
      row(["left (Dense)", "(None, 3)", "15", "input_1[0][0]"]),
      rule("_"),
      row(["dense (Dense)", "(None, 3)", "15", "input_1[0][0]"]),
      rule("_"),
      row(["add (Add)", "(None, 3)", "0", "left[0][0]"]),
      row(["", "", "", "dense[0][0]"]),
      rule("="),
      "Total params: 30",
      "Trainable params: 30",
      "Non-trainable params: 0",
      rule("_"),
    ]);
    model.dispose();
  });

  it("treats a chain built with tf.model as sequential-like, as Keras", () => {
    const input = tf.input({ shape: [2] });
    const out = tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const table = summaryTable(model);
    expect(table.columns).toEqual(["Layer (type)", "Output Shape", "Param #"]);
    expect(table.rows).toEqual([
      ["input_1 (InputLayer)", "[(None, 2)]", "0"],
      ["dense (Dense)", "(None, 1)", "3"],
    ]);
    model.dispose();
  });

  it("fails in one line for an unbuilt model or a non-model", () => {
    const model = tf.sequential();
    expect(() => summary(model, { print: false })).toThrow(
      'summary: invalid model. Expected a built model: give the first layer an inputShape (e.g. tf.layers.conv2d({…, inputShape: [28, 28, 1]})). Received: model "sequential" with no input shape.',
    );
    expect(() => summary({} as tf.LayersModel)).toThrow("summary: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model={}.");
    expect(() => summary(courseModel(false), { linelength: 80 } as never)).toThrow(
      "summary: invalid option `linelength`. Expected keys among `lineLength`, `print`. Received: linelength=80. Did you mean `lineLength`?",
    );
  });
});

describe("summaryTable", () => {
  it("gives the cells Keras prints and the counts", () => {
    const model = courseModel(true);
    const table = summaryTable(model);
    expect(table.modelName).toBe("sequential");
    expect(table.columns).toEqual(["Layer (type)", "Output Shape", "Param #"]);
    expect(table.rows[0]).toEqual(["conv2d (Conv2D)", "(None, 26, 26, 32)", "320"]);
    expect(table.rows[3]).toEqual(["max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 64)", "0"]);
    expect(table.rows[5]).toEqual(["flatten (Flatten)", "(None, 576)", "0"]);
    expect(table.rows).toHaveLength(8);
    expect([table.totalParams, table.trainableParams, table.nonTrainableParams]).toEqual([93322, 93322, 0]);
    model.dispose();
  });
});
