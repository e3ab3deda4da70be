/**
 * HDF5 through h5wasm (HDF5 2.0 compiled to WebAssembly), loaded lazily: only the first time an
 * `.h5` file is read or written.
 *
 * Why h5wasm's IIFE build, evaluated by hand: h5wasm is an ES module package (its `exports` map
 * offers `import` only), this package compiles to CommonJS, and its tests run under ts-jest
 * without experimental VM modules, where `import()` of a file is not available. The IIFE build
 * (`dist/iife/h5wasm.js`: one script, the wasm inlined, no `require`, no `import.meta`) declares
 * `var h5wasm = …`; wrapping it in a `Function` that returns that variable works the same in
 * plain Node and under jest. The wrapper also receives its own `console`, so that HDF5's error
 * stack (which h5wasm prints rather than throws) is captured for our messages instead of flooding
 * the notebook.
 *
 * Files live in Emscripten's in-memory file system: bytes are copied in before opening and out
 * after writing; no HDF5 call ever touches the disk.
 */
import * as fs from "fs";
import * as path from "path";
import { fail } from "@convlab/engine";

/** HDF5's type class of integers (`H5T_class_t`, stable across HDF5 versions). */
export const H5T_INTEGER = 0;
/** HDF5's type class of floating-point numbers. */
export const H5T_FLOAT = 1;
/** HDF5's type class of strings. */
export const H5T_STRING = 3;
/** `H5T_str_t`: a fixed-length string padded with spaces (Fortran); NUL-terminated and NUL-padded are 0 and 1. */
export const H5T_STR_SPACEPAD = 2;

/** What h5wasm reports about a dataset's or attribute's type and shape. */
export interface H5Metadata {
  type: number;
  size: number;
  signed: boolean;
  vlen: boolean;
  cset?: number;
  strpad?: number;
  shape: number[] | null;
  total_size: number;
}

/** An h5wasm attribute (the parts used here). */
export interface H5Attribute {
  readonly metadata: H5Metadata;
  readonly value: unknown;
}

/** An h5wasm group (the parts used here). */
export interface H5Group {
  file_id: bigint;
  path: string;
  readonly attrs: Record<string, H5Attribute>;
  keys(): string[];
  get(name: string): unknown;
  create_group(name: string): H5Group;
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  create_dataset(args: { name: string; data: unknown; shape?: number[] | null; dtype?: string | null }): H5Dataset;
}

/** An h5wasm file: the root group, plus `close`. */
export interface H5File extends H5Group {
  close(): number;
}

/** An h5wasm dataset (the parts used here). */
export interface H5Dataset {
  file_id: bigint;
  path: string;
  readonly metadata: H5Metadata;
}

/** The Emscripten module behind h5wasm (the parts used here). */
export interface H5Module {
  FS: {
    writeFile(path: string, data: Uint8Array, opts?: { canOwn?: boolean }): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    lookupPath?(path: string): { node?: { contents?: unknown; usedBytes?: unknown } };
  };
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  get_attribute_data(fileId: bigint, objName: string, attrName: string, ptr: bigint): number;
  get_dataset_data(fileId: bigint, path: string, count: null, offset: null, strides: null, ptr: bigint): number;
}

/** The `h5wasm` namespace of the IIFE build (the parts used here). */
interface H5wasmNamespace {
  File: new (filename: string, mode: "r" | "w") => H5File;
  Group: abstract new (...args: never[]) => H5Group;
  Dataset: abstract new (...args: never[]) => H5Dataset;
  ready: Promise<H5Module>;
}

/** h5wasm once ready, with the HDF5 diagnostics it printed since the last {@link Hdf5.clearLog}. */
export interface Hdf5 {
  File: H5wasmNamespace["File"];
  isGroup(value: unknown): value is H5Group;
  isDataset(value: unknown): value is H5Dataset;
  module: H5Module;
  /** Lines h5wasm printed (HDF5's error stack) since the last clear. */
  log: string[];
  clearLog(): void;
  /** A fresh path in the in-memory file system. */
  tempName(): string;
}

const IIFE = ["h5wasm", "dist", "iife", "h5wasm.js"];

let loading: Promise<Hdf5> | undefined;

