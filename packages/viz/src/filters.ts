/**
 * filters: the learned kernels of a Conv2D layer as a grid of small images,
 * blue for negative weights, white for 0, red for positive.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { Figure } from "./figure";
import { autoScale, defaultCols, drawGrid, Tile } from "./grid";
import { checkFinite, ImageArray, isImageLike, label, Pixels } from "./image_source";
import { checkColormap, checkInt, checkOptions, checkRange, checkText, Colormap, ValueRange } from "./options";
import { rasterize, resolveRange } from "./to_png";

/** Options of {@link filters}. */
export interface FiltersArgs {
  /**
   * Which input channel each tile shows: a channel index, `"mean"` (the mean over input
   * channels) or `"rgb"` (the 3 input channels as colours; only when cin = 3).
   * Default: `"rgb"` when cin = 3, else 0.
   */
  inputChannel?: number | "mean" | "rgb";
  /**
   * Value range: `"shared"` (default: one range for all tiles, -m..m with m the largest |weight|
   * for `bwr`, min..max otherwise, so tiles compare), `"auto"` (each tile its own), or [lo, hi].
   */
  range?: ValueRange | "shared";
  /** Colormap of single-channel tiles: `"bwr"` (default), `"gray"`, `"viridis"`. */
  colormap?: Colormap;
  /** Integer enlargement 1..64; `"auto"` (default): tiles near 40 px (3x3 → 39x39). */
  scale?: number | "auto";
  /** Columns; default a near-square grid. */
  cols?: number;
  /** Draw each filter's index under it. Default true. */
  captions?: boolean;
  /** Most filters shown (the first ones); default 64. The title says when some are left out. */
  maxFilters?: number;
  /** Drawn above the grid; default for a layer: "conv2d_1: 32 filters 3x3". */
  title?: string;
  /** Text form description. */
  alt?: string;
}

const KEYS = ["inputChannel", "range", "colormap", "scale", "cols", "captions", "maxFilters", "title", "alt"] as const;

/** Tile side filters() aims at with scale "auto". */
export const FILTER_TARGET = 40;

interface Kernel {
  data: ArrayLike<number>;
  shape: [number, number, number, number];
  label: string;
  layerName?: string;
}

function readKernel(value: unknown): Kernel {
  const expected = "Expected a Conv2D kernel [kh,kw,cin,cout] (tensor or {data, shape} array) or a Conv2D layer";
  if (value instanceof tf.layers.Layer) {
    const what = `layer ${JSON.stringify(value.name)} (${value.getClassName()})`;
    if (value.weights.length === 0) {
      throw fail(`filters: invalid kernel. ${expected} with weights: build the model first (inputShape on its first layer). Received: kernel=${what} with no weights.`);
    }
    const weight = value.weights.find((w) => /kernel$/.test(w.originalName) && w.shape.length === 4) ?? value.weights.find((w) => w.shape.length === 4);
    if (!weight) {
      throw fail(`filters: invalid kernel. ${expected}. Received: kernel=${what} with weights ${value.weights.map((w) => `[${w.shape.join(",")}]`).join(", ")}.`);
    }
    const tensor = weight.read();
    return { data: tensor.dataSync() as ArrayLike<number>, shape: tensor.shape as Kernel["shape"], label: what, layerName: value.name };
  }
  if (!isImageLike(value) || value.shape.length !== 4 || value.shape.some((d) => d === 0)) {
    throw fail(`filters: invalid kernel. ${expected}. Received: kernel=${label(value)}.`);
  }
  if (!(value instanceof tf.Tensor)) {
    const size = value.shape.reduce((a, b) => a * b, 1);
    if (value.data.length !== size) throw fail(`filters: invalid kernel. Expected data of ${size} values for shape [${value.shape.join(",")}]. Received: data=${show(value.data)}.`);
  }
  const data = value instanceof tf.Tensor ? (value.dataSync() as ArrayLike<number>) : (value as ImageArray).data;
  return { data, shape: [...value.shape] as Kernel["shape"], label: label(value) };
}

/**
 * The filters of a convolution as a {@link Figure}: one small image per output channel.
 *
 * Input: a kernel of shape [kh, kw, cin, cout] (a tensor, e.g. `layer.getWeights()[0]`, or a
 * `{data, shape}` array) or the Conv2D layer itself. Tile o shows `kernel[:, :, c, o]` for the
 * chosen input channel c (or their mean, or the 3 channels as RGB). Signed weights use the
 * diverging `bwr` colormap with a range symmetric around 0: 0 is white.
 *
 * @throws ConvlabError for a kernel that is not rank 4, a layer without a 4-D kernel or not
 *   built yet, an input channel out of range, `"rgb"` when cin ≠ 3, NaN weights, an unknown option.
 * @example
 * filters(model.getLayer("conv2d_Conv2D1"))     // 32 tiles of 3x3, blue-white-red
 *
 * Keras counterpart: the "visualizing convnet filters" loop over `layer.get_weights()[0][:, :, c, i]`
 * with `plt.imshow(f, cmap="gray")` (Keras rescales min..max; here 0 stays white).
 */
