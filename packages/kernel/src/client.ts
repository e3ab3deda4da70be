/**
 * A Jupyter client for one convlab kernel process: starts the kernel, runs
 * code on it and turns what it publishes into nbformat 4 outputs, and never
 * leaves a process or a socket behind.
 *
 * Used by `convlab run` (see ./runner.ts); usable on its own in tests.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes, randomUUID } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as zmq from "zeromq";
import { ConvlabError } from "./errors";
import type { NbDisplayDataOutput, NbExecuteResultOutput, NbOutput } from "./notebook_file";
import { ConnectionInfo, Message, OrderedSender, decode, newMessage } from "./wire";

/** Options of {@link KernelClient.start}. */
export interface KernelClientOptions {
  /** Working folder of the kernel (for `convlab run`, the notebook's folder). Must exist. */
  cwd: string;
  /**
   * Variables added to the runner's own environment for the kernel (the
   * runner's environment passes through; these win on conflicts).
   */
  env?: Record<string, string | undefined>;
  /**
   * The command that starts the kernel, `{connection_file}` standing for the
   * connection file's path, as in a kernelspec. Defaults to
   * `[process.execPath, <packages/kernel/dist/cli.js>, "kernel", "{connection_file}"]`.
   */
  argv?: string[];
  /** How long the kernel may take to answer `kernel_info_request`, in ms. Default 60,000. */
  startupTimeoutMs?: number;
}

/** Options of {@link KernelClient.execute}. */
export interface ExecuteOptions {
  /** Called with every iopub message whose parent is this request, in order of arrival. */
  onIopub?: (msg: Message) => void;
  /** Rejects with {@link TimeoutError} when the request has not finished after this many ms. Default: no limit. */
  timeoutMs?: number;
  /**
   * The array that receives the outputs as they arrive, e.g. a notebook
   * cell's `outputs`, so a partial notebook can be saved at any moment.
   * Default: a new array.
   */
  outputs?: NbOutput[];
}

/** What {@link KernelClient.execute} resolves to. */
export interface ExecuteResult {
  /** The kernel's `execute_reply` (content.status is "ok", "error" or "abort"). */
  reply: Message;
  /** The request's iopub messages as nbformat 4 outputs. */
  outputs: NbOutput[];
}

/** The kernel process could not be started or did not become ready. */
export class KernelStartError extends ConvlabError {
  override name = "KernelStartError";

  constructor(
    message: string,
    /** The kernel could not bind a port of its connection file (start is retried on new ports). */
    readonly portTaken = false,
  ) {
    super(message);
  }
}

/**
 * The kernel process exited while a request was running (a cell called
 * `process.exit()`, crashed Node, or was killed, e.g. out of memory).
 */
export class KernelDiedError extends ConvlabError {
  override name = "KernelDiedError";

  constructor(
    /** The process's exit code, or null when it was ended by a signal. */
    readonly exitCode: number | null,
    /** The signal that ended it, or null. */
    readonly signal: NodeJS.Signals | null,
    /** Outputs the request produced before the kernel died. */
    readonly outputs: NbOutput[],
    /** Last lines the kernel wrote on its stderr while the request ran (often empty). */
    readonly stderrTail: string[],
  ) {
    super(
      `KernelClient: ${describeExit(exitCode, signal)} while a request was running. ` +
        "Expected the kernel to stay up; look for process.exit() or a crash in the code it ran.",
    );
  }

  /** "the kernel died (exit code 0)" or "the kernel died (signal SIGKILL)". */
  get reason(): string {
    return describeExit(this.exitCode, this.signal);
  }
}

/**
 * A request did not finish within its time limit. The request keeps
 * running in the kernel: the caller decides whether to interrupt or kill.
 */
export class TimeoutError extends ConvlabError {
  override name = "TimeoutError";

