/**
 * `setupWasm`: makes tfjs's WebAssembly backend train in Node, on all cores.
 */
import * as os from "os";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import { expectOptions, fail, show } from "../errors";
import { installWasmKernels } from "./kernels";
import type { Tfjs, WasmModule } from "./kernel_util";
import { listenerSnapshot, loadThreadedModule, removeNewListeners, threadsUnsupportedReason, settleWorkers } from "./threads";

/** Options of {@link setupWasm}. */
export interface WasmSetupOptions {
  /**
   * Threads for XNNPACK's pool, an integer in [1, 8]. Default: the number of
   * logical cores (at most 8). 1 runs the single-threaded SIMD build.
   */
  threads?: number;
  /** Milliseconds to wait for the threaded module to start before falling back to one thread. Default 30000. */
  startTimeoutMs?: number;
}

/** What {@link setupWasm} set up. */
export interface WasmSetup {
  /** Threads XNNPACK really runs with (1 when single-threaded). */
  threads: number;
  /** Whether the running build uses WebAssembly SIMD. */
  simd: boolean;
  /** Kernels the stock wasm backend lacks that convlab registered (e.g. `Conv2DBackpropFilter`). */
  addedKernels: string[];
  /** Stock wasm kernels convlab replaced by faster or corrected versions (e.g. `MaxPoolGrad`). */
  replacedKernels: string[];
  /** Why fewer threads than requested run; absent when the request was met. */
  threadsReason?: string;
}

const OPTION_KEYS = ["threads", "startTimeoutMs"];
const MAX_THREADS = 8;
const WASM_PRIORITY = 2;

/** Per tfjs engine: the setup once done, so that setupWasm is idempotent. */
interface SetupState {
  result: Promise<WasmSetup>;
  factory: () => Promise<unknown>;
}
const states = new WeakMap<object, SetupState>();
/** Per tfjs engine: tfjs's own 'wasm' factory, remembered so that a removed backend can restart. */
const stockFactories = new WeakMap<object, () => Promise<unknown>>();
/** Marks convlab's backend factory and remembers tfjs's own. */
const STOCK_FACTORY = Symbol.for("convlab.wasm.stockFactory");

function logicalCores(): number {
  const available = (os as { availableParallelism?: () => number }).availableParallelism;
  return typeof available === "function" ? available() : os.cpus().length;
}

function validateOptions(options: unknown): Required<WasmSetupOptions> & { explicitThreads: boolean } {
  const { threads, startTimeoutMs } = expectOptions("setupWasm", options as WasmSetupOptions | undefined, OPTION_KEYS, "{ threads: 2 }");
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) {
    throw fail(`setupWasm: invalid threads. Expected an integer in [1, ${MAX_THREADS}]. Received: threads=${show(threads)}.`);
  }
  if (startTimeoutMs !== undefined && !(typeof startTimeoutMs === "number" && startTimeoutMs > 0)) {
    throw fail(`setupWasm: invalid startTimeoutMs. Expected a positive number of milliseconds. Received: startTimeoutMs=${show(startTimeoutMs)}.`);
  }
  return {
    threads: threads ?? Math.max(1, Math.min(MAX_THREADS, logicalCores())),
    startTimeoutMs: startTimeoutMs ?? 30000,
    explicitThreads: threads !== undefined,
  };
}

/**
 * tfjs's own factory for 'wasm', also when convlab's replaced it or the
 * backend was removed after an earlier setup.
 */
function stockFactory(tf: Tfjs): (() => Promise<unknown>) | undefined {
  const engine = tf.engine() as object;
  const current = tf.findBackendFactory("wasm") as (() => Promise<unknown>) | null;
  if (current !== null && current !== undefined) {
    const stock = ((current as unknown as Record<symbol, () => Promise<unknown>>)[STOCK_FACTORY] ?? current) as () => Promise<unknown>;
    if (!stockFactories.has(engine)) stockFactories.set(engine, stock);
    return stock;
  }
  return stockFactories.get(engine);
}

/** The backend instance of 'wasm' when it has started. */
function runningWasm(tf: Tfjs): { wasm: WasmModule } | undefined {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  return registry.wasm as { wasm: WasmModule } | undefined;
}

