/**
 * Runs TypeScript cells with tslab's converter (type-checking, transpiling,
 * keeping declarations across cells) and reports failures the way Jupyter
 * expects: an exception name, a value, and a traceback in cell lines.
 */
import Module from "module";
import * as path from "path";
import { inspect } from "util";
import * as vm from "vm";
import { createConverter, Converter, Diagnostic, SideOutput } from "tslab/dist/converter";
import { printQuickInfo } from "tslab/dist/inspect";
import { cellLineOf, hasTopLevelAwait, markStatements } from "./cell_source";
import { forwardTypeResolution, notebookRequire } from "./module_paths";
import { CellScope, cellScope, guardTfjsTraining, guardTimers, KernelInterrupt } from "./interrupt";

/** A failed cell, as sent in Jupyter `error` messages. */
export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** The outcome of one cell. */
export type CellOutcome = { ok: true; value: unknown; hasValue: boolean } | { ok: false; error: CellError };

const CELL_FILE = /convlab-cell-(\d+):(\d+):(\d+)/;
const GLOBAL = "__convlab_cell__";

/** Modules cells get as the kernel's own instances, whatever folder they run in. */
const KERNEL_MODULES: Record<string, () => unknown> = {
  tslab: () => require("tslab"),
  "@convlab/kernel": () => require("./index"),
};

/** The TypeScript module tslab's converter type-checks with (its own copy, found from tslab). */
function tslabTypeScript(): { sys: unknown } {
  return require(require.resolve("@tslab/typescript-for-tslab", { paths: [path.dirname(require.resolve("tslab/package.json"))] }));
}

interface RanCell {
  source: string[];
  generated: string;
  /** Lines of generated code. */
  lines: number;
  /** Characters the wrapper adds before the first generated line. */
  prefix: number;
}

/** Executes cells in one shared scope, in the folder `cwd`. */
export class Executor {
  private readonly converter: Converter;
  private readonly exports: Record<string, unknown> = {};
  private readonly sideOutputs = new Map<string, string>();
  private readonly sideModules = new Map<string, NodeModule>();
  private readonly cells = new Map<number, RanCell>();
  private readonly cellRequire: NodeRequire;
  private prevDecl = "";
  private running: { scope: CellScope; stop: (error: Error) => void } | undefined;

  constructor(private readonly cwd: string) {
    guardTimers();
    forwardTypeResolution(tslabTypeScript(), cwd);
    this.converter = createConverter({ isJS: false, isBrowser: false });
    this.cellRequire = this.wrapRequire(notebookRequire(cwd), cwd);
    const store = this.exports;
    const exportsProxy = new Proxy(store, {
      // tslab emits named imports as defineProperty getters; keep them rewritable.
      defineProperty(_target, prop, attributes) {
        if (prop !== "__esModule") (store as any)[prop] = attributes.get ? attributes.get() : attributes.value;
        return true;
      },
    });
    (globalThis as any)[GLOBAL] = { exports: exportsProxy, require: this.cellRequire };
  }

  /** Runs one cell; `count` names it in tracebacks (`Cell In[count]`). */
  async execute(source: string, count: number): Promise<CellOutcome> {
    const marked = markStatements(source);
    const converted = this.converter.convert(this.prevDecl, marked.text);
    for (const side of converted.sideOutputs ?? []) this.addSideOutput(side);
    if (converted.diagnostics.length > 0) {
      return { ok: false, error: this.compileError(converted.diagnostics, count, source, marked.originalColumn) };
    }
    if (!converted.output) {
      this.prevDecl = converted.declOutput ?? "";
      return { ok: true, value: undefined, hasValue: false };
    }
    const generated = converted.output;
    const isAsync = converted.hasToplevelAwait || hasTopLevelAwait(generated);
    const prefix = `(${isAsync ? "async " : ""}function(exports, require) { `;
    const wrapped = `${prefix}${generated}\n})(${GLOBAL}.exports, ${GLOBAL}.require)`;
    this.cells.set(count, { source: source.split("\n"), generated, lines: generated.split("\n").length, prefix: prefix.length });
    const scope: CellScope = { interrupted: false, aborted: false };
    const stopped = new Promise<never>((_, reject) => {
      this.running = { scope, stop: reject };
    });
    stopped.catch(() => {});
    try {
      const result = cellScope.run(scope, () =>
        vm.runInThisContext(wrapped, { filename: `convlab-cell-${count}`, breakOnSigint: true }),
      );
      if (isAsync) await Promise.race([result, stopped]);
    } catch (error) {
      if (scope.interrupted) scope.aborted = true;
      // Keep what the cell declared: values assigned before the failure stay usable.
      this.prevDecl = converted.declOutput ?? "";
      return { ok: false, error: this.runtimeError(scope.interrupted ? new KernelInterrupt() : error) };
    } finally {
      this.running = undefined;
    }
    this.prevDecl = converted.declOutput ?? "";
    const name = converted.lastExpressionVar;
    if (name && this.exports[name] != null) {
      const value = this.exports[name];
      delete this.exports[name];
      return { ok: true, value, hasValue: true };
    }
    return { ok: true, value: undefined, hasValue: false };
  }

