/**
 * Figure: the value every drawing function returns. It holds PNG bytes and
 * their size; the viz plugin shows it in the notebook as image/png, and
 * outside a kernel it prints as `<Figure 280x280: title>`.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { inspect } from "util";
import { fail, show } from "@convlab/engine";
import { checkOptions, checkText } from "./options";

/** Options of a {@link Figure}. */
export interface FigureArgs {
  /** What the figure shows, drawn on it by the functions that take a title. */
  title?: string;
  /** A one-line description for the text form (`text/plain`) and screen readers. */
  alt?: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const BRAND = Symbol.for("convlab.viz.figure");

/**
 * A rendered picture: PNG bytes with their width and height.
 *
 * Made by {@link image}, {@link imageGrid}, {@link filters}, {@link featureMaps},
 * {@link trainingCurves}, {@link scatterPlot}, {@link confusionMatrix}, or from PNG bytes of
 * your own. The last value of a notebook cell (or `display(fig)`) shows as an image;
 * `save(path)` writes the PNG.
 *
 * @example
 * const fig = new Figure(toPng(x, { scale: 4 }), { title: "first digit" });
 * fig.save("out/digit.png");
 *
 * matplotlib counterpart: a `Figure` (`fig.savefig(path)`), already drawn.
 */
export class Figure {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** The title, when one was given. */
  readonly title?: string;
  /** The one-line description, when one was given. */
  readonly alt?: string;
  readonly #png: Uint8Array;

  /**
   * @param png PNG bytes (size read from their header).
   * @param args `title`, `alt`.
   * @throws ConvlabError when `png` is not PNG bytes.
   */
  constructor(png: Uint8Array, args?: FigureArgs) {
    const { title, alt } = checkOptions("Figure", args, ["title", "alt"]);
    if (!ArrayBuffer.isView(png) || png.byteLength < 24 || !PNG_SIGNATURE.every((b, i) => (png as Uint8Array)[i] === b)) {
      throw fail(`Figure: invalid png. Expected PNG bytes (a Uint8Array starting with \\x89PNG). Received: png=${show(png)}.`);
    }
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    this.width = view.getUint32(16);
    this.height = view.getUint32(20);
    this.title = checkText("Figure", "title", title);
    this.alt = checkText("Figure", "alt", alt);
    this.#png = png;
  }

  /** True for figures, also those made by another copy of this package. */
  static isFigure(value: unknown): value is Figure {
    return value instanceof Figure || (typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true);
  }

  /** The PNG bytes (a copy, as a Buffer: the figure stays unchanged). */
  toPng(): Uint8Array {
    return Buffer.from(this.#png); // a Buffer: canvas, fs and http take it as is
  }

  /**
   * Writes the PNG to `file` atomically: into a temporary file in the same folder, flushed,
   * then renamed over `file`, so a reader never sees half an image. Returns the absolute path.
   *
   * @throws ConvlabError when the folder does not exist or is not writable (nothing is left behind).
   * matplotlib counterpart: `fig.savefig("file.png")`.
   */
  save(file: string): string {
    if (typeof file !== "string" || file.length === 0) {
      throw fail(`Figure.save: invalid path. Expected a file path such as "out/figure.png". Received: path=${show(file)}.`);
    }
    const target = path.resolve(file);
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.convlab-tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    let fd: number | undefined;
    try {
      fd = fs.openSync(tmp, "wx");
      fs.writeFileSync(fd, this.#png);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
      fs.renameSync(tmp, target);
    } catch (error) {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw fail(`Figure.save: cannot write the file. Expected a path in an existing, writable folder. Received: path=${show(file)} (${reason}).`);
    }
    return target;
  }

  /** The notebook rendering: `{"image/png": bytes, "text/plain": "<Figure 280x280: …>"}`. */
  toMimeBundle(): { "image/png": Uint8Array; "text/plain": string } {
    return { "image/png": this.#png, "text/plain": this.toString() };
  }

  /** `<Figure 280x280: title>` (the alt text when there is no title). */
  toString(): string {
    const what = this.describe();
    return `<${this.constructor.name} ${this.width}x${this.height}${what ? `: ${what}` : ""}>`;
  }

  /** What follows the size in the text form. Subclasses add their numbers. */
  protected describe(): string {
    return this.title ?? this.alt ?? "";
  }

  /** Node's console.log and the REPL print the short text form. */
  [inspect.custom](): string {
    return this.toString();
  }
}

Object.defineProperty(Figure.prototype, BRAND, { value: true });