  constructor(
    /** The limit that was exceeded, in ms. */
    readonly timeoutMs: number,
    /** The request's outputs; this array keeps growing while the request runs. */
    readonly outputs: NbOutput[],
    /** Resolves true when the request finishes after all, false when the kernel goes away first. */
    readonly finished: Promise<boolean>,
  ) {
    super(
      `KernelClient: the request did not finish within ${formatSeconds(timeoutMs / 1000)} s. ` +
        "Expected it to end in time; interrupt the kernel or raise the timeout.",
    );
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `the kernel died (signal ${signal})` : `the kernel died (exit code ${code})`;
}

function formatSeconds(s: number): string {
  return Number.isInteger(s) ? String(s) : s.toFixed(2);
}

/** Path of the compiled `convlab` command line, from src/ (ts-jest) or dist/. */
export function defaultCliPath(): string {
  return path.resolve(__dirname, "..", "dist", "cli.js");
}

/** Outputs that `update_display_data` can change. */
type DisplayOutput = NbDisplayDataOutput | NbExecuteResultOutput;

/**
 * Turns the iopub messages of one request into nbformat 4 outputs, as
 * Jupyter Notebook would save them: consecutive streams of the same name are
 * merged, `update_display_data` rewrites every earlier output with the same
 * `transient.display_id` (also in earlier cells, when the registry is
 * shared), and `clear_output` clears now or, with `wait: true`, just before
 * the next output arrives.
 */
export class OutputCollector {
  private clearPending = false;

  /**
   * @param displays - Registry of outputs by display id; share one between
   *   the cells of a notebook so later cells can update earlier displays.
   * @param outputs - The outputs so far. The array is kept (and mutated), never replaced.
   */
  constructor(
    private readonly displays: Map<string, DisplayOutput[]> = new Map(),
    readonly outputs: NbOutput[] = [],
  ) {}

  /** Adds one iopub message; messages that are not outputs (status, execute_input, ...) are ignored. */
  add(msg: Message): void {
    const content = msg.content ?? {};
    switch (msg.header.msg_type) {
      case "stream": {
        const name = content.name === "stderr" ? "stderr" : "stdout";
        const text = String(content.text ?? "");
        this.flushClear();
        const last = this.outputs[this.outputs.length - 1];
        if (last && last.output_type === "stream" && last.name === name) {
          last.text = (Array.isArray(last.text) ? last.text.join("") : last.text) + text;
        } else {
          this.outputs.push({ output_type: "stream", name, text });
        }
        return;
      }
      case "display_data":
      case "execute_result": {
        this.flushClear();
        const data = { ...(content.data ?? {}) };
        const metadata = { ...(content.metadata ?? {}) };
        const output: DisplayOutput =
          msg.header.msg_type === "execute_result"
            ? {
                output_type: "execute_result",
                execution_count: typeof content.execution_count === "number" ? content.execution_count : null,
                data,
                metadata,
              }
            : { output_type: "display_data", data, metadata };
        this.outputs.push(output);
        const id = content.transient?.display_id;
        if (typeof id === "string") {
          const list = this.displays.get(id) ?? [];
          list.push(output);
          this.displays.set(id, list);
        }
        return;
      }
      case "update_display_data": {
        const id = content.transient?.display_id;
        if (typeof id !== "string") return;
        for (const output of this.displays.get(id) ?? []) {
          output.data = { ...(content.data ?? {}) };
          output.metadata = { ...(content.metadata ?? {}) };
        }
        return;
      }
      case "error": {
        this.flushClear();
        this.outputs.push({
          output_type: "error",
          ename: String(content.ename ?? "Error"),
          evalue: String(content.evalue ?? ""),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        });
        return;
      }
      case "clear_output": {
        if (content.wait) this.clearPending = true;
        else this.clearNow();
        return;
      }
      default:
        return;
    }
  }

  private flushClear(): void {
    if (this.clearPending) this.clearNow();
  }

  private clearNow(): void {
    this.clearPending = false;
    this.outputs.length = 0;
  }
}

interface Execution {
  msgId: string;
  /** Where the kernel's stderr was when the request was sent. */
  stderrMark: number;
  collector: OutputCollector;
  onIopub?: (msg: Message) => void;
  reply?: Message;
  idle: boolean;
  settled: boolean;
  timer?: NodeJS.Timeout;
  resolve(result: ExecuteResult): void;
  reject(error: Error): void;
  finish(ok: boolean): void;
}

/** Every client with a live process, killed if the runner exits without shutting them down. */
const live = new Set<KernelClient>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const client of live) client.killSync();
  });
}

