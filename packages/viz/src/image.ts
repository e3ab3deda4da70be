/**
 * image: one tensor or array as a Figure, enlarged so that a 28x28 digit is
 * big enough to look at.
 */
import { Figure } from "./figure";
import { checkOptions, checkText, Colormap, ValueRange } from "./options";
import { drawGrid } from "./grid";
import { rasterToPng } from "./draw";
import type { ImageLike } from "./image_source";
import { checkRenderArgs, renderImage } from "./to_png";

/** Options of {@link image}. */
export interface ImageArgs {
  /** Value range; see {@link ToPngArgs.range}. Default 0..1 float, 0..255 integer. */
  range?: ValueRange;
  /** Colormap of a single-channel image: `"gray"` (default), `"viridis"`, `"bwr"`. */
  colormap?: Colormap;
  /** Integer enlargement 1..64, nearest neighbour; `"auto"` (default): the largest that keeps the longer side ≤ 280 px (28x28 → 280x280). */
  scale?: number | "auto";
  /** Drawn above the image. */
  title?: string;
  /** Text form description; default "H x W image" with its channels. */
  alt?: string;
}

const KEYS = ["range", "colormap", "scale", "title", "alt"] as const;

/** Longer side of an image() figure at scale "auto". */
export const IMAGE_TARGET = 280;

/**
 * One image as a {@link Figure}.
 *
 * Input: a tensor or `{data, shape}` array of shape [H,W], [H,W,C] or [1,H,W,C] (C = 1, 3, 4);
 * values as in {@link toPng}. Output: a figure of (W·scale) x (H·scale) pixels, plus a 24 px
 * title band when `title` is given.
 *
 * @throws ConvlabError as {@link toPng} does, and for a non-string title or an unknown option.
 * @example
 * image(xTrain.slice(0, 1), { title: `label ${yTrain[0]}` })   // last value of a cell: shown
 *
 * matplotlib counterpart: `plt.imshow(x, cmap="gray"); plt.title(...)`.
 */
export function image(x: ImageLike, options?: ImageArgs): Figure {
  const args = checkOptions("image", options, KEYS);
  const title = checkText("image", "title", args.title);
  const alt = checkText("image", "alt", args.alt);
  const auto = args.scale === undefined || args.scale === "auto";
  const spec = checkRenderArgs("image", { ...args, scale: auto ? undefined : args.scale }, { colormap: "gray", scale: 1 });
  const raster = renderImage("image", "image", x, spec, args.colormap !== undefined, auto ? IMAGE_TARGET : undefined);
  const description = alt ?? `${raster.height / spec.scale}x${raster.width / spec.scale} image`;
  if (!title) return new Figure(rasterToPng(raster), { alt: description });
  const grid = drawGrid("image", [{ raster }], 1, title);
  return new Figure(grid.png, { title, alt: description });
}
