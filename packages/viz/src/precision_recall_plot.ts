/**
 * precisionRecallPlot: precision-recall curves (one per class or per model) on the unit square,
 * optionally with the interpolated precision whose area is Pascal VOC's all-point AP.
 */
import type { CanvasRenderingContext2D } from "canvas";
import { expectBoolean, fail, show } from "@convlab/engine";
import { TAB10 } from "./colormap";
import { drawTitle, encodePng, fitText, font, INK, measure, newCanvas, TITLE_HEIGHT } from "./draw";
import { Figure } from "./figure";
import { checkInt, checkOptions, checkText, describe } from "./options";
import { SCATTER_HEIGHT, SCATTER_MARGIN, SCATTER_WIDTH } from "./scatter_plot";
import type { Area } from "./scatter_plot";
import { niceTicks, tickLabels } from "./ticks";

/** One curve of a {@link precisionRecallPlot}: precision after each detection, and the recall beside it. */
export interface PrecisionRecallCurve {
  precision: ArrayLike<number>;
  recall: ArrayLike<number>;
}

/** Options of {@link precisionRecallPlot}. */
export interface PrecisionRecallPlotArgs {
  /** Drawn above the plot (inside the figure's height). */
  title?: string;
  /**
   * Also draw each curve's interpolated precision p̂(r) = max{precision at recall ≥ r} as a dashed
   * staircase from recall 0: the area under it is Pascal VOC's all-point AP. Default false.
   */
  envelope?: boolean;
  /** Width of the figure in pixels, 200..2000; default 640. */
  width?: number;
  /** Height of the figure in pixels, 150..2000; default 480. */
  height?: number;
  /** Text form description; default "precision-recall curves of cat, dog". */
  alt?: string;
}

const KEYS = ["title", "envelope", "width", "height", "alt"] as const;

/** Space left around [0, 1] on both axes, in data units, so that curves at 0 or 1 stay off the frame. */
export const PR_PAD = 0.03;

const LEGEND_ROW = 16;

interface Curve {
  name: string;
  color: string;
  recall: number[];
  precision: number[];
}

/**
 * Precision-recall curves as a {@link Figure}: recall across, precision up, both on [0, 1]; each
 * curve a line through its (recall, precision) points in the order given (matplotlib's
 * `plt.plot(recall, precision)`; a single point is a dot), in matplotlib's tab10 colours C0, C1, …
 * in the order of the keys; a legend of the names in the corner covering the fewest points.
 * `perClass` entries of `averagePrecision` (@convlab/detection) are curves as they are.
 *
 * Size: `width` x `height` (title included). Geometry, on each axis, with pad = {@link PR_PAD}:
 *   x pixel = left + (recall + pad) / (1 + 2·pad) · (right − left)
 *   y pixel = bottom − (precision + pad) / (1 + 2·pad) · (bottom − top)
 * with left = 72, right = width − 20, top = 14 (38 with a title), bottom = height − 48 (the scatter
 * plot's margins); ticks every 0.2.
 *
 * @param curves named curves `{ name: { precision, recall } }`, at least one; precision and recall of
 *   the same length (0 allowed: the name stays in the legend), values in [0, 1]. Other keys of a
 *   curve object are ignored.
 * @param options `title`, `envelope` (default false), `width` 200..2000 (default 640), `height`
 *   150..2000 (default 480), `alt`.
 * @throws ConvlabError for no curves, a curve that is not `{ precision, recall }`, lengths that differ,
 *   a value outside [0, 1] or not a number, an unknown option (suggesting the closest).
 * @example
 * const voc = averagePrecision(detections, groundTruth, { numClasses: 3, classNames });
 * precisionRecallPlot(Object.fromEntries(voc.perClass.map((c) => [`${c.name} (AP ${c.ap.toFixed(2)})`, c])), { envelope: true })
 *
 * Counterpart: scikit-learn's `PrecisionRecallDisplay(precision, recall).plot()` (which draws steps),
 * or `plt.plot(recall, precision)` per class.
 */
