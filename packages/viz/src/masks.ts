/**
 * Class masks made visible: `colorizeMask` (ids → palette colours), `overlayMask` (the colours
 * blended into the photo) and `maskLegend` (which colour is which class). Ids are per-pixel class
 * ids, 0 = background, 255 = void (Pascal VOC's border label); colours default to VOC's palette.
 *
 * The first two return images as bytes (`Uint8Tensor`, an {@link ImageArray}) for {@link image}
 * and {@link imageGrid}; `maskLegend` returns a {@link Figure}.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { Palette, Uint8Tensor, VOC_VOID, vocPalette } from "@convlab/datasets";
import { drawTitle, encodePng, fitText, font, INK, measure, newCanvas, TITLE_HEIGHT } from "./draw";
import { Figure } from "./figure";
import { ImageLike, isImageLike, label } from "./image_source";
import { checkOptions, checkText, describe, MAX_SIDE } from "./options";

/** An `[r, g, b]` colour, integers 0..255. */
export type RgbColor = readonly [number, number, number];

/** Options of {@link colorizeMask}. */
export interface ColorizeMaskArgs {
  /** Colour `i` for class id `i`: 1..256 `[r, g, b]` colours. Default @convlab/datasets' `vocPalette()`. */
  palette?: Palette;
  /** The colour of id 255 (void). Default the palette's colour 255, VOC's cream (224, 224, 192), for a shorter palette too. */
  ignoreColor?: RgbColor;
}

/** Options of {@link overlayMask}. */
export interface OverlayMaskArgs {
  /** Weight of the mask's colour, in [0, 1]: out = (1 − alpha) · image + alpha · colour. Default 0.5. */
  alpha?: number;
  /** Colour `i` for class id `i`, as {@link ColorizeMaskArgs.palette}. Default VOC's. */
  palette?: Palette;
  /** Blend class 0 (background) too, in its colour (black with VOC's palette). Default false: left as it is. */
  background?: boolean;
  /** The colour of id 255 (void), as {@link ColorizeMaskArgs.ignoreColor}. */
  ignoreColor?: RgbColor;
}

/** Options of {@link maskLegend}. */
export interface MaskLegendArgs {
  /** Colour `i` for class `i`, as {@link ColorizeMaskArgs.palette}. Default VOC's. */
  palette?: Palette;
  /** Drawn above the legend. */
  title?: string;
  /** Text form description; default "legend of N classes". */
  alt?: string;
}

const COLORIZE_KEYS = ["palette", "ignoreColor"] as const;
const OVERLAY_KEYS = ["alpha", "palette", "background", "ignoreColor"] as const;
const LEGEND_KEYS = ["palette", "title", "alt"] as const;
const MASK_SHAPES = "[H,W], [H,W,1], [N,H,W] or [N,H,W,1]";
/** VOC's void colour, used for id 255 when the palette has no colour 255. */
const VOID_COLOR: RgbColor = [224, 224, 192];

/**
 * Class ids as colours: each pixel's id `i` becomes the palette's colour `i`, id 255 (void) the
 * `ignoreColor`.
 *
 * @param mask class ids, a tensor or `{data, shape}` array (any dtype, integer values) of shape
 *   `[H,W]`, `[H,W,1]` (one mask), `[N,H,W]` or `[N,H,W,1]` (a batch: a rank-3 mask whose last
 *   dimension is 1 is one mask). Read, not disposed; no tensor is created.
 * @param options `palette` (default VOC's 256 colours), `ignoreColor` (default (224, 224, 192)).
 * @returns a `Uint8Tensor` (an {@link ImageArray}) `[H,W,3]` for one mask, `[N,H,W,3]` for a batch:
 *   RGB 0..255, ready for {@link image} or {@link imageGrid}.
 * @throws ConvlabError for another shape, ids that are not integers or are negative (naming the
 *   first such pixel), an id beyond the palette other than 255, an invalid palette or colour, an unknown option.
 *
 * @example
 * ```ts
 * const voc = await loadSegmentationFolder("data/VOC2012", { split: "val", imageSize: [256, 256] });
 * imageGrid(colorizeMask(voc.masks.slice(0, 8)))            // 8 masks in VOC's colours
 * image(colorizeMask(predicted.argMax(-1)))                  // a model's [H,W] prediction
 * ```
 *
 * matplotlib counterpart: `plt.imshow(mask, cmap=ListedColormap(palette / 255), vmin=0, vmax=255,
 * interpolation="nearest")`; PIL: `Image.fromarray(mask).putpalette(palette)`.
 */
