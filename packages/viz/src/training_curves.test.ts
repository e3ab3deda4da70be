import * as tf from "@tensorflow/tfjs";
import { niceTicks } from "./ticks";
import { PANEL_HEIGHT, PANEL_WIDTH, PLOT_MARGIN, trainingCurves } from "./training_curves";
import { countPixels, Decoded, decode, errorOf, near } from "./testing/png";

const BLUE = [0x1f, 0x77, 0xb4];
const ORANGE = [0xff, 0x7f, 0x0e];

const keras = {
  history: {
    loss: [2.3, 1.2, 0.8, 0.6, 0.5],
    val_loss: [1.5, 1.0, 0.9, 0.85, 0.9],
    acc: [0.3, 0.6, 0.75, 0.82, 0.86],
    val_acc: [0.5, 0.65, 0.7, 0.72, 0.71],
  },
};

/** Pixels of `color` (±12 per channel) inside panel p's plot area. */
function inPlot(img: Decoded, p: number, color: number[], top = 0): number {
  const x0 = p * PANEL_WIDTH + PLOT_MARGIN.left + 1;
  const x1 = (p + 1) * PANEL_WIDTH - PLOT_MARGIN.right;
  const y0 = top + PLOT_MARGIN.top;
  const y1 = top + PANEL_HEIGHT - PLOT_MARGIN.bottom;
  return countPixels(img, x0, y0, x1, y1, (rgba) => near(rgba, color, 12));
}

describe("trainingCurves", () => {
  it("draws one panel per metric, train and validation series inside the plot areas", async () => {
    const fig = trainingCurves(keras, { metrics: ["loss", "accuracy"] });
    expect([fig.width, fig.height]).toEqual([2 * PANEL_WIDTH, PANEL_HEIGHT]);
    expect(String(fig)).toBe("<Figure 720x260: training curves of loss, accuracy>");
    const img = await decode(fig.toPng());
    for (const p of [0, 1]) {
      expect(inPlot(img, p, BLUE)).toBeGreaterThan(50);
      expect(inPlot(img, p, ORANGE)).toBeGreaterThan(30);
    }
    // the margins hold ticks and labels: dark ink left of the plot and under it
    expect(countPixels(img, 0, 0, PLOT_MARGIN.left - 2, PANEL_HEIGHT, ([r]) => r < 120)).toBeGreaterThan(20);
    expect(countPixels(img, 0, PANEL_HEIGHT - PLOT_MARGIN.bottom + 2, PANEL_WIDTH, PANEL_HEIGHT, ([r]) => r < 120)).toBeGreaterThan(20);
  });

  it("takes a tfjs History from model.fit (keys acc / val_acc), and a title", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, activation: "softmax", inputShape: [3] })] });
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const x = tf.randomUniform([20, 3]);
    const y = tf.oneHot(tf.tensor1d([...Array(20).keys()].map((i) => i % 2), "int32"), 2).toFloat();
    const history = await model.fit(x, y, { epochs: 3, validationSplit: 0.25, verbose: 0 });
    expect(Object.keys(history.history).sort()).toEqual(["acc", "loss", "val_acc", "val_loss"]);
    const fig = trainingCurves(history, { title: "first model" });
    expect([fig.width, fig.height]).toEqual([2 * PANEL_WIDTH, PANEL_HEIGHT + 24]);
    const img = await decode(fig.toPng());
    expect(inPlot(img, 0, BLUE, 24)).toBeGreaterThan(20);
    expect(inPlot(img, 1, ORANGE, 24)).toBeGreaterThan(20);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("compares named histories on the same axes, one colour per model", async () => {
    const other = { history: { loss: [2.0, 1.0, 0.6], val_loss: [1.2, 0.8, 0.7] } };
    const fig = trainingCurves(new Map([["cnn", other], ["dense", keras]]), { metrics: ["loss"] });
    expect([fig.width, fig.height]).toEqual([PANEL_WIDTH, PANEL_HEIGHT]);
    expect(fig.alt).toBe("training curves of loss for cnn, dense");
    const img = await decode(fig.toPng());
    expect(inPlot(img, 0, BLUE)).toBeGreaterThan(30);
    expect(inPlot(img, 0, ORANGE)).toBeGreaterThan(30);
    expect(trainingCurves({ cnn: other, dense: keras.history }).width).toBe(2 * PANEL_WIDTH);
  });

  it("accepts a logs object, NaN gaps and a single epoch", () => {
    expect(trainingCurves({ loss: [1, NaN, 0.5] }).width).toBe(PANEL_WIDTH);
    expect(trainingCurves({ history: { loss: [0.7] } }, { width: 200, height: 150 }).height).toBe(150);
  });

  it("keeps every point visible when the legend cannot avoid them (a single epoch, long names)", async () => {
    // With one epoch every point sits mid-panel, and a legend this wide covers the middle in every corner.
    const values = { "first model": [0.8, 0.6], "deeper model": [0.4, 0.2] }; // [train, validation]
    const runs = Object.fromEntries(Object.entries(values).map(([name, [train, val]]) => [name, { loss: [train], val_loss: [val] }]));
    const img = await decode(trainingCurves(runs).toPng());
    // Where the panel puts value v (same air and ticks as drawPanel).
    const [lo, hi] = [0.2 - 0.6 * 0.04, 0.8 + 0.6 * 0.04];
    const { ticks } = niceTicks(lo, hi, 5);
    const [top, bottom] = [PLOT_MARGIN.top, PANEL_HEIGHT - PLOT_MARGIN.bottom];
    const py = (v: number) => bottom - ((v - ticks[0]) / (ticks[ticks.length - 1] - ticks[0])) * (bottom - top);
    const x = (PLOT_MARGIN.left + PANEL_WIDTH - PLOT_MARGIN.right) / 2;
    for (const [name, color] of [["first model", BLUE], ["deeper model", ORANGE]] as const) {
      for (const v of values[name]) {
        const y = py(v);
        const seen = countPixels(img, Math.floor(x) - 4, Math.floor(y) - 4, Math.floor(x) + 5, Math.floor(y) + 5, (rgba) => near(rgba, color, 40));
        expect([name, v, seen >= 6]).toEqual([name, v, true]);
      }
    }
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => trainingCurves(keras, { metrics: ["los"] }))).toBe(
      'trainingCurves: invalid metric. Expected one of "loss", "acc". Received: metric="los". Did you mean `loss`?',
    );
    expect(errorOf(() => trainingCurves(3 as never))).toBe(
      "trainingCurves: invalid history. Expected a History from model.fit, {history: {loss: [...], val_loss: [...]}}, or named histories {name: history}. Received: history=3.",
    );
    expect(errorOf(() => trainingCurves({ cnn: { epochs: 3 } } as never))).toBe(
      'trainingCurves: invalid history. Expected a History from model.fit, {history: {loss: [...], val_loss: [...]}}, or named histories {name: history}. Received: history "cnn"=an object with keys "epochs".',
    );
    expect(errorOf(() => trainingCurves({ loss: [1, "x"] } as never))).toBe('trainingCurves: invalid history. Expected numbers per epoch. Received: loss[1]="x".');
    expect(errorOf(() => trainingCurves({ loss: [] }))).toBe('trainingCurves: invalid history. Expected at least one epoch. Received: empty series "loss".');
    expect(errorOf(() => trainingCurves(keras, { width: 50 }))).toBe("trainingCurves: invalid width. Expected an integer in [200, 2000]. Received: width=50.");
  });
});
