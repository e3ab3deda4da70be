/**
 * `convlab run`: executes notebooks top to bottom on a fresh convlab kernel,
 * papermill-style, and writes the executed notebooks.
 *
 * ```
 * convlab run <notebook.ipynb...> [--out DIR] [--param KEY=VALUE ...] [--timeout S]
 * ```
 */
import * as fs from "fs";
import * as path from "path";
import { KernelClient, type KernelClientOptions, KernelDiedError, TimeoutError, stripAnsi } from "./client";
import { ConvlabError, fail } from "./errors";
import { paramEnvName } from "./params";
import {
  NbErrorOutput,
  NbOutput,
  Notebook,
  cellSource,
  clearedNotebook,
  messageOf,
  readNotebook,
  setKernelMetadata,
  writeNotebook,
} from "./notebook_file";

/** How long an interrupted cell (after `--timeout`) gets to stop before the kernel is killed, in ms. */
export const INTERRUPT_GRACE_MS = 5_000;

/** How long the running cell gets to stop after the runner is signalled, before the notebook is saved, in ms. */
export const ABORT_GRACE_MS = 2_000;

const USAGE = [
  "Usage: convlab run <notebook.ipynb...> [--out DIR] [--param KEY=VALUE ...] [--timeout S]",
  "",
  "Runs every code cell of each notebook in order on a fresh convlab kernel and",
  "writes the executed notebook next to it as <name>.out.ipynb (or to DIR/<name>.ipynb).",
  "",
  "  --out DIR          write executed notebooks to DIR/<name>.ipynb",
  "  --param KEY=VALUE  set process.env.CONVLAB_<KEY> in the kernel (KEY upper-cased,",
  "                     other characters than letters and digits become _)",
  "  --timeout S        stop a notebook when one cell runs longer than S seconds",
  "",
  "Exit code: 0 all notebooks ran, 1 a notebook failed, 2 bad arguments or",
  "unreadable notebook, 130 interrupted.",
  "",
].join("\n");

/** Parsed `convlab run` arguments. */
export interface RunArgs {
  /** Notebook paths, as given. */
  notebooks: string[];
  /** `--out DIR`, as given. */
  outDir?: string;
  /** `--param` values by key, as given (`--param epochs=1` -> `{ epochs: "1" }`); see {@link RunOptions.params}. */
  params: Record<string, string>;
  /** `--timeout S`, in seconds. */
  timeoutSeconds?: number;
  /** `--help` or `-h` was given. */
  help: boolean;
}

const FLAGS = ["--out", "--param", "--timeout", "--help"] as const;
const EXPECTED_FLAGS = "Expected --out DIR, --param KEY=VALUE or --timeout S.";

/** Levenshtein distance, for "Did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

function closestFlag(flag: string): string | undefined {
  const plain = `--${flag.replace(/^-+/, "").toLowerCase()}`;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of FLAGS) {
    const distance = plain.startsWith(known) || known.startsWith(plain) ? 0 : editDistance(plain, known);
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return bestDistance <= 3 ? best : undefined;
}

/**
 * Parses the arguments of `convlab run` (everything after `run`).
 *
 * Flags may be written `--out DIR` or `--out=DIR`; `--param` may repeat
 * (the last value of a key wins); everything else, and everything after
 * `--`, is a notebook path.
 *
 * @throws ConvlabError (one line) on an unknown flag (suggesting the
 *   closest one), a flag without its value, a `--param` without `=`, a
 *   `--timeout` that is not a positive number, or no notebook.
 *
 * @example
 * parseRunArgs(["a.ipynb", "--param", "epochs=1", "--timeout", "600"]);
 * // { notebooks: ["a.ipynb"], params: { epochs: "1" }, timeoutSeconds: 600, help: false }
 */
