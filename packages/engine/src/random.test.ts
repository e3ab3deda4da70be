import { Random } from "./random";

describe("Random", () => {
  it("gives the same sequence for the same seed and a different one for another seed", () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    // Seeds that agree in their low 32 bits still differ.
    expect(new Random(1).next()).not.toEqual(new Random(2 ** 32 + 1).next());
  });

  it("draws floats in [0, 1) with the moments of a uniform distribution", () => {
    const rng = new Random(1);
    const n = 100000;
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.next();
      sum += v;
      sumSq += v * v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumSq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
  });

  it("draws uniform ranges, integers, coin flips and normals", () => {
    const rng = new Random(3);
    for (let i = 0; i < 1000; i++) {
      const u = rng.uniform(-40, 40);
      expect(u).toBeGreaterThanOrEqual(-40);
      expect(u).toBeLessThan(40);
      const k = rng.int(6);
      expect(Number.isInteger(k) && k >= 0 && k < 6).toBe(true);
    }
    let heads = 0;
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      if (rng.bernoulli(0.25)) heads++;
      sum += rng.normal(2, 3);
    }
    expect(heads / 20000).toBeCloseTo(0.25, 1);
    expect(sum / 20000).toBeCloseTo(2, 1);
  });

  it("makes permutations of 0..n-1", () => {
    const p = new Random(5).permutation(50);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("rejects a seed that is not a non-negative integer", () => {
    expect(() => new Random(-1)).toThrow("Random: invalid seed. Expected a non-negative integer. Received: seed=-1.");
    expect(() => new Random(1.5)).toThrow("Received: seed=1.5.");
  });
});
