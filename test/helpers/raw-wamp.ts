/**
 * A tiny raw WAMP test client over `ws` (WebSocket) and over `net` (RawSocket) that can send
 * anything — valid messages, arbitrary frames, garbage bytes — and records what comes back:
 * decoded messages, the WebSocket close code and reason, the end of the socket.
 *
 * It speaks only what a test asks: `hello`, `subscribe`, `publish` and `goodbye` are the few
 * conveniences. For fan-out tests `onRaw` sees each message's bytes before decoding, so thousands
 * of clients can check events without decoding them or keeping them.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import WebSocket from 'ws';
import { serializerById } from '../../src/serializers/index.js';
import type { Serializer, SerializerId } from '../../src/serializers/serializer.js';

export type Msg = unknown[];

export const Code = {
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8, PUBLISH: 16, PUBLISHED: 17,
  SUBSCRIBE: 32, SUBSCRIBED: 33, EVENT: 36, CALL: 48, RESULT: 50, REGISTER: 64, REGISTERED: 65,
} as const;

export const CLIENT_ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

/** How the connection ended. `code`/`reason` are the WebSocket close frame's (undefined for RawSocket). */
export interface Ended {
  readonly code?: number;
  readonly reason?: string;
}

interface Waiter {
  readonly pred: (m: Msg) => boolean;
  readonly resolve: (m: Msg) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export const DEFAULT_WAIT_MS = 5000;

/** What both transports share: the inbox, waiting for messages, the WAMP conveniences. */
export abstract class RawClient {
  /** Every decoded message, in arrival order (unless `keep` is false). */
  readonly received: Msg[] = [];
  /** Messages that did not decode with the client's serializer. */
  readonly undecodable: Buffer[] = [];
  readonly ended: Promise<Ended>;
  isEnded = false;
  /** Keep every message in `received`; false for clients that see thousands of events. */
  keep = true;
  /** Sees each message's bytes first; return true to consume it undecoded. */
  onRaw: ((data: Buffer) => boolean) | undefined;
  private inbox: Msg[] = [];
  private waiters: Waiter[] = [];
  private resolveEnded!: (e: Ended) => void;
  private lastRequest = 0;

