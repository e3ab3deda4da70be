/**
 * @convlab/layers: the Keras surface of the basic CNN lessons on TensorFlow.js.
 *
 * Importing it gives layers and models made afterwards Keras's names
 * (`conv2d`, `conv2d_1`, `sequential`); the kernel loads it at start through
 * its plugin. Then:
 *
 * ```ts
 * import { summary, compile, fit, evaluate, toCategorical } from "@convlab/layers";
 * summary(model);                        // Keras 2's model.summary() text
 * compile(model, { optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"] });
 * const history = await fit(model, x, toCategorical(labels, 10), { epochs: 5, batchSize: 64 });
 * const [testLoss, testAcc] = await evaluate(model, xTest, yTest);
 * ```
 */
import type { ConvlabPlugin } from "@convlab/kernel";

export { resetNames } from "./names";
export { clearSession } from "./clear_session";
export { summary, summaryTable } from "./summary";
export type { SummaryTable, SummaryArgs } from "./summary";
export { compile } from "./compile";
export type { CompileArgs, LossOrMetricFn, LossSpec, MetricSpec } from "./compile";
export type { SparseLossFn } from "./compile";
export { RMSprop, SGD, Adam, KerasOptimizer, RMSpropOptimizer, SGDOptimizer, AdamOptimizer } from "./optimizers";
export type { RMSpropArgs, SGDArgs, AdamArgs } from "./optimizers";
export { fit, evaluate } from "./fit";
export type { FitArgs, FitCallback, History, EvaluateArgs, BatchSource, Batch, Targets } from "./fit";
export { ProgressBar, LearningRateScheduler, ReduceLROnPlateau, EarlyStopping, ModelCheckpoint } from "./callbacks";
export type { ProgressBarArgs, ReduceLROnPlateauArgs, EarlyStoppingArgs, ModelCheckpointArgs } from "./callbacks";
export { toCategorical } from "./to_categorical";
export type { Labels, LabelArray } from "./to_categorical";

// Missing layers and the teaching ops (their own units; internal helpers such as
// convGeometry stay unexported).
export { SpatialDropout2D, spatialDropout2d } from "./spatial_dropout_2d";
export type { SpatialDropout2DArgs } from "./spatial_dropout_2d";
export { Normalization, normalization } from "./normalization";
export type { NormalizationArgs, NormalizationValue, AdaptArgs, AdaptData } from "./normalization";
export { convOutputSize, convPadding, poolOutputSize } from "./output_size";
export { convTransposeOutputSize, type ConvTransposeOutputSizeArgs } from "./output_size";
export type { ConvPadding, PoolPadding, SizePair, ConvOutputSizeArgs, PoolOutputSizeArgs } from "./output_size";
export { convolve, pool } from "./teaching";
export type { NestedNumbers, ShapedValues, TeachingInput, ConvolveArgs, ConvolveStep, ConvolveTrace, PoolMode, PoolArgs, PoolStep, PoolTrace } from "./teaching";

/**
 * The kernel plugin of @convlab/layers. Activating it (at kernel start)
 * loads the package, so every model made in the notebook gets Keras names
 * even before a cell imports it. It adds no renderer: summary tables are
 * drawn by @convlab/viz.
 */
export const plugin: ConvlabPlugin = {
  id: "@convlab/layers:plugin",
  description: "Keras names for layers and models, Keras-format summary, compile/fit/evaluate, callbacks, toCategorical.",
  activate() {
    // Loading the module installed the naming hook; nothing else to do.
  },
};
