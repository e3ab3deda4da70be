/**
 * Keras's training callbacks for tfjs's `model.fit` (and {@link fit}):
 * a Keras-like progress bar that updates one notebook output in place,
 * LearningRateScheduler, ReduceLROnPlateau, EarlyStopping and
 * ModelCheckpoint, with Keras's names, defaults and messages.
 *
 * They are `tf.Callback` subclasses: pass them in `callbacks: [...]` of
 * `fit(model, …)` or of tfjs's own `model.fit`. They read logs by Keras
 * names (`val_accuracy` finds tfjs's `val_acc`).
 */
import * as tf from "@tensorflow/tfjs";
import "@convlab/engine"; // registers the atomic file:// save handler ModelCheckpoint uses
import { closest, fail, show } from "@convlab/engine";
import { DisplayHandle, newDisplay } from "@convlab/kernel";
import { logValue, toKerasLogs } from "./compile";
import { getLearningRate, setLearningRate } from "./optimizers";
import { outerModel } from "./outer_model";
import { checkBoolean, checkNumber, checkOptions, pyExp4, pyFloat } from "./validate";

/** Logs as tfjs hands them to callbacks: numbers or scalar tensors. */
type RawLogs = { [key: string]: number | tf.Scalar };

/**
 * Replaces scalar tensors in `logs` by their values, in place, and disposes
 * them, as tfjs does for its CustomCallback (tfjs's BaseLogger, which runs
 * first, has already read them; tfjs skips numbers when it cleans up).
 */
async function resolveLogs(logs: RawLogs | undefined): Promise<Record<string, number>> {
  if (!logs) return {};
  for (const key of Object.keys(logs)) {
    const value = logs[key];
    if (typeof value !== "number" && value && typeof (value as tf.Tensor).data === "function") {
      const data = await (value as tf.Tensor).data();
      logs[key] = data[0];
      (value as tf.Tensor).dispose();
    }
  }
  return logs as Record<string, number>;
}

/** True inside the convlab kernel (it publishes its session under this symbol; see @convlab/kernel display.ts). */
function inKernel(): boolean {
  return (globalThis as Record<symbol, unknown>)[Symbol.for("convlab.kernel.session")] !== undefined;
}

/** Lets the kernel send what was displayed before the next training step. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Keras's Progbar number format: `%.4f`, or `%.4e` for |x| <= 1e-3. @internal */
export function formatValue(x: number): string {
  return Math.abs(x) > 1e-3 ? x.toFixed(4) : pyExp4(x);
}

/** Keras's `_format_time`: ` 12ms/step`, ` 2s/epoch`, ` 850us/step`. @internal */
export function formatTime(seconds: number, unit: string): string {
  if (seconds >= 1 || seconds === 0) return ` ${seconds.toFixed(0)}s/${unit}`;
  if (seconds >= 1e-3) return ` ${(seconds * 1e3).toFixed(0)}ms/${unit}`;
  return ` ${(seconds * 1e6).toFixed(0)}us/${unit}`;
}

/** Keras's ETA: `41s`, `2:05`, `1:02:05`. */
function formatEta(eta: number): string {
  const two = (n: number): string => String(Math.trunc(n)).padStart(2, "0");
  if (eta > 3600) return `${Math.trunc(eta / 3600)}:${two((eta % 3600) / 60)}:${two(eta % 60)}`;
  if (eta > 60) return `${Math.trunc(eta / 60)}:${two(eta % 60)}`;
  return `${Math.trunc(eta)}s`;
}

// ---------------------------------------------------------------- ProgressBar

/** Options of {@link ProgressBar}. */
export interface ProgressBarArgs {
  /**
   * 1: a bar per epoch, updated in place in the notebook (default);
   * 2: one line per epoch, as Keras's `verbose=2`.
   */
  verbose?: 1 | 2;
}