export function parseRunArgs(argv: string[]): RunArgs {
  const args: RunArgs = { notebooks: [], params: {}, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      args.notebooks.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      args.notebooks.push(arg);
      continue;
    }
    if (arg === "-h" || arg === "--help") {
      args.help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const known = (FLAGS as readonly string[]).includes(flag) && flag !== "--help";
    if (!known) {
      const suggestion = closestFlag(flag);
      const hint = suggestion ? ` Did you mean ${suggestion}?` : "";
      throw fail(`convlab run: unknown option ${JSON.stringify(arg)}.${hint} ${EXPECTED_FLAGS}`);
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw missingValue(flag);
      value = next;
      i++;
    }
    switch (flag) {
      case "--out":
        if (value === "") throw missingValue(flag);
        args.outDir = value;
        break;
      case "--param": {
        const at = value.indexOf("=");
        if (at <= 0) {
          throw fail(`convlab run: invalid --param ${JSON.stringify(value)}. Expected KEY=VALUE, e.g. --param EPOCHS=1.`);
        }
        args.params[value.slice(0, at)] = value.slice(at + 1);
        break;
      }
      case "--timeout": {
        const seconds = value.trim() === "" ? NaN : Number(value);
        if (!Number.isFinite(seconds) || seconds <= 0) {
          throw fail(`convlab run: invalid --timeout ${JSON.stringify(value)}. Expected a positive number of seconds, e.g. --timeout 600.`);
        }
        args.timeoutSeconds = seconds;
        break;
      }
    }
  }
  if (!args.help && args.notebooks.length === 0) {
    throw fail("convlab run: no notebook given. Expected one or more .ipynb paths, e.g. convlab run notebooks/01_intro.ipynb.");
  }
  return args;
}

function missingValue(flag: string): ConvlabError {
  const example: Record<string, string> = {
    "--out": "--out DIR, e.g. --out build/notebooks",
    "--param": "--param KEY=VALUE, e.g. --param EPOCHS=1",
    "--timeout": "--timeout S, e.g. --timeout 600",
  };
  return fail(`convlab run: ${flag} needs a value. Expected ${example[flag]}.`);
}

/**
 * Where the executed copy of `notebook` is written: `DIR/<name>.ipynb` with
 * `--out DIR`, otherwise `<name>.out.ipynb` next to the input.
 */
export function outputPathFor(notebook: string, outDir?: string): string {
  const name = path.basename(notebook).replace(/\.ipynb$/i, "");
  return outDir !== undefined ? path.join(outDir, `${name}.ipynb`) : path.join(path.dirname(notebook), `${name}.out.ipynb`);
}

/** Options of {@link runNotebook}. */
export interface RunOptions {
  /** Write the executed notebook to `outDir/<name>.ipynb` (created if missing). Default: next to the input as `<name>.out.ipynb`. */
  outDir?: string;
  /**
   * Parameters for the notebook by key, passed through the environment:
   * key `epochs` becomes `CONVLAB_EPOCHS` (`paramEnvName` of ./params: `CONVLAB_` +
   * the key upper-cased, other characters than A-Z and 0-9 turned into `_`),
   * which a cell reads as `process.env.CONVLAB_EPOCHS` or `param("epochs", 5)`.
   * Variables already set in the runner's environment (e.g. an exported
   * `CONVLAB_EPOCHS`) pass through unless a parameter overrides them.
   */
  params?: Record<string, string>;
  /** More environment variables for the kernel (after the parameters). */
  env?: Record<string, string>;
  /** Per-cell limit in seconds: the cell is interrupted, given 5 s, then the kernel is killed. Default: none. */
  timeoutSeconds?: number;
  /** Receives one progress line per cell (without newline). Default: silent. */
  log?: (line: string) => void;
  /**
   * Aborting it stops the run: the running cell is interrupted (2 s to
   * unwind), the partial notebook is written and the kernel shut down. A
   * string reason (runMain passes the signal name, e.g. "SIGINT") is quoted
   * in the message.
   */
  signal?: AbortSignal;
  /** Kernel command (see {@link KernelClientOptions.argv}); default: this package's `dist/cli.js kernel`. */
  kernelArgv?: string[];
  /** Kernel startup limit in ms. Default 60,000. */
  startupTimeoutMs?: number;
}

/** What happened to one code cell. */
export interface CellRun {
  /** 1-based number among the notebook's code cells (markdown and raw cells are not counted). */
  cell: number;
  /** 0-based index in `notebook.cells`. */
  index: number;
  status: "ok" | "skipped" | "error" | "died" | "timeout" | "interrupted";
  /** Wall time from sending the cell to its last output, in seconds (0 when skipped). */
  seconds: number;
  /** The execution count written to the notebook (null when skipped). */
  executionCount: number | null;
}

