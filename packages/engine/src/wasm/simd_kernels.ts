/**
 * convlab's own WebAssembly SIMD loops, for the kernels where XNNPACK has no
 * fast path: they run on tfjs's wasm memory in place, four channels per
 * instruction, on the calling thread.
 *
 * - `maxPoolGrad`, `maxPoolGrad2x2`: first maximum of each window (strict
 *   `>` from −∞, so NaN and −∞ never win), gradient added there.
 * - `depthwiseFilterGrad`: Σ over batch and output pixels of x·dy per tap and
 *   channel; XNNPACK would have to run it as a depthwise convolution with an
 *   OH×OW filter (multipass, repacked every step: ~0.3 GFLOP/s).
 * - `convFilterGrad`: the filter gradient of a convolution with few taps·input
 *   channels (a first layer on grayscale or RGB): XNNPACK would repack the
 *   whole output gradient as weights every step, which costs more than the
 *   product itself.
 * - `columnSum`: sums rows of a matrix (bias gradients) without a transpose.
 *
 * Every function requires the vectorised channel count to be a multiple of 4
 * (callers check and fall back otherwise) and writes into zero-filled output.
 */
import { assemble, Fn, I32, Local, V128 } from "./simd_asm";
import { wasmApi, WasmMemory, wasmMemoryOf, WasmModule } from "./kernel_util";

/** The exported loops; all arguments are i32 (byte addresses and sizes). */
export interface SimdKernels {
  columnSum(src: number, rows: number, cols4: number, dst: number): void;
  maxPoolGrad(
    x: number,
    dy: number,
    dx: number,
    batch: number,
    height: number,
    width: number,
    channels4: number,
    outHeight: number,
    outWidth: number,
    filterHeight: number,
    filterWidth: number,
    strideHeight: number,
    strideWidth: number,
    padTop: number,
    padLeft: number,
  ): void;
  maxPoolGrad2x2(
    x: number,
    dy: number,
    dx: number,
    batch: number,
    height: number,
    width: number,
    channels4: number,
    outHeight: number,
    outWidth: number,
  ): void;
  depthwiseFilterGrad(
    x: number,
    dy: number,
    out: number,
    batch: number,
    height: number,
    width: number,
    channels4: number,
    outHeight: number,
    outWidth: number,
    filterHeight: number,
    filterWidth: number,
    strideHeight: number,
    strideWidth: number,
    dilationHeight: number,
    dilationWidth: number,
    padTop: number,
    padLeft: number,
  ): void;
  /** convFilterGrad unrolled for outChannels4 = 1 … UNROLLED_MAX: `convFilterGrad1` … `convFilterGrad16`. */
  [unrolled: `convFilterGrad${number}`]: SimdKernels["convFilterGrad"];
  convFilterGrad(
    x: number,
    dy: number,
    out: number,
    batch: number,
    height: number,
    width: number,
    inChannels: number,
    outHeight: number,
    outWidth: number,
    outChannels4: number,
    filterHeight: number,
    filterWidth: number,
    strideHeight: number,
    strideWidth: number,
    padTop: number,
    padLeft: number,
  ): void;
}

/** `n` i32 parameters. */
function ints(n: number): typeof I32[] {
  return new Array<typeof I32>(n).fill(I32);
}

/** for (count times) { body; p += 16 for each p in pointers }. */
function vectorLoop(f: Fn, count: Local, pointers: Local[], body: () => void): void {
  const k = f.local();
  f.for(
    k,
    () => f.i32(0),
    () => f.get(count),
    () => {
      body();
      for (const p of pointers) f.get(p).i32(16).add().set(p);
    },
  );
}

/** `acc[q] += a · b` for f32x4 at addresses in locals (b absent: acc[q] += a). */
function accumulate(f: Fn, q: Local, load: () => void): void {
  f.get(q).get(q).v128load();
  load();
  f.f32x4add().v128store();
}

function columnSum(): Fn {
  const f = new Fn("columnSum", ints(4));
  const [src, rows, cols4, dst] = f.params;
  const r = f.local();
  const p = f.local();
  const q = f.local();
  f.get(src).set(p);
  f.for(
    r,
    () => f.i32(0),
    () => f.get(rows),
    () => {
      f.get(dst).set(q);
      vectorLoop(f, cols4, [q, p], () => accumulate(f, q, () => f.get(p).v128load()));
    },
  );
  return f;
}

/** Pushes max(lo, v). */
function clampLow(f: Fn, v: Local, lo: number): void {
  f.i32(lo).get(v).get(v).i32(lo).lt().select();
}

