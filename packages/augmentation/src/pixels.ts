/**
 * Images as flat pixel buffers `[H, W, C]` (what the warp kernel reads), from
 * tensors or the datasets package's `Uint8Tensor`, checked in one line.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";

/** Pixels of one image, row-major, channels last. */
export interface PixelBuffer {
  data: Uint8Array | Float32Array;
  shape: [number, number, number];
}

/** One image: a `tf.Tensor3D` `[H, W, C]` or a datasets `Uint8Tensor` (anything with `data` and `shape`). */
export type ImageInput = tf.Tensor | { data: Uint8Array | Float32Array; shape: readonly number[] };

/** `value` as `[H, W, C]` pixels; a `[H, W]` image gets one channel. */
export function asImage(unit: string, name: string, value: unknown): PixelBuffer {
  const { data, shape } = asArray(unit, name, value);
  const s = shape.length === 2 ? [shape[0], shape[1], 1] : shape;
  if (s.length !== 3 || ![1, 3, 4].includes(s[2])) {
    throw fail(`${unit}: invalid ${name}. Expected one image [height, width, channels] with 1, 3 or 4 channels. Received: ${name} of shape [${shape.join(", ")}].`);
  }
  return { data, shape: [s[0], s[1], s[2]] };
}

/** `value` as a flat array with its shape (tensors are read synchronously). */
export function asArray(unit: string, name: string, value: unknown): { data: Uint8Array | Float32Array; shape: number[] } {
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) throw fail(`${unit}: invalid ${name}. Expected a live tensor. Received: a disposed ${show(value)}.`);
    const data = value.dtype === "float32" ? (value.dataSync() as Float32Array) : Float32Array.from(value.dataSync() as ArrayLike<number>);
    return { data, shape: [...value.shape] };
  }
  const v = value as { data?: unknown; shape?: unknown } | null;
  if (v && typeof v === "object" && (v.data instanceof Uint8Array || v.data instanceof Float32Array) && Array.isArray(v.shape)) {
    return { data: v.data, shape: [...(v.shape as number[])] };
  }
  throw fail(`${unit}: invalid ${name}. Expected a tf.Tensor or a Uint8Tensor (loadImg, datasets). Received: ${name}=${show(value)}.`);
}
