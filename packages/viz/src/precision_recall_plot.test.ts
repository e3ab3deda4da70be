import { TAB10 } from "./colormap";
import { Figure } from "./figure";
import { PR_PAD, precisionRecallPlot } from "./precision_recall_plot";
import { SCATTER_MARGIN } from "./scatter_plot";
import { countPixels, decode, errorOf, near } from "./testing/png";

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const [C0, C1] = TAB10.map(rgb);

/** Where the plot puts (recall, precision), as its TSDoc states. */
function at(recall: number, precision: number, width = 640, height = 480, title = false): [number, number] {
  const [left, right] = [SCATTER_MARGIN.left, width - SCATTER_MARGIN.right];
  const [top, bottom] = [SCATTER_MARGIN.top + (title ? 24 : 0), height - SCATTER_MARGIN.bottom];
  const u = (v: number) => (v + PR_PAD) / (1 + 2 * PR_PAD);
  return [left + u(recall) * (right - left), bottom - u(precision) * (bottom - top)];
}

describe("precisionRecallPlot", () => {
  it("returns a Figure at 640x480 with a text form, axes in the margins", async () => {
    const fig = precisionRecallPlot({ cat: { precision: [1, 0.5, 2 / 3], recall: [0.5, 0.5, 1] }, dog: { precision: [1], recall: [1] } });
    expect(fig).toBeInstanceOf(Figure);
    expect(String(fig)).toBe("<Figure 640x480: precision-recall curves of cat, dog>");
    const img = await decode(fig.toPng());
    expect([img.width, img.height]).toEqual([640, 480]);
    expect(img.rgb(2, 2)).toEqual([255, 255, 255]);
    expect(countPixels(img, 0, 0, SCATTER_MARGIN.left - 2, 480, ([r]) => r < 120)).toBeGreaterThan(20);
    expect(countPixels(img, 0, 480 - SCATTER_MARGIN.bottom + 2, 640, 480, ([r]) => r < 120)).toBeGreaterThan(20);
    const titled = precisionRecallPlot({ cat: { precision: [1], recall: [1] } }, { title: "VOC 2007 test", width: 300, height: 200, alt: "one point" });
    expect([titled.width, titled.height, titled.title, titled.alt]).toEqual([300, 200, "VOC 2007 test", "one point"]);
  });

  it("draws each curve through its points, in tab10 colours; a single point is a dot", async () => {
    const fig = precisionRecallPlot({ perfect: { precision: [1, 1], recall: [0, 1] }, one: { precision: [0.5], recall: [0.5] } });
    const img = await decode(fig.toPng());
    // the line at precision 1, 2 px wide: the pixel row under its centre is C0 across the plot
    const [, y1] = at(0, 1);
    for (const r of [0.2, 0.5, 0.8]) expect([r, near(img.rgb(Math.floor(at(r, 1)[0]), Math.floor(y1)), C0, 12)]).toEqual([r, true]);
    const [x, y] = at(0.5, 0.5);
    expect(img.rgb(Math.floor(x), Math.floor(y))).toEqual(C1);
  });

  it("adds the interpolated precision as a dashed staircase with envelope: true", async () => {
    // Points (½, 1), (½, ½), (1, ⅔): the curve never reaches recall < ½, the staircase starts at
    // recall 0 at precision 1 (the area under it is the all-point AP, ½·1 + ½·⅔).
    const curves = { cat: { precision: [1, 0.5, 2 / 3], recall: [0.5, 0.5, 1] } };
    const band = async (envelope: boolean) => {
      const img = await decode(precisionRecallPlot(curves, { envelope }).toPng());
      const [x0, y] = at(0.02, 1);
      const [x1] = at(0.45, 1);
      return countPixels(img, Math.ceil(x0), Math.floor(y) - 1, Math.floor(x1), Math.floor(y) + 2, (p) => near(p, C0, 40));
    };
    expect(await band(false)).toBe(0);
    expect(await band(true)).toBeGreaterThan(100);
  });

  it("takes perClass entries as they are (other keys ignored, empty curves, typed arrays) and shortens a long legend", () => {
    const perClass = [
      { classId: 0, name: "cat", ap: 0.75, precision: [1, 0.5], recall: [0.5, 1] },
      { classId: 1, name: "bird", ap: NaN, precision: [], recall: [] },
    ];
    const fig = precisionRecallPlot(Object.fromEntries(perClass.map((c) => [c.name, c])));
    expect(fig.alt).toBe("precision-recall curves of cat, bird");
    expect(precisionRecallPlot({ a: { precision: Float32Array.of(1, 0.5), recall: Float64Array.of(0.5, 1) } }).alt).toBe("precision-recall curve of a");
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`class ${i}`, { precision: [1 - i / 40], recall: [i / 40] }]));
    expect(precisionRecallPlot(many, { height: 150 }).alt).toBe("precision-recall curves of class 0, class 1, class 2, class 3, class 4, … (40 in all)");
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => precisionRecallPlot({}))).toBe(
      "precisionRecallPlot: invalid curves. Expected named curves { name: { precision: [...], recall: [...] } }, at least one. Received: curves=an object with no keys.",
    );
    expect(errorOf(() => precisionRecallPlot({ cat: { precision: [1] } } as never))).toBe(
      'precisionRecallPlot: invalid curves["cat"]. Expected { precision: [...], recall: [...] }. Received: curves["cat"]=an object with keys "precision".',
    );
    expect(errorOf(() => precisionRecallPlot({ cat: { precision: [1, 0.5], recall: [1] } }))).toBe(
      'precisionRecallPlot: invalid curves["cat"]. Expected precision and recall of the same length. Received: precision.length=2, recall.length=1.',
    );
    expect(errorOf(() => precisionRecallPlot({ cat: { precision: [1, NaN], recall: [0.5, 1] } }))).toBe(
      'precisionRecallPlot: invalid curves["cat"].precision[1]. Expected a number in [0, 1]. Received: curves["cat"].precision[1]=NaN.',
    );
    expect(errorOf(() => precisionRecallPlot({ cat: { precision: [1], recall: [1.5] } }))).toBe(
      'precisionRecallPlot: invalid curves["cat"].recall[0]. Expected a number in [0, 1]. Received: curves["cat"].recall[0]=1.5.',
    );
    expect(errorOf(() => precisionRecallPlot({ cat: { precision: [1], recall: [1] } }, { envelop: true } as never))).toBe(
      "precisionRecallPlot: unknown option `envelop`. Expected one of `title`, `envelope`, `width`, `height`, `alt`. Did you mean `envelope`?",
    );
  });
});
