/**
 * RoIAlign (Mask R-CNN's "region of interest align"): a fixed-size feature patch for each box,
 * by bilinear sampling of a feature map, with a gradient with respect to the feature map.
 *
 * Why not `tf.image.cropAndResize`: tfjs 4.22 registers no gradient for `CropAndResize`
 * (there is no file for it in `@tensorflow/tfjs-core/dist/gradients`), so a detector whose
 * second stage reads its features through it could not train its backbone from that stage.
 *
 * How: the box is cut into `outputSize` bins; each bin is the mean of `samplingRatio` ×
 * `samplingRatio` bilinear samples at regularly spaced points inside it. For one box everything
 * is linear in the feature map F, with weights that depend on the box only:
 *
 *   out[i, j, c] = Σ_y Σ_x Wy[i, y] · Wx[j, x] · F[y, x, c]
 *
 * (bilinear interpolation is separable, and so is the mean over a grid of samples). The weights
 * are computed in plain JavaScript from the box coordinates, the matrix `Wy ⊗ Wx` of each image's
 * boxes is built as a constant, and the pooling is one batched `tf.matMul` (one per image when the
 * images have different numbers of boxes): its gradient is another matmul, `Mᵀ · dy`. The boxes get no gradient (they are read as numbers), as in
 * torchvision's `roi_align`, whose backward pass also differentiates the input only.
 *
 * Coordinates (torchvision `aligned=True`, Detectron2's `ROIAlignV2`): a pixel box `[x1, x2)` on a
 * map whose cells are `s = imageWidth / mapWidth` pixels wide covers the continuous feature
 * coordinates `[x1 / s − 0.5, x2 / s − 0.5]`, where integer coordinates are cell centres (cell j
 * spans pixels [j·s, (j + 1)·s), centred at (j + 0.5)·s). Bin j of n spans
 *   [u1 + j·(u2 − u1)/n, u1 + (j + 1)·(u2 − u1)/n]
 * and its samples sit at u1 + (j + (k + 0.5)/r)·(u2 − u1)/n, k = 0 … r − 1. A sample with
 * coordinate in [−1, size] is clamped to [0, size − 1] (the border value extends half a cell
 * outwards); a sample further out contributes 0 but still counts in the mean, as in torchvision.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { BoxArray, BoxFormat, cornersOf, expectBoxFormat, expectImageShape, isRelativeFormat, readBoxRows, showBox } from "./boxes";

/** Options of {@link roiAlign}. */
export interface RoiAlignArgs {
  /** The boxes' format (required: box functions have no default format). */
  format: BoxFormat;
  /** `[height, width]` of the image the boxes are in (and the feature map was computed from). Required. */
  imageShape: readonly number[];
  /** Size of each output patch: `n` for n × n, or `[height, width]`. Positive integers, default 7. */
  outputSize?: number | readonly number[];
  /** Bilinear samples per bin along each side (r × r per bin), an integer ≥ 1. Default 2 (Mask R-CNN's 4 points per bin). */
  samplingRatio?: number;
}

const UNIT = "roiAlign";
const KEYS = ["format", "imageShape", "outputSize", "samplingRatio"] as const;

