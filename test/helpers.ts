/** Shared helpers of the cross-package tests. */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The repository root. */
export const ROOT = path.resolve(__dirname, "..");
/** The compiled `convlab` command line. */
export const CLI = path.join(ROOT, "packages", "kernel", "dist", "cli.js");
/** The project-local JUPYTER_PATH entry that `npm start` and `npm test` set up. */
export const JUPYTER_PATH = path.join(ROOT, ".convlab", "jupyter");

/** Runs `convlab <args>` synchronously. */
export function convlab(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 1_800_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: timeoutMs });
}

/** A new empty temporary folder. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `convlab-${prefix}-`));
}

/** Every lesson notebook, in course order. */
export function lessonNotebooks(): string[] {
  return fs
    .readdirSync(path.join(ROOT, "notebooks"))
    .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.endsWith(".out.ipynb"))
    .sort()
    .map((f) => path.join(ROOT, "notebooks", f));
}

/** Joined text of an nbformat multiline string. */
export function joined(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join("") : value ?? "";
}

/** Writes a notebook of code cells for the convlab kernel to `file`. */
export function writeCodeNotebook(file: string, sources: string[]): void {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "convlab", display_name: "TypeScript (convlab)", language: "typescript" } },
    cells: sources.map((source, i) => ({ cell_type: "code", id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
  };
  fs.writeFileSync(file, JSON.stringify(notebook));
}
