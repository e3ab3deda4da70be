/**
 * The native kernels against TensorFlow.js's `cpu` backend, op by op, over grids of
 * shapes, strides, paddings and dilations; plus every validation error by its text and
 * the loader's failure modes.
 *
 * Needs the addon built (npm install / npm rebuild @convlab/engine). With
 * CONVLAB_SKIP_NATIVE=1 and no build, only the loader tests run.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";

import { loadNativeAddon, NativeAddon, NATIVE_API_VERSION } from "./native_addon";

const loaded = loadNativeAddon();
const native: NativeAddon | undefined = "addon" in loaded ? loaded.addon : undefined;
const skipKernels = native === undefined && process.env.CONVLAB_SKIP_NATIVE === "1";
const describeKernels = skipKernels ? describe.skip : describe;

/** The addon, or a failed expectation naming why it did not load. */
function addon(): NativeAddon {
  if (native === undefined) throw new Error(`native addon unavailable: ${"error" in loaded ? loaded.error : ""}`);
  return native;
}

// ------------------------------------------------------------------ helpers

/** Deterministic uniform numbers in [lo, hi) (mulberry32). */
function makeRandom(seed: number): (n: number, lo?: number, hi?: number) => Float32Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n, lo = -1, hi = 1) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * next();
    return a;
  };
}
const random = makeRandom(20240611);

/** Whole numbers in [lo, hi]: many ties. */
function integers(n: number, lo: number, hi: number): Float32Array {
  return random(n, 0, 1).map((v) => lo + Math.min(hi - lo, Math.floor(v * (hi - lo + 1))));
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Runs `fn` in tidy and returns a copy of its output's values; no tensor survives. */
function reference(fn: () => tf.Tensor): Float32Array {
  const t = tf.tidy(fn);
  const values = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return values;
}

/** Max |actual - expected| relative to max |expected| (1 when expected is all zeros). */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (Number.isFinite(e)) scale = Math.max(scale, Math.abs(e));
    if (Object.is(e, a)) continue;
    if (Number.isNaN(e) || Number.isNaN(a) || !Number.isFinite(e) || !Number.isFinite(a)) return Infinity;
    error = Math.max(error, Math.abs(a - e));
  }
  return error / (scale || 1);
}

function expectClose(label: string, actual: Float32Array, expected: Float32Array, tolerance = 1e-4): void {
  const error = relativeError(actual, expected);
  if (!(error <= tolerance)) {
    throw new Error(`${label}: relative error ${error} > ${tolerance}`);
  }
}

type Pad = "valid" | "same";

/** The filter with (d - 1) zeros between taps: a dilated conv as an undilated one. */
function dilateFilter(w: Float32Array, [kh, kw, c, co]: number[], dh: number, dw: number): [Float32Array, number[]] {
  const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  const out = new Float32Array(ekh * ekw * c * co);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let q = 0; q < c * co; q++) out[((i * dh) * ekw + j * dw) * c * co + q] = w[(i * kw + j) * c * co + q];
  return [out, [ekh, ekw, c, co]];
}

/** Taps of a dilated filter's gradient: the inverse of dilateFilter. */
function undilateFilter(g: Float32Array, [kh, kw, c, co]: number[], dh: number, dw: number): Float32Array {
  const ekw = (kw - 1) * dw + 1;
  const out = new Float32Array(kh * kw * c * co);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let q = 0; q < c * co; q++) out[(i * kw + j) * c * co + q] = g[((i * dh) * ekw + j * dw) * c * co + q];
  return out;
}

interface ConvCase {
  label: string;
  xShape: number[];
  wShape: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
}

function convGrid(): ConvCase[] {
  const cases: ConvCase[] = [];
  const channels = [1, 3, 8];
  let i = 0;
  for (const k of [1, 3, 5, 7]) {
    for (const [s, d] of [[1, 1], [2, 1], [3, 1], [1, 2]]) {
      for (const pad of ["valid", "same"] as Pad[]) {
        for (const c of channels) {
          const co = channels[(i + 1) % 3];
          const batch = i % 2 === 0 ? 1 : 3;
          const span = (k - 1) * d + 1;
          const h = span + 4 + ((span + 4) % 2 === 0 ? 1 : 0); // odd
          const w = h + 2;
          cases.push({
            label: `k${k} s${s} d${d} ${pad} c${c}->${co} b${batch} ${h}x${w}`,
            xShape: [batch, h, w, c],
            wShape: [k, k, c, co],
            strides: [s, s],
            dilations: [d, d],
            pad,
          });
          i++;
        }
      }
    }
  }
  // The course's three convolutions (batch 2), which take oneDNN's brgconv path.
  for (const [h, c, co] of [[28, 1, 32], [13, 32, 64], [5, 64, 64]]) {
    cases.push({
      label: `course ${h}x${h}x${c}->${co}`,
      xShape: [2, h, h, c],
      wShape: [3, 3, c, co],
      strides: [1, 1],
      dilations: [1, 1],
      pad: "valid",
    });
  }
  // Stride and dilation together: tfjs refuses it, oneDNN computes it (checked through the
  // equivalent dilated filter below).
  for (const pad of ["valid", "same"] as Pad[]) {
    cases.push({ label: `k3 s2 d2 ${pad}`, xShape: [2, 11, 12, 3], wShape: [3, 3, 3, 4], strides: [2, 2], dilations: [2, 2], pad });
  }
  // Asymmetric strides, odd 'same' padding split (bottom/right get the extra row).
  cases.push({ label: "k4x2 s2x1 same", xShape: [2, 9, 8, 3], wShape: [4, 2, 3, 5], strides: [2, 1], dilations: [1, 1], pad: "same" });
  return cases;
}

