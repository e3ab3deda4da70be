/**
 * The list of kernels convlab registers for tfjs's 'wasm' backend, and their
 * installation into tfjs's kernel registry.
 */
import { conv2dBackpropFilterConfig } from "./conv2d_backprop_filter";
import { conv2dBackpropInputConfig } from "./conv2d_backprop_input";
import type { KernelConfig, KernelContext, Tfjs } from "./kernel_util";
import { maxPoolGradConfig } from "./max_pool_grad";
import { batchMatMulConfig } from "./batch_mat_mul";
import {
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from "./depthwise_conv2d_backprop";
import { gatherV2Config } from "./gather_v2";
import { identityConfig } from "./identity";
import { sliceConfig } from "./slice";
import { sumConfig } from "./sum";
import { transformConfig } from "./transform";
import { unsortedSegmentSumConfig } from "./unsorted_segment_sum";

/** Stock wasm kernels convlab's kernels are composed from. */
const BUILDING_BLOCKS = ["Conv2D", "DepthwiseConv2dNative", "Transpose", "Slice", "Reshape", "BatchMatMul", "Sum"];

/** Factories of convlab's wasm kernels. */
const FACTORIES: Array<(ctx: KernelContext) => KernelConfig> = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  unsortedSegmentSumConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  sumConfig,
  gatherV2Config,
  sliceConfig,
  identityConfig,
  transformConfig,
];

/** Marks a kernel function as convlab's and remembers the stock config it replaced. */
const STOCK = Symbol.for("convlab.wasm.stockKernel");
type Marked = { [STOCK]?: KernelConfig | null };

/** Result of {@link installWasmKernels}. */
export interface InstalledKernels {
  /** Kernels the stock wasm backend lacks, now registered. */
  added: string[];
  /** Stock wasm kernels replaced by faster or corrected versions. */
  replaced: string[];
}

/**
 * The stock config of `name` for 'wasm' even when convlab already replaced it,
 * or undefined when stock tfjs has none.
 */
function stockKernel(tf: Tfjs, name: string): KernelConfig | undefined {
  const current = tf.getKernel(name, "wasm");
  if (current === undefined) return undefined;
  const marked = (current.kernelFunc as unknown as Marked)[STOCK];
  if (marked === undefined) return current;
  return marked ?? undefined;
}

/**
 * Registers convlab's kernels for the 'wasm' backend (replacing stock ones
 * through `tf.unregisterKernel` + `tf.registerKernel`). Idempotent: running it
 * again re-registers the same kernels over the same stock ones.
 *
 * Kernel setup functions run when a backend starts, so a kernel convlab
 * replaces keeps the stock setup function: the stock kernel function convlab
 * may still call needs it.
 */
export function installWasmKernels(tf: Tfjs): InstalledKernels {
  const stock = new Map<string, KernelConfig>();
  const impl = new Map<string, KernelConfig>();
  const ctx: KernelContext = { tf, stock, impl };
  const configs = FACTORIES.map((f) => f(ctx));
  for (const name of new Set([...BUILDING_BLOCKS, ...configs.map((c) => c.kernelName)])) {
    const config = stockKernel(tf, name);
    if (config !== undefined) {
      stock.set(name, config);
      impl.set(name, config);
    }
  }
  for (const config of configs) impl.set(config.kernelName, config);
  const added: string[] = [];
  const replaced: string[] = [];
  for (const config of configs) {
    const original = stock.get(config.kernelName);
    (config.kernelFunc as unknown as Marked)[STOCK] = original ?? null;
    if (original === undefined) added.push(config.kernelName);
    else replaced.push(config.kernelName);
    if (tf.getKernel(config.kernelName, "wasm") !== undefined) tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel(original?.setupFunc !== undefined ? { ...config, setupFunc: original.setupFunc } : config);
  }
  return { added, replaced };
}
