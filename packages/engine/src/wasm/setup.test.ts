/**
 * setupWasm: options, result, idempotence, threads, restarts, process hygiene.
 * The tests share one tfjs engine and run in order.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { setupWasm, WasmSetup } from "./setup";

jest.setTimeout(120000);

const ADDED = ["Conv2DBackpropFilter", "DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput", "UnsortedSegmentSum"];
const REPLACED = ["Conv2DBackpropInput", "MaxPoolGrad", "BatchMatMul", "Sum", "GatherV2", "Slice", "Identity", "Transform"];
/** Kernels the gradients of Conv2D(Transpose), Depthwise/SeparableConv2D, pooling, BatchNormalization, Dense, Embedding, Dropout, Flatten and GlobalAveragePooling2D run. */
const NEEDED = [
  ...ADDED,
  ...REPLACED,
  "Conv2D",
  "DepthwiseConv2dNative",
  "AvgPoolGrad",
  "Transpose",
  "Reshape",
  "Step",
  "Multiply",
  "Sub",
  "Rsqrt",
  "Mean",
  "GreaterEqual",
];

/** A training step of a Conv2D on wasm: needs Conv2DBackpropFilter. */
function convGradient(): number[] {
  return tf.tidy(() => {
    const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
    const g = tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 1, "valid").sum())(tf.ones([3, 3, 1, 2]));
    return Array.from(g.dataSync());
  });
}

describe("setupWasm", () => {
  let first: WasmSetup;

  beforeAll(() => {
    tf.env().set("IS_TEST", true);
  });
  afterAll(() => {
    if (tf.findBackendFactory("wasm") !== null) tf.removeBackend("wasm");
  });

  test("rejects bad options with one-line errors", async () => {
    await expect(setupWasm(tf, { threads: 0 })).rejects.toThrow("setupWasm: invalid threads. Expected an integer in [1, 8]. Received: threads=0.");
    await expect(setupWasm(tf, { threads: 1.5 })).rejects.toThrow("Received: threads=1.5.");
    await expect(setupWasm(tf, { threads: 9 })).rejects.toThrow("Received: threads=9.");
    await expect(setupWasm(tf, { threads: "2" as unknown as number })).rejects.toThrow('Received: threads="2".');
    await expect(setupWasm(tf, { thread: 2 } as never)).rejects.toThrow("setupWasm: unknown option `thread`. Expected one of `threads`, `startTimeoutMs`. Did you mean `threads`?");
    expect(tf.findBackend("wasm")).toBeNull();
  });

  test("registers the missing kernels, starts threads and selects wasm", async () => {
    const listeners = [process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")];
    first = await setupWasm(tf, { threads: 2 });
    expect(tf.getBackend()).toBe("wasm");
    expect(first.simd).toBe(true);
    expect(first.addedKernels).toEqual(ADDED);
    expect(first.replacedKernels).toEqual(REPLACED);
    if (first.threads === 2) expect(first.threadsReason).toBeUndefined();
    else expect(first.threadsReason).toMatch(/single-threaded|threads/);
    for (const name of NEEDED) expect([name, tf.getKernel(name, "wasm") !== undefined]).toEqual([name, true]);
    // Emscripten's rethrowing listeners are removed.
    expect([process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")]).toEqual(listeners);
    expect(convGradient()).toEqual([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
  });

  test("is idempotent", async () => {
    const kernel = tf.getKernel("MaxPoolGrad", "wasm");
    const backend = tf.backend();
    await tf.setBackend("cpu");
    const again = await setupWasm(tf, { threads: 2 });
    expect(again).toEqual(first);
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.backend()).toBe(backend);
    expect(tf.getKernel("MaxPoolGrad", "wasm")).toBe(kernel);
  });

  test("says why another thread count cannot apply once started", async () => {
    const other = await setupWasm(tf, { threads: first.threads === 1 ? 2 : 1 });
    expect(other.threads).toBe(first.threads);
    expect(other.threadsReason).toMatch(/fixed once it has started/);
  });

  test("restarts single-threaded after tf.removeBackend('wasm')", async () => {
    tf.removeBackend("wasm");
    const single = await setupWasm(tf, { threads: 1 });
    expect(single.threads).toBe(1);
    expect(single.threadsReason).toBeUndefined();
    expect(single.addedKernels).toEqual(ADDED);
    expect(tf.getBackend()).toBe("wasm");
    expect(convGradient()).toEqual(new Array(18).fill(9));
  });

  test("falls back to one thread, with the reason, when the threaded build does not start", async () => {
    tf.removeBackend("wasm");
    const fallback = await setupWasm(tf, { threads: 2, startTimeoutMs: 1 });
    expect(fallback.threads).toBe(1);
    expect(fallback.threadsReason).toBe("the threaded wasm build did not start (the threaded wasm module did not start within 1 ms); running single-threaded");
    expect(convGradient()).toEqual(new Array(18).fill(9));
  });

  test("on a wasm backend started before it, registers the kernels and explains the thread count", async () => {
    const stock = (tf.findBackendFactory("wasm") as unknown as Record<symbol, () => Promise<tf.KernelBackend>>)[Symbol.for("convlab.wasm.stockFactory")];
    expect(typeof stock).toBe("function");
    tf.removeBackend("wasm");
    tf.registerBackend("wasm", stock, 2);
    await tf.setBackend("wasm");
    const late = await setupWasm(tf, { threads: 2 });
    expect(late.threads).toBe(1);
    expect(late.threadsReason).toMatch(/already running before setupWasm/);
    expect(convGradient()).toEqual(new Array(18).fill(9));
  });

  test("a script that used threaded wasm exits on its own", () => {
    const setupPath = path.join(__dirname, "setup.ts");
    const script = `
      const ts = require("typescript");
      const fs = require("fs");
      require.extensions[".ts"] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, "utf8"), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, f);
      const tf = require("@tensorflow/tfjs");
      require(${JSON.stringify(setupPath)}).setupWasm(tf, { threads: 2 }).then((r) => {
        const y = tf.matMul(tf.ones([256, 256]), tf.ones([256, 256]));
        process.stdout.write(JSON.stringify({ threads: r.threads, v: y.dataSync()[0] }));
      });`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ["-e", script], { cwd: path.join(__dirname, "..", ".."), encoding: "utf8", timeout: 60000 });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ threads: 2, v: 256 });
    expect(Date.now() - started).toBeLessThan(60000);
  });
});