/**
 * h5wasm, loaded on first use (about half a second) and shared afterwards.
 *
 * @param unit The function asking, for the message when h5wasm is not installed.
 * @throws ConvlabError when the h5wasm package cannot be found or does not start.
 */
export function loadHdf5(unit: string): Promise<Hdf5> {
  if (loading === undefined) {
    loading = start(unit);
    // A failed start (package missing) may be retried after an install.
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

async function start(unit: string): Promise<Hdf5> {
  const file = findIife(unit);
  const source = await fs.promises.readFile(file, "utf8");
  const log: string[] = [];
  const capture = (...args: unknown[]): void => {
    for (const line of args.map(String).join(" ").split("\n")) log.push(line);
  };
  const quietConsole = { log: capture, error: capture, warn: capture, info: capture, debug: capture };
  let h5: H5wasmNamespace;
  let module: H5Module;
  try {
    // The script's top-level `var h5wasm` becomes a local of this function; `console` is ours.
    h5 = new Function("console", `${source}\n;return h5wasm;`)(quietConsole) as H5wasmNamespace;
    module = await h5.ready;
  } catch (e) {
    throw fail(`${unit}: h5wasm (${file}) did not start: ${(e as Error).message ?? String(e)}. Expected h5wasm 0.10; reinstall it with npm install.`);
  }
  let counter = 0;
  return {
    File: h5.File,
    isGroup: (value: unknown): value is H5Group => value instanceof h5.Group,
    isDataset: (value: unknown): value is H5Dataset => value instanceof h5.Dataset,
    module,
    log,
    clearLog: () => {
      log.length = 0;
    },
    tempName: () => `/convlab-${process.pid}-${++counter}.h5`,
  };
}

/** h5wasm's IIFE script, looked up as Node looks up packages (its `exports` map hides the path from `require.resolve`). */
function findIife(unit: string): string {
  const folders: string[] = [];
  const paths = typeof require.resolve.paths === "function" ? require.resolve.paths("h5wasm") : null;
  if (paths) folders.push(...paths);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    folders.push(path.join(dir, "node_modules"));
    if (path.dirname(dir) === dir) break;
  }
  for (const folder of folders) {
    const candidate = path.join(folder, ...IIFE);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw fail(`${unit}: cannot find the h5wasm package, which reads and writes .h5 files. Expected node_modules/${IIFE.join("/")} beside @convlab/transfer; run npm install.`);
}

/** The most telling line of HDF5's error stack (its last "minor:" or a line naming the cause), or "". */
export function hdf5Reason(log: readonly string[]): string {
  const truncated = log.find((l) => /truncated file/.test(l));
  if (truncated) return truncated.replace(/^.*?\(\):\s*/, "").trim();
  const details = log.filter((l) => /^\s*#\d+:/.test(l)).map((l) => l.replace(/^.*?\(\):\s*/, "").trim());
  return details.length > 0 ? details[details.length - 1] : "";
}

/** Whether HDF5 printed an error since the log was last cleared. */
export function hdf5Failed(h5: Hdf5): boolean {
  return h5.log.some((l) => /HDF5-DIAG: Error/.test(l));
}

/**
 * Gives an in-memory file room for `bytes` at once. Emscripten's MEMFS grows a file by 12.5%
 * at a time past 1 MB, copying it each time: writing a 60 MB file that way copies ~500 MB
 * (two seconds). Only an optimisation: skipped when MEMFS's nodes do not look as expected.
 */
export function reserveFile(h5: Hdf5, name: string, bytes: number): void {
  try {
    const node = h5.module.FS.lookupPath?.(name).node;
    // Contents are a Uint8Array, or an Int8Array copied from the wasm heap by the first write.
    if (node == null || typeof node.usedBytes !== "number" || !(node.contents == null || ArrayBuffer.isView(node.contents))) return;
    const old = node.contents as Uint8Array | Int8Array | null | undefined;
    if (old != null && old.length >= bytes) return;
    const grown = new Uint8Array(bytes);
    if (old != null) grown.set(old.subarray(0, node.usedBytes));
    node.contents = grown;
  } catch {
    // The file simply grows as HDF5 writes it.
  }
}
