/**
 * convlab's wasm kernels against tfjs's cpu backend, kernel by kernel.
 *
 * Inputs are quarter-integers in [−2, 2], so every product and partial sum is
 * exact in float32 and any reordering of a sum (XNNPACK, SIMD) gives the cpu
 * result bit for bit: a mismatch is an indexing error, not rounding. One
 * case per kernel family also runs on normal random floats. The error metric
 * is max|wasm − cpu| / max|cpu| ("relative error"), required ≤ 1e-4.
 */
import * as tf from "@tensorflow/tfjs";
import { setupWasm } from "./setup";
import { setSimdKernelsEnabled, simdKernels } from "./simd_kernels";
import type { WasmModule } from "./kernel_util";

jest.setTimeout(120000);

type Values = number[] | Float32Array | Int32Array;
interface Input {
  shape: number[];
  values: Values;
  dtype?: "float32" | "int32";
}
interface Case {
  label: string;
  kernel: string;
  inputs: Record<string, Input>;
  attrs: Record<string, unknown>;
  /** Post-processing of the cpu result (e.g. picking taps of a dilated filter). */
  reference?: { kernel: string; inputs: Record<string, Input>; attrs: Record<string, unknown>; pick?: (v: Float32Array, shape: number[]) => Float32Array };
}
interface Result {
  shape: number[];
  values: Float32Array;
}

const TOLERANCE = 1e-4;

/** Deterministic quarter-integers in [−2, 2] (or standard normals when `normal`). */
function values(n: number, seed: number, normal = false): Float32Array {
  let s = seed * 2654435761 + 12345;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return ((s >>> 8) & 0xffff) / 0x10000;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (normal) {
      const u = Math.max(next(), 1e-7);
      out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    } else {
      out[i] = Math.floor(next() * 17) / 4 - 2;
    }
  }
  return out;
}

function input(shape: number[], seed: number, normal = false): Input {
  return { shape, values: values(shape.reduce((a, b) => a * b, 1), seed, normal) };
}

/** Runs every case on `backend` (set once, restored after). */
async function runAll(backend: "cpu" | "wasm", cases: Case[], useReference: boolean): Promise<Result[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return cases.map((c) => {
      const spec = useReference && c.reference !== undefined ? c.reference : c;
      const tensors: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(spec.inputs)) tensors[k] = tf.tensor(v.values, v.shape, v.dtype ?? "float32");
      try {
        const out = tf.engine().runKernel(spec.kernel, tensors as never, spec.attrs as never) as tf.Tensor;
        let result: Result = { shape: out.shape.slice(), values: Float32Array.from(out.dataSync() as Float32Array) };
        out.dispose();
        const pick = useReference ? c.reference?.pick : undefined;
        if (pick !== undefined) result = { shape: result.shape, values: pick(result.values, result.shape) };
        return result;
      } finally {
        for (const t of Object.values(tensors)) t.dispose();
      }
    });
  } finally {
    await tf.setBackend(previous);
  }
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
  }
  return scale === 0 ? diff : diff / scale;
}

/** Asserts every case's wasm result equals cpu's within TOLERANCE; reports all failures at once. */
async function expectMatchesCpu(cases: Case[]): Promise<void> {
  const expected = await runAll("cpu", cases, true);
  const actual = await runAll("wasm", cases, false);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const e = expected[i];
    const a = actual[i];
    if (c.reference?.pick === undefined && a.shape.join() !== e.shape.join()) {
      failures.push(`${c.label}: shape [${a.shape}] instead of [${e.shape}]`);
      return;
    }
    const err = relativeError(a.values, e.values);
    if (!(err <= TOLERANCE)) failures.push(`${c.label}: relative error ${err}`);
  });
  expect(failures).toEqual([]);
}

function outShape(x: number[], filter: number[], strides: number, pad: unknown, depthwise: boolean, dilations = 1): number[] {
  return tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    filter as [number, number, number, number],
    strides,
    dilations,
    pad as "same",
    undefined,
    depthwise,
  ).outShape;
}

const KERNELS = [1, 3, 5, 7];
const STRIDES = [1, 2, 3];
const PADS = ["valid", "same"] as const;
const CHANNELS = [1, 3, 8];
const BATCHES = [1, 3];
const H = 9;
const W = 10;

