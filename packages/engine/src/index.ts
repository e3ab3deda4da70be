/**
 * @convlab/engine: TensorFlow.js made fast and safe in Node.
 *
 * Importing it registers convlab's native backend (when its addon is built)
 * and `file://` model save/load; `await ready()` chooses the best backend and
 * says which, in one line.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { ready } from "@convlab/engine";
 * await ready();   // convlab engine: backend native (oneDNN 2.6.3, avx512_core, 2 threads)
 * await model.save("file://models/first");
 * ```
 */
import { inspect } from "util";
import * as tf from "@tensorflow/tfjs";
import { BackendChoice, selectBackend } from "./backend";
import { registerFileIO } from "./file_io";
import { registerGradients } from "./gradients";
import { loadNativeAddon } from "./native_addon";
import { registerNativeBackend } from "./native_backend";
import { reportBatchSizeOnOutOfMemory } from "./oom";
import { fuseTfjsRmsprop } from "./optimizers";
import { registerTransformKernel } from "./transform";

export { BACKENDS, selectBackend } from "./backend";
export type { BackendChoice, BackendName } from "./backend";
export { fileSystem } from "./file_io";
export { ConvlabError, fail, show, expectOneOf, expectKnownKeys, expectNumber, expectOptions, expectBoolean, expectSeed, expectTargetSize, closest, errnoCode, messageLine } from "./errors";
export { writeFolderAtomically, writeFileAtomically, tidyLeftovers as tidyFolderLeftovers } from "./atomic_folder";
export { OutOfMemoryError } from "./oom";
export { rmspropStep } from "./optimizers";
export { Random } from "./random";
export { warpAffine } from "./warp_affine";
export { uninitializedArray } from "./buffers";
export type { WarpAffineArgs, WarpFillMode } from "./warp_affine";
export type { RmspropStepArgs } from "./optimizers";

// On import: file:// I/O, the gradients tfjs lacks (dilated Conv2D), a corrected tf.image.transform, out-of-memory errors
// that name the batch size, tfjs's RMSprop in one kernel per variable, and the native backend ranked above wasm and cpu, so that even
// tensors made before `ready()` resolves land on it (its start is synchronous).
registerFileIO(tf);
registerGradients();
reportBatchSizeOnOutOfMemory();
fuseTfjsRmsprop();
registerTransformKernel(); // before the native backend, which copies cpu's kernels
const native = loadNativeAddon();
if ("addon" in native) registerNativeBackend(native.addon, 2.5);

let choice: Promise<BackendChoice> | undefined;

/**
 * Chooses the backend once (best first: tensorflow, native, wasm, cpu, or
 * `CONVLAB_BACKEND`), prints which one and why unless `quiet`, and resolves
 * with the choice. Later calls return the same promise.
 *
 * @throws ConvlabError when `CONVLAB_BACKEND` names a backend that is not available.
 * Keras counterpart: none (Keras picks its device itself); tfjs: `await tf.setBackend(name)`.
 */
export function ready(options: { quiet?: boolean } = {}): Promise<BackendChoice> {
  choice ??= selectBackend().then((c) => {
    if (!options.quiet) console.log(c.line);
    // As a notebook cell's last value (`await ready()`), one short line rather than the whole object: the line above says it all.
    Object.defineProperty(c, inspect.custom, { value: () => `BackendChoice { backend: '${c.backend}' }`, enumerable: false });
    return c;
  });
  return choice;
}
export { setupWasm } from "./wasm";
export type { WasmSetup, WasmSetupOptions } from "./wasm";
