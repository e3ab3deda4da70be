/**
 * `syntheticScenes({ count, … })`: images of simple coloured shapes with their boxes, classes,
 * class masks and instance masks, for the object-detection and segmentation lessons, drawn in
 * a fraction of a second, the same bytes for the same seed.
 *
 * Everything is rasterised with plain loops, without anti-aliasing: a pixel belongs to a shape
 * when its centre does, so the masks are exact and every box is the tight box of its mask.
 */
import * as tf from "@tensorflow/tfjs";
import { Random, expectBoolean, expectNumber, expectOneOf, expectOptions, expectSeed, expectTargetSize, fail, show } from "@convlab/engine";
import { Uint8Tensor } from "./uint8_tensor";

/** The shapes {@link syntheticScenes} draws, the possible `classes`. */
export const SCENE_SHAPES = ["circle", "square", "triangle", "rectangle", "ellipse", "star", "cross"] as const;
/** A shape of {@link SCENE_SHAPES}. */
export type SceneShape = (typeof SCENE_SHAPES)[number];
/** The backgrounds of {@link syntheticScenes}. */
export const SCENE_BACKGROUNDS = ["plain", "noise", "gradient", "clutter"] as const;
/** A background of {@link SCENE_BACKGROUNDS}. */
export type SceneBackground = (typeof SCENE_BACKGROUNDS)[number];
/** The default `classes` of {@link syntheticScenes}: class 0 is `"circle"`, 1 `"square"`, 2 `"triangle"`. */
export const DEFAULT_SCENE_CLASSES: readonly SceneShape[] = Object.freeze(["circle", "square", "triangle"] as SceneShape[]);

/** Options of {@link syntheticScenes}. */
export interface SyntheticScenesArgs {
  /** How many scenes, an integer >= 1. Required. */
  count: number;
  /** `[height, width]` of every image, positive integers, the smaller at least 4. Default `[64, 64]`. */
  imageSize?: readonly [number, number];
  /** The shapes to draw, distinct names of {@link SCENE_SHAPES}; class `k` is `classes[k]`. Default {@link DEFAULT_SCENE_CLASSES}. */
  classes?: readonly SceneShape[];
  /** Fewest objects in a scene, an integer in [0, 255]. Default 1. */
  minObjects?: number;
  /** Most objects in a scene, an integer in [minObjects, 255]. Default 4 (or `minObjects` when larger). */
  maxObjects?: number;
  /**
   * Smallest object, in pixels: the side of the square a shape is drawn in (the long side of a
   * rectangle or ellipse), an integer in [4, min(height, width)]. Default 15% of the smaller image
   * side, at least 4 (10 for 64x64).
   */
  minSize?: number;
  /** Largest object, in pixels, an integer in [minSize, min(height, width)]. Default 40% of the smaller image side (26 for 64x64). */
  maxSize?: number;
  /**
   * The largest IoU allowed between the boxes of two objects as drawn (before anything covers
   * them), a number in [0, 1]: 0 keeps boxes apart (they may share an edge), 1 allows any overlap.
   * Default 0.3.
   */
  maxOverlap?: number;
  /**
   * The smallest fraction of an object's pixels that must stay visible once the later objects are
   * drawn over it, in [0, 1]; an object below it is left out of the scene entirely (not drawn, no
   * box). Default 0.5.
   */
  minVisible?: number;
  /**
   * Make objects of the same class touch: every scene with two or more objects has at least one pair
   * of same-class objects whose visible pixels are 4-adjacent without overlapping, so the class mask
   * shows one region where the instance mask shows two. Default false: objects of the same class
   * never overlap or touch (not even diagonally), so each object is its own region of the class mask
   * (a region may still be split in two by a covering object of another class).
   */
  touching?: boolean;
  /**
   * `"plain"` (one random colour), `"noise"` (a random colour with per-pixel noise of ±40 per channel),
   * `"gradient"` (a linear blend of two random colours in a random direction) or `"clutter"`
   * (a random colour with 3–8 distractor lines and small blobs, which are in no mask). Default `"plain"`.
   */
  background?: SceneBackground;
  /** Seed, a non-negative integer; omitted or `null`: different scenes every run. */
  seed?: number | null;
}

/** {@link SyntheticScenes} as tensors, from `scenes.toTensors()`; the caller disposes them. */
export interface SceneTensors {
  /** The images, float32 `[n, h, w, 3]` in [0, 1]. */
  x: tf.Tensor4D;
  /** Boxes, float32 `[n, maxObjects, 4]`, pixel `[x1, y1, x2, y2]`; rows after an image's objects are -1 (KerasCV's dense padding). */
  boxes: tf.Tensor3D;
  /** Class ids, int32 `[n, maxObjects]`; -1 after an image's objects. */
  classes: tf.Tensor2D;
  /** Class masks, int32 `[n, h, w]`: 0 background, `k + 1` class `k`. */
  masks: tf.Tensor3D;
}