export function colorizeMask(mask: ImageLike, options?: ColorizeMaskArgs): Uint8Tensor {
  const unit = "colorizeMask";
  const args = checkOptions(unit, options, COLORIZE_KEYS);
  const colors = colorTable(unit, args.palette, args.ignoreColor);
  const m = readMask(unit, mask);
  const out = new Uint8Array(m.ids.length * 3);
  const pixels = m.ids.length;
  for (let p = 0; p < pixels; p++) {
    const k = 3 * checkId(unit, m, p, colors.count);
    out[3 * p] = colors.rgb[k];
    out[3 * p + 1] = colors.rgb[k + 1];
    out[3 * p + 2] = colors.rgb[k + 2];
  }
  return new Uint8Tensor(out, m.batch ? [m.n, m.height, m.width, 3] : [m.height, m.width, 3]);
}

/**
 * An image with its mask's colours blended in: per pixel of class id `i` (not 0, unless
 * `background`), `out = round((1 − alpha) · image + alpha · palette[i])` per channel; pixels of
 * class 0 keep the image's colour. Id 255 (void) blends `ignoreColor`.
 *
 * Image values: float data (float32 tensors, Float32Array/Float64Array) in [0, 1], as {@link image}
 * reads them; integer data in 0..255. Grey images (`[H,W]`, `[H,W,1]`) become RGB; an alpha channel is dropped.
 *
 * @param image one image `[H,W]`, `[H,W,C]` or `[1,H,W,C]` (C = 1, 3, 4) with one mask, or a batch
 *   `[N,H,W]` / `[N,H,W,C]` with a batch of masks; a tensor or `{data, shape}` array. Not disposed.
 * @param mask class ids as for {@link colorizeMask}, of the image's height and width (and batch size).
 * @param options `alpha` in [0, 1] (default 0.5), `palette` (VOC's), `background` (false), `ignoreColor`.
 * @returns a `Uint8Tensor` (an {@link ImageArray}) `[H,W,3]` or `[N,H,W,3]`, RGB 0..255.
 * @throws ConvlabError when the mask's size (or batch size) differs from the image's (naming both
 *   shapes), for image values outside [0, 1] (float) or 0..255 (integer) or not finite, everything
 *   {@link colorizeMask} rejects, an `alpha` outside [0, 1], a non-boolean `background`, an unknown option.
 *
 * @example
 * ```ts
 * image(overlayMask(voc.images.slice(0, 1), voc.masks.slice(0, 1), { alpha: 0.6 }), { title: voc.ids[0] })
 * imageGrid(overlayMask(x, yPred), { captions })     // a batch: [N,H,W,3] floats and [N,H,W] ids
 * ```
 *
 * matplotlib counterpart: `plt.imshow(img); plt.imshow(np.ma.masked_equal(mask, 0), cmap=voc_cmap, alpha=0.5)`.
 */
