import { logTicks, niceTicks, tickLabels } from "./ticks";

describe("niceTicks", () => {
  it("steps by 1, 2 or 5 times a power of ten, covering the data", () => {
    expect(niceTicks(0, 2.3, 5)).toEqual({ ticks: [0, 0.5, 1, 1.5, 2, 2.5], decimals: 1 });
    expect(niceTicks(0.27, 0.93, 5)).toEqual({ ticks: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], decimals: 1 });
    expect(niceTicks(0.012, 0.031, 4).ticks).toEqual([0.01, 0.015, 0.02, 0.025, 0.03, 0.035]);
  });
});

describe("logTicks", () => {
  const d = Math.log10;
  it("takes 1, 2 and 5 × 10^k when they fit", () => {
    expect(logTicks(d(2.5), d(204), 9)).toEqual([5, 10, 20, 50, 100, 200]);
    expect(logTicks(d(0.0015), d(0.06), 8)).toEqual([0.002, 0.005, 0.01, 0.02, 0.05]);
  });
  it("falls back to decades, every s-th one on a wide range", () => {
    expect(logTicks(d(2.5), d(204), 4)).toEqual([10, 100]);
    expect(logTicks(-3.2, 6.2, 5)).toEqual([0.01, 1, 100, 10000, 1000000]);
  });
  it("takes 1…9 × 10^k on a short range, then linear ticks", () => {
    expect(logTicks(d(3.5), d(7.1), 9)).toEqual([4, 5, 6, 7]);
    expect(logTicks(d(4.1), d(4.9), 9)).toEqual([4.2, 4.4, 4.6, 4.8]);
    // two 1-2-5 ticks are too few when 1…9 fit; the 1-2-5 ones when 1…9 do not
    expect(logTicks(d(170), d(760), 10)).toEqual([200, 300, 400, 500, 600, 700]);
    expect(logTicks(d(1.5), d(6), 3)).toEqual([2, 5]);
  });
});

describe("tickLabels", () => {
  it("prints plain decimals, the same count on a linear axis", () => {
    expect(tickLabels([0, 0.5, 1], 1)).toEqual(["0.0", "0.5", "1.0"]);
    expect(tickLabels([-2, 0, 2, 4], 0)).toEqual(["-2", "0", "2", "4"]);
    expect(tickLabels([0.002, 0.5, 20, 100000])).toEqual(["0.002", "0.5", "20", "100000"]);
  });
  it("switches to powers of ten beyond 0.001..1e6", () => {
    expect(tickLabels([0, 1e6, 1.5e6, 2e6], 0)).toEqual(["0", "1×10⁶", "1.5×10⁶", "2×10⁶"]);
    expect(tickLabels([0.0001, 0.01, 1, 100, 20000])).toEqual(["10⁻⁴", "10⁻²", "10⁰", "10²", "2×10⁴"]);
  });
});