function padsOf(info: tf.backend_util.Conv2DInfo): number[] {
  return [info.padInfo.top, info.padInfo.left, info.padInfo.bottom, info.padInfo.right];
}

// ------------------------------------------------------------------ loader

describe("loadNativeAddon", () => {
  const saved = process.env.CONVLAB_NATIVE_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.CONVLAB_NATIVE_PATH;
    else process.env.CONVLAB_NATIVE_PATH = saved;
  });

  test("loads the built addon (or the test run says why not)", () => {
    if (skipKernels) return;
    expect(loaded).toHaveProperty("addon");
    const info = addon().info();
    expect(info.onednn).toMatch(/^\d+\.\d+\.\d+$/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.isa).toMatch(/^[a-z0-9_]+$/);
    expect(["onednn", "openblas"]).toContain(info.matmul);
    expect(info.apiVersion).toBe(NATIVE_API_VERSION);
  });

  test("reports a missing file in one line", () => {
    process.env.CONVLAB_NATIVE_PATH = path.join(os.tmpdir(), "convlab-no-such-addon.node");
    const result = loadNativeAddon();
    expect(result).toEqual({
      error: `convlab engine: native kernels not found at CONVLAB_NATIVE_PATH=${process.env.CONVLAB_NATIVE_PATH}.`,
    });
  });

  test("reports a file that is not a loadable addon in one line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-native-"));
    const file = path.join(dir, "broken.node");
    fs.writeFileSync(file, "not a shared object\n");
    process.env.CONVLAB_NATIVE_PATH = file;
    try {
      const result = loadNativeAddon();
      expect("error" in result && result.error).toMatch(/^convlab engine: native kernels failed to load \(.+\)\.$/);
      expect("error" in result && result.error).not.toContain("\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------ install script

describe("scripts/build-native.js never fails the install", () => {
  const script = path.join(__dirname, "..", "scripts", "build-native.js");
  let dir = "";
  beforeEach(() => {
    // A copy of the script in a scratch package, so its build/ is not the real one.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-build-"));
    fs.mkdirSync(path.join(dir, "scripts"));
    fs.copyFileSync(script, path.join(dir, "scripts", "build-native.js"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(env: Record<string, string>): { status: number | null; stdout: string } {
    const result = spawnSync(process.execPath, [path.join(dir, "scripts", "build-native.js")], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
    });
    return { status: result.status, stdout: result.stdout };
  }

  test("CONVLAB_SKIP_NATIVE=1 skips with one line and status 0", () => {
    expect(run({ CONVLAB_SKIP_NATIVE: "1" })).toEqual({
      status: 0,
      stdout: "convlab engine: native kernels skipped (CONVLAB_SKIP_NATIVE=1). Training falls back to WebAssembly.\n",
    });
  });

  test("a missing compiler gives one line, status 0, and loadNativeAddon reports it", () => {
    const line =
      "convlab engine: native kernels not built (C++ compiler not found: /nonexistent/g++). Training falls back to WebAssembly. To build them: apt-get install g++ libdnnl-dev, then npm rebuild @convlab/engine.";
    expect(run({ CXX: "/nonexistent/g++" })).toEqual({ status: 0, stdout: line + "\n" });
    const saved = process.env.CONVLAB_NATIVE_PATH;
    process.env.CONVLAB_NATIVE_PATH = path.join(dir, "build", "Release", "convlab_native.node");
    try {
      expect(loadNativeAddon()).toEqual({ error: line });
    } finally {
      if (saved === undefined) delete process.env.CONVLAB_NATIVE_PATH;
      else process.env.CONVLAB_NATIVE_PATH = saved;
    }
  });
});

// ------------------------------------------------------------------ kernels vs tfjs cpu

describeKernels("native kernels equal tfjs cpu kernels", () => {
  let tensorsBefore = 0;
  beforeAll(async () => {
    await tf.setBackend("cpu");
    // The cpu backend's first tensor prints a "install tfjs-node" banner; keep it out.
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    tf.tensor1d([0]).dispose();
    warn.mockRestore();
    tensorsBefore = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  test("conv2d, conv2dBackwardData, conv2dBackwardWeights over the grid", () => {
    const a = addon();
    const cases = convGrid();
    expect(cases.length).toBeGreaterThanOrEqual(100);
    for (const c of cases) {
      const info = tf.backend_util.computeConv2DInfo(
        c.xShape as [number, number, number, number],
        c.wShape as [number, number, number, number],
        c.strides, c.dilations, c.pad,
      );
      const pads = padsOf(info);
      const outShape = info.outShape;
      const x = random(size(c.xShape));
      const w = random(size(c.wShape));
      const dy = random(size(outShape));

      // tfjs has no gradients for dilations > 1 (nor a forward pass with both strides and
      // dilations > 1): those references use the equivalent dilated filter.
      const [wd, wdShape] = dilateFilter(w, c.wShape, c.dilations[0], c.dilations[1]);
      const y = new Float32Array(size(outShape));
      a.conv2d(x, c.xShape, w, c.wShape, y, outShape, c.strides, pads, c.dilations, null, 0);
      const yRef = reference(() =>
        c.strides[0] === 1 && c.strides[1] === 1
          ? tf.conv2d(tf.tensor4d(x, c.xShape as never), tf.tensor4d(w, c.wShape as never), c.strides, c.pad, "NHWC", c.dilations)
          : tf.conv2d(tf.tensor4d(x, c.xShape as never), tf.tensor4d(wd, wdShape as never), c.strides, c.pad),
      );
      expectClose(`conv2d ${c.label}`, y, yRef);

      const [dxRef, dwdRef] = tf.tidy(() => {
        const grads = tf.grads((xt: tf.Tensor, wt: tf.Tensor) =>
          tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, c.strides, c.pad),
        )([tf.tensor4d(x, c.xShape as never), tf.tensor4d(wd, wdShape as never)], tf.tensor4d(dy, outShape));
        return grads;
      });
      const dxExpected = Float32Array.from(dxRef.dataSync() as Float32Array);
      const dwExpected = undilateFilter(dwdRef.dataSync() as Float32Array, c.wShape, c.dilations[0], c.dilations[1]);
      dxRef.dispose();
      dwdRef.dispose();

      const dx = new Float32Array(x.length).fill(NaN);
      a.conv2dBackwardData(dy, outShape, w, c.wShape, dx, c.xShape, c.strides, pads, c.dilations);
      expectClose(`conv2dBackwardData ${c.label}`, dx, dxExpected);

      const dw = new Float32Array(w.length).fill(NaN);
      a.conv2dBackwardWeights(x, c.xShape, dy, outShape, dw, c.wShape, c.strides, pads, c.dilations);
      expectClose(`conv2dBackwardWeights ${c.label}`, dw, dwExpected);
    }
  });

  test("conv2d fuses bias and relu like tfjs's fused conv2d", () => {
    const a = addon();
    for (const c of convGrid().filter((c, i) => i % 7 === 0 && (c.strides[0] === 1 || c.dilations[0] === 1))) {
      const info = tf.backend_util.computeConv2DInfo(
        c.xShape as [number, number, number, number],
        c.wShape as [number, number, number, number],
        c.strides, c.dilations, c.pad,
      );
      const x = random(size(c.xShape)), w = random(size(c.wShape)), bias = random(c.wShape[3]);
      for (const activation of [0, 1] as const) {
        const y = new Float32Array(size(info.outShape));
        a.conv2d(x, c.xShape, w, c.wShape, y, info.outShape, c.strides, padsOf(info), c.dilations, bias, activation);
        const expected = reference(() => {
          const z = tf.add(
            tf.conv2d(tf.tensor4d(x, c.xShape as never), tf.tensor4d(w, c.wShape as never), c.strides, c.pad, "NHWC", c.dilations),
            tf.tensor1d(bias),
          );
          return activation === 1 ? tf.relu(z) : z;
        });
        expectClose(`conv2d bias act${activation} ${c.label}`, y, expected);
      }
    }
  });

  test("explicit asymmetric pads", () => {
    const a = addon();
    const xShape = [2, 7, 6, 3], wShape = [3, 2, 3, 4];
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [2, 0], [1, 3], [0, 0]];
    const info = tf.backend_util.computeConv2DInfo(xShape as never, wShape as never, [2, 1], [1, 1], pad);
    const x = random(size(xShape)), w = random(size(wShape));
    const y = new Float32Array(size(info.outShape));
    a.conv2d(x, xShape, w, wShape, y, info.outShape, [2, 1], padsOf(info), [1, 1], null, 0);
    expectClose("explicit pads", y, reference(() => tf.conv2d(tf.tensor4d(x, xShape as never), tf.tensor4d(w, wShape as never), [2, 1], pad)));
  });

  test("matmul over batches, broadcasting, transposes, bias and relu", () => {
    const a = addon();
    const sizes: Array<[number, number, number]> = [[1, 1, 1], [5, 7, 3], [17, 9, 33], [64, 64, 576], [40, 60, 50]];
    const batches: Array<[number, number]> = [[1, 1], [3, 3], [1, 3], [3, 1]];
    for (const [m, n, k] of sizes) {
      for (const [batchA, batchB] of batches) {
        if (m * n * k > 100000 && batchA * batchB > 1) continue;
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            const label = `matmul [${batchA}x${m}x${k}]x[${batchB}x${k}x${n}] tA=${transposeA} tB=${transposeB}`;
            const aShape = transposeA ? [batchA, k, m] : [batchA, m, k];
            const bShape = transposeB ? [batchB, n, k] : [batchB, k, n];
            const av = random(size(aShape)), bv = random(size(bShape));
            const out = new Float32Array(Math.max(batchA, batchB) * m * n).fill(NaN);
            a.matmul(av, bv, out, batchA, batchB, m, n, k, transposeA, transposeB, null, 0);
            const expected = reference(() =>
              tf.matMul(tf.tensor3d(av, aShape as never), tf.tensor3d(bv, bShape as never), transposeA, transposeB),
            );
            expectClose(label, out, expected);
          }
        }
      }
    }
    // bias + relu, single matrix and batched
    for (const [batchA, batchB, m, n, k] of [[1, 1, 64, 64, 576], [1, 1, 5, 7, 3], [2, 2, 6, 5, 4], [1, 3, 6, 5, 4]]) {
      const av = random(batchA * m * k), bv = random(batchB * k * n), bias = random(n);
      for (const activation of [0, 1] as const) {
        const out = new Float32Array(Math.max(batchA, batchB) * m * n);
        a.matmul(av, bv, out, batchA, batchB, m, n, k, false, false, bias, activation);
        const expected = reference(() => {
          const z = tf.add(tf.matMul(tf.tensor3d(av, [batchA, m, k]), tf.tensor3d(bv, [batchB, k, n])), tf.tensor1d(bias));
          return activation === 1 ? tf.relu(z) : z;
        });
        expectClose(`matmul bias act${activation} ${batchA}/${batchB} ${m}x${n}x${k}`, out, expected);
      }
    }
  });

  /** One pooling configuration against tf.maxPool / tf.avgPool and their gradients. */
  function checkPool(label: string, x: Float32Array, xShape: number[], window: [number, number], strides: [number, number], pad: Pad): void {
    const a = addon();
    const info = tf.backend_util.computePool2DInfo(xShape as never, window, strides, 1, pad);
    const pads = padsOf(info);
    const outShape = info.outShape;
    const dy = random(size(outShape));
    const x4 = (): tf.Tensor4D => tf.tensor4d(x, xShape as never);

    const y = new Float32Array(size(outShape)).fill(NaN);
    a.maxPool(x, xShape, y, outShape, window, strides, pads);
    expectClose(`maxPool ${label}`, y, reference(() => tf.maxPool(x4(), window, strides, pad)));

    const dx = new Float32Array(x.length).fill(NaN);
    a.maxPoolBackward(dy, outShape, x, xShape, dx, window, strides, pads);
    const dxRef = reference(() =>
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, window, strides, pad))(x4(), tf.tensor4d(dy, outShape)),
    );
    expectClose(`maxPoolBackward ${label}`, dx, dxRef);

    a.avgPool(x, xShape, y, outShape, window, strides, pads);
    expectClose(`avgPool ${label}`, y, reference(() => tf.avgPool(x4(), window, strides, pad)));

    dx.fill(NaN);
    a.avgPoolBackward(dy, outShape, dx, xShape, window, strides, pads);
    const davgRef = reference(() =>
      tf.grad((t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, window, strides, pad))(x4(), tf.tensor4d(dy, outShape)),
    );
    expectClose(`avgPoolBackward ${label}`, dx, davgRef);
  }

  test("pooling over the grid (random, tied and all-negative inputs)", () => {
    let i = 0;
    for (const window of [1, 2, 3]) {
      for (const stride of [1, 2, 3]) {
        for (const pad of ["valid", "same"] as Pad[]) {
          const c = [1, 3, 8][i % 3];
          const batch = i % 2 === 0 ? 1 : 3;
          const xShape = [batch, 7 + (i % 3), 9, c];
          const n = size(xShape);
          const w: [number, number] = [window, window], s: [number, number] = [stride, stride];
          const label = `${window}x${window}/${stride} ${pad} ${xShape.join("x")}`;
          checkPool(`${label} random`, random(n), xShape, w, s, pad);
          checkPool(`${label} ties`, integers(n, 0, 2), xShape, w, s, pad);
          checkPool(`${label} all negative`, random(n, -3, -1), xShape, w, s, pad);
          checkPool(`${label} negative ties`, integers(n, -2, -1), xShape, w, s, pad);
          i++;
        }
      }
    }
    // Rectangular window and strides.
    checkPool("3x2/2x1 same", random(2 * 8 * 7 * 4), [2, 8, 7, 4], [3, 2], [2, 1], "same");
    // The course's pooling shape.
    checkPool("course 26x26x32", random(2 * 26 * 26 * 32), [2, 26, 26, 32], [2, 2], [2, 2], "valid");
  });

  test("max pooling ignores NaN and routes no gradient from -Infinity-only windows, like tfjs", () => {
    const xShape = [1, 2, 4, 1];
    const x = new Float32Array([NaN, 1, -Infinity, NaN, NaN, 2, -Infinity, -Infinity]);
    checkPool("NaN/-Infinity", x, xShape, [2, 2], [2, 2], "valid");
    const y = new Float32Array(2);
    addon().maxPool(x, xShape, y, [1, 1, 2, 1], [2, 2], [2, 2], [0, 0, 0, 0]);
    expect(Array.from(y)).toEqual([2, -Infinity]);
  });

  test("max pooling gradient goes to the first maximum in window order", () => {
    // One 2x2 window, all four equal: tfjs gives the whole gradient to the top-left.
    const dx = new Float32Array(4);
    addon().maxPoolBackward(new Float32Array([5]), [1, 1, 1, 1], new Float32Array([-1, -1, -1, -1]), [1, 2, 2, 1], dx, [2, 2], [1, 1], [0, 0, 0, 0]);
    expect(Array.from(dx)).toEqual([5, 0, 0, 0]);
  });

  test("avgPoolBackward divides by the full window like tfjs, or by the valid count when asked", () => {
    // 3x3 input, 2x2 window, stride 1, 'same': pads bottom/right by 1; dy = 1 everywhere.
    const xShape = [1, 3, 3, 1], dyShape = [1, 3, 3, 1], pads = [0, 0, 1, 1];
    const dy = new Float32Array(9).fill(1);
    const dx = new Float32Array(9);
    addon().avgPoolBackward(dy, dyShape, dx, xShape, [2, 2], [1, 1], pads);
    // Each input is in 1, 2 or 4 windows, each contributing 1/4.
    expect(Array.from(dx)).toEqual([0.25, 0.5, 0.5, 0.5, 1, 1, 0.5, 1, 1]);
    addon().avgPoolBackward(dy, dyShape, dx, xShape, [2, 2], [1, 1], pads, true);
    // Window counts (rows x cols): [[4,4,2],[4,4,2],[2,2,1]]; dx = Σ 1/count over covering windows.
    const exact = [1 / 4, 2 / 4, 1 / 4 + 1 / 2, 2 / 4, 4 / 4, 2 / 4 + 2 / 2, 1 / 4 + 1 / 2, 2 / 4 + 2 / 2, 1 / 4 + 2 / 2 + 1];
    expectClose("exact avg gradient", dx, new Float32Array(exact), 1e-6);
  });

  test("results do not depend on the thread count", () => {
    const a = addon();
    const threads = a.info().threads;
    const xShape = [3, 13, 13, 32], wShape = [3, 3, 32, 64], outShape = [3, 11, 11, 64];
    const x = random(size(xShape)), w = random(size(wShape));
    const y1 = new Float32Array(size(outShape)), yn = new Float32Array(size(outShape));
    try {
      a.setNumThreads(1);
      expect(a.info().threads).toBe(1);
      a.conv2d(x, xShape, w, wShape, y1, outShape, [1, 1], [0, 0, 0, 0], [1, 1], null, 0);
    } finally {
      a.setNumThreads(threads);
    }
    a.conv2d(x, xShape, w, wShape, yn, outShape, [1, 1], [0, 0, 0, 0], [1, 1], null, 0);
    expectClose("threads", y1, yn, 1e-5);
  });
});

// ------------------------------------------------------------------ validation

describeKernels("every invalid argument throws one line naming the function and argument", () => {
  const f32 = (n: number): Float32Array => new Float32Array(n);

  /** Calls `fn` with `args` and returns the thrown message. */
  function thrown(fn: (...args: never[]) => unknown, args: unknown[]): string {
    try {
      (fn as (...a: unknown[]) => unknown)(...args);
    } catch (error) {
      // The addon's errors come from Node's own realm, not jest's sandbox: no instanceof.
      expect(Object.prototype.toString.call(error)).toBe("[object Error]");
      return (error as Error).message;
    }
    throw new Error("expected a throw");
  }

  /** `base` with argument i replaced. */
  const withArg = (base: unknown[], i: number, value: unknown): unknown[] => base.map((v, j) => (j === i ? value : v));

  test("conv2d", () => {
    const a = addon();
    const x = f32(75);
    const base = () => [x, [1, 5, 5, 3], f32(216), [3, 3, 3, 8], f32(72), [1, 3, 3, 8], [1, 1], [0, 0, 0, 0], [1, 1], null, 0];
    const call = (args: unknown[]) => thrown(a.conv2d, args);
    expect(() => a.conv2d(...(base() as Parameters<NativeAddon["conv2d"]>))).not.toThrow();
    expect(call([])).toBe(
      "conv2d: expected at least 9 arguments (x, xShape, w, wShape, out, outShape, strides, pads, dilations[, bias, activation, depthwise]). Received: 0.",
    );
    expect(call(withArg(base(), 0, [1, 2]))).toBe("conv2d: invalid x. Expected a Float32Array. Received: an Array of 2 elements.");
    // Depthwise: filter [3, 3, 3, 2] gives 3·2 output channels; a wrong flag is one line.
    expect(() => a.conv2d(x, [1, 5, 5, 3], f32(54), [3, 3, 3, 2], f32(54), [1, 3, 3, 6], [1, 1], [0, 0, 0, 0], [1, 1], null, 0, true)).not.toThrow();
    expect(call([...base(), "yes"])).toMatch(/^conv2d: invalid depthwise\. Expected a boolean\. Received: /);
    expect(call(withArg(base(), 0, new Float64Array(75)))).toBe("conv2d: invalid x. Expected a Float32Array. Received: a Float64Array of 75 elements.");
    expect(call(withArg(base(), 0, null))).toBe("conv2d: invalid x. Expected a Float32Array. Received: null.");
    expect(call(withArg(base(), 0, f32(10)))).toBe("conv2d: invalid x. Expected 75 elements (xShape [1,5,5,3]). Received: 10 elements.");
    expect(call(withArg(base(), 1, [1, 5, 5]))).toBe(
      "conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: [1,5,5].",
    );
    expect(call(withArg(base(), 1, [1, 5, 5, 0]))).toBe(
      "conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: [1,5,5,0].",
    );
    expect(call(withArg(base(), 1, [1, 5.5, 5, 3]))).toBe(
      "conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: [1,5.5,5,3].",
    );
    expect(call(withArg(base(), 1, "1,5,5,3"))).toBe(
      'conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: "1,5,5,3".',
    );
    expect(call(withArg(base(), 1, undefined))).toBe(
      "conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: undefined.",
    );
    expect(call(withArg(base(), 3, [3, 3, 4, 8]))).toBe(
      "conv2d: invalid wShape. Expected [kh, kw, 3, out] to match the input's 3 channels. Received: [3,3,4,8].",
    );
    expect(call(withArg(base(), 2, f32(215)))).toBe("conv2d: invalid w. Expected 216 elements (wShape [3,3,3,8]). Received: 215 elements.");
    expect(call(withArg(withArg(base(), 3, [7, 7, 3, 8]), 2, f32(7 * 7 * 24)))).toBe(
      "conv2d: invalid wShape. Expected a filter that fits the padded input (5x5 from xShape [1,5,5,3] and pads [0,0,0,0]; dilations [1,1] make it 7x7). Received: [7,7,3,8].",
    );
    expect(call(withArg(base(), 8, [3, 3]))).toBe(
      "conv2d: invalid wShape. Expected a filter that fits the padded input (5x5 from xShape [1,5,5,3] and pads [0,0,0,0]; dilations [3,3] make it 7x7). Received: [3,3,3,8].",
    );
    expect(call(withArg(base(), 5, [1, 5, 5, 8]))).toBe(
      "conv2d: invalid outShape. Expected [1,3,3,8] (from xShape [1,5,5,3], wShape [3,3,3,8], strides [1,1], pads [0,0,0,0], dilations [1,1]). Received: [1,5,5,8].",
    );
    expect(call(withArg(base(), 4, f32(71)))).toBe("conv2d: invalid out. Expected 72 elements (outShape [1,3,3,8]). Received: 71 elements.");
    expect(call(withArg(base(), 6, [0, 1]))).toBe(
      "conv2d: invalid strides. Expected 2 positive integers [strideHeight, strideWidth]. Received: [0,1].",
    );
    expect(call(withArg(base(), 7, [-1, 0, 0, 0]))).toBe(
      "conv2d: invalid pads. Expected 4 non-negative integers [top, left, bottom, right]. Received: [-1,0,0,0].",
    );
    expect(call(withArg(base(), 8, [1]))).toBe(
      "conv2d: invalid dilations. Expected 2 positive integers [dilationHeight, dilationWidth]. Received: [1].",
    );
    expect(call(withArg(base(), 9, f32(3)))).toBe(
      "conv2d: invalid bias. Expected null or 8 elements (one per output channel). Received: 3 elements.",
    );
    expect(call(withArg(base(), 9, [1, 2]))).toBe("conv2d: invalid bias. Expected a Float32Array or null. Received: an Array of 2 elements.");
    expect(call(withArg(base(), 10, 2))).toBe("conv2d: invalid activation. Expected 0 (linear) or 1 (relu). Received: 2.");
    expect(call(withArg(base(), 10, "relu"))).toBe('conv2d: invalid activation. Expected 0 (linear) or 1 (relu). Received: "relu".');
    expect(call(withArg(base(), 4, x.subarray(0, 72)))).toBe(
      "conv2d: invalid out. Expected memory separate from x. Received: an array overlapping x.",
    );
  });

  test("conv2dBackwardData and conv2dBackwardWeights", () => {
    const a = addon();
    const bd = () => [f32(72), [1, 3, 3, 8], f32(216), [3, 3, 3, 8], f32(75), [1, 5, 5, 3], [1, 1], [0, 0, 0, 0], [1, 1]];
    expect(() => a.conv2dBackwardData(...(bd() as Parameters<NativeAddon["conv2dBackwardData"]>))).not.toThrow();
    expect(thrown(a.conv2dBackwardData, [f32(1)])).toBe(
      "conv2dBackwardData: expected at least 9 arguments (dy, dyShape, w, wShape, dx, dxShape, strides, pads, dilations[, depthwise]). Received: 1.",
    );
    expect(thrown(a.conv2dBackwardData, withArg(withArg(bd(), 1, [1, 4, 4, 8]), 0, f32(128)))).toBe(
      "conv2dBackwardData: invalid dyShape. Expected [1,3,3,8] (from dxShape [1,5,5,3], wShape [3,3,3,8], strides [1,1], pads [0,0,0,0], dilations [1,1]). Received: [1,4,4,8].",
    );
    expect(thrown(a.conv2dBackwardData, withArg(withArg(bd(), 5, [1, 5, 5, 4]), 4, f32(100)))).toBe(
      "conv2dBackwardData: invalid wShape. Expected [kh, kw, 4, out] to match dx's 4 channels. Received: [3,3,3,8].",
    );
    expect(thrown(a.conv2dBackwardData, withArg(bd(), 4, f32(74)))).toBe(
      "conv2dBackwardData: invalid dx. Expected 75 elements (dxShape [1,5,5,3]). Received: 74 elements.",
    );

    const bw = () => [f32(75), [1, 5, 5, 3], f32(72), [1, 3, 3, 8], f32(216), [3, 3, 3, 8], [1, 1], [0, 0, 0, 0], [1, 1]];
    expect(() => a.conv2dBackwardWeights(...(bw() as Parameters<NativeAddon["conv2dBackwardWeights"]>))).not.toThrow();
    expect(thrown(a.conv2dBackwardWeights, withArg(bw(), 5, [3, 3, 2, 8]))).toBe(
      "conv2dBackwardWeights: invalid dwShape. Expected [kh, kw, 3, out] to match the input's 3 channels. Received: [3,3,2,8].",
    );
    expect(thrown(a.conv2dBackwardWeights, withArg(withArg(bw(), 3, [1, 3, 3, 4]), 2, f32(36)))).toBe(
      "conv2dBackwardWeights: invalid dyShape. Expected [1,3,3,8] (from xShape [1,5,5,3], dwShape [3,3,3,8], strides [1,1], pads [0,0,0,0], dilations [1,1]). Received: [1,3,3,4].",
    );
    expect(thrown(a.conv2dBackwardWeights, withArg(bw(), 7, [0, 0, 0]))).toBe(
      "conv2dBackwardWeights: invalid pads. Expected 4 non-negative integers [top, left, bottom, right]. Received: [0,0,0].",
    );
  });

  test("matmul", () => {
    const a = addon();
    const base = () => [f32(6), f32(12), f32(8), 1, 1, 2, 4, 3, false, false, null, 0];
    const call = (args: unknown[]) => thrown(a.matmul, args);
    expect(() => a.matmul(...(base() as Parameters<NativeAddon["matmul"]>))).not.toThrow();
    expect(call([])).toBe(
      "matmul: expected at least 10 arguments (a, b, out, batchA, batchB, m, n, k, transposeA, transposeB[, bias, activation]). Received: 0.",
    );
    expect(call(withArg(base(), 5, 0))).toBe("matmul: invalid m. Expected a positive integer. Received: 0.");
    expect(call(withArg(base(), 7, 1.5))).toBe("matmul: invalid k. Expected a positive integer. Received: 1.5.");
    expect(call(withArg(base(), 8, 1))).toBe("matmul: invalid transposeA. Expected a boolean. Received: 1.");
    expect(call(withArg(withArg(base(), 3, 2), 4, 3))).toBe(
      "matmul: invalid batchB. Expected batchA and batchB to be equal or one of them 1. Received: batchA=2, batchB=3.",
    );
    expect(call(withArg(base(), 0, f32(5)))).toBe("matmul: invalid a. Expected 6 elements ([batchA, m, k] = [1,2,3]). Received: 5 elements.");
    expect(call(withArg(withArg(base(), 8, true), 0, f32(5)))).toBe(
      "matmul: invalid a. Expected 6 elements ([batchA, k, m] = [1,3,2]). Received: 5 elements.",
    );
    expect(call(withArg(withArg(base(), 9, true), 1, f32(5)))).toBe(
      "matmul: invalid b. Expected 12 elements ([batchB, n, k] = [1,4,3]). Received: 5 elements.",
    );
    expect(call(withArg(withArg(base(), 4, 3), 1, f32(36)))).toBe(
      "matmul: invalid out. Expected 24 elements ([max(batchA, batchB), m, n] = [3,2,4]). Received: 8 elements.",
    );
    expect(call(withArg(base(), 10, f32(3)))).toBe("matmul: invalid bias. Expected null or n = 4 elements. Received: 3 elements.");
    const shared = f32(20);
    expect(call(withArg(withArg(base(), 0, shared.subarray(0, 6)), 2, shared.subarray(4, 12)))).toBe(
      "matmul: invalid out. Expected memory separate from a. Received: an array overlapping a.",
    );
  });

  test("pooling", () => {
    const a = addon();
    const fwd = () => [f32(32), [1, 4, 4, 2], f32(8), [1, 2, 2, 2], [2, 2], [2, 2], [0, 0, 0, 0]];
    expect(() => a.maxPool(...(fwd() as Parameters<NativeAddon["maxPool"]>))).not.toThrow();
    expect(thrown(a.maxPool, [])).toBe("maxPool: expected 7 arguments (x, xShape, out, outShape, window, strides, pads). Received: 0.");
    expect(thrown(a.maxPool, withArg(fwd(), 4, [5, 5]))).toBe(
      "maxPool: invalid window. Expected a window that fits the padded input (4x4 from xShape [1,4,4,2] and pads [0,0,0,0]). Received: [5,5].",
    );
    expect(thrown(a.maxPool, withArg(withArg(fwd(), 3, [1, 3, 3, 2]), 2, f32(18)))).toBe(
      "maxPool: invalid outShape. Expected [1,2,2,2] (from xShape [1,4,4,2], window [2,2], strides [2,2], pads [0,0,0,0]). Received: [1,3,3,2].",
    );
    expect(thrown(a.avgPool, withArg(fwd(), 4, [0, 2]))).toBe(
      "avgPool: invalid window. Expected 2 positive integers [windowHeight, windowWidth]. Received: [0,2].",
    );
    expect(thrown(a.avgPool, withArg(fwd(), 2, new Int32Array(8)))).toBe(
      "avgPool: invalid out. Expected a Float32Array. Received: an Int32Array of 8 elements.",
    );

    const mb = () => [f32(8), [1, 2, 2, 2], f32(32), [1, 4, 4, 2], f32(32), [2, 2], [2, 2], [0, 0, 0, 0]];
    expect(() => a.maxPoolBackward(...(mb() as Parameters<NativeAddon["maxPoolBackward"]>))).not.toThrow();
    expect(thrown(a.maxPoolBackward, withArg(mb(), 4, f32(8)))).toBe(
      "maxPoolBackward: invalid dx. Expected 32 elements (xShape [1,4,4,2]). Received: 8 elements.",
    );
    expect(thrown(a.maxPoolBackward, withArg(withArg(mb(), 1, [1, 1, 4, 2]), 0, f32(8)))).toBe(
      "maxPoolBackward: invalid dyShape. Expected [1,2,2,2] (from xShape [1,4,4,2], window [2,2], strides [2,2], pads [0,0,0,0]). Received: [1,1,4,2].",
    );

    const ab = () => [f32(8), [1, 2, 2, 2], f32(32), [1, 4, 4, 2], [2, 2], [2, 2], [0, 0, 0, 0], false];
    expect(() => a.avgPoolBackward(...(ab() as Parameters<NativeAddon["avgPoolBackward"]>))).not.toThrow();
    expect(thrown(a.avgPoolBackward, withArg(ab(), 7, "yes"))).toBe(
      'avgPoolBackward: invalid divideByValidCount. Expected a boolean. Received: "yes".',
    );
    expect(thrown(a.avgPoolBackward, withArg(ab(), 6, [0, 0, 2, 2]))).toBe(
      "avgPoolBackward: invalid dyShape. Expected [1,3,3,2] (from dxShape [1,4,4,2], window [2,2], strides [2,2], pads [0,0,2,2]). Received: [1,2,2,2].",
    );
  });

  test("setNumThreads", () => {
    const a = addon();
    expect(thrown(a.setNumThreads, [0])).toBe("setNumThreads: invalid n. Expected an integer in [1, 1024]. Received: 0.");
    expect(thrown(a.setNumThreads, [2.5])).toBe("setNumThreads: invalid n. Expected an integer in [1, 1024]. Received: 2.5.");
    expect(thrown(a.setNumThreads, [])).toBe("setNumThreads: expected 1 argument (n). Received: 0.");
  });

  test("hostile values do not crash the process", () => {
    const a = addon();
    const detached = new Float32Array(75);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(thrown(a.conv2d, [detached, [1, 5, 5, 3], f32(216), [3, 3, 3, 8], f32(72), [1, 3, 3, 8], [1, 1], [0, 0, 0, 0], [1, 1]])).toBe(
      "conv2d: invalid x. Expected 75 elements (xShape [1,5,5,3]). Received: 0 elements.",
    );
    const proxy = new Proxy([1, 5, 5, 3], {});
    expect(thrown(a.conv2d, [f32(75), proxy, f32(216), [3, 3, 3, 8], f32(72), [1, 3, 3, 8], [1, 1], [0, 0, 0, 0], [1, 1]])).toBe(
      "conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: an object.",
    );
    const trap = [1, 5, 5, 3];
    Object.defineProperty(trap, 2, { get: () => { throw new Error("boom"); } });
    expect(thrown(a.conv2d, [f32(75), trap, f32(216), [3, 3, 3, 8], f32(72), [1, 3, 3, 8], [1, 1], [0, 0, 0, 0], [1, 1]])).toBe(
      "conv2d: invalid xShape. Expected 4 positive integers [batch, height, width, channels]. Received: an Array whose element 2 throws (boom).",
    );
    expect(thrown(a.maxPool, [f32(4), [1, 2, 2, 1], f32(1), [1, 1, 1, 1], [2, 2], [2, 2], [0, 0, 2 ** 31, 0]])).toBe(
      "maxPool: invalid pads. Expected 4 non-negative integers [top, left, bottom, right]. Received: [0,0,2147483648,0].",
    );
    expect(thrown(a.matmul, [f32(1), f32(1), f32(1), 1, 1, 2 ** 40, 1, 1, false, false])).toBe(
      "matmul: invalid m. Expected a positive integer. Received: 1099511627776.",
    );
  });
});
