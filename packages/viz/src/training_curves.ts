/**
 * trainingCurves: loss and metrics per epoch, training and validation, one
 * panel per metric; several named histories on the same axes to compare
 * models.
 */
import * as tf from "@tensorflow/tfjs";
import type { CanvasRenderingContext2D } from "canvas";
import { expectOneOf, fail, show } from "@convlab/engine";
import { TAB10 } from "./colormap";
import { drawTitle, encodePng, font, INK, measure, newCanvas, TITLE_HEIGHT } from "./draw";
import { Figure } from "./figure";
import { checkInt, checkOptions, checkText, describe } from "./options";
import { niceTicks } from "./ticks";

/** Per-epoch values by name, as `History.history`: `{ loss: [...], val_loss: [...], acc: [...] }`. */
export type HistoryLogs = Record<string, ReadonlyArray<number | tf.Tensor>>;

/** A tfjs `History` (what `model.fit` resolves to) or Keras-like `{ history: { loss: [...] } }`. */
export interface HistoryLike {
  history: HistoryLogs;
}

/** One history, or several by name (a plain object or a Map) drawn on the same axes. */
export type Histories = HistoryLike | HistoryLogs | Record<string, HistoryLike | HistoryLogs> | Map<string, HistoryLike | HistoryLogs>;

/** Options of {@link trainingCurves}. */
export interface TrainingCurvesArgs {
  /**
   * Metrics to plot, one panel each, e.g. `["loss", "accuracy"]`; each panel shows the metric
   * and its `val_` series. `accuracy` and `acc` name the same series (tfjs logs `acc`).
   * Default: every metric in the history, loss first.
   */
  metrics?: readonly string[];
  /** Drawn above the panels. */
  title?: string;
  /** Width of one panel in pixels, 200..2000; default 360. */
  width?: number;
  /** Height of one panel in pixels, 150..2000; default 260. */
  height?: number;
  /** Text form description. */
  alt?: string;
}

const KEYS = ["metrics", "title", "width", "height", "alt"] as const;

/** Default width of one panel. */
export const PANEL_WIDTH = 360;
/** Default height of one panel. */
export const PANEL_HEIGHT = 260;
/** Space between a panel's edge and its plot area (ticks, labels). */
export const PLOT_MARGIN = { left: 58, right: 14, top: 12, bottom: 42 } as const;

const ALIASES: Record<string, string[]> = { accuracy: ["accuracy", "acc"], acc: ["acc", "accuracy"] };

interface Run {
  name?: string;
  logs: Map<string, number[]>;
}

interface Series {
  label: string;
  color: string;
  dashed: boolean;
  values: number[];
}

/**
 * Training curves as a {@link Figure}: one panel per metric (loss, accuracy…) with epochs on
 * the x axis (1, 2, …), the training series as a solid line with dots and the `val_` series
 * dashed, ticks, axis labels and a legend placed in the emptiest corner (points that no corner
 * leaves free, as with a single epoch, are drawn again over the legend). Several named
 * histories share each panel, one colour per model.
 *
 * Size: `metrics.length · width` x `height` (+ 24 with a title). NaN values (a diverged loss)
 * leave a gap in the line.
 *
 * @param history a tfjs `History`, `{ history: { loss: [...], val_loss: [...] } }`, the logs
 *   object itself, or a map of named histories `{ cnn: h1, dense: h2 }` (object or Map).
 * @throws ConvlabError for anything else, an empty history, non-numeric values, a metric that
 *   no history has (suggesting the closest), an unknown option.
 * @example
 * const h = await model.fit(x, y, { epochs: 5, validationSplit: 0.2 });
 * trainingCurves(h, { metrics: ["loss", "accuracy"] })
 * trainingCurves({ cnn: hCnn, dense: hDense }, { metrics: ["accuracy"] })   // compare two models
 *
 * Keras counterpart: the matplotlib recipe `plt.plot(epochs, history.history["loss"], "bo",
 * label="Training loss")` + `val_loss` + `plt.legend()`.
 */
