// the module object itself (not an import-star copy), so that spies reach figure.ts
import fs = require("fs");
import * as os from "os";
import * as path from "path";
import { inspect } from "util";
import * as tf from "@tensorflow/tfjs";
import { Figure } from "./figure";
import { toPng } from "./to_png";
import { decode, errorOf } from "./testing/png";

function tinyPng(scale = 1): Uint8Array {
  const x = tf.tensor2d([[0, 1]]);
  const png = toPng(x, { scale });
  x.dispose();
  return png;
}

describe("Figure", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-viz-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads its size from the PNG header and prints a short text form", () => {
    const fig = new Figure(tinyPng(3), { title: "two pixels" });
    expect([fig.width, fig.height]).toEqual([6, 3]);
    expect(String(fig)).toBe("<Figure 6x3: two pixels>");
    expect(inspect(fig)).toBe("<Figure 6x3: two pixels>");
    expect(String(new Figure(tinyPng(), { alt: "a ramp" }))).toBe("<Figure 2x1: a ramp>");
    expect(String(new Figure(tinyPng()))).toBe("<Figure 2x1>");
  });

  it("gives a mime bundle of image/png bytes and text/plain, and copies of its bytes", async () => {
    const png = tinyPng();
    const fig = new Figure(png);
    const bundle = fig.toMimeBundle();
    expect(Object.keys(bundle).sort()).toEqual(["image/png", "text/plain"]);
    expect(bundle["text/plain"]).toBe("<Figure 2x1>");
    expect((await decode(bundle["image/png"])).rgb(1, 0)).toEqual([255, 255, 255]);
    const copy = fig.toPng();
    copy[0] = 0;
    expect(fig.toPng()[0]).toBe(0x89);
  });

  it("rejects bytes that are not a PNG and unknown options", () => {
    expect(errorOf(() => new Figure(new Uint8Array(30)))).toBe("Figure: invalid png. Expected PNG bytes (a Uint8Array starting with \\x89PNG). Received: png=Uint8Array(30).");
    expect(errorOf(() => new Figure(tinyPng(), { titel: "x" } as never))).toBe("Figure: unknown option `titel`. Expected one of `title`, `alt`. Did you mean `title`?");
  });

  it("saves atomically: a temporary file in the same folder renamed over the target, nothing left behind", async () => {
    const target = path.join(dir, "fig.png");
    fs.writeFileSync(target, "old content");
    const rename = jest.spyOn(fs, "renameSync");
    try {
      const saved = new Figure(tinyPng(2)).save(target);
      expect(saved).toBe(target);
      expect(rename).toHaveBeenCalledTimes(1);
      const [from, to] = rename.mock.calls[0] as [string, string];
      expect(to).toBe(target);
      expect(path.dirname(from)).toBe(dir);
      expect(path.basename(from)).toMatch(/^\.fig\.png\.convlab-tmp-\d+-[0-9a-f]+$/);
    } finally {
      rename.mockRestore();
    }
    expect(fs.readdirSync(dir)).toEqual(["fig.png"]);
    const img = await decode(fs.readFileSync(target));
    expect([img.width, img.height]).toEqual([4, 2]);
  });

  it("a failed save says why in one line, keeps the old file and leaves no temporary file", () => {
    const target = path.join(dir, "fig.png");
    fs.writeFileSync(target, "old content");
    const rename = jest.spyOn(fs, "renameSync").mockImplementation(() => {
      throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
    });
    try {
      expect(errorOf(() => new Figure(tinyPng()).save(target))).toBe(
        `Figure.save: cannot write the file. Expected a path in an existing, writable folder. Received: path=${JSON.stringify(target)} (ENOSPC).`,
      );
    } finally {
      rename.mockRestore();
    }
    expect(fs.readdirSync(dir)).toEqual(["fig.png"]);
    expect(fs.readFileSync(target, "utf8")).toBe("old content");
    const missing = path.join(dir, "no-such-folder", "fig.png");
    expect(errorOf(() => new Figure(tinyPng()).save(missing))).toBe(
      `Figure.save: cannot write the file. Expected a path in an existing, writable folder. Received: path=${JSON.stringify(missing)} (ENOENT).`,
    );
    expect(errorOf(() => new Figure(tinyPng()).save("" as string))).toBe('Figure.save: invalid path. Expected a file path such as "out/figure.png". Received: path="".');
  });

  it("recognises figures by brand as well as by class", () => {
    expect(Figure.isFigure(new Figure(tinyPng()))).toBe(true);
    const foreign = Object.create({ [Symbol.for("convlab.viz.figure")]: true });
    expect(Figure.isFigure(foreign)).toBe(true);
    for (const other of [null, undefined, 3, "fig", {}, { width: 2, height: 1 }, tinyPng()]) expect(Figure.isFigure(other)).toBe(false);
  });
});
