/**
 * Axis ticks shared by the plots: "nice" linear ticks (steps of 1, 2 or 5 × 10^k), log ticks
 * (1-2-5 multiples, decades, or 1…9 multiples on short ranges) and their labels.
 */

/** Ticks at 1, 2 or 5 times a power of ten covering [lo, hi] with about `target` intervals. */
export function niceTicks(lo: number, hi: number, target: number): { ticks: number[]; decimals: number } {
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  const step = (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  // toFixed stops at 100 decimals: tinier steps keep 12 significant digits instead
  const round = (v: number) => Number(decimals <= 100 ? v.toFixed(decimals) : v.toPrecision(12));
  for (let i = first; i <= last; i++) ticks.push(round(i * step));
  return { ticks, decimals };
}

/** m × 10^k for every k whose value lies in [10^lo, 10^hi] (lo, hi in decades), m from `multiples`. */
function logMultiples(lo: number, hi: number, multiples: readonly number[]): number[] {
  const ticks: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of multiples) {
      const t = Number((m * 10 ** k).toPrecision(12)); // 3 * 10 ** -1 is 0.30000000000000004
      const d = Math.log10(t);
      if (d >= lo - 1e-9 && d <= hi + 1e-9) ticks.push(t);
    }
  }
  return ticks;
}

/**
 * Ticks of a log axis over [10^lo, 10^hi] (`lo`, `hi` in decades), about `max` at most:
 * 1, 2 and 5 × 10^k when three to `max` of them fall inside; more than `max`: the decades 10^k
 * (every s-th decade, s = ⌈decades / max⌉, when even those are too many); fewer than three (a range
 * under a decade or so): 1…9 × 10^k when at most `max`, else the 1-2-5 ones, and on a range too
 * short for two of either, linear nice ticks.
 */
export function logTicks(lo: number, hi: number, max: number): number[] {
  const limit = Math.max(2, max);
  const ones = logMultiples(lo, hi, [1, 2, 5]);
  if (ones.length >= 3 && ones.length <= limit) return ones;
  if (ones.length > limit) {
    const decades = logMultiples(lo, hi, [1]);
    if (decades.length < 2) return ones;
    const s = Math.ceil(decades.length / limit);
    return decades.filter((t) => ((Math.round(Math.log10(t)) % s) + s) % s === 0);
  }
  const all = logMultiples(lo, hi, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (all.length >= 2 && all.length <= limit) return all;
  if (ones.length >= 2) return ones;
  if (all.length >= 2) return all;
  const [a, b] = [10 ** lo, 10 ** hi];
  return niceTicks(a, b, 3).ticks.filter((t) => t >= a && t <= b);
}

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

/** `10⁻³`, `2×10⁶` (`1×10⁶` with `keepOne`): a number as mantissa and superscript power of ten. */
function powerLabel(t: number, keepOne: boolean): string {
  let k = Math.floor(Math.log10(Math.abs(t)) + 1e-9);
  let m = Number((t / 10 ** k).toPrecision(6));
  if (Math.abs(m) >= 10) [m, k] = [m / 10, k + 1];
  const power = `10${k < 0 ? "⁻" : ""}${[...String(Math.abs(k))].map((d) => SUPERSCRIPT[Number(d)]).join("")}`;
  if (!keepOne && m === 1) return power;
  if (!keepOne && m === -1) return `-${power}`;
  return `${m}×${power}`;
}

/**
 * Labels of one axis's ticks. Plain decimals (`0.5`, `20`, `1500`) when every non-zero tick is
 * within 0.001 ≤ |t| < 1,000,000, else powers of ten (`10⁶`, `2×10⁶`, as matplotlib's log axes).
 * Linear axes pass their `decimals` so that all labels have the same (`0.0`, `0.5`, `1.0`) and
 * keep the mantissa in the power form (`1×10⁶`, `1.5×10⁶`); log axes label each tick on its own.
 */
export function tickLabels(ticks: readonly number[], decimals?: number): string[] {
  const linear = decimals !== undefined;
  const powers = ticks.some((t) => t !== 0 && (Math.abs(t) >= 1e6 || Math.abs(t) < 1e-3));
  return ticks.map((t) => {
    if (t === 0) return linear && !powers ? (0).toFixed(decimals) : "0";
    if (powers) return powerLabel(t, linear);
    return linear ? t.toFixed(decimals) : String(Number(t.toPrecision(12)));
  });
}
