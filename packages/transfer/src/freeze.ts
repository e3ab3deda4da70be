/**
 * Freezing for fine-tuning, done as Keras does it.
 *
 * {@link freezeUntil} is the course's fine-tuning loop in one call: the layers before a named
 * layer frozen, the rest trainable, and a compiled model made to train exactly those weights.
 *
 * Importing this module (as importing @convlab/transfer does) fixes, once per process, what
 * tfjs-layers 4.22 gets wrong about frozen layers in `fit` (convlab's and tfjs's alike):
 *
 * 1. A frozen BatchNormalization runs in inference mode. Keras (TF2 and Keras 3): a BN layer
 *    whose `trainable` is false normalises with its moving mean and variance and never updates
 *    them, even when called with `training: true` (inside `fit`). tfjs's
 *    `BatchNormalization.call` reads only `kwargs.training`: in `fit` a frozen BN normalises with
 *    the batch's statistics and moves its averages (momentum 0.99) at every step, so a frozen
 *    pretrained base drifts and its training outputs differ from `predict`'s. The hook wraps
 *    `BatchNormalization.prototype.call` (the class tfjs registers for serialization, so every
 *    BN, also one loaded from disk): a frozen BN gets `training: false`. A BN is frozen when
 *    - its own `trainable` is false, or
 *    - all its trainable weights (gamma, beta) are marked non-trainable: what tfjs's
 *      `base.trainable = false` does to the layers directly inside `base` (it leaves their own
 *      flag true, where Keras sets it recursively), whether `base` is nested in the new model
 *      or its layers are reused flat (`tf.model({ inputs: base.inputs, outputs: head })`), or
 *    - it runs inside a nested model whose `trainable` is false, at any depth: the `call` of
 *      tfjs's Container (every functional model) and of Sequential are wrapped to count the
 *      frozen models being executed (calls are synchronous). A Sequential's inner functional
 *      model copies `trainable` only when built; the wrapper refreshes that copy first.
 * 2. A frozen base added first to a Sequential stays frozen. tfjs's `Sequential.add` of a model
 *    as first layer adopts its layers, and `Sequential.build` (run by every `compile`) ends with
 *    `innerModel.trainable = this.trainable`, whose setter marks the weights of those layers
 *    trainable again: the course's `model.add(convBase); …; convBase.trainable = false;
 *    compile(model, …)` trained the whole base (while `model.trainableWeights` listed only the
 *    head). `Sequential.build` is wrapped to leave the weights' flags as they were.
 *
 * Anything else runs tfjs's code unchanged; should a later tfjs move these methods, the wrappers
 * are not installed and tfjs's behaviour stays.
 *
 * Trainable changes after `compile` (why {@link freezeUntil} recompiles). tfjs's `compile`
 * records the trainable weights and `fit` differentiates only those: freezing after `compile`
 * takes effect (the variables are marked non-trainable and skipped), unfreezing does not until
 * the next `compile`. And tfjs's optimizers (and convlab's Keras optimizers) keep per-variable
 * state (momentum, Adam's moments, RMSprop's averages) in arrays indexed by position in the
 * gradient list: when the set of trained weights changes under the same optimizer, variables get
 * each other's state (an Adam fails with "Operands could not be broadcast together with shapes
 * 4,2 and 3,4", or mixes states silently when shapes agree). So {@link freezeUntil} recompiles
 * a compiled model with its own optimizer, loss and metrics, and realigns the optimizer's state
 * by variable name, as Keras 2 keeps slots per variable: weights trained before keep their
 * state, newly unfrozen ones start fresh, the state of weights no longer trained is freed.
 */
import * as tf from "@tensorflow/tfjs";
import { closest, fail, show } from "@convlab/engine";

type Kwargs = Record<string, unknown> | undefined;
type CallFn = (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];

/** Shared by every copy of this module in the process (stored on the BN prototype). */
interface FreezeState {
  /** How many frozen nested models are executing right now (their `call` is synchronous). */
  frozenDepth: number;
}

const STATE_KEY = Symbol.for("convlab.transfer.frozenBatchNormalization");

