/**
 * `Identity` for the wasm backend without a copy.
 *
 * tfjs tensors are immutable and the wasm backend counts references per data
 * id, so a clone can share its input's memory, as tfjs's cpu backend does.
 * The optimizers and `fit` clone every weight and batch each step; the stock
 * kernel copied each one.
 */
import { KernelArgs, KernelConfig, KernelContext, TensorInfo, WasmBackend } from "./kernel_util";

const OP = "Identity";

/**
 * Kernel function of `Identity` on wasm: returns `x` (same shape and dtype)
 * sharing its data. String tensors go to the stock kernel.
 *
 * @throws never for a tensor on the wasm backend.
 */
export function identity(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const stock = ctx.stock.get(OP);
  if (x === undefined || x.dtype === "string") {
    if (stock === undefined) throw new Error(`${OP}: the stock wasm kernel is missing.`);
    return stock.kernelFunc({ inputs: args.inputs, attrs: {}, backend: args.backend as never }) as TensorInfo;
  }
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Registration of {@link identity} for the 'wasm' backend. */
export function identityConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => identity(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
