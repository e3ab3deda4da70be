import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { forwardTypeResolution, moduleFolders, notebookRequire } from "./module_paths";

/** A notebook folder and a kernel installation, side by side under one temp folder. */
function layout(): { home: string; install: string; kernelDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-modules-"));
  const home = path.join(root, "home", "student");
  const install = path.join(root, "opt", "convlab");
  const kernelDir = path.join(install, "node_modules", "@convlab", "kernel");
  writePackage(path.join(install, "node_modules", "only-installed"), "installed");
  writePackage(path.join(install, "node_modules", "@scope", "both"), "installed");
  writePackage(path.join(home, "node_modules", "@scope", "both"), "local");
  fs.mkdirSync(kernelDir, { recursive: true });
  return { home, install, kernelDir };
}

function writePackage(dir: string, value: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: path.basename(dir), main: "index.js", types: "index.d.ts" }));
  fs.writeFileSync(path.join(dir, "index.js"), `module.exports = ${JSON.stringify(value)};\n`);
  fs.writeFileSync(path.join(dir, "index.d.ts"), `declare const value: ${JSON.stringify(value)};\nexport = value;\n`);
}

describe("moduleFolders", () => {
  it("searches the notebook's folders upward first, then the kernel installation's, each once", () => {
    const { home, install, kernelDir } = layout();
    const folders = moduleFolders(path.join(home, "lessons"), kernelDir);
    expect(folders.filter((f) => f.startsWith(path.dirname(path.dirname(home))))).toEqual([
      path.join(home, "node_modules"),
      path.join(install, "node_modules"),
    ]);
    expect(new Set(folders).size).toBe(folders.length);
  });
});

describe("notebookRequire", () => {
  it("loads from the notebook's folder first, then from the installation", () => {
    const { home, kernelDir } = layout();
    const load = notebookRequire(home, kernelDir);
    expect(load("@scope/both")).toBe("local");
    expect(load("only-installed")).toBe("installed");
    expect(typeof load("fs").readFileSync).toBe("function"); // built-ins as usual
  });

  it("reports a missing package from the notebook's folder, as Node would", () => {
    const { home, kernelDir } = layout();
    expect(() => notebookRequire(home, kernelDir)("not-installed-anywhere")).toThrow(
      /Cannot find module 'not-installed-anywhere'[^]*student[\\/]__convlab__\.js/, // Node's absolute path, or jest's relative one
    );
  });
});

describe("forwardTypeResolution", () => {
  it("lets the type checker read installed packages that the notebook's folders lack", () => {
    const { home, install, kernelDir } = layout();
    const sys = { fileExists: (f: string) => fs.existsSync(f), readFile: (f: string) => fs.readFileSync(f, "utf8") };
    forwardTypeResolution({ sys }, home, kernelDir);
    const seen = (name: string) => path.join(home, "node_modules", name, "index.d.ts");
    expect(sys.fileExists(seen("only-installed"))).toBe(true);
    expect(sys.readFile(seen("only-installed"))).toContain('"installed"');
    expect(sys.readFile(seen("@scope/both"))).toContain('"local"');
    expect(sys.fileExists(seen("not-installed-anywhere"))).toBe(false);
    // Paths outside the notebook's node_modules are left alone.
    expect(sys.fileExists(path.join(install, "node_modules", "only-installed", "index.d.ts"))).toBe(true);
    expect(sys.fileExists(path.join(home, "only-installed", "index.d.ts"))).toBe(false);
  });
});