/**
 * Keras's training progress display:
 *
 * ```text
 * Epoch 1/5
 * 938/938 [==============================] - 12s 12ms/step - loss: 0.1764 - accuracy: 0.9453 - val_loss: 0.0634 - val_accuracy: 0.9800
 * ```
 *
 * In the convlab kernel each epoch is one output updated in place (bar, ETA,
 * running loss and metrics), at most 10 times a second; outside a kernel it
 * prints plain lines: `Epoch k/N` and the final line of each epoch.
 * "Epoch k/N" is shown when training for more than one epoch, as Keras does.
 *
 * @param args `verbose`: 1 (default) or 2 (one line per epoch).
 * @throws ConvlabError for an unknown option or verbose value.
 * @example
 * await model.fit(x, y, { epochs: 5, batchSize: 64, callbacks: [new ProgressBar()] });
 * Keras counterpart: `keras.callbacks.ProgbarLogger` (what `fit(verbose=1)` shows).
 * tfjs's `verbose: 1` prints nothing in Node without tfjs-node.
 */
export class ProgressBar extends tf.Callback {
  private readonly verbose: 1 | 2;
  private readonly intervalMs = 100;
  private readonly live: boolean;
  private epochs = 1;
  private steps: number | undefined;
  private handle: DisplayHandle | undefined;
  private header = "";
  private epochStart = 0;
  private afterFirstStep: number | undefined;
  private lastUpdate = 0;
  private seen = 0;
  private sums = new Map<string, { total: number; weight: number }>();

  constructor(args: ProgressBarArgs = {}) {
    super();
    const a = checkOptions("ProgressBar", args, ["verbose"]);
    const verbose = a.verbose ?? 1;
    if (verbose !== 1 && verbose !== 2) throw fail(`ProgressBar: invalid verbose. Expected 1 or 2. Received: verbose=${show(verbose)}.`);
    this.verbose = verbose;
    this.live = inKernel();
  }

  override async onTrainBegin(): Promise<void> {
    const p = this.params ?? {};
    this.epochs = typeof p.epochs === "number" ? p.epochs : 1;
    if (typeof p.steps === "number" && p.steps > 0) this.steps = p.steps;
    else if (typeof p.samples === "number" && typeof p.batchSize === "number") this.steps = Math.ceil(p.samples / p.batchSize);
    else this.steps = undefined;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.header = this.epochs > 1 ? `Epoch ${epoch + 1}/${this.epochs}` : "";
    this.epochStart = Date.now();
    this.afterFirstStep = undefined;
    this.lastUpdate = 0;
    this.seen = 0;
    this.sums.clear();
    this.handle = newDisplay();
    if (this.header) {
      this.handle.update(this.header);
      if (this.live) await yieldToEventLoop();
    }
  }

  override async onBatchEnd(batch: number, logs?: RawLogs): Promise<void> {
    const values = await resolveLogs(logs);
    const size = typeof values.size === "number" && values.size > 0 ? values.size : 1;
    this.seen = batch + 1;
    const now = Date.now();
    if (this.seen === 1) this.afterFirstStep = now;
    for (const [key, value] of toKerasLogs(this.model, values)) {
      const s = this.sums.get(key) ?? { total: 0, weight: 0 };
      s.total += value * size;
      s.weight += size;
      this.sums.set(key, s);
    }
    if (this.live && this.verbose === 1 && now - this.lastUpdate >= this.intervalMs) {
      this.lastUpdate = now;
      const averages: Array<[string, number]> = [...this.sums].map(([k, s]) => [k, s.total / Math.max(1, s.weight)]);
      this.handle?.update(this.withHeader(this.barLine(this.seen, averages, false, now)));
      await yieldToEventLoop();
    }
  }

  override async onEpochEnd(epoch: number, logs?: RawLogs): Promise<void> {
    const values = toKerasLogs(this.model, await resolveLogs(logs));
    const now = Date.now();
    const current = this.steps ?? this.seen;
    const line = this.verbose === 1 ? this.barLine(current, values, true, now) : this.epochLine(current, values, now);
    this.handle?.update(this.live ? this.withHeader(line) : line);
    if (this.live) await yieldToEventLoop();
  }

  private withHeader(line: string): string {
    return this.header ? `${this.header}\n${line}` : line;
  }

