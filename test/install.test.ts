/**
 * Per-topic install: a person's own notebook folder, outside the repository, gets the kernel
 * and ONE topic (@convlab/layers) from packed tarballs, as a user of published packages would,
 * registers the kernel from there and runs a notebook in Debian's Jupyter. Then a second topic
 * (@convlab/viz) is added, and after a kernel restart its renderers show what was text before.
 *
 * The @convlab packages are not on the registry and depend on each other by version
 * (`"@convlab/engine": "0.1.0"`): all the tarballs a topic needs go into ONE `npm install`
 * (or the ones it needs are already in the folder), so npm satisfies those dependencies from
 * the tarballs. `npm install layers.tgz` alone fails: E404 for @convlab/engine.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import { joined, ROOT, tmpDir, writeCodeNotebook } from "./helpers";

const TFJS = "@tensorflow/tfjs@4.22.0";
/** conv2d 3·3·1·8 + 8 = 80; dense (13·13·8)·10 + 10 = 13,530. */
const TOTAL_PARAMS = "13,610";
const FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--save-exact"];

/** The notebook run before and after viz is installed: the same cells, two kernels. */
const CELLS = [
  `process.argv[1]`,
  `import * as tf from "@tensorflow/tfjs";
const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: "relu" }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
[model.name, ...model.layers.map((l) => l.name)].join(" ")`,
  `import { summary } from "@convlab/layers";
summary(model);`,
  `model`,
  `import { image } from "@convlab/viz";
image(tf.linspace(0, 1, 64).reshape([8, 8]), { scale: 4 })`,
];

interface Packed {
  name: string;
  filename: string;
  size: number;
  files: { path: string }[];
}

interface Run {
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command; a failure throws with the command and the end of its output. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const start = Date.now();
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 1_200_000, maxBuffer: 64 << 20 });
  const seconds = (Date.now() - start) / 1000;
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`\`${command} ${args.join(" ")}\` in ${cwd} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ""}):\n${tail}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, seconds };
}

/** `npm pack` of workspace folders (relative to the repository) into `dest`. */
function pack(dirs: string[], dest: string): { packed: Packed[]; seconds: number } {
  const r = run("npm", ["pack", "--json", "--pack-destination", dest, ...dirs.map((d) => `./${d}`)], ROOT);
  return { packed: JSON.parse(r.stdout), seconds: r.seconds };
}

/** nbconvert --execute of `notebook` with the kernelspec in `jupyterPath`; returns its code cells. */
function execute(notebook: string, jupyterPath: string, outDir: string, output: string): { cells: any[]; run: Run } {
  const r = run(
    "/usr/bin/jupyter",
    ["nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.kernel_name=convlab", "--ExecutePreprocessor.timeout=600", "--output-dir", outDir, "--output", output, notebook],
    path.dirname(notebook),
    { JUPYTER_PATH: jupyterPath },
  );
  const nb = JSON.parse(fs.readFileSync(path.join(outDir, `${output}.ipynb`), "utf8"));
  return { cells: nb.cells.filter((c: any) => c.cell_type === "code"), run: r };
}

/** Every output's text (streams, text/plain, errors) of a cell. */
function cellText(cell: any): string {
  return cell.outputs.map((o: any) => joined(o.text) + joined(o.data?.["text/plain"]) + (o.evalue ?? "")).join("\n");
}

function result(cell: any): Record<string, unknown> | undefined {
  return cell.outputs.find((o: any) => o.output_type === "execute_result")?.data;
}

function errors(cells: any[]): string[] {
  return cells.flatMap((c) => c.outputs.filter((o: any) => o.output_type === "error").map((o: any) => `In[${c.execution_count}] ${o.ename}: ${o.evalue}`));
}

/** One `key: value` line per measurement, printed at the end. */
const measured: string[] = [];
const root = tmpDir("install");
const tarballs = path.join(root, "tarballs");
const folder = path.join(root, "notebooks");
const jupyterPath = path.join(root, "jupyter");
const outDir = path.join(root, "out");
const notebook = path.join(folder, "topics.ipynb");
const cliPath = path.join(folder, "node_modules", "@convlab", "kernel", "dist", "cli.js");
const started = Date.now();

let packed: Packed[] = [];
let before: any[] = [];
let beforeRun: Run;

beforeAll(() => {
  fs.mkdirSync(tarballs);
  fs.mkdirSync(folder);
  fs.mkdirSync(outDir);
  const p = pack(["packages/kernel", "packages/engine", "packages/layers"], tarballs);
  packed = p.packed;
  measured.push(`npm pack kernel engine layers: ${p.seconds.toFixed(1)} s`);
  fs.writeFileSync(path.join(folder, "package.json"), JSON.stringify({ name: "my-notebooks", private: true }, null, 2));
  const install = run("npm", ["install", ...FLAGS, ...packed.map((t) => path.join(tarballs, t.filename)), TFJS], folder);
  measured.push(`npm install kernel engine layers tfjs: ${install.seconds.toFixed(1)} s`);
  run(path.join(folder, "node_modules", ".bin", "convlab"), ["install", "--jupyter-path", jupyterPath], folder);
  writeCodeNotebook(notebook, CELLS);
  const r = execute(notebook, jupyterPath, outDir, "before-viz");
  before = r.cells;
  beforeRun = r.run;
  measured.push(`nbconvert (layers only): ${r.run.seconds.toFixed(1)} s`);
}, 1_800_000);

afterAll(() => {
  for (const t of packed) measured.push(`${t.filename}: ${(t.size / 1024).toFixed(1)} KiB`);
  const status = path.join(folder, "node_modules", "@convlab", "engine", "build", "native-status.txt");
  if (fs.existsSync(status)) measured.push(`engine: ${fs.readFileSync(status, "utf8").trim()}`);
  measured.push(`whole test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`install.test measurements:\n  ${measured.join("\n  ")}`);
  fs.rmSync(root, { recursive: true, force: true });
});

