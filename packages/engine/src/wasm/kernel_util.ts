/**
 * Shared plumbing of convlab's wasm kernels.
 *
 * The kernels here run inside tfjs's wasm backend, below the engine: they get
 * `TensorInfo`s (a data id, a shape and a dtype), call the backend's stock
 * kernel functions directly (never `tf.*` ops, which would record on the
 * gradient tape and allocate engine tensors) and must release every
 * intermediate they create, also when they throw. Data that no stock kernel
 * can produce is written in JavaScript straight into the wasm heap.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { fail, show as showValue } from "../errors";

/** The TensorFlow.js namespace the kernels were registered with. */
export type Tfjs = typeof tfTypes;
/** A tensor as a kernel sees it: data id, shape, dtype. */
export type TensorInfo = tfTypes.TensorInfo;
/** A kernel registration. */
export type KernelConfig = tfTypes.KernelConfig;
/** Attributes of a kernel call. */
export type Attrs = Record<string, unknown>;
/** Pad argument of conv and pool kernels, as tfjs passes it. */
export type Pad = "same" | "valid" | number | [[number, number], [number, number], [number, number], [number, number]];
/** Output-size rounding of conv and pool kernels. */
export type RoundingMode = "floor" | "round" | "ceil" | undefined;

/** A WebAssembly.Memory (the package's tsconfig has no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

/** The parts of the WebAssembly JavaScript API convlab uses. */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object; module: object }>;
  validate(bytes: Uint8Array): boolean;
}

/** The global `WebAssembly` object. */
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The part of the Emscripten module of tfjs-backend-wasm that convlab uses. */
export interface WasmModule {
  HEAPU8: Uint8Array;
  wasmMemory?: WasmMemory;
  PThread?: {
    terminateAllThreads(): void;
    runningWorkers?: Array<{ unref?(): void }>;
    unusedWorkers?: Array<{ terminate?(): unknown }>;
  };
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: unknown[]) => unknown;
  tfjs: { getThreadsCount(): number };
}

/** The part of tfjs-backend-wasm's `BackendWasm` that convlab's kernels use. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: string } | undefined };
  makeOutput(shape: number[], dtype: tfTypes.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/** What a kernel function receives. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  attrs?: Attrs;
  backend: unknown;
}

/**
 * Kernel functions of the stock wasm backend, captured before convlab
 * replaced any of them, plus the tfjs namespace: the toolbox every convlab
 * kernel is built from.
 */
export interface KernelContext {
  tf: Tfjs;
  /** Stock wasm kernel configs by kernel name, as tfjs-backend-wasm registered them. */
  stock: Map<string, KernelConfig>;
  /** The kernels to compose from: convlab's where it has one, else stock. */
  impl: Map<string, KernelConfig>;
}

/**
 * Calls stock wasm kernels and remembers their outputs so that one
 * `dispose()` releases all intermediates; `keep()` takes one out of that list.
 */
export class Scratch {
  private readonly temps: TensorInfo[] = [];

  constructor(
    private readonly ctx: KernelContext,
    readonly backend: WasmBackend,
  ) {}

  /**
   * Runs the wasm kernel `name` (convlab's version where it has one, else the
   * stock one; the stock one when `stock` is true); the result is released by
   * `dispose()`.
   */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}, stock = false): TensorInfo {
    const config = (stock ? this.ctx.stock : this.ctx.impl).get(name);
    if (config === undefined) throw new Error(`${name}: no wasm kernel is registered under this name.`);
    const out = config.kernelFunc({ inputs, attrs: attrs as tfTypes.NamedAttrMap, backend: this.backend as never });
    const info = (Array.isArray(out) ? out[0] : out) as TensorInfo;
    this.temps.push(info);
    return info;
  }

  /** A new uninitialised float32 tensor on the wasm heap, released by `dispose()`. */
  alloc(shape: number[]): TensorInfo {
    const info = this.backend.makeOutput(shape, "float32");
    this.temps.push(info);
    return info;
  }

  /** A view of the same data under another shape (no copy), released by `dispose()`. */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    this.backend.incRef(x.dataId);
    const info = { dataId: x.dataId, shape, dtype: x.dtype };
    this.temps.push(info);
    return info;
  }

  /** Removes `info` from the intermediates so that it survives `dispose()`. */
  keep(info: TensorInfo): TensorInfo {
    const i = this.temps.lastIndexOf(info);
    if (i >= 0) this.temps.splice(i, 1);
    return info;
  }

  /** Releases every intermediate not kept. */
  dispose(): void {
    for (const info of this.temps.splice(0)) this.backend.disposeData(info.dataId);
  }
}

/**
 * Runs `body` with a fresh {@link Scratch}; the tensor it returns is kept, all
 * other intermediates are released, also when `body` throws.
 */
