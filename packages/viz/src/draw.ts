/**
 * Drawing helpers over node-canvas: canvases with a white background, exact
 * pixel blits, text that fits a width, PNG encoding. Fonts are the generic
 * "sans-serif" (Pango picks the system's, DejaVu Sans on Debian).
 */
import { Canvas, CanvasRenderingContext2D, createCanvas, createImageData } from "canvas";

/** Pixels of an image: RGBA, row-major. @internal */
export interface Raster {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/** The font family of every figure. */
export const FONT_FAMILY = "sans-serif";

/** Text colour of labels and ticks. */
export const INK = "#222222";

/** A CSS font at `px` pixels. */
export function font(px: number, bold = false): string {
  return `${bold ? "bold " : ""}${px}px ${FONT_FAMILY}`;
}

/** A canvas filled with `background` (white by default). */
export function newCanvas(width: number, height: number, background = "#ffffff"): { canvas: Canvas; ctx: CanvasRenderingContext2D } {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, width, height);
  return { canvas, ctx };
}

/** Copies a raster onto the canvas at (x, y), pixel for pixel (no smoothing, no blending). */
export function blit(ctx: CanvasRenderingContext2D, raster: Raster, x: number, y: number): void {
  ctx.putImageData(createImageData(raster.rgba, raster.width, raster.height), Math.round(x), Math.round(y));
}

let scratch: CanvasRenderingContext2D | undefined;

/** Width in pixels of `text` in `fontCss`. */
export function measure(text: string, fontCss: string): number {
  scratch ??= createCanvas(1, 1).getContext("2d");
  scratch.font = fontCss;
  return scratch.measureText(text).width;
}

/**
 * The font size (from `px` down to `minPx`) at which `text` fits `maxWidth`,
 * and the text itself, cut with "…" when even `minPx` is too wide.
 */
export function fitText(text: string, maxWidth: number, px: number, minPx = 8, bold = false): { text: string; px: number } {
  for (let size = px; size >= minPx; size--) {
    if (measure(text, font(size, bold)) <= maxWidth) return { text, px: size };
  }
  let cut = text;
  while (cut.length > 0 && measure(`${cut}…`, font(minPx, bold)) > maxWidth) cut = cut.slice(0, -1);
  return { text: cut.length ? `${cut}…` : "", px: minPx };
}

/** Draws `text` centred on x with its top at y. */
export function textCentered(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, fontCss: string, color = INK): void {
  ctx.font = fontCss;
  ctx.fillStyle = color;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText(text, x, y);
}

/** Height of the title band at the top of a figure. */
export const TITLE_HEIGHT = 24;

/** Draws a figure title, bold, centred in the top band of a canvas `width` wide. */
export function drawTitle(ctx: CanvasRenderingContext2D, title: string, width: number): void {
  const fitted = fitText(title, width - 8, 14, 9, true);
  textCentered(ctx, fitted.text, width / 2, (TITLE_HEIGHT - fitted.px) / 2, font(fitted.px, true));
}

/** PNG bytes of a canvas. */
export function encodePng(canvas: Canvas): Uint8Array {
  return canvas.toBuffer("image/png");
}

/** PNG bytes of a raster. */
export function rasterToPng(raster: Raster): Uint8Array {
  const { canvas, ctx } = newCanvas(raster.width, raster.height);
  blit(ctx, raster, 0, 0);
  return encodePng(canvas);
}
