/**
 * `maskBatches(images, masks, { … })`: images and their class masks as batches for `fit`, shuffled
 * every pass and, with an `ImageDataGenerator`, moved together by one random transform per image
 * (the mask by the nearest pixel, so class ids are never blended).
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageDataGenerator } from "@convlab/augmentation";
import { augmentWithTargets } from "@convlab/augmentation";
import { Random, expectBoolean, expectNumber, expectOptions, expectSeed } from "@convlab/engine";
import type { Batch, BatchSource } from "@convlab/layers";
import { checkMasks, readShaped } from "./masks";

/** Options of {@link maskBatches}. */
export interface MaskBatchesArgs {
  /** The number of classes, background included: masks hold ids in [0, numClasses). Required. */
  numClasses: number;
  /** A mask id that is no class (Pascal VOC's 255 border), allowed besides [0, numClasses). Default none. */
  ignoreClass?: number;
  /** Images per batch, an integer >= 1. Default 32. The last batch of a pass may be smaller. */
  batchSize?: number;
  /** Reorder the images at the start of every pass. Default true. */
  shuffle?: boolean;
  /**
   * Random transforms applied to each image and its mask alike (flips, shifts, zoom, rotation;
   * its `rescale` multiplies the images). Default none: the images as given.
   */
  augment?: ImageDataGenerator;
  /** Seed of the order and the transforms, a non-negative integer; omitted or `null`: different every run. */
  seed?: number | null;
}

/** What {@link maskBatches} returns: a batch source for `fit`/`evaluate` with its pass length. */
export interface MaskBatches extends BatchSource {
  /** Batches in one pass: `ceil(images / batchSize)`. */
  readonly size: number;
  /** Images in one pass. */
  readonly count: number;
}

const UNIT = "maskBatches";
const KEYS = ["numClasses", "ignoreClass", "batchSize", "shuffle", "augment", "seed"] as const;

/**
 * Batches `{ xs: float32 [b, H, W, C], ys: float32 [b, H, W] }` (class ids as floats, what tfjs's
 * built-in sparse loss reads) of images and class masks, for
 * `fit(model, batches, { epochs })` of @convlab/layers with a per-pixel loss such as
 * `"sparse_categorical_crossentropy"`. Every pass visits each image once (shuffled unless
 * `shuffle: false`); with `augment`, each image and its mask are moved by the same random
 * transform, drawn anew every time the image is visited.
 *
 * The images and masks are read once, when called; the batches are new tensors that `fit`
 * disposes. The caller keeps (and disposes) `images` and `masks`.
 *
 * @param images float or int images `[N, H, W, C]` (tensor or a datasets `Uint8Tensor`).
 * @param masks class ids `[N, H, W]` or `[N, H, W, 1]`, of the images' size.
 * @throws ConvlabError for a mask of another size than its image, ids outside [0, numClasses)
 *   (naming the pixel), an unknown option or a bad batch size.
 * @example
 * ```ts
 * const augment = new ImageDataGenerator({ horizontalFlip: true, widthShiftRange: 0.1, fillMode: "constant" });
 * const train = maskBatches(x, masks, { numClasses: 4, batchSize: 16, augment, seed: 1 });
 * await fit(model, train, { epochs: 10 });
 * ```
 * Keras counterpart: two `ImageDataGenerator.flow` calls with the same `seed` zipped together
 * (images, and masks with `interpolation_order=0`), or a `keras.utils.Sequence`.
 */
export function maskBatches(images: tf.Tensor | { data: Uint8Array | Float32Array; shape: readonly number[] }, masks: tf.Tensor | { data: ArrayLike<number>; shape: readonly number[] }, args: MaskBatchesArgs): MaskBatches {
  expectOptions(UNIT, args, KEYS, "{ numClasses: 4, batchSize: 16 }");
  const numClasses = expectNumber(UNIT, "numClasses", args.numClasses, { integer: true, min: 1 });
  const batchSize = expectNumber(UNIT, "batchSize", args.batchSize ?? 32, { integer: true, min: 1 });
  const shuffle = expectBoolean(UNIT, "shuffle", args.shuffle ?? true);
  const seed = expectSeed(UNIT, args.seed);
  checkMasks(UNIT, { images, masks, numClasses, ignoreClass: args.ignoreClass });

  const [n, h, w, c] = images.shape as number[];
  // Copies, so a later change or dispose of the caller's tensors does not reach the batches.
  const pixels = Float32Array.from(readShaped(UNIT, "images", images).values());
  const ids = Int32Array.from(readShaped(UNIT, "masks", masks).values());
  const augment = args.augment;
  const rng = new Random(seed);

  const imageSize = h * w * c;
  const maskSize = h * w;
  const batches = Math.ceil(n / batchSize);
  return {
    size: batches,
    count: n,
    async iterator() {
      const order = shuffle ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
      let next = 0;
      return {
        async next(): Promise<IteratorResult<Batch>> {
          if (next >= n) return { value: undefined, done: true };
          const picked = order.subarray(next, Math.min(n, next + batchSize));
          next += picked.length;
          const b = picked.length;
          const xs = new Float32Array(b * imageSize);
          const ys = new Float32Array(b * maskSize);
          picked.forEach((index, j) => {
            const image = pixels.subarray(index * imageSize, (index + 1) * imageSize);
            const mask = ids.subarray(index * maskSize, (index + 1) * maskSize);
            if (!augment) {
              xs.set(image, j * imageSize);
              ys.set(mask, j * maskSize);
              return;
            }
            const moved = augmentWithTargets(augment, { data: image, shape: [h, w, c] }, { mask: { data: Float32Array.from(mask), shape: [h, w] } }, { seed: rng.int(2 ** 31) });
            xs.set(moved.image.dataSync() as Float32Array, j * imageSize);
            ys.set(moved.mask!.dataSync() as Int32Array, j * maskSize);
            moved.image.dispose();
            moved.mask!.dispose();
          });
          return { value: { xs: tf.tensor4d(xs, [b, h, w, c]), ys: tf.tensor3d(ys, [b, h, w]) }, done: false };
        },
      };
    },
  };
}