function convCases(kernel: "Conv2DBackpropFilter" | "Conv2DBackpropInput"): Case[] {
  const cases: Case[] = [];
  let seed = 1;
  const add = (k: number, s: number, pad: unknown, ci: number, co: number, b: number, normal = false): void => {
    const xShape = [b, H, W, ci];
    const fShape = [k, k, ci, co];
    const dyShape = outShape(xShape, fShape, s, pad, false);
    const label = `${kernel} k=${k} s=${s} pad=${JSON.stringify(pad)} ci=${ci} co=${co} b=${b}${normal ? " normal" : ""}`;
    const attrs = { strides: s, pad, dataFormat: "NHWC" };
    if (kernel === "Conv2DBackpropFilter") {
      cases.push({ label, kernel, inputs: { x: input(xShape, seed++, normal), dy: input(dyShape, seed++, normal) }, attrs: { ...attrs, filterShape: fShape } });
    } else {
      cases.push({ label, kernel, inputs: { dy: input(dyShape, seed++, normal), filter: input(fShape, seed++, normal) }, attrs: { ...attrs, inputShape: xShape } });
    }
  };
  for (const k of KERNELS) for (const s of STRIDES) for (const pad of PADS) for (const ci of CHANNELS) for (const co of CHANNELS) for (const b of BATCHES) add(k, s, pad, ci, co, b);
  add(3, 1, 1, 3, 8, 2);
  add(4, 2, [[0, 0], [1, 2], [2, 0], [0, 0]], 2, 4, 2);
  add(3, 2, "same", 16, 12, 3, true);
  add(3, 1, "valid", 1, 32, 4, true);
  return cases;
}