/** Why a notebook did not run to the end. */
export interface RunFailure {
  kind: "read" | "start" | "write" | "error" | "died" | "timeout" | "interrupted";
  /** The code cell (1-based among code cells) that failed, when one did. */
  cell?: number;
  /** The line of that cell named by the kernel's traceback (`Cell In[3], line 2`), when known. */
  line?: number;
  /** The error name and value for kind "error" (e.g. "ReferenceError: x is not defined"). */
  error?: string;
  /** The one-line message printed on stderr by `convlab run`. */
  message: string;
}

/** The result of {@link runNotebook}. */
export interface RunResult {
  /** The input path, as given. */
  input: string;
  /** Where the executed notebook is (or would have been) written. */
  output: string;
  /** Whether the executed notebook was written at least once. */
  written: boolean;
  status: "ok" | "failed" | "interrupted";
  /** One entry per code cell reached, in order. */
  cells: CellRun[];
  failure?: RunFailure;
  /** The executed (possibly partial) notebook, when the input could be read. */
  notebook?: Notebook;
  /** Total wall time in seconds, kernel start included. */
  seconds: number;
  /** Process id the kernel had (it is gone when runNotebook returns), for diagnostics and tests. */
  kernelPid?: number;
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : String(Number(seconds.toFixed(3)));
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function withoutUnit(message: string): string {
  return message.replace(/^KernelClient: /, "");
}

/**
 * The cell line named by a traceback: the first `Cell In[N], line L` whose N
 * is `executionCount` (any N when the count is unknown or none matches
 * another cell's frame is not taken). Colour codes are ignored.
 */
export function tracebackLine(traceback: string[], executionCount?: number | null): number | undefined {
  const found: Array<{ count: number; line: number }> = [];
  for (const entry of traceback) {
    for (const match of stripAnsi(entry).matchAll(/Cell In\s*\[\s*(\d+)\s*\],\s*line (\d+)/g)) {
      found.push({ count: Number(match[1]), line: Number(match[2]) });
    }
  }
  if (found.length === 0) return undefined;
  if (typeof executionCount === "number") return found.find((f) => f.count === executionCount)?.line;
  return found[0].line;
}

/** ` (line 2: \`const y = x + 1;\`)`, or ` (line 2)` when the line is not in the source, or "" without a line. */
function lineInfo(source: string, line: number | undefined): string {
  if (line === undefined) return "";
  const text = source.split(/\r?\n/)[line - 1]?.trim();
  if (!text) return ` (line ${line})`;
  const short = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  return ` (line ${line}: \`${short}\`)`;
}

/** The error of a failed cell: its `error` output, else the reply's fields, else an error line found on stderr. */
function describeCellError(outputs: NbOutput[], reply: Record<string, any>): { error?: string; traceback: string[] } {
  const errors = outputs.filter((o): o is NbErrorOutput => o.output_type === "error");
  const last = errors[errors.length - 1];
  const name = last?.ename ?? (typeof reply.ename === "string" ? reply.ename : "");
  const value = last?.evalue ?? (typeof reply.evalue === "string" ? reply.evalue : "");
  const traceback = last?.traceback ?? (Array.isArray(reply.traceback) ? reply.traceback.map(String) : []);
  const firstLine = stripAnsi(String(value)).split("\n")[0].trim();
  if (name || firstLine) return { error: name && firstLine ? `${name}: ${firstLine}` : name || firstLine, traceback };
  // Kernels that only print the error (plain tslab) leave it on stderr.
  for (const output of outputs) {
    if (output.output_type !== "stream" || output.name !== "stderr") continue;
    const text = Array.isArray(output.text) ? output.text.join("") : output.text;
    const line = stripAnsi(text)
      .split("\n")
      .map((l) => l.trim())
      .find((l) => /^[A-Za-z_$][\w$]*(Error|Exception)\b.*: /.test(l) || /^\d+:\d+ - /.test(l));
    if (line) return { error: line, traceback };
  }
  return { traceback };
}

/** `promise`'s value, or false when it takes longer than `ms` (the timer never outlives the race). */
async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function syntheticError(ename: string, evalue: string): NbErrorOutput {
  return { output_type: "error", ename, evalue, traceback: [] };
}

/**
 * Runs one notebook on a fresh kernel, papermill-style, and writes the
 * executed copy. This is the code path of `convlab run`.
 *
 * - The kernel starts in the notebook's folder, with the runner's
 *   environment plus the parameters: `--param epochs=1` arrives as
 *   `process.env.CONVLAB_EPOCHS === "1"` (see {@link RunOptions.params}); a
 *   `CONVLAB_*` variable exported by the caller's shell passes through too.
 * - Code cells run in order; markdown and raw cells are copied; empty code
 *   cells are skipped and keep `execution_count: null`. Outputs of the input
 *   are cleared first, so cells that never run have none.
 * - The executed notebook is written (atomically) once the kernel is up and
 *   after every cell, so a killed runner loses at most the running cell.
 * - The first failing cell stops the notebook: a cell error, a kernel that
 *   dies (e.g. `process.exit()`), a cell longer than `timeoutSeconds`
 *   (interrupted, 5 s grace, then the kernel is killed) or `signal`. The
 *   timeout, death and interrupt are also recorded in the cell as an
 *   `error` output (CellTimeoutError, DeadKernelError, Interrupted).
 *
 * Never throws for a notebook problem: the result says what failed, with the
 * one-line message `convlab run` prints.
 *
 * @param notebook - Path of the `.ipynb` file (quoted as given in messages).
 * @example
 * const result = await runNotebook("notebooks/01_intro.ipynb", { params: { epochs: "1" }, timeoutSeconds: 600 });
 * if (result.failure) console.error(result.failure.message);
 */
export async function runNotebook(notebook: string, options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const output = outputPathFor(notebook, options.outDir);
  const result: RunResult = { input: notebook, output, written: false, status: "ok", cells: [], seconds: 0 };
  const finish = (failure?: RunFailure): RunResult => {
    result.failure = failure;
    result.status = failure ? (failure.kind === "interrupted" ? "interrupted" : "failed") : "ok";
    result.seconds = (Date.now() - started) / 1000;
    return result;
  };

  let input: Notebook;
  try {
    input = readNotebook(notebook);
  } catch (error) {
    return finish({ kind: "read", message: messageOf(error) });
  }
  const nb = clearedNotebook(input);
  result.notebook = nb;
  const codeCells = nb.cells.map((cell, index) => ({ cell, index })).filter(({ cell }) => cell.cell_type === "code");
  const save = (): RunFailure | undefined => {
    try {
      if (options.outDir !== undefined) fs.mkdirSync(options.outDir, { recursive: true });
      writeNotebook(output, nb);
      result.written = true;
      return undefined;
    } catch (error) {
      return { kind: "write", message: messageOf(error) };
    }
  };
  const written = () => `Executed notebook written to ${output}.`;
  const interruptedBy = () => (typeof options.signal?.reason === "string" ? options.signal.reason : "aborted");

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.params ?? {})) env[paramEnvName(key)] = value;
  Object.assign(env, options.env ?? {});

  log(`${notebook}: ${codeCells.length} code cell${codeCells.length === 1 ? "" : "s"}`);
  if (options.signal?.aborted) {
    return finish({ kind: "interrupted", message: `convlab run: ${notebook} interrupted (${interruptedBy()}) before it started. Nothing was written.` });
  }

  const aborted = new Promise<"aborted">((resolve) => {
    if (options.signal?.aborted) resolve("aborted");
    options.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });

  let kernel: KernelClient;
  try {
    const starting = KernelClient.start({
      cwd: path.dirname(path.resolve(notebook)),
      env,
      argv: options.kernelArgv,
      startupTimeoutMs: options.startupTimeoutMs,
    });
    const first = await Promise.race([starting, aborted]);
    if (first === "aborted") {
      starting.then((late) => late.kill(), () => {});
      return finish({ kind: "interrupted", message: `convlab run: ${notebook} interrupted (${interruptedBy()}) while its kernel started. Nothing was written.` });
    }
    kernel = first;
    result.kernelPid = kernel.pid;
  } catch (error) {
    const reason = withoutUnit(messageOf(error));
    return finish({ kind: "start", message: `convlab run: cannot run ${notebook}: ${reason}` });
  }

  try {
    setKernelMetadata(nb, kernel.kernelInfo.language_info);
    const firstWrite = save();
    if (firstWrite) return finish(firstWrite);

    let count = 0;
    for (let k = 0; k < codeCells.length; k++) {
      const { cell, index } = codeCells[k];
      const number = k + 1;
      const prefix = `  [${number}/${codeCells.length}] cell ${number}`;
      const source = cellSource(cell);
      if (source.trim() === "") {
        result.cells.push({ cell: number, index, status: "skipped", seconds: 0, executionCount: null });
        log(`${prefix}  skipped (empty)`);
        continue;
      }
      if (options.signal?.aborted) {
        const saved = save();
        return finish(saved ?? { kind: "interrupted", cell: number, message: `convlab run: ${notebook} interrupted (${interruptedBy()}) before cell ${number}. ${written()}` });
      }
      count += 1;
      const outputs: NbOutput[] = (cell.outputs = []);
      const cellStart = Date.now();
      const run: CellRun = { cell: number, index, status: "ok", seconds: 0, executionCount: null };
      result.cells.push(run);
      const done = (status: CellRun["status"]) => {
        run.status = status;
        run.seconds = (Date.now() - cellStart) / 1000;
        log(`${prefix}  ${run.seconds.toFixed(2)} s  ${status}`);
      };
      const timeoutMs = options.timeoutSeconds !== undefined ? options.timeoutSeconds * 1000 : undefined;
      let execution: ReturnType<KernelClient["execute"]> | undefined;
      let outcome: Awaited<ReturnType<KernelClient["execute"]>> | "aborted";
      try {
        execution = kernel.execute(source, { outputs, timeoutMs });
        execution.catch(() => {}); // settled later, or never looked at after an abort
        outcome = await Promise.race([execution, aborted]);
      } catch (error) {
        if (error instanceof TimeoutError) {
          kernel.interrupt();
          const stopped = await within(error.finished, INTERRUPT_GRACE_MS);
          const seconds = formatSeconds(options.timeoutSeconds!);
          const exceeded = `the cell exceeded ${seconds} second${seconds === "1" ? "" : "s"} (--timeout ${seconds})`;
          outputs.push(syntheticError("CellTimeoutError", `convlab run: ${exceeded}.`));
          cell.execution_count = count;
          run.executionCount = count;
          done("timeout");
          if (!stopped) await kernel.kill();
          const saved = save();
          const how = stopped ? "was interrupted" : `did not stop within ${INTERRUPT_GRACE_MS / 1000} s of the interrupt and the kernel was killed`;
          return finish(
            saved ?? {
              kind: "timeout",
              cell: number,
              message: `convlab run: ${notebook} failed at cell ${number}: ${exceeded} and ${how}. ${written()}`,
            },
          );
        }
        if (error instanceof KernelDiedError) {
          outputs.push(syntheticError("DeadKernelError", `${error.reason} while running this cell`));
          cell.execution_count = count;
          run.executionCount = count;
          done("died");
          const saved = save();
          const stderr = error.stderrTail.length > 0 ? `; its stderr ended with: ${JSON.stringify(stripAnsi(error.stderrTail[error.stderrTail.length - 1]).trim().slice(0, 200))}` : "";
          return finish(
            saved ?? {
              kind: "died",
              cell: number,
              message: `convlab run: ${notebook} failed at cell ${number}: ${error.reason} while running it${stderr}. ${written()}`,
            },
          );
        }
        throw error;
      }
      if (outcome === "aborted") {
        // Interrupting first lets the cell unwind and flush its output before it is saved.
        kernel.interrupt();
        const ended = execution!.then(
          ({ reply }) => {
            if (typeof reply.content.execution_count === "number") {
              cell.execution_count = reply.content.execution_count;
              run.executionCount = reply.content.execution_count;
            }
            return true;
          },
          () => false,
        );
        await within(ended, ABORT_GRACE_MS);
        outputs.push(syntheticError("Interrupted", `convlab run received ${interruptedBy()} while this cell ran.`));
        done("interrupted");
        const saved = save();
        return finish(
          saved ?? {
            kind: "interrupted",
            cell: number,
            message: `convlab run: ${notebook} interrupted (${interruptedBy()}) at cell ${number}. ${written()}`,
          },
        );
      }
      const reply = outcome.reply.content;
      const executionCount = typeof reply.execution_count === "number" ? reply.execution_count : count;
      cell.execution_count = executionCount;
      run.executionCount = executionCount;
      if (reply.status === "ok") {
        done("ok");
        const saved = save();
        if (saved) return finish(saved);
        continue;
      }
      done("error");
      const saved = save();
      if (saved) return finish(saved);
      if (reply.status === "abort" || reply.status === "aborted") {
        return finish({
          kind: "error",
          cell: number,
          message: `convlab run: ${notebook} failed at cell ${number}: the kernel aborted it (execute_reply status "abort") without running it. ${written()}`,
        });
      }
      const { error, traceback } = describeCellError(outputs, reply);
      const line = tracebackLine(traceback, executionCount);
      const what = error ? sentence(error) : `the cell failed but the kernel sent no error details (execute_reply status ${JSON.stringify(reply.status)}).`;
      return finish({
        kind: "error",
        cell: number,
        line,
        error,
        message: `convlab run: ${notebook} failed at cell ${number}${lineInfo(source, line)}: ${what} ${written()}`,
      });
    }
    log(`${notebook}: ok in ${((Date.now() - started) / 1000).toFixed(2)} s. ${written()}`);
    return finish();
  } finally {
    await kernel.shutdown();
  }
}

