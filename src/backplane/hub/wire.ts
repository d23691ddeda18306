/**
 * The in-node backplane's wire: length-prefixed messages over a Unix socket between each worker
 * and the hub in the node's primary process. A message is
 *
 *   u32 length of the rest · u8 op · u16 address length · address (UTF-8) · body
 *
 * The address is what the hub routes by without reading the body: an event's `realm\0topic`,
 * an invocation's target node, a reply's `origin\0call`. Event bodies are the NATS backplane's
 * frames (nats/frame.ts), so a payload is encoded once at the publisher and the hub forwards the
 * very bytes it read; inbox and reply bodies are call-frames.ts's fixed binary layout (they also
 * cross worker to worker, peer-links.ts). Control bodies are MessagePack arrays `[kind, …fields]`.
 */
import type { Socket } from 'node:net';
import { serializerById } from '../../serializers/index.js';

export const Op = { event: 1, inbox: 2, reply: 3, control: 4 } as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** A message as read: `raw` is all of it, length prefix included, for forwarding unchanged. */
export interface WireMessage {
  readonly op: number;
  readonly address: string;
  readonly body: Buffer;
  readonly raw: Buffer;
}

const msgpack = serializerById('msgpack')!;

/** Messages bigger than this are refused: a corrupt length must not make a reader buffer gigabytes. */
export const MAX_MESSAGE = 256 * 1024 * 1024;

export function encodeMessage(op: OpCode, address: string, body: Uint8Array): Buffer {
  const addressLength = Buffer.byteLength(address);
  const out = Buffer.allocUnsafe(7 + addressLength + body.length);
  out.writeUInt32BE(3 + addressLength + body.length, 0);
  out[4] = op;
  out.writeUInt16BE(addressLength, 5);
  out.write(address, 7, 'utf8');
  out.set(body, 7 + addressLength);
  return out;
}

export function encodeControl(fields: readonly unknown[]): Buffer {
  return encodeMessage(Op.control, '', msgpack.encode(fields));
}

export function decodeControl(body: Buffer): unknown[] {
  const v = msgpack.decode(body);
  if (!Array.isArray(v) || typeof v[0] !== 'string') throw new Error('control message is not [kind, …]');
  return v;
}

/** Splits a byte stream into messages; `feed` throws on a message longer than MAX_MESSAGE. */
/**
 * Feeds `socket`'s bytes to a MessageReader for `onMessage`. A stream that cannot be read (a bad
 * frame) is reported to `unreadable` and the socket destroyed; socket errors end in its 'close'.
 */
export function readMessages(socket: Socket, onMessage: (m: WireMessage) => void, unreadable: (err: unknown) => void): void {
  const reader = new MessageReader(onMessage);
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.feed(chunk);
    } catch (err) {
      unreadable(err);
      socket.destroy();
    }
  });
  socket.on('error', () => undefined);
}

export class MessageReader {
  private pending: Buffer | undefined;

  constructor(private readonly onMessage: (m: WireMessage) => void) {}

  feed(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at);
      if (length < 3 || length > MAX_MESSAGE) throw new Error(`backplane message of ${length} bytes refused`);
      if (buf.length - at < 4 + length) break;
      const raw = buf.subarray(at, at + 4 + length);
      const addressLength = raw.readUInt16BE(5);
      const address = raw.toString('utf8', 7, 7 + addressLength);
      this.onMessage({ op: raw[4]!, address, body: raw.subarray(7 + addressLength), raw });
      at += 4 + length;
    }
    this.pending = at < buf.length ? buf.subarray(at) : undefined;
  }
}

/**
 * Coalesces writes as transports/write-batcher.ts does: the first flush of a turn of the event
 * loop runs after the callback that wrote (a microtask), every later one at the turn's end
 * (`setImmediate`, after every read ready in it) — so the invocations of many callers, or the
 * events of many publishers, read in one turn leave in one write, and each hop between
 * processes costs one syscall and one wake-up for all of them.
 */
export class MessageWriter {
  private queue: Buffer[] = [];
  private scheduled = false;
  private flushedThisTurn = false;

  constructor(private readonly write: (data: Buffer) => void) {}

  send(message: Buffer): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.flushedThisTurn) setImmediate(() => this.flush());
    else queueMicrotask(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const data = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    this.queue = [];
    this.write(data);
    if (this.flushedThisTurn) return;
    this.flushedThisTurn = true;
    setImmediate(() => (this.flushedThisTurn = false));
  }
}