it("packs tarballs that hold the built code, the CLI and the engine's native sources", () => {
  const files = (name: string) => packed.find((t) => t.name === name)?.files.map((f) => f.path) ?? [];
  for (const name of ["@convlab/kernel", "@convlab/engine", "@convlab/layers"]) {
    expect(files(name)).toEqual(expect.arrayContaining(["package.json", "dist/index.js", "dist/index.d.ts"]));
  }
  expect(files("@convlab/kernel")).toContain("dist/cli.js");
  expect(files("@convlab/engine")).toEqual(expect.arrayContaining(["binding.gyp", "scripts/build-native.js", "native/addon.cc"]));
  expect(files("@convlab/engine").some((f) => f.startsWith("build/"))).toBe(false);
});

it("satisfies the @convlab dependencies with the tarballs: one copy each, nothing from the registry", () => {
  const lock = JSON.parse(fs.readFileSync(path.join(folder, "package-lock.json"), "utf8")).packages;
  for (const name of ["kernel", "engine", "layers"]) {
    expect(lock[`node_modules/@convlab/${name}`]?.resolved).toBe(`file:../tarballs/convlab-${name}-0.1.0.tgz`);
  }
  expect(Object.keys(lock).filter((k) => /node_modules\/.*node_modules\/@convlab\//.test(k))).toEqual([]);
  expect(lock["node_modules/@tensorflow/tfjs"]?.version).toBe("4.22.0");
});

it("runs the engine's install script in the folder (native kernels built when the repository's are)", () => {
  const build = path.join(folder, "node_modules", "@convlab", "engine", "build");
  const status = fs.readFileSync(path.join(build, "native-status.txt"), "utf8");
  expect(status).toMatch(/^convlab engine: native kernels /);
  if (fs.existsSync(path.join(ROOT, "packages", "engine", "build", "Release", "convlab_native.node"))) {
    expect(status).toContain("native kernels built");
    expect(fs.existsSync(path.join(build, "Release", "convlab_native.node"))).toBe(true);
  }
});

it("registers a kernelspec that starts the folder's own kernel", () => {
  const spec = JSON.parse(fs.readFileSync(path.join(jupyterPath, "kernels", "convlab", "kernel.json"), "utf8"));
  expect(spec.argv).toEqual([process.execPath, cliPath, "kernel", "{connection_file}"]);
  expect(fs.existsSync(cliPath)).toBe(true);
  expect(JSON.stringify(spec)).not.toContain(ROOT);
});

describe("a notebook with only @convlab/layers installed", () => {
  it("runs in that kernel, and the layers plugin gives Keras names without an import", () => {
    expect(beforeRun.stderr + before.map(cellText).join("\n")).not.toMatch(/failed to activate/);
    expect(cellText(before[0])).toBe(`'${cliPath}'`);
    expect(cellText(before[1])).toBe("'sequential conv2d max_pooling2d flatten dense'");
  });

  it("prints the Keras summary with the right parameter count", () => {
    expect(cellText(before[2])).toContain(`Total params: ${TOTAL_PARAMS}`);
  });

  it("shows the model as text only: no topic installed renders it", () => {
    expect(Object.keys(result(before[3]) ?? {})).toEqual(["text/plain"]);
    expect(cellText(before[3])).toContain("Sequential {");
  });

  it("cannot import @convlab/viz: nothing resolves from the repository", () => {
    expect(errors(before)).toEqual([expect.stringMatching(/^In\[5\] TSError: .*TS2307: Cannot find module '@convlab\/viz'/)]);
  });
});

describe("after installing @convlab/viz (and @convlab/datasets) and restarting the kernel", () => {
  let after: any[] = [];
  let afterRun: Run;
  let vizPacked: Packed[] = [];

  beforeAll(() => {
    if (before.length === 0) throw new Error("the first install did not complete; see the failure above");
    const p = pack(["packages/datasets", "packages/viz"], tarballs);
    vizPacked = p.packed;
    packed.push(...vizPacked);
    measured.push(`npm pack datasets viz: ${p.seconds.toFixed(1)} s`);
    const install = run("npm", ["install", ...FLAGS, ...vizPacked.map((t) => path.join(tarballs, t.filename))], folder);
    measured.push(`npm install datasets viz (canvas from source): ${install.seconds.toFixed(1)} s`);
    const r = execute(notebook, jupyterPath, outDir, "after-viz");
    after = r.cells;
    afterRun = r.run;
    measured.push(`nbconvert (layers + viz): ${r.run.seconds.toFixed(1)} s`);
  }, 1_800_000);

  it("installs next to the first topic: one copy of each @convlab package, canvas built", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(folder, "package-lock.json"), "utf8")).packages;
    for (const name of ["kernel", "engine", "layers", "datasets", "viz"]) {
      expect(lock[`node_modules/@convlab/${name}`]?.resolved).toBe(`file:../tarballs/convlab-${name}-0.1.0.tgz`);
    }
    expect(Object.keys(lock).filter((k) => /node_modules\/.*node_modules\/@convlab\//.test(k))).toEqual([]);
    const canvasBuild = path.join(folder, "node_modules", "canvas", "build", "Release");
    expect(fs.existsSync(path.join(canvasBuild, "canvas.node"))).toBe(true);
    measured.push(`canvas: ${fs.existsSync(path.join(canvasBuild, "obj.target")) ? "built from source (node-gyp)" : "prebuilt binary"}`);
  });

  it("runs the same notebook without errors in the same kernel", () => {
    expect(errors(after)).toEqual([]);
    expect(afterRun.stderr + after.map(cellText).join("\n")).not.toMatch(/failed to activate/);
    expect(cellText(after[0])).toBe(`'${cliPath}'`);
    expect(cellText(after[1])).toBe("'sequential conv2d max_pooling2d flatten dense'");
  });

  it("shows the model as viz's HTML summary table", () => {
    const data = result(after[3]) ?? {};
    expect(Object.keys(data).sort()).toEqual(["text/html", "text/plain"]);
    expect(joined(data["text/html"] as string[])).toContain(`<b>Total params:</b> ${TOTAL_PARAMS}`);
    expect(joined(data["text/plain"] as string[])).toContain(`Total params: ${TOTAL_PARAMS}`);
  });

  it("shows a figure as image/png: 8x8 values enlarged 4x, black to white", async () => {
    const data = result(after[4]) ?? {};
    expect(Object.keys(data).sort()).toEqual(["image/png", "text/plain"]);
    expect(joined(data["text/plain"] as string[])).toBe("<Figure 32x32: 8x8 image>");
    // Decoded with the canvas the folder just built.
    const { createCanvas, loadImage } = createRequire(path.join(folder, "package.json"))("canvas");
    const img = await loadImage(Buffer.from(joined(data["image/png"] as string), "base64"));
    expect([img.width, img.height]).toEqual([32, 32]);
    const ctx = createCanvas(32, 32).getContext("2d");
    ctx.drawImage(img, 0, 0);
    const pixel = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data];
    expect(pixel(0, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(3, 3)).toEqual([0, 0, 0, 255]);
    expect(pixel(4, 0)).toEqual([4, 4, 4, 255]); // 1/63 of 255
    expect(pixel(31, 31)).toEqual([255, 255, 255, 255]);
  });
});
