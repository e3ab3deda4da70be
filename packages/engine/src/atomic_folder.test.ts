/**
 * Atomic writes: a folder (writeFolderAtomically) and a file (writeFileAtomically) replace
 * their target only when filled completely; a failure leaves the old contents and no hidden
 * sibling behind.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeFileAtomically, writeFolderAtomically } from "./atomic_folder";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-atomic-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("writeFileAtomically: creates the folder, replaces the file, leaves nothing beside it", async () => {
  const target = path.join(dir, "sub", "weights.h5");
  await writeFileAtomically(target, (tmp) => fs.promises.writeFile(tmp, "first"));
  await writeFileAtomically(target, (tmp) => fs.promises.writeFile(tmp, "second"));
  expect(fs.readFileSync(target, "utf8")).toBe("second");
  expect(fs.readdirSync(path.dirname(target))).toEqual(["weights.h5"]);
});

test("writeFileAtomically: a failing fill keeps the old file and removes its temporary copy", async () => {
  const target = path.join(dir, "weights.h5");
  fs.writeFileSync(target, "old");
  await expect(
    writeFileAtomically(target, async (tmp) => {
      await fs.promises.writeFile(tmp, "half");
      throw new Error("hash mismatch");
    }),
  ).rejects.toThrow("hash mismatch");
  expect(fs.readFileSync(target, "utf8")).toBe("old");
  expect(fs.readdirSync(dir)).toEqual(["weights.h5"]);
});

test("writeFolderAtomically: a failing fill keeps the old folder", () => {
  const target = path.join(dir, "images");
  writeFolderAtomically(target, (tmp) => fs.writeFileSync(path.join(tmp, "a.png"), "a"));
  expect(() =>
    writeFolderAtomically(target, (tmp) => {
      fs.writeFileSync(path.join(tmp, "b.png"), "b");
      throw new Error("disk full");
    }),
  ).toThrow("disk full");
  expect(fs.readdirSync(target)).toEqual(["a.png"]);
  expect(fs.readdirSync(dir)).toEqual(["images"]);
});