  /** Seconds per step, ignoring the (slow, warm-up) first step as Keras does. */
  private stepSeconds(current: number, now: number): number {
    if (current <= 0) return 0;
    if (this.afterFirstStep !== undefined && current > 1) return (now - this.afterFirstStep) / 1000 / (current - 1);
    return (now - this.epochStart) / 1000 / current;
  }

  private counter(current: number): string {
    if (this.steps === undefined) return `${String(current).padStart(7)}/Unknown`;
    const digits = Math.floor(Math.log10(this.steps)) + 1;
    return `${String(current).padStart(digits)}/${this.steps}`;
  }

  private barLine(current: number, values: Array<[string, number]>, final: boolean, now: number): string {
    let bar = this.counter(current);
    if (this.steps !== undefined) {
      const width = 30;
      const filled = Math.floor((width * Math.min(current, this.steps)) / this.steps);
      bar += " [";
      if (filled > 0) bar += "=".repeat(filled - 1) + (current < this.steps ? ">" : "=");
      bar += ".".repeat(width - filled) + "]";
    }
    const perStep = this.stepSeconds(current, now);
    let info: string;
    if (final || this.steps === undefined) {
      info = ` - ${((now - this.epochStart) / 1000).toFixed(0)}s${formatTime(perStep, "step")}`;
    } else {
      info = ` - ETA: ${formatEta(perStep * (this.steps - current))}`;
    }
    for (const [k, v] of values) info += ` - ${k}: ${formatValue(v)}`;
    return bar + info;
  }

  private epochLine(current: number, values: Array<[string, number]>, now: number): string {
    const seconds = (now - this.epochStart) / 1000;
    let line = `${this.counter(current)} - ${seconds.toFixed(0)}s`;
    for (const [k, v] of values) line += ` - ${k}: ${formatValue(v)}`;
    line += ` -${formatTime(seconds, "epoch")} -${formatTime(current > 0 ? seconds / current : 0, "step")}`;
    return line;
  }
}

// ---------------------------------------------------------------- learning rate

/**
 * Sets the learning rate at the start of every epoch to
 * `schedule(epoch, currentLr)` (epoch counted from 0), and records it as
 * `lr` in the logs (so `history.history.lr`).
 *
 * @param schedule `(epoch, lr) => newLr`; must return a finite number >= 0.
 * @param verbose 1 prints `Epoch 1: LearningRateScheduler setting learning rate to 0.1.`; default 0.
 * @throws ConvlabError (during fit) when the schedule returns something else,
 *   or the model's optimizer has no learning rate.
 * @example
 * const reduceLr = new LearningRateScheduler((epoch) => 1e-1 * 0.9 ** epoch);
 * await fit(model, x, y, { epochs: 5, batchSize: 64, callbacks: [reduceLr] });
 * Keras counterpart: `keras.callbacks.LearningRateScheduler(lambda epoch: 1e-1 * 0.9 ** epoch)`.
 * Works with this package's optimizers and tfjs's (SGD through setLearningRate).
 */
export class LearningRateScheduler extends tf.Callback {
  private readonly schedule: (epoch: number, lr: number) => number;
  private readonly verbose: number;

