/**
 * scatterPlot: points on linear or log axes, one colour per group (matplotlib's tab10), a legend
 * of the groups and each point's label written beside it where it covers nothing else.
 */
import type { CanvasRenderingContext2D } from "canvas";
import { closest, expectBoolean, fail, show } from "@convlab/engine";
import { TAB10 } from "./colormap";
import { drawTitle, encodePng, fitText, font, INK, measure, newCanvas, TITLE_HEIGHT } from "./draw";
import { Figure } from "./figure";
import { checkInt, checkOptions, checkText, describe } from "./options";
import { logTicks, niceTicks, tickLabels } from "./ticks";

/** One point of a {@link scatterPlot}: its coordinates, the text beside it, its group (colour and legend entry). */
export interface ScatterPoint {
  x: number;
  y: number;
  /** Written beside the point, e.g. a model's name. */
  label?: string;
  /** Points of a group share a colour and a legend entry, e.g. a model's family. */
  group?: string;
}

/** Options of {@link scatterPlot}. */
export interface ScatterPlotArgs {
  /** Drawn above the plot (inside the figure's height). */
  title?: string;
  /** Under the x axis. */
  xLabel?: string;
  /** Left of the y axis, rotated. */
  yLabel?: string;
  /** A log-scale x axis (every x must be > 0); default false. */
  logX?: boolean;
  /** A log-scale y axis (every y must be > 0); default false. */
  logY?: boolean;
  /** Width of the figure in pixels, 200..2000; default 640. */
  width?: number;
  /** Height of the figure in pixels, 150..2000; default 480. */
  height?: number;
  /** Text form description; default "scatter plot of N points: y against x". */
  alt?: string;
}

const KEYS = ["title", "xLabel", "yLabel", "logX", "logY", "width", "height", "alt"] as const;
const POINT_KEYS = ["x", "y", "label", "group"] as const;

/** Default figure size, matplotlib's 6.4 x 4.8 inches at 100 dpi. */
export const SCATTER_WIDTH = 640;
export const SCATTER_HEIGHT = 480;
/** Space between the figure's edges and the plot area (ticks, axis labels); `top` grows by 24 with a title. */
export const SCATTER_MARGIN = { left: 72, right: 20, top: 14, bottom: 48 } as const;
/** Radius of a point's dot in pixels. */
export const DOT_RADIUS = 4;

/** A rectangle as [x0, y0, x1, y1] in canvas pixels. @internal */
export type Box = [number, number, number, number];

interface Placed {
  px: number;
  py: number;
  color: string;
  label?: string;
}

/**
 * A scatter plot as a {@link Figure}: one dot per point, coloured by `group` (groups take
 * matplotlib's tab10 colours C0, C1, … in order of first appearance, points without a group count
 * as one more, unnamed, group), a legend of the named groups in the plot's emptiest corner, and each
 * `label` beside its dot: right, left, above, below or diagonal, the first place inside the plot that
 * covers no dot, no earlier label and not the legend. Meant for tens to hundreds of points.
 *
 * Size: `width` x `height` (title included). Geometry, per axis, with u = v (linear) or log10 v (log):
 * the data range [lo, hi] of u gets a margin pad = 6 % of hi − lo on each side (on a log axis at least
 * 0.15 decade; on a linear axis with a single value, 10 % of |v|, or 0.5 for 0), giving [a, b]; then
 *   x pixel = left + (u − a) / (b − a) · (right − left),  y pixel = bottom − (u − a) / (b − a) · (bottom − top)
 * with left = 72, right = width − 20, top = 14 (38 with a title), bottom = height − 48
 * ({@link SCATTER_MARGIN}). Ticks: 1, 2 or 5 × 10^k steps on linear axes; 1-2-5 multiples or
 * decades on log axes, labelled `10⁶` / `2×10⁶` beyond 0.001..1e6.
 *
 * @param points `{ x, y, label?, group? }`, at least one; x and y finite (and > 0 on a log axis).
 * @param options `title`, `xLabel`, `yLabel`, `logX`, `logY` (default false), `width` 200..2000
 *   (default 640), `height` 150..2000 (default 480), `alt`.
 * @throws ConvlabError for no points, a point that is not `{x, y}`, an unknown key of a point or of the
 *   options (suggesting the closest), a non-finite coordinate, a value ≤ 0 on a log axis.
 * @example
 * scatterPlot(
 *   rows.map((r) => ({ x: r.params / 1e6, y: r.ms, label: r.name, group: r.family })),
 *   { xLabel: "millions of parameters", yLabel: "ms per image", logX: true, logY: true },
 * )
 *
 * matplotlib counterpart: `plt.scatter(x, y, label=group)` once per group, `plt.xscale("log")`,
 * `plt.yscale("log")`, `plt.annotate(label, (x, y))` per point and `plt.legend()`; matplotlib does not
 * move labels out of each other's way (that needs the adjustText package).
 */
