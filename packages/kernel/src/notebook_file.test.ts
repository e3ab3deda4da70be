import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CONVLAB_KERNELSPEC,
  Notebook,
  cellSource,
  clearedNotebook,
  readNotebook,
  serializeNotebook,
  setKernelMetadata,
  splitLines,
  isLineSplitMime,
  writeNotebook,
} from "./notebook_file";
import { OK_CELLS, nbformatCheck, notebookJson, readJson } from "./testing/notebook_fixtures";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-nbfile-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected invalid JSON");
}

describe("readNotebook", () => {
  it("reads an nbformat 4 notebook with list and string sources", () => {
    const file = write("x.ipynb", JSON.stringify(notebookJson(OK_CELLS)));
    const nb = readNotebook(file);
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.cells.map((c) => c.cell_type)).toEqual(["markdown", "code", "code", "code", "raw", "code"]);
    expect(cellSource(nb.cells[1])).toBe('console.log("hello");\nconst half: number = 21;');
    expect(cellSource({ source: ["a\n", "b"] })).toBe("a\nb");
  });

  it("fills a missing nbformat_minor, notebook metadata and cell metadata", () => {
    const file = write("x.ipynb", JSON.stringify({ nbformat: 4, cells: [{ cell_type: "code", source: "1" }] }));
    const nb = readNotebook(file);
    expect(nb.nbformat_minor).toBe(4);
    expect(nb.metadata).toEqual({});
    expect(nb.cells[0].metadata).toEqual({});
  });

  it("names a missing file", () => {
    const file = path.join(dir, "notebooks", "x.ipynb");
    expect(() => readNotebook(file)).toThrow(`convlab run: ${file} does not exist. Expected a path to a .ipynb notebook.`);
  });

  it("quotes a relative path as given", () => {
    const relative = path.relative(process.cwd(), path.join(dir, "missing.ipynb"));
    expect(() => readNotebook(relative)).toThrow(`convlab run: ${relative} does not exist. Expected a path to a .ipynb notebook.`);
  });

  it("names a folder given instead of a notebook", () => {
    expect(() => readNotebook(dir)).toThrow(
      `convlab run: ${dir} is a folder. Expected a path to a .ipynb notebook; list the notebooks, e.g. ${path.join(dir, "*.ipynb")}.`,
    );
  });

  it("reports invalid JSON with the parser's reason", () => {
    const text = "{ this is not json";
    const file = write("x.ipynb", text);
    expect(() => readNotebook(file)).toThrow(
      `convlab run: cannot read ${file}: not valid JSON (${jsonError(text)}). Expected a Jupyter notebook (.ipynb) file.`,
    );
    expect(jsonError(text).length).toBeGreaterThan(0);
  });

  it("reports an empty file as invalid JSON", () => {
    const file = write("x.ipynb", "");
    expect(() => readNotebook(file)).toThrow(
      `convlab run: cannot read ${file}: not valid JSON (Unexpected end of JSON input). Expected a Jupyter notebook (.ipynb) file.`,
    );
  });

  it("rejects JSON that is not a notebook object", () => {
    const file = write("x.ipynb", "[1, 2]");
    expect(() => readNotebook(file)).toThrow(
      `convlab run: cannot read ${file}: the JSON is a list, not a notebook object. Expected a Jupyter notebook (.ipynb) file.`,
    );
  });

  it("rejects nbformat 3 with the conversion command", () => {
    const file = write("x.ipynb", JSON.stringify({ nbformat: 3, nbformat_minor: 0, worksheets: [] }));
    expect(() => readNotebook(file)).toThrow(
      `convlab run: cannot read ${file}: nbformat 3 is not supported. Expected an nbformat 4 notebook; convert it with \`jupyter nbconvert --to notebook --nbformat 4\`.`,
    );
  });

  it("rejects JSON without nbformat", () => {
    const file = write("x.ipynb", JSON.stringify({ cells: [] }));
    expect(() => readNotebook(file)).toThrow(
      `convlab run: cannot read ${file}: no "nbformat": 4 field (received nbformat=undefined). Expected a Jupyter notebook (.ipynb) file.`,
    );
  });

  it("rejects a notebook without a cells list", () => {
    const file = write("x.ipynb", JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {} }));
    expect(() => readNotebook(file)).toThrow(
      `convlab run: cannot read ${file}: no "cells" list (received cells=undefined). Expected a Jupyter notebook (.ipynb) file.`,
    );
  });

  it("rejects an unknown cell type and a bad source, naming the cell", () => {
    const badType = write("a.ipynb", JSON.stringify({ nbformat: 4, cells: [{ cell_type: "markdown", source: "" }, { cell_type: "heading", source: "" }] }));
    expect(() => readNotebook(badType)).toThrow(
      `convlab run: cannot read ${badType}: cell 2 has cell_type="heading"; expected "code", "markdown" or "raw". Expected a Jupyter notebook (.ipynb) file.`,
    );
    const badSource = write("b.ipynb", JSON.stringify({ nbformat: 4, cells: [{ cell_type: "code", source: 42 }] }));
    expect(() => readNotebook(badSource)).toThrow(
      `convlab run: cannot read ${badSource}: cell 1 has source=42; expected a string or a list of strings. Expected a Jupyter notebook (.ipynb) file.`,
    );
  });
});