/**
 * Pools a `[outH, outW, channels]` patch of `featureMap` under every box, RoIAlign style (see the
 * module comment for the coordinates and formulas), differentiable with respect to `featureMap`.
 *
 * @param featureMap `[batch, mapH, mapW, channels]` float32: the features of `batch` images of
 *   `imageShape` (its cells are `imageH / mapH` by `imageW / mapW` pixels).
 * @param boxes one list of boxes per image, `boxes[b]` in image b (lists may differ in length and
 *   may be empty), or a `[batch, R, 4]` tensor (read, not disposed); in `format`.
 * @returns float32 `[ΣR_b, outH, outW, channels]`: the patches of image 0's boxes, then image 1's, …
 *   (torchvision's list-of-boxes order). Memory: a constant matrix of R_b·outH·outW × mapH·mapW
 *   floats per image (100,352 for 32 boxes, 7 × 7, on an 8 × 8 map).
 * @throws ConvlabError for a feature map that is not rank 4, a number of box lists other than the
 *   batch size, a box that is not 4 finite numbers or is inverted (x2 < x1 or y2 < y1), a bad
 *   format, image shape, output size or sampling ratio, an unknown option.
 * @example
 * ```ts
 * const patches = roiAlign(features, [[[8, 8, 40, 32]], []], { format: "xyxy", imageShape: [64, 64], outputSize: 7 });
 * patches.shape   // [1, 7, 7, 64]: one box in image 0, none in image 1
 * ```
 * Keras equivalent: none in Keras; KerasCV's Faster R-CNN pools with its internal `_ROIAligner`
 * (`multilevel_crop_and_resize`: the four neighbours gathered with bilinear weights, then a 2 × 2
 * average pool, i.e. samplingRatio 2; its samples are not shifted by half a cell, pixel / stride
 * where this uses pixel / stride − 0.5). torchvision: `torchvision.ops.roi_align(input, boxes,
 * output_size, spatial_scale, sampling_ratio, aligned=True)` (channels first there, channels last
 * here; `spatial_scale` is derived from `imageShape`).
 */
export function roiAlign(featureMap: tf.Tensor4D, boxes: ReadonlyArray<BoxArray> | tf.Tensor3D, args: RoiAlignArgs): tf.Tensor4D {
  const opts = expectOptions(UNIT, args, KEYS, '{ format: "xyxy", imageShape: [64, 64], outputSize: 7 }');
  const format = expectBoxFormat(UNIT, opts.format);
  if (opts.imageShape === undefined) throw fail(`${UNIT}: missing imageShape. Expected [height, width] of the images the boxes are in. Received: imageShape=undefined.`);
  const [imageH, imageW] = expectImageShape(UNIT, opts.imageShape);
  const [outH, outW] = expectOutputSize(opts.outputSize ?? 7);
  const ratio = expectNumber(UNIT, "samplingRatio", opts.samplingRatio ?? 2, { min: 1, integer: true });
  if (!(featureMap instanceof tf.Tensor) || featureMap.rank !== 4) {
    throw fail(`${UNIT}: invalid featureMap. Expected a tensor of shape [batch, height, width, channels]. Received: featureMap=${show(featureMap)}.`);
  }
  const [batch, mapH, mapW, channels] = featureMap.shape;
  const lists = readBoxLists(boxes, batch);
  const relative = isRelativeFormat(format);
  // Per image, the rows of pixel corners [x1, y1, x2, y2].
  const corners = lists.map((rows, b) =>
    rows.map((row, r) => {
      const c = cornersOf(row, format);
      const px = relative ? [c[0] * imageW, c[1] * imageH, c[2] * imageW, c[3] * imageH] : c;
      if (px[2] < px[0] || px[3] < px[1]) {
        throw fail(`${UNIT}: invalid boxes[${b}][${r}]. Expected x1 ≤ x2 and y1 ≤ y2 in format ${JSON.stringify(format)}. Received: boxes[${b}][${r}]=${showBox(row)}.`);
      }
      return px;
    }),
  );
  const [strideY, strideX] = [imageH / mapH, imageW / mapW];
  const bins = outH * outW;
  const cells = mapH * mapW;
  // Each box's block of the interpolation matrix: row (i, j) is the outer product Wy[i, :] ⊗ Wx[j, :], flattened as (y, x).
  const fill = (weights: Float32Array, offset: number, [x1, y1, x2, y2]: number[]) => {
    const wy = axisWeights(y1 / strideY - 0.5, y2 / strideY - 0.5, outH, ratio, mapH);
    const wx = axisWeights(x1 / strideX - 0.5, x2 / strideX - 0.5, outW, ratio, mapW);
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        const base = offset + (i * outW + j) * cells;
        for (let y = 0; y < mapH; y++) {
          const a = wy[i * mapH + y];
          if (a === 0) continue;
          for (let x = 0; x < mapW; x++) weights[base + y * mapW + x] = a * wx[j * mapW + x];
        }
      }
    }
  };
  const block = bins * cells;
  const counts = corners.map((rows) => rows.length);
  return tf.tidy(() => {
    if (counts.every((k) => k === counts[0])) {
      // The same number of boxes in every image (what a detector's sampling gives): one batched matmul
      // [batch, R·bins, cells] x [batch, cells, channels].
      const r = counts[0] ?? 0; // (no images: no boxes)
      if (r === 0) return tf.zeros([0, outH, outW, channels]) as tf.Tensor4D;
      const weights = new Float32Array(batch * r * block);
      corners.forEach((rows, b) => rows.forEach((box, k) => fill(weights, (b * r + k) * block, box)));
      const matrix = tf.tensor3d(weights, [batch, r * bins, cells]);
      return tf.matMul(matrix, tf.cast(featureMap, "float32").reshape([batch, cells, channels])).reshape([batch * r, outH, outW, channels]) as tf.Tensor4D;
    }
    // Otherwise one matmul per image that has boxes.
    const parts: tf.Tensor[] = [];
    corners.forEach((rows, b) => {
      if (rows.length === 0) return;
      const weights = new Float32Array(rows.length * block);
      rows.forEach((box, k) => fill(weights, k * block, box));
      const image = tf.cast(featureMap.slice([b, 0, 0, 0], [1, mapH, mapW, channels]), "float32").reshape([cells, channels]);
      const matrix = tf.tensor2d(weights, [rows.length * bins, cells]);
      parts.push(tf.matMul(matrix, image).reshape([rows.length, outH, outW, channels]));
    });
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
  });
}