/** What {@link syntheticScenes} returns. Object `j` of image `i` is `boxes[i][j]`, `classes[i][j]` and the pixels where `instanceMasks` is `j + 1`. */
export interface SyntheticScenes {
  /** The images, `Uint8Tensor[n, h, w, 3]`, RGB 0–255. */
  images: Uint8Tensor;
  /**
   * Per image, per object in drawing order (later objects drawn over earlier ones), the tight box of its
   * visible pixels, pixel `[x1, y1, x2, y2]` with pixel column `i` spanning [i, i + 1): integers,
   * `x2 - x1` pixels wide.
   */
  boxes: number[][][];
  /** Per image, per object, its class id (0-based index into `classNames`). */
  classes: number[][];
  /** Class masks, `Uint8Tensor[n, h, w]`: 0 background, `k + 1` where an object of class `k` is visible. */
  masks: Uint8Tensor;
  /** Instance masks, `Uint8Tensor[n, h, w]`: 0 background, `j + 1` where object `j` of the image is visible. */
  instanceMasks: Uint8Tensor;
  /** Per image, the pairs `[j, k]` (j < k) of same-class objects whose visible pixels touch (4-adjacent); empty unless `touching`. */
  touching: [number, number][][];
  /** The class names, `classes` as given; class `k` is `classNames[k]`. */
  classNames: readonly string[];
  /** The `maxObjects` the scenes were drawn with: the padded length of `toTensors()`'s boxes. */
  maxObjects: number;
  /**
   * The scenes as new tensors (the caller disposes them): `x` float32 `[n, h, w, 3]` in [0, 1],
   * `boxes` float32 `[n, maxObjects, 4]` and `classes` int32 `[n, maxObjects]` padded with -1,
   * `masks` int32 `[n, h, w]`. Instance masks: `scenes.instanceMasks.toTensor("int32")`.
   */
  toTensors(): SceneTensors;
}

const UNIT = "syntheticScenes";
const OPTION_KEYS = ["count", "imageSize", "classes", "minObjects", "maxObjects", "minSize", "maxSize", "maxOverlap", "minVisible", "touching", "background", "seed"] as const;
/** Placement tries per object before it is left out, and scene tries before giving up. */
const OBJECT_TRIES = 50;
const SCENE_TRIES = 100;
/** Least RGB distance of an object's colour to the background under it, and to the colours of objects it overlaps or touches. */
const BACKGROUND_CONTRAST = 100;
const OBJECT_CONTRAST = 60;
const COLOUR_TRIES = 32;

/** A rasterised shape, cropped to the tight box of its pixels. */
interface Raster {
  w: number;
  h: number;
  bits: Uint8Array;
  area: number;
  /** Per row, the first and last column with a pixel (-1 for none); per column, the first and last row. */
  rowMin: Int16Array;
  rowMax: Int16Array;
  colMin: Int16Array;
  colMax: Int16Array;
}

interface Placed {
  cls: number;
  x0: number;
  y0: number;
  shape: Raster;
}

