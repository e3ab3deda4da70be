/**
 * confusionMatrix: counts of (true class, predicted class) pairs, their
 * accuracy, and a heatmap of them.
 */
import * as tf from "@tensorflow/tfjs";
import { expectOneOf, fail, show } from "@convlab/engine";
import { blues } from "./colormap";
import { drawTitle, encodePng, fitText, font, INK, measure, newCanvas, TITLE_HEIGHT } from "./draw";
import { Figure } from "./figure";
import { checkFigureSize, checkInt, checkOptions, checkText, describe } from "./options";

/** Labels: class indices (array, typed array, 1-D tensor), or rows of scores (one-hot, probabilities) of rank 2. */
export type Labels = tf.Tensor | ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

/** How cells are normalized, as scikit-learn's `normalize`: rows ("true"), columns ("pred") or everything ("all"). */
export type Normalize = "true" | "pred" | "all";

/** Options of {@link confusionMatrix}. */
export interface ConfusionMatrixArgs {
  /** Names of the classes, in index order (e.g. Fashion-MNIST's "T-shirt/top", …). Fixes the number of classes. */
  classNames?: readonly string[];
  /** Number of classes when no names are given; default the largest label + 1 (or the score width). */
  numClasses?: number;
  /** Show fractions instead of counts: of each true class ("true": rows sum to 1), of each prediction ("pred"), of all ("all"). */
  normalize?: Normalize;
  /** Drawn above the matrix; default "accuracy 0.912 (n = 10000)". */
  title?: string;
  /** Text form description. */
  alt?: string;
}

const KEYS = ["classNames", "numClasses", "normalize", "title", "alt"] as const;
const NORMALIZE = ["true", "pred", "all"] as const;

/** Layout of the heatmap, in pixels. @internal */
export interface MatrixLayout {
  /** Top-left corner of cell (0, 0). */
  x: number;
  y: number;
  /** Side of a cell. */
  cell: number;
}

/**
 * A confusion matrix: the counts, the accuracy, and the heatmap as a {@link Figure} (so the
 * notebook shows it as an image and `save` writes the PNG).
 *
 * `counts[i][j]` = how many examples of true class i were predicted as class j (rows: true,
 * columns: predicted, as scikit-learn). A class never predicted has a column of zeros.
 */
export class ConfusionMatrix extends Figure {
  /** counts[true][predicted]. */
  readonly counts: number[][];
  /** The values shown: fractions when `normalize` was given, else the counts. */
  readonly values: number[][];
  /** Correct predictions / all predictions: the trace of `counts` over its sum. */
  readonly accuracy: number;
  /** Number of examples. */
  readonly total: number;
  /** Class names (given, or "0", "1", …). */
  readonly classNames: string[];
  /** How `values` were normalized, if at all. */
  readonly normalize?: Normalize;
  /** Where the cells are in the PNG. @internal */
  readonly layout: MatrixLayout;

  /** @internal Use {@link confusionMatrix}. */
  constructor(png: Uint8Array, data: { counts: number[][]; values: number[][]; classNames: string[]; normalize?: Normalize; layout: MatrixLayout; title?: string; alt?: string }) {
    super(png, { title: data.title, alt: data.alt });
    this.counts = data.counts;
    this.values = data.values;
    this.classNames = data.classNames;
    this.normalize = data.normalize;
    this.layout = data.layout;
    this.total = data.counts.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    this.accuracy = data.counts.reduce((s, row, i) => s + row[i], 0) / this.total;
  }

  protected override describe(): string {
    return `${this.classNames.length} classes, accuracy ${this.accuracy.toFixed(4)}, n=${this.total}`;
  }
}

/**
 * Counts true-vs-predicted class pairs and draws them as a heatmap (darker blue = more),
 * numbers in the cells (white on dark cells), true classes down the left ("true"), predicted
 * across the bottom ("predicted"), the accuracy in the title.
 *
 * Labels may be class indices (number arrays, typed arrays, 1-D tensors of integers) or rows of
 * scores of rank 2 (one-hot labels, softmax probabilities: the argmax is the class, the first
 * on ties; a single column is a sigmoid probability: ≥ 0.5 is class 1). Tensors are read, not
 * disposed.
 *
 * @throws ConvlabError when the two have different lengths, are empty, hold non-integer or
 *   negative labels or NaN scores, a label is beyond `classNames`/`numClasses`, an unknown option.
 * @example
 * const cm = confusionMatrix(yTest, model.predict(xTest) as tf.Tensor, { classNames: FASHION_CLASSES });
 * console.log(cm.accuracy, cm.counts[0]);
 * cm   // last value of the cell: the heatmap
 *
 * Keras counterpart: `sklearn.metrics.confusion_matrix(y_true, y_pred, normalize=…)` +
 * `ConfusionMatrixDisplay(cm, display_labels=…).plot(cmap="Blues")`.
 */