export function precisionRecallPlot(curves: Readonly<Record<string, PrecisionRecallCurve>>, options?: PrecisionRecallPlotArgs): Figure {
  const unit = "precisionRecallPlot";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const envelope = args.envelope === undefined ? false : expectBoolean(unit, "envelope", args.envelope);
  const width = args.width === undefined ? SCATTER_WIDTH : checkInt(unit, "width", args.width, 200, 2000);
  const height = args.height === undefined ? SCATTER_HEIGHT : checkInt(unit, "height", args.height, 150, 2000);
  const checked = checkCurves(unit, curves);

  const area: Area = {
    left: SCATTER_MARGIN.left,
    right: width - SCATTER_MARGIN.right,
    top: SCATTER_MARGIN.top + (title ? TITLE_HEIGHT : 0),
    bottom: height - SCATTER_MARGIN.bottom,
  };
  const px = (r: number) => area.left + ((r + PR_PAD) / (1 + 2 * PR_PAD)) * (area.right - area.left);
  const py = (p: number) => area.bottom - ((p + PR_PAD) / (1 + 2 * PR_PAD)) * (area.bottom - area.top);

  const { canvas, ctx } = newCanvas(width, height);
  if (title) drawTitle(ctx, title, width);
  drawAxes(ctx, area, px, py);
  const points: Array<[number, number]> = [];
  for (const c of checked) {
    const xy = c.recall.map((r, i): [number, number] => [px(r), py(c.precision[i])]);
    points.push(...xy);
    ctx.strokeStyle = c.color;
    ctx.fillStyle = c.color;
    if (envelope && xy.length) {
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 3]);
      polyline(ctx, interpolated(c.recall, c.precision).map(([r, p]) => [px(r), py(p)]));
      ctx.setLineDash([]);
    }
    ctx.lineWidth = 2;
    if (xy.length === 1) {
      ctx.beginPath();
      ctx.arc(xy[0][0], xy[0][1], 3, 0, 2 * Math.PI);
      ctx.fill();
    } else polyline(ctx, xy);
  }
  drawLegend(ctx, checked, area, points);

  const names = checked.map((c) => c.name);
  const description = `precision-recall curve${names.length === 1 ? "" : "s"} of ${names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")}, … (${names.length} in all)`}`;
  return new Figure(encodePng(canvas), { title, alt: alt ?? description });
}

/** The curves, each checked: precision and recall array-likes of one length, numbers in [0, 1]. */
function checkCurves(unit: string, curves: unknown): Curve[] {
  const expected = "Expected named curves { name: { precision: [...], recall: [...] } }, at least one";
  if (typeof curves !== "object" || curves === null || Array.isArray(curves) || curves instanceof Map || Object.keys(curves).length === 0) {
    throw fail(`${unit}: invalid curves. ${expected}. Received: curves=${describe(curves)}.`);
  }
  return Object.entries(curves).map(([name, curve]: [string, unknown], k): Curve => {
    const at = `curves[${JSON.stringify(name)}]`;
    const c = curve as Partial<Record<"precision" | "recall", unknown>> | null;
    const isList = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
    if (typeof c !== "object" || c === null || !isList(c.precision) || !isList(c.recall)) {
      throw fail(`${unit}: invalid ${at}. Expected { precision: [...], recall: [...] }. Received: ${at}=${describe(curve)}.`);
    }
    if (c.precision.length !== c.recall.length) {
      throw fail(`${unit}: invalid ${at}. Expected precision and recall of the same length. Received: precision.length=${c.precision.length}, recall.length=${c.recall.length}.`);
    }
    const values = (key: "precision" | "recall"): number[] =>
      Array.from(c[key] as ArrayLike<unknown>, (v, i) => {
        if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw fail(`${unit}: invalid ${at}.${key}[${i}]. Expected a number in [0, 1]. Received: ${at}.${key}[${i}]=${show(v)}.`);
        return v;
      });
    return { name, color: TAB10[k % TAB10.length], precision: values("precision"), recall: values("recall") };
  });
}

/**
 * The staircase of the interpolated precision, as [recall, precision] corners: from recall 0 at
 * p̂ of the first point, along each point's recall at p̂ = max{precision at recall ≥ this one}.
 * Points are taken in order of recall (stable).
 */
function interpolated(recall: number[], precision: number[]): Array<[number, number]> {
  const order = recall.map((_, i) => i).sort((a, b) => recall[a] - recall[b]);
  const r = order.map((i) => recall[i]);
  const p = order.map((i) => precision[i]);
  for (let i = p.length - 2; i >= 0; i--) p[i] = Math.max(p[i], p[i + 1]);
  const corners: Array<[number, number]> = [[0, p[0]]];
  r.forEach((ri, i) => {
    corners.push([ri, p[i]]);
    if (i + 1 < p.length) corners.push([ri, p[i + 1]]);
  });
  return corners;
}

function polyline(ctx: CanvasRenderingContext2D, xy: ReadonlyArray<readonly [number, number]>): void {
  ctx.beginPath();
  xy.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
  ctx.stroke();
}

/** Grid, frame, ticks every 0.2 with their labels, "recall" under the plot, "precision" left of it. */
function drawAxes(ctx: CanvasRenderingContext2D, area: Area, px: (r: number) => number, py: (p: number) => number): void {
  const { left, right, top, bottom } = area;
  const { ticks, decimals } = niceTicks(0, 1, 5);
  const labels = tickLabels(ticks, decimals);
  const sharp = (v: number) => Math.round(v) + 0.5;
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#e4e4e4";
  for (const t of ticks) {
    polyline(ctx, [[sharp(px(t)), top], [sharp(px(t)), bottom]]);
    polyline(ctx, [[left, sharp(py(t))], [right, sharp(py(t))]]);
  }
  ctx.strokeStyle = "#555555";
  ctx.strokeRect(left + 0.5, top + 0.5, right - left - 1, bottom - top - 1);
  ctx.fillStyle = INK;
  ctx.font = font(11);
  ticks.forEach((t, i) => {
    polyline(ctx, [[sharp(px(t)), bottom], [sharp(px(t)), bottom + 4]]);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(labels[i], px(t), bottom + 6);
    polyline(ctx, [[left - 4, sharp(py(t))], [left, sharp(py(t))]]);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(labels[i], left - 6, py(t));
  });
  ctx.font = font(12);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText("recall", (left + right) / 2, bottom + 26);
  ctx.save();
  ctx.translate(14, (top + bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText("precision", 0, 0);
  ctx.restore();
}

/**
 * The legend, in the corner of the plot (lower left, upper right, lower right, upper left: PR curves
 * mostly run high on the left and low on the right) covering the fewest points; as many rows as fit
 * the plot's height, the last saying how many more there are.
 */
function drawLegend(ctx: CanvasRenderingContext2D, curves: Curve[], area: Area, points: Array<[number, number]>): void {
  const fit = Math.max(1, Math.floor((area.bottom - area.top - 20) / LEGEND_ROW));
  const shown = curves.length <= fit ? curves : curves.slice(0, fit - 1);
  const more = curves.length - shown.length;
  const maxText = Math.max(60, (area.right - area.left) / 2 - 40);
  const rows = shown.map((c) => ({ text: fitText(c.name, maxText, 11, 11).text, color: c.color as string | undefined }));
  if (more) rows.push({ text: `… ${more} more`, color: undefined });
  const w = Math.ceil(Math.max(...rows.map((r) => measure(r.text, font(11))))) + 40;
  const h = rows.length * LEGEND_ROW + 8;
  const corners: Array<[number, number]> = [
    [area.left + 6, area.bottom - h - 6],
    [area.right - w - 6, area.top + 6],
    [area.right - w - 6, area.bottom - h - 6],
    [area.left + 6, area.top + 6],
  ];
  const covered = corners.map(([x, y]) => points.filter(([a, b]) => a >= x - 2 && a <= x + w + 2 && b >= y - 2 && b <= y + h + 2).length);
  const [x0, y0] = corners[covered.indexOf(Math.min(...covered))];
  ctx.fillStyle = "rgba(255,255,255,0.88)";
  ctx.strokeStyle = "#cccccc";
  ctx.lineWidth = 1;
  ctx.fillRect(x0, y0, w, h);
  ctx.strokeRect(Math.round(x0) + 0.5, Math.round(y0) + 0.5, w - 1, h - 1);
  rows.forEach((row, i) => {
    const cy = y0 + 4 + i * LEGEND_ROW + LEGEND_ROW / 2;
    if (row.color) {
      ctx.strokeStyle = row.color;
      ctx.lineWidth = 2;
      polyline(ctx, [[x0 + 6, cy], [x0 + 28, cy]]);
    }
    ctx.fillStyle = INK;
    ctx.font = font(11);
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(row.text, x0 + 34, cy);
  });
}
