/**
 * Test helpers: decode PNG bytes the way a browser would and read pixels.
 */
import { createCanvas, loadImage } from "canvas";

/** A decoded image: size and RGBA pixels. */
export interface Decoded {
  width: number;
  height: number;
  data: Uint8ClampedArray;
  /** [r, g, b, a] at (x, y). */
  at(x: number, y: number): [number, number, number, number];
  /** [r, g, b] at (x, y). */
  rgb(x: number, y: number): [number, number, number];
}

/** Decodes PNG bytes with canvas's `loadImage`. */
export async function decode(png: Uint8Array): Promise<Decoded> {
  const img = await loadImage(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const at = (x: number, y: number): [number, number, number, number] => {
    const i = 4 * (y * img.width + x);
    return [data[i], data[i + 1], data[i + 2], data[i + 3]];
  };
  return { width: img.width, height: img.height, data, at, rgb: (x, y) => at(x, y).slice(0, 3) as [number, number, number] };
}

/** How many pixels in the rectangle satisfy `test`. */
export function countPixels(img: Decoded, x0: number, y0: number, x1: number, y1: number, test: (rgba: [number, number, number, number]) => boolean): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (test(img.at(x, y))) n++;
  return n;
}

/** Colour distance (max over channels). */
export function near(a: readonly number[], b: readonly number[], tolerance = 0): boolean {
  return a.every((v, i) => i >= b.length || Math.abs(v - b[i]) <= tolerance);
}

/** Throws unless `fn` throws a message exactly `message` (or matching it). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}