async function freePorts(count: number): Promise<number[]> {
  // All servers stay open until every port is known, so the ports are distinct.
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

const TAIL_LINES = 40;

/** Keeps the last lines written on a stream. */
class LineTail {
  private readonly lines: string[] = [];
  private partial = "";
  /** Complete lines pushed so far (including those dropped from the buffer). */
  private total = 0;

  push(chunk: Buffer | string): void {
    const parts = (this.partial + chunk.toString()).split(/\r?\n/);
    this.partial = parts.pop() ?? "";
    this.lines.push(...parts);
    this.total += parts.length;
    if (this.lines.length > TAIL_LINES) this.lines.splice(0, this.lines.length - TAIL_LINES);
  }

  /** A position to pass to {@link tail} later. */
  mark(): number {
    return this.total;
  }

  /** The last non-empty lines (only those after `since`, a {@link mark}), oldest first. */
  tail(count = TAIL_LINES, since = 0): string[] {
    const fresh = Math.min(this.lines.length, this.total - since);
    const all = [...this.lines.slice(this.lines.length - fresh), ...(this.partial ? [this.partial] : [])];
    return all.filter((line) => line.trim() !== "").slice(-count);
  }
}

/** Strips ANSI colour codes (tracebacks are coloured). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * The stderr worth quoting in a one-line error: the first line that names
 * an error (Node prints a stack and its version after it), else the last
 * three lines, joined with " | ".
 */
function quoteTail(lines: string[]): string {
  const clean = lines.map((line) => stripAnsi(line).trim()).filter((line) => line !== "");
  const key = clean.find((line) => /(^|\b)(\w*Error\b|Cannot find module|EADDRINUSE|Address already in use)/.test(line));
  const text = key ?? clean.slice(-3).join(" | ");
  return JSON.stringify(text.length > 400 ? `…${text.slice(-400)}` : text);
}

/** What to do about a kernel that failed to start, from its stderr. */
function startHint(stderr: string[]): string {
  const text = stderr.join("\n");
  const missing = /Cannot find module '([^']+)'/.exec(text);
  if (missing) {
    const name = missing[1];
    if (/^(tslab|zeromq|typescript)(\/|$)/.test(name)) {
      return `${name.split("/")[0]} is not installed: run \`npm install\` at the project root.`;
    }
    if (/dist[\\/]/.test(name)) return "The kernel is not built: run `npm run build -w @convlab/kernel`.";
    return `The module ${JSON.stringify(name)} is missing: run \`npm install\` at the project root.`;
  }
  if (/EADDRINUSE|Address already in use/i.test(text)) return "A port of the connection file was taken by another process; run again.";
  return "Check that the kernel starts by hand: node packages/kernel/dist/cli.js kernel <connection_file>.";
}

/**
 * A Jupyter client for one convlab kernel process.
 *
 * Start one with {@link KernelClient.start}, run code with
 * {@link KernelClient.execute}, and always end with
 * {@link KernelClient.shutdown} (or {@link KernelClient.kill}); if the
 * runner exits first, live kernels are killed by a process `exit` hook.
 *
 * The kernel runs in its own process group (so a Ctrl-C in the terminal
 * reaches the runner only, which then decides what happens to the kernel),
 * with `JPY_PARENT_PID` set to the runner's pid, as jupyter_client does.
 *
 * @example
 * const kernel = await KernelClient.start({ cwd: "notebooks" });
 * try {
 *   const { outputs } = await kernel.execute("console.log(1 + 1)");
 *   // outputs: [{ output_type: "stream", name: "stdout", text: "2\n" }]
 * } finally {
 *   await kernel.shutdown();
 * }
 */
export class KernelClient {
  /** Content of the kernel's `kernel_info_reply` (language_info, implementation, ...). */
  kernelInfo: Record<string, any> = {};

