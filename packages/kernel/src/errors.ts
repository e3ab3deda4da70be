/**
 * The one error form of convlab: a single line, unit first, saying what was
 * expected, what was received and what to do.
 */

const BRAND = Symbol.for("convlab.ConvlabError");

/**
 * An error whose message is meant for a person, shown without a stack.
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

/** Returns a {@link ConvlabError} with `message`; callers `throw fail(...)`. */
export function fail(message: string): ConvlabError {
  return new ConvlabError(message);
}

/** A value printed readably for an error message: strings quoted, others as JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
