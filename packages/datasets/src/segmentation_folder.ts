/**
 * `loadSegmentationFolder(dir)`: a semantic segmentation dataset in Pascal VOC's layout, images
 * and their class masks, as two {@link Uint8Tensor}s `[N, H, W, 3]` and `[N, H, W]`.
 *
 * ```
 * VOC2012/
 *   JPEGImages/2007_000032.jpg          the photo
 *   SegmentationClass/2007_000032.png   its mask: one palette colour per class, 255 (cream) = void
 *   ImageSets/Segmentation/train.txt    ids, one a line
 * ```
 */
import * as fs from "fs";
import * as path from "path";
import { ConvlabError, expectOptions, expectTargetSize, fail, show } from "@convlab/engine";
import { createCanvas, createImageData } from "canvas";
import { decodeImage, readError } from "./image_file";
import { Palette, VOC_SEGMENTATION_CLASSES, VOC_VOID, vocPalette } from "./palette";
import { Uint8Tensor } from "./uint8_tensor";

/** Options of {@link loadSegmentationFolder}. */
export interface LoadSegmentationFolderArgs {
  /** The images' folder inside `dir`. Default `"JPEGImages"`. Files `<id>.jpg` (or `.jpeg`, `.png`). */
  images?: string;
  /** The masks' folder inside `dir`. Default `"SegmentationClass"`. Files `<id>.png`. */
  masks?: string;
  /**
   * The ids to read: a text file of ids, one a line (the first word of each line; blank lines
   * skipped), relative to `dir`, e.g. `"ImageSets/Segmentation/train.txt"`. A bare name without
   * folder or extension, such as `"train"`, `"val"` or `"trainval"`, means
   * `ImageSets/Segmentation/<name>.txt`. Default: every mask file that has an image, by id.
   */
  split?: string;
  /**
   * How a mask pixel's colour becomes a class id: its index in this palette (`[r, g, b]` triples,
   * 1..256 colours). Default {@link vocPalette}`()`. VOC's void colour (224, 224, 192) reads as
   * {@link VOC_VOID} (255) even when the palette is shorter. `null`: the masks are grey images
   * whose pixel value is the class id (Oxford-IIIT Pet's trimaps, most exported label maps).
   */
  palette?: Palette | null;
  /**
   * `[height, width]` to resize to: images bilinear (as {@link loadImage}'s `targetSize`),
   * masks nearest-neighbour (class ids are never mixed). Needed when the images differ in size,
   * as VOC's do. Default: the files' own size, which must then be one size.
   */
  imageSize?: readonly [number, number];
  /**
   * Class names, class id = index; every id in the masks (except 255, void) must be below its
   * length. Default: {@link VOC_SEGMENTATION_CLASSES} with the default palette; otherwise
   * `["0", "1", …]` up to the largest id found.
   */
  classNames?: readonly string[];
}

/** What {@link loadSegmentationFolder} returns. */
export interface SegmentationFolder {
  /** `Uint8Tensor[N, H, W, 3]`, RGB 0..255. */
  images: Uint8Tensor;
  /** `Uint8Tensor[N, H, W]`, class ids (0 = background, 255 = void). */
  masks: Uint8Tensor;
  /** The ids (file names without extension), in the order of `images` and `masks`. */
  ids: string[];
  /** Class names, class id = index. */
  classNames: string[];
}

const UNIT = "loadSegmentationFolder";
const KEYS = ["images", "masks", "split", "palette", "imageSize", "classNames"] as const;
const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png"];
/** VOC's void colour, (224, 224, 192), as a 24-bit key. */
const VOID_KEY = (224 << 16) | (224 << 8) | 192;

