/**
 * `Slice` for the wasm backend without copying the whole input first.
 *
 * The stock kernel starts with `backend.readSync(x)`, a copy of the entire
 * input out of the wasm heap, before copying the slice: batched `predict`
 * over n samples copies the full input n/batchSize times. This version copies
 * only the slice, from a view of the heap.
 */
import { KernelArgs, KernelConfig, KernelContext, sizeOf, TensorInfo, typed, WasmBackend } from "./kernel_util";

const OP = "Slice";

/**
 * Kernel function of `Slice` on wasm.
 *
 * Inputs: `x`. Attributes: `begin`, `size` (−1 = to the end), as
 * `tf.slice`. Returns a tensor of shape `size`. String tensors go to the stock
 * kernel.
 *
 * @throws Error from tfjs's slice checks for a begin/size out of range.
 */
export function slice(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const attrs = args.attrs ?? {};
  const stock = ctx.stock.get(OP);
  if (stock === undefined) throw new Error(`${OP}: the stock wasm kernel is missing.`);
  if (x === undefined || x.dtype === "string" || x.dtype === "complex64" || x.shape.length === 0) {
    return stock.kernelFunc({ inputs: args.inputs, attrs: attrs as never, backend: args.backend as never }) as TensorInfo;
  }
  const { slice_util } = ctx.tf;
  const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin as number[], attrs.size as number[]);
  slice_util.assertParamsValid(x as never, begin, size);
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(size, x.dtype);
  const total = sizeOf(size);
  if (total === 0) return out;
  const src = typed(backend, x);
  const dst = typed(backend, out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * x.shape[i + 1];
  // Merge the trailing axes taken whole into one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner--;
  const run = size[inner] * (inner + 1 < rank ? strides[inner] : 1);
  const runs = total / run;
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (let r = 0; r < runs; r++) {
    let from = begin[inner] * strides[inner];
    for (let a = 0; a < inner; a++) from += (begin[a] + idx[a]) * strides[a];
    if (run >= 16) dst.set(src.subarray(from, from + run), o);
    else for (let e = 0; e < run; e++) dst[o + e] = src[from + e];
    o += run;
    for (let a = inner - 1; a >= 0; a--) {
      if (++idx[a] < size[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Registration of {@link slice} for the 'wasm' backend. */
export function sliceConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => slice(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
