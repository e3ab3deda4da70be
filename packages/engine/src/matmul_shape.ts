/**
 * The dimensions of a (batched) matrix product as tfjs's BatchMatMul attributes define
 * them, shared by the native and wasm kernels.
 */

/** `m`, `k` from `a`; `kb`, `n` from `b` (equal `k` and `kb` make a valid product). */
export interface MatMulDims {
  m: number;
  k: number;
  kb: number;
  n: number;
}

/** The product's dimensions for `a` [..., m, k] (or [..., k, m] transposed) and `b` [..., k, n] (or [..., n, k]). */
export function matMulDims(a: readonly number[], b: readonly number[], transposeA: boolean, transposeB: boolean): MatMulDims {
  const ra = a.length;
  const rb = b.length;
  return {
    m: transposeA ? a[ra - 1] : a[ra - 2],
    k: transposeA ? a[ra - 2] : a[ra - 1],
    kb: transposeB ? b[rb - 1] : b[rb - 2],
    n: transposeB ? b[rb - 2] : b[rb - 1],
  };
}
