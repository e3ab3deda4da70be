/**
 * featureMaps: every channel of a layer's activation as its own small image,
 * each rescaled by its own min..max so weak and strong maps are both visible.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { Figure } from "./figure";
import { autoScale, defaultCols, drawGrid, Tile } from "./grid";
import { checkFinite, ImageArray, isImageLike, label, Pixels } from "./image_source";
import type { LayerOutput } from "./layer_outputs";
import { checkColormap, checkInt, checkOptions, checkRange, checkText, Colormap, ValueRange } from "./options";
import { rasterize, resolveRange } from "./to_png";

/** Options of {@link featureMaps}. */
export interface FeatureMapsArgs {
  /** Columns; default a near-square grid. */
  cols?: number;
  /** Most maps shown (the first channels); default 64. The title says when some are left out. */
  maxMaps?: number;
  /** Integer enlargement 1..64; `"auto"` (default): tiles near 72 px (26x26 → 52, 13x13 → 65). */
  scale?: number | "auto";
  /** Colormap: `"viridis"` (default, as the Keras recipe), `"gray"`, `"bwr"`. */
  colormap?: Colormap;
  /** `"auto"` (default): each map its own min..max; or one [lo, hi] for all. */
  range?: ValueRange;
  /** Draw each channel's index under its map. Default true. */
  captions?: boolean;
  /** Drawn above the grid; default for a {@link LayerOutput}: "conv2d_1: 32 maps 26x26". */
  title?: string;
  /** Text form description. */
  alt?: string;
}

const KEYS = ["cols", "maxMaps", "scale", "colormap", "range", "captions", "title", "alt"] as const;

/** Tile side featureMaps() aims at with scale "auto". */
export const MAP_TARGET = 72;

/**
 * The channels of an activation as a grid of single-channel images, as a {@link Figure}.
 *
 * Input: an activation [1, H, W, C] or [H, W, C] (a tensor or `{data, shape}` array), or a
 * {@link LayerOutput} from {@link layerOutputs} (its name becomes the title). Tile c shows
 * `activation[0, :, :, c]`; with range "auto" each tile maps its own min..max onto the colormap
 * (a constant map, e.g. a dead ReLU, shows as the colormap's low end).
 *
 * @throws ConvlabError for other shapes (e.g. a Dense output [1, 64]), a batch larger than 1,
 *   NaN values (saying how many), an unknown option.
 * @example
 * const [conv1] = layerOutputs(model, xTest.slice(0, 1), ["conv2d_Conv2D1"]);
 * featureMaps(conv1, { cols: 8 })
 *
 * Keras counterpart: the "visualizing intermediate activations" loop of
 * `plt.matshow(activation[0, :, :, i], cmap="viridis")`.
 */
export function featureMaps(activations: tf.Tensor | ImageArray | LayerOutput, options?: FeatureMapsArgs): Figure {
  const unit = "featureMaps";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const colormap: Colormap = args.colormap === undefined ? "viridis" : checkColormap(unit, args.colormap);
  const range = args.range === undefined ? "auto" : (checkRange(unit, args.range) as ValueRange);
  const scaleArg = args.scale === undefined || args.scale === "auto" ? undefined : checkInt(unit, "scale", args.scale, 1, 64);
  const maxMaps = args.maxMaps === undefined ? 64 : checkInt(unit, "maxMaps", args.maxMaps, 1, 1024);
  const cols = args.cols === undefined ? undefined : checkInt(unit, "cols", args.cols, 1, 1000);
  if (args.captions !== undefined && typeof args.captions !== "boolean") {
    throw fail(`${unit}: invalid captions. Expected true or false. Received: captions=${show(args.captions)}.`);
  }
  const layer = isLayerOutput(activations) ? activations : undefined;
  const value = layer ? layer.activation : activations;
  const expected = "Expected an activation of shape [1,H,W,C] or [H,W,C] (the output of a Conv2D or pooling layer)";
  if (!isImageLike(value)) throw fail(`${unit}: invalid activations. ${expected}. Received: activations=${label(value)}.`);
  const shape = value.shape;
  const hwc = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : shape.length === 3 ? shape : undefined;
  if (!hwc || hwc.some((d) => d === 0)) {
    const hint = shape.length === 4 ? " Pass one example, e.g. activation.slice(0, 1)." : "";
    throw fail(`${unit}: invalid activations. ${expected}.${hint} Received: activations=${label(value)}${layer ? ` from layer ${JSON.stringify(layer.name)}` : ""}.`);
  }
  const [h, w, c] = hwc;
  const data = value instanceof tf.Tensor ? (value.dataSync() as ArrayLike<number>) : value.data;
  if (data.length !== h * w * c) {
    throw fail(`${unit}: invalid activations. Expected data of ${h * w * c} values for shape [${shape.join(",")}]. Received: data=${show(data)}.`);
  }
  checkFinite(unit, "activations", { data, offset: 0, height: h, width: w, channels: c, defaultRange: [0, 1], label: label(value) });

  const shown = Math.min(c, maxMaps);
  const scale = scaleArg ?? autoScale(Math.max(h, w), MAP_TARGET);
  const tiles: Tile[] = [];
  for (let ch = 0; ch < shown; ch++) {
    const values = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) values[p] = data[p * c + ch];
    const px: Pixels = { data: values, offset: 0, height: h, width: w, channels: 1, defaultRange: [0, 1], label: `map ${ch}` };
    const [lo, hi] = resolveRange(px, range, colormap);
    tiles.push({ raster: rasterize(px, lo, hi, colormap, scale), caption: args.captions === false ? undefined : String(ch) });
  }
  const base = title ?? (layer ? `${layer.name}: ${c} maps ${h}x${w}` : undefined);
  const cut = shown < c ? `first ${shown} of ${c} maps` : undefined;
  const fullTitle = base && cut ? `${base} (${cut})` : base ?? cut;
  const grid = drawGrid(unit, tiles, cols ?? defaultCols(shown), fullTitle);
  return new Figure(grid.png, { title: fullTitle, alt: alt ?? `${shown} feature maps ${h}x${w}` });
}

function isLayerOutput(value: unknown): value is LayerOutput {
  return typeof value === "object" && value !== null && "activation" in value && typeof (value as LayerOutput).name === "string";
}
