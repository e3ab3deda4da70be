/**
 * The convlab Jupyter kernel: the Jupyter protocol over zeromq around the
 * {@link Executor}, fixing what plain tslab gets wrong (dropped output, silent
 * errors, 200 ms aborts, no interrupt, no execute_input/execute_result,
 * lingering processes) and rendering values through plugins.
 */
import * as fs from "fs";
import * as zmq from "zeromq";
import { inspect, TextDecoder } from "util";
import { version as tsVersion } from "@tslab/typescript-for-tslab";
import { fail } from "./errors";
import { watchParent } from "./parent";
import { isMimeBundle, MimeBundle, normalizeBundle, plainText, setSession } from "./display";
import { CellError, Executor } from "./executor";
import { cellScope } from "./interrupt";
import { activatePlugins, describeFailure, PluginStatus, RendererRegistry } from "./plugins";
import { ConnectionInfo, decode, Message, newMessage, OrderedSender, PROTOCOL_VERSION } from "./wire";

const VERSION: string = require("../package.json").version;
/** Starts the kernel for `convlab kernel <connection_file>`. */
export async function startKernel(args: string[]): Promise<void> {
  const file = args.find((a) => !a.startsWith("--"));
  if (!file) throw fail("convlab kernel: missing connection file. Expected `convlab kernel <connection_file>` (Jupyter passes {connection_file}).");
  let info: ConnectionInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw fail(`convlab kernel: cannot read connection file ${file}: ${(error as Error).message}. Expected the JSON file Jupyter writes for a kernel.`);
  }
  watchParent();
  // Outputs are stored in notebooks: no ANSI colours from console.log, whatever launched us.
  delete process.env.FORCE_COLOR;
  const kernel = new Kernel(info, process.cwd());
  await kernel.start();
}

