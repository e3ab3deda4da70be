/**
 * @convlab/augmentation: data augmentation for the CNN lessons.
 *
 * ```ts
 * import { ImageDataGenerator, previewAugmentation, loadImg } from "@convlab/augmentation";
 * const trainDatagen = new ImageDataGenerator({ rescale: 1 / 255, rotationRange: 40, horizontalFlip: true });
 * previewAugmentation(trainDatagen, await loadImg("data/chelsea.png"), { count: 6 })   // a PNG grid
 * const trainGenerator = trainDatagen.flowFromDirectory("data/train", { targetSize: [150, 150], batchSize: 20, classMode: "binary" });
 * await fit(model, trainGenerator, { epochs: 30, stepsPerEpoch: 100 });                 // @convlab/layers
 * ```
 */
import type { ConvlabPlugin } from "@convlab/kernel";

export { ImageDataGenerator } from "./image_data_generator";
export type { ImageDataGeneratorArgs } from "./image_data_generator";
export { ImageIterator, NumpyArrayIterator, DirectoryIterator, IMAGE_EXTENSIONS } from "./iterators";
export type { FlowArgs, FlowFromDirectoryArgs, ClassMode, ImageSource, FlowLabels } from "./iterators";
export type { TransformParams } from "./affine";
export type { ImageInput } from "./pixels";
export { loadImg, imgToArray } from "./load_img";
export { previewAugmentation } from "./preview";
export type { PreviewArgs } from "./preview";
export { transformBoxes, transformMask, augmentWithTargets } from "./joint_transform";
export { RandomFlip, randomFlip } from "./random_flip";
export type { RandomFlipArgs, FlipMode } from "./random_flip";
export { RandomRotation, randomRotation } from "./random_rotation";
export type { RandomRotationArgs } from "./random_rotation";
export { RandomZoom, randomZoom } from "./random_zoom";
export type { RandomZoomArgs } from "./random_zoom";
export { RandomTranslation, randomTranslation } from "./random_translation";
export type { RandomTranslationArgs } from "./random_translation";
export { RandomContrast, randomContrast } from "./random_contrast";
export type { RandomContrastArgs } from "./random_contrast";
export type { FillMode, Interpolation, FactorRange } from "./random_layer";
export type { PixelBoxFormat, TransformBoxesArgs, TransformedBoxes, Targets, AugmentedTargets } from "./joint_transform";

/** The kernel plugin of @convlab/augmentation (no renderer: previews are @convlab/viz figures). */
export const plugin: ConvlabPlugin = {
  id: "@convlab/augmentation:plugin",
  description: "Keras's ImageDataGenerator (flow, flowFromDirectory), random preprocessing layers, joint image/box/mask transforms.",
  activate() {},
};