export function trainingCurves(history: Histories, options?: TrainingCurvesArgs): Figure {
  const unit = "trainingCurves";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const panelW = args.width === undefined ? PANEL_WIDTH : checkInt(unit, "width", args.width, 200, 2000);
  const panelH = args.height === undefined ? PANEL_HEIGHT : checkInt(unit, "height", args.height, 150, 2000);
  const runs = readHistories(unit, history);
  const metrics = chooseMetrics(unit, runs, args.metrics);

  const top = title ? TITLE_HEIGHT : 0;
  const width = panelW * metrics.length;
  const height = panelH + top;
  const { canvas, ctx } = newCanvas(width, height);
  if (title) drawTitle(ctx, title, width);
  metrics.forEach((metric, p) => {
    const series: Series[] = [];
    runs.forEach((run, r) => {
      const train = lookup(run, metric);
      const val = lookup(run, `val_${metric}`);
      const color = runs.length === 1 ? TAB10[0] : TAB10[r % TAB10.length];
      const valColor = runs.length === 1 ? TAB10[1] : color;
      const prefix = run.name === undefined ? "" : `${run.name} · `;
      if (train) series.push({ label: `${prefix}train`, color, dashed: false, values: train });
      if (val) series.push({ label: `${prefix}validation`, color: valColor, dashed: true, values: val });
    });
    drawPanel(ctx, p * panelW, top, panelW, panelH, metric, series);
  });
  const names = runs.filter((r) => r.name !== undefined).map((r) => r.name);
  const description = `training curves of ${metrics.join(", ")}${names.length ? ` for ${names.join(", ")}` : ""}`;
  return new Figure(encodePng(canvas), { title, alt: alt ?? description });
}

function isLogs(value: unknown): value is HistoryLogs {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Map) &&
    Object.keys(value).length > 0 &&
    Object.values(value).every((v) => Array.isArray(v))
  );
}

function isHistoryLike(value: unknown): value is HistoryLike {
  return typeof value === "object" && value !== null && isLogs((value as HistoryLike).history);
}

function readHistories(unit: string, value: unknown): Run[] {
  const expected = "Expected a History from model.fit, {history: {loss: [...], val_loss: [...]}}, or named histories {name: history}";
  const single = (v: unknown, name?: string): Run | undefined => {
    const logs = isHistoryLike(v) ? v.history : isLogs(v) ? v : undefined;
    if (!logs) return undefined;
    const read = new Map<string, number[]>();
    for (const [key, series] of Object.entries(logs)) {
      read.set(
        key,
        series.map((x, i) => {
          if (typeof x === "number") return x;
          if (x instanceof tf.Tensor && x.size === 1) return x.dataSync()[0];
          throw fail(`${unit}: invalid history. Expected numbers per epoch. Received: ${name ? `${name}.` : ""}${key}[${i}]=${show(x)}.`);
        }),
      );
    }
    if ([...read.values()].every((s) => s.length === 0)) {
      throw fail(`${unit}: invalid history. Expected at least one epoch. Received: ${name ? `history ${JSON.stringify(name)} with ` : ""}empty series ${[...read.keys()].map((k) => JSON.stringify(k)).join(", ")}.`);
    }
    return { name, logs: read };
  };
  const one = single(value);
  if (one) return [one];
  const entries = value instanceof Map ? [...value.entries()] : typeof value === "object" && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
  if (entries.length === 0) throw fail(`${unit}: invalid history. ${expected}. Received: history=${describe(value)}.`);
  return entries.map(([name, v]) => {
    const run = single(v, String(name));
    if (!run) throw fail(`${unit}: invalid history. ${expected}. Received: history ${JSON.stringify(String(name))}=${describe(v)}.`);
    return run;
  });
}

