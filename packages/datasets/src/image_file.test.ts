/** loadImage: PNG/JPEG files the test writes itself, exact pixel values, colour modes, resizing, errors. */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { createCanvas } from "canvas";
import { decodeImage, loadImage } from "./image_file";
import { Uint8Tensor } from "./uint8_tensor";
import { removeDirs, tempDir } from "./testing/fixtures";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(removeDirs);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG written by hand (8-bit, no filter), independent of canvas: colour type 0 (grey),
 * 2 (RGB) or 6 (RGBA), with `channels` values per pixel, row-major.
 */
function pngBytes(width: number, height: number, channels: 1 | 3 | 4, values: number[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const raw = Buffer.alloc(height * (1 + width * channels));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * channels)] = 0; // filter type None
    for (let i = 0; i < width * channels; i++) raw[y * (1 + width * channels) + 1 + i] = values[y * width * channels + i];
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

function write(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

// 3 wide, 2 high: red, green, blue / white, black, a mix.
const RGB = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 10, 120, 230];

describe("loadImage", () => {
  test("reads an RGB PNG as Uint8Tensor[H,W,3] with the exact bytes", async () => {
    const t = await loadImage(write("rgb.png", pngBytes(3, 2, 3, RGB)));
    expect(t).toBeInstanceOf(Uint8Tensor);
    expect(t.shape).toEqual([2, 3, 3]);
    expect(Array.from(t.data)).toEqual(RGB);
    expect(t.get(1, 2, 1)).toBe(120);
  });

  test('colorMode "grayscale": one channel, PIL\'s integer luma', async () => {
    const t = await loadImage(write("rgb2.png", pngBytes(3, 2, 3, RGB)), { colorMode: "grayscale" });
    expect(t.shape).toEqual([2, 3, 1]);
    // L = (19595 R + 38470 G + 7471 B + 32768) >> 16, as PIL's convert("L")
    expect(Array.from(t.data)).toEqual([76, 150, 29, 255, 0, 100]);
  });

  test("a grey PNG keeps its values, in every mode", async () => {
    const file = write("grey.png", pngBytes(2, 2, 1, [0, 17, 128, 255]));
    expect(Array.from((await loadImage(file, { colorMode: "grayscale" })).data)).toEqual([0, 17, 128, 255]);
    expect(Array.from((await loadImage(file)).data)).toEqual([0, 0, 0, 17, 17, 17, 128, 128, 128, 255, 255, 255]);
  });

  test('colorMode "rgba" keeps alpha; "rgb" drops it; fully transparent pixels read as black', async () => {
    const values = [255, 0, 0, 255, 0, 0, 255, 255, 0, 255, 0, 0];
    const file = write("rgba.png", pngBytes(3, 1, 4, values));
    const rgba = await loadImage(file, { colorMode: "rgba" });
    expect(rgba.shape).toEqual([1, 3, 4]);
    // cairo stores premultiplied alpha: a fully transparent pixel loses its colour
    expect(Array.from(rgba.data)).toEqual([255, 0, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0]);
    const rgb = await loadImage(file);
    expect(Array.from(rgb.data)).toEqual([255, 0, 0, 0, 0, 255, 0, 0, 0]); // transparent reads as black
  });

  test("targetSize resizes bilinearly: halving averages neighbour pairs", async () => {
    // 4x4 grey, every row [0, 100, 200, 250]: pixel centres of the half-size image fall
    // exactly between two source pixels, so bilinear gives their mean (nearest would not).
    const row = [0, 100, 200, 250];
    const file = write("ramp.png", pngBytes(4, 4, 1, [...row, ...row, ...row, ...row]));
    const t = await loadImage(file, { targetSize: [2, 2], colorMode: "grayscale" });
    expect(t.shape).toEqual([2, 2, 1]);
    expect(Array.from(t.data)).toEqual([50, 225, 50, 225]);
    const tall = await loadImage(file, { targetSize: [8, 3] });
    expect(tall.shape).toEqual([8, 3, 3]);
  });

  test("decodes JPEG", async () => {
    const canvas = createCanvas(8, 6);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "rgb(200, 40, 90)";
    ctx.fillRect(0, 0, 8, 6);
    const t = await loadImage(write("solid.jpg", canvas.toBuffer("image/jpeg", { quality: 0.95 })));
    expect(t.shape).toEqual([6, 8, 3]);
    const [r, g, b] = [t.get(3, 4, 0), t.get(3, 4, 1), t.get(3, 4, 2)];
    expect(Math.abs(r - 200)).toBeLessThanOrEqual(4);
    expect(Math.abs(g - 40)).toBeLessThanOrEqual(4);
    expect(Math.abs(b - 90)).toBeLessThanOrEqual(4);
  });

  test("a missing file: one line naming it", async () => {
    const missing = path.join(dir, "nope.png");
    await expect(loadImage(missing)).rejects.toThrow(`loadImage: file not found: "${missing}"`);
    await expect(loadImage(missing)).rejects.toThrow(/^[^\n]+$/);
  });

  test("an undecodable file: one line naming it", async () => {
    const file = write("broken.png", Buffer.from("this is not an image"));
    await expect(loadImage(file)).rejects.toThrow(`loadImage: cannot decode "${file}". Expected a PNG, JPEG, GIF or BMP image. Received: 20 bytes that canvas could not decode (Unsupported image type).`);
    await expect(loadImage(file)).rejects.toThrow(/^[^\n]+$/);
  });

  test("invalid options, checked before reading", async () => {
    await expect(loadImage("x.png", { colorMode: "RGB" as never })).rejects.toThrow(
      'loadImage: invalid colorMode. Expected one of "rgb", "grayscale", "rgba". Received: colorMode="RGB". Did you mean `rgb`?',
    );
    await expect(loadImage("x.png", { targetSize: [0, 5] })).rejects.toThrow(
      "loadImage: invalid targetSize. Expected [height, width], two positive integers. Received: targetSize=[0,5].",
    );
    await expect(loadImage("x.png", { target_size: [2, 2] } as never)).rejects.toThrow(
      "loadImage: unknown option `target_size`. Expected one of `targetSize`, `colorMode`. Did you mean `targetSize`?",
    );
    await expect(loadImage("")).rejects.toThrow('loadImage: invalid path. Expected the path of a PNG or JPEG file. Received: path="".');
  });
});

