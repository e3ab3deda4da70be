/**
 * `loadImage(path, { targetSize, colorMode })`: one PNG, JPEG, GIF or BMP file as a
 * {@link Uint8Tensor} `[H, W, C]`, what Keras's `load_img` + `img_to_array`
 * give, but kept as bytes (a photo as float32 takes four times the memory).
 * Decoding and resizing are node-canvas's (cairo, libpng, libjpeg).
 */
import * as fs from "fs";
import * as path from "path";
import { expectOneOf, expectOptions, expectTargetSize, fail, show } from "@convlab/engine";
import { createCanvas, Image } from "canvas";
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
  checkOptions(unit, options);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (error) {
    throw readError(unit, file, error);
  }
  return decode(unit, bytes, options, file);
}

/**
 * Decodes image bytes already in memory (PNG, JPEG, GIF's first frame or BMP), synchronously,
 * with the options and result of {@link loadImage}. A truncated file (no PNG `IEND`, JPEG
 * end-of-image or GIF trailer) is rejected rather than decoded half grey.
 *
 * @param bytes the file's contents.
 * @param options `targetSize`, `colorMode`, as {@link loadImage}.
 * @param name what error messages call the image (its path). Default `"image"`.
 * @throws ConvlabError (one line, naming `name`) for bytes that are not a complete image, or invalid options.
 * @example
 * ```ts
 * const cat = decodeImage(fs.readFileSync("data/chelsea.png"), { targetSize: [150, 150] }, "data/chelsea.png");
 * ```
 * Keras equivalent: `img_to_array(load_img(io.BytesIO(bytes)), dtype="uint8")`.
 */
export function decodeImage(bytes: Uint8Array, options: LoadImageArgs = {}, name = "image"): Uint8Tensor {
  const unit = "decodeImage";
  if (!(bytes instanceof Uint8Array)) {
    throw fail(`${unit}: invalid bytes. Expected a Buffer or Uint8Array with an image file's contents. Received: bytes=${show(bytes)}.`);
  }
  checkOptions(unit, options);
  return decode(unit, bytes, options, name);
}

/** One line for a file that cannot be read, naming it and where it was looked for. */
export function readError(unit: string, file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return fail(`${unit}: file not found: ${show(file)} (looked in ${show(path.resolve(file))}). Expected an existing PNG or JPEG file; paths are relative to the working folder ${show(process.cwd())}.`);
  }
  return fail(`${unit}: cannot read ${show(file)}. Expected a readable PNG or JPEG file. Received: ${code ?? (error as Error).message}.`);
}

function checkOptions(unit: string, options: LoadImageArgs): void {
  expectOptions(unit, options, OPTION_KEYS, "{ targetSize: [224, 224] }");
  expectOneOf(unit, "colorMode", options.colorMode ?? "rgb", COLOR_MODES);
  if (options.targetSize !== undefined) expectTargetSize(unit, options.targetSize);
}

/**
 * Why `bytes` is not a complete image file, or undefined when its format's start and end
 * markers are where they belong. Decoders accept truncated PNGs and JPEGs (the rest reads
 * grey), so a cut-off download must be caught here.
 */
function incompleteImage(bytes: Uint8Array): string | undefined {
  const n = bytes.length;
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) {
    // The last chunk is IEND: length 0, type "IEND", CRC.
    const tail = Buffer.from(bytes.buffer, bytes.byteOffset, n).subarray(Math.max(0, n - 64));
    return tail.includes("IEND", 0, "latin1") ? undefined : "a PNG file without its IEND chunk (truncated)";
  }
  if (starts(0xff, 0xd8)) {
    // End-of-image marker FF D9, allowing some padding after it.
    for (let i = n - 2; i >= Math.max(0, n - 4096); i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return undefined;
    return "a JPEG file without its end-of-image marker (truncated)";
  }
  if (starts(0x47, 0x49, 0x46)) {
    return bytes[n - 1] === 0x3b ? undefined : "a GIF file without its trailer (truncated)";
  }
  if (starts(0x42, 0x4d)) {
    const declared = n >= 6 ? bytes[2] | (bytes[3] << 8) | (bytes[4] << 16) | (bytes[5] << 24) : Infinity;
    return declared <= n ? undefined : `a BMP file of ${n} bytes that declares ${declared} (truncated)`;
  }
  return undefined; // unknown formats: the decoder decides
}

function decode(unit: string, bytes: Uint8Array, options: LoadImageArgs, name: string): Uint8Tensor {
  const colorMode = options.colorMode ?? "rgb";
  const targetSize = options.targetSize === undefined ? undefined : expectTargetSize(unit, options.targetSize);
  const incomplete = incompleteImage(bytes);
  if (incomplete) throw fail(`${unit}: cannot decode ${show(name)}. Expected a complete PNG, JPEG, GIF or BMP image. Received: ${incomplete}.`);
  // node-canvas decodes a Buffer source synchronously, reporting failure through onerror.
  const decoded = new Image();
  let problem: unknown;
  decoded.onerror = (error: Error) => {
    problem = error;
  };
  try {
    decoded.src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  } catch (error) {
    problem = error;
  }
  if (problem !== undefined || !(decoded.width > 0 && decoded.height > 0)) {
    const reason = problem === undefined ? `an image of ${decoded.width}x${decoded.height} pixels` : String((problem as Error)?.message ?? problem).split("\n")[0];
    throw fail(`${unit}: cannot decode ${show(name)}. Expected a PNG, JPEG, GIF or BMP image. Received: ${bytes.length} bytes that canvas could not decode (${reason}).`);
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
