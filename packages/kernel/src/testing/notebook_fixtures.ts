/**
 * Fixture notebooks for the runner and notebook_file tests, built from small
 * JSON objects and written into a temporary folder by each test.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { defaultCliPath } from "../client";
import type { NbCell, NbOutput, Notebook } from "../notebook_file";

/** A cell given as `[cell_type, source]` or as a full cell object. */
export type CellSpec = ["code" | "markdown" | "raw", string] | NbCell;

/**
 * An nbformat 4.5 notebook with ids `cell-1`, `cell-2`, ... (or 4.4 without
 * ids when `minor` is 4), code cells carrying stale outputs so tests can see
 * that the runner clears them.
 */
export function notebookJson(cells: CellSpec[], minor = 5): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: minor,
    metadata: { custom: { kept: true } },
    cells: cells.map((spec, i) => {
      if (!Array.isArray(spec)) return spec;
      const [type, source] = spec;
      const cell: NbCell = { cell_type: type, metadata: {}, source };
      if (minor >= 5) cell.id = `cell-${i + 1}`;
      if (type === "code") {
        cell.outputs = [{ output_type: "stream", name: "stdout", text: "stale output\n" }];
        cell.execution_count = 99;
      }
      return cell;
    }),
  };
}

/** Writes `notebookJson(cells)` to `dir/name` and returns the path. */
export function writeFixture(dir: string, name: string, cells: CellSpec[], minor = 5): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(notebookJson(cells, minor), null, 1));
  return file;
}

/** A notebook that runs cleanly: markdown, output, an empty cell, a value, a parameter. */
export const OK_CELLS: CellSpec[] = [
  ["markdown", "# A notebook that works"],
  ["code", 'console.log("hello");\nconst half: number = 21;'],
  ["code", "   \n"],
  ["code", "half * 2"],
  ["raw", "raw text"],
  ["code", 'console.log(`epochs=${process.env.CONVLAB_EPOCHS}`);\nconsole.log(`exported=${process.env.CONVLAB_EXPORTED}`);'],
];

/** A notebook whose third code cell throws on its second line. */
export const FAILING_CELLS: CellSpec[] = [
  ["markdown", "# A notebook that fails"],
  ["code", 'console.log("one");'],
  ["code", "const two = 2;"],
  ["code", 'console.log("before");\nconst y = (undefined as any).field + 1;\nconsole.log("after");'],
  ["code", 'console.log("never");'],
];

/** A notebook whose second code cell ends the kernel process. */
export const EXIT_CELLS: CellSpec[] = [
  ["code", 'console.log("alive");'],
  ["code", 'console.log("exiting");\nprocess.exit(0);'],
  ["code", 'console.log("never");'],
];

/** Text of the stream outputs of `name`. */
export function streamText(outputs: NbOutput[] | undefined, name = "stdout"): string {
  return (outputs ?? [])
    .filter((o): o is Extract<NbOutput, { output_type: "stream" }> => o.output_type === "stream" && o.name === name)
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : o.text))
    .join("");
}

/** Reads a written notebook as plain JSON (not through notebook_file). */
export function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

/**
 * Validates `file` with Jupyter's own nbformat (Debian's /usr/bin/python3).
 * @returns "valid", "no-nbformat" when the module is absent, or the validation error.
 */
export function nbformatCheck(file: string): string {
  const python = "/usr/bin/python3";
  if (!fs.existsSync(python)) return "no-nbformat";
  try {
    execFileSync(python, ["-c", "import nbformat"], { stdio: "ignore" });
  } catch {
    return "no-nbformat";
  }
  try {
    execFileSync(python, ["-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], 4)); print('valid')", file], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return "valid";
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error);
  }
}

/**
 * True while a process with this id exists and is not a zombie. (A killed
 * kernel whose parent already exited is re-parented to PID 1, which in some
 * containers never reaps it: it stays a zombie, dead but still signalable.)
 */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return !fs.existsSync("/proc/self/stat");
  }
}

/** Ids of the direct children of `pid`, from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may contain spaces, so parse after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passes; returns its last value. */
export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** How a `convlab run` process ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Date.now() at the runner's `exit` event. */
  exitedAt: number;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** More environment variables for the runner. */
  env?: Record<string, string>;
  /** Sees stdout each time it grows. */
  onStdout?: (text: string, child: ChildProcess) => void;
  /** Receives the child, for the test's cleanup. */
  children?: ChildProcess[];
}

/** Runs `node dist/cli.js run ...args` in `cwd`, as a person would from a shell. */
export function runCli(args: string[], cwd: string, options: RunCliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [defaultCliPath(), "run", ...args], { cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    options.children?.push(child);
    let stdout = "";
    let stderr = "";
    let exitedAt = 0;
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      options.onStdout?.(stdout, child);
    });
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", () => (exitedAt = Date.now()));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, exitedAt }));
  });
}
