/**
 * Starting tfjs-backend-wasm's multithreaded build in Node.
 *
 * tfjs 4.22 never does it by itself: its flag WASM_HAS_MULTITHREAD_SUPPORT is
 * hard-coded false in Node (tfjs issue #3830), and even when forced true its
 * loader hands Emscripten `blob:` URLs for the pthread worker script and for
 * the main script, which `worker_threads` cannot open. This module runs the
 * Emscripten factory of `tfjs-backend-wasm-threaded-simd` itself, with
 * file paths instead: the worker script (shipped as a string) is written once
 * to a file in the OS temp directory, and the workers import the factory from
 * its file in node_modules.
 *
 * The C++ side sizes its thread pool as min(requested, logical cores / 2, 8),
 * assuming two hyper-threads per core. convlab reports twice the requested
 * count as the number of logical cores (through the wasm import
 * `emscripten_num_logical_cores`) so that the requested count is used.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { wasmApi, WasmModule } from "./kernel_util";

/** Emscripten's factory settings used here. */
interface FactoryConfig {
  locateFile(file: string, prefix: string): string;
  mainScriptUrlOrBlob: string;
  instantiateWasm(
    imports: { env: Record<string, unknown> },
    receive: (instance: object, module: object) => void,
  ): object;
  onAbort(what: unknown): void;
  PThread?: { terminateAllThreads(): void };
}

/** The module tfjs's `BackendWasm` constructor expects. */
export type LoadedModule = WasmModule & {
  tfjs: {
    init(): void;
    initWithThreadsCount(n: number): void;
    getThreadsCount(): number;
    registerTensor(id: number, size: number, offset: number): void;
    disposeData(id: number): void;
    dispose(): void;
  };
};

/** Directory of the installed @tensorflow/tfjs-backend-wasm package. */
export function wasmPackageDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
}

/**
 * Why threads cannot run in this process, or undefined when they can
 * (SharedArrayBuffer, wasm threads and SIMD are all needed by the threaded
 * build).
 */
export function threadsUnsupportedReason(simd: boolean): string | undefined {
  if (!simd) return "this WebAssembly engine has no SIMD; the threaded build of tfjs-backend-wasm needs it";
  if (typeof SharedArrayBuffer !== "function") return "SharedArrayBuffer is not available in this process";
  // A module with a shared memory and an atomic load: validates only when wasm threads are supported.
  const bytes = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11];
  try {
    if (!wasmApi.validate(new Uint8Array(bytes))) return "this WebAssembly engine does not support threads (atomics)";
  } catch {
    return "this WebAssembly engine does not support threads (atomics)";
  }
  return undefined;
}

/** Writes Emscripten's pthread worker script to a file once and returns its path. */
function workerScriptPath(dir: string): string {
  // The .worker.js module exports the script as a template string, whose escapes
  // are already decoded: turn real newlines back into `\n` escapes, as tfjs does
  // before making its Blob.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require(path.join(dir, "wasm-out", "tfjs-backend-wasm-threaded-simd.worker.js")) as {
    wasmWorkerContents: string;
  };
  const script = wasmWorkerContents.replace(/\n/g, "\\n");
  const hash = crypto.createHash("sha256").update(script).digest("hex").slice(0, 16);
  const folder = path.join(os.tmpdir(), "convlab-wasm");
  const file = path.join(folder, `tfjs-backend-wasm-threaded-simd-${hash}.worker.js`);
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === script) return file;
  fs.mkdirSync(folder, { recursive: true });
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(temp, script);
  fs.renameSync(temp, file);
  return file;
}

/**
 * Instantiates the threaded SIMD build with a pool sized for `threads`
 * (1–8). Resolves to a module ready for `new BackendWasm(module)` after
 * `setThreadsCount(threads)`.
 *
 * @throws Error when the module does not start within `timeoutMs` or aborts;
 * its workers are terminated then.
 */
export async function loadThreadedModule(threads: number, timeoutMs: number): Promise<LoadedModule> {
  const dir = wasmPackageDir();
  const gluePath = path.join(dir, "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  const binaryPath = path.join(dir, "dist", "tfjs-backend-wasm-threaded-simd.wasm");
  const workerPath = workerScriptPath(dir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(gluePath) as (config: FactoryConfig) => Promise<LoadedModule>;
  const binary = fs.readFileSync(binaryPath);

  let abort: (reason: Error) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    abort = reject;
  });
  const config: FactoryConfig = {
    locateFile: (file, prefix) => (file.endsWith(".worker.js") ? workerPath : file.endsWith(".wasm") ? binaryPath : prefix + file),
    // Workers `importScripts` this: a file path, where tfjs would give a Blob.
    mainScriptUrlOrBlob: gluePath,
    instantiateWasm: (imports, receive) => {
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      wasmApi.instantiate(binary, imports).then(
        (result) => receive(result.instance, result.module),
        (error: unknown) => abort(new Error(`could not instantiate the threaded wasm module: ${String(error)}`)),
      );
      return {};
    },
    onAbort: (what) => abort(new Error(`the threaded wasm module aborted: ${String(what)}`)),
  };

  const before = listenerSnapshot();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the threaded wasm module did not start within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const module = await Promise.race([factory(config), aborted, timeout]);
    module.tfjs = {
      init: module.cwrap("init", null, []) as () => void,
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]) as (n: number) => void,
      getThreadsCount: module.cwrap("get_threads_count", "number", []) as () => number,
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]) as (
        id: number,
        size: number,
        offset: number,
      ) => void,
      disposeData: module.cwrap("dispose_data", null, ["number"]) as (id: number) => void,
      dispose: module.cwrap("dispose", null, []) as () => void,
    };
    return module;
  } catch (error) {
    config.PThread?.terminateAllThreads();
    throw error;
  } finally {
    clearTimeout(timer);
    removeNewListeners(before);
  }
}

/**
 * After the thread pool has started: lets the process exit while the pool's
 * workers wait for work (Emscripten `ref()`s a worker when it starts a
 * pthread, so a script that used threaded wasm would otherwise never end),
 * and terminates the idle workers Emscripten preloads (8, each with its own
 * instance of the module: ~10 MB apiece). Should a pthread be created later,
 * Emscripten starts a new worker.
 */
export function settleWorkers(module: WasmModule): void {
  const pthread = module.PThread;
  if (pthread === undefined) return;
  for (const worker of pthread.runningWorkers ?? []) worker.unref?.();
  for (const worker of pthread.unusedWorkers?.splice(0) ?? []) void worker.terminate?.();
}

type Listener = (...args: unknown[]) => void;
interface ListenerSnapshot {
  uncaughtException: Listener[];
  unhandledRejection: Listener[];
}

/** The process's error listeners, before an Emscripten factory adds its own. */
export function listenerSnapshot(): ListenerSnapshot {
  return {
    uncaughtException: process.listeners("uncaughtException") as Listener[],
    unhandledRejection: process.listeners("unhandledRejection") as Listener[],
  };
}

/**
 * Removes the listeners an Emscripten factory added: they rethrow every
 * uncaught exception and unhandled rejection, which would crash a notebook
 * kernel that handles them itself.
 */
export function removeNewListeners(before: ListenerSnapshot): void {
  for (const listener of process.listeners("uncaughtException") as Listener[]) {
    if (!before.uncaughtException.includes(listener)) process.removeListener("uncaughtException", listener);
  }
  for (const listener of process.listeners("unhandledRejection") as Listener[]) {
    if (!before.unhandledRejection.includes(listener)) process.removeListener("unhandledRejection", listener);
  }
}
