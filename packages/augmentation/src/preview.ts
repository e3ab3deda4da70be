/**
 * `previewAugmentation`: a grid of random versions of one image, the course's
 * `plt.subplot(230 + 1 + i)` loop over `it.next()`, as a PNG figure.
 */
import { expectNumber, expectOptions, expectSeed, Random } from "@convlab/engine";
import { imageGrid } from "@convlab/viz";
import type { Figure } from "@convlab/viz";
import type { ImageDataGenerator } from "./image_data_generator";
import { asImage, ImageInput } from "./pixels";

/** Options of {@link previewAugmentation}. */
export interface PreviewArgs {
  /** Versions shown, integer in [1, 100]. Default 6. */
  count?: number;
  /** Columns; default 3. */
  cols?: number;
  /** Seed of the draws; default: the generator's own draws. */
  seed?: number;
  /** Show the original first, captioned "original". Default false. */
  includeOriginal?: boolean;
  /** Title above the grid. */
  title?: string;
}

const KEYS = ["count", "cols", "seed", "includeOriginal", "title"] as const;

/**
 * `count` random transforms of `image` by `datagen`, in a grid, each captioned with the
 * parameters drawn ("rot 12°, shift (−8, 3), zoom 0.93×1.10, flip").
 *
 * @param datagen the generator whose options are previewed (its `rescale` is applied, and the
 *   tiles are shown on the matching 0–1 or 0–255 scale).
 * @param image one image `[H, W, C]` (a `Uint8Tensor` from `loadImg`, or a tensor with 0–255 values).
 * @returns a Figure (PNG in the notebook).
 * @throws ConvlabError for an image that is not `[H, W, C]` or invalid options.
 * @example
 * ```ts
 * const cat = await loadImg("data/chelsea.png");
 * previewAugmentation(new ImageDataGenerator({ rotationRange: 45 }), cat, { count: 6 })
 * ```
 * Keras counterpart: a `datagen.flow(samples, batch_size=1)` loop of `plt.subplot` + `plt.imshow`.
 */
export function previewAugmentation(datagen: ImageDataGenerator, image: ImageInput, options: PreviewArgs = {}): Figure {
  const unit = "previewAugmentation";
  expectOptions(unit, options, KEYS, "{ count: 6 }");
  const count = expectNumber(unit, "count", options.count ?? 6, { min: 1, max: 100, integer: true });
  const cols = expectNumber(unit, "cols", options.cols ?? 3, { min: 1, max: 100, integer: true });
  const rng = options.seed === undefined ? undefined : new Random(expectSeed(unit, options.seed));
  const src = asImage(unit, "image", image);
  const [h, w, c] = src.shape;
  const size = h * w * c;
  const tiles: { data: Float32Array; shape: number[] }[] = [];
  const captions: string[] = [];
  if (options.includeOriginal) {
    tiles.push({ data: Float32Array.from(src.data, (v) => v * datagen.rescale), shape: [h, w, c] });
    captions.push("original");
  }
  const params = Array.from({ length: count }, () => datagen.getRandomTransform(src.shape, rng));
  const out = new Float32Array(count * size);
  datagen.transformBatch(params.map(() => src), params, out, datagen.rescale);
  params.forEach((p, i) => {
    tiles.push({ data: out.subarray(i * size, (i + 1) * size), shape: [h, w, c] });
    captions.push(describe(p));
  });
  const top = 255 * Math.abs(datagen.rescale);
  return imageGrid(tiles, { cols, captions, range: top <= 1.5 ? [0, 1] : [0, 255], title: options.title });
}

function describe(p: ReturnType<ImageDataGenerator["getRandomTransform"]>): string {
  const parts: string[] = [];
  if (p.theta) parts.push(`rot ${p.theta.toFixed(0)}°`);
  if (p.tx || p.ty) parts.push(`shift (${(-p.tx).toFixed(0)}, ${(-p.ty).toFixed(0)})`);
  if (p.shear) parts.push(`shear ${p.shear.toFixed(1)}°`);
  if (p.zx !== 1 || p.zy !== 1) parts.push(`zoom ${p.zx.toFixed(2)}×${p.zy.toFixed(2)}`);
  if (p.flipHorizontal) parts.push("flip ↔");
  if (p.flipVertical) parts.push("flip ↕");
  if (p.brightness !== null) parts.push(`bright ${p.brightness.toFixed(2)}`);
  if (p.channelShiftIntensity !== null) parts.push(`ch ${p.channelShiftIntensity.toFixed(0)}`);
  return parts.join(", ") || "unchanged";
}