function maxPoolGrad(): Fn {
  const f = new Fn("maxPoolGrad", ints(15));
  const [x, dy, dx, n, h, w, c4, oh, ow, fh, fw, sh, sw, pt, pl] = f.params;
  const pix = f.local();
  const [b, oy, ox, y0, ys, ye, x0, xs, xe, k, yy, xx, rel, g, cOff, t] = Array.from({ length: 16 }, () => f.local());
  const best = f.local(V128);
  const at = f.local(V128);
  const v = f.local(V128);
  const m = f.local(V128);
  const gv = f.local(V128);
  f.get(c4).i32(16).mul().set(pix);
  f.get(dy).set(g);
  // rel = ((b·H + yy)·W + xx)·pix + cOff: byte offset shared by x and dx.
  const relAddr = (): void => {
    f.get(b).get(h).mul().get(yy).add().get(w).mul().get(xx).add().get(pix).mul().get(cOff).add().set(rel);
  };
  const windowLoop = (body: () => void): void => {
    f.for(
      yy,
      () => f.get(ys),
      () => f.get(ye),
      () => f.for(xx, () => f.get(xs), () => f.get(xe), body),
    );
  };
  f.for(b, () => f.i32(0), () => f.get(n), () => {
    f.for(oy, () => f.i32(0), () => f.get(oh), () => {
      f.get(oy).get(sh).mul().get(pt).sub().set(y0);
      clampLow(f, y0, 0);
      f.set(ys);
      // ye = min(H, y0 + FH)
      f.get(y0).get(fh).add().tee(t).get(h).get(t).get(h).lt().select().set(ye);
      f.for(ox, () => f.i32(0), () => f.get(ow), () => {
        f.get(ox).get(sw).mul().get(pl).sub().set(x0);
        clampLow(f, x0, 0);
        f.set(xs);
        f.get(x0).get(fw).add().tee(t).get(w).get(t).get(w).lt().select().set(xe);
        f.for(k, () => f.i32(0), () => f.get(c4), () => {
          f.get(k).i32(16).mul().set(cOff);
          f.f32(-Infinity).f32x4splat().set(best);
          f.i32(-1).i32x4splat().set(at);
          windowLoop(() => {
            relAddr();
            f.get(x).get(rel).add().v128load().set(v);
            f.get(v).get(best).f32x4gt().set(m);
            f.get(v).get(best).get(m).bitselect().set(best);
            f.get(rel).i32x4splat().get(at).get(m).bitselect().set(at);
          });
          f.get(g).get(cOff).add().v128load().set(gv);
          windowLoop(() => {
            relAddr();
            f.get(dx).get(rel).add().tee(t);
            f.get(t).v128load();
            f.get(gv).get(at).get(rel).i32x4splat().i32x4eq().v128and();
            f.f32x4add().v128store();
          });
        });
        f.get(g).get(pix).add().set(g);
      });
    });
  });
  return f;
}

/**
 * The 2×2, stride-2, unpadded case of maxPoolGrad: windows do not overlap, so
 * the four gradients are stored (not added) with one mask each.
 */
function maxPoolGrad2x2(): Fn {
  const f = new Fn("maxPoolGrad2x2", ints(9));
  const [x, dy, dx, n, h, w, c4, oh, ow] = f.params;
  const [pix, row, b, oy, ox, p, d, g, t] = Array.from({ length: 9 }, () => f.local());
  const [v1, v2, v3, m0, m1, m2, m3, best, gv] = Array.from({ length: 9 }, () => f.local(V128));
  f.get(c4).i32(16).mul().set(pix);
  f.get(w).get(pix).mul().set(row);
  f.get(dy).set(g);
  f.for(b, () => f.i32(0), () => f.get(n), () => {
    f.for(oy, () => f.i32(0), () => f.get(oh), () => {
      f.for(ox, () => f.i32(0), () => f.get(ow), () => {
        // Byte offset of the window's top-left pixel, shared by x and dx.
        f.get(b).get(h).mul().get(oy).i32(2).mul().add().get(w).mul().get(ox).i32(2).mul().add().get(pix).mul().set(t);
        f.get(x).get(t).add().set(p);
        f.get(dx).get(t).add().set(d);
        vectorLoop(f, c4, [p, d, g], () => {
          // First maximum, strict >, from −∞ (NaN and −∞ never win).
          f.get(p).v128load().tee(best).f32(-Infinity).f32x4splat().f32x4gt().set(m0);
          f.get(p).get(pix).add().v128load().tee(v1).get(best).f32x4gt().set(m1);
          f.get(v1).get(best).get(m1).bitselect().set(best);
          f.get(p).get(row).add().v128load().tee(v2).get(best).f32x4gt().set(m2);
          f.get(v2).get(best).get(m2).bitselect().set(best);
          f.get(p).get(row).add().get(pix).add().v128load().tee(v3).get(best).f32x4gt().set(m3);
          f.get(g).v128load().set(gv);
          f.get(d).get(gv).get(m0).v128and().get(m1).v128andnot().get(m2).v128andnot().get(m3).v128andnot().v128store();
          f.get(d).get(pix).add().get(gv).get(m1).v128and().get(m2).v128andnot().get(m3).v128andnot().v128store();
          f.get(d).get(row).add().get(gv).get(m2).v128and().get(m3).v128andnot().v128store();
          f.get(d).get(row).add().get(pix).add().get(gv).get(m3).v128and().v128store();
        });
      });
    });
  });
  return f;
}