export function scatterPlot(points: readonly ScatterPoint[], options?: ScatterPlotArgs): Figure {
  const unit = "scatterPlot";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const xLabel = checkText(unit, "xLabel", args.xLabel);
  const yLabel = checkText(unit, "yLabel", args.yLabel);
  const alt = checkText(unit, "alt", args.alt);
  const logX = args.logX === undefined ? false : expectBoolean(unit, "logX", args.logX);
  const logY = args.logY === undefined ? false : expectBoolean(unit, "logY", args.logY);
  const width = args.width === undefined ? SCATTER_WIDTH : checkInt(unit, "width", args.width, 200, 2000);
  const height = args.height === undefined ? SCATTER_HEIGHT : checkInt(unit, "height", args.height, 150, 2000);
  const checked = checkPoints(unit, points, logX, logY);

  const left = SCATTER_MARGIN.left;
  const right = width - SCATTER_MARGIN.right;
  const top = SCATTER_MARGIN.top + (title ? TITLE_HEIGHT : 0);
  const bottom = height - SCATTER_MARGIN.bottom;
  const xAxis = axisRange(checked.map((p) => p.x), logX);
  const yAxis = axisRange(checked.map((p) => p.y), logY);
  const px = (v: number) => left + ((xAxis.u(v) - xAxis.a) / (xAxis.b - xAxis.a)) * (right - left);
  const py = (v: number) => bottom - ((yAxis.u(v) - yAxis.a) / (yAxis.b - yAxis.a)) * (bottom - top);

  // Colours by group, in order of first appearance (undefined: the points without a group).
  const colors = new Map<string | undefined, string>();
  for (const p of checked) if (!colors.has(p.group)) colors.set(p.group, TAB10[colors.size % TAB10.length]);
  const placed: Placed[] = checked.map((p) => ({ px: px(p.x), py: py(p.y), color: colors.get(p.group)!, label: p.label }));

  const { canvas, ctx } = newCanvas(width, height);
  if (title) drawTitle(ctx, title, width);
  drawAxes(ctx, { left, right, top, bottom }, xAxis, yAxis, px, py, xLabel, yLabel);
  for (const p of placed) drawDot(ctx, p);

  const groups = [...colors].filter((entry): entry is [string, string] => entry[0] !== undefined);
  const legend = groups.length ? legendBox(groups, { left, right, top, bottom }, placed) : undefined;
  const taken: Box[] = placed.map((p) => [p.px - DOT_RADIUS, p.py - DOT_RADIUS, p.px + DOT_RADIUS, p.py + DOT_RADIUS]);
  if (legend) taken.push(legend.box);
  drawLabels(ctx, placed, { left, right, top, bottom }, taken);
  if (legend) {
    drawLegend(ctx, legend.box, legend.rows);
    // A legend that could not avoid every dot hides some: draw those again, over it.
    const [x0, y0, x1, y1] = legend.box;
    for (const p of placed) if (p.px >= x0 - DOT_RADIUS && p.px <= x1 + DOT_RADIUS && p.py >= y0 - DOT_RADIUS && p.py <= y1 + DOT_RADIUS) drawDot(ctx, p);
  }

  const logs = [logX && "log x", logY && "log y"].filter(Boolean).join(", ");
  const description =
    `scatter plot of ${checked.length} point${checked.length === 1 ? "" : "s"}` +
    (groups.length ? ` in ${groups.length} group${groups.length === 1 ? "" : "s"}` : "") +
    (xLabel || yLabel ? `: ${yLabel ?? "y"} against ${xLabel ?? "x"}` : "") +
    (logs ? ` (${logs})` : "");
  return new Figure(encodePng(canvas), { title, alt: alt ?? description });
}

