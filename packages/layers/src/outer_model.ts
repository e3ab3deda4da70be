/**
 * The Sequential a callback belongs to (internal).
 *
 * tfjs's `Sequential.fit` runs the fit of an inner functional LayersModel
 * (`<name>_model`, built lazily by `Sequential.build`), so callbacks receive
 * that inner model in `setModel`. Keras's callbacks see the Sequential: its
 * name, its compile-time metric names, and `ModelCheckpoint` saves it, not a
 * functional copy. The inner model is stored with a plain assignment
 * `this.model = …` in tfjs-layers 4.22; an accessor on `Sequential.prototype`
 * records which Sequential owns it. Without the accessor (another tfjs), the
 * inner model is used as is.
 */
import * as tf from "@tensorflow/tfjs";

const KEY = Symbol.for("convlab.layers.outerModel");

function install(): WeakMap<object, tf.Sequential> {
  const proto = tf.Sequential.prototype as unknown as Record<PropertyKey, unknown>;
  const existing = proto[KEY] as WeakMap<object, tf.Sequential> | undefined;
  if (existing) return existing;
  const outer = new WeakMap<object, tf.Sequential>();
  Object.defineProperty(proto, KEY, { value: outer });
  if (Object.getOwnPropertyDescriptor(proto, "model")) return outer;
  const inner = new WeakMap<object, unknown>();
  Object.defineProperty(proto, "model", {
    configurable: true,
    enumerable: false,
    get(this: object) {
      return inner.get(this);
    },
    set(this: tf.Sequential, value: unknown) {
      inner.set(this, value);
      if (value !== null && typeof value === "object") outer.set(value, this);
    },
  });
  return outer;
}

const outers = install();

/** The Sequential whose inner model `model` is, else `model` itself. @internal */
export function outerModel<T extends tf.LayersModel | undefined>(model: T): T | tf.Sequential {
  return (model && outers.get(model)) || model;
}