export function confusionMatrix(yTrue: Labels, yPred: Labels, options?: ConfusionMatrixArgs): ConfusionMatrix {
  const unit = "confusionMatrix";
  const args = checkOptions(unit, options, KEYS);
  const title = checkText(unit, "title", args.title);
  const alt = checkText(unit, "alt", args.alt);
  const normalize = args.normalize === undefined ? undefined : expectOneOf(unit, "normalize", args.normalize, NORMALIZE);
  if (args.classNames !== undefined && (!Array.isArray(args.classNames) || args.classNames.length === 0 || args.classNames.some((c) => typeof c !== "string"))) {
    throw fail(`${unit}: invalid classNames. Expected a non-empty array of strings. Received: classNames=${show(args.classNames)}.`);
  }
  const numClasses = args.numClasses === undefined ? undefined : checkInt(unit, "numClasses", args.numClasses, 1, 1000);
  if (args.classNames && numClasses !== undefined && numClasses !== args.classNames.length) {
    throw fail(`${unit}: invalid numClasses. Expected ${args.classNames.length}, the number of classNames. Received: numClasses=${numClasses}.`);
  }
  const truth = readLabels(unit, "yTrue", yTrue);
  const pred = readLabels(unit, "yPred", yPred);
  if (truth.labels.length !== pred.labels.length) {
    throw fail(`${unit}: invalid yPred. Expected as many labels as yTrue (${truth.labels.length}). Received: yPred=${pred.label} with ${pred.labels.length}.`);
  }
  const k = args.classNames?.length ?? numClasses ?? [...truth.labels, ...pred.labels].reduce((m, l) => Math.max(m, l + 1), Math.max(truth.width, pred.width));
  if (k > 1000) {
    throw fail(`${unit}: invalid labels. Expected at most 1000 classes. Received: a largest label of ${k - 1}; pass numClasses or classNames if that is intended, or check the labels.`);
  }
  for (const side of [truth, pred]) {
    const width = side.width > 1 ? side.width : 0;
    if (width > k) {
      throw fail(`${unit}: invalid ${side.what}. Expected scores for ${k} classes (the classes given). Received: ${side.what}=${side.label} with ${width} columns.`);
    }
    const bad = side.labels.findIndex((l) => l >= k);
    if (bad >= 0) {
      throw fail(`${unit}: invalid ${side.what}. Expected class indices in [0, ${k - 1}] (${args.classNames ? `${k} classNames` : `numClasses ${k}`}). Received: ${side.what}[${bad}]=${side.labels[bad]}.`);
    }
  }
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.labels.forEach((t, i) => counts[t][pred.labels[i]]++);
  const values = normalized(counts, normalize);
  const classNames = args.classNames ? [...args.classNames] : Array.from({ length: k }, (_, i) => String(i));
  const total = truth.labels.length;
  const accuracy = counts.reduce((s, row, i) => s + row[i], 0) / total;
  const fullTitle = title ?? `accuracy ${accuracy.toFixed(3)} (n = ${total})`;
  const { png, layout } = drawMatrix(values, classNames, fullTitle, normalize !== undefined);
  return new ConfusionMatrix(png, { counts, values, classNames, normalize, layout, title: fullTitle, alt: alt ?? `confusion matrix of ${k} classes` });
}

interface ReadLabels {
  labels: number[];
  /** Columns of rank-2 scores (0 for class indices). */
  width: number;
  label: string;
  what: string;
}

function readLabels(unit: string, what: string, value: Labels): ReadLabels {
  const expected = "Expected class indices (an array or 1-D tensor of integers) or scores of shape [N, classes]";
  let flat: ArrayLike<number>;
  let shape: number[];
  let label: string;
  if (value instanceof tf.Tensor) {
    if (value.rank !== 1 && value.rank !== 2) throw fail(`${unit}: invalid ${what}. ${expected}. Received: ${what}=${show(value)}.`);
    flat = value.dataSync() as ArrayLike<number>;
    shape = value.shape;
    label = show(value);
  } else if (Array.isArray(value) && value.length > 0 && typeof value[0] === "object" && value[0] !== null) {
    const rows = value as ReadonlyArray<ArrayLike<number>>;
    const width = rows[0].length;
    const bad = rows.findIndex((r) => r === null || typeof r !== "object" || r.length !== width);
    if (bad >= 0) throw fail(`${unit}: invalid ${what}. ${expected}, every row as long as the first (${width}). Received: ${what}[${bad}]=${describe(rows[bad])}.`);
    flat = rows.flatMap((r) => Array.from(r));
    shape = [rows.length, width];
    label = `an array of ${rows.length} rows of ${width}`;
  } else if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    flat = value as ArrayLike<number>;
    shape = [flat.length];
    label = Array.isArray(value) ? (value.length <= 8 ? show(value) : `an array of ${value.length} labels`) : show(value);
  } else {
    throw fail(`${unit}: invalid ${what}. ${expected}. Received: ${what}=${describe(value)}.`);
  }
  if (shape[0] === 0 || (shape.length === 2 && shape[1] === 0)) throw fail(`${unit}: invalid ${what}. ${expected}, at least one. Received: ${what}=${label} (empty).`);
  if (shape.length === 1) {
    const labels = Array.from(flat, Number);
    const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0);
    if (bad >= 0) {
      throw fail(`${unit}: invalid ${what}. ${expected}: non-negative integers. Received: ${what}=${label} with ${show(labels[bad])} at index ${bad}.`);
    }
    return { labels, width: 0, label, what };
  }
  const [n, width] = shape;
  const labels = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 0; j < width; j++) {
      const v = flat[i * width + j];
      if (v !== v) throw fail(`${unit}: invalid ${what}. Expected finite scores. Received: ${what}=${label} with NaN in row ${i}.`);
      if (v > flat[i * width + best]) best = j;
    }
    labels[i] = width === 1 ? (flat[i] >= 0.5 ? 1 : 0) : best;
  }
  return { labels, width: width === 1 ? 2 : width, label, what };
}

