/**
 * Plugin packages written by tests: a working one (an HTML renderer), a
 * broken one (activate throws), packed with `npm pack` like a real topic
 * package.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Writes a plugin package into `dir` and returns `dir`. */
export function writePluginPackage(dir: string, name: string, activateBody: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name, version: "1.0.0", main: "index.js", convlab: { plugin: true } }, null, 2),
  );
  fs.writeFileSync(
    path.join(dir, "index.js"),
    `exports.plugin = {\n  id: ${JSON.stringify(`${name}:plugin`)},\n  description: "test plugin",\n  activate(ctx) {\n${activateBody}\n  },\n};\n`,
  );
  return dir;
}

/** A renderer that claims `{ kind: "greeting", name }` values with an HTML bundle. */
export const GREETING_RENDERER = `    ctx.renderers.add({
      id: "greeting:html",
      render(value) {
        if (!value || value.kind !== "greeting") return undefined;
        return { "text/html": "<b>Hello, " + value.name + "</b>", "text/plain": "Hello, " + value.name };
      },
    });`;

/** `npm pack` of a package folder into `outDir`; returns the tarball path. */
export function npmPack(pkgDir: string, outDir: string): string {
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", outDir], { cwd: pkgDir, encoding: "utf8" });
  return path.join(outDir, out.trim().split("\n").pop()!);
}

/** `npm install <tarballs>` into `dir`, offline (the fixtures have no dependencies). */
export function npmInstall(dir: string, tarballs: string[]): void {
  if (!fs.existsSync(path.join(dir, "package.json"))) {
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "notebook-folder", private: true }));
  }
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", ...tarballs], { cwd: dir, stdio: "pipe" });
}