describe("splitLines", () => {
  it("keeps each line's newline like nbformat", () => {
    expect(splitLines("a\nb")).toEqual(["a\n", "b"]);
    expect(splitLines("a\nb\n")).toEqual(["a\n", "b\n"]);
    expect(splitLines("\n\n")).toEqual(["\n", "\n"]);
    expect(splitLines("")).toEqual([]);
  });
});

describe("clearedNotebook and setKernelMetadata", () => {
  it("clears outputs and counts of code cells only, without touching the input", () => {
    const input = notebookJson([["markdown", "m"], ["code", "1"]]);
    const cleared = clearedNotebook(input);
    expect(cleared.cells[1].outputs).toEqual([]);
    expect(cleared.cells[1].execution_count).toBeNull();
    expect(cleared.cells[0]).toEqual({ id: "cell-1", cell_type: "markdown", metadata: {}, source: "m" });
    expect(input.cells[1].execution_count).toBe(99);
    expect(input.cells[1].outputs).toHaveLength(1);
  });

  it("sets the convlab kernelspec and the kernel's language_info, keeping other metadata", () => {
    const nb = setKernelMetadata(notebookJson([]), { name: "typescript", file_extension: ".ts" });
    expect(nb.metadata).toEqual({
      custom: { kept: true },
      kernelspec: { name: "convlab", display_name: "TypeScript (convlab)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts" },
    });
    expect(CONVLAB_KERNELSPEC).toEqual({ name: "convlab", display_name: "TypeScript (convlab)", language: "typescript" });
  });
});

