/**
 * `GatherV2` for the wasm backend as block copies.
 *
 * `model.fit` takes every batch out of the training set with a gather along
 * axis 0; the stock kernel copies element by element in C++. This version
 * copies each gathered slice with one `TypedArray.set` on the wasm heap.
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

const OP = "GatherV2";

/**
 * Kernel function of `GatherV2` on wasm.
 *
 * Inputs: `x`, `indices` (int32). Attributes: `axis`, `batchDims`. Returns
 * x.shape[:axis] + indices.shape[batchDims:] + x.shape[axis+1:], as tfjs's
 * `tf.gather`.
 *
 * @throws Error `GatherV2: the index value 12 is not in [0, 9]` (tfjs's text)
 * for an index out of range; `GatherV2: invalid input. …` for a bad axis.
 */
export function gatherV2(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x, indices } = args.inputs;
  const attrs = args.attrs ?? {};
  const stock = ctx.stock.get(OP);
  if (stock === undefined) throw new Error(`${OP}: the stock wasm kernel is missing.`);
  if (x === undefined || indices === undefined || x.dtype === "string" || x.dtype === "complex64" || indices.dtype !== "int32") {
    return stock.kernelFunc({ inputs: args.inputs, attrs: attrs as never, backend: args.backend as never }) as TensorInfo;
  }
  const rank = x.shape.length;
  const rawAxis = Array.isArray(attrs.axis) ? (attrs.axis as number[])[0] : ((attrs.axis as number | undefined) ?? 0);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  const batchDims = (attrs.batchDims as number | undefined) ?? 0;
  if (!(Number.isInteger(axis) && axis >= 0 && axis < rank)) {
    throw invalidInput(OP, `axis in [${-rank}, ${rank - 1}]`, `x=${describe(x)}, indices=${describe(indices)}, axis=${show(attrs.axis)}`);
  }
  const backend = args.backend as WasmBackend;
  const idx = typed(backend, indices) as Int32Array;
  const axisDim = x.shape[axis];
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (!(v >= 0 && v <= axisDim - 1)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${axisDim - 1}]`);
  }
  const info = ctx.tf.backend_util.segment_util.collectGatherOpShapeInfo(
    x as never,
    indices as never,
    axis,
    batchDims,
  );
  const { batchSize, outerSize, dimSize, sliceSize, outputShape } = info;
  const perBatch = sizeOf(indices.shape) / batchSize;
  const out = backend.makeOutput(outputShape, x.dtype);
  if (sizeOf(outputShape) === 0) return out;
  const src = typed(backend, x);
  const dst = typed(backend, out);
  const ids = typed(backend, indices) as Int32Array;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let r = 0; r < outerSize; r++) {
      const rowBase = (b * outerSize + r) * dimSize;
      for (let i = 0; i < perBatch; i++) {
        const from = (rowBase + ids[b * perBatch + i]) * sliceSize;
        if (sliceSize >= 16) dst.set(src.subarray(from, from + sliceSize), o);
        else for (let e = 0; e < sliceSize; e++) dst[o + e] = src[from + e];
        o += sliceSize;
      }
    }
  }
  return out;
}

/** Registration of {@link gatherV2} for the 'wasm' backend. */
export function gatherV2Config(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => gatherV2(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
