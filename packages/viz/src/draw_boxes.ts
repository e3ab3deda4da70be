/**
 * drawBoxes: an image with boxes drawn on it, each with a tag such as "cat 0.93": what a
 * detector found, or the ground truth of a training image.
 *
 * Boxes are pixel `xyxy` only, edges on pixel borders (pixel column i spans [i, i + 1), the whole
 * W x H image is [0, 0, W, H]). viz knows no other box format: @convlab/detection converts first.
 */
import * as tf from "@tensorflow/tfjs";
import { CanvasRenderingContext2D, createCanvas } from "canvas";
import { fail, show } from "@convlab/engine";
import { TAB10 } from "./colormap";
import { blit, encodePng, font, INK, measure, newCanvas, Raster } from "./draw";
import { Figure } from "./figure";
import { drawGrid } from "./grid";
import { IMAGE_TARGET } from "./image";
import type { ImageLike } from "./image_source";
import { checkInt, checkOptions, checkText, Colormap, ValueRange } from "./options";
import { checkRenderArgs, renderImage } from "./to_png";

/** Options of {@link drawBoxes}. */
export interface DrawBoxesArgs {
  /** One label per box ("cat"), written in its tag. */
  labels?: readonly string[];
  /** One score per box, written in its tag with two decimals ("cat 0.93"). */
  scores?: readonly number[];
  /**
   * Box colours: one CSS colour for all, or one per box, each a CSS colour ("red", "#d62728") or
   * a number k for tab10's colour k mod 10 (pass class ids to colour by class, the same in every
   * image). Default: one tab10 colour per distinct label, in order of first appearance; without
   * labels, one per box.
   */
  colors?: string | readonly (string | number)[];
  /** Outline width in figure pixels, 1..16, drawn inside the box. Default 2. */
  lineWidth?: number;
  /** Integer enlargement 1..64 of the image; `"auto"` (default): as {@link image}, longer side ≤ 280 px. */
  scale?: number | "auto";
  /** Value range of the image; see {@link toPng}. */
  range?: ValueRange;
  /** Colormap of a single-channel image. Default `"gray"`. */
  colormap?: Colormap;
  /** Drawn above the image. */
  title?: string;
  /** Text form description; default "H x W image with N boxes". */
  alt?: string;
}

const KEYS = ["labels", "scores", "colors", "lineWidth", "scale", "range", "colormap", "title", "alt"] as const;

/** Font size of box tags, and their height (text plus 2 px above and below). */
const TAG_PX = 11;
const TAG_HEIGHT = TAG_PX + 4;
/** Space left and right of a tag's text. */
const TAG_PAD = 3;

/**
 * An image with boxes as a {@link Figure}: each box an outline (`lineWidth` px, inside the box's
 * edges) with a filled tag "label score" just above its top-left corner (inside the box when
 * there is no room above). The image is enlarged as {@link image} does, and the boxes with it:
 * a box edge at pixel x lands on figure pixel x · scale. Parts of boxes outside the image are
 * not drawn; a box wholly outside is skipped.
 *
 * @param image a tensor or `{data, shape}` array of shape [H,W], [H,W,C] or [1,H,W,C] (C = 1, 3, 4); read, not disposed.
 * @param boxes `[N, 4]` pixel boxes `[x1, y1, x2, y2]` (a tensor or an array of rows).
 * @throws ConvlabError for a bad image (as {@link image}), boxes that are not `[N, 4]` finite
 *   numbers or are inverted (naming the box), labels, scores or colours that are not one per box,
 *   an invalid CSS colour, an unknown option.
 * @example
 * drawBoxes(photo, [[12, 30, 80, 95]], { labels: ["cat"], scores: [0.93] })
 *
 * matplotlib counterpart: `plt.imshow(img)` + `ax.add_patch(Rectangle((x1, y1), w, h, fill=False))`
 * + `ax.text(x1, y1, "cat 0.93", bbox=...)`; KerasCV: `keras_cv.visualization.plot_bounding_box_gallery`.
 */
