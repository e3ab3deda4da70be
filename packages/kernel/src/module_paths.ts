/**
 * Where a notebook's imports and plugins come from: the `node_modules`
 * folders from the notebook's folder up to the root, as Node resolves them,
 * then those of the kernel's own installation.
 *
 * The second part is what lets one installation serve every folder: a kernel
 * installed once for a whole machine (JupyterHub: `/opt/convlab` plus a
 * system kernelspec) runs notebooks in each user's home, where no
 * `node_modules` exists, with the packages installed beside it. A package
 * installed nearer the notebook always wins.
 */
import Module, { createRequire } from "module";
import * as fs from "fs";
import * as path from "path";

/** The kernel package's folder (its real path: a workspace link resolves to packages/kernel). */
const KERNEL_DIR = fs.realpathSync(path.join(__dirname, ".."));

/** Existing `node_modules` folders from `dir` up to the root, nearest first. */
export function nodeModulesFrom(dir: string): string[] {
  return ((Module as any)._nodeModulePaths(path.resolve(dir)) as string[]).filter((folder) => isDirectory(folder));
}

/**
 * Every `node_modules` folder a notebook in `cwd` gets packages from, in the
 * order they are searched: from `cwd` upward, then from the kernel's
 * installation upward (`installDir`, default this package's folder).
 */
export function moduleFolders(cwd: string, installDir = KERNEL_DIR): string[] {
  return [...new Set([...nodeModulesFrom(cwd), ...nodeModulesFrom(installDir)])];
}

/**
 * A `require` for cells run in `dir`: a module is resolved from `dir` as
 * Node would, else from the kernel's installation.
 */
export function notebookRequire(dir: string, installDir = KERNEL_DIR): NodeRequire {
  const local = createRequire(path.join(path.resolve(dir), "__convlab__.js"));
  const installed = createRequire(path.join(installDir, "__convlab__.js"));
  const resolve = ((id: string, options?: { paths?: string[] }) => {
    try {
      return local.resolve(id, options);
    } catch (error) {
      if (options?.paths || id.startsWith(".") || path.isAbsolute(id)) throw error;
      try {
        return installed.resolve(id);
      } catch {
        throw error; // the message names the notebook's folder, where the user would install it
      }
    }
  }) as NodeRequire["resolve"];
  resolve.paths = local.resolve.paths;
  const load = ((id: string) => local(resolve(id))) as NodeRequire;
  return Object.assign(load, { resolve, cache: local.cache, main: local.main, extensions: local.extensions });
}

/**
 * Makes TypeScript (tslab's type checker) see the kernel installation's
 * packages from `cwd`, as {@link notebookRequire} does for running code: a
 * path `<cwd>/node_modules/<pkg>/…` whose package is in no `node_modules`
 * from `cwd` upward is read from the installation's copy. tslab itself
 * forwards `node_modules/tslab` the same way. Applies to the TypeScript
 * module tslab uses, once per kernel process.
 */
export function forwardTypeResolution(ts: { sys: any }, cwd: string, installDir = KERNEL_DIR): void {
  const prefix = path.join(path.resolve(cwd), "node_modules") + path.sep;
  const local = nodeModulesFrom(cwd);
  const installed = nodeModulesFrom(installDir).filter((folder) => !local.includes(folder));
  forwardPath = (file: string): string => {
    if (typeof file !== "string" || !file.startsWith(prefix)) return file;
    const rest = file.slice(prefix.length).split(/[\\/]/);
    const length = rest[0].startsWith("@") && rest.length > 1 ? 2 : 1;
    const name = rest.slice(0, length).join(path.sep);
    if (name === "" || name === "tslab" || local.some((folder) => fs.existsSync(path.join(folder, name)))) return file;
    const home = installed.find((folder) => fs.existsSync(path.join(folder, name)));
    return home ? path.join(home, ...rest) : file;
  };
  if (patched.has(ts.sys)) return;
  patched.add(ts.sys);
  for (const method of ["fileExists", "directoryExists", "readFile", "readDirectory", "getDirectories", "realpath", "getModifiedTime"]) {
    const original = ts.sys[method];
    if (typeof original !== "function") continue;
    ts.sys[method] = (file: string, ...rest: unknown[]) => original.call(ts.sys, forwardPath(file), ...rest);
  }
}

/** The path rewriting of the last {@link forwardTypeResolution} (one kernel, one notebook folder). */
let forwardPath = (file: string): string => file;
const patched = new WeakSet<object>();

function isDirectory(folder: string): boolean {
  try {
    return fs.statSync(folder).isDirectory();
  } catch {
    return false;
  }
}
