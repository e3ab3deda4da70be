/**
 * convlab is a normal Jupyter kernel: Debian's `jupyter nbconvert --execute`
 * (nbclient) runs a lesson with it, not only convlab's own runner.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { JUPYTER_PATH, joined, ROOT, tmpDir } from "./helpers";

it("executes notebook 01 in jupyter nbconvert with the convlab kernel", () => {
  const out = tmpDir("nbconvert");
  const run = spawnSync(
    "/usr/bin/jupyter",
    ["nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=convlab", "--ExecutePreprocessor.timeout=600", "--output-dir", out, path.join(ROOT, "notebooks", "01-cnn-mnist.ipynb")],
    { env: { ...process.env, JUPYTER_PATH, CONVLAB_EPOCHS: "1", CONVLAB_TRAIN_SAMPLES: "2000", CONVLAB_TEST_SAMPLES: "500" }, encoding: "utf8", timeout: 900_000 },
  );
  expect(run.stderr).toContain("Writing");
  expect(run.status).toBe(0);
  const nb = JSON.parse(fs.readFileSync(path.join(out, "01-cnn-mnist.ipynb"), "utf8"));
  const code = nb.cells.filter((c: any) => c.cell_type === "code");
  expect(code.map((c: any) => c.execution_count)).toEqual(code.map((_: unknown, i: number) => i + 1));
  const allText = code.flatMap((c: any) => c.outputs.map((o: any) => joined(o.text) + joined(o.data?.["text/plain"]))).join("\n");
  expect(allText).toContain("Total params: 93,322");
  expect(code.flatMap((c: any) => c.outputs).some((o: any) => typeof o.data?.["image/png"] === "string")).toBe(true);
  expect(code.flatMap((c: any) => c.outputs).some((o: any) => o.output_type === "error")).toBe(false);
});