  protected constructor(readonly serializer: Serializer) {
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  /** From now on, keeps the text of every message as it arrived (for JSON byte-exactness checks). */
  recordTexts(): string[] {
    const texts: string[] = [];
    this.onRaw = (data) => {
      texts.push(data.toString('utf8'));
      return false;
    };
    return texts;
  }

  /** Encodes `msg` with the client's serializer and sends it as one message. */
  send(msg: readonly unknown[]): void {
    this.sendBytes(this.serializer.encode(msg), this.serializer.binary);
  }

  /** Sends `bytes` as one message, whatever they hold (WebSocket: a text or binary frame). */
  abstract sendBytes(bytes: Uint8Array | string, binary?: boolean): void;

  /** Drops the connection without any closing handshake. */
  abstract destroy(): void;

  nextRequest(): number {
    return ++this.lastRequest;
  }

  /** The next message not yet consumed. */
  next(ms = DEFAULT_WAIT_MS): Promise<Msg> {
    return this.waitFor(() => true, ms);
  }

  /** The first message not yet consumed that matches; messages before it stay in the inbox. */
  waitFor(pred: (m: Msg) => boolean, ms = DEFAULT_WAIT_MS): Promise<Msg> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    if (this.isEnded) return Promise.reject(this.endedError());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pred, resolve, reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no matching message within ${ms} ms; received ${describe(this.received)}`));
        }, ms),
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for ABORT, then for the connection to end; returns the ABORT. */
  async expectAbort(ms = DEFAULT_WAIT_MS): Promise<{ reason: string; message: unknown; ended: Ended }> {
    const abort = await this.waitFor((m) => m[0] === Code.ABORT, ms);
    const ended = await this.ended;
    const details = abort[1] as Record<string, unknown>;
    return { reason: abort[2] as string, message: details.message, ended };
  }

  /** HELLO → WELCOME; returns the session ID, or throws with the ABORT. */
  async hello(realm = 'realm1', details: Record<string, unknown> = { roles: CLIENT_ROLES }): Promise<number> {
    this.send([Code.HELLO, realm, details]);
    const m = await this.waitFor((x) => x[0] === Code.WELCOME || x[0] === Code.ABORT);
    if (m[0] === Code.ABORT) throw new Error(`HELLO refused: ${JSON.stringify(m)}`);
    return m[1] as number;
  }

  /** SUBSCRIBE → SUBSCRIBED; returns the subscription ID. */
  async subscribe(topic: string, options: Record<string, unknown> = {}): Promise<number> {
    const request = this.nextRequest();
    this.send([Code.SUBSCRIBE, request, options, topic]);
    const m = await this.waitFor((x) => (x[0] === Code.SUBSCRIBED || x[0] === Code.ERROR) && (x[1] === request || x[2] === request));
    if (m[0] !== Code.SUBSCRIBED) throw new Error(`SUBSCRIBE refused: ${JSON.stringify(m)}`);
    return m[2] as number;
  }

  /** PUBLISH without acknowledgement. */
  publish(topic: string, args: readonly unknown[], options: Record<string, unknown> = {}): void {
    this.send([Code.PUBLISH, this.nextRequest(), options, topic, args]);
  }

  /** GOODBYE, then waits for the router's GOODBYE reply and the end of the connection. */
  async goodbye(): Promise<Ended> {
    if (!this.isEnded) this.send([Code.GOODBYE, {}, 'wamp.close.close_realm']);
    return this.ended;
  }

  protected received1(data: Buffer): void {
    if (this.onRaw?.(data)) return;
    let m: unknown;
    try {
      m = this.serializer.decode(data);
    } catch {
      this.undecodable.push(data);
      return;
    }
    const msg = (Array.isArray(m) ? m : [m]) as Msg;
    if (this.keep) this.received.push(msg);
    const w = this.waiters.find((x) => x.pred(msg));
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      clearTimeout(w.timer);
      w.resolve(msg);
    } else if (this.keep) {
      this.inbox.push(msg);
    }
  }

  protected endedWith(e: Ended): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.resolveEnded(e);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(this.endedError());
    }
  }

  private endedError(): Error {
    return new Error(`connection ended before a matching message; received ${describe(this.received)}`);
  }
}

function describe(msgs: readonly Msg[]): string {
  const text = JSON.stringify(msgs.slice(-5));
  return msgs.length > 5 ? `… ${text}` : text;
}

export interface RawWsOptions {
  /** Subprotocols to offer; default `wamp.2.<serializer>`. */
  readonly protocols?: string | string[];
  readonly serializer?: SerializerId;
  /** Loopback address to connect from (127.0.0.0/8), for per-address limits. */
  readonly localAddress?: string;
  /** Extra headers of the upgrade request (a Cookie, say). */
  readonly headers?: Record<string, string>;
}

/** A raw WAMP client over WebSocket. */
export class RawWsClient extends RawClient {
  /** The Set-Cookie headers of the upgrade response. */
  setCookies: readonly string[] = [];

  private constructor(readonly ws: WebSocket, serializer: Serializer) {
    super(serializer);
    ws.on('message', (data: Buffer) => this.received1(data));
    ws.on('close', (code: number, reason: Buffer) => this.endedWith({ code, reason: reason.toString() }));
    ws.on('error', () => {
      // 'close' follows; the test asserts on the close code.
    });
  }

  /** Opens the WebSocket; rejects if the upgrade is refused (see `refusedUpgrade`). */
  static open(url: string, o: RawWsOptions = {}): Promise<RawWsClient> {
    const serializer = serializerById(o.serializer ?? 'json')!;
    const ws = new WebSocket(url, o.protocols ?? [serializer.subprotocol], {
      perMessageDeflate: false, ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
      ...(o.headers === undefined ? {} : { headers: o.headers }),
    });
    let setCookies: string[] = [];
    ws.once('upgrade', (res) => (setCookies = res.headers['set-cookie'] ?? []));
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        const client = new RawWsClient(ws, serializer);
        client.setCookies = setCookies;
        resolve(client);
      });
      ws.once('error', reject);
    });
  }

  sendBytes(bytes: Uint8Array | string, binary = typeof bytes !== 'string'): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(bytes, { binary });
  }

  /** Sends several messages in one socket write, so that the router reads them in one go. */
  sendTogether(msgs: readonly (readonly unknown[])[]): void {
    const socket = this.socket;
    socket.cork();
    for (const m of msgs) this.send(m);
    socket.uncork();
  }

  /** Stops reading from the socket: the router's writes pile up in the kernel, then in its buffer. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private get socket(): net.Socket {
    return (this.ws as unknown as { _socket: net.Socket })._socket;
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/** Tries a WebSocket upgrade expected to be refused; returns the HTTP status and body. */
export function refusedUpgrade(url: string, protocols: string[]): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`upgrade with ${JSON.stringify(protocols)} was accepted (${ws.protocol})`));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => {
      // 'unexpected-response' or 'open' settles.
    });
  });
}

export const RAWSOCKET_FRAME = { message: 0, ping: 1, pong: 2 } as const;

export interface RawSocketOptions {
  readonly serializer?: SerializerId;
  /** High nibble of the handshake octet: the client accepts 2^(9+n) bytes; default 15 (16 MiB). */
  readonly lengthExponent?: number;
}

/** A raw WAMP client over RawSocket (TCP): handshake, 4-octet framing, PING/PONG. */
export class RawSocketClient extends RawClient {
  /** Payloads of the PONG frames received. */
  readonly pongs: Buffer[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private waitingPong: ((b: Buffer) => void) | undefined;

  private constructor(readonly socket: net.Socket, serializer: Serializer, readonly handshakeReply: Buffer, rest: Buffer) {
    super(serializer);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.endedWith({}));
    socket.on('error', () => {
      // 'close' follows.
    });
    if (rest.length > 0) this.receive(rest);
    socket.resume();
  }

  /** Connects and completes the handshake; rejects if the router replies with an error. */
  static async open(port: number, o: RawSocketOptions = {}): Promise<RawSocketClient> {
    const serializer = serializerById(o.serializer ?? 'json')!;
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const octet = ((o.lengthExponent ?? 15) << 4) | serializer.rawsocketId;
    socket.write(Buffer.from([0x7f, octet, 0, 0]));
    // Frames may follow the reply in the same chunk; they are handed to the client.
    const head = await new Promise<Buffer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        if (head.length < 4) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.pause();
        resolve(head);
      };
      const onClose = () => reject(new Error(`RawSocket closed during the handshake (got ${head.toString('hex')})`));
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', () => {
        // 'close' follows.
      });
    });
    const reply = head.subarray(0, 4);
    if ((reply[1]! & 0x0f) === 0) {
      socket.destroy();
      throw new Error(`RawSocket handshake refused: ${reply.toString('hex')}`);
    }
    return new RawSocketClient(socket, serializer, reply, head.subarray(4));
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.sendFrame(RAWSOCKET_FRAME.message, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  /** Sends one frame of `type` (0 message, 1 PING, 2 PONG, or anything else). */
  sendFrame(type: number, payload: Uint8Array, lengthOverride?: number): void {
    this.writeRaw(Buffer.concat([frameHeader(type, lengthOverride ?? payload.length), payload]));
  }

  /** Sends several messages in one socket write, so that the router reads them in one go. */
  sendTogether(msgs: readonly (readonly unknown[])[]): void {
    this.writeRaw(Buffer.concat(msgs.map((m) => {
      const bytes = this.serializer.encode(m);
      return Buffer.concat([frameHeader(RAWSOCKET_FRAME.message, bytes.length), bytes]);
    })));
  }

  /** Writes bytes to the socket as they are (no framing). */
  writeRaw(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Sends PING with `payload` and resolves with the payload of the next PONG. */
  ping(payload: Buffer, ms = DEFAULT_WAIT_MS): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no PONG within ${ms} ms`)), ms);
      this.waitingPong = (b) => {
        clearTimeout(timer);
        resolve(b);
      };
      this.sendFrame(RAWSOCKET_FRAME.ping, payload);
    });
  }

  /** Stops reading: the router's writes pile up in the kernel, then in its buffer. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const type = this.buffered[0]! & 0x07;
      const length = this.buffered[0]! & 0x08 ? 2 ** 24 : this.buffered.readUIntBE(1, 3);
      if (this.buffered.length < 4 + length) return;
      const body = this.buffered.subarray(4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      if (type === RAWSOCKET_FRAME.message) {
        this.received1(body);
      } else if (type === RAWSOCKET_FRAME.ping) {
        this.sendFrame(RAWSOCKET_FRAME.pong, body);
      } else if (type === RAWSOCKET_FRAME.pong) {
        this.pongs.push(Buffer.from(body));
        const w = this.waitingPong;
        this.waitingPong = undefined;
        w?.(Buffer.from(body));
      }
    }
  }
}

function frameHeader(type: number, length: number): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUIntBE(length & 0xffffff, 1, 3);
  if (length === 2 ** 24) h[0] = type | 0x08;
  return h;
}

/**
 * Connects over TCP, writes `bytes` (possibly nothing), and collects everything the router sends
 * until it closes the connection.
 */
