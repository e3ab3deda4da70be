/**
 * The Jupyter messaging wire format (protocol 5.3): signing, parsing and
 * serialising messages, and an ordered sender that never drops a message.
 *
 * Shared by the kernel (server side) and the notebook runner (client side).
 */
import { createHmac, randomUUID } from "crypto";

/** Protocol version spoken by convlab. */
export const PROTOCOL_VERSION = "5.3";

const DELIMITER = Buffer.from("<IDS|MSG>");

/** A Jupyter message header. */
export interface Header {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** A decoded Jupyter message. */
export interface Message<C = Record<string, any>> {
  /** ZeroMQ routing identities (router sockets only). */
  identities: Buffer[];
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** Connection file written by Jupyter for a kernel. */
export interface ConnectionInfo {
  transport: string;
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  kernel_name?: string;
}

/** The HMAC signature of the four JSON frames, or "" when no key is set. */
export function sign(key: string, frames: Array<Buffer | string>): string {
  if (!key) return "";
  const hmac = createHmac("sha256", key);
  for (const frame of frames) hmac.update(frame);
  return hmac.digest("hex");
}

/** Builds a new message, optionally as a child of `parent`. */
export function newMessage<C>(
  msgType: string,
  content: C,
  parent?: Message,
  session = parent?.header.session ?? randomUUID(),
): Message<C> {
  return {
    identities: parent ? parent.identities : [],
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session,
      username: parent?.header.username ?? "convlab",
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    },
    parent_header: parent ? parent.header : {},
    metadata: {},
    content,
    buffers: [],
  };
}

/** Serialises and signs a message into ZeroMQ frames. */
export function encode(key: string, msg: Message): Buffer[] {
  const body = [msg.header, msg.parent_header, msg.metadata, msg.content].map((part) =>
    Buffer.from(JSON.stringify(part)),
  );
  return [...msg.identities, DELIMITER, Buffer.from(sign(key, body)), ...body, ...msg.buffers];
}

/**
 * Parses ZeroMQ frames into a message, verifying the signature.
 * @throws Error when the delimiter is missing or the signature does not match.
 */
export function decode(key: string, frames: Buffer[]): Message {
  const at = frames.findIndex((frame) => frame.equals(DELIMITER));
  if (at < 0) throw new Error("Jupyter message: missing <IDS|MSG> delimiter.");
  const signature = frames[at + 1].toString();
  const body = frames.slice(at + 2, at + 6);
  if (body.length !== 4) throw new Error(`Jupyter message: expected 4 JSON frames, received ${body.length}.`);
  const expected = sign(key, body);
  if (expected !== signature) throw new Error("Jupyter message: invalid signature.");
  const [header, parent_header, metadata, content] = body.map((frame) => JSON.parse(frame.toString()));
  return {
    identities: frames.slice(0, at),
    header,
    parent_header,
    metadata,
    content,
    buffers: frames.slice(at + 6),
  };
}

/** The part of a zeromq socket the sender needs. */
export interface Sendable {
  send(frames: Buffer[]): Promise<void>;
}

/**
 * Sends messages on one socket strictly in order, one at a time, so that a
 * burst never hits zeromq's "Socket is busy writing" (which tslab ignores,
 * losing output). While a send is in flight, consecutive `stream` messages
 * of the same stream and parent are merged into one: a 10,000-line loop costs
 * a few messages, not 10,000.
 */
export class OrderedSender {
  private readonly queue: Message[] = [];
  private pumping = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Sendable,
    private readonly key: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Queues a message; returns at once. */
  send(msg: Message): void {
    const last = this.queue[this.queue.length - 1];
    if (
      last &&
      msg.header.msg_type === "stream" &&
      last.header.msg_type === "stream" &&
      last.content.name === (msg.content as any).name &&
      last.parent_header.msg_id === msg.parent_header.msg_id
    ) {
      last.content.text += (msg.content as any).text;
    } else {
      this.queue.push(msg);
    }
    if (!this.pumping) void this.pump();
  }

  /** Resolves when every queued message has been handed to zeromq. */
  flushed(): Promise<void> {
    if (!this.pumping && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.queue.length > 0) {
      const msg = this.queue.shift()!;
      try {
        await this.socket.send(encode(this.key, msg));
      } catch (error) {
        this.onError(error);
      }
    }
    this.pumping = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
