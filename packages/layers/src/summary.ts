/**
 * `model.summary()` as tf.keras 2.x prints it, and the same content as a
 * table for renderers.
 *
 * Layout (tf.keras 2.x `print_summary`): Sequential and sequential-like
 * functional models use 65 characters with columns ending at 45%, 85% and
 * 100% of the line (29, 55, 65); other functional models use 98 characters,
 * columns at 33%, 55%, 67%, 100% (32, 53, 65, 98) and a "Connected to"
 * column. A cell is cut at its column end and the last character before the
 * next column becomes a space, which is why Keras shows
 * `max_pooling2d_1 (MaxPooling2 (None, 11, 11, 32)`.
 */
import * as tf from "@tensorflow/tfjs";
import { fail, show } from "@convlab/engine";
import { checkBoolean, checkNumber, checkOptions, pyShape, thousands } from "./validate";

/**
 * A model summary as data: what `summary` prints, cell by cell. Renderers
 * (the viz package's HTML table) draw it; `summary` prints it as Keras does.
 */
export interface SummaryTable {
  /** The model's name, e.g. `"sequential"`. */
  modelName: string;
  /** `["Layer (type)", "Output Shape", "Param #"]`, plus `"Connected to"` for non-sequential functional models. */
  columns: string[];
  /**
   * One row per layer, formatted as Keras prints the cells:
   * `["conv2d (Conv2D)", "(None, 26, 26, 32)", "320"]`. In the "Connected to"
   * column a layer with several inbound connections lists them joined by
   * `", "` (Keras's text puts each on its own line).
   */
  rows: string[][];
  /** Total number of parameters (weights) of the model. */
  totalParams: number;
  /** Parameters updated by training. */
  trainableParams: number;
  /** Parameters not updated by training (frozen layers, BatchNormalization moving statistics). */
  nonTrainableParams: number;
}

/** Options of {@link summary}. */
export interface SummaryArgs {
  /** Total width of the lines; default 65 (sequential) or 98 (functional), as Keras. */
  lineLength?: number;
  /** Print the text (console.log, default true); false returns it instead. */
  print?: boolean;
}

interface LayerRow {
  cells: string[];
  /** "Connected to" entries (functional models). */
  connections: string[];
}

interface Analysis {
  sequentialLike: boolean;
  rows: LayerRow[];
  table: SummaryTable;
}

function checkModel(unit: string, model: unknown): tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`${unit}: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${describe(model)}.`);
  }
  return model;
}

function describe(value: unknown): string {
  if (value !== null && typeof value === "object" && value.constructor && value.constructor !== Object) return `a ${value.constructor.name}`;
  return show(value);
}

/** Keras's test: Sequential, or a graph of single-input nodes without shared layers. */
function isSequentialLike(model: tf.LayersModel): boolean {
  if (model instanceof tf.Sequential) return true;
  const nodesByDepth = (model as unknown as { nodesByDepth: Record<string, Array<{ inboundLayers: unknown[] }>> }).nodesByDepth ?? {};
  const nodes: unknown[] = [];
  for (const depth of Object.keys(nodesByDepth)) {
    const depthNodes = nodesByDepth[depth];
    if (depthNodes.length > 1 || (depthNodes.length === 1 && depthNodes[0].inboundLayers.length > 1)) return false;
    nodes.push(...depthNodes);
  }
  for (const layer of model.layers) {
    let seen = false;
    for (const node of (layer as unknown as { inboundNodes: unknown[] }).inboundNodes) {
      if (nodes.includes(node)) {
        if (seen) return false;
        seen = true;
      }
    }
  }
  return true;
}

/** The Output Shape cell: `(None, 26, 26, 32)`; an InputLayer's as Keras 2 shows it, `[(None, 28, 28, 1)]`. */
function outputShapeCell(layer: tf.layers.Layer): string {
  let shape: unknown;
  try {
    shape = layer.outputShape;
  } catch {
    return "multiple";
  }
  if (!Array.isArray(shape)) return "?";
  if (shape.length > 0 && Array.isArray(shape[0])) return `[${(shape as number[][]).map(pyShape).join(", ")}]`;
  const tuple = pyShape(shape as number[]);
  return layer.getClassName() === "InputLayer" ? `[${tuple}]` : tuple;
}