function lookup(run: Run, metric: string): number[] | undefined {
  const val = metric.startsWith("val_");
  const base = val ? metric.slice(4) : metric;
  for (const name of ALIASES[base] ?? [base]) {
    const series = run.logs.get(val ? `val_${name}` : name);
    if (series) return series;
  }
  return undefined;
}

function chooseMetrics(unit: string, runs: Run[], requested: unknown): string[] {
  const available: string[] = [];
  for (const run of runs) for (const key of run.logs.keys()) if (!key.startsWith("val_") && !available.includes(key)) available.push(key);
  for (const run of runs) for (const key of run.logs.keys()) if (key.startsWith("val_") && !available.includes(key.slice(4))) available.push(key.slice(4));
  if (requested === undefined) return [...available.filter((m) => m === "loss"), ...available.filter((m) => m !== "loss")];
  if (!Array.isArray(requested) || requested.length === 0 || requested.some((m) => typeof m !== "string")) {
    throw fail(`${unit}: invalid metrics. Expected a non-empty array of names such as ["loss", "accuracy"]. Received: metrics=${show(requested)}.`);
  }
  return requested.map((m: string) => {
    if (runs.some((run) => lookup(run, m) || lookup(run, `val_${m}`))) return m;
    return expectOneOf(unit, "metric", m, available);
  });
}

function drawPanel(ctx: CanvasRenderingContext2D, x0: number, y0: number, w: number, h: number, metric: string, series: Series[]): void {
  const left = x0 + PLOT_MARGIN.left;
  const right = x0 + w - PLOT_MARGIN.right;
  const top = y0 + PLOT_MARGIN.top;
  const bottom = y0 + h - PLOT_MARGIN.bottom;
  const epochs = Math.max(1, ...series.map((s) => s.values.length));
  const finite = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) * 0.1 || 0.5;
    lo -= pad;
    hi += pad;
  }
  // a little air so that the extreme points do not sit on the axes
  const air = (hi - lo) * 0.04;
  lo -= air;
  hi += air;
  const y = niceTicks(lo, hi, 5);
  const yLo = y.ticks[0];
  const yHi = y.ticks[y.ticks.length - 1];
  const xTicks = epochTicks(epochs);
  const inner = 8; // keeps the first and last points off the axes
  const px = (e: number) => (epochs === 1 ? (left + right) / 2 : left + inner + ((e - 1) / (epochs - 1)) * (right - left - 2 * inner));
  const py = (v: number) => bottom - ((v - yLo) / (yHi - yLo)) * (bottom - top);

  // grid, axes, ticks
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  ctx.strokeStyle = "#e4e4e4";
  for (const t of y.ticks) line(ctx, left, Math.round(py(t)) + 0.5, right, Math.round(py(t)) + 0.5);
  for (const t of xTicks) line(ctx, Math.round(px(t)) + 0.5, top, Math.round(px(t)) + 0.5, bottom);
  ctx.strokeStyle = "#555555";
  line(ctx, left + 0.5, top, left + 0.5, bottom + 0.5);
  line(ctx, left, bottom + 0.5, right, bottom + 0.5);
  ctx.fillStyle = INK;
  ctx.font = font(11);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of y.ticks) {
    line(ctx, left - 4, Math.round(py(t)) + 0.5, left, Math.round(py(t)) + 0.5);
    ctx.fillText(t.toFixed(y.decimals), left - 6, py(t));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of xTicks) {
    line(ctx, Math.round(px(t)) + 0.5, bottom, Math.round(px(t)) + 0.5, bottom + 4);
    ctx.fillText(String(t), px(t), bottom + 6);
  }
  ctx.font = font(12);
  ctx.fillText("epoch", (left + right) / 2, bottom + 23);
  ctx.save();
  ctx.translate(x0 + 14, (top + bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(metric, 0, 0);
  ctx.restore();

  if (series.length === 0 || finite.length === 0) {
    ctx.font = font(12);
    ctx.fillStyle = "#888888";
    ctx.textBaseline = "middle";
    ctx.fillText(series.length === 0 ? `no "${metric}" in this history` : "no finite values", (left + right) / 2, (top + bottom) / 2);
    return;
  }

  // series: lines broken at NaN, then dots
  const points: Array<[number, number]> = [];
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dashed ? [6, 4] : []);
    ctx.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      const [x, yy] = [px(i + 1), py(v)];
      points.push([x, yy]);
      if (pen) ctx.lineTo(x, yy);
      else ctx.moveTo(x, yy);
      pen = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    drawDots(ctx, s, px, py);
  }
  const box = drawLegend(ctx, series, { left, right, top, bottom }, points);
  // When no corner is free (e.g. a single epoch: every point sits in the middle of the
  // panel), the legend covers some points: draw those dots again, over the legend.
  for (const s of series) drawDots(ctx, s, px, py, box);
}

