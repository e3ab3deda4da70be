/**
 * Notebook parameters, papermill-style: a notebook's first code cell reads
 * its parameters with {@link param}; `convlab run --param epochs=1` (or an
 * exported `CONVLAB_EPOCHS=1`) overrides them through the environment.
 */
import { fail, show } from "./errors";

/** The environment variable that carries parameter `key`: `epochs` -> `CONVLAB_EPOCHS`. */
export function paramEnvName(key: string): string {
  return `CONVLAB_${key.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * A notebook parameter: `defaultValue` unless the environment overrides it,
 * converted to the default's type (number, boolean or string).
 *
 * The result is typed `number`, `boolean` or `string`, never the default's
 * literal type (`5`), so that `EPOCHS === 1` or `EPOCHS = 2` type-checks.
 *
 * @example const EPOCHS = param("epochs", 5);  // CONVLAB_EPOCHS=1 -> 1
 * @throws ConvlabError when the override cannot be read as the default's type.
 * papermill counterpart: a cell tagged `parameters`.
 */
export function param(name: string, defaultValue: number): number;
export function param(name: string, defaultValue: boolean): boolean;
export function param(name: string, defaultValue: string): string;
export function param<T extends number | boolean | string>(name: string, defaultValue: T): T {
  const envName = paramEnvName(name);
  const raw = process.env[envName];
  if (raw === undefined || raw === "") return defaultValue;
  if (typeof defaultValue === "number") {
    const value = Number(raw);
    if (!Number.isFinite(value)) {
      throw fail(`param: invalid ${envName}. Expected a number like the default ${defaultValue}. Received: ${envName}=${show(raw)}. Set it to a number or unset it.`);
    }
    return value as T;
  }
  if (typeof defaultValue === "boolean") {
    const lower = raw.toLowerCase();
    if (["1", "true", "yes"].includes(lower)) return true as T;
    if (["0", "false", "no"].includes(lower)) return false as T;
    throw fail(`param: invalid ${envName}. Expected true/false (or 1/0). Received: ${envName}=${show(raw)}.`);
  }
  return raw as T;
}
