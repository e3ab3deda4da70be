/**
 * The shared validators of @convlab/viz: option objects, scales, ranges,
 * colormaps. Every check runs at the entry of a public function, before any
 * pixel is drawn, and throws the house error (one line, unit first).
 */
import { expectOneOf, expectOptions, fail, show } from "@convlab/engine";

/** The colormaps of single-channel images. */
export const COLORMAPS = ["gray", "viridis", "bwr"] as const;

/**
 * How a single-channel value becomes a colour: `gray` (black to white),
 * `viridis` (matplotlib's default, dark purple to yellow) or `bwr` (blue,
 * white at the middle of the range, red: for signed values such as filters).
 */
export type Colormap = (typeof COLORMAPS)[number];

/** A value range mapped onto the colormap: `[lo, hi]`, or `"auto"` (the image's own min..max). */
export type ValueRange = readonly [number, number] | "auto";

/**
 * Throws when `options` is not an object or has a key outside `allowed`,
 * suggesting the closest allowed key ("Did you mean `captionColors`?").
 */
export function checkOptions<T extends object>(unit: string, options: T | undefined, allowed: readonly string[]): T {
  return expectOptions(unit, options, allowed, `{ ${allowed[0]}: … }`);
}

/** An integer in [min, max]; `what` names the option in the message. */
export function checkInt(unit: string, what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw fail(`${unit}: invalid ${what}. Expected an integer in [${min}, ${max}]. Received: ${what}=${show(value)}.`);
  }
  return value;
}

/** A string (a title, a caption …) or undefined. */
export function checkText(unit: string, what: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw fail(`${unit}: invalid ${what}. Expected a string. Received: ${what}=${show(value)}.`);
  return value;
}

/** `"auto"` or a `[lo, hi]` pair of finite numbers with lo < hi. */
export function checkRange(unit: string, value: unknown, extra: readonly string[] = []): ValueRange | string {
  if (value === "auto" || (typeof value === "string" && extra.includes(value))) return value;
  const pair = value as unknown[];
  if (
    !Array.isArray(pair) ||
    pair.length !== 2 ||
    !pair.every((v) => typeof v === "number" && Number.isFinite(v)) ||
    !((pair[0] as number) < (pair[1] as number))
  ) {
    const words = ["\"auto\"", ...extra.map((e) => JSON.stringify(e))];
    throw fail(`${unit}: invalid range. Expected ${words.join(" or ")} or a [lo, hi] pair of finite numbers with lo < hi. Received: range=${show(value)}.`);
  }
  return [pair[0] as number, pair[1] as number];
}

/** One of {@link COLORMAPS}. */
export function checkColormap(unit: string, value: unknown): Colormap {
  return expectOneOf(unit, "colormap", value, COLORMAPS);
}

/** The largest side, in pixels, of any figure: keeps a mistaken scale from exhausting memory. */
export const MAX_SIDE = 16384;

/** Throws when a figure would be larger than {@link MAX_SIDE} on a side. */
export function checkFigureSize(unit: string, width: number, height: number, hint: string): void {
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw fail(`${unit}: figure too large. Expected at most ${MAX_SIDE} pixels per side. Received: ${width}x${height} pixels. ${hint}`);
  }
}

/** A plain description of an arbitrary value for messages, never dumping a whole object graph. */
export function describe(value: unknown): string {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return show(value);
  if ((value as { shape?: unknown }).shape !== undefined && typeof (value as { dtype?: unknown }).dtype === "string") return show(value);
  if (Array.isArray(value)) return value.length <= 8 ? show(value) : `an array of ${value.length} items`;
  const keys = Object.keys(value);
  const name = (value as object).constructor?.name;
  const kind = name && name !== "Object" ? `a ${name}` : "an object";
  return keys.length ? `${kind} with keys ${keys.slice(0, 8).map((k) => JSON.stringify(k)).join(", ")}${keys.length > 8 ? ", …" : ""}` : `${kind} with no keys`;
}