/** The dots of one series (filled for training, hollow for validation); only those inside `within` when given. */
function drawDots(ctx: CanvasRenderingContext2D, s: Series, px: (e: number) => number, py: (v: number) => number, within?: Box): void {
  ctx.strokeStyle = s.color;
  ctx.fillStyle = s.dashed ? "#ffffff" : s.color;
  ctx.lineWidth = 1.5;
  s.values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const [x, y] = [px(i + 1), py(v)];
    if (within && !(x >= within.x - 4 && x <= within.x + within.w + 4 && y >= within.y - 4 && y <= within.y + within.h + 4)) return;
    ctx.beginPath();
    ctx.arc(x, y, s.dashed ? 2.5 : 3, 0, 2 * Math.PI);
    ctx.fill();
    if (s.dashed) ctx.stroke();
  });
}

/** A rectangle in canvas pixels. */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Integer epoch ticks: every epoch up to 10, then multiples of a nice step. */
function epochTicks(epochs: number): number[] {
  if (epochs <= 10) return Array.from({ length: epochs }, (_, i) => i + 1);
  const { ticks } = niceTicks(1, epochs, 6);
  const step = Math.max(1, Math.round(ticks[1] - ticks[0]));
  const out = [1];
  for (let t = step; t <= epochs; t += step) if (t > 1) out.push(t);
  return out;
}

function line(ctx: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number): void {
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  ctx.stroke();
}

/** The legend box, in whichever corner of the plot covers the fewest points; returns where it went. */
function drawLegend(ctx: CanvasRenderingContext2D, series: Series[], area: { left: number; right: number; top: number; bottom: number }, points: Array<[number, number]>): Box {
  const rowH = 16;
  const boxW = Math.ceil(Math.max(...series.map((s) => measure(s.label, font(11))))) + 40;
  const boxH = series.length * rowH + 8;
  const corners: Array<[number, number]> = [
    [area.right - boxW - 6, area.top + 6],
    [area.right - boxW - 6, area.bottom - boxH - 6],
    [area.left + 6, area.top + 6],
    [area.left + 6, area.bottom - boxH - 6],
  ];
  const covered = corners.map(([x, y]) => points.filter(([px, py]) => px >= x - 4 && px <= x + boxW + 4 && py >= y - 4 && py <= y + boxH + 4).length);
  const [bx, by] = corners[covered.indexOf(Math.min(...covered))];
  ctx.fillStyle = "rgba(255,255,255,0.88)";
  ctx.strokeStyle = "#cccccc";
  ctx.lineWidth = 1;
  ctx.fillRect(bx, by, boxW, boxH);
  ctx.strokeRect(bx + 0.5, by + 0.5, boxW - 1, boxH - 1);
  series.forEach((s, i) => {
    const cy = by + 4 + i * rowH + rowH / 2;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dashed ? [5, 3] : []);
    line(ctx, bx + 6, cy, bx + 28, cy);
    ctx.setLineDash([]);
    ctx.fillStyle = INK;
    ctx.font = font(11);
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(s.label, bx + 34, cy);
  });
  return { x: bx, y: by, w: boxW, h: boxH };
}