/** The declared trainable weights of a layer (tfjs's protected `_trainableWeights`). */
function declaredTrainableWeights(layer: tf.layers.Layer): tf.LayerVariable[] {
  return (layer as unknown as { _trainableWeights?: tf.LayerVariable[] })._trainableWeights ?? [];
}

function isFrozen(layer: tf.layers.Layer, state: FreezeState): boolean {
  if (!layer.trainable || state.frozenDepth > 0) return true;
  const weights = declaredTrainableWeights(layer);
  return weights.length > 0 && weights.every((w) => !w.trainable);
}

function install(): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization as unknown[] | undefined;
  const bnClass = entry?.[0] as { prototype?: Record<PropertyKey, unknown> } | undefined;
  const bnProto = bnClass?.prototype;
  // Another tfjs, or another copy of this module already installed the wrappers.
  if (!bnProto || typeof bnProto.call !== "function" || bnProto[STATE_KEY]) return;
  const state: FreezeState = { frozenDepth: 0 };
  Object.defineProperty(bnProto, STATE_KEY, { value: state });

  const bnCall = bnProto.call as CallFn;
  bnProto.call = function (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) {
    if (kwargs?.training && isFrozen(this, state)) return bnCall.call(this, inputs, { ...kwargs, training: false });
    return bnCall.call(this, inputs, kwargs);
  };

  // Nested models: count the frozen ones being executed.
  const countFrozen = (proto: Record<PropertyKey, unknown>, before?: (model: tf.LayersModel) => void): void => {
    if (!Object.prototype.hasOwnProperty.call(proto, "call") || typeof proto.call !== "function") return;
    const original = proto.call as CallFn;
    proto.call = function (this: tf.LayersModel, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) {
      before?.(this);
      if (this.trainable) return original.call(this, inputs, kwargs);
      state.frozenDepth++;
      try {
        return original.call(this, inputs, kwargs);
      } finally {
        state.frozenDepth--;
      }
    };
  };
  const containerProto = Object.getPrototypeOf(tf.LayersModel.prototype) as Record<PropertyKey, unknown>;
  countFrozen(containerProto);
  const sequentialProto = tf.Sequential.prototype as unknown as Record<PropertyKey, unknown>;
  countFrozen(sequentialProto, (sequential) => {
    // tfjs's Sequential.build copies `trainable` into its inner model once; keep the copy current.
    const inner = (sequential as unknown as { model?: { trainable_?: boolean } }).model;
    if (inner && inner.trainable_ !== sequential.trainable) inner.trainable_ = sequential.trainable;
  });

  // Sequential.build ends with `innerModel.trainable = this.trainable`, whose setter marks every
  // weight of the inner model's direct layers trainable: a base added first (whose layers the
  // inner model holds directly) and frozen with `base.trainable = false` came back to life at
  // each compile. Keep the weights' flags as they were.
  if (Object.prototype.hasOwnProperty.call(sequentialProto, "build") && typeof sequentialProto.build === "function") {
    const build = sequentialProto.build as (this: tf.Sequential, inputShape?: unknown) => void;
    sequentialProto.build = function (this: tf.Sequential, inputShape?: unknown) {
      const flags = new Map<tf.LayerVariable, boolean>();
      for (const { layer } of flattenLayers(this)) for (const w of declaredTrainableWeights(layer)) flags.set(w, w.trainable);
      try {
        return build.call(this, inputShape);
      } finally {
        for (const [w, trainable] of flags) if (w.trainable !== trainable) w.trainable = trainable;
      }
    };
  }
}

install();

// ---------------------------------------------------------------- freezeUntil

/** A layer in depth-first order, with the nested models around it. */
interface Entry {
  layer: tf.layers.Layer;
  ancestors: tf.LayersModel[];
}

/** Every layer of `model`, nested models' layers after the nested model (Keras's `_flatten_layers` order). */
function flattenLayers(model: tf.LayersModel): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<tf.layers.Layer>();
  const visit = (container: tf.LayersModel, ancestors: tf.LayersModel[]): void => {
    for (const layer of container.layers) {
      if (seen.has(layer)) continue;
      seen.add(layer);
      if (layer.getClassName() === "InputLayer") continue;
      entries.push({ layer, ancestors });
      if (layer instanceof tf.LayersModel) visit(layer, [...ancestors, layer]);
    }
  };
  visit(model, []);
  return entries;
}