function countParams(weights: ReadonlyArray<{ shape: ReadonlyArray<number | null> }>): number {
  const seen = new Set<unknown>();
  let total = 0;
  for (const w of weights) {
    if (seen.has(w)) continue;
    seen.add(w);
    total += w.shape.reduce<number>((a, b) => a * (b ?? 0), 1);
  }
  return total;
}

function analyze(unit: string, model: tf.LayersModel): Analysis {
  if (!model.built && model instanceof tf.Sequential && model.inputs.length > 0) model.build(); // as tfjs's summary
  if (!model.built) {
    throw fail(
      `${unit}: invalid model. Expected a built model: give the first layer an inputShape (e.g. tf.layers.conv2d({…, inputShape: [28, 28, 1]})). Received: model "${model.name}" with no input shape.`,
    );
  }
  const sequentialLike = isSequentialLike(model);
  const columns = ["Layer (type)", "Output Shape", "Param #"];
  const relevantNodes: unknown[] = [];
  if (!sequentialLike) {
    columns.push("Connected to");
    const nodesByDepth = (model as unknown as { nodesByDepth: Record<string, unknown[]> }).nodesByDepth ?? {};
    for (const depth of Object.keys(nodesByDepth)) relevantNodes.push(...nodesByDepth[depth]);
  }
  // Keras's Sequential never lists its InputLayer (tfjs does for a model loaded from disk).
  const layers = model instanceof tf.Sequential ? model.layers.filter((l) => l.getClassName() !== "InputLayer") : model.layers;
  const rows: LayerRow[] = layers.map((layer) => {
    let params: number;
    try {
      params = layer.countParams();
    } catch {
      throw fail(`${unit}: invalid model. Expected every layer built. Received: layer "${layer.name}" (${layer.getClassName()}) is not built; call the model on data or give it an inputShape.`);
    }
    const cells = [`${layer.name} (${layer.getClassName()})`, outputShapeCell(layer), String(params)];
    const connections: string[] = [];
    if (!sequentialLike) {
      type Node = { inboundLayers: tf.layers.Layer[]; nodeIndices: number[]; tensorIndices: number[] };
      for (const node of (layer as unknown as { inboundNodes: Node[] }).inboundNodes) {
        if (relevantNodes.length > 0 && !relevantNodes.includes(node)) continue;
        node.inboundLayers.forEach((inbound, i) => connections.push(`${inbound.name}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`));
      }
    }
    return { cells, connections };
  });
  const collected = (model as unknown as { collectedTrainableWeights?: tf.LayerVariable[] }).collectedTrainableWeights;
  const trainableParams = countParams(collected ?? model.trainableWeights);
  const nonTrainableParams = countParams(model.nonTrainableWeights);
  return {
    sequentialLike,
    rows,
    table: {
      modelName: model.name,
      columns,
      rows: rows.map((r) => (sequentialLike ? r.cells : [...r.cells, r.connections.join(", ")])),
      totalParams: trainableParams + nonTrainableParams,
      trainableParams,
      nonTrainableParams,
    },
  };
}

/**
 * The summary of `model` as a table: model name, column headers, one row
 * of formatted cells per layer (Keras names and shapes), parameter counts.
 *
 * @throws ConvlabError when `model` is not a LayersModel or is not built yet.
 * @example
 * const table = summaryTable(model);
 * table.rows[0];          // ["conv2d (Conv2D)", "(None, 26, 26, 32)", "320"]
 * table.totalParams;      // 93322
 * Keras counterpart: the data behind `model.summary()`.
 */
export function summaryTable(model: tf.LayersModel): SummaryTable {
  return analyze("summaryTable", checkModel("summaryTable", model)).table;
}