/**
 * Wa[i, k] for one axis: the mean over the `ratio` samples of bin i of their linear
 * interpolation weights on the map's cells k (see the module comment), flattened `[bins, size]`.
 */
function axisWeights(start: number, end: number, bins: number, ratio: number, size: number): Float64Array {
  const w = new Float64Array(bins * size);
  const binSize = (end - start) / bins;
  for (let i = 0; i < bins; i++) {
    for (let k = 0; k < ratio; k++) {
      let u = start + (i + (k + 0.5) / ratio) * binSize;
      if (u < -1 || u > size) continue; // too far outside: contributes 0, still counted in the mean
      u = Math.min(Math.max(u, 0), size - 1);
      const low = Math.floor(u);
      const high = Math.min(low + 1, size - 1);
      const frac = u - low;
      w[i * size + low] += (1 - frac) / ratio;
      if (high !== low) w[i * size + high] += frac / ratio;
      else w[i * size + low] += frac / ratio;
    }
  }
  return w;
}

function expectOutputSize(value: unknown): [number, number] {
  const ok = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (ok(value)) return [value as number, value as number];
  if (Array.isArray(value) && value.length === 2 && value.every(ok)) return [value[0], value[1]];
  throw fail(`${UNIT}: invalid outputSize. Expected a positive integer or [height, width] of positive integers, such as 7. Received: outputSize=${show(value)}.`);
}

/** One list of box rows per image of the batch, from arrays or a `[batch, R, 4]` tensor. */
function readBoxLists(boxes: unknown, batch: number): number[][][] {
  if (boxes instanceof tf.Tensor) {
    if (boxes.rank !== 3 || boxes.shape[2] !== 4 || boxes.shape[0] !== batch) {
      throw fail(`${UNIT}: invalid boxes. Expected a tensor of shape [${batch}, R, 4] (one row of boxes per image) or one array of boxes per image. Received: boxes=${show(boxes)}.`);
    }
    const values = boxes.arraySync() as number[][][];
    return values.map((rows, b) => readBoxRows(UNIT, `boxes[${b}]`, rows));
  }
  if (!Array.isArray(boxes) || boxes.length !== batch) {
    const received = Array.isArray(boxes) ? `${boxes.length} lists` : `boxes=${show(boxes)}`;
    throw fail(`${UNIT}: invalid boxes. Expected one array of boxes per image of the batch (${batch}), such as [[[x1, y1, x2, y2]], []]. Received: ${received}.`);
  }
  return boxes.map((rows, b) => readBoxRows(UNIT, `boxes[${b}]`, rows));
}
