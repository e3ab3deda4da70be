/**
 * Every lesson notebook, in course order, through `convlab run` and the real
 * kernel, reduced through its parameters cell (test/reduced-params.json).
 */
import * as fs from "fs";
import * as path from "path";
import { convlab, lessonNotebooks, tmpDir } from "./helpers";

const reduced: Record<string, Record<string, string | number | boolean>> = JSON.parse(
  fs.readFileSync(path.join(__dirname, "reduced-params.json"), "utf8"),
);
/** Per notebook, texts its saved outputs must contain (summaries, figures it computes). */
const expectedTexts: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(__dirname, "notebook-outputs.json"), "utf8"));
const notebooks = lessonNotebooks();

/** Every text of a notebook's outputs: streams, plain text and HTML of results and displays. */
function outputTexts(cells: any[]): string {
  const texts: string[] = [];
  for (const cell of cells) {
    for (const o of cell.outputs ?? []) {
      if (o.text) texts.push([].concat(o.text).join(""));
      for (const mime of ["text/plain", "text/html"]) if (o.data?.[mime]) texts.push([].concat(o.data[mime]).join(""));
    }
  }
  return texts.join("\n");
}

it("has reduced parameters for every lesson notebook", () => {
  expect(notebooks.length).toBeGreaterThan(0);
  expect(Object.keys(reduced).sort()).toEqual(notebooks.map((n) => path.basename(n)));
});

describe.each(notebooks.map((n) => [path.basename(n), n]))("%s", (name, file) => {
  it("runs reduced without an error, every code cell executed", () => {
    const out = tmpDir("nb");
    const params = Object.entries(reduced[name] ?? {}).flatMap(([k, v]) => ["--param", `${k}=${v}`]);
    const run = convlab(["run", file, "--out", out, ...params]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const nb = JSON.parse(fs.readFileSync(path.join(out, name), "utf8"));
    const code = nb.cells.filter((c: any) => c.cell_type === "code" && [].concat(c.source).join("").trim() !== "");
    expect(code.every((c: any) => Number.isInteger(c.execution_count))).toBe(true);
    expect(code.flatMap((c: any) => c.outputs).filter((o: any) => o.output_type === "error")).toEqual([]);
    // Every lesson shows at least one picture, and what its entry in notebook-outputs.json lists.
    const pngs = code.flatMap((c: any) => c.outputs).filter((o: any) => typeof o.data?.["image/png"] === "string");
    expect(pngs.length).toBeGreaterThan(0);
    expect(Buffer.from(pngs[0].data["image/png"], "base64").subarray(1, 4).toString()).toBe("PNG");
    const text = outputTexts(code);
    for (const expected of expectedTexts[name] ?? []) expect(text).toContain(expected);
  });
});