/**
 * Draws `count` scenes of coloured shapes on a background, with everything detection and
 * segmentation train on: boxes, class ids, class masks and instance masks.
 *
 * How a scene is drawn, all from `new Random(seed)` (same seed and options, same bytes):
 * - the background; then a number of objects uniform in [minObjects, maxObjects], each of a class
 *   uniform over `classes`, a size uniform in [minSize, maxSize] (rectangles and ellipses: long side
 *   that size, short side 45–70% of it, wide or tall at random), at a uniform position inside the image;
 * - a position is redrawn (50 tries, then the object is left out) when the boxes' IoU with an earlier
 *   object exceeds `maxOverlap`, or when it would overlap an object of its class (or, unless it is
 *   a touching partner, touch one, even diagonally);
 * - with `touching`, the second object (and each later one with probability 1/2) is instead slid
 *   against a random earlier object, taking its class, until their pixels are 4-adjacent;
 * - objects are drawn in order, later over earlier; an object with less than `minVisible` of its
 *   pixels visible (or none) is left out entirely, and the scene redrawn without it: the image
 *   never shows a piece of an object that has no box. The other boxes are the tight boxes of what
 *   stays visible, so a partly covered object's box is smaller than its shape;
 * - colours are random per object, at RGB distance >= 100 from the mean background under the object
 *   and >= 60 from objects it overlaps or touches (the best of 32 draws when none is that far);
 * - a scene with fewer than `minObjects` objects left (or, with `touching`, two or more objects but
 *   no touching pair) is drawn again; after 100 tries the options are reported as too tight.
 *
 * Shapes are rasterised without anti-aliasing (a pixel is in a shape when its centre is), so
 * `masks`, `instanceMasks` and `boxes` agree exactly with the image.
 *
 * @param options `count` (required), `imageSize` (default [64, 64]), `classes` (default
 *   circle, square, triangle), `minObjects`/`maxObjects` (1, 4), `minSize`/`maxSize` (15% and 40% of
 *   the smaller side), `maxOverlap` (0.3), `minVisible` (0.5), `touching` (false), `background`
 *   ("plain"), `seed`. See {@link SyntheticScenesArgs}.
 * @returns `{ images [n,h,w,3], boxes, classes, masks [n,h,w], instanceMasks [n,h,w], touching,
 *   classNames, maxObjects, toTensors() }`, see {@link SyntheticScenes}.
 * @throws ConvlabError (one line) for an invalid or unknown option (suggesting the nearest name),
 *   and when the scenes cannot be drawn (objects too many or too large for the image and `maxOverlap`).
 *
 * @example
 * ```ts
 * const scenes = syntheticScenes({ count: 1000, seed: 42 });
 * scenes.images;                         // Uint8Tensor[1000,64,64,3]
 * scenes.boxes[0];                       // e.g. [[12, 30, 33, 51], [40, 5, 58, 21]]
 * scenes.classNames[scenes.classes[0][0]]; // e.g. "square"
 * const { x, boxes, classes, masks } = scenes.toTensors();  // x: float32 [1000,64,64,3] in [0, 1]
 * const touching = syntheticScenes({ count: 100, classes: ["ellipse"], touching: true, seed: 1 });
 * ```
 *
 * Keras counterpart: none; Keras's object-detection guides download Pascal VOC or COCO.
 * The boxes are KerasCV's `"xyxy"` format in pixels; `toTensors()` pads them with -1 as KerasCV's
 * `bounding_box.to_dense` does.
 */
export function syntheticScenes(options: SyntheticScenesArgs): SyntheticScenes {
  if (options === undefined) {
    throw fail(`${UNIT}: invalid options. Expected an object such as { count: 1000, seed: 42 }. Received: options=undefined.`);
  }
  expectOptions(UNIT, options, OPTION_KEYS, "{ count: 1000, seed: 42 }");
  const count = expectNumber(UNIT, "count", options.count, { integer: true, min: 1 });
  const [height, width] = expectTargetSize(UNIT, options.imageSize ?? [64, 64], "imageSize");
  const side = Math.min(height, width);
  if (side < 4) {
    throw fail(`${UNIT}: invalid imageSize. Expected [height, width], both at least 4. Received: imageSize=${show(options.imageSize)}.`);
  }
  const classNames = checkClasses(options.classes ?? DEFAULT_SCENE_CLASSES);
  const givenMaxObjects = typeof options.maxObjects === "number" ? options.maxObjects : undefined;
  const minObjects = expectNumber(UNIT, "minObjects", options.minObjects ?? Math.max(0, Math.min(1, givenMaxObjects ?? 1)), { integer: true, min: 0, max: 255 });
  const maxObjects = expectNumber(UNIT, "maxObjects", options.maxObjects ?? Math.max(4, minObjects), { integer: true, min: minObjects, max: 255 });
  const defaultMin = Math.max(4, Math.round(0.15 * side));
  const defaultMax = Math.max(4, Math.round(0.4 * side));
  const givenMax = typeof options.maxSize === "number" ? options.maxSize : undefined;
  const minSize = expectNumber(UNIT, "minSize", options.minSize ?? Math.min(defaultMin, givenMax ?? defaultMin), { integer: true, min: 4, max: side });
  const maxSize = expectNumber(UNIT, "maxSize", options.maxSize ?? Math.max(defaultMax, minSize), { integer: true, min: minSize, max: side });
  const maxOverlap = expectNumber(UNIT, "maxOverlap", options.maxOverlap ?? 0.3, { min: 0, max: 1 });
  const minVisible = expectNumber(UNIT, "minVisible", options.minVisible ?? 0.5, { min: 0, max: 1 });
  const touching = expectBoolean(UNIT, "touching", options.touching ?? false);
  const background = expectOneOf(UNIT, "background", options.background ?? "plain", SCENE_BACKGROUNDS);
  const seed = expectSeed(UNIT, options.seed);

  const drawer = new SceneDrawer({ height, width, classNames, minObjects, maxObjects, minSize, maxSize, maxOverlap, minVisible, touching, background }, new Random(seed));
  const pixels = height * width;
  const images = new Uint8Array(count * pixels * 3);
  const masks = new Uint8Array(count * pixels);
  const instances = new Uint8Array(count * pixels);
  const boxes: number[][][] = [];
  const classes: number[][] = [];
  const pairs: [number, number][][] = [];
  for (let n = 0; n < count; n++) {
    const scene = drawer.draw(
      images.subarray(n * pixels * 3, (n + 1) * pixels * 3),
      masks.subarray(n * pixels, (n + 1) * pixels),
      instances.subarray(n * pixels, (n + 1) * pixels),
    );
    boxes.push(scene.boxes);
    classes.push(scene.classes);
    pairs.push(scene.touching);
  }
  const result: SyntheticScenes = {
    images: new Uint8Tensor(images, [count, height, width, 3]),
    boxes,
    classes,
    masks: new Uint8Tensor(masks, [count, height, width]),
    instanceMasks: new Uint8Tensor(instances, [count, height, width]),
    touching: pairs,
    classNames,
    maxObjects,
    toTensors: () => sceneTensors(result),
  };
  return result;
}

