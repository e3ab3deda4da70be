/**
 * The viz plugin: renderers that turn a cell's value into rich output.
 * Figures become image/png; models become an HTML summary table. Plain
 * tensors are left to the kernel (their text form).
 */
import * as tf from "@tensorflow/tfjs";
import type { ConvlabPlugin, MimeBundle, Renderer } from "@convlab/kernel";
import { Figure } from "./figure";
import { SummaryTable, summaryHtml } from "./summary_html";

/** What the viz renderers use of @convlab/layers, when it is installed and built. @internal */
export interface LayersApi {
  summaryTable?: (model: tf.LayersModel) => SummaryTable;
  summary?: (model: tf.LayersModel, options: { print: false }) => unknown;
}

/**
 * @convlab/layers, loaded on first use: viz works (text summaries) before layers is built,
 * and the kernel does not load layers unless a model is shown. @internal
 */
export function loadLayers(): LayersApi | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@convlab/layers") as LayersApi;
  } catch {
    return undefined;
  }
}

/** Claims {@link Figure}s (and subclasses such as ConfusionMatrix): `image/png` + `text/plain`. */
export const figureRenderer: Renderer = {
  id: "@convlab/viz:figure",
  render(value: unknown): MimeBundle | undefined {
    return Figure.isFigure(value) ? value.toMimeBundle() : undefined;
  },
};

/**
 * Claims `tf.LayersModel`s: `text/html` (the summary table of @convlab/layers' `summaryTable`)
 * and `text/plain` (its `summary(model, {print: false})`, else tfjs's own summary); only
 * `text/plain` when @convlab/layers is not available.
 */
export const modelRenderer: Renderer = {
  id: "@convlab/viz:model",
  render(value: unknown): MimeBundle | undefined {
    return value instanceof tf.LayersModel ? modelBundle(value, loadLayers()) : undefined;
  },
};

/** The bundle of a model, with the layers API given (or not). @internal */
export function modelBundle(model: tf.LayersModel, layers: LayersApi | undefined): MimeBundle {
  let plain: string | undefined;
  if (typeof layers?.summary === "function") {
    const text = layers.summary(model, { print: false });
    if (typeof text === "string") plain = text;
  }
  if (plain === undefined) {
    try {
      const lines: string[] = [];
      model.summary(undefined, undefined, (...message: unknown[]) => lines.push(message.join(" ")));
      plain = lines.join("\n");
    } catch (error) {
      // a Sequential model without inputShape has no shapes to show yet
      return { "text/plain": `<${model.getClassName()} "${model.name}": ${(error as Error).message.split("\n")[0]}>` };
    }
  }
  if (typeof layers?.summaryTable !== "function") return { "text/plain": plain };
  return { "text/html": summaryHtml(layers.summaryTable(model)), "text/plain": plain };
}

/**
 * The viz plugin, activated by the convlab kernel at start: adds the Figure and model
 * renderers. Nothing else happens at activation; viz never talks to the kernel itself.
 *
 * JupyterLab counterpart: a `JupyterFrontEndPlugin` that registers mime renderers.
 */
export const plugin: ConvlabPlugin = {
  id: "@convlab/viz:plugin",
  description: "Shows figures (images, grids, filters, feature maps, training curves, confusion matrices) as PNG and models as HTML summary tables.",
  activate(ctx) {
    ctx.renderers.add(figureRenderer);
    ctx.renderers.add(modelRenderer);
  },
};

