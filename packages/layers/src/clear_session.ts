/**
 * `clearSession()`: a clean slate in the same kernel, Keras's
 * `keras.backend.clear_session()`.
 *
 * tf.js frees a tensor only when it is disposed; Python frees an array when
 * the last name for it goes. Running a notebook again in the same kernel
 * rebinds every `const` while the old data and models stay in memory, so each
 * "Run all" used to add the whole previous run (lesson 1: 37 tensors, the
 * training images among them). A session is a tf.js scope opened at the top
 * level: tensors made outside `tf.tidy` are tracked in it, and the next
 * `clearSession()` ends it, disposing them, then disposes every variable.
 */
import * as tf from "@tensorflow/tfjs";
import { fail } from "@convlab/engine";
import { resetNames } from "./names";

/** Engine internals used here (tfjs-core 4.22: `startScope`/`endScope` are public on the engine, the stack is its state). */
interface EngineScopes {
  startScope(name?: string): void;
  endScope(): void;
  state: { activeScope?: object | null; scopeStack: object[] };
}

/** The open session, shared by every copy of this module in the process. */
const SESSION_KEY = Symbol.for("convlab.layers.session");

/**
 * Frees what earlier cells made and starts Keras names from zero.
 *
 * - Every tensor made at the top level of a cell since the previous call is
 *   disposed (tensors kept with `tf.keep` stay; the first call frees nothing,
 *   it starts the session).
 * - Every variable is disposed: the weights of every model and the state of
 *   every optimizer.
 * - Unnamed layers and models are named from zero again (`sequential`,
 *   `conv2d`, …; {@link resetNames}).
 *
 * Put it at the start of a notebook: running the notebook again in the same
 * kernel then starts from the same memory instead of adding to it. What was
 * made before is unusable afterwards (`Tensor is disposed`): run the cells
 * that make it again.
 *
 * Keras counterpart: `keras.backend.clear_session()` (`keras.utils.clear_session()`
 * in Keras 3), which resets the name counters and frees the graph; Python's
 * garbage collector frees the arrays.
 *
 * @throws ConvlabError when called inside `tf.tidy` (or another tf.js scope).
 * @example
 * import { clearSession } from "@convlab/layers";
 * clearSession(); // before building the lesson's models
 */
export function clearSession(): void {
  const engine = tf.engine() as unknown as EngineScopes;
  const { state } = engine;
  const holder = globalThis as { [SESSION_KEY]?: object };
  const session = holder[SESSION_KEY] !== undefined && state.scopeStack.includes(holder[SESSION_KEY]) ? holder[SESSION_KEY] : undefined;
  if ((state.activeScope ?? null) !== (session ?? null)) {
    throw fail(
      "clearSession: called inside tf.tidy (or another tf.js scope). Expected a call at the top level of a cell. Move clearSession() out of the tidy function.",
    );
  }
  if (session !== undefined) engine.endScope();
  tf.disposeVariables();
  resetNames();
  engine.startScope("convlab clearSession");
  holder[SESSION_KEY] = state.activeScope!;
}