function checkClasses(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw fail(`${UNIT}: invalid classes. Expected a non-empty array of shape names from ${SCENE_SHAPES.map((s) => JSON.stringify(s)).join(", ")}. Received: classes=${show(value)}.`);
  }
  for (const name of value) expectOneOf(UNIT, "classes", name, SCENE_SHAPES);
  const repeated = value.find((name, i) => value.indexOf(name) !== i);
  if (repeated !== undefined) {
    throw fail(`${UNIT}: invalid classes. Expected distinct shape names. Received: classes=${show(value)} (${show(repeated)} twice).`);
  }
  return Object.freeze([...(value as string[])]);
}

function sceneTensors(scenes: SyntheticScenes): SceneTensors {
  const n = scenes.boxes.length;
  const m = scenes.maxObjects;
  const boxes = new Float32Array(n * m * 4).fill(-1);
  const classes = new Int32Array(n * m).fill(-1);
  for (let i = 0; i < n; i++) {
    scenes.boxes[i].forEach((box, j) => boxes.set(box, (i * m + j) * 4));
    classes.set(scenes.classes[i], i * m);
  }
  return {
    x: scenes.images.toTensor("float32", { scale: 1 / 255 }) as tf.Tensor4D,
    boxes: tf.tensor3d(boxes, [n, m, 4], "float32"),
    classes: tf.tensor2d(classes, [n, m], "int32"),
    masks: scenes.masks.toTensor("int32") as tf.Tensor3D,
  };
}

interface DrawerArgs {
  height: number;
  width: number;
  classNames: readonly string[];
  minObjects: number;
  maxObjects: number;
  minSize: number;
  maxSize: number;
  maxOverlap: number;
  minVisible: number;
  touching: boolean;
  background: SceneBackground;
}

/** Draws scenes one after the other into the caller's buffers, with scratch memory and a shape cache shared between scenes. */
class SceneDrawer {
  private readonly rasters = new Map<string, Raster>();
  /** Per class, which pixels the objects placed so far cover (as drawn, before covering). */
  private readonly occupied: Uint8Array;
  /** Per class, the pixels of `occupied` and their 8 neighbours: where another object of the class would touch. */
  private readonly near: Uint8Array;
  /** Object index + 1 per pixel, while deciding which objects stay visible. */
  private readonly owner: Uint8Array;
  private readonly counts = new Int32Array(257);

  constructor(
    private readonly args: DrawerArgs,
    private readonly random: Random,
  ) {
    this.occupied = new Uint8Array(args.classNames.length * args.height * args.width);
    this.near = new Uint8Array(args.classNames.length * args.height * args.width);
    this.owner = new Uint8Array(args.height * args.width);
  }