function depthwiseFilterGrad(): Fn {
  const f = new Fn("depthwiseFilterGrad", ints(17));
  const [x, dy, out, n, h, w, c4, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl] = f.params;
  const pix = f.local();
  const [i, j, b, r, c, ih, iw, accRow, xRow, dRow, q, p1, p2] = Array.from({ length: 13 }, () => f.local());
  f.get(c4).i32(16).mul().set(pix);
  f.for(i, () => f.i32(0), () => f.get(kh), () => {
    f.for(j, () => f.i32(0), () => f.get(kw), () => {
      f.get(out).get(i).get(kw).mul().get(j).add().get(pix).mul().add().set(accRow);
      f.for(b, () => f.i32(0), () => f.get(n), () => {
        f.for(r, () => f.i32(0), () => f.get(oh), () => {
          f.get(r).get(sh).mul().get(i).get(dh).mul().add().get(pt).sub().tee(ih);
          f.get(h).ltu().eqz().brIf(0);
          f.get(x).get(b).get(h).mul().get(ih).add().get(w).mul().get(pix).mul().add().set(xRow);
          f.get(dy).get(b).get(oh).mul().get(r).add().get(ow).mul().get(pix).mul().add().set(dRow);
          f.for(c, () => f.i32(0), () => f.get(ow), () => {
            f.get(c).get(sw).mul().get(j).get(dw).mul().add().get(pl).sub().tee(iw);
            f.get(w).ltu().eqz().brIf(0);
            f.get(xRow).get(iw).get(pix).mul().add().set(p1);
            f.get(dRow).get(c).get(pix).mul().add().set(p2);
            f.get(accRow).set(q);
            vectorLoop(f, c4, [q, p1, p2], () =>
              accumulate(f, q, () => {
                f.get(p1).v128load().get(p2).v128load().f32x4mul();
              }),
            );
          });
        });
      });
    });
  });
  return f;
}

function convFilterGrad(): Fn {
  const f = new Fn("convFilterGrad", ints(16));
  const [x, dy, out, n, h, w, ci, oh, ow, co4, kh, kw, sh, sw, pt, pl] = f.params;
  const pixD = f.local();
  const [b, r, c, i, j, ih, iw, dp, xp, q, p, e] = Array.from({ length: 12 }, () => f.local());
  const xv = f.local(V128);
  f.get(co4).i32(16).mul().set(pixD);
  f.for(b, () => f.i32(0), () => f.get(n), () => {
    f.for(r, () => f.i32(0), () => f.get(oh), () => {
      f.for(c, () => f.i32(0), () => f.get(ow), () => {
        f.get(dy).get(b).get(oh).mul().get(r).add().get(ow).mul().get(c).add().get(pixD).mul().add().set(dp);
        f.for(i, () => f.i32(0), () => f.get(kh), () => {
          f.get(r).get(sh).mul().get(i).add().get(pt).sub().tee(ih);
          f.get(h).ltu().eqz().brIf(0);
          f.for(j, () => f.i32(0), () => f.get(kw), () => {
            f.get(c).get(sw).mul().get(j).add().get(pl).sub().tee(iw);
            f.get(w).ltu().eqz().brIf(0);
            f.get(x).get(b).get(h).mul().get(ih).add().get(w).mul().get(iw).add().get(ci).mul().i32(4).mul().add().set(xp);
            f.get(out).get(i).get(kw).mul().get(j).add().get(ci).mul().get(pixD).mul().add().set(q);
            f.for(e, () => f.i32(0), () => f.get(ci), () => {
              f.get(xp).f32load().f32x4splat().set(xv);
              f.get(xp).i32(4).add().set(xp);
              f.get(dp).set(p);
              vectorLoop(f, co4, [q, p], () =>
                accumulate(f, q, () => {
                  f.get(xv).get(p).v128load().f32x4mul();
                }),
              );
            });
          });
        });
      });
    });
  });
  return f;
}

