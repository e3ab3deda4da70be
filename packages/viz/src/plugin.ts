/**
 * The viz plugin: renderers that turn a cell's value into rich output.
 * Figures become image/png; models become an HTML summary table. Plain
 * tensors are left to the kernel (their text form).
 */
import * as tf from "@tensorflow/tfjs";
import type { ConvlabPlugin, MimeBundle, Renderer } from "@convlab/kernel";
import { summary, summaryTable } from "@convlab/layers";
import { Figure } from "./figure";
import { summaryHtml } from "./summary_html";

/** Claims {@link Figure}s (and subclasses such as ConfusionMatrix): `image/png` + `text/plain`. */
export const figureRenderer: Renderer = {
  id: "@convlab/viz:figure",
  render(value: unknown): MimeBundle | undefined {
    return Figure.isFigure(value) ? value.toMimeBundle() : undefined;
  },
};

/**
 * Claims `tf.LayersModel`s: `text/html` (the summary table of @convlab/layers' `summaryTable`)
 * and `text/plain` (its Keras text). A model that is not built yet (a Sequential without an
 * input shape) is one line of text.
 */
export const modelRenderer: Renderer = {
  id: "@convlab/viz:model",
  render(value: unknown): MimeBundle | undefined {
    if (!(value instanceof tf.LayersModel)) return undefined;
    try {
      return { "text/html": summaryHtml(summaryTable(value)), "text/plain": summary(value, { print: false }) };
    } catch (error) {
      return { "text/plain": `<${value.getClassName()} "${value.name}": ${(error as Error).message.split("\n")[0]}>` };
    }
  },
};

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

