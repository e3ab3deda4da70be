/**
 * Keras names for layers and models created without an explicit name.
 *
 * tfjs names an unnamed `Conv2D` `conv2d_Conv2D1`, a Sequential
 * `sequential_1`, a functional model `model1`, an input `input1`. Keras (and
 * the course) call them `conv2d`, `conv2d_1`, …, `sequential`, `model`,
 * `input_1`: one counter per snake_case class name, per process, the first
 * without a suffix; inputs count from 1.
 *
 * How it is hooked (tfjs-layers 4.22): the generated name is private to the
 * tfjs bundle, but every constructor stores the name with a plain assignment
 * `this.name = …`. Importing this module puts a `name` accessor on
 * `tf.layers.Layer.prototype`, and wraps `getClassName`, which the Layer and
 * Container constructors call only when they generate a name. An assignment
 * is replaced by a Keras name only when it is, at the expected step of
 * construction, exactly the name tfjs generates:
 *
 * - a layer: `getClassName()` was just called and the value is
 *   `<snake>_<Class><n>` (an explicit name, also one read back from a saved
 *   model, never triggers `getClassName` first, so it stays as given);
 * - a functional model: the Container's generated `<class><n>`;
 * - an InputLayer or a Sequential, whose default comes without that call:
 *   the value equals tfjs's next counter value, `input<n>` / `sequential_<n>`,
 *   which this module tracks (it reads the counters once, at import).
 *
 * Anything else (explicit names, names of models loaded from disk, layers
 * made before the import) is left untouched. Should tfjs change how it
 * names, nothing matches and tfjs's names stay: the hook cannot break a model.
 */
import * as tf from "@tensorflow/tfjs";

/** Counters shared by every copy of this module in the process. */
interface NameState {
  /** Keras counters by base name (zero-based: `conv2d`, `conv2d_1`). */
  keras: Map<string, number>;
  /** Keras `input_<n>` counter (one-based, as `keras.Input`). */
  kerasInputs: number;
  /** Mirror of tfjs's private uid counters for `input` and `sequential_`. */
  tfjsInputs: number;
  tfjsSequentials: number;
}

const STATE_KEY = Symbol.for("convlab.layers.kerasNames");

type AnyLayer = tf.layers.Layer & Record<PropertyKey, unknown>;

/**
 * The snake_case of a class name, as Keras's and tfjs's `to_snake_case`:
 * `Conv2D` → `conv2d`, `MaxPooling2D` → `max_pooling2d`,
 * `BatchNormalization` → `batch_normalization`.
 */
export function snakeCase(className: string): string {
  const intermediate = className.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2");
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return insecure.startsWith("_") ? `private${insecure}` : insecure;
}

function uniqueKerasName(state: NameState, base: string): string {
  const n = state.keras.get(base) ?? 0;
  state.keras.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

function install(): NameState {
  const layerProto = tf.layers.Layer.prototype as unknown as Record<PropertyKey, unknown>;
  const existing = layerProto[STATE_KEY] as NameState | undefined;
  if (existing) return existing;

  // Read tfjs's counters before hooking: a throwaway input and Sequential
  // show the last values handed out (they hold no tensors).
  const probeInput = tf.input({ shape: [1] });
  const probeSequential = tf.sequential();
  const inputMatch = /^input(\d+)$/.exec(probeInput.sourceLayer.name);
  const sequentialMatch = /^sequential_(\d+)$/.exec(probeSequential.name);

  const state: NameState = {
    keras: new Map(),
    kerasInputs: 0,
    tfjsInputs: inputMatch ? Number(inputMatch[1]) : NaN,
    tfjsSequentials: sequentialMatch ? Number(sequentialMatch[1]) : NaN,
  };
  Object.defineProperty(layerProto, STATE_KEY, { value: state });

  const originalGetClassName = layerProto.getClassName as (this: unknown) => string;
  if (typeof originalGetClassName !== "function" || Object.getOwnPropertyDescriptor(layerProto, "name")) {
    return state; // not the tfjs we know: keep tfjs's names
  }
  let asked: unknown;
  const values = new WeakMap<object, string | undefined>();
  const steps = new WeakMap<object, number>();

  layerProto.getClassName = function getClassName(this: unknown): string {
    asked = this;
    return originalGetClassName.call(this);
  };

  Object.defineProperty(layerProto, "name", {
    configurable: true,
    enumerable: false,
    get(this: object): string {
      return values.get(this) as string;
    },
    set(this: AnyLayer, value: string | undefined) {
      const wasAsked = asked === this;
      asked = undefined;
      const step = (steps.get(this) ?? 0) + 1;
      steps.set(this, step);
      values.set(this, kerasNameFor(this, value, wasAsked, step));
    },
  });

  function kerasNameFor(layer: AnyLayer, value: string | undefined, wasAsked: boolean, step: number): string | undefined {
    if (typeof value !== "string") return value;
    const className = originalGetClassName.call(layer);
    if (typeof className !== "string" || className === "") return value;
    if (layer instanceof tf.Sequential) {
      // 1: Layer's `sequential_Sequential<n>`, 2: Container's args.name (none),
      // 3: Container's `sequential<n>`, 4: Sequential's name or `sequential_<n>`.
      if (step === 4 && !wasAsked && value === `sequential_${state.tfjsSequentials + 1}`) {
        state.tfjsSequentials += 1;
        return uniqueKerasName(state, snakeCase(className));
      }
      return value;
    }
    if (layer instanceof tf.LayersModel) {
      // 1: Layer's `model_Model<n>`, 2: args.name, 3: Container's `model<n>` when 2 was empty.
      if (step === 3 && wasAsked && new RegExp(`^${escapeRegExp(className.toLowerCase())}\\d+$`).test(value)) {
        return uniqueKerasName(state, snakeCase(className));
      }
      return value;
    }
    if (step !== 1) return value;
    if (className === "InputLayer") {
      if (!wasAsked && value === `input${state.tfjsInputs + 1}`) {
        state.tfjsInputs += 1;
        state.kerasInputs += 1;
        return `input_${state.kerasInputs}`;
      }
      return value;
    }
    if (wasAsked && new RegExp(`^${escapeRegExp(`${snakeCase(className)}_${className}`)}\\d+$`).test(value)) {
      return uniqueKerasName(state, snakeCase(className));
    }
    return value;
  }

  return state;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const state = install();

/**
 * Starts Keras's name counters again, so the next unnamed Conv2D is `conv2d`,
 * the next Sequential `sequential`, the next input `input_1`. Layers and
 * models that exist keep their names. Use it between examples and in tests.
 *
 * Keras counterpart: `keras.backend.clear_session()` (which also frees the
 * graph; here, dispose models yourself with `model.dispose()`).
 *
 * @example
 * resetNames();
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * model.name;            // "sequential"
 * model.layers[0].name;  // "dense"
 */
export function resetNames(): void {
  state.keras.clear();
  state.kerasInputs = 0;
}
