import * as fs from "fs";
import * as path from "path";
import { loadNativeAddon } from "./native_addon";
import { warpAffine, warpAffineJs, WarpAffineArgs, WarpFillMode } from "./warp_affine";
import { Random } from "./random";

// 4x4 grey image with values 0..15 (row-major).
const grid = Float32Array.from({ length: 16 }, (_, i) => i);

function warp(matrix: number[], fillMode: WarpFillMode, order: 0 | 1 = 1, extra: Partial<WarpAffineArgs> = {}): number[] {
  const out = new Float32Array(16);
  warpAffine({ src: grid, srcShape: [1, 4, 4, 1], out, outSize: [4, 4], matrices: matrix, order, fillMode, cval: -1, ...extra });
  return Array.from(out);
}

describe("warpAffine", () => {
  it("shifts by whole pixels like a slice, filling the uncovered side by each mode", () => {
    // Output column x reads source column x - 1: the picture moves one pixel right.
    const right = [1, 0, -1, 0, 1, 0];
    // Hand-computed first column (source column -1) per mode; the rest is columns 0..2.
    const firstColumn: Record<WarpFillMode, number[]> = {
      nearest: [0, 4, 8, 12], // a | a b c d
      constant: [-1, -1, -1, -1],
      reflect: [0, 4, 8, 12], // mirror about the pixel edge: column -1 is column 0
      wrap: [2, 6, 10, 14], // SciPy's wrap, period n - 1 = 3: column -1 is column 2
      "tf-wrap": [3, 7, 11, 15], // TensorFlow's wrap, period n: column -1 is column 3
    };
    for (const mode of Object.keys(firstColumn) as WarpFillMode[]) {
      for (const order of [0, 1] as const) {
        const out = warp(right, mode, order);
        for (let y = 0; y < 4; y++) {
          expect(out.slice(4 * y, 4 * y + 4)).toEqual([firstColumn[mode][y], 4 * y, 4 * y + 1, 4 * y + 2]);
        }
      }
    }
  });

  it("fills a corner uncovered by a two-pixel diagonal shift as Keras (SciPy) does", () => {
    // Output (x, y) reads source (x - 2, y - 2): rows and columns -2, -1 are outside.
    const out = (mode: WarpFillMode) => warp([1, 0, -2, 0, 1, -2], mode);
    // reflect: index -1 -> 0, -2 -> 1; wrap (period 3): -1 -> 2, -2 -> 1; nearest: -> 0.
    expect(out("reflect")).toEqual([5, 4, 4, 5, 1, 0, 0, 1, 1, 0, 0, 1, 5, 4, 4, 5]);
    expect(out("wrap")).toEqual([5, 6, 4, 5, 9, 10, 8, 9, 1, 2, 0, 1, 5, 6, 4, 5]);
    expect(out("nearest")).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 4, 4, 4, 5]);
    expect(out("constant")).toEqual([-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, 4, 5]);
  });

  it("turns a square image by 90° exactly as a transpose and a flip", () => {
    // Output (x, y) reads source (-(y - 1.5) + 1.5, (x - 1.5) + 1.5) = (3 - y, x): counter-clockwise.
    const turned = warp([0, -1, 3, 1, 0, 0], "constant");
    // np.rot90: out[y][x] = in[x][3 - y]
    const expected = Array.from({ length: 16 }, (_, i) => grid[(i % 4) * 4 + (3 - Math.floor(i / 4))]);
    expect(turned).toEqual(expected);
    // With round-off in the matrix (cos 90° is 6e-17), still exact pixels and no fill.
    const t = Math.PI / 2;
    const m = [Math.cos(t), -Math.sin(t), 1.5 - 1.5 * Math.cos(t) + 1.5 * Math.sin(t), Math.sin(t), Math.cos(t), 1.5 - 1.5 * Math.sin(t) - 1.5 * Math.cos(t)];
    expect(warp(m, "constant")).toEqual(expected);
  });

  it("interpolates bilinearly between the four neighbours (order 1) and rounds to the nearest (order 0)", () => {
    // Half a pixel right and a quarter down: (x - 0.5, y + 0.25).
    const out = warp([1, 0, -0.5, 0, 1, 0.25], "nearest");
    // Pixel (1, 0): source (0.5, 0.25) = 0.75*(0.5*0 + 0.5*1) + 0.25*(0.5*4 + 0.5*5) = 1.5
    expect(out[1]).toBeCloseTo(1.5, 6);
    const nearest = warp([1, 0, -0.5, 0, 1, 0.25], "nearest", 0);
    // floor(0.5 + 0.5) = 1, floor(0.25 + 0.5) = 0: pixel 1.
    expect(nearest[1]).toBe(1);
    // Constant mode does not blend with cval: source x = -0.5 is outside, so cval.
    expect(warp([1, 0, -0.5, 0, 1, 0], "constant")[0]).toBe(-1);
  });

  it("fuses the scale and writes to a Uint8Array output rounded and clamped", () => {
    const scaled = warp([1, 0, 0, 0, 1, 0], "nearest", 1, { scale: 0.5 });
    expect(scaled).toEqual(Array.from(grid, (v) => v * 0.5));
    const bytes = new Uint8Array(16);
    warpAffine({ src: grid, srcShape: [1, 4, 4, 1], out: bytes, outSize: [4, 4], matrices: [1, 0, 0, 0, 1, 0], order: 1, fillMode: "nearest", scale: 20 });
    expect(Array.from(bytes)).toEqual(Array.from(grid, (v) => Math.min(255, v * 20)));
  });

  it.each([
    ["the native kernel", warpAffine],
    ["the TypeScript kernel", warpAffineJs],
  ])("equals SciPy's ndimage.affine_transform for every mode and order (reference file): %s", (_name, kernel) => {
    const reference = JSON.parse(fs.readFileSync(path.join(__dirname, "testing", "warp_reference.json"), "utf8"));
    const [h, w, c] = reference.shape;
    const src = Float32Array.from(reference.image);
    expect(reference.cases.length).toBe(56);
    for (const testCase of reference.cases) {
      const out = new Float32Array(h * w * c);
      kernel({ src, srcShape: [1, h, w, c], out, outSize: [h, w], matrices: testCase.matrix, order: testCase.order, fillMode: testCase.fillMode, cval: testCase.cval });
      const worst = Math.max(...Array.from(out, (v, i) => Math.abs(v - testCase.expected[i])));
      if (worst > 1e-4) throw new Error(`${testCase.name}, order ${testCase.order}, ${testCase.fillMode}: off by ${worst}`);
    }
  });

  it("gives the same values natively and in TypeScript on photos-sized uint8 images, to float and to bytes", () => {
    expect("addon" in loadNativeAddon()).toBe(true); // this machine builds the addon; warpAffine must use it
    const rng = new Random(11);
    const src = Uint8Array.from({ length: 37 * 53 * 3 }, () => rng.int(256));
    for (let trial = 0; trial < 24; trial++) {
      const t = rng.uniform(-1, 1);
      const z = rng.uniform(0.6, 1.4);
      const matrix = [z * Math.cos(t), -Math.sin(t), rng.uniform(-20, 40), Math.sin(t), z * Math.cos(t), rng.uniform(-20, 30)];
      const fillMode = (["nearest", "constant", "reflect", "wrap", "tf-wrap"] as const)[trial % 5];
      const order = (trial % 8 < 4 ? 1 : 0) as 0 | 1;
      const args = { src, srcShape: [1, 37, 53, 3] as const, outSize: [41, 29] as const, matrices: matrix, order, fillMode, cval: 7, scale: 1 / 255 };
      const a = new Float32Array(41 * 29 * 3);
      const b = new Float32Array(41 * 29 * 3);
      warpAffine({ ...args, out: a });
      warpAffineJs({ ...args, out: b });
      expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
      const bytesA = new Uint8Array(41 * 29 * 3);
      const bytesB = new Uint8Array(41 * 29 * 3);
      warpAffine({ ...args, scale: 1, out: bytesA });
      warpAffineJs({ ...args, scale: 1, out: bytesB });
      expect(Array.from(bytesA)).toEqual(Array.from(bytesB));
    }
  });

  it("wraps as TensorFlow does with tf-wrap: period n, far-out points clamped to an edge", () => {
    // One row 0..3; output x reads source x + t. TF: c < 0 -> c + 4 (trunc(-c / 3) + 1); c > 3 -> c - 4 trunc(c / 3).
    const row = Float32Array.of(0, 1, 2, 3);
    const read = (offset: number) => {
      const out = new Float32Array(4);
      warpAffine({ src: row, srcShape: [1, 1, 4, 1], out, outSize: [1, 4], matrices: [1, 0, offset, 0, 1, 0], order: 0, fillMode: "tf-wrap" });
      return Array.from(out);
    };
    expect(read(-1)).toEqual([3, 0, 1, 2]); // a b c d | a b c d: column -1 is column 3
    expect(read(2)).toEqual([2, 3, 0, 1]);
    // Column 7: 7 - 4·trunc(7/3) = -1, clamped to 0 (TensorFlow's formula, not a true wrap).
    expect(read(4)).toEqual([0, 1, 2, 3].map((x) => { const c = x + 4; const t = c - 4 * Math.trunc(c / 3); return Math.min(3, Math.max(0, t)); }));
  });

  it("warps a batch, each image by its own matrix, natively as in TypeScript", () => {
    const src = Float32Array.from({ length: 2 * 16 }, (_, i) => i % 16);
    const matrices = [1, 0, -1, 0, 1, 0, /* second image: 90° */ 0, -1, 3, 1, 0, 0];
    const a = new Float32Array(32);
    const b = new Float32Array(32);
    const args = { src, srcShape: [2, 4, 4, 1] as const, outSize: [4, 4] as const, matrices, order: 1 as const, fillMode: "constant" as const, cval: -1 };
    warpAffine({ ...args, out: a });
    warpAffineJs({ ...args, out: b });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a.slice(0, 16))).toEqual(warp([1, 0, -1, 0, 1, 0], "constant"));
    expect(Array.from(a.slice(16))).toEqual(warp([0, -1, 3, 1, 0, 0], "constant"));
  });

  it("rejects bad arguments in one line", () => {
    const base: WarpAffineArgs = { src: grid, srcShape: [1, 4, 4, 1], out: new Float32Array(16), outSize: [4, 4], matrices: [1, 0, 0, 0, 1, 0], order: 1, fillMode: "nearest" };
    expect(() => warpAffine({ ...base, src: new Float32Array(15) })).toThrow("warpAffine: invalid src. Expected a Uint8Array or Float32Array of 16 values (1x4x4x1). Received: src=Float32Array(15).");
    expect(() => warpAffine({ ...base, matrices: [1, 0, 0] })).toThrow("warpAffine: invalid matrices. Expected 6 finite numbers, [a, b, c, d, e, f] per image. Received: matrices=[1,0,0].");
    expect(() => warpAffine({ ...base, matrices: [1, 0, NaN, 0, 1, 0] })).toThrow("warpAffine: invalid matrices. Expected finite numbers. Received: matrices[2]=NaN.");
    expect(() => warpAffine({ ...base, fillMode: "mirror" as WarpFillMode })).toThrow('warpAffine: invalid fillMode. Expected one of "nearest", "constant", "reflect", "wrap", "tf-wrap". Received: fillMode="mirror".');
    expect(() => warpAffine({ ...base, out: new Float32Array(9), outSize: [3, 3] })).not.toThrow();
    expect(() => warpAffine({ ...base, outSize: [3, 3] })).toThrow("warpAffine: invalid out. Expected a Float32Array or Uint8Array of 9 values (1x3x3x1). Received: out=Float32Array(16).");
  });
});
