/**
 * toPng: one image (tensor or plain array) to PNG bytes, with value
 * rescaling, a colormap for single-channel images and nearest-neighbour
 * enlargement.
 */
import { fail } from "@convlab/engine";
import { colorize, isDiverging } from "./colormap";
import { Raster, rasterToPng } from "./draw";
import { autoScale } from "./grid";
import { checkFinite, ImageLike, Pixels, readImage } from "./image_source";
import { checkColormap, checkFigureSize, checkInt, checkOptions, checkRange, Colormap, ValueRange } from "./options";

/** Options of {@link toPng}. */
export interface ToPngArgs {
  /**
   * Values mapped to the ends of the colormap (or to 0 and 255 per RGB channel); values
   * outside are clipped. `"auto"`: the image's own min..max (for `bwr`: -m..m with m the
   * largest |value|, so 0 stays white). Default: 0..1 for float data, 0..255 for integer
   * data; `"auto"` with `bwr`.
   */
  range?: ValueRange;
  /** Colormap of single-channel images: `"gray"` (default), `"viridis"`, `"bwr"`. */
  colormap?: Colormap;
  /** Integer enlargement, nearest neighbour (each value becomes a scale x scale block): 1..64, default 1. */
  scale?: number;
}

const KEYS = ["range", "colormap", "scale"] as const;

/** Resolved rendering options of one image. @internal */
export interface RenderSpec {
  range: ValueRange | undefined;
  colormap: Colormap;
  scale: number;
}

/** Validates the options shared by the image functions (range, colormap, scale). @internal */
export function checkRenderArgs(unit: string, args: { range?: unknown; colormap?: unknown; scale?: unknown }, defaults: { colormap: Colormap; scale: number }): RenderSpec {
  return {
    range: args.range === undefined ? undefined : (checkRange(unit, args.range) as ValueRange),
    colormap: args.colormap === undefined ? defaults.colormap : checkColormap(unit, args.colormap),
    scale: args.scale === undefined ? defaults.scale : checkInt(unit, "scale", args.scale, 1, 64),
  };
}

/**
 * The [lo, hi] that maps onto the colormap for this image: the given pair,
 * the data's min..max (`"auto"`; symmetric for diverging maps), or the dtype's default.
 * lo may equal hi (a constant image). @internal
 */
export function resolveRange(px: Pixels, range: ValueRange | undefined, colormap: Colormap): [number, number] {
  const auto = range === "auto" || (range === undefined && px.channels === 1 && isDiverging(colormap));
  if (!auto) return typeof range === "object" ? [range[0], range[1]] : px.defaultRange;
  let lo = Infinity;
  let hi = -Infinity;
  const end = px.offset + px.height * px.width * px.channels;
  for (let i = px.offset; i < end; i++) {
    const v = px.data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (px.channels === 1 && isDiverging(colormap)) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [-m, m];
  }
  return [lo, hi];
}

/**
 * RGBA pixels of one image: values rescaled by `range` (t = (v - lo) / (hi - lo),
 * clipped to [0, 1]), coloured by `colormap` when single-channel, each value
 * repeated into a scale x scale block. A constant image (lo = hi) maps to t = 0,
 * or to the middle of a diverging colormap. @internal
 */
export function rasterize(px: Pixels, lo: number, hi: number, colormap: Colormap, scale: number): Raster {
  const { width, height, channels, data, offset } = px;
  const constant = hi === lo;
  const mid = isDiverging(colormap) ? 0.5 : 0;
  const span = hi - lo;
  const norm = (v: number) => (constant ? mid : (v - lo) / span);
  // colour each source pixel once, then repeat it into blocks
  const base = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const src = offset + p * channels;
    const dst = p * 4;
    if (channels === 1) {
      colorize(norm(data[src]), colormap, base, dst);
      base[dst + 3] = 255;
    } else {
      for (let c = 0; c < channels; c++) base[dst + c] = Math.round(255 * Math.min(1, Math.max(0, norm(data[src + c]))));
      if (channels === 3) base[dst + 3] = 255;
    }
  }
  if (scale === 1) return { width, height, rgba: base };
  const outW = width * scale;
  const rgba = new Uint8ClampedArray(outW * height * scale * 4);
  const pixels = new Uint32Array(base.buffer);
  const out = new Uint32Array(rgba.buffer);
  for (let y = 0; y < height; y++) {
    const row = y * scale * outW;
    for (let x = 0; x < width; x++) out.fill(pixels[y * width + x], row + x * scale, row + (x + 1) * scale);
    for (let r = 1; r < scale; r++) out.copyWithin(row + r * outW, row, row + outW);
  }
  return { width: outW, height: height * scale, rgba };
}

/** Validation and rasterization of one image, shared by toPng and image(). @internal */
export function renderImage(unit: string, what: string, image: unknown, spec: RenderSpec, colormapGiven: boolean, autoTarget?: number): Raster {
  const px = readImage(unit, what, image);
  if (autoTarget !== undefined) spec.scale = autoScale(Math.max(px.height, px.width), autoTarget);
  if (colormapGiven && px.channels !== 1 && spec.colormap !== "gray") {
    throw fail(`${unit}: invalid colormap. Expected "gray" (or no colormap) for an image with ${px.channels} channels: colormaps apply to single-channel images. Received: colormap=${JSON.stringify(spec.colormap)}.`);
  }
  checkFinite(unit, what, px);
  checkFigureSize(unit, px.width * spec.scale, px.height * spec.scale, "Use a smaller scale.");
  const [lo, hi] = resolveRange(px, spec.range, spec.colormap);
  return rasterize(px, lo, hi, spec.colormap, spec.scale);
}

/**
 * PNG bytes of one image.
 *
 * Input: a tf.Tensor or a `{data, shape}` array (the datasets package's `Uint8Tensor`) of shape
 * [H,W], [H,W,1], [H,W,3], [H,W,4] or the same with a batch of 1. Output: an 8-bit RGBA PNG of
 * (W·scale) x (H·scale) pixels. Single-channel values become colours through `colormap`:
 * grey level round(255·t) with t = (v - lo) / (hi - lo) clipped to [0, 1]. RGB(A) channels are
 * rescaled the same way, channel by channel, with one range for the whole image.
 *
 * @param image the image; not disposed.
 * @param options `range` (default 0..1 float, 0..255 integer, `"auto"` = min..max), `colormap`
 *   (`"gray"`, `"viridis"`, `"bwr"`), `scale` (1..64, default 1).
 * @throws ConvlabError for other shapes (rank 5, 2 channels, a batch of several), NaN or
 *   infinite values (saying how many), a bad range, scale or colormap, an unknown option.
 *
 * @example
 * import * as fs from "fs";
 * fs.writeFileSync("digit.png", toPng(xTrain.slice(0, 1), { scale: 4 }));   // 112x112, crisp
 *
 * Keras counterpart: `keras.utils.save_img` / `array_to_img` (which rescale by min..max by
 * default, like `range: "auto"`); matplotlib: `plt.imsave(..., cmap=, vmin=, vmax=)`.
 */
export function toPng(image: ImageLike, options?: ToPngArgs): Uint8Array {
  const args = checkOptions("toPng", options, KEYS);
  const spec = checkRenderArgs("toPng", args, { colormap: "gray", scale: 1 });
  return rasterToPng(renderImage("toPng", "image", image, spec, args.colormap !== undefined));
}
