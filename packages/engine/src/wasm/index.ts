/**
 * The WebAssembly fallback of @convlab/engine: tfjs's wasm backend completed
 * with the kernels training needs, multithreaded in Node.
 */
export { setupWasm } from "./setup";
/** Options and result of {@link setupWasm}. */
export type { WasmSetup, WasmSetupOptions } from "./setup";