  /**
   * Stops the running cell, if any: training stops at its next batch; if the
   * cell is still running after `graceMs`, it is given up and its timers die.
   */
  interrupt(graceMs = 1000): boolean {
    const running = this.running;
    if (!running) return false;
    running.scope.interrupted = true;
    const giveUp = setTimeout(() => {
      running.scope.aborted = true;
      running.stop(new KernelInterrupt());
    }, graceMs);
    giveUp.unref();
    return true;
  }

  complete(code: string, cursor: number) {
    return this.converter.complete(this.prevDecl, code, cursor);
  }

  inspect(code: string, cursor: number): string | undefined {
    const info = this.converter.inspect(this.prevDecl, code, cursor);
    return info ? printQuickInfo(info) : undefined;
  }

  close(): void {
    this.converter.close();
  }

  private compileError(
    diagnostics: Diagnostic[],
    count: number,
    source: string,
    originalColumn: (line: number, column: number) => number,
  ): CellError {
    const lines = source.split("\n");
    const describe = (d: Diagnostic) => {
      const where = d.fileName
        ? `${d.fileName}, line ${d.start.line + 1}`
        : `Cell In[${count}], line ${d.start.line + 1}, column ${originalColumn(d.start.line, d.start.character) + 1}`;
      return { where, text: `error TS${d.code}: ${d.messageText}` };
    };
    const first = describe(diagnostics[0]);
    const traceback = [`TSError: ${first.text}`];
    for (const d of diagnostics) {
      const { where, text } = describe(d);
      traceback.push(`    at ${where}: ${text}`);
      if (!d.fileName && lines[d.start.line] !== undefined) traceback.push(`        ${lines[d.start.line].trim()}`);
    }
    return { ename: "TSError", evalue: `${first.text} (${first.where})`, traceback };
  }

  private runtimeError(error: unknown): CellError {
    if ((error as { code?: string })?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") error = new KernelInterrupt();
    if (!(error instanceof Error) && !(typeof error === "object" && error !== null && "stack" in error)) {
      return { ename: "Thrown", evalue: inspect(error), traceback: [`Thrown: ${inspect(error)}`] };
    }
    const err = error as Error;
    const ename = err.name || err.constructor?.name || "Error";
    const evalue = err.message ?? "";
    const traceback = [`${ename}: ${evalue}`];
    if (!(err instanceof KernelInterrupt)) {
      for (const frame of (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l))) {
        const mapped = this.mapFrame(frame);
        if (mapped === null) break;
        if (mapped) traceback.push(...mapped);
      }
    }
    return { ename, evalue, traceback };
  }

  /** A stack frame in cell terms; undefined to skip it, null at the kernel's own code. */
  private mapFrame(frame: string): string[] | undefined | null {
    const cell = CELL_FILE.exec(frame);
    if (cell) {
      const count = Number(cell[1]);
      const ran = this.cells.get(count);
      // the frame of the wrapper that invokes the cell is on the line after the cell's code
      if (ran && Number(cell[2]) > ran.lines) return undefined;
      const [row, column] = [Number(cell[2]), Number(cell[3])];
      const line = ran && cellLineOf(ran.generated, row, row === 1 ? column - ran.prefix : column);
      if (!ran || !line) return [`    at Cell In[${count}]`];
      const fn = /^\s+at (?:async )?([^\s(]+) \(/.exec(frame)?.[1];
      const out = [`    at Cell In[${count}], line ${line}${fn && fn !== "eval" && !fn.startsWith("exports.") ? ` (in ${fn})` : ""}`];
      const text = ran.source[line - 1]?.trim();
      if (text) out.push(`        ${text}`);
      return out;
    }
    if (frame.includes(__dirname)) return null;
    if (/\(node:|at node:|\(<anonymous>\)/.test(frame)) return undefined;
    return [frame];
  }

  private addSideOutput(side: SideOutput): void {
    this.sideModules.delete(side.path);
    this.sideOutputs.set(side.path, side.data);
  }

  /** `require` for cells: kernel modules shared, local .ts files from tslab's side outputs, tfjs guarded. */
  private wrapRequire(base: NodeRequire, dir: string): NodeRequire {
    const self = this;
    const wrapped = function (id: string) {
      const shared = KERNEL_MODULES[id];
      if (shared) return shared();
      const local = self.requireSideOutput(id, dir);
      if (local) return local;
      const mod = base(id);
      guardTfjsTraining(mod);
      return mod;
    } as NodeRequire;
    return Object.assign(wrapped, { resolve: base.resolve, cache: base.cache, main: base.main, extensions: base.extensions });
  }

  private requireSideOutput(id: string, dir: string): unknown {
    if (!id.startsWith(".")) return undefined;
    let filename = path.join(dir, id);
    if (path.extname(filename) === "") filename += ".js";
    const cached = this.sideModules.get(filename);
    if (cached) return cached.exports;
    const code = this.sideOutputs.get(filename);
    if (code === undefined) return undefined;
    const mod = new Module(filename, module) as NodeModule & { _compile(code: string, file: string): void; paths: string[] };
    mod.filename = filename;
    mod.paths = (Module as any)._nodeModulePaths(path.dirname(filename));
    (mod as any).require = this.wrapRequire(notebookRequire(path.dirname(filename)), path.dirname(filename));
    mod._compile(code, filename);
    this.sideModules.set(filename, mod);
    return mod.exports;
  }
}
