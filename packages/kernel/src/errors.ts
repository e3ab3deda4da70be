/**
 * The one error form of convlab: a single line, unit first, saying what was
 * expected, what was received and what to do.
 */

/** An error whose message is meant for a person, shown without a stack. */
export class ConvlabError extends Error {
  override name = "ConvlabError";
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
