import { param, paramEnvName } from "./params";

describe("param", () => {
  afterEach(() => {
    delete process.env.CONVLAB_EPOCHS;
    delete process.env.CONVLAB_SHUFFLE;
    delete process.env.CONVLAB_DATASET;
  });

  it("names the environment variable CONVLAB_<KEY>", () => {
    expect(paramEnvName("epochs")).toBe("CONVLAB_EPOCHS");
    expect(paramEnvName("train-samples")).toBe("CONVLAB_TRAIN_SAMPLES");
  });

  it("returns the default, or the override converted to the default's type", () => {
    expect(param("epochs", 5)).toBe(5);
    process.env.CONVLAB_EPOCHS = "1";
    process.env.CONVLAB_SHUFFLE = "false";
    process.env.CONVLAB_DATASET = "fashion";
    expect(param("epochs", 5)).toBe(1);
    expect(param("shuffle", true)).toBe(false);
    expect(param("dataset", "mnist")).toBe("fashion");
  });

  it("types the value by the default's type, not its literal, so comparisons type-check", () => {
    process.env.CONVLAB_EPOCHS = "1";
    process.env.CONVLAB_DATASET = "fashion";
    // With a literal type (`5`, `"mnist"`) these comparisons would not compile (TS2367).
    const epochs = param("epochs", 5);
    const dataset = param("dataset", "mnist");
    expect(epochs === 1).toBe(true);
    expect(dataset === "fashion").toBe(true);
    const shuffle: boolean = param("shuffle", true);
    expect(shuffle).toBe(true);
  });

  it("rejects an override of the wrong type in one line", () => {
    process.env.CONVLAB_EPOCHS = "five";
    expect(() => param("epochs", 5)).toThrow(
      'param: invalid CONVLAB_EPOCHS. Expected a number like the default 5. Received: CONVLAB_EPOCHS="five". Set it to a number or unset it.',
    );
    process.env.CONVLAB_SHUFFLE = "maybe";
    expect(() => param("shuffle", true)).toThrow('param: invalid CONVLAB_SHUFFLE. Expected true/false (or 1/0). Received: CONVLAB_SHUFFLE="maybe".');
  });
});
