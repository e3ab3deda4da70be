/**
 * `predictMasks(model, images)`: the class of every pixel, as a segmentation model predicts it, in
 * batches, with the images checked against the sizes the model can take.
 */
import * as tf from "@tensorflow/tfjs";
import { expectNumber, expectOptions, fail, show } from "@convlab/engine";
import { checkInputSize, outputStride } from "./input_size";
import { maskFromProbabilities } from "./masks";

/** Options of {@link predictMasks}. */
export interface PredictMasksArgs {
  /** Images per forward pass, an integer >= 1. Default 32. */
  batchSize?: number;
}

const UNIT = "predictMasks";

/**
 * Runs `model` on `images` in batches and returns the class of each pixel (the argmax of its
 * scores): int32 `[N, H, W]`, a new tensor the caller disposes. Only the masks stay in memory,
 * never all the scores at once.
 *
 * @param model a segmentation model with output `[N, H, W, C]` (from {@link unet}, {@link fcn8s} or your own).
 * @param images float32 `[N, H, W, channels]`; for a model built by unet/fcn8s, H and W must be
 *   multiples of its output stride (see {@link outputStride}).
 * @throws ConvlabError for images that are not a rank-4 float32 tensor, a size the model cannot
 *   take (naming the sizes it can), or a bad batch size.
 * @example
 * ```ts
 * const predicted = predictMasks(model, xTest);   // int32 [500, 64, 64]
 * ```
 * Keras counterpart: `np.argmax(model.predict(x, batch_size=32), axis=-1)`.
 */
export function predictMasks(model: tf.LayersModel, images: tf.Tensor, options?: PredictMasksArgs): tf.Tensor3D {
  const args = expectOptions(UNIT, options, ["batchSize"], "{ batchSize: 32 }");
  const batchSize = expectNumber(UNIT, "batchSize", args.batchSize ?? 32, { integer: true, min: 1 });
  if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.dtype !== "float32") {
    throw fail(`${UNIT}: invalid images. Expected a float32 tensor [N, height, width, channels], e.g. pixels scaled to [0, 1]. Received: images=${show(images)}.`);
  }
  const stride = outputStride(model);
  if (stride !== undefined) checkInputSize(UNIT, [images.shape[1] as number, images.shape[2] as number], stride, { name: "images", value: images });
  const n = images.shape[0];
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      parts.push(tf.tidy(() => maskFromProbabilities(model.predict(images.slice(start, size)) as tf.Tensor)));
    }
    return (parts.length === 1 ? parts[0].clone() : tf.concat(parts)) as tf.Tensor3D;
  } finally {
    tf.dispose(parts);
  }
}
