/**
 * Interrupting a cell so that nothing it started keeps running.
 *
 * Each cell runs inside an AsyncLocalStorage scope. On interrupt the scope is
 * marked interrupted, and TensorFlow.js `fit`/`fitDataset` started from it
 * throw at the next batch end, so training unwinds cleanly (the model can
 * train again). If the cell has not ended after a grace period, it is
 * aborted: timers (setTimeout/setInterval/setImmediate) it scheduled never
 * fire again, which ends `await sleep()` style loops.
 */
import { AsyncLocalStorage } from "async_hooks";

/** The error a cell ends with when interrupted. */
export class KernelInterrupt extends Error {
  override name = "KeyboardInterrupt";
  constructor() {
    super("the cell was interrupted");
  }
}

/** State of one running cell. */
export interface CellScope {
  /** An interrupt was asked for: cooperative code (tfjs training) stops at its next step. */
  interrupted: boolean;
  /** The cell was given up: timers it scheduled never fire again. */
  aborted: boolean;
}

export const cellScope = new AsyncLocalStorage<CellScope>();

let timersGuarded = false;

/** Makes timers created inside an aborted cell inert. Idempotent. */
export function guardTimers(): void {
  if (timersGuarded) return;
  timersGuarded = true;
  const g = globalThis as any;
  const wrap = (name: "setTimeout" | "setInterval" | "setImmediate", clear: "clearInterval" | undefined) => {
    const original = g[name];
    const guarded = function (this: unknown, callback: unknown, ...rest: unknown[]) {
      const scope = cellScope.getStore();
      if (!scope || typeof callback !== "function") return original.call(this, callback, ...rest);
      let handle: unknown;
      handle = original.call(
        this,
        function (this: unknown, ...args: unknown[]) {
          if (scope.aborted) {
            if (clear) g[clear](handle);
            return;
          }
          return (callback as Function).apply(this, args);
        },
        ...rest,
      );
      return handle;
    };
    // keep util.promisify(setTimeout) and friends working
    Object.defineProperties(guarded, Object.getOwnPropertyDescriptors(original));
    g[name] = guarded;
  };
  wrap("setTimeout", undefined);
  wrap("setInterval", "clearInterval");
  wrap("setImmediate", undefined);
}

const PATCHED = Symbol.for("convlab.fitGuard");

/**
 * If `mod` is a TensorFlow.js module (exports LayersModel and CustomCallback),
 * makes its `fit` and `fitDataset` stop at the next batch once the calling
 * cell is interrupted. Idempotent.
 */
export function guardTfjsTraining(mod: unknown): void {
  const tf = mod as any;
  const proto = tf?.LayersModel?.prototype;
  if (!proto || typeof tf.CustomCallback !== "function" || proto[PATCHED]) return;
  proto[PATCHED] = true;
  const withGuard = (callbacks: unknown, scope: CellScope): unknown[] => {
    const list = callbacks == null ? [] : Array.isArray(callbacks) ? callbacks : [callbacks];
    // tfjs takes either all BaseCallback instances or all plain objects.
    const asCallbacks = list.map((c) => (c instanceof tf.CustomCallback || typeof c?.setParams === "function" ? c : new tf.CustomCallback(c)));
    const stop = async () => {
      if (scope.interrupted) throw new KernelInterrupt();
    };
    asCallbacks.push(new tf.CustomCallback({ onBatchEnd: stop, onEpochEnd: stop }));
    return asCallbacks;
  };
  const fit = proto.fit;
  proto.fit = function (this: unknown, x: unknown, y: unknown, args: Record<string, unknown> = {}) {
    const scope = cellScope.getStore();
    if (!scope) return fit.call(this, x, y, args);
    return fit.call(this, x, y, { ...args, callbacks: withGuard(args.callbacks, scope) });
  };
  const fitDataset = proto.fitDataset;
  proto.fitDataset = function (this: unknown, dataset: unknown, args: Record<string, unknown> = {}) {
    const scope = cellScope.getStore();
    if (!scope) return fitDataset.call(this, dataset, args);
    return fitDataset.call(this, dataset, { ...args, callbacks: withGuard(args.callbacks, scope) });
  };
}
