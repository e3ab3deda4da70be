/** .npz reader: our own zip (stored, deflated, ZIP64 fields, local extras), .npy v1/v2 and integer dtypes, and the error lines. */
import * as fs from "fs";
import * as path from "path";
import { parseNpy, readNpzFile, readZip } from "./npz";
import { npyBytes, npyInts, removeDirs, tempDir, zipBytes } from "./testing/fixtures";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(removeDirs);

const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => 255 - i);

describe("zip", () => {
  test("stored and deflated entries, CRC checked", () => {
    const a = Buffer.from("hello stored");
    const b = Buffer.from("hello deflated ".repeat(50));
    const entries = readZip(zipBytes([{ name: "a.txt", data: a }, { name: "b.txt", data: b, method: "deflated" }]), "/x/f.zip");
    expect([...entries.keys()]).toEqual(["a.txt", "b.txt"]);
    expect(Buffer.from(entries.get("a.txt")!).toString()).toBe("hello stored");
    expect(Buffer.from(entries.get("b.txt")!).equals(b)).toBe(true);
  });

  test("ZIP64 sizes and offsets, ZIP64 end record, and extra fields only in the local header", () => {
    const data = Buffer.from("zip64 entry");
    const extra = Buffer.alloc(20, 7);
    for (const bytes of [
      zipBytes([{ name: "pad.txt", data: Buffer.from("x") }, { name: "z.txt", data, zip64: true, localExtra: extra }]),
      zipBytes([{ name: "z.txt", data, method: "deflated" }], { zip64End: true }),
    ]) {
      expect(Buffer.from(readZip(bytes, "/x/f").get("z.txt")!).toString()).toBe("zip64 entry");
    }
  });

  test("errors: not a zip, truncated, CRC, method", () => {
    expect(() => readZip(Buffer.from("not a zip at all, just text........"), "/x/mnist.npz")).toThrow(
      "datasets: not a zip (.npz) file, or truncated: /x/mnist.npz. Expected an end-of-central-directory record, received 35 bytes without one.",
    );
    const good = zipBytes([{ name: "a.npy", data: Buffer.alloc(100, 1) }]);
    expect(() => readZip(good.subarray(0, 60), "/x/mnist.npz")).toThrow(
      "datasets: not a zip (.npz) file, or truncated: /x/mnist.npz. Expected an end-of-central-directory record, received 60 bytes without one.",
    );
    const flipped = Buffer.from(good);
    flipped[30 + 5 + 10] ^= 1; // a byte of a.npy's data
    expect(() => readZip(flipped, "/x/mnist.npz")).toThrow(/^datasets: corrupt zip entry a\.npy in \/x\/mnist\.npz\. Expected CRC-32 [0-9a-f]{8}, received [0-9a-f]{8}\.$/);
    const bzip = Buffer.from(good);
    bzip.writeUInt16LE(12, 8); // local method
    bzip.writeUInt16LE(12, 30 + 5 + 100 + 10); // central method
    expect(() => readZip(bzip, "/x/mnist.npz")).toThrow(
      "datasets: unsupported compression method 12 for a.npy in /x/mnist.npz. Expected 0 (stored) or 8 (deflated), as numpy.savez and savez_compressed write.",
    );
    const shortData = Buffer.from(good);
    shortData.writeUInt32LE(1000, 30 + 5 + 100 + 20); // central compressed size past the end
    expect(() => readZip(shortData, "/x/mnist.npz")).toThrow("datasets: truncated zip file /x/mnist.npz. Expected 1035 bytes to hold a.npy, received 208.");
  });
});

describe("npy", () => {
  test("|u1 images as a view, versions 1 and 2", () => {
    for (const version of [1, 2] as const) {
      const bytes = npyBytes([2, 2, 3], pixels, "|u1", { version });
      const t = parseNpy(bytes, "x_train.npy in /x/mnist.npz");
      expect(t.shape).toEqual([2, 2, 3]);
      expect(Array.from(t.data)).toEqual(Array.from(pixels));
      expect(t.data.buffer).toBe(bytes.buffer);
    }
  });

  test("integer labels of other dtypes become bytes", () => {
    for (const descr of ["<i8", ">i4", "<i2", "|i1", "<u8"]) {
      const t = parseNpy(npyInts([5, 0, 4, 9], descr), `y_train.npy (${descr})`);
      expect(t.shape).toEqual([4]);
      expect(Array.from(t.data)).toEqual([5, 0, 4, 9]);
    }
  });

  test("errors name the entry and say expected vs received", () => {
    const where = "y_train.npy in /x/mnist.npz";
    expect(() => parseNpy(npyInts([5, -1], "<i8"), where)).toThrow(
      "datasets: .npy array y_train.npy in /x/mnist.npz ('<i8') holds a value outside [0, 255]. Expected uint8-range values, received -1 at index 1.",
    );
    expect(() => parseNpy(npyBytes([1], Buffer.alloc(4), "<f4"), where)).toThrow(
      "datasets: unsupported .npy dtype in y_train.npy in /x/mnist.npz. Expected an integer dtype such as '|u1' or '<i8', received '<f4'.",
    );
    expect(() => parseNpy(npyBytes([2, 2], Buffer.alloc(4), "|u1", { fortran: true }), where)).toThrow(
      "datasets: unsupported .npy layout in y_train.npy in /x/mnist.npz. Expected fortran_order False (C order), received True.",
    );
    expect(() => parseNpy(npyBytes([2, 2, 3], pixels).subarray(0, 134), where)).toThrow(
      "datasets: truncated .npy array y_train.npy in /x/mnist.npz. Expected 140 bytes, received 134.",
    );
    expect(() => parseNpy(Buffer.from("\x93NUMPX\x01\x00\x00\x00", "latin1"), where)).toThrow(
      'datasets: not a .npy array: y_train.npy in /x/mnist.npz. Expected the magic string "\\x93NUMPY", received "\\x93NUMPX".',
    );
    const noShape = Buffer.concat([Buffer.from("\x93NUMPY\x01\x00", "latin1"), Buffer.from([14, 0]), Buffer.from("{'descr': 1}\n ")]);
    expect(() => parseNpy(noShape, where)).toThrow(
      "datasets: bad .npy header in y_train.npy in /x/mnist.npz. Expected a dict with 'descr', 'fortran_order' and 'shape', received \"{'descr': 1}\".",
    );
  });
});

describe("readNpzFile", () => {
  test("reads every .npy entry by name, stored or deflated", async () => {
    for (const method of ["stored", "deflated"] as const) {
      const file = path.join(dir, `${method}.npz`);
      fs.writeFileSync(
        file,
        zipBytes([
          { name: "x_train.npy", data: npyBytes([2, 2, 3], pixels), method },
          { name: "y_train.npy", data: npyInts([3, 1], "<i8"), method },
          { name: "notes.txt", data: Buffer.from("ignored"), method },
        ]),
      );
      const arrays = await readNpzFile(file);
      expect([...arrays.keys()]).toEqual(["x_train", "y_train"]);
      expect(arrays.get("x_train")!.shape).toEqual([2, 2, 3]);
      expect(Array.from(arrays.get("y_train")!.data)).toEqual([3, 1]);
    }
  });
});
