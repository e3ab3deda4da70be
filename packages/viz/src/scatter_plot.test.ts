import { TAB10 } from "./colormap";
import { Figure } from "./figure";
import { DOT_RADIUS, LABEL_HEIGHT, placeLabels, SCATTER_HEIGHT, SCATTER_MARGIN, SCATTER_WIDTH, scatterPlot } from "./scatter_plot";
import type { Box } from "./scatter_plot";
import { countPixels, Decoded, decode, errorOf, near } from "./testing/png";

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const [C0, C1, C2, C3] = TAB10.map(rgb);

/**
 * Where scatterPlot puts value v on an axis whose values span [lo, hi], as its TSDoc states:
 * u = v or log10 v, pad 6 % of the span (at least 0.15 decade on a log axis), then linear in u.
 */
function position(v: number, lo: number, hi: number, log: boolean, from: number, to: number): number {
  const u = (w: number) => (log ? Math.log10(w) : w);
  const span = u(hi) - u(lo);
  const pad = log ? Math.max(0.15, 0.06 * span) : 0.06 * span;
  const [a, b] = [u(lo) - pad, u(hi) + pad];
  return from + ((u(v) - a) / (b - a)) * (to - from);
}

const area = (width = SCATTER_WIDTH, height = SCATTER_HEIGHT, title = false) => ({
  left: SCATTER_MARGIN.left,
  right: width - SCATTER_MARGIN.right,
  top: SCATTER_MARGIN.top + (title ? 24 : 0),
  bottom: height - SCATTER_MARGIN.bottom,
});

/** The pixel whose square holds (x, y): inside a dot centred there, whatever the anti-aliasing. */
const pixel = (img: Decoded, x: number, y: number) => img.rgb(Math.floor(x), Math.floor(y));

