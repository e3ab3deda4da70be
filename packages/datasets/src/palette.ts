/**
 * Colours of class masks: Pascal VOC's colour map (the palette of its `SegmentationClass` PNGs),
 * its 21 segmentation class names (background first) and its void label 255.
 */
import { expectNumber } from "@convlab/engine";
import { VOC_CLASS_NAMES } from "./annotations";

/** A list of `[r, g, b]` colours, each channel an integer 0..255; colour `i` is class id `i`'s. */
export type Palette = readonly (readonly [number, number, number])[];

/**
 * The class ids of Pascal VOC's segmentation masks: 0 `"background"`, then the 20 object classes of
 * {@link VOC_CLASS_NAMES} (1 `"aeroplane"` … 20 `"tvmonitor"`). Class id = index; 21 names.
 */
export const VOC_SEGMENTATION_CLASSES: readonly string[] = Object.freeze(["background", ...VOC_CLASS_NAMES]);

/**
 * Pascal VOC's void label: the class id of object borders and "difficult" regions in its masks
 * (drawn in the colour (224, 224, 192)). Losses and metrics skip it: Keras's
 * `SparseCategoricalCrossentropy(ignore_class=255)`, `MeanIoU(ignore_class=255)`.
 */
export const VOC_VOID = 255;

/**
 * Pascal VOC's colour map, `labelcolormap(N)` of the VOC devkit: the colour of class id `i` spreads
 * the bits of `i` over the channels, high bits first. With `i = Σ_k b_k 2^k`, for j = 0..7:
 * bit 7 − j of red is `b_{3j}`, of green `b_{3j+1}`, of blue `b_{3j+2}`.
 * So 0 is black, 1 (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0), 4 (0, 0, 128), …,
 * 15 (192, 128, 128) (person), 255 (224, 224, 192) ({@link VOC_VOID}).
 *
 * @param count how many colours, an integer in [1, 256]. Default 256 (every uint8 class id).
 * @returns a new array of `count` `[r, g, b]` triples (0..255); colour `i` belongs to class id `i`.
 * @throws ConvlabError when `count` is not an integer in [1, 256].
 *
 * @example
 * ```ts
 * vocPalette(3);          // [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
 * vocPalette()[255];      // [224, 224, 192], the void colour
 * ```
 *
 * Keras counterpart: none; the VOC devkit's `VOClabelcolormap.m` (and the palette PIL reads from
 * VOC's PNGs: `Image.open(mask).getpalette()`).
 */
export function vocPalette(count = 256): [number, number, number][] {
  expectNumber("vocPalette", "count", count, { min: 1, max: 256, integer: true });
  return Array.from({ length: count }, (_, i) => {
    let [r, g, b] = [0, 0, 0];
    let c = i;
    for (let j = 0; j < 8; j++) {
      r |= (c & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    return [r, g, b];
  });
}