  draw(image: Uint8Array, mask: Uint8Array, instance: Uint8Array): { boxes: number[][]; classes: number[]; touching: [number, number][] } {
    const { height, width, minObjects, touching } = this.args;
    drawBackground(image, height, width, this.args.background, this.args.minSize, this.random);
    for (let attempt = 0; attempt < SCENE_TRIES; attempt++) {
      const objects = this.visible(this.place());
      if (objects.length < minObjects) continue;
      const pairs = touchingPairs(this.owner, width, height, objects);
      if (touching && objects.length >= 2 && pairs.length === 0) continue;
      const colours = this.colours(image, objects);
      const boxes = objects.map(() => [width, height, 0, 0]);
      objects.forEach((o, j) => {
        const { w, h, bits } = o.shape;
        const [r, g, b] = colours[j];
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            if (bits[y * w + x] === 0) continue;
            const p = (o.y0 + y) * width + o.x0 + x;
            if (this.owner[p] !== j + 1) continue;
            image[3 * p] = r;
            image[3 * p + 1] = g;
            image[3 * p + 2] = b;
            mask[p] = o.cls + 1;
            instance[p] = j + 1;
            const box = boxes[j];
            const px = o.x0 + x;
            const py = o.y0 + y;
            if (px < box[0]) box[0] = px;
            if (py < box[1]) box[1] = py;
            if (px + 1 > box[2]) box[2] = px + 1;
            if (py + 1 > box[3]) box[3] = py + 1;
          }
        }
      });
      return { boxes, classes: objects.map((o) => o.cls), touching: pairs };
    }
    const a = this.args;
    throw fail(
      `${UNIT}: could not draw a scene of at least ${minObjects} object${minObjects === 1 ? "" : "s"} in ${SCENE_TRIES} tries. ` +
        `Expected room for minObjects objects of minSize to maxSize pixels at maxOverlap${touching ? " with touching pairs" : ""}: lower minObjects or the sizes, or raise maxOverlap. ` +
        `Received: minObjects=${minObjects}, imageSize=[${height},${width}], minSize=${a.minSize}, maxSize=${a.maxSize}, maxOverlap=${a.maxOverlap}, minVisible=${a.minVisible}.`,
    );
  }

  /** Draws the objects' classes, sizes and positions. */
  private place(): Placed[] {
    const { height, width, classNames, minObjects, maxObjects, touching } = this.args;
    const random = this.random;
    this.occupied.fill(0);
    this.near.fill(0);
    const wanted = minObjects + random.int(maxObjects - minObjects + 1);
    const placed: Placed[] = [];
    let pairs = 0;
    for (let i = 0; i < wanted; i++) {
      const partner = touching && placed.length > 0 && (pairs === 0 || random.bernoulli(0.5)) ? placed[random.int(placed.length)] : undefined;
      const cls = partner ? partner.cls : random.int(classNames.length);
      for (let attempt = 0; attempt < OBJECT_TRIES; attempt++) {
        const shape = this.shape(classNames[cls] as SceneShape);
        let x0: number;
        let y0: number;
        if (partner) {
          const spot = touchingSpot(partner, shape, random);
          if (!spot || spot[0] < 0 || spot[1] < 0 || spot[0] + shape.w > width || spot[1] + shape.h > height) continue;
          [x0, y0] = spot;
        } else {
          x0 = random.int(width - shape.w + 1);
          y0 = random.int(height - shape.h + 1);
        }
        const candidate: Placed = { cls, x0, y0, shape };
        if (!this.fits(candidate, placed, partner)) continue;
        this.occupy(candidate);
        placed.push(candidate);
        if (partner) pairs++;
        break;
      }
    }
    return placed;
  }

  /** Whether `o` keeps to `maxOverlap` with every placed object but its partner, and keeps off its class. */
  private fits(o: Placed, placed: Placed[], partner: Placed | undefined): boolean {
    const { maxOverlap, width, height } = this.args;
    if (maxOverlap < 1) {
      for (const other of placed) {
        if (other !== partner && iou(o, other) > maxOverlap) return false;
      }
    }
    // The same class never overlaps; without a partner it does not touch either, not even diagonally.
    // (Plain loops without Math calls: this runs for every pixel of every candidate position, and
    // global lookups are slow in the vm contexts of notebooks and Jest.)
    const map = partner ? this.occupied : this.near;
    const base = o.cls * width * height;
    const { w, h, bits } = o.shape;
    for (let y = 0; y < h; y++) {
      const row = base + (o.y0 + y) * width + o.x0;
      for (let x = 0; x < w; x++) if (bits[y * w + x] !== 0 && map[row + x] !== 0) return false;
    }
    return true;
  }

  private occupy(o: Placed): void {
    const { width, height } = this.args;
    const base = o.cls * width * height;
    const { w, h, bits } = o.shape;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (bits[y * w + x] === 0) continue;
        const px = o.x0 + x;
        const py = o.y0 + y;
        this.occupied[base + py * width + px] = 1;
        const top = py > 0 ? py - 1 : 0;
        const bottom = py + 1 < height ? py + 1 : py;
        const left = px > 0 ? px - 1 : 0;
        const right = px + 1 < width ? px + 1 : px;
        for (let ny = top; ny <= bottom; ny++) {
          for (let nx = left; nx <= right; nx++) this.near[base + ny * width + nx] = 1;
        }
      }
    }
  }

  /**
   * The objects that stay once all are drawn, later over earlier, with `owner` holding the
   * visible object (index + 1) of every pixel. Leaving an object out only uncovers the others, so
   * one pass of dropping suffices.
   */
  private visible(objects: Placed[]): Placed[] {
    const minVisible = this.args.minVisible;
    this.paintOwners(objects);
    const kept = objects.filter((o, j) => {
      const seen = this.counts[j + 1];
      return seen > 0 && seen >= minVisible * o.shape.area;
    });
    if (kept.length < objects.length) this.paintOwners(kept);
    return kept;
  }

  private paintOwners(objects: Placed[]): void {
    const width = this.args.width;
    const owner = this.owner;
    owner.fill(0);
    objects.forEach((o, j) => {
      const { w, h, bits } = o.shape;
      for (let y = 0; y < h; y++) {
        const row = (o.y0 + y) * width + o.x0;
        for (let x = 0; x < w; x++) if (bits[y * w + x]) owner[row + x] = j + 1;
      }
    });
    this.counts.fill(0);
    for (let p = 0; p < owner.length; p++) this.counts[owner[p]]++;
  }

  /** A colour per object, far from the background under it and from the objects it overlaps or touches. */
  private colours(image: Uint8Array, objects: Placed[]): [number, number, number][] {
    const width = this.args.width;
    const colours: [number, number, number][] = [];
    objects.forEach((o, j) => {
      const mean = [0, 0, 0];
      for (let y = o.y0; y < o.y0 + o.shape.h; y++) {
        for (let x = o.x0; x < o.x0 + o.shape.w; x++) {
          const p = 3 * (y * width + x);
          mean[0] += image[p];
          mean[1] += image[p + 1];
          mean[2] += image[p + 2];
        }
      }
      const n = o.shape.w * o.shape.h;
      const neighbours = colours.filter((_, k) => near(objects[k], o));
      let best: [number, number, number] = [0, 0, 0];
      let bestScore = -Infinity;
      for (let attempt = 0; attempt < COLOUR_TRIES; attempt++) {
        const bits = this.random.nextUint32();
        const colour: [number, number, number] = [bits & 255, (bits >>> 8) & 255, (bits >>> 16) & 255];
        let score = distance(colour, [mean[0] / n, mean[1] / n, mean[2] / n]) / BACKGROUND_CONTRAST;
        for (const other of neighbours) score = Math.min(score, distance(colour, other) / OBJECT_CONTRAST);
        if (score > bestScore) [best, bestScore] = [colour, score];
        if (score >= 1) break;
      }
      colours.push(best);
    });
    return colours;
  }

  /** A shape of `name` at a random size, rasterised once per (shape, size) for the whole call. */
  private shape(name: SceneShape): Raster {
    const { minSize, maxSize } = this.args;
    const random = this.random;
    const size = minSize + random.int(maxSize - minSize + 1);
    let w = size;
    let h = size;
    if (name === "rectangle" || name === "ellipse") {
      const short = Math.max(2, Math.round(size * random.uniform(0.45, 0.7)));
      if (random.bernoulli()) h = short;
      else w = short;
    }
    const key = `${name} ${w} ${h}`;
    let raster = this.rasters.get(key);
    if (!raster) {
      raster = rasterise(name, w, h);
      this.rasters.set(key, raster);
    }
    return raster;
  }
}

