/**
 * Out of memory, said in a person's words: which kernel, which tensor, and, during
 * training, which batch size, instead of V8's "Invalid typed array length" or the
 * kernel being killed by the operating system.
 */
import * as os from "os";
import * as tf from "@tensorflow/tfjs";
import { ConvlabError } from "./errors";

/** Allocations at least this large are checked against the free memory first. */
const CHECKED_BYTES = 256 * 2 ** 20;

/** A tensor did not fit in memory. `message` is one line saying what to do. */
export class OutOfMemoryError extends ConvlabError {
  override name = "OutOfMemoryError";
  constructor(
    /** Bytes that were asked for, when known. */
    readonly bytes: number | undefined,
    /** The kernel that asked, when known (`Conv2D`). */
    readonly kernel?: string,
    /** The kernel's inputs, as error messages print them. */
    readonly inputs?: string,
    /** The training batch size, when it happened in `fit`. */
    readonly batchSize?: number,
  ) {
    super(describe(bytes, kernel, inputs, batchSize));
  }

  /** The same error, told where it happened. */
  within(kernel: string | undefined, inputs: string | undefined, batchSize?: number): OutOfMemoryError {
    return new OutOfMemoryError(this.bytes, this.kernel ?? kernel, this.inputs ?? inputs, this.batchSize ?? batchSize);
  }
}

const GiB = 2 ** 30;

function describe(bytes: number | undefined, kernel?: string, inputs?: string, batchSize?: number): string {
  const size = bytes === undefined ? "a tensor" : `a tensor of ${(bytes / 4).toLocaleString("en-US")} float32 values (${(bytes / GiB).toFixed(bytes < GiB ? 2 : 1)} GiB)`;
  const where = kernel ? ` in ${kernel}${inputs ? ` (inputs ${inputs})` : ""}` : "";
  const during = batchSize !== undefined ? ` while training with batchSize ${batchSize}` : "";
  const free = (os.freemem() / GiB).toFixed(1);
  const hint = batchSize !== undefined ? `Use a smaller batchSize (e.g. ${Math.max(1, Math.floor(batchSize / 4))}) or smaller layers.` : "Use smaller batches or smaller layers.";
  return `engine: out of memory${during}${where}: ${size} did not fit (${free} GiB free). ${hint}`;
}

/**
 * A new uninitialised float32 array of `n` values, or an {@link OutOfMemoryError} when
 * it is larger than a buffer may be or than the memory the system has free.
 */
export function allocateFloat32(n: number): Float32Array {
  const bytes = n * 4;
  if (bytes >= CHECKED_BYTES && bytes > os.freemem()) throw new OutOfMemoryError(bytes);
  try {
    return new Float32Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, n);
  } catch (e) {
    if (e instanceof RangeError) throw new OutOfMemoryError(bytes);
    throw e;
  }
}

/** The out-of-memory error hidden in `e` (ours, or V8's RangeError), or undefined. */
export function asOutOfMemory(e: unknown): OutOfMemoryError | undefined {
  if (e instanceof OutOfMemoryError) return e;
  if (e instanceof RangeError && /allocation failed|invalid typed array length|array buffer|out of memory/i.test(e.message)) {
    return new OutOfMemoryError(undefined);
  }
  return undefined;
}

/** Inputs of a kernel as an error prints them: `x float32[64,28,28,1], filter float32[3,3,1,32]`. */
export function describeInputs(inputs: Record<string, tf.TensorInfo | undefined>): string {
  return Object.entries(inputs)
    .filter(([, t]) => t)
    .map(([name, t]) => `${name} ${t!.dtype}[${t!.shape.join(",")}]`)
    .join(", ");
}

const PATCHED = Symbol.for("convlab.engine.oom");

/**
 * Makes `fit` report an out-of-memory with its batch size (`fitDataset`'s batches are the
 * dataset's own; the kernel's input shapes in the message show their size). Other errors
 * pass through unchanged.
 */
export function reportBatchSizeOnOutOfMemory(): void {
  const proto = tf.LayersModel.prototype as unknown as Record<string | symbol, unknown> & {
    fit: (...a: unknown[]) => Promise<unknown>;
  };
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const fit = proto.fit;
  proto.fit = async function (this: unknown, ...args: unknown[]) {
    try {
      return await fit.apply(this, args);
    } catch (e) {
      const oom = asOutOfMemory(e);
      if (!oom) throw e;
      const batchSize = (args[2] as { batchSize?: number } | undefined)?.batchSize ?? 32;
      throw oom.within(undefined, undefined, batchSize);
    }
  };
}
