/**
 * Backend choice: the fastest TensorFlow.js backend that works here, best
 * first: `tensorflow` (tfjs-node, when installed and it loads), convlab's
 * `native` (oneDNN addon), `wasm` (with convlab's training kernels and
 * threads), `cpu`. `CONVLAB_BACKEND` forces one.
 */
import * as tf from "@tensorflow/tfjs";
import { fail } from "./errors";
import { loadNativeAddon } from "./native_addon";
import { NATIVE_BACKEND, registerNativeBackend } from "./native_backend";

/** The backends convlab chooses among, best first. */
export const BACKENDS = ["tensorflow", "native", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What {@link selectBackend} chose and why. */
export interface BackendChoice {
  backend: BackendName;
  /** One line for people: which backend runs and why the better ones do not. */
  line: string;
  /** Details of the chosen backend (threads, library versions). */
  details: Record<string, unknown>;
  /** Why each better backend was skipped. */
  skipped: Partial<Record<BackendName, string>>;
}

type Attempt = { ok: true; details: Record<string, unknown> } | { ok: false; reason: string; howTo: string };

async function tryTensorflow(): Promise<Attempt> {
  const howTo = "npm install @tensorflow/tfjs-node (it downloads libtensorflow at install time, which needs internet)";
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    return { ok: false, reason: "@tensorflow/tfjs-node is not installed", howTo };
  }
  try {
    require("@tensorflow/tfjs-node");
    await tf.setBackend("tensorflow");
    return { ok: true, details: {} };
  } catch (error) {
    return { ok: false, reason: `@tensorflow/tfjs-node did not load (${firstLine(error)})`, howTo };
  }
}

async function tryNative(): Promise<Attempt> {
  const loaded = loadNativeAddon();
  if ("error" in loaded) {
    return { ok: false, reason: loaded.error, howTo: "apt-get install g++ libdnnl-dev, then npm rebuild @convlab/engine" };
  }
  registerNativeBackend(loaded.addon, 2.5);
  await tf.setBackend(NATIVE_BACKEND);
  const info = loaded.addon.info();
  return { ok: true, details: { ...info } };
}

async function tryWasm(): Promise<Attempt> {
  try {
    // loaded only when needed: importing tfjs-backend-wasm registers it with tfjs
    const { setupWasm } = await import("./wasm/setup");
    const setup = await setupWasm(tf);
    return { ok: true, details: { ...setup } };
  } catch (error) {
    return { ok: false, reason: `the WebAssembly backend did not start (${firstLine(error)})`, howTo: "reinstall @tensorflow/tfjs-backend-wasm (npm ci)" };
  }
}

async function tryCpu(): Promise<Attempt> {
  await tf.setBackend("cpu");
  return { ok: true, details: {} };
}

const ATTEMPTS: Record<BackendName, () => Promise<Attempt>> = {
  tensorflow: tryTensorflow,
  native: tryNative,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Chooses and sets the backend. With `forced` (default: `CONVLAB_BACKEND`),
 * only that one is tried.
 *
 * @throws ConvlabError when the forced backend is unknown or unavailable, saying how to get it.
 */
export async function selectBackend(forced = process.env.CONVLAB_BACKEND): Promise<BackendChoice> {
  if (forced) {
    if (!(BACKENDS as readonly string[]).includes(forced)) {
      throw fail(`engine: invalid CONVLAB_BACKEND. Expected one of ${BACKENDS.join(", ")}. Received: CONVLAB_BACKEND=${JSON.stringify(forced)}.`);
    }
    const name = forced as BackendName;
    const attempt = await ATTEMPTS[name]();
    if (!attempt.ok) {
      throw fail(`engine: CONVLAB_BACKEND=${name} is not available: ${attempt.reason}. To get it: ${attempt.howTo}; or unset CONVLAB_BACKEND to use the best available.`);
    }
    return { backend: name, details: attempt.details, skipped: {}, line: `convlab engine: ${describe(name, attempt.details)} (forced by CONVLAB_BACKEND)` };
  }
  const skipped: Partial<Record<BackendName, string>> = {};
  for (const name of BACKENDS) {
    const attempt = await ATTEMPTS[name]();
    if (attempt.ok) {
      const why = Object.entries(skipped).map(([n, r]) => `${n}: ${r}`);
      return {
        backend: name,
        details: attempt.details,
        skipped,
        line: `convlab engine: ${describe(name, attempt.details)}${why.length ? `; not used: ${why.join("; ")}` : ""}`,
      };
    }
    skipped[name] = attempt.reason;
  }
  throw fail("engine: no TensorFlow.js backend could be started. Expected at least the cpu backend of @tensorflow/tfjs; reinstall with npm ci.");
}

function describe(name: BackendName, details: Record<string, unknown>): string {
  switch (name) {
    case "native":
      return `backend native (oneDNN ${details.onednn}, ${details.isa}, ${details.threads} threads)`;
    case "wasm":
      return `backend wasm (${details.threads} thread${details.threads === 1 ? "" : "s"}${details.simd ? ", SIMD" : ""})`;
    case "tensorflow":
      return "backend tensorflow (tfjs-node)";
    case "cpu":
      return "backend cpu (plain JavaScript: slow for training)";
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