/** Up to three names near `name`, nearest first. */
function closeNames(name: string, names: string[]): string[] {
  const found: string[] = [];
  let pool = [...new Set(names)];
  for (let k = 0; k < 3; k++) {
    const hit = closest(name, pool);
    if (hit === undefined) break;
    found.push(hit);
    pool = pool.filter((n) => n !== hit);
  }
  return found;
}

/** tfjs internals used to retrain a compiled model. */
interface TrainingInternals {
  collectedTrainableWeights?: tf.LayerVariable[];
  isOptimizerOwned?: boolean;
  /** A Sequential's inner functional model, the one that trains. */
  model?: tf.LayersModel;
}

/**
 * One list of per-variable optimizer state, indexed like the gradients: tfjs's
 * `{ originalName: "<variable>/m", variable }` arrays, or convlab's Keras optimizers'
 * `slots[k]` with `slotOriginalNames[k]`.
 */
interface SlotList {
  names: string[];
  variables: tf.Variable[];
  replace(order: number[]): void;
}

/** The variable a slot belongs to: "dense/kernel/m" → "dense/kernel". */
function slotOwner(originalName: string): string {
  const cut = originalName.lastIndexOf("/");
  return cut > 0 ? originalName.slice(0, cut) : originalName;
}

function slotLists(optimizer: tf.Optimizer): SlotList[] {
  const o = optimizer as unknown as Record<string, unknown>;
  const lists: SlotList[] = [];
  // convlab's KerasOptimizer (packages/layers/src/optimizers.ts): slots[k][i], slotOriginalNames[k][i].
  const slots = o.slots;
  const slotNames = o.slotOriginalNames;
  if (Array.isArray(slots) && Array.isArray(slotNames)) {
    slots.forEach((kind: unknown, k: number) => {
      const names = slotNames[k] as unknown;
      if (!Array.isArray(kind) || !Array.isArray(names) || kind.length === 0) return;
      lists.push({
        names: names.map((n: string) => slotOwner(n)),
        variables: kind as tf.Variable[],
        replace(order) {
          slots[k] = order.map((i) => kind[i]);
          slotNames[k] = order.map((i) => names[i]);
        },
      });
    });
  }
  // tfjs's optimizers: any array of { originalName, variable }.
  for (const key of Object.keys(o)) {
    const value = o[key];
    if (!Array.isArray(value) || value.length === 0) continue;
    const isSlots = value.every(
      (e) => e !== null && typeof e === "object" && typeof (e as { originalName?: unknown }).originalName === "string" && (e as { variable?: unknown }).variable instanceof tf.Variable,
    );
    if (!isSlots) continue;
    const entries = value as Array<{ originalName: string; variable: tf.Variable }>;
    lists.push({
      names: entries.map((e) => slotOwner(e.originalName)),
      variables: entries.map((e) => e.variable),
      replace(order) {
        o[key] = order.map((i) => entries[i]);
      },
    });
  }
  return lists;
}

/**
 * Aligns the optimizer's per-variable state with the weights `trainer` now trains: the weights
 * that have state come first, in their trained order, with their own state; then the others,
 * whose state the optimizer creates at its next step. State of weights no longer trained is freed.
 */
function realignOptimizer(optimizer: tf.Optimizer, trainer: TrainingInternals): void {
  const lists = slotLists(optimizer);
  const collected = trainer.collectedTrainableWeights;
  if (lists.length === 0 || !collected) return;
  const variableName = (w: tf.LayerVariable): string => (w.read() as tf.Variable).name;
  const withState = collected.filter((w) => lists.every((l) => l.names.includes(variableName(w))));
  const without = collected.filter((w) => !withState.includes(w));
  trainer.collectedTrainableWeights = [...withState, ...without];
  const kept = withState.map(variableName);
  for (const list of lists) {
    const order = kept.map((name) => list.names.indexOf(name));
    const keep = new Set(order);
    tf.dispose(list.variables.filter((_, i) => !keep.has(i)));
    list.replace(order);
  }
}

