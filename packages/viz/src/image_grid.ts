/**
 * imageGrid: a batch of images side by side with a caption under each, such
 * as "pred 7 / true 7" in red when the prediction is wrong.
 */
import { fail, show } from "@convlab/engine";
import { Figure } from "./figure";
import { autoScale, defaultCols, drawGrid, Tile } from "./grid";
import { checkFinite, ImageLike, readBatch } from "./image_source";
import { checkInt, checkOptions, checkText, Colormap, ValueRange } from "./options";
import { checkRenderArgs, rasterize, resolveRange } from "./to_png";

/** Options of {@link imageGrid}. */
export interface ImageGridArgs {
  /** One caption per shown image (after `count`/`indices`), drawn under it. */
  captions?: readonly string[];
  /** Caption colours (CSS: "red", "#d62728"): one for all, or one per image. Default dark grey. */
  captionColors?: string | readonly string[];
  /** Columns; default a near-square grid (6 images: 3, 16: 4). */
  cols?: number;
  /** Integer enlargement 1..64; `"auto"` (default): tiles near 112 px (28x28 → 112x112). */
  scale?: number | "auto";
  /** Value range of every tile; `"auto"` rescales each image by its own min..max. See {@link toPng}. */
  range?: ValueRange;
  /** Colormap of single-channel images: `"gray"` (default), `"viridis"`, `"bwr"`. */
  colormap?: Colormap;
  /** Show only the first `count` images of the batch. */
  count?: number;
  /** Show these images of the batch, in this order (e.g. the misclassified ones). */
  indices?: readonly number[];
  /** Drawn above the grid. */
  title?: string;
  /** Text form description; default "N images in C columns". */
  alt?: string;
}

const KEYS = ["captions", "captionColors", "cols", "scale", "range", "colormap", "count", "indices", "title", "alt"] as const;

/** Most images one grid shows; pick fewer with `count` or `indices`. */
export const MAX_GRID_IMAGES = 400;

/** Tile side an imageGrid aims at with scale "auto". */
export const GRID_TARGET = 112;

/**
 * Several images in a grid, each with an optional caption, as a {@link Figure}.
 *
 * Input: a batch tensor or `{data, shape}` array [N,H,W] (grey) or [N,H,W,C] (C = 1, 3, 4), or
 * an array of single images (tensors or arrays, sizes may differ). Values as in {@link toPng}.
 * Layout: tiles left to right, top to bottom, 6 px apart, each centred in a cell as large as
 * the largest tile, a 16 px caption line under each row when captions are given.
 *
 * @throws ConvlabError for bad shapes, NaN values, captions or colours whose count differs from
 *   the images shown, more than 400 images, an unknown option.
 * @example
 * const wrong = preds.map((p, i) => (p === labels[i] ? "black" : "red"));
 * imageGrid(xTest, { count: 16, captions: preds.slice(0, 16).map((p, i) => `pred ${p} / true ${labels[i]}`), captionColors: wrong.slice(0, 16) })
 *
 * matplotlib counterpart: a `plt.subplot(rows, cols, i)` loop of `imshow` + `title` (the
 * course's `plt.subplot(230 + 1 + i)` augmentation grid).
 */
export function imageGrid(images: ImageLike | readonly ImageLike[], options?: ImageGridArgs): Figure {
  const unit = "imageGrid";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const auto = args.scale === undefined || args.scale === "auto";
  const spec = checkRenderArgs(unit, { ...args, scale: auto ? undefined : args.scale }, { colormap: "gray", scale: 1 });
  const count = args.count === undefined ? undefined : checkInt(unit, "count", args.count, 1, Number.MAX_SAFE_INTEGER);
  if (args.indices !== undefined && !Array.isArray(args.indices)) {
    throw fail(`${unit}: invalid indices. Expected an array of image positions such as [0, 5, 9]. Received: indices=${show(args.indices)}.`);
  }
  if (count !== undefined && args.indices !== undefined) {
    throw fail(`${unit}: invalid options. Expected \`count\` or \`indices\`, not both. Received: count=${count}, indices=${show(args.indices)}.`);
  }
  const pixels = readBatch(unit, "images", images, { count, indices: args.indices }, MAX_GRID_IMAGES);
  const n = pixels.length;
  const captions = checkStrings(unit, "captions", args.captions, n, false);
  const colors = checkStrings(unit, "captionColors", args.captionColors, n, true);
  const cols = args.cols === undefined ? defaultCols(n) : checkInt(unit, "cols", args.cols, 1, 1000);
  if (args.colormap !== undefined && spec.colormap !== "gray") {
    const coloured = pixels.findIndex((p) => p.channels !== 1);
    if (coloured >= 0) {
      throw fail(`${unit}: invalid colormap. Expected "gray" (or no colormap) for images with ${pixels[coloured].channels} channels: colormaps apply to single-channel images. Received: colormap=${JSON.stringify(spec.colormap)}.`);
    }
  }
  pixels.forEach((px, i) => checkFinite(unit, `images[${args.indices?.[i] ?? i}]`, px));
  const scale = auto ? autoScale(Math.max(...pixels.map((p) => Math.max(p.height, p.width))), GRID_TARGET) : spec.scale;
  const tiles: Tile[] = pixels.map((px, i) => {
    const [lo, hi] = resolveRange(px, spec.range, spec.colormap);
    return { raster: rasterize(px, lo, hi, spec.colormap, scale), caption: captions?.[i], captionColor: colors?.[i] };
  });
  const grid = drawGrid(unit, tiles, cols, title);
  return new Figure(grid.png, { title, alt: alt ?? `${n} image${n > 1 ? "s" : ""} in ${Math.min(cols, n)} column${Math.min(cols, n) > 1 ? "s" : ""}` });
}

function checkStrings(unit: string, what: string, value: unknown, n: number, single: boolean): string[] | undefined {
  if (value === undefined) return undefined;
  if (single && typeof value === "string") return Array.from({ length: n }, () => value);
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw fail(`${unit}: invalid ${what}. Expected ${single ? "a string or " : ""}an array of ${n} strings. Received: ${what}=${show(value)}.`);
  }
  if (value.length !== n) {
    throw fail(`${unit}: invalid ${what}. Expected one per image shown (${n}). Received: ${value.length} ${what}.`);
  }
  return value as string[];
}