export function withScratch(ctx: KernelContext, backend: unknown, body: (s: Scratch) => TensorInfo): TensorInfo {
  const s = new Scratch(ctx, backend as WasmBackend);
  try {
    return s.keep(body(s));
  } finally {
    s.dispose();
  }
}

/**
 * The current buffer of the wasm memory. Growing a shared memory leaves old
 * `SharedArrayBuffer`s valid but short, growing an unshared one detaches them,
 * so views are taken from the live buffer after the last allocation.
 */
function heapBuffer(backend: WasmBackend): ArrayBufferLike {
  return wasmMemoryOf(backend.wasm)?.buffer ?? backend.wasm.HEAPU8.buffer;
}

/** The memory of tfjs's wasm module (exported by the single-threaded build, imported by the threaded one). */
export function wasmMemoryOf(module: WasmModule): WasmMemory | undefined {
  return module.wasmMemory ?? (module as unknown as { asm?: { memory?: WasmMemory } }).asm?.memory;
}

/** A Float32Array over the heap memory of `info` (no copy). Take it after the last allocation. */
export function f32(backend: WasmBackend, info: TensorInfo): Float32Array {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error("convlab wasm kernel: tensor data is not on the wasm backend.");
  return new Float32Array(heapBuffer(backend), data.memoryOffset, sizeOf(info.shape));
}

/** A typed array over the heap memory of `info` matching its dtype (no copy). */
export function typed(backend: WasmBackend, info: TensorInfo): Float32Array | Int32Array | Uint8Array {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error("convlab wasm kernel: tensor data is not on the wasm backend.");
  const n = sizeOf(info.shape);
  const buffer = heapBuffer(backend);
  if (info.dtype === "int32") return new Int32Array(buffer, data.memoryOffset, n);
  if (info.dtype === "bool") return new Uint8Array(buffer, data.memoryOffset, n);
  return new Float32Array(buffer, data.memoryOffset, n);
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `Tensor<float32>[2,3]`: how error messages print a tensor (the house `show`). */
export function describe(t: TensorInfo | undefined): string {
  return showValue(t);
}

/** Prints an attribute value for an error message, as the house `show` does (strings quoted, arrays as JSON). */
export function show(value: unknown): string {
  return showValue(value);
}

/**
 * The one-line error of a kernel: `Op: invalid input. Expected … Received: ….`
 * (a ConvlabError).
 */
export function invalidInput(op: string, expected: string, received: string): Error {
  return fail(`${op}: invalid input. Expected ${expected}. Received: ${received}.`);
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** True when every entry is a positive integer. */
export function positiveInts(values: readonly number[]): boolean {
  return values.every((v) => Number.isInteger(v) && v > 0);
}

/** Throws the one-line error unless `dataFormat` is NHWC (the only layout the wasm backend runs). */
export function requireChannelsLast(op: string, dataFormat: unknown, shapes: string): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC" && dataFormat !== "channelsLast") {
    throw invalidInput(op, `dataFormat "NHWC" (the wasm backend runs channels-last only)`, `dataFormat=${show(dataFormat)}, ${shapes}`);
  }
}

/**
 * Copies `src` [N, H, W, C] into a new zero-filled [N, H2, W2, C] tensor with
 * `src[n, h, w, c]` at `[n, padTop + h·strideH, padLeft + w·strideW, c]`,
 * where H2 = padTop + (H − 1)·strideH + 1 + padBottom (W2 likewise). Negative
 * pads crop. This is the input of a transposed convolution run as a forward
 * one.
 */
export function dilateAndPad(
  s: Scratch,
  src: TensorInfo,
  strideH: number,
  strideW: number,
  padTop: number,
  padBottom: number,
  padLeft: number,
  padRight: number,
): TensorInfo {
  const [n, h, w, c] = src.shape;
  const h2 = padTop + (h - 1) * strideH + 1 + padBottom;
  const w2 = padLeft + (w - 1) * strideW + 1 + padRight;
  const out = s.alloc([n, h2, w2, c]);
  const dst = f32(s.backend, out);
  const from = f32(s.backend, src);
  dst.fill(0);
  const rowOut = w2 * c;
  const dense = strideW === 1 && padLeft >= 0 && padRight >= 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const oy = padTop + y * strideH;
      if (oy < 0 || oy >= h2) continue;
      const srcRow = (b * h + y) * w * c;
      const dstRow = (b * h2 + oy) * rowOut;
      if (dense) {
        dst.set(from.subarray(srcRow, srcRow + w * c), dstRow + padLeft * c);
        continue;
      }
      for (let x = 0; x < w; x++) {
        const ox = padLeft + x * strideW;
        if (ox < 0 || ox >= w2) continue;
        const si = srcRow + x * c;
        const di = dstRow + ox * c;
        for (let k = 0; k < c; k++) dst[di + k] = from[si + k];
      }
    }
  }
  return out;
}
