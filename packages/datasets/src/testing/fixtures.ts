/**
 * Test fixtures written by the tests themselves: tiny IDX, .npy and zip
 * (.npz) files, MNIST-like folders, and temporary folders. Not shipped.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";

/** A fresh temporary folder; remove with {@link removeDirs}. */
export function tempDir(prefix = "convlab-datasets-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
const created: string[] = [];
/** Removes every folder {@link tempDir} made. */
export function removeDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** An IDX file of unsigned bytes: magic 0x0000 08 n, n big-endian dims, values. */
export function idxBytes(shape: number[], values: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = type;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, values]);
}

/** A `.npy` array: magic, version, padded dict header, C-order data already encoded in `descr`. */
export function npyBytes(shape: number[], data: Uint8Array, descr = "|u1", options: { version?: 1 | 2; fortran?: boolean } = {}): Buffer {
  const version = options.version ?? 1;
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let dict = `{'descr': '${descr}', 'fortran_order': ${options.fortran ? "True" : "False"}, 'shape': (${dims}), }`;
  const prefix = version === 1 ? 10 : 12;
  while ((prefix + dict.length + 1) % 64 !== 0) dict += " ";
  dict += "\n";
  const head = Buffer.alloc(prefix);
  Buffer.from("\x93NUMPY", "latin1").copy(head);
  head[6] = version;
  if (version === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, "latin1"), data]);
}

/** Labels as a `.npy` of another integer dtype, e.g. `<i8` or `>i4`. */
export function npyInts(values: number[], descr: string): Buffer {
  const size = Number(descr[descr.length - 1]);
  const little = descr[0] !== ">";
  const data = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (size === 8) little ? data.writeBigInt64LE(BigInt(v), i * 8) : data.writeBigInt64BE(BigInt(v), i * 8);
    else if (size === 4) little ? data.writeInt32LE(v, i * 4) : data.writeInt32BE(v, i * 4);
    else if (size === 2) little ? data.writeInt16LE(v, i * 2) : data.writeInt16BE(v, i * 2);
    else data.writeInt8(v, i);
  });
  return npyBytes([values.length], data, descr);
}

/** One zip entry for {@link zipBytes}. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
  method?: "stored" | "deflated";
  /** Extra bytes in the local header only (NumPy's force_zip64 writes such). */
  localExtra?: Buffer;
  /** Write the central sizes and offset as 0xffffffff with a ZIP64 extra field. */
  zip64?: boolean;
}

/** A minimal zip archive (what numpy.savez / savez_compressed write). */
export function zipBytes(entries: ZipEntry[], options: { zip64End?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const deflated = entry.method === "deflated";
    const body = deflated ? zlib.deflateRawSync(entry.data) : Buffer.from(entry.data);
    const crc = zlib.crc32(entry.data) >>> 0;
    const localExtra = entry.localExtra ?? Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(deflated ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    locals.push(local, name, localExtra, body);

    let extra = Buffer.alloc(0);
    if (entry.zip64) {
      extra = Buffer.alloc(28);
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(entry.data.length), 4);
      extra.writeBigUInt64LE(BigInt(body.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(45, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(deflated ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.zip64 ? 0xffffffff : body.length, 20);
    central.writeUInt32LE(entry.zip64 ? 0xffffffff : entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(entry.zip64 ? 0xffffffff : offset, 42);
    centrals.push(central, name, extra);
    offset += 30 + name.length + localExtra.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const tail: Buffer[] = [];
  if (options.zip64End) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(cd.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64End ? 0xffff : entries.length, 8);
  end.writeUInt16LE(options.zip64End ? 0xffff : entries.length, 10);
  end.writeUInt32LE(options.zip64End ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(options.zip64End ? 0xffffffff : offset, 16);
  return Buffer.concat([...locals, cd, ...tail, end]);
}

/** A tiny MNIST-like split: `count` images of `size`x`size` and labels `i % 10`. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  size: number;
}

/** Deterministic images whose first pixel is `tag`, so tests can tell which copy was loaded. */
export function makeSplit(count: number, tag: number, size = 4): Split {
  const images = new Uint8Array(count * size * size);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7 + tag) % 256;
  images[0] = tag;
  const labels = Uint8Array.from({ length: count }, (_, i) => (i + tag) % 10);
  return { images, labels, count, size };
}

/** The four IDX files of a train and a test split, gzipped unless `gz` is false. */
export function idxFiles(train: Split, test: Split, gz = true): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const add = (name: string, bytes: Buffer) => (out[gz ? `${name}.gz` : name] = gz ? zlib.gzipSync(bytes) : bytes);
  add("train-images-idx3-ubyte", idxBytes([train.count, train.size, train.size], train.images));
  add("train-labels-idx1-ubyte", idxBytes([train.count], train.labels));
  add("t10k-images-idx3-ubyte", idxBytes([test.count, test.size, test.size], test.images));
  add("t10k-labels-idx1-ubyte", idxBytes([test.count], test.labels));
  return out;
}

/** Writes {@link idxFiles} into `dir` (created). */
export function writeIdxDir(dir: string, train: Split, test: Split, gz = true): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(idxFiles(train, test, gz))) fs.writeFileSync(path.join(dir, name), bytes);
}

/** A Keras-style `mnist.npz` of the two splits (stored entries unless `method` says otherwise). */
export function npzBytes(train: Split, test: Split, method: "stored" | "deflated" = "stored"): Buffer {
  return zipBytes([
    { name: "x_test.npy", data: npyBytes([test.count, test.size, test.size], test.images), method },
    { name: "x_train.npy", data: npyBytes([train.count, train.size, train.size], train.images), method },
    { name: "y_train.npy", data: npyBytes([train.count], train.labels), method },
    { name: "y_test.npy", data: npyBytes([test.count], test.labels), method },
  ]);
}

/** Writes {@link npzBytes} to `file` (its folder created). */
export function writeNpz(file: string, train: Split, test: Split, method: "stored" | "deflated" = "stored"): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, npzBytes(train, test, method));
}

/** Runs `fn` with environment variables set (undefined deletes), restoring them after. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