/**
 * Reads a semantic segmentation dataset in Pascal VOC's layout: each mask `<masks>/<id>.png` with
 * its image `<images>/<id>.jpg`, images as RGB bytes, masks as class ids.
 *
 * Masks are decoded by canvas to RGB; each pixel's colour becomes its index in `palette` (VOC's
 * `SegmentationClass` PNGs are palette-indexed in {@link vocPalette}'s colours, so the index is the
 * class id PIL reads: `np.array(Image.open(mask))`). The void colour (224, 224, 192) gives 255.
 * With `palette: null` a mask's grey value is the class id. Masks must have their image's size;
 * with `imageSize` both are resized (image bilinear, mask nearest: source row
 * `⌊(y + 0.5) · H / h⌋`, column `⌊(x + 0.5) · W / w⌋`, the half-pixel rule of `tf.image.resize`).
 *
 * Ids come from `split` (in its order) or, without it, from the masks folder (sorted; a mask without
 * an image is skipped, as VOC's `SegmentationClass` is read for its images). Everything is read
 * into memory: VOC 2012's 1,464 training pairs at `imageSize: [256, 256]` take 384 MB.
 *
 * @param dir the dataset's folder (e.g. `"data/VOCdevkit/VOC2012"`), relative to the working folder.
 * @param options `images` ("JPEGImages"), `masks` ("SegmentationClass"), `split`, `palette`
 *   (VOC's), `imageSize`, `classNames` (VOC's 21 with VOC's palette).
 * @returns a promise of `{ images: Uint8Tensor[N,H,W,3], masks: Uint8Tensor[N,H,W], ids, classNames }`.
 * @throws ConvlabError (one line, naming the file) for a missing folder or split file, an id of the
 *   split without its mask or image, a mask without its image, no masks at all, a file that does not
 *   decode, a mask whose size differs from its image's, images of different sizes without
 *   `imageSize`, a mask colour outside the palette (with the pixel and its RGB), a colour pixel in a
 *   grey mask (`palette: null`), a class id beyond `classNames`, and invalid or unknown options.
 *
 * @example
 * ```ts
 * const voc = await loadSegmentationFolder("data/VOCdevkit/VOC2012", { split: "train", imageSize: [256, 256] });
 * voc.images;                       // Uint8Tensor[1464,256,256,3]
 * voc.masks;                        // Uint8Tensor[1464,256,256]
 * const x = voc.images.toTensor("float32", { scale: 1 / 255 });
 * const y = voc.masks.toTensor("int32");          // with ignore_class 255 in the loss
 * ```
 *
 * Keras counterpart: none built in; Keras's "Image segmentation with a U-Net-like architecture"
 * example reads masks with `load_img(path, color_mode="grayscale")` (`palette: null` here), and
 * TensorFlow Datasets' `voc/2012` gives VOC's masks as class ids like this.
 */
