/**
 * loadSegmentationFolder: VOC-layout folders the test writes itself (palette-indexed PNG masks by
 * a tiny encoder, RGB images by canvas), exact pixels and ids, resizing, every error by its text.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { createCanvas, createImageData } from "canvas";
import { loadImage } from "./image_file";
import { VOC_SEGMENTATION_CLASSES, vocPalette } from "./palette";
import { loadSegmentationFolder } from "./segmentation_folder";
import { removeDirs, tempDir } from "./testing/fixtures";

afterAll(removeDirs);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG of 8-bit samples, rows unfiltered: colour type 3 (palette-indexed: `values` are indices
 * into `palette`, written as PLTE) or 0 (grey: `values` are the grey levels).
 */
function pngBytes(width: number, height: number, values: number[], palette?: readonly (readonly number[])[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = palette ? 3 : 0;
  const raw = Buffer.alloc(height * (1 + width));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (1 + width) + 1 + x] = values[y * width + x];
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const plte = palette ? [chunk("PLTE", Buffer.from(palette.flat()))] : [];
  return Buffer.concat([signature, chunk("IHDR", ihdr), ...plte, chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** A VOC mask: class ids as a palette PNG in VOC's 256 colours, as the devkit's masks are. */
const vocMask = (width: number, height: number, ids: number[]) => pngBytes(width, height, ids, vocPalette());

/** An RGB image by canvas (PNG, exact; or JPEG at quality 1). `rgb` row-major, 3 values a pixel. */
function rgbImage(width: number, height: number, rgb: number[], mime: "image/png" | "image/jpeg" = "image/png"): Buffer {
  const canvas = createCanvas(width, height);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) rgba.set([rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2], 255], 4 * p);
  canvas.getContext("2d").putImageData(createImageData(rgba, width, height), 0, 0);
  return mime === "image/png" ? canvas.toBuffer("image/png") : canvas.toBuffer("image/jpeg", { quality: 1 });
}

/** A solid RGB image. */
const solid = (width: number, height: number, color: number[], mime?: "image/png" | "image/jpeg") => rgbImage(width, height, Array.from({ length: width * height }, () => color).flat(), mime);

/** Writes `files` (path relative to a new temp folder → bytes or text) and returns the folder. */
function folder(files: Record<string, Buffer | string>): string {
  const root = tempDir("convlab-segmentation-");
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  return root;
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

// 2x3 pixels, row-major: background, aeroplane, person / void, cat, background
const IDS_A = [0, 1, 15, 255, 8, 0];
const PIXELS_A = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180];

describe("loadSegmentationFolder", () => {
  it("reads VOC's layout: RGB images and palette masks as class ids, void kept as 255", async () => {
    const dir = folder({
      "JPEGImages/b.png": rgbImage(3, 2, PIXELS_A),
      "JPEGImages/a.png": solid(3, 2, [255, 0, 0]),
      "JPEGImages/z.jpg": solid(3, 2, [0, 0, 255]), // an image without a mask: not read
      "SegmentationClass/b.png": vocMask(3, 2, IDS_A),
      "SegmentationClass/a.png": vocMask(3, 2, [20, 20, 20, 20, 20, 20]),
      "SegmentationClass/c.png": vocMask(3, 2, IDS_A), // a mask without an image: skipped
      "SegmentationClass/notes.txt": "not a mask",
    });
    const voc = await loadSegmentationFolder(dir);
    expect(voc.ids).toEqual(["a", "b"]);
    expect(voc.images.shape).toEqual([2, 2, 3, 3]);
    expect(voc.masks.shape).toEqual([2, 2, 3]);
    expect([...voc.masks.data]).toEqual([20, 20, 20, 20, 20, 20, ...IDS_A]);
    expect([...voc.images.slice(1).data]).toEqual(PIXELS_A);
    expect([...voc.images.data.subarray(0, 6)]).toEqual([255, 0, 0, 255, 0, 0]);
    expect(voc.classNames).toEqual([...VOC_SEGMENTATION_CLASSES]);
  });

  it("reads the ids of a split file in its order, by path or by name, and JPEG images", async () => {
    const dir = folder({
      "JPEGImages/2007_000032.jpg": solid(4, 4, [200, 100, 50], "image/jpeg"),
      "JPEGImages/2007_000033.jpg": solid(4, 4, [50, 100, 200], "image/jpeg"),
      "JPEGImages/2007_000039.jpg": solid(4, 4, [0, 0, 0], "image/jpeg"),
      "SegmentationClass/2007_000032.png": vocMask(4, 4, Array(16).fill(1)),
      "SegmentationClass/2007_000033.png": vocMask(4, 4, Array(16).fill(2)),
      "SegmentationClass/2007_000039.png": vocMask(4, 4, Array(16).fill(3)),
      "ImageSets/Segmentation/train.txt": "2007_000033\r\n2007_000032  \n\n",
      "ImageSets/Segmentation/val.txt": "2007_000039 1\n",
    });
    const train = await loadSegmentationFolder(dir, { split: "train" });
    expect(train.ids).toEqual(["2007_000033", "2007_000032"]);
    expect(train.masks.get(0, 0, 0)).toBe(2);
    expect(train.masks.get(1, 3, 3)).toBe(1);
    const first = Array.from(train.images.data.subarray(0, 3));
    first.forEach((v, c) => expect(Math.abs(v - [50, 100, 200][c])).toBeLessThanOrEqual(3));
    const val = await loadSegmentationFolder(dir, { split: "ImageSets/Segmentation/val.txt" });
    expect(val.ids).toEqual(["2007_000039"]);
    expect(val.images.shape).toEqual([1, 4, 4, 3]);
    const absolute = await loadSegmentationFolder(dir, { split: path.join(dir, "ImageSets/Segmentation/val.txt") });
    expect(absolute.ids).toEqual(["2007_000039"]);
  });

  it("resizes images bilinear (as loadImage) and masks nearest-neighbour with imageSize", async () => {
    const big = Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 5) % 256);
    const dir = folder({
      "JPEGImages/big.png": rgbImage(4, 4, big),
      "JPEGImages/small.png": solid(2, 2, [9, 9, 9]),
      // 4x4 mask: ids by quadrant and one odd pixel
      "SegmentationClass/big.png": vocMask(4, 4, [1, 1, 2, 2, 1, 3, 2, 2, 4, 4, 5, 5, 4, 4, 5, 255]),
      "SegmentationClass/small.png": vocMask(2, 2, [6, 7, 8, 9]),
    });
    const data = await loadSegmentationFolder(dir, { imageSize: [2, 2] });
    expect(data.ids).toEqual(["big", "small"]);
    expect(data.images.shape).toEqual([2, 2, 2, 3]);
    // nearest with half-pixel centres: source rows and columns 1 and 3 of the 4x4 mask
    expect([...data.masks.slice(0, 1).data]).toEqual([3, 2, 4, 255]);
    expect([...data.masks.slice(1, 2).data]).toEqual([6, 7, 8, 9]);
    const expected = await loadImage(path.join(dir, "JPEGImages/big.png"), { targetSize: [2, 2] });
    expect([...data.images.slice(0, 1).data]).toEqual([...expected.data]);
    expect([...data.images.slice(1, 2).data]).toEqual(Array(12).fill(9));

    const up = await loadSegmentationFolder(dir, { imageSize: [4, 6] });
    expect([...up.masks.slice(1, 2).data]).toEqual([6, 6, 6, 7, 7, 7, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 8, 8, 8, 9, 9, 9]);
  });

  it("reads grey masks of class ids with palette: null, and masks of another palette", async () => {
    const dir = folder({
      "images/a.png": solid(2, 2, [1, 2, 3]),
      "labels/a.png": pngBytes(2, 2, [0, 1, 2, 255]),
    });
    const grey = await loadSegmentationFolder(dir, { images: "images", masks: "labels", palette: null });
    expect([...grey.masks.data]).toEqual([0, 1, 2, 255]);
    expect(grey.classNames).toEqual(["0", "1", "2"]);
    const named = await loadSegmentationFolder(dir, { images: "images", masks: "labels", palette: null, classNames: ["background", "pet", "border"] });
    expect(named.classNames).toEqual(["background", "pet", "border"]);

    const palette = [
      [0, 0, 0],
      [255, 0, 0],
      [0, 255, 0],
    ] as const;
    const own = folder({
      "JPEGImages/a.jpg": solid(2, 2, [1, 2, 3], "image/jpeg"),
      // the file's own PLTE holds VOC's colours; index 3 is (128, 128, 0), index 255 VOC's void colour
      "SegmentationClass/a.png": pngBytes(2, 2, [0, 1, 2, 3], [...palette, [128, 128, 0]]),
      "SegmentationClass/b.png": pngBytes(2, 1, [0, 255], vocPalette()),
      "JPEGImages/b.jpg": solid(2, 1, [1, 2, 3], "image/jpeg"),
      "ImageSets/Segmentation/a.txt": "a\n",
      "ImageSets/Segmentation/b.txt": "b\n",
    });
    const message = await errorOf(loadSegmentationFolder(own, { palette, split: "a" }));
    expect(message).toBe(
      `loadSegmentationFolder: unknown colour in ${path.join(own, "SegmentationClass", "a.png")}: pixel (x=1, y=1) is RGB (128, 128, 0), not in the given palette of 3 colours. ` +
        "Expected a palette-indexed mask in the palette's colours; pass palette for other colours, or palette: null for grey masks of class ids.",
    );
    const four = await loadSegmentationFolder(own, { palette: [...palette, [128, 128, 0]], split: "a" });
    expect([...four.masks.data]).toEqual([0, 1, 2, 3]);
    expect(four.classNames).toEqual(["0", "1", "2", "3"]);
    // VOC's void colour reads as 255 with a shorter palette too
    const voidMask = await loadSegmentationFolder(own, { palette, split: "b", classNames: ["bg", "a", "b"] });
    expect([...voidMask.masks.data]).toEqual([0, 255]);
  });

  it("says which mask does not fit its image, and which images differ in size", async () => {
    const dir = folder({
      "JPEGImages/2007_000032.png": solid(5, 3, [0, 0, 0]),
      "SegmentationClass/2007_000032.png": vocMask(5, 4, Array(20).fill(0)),
    });
    expect(await errorOf(loadSegmentationFolder(dir))).toBe(
      `loadSegmentationFolder: ${path.join(dir, "SegmentationClass", "2007_000032.png")} is 4x5 but its image is 3x5. Expected a mask of its image's size (${path.join(dir, "JPEGImages", "2007_000032.png")}).`,
    );
    // the sizes are checked before resizing
    expect(await errorOf(loadSegmentationFolder(dir, { imageSize: [4, 5] }))).toMatch(/is 4x5 but its image is 3x5/);

    const mixed = folder({
      "JPEGImages/a.png": solid(3, 2, [0, 0, 0]),
      "JPEGImages/b.png": solid(2, 2, [0, 0, 0]),
      "SegmentationClass/a.png": vocMask(3, 2, Array(6).fill(0)),
      "SegmentationClass/b.png": vocMask(2, 2, Array(4).fill(0)),
    });
    expect(await errorOf(loadSegmentationFolder(mixed))).toBe(
      `loadSegmentationFolder: images differ in size: ${path.join(mixed, "JPEGImages", "a.png")} is 2x3 but ${path.join(mixed, "JPEGImages", "b.png")} is 2x2. ` +
        "Expected images of one size; pass imageSize: [height, width] to resize them.",
    );
  });

  it("names the file, pixel, colour and palette of a colour outside the palette", async () => {
    const rgbMask = rgbImage(2, 2, [0, 0, 0, 128, 0, 0, 0, 0, 0, 12, 34, 56]);
    const dir = folder({ "JPEGImages/x.png": solid(2, 2, [0, 0, 0]), "SegmentationClass/x.png": rgbMask });
    const mask = path.join(dir, "SegmentationClass", "x.png");
    expect(await errorOf(loadSegmentationFolder(dir))).toBe(
      `loadSegmentationFolder: unknown colour in ${mask}: pixel (x=1, y=1) is RGB (12, 34, 56), not in VOC's palette (vocPalette(), 256 colours). ` +
        "Expected a palette-indexed mask in the palette's colours; pass palette for other colours, or palette: null for grey masks of class ids.",
    );
    expect(await errorOf(loadSegmentationFolder(dir, { palette: null }))).toBe(
      `loadSegmentationFolder: ${mask} is not a grey mask: pixel (x=1, y=0) is RGB (128, 0, 0). ` +
        "Expected grey class ids (r = g = b) with palette: null; for colour masks leave palette unset (VOC's colours) or pass their palette.",
    );
  });

  it("rejects class ids beyond classNames, naming the pixel", async () => {
    const dir = folder({ "JPEGImages/x.png": solid(2, 1, [0, 0, 0]), "SegmentationClass/x.png": vocMask(2, 1, [255, 21]) });
    const mask = path.join(dir, "SegmentationClass", "x.png");
    expect(await errorOf(loadSegmentationFolder(dir))).toBe(
      `loadSegmentationFolder: class id 21 at pixel (x=1, y=0) of ${mask} is beyond classNames (21 names: "background" … "tvmonitor"). ` +
        "Expected ids 0..20 or 255 (void); pass classNames for more classes.",
    );
    expect(await errorOf(loadSegmentationFolder(dir, { classNames: ["bg", "cat"] }))).toMatch(/class id 21 at pixel \(x=1, y=0\) of .* is beyond classNames \(2 names: "bg", "cat"\)\. Expected ids 0\.\.1 or 255/);
    const named = await loadSegmentationFolder(dir, { classNames: Array.from({ length: 22 }, (_, i) => `c${i}`) });
    expect([...named.masks.data]).toEqual([255, 21]);
  });

  it("says which file is missing: an image, a mask, a split's files, a folder, the split file", async () => {
    const dir = folder({
      "JPEGImages/only_image.jpg": solid(2, 2, [0, 0, 0], "image/jpeg"),
      "SegmentationClass/only_mask.png": vocMask(2, 2, [0, 0, 0, 0]),
      "ImageSets/Segmentation/a.txt": "only_mask\n",
      "ImageSets/Segmentation/b.txt": "only_image\n",
      "ImageSets/Segmentation/c.txt": "\n2007_999999\n",
      "ImageSets/Segmentation/empty.txt": "\n\n",
    });
    const [images, masks] = [path.join(dir, "JPEGImages"), path.join(dir, "SegmentationClass")];
    const split = (name: string) => path.join(dir, "ImageSets", "Segmentation", `${name}.txt`);
    const missingImage = `loadSegmentationFolder: missing image for ${path.join(masks, "only_mask.png")}. Expected ${path.join(images, "only_mask.jpg")} (or .jpeg, .png).`;
    expect(await errorOf(loadSegmentationFolder(dir))).toBe(missingImage);
    expect(await errorOf(loadSegmentationFolder(dir, { split: "a" }))).toBe(missingImage);
    expect(await errorOf(loadSegmentationFolder(dir, { split: "b" }))).toBe(
      `loadSegmentationFolder: missing mask for id "only_image" (line 1 of ${split("b")}). Expected ${path.join(masks, "only_image.png")} (its image is ${path.join(images, "only_image.jpg")}).`,
    );
    expect(await errorOf(loadSegmentationFolder(dir, { split: "c" }))).toBe(
      `loadSegmentationFolder: no files for id "2007_999999" (line 2 of ${split("c")}). Expected ${path.join(masks, "2007_999999.png")} and ${path.join(images, "2007_999999.jpg")}.`,
    );
    expect(await errorOf(loadSegmentationFolder(dir, { split: "empty" }))).toBe(`loadSegmentationFolder: no ids in ${split("empty")}. Expected ids, one a line.`);
    expect(await errorOf(loadSegmentationFolder(dir, { split: "test" }))).toBe(
      `loadSegmentationFolder: split file not found: ${split("test")} (looked in ${JSON.stringify(path.resolve(split("test")))}). Expected a text file of ids, one a line, relative to dir.`,
    );
    expect(await errorOf(loadSegmentationFolder(dir, { masks: "SegmentationObject" }))).toBe(
      `loadSegmentationFolder: masks folder not found: ${path.join(dir, "SegmentationObject")} (looked in ${JSON.stringify(path.join(dir, "SegmentationObject"))}). ` +
        "Expected Pascal VOC's layout, <dir>/JPEGImages/<id>.jpg and <dir>/SegmentationClass/<id>.png; set `masks` for another folder name.",
    );
    const missing = path.join(dir, "nope");
    expect(await errorOf(loadSegmentationFolder(missing))).toBe(
      `loadSegmentationFolder: images folder not found: ${path.join(missing, "JPEGImages")} (looked in ${JSON.stringify(path.join(missing, "JPEGImages"))}). ` +
        "Expected Pascal VOC's layout, <dir>/JPEGImages/<id>.jpg and <dir>/SegmentationClass/<id>.png; set `images` for another folder name.",
    );
    const empty = folder({ "JPEGImages/a.jpg": solid(1, 1, [0, 0, 0], "image/jpeg"), "SegmentationClass/readme.txt": "" });
    expect(await errorOf(loadSegmentationFolder(empty))).toBe(`loadSegmentationFolder: no masks in ${path.join(empty, "SegmentationClass")}. Expected <id>.png mask files there.`);
  });

  it("names a file that does not decode", async () => {
    const dir = folder({ "JPEGImages/a.jpg": solid(2, 2, [0, 0, 0], "image/jpeg"), "SegmentationClass/a.png": vocMask(2, 2, [0, 0, 0, 0]).subarray(0, 40) });
    expect(await errorOf(loadSegmentationFolder(dir))).toBe(
      `loadSegmentationFolder: cannot decode ${JSON.stringify(path.join(dir, "SegmentationClass", "a.png"))}. Expected a complete PNG, JPEG, GIF or BMP image. Received: a PNG file without its IEND chunk (truncated).`,
    );
  });

  it("rejects invalid options", async () => {
    const dir = folder({});
    const cases: [unknown, unknown, string][] = [
      ["", {}, 'loadSegmentationFolder: invalid dir. Expected the path of a dataset folder such as "data/VOCdevkit/VOC2012". Received: dir="".'],
      [dir, { imagesize: [2, 2] }, "loadSegmentationFolder: unknown option `imagesize`. Expected one of `images`, `masks`, `split`, `palette`, `imageSize`, `classNames`. Did you mean `imageSize`?"],
      [dir, { imageSize: [0, 2] }, "loadSegmentationFolder: invalid imageSize. Expected [height, width], two positive integers. Received: imageSize=[0,2]."],
      [dir, { masks: "" }, 'loadSegmentationFolder: invalid masks. Expected a non-empty path relative to dir. Received: masks="".'],
      [dir, { split: 3 }, "loadSegmentationFolder: invalid split. Expected a non-empty path relative to dir. Received: split=3."],
      [dir, { palette: [[0, 0, 256]] }, "loadSegmentationFolder: invalid palette. Expected 1 to 256 [r, g, b] colours of integers 0..255 (such as vocPalette()), or null for grey masks of class ids. Received: palette=[[0,0,256]]."],
      [dir, { palette: [] }, "loadSegmentationFolder: invalid palette. Expected 1 to 256 [r, g, b] colours of integers 0..255 (such as vocPalette()), or null for grey masks of class ids. Received: palette=[]."],
      [dir, { classNames: [] }, 'loadSegmentationFolder: invalid classNames. Expected a non-empty array of strings, class id = index, e.g. ["background", "cat"]. Received: classNames=[].'],
    ];
    for (const [d, options, message] of cases) {
      expect(await errorOf(loadSegmentationFolder(d as string, options as object))).toBe(message);
    }
  });
});
