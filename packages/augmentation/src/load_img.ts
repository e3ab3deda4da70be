/**
 * Keras's `load_img` and `img_to_array` under their Keras names: one image
 * file read as bytes (the datasets package's `loadImage`), and those bytes as
 * a float32 tensor of 0–255 values, what Keras's arrays hold.
 */
import * as tf from "@tensorflow/tfjs";
import { loadImage } from "@convlab/datasets";
import type { LoadImageArgs, Uint8Tensor } from "@convlab/datasets";
import { asImage } from "./pixels";

/**
 * Reads a PNG, JPEG, GIF or BMP file as a `Uint8Tensor` `[H, W, C]` (values 0–255), resized to
 * `targetSize` when given. The datasets package's `loadImage` under Keras's name.
 * @example
 * ```ts
 * const img = await loadImg("data/chelsea.png", { targetSize: [150, 150] });
 * const x = imgToArray(img);                // Tensor3D [150, 150, 3], 0–255
 * ```
 * Keras counterpart: `load_img(path, target_size=(150, 150), color_mode="rgb")` (Keras resizes
 * with nearest neighbour, this bilinearly; the result is a promise).
 */
export function loadImg(file: string, options: LoadImageArgs = {}): Promise<Uint8Tensor> {
  return loadImage(file, options);
}

/**
 * An image as a float32 `tf.Tensor3D` `[H, W, C]` with its 0–255 values (not rescaled).
 * @param img a `Uint8Tensor` from {@link loadImg} (or any `[H, W, C]` image tensor).
 * @throws ConvlabError for anything that is not one image with 1, 3 or 4 channels.
 * Keras counterpart: `img_to_array(img)`.
 */
export function imgToArray(img: Uint8Tensor | tf.Tensor): tf.Tensor3D {
  const { data, shape } = asImage("imgToArray", "img", img);
  return tf.tensor3d(data instanceof Float32Array ? data.slice() : Float32Array.from(data), shape);
}