describe("wasm kernels against cpu", () => {
  beforeAll(async () => {
    tf.env().set("IS_TEST", true);
    await setupWasm(tf);
  });
  afterAll(() => {
    setSimdKernelsEnabled(true);
    if (tf.findBackendFactory("wasm") !== null) tf.removeBackend("wasm");
  });

  test("convlab's SIMD module compiles against the backend's (shared) memory", () => {
    expect(simdKernels((tf.backend() as unknown as { wasm: WasmModule }).wasm)).not.toBeNull();
  });

  test("Conv2DBackpropFilter over the grid (kernel 1/3/5/7, strides 1/2/3, valid/same, channels 1/3/8, batch 1/3)", async () => {
    await expectMatchesCpu(convCases("Conv2DBackpropFilter"));
  });

  test("Conv2DBackpropInput over the grid", async () => {
    await expectMatchesCpu(convCases("Conv2DBackpropInput"));
  });

  test("depthwise backprop (input and filter) over the grid, with dilation 2 at stride 1", async () => {
    const cases: Case[] = [];
    let seed = 1000;
    const add = (k: number, s: number, pad: "valid" | "same", c: number, m: number, b: number, dilation: number, normal = false): void => {
      const xShape = [b, H, W, c];
      const fShape = [k, k, c, m];
      const dyShape = outShape(xShape, fShape, s, pad, true, dilation);
      if (dyShape.some((d) => d <= 0)) return;
      const label = `k=${k} s=${s} pad=${pad} c=${c} m=${m} b=${b} d=${dilation}${normal ? " normal" : ""}`;
      const x = input(xShape, seed++, normal);
      const dy = input(dyShape, seed++, normal);
      const filter = input(fShape, seed++, normal);
      const attrs = { strides: s, pad, dilations: dilation };
      // tfjs's cpu kernels ignore dilation: the reference runs on the filter with
      // (dilation − 1) zeros between taps, which is the same convolution.
      const kd = (k - 1) * dilation + 1;
      const dilated = new Float32Array(kd * kd * c * m);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          dilated.set((filter.values as Float32Array).subarray((i * k + j) * c * m, (i * k + j + 1) * c * m), (i * dilation * kd + j * dilation) * c * m);
        }
      }
      const refAttrs = { strides: s, pad, dilations: 1 };
      cases.push({
        label: `DepthwiseConv2dNativeBackpropInput ${label}`,
        kernel: "DepthwiseConv2dNativeBackpropInput",
        inputs: { dy, filter },
        attrs: { ...attrs, inputShape: xShape },
        reference:
          dilation === 1
            ? undefined
            : { kernel: "DepthwiseConv2dNativeBackpropInput", inputs: { dy, filter: { shape: [kd, kd, c, m], values: dilated } }, attrs: { ...refAttrs, inputShape: xShape } },
      });
      cases.push({
        label: `DepthwiseConv2dNativeBackpropFilter ${label}`,
        kernel: "DepthwiseConv2dNativeBackpropFilter",
        inputs: { x, dy },
        attrs: { ...attrs, filterShape: fShape },
        reference:
          dilation === 1
            ? undefined
            : {
                kernel: "DepthwiseConv2dNativeBackpropFilter",
                inputs: { x, dy },
                attrs: { ...refAttrs, filterShape: [kd, kd, c, m] },
                pick: (v) => {
                  const out = new Float32Array(k * k * c * m);
                  for (let i = 0; i < k; i++) {
                    for (let j = 0; j < k; j++) out.set(v.subarray((i * dilation * kd + j * dilation) * c * m, (i * dilation * kd + j * dilation + 1) * c * m), (i * k + j) * c * m);
                  }
                  return out;
                },
              },
      });
    };
    for (const k of KERNELS) for (const s of STRIDES) for (const pad of PADS) for (const c of CHANNELS) for (const m of [1, 2]) for (const b of BATCHES) add(k, s, pad, c, m, b, 1);
    for (const k of [3, 5]) for (const pad of PADS) for (const c of CHANNELS) for (const b of BATCHES) add(k, 1, pad, c, 1, b, 2);
    add(3, 2, "same", 16, 1, 3, 1, true);
    await expectMatchesCpu(cases);
  });

  test("MaxPoolGrad over the grid, including all-negative windows and ties", async () => {
    const cases: Case[] = [];
    let seed = 5000;
    for (const k of [...KERNELS, 2]) {
      for (const s of STRIDES) {
        for (const pad of PADS) {
          for (const c of [...CHANNELS, 4]) {
            for (const b of BATCHES) {
              const xShape = [b, H, W, c];
              const info = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], k, s, 1, pad);
              const x = input(xShape, seed++);
              // Shift a third of the values far below zero: whole windows are negative.
              const xv = x.values as Float32Array;
              for (let i = 0; i < xv.length; i += 3) xv[i] -= 10;
              cases.push({
                label: `MaxPoolGrad k=${k} s=${s} pad=${pad} c=${c} b=${b}`,
                kernel: "MaxPoolGrad",
                inputs: { dy: input(info.outShape, seed++), input: x, output: { shape: info.outShape, values: new Float32Array(info.outShape.reduce((p, q) => p * q, 1)) } },
                attrs: { filterSize: k, strides: s, pad },
              });
            }
          }
        }
      }
    }
    // 2×2 tiles covering the whole input (dx is then not zero-filled first): on a dirty heap.
    tf.tidy(() => tf.fill([3, 8, 10, 8], 7).add(1).dataSync());
    for (const c of [4, 8]) {
      const xShape = [3, 8, 10, c];
      cases.push({
        label: `MaxPoolGrad 2x2 exact tiling c=${c}`,
        kernel: "MaxPoolGrad",
        inputs: { dy: input([3, 4, 5, c], seed++), input: input(xShape, seed++), output: { shape: [3, 4, 5, c], values: new Float32Array(60 * c) } },
        attrs: { filterSize: 2, strides: 2, pad: "valid" },
      });
    }
    await expectMatchesCpu(cases);
  });

  test("MaxPoolGrad sends the gradient to the first maximum (negative window, ties, −∞)", async () => {
    const x = tf.tensor4d([-3, -1, 0, 0, -Infinity, -Infinity, -2, -5, 0, 0, -Infinity, 7], [1, 2, 6, 1]);
    const check = async (): Promise<number[]> =>
      Array.from(
        (
          tf.engine().runKernel("MaxPoolGrad", { dy: tf.tensor4d([1, 2, 3], [1, 1, 3, 1]), input: x, output: tf.zeros([1, 1, 3, 1]) }, { filterSize: 2, strides: 2, pad: "valid" }) as tf.Tensor
        ).dataSync(),
      );
    // Windows (row-major): [-3, -1, -2, -5] -> -1; [0, 0, 0, 0] -> first; [-inf, -inf, -inf, 7] -> 7.
    expect(await check()).toEqual([0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
    setSimdKernelsEnabled(false);
    try {
      expect(await check()).toEqual([0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  test("the JavaScript fallbacks (SIMD off) match cpu too", async () => {
    setSimdKernelsEnabled(false);
    try {
      const cases: Case[] = [];
      let seed = 9000;
      for (const [k, s, pad] of [
        [2, 2, "valid"],
        [3, 2, "same"],
        [3, 1, "valid"],
      ] as const) {
        const xShape = [2, H, W, 8];
        const info = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], k, s, 1, pad);
        cases.push({
          label: `MaxPoolGrad k=${k} s=${s} ${pad}`,
          kernel: "MaxPoolGrad",
          inputs: { dy: input(info.outShape, seed++), input: input(xShape, seed++), output: { shape: info.outShape, values: new Float32Array(info.outShape.reduce((p, q) => p * q, 1)) } },
          attrs: { filterSize: k, strides: s, pad },
        });
      }
      cases.push({ label: "Sum [0,1,2]", kernel: "Sum", inputs: { x: input([3, 4, 5, 8], seed++) }, attrs: { axis: [0, 1, 2], keepDims: false } });
      for (const m of [1, 2]) {
        const xShape = [2, H, W, 4];
        const dyShape = outShape(xShape, [3, 3, 4, m], 2, "same", true);
        cases.push({
          label: `DepthwiseConv2dNativeBackpropFilter m=${m}`,
          kernel: "DepthwiseConv2dNativeBackpropFilter",
          inputs: { x: input(xShape, seed++), dy: input(dyShape, seed++) },
          attrs: { strides: 2, pad: "same", dilations: 1, filterShape: [3, 3, 4, m] },
        });
      }
      const dyShape = outShape([2, H, W, 1], [3, 3, 1, 8], 1, "valid", false);
      cases.push({
        label: "Conv2DBackpropFilter small filter",
        kernel: "Conv2DBackpropFilter",
        inputs: { x: input([2, H, W, 1], seed++), dy: input(dyShape, seed++) },
        attrs: { strides: 1, pad: "valid", dataFormat: "NHWC", filterShape: [3, 3, 1, 8] },
      });
      await expectMatchesCpu(cases);
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  test("BatchMatMul: transposes, batches and broadcasting", async () => {
    const cases: Case[] = [];
    let seed = 7000;
    const add = (a: number[], b: number[], transposeA: boolean, transposeB: boolean, normal = false): void => {
      cases.push({
        label: `BatchMatMul a=[${a}] b=[${b}] tA=${transposeA} tB=${transposeB}`,
        kernel: "BatchMatMul",
        inputs: { a: input(a, seed++, normal), b: input(b, seed++, normal) },
        attrs: { transposeA, transposeB },
      });
    };
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const m = 3;
        const k = 4;
        const n = 5;
        add(tA ? [k, m] : [m, k], tB ? [n, k] : [k, n], tA, tB);
        add(tA ? [2, k, m] : [2, m, k], tB ? [2, n, k] : [2, k, n], tA, tB);
        add(tA ? [2, k, m] : [2, m, k], tB ? [n, k] : [k, n], tA, tB);
        add(tA ? [2, 40, 30] : [2, 30, 40], tB ? [2, 50, 40] : [2, 40, 50], tA, tB);
        add(tA ? [1, k, m] : [1, m, k], tB ? [3, n, k] : [3, k, n], tA, tB);
      }
    }
    add([2, 2, 3, 4], [2, 2, 5, 4], false, true);
    add([64, 576], [64, 64], true, false, true);
    add([64, 64], [576, 64], false, true, true);
    await expectMatchesCpu(cases);
  });

  test("Sum, GatherV2, Slice, Identity, UnsortedSegmentSum", async () => {
    const cases: Case[] = [];
    let seed = 8000;
    for (const [shape, axis, keepDims] of [
      [[3, 4, 5, 8], [0, 1, 2], false],
      [[3, 4, 5, 3], [0, 1, 2], true],
      [[6, 7], [0], false],
      [[6, 7], -1, false],
      [[2, 3, 4], [1], true],
      [[2, 3, 4], [0, 1, 2], false],
    ] as Array<[number[], number | number[], boolean]>) {
      cases.push({ label: `Sum [${shape}] axis=${JSON.stringify(axis)} keepDims=${keepDims}`, kernel: "Sum", inputs: { x: input(shape, seed++) }, attrs: { axis, keepDims } });
    }
    const ids = (vals: number[], shape: number[]): Input => ({ shape, values: Int32Array.from(vals), dtype: "int32" });
    cases.push({ label: "GatherV2 axis 0", kernel: "GatherV2", inputs: { x: input([10, 28, 28, 1], seed++), indices: ids([3, 0, 9, 3, 5], [5]) }, attrs: { axis: 0, batchDims: 0 } });
    cases.push({ label: "GatherV2 axis 1", kernel: "GatherV2", inputs: { x: input([4, 6, 3], seed++), indices: ids([5, 1, 1], [3]) }, attrs: { axis: 1, batchDims: 0 } });
    cases.push({ label: "GatherV2 2-D indices", kernel: "GatherV2", inputs: { x: input([6, 3], seed++), indices: ids([5, 1, 0, 2], [2, 2]) }, attrs: { axis: 0, batchDims: 0 } });
    cases.push({ label: "GatherV2 batchDims 1", kernel: "GatherV2", inputs: { x: input([2, 5, 3], seed++), indices: ids([4, 0, 1, 3], [2, 2]) }, attrs: { axis: 1, batchDims: 1 } });
    cases.push({ label: "GatherV2 int32", kernel: "GatherV2", inputs: { x: ids([1, 2, 3, 4, 5, 6], [3, 2]), indices: ids([2, 0], [2]) }, attrs: { axis: 0, batchDims: 0 } });
    for (const [shape, begin, size] of [
      [[10, 28, 28, 1], [3, 0, 0, 0], [4, -1, -1, -1]],
      [[4, 5, 6], [1, 2, 3], [2, 2, 2]],
      [[4, 5, 6], [0, 1, 0], [4, 3, 6]],
      [[7], [2], [3]],
      [[2, 3, 4, 5, 6], [1, 0, 1, 2, 0], [1, 3, 2, 2, 6]],
    ] as Array<[number[], number[], number[]]>) {
      cases.push({ label: `Slice [${shape}] begin=[${begin}] size=[${size}]`, kernel: "Slice", inputs: { x: input(shape, seed++) }, attrs: { begin, size } });
    }
    cases.push({ label: "Identity", kernel: "Identity", inputs: { x: input([3, 4], seed++) }, attrs: {} });
    cases.push({ label: "UnsortedSegmentSum 1-D ids", kernel: "UnsortedSegmentSum", inputs: { x: input([6, 4], seed++), segmentIds: ids([2, 0, 2, -1, 5, 1], [6]) }, attrs: { numSegments: 4 } });
    cases.push({ label: "UnsortedSegmentSum int32 x", kernel: "UnsortedSegmentSum", inputs: { x: ids([1, 2, 3, 4], [4]), segmentIds: ids([1, 1, 0, 1], [4]) }, attrs: { numSegments: 2 } });
    await expectMatchesCpu(cases);
  });

  test("UnsortedSegmentSum with 2-D segment ids (tfjs's cpu kernel takes only 1-D)", () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const ids = tf.tensor2d([1, 0, 1, 1], [2, 2], "int32");
    const out = tf.engine().runKernel("UnsortedSegmentSum", { x, segmentIds: ids }, { numSegments: 2 }) as tf.Tensor;
    // out[s, j, :] = sum over i with ids[i, j] = s of x[i, j, :]
    expect(out.shape).toEqual([2, 2, 2]);
    expect(Array.from(out.dataSync())).toEqual([0, 0, 3, 4, 6, 8, 7, 8]);
    tf.dispose([x, ids, out]);
  });

  test("Identity shares data safely: the clone outlives its source", () => {
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });

  test("GatherV2 rejects an index out of range with tfjs's message", () => {
    const x = tf.zeros([4, 2]);
    const idx = tf.tensor1d([1, 4], "int32");
    expect(() => tf.engine().runKernel("GatherV2", { x, indices: idx }, { axis: 0, batchDims: 0 })).toThrow("GatherV2: the index value 4 is not in [0, 3]");
    tf.dispose([x, idx]);
  });

  test("no intermediate is left on the backend", () => {
    const backend = tf.backend();
    const calls: Array<[string, () => Record<string, tf.Tensor>, Record<string, unknown>]> = [
      ["Conv2DBackpropFilter", () => ({ x: tf.ones([2, 9, 9, 3]), dy: tf.ones([2, 4, 4, 8]) }), { strides: 2, pad: "valid", filterShape: [3, 3, 3, 8] }],
      ["Conv2DBackpropFilter", () => ({ x: tf.ones([2, 9, 9, 16]), dy: tf.ones([2, 5, 5, 8]) }), { strides: 2, pad: "same", filterShape: [3, 3, 16, 8] }],
      ["Conv2DBackpropInput", () => ({ dy: tf.ones([2, 5, 5, 8]), filter: tf.ones([3, 3, 4, 8]) }), { strides: 2, pad: "same", inputShape: [2, 9, 9, 4] }],
      ["DepthwiseConv2dNativeBackpropInput", () => ({ dy: tf.ones([2, 5, 5, 8]), filter: tf.ones([3, 3, 4, 2]) }), { strides: 2, pad: "same", dilations: 1, inputShape: [2, 9, 9, 4] }],
      ["DepthwiseConv2dNativeBackpropFilter", () => ({ x: tf.ones([2, 9, 9, 4]), dy: tf.ones([2, 5, 5, 8]) }), { strides: 2, pad: "same", dilations: 1, filterShape: [3, 3, 4, 2] }],
      ["MaxPoolGrad", () => ({ dy: tf.ones([2, 4, 4, 4]), input: tf.ones([2, 9, 9, 4]), output: tf.ones([2, 4, 4, 4]) }), { filterSize: 2, strides: 2, pad: "valid" }],
      ["BatchMatMul", () => ({ a: tf.ones([2, 40, 30]), b: tf.ones([2, 50, 40]) }), { transposeA: true, transposeB: true }],
      ["Sum", () => ({ x: tf.ones([3, 4, 8]) }), { axis: [0, 1], keepDims: false }],
      ["UnsortedSegmentSum", () => ({ x: tf.ones([3, 2]), segmentIds: tf.tensor1d([0, 1, 0], "int32") }), { numSegments: 2 }],
    ];
    for (const [kernel, make, attrs] of calls) {
      const inputs = make();
      const before = backend.numDataIds();
      const out = tf.engine().runKernel(kernel, inputs as never, attrs as never) as tf.Tensor;
      expect([kernel, backend.numDataIds() - before]).toEqual([kernel, 1]);
      out.dispose();
      tf.dispose(Object.values(inputs));
      expect([kernel, backend.numDataIds()]).toEqual([kernel, before - Object.keys(inputs).length]);
    }
  });

  test("single-threaded build (unshared memory): the SIMD and XNNPACK paths match cpu", async () => {
    tf.removeBackend("wasm");
    const single = await setupWasm(tf, { threads: 1 });
    expect(single.threads).toBe(1);
    expect(simdKernels((tf.backend() as unknown as { wasm: WasmModule }).wasm)).not.toBeNull();
    const cases: Case[] = [];
    let seed = 12000;
    for (const [kernel, ci, co, s] of [
      ["Conv2DBackpropFilter", 1, 8, 1],
      ["Conv2DBackpropFilter", 8, 8, 2],
      ["Conv2DBackpropInput", 3, 8, 2],
      ["Conv2DBackpropInput", 8, 4, 1],
    ] as const) {
      const xShape = [2, H, W, ci];
      const fShape = [3, 3, ci, co];
      const dyShape = outShape(xShape, fShape, s, "same", false);
      cases.push(
        kernel === "Conv2DBackpropFilter"
          ? { label: `${kernel} ${ci}->${co} s=${s}`, kernel, inputs: { x: input(xShape, seed++), dy: input(dyShape, seed++) }, attrs: { strides: s, pad: "same", dataFormat: "NHWC", filterShape: fShape } }
          : { label: `${kernel} ${ci}->${co} s=${s}`, kernel, inputs: { dy: input(dyShape, seed++), filter: input(fShape, seed++) }, attrs: { strides: s, pad: "same", dataFormat: "NHWC", inputShape: xShape } },
      );
    }
    const xShape = [2, H, W, 8];
    const pooled = tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], 2, 2, 1, "valid").outShape;
    cases.push({
      label: "MaxPoolGrad 2x2",
      kernel: "MaxPoolGrad",
      inputs: { dy: input(pooled, seed++), input: input(xShape, seed++), output: { shape: pooled, values: new Float32Array(pooled.reduce((p, q) => p * q, 1)) } },
      attrs: { filterSize: 2, strides: 2, pad: "valid" },
    });
    cases.push({
      label: "DepthwiseConv2dNativeBackpropFilter",
      kernel: "DepthwiseConv2dNativeBackpropFilter",
      inputs: { x: input(xShape, seed++), dy: input(outShape(xShape, [3, 3, 8, 1], 1, "same", true), seed++) },
      attrs: { strides: 1, pad: "same", dilations: 1, filterShape: [3, 3, 8, 1] },
    });
    cases.push({ label: "Sum", kernel: "Sum", inputs: { x: input([3, 5, 8], seed++) }, attrs: { axis: [0, 1], keepDims: false } });
    await expectMatchesCpu(cases);
  });

  test("bad shapes give one-line errors naming the kernel and the shapes, never a wasm trap", () => {
    const bad: Array<[string, () => Record<string, tf.Tensor>, Record<string, unknown>, RegExp]> = [
      ["Conv2DBackpropFilter", () => ({ x: tf.ones([2, 9, 9]), dy: tf.ones([2, 7, 7, 4]) }), { strides: 1, pad: "valid", filterShape: [3, 3, 3, 4] }, /x=Tensor<float32>\[2,9,9\]/],
      ["Conv2DBackpropFilter", () => ({ x: tf.ones([2, 9, 9, 3]), dy: tf.ones([2, 6, 6, 4]) }), { strides: 1, pad: "valid", filterShape: [3, 3, 3, 4] }, /Expected dy of shape \[2,7,7,4\]/],
      ["Conv2DBackpropFilter", () => ({ x: tf.ones([2, 9, 9, 3]), dy: tf.ones([2, 7, 7, 4]) }), { strides: 1, pad: "valid", dataFormat: "NCHW", filterShape: [3, 3, 3, 4] }, /dataFormat "NHWC"/],
      ["Conv2DBackpropInput", () => ({ dy: tf.ones([1, 4, 4, 2]), filter: tf.ones([3, 3, 1, 2]) }), { strides: 1, pad: "same", inputShape: [1, 20, 20, 1] }, /Expected dy of shape \[1,20,20,2\]/],
      ["Conv2DBackpropInput", () => ({ dy: tf.ones([1, 4, 4, 2]), filter: tf.ones([3, 3, 5, 2]) }), { strides: 1, pad: "same", inputShape: [1, 4, 4, 1] }, /filter=Tensor<float32>\[3,3,5,2\]/],
      ["DepthwiseConv2dNativeBackpropInput", () => ({ dy: tf.ones([1, 4, 4, 3]), filter: tf.ones([3, 3, 2, 1]) }), { strides: 1, pad: "same", inputShape: [1, 4, 4, 2] }, /dy=Tensor<float32>\[1,4,4,3\]/],
      ["DepthwiseConv2dNativeBackpropFilter", () => ({ x: tf.ones([1, 4, 4, 2]), dy: tf.ones([1, 3, 3, 2]) }), { strides: 1, pad: "same", filterShape: [3, 3, 2, 1] }, /Expected dy of shape \[1,4,4,2\]/],
      ["MaxPoolGrad", () => ({ dy: tf.ones([1, 3, 3, 2]), input: tf.ones([1, 4, 4, 2]), output: tf.ones([1, 3, 3, 2]) }), { filterSize: 2, strides: 2, pad: "valid" }, /Expected dy of shape \[1,2,2,2\]/],
      ["BatchMatMul", () => ({ a: tf.ones([2, 3]), b: tf.ones([4, 5]) }), { transposeA: false, transposeB: true }, /inner dimensions/],
      ["UnsortedSegmentSum", () => ({ x: tf.ones([3, 2]), segmentIds: tf.tensor1d([0, 1], "int32") }), { numSegments: 2 }, /segmentIds=Tensor<int32>\[2\]/],
    ];
    for (const [kernel, make, attrs, detail] of bad) {
      const inputs = make();
      let message = "";
      try {
        tf.engine().runKernel(kernel, inputs as never, attrs as never);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(new RegExp(`^${kernel}: invalid input\\. Expected .+ Received: .+\\.$`));
      expect(message).toMatch(detail);
      expect(message).not.toContain("\n");
      tf.dispose(Object.values(inputs));
    }
    // The backend still works after the errors.
    expect(Array.from(tf.add(tf.ones([2]), 1).dataSync())).toEqual([2, 2]);
  });
});
