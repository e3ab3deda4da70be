/**
 * Weight files: Keras `.h5` (full model and weights only) read and written, the tfjs layers
 * format read, and Keras's ImageNet files looked up locally or downloaded.
 *
 * ```ts
 * await loadWeights(model, await resolveImagenetWeights(VGG16_NOTOP));  // Keras's get_file + load_weights
 * await saveWeights(model, "cnn.h5");                                    // Keras's model.save_weights("cnn.h5")
 * ```
 */
export { loadWeights } from "./load_weights";
export type { LoadWeightsArgs } from "./load_weights";
export { saveWeights } from "./save_weights";
export { resolveImagenetWeights, kerasModelsDir } from "./imagenet";
export type { WeightsFile, ResolveWeightsOptions } from "./imagenet";