export function drawBoxes(image: ImageLike, boxes: tf.Tensor | readonly (readonly number[])[], options?: DrawBoxesArgs): Figure {
  const unit = "drawBoxes";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const auto = args.scale === undefined || args.scale === "auto";
  const spec = checkRenderArgs(unit, { ...args, scale: auto ? undefined : args.scale }, { colormap: "gray", scale: 1 });
  const lineWidth = args.lineWidth === undefined ? 2 : checkInt(unit, "lineWidth", args.lineWidth, 1, 16);
  const rows = readPixelBoxes(unit, boxes);
  const n = rows.length;
  const labels = args.labels === undefined ? undefined : checkList<string>(unit, "labels", args.labels, n, (v) => typeof v === "string", ["a string", "strings"]);
  const scores = args.scores === undefined ? undefined : checkList<number>(unit, "scores", args.scores, n, (v) => typeof v === "number" && Number.isFinite(v), ["a finite number", "finite numbers"]);
  const colors = resolveColors(unit, args.colors, n, labels);

  const raster = renderImage(unit, "image", image, spec, args.colormap !== undefined, auto ? IMAGE_TARGET : undefined);
  const s = spec.scale;
  const { canvas, ctx } = newCanvas(raster.width, raster.height);
  blit(ctx, raster, 0, 0);
  const [W, H] = [raster.width, raster.height];
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, Math.round(v * s)));
  const shown: { i: number; x1: number; y1: number; x2: number; y2: number }[] = [];
  rows.forEach(([x1, y1, x2, y2], i) => {
    const box = { i, x1: clamp(x1, W), y1: clamp(y1, H), x2: clamp(x2, W), y2: clamp(y2, H) };
    const outside = x1 * s >= W || y1 * s >= H || x2 <= 0 || y2 <= 0;
    if (!outside) shown.push(box);
  });
  // Outlines first, then tags, so that no outline crosses a tag.
  for (const { i, x1, y1, x2, y2 } of shown) {
    const [w, h] = [x2 - x1, y2 - y1];
    ctx.fillStyle = colors[i].css;
    ctx.fillRect(x1, y1, w, lineWidth);
    ctx.fillRect(x1, y2 - lineWidth, w, lineWidth);
    ctx.fillRect(x1, y1, lineWidth, h);
    ctx.fillRect(x2 - lineWidth, y1, lineWidth, h);
  }
  for (const { i, x1, y1 } of shown) {
    const text = [labels?.[i], scores?.[i]?.toFixed(2)].filter((t) => t !== undefined).join(" ");
    if (!text) continue;
    const tagW = Math.ceil(measure(text, font(TAG_PX))) + 2 * TAG_PAD;
    const tagX = Math.max(0, Math.min(x1, W - tagW));
    const tagY = y1 >= TAG_HEIGHT ? y1 - TAG_HEIGHT : y1;
    ctx.fillStyle = colors[i].css;
    ctx.fillRect(tagX, tagY, tagW, TAG_HEIGHT);
    ctx.font = font(TAG_PX);
    ctx.fillStyle = colors[i].dark ? "#ffffff" : INK;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(text, tagX + TAG_PAD, tagY + TAG_HEIGHT / 2);
  }

  const description = alt ?? `${H / s}x${W / s} image with ${n} box${n === 1 ? "" : "es"}`;
  if (!title) return new Figure(encodePng(canvas), { alt: description });
  const drawn: Raster = { width: W, height: H, rgba: ctx.getImageData(0, 0, W, H).data };
  return new Figure(drawGrid(unit, [{ raster: drawn }], 1, title).png, { title, alt: description });
}