/** Recompiles a compiled model with its own optimizer, loss and metrics; realigns the optimizer. */
function recompile(model: tf.LayersModel): void {
  const optimizer = model.optimizer;
  if (!optimizer) return;
  const internals = model as unknown as TrainingInternals;
  const owned = internals.isOptimizerOwned;
  model.compile({ optimizer, loss: model.loss, metrics: model.metrics } as tf.ModelCompileArgs);
  // tfjs marks an optimizer passed as an object "not owned"; keep who disposes it as it was.
  const trainer: TrainingInternals = model instanceof tf.Sequential && internals.model ? (internals.model as unknown as TrainingInternals) : internals;
  internals.isOptimizerOwned = owned;
  trainer.isOptimizerOwned = owned;
  realignOptimizer(optimizer, trainer);
}

/**
 * Freezes every layer before `layerName` and makes it and every later layer trainable: the
 * course's fine-tuning loop (`set_trainable` becomes true at `block5_conv1`) in one call.
 *
 * Layers are taken in Keras's order, depth-first: the layers of a nested model (a pretrained
 * base inside the new model) come right after it, so `freezeUntil(model, "block5_conv1")` works on
 * the whole model as on the base. A nested model is left trainable when it holds trainable
 * layers, frozen when all its layers come before `layerName`. Input layers are left alone.
 *
 * When `model` is compiled, it is recompiled with its own optimizer, loss and metrics, so the next
 * `fit` (convlab's or tfjs's) trains exactly the trainable weights, and the optimizer's state is
 * realigned by variable (state kept for weights trained before, fresh for newly unfrozen ones).
 * Frozen BatchNormalization layers run in inference mode (this module's import).
 *
 * @param model A LayersModel (functional or Sequential), compiled or not.
 * @param layerName The first layer to train; a layer of `model` or of a model nested in it.
 * @throws ConvlabError when `model` is not a LayersModel or no layer has that name (with the
 *   nearest names).
 * @example
 * freezeUntil(model, "block5_conv1");
 * compile(model, { optimizer: RMSprop({ learningRate: 1e-5 }), loss: "binary_crossentropy", metrics: ["accuracy"] }); // optional: a new optimizer
 * await fit(model, trainGenerator, { epochs: 100, validationData: validationGenerator });
 *
 * Keras equivalent:
 * ```python
 * conv_base.trainable = True
 * set_trainable = False
 * for layer in conv_base.layers:
 *     if layer.name == 'block5_conv1':
 *         set_trainable = True
 *     layer.trainable = set_trainable
 * model.compile(...)
 * ```
 * Keras needs the `compile`; here it is done for you (call `compile` again only to change the
 * optimizer or the learning rate).
 */
export function freezeUntil(model: tf.LayersModel, layerName: string): void {
  if (!(model instanceof tf.LayersModel)) {
    throw fail(`freezeUntil: invalid model. Expected a tf.LayersModel (tf.sequential() or tf.model()). Received: model=${show(model)}.`);
  }
  const entries = flattenLayers(model);
  const names = entries.map((e) => e.layer.name);
  const at = typeof layerName === "string" ? names.indexOf(layerName) : -1;
  if (at < 0) {
    const near = typeof layerName === "string" ? closeNames(layerName, names) : [];
    const span = names.length > 0 ? ` ("${names[0]}" … "${names[names.length - 1]}")` : "";
    throw fail(
      `freezeUntil: invalid layerName. Expected the name of one of the ${names.length} layers of model "${model.name}"${span}; summary(model) lists them. Received: layerName=${show(layerName)}.${near.length > 0 ? ` Did you mean ${near.map((n) => `\`${n}\``).join(", ")}?` : ""}`,
    );
  }
  const target = entries[at];
  model.trainable = true;
  // Outer before inner: a nested model's setter resets its direct layers' weights, which their own setters then fix.
  entries.forEach((entry, i) => {
    entry.layer.trainable = i >= at || target.ancestors.includes(entry.layer as tf.LayersModel);
  });
  recompile(model);
}
