/**
 * Rich output: mime bundles, renderers, and `display` / `newDisplay`.
 *
 * The running kernel publishes a session under a global symbol; this module
 * talks to whatever session is there, so every copy of @convlab/kernel in a
 * process (and topic packages that never import it) reach the same kernel.
 * Outside a kernel, `display` prints the plain-text form.
 */
import { inspect } from "util";
import { fail, show } from "./errors";

/**
 * A Jupyter mime bundle: mime type to data. Binary data (image/png …) may be
 * given as bytes; the kernel base64-encodes it.
 */
export type MimeBundle = Record<string, string | Uint8Array | object>;

/**
 * Turns a value into a mime bundle, or returns undefined to let the next
 * renderer try. Plugins add renderers in `activate(ctx)`.
 */
export interface Renderer {
  /** Unique id, `<package>:<what>`, quoted in error reports. */
  id: string;
  /** The bundle for `value`, or undefined when this renderer does not claim it. */
  render(value: unknown): MimeBundle | undefined;
}

/** An output that can be replaced in place (progress bars, live plots). */
export interface DisplayHandle {
  /** Replaces the output with the rendering of `value`. */
  update(value: unknown): void;
}

/** What the kernel publishes for the current cell. @internal */
export interface Session {
  render(value: unknown): MimeBundle;
  send(bundle: MimeBundle, displayId?: string, update?: boolean): void;
}

const SESSION = Symbol.for("convlab.kernel.session");
const MIME_BUNDLE = Symbol.for("convlab.mimeBundle");

/** @internal The kernel installs (or removes) its session. */
export function setSession(session: Session | undefined): void {
  (globalThis as Record<symbol, unknown>)[SESSION] = session;
}

function currentSession(): Session | undefined {
  return (globalThis as Record<symbol, unknown>)[SESSION] as Session | undefined;
}

/**
 * Marks `bundle` as ready-made output, shown as it is.
 *
 * @example display(mimeBundle({ "text/html": "<b>hi</b>", "text/plain": "hi" }))
 * @throws ConvlabError when `bundle` is not an object of mime type keys.
 * Keras/IPython counterpart: `IPython.display.display(obj, raw=True)`.
 */
export function mimeBundle(bundle: MimeBundle): MimeBundle {
  if (bundle === null || typeof bundle !== "object" || Object.keys(bundle).some((k) => !k.includes("/"))) {
    throw fail(`mimeBundle: invalid bundle. Expected an object keyed by mime types such as "text/html". Received: ${show(bundle)}.`);
  }
  return Object.defineProperty({ ...bundle }, MIME_BUNDLE, { value: true });
}

/** True for objects made by {@link mimeBundle}. */
export function isMimeBundle(value: unknown): value is MimeBundle {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MIME_BUNDLE] === true;
}

/**
 * Shows `value` in the notebook now, rendered by the first plugin renderer
 * that claims it (a model summary, an image, a plot), else as text.
 *
 * @example display(model)  // the Keras-style summary table
 * IPython counterpart: `display(obj)`.
 */
export function display(value: unknown): void {
  const session = currentSession();
  if (!session) {
    process.stdout.write(`${plainText(value)}\n`);
    return;
  }
  session.send(session.render(value));
}

let displayCounter = 0;

/**
 * Creates an output that later calls replace in place instead of appending.
 *
 * @example
 * const bar = newDisplay();
 * for (let i = 0; i <= 10; i++) bar.update(`${i * 10}%`);
 * IPython counterpart: `display(obj, display_id=True)` and `handle.update(obj)`.
 */
export function newDisplay(): DisplayHandle {
  const id = `convlab-${process.pid}-${++displayCounter}`;
  let shown = false;
  return {
    update(value: unknown) {
      const session = currentSession();
      if (!session) {
        process.stdout.write(`${plainText(value)}\n`);
        return;
      }
      session.send(session.render(value), id, shown);
      shown = true;
    },
  };
}

/** The text/plain form of any value, as Node's REPL shows it. */
export function plainText(value: unknown): string {
  return typeof value === "string" ? value : inspect(value, { depth: 4, colors: false, maxArrayLength: 50 });
}

/** Converts bytes to base64 and adds text/plain when missing. @internal */
export function normalizeBundle(bundle: MimeBundle, value: unknown): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [type, content] of Object.entries(bundle)) {
    data[type] = content instanceof Uint8Array ? Buffer.from(content).toString("base64") : content;
  }
  if (!("text/plain" in data)) data["text/plain"] = isMimeBundle(value) ? `<${Object.keys(bundle).join(", ")}>` : plainText(value);
  return data;
}
