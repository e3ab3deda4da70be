/**
 * A classroom install (JupyterHub): the kernel is registered once for the
 * machine, and a student's notebook in a home folder without `node_modules`
 * imports convlab's packages and gets their rendering, run by real Jupyter as
 * an unprivileged user who can write nothing in the installation.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CLI, convlab, joined, tmpDir, writeCodeNotebook } from "./helpers";

const CELLS = [
  'import * as tf from "@tensorflow/tfjs";\nimport { param } from "@convlab/kernel";\nimport "@convlab/layers";\nconst FILTERS = param("filters", 8);',
  "const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: FILTERS, kernelSize: 3 })] });\nmodel",
  "console.log(`predicts ${model.predict(tf.zeros([1, 28, 28, 1])) instanceof tf.Tensor} as uid ${process.getuid!()}`);",
];

it("serves a notebook in a student's home from a system-wide kernelspec, as another user", () => {
  const root = tmpDir("hub");
  fs.chmodSync(root, 0o755);
  const prefix = path.join(root, "usr", "local");
  const install = convlab(["install", "--prefix", prefix]);
  expect(install.status).toBe(0);
  const spec = JSON.parse(fs.readFileSync(path.join(prefix, "share", "jupyter", "kernels", "convlab", "kernel.json"), "utf8"));
  expect(spec.argv.slice(2)).toEqual(["kernel", "{connection_file}"]);

  const home = path.join(root, "home", "student");
  fs.mkdirSync(home, { recursive: true });
  writeCodeNotebook(path.join(home, "lesson.ipynb"), CELLS);

  // As root (CI), run Jupyter as `nobody`, whose home is the student's folder, when the
  // installation is readable by others (a clone under /root is not: then as root, with that home).
  const asNobody = process.getuid?.() === 0 && spawnSync("runuser", ["-u", "nobody", "--", "test", "-r", CLI]).status === 0;
  if (asNobody) spawnSync("chown", ["-R", "nobody:nogroup", home]);
  else if (process.getuid?.() === 0) console.log(`system_kernel.test: running Jupyter as uid ${process.getuid?.()}, not nobody (${CLI} is not readable by others)`);
  const env = [`HOME=${home}`, `JUPYTER_PATH=${path.join(prefix, "share", "jupyter")}`, "CONVLAB_FILTERS=4", `PATH=${process.env.PATH}`];
  const jupyter = ["/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=300", "--output", "lesson.out", "lesson.ipynb"];
  const run = asNobody
    ? spawnSync("runuser", ["-u", "nobody", "--", "env", "-i", ...env, ...jupyter], { cwd: home, encoding: "utf8", timeout: 600_000 })
    : spawnSync("env", ["-i", ...env, ...jupyter], { cwd: home, encoding: "utf8", timeout: 600_000 });
  expect(run.stderr).toContain("Writing");
  expect(run.status).toBe(0);

  const executed = JSON.parse(fs.readFileSync(path.join(home, "lesson.out.ipynb"), "utf8"));
  const outputs = executed.cells.map((cell: any) => cell.outputs);
  expect(outputs.flat().filter((o: any) => o.output_type === "error")).toEqual([]);
  // The model is rendered by @convlab/layers' plugin, found beside the kernel: a Keras summary.
  const summary = outputs[1].find((o: any) => o.output_type === "execute_result");
  expect(joined(summary.data["text/html"])).toContain("conv2d");
  expect(joined(summary.data["text/plain"])).toContain("Total params: 40"); // 3·3·1·4 + 4
  const uid = asNobody ? 65534 : process.getuid?.();
  expect(joined(outputs[2][0].text)).toBe(`predicts true as uid ${uid}\n`);
  expect(fs.readdirSync(home).filter((f) => f === "node_modules")).toEqual([]);
});
