/**
 * Reading, validating and atomically writing Jupyter notebooks (nbformat 4)
 * for `convlab run`.
 *
 * Files are written the way Jupyter writes them (one-space indentation,
 * sorted keys, sources, streams and text bundles split into lists of lines, trailing
 * newline), so an executed notebook diffs cleanly against one saved by
 * Jupyter Notebook.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { fail, show } from "./errors";

/** A `stream` output: text printed on stdout or stderr. */
export interface NbStreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  /** The text; a string in memory, split into lines on disk. */
  text: string | string[];
}

/** A `display_data` output: one value in one or more MIME types. */
export interface NbDisplayDataOutput {
  output_type: "display_data";
  /** MIME type -> value (text/* as strings, images as base64). */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** An `execute_result` output: the value of a cell's last expression. */
export interface NbExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** An `error` output: an exception that ended the cell. */
export interface NbErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}

/** One output of a code cell, as stored in nbformat 4. */
export type NbOutput = NbStreamOutput | NbDisplayDataOutput | NbExecuteResultOutput | NbErrorOutput;

/** One cell of an nbformat 4 notebook. */
export interface NbCell {
  /** Cell id (nbformat 4.5 and later). Kept when present. */
  id?: string;
  cell_type: "code" | "markdown" | "raw";
  /** The source; a string or a list of lines (each ending with "\n" except the last). */
  source: string | string[];
  metadata: Record<string, unknown>;
  /** Code cells only. */
  outputs?: NbOutput[];
  /** Code cells only: the kernel's execution count, or null when not run. */
  execution_count?: number | null;
  /** Markdown and raw cells may carry attachments. */
  attachments?: Record<string, unknown>;
}

/** An nbformat 4 notebook. */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: NbCell[];
}

/** The kernelspec written into every notebook run by convlab. */
export const CONVLAB_KERNELSPEC = Object.freeze({
  name: "convlab",
  display_name: "TypeScript (convlab)",
  language: "typescript",
});

const EXPECTED_FILE = "Expected a Jupyter notebook (.ipynb) file.";