export function overlayMask(image: ImageLike, mask: ImageLike, options?: OverlayMaskArgs): Uint8Tensor {
  const unit = "overlayMask";
  const args = checkOptions(unit, options, OVERLAY_KEYS);
  const alpha = args.alpha ?? 0.5;
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) throw fail(`${unit}: invalid alpha. Expected a number in [0, 1]. Received: alpha=${show(alpha)}.`);
  const background = args.background ?? false;
  if (typeof background !== "boolean") throw fail(`${unit}: invalid background. Expected true or false. Received: background=${show(background)}.`);
  const colors = colorTable(unit, args.palette, args.ignoreColor);
  const m = readMask(unit, mask);
  const img = readOverlayImage(unit, image, m);
  const pixels = m.ids.length;
  const out = new Uint8Array(pixels * 3);
  const c = img.channels;
  for (let p = 0; p < pixels; p++) {
    const id = checkId(unit, m, p, colors.count);
    for (let k = 0; k < 3; k++) {
      const v = img.data[p * c + (c < 3 ? 0 : k)] * img.scale;
      out[3 * p + k] = id === 0 && !background ? Math.round(v) : Math.round((1 - alpha) * v + alpha * colors.rgb[3 * id + k]);
    }
  }
  return new Uint8Tensor(out, m.batch ? [m.n, m.height, m.width, 3] : [m.height, m.width, 3]);
}

/** Legend layout, in figure pixels: margin, row height, swatch side, gap swatch–text, text size, rows per column. */
const PAD = 8;
const ROW = 20;
const SWATCH = 14;
const GAP = 6;
const TEXT_PX = 12;
const MAX_ROWS = 25;
/** The widest a class name is drawn (longer ones end in "…"). */
const MAX_TEXT = 240;

/**
 * Which colour is which class, as a small {@link Figure}: per class a swatch (14 x 14 px in its
 * palette colour, in a 1 px grey frame) and its name, one class a row, 20 px apart. More than 25
 * classes wrap into columns of at most 25 rows, filled top to bottom.
 *
 * Geometry: class `i` in column `⌊i / R⌋`, row `i mod R` (R = rows per column); its swatch's top-left
 * corner at x = col · colWidth + 8, y = top + 4 + row · 20 + 3, with top = 24 with a title, else 0;
 * colWidth = 8 + 14 + 6 + (widest name) + 8. Names are 12 px sans-serif.
 *
 * @param classNames the classes, class id = index (e.g. `VOC_SEGMENTATION_CLASSES` or a dataset's `classNames`), 1..256 names.
 * @param options `palette` (default VOC's), `title`, `alt`.
 * @throws ConvlabError when classNames is not a non-empty array of strings or has more names than
 *   the palette has colours, for an invalid palette, a non-string title, an unknown option.
 *
 * @example
 * ```ts
 * maskLegend(voc.classNames, { title: "VOC classes" })
 * ```
 *
 * matplotlib counterpart: `plt.legend(handles=[Patch(color=c, label=n) for c, n in zip(colors, names)])`.
 */