/** Rows `[x1, y1, x2, y2]` of finite numbers with x1 ≤ x2 and y1 ≤ y2. */
function readPixelBoxes(unit: string, boxes: unknown): number[][] {
  const expected = "a [N, 4] tensor or an array of [x1, y1, x2, y2] pixel boxes";
  let rows: unknown[];
  if (boxes instanceof tf.Tensor) {
    if (boxes.rank !== 2 || boxes.shape[1] !== 4) throw fail(`${unit}: invalid boxes. Expected ${expected}. Received: boxes=${show(boxes)}.`);
    const flat = Array.from(boxes.dataSync() as ArrayLike<number>, Number);
    rows = Array.from({ length: boxes.shape[0] }, (_, i) => flat.slice(4 * i, 4 * i + 4));
  } else if (Array.isArray(boxes) && !(boxes.length > 0 && typeof boxes[0] === "number")) {
    rows = boxes;
  } else {
    throw fail(`${unit}: invalid boxes. Expected ${expected}. Received: boxes=${show(boxes)}.`);
  }
  return rows.map((row, i) => {
    const isRow = Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView));
    const values = isRow ? Array.from(row as ArrayLike<unknown>) : [];
    const shown = isRow ? `[${values.map(String).join(", ")}]` : show(row);
    if (values.length !== 4 || !values.every((v) => typeof v === "number" && Number.isFinite(v))) {
      throw fail(`${unit}: invalid boxes[${i}]. Expected 4 finite numbers [x1, y1, x2, y2]. Received: boxes[${i}]=${shown}.`);
    }
    const [x1, y1, x2, y2] = values as number[];
    if (x2 < x1 || y2 < y1) throw fail(`${unit}: invalid boxes[${i}]. Expected x1 ≤ x2 and y1 ≤ y2 in format "xyxy". Received: boxes[${i}]=${shown}.`);
    return values as number[];
  });
}

function checkList<T>(unit: string, what: string, value: unknown, n: number, ok: (v: unknown) => boolean, [one, many]: [string, string]): T[] {
  if (!Array.isArray(value)) throw fail(`${unit}: invalid ${what}. Expected an array of ${n} ${many}, one per box. Received: ${what}=${show(value)}.`);
  const bad = value.findIndex((v) => !ok(v));
  if (bad >= 0) throw fail(`${unit}: invalid ${what}[${bad}]. Expected ${one}. Received: ${what}[${bad}]=${show(value[bad])}.`);
  if (value.length !== n) throw fail(`${unit}: invalid ${what}. Expected one per box (${n}). Received: ${value.length} ${what}.`);
  return value as T[];
}

interface BoxColor {
  css: string;
  /** True when white text reads better than dark text on it. */
  dark: boolean;
}

function resolveColors(unit: string, value: unknown, n: number, labels: readonly string[] | undefined): BoxColor[] {
  if (value === undefined) {
    const order = new Map<string, number>();
    return Array.from({ length: n }, (_, i) => {
      if (!labels) return parseColor(unit, "colors", TAB10[i % TAB10.length]);
      if (!order.has(labels[i])) order.set(labels[i], order.size);
      return parseColor(unit, "colors", TAB10[order.get(labels[i])! % TAB10.length]);
    });
  }
  if (typeof value === "string") {
    const one = parseColor(unit, "colors", value);
    return Array.from({ length: n }, () => one);
  }
  if (!Array.isArray(value)) {
    throw fail(`${unit}: invalid colors. Expected a CSS colour or an array of ${n} colours (CSS strings or tab10 indices), one per box. Received: colors=${show(value)}.`);
  }
  if (value.length !== n) throw fail(`${unit}: invalid colors. Expected one per box (${n}). Received: ${value.length} colors.`);
  return value.map((c, i) => {
    if (typeof c === "number" && Number.isInteger(c) && c >= 0) return parseColor(unit, `colors[${i}]`, TAB10[c % TAB10.length]);
    return parseColor(unit, `colors[${i}]`, c);
  });
}

let probe: CanvasRenderingContext2D | undefined;

/** A CSS colour checked by canvas itself (an invalid one leaves fillStyle unchanged), and its lightness. */
function parseColor(unit: string, what: string, css: unknown): BoxColor {
  probe ??= createCanvas(1, 1).getContext("2d");
  let valid = typeof css === "string" && css.trim().length > 0;
  if (valid) {
    // canvas ignores an invalid colour, so fillStyle keeps the sentinel set before it; two
    // sentinels, so that a colour equal to one of them still passes
    valid = ["#010203", "#030201"].some((sentinel) => {
      probe!.fillStyle = sentinel;
      probe!.fillStyle = css as string;
      return probe!.fillStyle !== sentinel;
    });
  }
  if (!valid) {
    throw fail(`${unit}: invalid ${what}. Expected a CSS colour such as "red" or "#1f77b4", or a number k for tab10 colour k mod 10. Received: ${what}=${show(css)}.`);
  }
  probe.clearRect(0, 0, 1, 1);
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
  return { css: css as string, dark: 0.299 * r + 0.587 * g + 0.114 * b < 150 };
}
