/**
 * @convlab/kernel: the Jupyter kernel of convlab, its plugin API and the
 * notebook runner.
 *
 * In a notebook:
 * ```ts
 * import { display, newDisplay, param } from "@convlab/kernel";
 * const EPOCHS = param("epochs", 5);
 * display(model);
 * ```
 */
export { display, newDisplay, mimeBundle, isMimeBundle } from "./display";
export type { MimeBundle, Renderer, DisplayHandle } from "./display";
export type { ConvlabPlugin, PluginContext } from "./plugins";
export { param, paramEnvName } from "./params";
export { ConvlabError } from "./errors";
export { runNotebook } from "./runner";
export type { RunOptions, RunResult } from "./runner";