export function maskLegend(classNames: readonly string[], options?: MaskLegendArgs): Figure {
  const unit = "maskLegend";
  const args = checkOptions(unit, options, LEGEND_KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  if (!Array.isArray(classNames) || classNames.length === 0 || !classNames.every((s) => typeof s === "string")) {
    throw fail(`${unit}: invalid classNames. Expected a non-empty array of strings, class id = index. Received: classNames=${describe(classNames)}.`);
  }
  const palette = checkPalette(unit, args.palette);
  const n = classNames.length;
  if (n > palette.length) {
    throw fail(`${unit}: too many classes for the palette. Expected at most ${palette.length} class names (one per colour). Received: ${n} classNames.`);
  }
  const columns = Math.ceil(n / MAX_ROWS);
  const rows = Math.ceil(n / columns);
  const names = classNames.map((name) => fitText(name, MAX_TEXT, TEXT_PX, TEXT_PX));
  const textWidth = Math.ceil(Math.max(...names.map((t) => measure(t.text, font(TEXT_PX)))));
  const colWidth = PAD + SWATCH + GAP + textWidth + PAD;
  const top = title ? TITLE_HEIGHT : 0;
  const width = Math.max(columns * colWidth, title ? Math.ceil(measure(title, font(14, true))) + 16 : 0);
  const height = top + rows * ROW + PAD;
  if (width > MAX_SIDE || height > MAX_SIDE) throw fail(`${unit}: figure too large. Expected at most ${MAX_SIDE} pixels per side. Received: ${width}x${height} pixels.`);
  const { canvas, ctx } = newCanvas(width, height);
  if (title) drawTitle(ctx, title, width);
  ctx.font = font(TEXT_PX);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  names.forEach((name, i) => {
    const [col, row] = [Math.floor(i / rows), i % rows];
    const x = col * colWidth + PAD;
    const y = top + PAD / 2 + row * ROW + (ROW - SWATCH) / 2;
    ctx.fillStyle = "#888888";
    ctx.fillRect(x - 1, y - 1, SWATCH + 2, SWATCH + 2);
    const [r, g, b] = palette[i];
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(x, y, SWATCH, SWATCH);
    ctx.fillStyle = INK;
    ctx.fillText(name.text, x + SWATCH + GAP, y + SWATCH / 2);
  });
  return new Figure(encodePng(canvas), { title, alt: alt ?? `legend of ${n} class${n === 1 ? "" : "es"}` });
}

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/** A mask's ids, read out. */
interface Mask {
  ids: ArrayLike<number>;
  n: number;
  height: number;
  width: number;
  batch: boolean;
  label: string;
}

function readAll(value: ImageLike): ArrayLike<number> {
  // dataSync outside any tidy, so no tensor is made
  return value instanceof tf.Tensor ? (value.dataSync() as ArrayLike<number>) : (value.data as ArrayLike<number>);
}

function checkArrayData(unit: string, what: string, value: ImageLike): void {
  if (value instanceof tf.Tensor) return;
  const shape = value.shape;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw fail(`${unit}: invalid ${what}. Expected a shape of non-negative integers. Received: ${what}=${label(value)}.`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (value.data.length !== size) throw fail(`${unit}: invalid ${what}. Expected data of ${size} values for shape [${shape.join(",")}]. Received: data=${show(value.data)}.`);
}

function readMask(unit: string, value: unknown): Mask {
  if (!isImageLike(value)) {
    throw fail(`${unit}: invalid mask. Expected class ids as a tf.Tensor or a {data, shape} array of shape ${MASK_SHAPES}. Received: mask=${label(value)}.`);
  }
  checkArrayData(unit, "mask", value);
  const s = value.shape;
  let dims: [number, number, number, boolean] | undefined;
  if (s.length === 2) dims = [1, s[0], s[1], false];
  else if (s.length === 3 && s[2] === 1) dims = [1, s[0], s[1], false];
  else if (s.length === 3) dims = [s[0], s[1], s[2], true];
  else if (s.length === 4 && s[3] === 1) dims = [s[0], s[1], s[2], true];
  if (!dims) throw fail(`${unit}: invalid mask. Expected class ids of shape ${MASK_SHAPES}. Received: mask=${label(value)}.`);
  const [n, height, width, batch] = dims;
  return { ids: readAll(value), n, height, width, batch, label: label(value) };
}

/** The colour index of pixel `p` (its id, or 255 for void), or the error naming the pixel. */
function checkId(unit: string, m: Mask, p: number, count: number): number {
  const v = m.ids[p];
  if (Number.isInteger(v) && v >= 0 && (v < count || v === VOC_VOID)) return v;
  const plane = m.height * m.width;
  const [i, q] = [Math.floor(p / plane), p % plane];
  const where = `${m.batch ? `mask[${i}] ` : ""}pixel (x=${q % m.width}, y=${Math.floor(q / m.width)}) of mask=${m.label}`;
  if (!Number.isInteger(v)) throw fail(`${unit}: invalid mask. Expected integer class ids. Received: ${v} at ${where}.`);
  if (v < 0) throw fail(`${unit}: invalid mask. Expected class ids >= 0. Received: ${v} at ${where}.`);
  const allowed = count <= VOC_VOID ? `0..${count - 1} or ${VOC_VOID} (void)` : `0..${count - 1}`;
  throw fail(`${unit}: class id ${v} at ${where} is beyond the palette of ${count} colours. Expected ids ${allowed}; pass a longer palette.`);
}

/** The palette (default VOC's) as bytes, 256 colours long, with the void colour at 255. */
function colorTable(unit: string, palette: unknown, ignoreColor: unknown): { rgb: Uint8Array; count: number } {
  const colors = checkPalette(unit, palette);
  if (ignoreColor !== undefined && !isColor(ignoreColor)) {
    throw fail(`${unit}: invalid ignoreColor. Expected an [r, g, b] colour of integers 0..255. Received: ignoreColor=${show(ignoreColor)}.`);
  }
  const rgb = new Uint8Array(256 * 3);
  colors.forEach((c, i) => rgb.set(c, 3 * i));
  rgb.set((ignoreColor as RgbColor | undefined) ?? colors[VOC_VOID] ?? VOID_COLOR, 3 * VOC_VOID);
  return { rgb, count: colors.length };
}

function isColor(c: unknown): c is RgbColor {
  return Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
}

function checkPalette(unit: string, value: unknown): Palette {
  if (value === undefined) return vocPalette();
  if (!Array.isArray(value) || value.length === 0 || value.length > 256 || !value.every(isColor)) {
    const shown = Array.isArray(value) && value.length > 4 ? `an array of ${value.length} items starting ${show(value.slice(0, 2))}` : show(value);
    throw fail(`${unit}: invalid palette. Expected 1 to 256 [r, g, b] colours of integers 0..255, such as vocPalette(). Received: palette=${shown}.`);
  }
  return value as Palette;
}

/** The image's values for each mask pixel: `channels` values a pixel, times `scale` gives 0..255. */
function readOverlayImage(unit: string, value: unknown, m: Mask): { data: ArrayLike<number>; channels: number; scale: number } {
  const expected = m.batch ? "[N,H,W] or [N,H,W,C] (C = 1, 3 or 4) for a batch of masks" : "[H,W], [H,W,C] or [1,H,W,C] (C = 1, 3 or 4) for one mask";
  if (!isImageLike(value)) throw fail(`${unit}: invalid image. Expected a tf.Tensor or a {data, shape} array of shape ${expected}. Received: image=${label(value)}.`);
  checkArrayData(unit, "image", value);
  const s = value.shape;
  let dims: number[] | undefined; // [n, h, w, c]
  if (m.batch) {
    if (s.length === 3) dims = [s[0], s[1], s[2], 1];
    else if (s.length === 4) dims = [...s];
  } else {
    if (s.length === 2) dims = [1, s[0], s[1], 1];
    else if (s.length === 3) dims = [1, ...s];
    else if (s.length === 4 && s[0] === 1) dims = [...s];
  }
  if (!dims || ![1, 3, 4].includes(dims[3])) throw fail(`${unit}: invalid image. Expected a shape ${expected}. Received: image=${label(value)}.`);
  const [n, h, w, channels] = dims;
  if (n !== m.n || h !== m.height || w !== m.width) {
    throw fail(
      `${unit}: the mask does not fit the image. Expected a mask of the image's height and width${m.batch ? " and batch size" : ""}. ` +
        `Received: image=${label(value)}, mask=${m.label}.`,
    );
  }
  const data = readAll(value);
  const float = value instanceof tf.Tensor ? value.dtype === "float32" : value.data instanceof Float32Array || value.data instanceof Float64Array;
  let [lo, hi] = [Infinity, -Infinity];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v !== v) {
      lo = hi = NaN;
      break;
    }
  }
  const [top, tolerance] = float ? [1, 1e-3] : [255, 0];
  if (data.length > 0 && !(lo >= -tolerance && hi <= top + tolerance)) {
    const hint = float ? "rescale it to [0, 1] first (x / 255 for 0..255 values)" : "clip or rescale it first";
    throw fail(`${unit}: invalid image. Expected ${float ? "float values in [0, 1]" : "integer values in 0..255"}; ${hint}. Received: values in [${lo}, ${hi}] (image=${label(value)}).`);
  }
  if (!float) return { data, channels, scale: 1 };
  // tiny excursions from arithmetic clamp to the range
  const clamped = Float32Array.from(data, (v) => Math.min(1, Math.max(0, v)));
  return { data: clamped, channels, scale: 255 };
}