  private readonly session = randomUUID();
  private readonly shell = new zmq.Dealer({ linger: 0 });
  private readonly control = new zmq.Dealer({ linger: 0 });
  private readonly iopub = new zmq.Subscriber({ linger: 0 });
  private readonly shellSender: OrderedSender;
  private readonly controlSender: OrderedSender;
  private readonly stderr = new LineTail();
  private readonly stdout = new LineTail();
  private readonly shellWaiters = new Map<string, (msg: Message) => void>();
  private readonly iopubWatchers = new Set<(msg: Message) => void>();
  private readonly executions = new Map<string, Execution>();
  private readonly displays = new Map<string, DisplayOutput[]>();
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null; error?: Error };
  private readonly exitWaiters: Array<() => void> = [];
  private closed = false;
  private shutdownPromise?: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly connection: ConnectionInfo,
    private readonly tmpDir: string,
    private readonly command: string[],
  ) {
    this.shellSender = new OrderedSender(this.shell, connection.key);
    this.controlSender = new OrderedSender(this.control, connection.key);
    child.stderr?.on("data", (chunk) => this.stderr.push(chunk));
    child.stdout?.on("data", (chunk) => this.stdout.push(chunk));
    // A kernel that stops reading its stdin must not break the runner.
    child.stdin?.on("error", () => {});
    child.on("error", (error) => this.onExit(null, null, error));
    child.on("exit", (code, signal) => this.onExit(code, signal));
  }

  /**
   * Starts a kernel and waits until it answers on shell and publishes on iopub.
   *
   * Writes a connection file (tcp on 127.0.0.1, five free ports, a random
   * HMAC-SHA256 key) in a new temporary folder, spawns the kernel with
   * `cwd` and the merged environment, connects shell, control (dealers) and
   * iopub (subscriber), then sends `kernel_info_request` every 200 ms until
   * a `kernel_info_reply` has arrived and iopub has delivered the status of
   * one of those requests (iopub is a slow joiner: messages published before
   * the subscription is connected are lost).
   *
   * @throws KernelStartError (one line) when the kernel is not built, the
   *   command is not found, the process exits before it is ready (with the
   *   last lines of its stderr and the likely cause) or it is not ready
   *   within `startupTimeoutMs`. Nothing is left running in that case.
   */
  static async start(options: KernelClientOptions): Promise<KernelClient> {
    // A probed port can be taken by another process before the kernel binds
    // it; that start fails fast with EADDRINUSE and is retried on new ports.
    for (let attempt = 1; ; attempt++) {
      try {
        return await KernelClient.startOnce(options);
      } catch (error) {
        if (!(error instanceof KernelStartError && error.portTaken && attempt < 3)) throw error;
      }
    }
  }

  private static async startOnce(options: KernelClientOptions): Promise<KernelClient> {
    const cwd = path.resolve(options.cwd);
    if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) {
      throw new KernelStartError(`KernelClient: the working folder ${cwd} does not exist. Expected an existing folder as cwd.`);
    }
    if (!options.argv) {
      const cli = defaultCliPath();
      if (!fs.existsSync(cli)) {
        throw new KernelStartError(
          `KernelClient: the kernel is not built (${cli} does not exist). Run \`npm run build -w @convlab/kernel\`.`,
        );
      }
    }
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = await freePorts(5);
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "convlab-kernel-"));
    const connection: ConnectionInfo = {
      transport: "tcp",
      ip: "127.0.0.1",
      key: randomBytes(32).toString("hex"),
      signature_scheme: "hmac-sha256",
      shell_port: shellPort,
      iopub_port: iopubPort,
      stdin_port: stdinPort,
      control_port: controlPort,
      hb_port: hbPort,
      kernel_name: "convlab",
    };
    const connectionFile = path.join(tmpDir, "kernel.json");
    fs.writeFileSync(connectionFile, JSON.stringify(connection, null, 1), { mode: 0o600 });
    const template = options.argv ?? [process.execPath, defaultCliPath(), "kernel", "{connection_file}"];
    const command = template.map((arg) => arg.split("{connection_file}").join(connectionFile));
    const env: NodeJS.ProcessEnv = { ...process.env, JPY_PARENT_PID: String(process.pid) };
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const child = spawn(command[0], command.slice(1), {
      cwd,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const client = new KernelClient(child, connection, tmpDir, command);
    if (child.pid !== undefined) live.add(client);
    installExitHook();
    try {
      client.connect();
      await client.waitReady(options.startupTimeoutMs ?? 60_000);
    } catch (error) {
      await client.kill();
      throw error;
    }
    return client;
  }

  /** Process id of the kernel (undefined if it could not be spawned). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True once the kernel process has exited. */
  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Last lines the kernel wrote on stderr, oldest first. */
  stderrTail(count = 10): string[] {
    return this.stderr.tail(count);
  }

  /**
   * Runs `code` (execute_request with silent false, store_history true,
   * allow_stdin false, stop_on_error false) and resolves when both the
   * `execute_reply` and the iopub `status: idle` of the request have
   * arrived, so every output is in.
   *
   * A failing cell resolves (reply.content.status "error", and an `error`
   * output when the kernel published one); only transport problems reject.
   *
   * @throws KernelDiedError when the kernel process exits before the request finishes.
   * @throws TimeoutError after `timeoutMs`; the request keeps running, see {@link TimeoutError.finished}.
   * @throws ConvlabError when called after {@link shutdown} or {@link kill}.
   */
  execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const request = newMessage(
      "execute_request",
      { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false },
      undefined,
      this.session,
    );
    const msgId = request.header.msg_id;
    return new Promise<ExecuteResult>((resolve, reject) => {
      let finish!: (ok: boolean) => void;
      const finished = new Promise<boolean>((done) => (finish = done));
      const execution: Execution = {
        msgId,
        stderrMark: this.stderr.mark(),
        collector: new OutputCollector(this.displays, options.outputs ?? []),
        onIopub: options.onIopub,
        idle: false,
        settled: false,
        resolve: (result) => {
          if (!execution.settled) {
            execution.settled = true;
            resolve(result);
          }
        },
        reject: (error) => {
          if (!execution.settled) {
            execution.settled = true;
            reject(error);
          }
        },
        finish: (ok) => {
          if (execution.timer) clearTimeout(execution.timer);
          this.executions.delete(msgId);
          finish(ok);
        },
      };
      if (this.closed) {
        execution.reject(
          new ConvlabError("KernelClient: the kernel was shut down. Expected a running kernel; start a new one with KernelClient.start()."),
        );
        return;
      }
      if (this.exitInfo) {
        execution.reject(this.diedError(execution));
        return;
      }
      this.executions.set(msgId, execution);
      if (options.timeoutMs !== undefined && options.timeoutMs >= 0) {
        execution.timer = setTimeout(() => {
          execution.reject(new TimeoutError(options.timeoutMs!, execution.collector.outputs, finished));
        }, options.timeoutMs);
      }
      this.shellSender.send(request);
    });
  }

  /** Interrupts the running request: SIGINT to the kernel process (the kernelspec's interrupt_mode is "signal"). */
  interrupt(): void {
    if (!this.exited && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, "SIGINT");
      } catch {
        // Already gone: the exit handler reports it.
      }
    }
  }

  /**
   * Shuts the kernel down: `shutdown_request` on control, up to 5 s for the
   * process to exit, then SIGKILL to its process group. Closes the sockets
   * and removes the connection file. Safe to call more than once.
   */
  shutdown(graceMs = 5_000): Promise<void> {
    this.shutdownPromise ??= (async () => {
      if (!this.exited) {
        this.controlSender.send(newMessage("shutdown_request", { restart: false }, undefined, this.session));
        await this.waitExit(graceMs);
      }
      await this.kill();
    })();
    return this.shutdownPromise;
  }

  /** Kills the kernel's process group with SIGKILL at once, then cleans up like {@link shutdown}. */
  async kill(): Promise<void> {
    if (!this.exited) {
      this.signalGroup("SIGKILL");
      await this.waitExit(5_000);
    } else {
      this.killOrphans();
    }
    this.close();
  }

  /** Synchronous last resort for the process `exit` hook. @internal */
  killSync(): void {
    if (!this.exited) this.signalGroup("SIGKILL");
    else this.killOrphans();
    this.close();
  }

  /**
   * A kernel that died on its own (SIGKILL, out of memory, `process.exit()`)
   * leaves what it started in its process group: kill the group, and only the
   * group (the pid itself may already belong to another process).
   */
  private killOrphans(): void {
    if (this.closed || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // The group is empty.
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  private waitExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    for (const socket of [this.shell, this.control, this.iopub]) {
      try {
        socket.close();
      } catch {
        // Closing twice or a socket that never connected.
      }
    }
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
    this.failExecutions();
  }

  private connect(): void {
    const url = (port: number) => `${this.connection.transport}://${this.connection.ip}:${port}`;
    this.shell.connect(url(this.connection.shell_port));
    this.control.connect(url(this.connection.control_port));
    this.iopub.connect(url(this.connection.iopub_port));
    this.iopub.subscribe();
    void this.receive(this.shell, (msg) => this.onShell(msg));
    void this.receive(this.control, (msg) => this.onShell(msg));
    void this.receive(this.iopub, (msg) => this.onIopub(msg));
  }

  private async receive(socket: zmq.Dealer | zmq.Subscriber, handle: (msg: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: Message;
        try {
          msg = decode(this.connection.key, frames);
        } catch {
          continue; // A message we cannot verify is not ours.
        }
        handle(msg);
      }
    } catch {
      // The socket was closed under a pending receive.
    }
  }

  private onShell(msg: Message): void {
    const parent = msg.parent_header?.msg_id;
    if (!parent) return;
    const waiter = this.shellWaiters.get(parent);
    if (waiter) {
      this.shellWaiters.delete(parent);
      waiter(msg);
      return;
    }
    const execution = this.executions.get(parent);
    if (execution && msg.header.msg_type === "execute_reply") {
      execution.reply = msg;
      this.maybeComplete(execution);
    }
  }

  private onIopub(msg: Message): void {
    for (const watcher of this.iopubWatchers) watcher(msg);
    const parent = msg.parent_header?.msg_id;
    const execution = parent ? this.executions.get(parent) : undefined;
    if (!execution) return;
    try {
      execution.onIopub?.(msg);
    } catch {
      // A listener's bug must not lose outputs.
    }
    execution.collector.add(msg);
    if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") {
      execution.idle = true;
      this.maybeComplete(execution);
    }
  }

  private maybeComplete(execution: Execution): void {
    if (!execution.reply || !execution.idle) return;
    execution.resolve({ reply: execution.reply, outputs: execution.collector.outputs });
    execution.finish(true);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal, error };
    for (const waiter of this.exitWaiters.splice(0)) waiter();
    // Messages the kernel sent just before exiting may still be in flight.
    setTimeout(() => this.failExecutions(), 150);
  }

  private failExecutions(): void {
    for (const execution of [...this.executions.values()]) {
      execution.reject(this.diedError(execution));
      execution.finish(false);
    }
  }

  private diedError(execution: Execution): KernelDiedError {
    return new KernelDiedError(
      this.exitInfo?.code ?? null,
      this.exitInfo?.signal ?? null,
      execution.collector.outputs,
      this.stderr.tail(10, execution.stderrMark),
    );
  }

  private waitReady(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const requests = new Set<string>();
      let info: Message | undefined;
      let iopubReady = false;
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const watcher = (msg: Message) => {
        if (msg.header.msg_type === "status" && requests.has(msg.parent_header?.msg_id ?? "")) iopubReady = true;
      };
      this.iopubWatchers.add(watcher);
      let settled = false;
      const done = (error?: Error) => {
        settled = true;
        if (timer) clearTimeout(timer);
        this.iopubWatchers.delete(watcher);
        for (const id of requests) this.shellWaiters.delete(id);
        if (error) reject(error);
        else resolve();
      };
      const tick = () => {
        if (settled) return;
        if (this.exitInfo) return done(this.exitedBeforeReady());
        if (info && iopubReady) {
          this.kernelInfo = info.content;
          return done();
        }
        if (Date.now() - started >= timeoutMs) return done(this.notReady(timeoutMs, info !== undefined));
        const request = newMessage("kernel_info_request", {}, undefined, this.session);
        requests.add(request.header.msg_id);
        this.shellWaiters.set(request.header.msg_id, (reply) => {
          if (reply.header.msg_type === "kernel_info_reply") info = reply;
        });
        this.shellSender.send(request);
        timer = setTimeout(tick, 200);
      };
      this.exitWaiters.push(() => {
        // Let the stderr pipe drain so the error can quote it.
        setTimeout(() => {
          if (timer) clearTimeout(timer);
          tick();
        }, 100);
      });
      tick();
    });
  }

  private exitedBeforeReady(): KernelStartError {
    const exit = this.exitInfo!;
    const command = this.command[0];
    if (exit.error) {
      const code = (exit.error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        return new KernelStartError(
          `KernelClient: cannot start the kernel: ${JSON.stringify(command)} was not found (spawn ENOENT). ` +
            "Expected Node.js >= 20; install it or check the kernel command.",
        );
      }
      return new KernelStartError(`KernelClient: cannot start the kernel: ${exit.error.message}. Check the kernel command ${JSON.stringify(this.command.join(" "))}.`);
    }
    const stderr = this.stderr.tail(10);
    const output = stderr.length > 0 ? stderr : this.stdout.tail(10);
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const quoted = output.length > 0 ? `; its stderr said: ${quoteTail(output)}` : " without writing to stderr";
    const portTaken = /EADDRINUSE|Address already in use/i.test(output.join("\n"));
    return new KernelStartError(`KernelClient: the kernel ${how} before it was ready${quoted}. ${startHint(output)}`, portTaken);
  }

  private notReady(timeoutMs: number, gotInfo: boolean): KernelStartError {
    const missing = gotInfo ? "it answered kernel_info_request but published nothing on iopub" : "no kernel_info_reply on shell";
    const stderr = this.stderr.tail(3);
    const quoted = stderr.length > 0 ? `; its stderr said: ${quoteTail(stderr)}` : "";
    return new KernelStartError(
      `KernelClient: the kernel was not ready within ${formatSeconds(timeoutMs / 1000)} s (${missing})${quoted}. ` +
        "Expected a Jupyter kernel on the connection file; raise the startup timeout if the machine is busy.",
    );
  }
}