/** IoU of the boxes of two placed shapes (as drawn). */
function iou(a: Placed, b: Placed): number {
  const iw = Math.min(a.x0 + a.shape.w, b.x0 + b.shape.w) - Math.max(a.x0, b.x0);
  const ih = Math.min(a.y0 + a.shape.h, b.y0 + b.shape.h) - Math.max(a.y0, b.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (a.shape.w * a.shape.h + b.shape.w * b.shape.h - inter);
}

/** Whether two objects' boxes overlap or share an edge. */
function near(a: Placed, b: Placed): boolean {
  return a.x0 <= b.x0 + b.shape.w && b.x0 <= a.x0 + a.shape.w && a.y0 <= b.y0 + b.shape.h && b.y0 <= a.y0 + a.shape.h;
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/**
 * Where `shape` touches `partner` from a random side (right, left, below, above) at a random
 * offset across that side: the shape slides along the side's axis until, on the lines (rows for
 * left/right, columns for above/below) both cross, its nearest pixel is next to the partner's
 * farthest. Every shared line then keeps a gap >= 0, so the two never overlap, and the line
 * where the gap is 0 makes them 4-adjacent. `undefined` when no line has pixels of both.
 */
function touchingSpot(partner: Placed, shape: Raster, random: Random): [number, number] | undefined {
  const p = partner.shape;
  const horizontal = random.bernoulli();
  const after = random.bernoulli();
  // Lines across the sliding axis: rows when sliding horizontally, columns otherwise.
  const pLines = horizontal ? p.h : p.w;
  const sLines = horizontal ? shape.h : shape.w;
  const pFirstLine = horizontal ? partner.y0 : partner.x0;
  const pStart = horizontal ? partner.x0 : partner.y0;
  const [pLow, pHigh] = horizontal ? [p.rowMin, p.rowMax] : [p.colMin, p.colMax];
  const [sLow, sHigh] = horizontal ? [shape.rowMin, shape.rowMax] : [shape.colMin, shape.colMax];
  // The shape's first line, so that at least one line is shared.
  const across = pFirstLine - sLines + 1 + random.int(pLines + sLines - 1);
  let along: number | undefined;
  for (let line = Math.max(pFirstLine, across); line < Math.min(pFirstLine + pLines, across + sLines); line++) {
    const pi = line - pFirstLine;
    const si = line - across;
    if (pLow[pi] < 0 || sLow[si] < 0) continue;
    if (after) {
      const start = pStart + pHigh[pi] + 1 - sLow[si];
      along = along === undefined ? start : Math.max(along, start);
    } else {
      const start = pStart + pLow[pi] - 1 - sHigh[si];
      along = along === undefined ? start : Math.min(along, start);
    }
  }
  if (along === undefined) return undefined;
  return horizontal ? [along, across] : [across, along];
}

/** The pairs of same-class objects whose visible pixels are 4-adjacent, from the owner map. */
function touchingPairs(owner: Uint8Array, width: number, height: number, objects: Placed[]): [number, number][] {
  const found = new Set<number>();
  const check = (a: number, b: number): void => {
    if (a === 0 || b === 0 || a === b || objects[a - 1].cls !== objects[b - 1].cls) return;
    found.add(a < b ? (a - 1) * 256 + b - 1 : (b - 1) * 256 + a - 1);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x + 1 < width) check(owner[p], owner[p + 1]);
      if (y + 1 < height) check(owner[p], owner[p + width]);
    }
  }
  return [...found].sort((a, b) => a - b).map((k) => [Math.floor(k / 256), k % 256]);
}

