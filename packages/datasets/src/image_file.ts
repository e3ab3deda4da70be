/**
 * `loadImage(path, { targetSize, colorMode })`: one PNG or JPEG file as a
 * {@link Uint8Tensor} `[H, W, C]`, what Keras's `load_img` + `img_to_array`
 * give, but kept as bytes (a photo as float32 takes four times the memory).
 * Decoding and resizing are node-canvas's (cairo, libpng, libjpeg).
 */
import * as fs from "fs";
import * as path from "path";
import { expectKnownKeys, expectOneOf, fail, show } from "@convlab/engine";
import { createCanvas, Image, loadImage as canvasLoadImage } from "canvas";
import { Uint8Tensor } from "./uint8_tensor";

/** The colour modes of {@link loadImage}, with their channel counts 3, 1 and 4. */
export const COLOR_MODES = ["rgb", "grayscale", "rgba"] as const;
/** A colour mode of {@link loadImage}. */
export type ColorMode = (typeof COLOR_MODES)[number];

/** Options of {@link loadImage}; Keras's `load_img` names in camelCase. */
export interface LoadImageArgs {
  /** `[height, width]` to resize to (bilinear), positive integers. Default: the file's own size. */
  targetSize?: readonly [number, number];
  /** `"rgb"` (default, 3 channels), `"grayscale"` (1) or `"rgba"` (4). */
  colorMode?: ColorMode;
}

const OPTION_KEYS = ["targetSize", "colorMode"] as const;

/**
 * Reads a PNG or JPEG file into a `Uint8Tensor` of shape `[height, width, channels]`,
 * values 0–255, row-major, channels last.
 *
 * - `colorMode: "rgb"` (default): 3 channels, R, G, B; an alpha channel is dropped.
 * - `"grayscale"`: 1 channel, the luma PIL (and so Keras) computes,
 *   `L = (19595·R + 38470·G + 7471·B + 2¹⁵) >> 16` (≈ 0.299 R + 0.587 G + 0.114 B).
 * - `"rgba"`: 4 channels, alpha last.
 * - `targetSize: [h, w]`: resized with bilinear interpolation (cairo's, edges reflected);
 *   the result is `[h, w, C]`.
 *
 * @param file path of the image, relative to the working folder (a notebook's folder).
 * @param options `targetSize`, `colorMode`.
 * @returns a promise of the image as `Uint8Tensor[H,W,C]`; `toTensor("float32", { scale: 1 / 255 })` makes a tensor.
 * @throws ConvlabError (one line) for a missing file (naming it), a file that is not a
 *   decodable PNG or JPEG (naming it), an invalid `targetSize`, an unknown `colorMode` or option.
 *
 * @example
 * ```ts
 * const cat = await loadImage("data/chelsea.png");                        // Uint8Tensor[300,451,3]
 * const small = await loadImage("data/chelsea.png", { targetSize: [150, 225], colorMode: "grayscale" });
 * const x = cat.reshape([1, 300, 451, 3]).toTensor("float32", { scale: 1 / 255 });
 * ```
 *
 * Keras equivalent: `img_to_array(load_img(path, target_size=(h, w), color_mode="rgb"), dtype="uint8")`.
 * Differences: Keras resizes with `interpolation="nearest"` by default, this bilinearly;
 * pixels with alpha < 255 are stored premultiplied by cairo, so their colours can differ from
 * PIL's by rounding and fully transparent pixels read as black (in every mode); the result is a
 * promise (decoding reads the file asynchronously).
 */
export async function loadImage(file: string, options: LoadImageArgs = {}): Promise<Uint8Tensor> {
  const unit = "loadImage";
  if (typeof file !== "string" || file === "") {
    throw fail(`${unit}: invalid path. Expected the path of a PNG or JPEG file. Received: path=${show(file)}.`);
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw fail(`${unit}: invalid options. Expected an object such as { targetSize: [224, 224] }. Received: options=${show(options)}.`);
  }
  expectKnownKeys(unit, options, OPTION_KEYS);
  const colorMode = expectOneOf(unit, "colorMode", options.colorMode ?? "rgb", COLOR_MODES);
  const targetSize = options.targetSize === undefined ? undefined : checkTargetSize(unit, options.targetSize);

  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw fail(`${unit}: file not found: ${show(file)} (looked in ${show(path.resolve(file))}). Expected an existing PNG or JPEG file; paths are relative to the working folder ${show(process.cwd())}.`);
    }
    throw fail(`${unit}: cannot read ${show(file)}. Expected a readable PNG or JPEG file. Received: ${code ?? (error as Error).message}.`);
  }
  let decoded: Image;
  try {
    decoded = await canvasLoadImage(bytes);
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).split("\n")[0];
    throw fail(`${unit}: cannot decode ${show(file)}. Expected a PNG or JPEG image. Received: ${bytes.length} bytes that canvas could not decode (${reason}).`);
  }
  if (!(decoded.width > 0 && decoded.height > 0)) {
    throw fail(`${unit}: cannot decode ${show(file)}. Expected a PNG or JPEG image. Received: an image of ${decoded.width}x${decoded.height} pixels.`);
  }

  const [height, width] = targetSize ?? [decoded.height, decoded.width];
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.patternQuality = "bilinear"; // cairo's bilinear filter (the default, "good", is a box filter when shrinking)
  ctx.drawImage(decoded, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return new Uint8Tensor(fromRgba(rgba, colorMode), [height, width, colorMode === "rgb" ? 3 : colorMode === "grayscale" ? 1 : 4]);
}

function checkTargetSize(unit: string, value: unknown): [number, number] {
  const pair = value as unknown[];
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0 && d <= 32768)) {
    throw fail(`${unit}: invalid targetSize. Expected [height, width], two positive integers. Received: targetSize=${show(value)}.`);
  }
  return [pair[0] as number, pair[1] as number];
}

/** RGBA bytes to the channels of `mode`. */
function fromRgba(rgba: Uint8ClampedArray, mode: ColorMode): Uint8Array {
  const pixels = rgba.length / 4;
  if (mode === "rgba") return new Uint8Array(rgba.buffer.slice(rgba.byteOffset, rgba.byteOffset + rgba.byteLength));
  if (mode === "rgb") {
    const out = new Uint8Array(pixels * 3);
    for (let i = 0; i < pixels; i++) {
      out[3 * i] = rgba[4 * i];
      out[3 * i + 1] = rgba[4 * i + 1];
      out[3 * i + 2] = rgba[4 * i + 2];
    }
    return out;
  }
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    // PIL's ImagingConvert RGB -> L, integer ITU-R 601-2 luma, rounded.
    out[i] = (rgba[4 * i] * 19595 + rgba[4 * i + 1] * 38470 + rgba[4 * i + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}