  constructor(schedule: (epoch: number, lr: number) => number, verbose: 0 | 1 = 0) {
    super();
    if (typeof schedule !== "function") {
      throw fail(`LearningRateScheduler: invalid schedule. Expected a function (epoch, lr) => number. Received: schedule=${show(schedule)}.`);
    }
    this.schedule = schedule;
    this.verbose = checkNumber("LearningRateScheduler", "verbose", verbose, { min: 0, max: 2, integer: true });
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    const current = getLearningRate("LearningRateScheduler", this.model?.optimizer);
    const lr = this.schedule(epoch, current);
    if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0) {
      throw fail(`LearningRateScheduler: invalid schedule output. Expected a finite number >= 0. Received: schedule(${epoch}, ${pyFloat(current)})=${show(lr)}.`);
    }
    setLearningRate("LearningRateScheduler", this.model.optimizer, lr);
    if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${pyFloat(lr)}.`);
  }

  override async onEpochEnd(_epoch: number, logs?: RawLogs): Promise<void> {
    if (logs) logs.lr = getLearningRate("LearningRateScheduler", this.model?.optimizer);
  }
}

type Mode = "auto" | "min" | "max";

function checkMode(unit: string, mode: unknown): Mode {
  if (mode === undefined) return "auto";
  if (mode === "auto" || mode === "min" || mode === "max") return mode;
  const hint = typeof mode === "string" ? closest(mode, ["auto", "min", "max"]) : undefined;
  throw fail(`${unit}: invalid mode. Expected one of "auto", "min", "max". Received: mode=${show(mode)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
}

function checkMonitor(unit: string, monitor: unknown): string {
  if (monitor === undefined) return "val_loss";
  if (typeof monitor !== "string" || monitor === "") {
    throw fail(`${unit}: invalid monitor. Expected a log name such as "val_loss" or "val_accuracy". Received: monitor=${show(monitor)}.`);
  }
  return monitor;
}

function warnMissing(unit: string, monitor: string, model: tf.LayersModel | undefined, logs: Record<string, number>): void {
  const available = toKerasLogs(model, logs).map(([k]) => k);
  console.warn(`${unit}: the monitored value \`${monitor}\` is not in the logs (available: ${available.join(", ")}); skipping.`);
}

/** Options of {@link ReduceLROnPlateau}; Keras names in camelCase. */
export interface ReduceLROnPlateauArgs {
  /** Log to watch, Keras name. Default "val_loss". */
  monitor?: string;
  /** New rate = rate * factor, in [0, 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement before reducing, >= 0. Default 10. */
  patience?: number;
  /** 1 prints a line when the rate is reduced. Default 0. */
  verbose?: number;
  /** "min", "max", or "auto" (max when the monitor contains "acc"). Default "auto". */
  mode?: Mode;
  /** Smallest change that counts as improvement, >= 0. Default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again, >= 0. Default 0. */
  cooldown?: number;
  /** Lower bound of the rate, >= 0. Default 0. */
  minLr?: number;
}

/**
 * Multiplies the learning rate by `factor` when `monitor` has not improved
 * for `patience` epochs; records the rate as `lr` in the logs.
 *
 * @throws ConvlabError for an unknown option or a value out of range.
 * @example
 * new ReduceLROnPlateau({ monitor: "val_loss", factor: 0.5, patience: 2, minLr: 1e-5 })
 * Keras counterpart: `keras.callbacks.ReduceLROnPlateau(monitor='val_loss', factor=0.1, patience=10, mode='auto', min_delta=1e-4, cooldown=0, min_lr=0)`.
 */
export class ReduceLROnPlateau extends tf.Callback {
  private readonly monitor: string;
  private readonly factor: number;
  private readonly patience: number;
  private readonly verbose: number;
  private readonly mode: Mode;
  private readonly minDelta: number;
  private readonly cooldown: number;
  private readonly minLr: number;
  private best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;
  private better: (a: number, b: number) => boolean = () => false;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    const unit = "ReduceLROnPlateau";
    const a = checkOptions(unit, args, ["monitor", "factor", "patience", "verbose", "mode", "minDelta", "cooldown", "minLr"]);
    this.monitor = checkMonitor(unit, a.monitor);
    this.factor = checkNumber(unit, "factor", a.factor ?? 0.1, { min: 0, max: 1, exclusiveMax: true });
    this.patience = checkNumber(unit, "patience", a.patience ?? 10, { min: 0, integer: true });
    this.verbose = checkNumber(unit, "verbose", a.verbose ?? 0, { min: 0, max: 2, integer: true });
    this.mode = checkMode(unit, a.mode);
    this.minDelta = checkNumber(unit, "minDelta", a.minDelta ?? 1e-4, { min: 0 });
    this.cooldown = checkNumber(unit, "cooldown", a.cooldown ?? 0, { min: 0, integer: true });
    this.minLr = checkNumber(unit, "minLr", a.minLr ?? 0, { min: 0 });
  }

