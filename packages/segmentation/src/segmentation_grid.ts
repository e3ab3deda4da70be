/**
 * `segmentationGrid(images, { truth, predicted })`: images beside their true masks and the masks
 * one or more models predicted, one row per image, each mask in its class colours.
 */
import * as tf from "@tensorflow/tfjs";
import type { Palette } from "@convlab/datasets";
import { expectBoolean, expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { colorizeMask, imageGrid, overlayMask } from "@convlab/viz";
import type { Figure, ImageArray } from "@convlab/viz";
import { readShaped } from "./masks";
import { MeanIoU } from "./metrics";

/** A batch of masks or images: a tensor or a `{data, shape}` array such as datasets' `Uint8Tensor`. */
type Batch = tf.Tensor | { data: ArrayLike<number>; shape: readonly number[] };

/** Options of {@link segmentationGrid}. */
export interface SegmentationGridArgs {
  /** The true class masks `[N, H, W]` (or `[N, H, W, 1]`). Required. */
  truth: Batch;
  /** Predicted class masks by model name (`{ "U-Net": masks }`), each `[N, H, W]`: one column each. Default none. */
  predicted?: Record<string, Batch>;
  /** Show only the first `count` images. Default 4. */
  count?: number;
  /** Show these images, in this order, instead of the first `count`. */
  indices?: readonly number[];
  /** With `numClasses`, every predicted tile's caption gives that image's mean IoU (classes present in its truth or prediction). */
  numClasses?: number;
  /** Draw each mask over its image (`alpha` 0.5) instead of alone. Default false. */
  overlay?: boolean;
  /** Class colours, colour `k` for id `k`. Default VOC's palette (@convlab/datasets' `vocPalette()`). */
  palette?: Palette;
  /** Captions of the image and truth columns. Default `["image", "truth"]`. */
  columnNames?: readonly [string, string];
  /** Integer enlargement of every tile, or `"auto"` (default, tiles near 112 px). */
  scale?: number | "auto";
  /** Drawn above the grid. */
  title?: string;
}

const UNIT = "segmentationGrid";
const KEYS = ["truth", "predicted", "count", "indices", "numClasses", "overlay", "palette", "columnNames", "scale", "title"] as const;

/**
 * One row per image: the image, its true mask, then each model's predicted mask, in the class
 * colours of `palette` (class 0, background, black in VOC's), as a {@link Figure}. Pass
 * `numClasses` to caption each prediction with that image's mean IoU.
 *
 * @param images `[N, H, W, 3]` (or 1 channel) images, float in [0, 1] or 0–255 integers.
 * @throws ConvlabError for masks of another size or number than the images, an index out of range,
 *   or an unknown option.
 * @example
 * ```ts
 * segmentationGrid(xTest, { truth: masksTest, predicted: { "U-Net": predictMasks(unet, xTest) }, numClasses: 4, count: 3 })
 * ```
 * Keras counterpart: none; the matplotlib `subplot` rows of image, mask and prediction that Keras's
 * segmentation examples draw.
 */
export function segmentationGrid(images: Batch, options: SegmentationGridArgs): Figure {
  const args = expectOptions(UNIT, options, KEYS, "{ truth: masks, predicted: { \"U-Net\": predicted } }");
  if (args.truth === undefined) throw fail(`${UNIT}: missing truth. Expected the true masks [N, H, W] of the images. Received: options without truth.`);
  const overlay = expectBoolean(UNIT, "overlay", args.overlay ?? false);
  const [n, h, w] = images.shape as number[];
  const predicted = Object.entries(args.predicted ?? {});
  const columns: [string, Batch][] = [["truth", args.truth], ...predicted];
  for (const [name, masks] of columns) {
    const s = masks.shape;
    if (!(s.length === 3 || (s.length === 4 && s[3] === 1)) || s[0] !== n || s[1] !== h || s[2] !== w) {
      const what = name === "truth" ? "truth" : `predicted["${name}"]`;
      throw fail(`${UNIT}: invalid ${what}. Expected ${n} masks of the images' size, shape [${n},${h},${w}]. Received: ${what} of shape [${s.join(",")}].`);
    }
  }
  const indices = pickIndices(args, n);
  const numClasses = args.numClasses === undefined ? undefined : expectNumber(UNIT, "numClasses", args.numClasses, { integer: true, min: 1 });

  const imageValues = imagePixels(images);
  const imageSize = imageValues.length / n;
  const channels = imageSize / (h * w);
  const maskValues = columns.map(([name, masks]) => Float32Array.from(readShaped(UNIT, name, masks).values()));
  const tiles: ImageArray[] = [];
  const captions: string[] = [];
  const [imageName, truthName] = args.columnNames ?? ["image", "truth"];
  for (const i of indices) {
    const image = sliceImage(imageValues, i, imageSize, [h, w, channels]);
    tiles.push(image);
    captions.push(`${imageName} ${i}`);
    columns.forEach(([name], c) => {
      const mask = { data: Uint8Array.from(maskValues[c].subarray(i * h * w, (i + 1) * h * w)), shape: [h, w] };
      tiles.push(overlay ? overlayMask(image, mask, { palette: args.palette }) : colorizeMask(mask, { palette: args.palette }));
      if (c === 0) captions.push(truthName);
      else if (numClasses === undefined) captions.push(name);
      else {
        const metric = new MeanIoU({ numClasses });
        metric.updateState({ data: maskValues[0].subarray(i * h * w, (i + 1) * h * w), shape: [1, h, w] }, { data: mask.data, shape: [1, h, w] });
        captions.push(`${name} · IoU ${metric.result().toFixed(2)}`);
      }
    });
  }
  const shown = captions.filter((_, k) => k % (columns.length + 1) > 1);
  const alt = `${indices.length} image${indices.length === 1 ? "" : "s"} with the true mask${predicted.length ? ` and ${predicted.map(([name]) => name).join(", ")}: ${shown.join("; ")}` : ""}`;
  return imageGrid(tiles, { cols: columns.length + 1, captions, scale: args.scale, title: args.title, alt });
}

function pickIndices(args: SegmentationGridArgs, n: number): number[] {
  if (args.indices !== undefined) {
    if (!Array.isArray(args.indices) || args.indices.length === 0 || !args.indices.every((i) => Number.isInteger(i) && i >= 0 && i < n)) {
      throw fail(`${UNIT}: invalid indices. Expected positions of the ${n} images, integers in [0, ${n}). Received: indices=${show(args.indices)}.`);
    }
    return [...args.indices];
  }
  const count = expectNumber(UNIT, "count", args.count ?? 4, { integer: true, min: 1 });
  return Array.from({ length: Math.min(count, n) }, (_, i) => i);
}

/** The images' values: float32 stays float ([0, 1]), anything else becomes bytes (0–255), as viz reads them. */
function imagePixels(batch: Batch): Float32Array | Uint8Array {
  const data = readShaped(UNIT, "images", batch).values();
  if (data instanceof Float32Array || data instanceof Uint8Array) return data;
  return batch instanceof tf.Tensor && batch.dtype === "float32" ? Float32Array.from(data) : Uint8Array.from(data);
}

/** Image `i` of a flat batch as an `{data, shape}` array. */
function sliceImage(all: Float32Array | Uint8Array, i: number, size: number, shape: number[]): ImageArray {
  return { data: all.subarray(i * size, (i + 1) * size), shape };
}