/** Signals that stop `convlab run` (the partial notebook is written, exit code 130). */
const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * `convlab run` from the command line (the arguments after `run`).
 *
 * Checks every argument and that every notebook can be read before running
 * any, so a typo does not surface after an hour of training. Progress goes to
 * stdout (one line per code cell, e.g. `  [3/12] cell 3  0.42 s  ok`), each
 * failure as one line to stderr. A failing notebook does not stop the next.
 * SIGINT, SIGTERM or SIGHUP write the partial notebook, shut the kernel down
 * and return 130; a second signal kills the kernel and exits at once.
 *
 * Parameters reach the notebooks through the environment, papermill-style:
 * `--param epochs=1` sets `CONVLAB_EPOCHS=1` for the kernel (`CONVLAB_` + the
 * key upper-cased, other characters than A-Z and 0-9 turned into `_`); in a
 * cell, `const EPOCHS = param("epochs", 5);` or
 * `Number(process.env.CONVLAB_EPOCHS ?? 5)`. Variables exported by the
 * caller's shell pass through.
 *
 * @returns The exit code: 0 every notebook ran, 1 one failed, 2 bad
 *   arguments or an unreadable notebook (nothing ran), 130 interrupted.
 */
export async function runMain(argv: string[]): Promise<number> {
  const stdout = (line: string) => process.stdout.write(`${line}\n`);
  const stderr = (line: string) => process.stderr.write(`${line}\n`);
  let args: RunArgs;
  try {
    args = parseRunArgs(argv);
  } catch (error) {
    stderr(messageOf(error));
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let unreadable = false;
  for (const notebook of args.notebooks) {
    try {
      readNotebook(notebook);
    } catch (error) {
      stderr(messageOf(error));
      unreadable = true;
    }
  }
  if (unreadable) return 2;
  const targets = new Map<string, string>();
  for (const notebook of args.notebooks) {
    const target = path.resolve(outputPathFor(notebook, args.outDir));
    const other = targets.get(target);
    if (other !== undefined) {
      stderr(
        `convlab run: ${other} and ${notebook} would both be written to ${outputPathFor(notebook, args.outDir)}. ` +
          "Expected notebooks with distinct names; run them separately or without --out.",
      );
      return 2;
    }
    targets.set(target, notebook);
  }

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      stderr(`convlab run: ${signal} again; killing the kernel and exiting now.`);
      process.exit(130); // The client's exit hook kills live kernels.
    }
    controller.abort(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    let failed = false;
    for (const notebook of args.notebooks) {
      const result = await runNotebook(notebook, {
        outDir: args.outDir,
        params: args.params,
        timeoutSeconds: args.timeoutSeconds,
        signal: controller.signal,
        log: stdout,
      });
      if (result.failure) stderr(result.failure.message);
      if (result.status === "interrupted") return 130;
      if (result.status === "failed") failed = true;
    }
    return failed ? 1 : 0;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
