/**
 * @convlab/transfer: transfer learning for the CNN lessons.
 *
 * ```ts
 * import { VGG16, preprocessInput, decodePredictions, freezeUntil, loadWeights } from "@convlab/transfer";
 * const convBase = await VGG16({ weights: "imagenet", includeTop: false, inputShape: [150, 150, 3] });
 * const model = await ResNet50();                                   // ImageNet weights: CONVLAB_WEIGHTS, ~/.keras/models, or downloaded
 * decodePredictions(model.predict(preprocessInput(images, "ResNet50")) as tf.Tensor, { top: 3 });
 * freezeUntil(model, "block5_conv1");                               // fine-tuning: recompiles for you
 * ```
 *
 * Importing the package also makes a frozen BatchNormalization run in inference mode, as in
 * Keras 2 (see freeze.ts).
 */
import type { ConvlabPlugin } from "@convlab/kernel";

export * from "./applications/index";
export { APPLICATION_NAMES } from "./applications/common";
export type { ApplicationArgs, ApplicationName } from "./applications/common";
export { loadWeights, saveWeights, resolveImagenetWeights, kerasModelsDir } from "./weights";
export type { WeightsFile, ResolveWeightsOptions } from "./weights";
export { preprocessInput, resizeImages, PREPROCESS_MODES } from "./preprocess";
export type { PreprocessMode } from "./preprocess";
export { decodePredictions } from "./decode_predictions";
export type { ImagenetPrediction, DecodePredictionsArgs } from "./decode_predictions";
export { freezeUntil } from "./freeze";
export { pretrainMiniVGG, SOURCE_CLASSES } from "./local_base";
export type { PretrainMiniVGGArgs, PretrainedBase } from "./local_base";

/** The kernel plugin of @convlab/transfer (no renderer: models render through @convlab/layers). */
export const plugin: ConvlabPlugin = {
  id: "@convlab/transfer:plugin",
  description: "Keras application models, Keras .h5 weights, preprocessInput, decodePredictions, freezing that trains BatchNormalization as Keras does.",
  activate() {},
};