/**
 * Makes tfjs's 'wasm' backend able to train and fast, then selects it.
 *
 * - Registers the kernels tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter,
 *   DepthwiseConv2dNativeBackpropFilter/Input, UnsortedSegmentSum), built on
 *   its XNNPACK convolutions and on convlab's own SIMD loops, and replaces
 *   slow or wrong stock ones (Conv2DBackpropInput, MaxPoolGrad, BatchMatMul,
 *   Sum, GatherV2, Slice, Identity). See `addedKernels` / `replacedKernels`.
 * - Starts the multithreaded SIMD build in Node, which tfjs never does
 *   (tfjs issue #3830), with `threads` workers; falls back to the
 *   single-threaded SIMD build and says why in `threadsReason`.
 * - Removes the process-wide `uncaughtException`/`unhandledRejection`
 *   listeners Emscripten installs (they rethrow everything).
 * - `await tf.setBackend("wasm")`.
 *
 * Idempotent: later calls re-select 'wasm' and return the first result. The
 * thread count is fixed once the backend has started; to change it call
 * `tf.removeBackend("wasm")` (this frees all wasm tensors) and setupWasm again.
 *
 * @param tf The `@tensorflow/tfjs` namespace (4.22) to set up.
 * @param options `threads` in [1, 8] (default: logical cores), `startTimeoutMs`.
 * @returns `{ threads, simd, addedKernels, replacedKernels, threadsReason? }`.
 * @throws Error `setupWasm: invalid threads. Expected an integer in [1, 8]. Received: threads=0.`
 *   and similar for other bad options; `setupWasm: the wasm backend failed to start. …` when
 *   even the single-threaded build cannot start.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * const info = await setupWasm(tf, { threads: 2 });
 * console.log(info.threads, info.addedKernels);   // 2 [ 'Conv2DBackpropFilter', … ]
 * await model.fit(xs, ys, { batchSize: 64 });    // Conv2D layers now train on wasm
 * ```
 * Keras has no counterpart: TensorFlow's CPU kernels are always complete.
 */
export function setupWasm(tf: Tfjs, options?: WasmSetupOptions): Promise<WasmSetup> {
  let opts: ReturnType<typeof validateOptions>;
  try {
    opts = validateOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const engine = tf.engine() as object;
  const state = states.get(engine);
  const factoryNow = tf.findBackendFactory("wasm");
  if (state !== undefined && factoryNow === state.factory) {
    return state.result.then(async (result) => {
      await selectWasm(tf);
      if (opts.explicitThreads && opts.threads !== result.threads && result.threadsReason === undefined) {
        return {
          ...result,
          threadsReason: `the wasm backend already runs with ${result.threads} thread(s); the count is fixed once it has started (call tf.removeBackend("wasm") first to restart it)`,
        };
      }
      return { ...result, addedKernels: [...result.addedKernels], replacedKernels: [...result.replacedKernels] };
    });
  }
  const result = start(tf, opts);
  states.set(engine, { result, factory: tf.findBackendFactory("wasm") as () => Promise<unknown> });
  result.catch(() => states.delete(engine));
  return result.then((r) => ({ ...r, addedKernels: [...r.addedKernels], replacedKernels: [...r.replacedKernels] }));
}

async function selectWasm(tf: Tfjs): Promise<void> {
  if (tf.getBackend() === "wasm") return;
  const ok = await tf.setBackend("wasm");
  if (!ok) throw fail("setupWasm: the wasm backend failed to start. See the error logged above by tfjs.");
}

function start(tf: Tfjs, opts: ReturnType<typeof validateOptions>): Promise<WasmSetup> {
  const kernels = installWasmKernels(tf);
  const outcome: { reason?: string } = {};
  const running = runningWasm(tf);
  const original = stockFactory(tf);
  if (original === undefined) {
    return Promise.reject(fail("setupWasm: no 'wasm' backend is registered. Import \"@tensorflow/tfjs-backend-wasm\" with the same @tensorflow/tfjs."));
  }
  if (running !== undefined) {
    outcome.reason = opts.threads > 1 ? "the wasm backend was already running before setupWasm; its thread count cannot change (call tf.removeBackend(\"wasm\") first to restart it)" : undefined;
  } else {
    const factory = async (): Promise<unknown> => {
      const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
      const unsupported = opts.threads > 1 ? threadsUnsupportedReason(simd) : undefined;
      if (opts.threads > 1 && unsupported === undefined) {
        let module: Awaited<ReturnType<typeof loadThreadedModule>> | undefined;
        try {
          module = await loadThreadedModule(opts.threads, opts.startTimeoutMs);
          wasmBackend.setThreadsCount(opts.threads);
          const backend = new wasmBackend.BackendWasm(module as never);
          settleWorkers(module);
          return backend;
        } catch (error) {
          module?.PThread?.terminateAllThreads();
          outcome.reason = `the threaded wasm build did not start (${error instanceof Error ? error.message : String(error)}); running single-threaded`;
        }
      } else if (opts.threads > 1) {
        outcome.reason = `${unsupported}; running single-threaded`;
      }
      const before = listenerSnapshot();
      try {
        return await original();
      } finally {
        removeNewListeners(before);
      }
    };
    (factory as unknown as Record<symbol, unknown>)[STOCK_FACTORY] = original;
    if (tf.findBackendFactory("wasm") !== null) tf.removeBackend("wasm");
    tf.registerBackend("wasm", factory as never, WASM_PRIORITY);
  }
  return (async () => {
    await selectWasm(tf);
    const threads = Math.max(1, wasmBackend.getThreadsCount());
    const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
    const result: WasmSetup = { threads, simd, addedKernels: kernels.added, replacedKernels: kernels.replaced };
    if (outcome.reason !== undefined) result.threadsReason = outcome.reason;
    else if (threads < opts.threads) result.threadsReason = `XNNPACK started ${threads} of the ${opts.threads} requested threads`;
    return result;
  })();
}