/** One kernel process. */
export class Kernel {
  private readonly iopub = new zmq.Publisher({ sendHighWaterMark: 0 });
  private readonly shell = new zmq.Router();
  private readonly control = new zmq.Router();
  private readonly stdin = new zmq.Router();
  private readonly heartbeat = new zmq.Reply();
  private readonly out: OrderedSender;
  private readonly replies: Map<zmq.Router, OrderedSender> = new Map();
  private readonly renderers = new RendererRegistry();
  private readonly realStderr = process.stderr.write.bind(process.stderr);
  private executor!: Executor;
  private plugins: PluginStatus[] = [];
  private pluginsReported = false;
  private executionCount = 0;
  private shellQueue: Promise<void> = Promise.resolve();
  /** Requests received before a failed cell finished, to abort when stop_on_error. */
  private readonly pending = new Set<Message>();
  private readonly aborted = new WeakSet<Message>();
  private current: Message | undefined;
  private closing = false;
  private exiting = false;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly cwd: string,
  ) {
    this.out = new OrderedSender(this.iopub, info.key, (e) => this.log(`iopub send failed: ${e}`));
    this.replies.set(this.shell, new OrderedSender(this.shell, info.key, (e) => this.log(`shell send failed: ${e}`)));
    this.replies.set(this.control, new OrderedSender(this.control, info.key, (e) => this.log(`control send failed: ${e}`)));
  }

  async start(): Promise<void> {
    const { transport, ip } = this.info;
    const url = (port: number) => `${transport}://${ip}:${port}`;
    await Promise.all([
      this.iopub.bind(url(this.info.iopub_port)),
      this.shell.bind(url(this.info.shell_port)),
      this.control.bind(url(this.info.control_port)),
      this.stdin.bind(url(this.info.stdin_port)),
      this.heartbeat.bind(url(this.info.hb_port)),
    ]);
    this.executor = new Executor(this.cwd);
    this.plugins = await activatePlugins(this.cwd, this.renderers);
    for (const status of this.plugins) if (!status.ok) this.log(describeFailure(status));
    this.log(`plugins: ${this.activePlugins()}`);
    this.captureOutput();
    this.flushBeforeExit();
    process.on("SIGINT", () => this.executor.interrupt());
    process.on("uncaughtException", (error) => this.stray(error));
    process.on("unhandledRejection", (reason) => this.stray(reason));
    void this.serve(this.shell, (msg) => {
      this.pending.add(msg);
      this.shellQueue = this.shellQueue.then(() => this.handleShell(msg));
    });
    void this.serve(this.control, (msg) => void this.handleControl(msg));
    void this.echoHeartbeat();
    this.publish("status", { execution_state: "starting" });
  }

  private async serve(socket: zmq.Router, handle: (msg: Message) => void): Promise<void> {
    for await (const frames of socket) {
      let msg: Message;
      try {
        msg = decode(this.info.key, frames);
      } catch (error) {
        this.log(`dropped a message: ${(error as Error).message}`);
        continue;
      }
      handle(msg);
    }
  }

  private async echoHeartbeat(): Promise<void> {
    for await (const frames of this.heartbeat) await this.heartbeat.send(frames);
  }

  private async handleShell(msg: Message): Promise<void> {
    this.pending.delete(msg);
    this.publish("status", { execution_state: "busy" }, msg);
    try {
      if (this.aborted.delete(msg)) {
        this.reply(this.shell, msg, msg.header.msg_type.replace(/_request$/, "_reply"), { status: "aborted", execution_count: null });
        return;
      }
      switch (msg.header.msg_type) {
        case "execute_request":
          await this.execute(msg);
          break;
        default:
          this.answerCommon(this.shell, msg);
      }
    } catch (error) {
      this.log(`error handling ${msg.header.msg_type}: ${(error as Error)?.stack ?? error}`);
      // A defect of the kernel itself must still end the request: without a reply the notebook
      // (and `convlab run`) would wait for this cell forever.
      if (msg.header.msg_type === "execute_request") this.fail(msg, this.executionCount, internalError(error));
    } finally {
      this.publish("status", { execution_state: "idle" }, msg);
    }
  }

  private async handleControl(msg: Message): Promise<void> {
    this.publish("status", { execution_state: "busy" }, msg);
    try {
      switch (msg.header.msg_type) {
        case "interrupt_request":
          this.executor.interrupt();
          this.reply(this.control, msg, "interrupt_reply", { status: "ok" });
          break;
        case "shutdown_request":
          this.reply(this.control, msg, "shutdown_reply", { status: "ok", restart: !!msg.content.restart });
          await this.shutdown();
          return;
        default:
          this.answerCommon(this.control, msg);
      }
    } finally {
      this.publish("status", { execution_state: "idle" }, msg);
    }
  }

  /** Requests that shell and control both answer. */
  private answerCommon(socket: zmq.Router, msg: Message): void {
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "kernel_info_request":
        return this.reply(socket, msg, "kernel_info_reply", this.kernelInfo());
      case "is_complete_request":
        return this.reply(socket, msg, "is_complete_reply", { status: "unknown" });
      case "complete_request": {
        const info = this.executor.complete(c.code, c.cursor_pos);
        return this.reply(socket, msg, "complete_reply", {
          status: "ok",
          matches: info.candidates,
          cursor_start: info.start,
          cursor_end: info.end,
          metadata: {},
        });
      }
      case "inspect_request": {
        const text = this.executor.inspect(c.code, c.cursor_pos);
        return this.reply(socket, msg, "inspect_reply", { status: "ok", found: !!text, data: text ? { "text/plain": text } : {}, metadata: {} });
      }
      case "comm_info_request":
        return this.reply(socket, msg, "comm_info_reply", { status: "ok", comms: {} });
      case "history_request":
        return this.reply(socket, msg, "history_reply", { status: "ok", history: [] });
      case "shutdown_request":
        this.reply(socket, msg, "shutdown_reply", { status: "ok", restart: !!c.restart });
        void this.shutdown();
        return;
      case "comm_open":
      case "comm_msg":
      case "comm_close":
        return; // no comms: ignored, as Jupyter allows
      default:
        this.log(`unsupported message type ${msg.header.msg_type}`);
    }
  }

  private kernelInfo() {
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "convlab",
      implementation_version: VERSION,
      language_info: {
        name: "typescript",
        version: tsVersion,
        mimetype: "text/typescript",
        file_extension: ".ts",
        // tslab's combination that gives TypeScript highlighting in Notebook 6 and JupyterLab
        codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
      },
      banner: `convlab ${VERSION}: TypeScript on tslab, Node ${process.version}; plugins: ${this.activePlugins()}`,
      help_links: [],
    };
  }

  private async execute(msg: Message): Promise<void> {
    const { code = "", silent = false, store_history = true, stop_on_error = true } = msg.content;
    if (!silent && store_history) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.publish("execute_input", { code, execution_count: count }, msg);
    this.current = msg;
    if (!this.pluginsReported) {
      this.pluginsReported = true;
      for (const status of this.plugins) if (!status.ok) this.stream("stderr", `${describeFailure(status)}\n`, msg);
    }
    // Sent before the cell starts: a cell that never yields (or a kernel killed in it) still shows what it printed first.
    await this.out.flushed();
    const outcome = await this.executor.execute(code, count);
    if (outcome.ok) {
      if (outcome.hasValue && !silent) {
        this.publish("execute_result", { execution_count: count, data: this.bundle(outcome.value, true), metadata: {} }, msg);
      }
      this.reply(this.shell, msg, "execute_reply", { status: "ok", execution_count: count, user_expressions: {}, payload: [] });
      return;
    }
    this.fail(msg, count, outcome.error);
    if (stop_on_error) this.abortPending();
  }

  private fail(msg: Message, count: number, error: CellError): void {
    this.publish("error", error, msg);
    this.reply(this.shell, msg, "execute_reply", { status: "error", execution_count: count, ...error });
  }

  /** Jupyter semantics of stop_on_error: requests queued behind a failed cell are aborted, later ones run. */
  private abortPending(): void {
    for (const msg of this.pending) this.aborted.add(msg);
    this.pending.clear();
  }

  /**
   * The full mime bundle for a value: a plugin's rendering, else plain text
   * (strings quoted when they are a cell's result, as the Node REPL shows them).
   */
  private bundle(value: unknown, asResult = false): Record<string, unknown> {
    if (isMimeBundle(value)) return normalizeBundle(value, value);
    const rendered: MimeBundle | undefined = this.renderers.render(value, (renderer, error) =>
      this.stream("stderr", `convlab: renderer "${renderer.id}" failed: ${(error as Error)?.message ?? error}. Showing the value as text.\n`, this.current),
    );
    return normalizeBundle(rendered ?? { "text/plain": asResult ? inspect(value) : plainText(value) }, value);
  }

  /** Routes console output to iopub streams of the current cell, and installs the display session. */
  private captureOutput(): void {
    const decoder = new TextDecoder();
    const writer = (name: "stdout" | "stderr") =>
      ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
        const text = typeof chunk === "string" ? chunk : decoder.decode(chunk);
        if (this.current) this.stream(name, text, this.current);
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      }) as typeof process.stdout.write;
    process.stdout.write = writer("stdout");
    process.stderr.write = writer("stderr");
    setSession({
      // render() already gives the final bundle (bytes as base64, text/plain added): send it as is
      render: (value) => this.bundle(value) as MimeBundle,
      send: (bundle, displayId, update) => {
        if (!this.current) return;
        const content = { data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} };
        this.publish(update ? "update_display_data" : "display_data", content, this.current);
      },
    });
    // tslab's own display API (display.png, newDisplay) goes to the same cell
    require("tslab/dist/jupyter").lastWriteDisplayData = (data: Record<string, unknown>, update: boolean) => {
      if (this.current) this.publish(update ? "update_display_data" : "display_data", data, this.current);
    };
  }

  /**
   * A cell that calls `process.exit()` still delivers what it printed: the
   * exit waits (up to 2 s) for the queued output, and the cell stops at the call.
   */
  private flushBeforeExit(): void {
    const exit = process.exit.bind(process);
    process.exit = ((code?: number) => {
      if (!cellScope.getStore()) exit(code);
      this.exiting = true; // nothing after this call is sent: the client sees the kernel end here
      const timer = setTimeout(() => exit(code), 2000);
      void this.out.flushed().then(() => {
        clearTimeout(timer);
        exit(code);
      });
      throw new Error(`process.exit(${code ?? ""}) was called: the kernel is exiting`);
    }) as typeof process.exit;
  }

  private stream(name: "stdout" | "stderr", text: string, parent: Message | undefined): void {
    if (parent) this.publish("stream", { name, text }, parent);
  }

  private publish(type: string, content: object, parent?: Message): void {
    if (this.exiting) return;
    const msg = newMessage(type, content, parent);
    msg.identities = [Buffer.from(`kernel.${type}`)];
    this.out.send(msg);
  }

  private reply(socket: zmq.Router, parent: Message, type: string, content: object): void {
    if (this.exiting) return;
    this.replies.get(socket)!.send(newMessage(type, content, parent));
  }

  /** Errors from code a cell left running (timers, unawaited promises): shown, never fatal. */
  private stray(error: unknown): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (this.current) this.stream("stderr", `Uncaught (in code started by an earlier cell): ${text}\n`, this.current);
    else this.log(`uncaught: ${text}`);
  }

  /** Flushes what is queued, closes the sockets and exits, even with timers pending. */
  private async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.executor.interrupt();
    const force = setTimeout(() => process.exit(0), 2000);
    try {
      await Promise.all([this.out.flushed(), ...[...this.replies.values()].map((s) => s.flushed())]);
      this.executor.close();
      for (const socket of [this.iopub, this.shell, this.control, this.stdin, this.heartbeat]) socket.close();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  }

  /** The ids of the plugins that activated, for the banner and the log: a topic installed later shows up after a restart. */
  private activePlugins(): string {
    const ids = this.plugins.filter((status) => status.ok).map((status) => status.id);
    return ids.length > 0 ? ids.join(", ") : "none";
  }

  private log(text: string): void {
    this.realStderr(`[convlab kernel] ${text}\n`);
  }
}

/** A defect of the kernel while running a cell, as the cell's error: it names itself as one, and asks for a report. */
function internalError(error: unknown): CellError {
  const message = error instanceof Error ? error.message : String(error);
  return {
    ename: "KernelError",
    evalue: `the convlab kernel failed while running this cell (${message}). The kernel is still running; please report this with the cell.`,
    traceback: [`KernelError: ${message}`, ...(error instanceof Error && error.stack ? error.stack.split("\n").slice(1, 6) : [])],
  };
}