export function tcpExchange(port: number, bytes: Uint8Array, ms = DEFAULT_WAIT_MS): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the router did not close the connection within ${ms} ms (got ${Buffer.concat(chunks).toString('hex')})`));
    }, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {
      // ECONNRESET when the router destroys the socket; 'close' follows.
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('connect', () => {
      if (bytes.length > 0) socket.write(bytes);
    });
  });
}

/**
 * Connects, writes `bytes`, then resets the connection (TCP RST) at once: a peer that vanishes
 * mid-handshake or mid-message. Resolves when the socket is closed.
 */
export function resetAfter(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (bytes.length > 0) socket.write(bytes);
      socket.resetAndDestroy();
    });
    socket.on('error', () => {
      // Ours: the reset.
    });
    socket.on('close', () => resolve());
  });
}

/**
 * Connects with `allowHalfOpen`, so that the client never closes its side on its own, writes
 * `bytes` and returns the socket and what arrives: for checking that the router closes the
 * connection itself.
 */
export function halfOpenClient(port: number, bytes: Uint8Array): { socket: net.Socket; received: Buffer[]; gotEnd: Promise<void> } {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  socket.on('error', () => {
    // 'close' follows.
  });
  const gotEnd = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  socket.on('connect', () => socket.write(bytes));
  return { socket, received, gotEnd };
}