/** Keras's print_row: cut each cell at its column end; the char before a column start becomes a space. */
function formatRow(fields: string[], positions: number[]): string {
  let line = "";
  fields.forEach((field, i) => {
    if (i > 0) line = `${line.slice(0, -1)} `;
    line += field;
    line = line.slice(0, positions[i]);
    line += " ".repeat(Math.max(0, positions[i] - line.length));
  });
  return line;
}

/**
 * Prints the Keras 2 summary of `model`, or with `print: false` returns it:
 *
 * ```text
 * Model: "sequential"
 * _________________________________________________________________
 * Layer (type)                 Output Shape              Param #
 * =================================================================
 * conv2d (Conv2D)              (None, 26, 26, 32)        320
 * _________________________________________________________________
 * …
 * =================================================================
 * Total params: 93,322
 * Trainable params: 93,322
 * Non-trainable params: 0
 * _________________________________________________________________
 * ```
 *
 * Layer names are Keras's (`conv2d_1`, not `conv2d_Conv2D2`) for layers made
 * after `@convlab/layers` was loaded; see {@link resetNames}.
 *
 * @param model A built tfjs LayersModel (Sequential or functional).
 * @param args `lineLength` (default 65 sequential, 98 functional; >= 20),
 *   `print` (default true).
 * @returns With `print: false`, the text, lines joined by "\n" and padded with
 *   spaces to the column ends as Keras prints them. When printing it returns
 *   nothing, as Keras's `model.summary()` returns None, so a notebook cell
 *   ending in `summary(model)` does not show the text a second time.
 * @throws ConvlabError when `model` is not a LayersModel, is not built, or
 *   an option is invalid.
 * @example
 * summary(model);
 * const text = summary(model, { print: false });
 * Keras counterpart: `model.summary()` (tf.keras 2.x layout); `print: false`
 * is `model.summary(print_fn=...)`. tfjs's `model.summary()` adds an Input
 * Shape column, prints `[null,26,26,32]` and no thousands separators.
 */
export function summary(model: tf.LayersModel, args?: SummaryArgs & { print?: true }): void;
export function summary(model: tf.LayersModel, args: SummaryArgs & { print: false }): string;
export function summary(model: tf.LayersModel, args?: SummaryArgs): string | void;
export function summary(model: tf.LayersModel, args: SummaryArgs = {}): string | void {
  const options = checkOptions("summary", args, ["lineLength", "print"]);
  checkModel("summary", model);
  const { sequentialLike, rows, table } = analyze("summary", model);
  const lineLength =
    options.lineLength === undefined ? (sequentialLike ? 65 : 98) : checkNumber("summary", "lineLength", options.lineLength, { min: 20, integer: true });
  const print = options.print === undefined ? true : checkBoolean("summary", "print", options.print);
  const relative = sequentialLike ? [0.45, 0.85, 1.0] : [0.33, 0.55, 0.67, 1.0];
  const positions = relative.map((p) => Math.floor(lineLength * p));

  const lines: string[] = [];
  lines.push(`Model: "${table.modelName}"`);
  lines.push("_".repeat(lineLength));
  lines.push(formatRow(table.columns, positions));
  lines.push("=".repeat(lineLength));
  rows.forEach((row, i) => {
    if (sequentialLike) {
      lines.push(formatRow(row.cells, positions));
    } else {
      lines.push(formatRow([...row.cells, row.connections[0] ?? ""], positions));
      for (const extra of row.connections.slice(1)) lines.push(formatRow(["", "", "", extra], positions));
    }
    lines.push((i === rows.length - 1 ? "=" : "_").repeat(lineLength));
  });
  lines.push(`Total params: ${thousands(table.totalParams)}`);
  lines.push(`Trainable params: ${thousands(table.trainableParams)}`);
  lines.push(`Non-trainable params: ${thousands(table.nonTrainableParams)}`);
  lines.push("_".repeat(lineLength));
  const text = lines.join("\n");
  if (!print) return text;
  console.log(text);
}