export async function loadSegmentationFolder(dir: string, options: LoadSegmentationFolderArgs = {}): Promise<SegmentationFolder> {
  const args = checkArgs(dir, options);
  const imagesDir = path.join(dir, args.images);
  const masksDir = path.join(dir, args.masks);
  const imageFiles = filesById(imagesDir, "images", IMAGE_EXTENSIONS);
  const maskFiles = filesById(masksDir, "masks", [".png"]);
  const pairs = args.split === undefined ? allPairs(imageFiles, maskFiles, imagesDir, masksDir) : splitPairs(dir, args.split, imageFiles, maskFiles, imagesDir, masksDir);

  const lookup = args.palette === null ? undefined : colorLookup(args.palette);
  const paletteName = args.palette === null ? "" : options.palette === undefined ? "VOC's palette (vocPalette(), 256 colours)" : `the given palette of ${args.palette.length} colours`;
  const n = pairs.length;
  let size = args.imageSize;
  let first = "";
  let images: Uint8Array | undefined;
  let masks: Uint8Array | undefined;
  let largest = 0;
  for (let i = 0; i < n; i++) {
    const { image: imageFile, mask: maskFile } = pairs[i];
    const image = decodeRgb(await readBytes(imageFile), imageFile);
    const mask = decodeRgb(await readBytes(maskFile), maskFile);
    const [h, w] = image.shape;
    const [mh, mw] = mask.shape;
    if (mh !== h || mw !== w) {
      throw fail(`${UNIT}: ${maskFile} is ${mh}x${mw} but its image is ${h}x${w}. Expected a mask of its image's size (${imageFile}).`);
    }
    if (size === undefined) {
      size = [h, w];
      first = imageFile;
    } else if (args.imageSize === undefined && (size[0] !== h || size[1] !== w)) {
      throw fail(`${UNIT}: images differ in size: ${first} is ${size[0]}x${size[1]} but ${imageFile} is ${h}x${w}. Expected images of one size; pass imageSize: [height, width] to resize them.`);
    }
    const [th, tw] = size;
    images ??= new Uint8Array(n * th * tw * 3);
    masks ??= new Uint8Array(n * th * tw);
    const ids = lookup ? classIds(mask.data, w, lookup, maskFile, paletteName) : greyIds(mask.data, w, maskFile);
    const names = args.classNames;
    for (let p = 0; p < ids.length; p++) {
      const v = ids[p];
      if (v === VOC_VOID) continue;
      if (names && v >= names.length) {
        const k = names.length;
        const shown = k <= 3 ? names.map((s) => JSON.stringify(s)).join(", ") : `${JSON.stringify(names[0])} … ${JSON.stringify(names[k - 1])}`;
        throw fail(
          `${UNIT}: class id ${v} at pixel (x=${p % w}, y=${Math.floor(p / w)}) of ${maskFile} is beyond classNames (${k} names: ${shown}). ` +
            `Expected ids 0..${k - 1} or ${VOC_VOID} (void); pass classNames for more classes.`,
        );
      }
      if (v > largest) largest = v;
    }
    images.set(h === th && w === tw ? image.data : resizeBilinear(image.data, h, w, th, tw), i * th * tw * 3);
    masks.set(h === th && w === tw ? ids : resizeNearest(ids, h, w, th, tw), i * th * tw);
  }
  const [th, tw] = size!;
  const classNames = args.classNames ? [...args.classNames] : Array.from({ length: largest + 1 }, (_, k) => String(k));
  return {
    images: new Uint8Tensor(images!, [n, th, tw, 3]),
    masks: new Uint8Tensor(masks!, [n, th, tw]),
    ids: pairs.map((p) => p.id),
    classNames,
  };
}

interface CheckedArgs {
  images: string;
  masks: string;
  split?: string;
  palette: Palette | null;
  imageSize?: [number, number];
  classNames?: readonly string[];
}

function checkArgs(dir: unknown, options: LoadSegmentationFolderArgs): CheckedArgs {
  if (typeof dir !== "string" || dir === "") {
    throw fail(`${UNIT}: invalid dir. Expected the path of a dataset folder such as "data/VOCdevkit/VOC2012". Received: dir=${show(dir)}.`);
  }
  expectOptions(UNIT, options, KEYS, '{ split: "train", imageSize: [256, 256] }');
  const folder = (what: "images" | "masks" | "split", value: unknown, fallback?: string): string | undefined => {
    if (value === undefined) return fallback;
    if (typeof value !== "string" || value.trim() === "") throw fail(`${UNIT}: invalid ${what}. Expected a non-empty path relative to dir. Received: ${what}=${show(value)}.`);
    return value;
  };
  const palette = options.palette === undefined ? vocPalette() : options.palette === null ? null : checkPalette(options.palette);
  let classNames = options.classNames;
  if (classNames !== undefined) {
    if (!Array.isArray(classNames) || classNames.length === 0 || !classNames.every((s) => typeof s === "string")) {
      throw fail(`${UNIT}: invalid classNames. Expected a non-empty array of strings, class id = index, e.g. ["background", "cat"]. Received: classNames=${show(classNames)}.`);
    }
  } else if (options.palette === undefined) {
    classNames = VOC_SEGMENTATION_CLASSES;
  }
  return {
    images: folder("images", options.images, "JPEGImages")!,
    masks: folder("masks", options.masks, "SegmentationClass")!,
    split: folder("split", options.split),
    palette,
    imageSize: options.imageSize === undefined ? undefined : expectTargetSize(UNIT, options.imageSize, "imageSize"),
    classNames,
  };
}