/**
 * A shape drawn in a `w` x `h` box without anti-aliasing: pixel (x, y) is in when its centre
 * (x + 0.5, y + 0.5) is inside the shape; then cropped to the tight box of its pixels.
 * - circle/ellipse: ((px − w/2) / (w/2))² + ((py − h/2) / (h/2))² <= 1
 * - square/rectangle: the whole box
 * - triangle: apex (w/2, 0), base from (0, h) to (w, h): |px − w/2| <= (w/2) · py / h
 * - star: a regular five-pointed star, point up, outer radius w/2 centred at (w/2, w/2), inner
 *   radius 0.382 × the outer (the pentagram's), by even-odd point-in-polygon
 * - cross: a plus of two bars a third of the size thick, |px − w/2| <= w/6 or |py − h/2| <= h/6
 */
function rasterise(name: SceneShape, w: number, h: number): Raster {
  const inside = insideTest(name, w, h);
  const full = new Uint8Array(w * h);
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!inside(x + 0.5, y + 0.5)) continue;
      full[y * w + x] = 1;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const bits = new Uint8Array(cw * ch);
  const rowMin = new Int16Array(ch).fill(-1);
  const rowMax = new Int16Array(ch).fill(-1);
  const colMin = new Int16Array(cw).fill(-1);
  const colMax = new Int16Array(cw).fill(-1);
  let area = 0;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      if (!full[(y + y0) * w + x + x0]) continue;
      bits[y * cw + x] = 1;
      area++;
      if (rowMin[y] < 0) rowMin[y] = x;
      rowMax[y] = x;
      if (colMin[x] < 0) colMin[x] = y;
      colMax[x] = y;
    }
  }
  return { w: cw, h: ch, bits, area, rowMin, rowMax, colMin, colMax };
}