/**
 * The message of a thrown value. Errors from Node's core modules fail
 * `instanceof Error` under Jest (another realm), so this checks the shape.
 */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/**
 * Reads and validates a notebook file.
 *
 * @param file - Path of the `.ipynb` file, relative to the current folder or absolute.
 *   It is quoted as given in error messages.
 * @returns The notebook, with its cells as they are on disk (sources may be lists of lines).
 * @throws ConvlabError (one line) when the file does not exist
 *   (`convlab run: notebooks/x.ipynb does not exist. Expected a path to a .ipynb notebook.`),
 *   cannot be read, is not valid JSON, or is not an nbformat 4 notebook.
 *
 * @example
 * const nb = readNotebook("notebooks/01_intro.ipynb");
 * nb.cells.filter((c) => c.cell_type === "code").length;
 */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw fail(`convlab run: ${file} does not exist. Expected a path to a .ipynb notebook.`);
    }
    if (code === "EISDIR") {
      throw fail(`convlab run: ${file} is a folder. Expected a path to a .ipynb notebook; list the notebooks, e.g. ${path.join(file, "*.ipynb")}.`);
    }
    throw fail(`convlab run: cannot read ${file}: ${messageOf(error)}. Expected a readable Jupyter notebook (.ipynb) file.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = messageOf(error).split("\n")[0];
    throw fail(`convlab run: cannot read ${file}: not valid JSON (${reason}). ${EXPECTED_FILE}`);
  }
  return validateNotebook(json, file);
}

/**
 * Checks that a parsed JSON value is an nbformat 4 notebook.
 *
 * @param json - The parsed file.
 * @param file - The file's path, for error messages.
 * @returns `json`, typed as a {@link Notebook}.
 * @throws ConvlabError (one line) naming the first problem found.
 */
export function validateNotebook(json: unknown, file: string): Notebook {
  const bad = (what: string, hint = EXPECTED_FILE) => fail(`convlab run: cannot read ${file}: ${what}. ${hint}`);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw bad(`the JSON is ${Array.isArray(json) ? "a list" : show(json)}, not a notebook object`);
  }
  const nb = json as Record<string, unknown>;
  if (nb.nbformat !== 4) {
    if (typeof nb.nbformat === "number") {
      throw bad(
        `nbformat ${nb.nbformat} is not supported`,
        "Expected an nbformat 4 notebook; convert it with `jupyter nbconvert --to notebook --nbformat 4`.",
      );
    }
    throw bad(`no "nbformat": 4 field (received nbformat=${show(nb.nbformat)})`);
  }
  if (!Array.isArray(nb.cells)) throw bad(`no "cells" list (received cells=${show(nb.cells)})`);
  if (nb.metadata !== undefined && (nb.metadata === null || typeof nb.metadata !== "object" || Array.isArray(nb.metadata))) {
    throw bad(`"metadata" is not an object (received ${show(nb.metadata)})`);
  }
  nb.cells.forEach((cell: unknown, i: number) => {
    const where = `cell ${i + 1}`;
    if (cell === null || typeof cell !== "object" || Array.isArray(cell)) throw bad(`${where} is ${show(cell)}, not a cell object`);
    const c = cell as Record<string, unknown>;
    if (c.cell_type !== "code" && c.cell_type !== "markdown" && c.cell_type !== "raw") {
      throw bad(`${where} has cell_type=${show(c.cell_type)}; expected "code", "markdown" or "raw"`);
    }
    const source = c.source;
    const sourceOk = typeof source === "string" || (Array.isArray(source) && source.every((line) => typeof line === "string"));
    if (!sourceOk) throw bad(`${where} has source=${show(source)}; expected a string or a list of strings`);
  });
  if (typeof nb.nbformat_minor !== "number") nb.nbformat_minor = 4;
  if (nb.metadata === undefined) nb.metadata = {};
  for (const cell of nb.cells as Record<string, unknown>[]) {
    if (cell.metadata === undefined || cell.metadata === null || typeof cell.metadata !== "object") cell.metadata = {};
  }
  return nb as unknown as Notebook;
}

/** The source of a cell as one string (lists of lines are joined). */
export function cellSource(cell: Pick<NbCell, "source">): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * Returns a deep copy of `nb` ready to be executed: every code cell has
 * `outputs: []` and `execution_count: null`, like papermill before a run, so
 * cells that are never reached keep no stale output.
 */
export function clearedNotebook(nb: Notebook): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const cell of copy.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  return copy;
}

/**
 * Sets the notebook's kernel metadata: `metadata.kernelspec` to
 * {@link CONVLAB_KERNELSPEC} and, when given, `metadata.language_info` to the
 * `language_info` of the kernel's `kernel_info_reply`. Mutates and returns `nb`.
 */
export function setKernelMetadata(nb: Notebook, languageInfo?: Record<string, unknown>): Notebook {
  nb.metadata.kernelspec = { ...CONVLAB_KERNELSPEC };
  if (languageInfo && typeof languageInfo === "object") nb.metadata.language_info = { ...languageInfo };
  return nb;
}

/** Splits text into lines the way nbformat stores it: each line keeps its "\n". */
export function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

/** Keys sorted recursively, like Python's `json.dumps(sort_keys=True)`. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * True for the mime types whose string data nbformat stores as a list of lines: `text/*`,
 * `application/javascript` and `image/svg+xml` (nbformat's `_split_mimebundle`). Base64 data
 * such as `image/png` and JSON bundles stay one value, so readers can take them as they are.
 */
export function isLineSplitMime(mime: string): boolean {
  return mime.startsWith("text/") || mime === "application/javascript" || mime === "image/svg+xml";
}

function splitOutput(output: NbOutput): NbOutput {
  if (output.output_type === "stream") {
    return { ...output, text: splitLines(Array.isArray(output.text) ? output.text.join("") : output.text) };
  }
  if (output.output_type === "display_data" || output.output_type === "execute_result") {
    const data: Record<string, unknown> = {};
    for (const [mime, value] of Object.entries(output.data ?? {})) {
      data[mime] = typeof value === "string" && isLineSplitMime(mime) ? splitLines(value) : value;
    }
    return { ...output, data, metadata: output.metadata ?? {} };
  }
  return output;
}

function randomCellId(): string {
  return randomBytes(4).toString("hex");
}

/**
 * Serialises a notebook as Jupyter does: nbformat 4, keys sorted, one-space
 * indentation, sources and text outputs split into lines, trailing newline.
 *
 * Code cells always get `outputs` and `execution_count`; markdown and raw
 * cells never do. Cell ids are kept; when any cell has an id (or the file is
 * already 4.5+), the file is written as nbformat 4.5 and cells without an id
 * get a new random one, as the 4.5 schema requires. Otherwise it is written
 * as 4.4 (at least) without ids.
 */
export function serializeNotebook(nb: Notebook): string {
  const withIds = nb.nbformat_minor >= 5 || nb.cells.some((cell) => typeof cell.id === "string" && cell.id !== "");
  const cells = nb.cells.map((cell) => {
    const out: Record<string, unknown> = { ...cell, source: splitLines(cellSource(cell)), metadata: cell.metadata ?? {} };
    if (withIds) out.id = typeof cell.id === "string" && cell.id !== "" ? cell.id : randomCellId();
    else delete out.id;
    if (cell.cell_type === "code") {
      out.outputs = (cell.outputs ?? []).map(splitOutput);
      out.execution_count = typeof cell.execution_count === "number" ? cell.execution_count : null;
      delete out.attachments;
    } else {
      delete out.outputs;
      delete out.execution_count;
    }
    return out;
  });
  const doc = {
    ...nb,
    nbformat: 4,
    nbformat_minor: withIds ? Math.max(nb.nbformat_minor, 5) : Math.max(nb.nbformat_minor, 4),
    metadata: nb.metadata ?? {},
    cells,
  };
  return `${JSON.stringify(sortKeys(doc), null, 1)}\n`;
}

/**
 * Writes a notebook atomically: the JSON goes to a temporary file in the same
 * folder, which is then renamed over `file`. A reader (or a runner killed
 * mid-write) never sees a half-written notebook.
 *
 * @param file - Destination path; its folder must exist.
 * @param nb - The notebook; see {@link serializeNotebook} for the format.
 * @throws ConvlabError (one line) when the folder is missing or not writable.
 */
export function writeNotebook(file: string, nb: Notebook): void {
  const text = serializeNotebook(nb);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    fs.writeFileSync(tmp, text, "utf8");
    fs.renameSync(tmp, file);
  } catch (error) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The temporary file may not exist; nothing else to clean.
    }
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === "ENOENT") {
      throw fail(`convlab run: cannot write ${file}: the folder ${path.dirname(file)} does not exist. Expected an existing folder; check --out.`);
    }
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw fail(`convlab run: cannot write ${file}: permission denied (${code}). Expected a writable folder; check --out.`);
    }
    throw fail(`convlab run: cannot write ${file}: ${messageOf(error)}. Expected a writable folder; check --out.`);
  }
}