function checkPalette(value: unknown): Palette {
  const ok =
    Array.isArray(value) &&
    value.length >= 1 &&
    value.length <= 256 &&
    value.every((c) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  if (!ok) {
    throw fail(`${UNIT}: invalid palette. Expected 1 to 256 [r, g, b] colours of integers 0..255 (such as vocPalette()), or null for grey masks of class ids. Received: palette=${describe(value)}.`);
  }
  return value as Palette;
}

function describe(value: unknown): string {
  return Array.isArray(value) && value.length > 4 ? `an array of ${value.length} items starting ${show(value.slice(0, 2))}` : show(value);
}

/** `id → path` of the files of `folder` with one of `extensions` (case-insensitive; the first extension wins). */
function filesById(folder: string, what: string, extensions: string[]): Map<string, string> {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw fail(
        `${UNIT}: ${what} folder not found: ${folder} (looked in ${show(path.resolve(folder))}). ` +
          `Expected Pascal VOC's layout, <dir>/JPEGImages/<id>.jpg and <dir>/SegmentationClass/<id>.png; set \`${what}\` for another folder name.`,
      );
    }
    throw fail(`${UNIT}: cannot read the ${what} folder ${folder}. Expected a readable folder. Received: ${code ?? (error as Error).message}.`);
  }
  const found = new Map<string, string>();
  names.sort();
  for (const ext of extensions) {
    for (const name of names) {
      if (name.toLowerCase().endsWith(ext) && name.length > ext.length) {
        const id = name.slice(0, -ext.length);
        if (!found.has(id)) found.set(id, path.join(folder, name));
      }
    }
  }
  return found;
}

interface Pair {
  id: string;
  image: string;
  mask: string;
}

function missingImage(id: string, mask: string, imagesDir: string): Error {
  return fail(`${UNIT}: missing image for ${mask}. Expected ${path.join(imagesDir, `${id}.jpg`)} (or .jpeg, .png).`);
}

function allPairs(imageFiles: Map<string, string>, maskFiles: Map<string, string>, imagesDir: string, masksDir: string): Pair[] {
  const ids = [...maskFiles.keys()].sort();
  if (ids.length === 0) throw fail(`${UNIT}: no masks in ${masksDir}. Expected <id>.png mask files there.`);
  const pairs = ids.filter((id) => imageFiles.has(id)).map((id) => ({ id, image: imageFiles.get(id)!, mask: maskFiles.get(id)! }));
  if (pairs.length === 0) throw missingImage(ids[0], maskFiles.get(ids[0])!, imagesDir);
  return pairs;
}

function splitPairs(dir: string, split: string, imageFiles: Map<string, string>, maskFiles: Map<string, string>, imagesDir: string, masksDir: string): Pair[] {
  const bare = !/[\\/]/.test(split) && path.extname(split) === "";
  const relative = bare ? path.join("ImageSets", "Segmentation", `${split}.txt`) : split;
  const target = path.isAbsolute(relative) ? relative : path.join(dir, relative);
  let text: string;
  try {
    text = fs.readFileSync(target, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw fail(`${UNIT}: split file not found: ${target} (looked in ${show(path.resolve(target))}). Expected a text file of ids, one a line, relative to dir.`);
    throw fail(`${UNIT}: cannot read the split file ${target}. Expected a readable text file of ids. Received: ${code ?? (error as Error).message}.`);
  }
  const pairs: Pair[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const id = line.trim().split(/\s+/)[0];
    if (!id) return;
    const [image, mask] = [imageFiles.get(id), maskFiles.get(id)];
    const where = `id ${show(id)} (line ${index + 1} of ${target})`;
    if (!image && !mask) throw fail(`${UNIT}: no files for ${where}. Expected ${path.join(masksDir, `${id}.png`)} and ${path.join(imagesDir, `${id}.jpg`)}.`);
    if (!mask) throw fail(`${UNIT}: missing mask for ${where}. Expected ${path.join(masksDir, `${id}.png`)} (its image is ${image}).`);
    if (!image) throw missingImage(id, mask, imagesDir);
    pairs.push({ id, image, mask });
  });
  if (pairs.length === 0) throw fail(`${UNIT}: no ids in ${target}. Expected ids, one a line.`);
  return pairs;
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (error) {
    throw readError(UNIT, file, error);
  }
}