function insideTest(name: SceneShape, w: number, h: number): (px: number, py: number) => boolean {
  switch (name) {
    case "circle":
    case "ellipse": {
      const [cx, cy, rx, ry] = [w / 2, h / 2, w / 2, h / 2];
      return (px, py) => ((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 <= 1;
    }
    case "square":
    case "rectangle":
      return () => true;
    case "triangle":
      return (px, py) => Math.abs(px - w / 2) <= ((w / 2) * py) / h;
    case "cross":
      return (px, py) => Math.abs(px - w / 2) <= w / 6 || Math.abs(py - h / 2) <= h / 6;
    case "star": {
      const outer = w / 2;
      const inner = outer * 0.381966;
      const xs: number[] = [];
      const ys: number[] = [];
      for (let k = 0; k < 10; k++) {
        const angle = -Math.PI / 2 + (k * Math.PI) / 5;
        const r = k % 2 === 0 ? outer : inner;
        xs.push(w / 2 + r * Math.cos(angle));
        ys.push(outer + r * Math.sin(angle));
      }
      return (px, py) => {
        let inside = false;
        for (let i = 0, j = 9; i < 10; j = i++) {
          if (ys[i] > py !== ys[j] > py && px < ((xs[j] - xs[i]) * (py - ys[i])) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
        }
        return inside;
      };
    }
  }
}

/** Fills `image` (h x w x 3) with a background; every pixel is written. */
function drawBackground(image: Uint8Array, height: number, width: number, kind: SceneBackground, minSize: number, random: Random): void {
  const base = randomColour(random);
  const pixels = height * width;
  if (kind === "gradient") {
    const end = randomColour(random);
    const angle = random.uniform(0, 2 * Math.PI);
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    // t in [0, 1] along the direction (c, s), over the image's extent in that direction.
    const extent = Math.abs(width * c) + Math.abs(height * s);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const t = ((x + 0.5 - width / 2) * c + (y + 0.5 - height / 2) * s) / extent + 0.5;
        const p = 3 * (y * width + x);
        // t is in [0, 1], so the value is in [0, 255] and `| 0` rounds it like Math.round.
        for (let k = 0; k < 3; k++) image[p + k] = (base[k] + (end[k] - base[k]) * t + 0.5) | 0;
      }
    }
    return;
  }
  if (kind === "noise") {
    // The base colour keeps 40 from each end so the ±40 noise is rarely clipped. The noise has 32
    // levels from -40 to 40 (5 bits), so one 32-bit draw serves two pixels. The draws come from a
    // xorshift32 seeded by `random`: only shifts and xors, where `Random`'s Math.imul calls cost
    // several times more in the vm contexts of notebooks and Jest (a global lookup per call).
    const mid = base.map((v) => 40 + Math.round((v * 175) / 255));
    let state = random.nextUint32() | 1;
    let bits = 0;
    for (let p = 0; p < pixels; p++) {
      if ((p & 1) === 0) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        bits = state >>> 0;
      } else bits >>>= 15;
      for (let k = 0; k < 3; k++) {
        const v = mid[k] + NOISE_LEVELS[(bits >>> (5 * k)) & 31];
        image[3 * p + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    return;
  }
  for (let p = 0; p < pixels; p++) {
    image[3 * p] = base[0];
    image[3 * p + 1] = base[1];
    image[3 * p + 2] = base[2];
  }
  if (kind === "plain") return;
  // Clutter: thin lines across the image and blobs smaller than any object.
  const distractors = 3 + random.int(6);
  for (let i = 0; i < distractors; i++) {
    const colour = randomColour(random);
    if (random.bernoulli(0.6)) {
      line(image, width, random.int(width), random.int(height), random.int(width), random.int(height), colour);
    } else {
      const rx = random.uniform(1, Math.max(1.5, minSize / 4));
      const ry = random.uniform(1, Math.max(1.5, minSize / 4));
      const cx = random.uniform(0, width);
      const cy = random.uniform(0, height);
      for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(height, Math.ceil(cy + ry)); y++) {
        for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(width, Math.ceil(cx + rx)); x++) {
          if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) image.set(colour, 3 * (y * width + x));
        }
      }
    }
  }
}

/** 32 noise levels, -40 to 40. */
const NOISE_LEVELS = Int16Array.from({ length: 32 }, (_, n) => Math.round((n * 80) / 31) - 40);

function randomColour(random: Random): [number, number, number] {
  const bits = random.nextUint32();
  return [bits & 255, (bits >>> 8) & 255, (bits >>> 16) & 255];
}

/** A one-pixel line from (x0, y0) to (x1, y1), both inside the image (Bresenham). */
function line(image: Uint8Array, width: number, x0: number, y0: number, x1: number, y1: number, colour: readonly number[]): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let error = dx + dy;
  for (;;) {
    image.set(colour, 3 * (y0 * width + x0));
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * error;
    if (e2 >= dy) {
      error += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      error += dx;
      y0 += sy;
    }
  }
}
