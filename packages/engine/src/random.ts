/**
 * Seeded random numbers for everything in convlab that draws: augmentation
 * parameters, shuffles, synthetic data. One generator, xoshiro128** (Blackman
 * and Vigna), seeded through splitmix32, so a `seed` gives the same sequence
 * on every machine and Node version (Math.random cannot be seeded).
 */
import { expectSeed } from "./errors";

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/**
 * A seeded pseudo-random generator.
 *
 * @example
 * ```ts
 * const rng = new Random(42);
 * rng.uniform(-40, 40);      // the same number on every run
 * rng.permutation(5);        // e.g. [3, 0, 4, 1, 2]
 * ```
 *
 * Keras counterpart: `np.random.seed(seed)` followed by `np.random.uniform(…)`; the
 * sequences differ from NumPy's (a different generator), the distributions are the same.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * @param seed Integer in [0, 2^53); omitted or `null`: a fresh seed from the system's
   *   randomness, so every run differs.
   * @throws ConvlabError when `seed` is not a non-negative integer.
   */
  constructor(seed?: number | null) {
    const value = expectSeed("Random", seed) ?? Math.floor(Math.random() * 2 ** 32) + Math.floor(Math.random() * 2 ** 21) * 2 ** 32;
    // Both halves of the seed feed the state, so seeds 1 and 2^32 + 1 differ.
    let state = (value % 2 ** 32) | 0;
    let word: number;
    [state, word] = splitmix32(state ^ Math.floor(value / 2 ** 32));
    this.s0 = word;
    [state, word] = splitmix32(state);
    this.s1 = word;
    [state, word] = splitmix32(state);
    this.s2 = word;
    [, word] = splitmix32(state);
    this.s3 = word;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A float uniform in [low, high) (`low` when they are equal). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer uniform in [0, n), `n` a positive integer. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `true` with probability `p`. */
  bernoulli(p = 0.5): boolean {
    return this.next() < p;
  }

  /** A standard normal draw (Box–Muller). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `[0, 1, …, n-1]` in a random order (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