describe("decodeImage", () => {
  const canvasImage = (mime: "image/png" | "image/jpeg"): Buffer => {
    const canvas = createCanvas(6, 4);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "rgb(200, 40, 10)";
    ctx.fillRect(0, 0, 6, 4);
    return mime === "image/png" ? canvas.toBuffer("image/png") : canvas.toBuffer("image/jpeg", { quality: 1 });
  };

  test("decodes bytes in memory synchronously, with the options of loadImage", () => {
    const image = decodeImage(canvasImage("image/png"), { targetSize: [2, 3] });
    expect(image.shape).toEqual([2, 3, 3]);
    expect(Array.from(image.data.slice(0, 3))).toEqual([200, 40, 10]);
  });

  test("decodes a 24-bit BMP (bottom-up rows, BGR)", () => {
    // 2x2: bottom row stored first. Rows are padded to 4 bytes (2 * 3 = 6 -> 8).
    const header = Buffer.alloc(54);
    header.write("BM", 0, "latin1");
    header.writeUInt32LE(54 + 16, 2);
    header.writeUInt32LE(54, 10);
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(2, 18);
    header.writeInt32LE(2, 22);
    header.writeUInt16LE(1, 26);
    header.writeUInt16LE(24, 28);
    const rows = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, /* top: */ 0, 0, 255, 255, 255, 255, 0, 0]);
    const image = decodeImage(Buffer.concat([header, rows]), {}, "tiny.bmp");
    // top row: red, white; bottom row: blue, green
    expect(Array.from(image.data)).toEqual([255, 0, 0, 255, 255, 255, 0, 0, 255, 0, 255, 0]);
  });

  test("a truncated PNG, JPEG or GIF is rejected in one line naming it, not decoded half grey", () => {
    const png = canvasImage("image/png");
    expect(() => decodeImage(png.subarray(0, png.length - 20), {}, "cats/cat.7.png")).toThrow(
      'decodeImage: cannot decode "cats/cat.7.png". Expected a complete PNG, JPEG, GIF or BMP image. Received: a PNG file without its IEND chunk (truncated).',
    );
    const jpeg = canvasImage("image/jpeg");
    expect(() => decodeImage(jpeg.subarray(0, jpeg.length - 40), {}, "dogs/dog.1.jpg")).toThrow("Received: a JPEG file without its end-of-image marker (truncated).");
    expect(() => decodeImage(Buffer.from("GIF89a\x01\x00", "latin1"), {}, "x.gif")).toThrow("Received: a GIF file without its trailer (truncated).");
    expect(() => decodeImage("x.png" as never)).toThrow('decodeImage: invalid bytes. Expected a Buffer or Uint8Array with an image file\'s contents. Received: bytes="x.png".');
  });
});