/** Largest output-channel count / 4 with an unrolled convFilterGrad variant. */
export const UNROLLED_MAX = 16;

/**
 * convFilterGrad for a fixed `co4` (same signature; its `co4` argument is
 * ignored): the dy row stays in `co4` vector locals for all taps and the
 * inner loop is unrolled with constant offsets, about twice the speed of the
 * generic loop.
 */
function convFilterGradUnrolled(co4: number): Fn {
  const f = new Fn(`convFilterGrad${co4}`, ints(16));
  const [x, dy, out, n, h, w, ci, oh, ow, , kh, kw, sh, sw, pt, pl] = f.params;
  const pixD = co4 * 16;
  const [b, r, c, i, j, ih, iw, xp, q, e] = Array.from({ length: 10 }, () => f.local());
  const xv = f.local(V128);
  const dv = Array.from({ length: co4 }, () => f.local(V128));
  const dp = f.local();
  f.for(b, () => f.i32(0), () => f.get(n), () => {
    f.for(r, () => f.i32(0), () => f.get(oh), () => {
      f.for(c, () => f.i32(0), () => f.get(ow), () => {
        f.get(dy).get(b).get(oh).mul().get(r).add().get(ow).mul().get(c).add().i32(pixD).mul().add().set(dp);
        dv.forEach((d, k) => f.get(dp).v128load(16 * k).set(d));
        f.for(i, () => f.i32(0), () => f.get(kh), () => {
          f.get(r).get(sh).mul().get(i).add().get(pt).sub().tee(ih);
          f.get(h).ltu().eqz().brIf(0);
          f.for(j, () => f.i32(0), () => f.get(kw), () => {
            f.get(c).get(sw).mul().get(j).add().get(pl).sub().tee(iw);
            f.get(w).ltu().eqz().brIf(0);
            f.get(x).get(b).get(h).mul().get(ih).add().get(w).mul().get(iw).add().get(ci).mul().i32(4).mul().add().set(xp);
            f.get(out).get(i).get(kw).mul().get(j).add().get(ci).mul().i32(pixD).mul().add().set(q);
            f.for(e, () => f.i32(0), () => f.get(ci), () => {
              f.get(xp).f32load().f32x4splat().set(xv);
              dv.forEach((d, k) => {
                f.get(q).get(q).v128load(16 * k).get(xv).get(d).f32x4mul().f32x4add().v128store(16 * k);
              });
              f.get(xp).i32(4).add().set(xp);
              f.get(q).i32(pixD).add().set(q);
            });
          });
        });
      });
    });
  });
  return f;
}

const cache = new WeakMap<WasmMemory, SimdKernels | null>();
let enabled = true;

/**
 * Turns convlab's SIMD loops on or off (tests compare both paths; off, the
 * kernels use JavaScript loops or XNNPACK).
 */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * convlab's SIMD loops bound to the memory of `module`, or null when this
 * engine has no wasm SIMD or they are disabled. Compiled once per memory.
 */
export function simdKernels(module: WasmModule): SimdKernels | null {
  if (!enabled) return null;
  const memory = wasmMemoryOf(module);
  if (memory === undefined) return null;
  const known = cache.get(memory);
  if (known !== undefined) return known;
  let kernels: SimdKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer === "function" && memory.buffer instanceof SharedArrayBuffer;
    const unrolled = Array.from({ length: UNROLLED_MAX }, (_, k) => convFilterGradUnrolled(k + 1));
    const bytes = assemble([columnSum(), maxPoolGrad(), maxPoolGrad2x2(), depthwiseFilterGrad(), convFilterGrad(), ...unrolled], shared);
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
  } catch {
    kernels = null;
  }
  cache.set(memory, kernels);
  return kernels;
}

/** Byte address of a tensor on the wasm heap. */
export function addressOf(backend: { dataIdMap: { get(id: object): { memoryOffset: number } | undefined } }, dataId: object): number {
  const data = backend.dataIdMap.get(dataId);
  if (data === undefined) throw new Error("convlab wasm kernel: tensor data is not on the wasm backend.");
  return data.memoryOffset;
}

