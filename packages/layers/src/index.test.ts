/**
 * The package entry: the public API and the kernel plugin contract.
 */
import * as tf from "@tensorflow/tfjs";
import * as layers from "./index";

describe("@convlab/layers entry", () => {
  it("exports the public API", () => {
    for (const name of ["summary", "summaryTable", "resetNames", "clearSession", "compile", "fit", "evaluate", "toCategorical", "RMSprop", "SGD", "Adam"]) {
      expect(typeof (layers as Record<string, unknown>)[name]).toBe("function");
    }
    for (const name of ["SpatialDropout2D", "spatialDropout2d", "Normalization", "normalization", "convolve", "pool", "convOutputSize", "poolOutputSize"]) {
      expect(typeof (layers as Record<string, unknown>)[name]).toBe("function");
    }
    for (const name of ["ProgressBar", "LearningRateScheduler", "ReduceLROnPlateau", "EarlyStopping", "ModelCheckpoint"]) {
      expect(Object.getPrototypeOf((layers as unknown as Record<string, { prototype: object }>)[name].prototype)).toBe(tf.Callback.prototype);
    }
  });

  it("exports a plugin the kernel can activate", async () => {
    const { plugin } = layers;
    expect(plugin.id).toBe("@convlab/layers:plugin");
    expect(typeof plugin.description).toBe("string");
    const added: unknown[] = [];
    await plugin.activate({ renderers: { add: (r) => added.push(r) }, display: () => undefined, newDisplay: () => ({ update: () => undefined }) });
    expect(added).toEqual([]);
  });
});
