/**
 * IDX files, the format MNIST and Fashion-MNIST are published in
 * (`train-images-idx3-ubyte.gz` …), gzipped or not.
 *
 * Layout (big-endian): two zero bytes, a data-type byte (0x08 = unsigned
 * byte), a byte with the number of dimensions n, n uint32 dimensions, then
 * the values in C order. Images are `[count, 28, 28]`, labels `[count]`.
 */
import { fail } from "@convlab/engine";
import { promises as fsp } from "fs";
import { promisify } from "util";
import * as zlib from "zlib";
import { Uint8Tensor } from "./uint8_tensor";

const gunzip = promisify(zlib.gunzip);

/** The IDX data-type byte of unsigned bytes, the only type MNIST-like files use. */
const IDX_UBYTE = 0x08;
const IDX_TYPES: Record<number, string> = { 0x08: "unsigned byte", 0x09: "signed byte", 0x0b: "int16", 0x0c: "int32", 0x0d: "float32", 0x0e: "float64" };

/**
 * Decodes an IDX file's bytes (already gunzipped) into a {@link Uint8Tensor}
 * that is a view of `bytes` (no copy).
 *
 * @param bytes The whole file.
 * @param file Its path, for error messages.
 * @param rank The expected number of dimensions (3 for images, 1 for labels); any when omitted.
 * @throws ConvlabError naming `file` when the magic number is wrong, the
 *   data type is not unsigned bytes, or the file is shorter or longer than its header says.
 */
export function parseIdx(bytes: Uint8Array, file: string, rank?: number): Uint8Tensor {
  const wanted = rank === undefined ? "0x000008nn (unsigned bytes)" : `${hex(0x0800 + rank)} (unsigned bytes, ${dims(rank)})`;
  if (bytes.length < 4) {
    throw fail(`datasets: truncated IDX file ${file}. Expected a 4-byte magic number ${wanted}, received ${bytes.length} bytes.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = bytes[2];
  const ndims = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in IDX_TYPES) || (rank !== undefined && ndims !== rank)) {
    throw fail(`datasets: bad magic number in IDX file ${file}. Expected ${wanted}, received ${hex(magic)}.`);
  }
  if (type !== IDX_UBYTE) {
    throw fail(`datasets: unsupported IDX data type in ${file}. Expected 0x08 (unsigned byte), received ${hex(type, 2)} (${IDX_TYPES[type]}).`);
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw fail(`datasets: truncated IDX file ${file}. Expected a ${header}-byte header, received ${bytes.length} bytes.`);
  }
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) shape.push(view.getUint32(4 + 4 * i));
  const expected = header + shape.reduce((a, b) => a * b, 1);
  if (bytes.length < expected) {
    throw fail(`datasets: truncated IDX file ${file}. Expected ${expected} bytes, received ${bytes.length}.`);
  }
  if (bytes.length > expected) {
    throw fail(`datasets: IDX file ${file} is longer than its header says (shape [${shape.join(",")}]). Expected ${expected} bytes, received ${bytes.length}.`);
  }
  return new Uint8Tensor(bytes.subarray(header), shape);
}

/**
 * Reads an IDX file, gunzipping it when it starts with the gzip magic bytes
 * (whatever its name), and decodes it with {@link parseIdx}.
 *
 * @throws ConvlabError naming the file when it cannot be read, is corrupt or truncated.
 */
export async function readIdxFile(file: string, rank?: number): Promise<Uint8Tensor> {
  return parseIdx(await readMaybeGzipped(file), file, rank);
}

/**
 * A file's bytes, gunzipped when they start with 0x1f 0x8b. A truncated gzip
 * stream yields what it holds (so the reader can say how many bytes arrived);
 * a corrupt one is an error.
 */
export async function readMaybeGzipped(file: string): Promise<Uint8Array> {
  const raw = await readBytes(file);
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    // Z_SYNC_FLUSH: a stream cut short returns its decoded prefix instead of throwing.
    return await gunzip(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (error) {
    throw fail(`datasets: corrupt gzip file ${file} (${(error as Error).message}). Expected a valid gzip stream; replace the file (delete it to let it download again).`);
  }
}

/** A file's bytes, with a one-line error naming the file. */
export async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    throw fail(`datasets: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}

function hex(value: number, digits = 8): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}

function dims(n: number): string {
  return n === 1 ? "1 dimension" : `${n} dimensions`;
}