/** decodeImage's RGB result, its errors under this unit's name. */
function decodeRgb(bytes: Buffer, file: string): Uint8Tensor {
  try {
    return decodeImage(bytes, { colorMode: "rgb" }, file);
  } catch (error) {
    if (error instanceof ConvlabError) throw fail(error.message.replace(/^decodeImage:/, `${UNIT}:`));
    throw error;
  }
}

/** 24-bit colour → palette index (the first one, if a colour repeats); VOC's void colour → 255 unless the palette has it. */
function colorLookup(palette: Palette): Map<number, number> {
  const lookup = new Map<number, number>();
  palette.forEach(([r, g, b], i) => {
    const key = (r << 16) | (g << 8) | b;
    if (!lookup.has(key)) lookup.set(key, i);
  });
  if (!lookup.has(VOID_KEY)) lookup.set(VOID_KEY, VOC_VOID);
  return lookup;
}

function classIds(rgb: Uint8Array, width: number, lookup: Map<number, number>, file: string, paletteName: string): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  // masks are runs of one colour: remember the last one
  let lastKey = -1;
  let lastId = 0;
  for (let p = 0; p < out.length; p++) {
    const key = (rgb[3 * p] << 16) | (rgb[3 * p + 1] << 8) | rgb[3 * p + 2];
    if (key !== lastKey) {
      const id = lookup.get(key);
      if (id === undefined) {
        throw fail(
          `${UNIT}: unknown colour in ${file}: pixel (x=${p % width}, y=${Math.floor(p / width)}) is RGB (${rgb[3 * p]}, ${rgb[3 * p + 1]}, ${rgb[3 * p + 2]}), not in ${paletteName}. ` +
            `Expected a palette-indexed mask in the palette's colours; pass palette for other colours, or palette: null for grey masks of class ids.`,
        );
      }
      [lastKey, lastId] = [key, id];
    }
    out[p] = lastId;
  }
  return out;
}

function greyIds(rgb: Uint8Array, width: number, file: string): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) {
    const [r, g, b] = [rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]];
    if (r !== g || g !== b) {
      throw fail(
        `${UNIT}: ${file} is not a grey mask: pixel (x=${p % width}, y=${Math.floor(p / width)}) is RGB (${r}, ${g}, ${b}). ` +
          `Expected grey class ids (r = g = b) with palette: null; for colour masks leave palette unset (VOC's colours) or pass their palette.`,
      );
    }
    out[p] = r;
  }
  return out;
}

/** RGB `[h, w, 3]` → `[th, tw, 3]` with cairo's bilinear filter, as decodeImage's targetSize. */
function resizeBilinear(rgb: Uint8Array, h: number, w: number, th: number, tw: number): Uint8Array {
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    rgba[4 * p] = rgb[3 * p];
    rgba[4 * p + 1] = rgb[3 * p + 1];
    rgba[4 * p + 2] = rgb[3 * p + 2];
    rgba[4 * p + 3] = 255;
  }
  const source = createCanvas(w, h);
  source.getContext("2d").putImageData(createImageData(rgba, w, h), 0, 0);
  const canvas = createCanvas(tw, th);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.patternQuality = "bilinear";
  ctx.drawImage(source, 0, 0, tw, th);
  const out = ctx.getImageData(0, 0, tw, th).data;
  const result = new Uint8Array(th * tw * 3);
  for (let p = 0; p < th * tw; p++) {
    result[3 * p] = out[4 * p];
    result[3 * p + 1] = out[4 * p + 1];
    result[3 * p + 2] = out[4 * p + 2];
  }
  return result;
}

/** Class ids `[h, w]` → `[th, tw]`, nearest neighbour with half-pixel centres. */
function resizeNearest(ids: Uint8Array, h: number, w: number, th: number, tw: number): Uint8Array {
  const out = new Uint8Array(th * tw);
  const cols = Array.from({ length: tw }, (_, x) => Math.min(w - 1, Math.floor(((x + 0.5) * w) / tw)));
  for (let y = 0; y < th; y++) {
    const row = Math.min(h - 1, Math.floor(((y + 0.5) * h) / th)) * w;
    for (let x = 0; x < tw; x++) out[y * tw + x] = ids[row + cols[x]];
  }
  return out;
}
