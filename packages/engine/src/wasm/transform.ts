/**
 * `Transform` (tf.image.transform) for the wasm backend: affine rows through the engine's
 * warpAffine, as on cpu (see ../transform.ts for the stock kernels' defects); projective rows
 * keep the stock wasm kernel.
 */
import { transformOnHeap } from "../transform";
import { KernelArgs, KernelConfig, KernelContext, TensorInfo, typed, WasmBackend } from "./kernel_util";

const OP = "Transform";

/** Kernel function of `Transform` on wasm. */
export function transform(ctx: KernelContext, args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const { image, transforms } = args.inputs;
  const out =
    image !== undefined && transforms !== undefined
      ? transformOnHeap(
          { image, transforms, attrs: (args.attrs ?? {}) as never },
          (info) => typed(backend, info),
          (shape, dtype) => {
            const info = backend.makeOutput(shape, dtype as never);
            return { info, values: typed(backend, info) as Float32Array | Int32Array };
          },
        )
      : undefined;
  if (out !== undefined) return out;
  const stock = ctx.stock.get(OP);
  if (stock === undefined) throw new Error(`${OP}: the stock wasm kernel is missing.`);
  return stock.kernelFunc({ inputs: args.inputs, attrs: (args.attrs ?? {}) as never, backend: args.backend as never }) as TensorInfo;
}

/** Registration of {@link transform} for the 'wasm' backend. */
export function transformConfig(ctx: KernelContext): KernelConfig {
  return {
    kernelName: OP,
    backendName: "wasm",
    kernelFunc: ((args: KernelArgs) => transform(ctx, args)) as unknown as KernelConfig["kernelFunc"],
  };
}