describe("scatterPlot", () => {
  it("returns a Figure whose PNG decodes at the default 640x480, with a text form", async () => {
    const fig = scatterPlot([{ x: 1, y: 2 }, { x: 3, y: 4 }], { xLabel: "epochs", yLabel: "loss" });
    expect(fig).toBeInstanceOf(Figure);
    expect([fig.width, fig.height]).toEqual([640, 480]);
    expect(String(fig)).toBe("<Figure 640x480: scatter plot of 2 points: loss against epochs>");
    const img = await decode(fig.toPng());
    expect([img.width, img.height]).toEqual([640, 480]);
    // white outside the plot's frame, ink (ticks, labels) in the margins
    expect(img.rgb(2, 2)).toEqual([255, 255, 255]);
    expect(countPixels(img, 0, 0, SCATTER_MARGIN.left - 2, 480, ([r]) => r < 120)).toBeGreaterThan(20);
    expect(countPixels(img, 0, 480 - SCATTER_MARGIN.bottom + 2, 640, 480, ([r]) => r < 120)).toBeGreaterThan(20);

    const titled = scatterPlot([{ x: 1, y: 1 }], { title: "one point", width: 300, height: 200, alt: "a dot", logX: true });
    expect(String(titled)).toBe("<Figure 300x200: one point>");
    expect(titled.alt).toBe("a dot");
    expect(scatterPlot([{ x: 1, y: 1, group: "a" }], { logX: true, logY: true }).alt).toBe("scatter plot of 1 point in 1 group (log x, log y)");
  });

  it("puts a point where the linear axes say", async () => {
    const points = [{ x: 0, y: 0 }, { x: 10, y: 20 }, { x: 2, y: 15 }];
    const img = await decode(scatterPlot(points).toPng());
    const { left, right, top, bottom } = area();
    for (const p of points) {
      const [x, y] = [position(p.x, 0, 10, false, left, right), position(p.y, 0, 20, false, bottom, top)];
      expect([p, pixel(img, x, y)]).toEqual([p, C0]);
    }
  });

  it("puts a point where the log axes say, with a title moving the plot down", async () => {
    const points = [{ x: 1, y: 3 }, { x: 1000, y: 300 }, { x: 10, y: 30 }];
    const fig = scatterPlot(points, { logX: true, logY: true, title: "log–log", width: 500, height: 400 });
    const img = await decode(fig.toPng());
    const { left, right, top, bottom } = area(500, 400, true);
    for (const p of points) {
      const [x, y] = [position(p.x, 1, 1000, true, left, right), position(p.y, 3, 300, true, bottom, top)];
      expect([p, pixel(img, x, y)]).toEqual([p, C0]);
    }
    // where linear axes would put (10, 30): nothing
    const [x, y] = [position(10, 1, 1000, false, left, right), position(30, 3, 300, false, bottom, top)];
    expect(near(pixel(img, x, y), C0, 60)).toBe(false);
  });

  it("colours points by group in order of first appearance (tab10), the ungrouped as one more colour", async () => {
    // all points in the lower left, so the legend takes the first corner, upper right
    const points = [
      { x: 1, y: 1, group: "cnn" },
      { x: 2, y: 1.5, group: "dense" },
      { x: 3, y: 1 },
      { x: 4, y: 2, group: "rnn" },
      { x: 5, y: 1.2, group: "cnn" },
      { x: 20, y: 20 },
    ];
    const img = await decode(scatterPlot(points, { width: 600, height: 400 }).toPng());
    const { left, right, top, bottom } = area(600, 400);
    const expected = [C0, C1, C2, C3, C0, C2];
    points.forEach((p, i) => {
      const [x, y] = [position(p.x, 1, 20, false, left, right), position(p.y, 1, 20, false, bottom, top)];
      expect([p, pixel(img, x, y)]).toEqual([p, expected[i]]);
    });
  });

  it("draws a legend of the named groups in the emptiest corner", async () => {
    const count = (img: Decoded, box: [number, number, number, number], color: number[]) => countPixels(img, ...box, (px) => near(px, color, 10));
    const points = [
      { x: 0, y: 0, group: "cnn" },
      { x: 1, y: 0.2, group: "dense" },
      { x: 2, y: 0.1 },
      { x: 10, y: 10 }, // upper right taken: the legend goes upper left
    ];
    const img = await decode(scatterPlot(points).toPng());
    const { left, right, top, bottom } = area();
    const upperLeft: [number, number, number, number] = [left + 2, top + 2, left + 120, top + 50];
    const upperRight: [number, number, number, number] = [right - 120, top + 2, right - 2, top + 50];
    // one dot per named group in the legend (a dot is about 50 pixels), not the ungrouped colour
    expect(count(img, upperLeft, C0)).toBeGreaterThan(30);
    expect(count(img, upperLeft, C1)).toBeGreaterThan(30);
    expect(count(img, upperLeft, C2)).toBe(0);
    // the legend's text, and nothing but the one dot upper right
    expect(countPixels(img, ...upperLeft, ([r, g, b]) => r < 100 && g < 100 && b < 100)).toBeGreaterThan(20);
    expect(count(img, upperRight, C2)).toBeGreaterThan(30);
    expect(count(img, upperRight, C0) + count(img, upperRight, C1)).toBe(0);

    // no named group, no legend: the upper left corner stays empty
    const plain = await decode(scatterPlot(points.map(({ x, y }) => ({ x, y }))).toPng());
    expect(countPixels(plain, left + 6, top + 6, left + 100, top + 40, ([r, g, b]) => r < 200 || g < 200 || b < 200)).toBe(0);
  });

  it("writes labels beside their points", async () => {
    const img = await decode(scatterPlot([{ x: 0, y: 0, label: "first" }, { x: 10, y: 10, label: "the last one" }]).toPng());
    const { left, right, top, bottom } = area();
    const dark = (x0: number, y0: number, x1: number, y1: number) => countPixels(img, Math.floor(x0), Math.floor(y0), Math.ceil(x1), Math.ceil(y1), ([r]) => r < 120);
    // "first" right of its dot; "the last one" at the right edge, where the label does not fit: left of it
    const [x0, y0] = [position(0, 0, 10, false, left, right), position(0, 0, 10, false, bottom, top)];
    const [x1, y1] = [position(10, 0, 10, false, left, right), position(10, 0, 10, false, bottom, top)];
    expect(dark(x0 + DOT_RADIUS + 1, y0 - 6, x0 + 40, y0 + 6)).toBeGreaterThan(10);
    expect(dark(x1 - 40, y1 - 6, x1 - DOT_RADIUS - 1, y1 + 6)).toBeGreaterThan(10);
    expect(dark(x1 + DOT_RADIUS + 1, y1 - 6, right - 1, y1 + 6)).toBe(0);
  });

  it("says what is wrong in one line", () => {
    expect(errorOf(() => scatterPlot([]))).toBe("scatterPlot: invalid points. Expected a non-empty array of { x, y, label?, group? }. Received: points=[].");
    expect(errorOf(() => scatterPlot({ x: 1, y: 2 } as never))).toBe(
      'scatterPlot: invalid points. Expected a non-empty array of { x, y, label?, group? }. Received: points=an object with keys "x", "y".',
    );
    expect(errorOf(() => scatterPlot([{ x: 1, y: 2 }, 3] as never))).toBe("scatterPlot: invalid points[1]. Expected an object { x, y, label?, group? }. Received: points[1]=3.");
    expect(errorOf(() => scatterPlot([{ x: 1, y: NaN }]))).toBe("scatterPlot: invalid points[0].y. Expected a finite number. Received: points[0].y=NaN.");
    expect(errorOf(() => scatterPlot([{ x: Infinity, y: 1 }]))).toBe("scatterPlot: invalid points[0].x. Expected a finite number. Received: points[0].x=Infinity.");
    expect(errorOf(() => scatterPlot([{ x: "3", y: 1 }] as never))).toBe('scatterPlot: invalid points[0].x. Expected a finite number. Received: points[0].x="3".');
    expect(errorOf(() => scatterPlot([{ x: 1, y: 1 }, { x: 0, y: 2 }], { logX: true }))).toBe(
      "scatterPlot: invalid points[1].x. Expected a number > 0 on a log axis (logX: true). Received: points[1].x=0.",
    );
    expect(errorOf(() => scatterPlot([{ x: -1, y: -2 }], { logY: true }))).toBe(
      "scatterPlot: invalid points[0].y. Expected a number > 0 on a log axis (logY: true). Received: points[0].y=-2.",
    );
    expect(errorOf(() => scatterPlot([{ x: 1, y: 1, lable: "a" }] as never))).toBe(
      "scatterPlot: unknown key `lable` in points[0]. Expected one of `x`, `y`, `label`, `group`. Did you mean `label`?",
    );
    expect(errorOf(() => scatterPlot([{ x: 1, y: 1, label: 7 }] as never))).toBe("scatterPlot: invalid points[0].label. Expected a string. Received: points[0].label=7.");
    expect(errorOf(() => scatterPlot([{ x: 1, y: 1 }], { logx: true } as never))).toBe(
      "scatterPlot: unknown option `logx`. Expected one of `title`, `xLabel`, `yLabel`, `logX`, `logY`, `width`, `height`, `alt`. Did you mean `logX`?",
    );
    expect(errorOf(() => scatterPlot([{ x: 1, y: 1 }], { logY: "yes" } as never))).toBe('scatterPlot: invalid logY. Expected true or false. Received: logY="yes".');
    expect(errorOf(() => scatterPlot([{ x: 1, y: 1 }], { width: 100 }))).toBe("scatterPlot: invalid width. Expected an integer in [200, 2000]. Received: width=100.");
  });
});

