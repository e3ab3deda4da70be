/**
 * `UnsortedSegmentSum` for the wasm backend (missing from the stock backend;
 * it is the gradient of `tf.gather`, so an Embedding layer could not train).
 *
 * out[s, j…, k…] = Σ_i [segmentIds[i, j…] = s] · x[i, j…, k…], for s in
 * [0, numSegments); ids outside that range are dropped, as tfjs's cpu backend
 * does. The result is float32, as on cpu.
 */
import {
  describe,
  invalidInput,
  KernelArgs,
  KernelConfig,
  KernelContext,
  show,
  sizeOf,
  TensorInfo,
  typed,
  WasmBackend,
} from "./kernel_util";

const OP = "UnsortedSegmentSum";

/**
 * Kernel function of `UnsortedSegmentSum` on wasm.
 *
 * Inputs: `x` [n, …idTail, …rest] (float32 or int32), `segmentIds`
 * [n, …idTail] int32. Attribute: `numSegments` (positive integer). Returns
 * float32 [numSegments, …idTail, …rest].
 *
 * @throws Error `UnsortedSegmentSum: invalid input. Expected … Received: ….`
 * when segmentIds is not int32, its shape is not a prefix of x's, or
 * numSegments is not a positive integer.
 */
export function unsortedSegmentSum(_ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x, segmentIds } = args.inputs;
  const numSegments = args.attrs?.numSegments as number;
  const shapes = `x=${describe(x)}, segmentIds=${describe(segmentIds)}, numSegments=${show(numSegments)}`;
  if (
    x === undefined ||
    segmentIds === undefined ||
    segmentIds.dtype !== "int32" ||
    (x.dtype !== "float32" && x.dtype !== "int32") ||
    !Number.isInteger(numSegments) ||
    numSegments < 1 ||
    segmentIds.shape.length === 0 ||
    segmentIds.shape.length > x.shape.length ||
    segmentIds.shape.some((d, i) => d !== x.shape[i])
  ) {
    throw invalidInput(
      OP,
      "float32 or int32 x, int32 segmentIds whose shape is a prefix of x's, and numSegments a positive integer",
      shapes,
    );
  }
  const backend = args.backend as WasmBackend;
  const tail = segmentIds.shape.slice(1);
  const rest = x.shape.slice(segmentIds.shape.length);
  const outShape = [numSegments, ...tail, ...rest];
  const out = backend.makeOutput(outShape, "float32");
  const dst = typed(backend, out) as Float32Array;
  dst.fill(0);
  const src = typed(backend, x);
  const ids = typed(backend, segmentIds) as Int32Array;
  const n = segmentIds.shape[0];
  const inner = sizeOf(tail);
  const len = sizeOf(rest);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < inner; j++) {
      const seg = ids[i * inner + j];
      if (!(seg >= 0 && seg < numSegments)) continue;
      const from = (i * inner + j) * len;
      const to = (seg * inner + j) * len;
      for (let k = 0; k < len; k++) dst[to + k] += src[from + k];
    }
  }
  return out;
}

/** Registration of {@link unsortedSegmentSum} for the 'wasm' backend. */
export function unsortedSegmentSumConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => unsortedSegmentSum(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
