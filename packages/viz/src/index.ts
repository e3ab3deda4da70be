/**
 * @convlab/viz: everything a person looks at in the course notebooks, as
 * PNG bytes and mime bundles: tensors as images, image grids with captions,
 * convolution filters, feature maps layer by layer, training curves,
 * scatter plots, confusion matrices and model summaries as HTML.
 *
 * ```ts
 * import { imageGrid, trainingCurves, confusionMatrix } from "@convlab/viz";
 * imageGrid(xTest, { count: 16, captions })           // last value of a cell: shown as an image
 * trainingCurves(history, { metrics: ["loss", "accuracy"] })
 * ```
 *
 * Every drawing function returns a {@link Figure}; the package's `plugin` makes the
 * convlab kernel show figures as images and models as summary tables.
 */
export { Figure } from "./figure";
export type { FigureArgs } from "./figure";
export { toPng } from "./to_png";
export type { ToPngArgs } from "./to_png";
export type { ImageArray, ImageLike, PixelArray } from "./image_source";
export type { Colormap, ValueRange } from "./options";
export { image } from "./image";
export type { ImageArgs } from "./image";
export { imageGrid } from "./image_grid";
export type { ImageGridArgs } from "./image_grid";
export { filters } from "./filters";
export type { FiltersArgs } from "./filters";
export { featureMaps } from "./feature_maps";
export type { FeatureMapsArgs } from "./feature_maps";
export { layerOutputs } from "./layer_outputs";
export type { LayerOutput } from "./layer_outputs";
export { trainingCurves } from "./training_curves";
export type { Histories, HistoryLike, HistoryLogs, TrainingCurvesArgs } from "./training_curves";
export { scatterPlot } from "./scatter_plot";
export type { ScatterPlotArgs, ScatterPoint } from "./scatter_plot";
export { precisionRecallPlot } from "./precision_recall_plot";
export type { PrecisionRecallCurve, PrecisionRecallPlotArgs } from "./precision_recall_plot";
export { drawBoxes } from "./draw_boxes";
export type { DrawBoxesArgs } from "./draw_boxes";
export { confusionMatrix, ConfusionMatrix } from "./confusion_matrix";
export type { ConfusionMatrixArgs, Labels, Normalize } from "./confusion_matrix";
export { summaryHtml } from "./summary_html";
export type { SummaryTable } from "./summary_html";
export { plugin } from "./plugin";
export { colorizeMask, overlayMask, maskLegend } from "./masks";
export type { ColorizeMaskArgs, OverlayMaskArgs, MaskLegendArgs, RgbColor } from "./masks";
