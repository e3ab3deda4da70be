/**
 * Registering the kernel with Jupyter: the kernelspec `convlab`
 * ("TypeScript (convlab)"), written where Jupyter looks for it.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fail } from "./errors";

/** Kernelspec name, as notebooks store it in metadata. */
export const KERNEL_NAME = "convlab";
/** Name shown in Jupyter's kernel menu. */
export const DISPLAY_NAME = "TypeScript (convlab)";

/** The Python that has Jupyter: Debian's, not whatever `python3` is first on PATH. */
export function jupyterPython(): string {
  return process.env.CONVLAB_PYTHON || (fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

/** kernel.json: this node and this package's cli, so it works whatever PATH Jupyter has. */
export function kernelSpec(): object {
  return {
    argv: [process.execPath, path.join(__dirname, "cli.js"), "kernel", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { debugger: false },
  };
}

/**
 * Writes `<kernelsDir>/convlab/kernel.json` unless it already holds the same
 * content (so a second run changes nothing). Returns the folder written.
 */
export function installKernelSpec(kernelsDir: string): { dir: string; changed: boolean } {
  const dir = path.join(kernelsDir, KERNEL_NAME);
  const file = path.join(dir, "kernel.json");
  const content = `${JSON.stringify(kernelSpec(), null, 1)}\n`;
  try {
    if (fs.readFileSync(file, "utf8") === content) return { dir, changed: false };
  } catch {
    // not there yet
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
  return { dir, changed: true };
}

/** `convlab install [--user | --sys-prefix | --prefix DIR | --jupyter-path DIR]`. */
export function installMain(args: string[]): number {
  const target = kernelsDirFor(args);
  const { dir, changed } = installKernelSpec(target);
  process.stdout.write(`${changed ? "Installed" : "Already installed:"} kernelspec "${KERNEL_NAME}" (${DISPLAY_NAME}) in ${dir}\n`);
  return 0;
}

/** The kernels folder an install flag names. */
export function kernelsDirFor(args: string[]): string {
  const [flag, value, ...extra] = args;
  const needsValue = flag === "--prefix" || flag === "--jupyter-path";
  if (extra.length > 0 || (needsValue ? !value : value !== undefined)) {
    throw fail(`convlab install: unexpected arguments ${JSON.stringify(args)}. Expected one of --user, --sys-prefix, --prefix DIR, --jupyter-path DIR.`);
  }
  switch (flag) {
    case undefined:
    case "--user":
      return path.join(process.env.JUPYTER_DATA_DIR || path.join(os.homedir(), ".local", "share", "jupyter"), "kernels");
    case "--sys-prefix":
      return path.join(sysPrefix(), "share", "jupyter", "kernels");
    case "--prefix":
      return path.join(path.resolve(value), "share", "jupyter", "kernels");
    case "--jupyter-path":
      return path.join(path.resolve(value), "kernels");
    default:
      throw fail(`convlab install: unknown option ${JSON.stringify(flag)}. Expected one of --user, --sys-prefix, --prefix DIR, --jupyter-path DIR.`);
  }
}

function sysPrefix(): string {
  const python = jupyterPython();
  try {
    return execFileSync(python, ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" }).trim();
  } catch (error) {
    throw fail(`convlab install --sys-prefix: cannot run ${python} to find sys.prefix (${(error as Error).message.split("\n")[0]}). Install Jupyter (Debian: apt-get install jupyter-notebook) or set CONVLAB_PYTHON.`);
  }
}