/** The points, each checked: an object with known keys, finite x and y (> 0 on a log axis), string label and group. */
function checkPoints(unit: string, points: unknown, logX: boolean, logY: boolean): ScatterPoint[] {
  if (!Array.isArray(points) || points.length === 0) {
    throw fail(`${unit}: invalid points. Expected a non-empty array of { x, y, label?, group? }. Received: points=${describe(points)}.`);
  }
  return points.map((p: unknown, i) => {
    const at = `points[${i}]`;
    if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw fail(`${unit}: invalid ${at}. Expected an object { x, y, label?, group? }. Received: ${at}=${show(p)}.`);
    }
    for (const key of Object.keys(p)) {
      if ((POINT_KEYS as readonly string[]).includes(key)) continue;
      const hint = closest(key, POINT_KEYS);
      throw fail(`${unit}: unknown key \`${key}\` in ${at}. Expected one of ${POINT_KEYS.map((k) => `\`${k}\``).join(", ")}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
    }
    const point = p as Record<string, unknown>;
    const coordinate = (axis: "x" | "y", log: boolean): number => {
      const v = point[axis];
      if (typeof v !== "number" || !Number.isFinite(v)) throw fail(`${unit}: invalid ${at}.${axis}. Expected a finite number. Received: ${at}.${axis}=${show(v)}.`);
      if (log && v <= 0) {
        const option = axis === "x" ? "logX" : "logY";
        throw fail(`${unit}: invalid ${at}.${axis}. Expected a number > 0 on a log axis (${option}: true). Received: ${at}.${axis}=${show(v)}.`);
      }
      return v;
    };
    return {
      x: coordinate("x", logX),
      y: coordinate("y", logY),
      label: checkText(unit, `${at}.label`, point.label),
      group: checkText(unit, `${at}.group`, point.group),
    };
  });
}

/** One axis: its scale `u` (identity or log10), the drawn range [a, b] of u, its ticks and their labels. */
interface Axis {
  log: boolean;
  u: (v: number) => number;
  a: number;
  b: number;
  /** Ticks for an axis `length` pixels long, at most one per `spacing` pixels (`logSpacing` on a log axis). */
  ticks(length: number, spacing: number, logSpacing: number): { ticks: number[]; labels: string[] };
}

/** The range of one axis: the data range of u padded as documented on {@link scatterPlot}. */
function axisRange(values: number[], log: boolean): Axis {
  const u = log ? Math.log10 : (v: number) => v;
  const us = values.map(u);
  const lo = Math.min(...us);
  const hi = Math.max(...us);
  const span = hi - lo;
  const pad = log ? Math.max(0.15, 0.06 * span) : span > 0 ? 0.06 * span : Math.abs(lo) * 0.1 || 0.5;
  const [a, b] = [lo - pad, hi + pad];
  return {
    log,
    u,
    a,
    b,
    ticks(length: number, spacing: number, logSpacing: number) {
      if (log) {
        const ticks = logTicks(a, b, Math.floor(length / logSpacing));
        return { ticks, labels: tickLabels(ticks) };
      }
      const nice = niceTicks(a, b, Math.max(2, Math.floor(length / spacing) - 1));
      const eps = (b - a) * 1e-9;
      const ticks = nice.ticks.filter((t) => t >= a - eps && t <= b + eps);
      return { ticks, labels: tickLabels(ticks, nice.decimals) };
    },
  };
}

