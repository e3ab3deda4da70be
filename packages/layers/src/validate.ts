/**
 * Validators shared by the units of @convlab/layers (internal): option
 * objects, numbers, and Python-like formatting of values in messages.
 * Every failure is one line: "Unit: invalid x. Expected … Received: x=…".
 */
import { closest, fail, show } from "@convlab/engine";

/**
 * Throws when `options` is not a plain object or has a key outside `allowed`,
 * suggesting the nearest allowed key ("Did you mean `learningRate`?").
 * @internal
 */
export function checkOptions(unit: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) {
    throw fail(`${unit}: invalid options. Expected an object with keys among ${allowed.map((k) => `\`${k}\``).join(", ")}. Received: ${show(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const hint = closest(key, allowed) ?? closest(key.replace(/_/g, ""), allowed);
      throw fail(
        `${unit}: invalid option \`${key}\`. Expected keys among ${allowed.map((k) => `\`${k}\``).join(", ")}. Received: ${key}=${show((options as Record<string, unknown>)[key])}.${hint ? ` Did you mean \`${hint}\`?` : ""}`,
      );
    }
  }
  return options as Record<string, unknown>;
}

/** A number option within a range (the engine's shared validator). @internal */
export { expectNumber as checkNumber } from "@convlab/engine";

/** A boolean option. @internal */
export { expectBoolean as checkBoolean } from "@convlab/engine";

/** A dimension as Python prints it: `None` for unknown. @internal */
function dim(d: number | null | undefined): string {
  return d === null || d === undefined ? "None" : String(d);
}

/**
 * A shape as Keras prints it: a Python tuple, `(None, 26, 26, 32)`, `(None,)`.
 * @internal
 */
export function pyShape(shape: ReadonlyArray<number | null | undefined>): string {
  if (shape.length === 1) return `(${dim(shape[0])},)`;
  return `(${shape.map(dim).join(", ")})`;
}

/** An integer with thousands separators, as Python's `{:,}`: 93,322. @internal */
export function thousands(n: number): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.trunc(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A float as Python's `repr` prints it (shortest round-trip digits,
 * scientific below 1e-4 or from 1e16): 0.1, 0.09000000000000001, 1e-05, 1.0.
 * @internal
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = x < 0 ? "-" : "";
  let text: string;
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    text = `${intPart}.${frac || "0"}`;
  } else {
    text = `0.${"0".repeat(-exp - 1)}${digits}`;
  }
  return sign + text;
}

/** Python's `'%.4e' % x`: 1.2346e-04, 0.0000e+00. @internal */
export function pyExp4(x: number): string {
  const [m, e] = x.toExponential(4).split("e");
  const exp = Number(e);
  return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}
