/**
 * `Sum` for the wasm backend without the transpose.
 *
 * The stock kernel moves the reduced axes innermost with a full transpose
 * before summing. A bias gradient sums an NHWC tensor over its leading axes
 * [0, 1, 2]; this version adds rows into per-column accumulators in one pass
 * instead (convlab's SIMD loop, or JavaScript with float64 accumulators when
 * the columns are not a multiple of 4). Other reductions go to the stock
 * kernel.
 */
import { f32, KernelArgs, KernelConfig, KernelContext, sizeOf, TensorInfo, WasmBackend } from "./kernel_util";
import { addressOf, simdKernels } from "./simd_kernels";

const OP = "Sum";

/**
 * Kernel function of `Sum` on wasm.
 *
 * Inputs: `x`. Attributes: `axis` (number or list, negative counts from the
 * end), `keepDims`. A float32 sum over leading axes [0, …, r−1] of x
 * [d0, …, dn] returns [d_r, …, dn] (with 1s in place of the reduced axes when
 * `keepDims`); anything else is the stock kernel's result.
 *
 * @throws Error from the stock kernel for an axis out of range.
 */
export function sum(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const attrs = args.attrs ?? {};
  const stock = ctx.stock.get(OP);
  if (stock === undefined) throw new Error(`${OP}: the stock wasm kernel is missing.`);
  const rank = x?.shape.length ?? 0;
  const raw = attrs.axis;
  const list = raw === undefined || raw === null ? [...Array(rank).keys()] : Array.isArray(raw) ? (raw as number[]) : [raw as number];
  const axes = list.map((a) => (a < 0 ? a + rank : a));
  const sorted = [...new Set(axes)].sort((p, q) => p - q);
  const leading = sorted.length > 0 && sorted.length < rank && sorted.every((a, i) => a === i);
  if (x === undefined || x.dtype !== "float32" || !leading || sizeOf(x.shape) === 0 || axes.some((a) => !(a >= 0 && a < rank))) {
    return stock.kernelFunc({ inputs: args.inputs, attrs: attrs as never, backend: args.backend as never }) as TensorInfo;
  }
  const rows = sizeOf(x.shape.slice(0, sorted.length));
  const cols = sizeOf(x.shape.slice(sorted.length));
  const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (i < sorted.length ? 1 : d)) : x.shape.slice(sorted.length);
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(outShape, "float32");
  const simd = cols % 4 === 0 ? simdKernels(backend.wasm) : null;
  if (simd !== null) {
    f32(backend, out).fill(0);
    simd.columnSum(addressOf(backend, x.dataId), rows, cols / 4, addressOf(backend, out.dataId));
    return out;
  }
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c] += src[base + c];
  }
  dst.set(acc);
  return out;
}

/** Registration of {@link sum} for the 'wasm' backend. */
export function sumConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => sum(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