function normalized(counts: number[][], normalize: Normalize | undefined): number[][] {
  if (!normalize) return counts.map((row) => [...row]);
  const k = counts.length;
  const all = counts.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const colSums = Array.from({ length: k }, (_, j) => counts.reduce((s, row) => s + row[j], 0));
  return counts.map((row) => {
    const rowSum = row.reduce((a, b) => a + b, 0);
    // an empty row or column divides 0 by 0: show 0, as scikit-learn does
    return row.map((c, j) => {
      const d = normalize === "true" ? rowSum : normalize === "pred" ? colSums[j] : all;
      return d === 0 ? 0 : c / d;
    });
  });
}

function drawMatrix(values: number[][], names: string[], title: string, fractions: boolean): { png: Uint8Array; layout: MatrixLayout } {
  const k = values.length;
  const cell = Math.max(6, Math.min(44, Math.floor(560 / k)));
  const gridSide = cell * k;
  const labelEvery = Math.max(1, Math.ceil(12 / cell));
  const tickFont = font(Math.min(11, Math.max(8, cell - 2)));
  const widest = Math.max(...names.map((n) => measure(n, tickFont)));
  const yLabelW = Math.ceil(Math.min(widest, 140)) + 8;
  const rotate = widest > cell - 4;
  const xLabelH = rotate ? Math.ceil(Math.min(widest, 140) * Math.SQRT1_2) + 14 : 18;
  const x = 24 + yLabelW; // "true" axis title, then class names
  const y = TITLE_HEIGHT + 4;
  const width = Math.max(x + gridSide + 16, Math.ceil(measure(title, font(14, true))) + 16);
  const height = y + gridSide + xLabelH + 22;
  checkFigureSize("confusionMatrix", width, height, "Too many classes to draw.");
  const { canvas, ctx } = newCanvas(width, height);
  drawTitle(ctx, title, width);

  const max = values.reduce((m, row) => row.reduce((a, b) => Math.max(a, b), m), 0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const v = values[i][j];
      const color = blues(max > 0 ? v / max : 0);
      ctx.fillStyle = color.css;
      ctx.fillRect(x + j * cell, y + i * cell, cell, cell);
      if (cell >= 20) {
        const text = fractions && v !== 0 ? v.toFixed(2) : String(v);
        const fitted = fitText(text, cell - 4, 11, 7);
        ctx.font = font(fitted.px);
        ctx.fillStyle = color.dark ? "#ffffff" : INK;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(fitted.text, x + j * cell + cell / 2, y + i * cell + cell / 2);
      }
    }
  }
  ctx.strokeStyle = "#999999";
  ctx.lineWidth = 1;
  ctx.strokeRect(x - 0.5, y - 0.5, gridSide + 1, gridSide + 1);

  ctx.fillStyle = INK;
  ctx.font = tickFont;
  for (let i = 0; i < k; i += labelEvery) {
    const name = fitText(names[i], 140, Math.min(11, Math.max(8, cell - 2)), 8).text;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(name, x - 6, y + i * cell + cell / 2);
    ctx.save();
    if (rotate) {
      ctx.translate(x + i * cell + cell / 2, y + gridSide + 6);
      ctx.rotate(-Math.PI / 4);
      ctx.textAlign = "right";
      ctx.fillText(name, 0, 0);
    } else {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(name, x + i * cell + cell / 2, y + gridSide + 4);
    }
    ctx.restore();
  }
  ctx.font = font(12, true);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText("predicted", x + gridSide / 2, y + gridSide + xLabelH + 2);
  ctx.save();
  ctx.translate(10, y + gridSide / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText("true", 0, 0);
  ctx.restore();
  return { png: encodePng(canvas), layout: { x, y, cell } };
}