describe("serializeNotebook", () => {
  it("writes like Jupyter: sorted keys, one-space indent, split lines, trailing newline", () => {
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "convlab" } },
      cells: [
        { id: "m1", cell_type: "markdown", metadata: {}, source: "# T\nx" },
        {
          id: "c1",
          cell_type: "code",
          metadata: {},
          source: "a\nb",
          execution_count: 3,
          outputs: [
            { output_type: "stream", name: "stdout", text: "1\n2\n" },
            { output_type: "execute_result", execution_count: 3, data: { "text/plain": "x\ny", "application/json": { a: 1 } }, metadata: {} },
          ],
        },
      ],
    };
    expect(serializeNotebook(nb)).toBe(
      [
        "{",
        ' "cells": [',
        "  {",
        '   "cell_type": "markdown",',
        '   "id": "m1",',
        '   "metadata": {},',
        '   "source": [',
        '    "# T\\n",',
        '    "x"',
        "   ]",
        "  },",
        "  {",
        '   "cell_type": "code",',
        '   "execution_count": 3,',
        '   "id": "c1",',
        '   "metadata": {},',
        '   "outputs": [',
        "    {",
        '     "name": "stdout",',
        '     "output_type": "stream",',
        '     "text": [',
        '      "1\\n",',
        '      "2\\n"',
        "     ]",
        "    },",
        "    {",
        '     "data": {',
        '      "application/json": {',
        '       "a": 1',
        "      },",
        '      "text/plain": [',
        '       "x\\n",',
        '       "y"',
        "      ]",
        "     },",
        '     "execution_count": 3,',
        '     "metadata": {},',
        '     "output_type": "execute_result"',
        "    }",
        "   ],",
        '   "source": [',
        '    "a\\n",',
        '    "b"',
        "   ]",
        "  }",
        " ],",
        ' "metadata": {',
        '  "kernelspec": {',
        '   "name": "convlab"',
        "  }",
        " },",
        ' "nbformat": 4,',
        ' "nbformat_minor": 5',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("splits text, JavaScript and SVG bundles into lines but keeps PNG base64 and JSON whole, as nbformat does", () => {
    const png = "iVBORw0KGgo=";
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          id: "c1",
          cell_type: "code",
          metadata: {},
          source: "",
          execution_count: 1,
          outputs: [
            {
              output_type: "display_data",
              data: { "image/png": png, "image/jpeg": "/9j/4AAQ", "text/html": "<b>\nx</b>", "image/svg+xml": "<svg>\n</svg>", "application/javascript": "a;\nb;", "application/vnd.x+json": { a: 1 } },
              metadata: {},
            },
          ],
        },
      ],
    };
    const data = JSON.parse(serializeNotebook(nb)).cells[0].outputs[0].data;
    expect(data["image/png"]).toBe(png);
    expect(data["image/jpeg"]).toBe("/9j/4AAQ");
    expect(data["text/html"]).toEqual(["<b>\n", "x</b>"]);
    expect(data["image/svg+xml"]).toEqual(["<svg>\n", "</svg>"]);
    expect(data["application/javascript"]).toEqual(["a;\n", "b;"]);
    expect(data["application/vnd.x+json"]).toEqual({ a: 1 });
    expect(isLineSplitMime("text/markdown")).toBe(true);
    expect(isLineSplitMime("image/png")).toBe(false);
  });

  it("gives code cells outputs and execution_count, and never markdown cells", () => {
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 4,
      metadata: {},
      cells: [
        { cell_type: "code", metadata: {}, source: "1" },
        { cell_type: "markdown", metadata: {}, source: "m", outputs: [], execution_count: 1 },
      ],
    };
    const json = JSON.parse(serializeNotebook(nb));
    expect(json.cells).toEqual([
      { cell_type: "code", metadata: {}, source: ["1"], outputs: [], execution_count: null },
      { cell_type: "markdown", metadata: {}, source: ["m"] },
    ]);
    expect(json.nbformat_minor).toBe(4);
  });

  it("keeps a 4.4 notebook without ids, and gives 4.5 cells without an id a random one", () => {
    const old = JSON.parse(serializeNotebook(notebookJson([["code", "1"]], 4)));
    expect(old.nbformat_minor).toBe(4);
    expect(old.cells[0].id).toBeUndefined();
    const nb = notebookJson([["code", "1"], ["code", "2"]], 5);
    delete nb.cells[1].id;
    const json = JSON.parse(serializeNotebook(nb));
    expect(json.nbformat_minor).toBe(5);
    expect(json.cells[0].id).toBe("cell-1");
    expect(json.cells[1].id).toMatch(/^[0-9a-f]{8}$/);
  });

  it("raises an older minor version to 4.4", () => {
    const json = JSON.parse(serializeNotebook(notebookJson([["code", "1"]], 1)));
    expect(json.nbformat_minor).toBe(4);
  });
});

describe("writeNotebook", () => {
  it("writes atomically, leaves no temporary file, and reads back", () => {
    const file = path.join(dir, "out.ipynb");
    fs.writeFileSync(file, "old content");
    const nb = setKernelMetadata(clearedNotebook(notebookJson(OK_CELLS)), { name: "typescript" });
    writeNotebook(file, nb);
    expect(fs.readdirSync(dir)).toEqual(["out.ipynb"]);
    const text = fs.readFileSync(file, "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.startsWith('{\n "cells": [\n')).toBe(true);
    const back = readNotebook(file);
    expect(back.cells.map(cellSource)).toEqual(nb.cells.map(cellSource));
    expect(back.metadata.kernelspec).toEqual(CONVLAB_KERNELSPEC);
  });

  it("produces a notebook that Jupyter's nbformat validates, with every output type", () => {
    const nb = clearedNotebook(notebookJson([["markdown", "m"], ["code", "x"], ["raw", "r"], ["code", ""]]));
    nb.cells[1].execution_count = 1;
    nb.cells[1].outputs = [
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "display_data", data: { "text/html": "<b>x</b>", "image/png": "iVBORw0KGgo=" }, metadata: {} },
      { output_type: "execute_result", execution_count: 1, data: { "text/plain": "1" }, metadata: {} },
      { output_type: "error", ename: "TypeError", evalue: "bad", traceback: ["TypeError: bad"] },
    ];
    const file = path.join(dir, "valid.ipynb");
    writeNotebook(file, setKernelMetadata(nb, { name: "typescript" }));
    const check = nbformatCheck(file);
    if (check !== "no-nbformat") expect(check).toBe("valid");
    expect(readJson(file).cells[1].outputs[1].data["text/html"]).toEqual(["<b>x</b>"]);
  });

  it("fails with one line when the folder does not exist, leaving nothing behind", () => {
    const file = path.join(dir, "missing", "out.ipynb");
    expect(() => writeNotebook(file, notebookJson([]))).toThrow(
      `convlab run: cannot write ${file}: the folder ${path.join(dir, "missing")} does not exist. Expected an existing folder; check --out.`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
