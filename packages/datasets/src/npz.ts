/**
 * NumPy `.npz` files (Keras's `mnist.npz`): a zip archive of `.npy` arrays.
 *
 * The zip is read from its central directory (the authoritative list; local
 * headers may carry other extra fields, as NumPy's `force_zip64` writes), with
 * ZIP64 sizes and offsets, entries stored (method 0) or deflated (method 8),
 * and each entry's CRC-32 checked. A `.npy` is a magic string, a version, a
 * Python-dict header (`descr`, `fortran_order`, `shape`) and C-order data.
 */
import { fail } from "@convlab/engine";
import * as zlib from "zlib";
import { readBytes } from "./idx";
import { Uint8Tensor } from "./uint8_tensor";

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;

/**
 * The entries of a zip archive, by name, decompressed.
 *
 * @param bytes The whole archive.
 * @param file Its path, for error messages.
 * @throws ConvlabError naming `file` when the archive is truncated or corrupt,
 *   encrypted, or uses a compression method other than stored or deflated.
 */
export function readZip(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  if (eocd < 0) {
    throw fail(`datasets: not a zip (.npz) file, or truncated: ${file}. Expected an end-of-central-directory record, received ${bytes.length} bytes without one.`);
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === MAX_U16 || cdSize === MAX_U32 || cdOffset === MAX_U32) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) {
      throw fail(`datasets: corrupt zip file ${file}. Expected a ZIP64 end-of-central-directory locator, received none.`);
    }
    const zip64 = safeNumber(view.getBigUint64(locator + 8, true));
    if (zip64 + 56 > bytes.length || view.getUint32(zip64, true) !== ZIP64_EOCD) {
      throw fail(`datasets: corrupt zip file ${file}. Expected a ZIP64 end-of-central-directory record at byte ${zip64}, received none.`);
    }
    count = safeNumber(view.getBigUint64(zip64 + 32, true));
    cdSize = safeNumber(view.getBigUint64(zip64 + 40, true));
    cdOffset = safeNumber(view.getBigUint64(zip64 + 48, true));
  }
  if (cdOffset + cdSize > bytes.length) {
    throw fail(`datasets: truncated zip file ${file}. Expected ${cdOffset + cdSize} bytes before the central directory ends, received ${bytes.length}.`);
  }

  const entries = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) {
      throw fail(`datasets: corrupt zip file ${file}. Expected ${count} central directory entries, received ${i}.`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const name = Buffer.from(bytes.subarray(p + 46, p + 46 + nameLength)).toString("utf8");
    // ZIP64 extra field (id 1): the 64-bit values of the fields set to 0xffffffff, in this order.
    for (let e = p + 46 + nameLength; e + 4 <= p + 46 + nameLength + extraLength; ) {
      const id = view.getUint16(e, true);
      const length = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === MAX_U32) (size = safeNumber(view.getBigUint64(q, true))), (q += 8);
        if (compressed === MAX_U32) (compressed = safeNumber(view.getBigUint64(q, true))), (q += 8);
        if (local === MAX_U32) local = safeNumber(view.getBigUint64(q, true));
      }
      e += 4 + length;
    }
    p += 46 + nameLength + extraLength + commentLength;

    if (flags & 1) throw fail(`datasets: encrypted zip entry ${name} in ${file}. Expected an unencrypted archive as numpy.savez writes.`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) {
      throw fail(`datasets: corrupt zip file ${file}. Expected a local header for ${name} at byte ${local}, received none.`);
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > bytes.length) {
      throw fail(`datasets: truncated zip file ${file}. Expected ${start + compressed} bytes to hold ${name}, received ${bytes.length}.`);
    }
    const raw = bytes.subarray(start, start + compressed);
    let data: Uint8Array;
    if (method === 0) {
      data = raw;
    } else if (method === 8) {
      try {
        data = zlib.inflateRawSync(raw);
      } catch (error) {
        throw fail(`datasets: corrupt zip entry ${name} in ${file} (${(error as Error).message}). Expected a valid deflate stream.`);
      }
    } else {
      throw fail(`datasets: unsupported compression method ${method} for ${name} in ${file}. Expected 0 (stored) or 8 (deflated), as numpy.savez and savez_compressed write.`);
    }
    if (data.length !== size) {
      throw fail(`datasets: corrupt zip entry ${name} in ${file}. Expected ${size} bytes, received ${data.length}.`);
    }
    const actual = zlib.crc32(data) >>> 0;
    if (actual !== crc) {
      throw fail(`datasets: corrupt zip entry ${name} in ${file}. Expected CRC-32 ${crc.toString(16).padStart(8, "0")}, received ${actual.toString(16).padStart(8, "0")}.`);
    }
    entries.set(name, data);
  }
  return entries;
}

