/** IDX reader: raw and gzipped, header-driven shapes, and each error line naming the file. */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { parseIdx, readIdxFile } from "./idx";
import { idxBytes, removeDirs, tempDir } from "./testing/fixtures";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(removeDirs);

const images = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);

describe("IDX", () => {
  test("parses a raw file: shape from the header, values as a view", () => {
    const bytes = idxBytes([2, 3, 4], images);
    const t = parseIdx(bytes, "x.idx", 3);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(Array.from(t.data)).toEqual(Array.from(images));
    expect(t.data.buffer).toBe(bytes.buffer);
    expect(t.get(1, 2, 3)).toBe(230);
    expect(parseIdx(idxBytes([3], Uint8Array.from([5, 0, 9])), "y.idx").shape).toEqual([3]);
  });

  test("reads .gz and raw files alike (gzip recognised by its magic bytes)", async () => {
    const raw = path.join(dir, "train-images-idx3-ubyte");
    const gz = path.join(dir, "train-images-idx3-ubyte.gz");
    fs.writeFileSync(raw, idxBytes([2, 3, 4], images));
    fs.writeFileSync(gz, zlib.gzipSync(idxBytes([2, 3, 4], images)));
    for (const file of [raw, gz]) {
      const t = await readIdxFile(file, 3);
      expect(t.shape).toEqual([2, 3, 4]);
      expect(Array.from(t.data)).toEqual(Array.from(images));
    }
  });

  test("truncated: raw, and a gzip stream cut short, say how many bytes arrived", async () => {
    expect(() => parseIdx(idxBytes([2, 3, 4], images).subarray(0, 20), "/x/train-images-idx3-ubyte", 3)).toThrow(
      "datasets: truncated IDX file /x/train-images-idx3-ubyte. Expected 40 bytes, received 20.",
    );
    const big = Uint8Array.from({ length: 60 * 28 * 28 }, (_, i) => (i * 7919) % 251);
    const gz = zlib.gzipSync(idxBytes([60, 28, 28], big));
    const file = path.join(dir, "cut-images-idx3-ubyte.gz");
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
    await expect(readIdxFile(file, 3)).rejects.toThrow(new RegExp(`^datasets: truncated IDX file ${file.replace(/[.]/g, "\\.")}\\. Expected 47056 bytes, received \\d+\\.$`));
    expect(() => parseIdx(Uint8Array.from([0, 0, 8]), "/x/f", 1)).toThrow(
      "datasets: truncated IDX file /x/f. Expected a 4-byte magic number 0x00000801 (unsigned bytes, 1 dimension), received 3 bytes.",
    );
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]), "/x/f", 3)).toThrow("datasets: truncated IDX file /x/f. Expected a 16-byte header, received 6 bytes.");
  });

  test("magic number checked against the expected rank", () => {
    expect(() => parseIdx(idxBytes([2, 3, 4], images), "/x/train-labels-idx1-ubyte", 1)).toThrow(
      "datasets: bad magic number in IDX file /x/train-labels-idx1-ubyte. Expected 0x00000801 (unsigned bytes, 1 dimension), received 0x00000803.",
    );
    expect(() => parseIdx(Buffer.from("PK\x03\x04 a zip, not IDX"), "/x/f", 3)).toThrow(
      "datasets: bad magic number in IDX file /x/f. Expected 0x00000803 (unsigned bytes, 3 dimensions), received 0x504b0304.",
    );
    expect(() => parseIdx(idxBytes([1], Uint8Array.from([0, 0, 0, 0]), 0x0d), "/x/f")).toThrow(
      "datasets: unsupported IDX data type in /x/f. Expected 0x08 (unsigned byte), received 0x0d (float32).",
    );
  });

  test("longer than the header says", () => {
    expect(() => parseIdx(Buffer.concat([idxBytes([2], Uint8Array.from([1, 2])), Buffer.from([9])]), "/x/f", 1)).toThrow(
      "datasets: IDX file /x/f is longer than its header says (shape [2]). Expected 10 bytes, received 11.",
    );
  });

  test("corrupt gzip and missing files", async () => {
    const gz = zlib.gzipSync(idxBytes([2], Uint8Array.from([1, 2])));
    gz[gz.length - 6] ^= 0xff; // CRC-32 in the trailer
    const file = path.join(dir, "bad.gz");
    fs.writeFileSync(file, gz);
    await expect(readIdxFile(file, 1)).rejects.toThrow(
      `datasets: corrupt gzip file ${file} (incorrect data check). Expected a valid gzip stream; replace the file (delete it to let it download again).`,
    );
    await expect(readIdxFile(path.join(dir, "nope"), 1)).rejects.toThrow(`datasets: cannot read ${path.join(dir, "nope")} (ENOENT).`);
  });
});
