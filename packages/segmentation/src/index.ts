/**
 * @convlab/segmentation: classifying every pixel, for the lesson on semantic segmentation.
 *
 * ```ts
 * import { unet, maskBatches, predictMasks, MeanIoU } from "@convlab/segmentation";
 * const model = unet({ inputShape: [null, null, 3], numClasses: 4 });
 * compile(model, { optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
 * await fit(model, maskBatches(x, masks, { numClasses: 4, batchSize: 16 }), { epochs: 10 });
 * const metric = new MeanIoU({ numClasses: 4 });
 * metric.updateState(masksTest, predictMasks(model, xTest));
 * ```
 *
 * @packageDocumentation
 */
import type { ConvlabPlugin } from "@convlab/kernel";

export { unet } from "./unet";
export type { UnetArgs } from "./unet";
export { fcn8s } from "./fcn";
export type { Fcn8sArgs } from "./fcn";
export { BilinearUpsampling, bilinearUpsampling, bilinearWeights } from "./bilinear";
export { outputStride, checkInputSize } from "./input_size";
export { sparseCategoricalCrossentropy, diceLoss, jaccardLoss } from "./losses";
export type { ClassWeights, SparseCategoricalCrossentropyArgs, DiceLossArgs, JaccardLossArgs } from "./losses";
export { MeanIoU, meanIou, iouPerClass, pixelAccuracy } from "./metrics";
export type { MeanIoUArgs, MaskIouArgs } from "./metrics";
export { oneHotMask, maskFromProbabilities, checkMasks } from "./masks";
export type { MaskArray, MaskLike, CheckMasksArgs, MaskGeometry, OneHotMaskArgs } from "./masks";
export { maskBatches } from "./mask_batches";
export type { MaskBatches, MaskBatchesArgs } from "./mask_batches";
export { predictMasks } from "./predict_masks";
export type { PredictMasksArgs } from "./predict_masks";
export { segmentationGrid } from "./segmentation_grid";
export type { SegmentationGridArgs } from "./segmentation_grid";

/** The kernel plugin of @convlab/segmentation (no renderer: masks render through @convlab/viz images). */
export const plugin: ConvlabPlugin = {
  id: "@convlab/segmentation:plugin",
  description: "FCN-8s and U-Net, per-pixel losses and metrics, mask utilities, augmented mask batches.",
  activate() {},
};