/**
 * Decodes one `.npy` array of integers in [0, 255] into a {@link Uint8Tensor}
 * (a view of `bytes` when its dtype is already `|u1`, else a converted copy).
 *
 * Accepted: format versions 1, 2 and 3; dtypes `u1`, `i1`, and little- or
 * big-endian `i2`/`u2`/`i4`/`u4`/`i8`/`u8` (Keras's labels are `|u1`; other
 * writers use `<i8`); C order.
 *
 * @param bytes The `.npy` bytes.
 * @param where What to call it in errors, e.g. `y_train.npy in /x/mnist.npz`.
 * @throws ConvlabError naming `where` on a bad magic string or header, a
 *   float or structured dtype, Fortran order, a size mismatch, or values outside [0, 255].
 */
export function parseNpy(bytes: Uint8Array, where: string): Uint8Tensor {
  const magic = "\x93NUMPY";
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== magic) {
    throw fail(`datasets: not a .npy array: ${where}. Expected the magic string "\\x93NUMPY", received "${printable(bytes.subarray(0, 6))}".`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) {
    throw fail(`datasets: unsupported .npy format version ${major}.${bytes[7]} in ${where}. Expected 1.0, 2.0 or 3.0.`);
  }
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = (major === 1 ? 10 : 12) + headerLength;
  if (bytes.length < dataStart) {
    throw fail(`datasets: truncated .npy array ${where}. Expected a ${dataStart}-byte header, received ${bytes.length} bytes.`);
  }
  const header = Buffer.from(bytes.subarray(major === 1 ? 10 : 12, dataStart)).toString(major === 3 ? "utf8" : "latin1");
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw fail(`datasets: bad .npy header in ${where}. Expected a dict with 'descr', 'fortran_order' and 'shape', received ${JSON.stringify(header.trim())}.`);
  }
  const dtype = /^([<>|=]?)([iu])([1248])$/.exec(descr);
  if (!dtype) {
    throw fail(`datasets: unsupported .npy dtype in ${where}. Expected an integer dtype such as '|u1' or '<i8', received '${descr}'.`);
  }
  if (fortran === "True") {
    throw fail(`datasets: unsupported .npy layout in ${where}. Expected fortran_order False (C order), received True.`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw fail(`datasets: bad .npy shape in ${where}. Expected a tuple of non-negative integers, received (${shapeText}).`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const itemSize = Number(dtype[3]);
  const expected = dataStart + size * itemSize;
  if (bytes.length < expected) {
    throw fail(`datasets: truncated .npy array ${where}. Expected ${expected} bytes, received ${bytes.length}.`);
  }
  if (bytes.length > expected) {
    throw fail(`datasets: .npy array ${where} is longer than its header says (shape [${shape.join(",")}], '${descr}'). Expected ${expected} bytes, received ${bytes.length}.`);
  }
  if (itemSize === 1 && dtype[2] === "u") return new Uint8Tensor(bytes.subarray(dataStart), shape);

  const littleEndian = dtype[1] !== ">";
  const signed = dtype[2] === "i";
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const at = dataStart + i * itemSize;
    let value: number | bigint;
    if (itemSize === 1) value = view.getInt8(at);
    else if (itemSize === 2) value = signed ? view.getInt16(at, littleEndian) : view.getUint16(at, littleEndian);
    else if (itemSize === 4) value = signed ? view.getInt32(at, littleEndian) : view.getUint32(at, littleEndian);
    else value = signed ? view.getBigInt64(at, littleEndian) : view.getBigUint64(at, littleEndian);
    if (value < 0 || value > 255) {
      throw fail(`datasets: .npy array ${where} ('${descr}') holds a value outside [0, 255]. Expected uint8-range values, received ${value} at index ${i}.`);
    }
    out[i] = Number(value);
  }
  return new Uint8Tensor(out, shape);
}

/**
 * Reads a `.npz` file and decodes every `.npy` entry, keyed by its name
 * without `.npy` (`x_train`, `y_train`, …), as `numpy.load` does.
 *
 * @throws ConvlabError naming the file when it cannot be read or an entry is bad.
 */
export async function readNpzFile(file: string): Promise<Map<string, Uint8Tensor>> {
  const arrays = new Map<string, Uint8Tensor>();
  for (const [name, data] of readZip(await readBytes(file), file)) {
    if (!name.endsWith(".npy")) continue;
    arrays.set(name.slice(0, -4), parseNpy(data, `${name} in ${file}`));
  }
  return arrays;
}

function findEndOfCentralDirectory(view: DataView): number {
  const last = view.byteLength - 22;
  for (let p = last; p >= 0 && p >= last - MAX_U16; p--) {
    if (view.getUint32(p, true) === EOCD && p + 22 + view.getUint16(p + 20, true) === view.byteLength) return p;
  }
  // A comment length that does not match the end: accept the last signature found.
  for (let p = last; p >= 0 && p >= last - MAX_U16; p--) if (view.getUint32(p, true) === EOCD) return p;
  return -1;
}

/** Bytes as text with the unprintable ones as `\xNN`. */
function printable(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
}

function safeNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}