export function filters(kernel: tf.Tensor | ImageArray | tf.layers.Layer, options?: FiltersArgs): Figure {
  const unit = "filters";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const range = args.range === undefined ? "shared" : checkRange(unit, args.range, ["shared"]);
  const colormap = args.colormap === undefined ? "bwr" : checkColormap(unit, args.colormap);
  const scaleArg = args.scale === undefined || args.scale === "auto" ? undefined : checkInt(unit, "scale", args.scale, 1, 64);
  const maxFilters = args.maxFilters === undefined ? 64 : checkInt(unit, "maxFilters", args.maxFilters, 1, 1024);
  const cols = args.cols === undefined ? undefined : checkInt(unit, "cols", args.cols, 1, 1000);
  if (args.captions !== undefined && typeof args.captions !== "boolean") {
    throw fail(`${unit}: invalid captions. Expected true or false. Received: captions=${show(args.captions)}.`);
  }
  const k = readKernel(kernel);
  const [kh, kw, cin, cout] = k.shape;
  const channel = args.inputChannel ?? (cin === 3 ? "rgb" : 0);
  if (channel === "rgb" && cin !== 3) {
    throw fail(`${unit}: invalid inputChannel. Expected "rgb" only for a kernel with 3 input channels, else an index in [0, ${cin - 1}] or "mean". Received: inputChannel="rgb" for cin=${cin}.`);
  }
  if (channel !== "rgb" && channel !== "mean" && (typeof channel !== "number" || !Number.isInteger(channel) || channel < 0 || channel >= cin)) {
    throw fail(`${unit}: invalid inputChannel. Expected an index in [0, ${cin - 1}], "mean"${cin === 3 ? ' or "rgb"' : ""}. Received: inputChannel=${show(channel)}.`);
  }
  if (channel === "rgb" && args.colormap !== undefined) {
    throw fail(`${unit}: invalid colormap. Expected no colormap with inputChannel "rgb": the tiles are coloured by their 3 channels. Received: colormap=${JSON.stringify(colormap)}.`);
  }
  const whole: Pixels = { data: k.data, offset: 0, height: kh * kw * cin * cout, width: 1, channels: 1, defaultRange: [0, 1], label: k.label };
  checkFinite(unit, "kernel", whole);

  const shown = Math.min(cout, maxFilters);
  const channels = channel === "rgb" ? 3 : 1;
  const tiles: Pixels[] = [];
  for (let o = 0; o < shown; o++) {
    const values = new Float32Array(kh * kw * channels);
    for (let p = 0; p < kh * kw; p++) {
      const base = p * cin * cout + o; // index of kernel[i, j, 0, o], p = i·kw + j
      if (channel === "rgb") for (let c = 0; c < 3; c++) values[p * 3 + c] = k.data[base + c * cout];
      else if (channel === "mean") {
        let sum = 0;
        for (let c = 0; c < cin; c++) sum += k.data[base + c * cout];
        values[p] = sum / cin;
      } else values[p] = k.data[base + channel * cout];
    }
    tiles.push({ data: values, offset: 0, height: kh, width: kw, channels, defaultRange: [0, 1], label: `filter ${o}` });
  }
  const shared = range === "shared" ? sharedRange(tiles, channels === 1 ? colormap : "gray") : undefined;
  const scale = scaleArg ?? autoScale(Math.max(kh, kw), FILTER_TARGET);
  const drawn: Tile[] = tiles.map((px, o) => {
    const [lo, hi] = shared ?? resolveRange(px, range as ValueRange, colormap);
    return { raster: rasterize(px, lo, hi, channels === 1 ? colormap : "gray", scale), caption: args.captions === false ? undefined : String(o) };
  });
  const what = channel === "rgb" ? "" : cin === 1 ? "" : channel === "mean" ? `, mean of ${cin} input channels` : `, input channel ${channel}`;
  const base = title ?? (k.layerName ? `${k.layerName}: ${cout} filters ${kh}x${kw}${what}` : undefined);
  const cut = shown < cout ? `first ${shown} of ${cout} filters` : undefined;
  const fullTitle = base && cut ? `${base} (${cut})` : base ?? cut;
  const grid = drawGrid(unit, drawn, cols ?? defaultCols(shown), fullTitle);
  return new Figure(grid.png, { title: fullTitle, alt: alt ?? `${shown} filters ${kh}x${kw}${what}` });
}

/** One range for all tiles: symmetric around 0 for a diverging colormap. */
function sharedRange(tiles: Pixels[], colormap: Colormap): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of tiles) {
    const [a, b] = resolveRange(t, "auto", colormap);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return [lo, hi];
}