  override async onTrainBegin(): Promise<void> {
    const maximize = this.mode === "max" || (this.mode === "auto" && this.monitor.includes("acc"));
    this.better = maximize ? (a, b) => a > b + this.minDelta : (a, b) => a < b - this.minDelta;
    this.best = maximize ? -Infinity : Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  override async onEpochEnd(epoch: number, logs?: RawLogs): Promise<void> {
    const values = await resolveLogs(logs);
    const optimizer = this.model?.optimizer;
    values.lr = getLearningRate("ReduceLROnPlateau", optimizer);
    const current = logValue(this.model, values, this.monitor);
    if (current === undefined) {
      warnMissing("ReduceLROnPlateau", this.monitor, this.model, values);
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.better(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const old = getLearningRate("ReduceLROnPlateau", optimizer);
        if (old > Math.fround(this.minLr)) {
          const lr = Math.max(old * this.factor, this.minLr);
          setLearningRate("ReduceLROnPlateau", optimizer, lr);
          if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${pyFloat(lr)}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- EarlyStopping

/** Options of {@link EarlyStopping}; Keras names in camelCase. */
export interface EarlyStoppingArgs {
  /** Log to watch, Keras name. Default "val_loss". */
  monitor?: string;
  /** Smallest change that counts as improvement, >= 0. Default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping, >= 0. Default 0. */
  patience?: number;
  /** 1 prints `Epoch k: early stopping`. Default 0. */
  verbose?: number;
  /** "min", "max", or "auto" (max for names ending in acc/accuracy/auc). Default "auto". */
  mode?: Mode;
  /** Stop unless the monitor beats this value. Default none. */
  baseline?: number;
  /** Put back the weights of the best epoch when stopping. Default false. */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when `monitor` has not improved for `patience` epochs.
 *
 * @throws ConvlabError for an unknown option or a value out of range.
 * @example
 * new EarlyStopping({ monitor: "val_accuracy", patience: 3, restoreBestWeights: true })
 * Keras counterpart: `keras.callbacks.EarlyStopping(monitor='val_loss', min_delta=0, patience=0, mode='auto', baseline=None, restore_best_weights=False)`.
 * tfjs's `tf.callbacks.earlyStopping` cannot restore the best weights and
 * does not know `val_accuracy`.
 */
export class EarlyStopping extends tf.Callback {
  private readonly monitor: string;
  private readonly minDelta: number;
  private readonly patience: number;
  private readonly verbose: number;
  private readonly mode: Mode;
  private readonly baseline: number | undefined;
  private readonly restoreBestWeights: boolean;
  private wait = 0;
  private best = Infinity;
  private bestEpoch = 0;
  private bestWeights: tf.Tensor[] | undefined;
  private maximize = false;
  /** The epoch (from 0) at which training was stopped, 0 when it was not. */
  stoppedEpoch = 0;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    const unit = "EarlyStopping";
    const a = checkOptions(unit, args, ["monitor", "minDelta", "patience", "verbose", "mode", "baseline", "restoreBestWeights"]);
    this.monitor = checkMonitor(unit, a.monitor);
    this.minDelta = Math.abs(checkNumber(unit, "minDelta", a.minDelta ?? 0, { min: 0 }));
    this.patience = checkNumber(unit, "patience", a.patience ?? 0, { min: 0, integer: true });
    this.verbose = checkNumber(unit, "verbose", a.verbose ?? 0, { min: 0, max: 2, integer: true });
    this.mode = checkMode(unit, a.mode);
    this.baseline = a.baseline === undefined ? undefined : checkNumber(unit, "baseline", a.baseline);
    this.restoreBestWeights = checkBoolean(unit, "restoreBestWeights", a.restoreBestWeights ?? false);
  }

  private improves(value: number, reference: number): boolean {
    return this.maximize ? value - this.minDelta > reference : value + this.minDelta < reference;
  }

  override async onTrainBegin(): Promise<void> {
    const m = this.monitor;
    this.maximize = this.mode === "max" || (this.mode === "auto" && (m.endsWith("acc") || m.endsWith("accuracy") || m.endsWith("auc")));
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.maximize ? -Infinity : Infinity;
    this.bestEpoch = 0;
    this.disposeBest();
  }

  override async onEpochEnd(epoch: number, logs?: RawLogs): Promise<void> {
    const values = await resolveLogs(logs);
    const current = logValue(this.model, values, this.monitor);
    if (current === undefined) {
      warnMissing("EarlyStopping", this.monitor, this.model, values);
      return;
    }
    if (this.restoreBestWeights && this.bestWeights === undefined) this.keepWeights();
    this.wait += 1;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.keepWeights();
      if (this.baseline === undefined || this.improves(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) {
        if (this.verbose > 0) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
        this.model.setWeights(this.bestWeights);
      }
    }
  }

  override async onTrainEnd(): Promise<void> {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    this.disposeBest();
  }

  private keepWeights(): void {
    this.disposeBest();
    this.bestWeights = this.model.getWeights().map((w) => w.clone());
  }

  private disposeBest(): void {
    if (this.bestWeights) tf.dispose(this.bestWeights);
    this.bestWeights = undefined;
  }
}

// ---------------------------------------------------------------- ModelCheckpoint

/** Options of {@link ModelCheckpoint}; Keras names in camelCase. */
export interface ModelCheckpointArgs {
  /** Log watched when `saveBestOnly`, Keras name. Default "val_loss". */
  monitor?: string;
  /** 1 prints a line at every save or skip. Default 0. */
  verbose?: number;
  /** Save only when `monitor` improves. Default false. */
  saveBestOnly?: boolean;
  /** "min", "max", or "auto" (max when the monitor contains "acc"). Default "auto". */
  mode?: Mode;
  /** Save the optimizer state too, as Keras's full-model save. Default true. */
  includeOptimizer?: boolean;
}

/** Python's format spec for one value: `{epoch:02d}`, `{val_loss:.2f}`, `{epoch}`. */
function formatField(value: number, spec: string | undefined, isInteger: boolean): string | undefined {
  if (spec === undefined || spec === "") return isInteger ? String(value) : pyFloat(value);
  const m = /^(0?)(\d*)(?:\.(\d+))?([dfeg]?)$/.exec(spec);
  if (!m) return undefined;
  const [, zero, widthText, precisionText, type] = m;
  const precision = precisionText === undefined ? 6 : Number(precisionText);
  let text: string;
  if (type === "d") {
    if (!Number.isInteger(value)) return undefined;
    text = String(Math.abs(value));
  } else if (type === "e") text = pyExpPrecision(Math.abs(value), precision);
  else if (type === "f" || precisionText !== undefined) text = Math.abs(value).toFixed(precision);
  else text = isInteger ? String(Math.abs(value)) : pyFloat(Math.abs(value));
  const sign = value < 0 ? "-" : "";
  const width = widthText ? Number(widthText) : 0;
  if (zero) return sign + text.padStart(Math.max(0, width - sign.length), "0");
  return (sign + text).padStart(width);
}

function pyExpPrecision(x: number, digits: number): string {
  const [m, e] = x.toExponential(digits).split("e");
  const exp = Number(e);
  return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function pyFixed5(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return x.toFixed(5);
}

/**
 * Saves the model after every epoch (or only when `monitor` improves) with
 * `model.save("file://…")`: a folder with `model.json` and `weights.bin`,
 * written atomically (a crash never leaves a half-written model). The path
 * may hold Keras fields: `"checkpoints/model-{epoch:02d}-{val_loss:.2f}"`.
 *
 * @param filepath A folder path (file:// is added) or a tfjs URL; fields
 *   `{epoch}` (from 1) and any log by Keras name, with Python format specs.
 * @throws ConvlabError for an invalid path, field, option or value.
 * @example
 * const checkpoint = new ModelCheckpoint("models/best", { monitor: "val_accuracy", saveBestOnly: true });
 * await fit(model, x, y, { epochs: 5, validationSplit: 0.1, callbacks: [checkpoint] });
 * const best = await tf.loadLayersModel("file://models/best/model.json");
 * Keras counterpart: `keras.callbacks.ModelCheckpoint(filepath, monitor='val_loss', save_best_only=False, mode='auto')`
 * (Keras writes one `.h5`/`.keras` file; this writes a tfjs model folder).
 */
export class ModelCheckpoint extends tf.Callback {
  readonly filepath: string;
  private readonly monitor: string;
  private readonly verbose: number;
  private readonly saveBestOnly: boolean;
  private readonly mode: Mode;
  private readonly includeOptimizer: boolean;
  private best = Infinity;
  private maximize = false;

  constructor(filepath: string, args: ModelCheckpointArgs = {}) {
    super();
    const unit = "ModelCheckpoint";
    if (typeof filepath !== "string" || filepath.trim() === "" || filepath === "file://") {
      throw fail(`${unit}: invalid filepath. Expected a folder path such as "models/best" or "file://models/best". Received: filepath=${show(filepath)}.`);
    }
    const a = checkOptions(unit, args, ["monitor", "verbose", "saveBestOnly", "mode", "includeOptimizer"]);
    this.filepath = filepath;
    this.monitor = checkMonitor(unit, a.monitor);
    this.verbose = checkNumber(unit, "verbose", a.verbose ?? 0, { min: 0, max: 2, integer: true });
    this.saveBestOnly = checkBoolean(unit, "saveBestOnly", a.saveBestOnly ?? false);
    this.mode = checkMode(unit, a.mode);
    this.includeOptimizer = checkBoolean(unit, "includeOptimizer", a.includeOptimizer ?? true);
    // Check the fields now rather than after the first epoch.
    this.format(0, Object.fromEntries([...this.fields()].map((f) => [f, 0.5])));
  }

  private fields(): Set<string> {
    return new Set([...this.filepath.matchAll(/\{(\w+)(?::[^}]*)?\}/g)].map((m) => m[1]).filter((f) => f !== "epoch"));
  }

  private format(epoch: number, logs: Record<string, number>): string {
    const values: Record<string, number> = { ...logs, epoch: epoch + 1 };
    return this.filepath.replace(/\{(\w+)(?::([^}]*))?\}/g, (field, name: string, spec: string | undefined) => {
      if (!(name in values)) {
        const hint = closest(name, Object.keys(values));
        throw fail(`ModelCheckpoint: invalid filepath. Expected fields among {epoch} and the logs (${Object.keys(logs).join(", ")}). Received: ${field} in filepath=${show(this.filepath)}.${hint ? ` Did you mean \`${hint}\`?` : ""}`);
      }
      const text = formatField(values[name], spec, name === "epoch");
      if (text === undefined) throw fail(`ModelCheckpoint: invalid filepath. Expected a Python format spec such as {epoch:02d} or {val_loss:.2f}. Received: ${field}.`);
      return text;
    });
  }

  override async onTrainBegin(): Promise<void> {
    this.maximize = this.mode === "max" || (this.mode === "auto" && (this.monitor.includes("acc") || this.monitor.startsWith("fmeasure")));
    this.best = this.maximize ? -Infinity : Infinity;
  }

  override async onEpochEnd(epoch: number, logs?: RawLogs): Promise<void> {
    const values = await resolveLogs(logs);
    const keras = Object.fromEntries(toKerasLogs(this.model, values));
    const path = this.format(epoch, keras);
    if (this.saveBestOnly) {
      const current = keras[this.monitor];
      if (current === undefined) {
        warnMissing("ModelCheckpoint", this.monitor, this.model, values);
        return;
      }
      const improved = this.maximize ? current > this.best : current < this.best;
      if (!improved) {
        if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: ${this.monitor} did not improve from ${pyFixed5(this.best)}`);
        return;
      }
      if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: ${this.monitor} improved from ${pyFixed5(this.best)} to ${pyFixed5(current)}, saving model to ${path}`);
      this.best = current;
    } else if (this.verbose > 0) {
      console.log(`\nEpoch ${epoch + 1}: saving model to ${path}`);
    }
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path : `file://${path}`;
    // tfjs hands callbacks a Sequential's inner functional model; save the Sequential, as Keras.
    await outerModel(this.model).save(url, { includeOptimizer: this.includeOptimizer });
  }
}