/** The plot area in canvas pixels. @internal */
export interface Area {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Grid lines, the frame, ticks with their labels and the axis labels. */
function drawAxes(
  ctx: CanvasRenderingContext2D,
  area: Area,
  xAxis: Axis,
  yAxis: Axis,
  px: (v: number) => number,
  py: (v: number) => number,
  xLabel?: string,
  yLabel?: string,
): void {
  const { left, right, top, bottom } = area;
  // At most one tick per 90 px across (labels such as "1.5×10⁶" are wide) and per 60 px up; log
  // axes take 1-2-5 ticks more densely (70 px, 40 px) so that a short range still shows several.
  const x = xAxis.ticks(right - left, 90, 70);
  const y = yAxis.ticks(bottom - top, 60, 40);
  const sharp = (v: number) => Math.round(v) + 0.5;
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#e4e4e4";
  for (const t of x.ticks) line(ctx, sharp(px(t)), top, sharp(px(t)), bottom);
  for (const t of y.ticks) line(ctx, left, sharp(py(t)), right, sharp(py(t)));
  ctx.strokeStyle = "#555555";
  ctx.strokeRect(left + 0.5, top + 0.5, right - left - 1, bottom - top - 1);
  ctx.fillStyle = INK;
  ctx.font = font(11);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  x.ticks.forEach((t, i) => {
    line(ctx, sharp(px(t)), bottom, sharp(px(t)), bottom + 4);
    ctx.fillText(x.labels[i], px(t), bottom + 6);
  });
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  y.ticks.forEach((t, i) => {
    line(ctx, left - 4, sharp(py(t)), left, sharp(py(t)));
    ctx.fillText(y.labels[i], left - 6, py(t));
  });
  ctx.font = font(12);
  ctx.textAlign = "center";
  if (xLabel) {
    ctx.textBaseline = "top";
    ctx.fillText(fitText(xLabel, right - left, 12).text, (left + right) / 2, bottom + 26);
  }
  if (yLabel) {
    ctx.save();
    ctx.translate(14, (top + bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(fitText(yLabel, bottom - top, 12).text, 0, 0);
    ctx.restore();
  }
}

function line(ctx: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number): void {
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  ctx.stroke();
}

function drawDot(ctx: CanvasRenderingContext2D, p: Placed): void {
  ctx.fillStyle = p.color;
  ctx.beginPath();
  ctx.arc(p.px, p.py, DOT_RADIUS, 0, 2 * Math.PI);
  ctx.fill();
}

const LABEL_FONT = font(11);
/** Height of a point's label box in pixels (11 px text). */
export const LABEL_HEIGHT = 12;

const overlaps = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/**
 * Where each label goes: the first of eight places around its dot (right, left, above, below, then
 * the diagonals) that lies inside the plot and overlaps nothing in `taken`; else the first inside the
 * plot; else right of the dot. Each placed label joins `taken` (which holds the dots and the legend).
 * Labels are `w` pixels wide and {@link LABEL_HEIGHT} high. @internal
 */
export function placeLabels(labels: ReadonlyArray<{ x: number; y: number; w: number }>, area: Area, taken: Box[]): Box[] {
  const h = LABEL_HEIGHT;
  const r = DOT_RADIUS + 2;
  const inPlot = (b: Box) => b[0] >= area.left + 2 && b[2] <= area.right - 2 && b[1] >= area.top + 2 && b[3] <= area.bottom - 2;
  return labels.map(({ x, y, w }) => {
    const corners: Array<[number, number]> = [
      [x + r, y - h / 2],
      [x - r - w, y - h / 2],
      [x - w / 2, y - r - h],
      [x - w / 2, y + r],
      [x + r - 1, y - 3 - h],
      [x + r - 1, y + 3],
      [x - r + 1 - w, y - 3 - h],
      [x - r + 1 - w, y + 3],
    ];
    const candidates = corners.map(([bx, by]): Box => [bx, by, bx + w, by + h]);
    const box = candidates.find((b) => inPlot(b) && !taken.some((t) => overlaps(b, t))) ?? candidates.find(inPlot) ?? candidates[0];
    taken.push(box);
    return box;
  });
}

function drawLabels(ctx: CanvasRenderingContext2D, placed: Placed[], area: Area, taken: Box[]): void {
  const labelled = placed.filter((p): p is Placed & { label: string } => !!p.label);
  const boxes = placeLabels(labelled.map((p) => ({ x: p.px, y: p.py, w: measure(p.label, LABEL_FONT) })), area, taken);
  ctx.font = LABEL_FONT;
  ctx.fillStyle = "#333333";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  labelled.forEach((p, i) => ctx.fillText(p.label, boxes[i][0], (boxes[i][1] + boxes[i][3]) / 2));
}

const LEGEND_ROW = 16;

/** The legend's box, in the corner of the plot (upper right, upper left, lower left, lower right) covering the fewest dots. */
function legendBox(groups: Array<[string, string]>, area: Area, placed: Placed[]): { box: Box; rows: Array<[string, string]> } {
  const maxText = Math.max(60, (area.right - area.left) / 2 - 30);
  const rows = groups.map(([name, color]): [string, string] => [fitText(name, maxText, 11, 11).text, color]);
  const w = Math.ceil(Math.max(...rows.map(([name]) => measure(name, font(11))))) + 30;
  const h = rows.length * LEGEND_ROW + 8;
  const corners: Array<[number, number]> = [
    [area.right - w - 6, area.top + 6],
    [area.left + 6, area.top + 6],
    [area.left + 6, area.bottom - h - 6],
    [area.right - w - 6, area.bottom - h - 6],
  ];
  const boxes = corners.map(([x, y]): Box => [x, y, x + w, y + h]);
  const covered = boxes.map((b) => placed.filter((p) => overlaps(b, [p.px - DOT_RADIUS, p.py - DOT_RADIUS, p.px + DOT_RADIUS, p.py + DOT_RADIUS])).length);
  return { box: boxes[covered.indexOf(Math.min(...covered))], rows };
}

function drawLegend(ctx: CanvasRenderingContext2D, box: Box, rows: Array<[string, string]>): void {
  const [x0, y0, x1, y1] = box;
  ctx.fillStyle = "rgba(255,255,255,0.88)";
  ctx.strokeStyle = "#cccccc";
  ctx.lineWidth = 1;
  ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
  ctx.strokeRect(Math.round(x0) + 0.5, Math.round(y0) + 0.5, Math.round(x1 - x0) - 1, Math.round(y1 - y0) - 1);
  rows.forEach(([name, color], i) => {
    const cy = y0 + 4 + i * LEGEND_ROW + LEGEND_ROW / 2;
    drawDot(ctx, { px: x0 + 12, py: cy, color });
    ctx.fillStyle = INK;
    ctx.font = font(11);
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(name, x0 + 22, cy);
  });
}
