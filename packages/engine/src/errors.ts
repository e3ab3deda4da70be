/**
 * The shared validators of the topic packages: one error form, unit first,
 * one line: what was expected, what was received, what to do.
 *
 * `engine: invalid CONVLAB_BACKEND. Expected one of … Received: CONVLAB_BACKEND="gpu".`
 */

const BRAND = Symbol.for("convlab.ConvlabError");

/**
 * An error meant for a person; its message is one line.
 *
 * The same class for every convlab package: @convlab/kernel and @convlab/engine each define it (neither depends on the
 * other), and `instanceof ConvlabError` holds for an error of either, through a shared brand.
 */
export class ConvlabError extends Error {
  override name = "ConvlabError";
  readonly [BRAND] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses (OutOfMemoryError…) keep the ordinary prototype check.
    if (this !== ConvlabError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** A {@link ConvlabError} with `message`; callers `throw fail(...)`. */
export function fail(message: string): ConvlabError {
  return new ConvlabError(message);
}

/**
 * A value as error messages print it: strings quoted, tensors as
 * `Tensor<float32>[2,3]`, typed arrays as `Float32Array(12)`, others as JSON.
 */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  const maybeTensor = value as { shape?: unknown; dtype?: unknown; rankType?: unknown };
  if (Array.isArray(maybeTensor.shape) && typeof maybeTensor.dtype === "string") {
    return `Tensor<${maybeTensor.dtype}>[${(maybeTensor.shape as number[]).join(",")}]`;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Throws the house error when `value` is not one of `allowed`, suggesting the
 * closest allowed value: "Did you mean `rotationRange`?".
 */
export function expectOneOf<T extends string>(unit: string, what: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === "string" ? closest(value, allowed) : undefined;
  throw fail(`${unit}: invalid ${what}. Expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}. Received: ${what}=${show(value)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
}

/**
 * A finite number within a range, else the house error:
 * "ImageDataGenerator: invalid rotationRange. Expected a number >= 0. Received: rotationRange=-5."
 */
export function expectNumber(
  unit: string,
  name: string,
  value: unknown,
  range: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean; integer?: boolean } = {},
): number {
  const { min, max, exclusiveMin, exclusiveMax, integer } = range;
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || (exclusiveMin ? value > min : value >= min)) &&
    (max === undefined || (exclusiveMax ? value < max : value <= max));
  if (!ok) {
    const kind = integer ? "an integer" : "a number";
    let where = "";
    if (min !== undefined && max !== undefined) where = ` in ${exclusiveMin ? "(" : "["}${min}, ${max}${exclusiveMax ? ")" : "]"}`;
    else if (min !== undefined) where = ` ${exclusiveMin ? ">" : ">="} ${min}`;
    else if (max !== undefined) where = ` ${exclusiveMax ? "<" : "<="} ${max}`;
    throw fail(`${unit}: invalid ${name}. Expected ${kind}${where}. Received: ${name}=${show(value)}.`);
  }
  return value as number;
}

/**
 * An options object checked at a function's entry: `undefined` gives `{}`; anything but a plain
 * object is "unit: invalid options. Expected an object such as { batchSize: 32 }. Received:
 * options=5."; a key outside `allowed` is reported by {@link expectKnownKeys}.
 */
export function expectOptions<T extends object>(unit: string, options: T | undefined, allowed: readonly string[], example: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw fail(`${unit}: invalid options. Expected an object such as ${example}. Received: options=${show(options)}.`);
  }
  expectKnownKeys(unit, options, allowed);
  return options;
}

/** `true` or `false`, else "unit: invalid name. Expected true or false. Received: name=…". */
export function expectBoolean(unit: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw fail(`${unit}: invalid ${name}. Expected true or false. Received: ${name}=${show(value)}.`);
  return value;
}

/** A seed: `undefined`/`null` (fresh randomness each run) or a non-negative safe integer. */
export function expectSeed(unit: string, seed: unknown): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw fail(`${unit}: invalid seed. Expected a non-negative integer. Received: seed=${show(seed)}.`);
  }
  return seed;
}

/** An image size `[height, width]`, two positive integers up to 32768. */
export function expectTargetSize(unit: string, value: unknown, name = "targetSize"): [number, number] {
  const pair = value as unknown[];
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => typeof d === "number" && Number.isInteger(d) && d > 0 && d <= 32768)) {
    throw fail(`${unit}: invalid ${name}. Expected [height, width], two positive integers. Received: ${name}=${show(value)}.`);
  }
  return [pair[0] as number, pair[1] as number];
}

/**
 * Throws the house error for the first key of `options` outside `allowed`, suggesting the
 * nearest: "setupWasm: unknown option `thread`. Expected one of `threads`, `startTimeoutMs`.
 * Did you mean `threads`?". Callers check that `options` is an object first.
 */
export function expectKnownKeys(unit: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const hint = closest(key, allowed);
    throw fail(`${unit}: unknown option \`${key}\`. Expected one of ${allowed.map((k) => `\`${k}\``).join(", ")}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
  }
}

/** The allowed value nearest to `value` by edit distance, when near enough to be a typo. */
export function closest(value: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The `code` of a Node system error (`ENOENT`, `EACCES`, …), if any. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The first line of an error's message, without a final period (to quote inside a sentence). */
export function messageLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0].replace(/\.$/, "");
}