describe("placeLabels", () => {
  const plot = { left: 0, right: 400, top: 0, bottom: 300 };
  const dot = (x: number, y: number): Box => [x - DOT_RADIUS, y - DOT_RADIUS, x + DOT_RADIUS, y + DOT_RADIUS];
  const overlap = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

  it("puts a label right of its dot, vertically centred", () => {
    expect(placeLabels([{ x: 100, y: 100, w: 30 }], plot, [dot(100, 100)])).toEqual([[106, 100 - LABEL_HEIGHT / 2, 136, 100 + LABEL_HEIGHT / 2]]);
  });

  it("moves a label that would leave the plot or cover a dot, an earlier label or the legend", () => {
    // at the right edge: left of the dot
    expect(placeLabels([{ x: 390, y: 100, w: 30 }], plot, [dot(390, 100)])[0][2]).toBe(384);
    // a dot right beside: left; dots left and right too: above
    expect(placeLabels([{ x: 100, y: 100, w: 30 }], plot, [dot(100, 100), dot(120, 100)])[0][2]).toBe(94);
    expect(placeLabels([{ x: 100, y: 100, w: 30 }], plot, [dot(100, 100), dot(120, 100), dot(80, 100)])[0]).toEqual([85, 100 - 6 - LABEL_HEIGHT, 115, 94]);
    // a legend box right of the dot counts as taken
    expect(placeLabels([{ x: 100, y: 100, w: 30 }], plot, [dot(100, 100), [104, 80, 200, 120]])[0][2]).toBe(94);
  });

  it("keeps a cluster's labels apart from each other and from every dot", () => {
    const centres: Array<[number, number]> = [[200, 150], [204, 158], [196, 142], [210, 150], [200, 164]];
    const dots = centres.map(([x, y]) => dot(x, y));
    const boxes = placeLabels(centres.map(([x, y]) => ({ x, y, w: 40 })), plot, [...dots]);
    boxes.forEach((b, i) => {
      for (const d of dots) expect([i, overlap(b, d)]).toEqual([i, false]);
      boxes.slice(0, i).forEach((c) => expect([i, overlap(b, c)]).toEqual([i, false]));
    });
  });
});
