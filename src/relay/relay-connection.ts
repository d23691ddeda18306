/**
 * One relay client: a `ws` WebSocket for closing and pings, whole frames read from its socket
 * (`ws-reader.ts`, ws reads the rest), and its raw socket for the fan-out writes (the same framed buffers for every receiver, see frame.ts), through the
 * transports' out-buffer and write batcher (one writev per socket per tick). Delivery order is the
 * order of `deliver` calls; a message refused by the receiver's queue bound (bytes: a count of
 * messages would trip on any burst the batcher hands the kernel at once) is dropped whole and
 * counted, never split and never waited for.
 */
import type { WebSocket } from 'ws';
import { CloseCode } from '../connection/close-codes.js';
import type { OutBudget } from '../transports/out-budget.js';
import { OutBuffer } from '../transports/out-buffer.js';
import { PingKeepalive, socketOf } from '../transports/ws-socket.js';
import { readFramesDirectly } from '../transports/ws-reader.js';
import { closeReason, CLOSE_INVALID_DATA, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG } from './errors.js';
import { Flow, type FlowReport } from './flow.js';
import type { Framed } from './frame.js';

/** Node's timers take at most 2^31-1 ms; longer expiries re-arm. */
const MAX_TIMER = 2 ** 31 - 1;
/** A peer that never answers the close handshake is cut off after this long. */
const CLOSE_GRACE = 1000;

export interface ConnectionInfo {
  /** The path as connected ("in/demo"). */
  readonly path: string;
  readonly channel: string;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly remoteAddr: string;
  readonly userAgent: string;
  readonly scopes?: readonly string[];
  readonly bookingId?: string;
  readonly expiresAt?: number;
}

export interface ConnectionReport {
  readonly id: number;
  readonly topic: string;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly connected: string;
  readonly expiresAt?: string;
  readonly remoteAddr: string;
  readonly userAgent: string;
  readonly scopes?: readonly string[];
  /** Bytes waiting in this client's outgoing queue. */
  readonly queued: number;
  readonly stats: { readonly tx: FlowReport; readonly rx: FlowReport };
}

export interface ConnectionEvents {
  message(from: RelayConnection, data: Buffer, binary: boolean, now: number): void;
  closed(conn: RelayConnection, code: number, reason: string): void;
  /** The token's `exp` has passed. */
  expired(conn: RelayConnection): void;
}

let nextId = 1;

export class RelayConnection {
  readonly id = nextId++;
  readonly connectedAt = Date.now();
  /** Messages the client sent (to the relay). */
  readonly tx = new Flow();
  /** Messages the relay sent to the client. */
  readonly rx = new Flow();
  private readonly out: OutBuffer;
  /** Bytes this receiver's queue may hold (`queue_bytes`). */
  private readonly maxQueued: number;
  private readonly pings: PingKeepalive;
  private open = true;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly info: ConnectionInfo,
    limits: { readonly queueBytes: number; readonly slowConsumerTimeout: number; readonly maxMessageSize: number },
    private readonly events: ConnectionEvents,
    outBudget?: OutBudget,
  ) {
    this.out = new OutBuffer(socketOf(ws), {
      maxOutBuffer: limits.queueBytes, slowConsumer: 'drop', slowConsumerTimeout: limits.slowConsumerTimeout, ...(outBudget ? { outBudget } : {}),
    });
    this.maxQueued = limits.queueBytes;
    this.pings = new PingKeepalive(ws);
    withCloseReasons(ws, limits.maxMessageSize);
    const receive = (data: Buffer, isBinary: boolean): void => this.receive(data, isBinary);
    // Whole frames straight from the socket (ws-reader.ts, text checked for UTF-8 as ws would);
    // what ws still reads arrives as 'message'.
    readFramesDirectly(ws, receive);
    ws.on('message', receive);
    // The relay turns ws's automatic pongs off: a pong counts against the queue bound like any write.
    ws.on('ping', (data: Buffer) => {
      if (!this.open) return;
      if (this.out.admit(false) === 'write') ws.pong(data);
      else this.close(CloseCode.policyViolation, `${this.out.refusal}; the client sends pings and does not read their pongs`);
    });
    ws.on('close', (code: number, reason: Buffer) => this.ended(code, reason.toString()));
    ws.on('error', () => {
      // ws closes the connection itself (1002, 1007, 1009) and emits 'close' next.
    });
    if (info.expiresAt !== undefined) this.armExpiry(info.expiresAt);
  }

  private receive(data: Buffer, binary: boolean): void {
    if (!this.open) return;
    const now = performance.now();
    this.tx.record(data.length, now);
    if (!this.info.canWrite) {
      this.tx.dropped++;
      return;
    }
    this.events.message(this, data, binary, now);
  }

  /** Queues one framed message, or drops it whole if this receiver's queue is full. */
  deliver(f: Framed, now: number): void {
    if (!this.open) return;
    // An empty queue takes any message, so one larger than the bound still reaches a receiver that keeps up.
    const queued = this.out.queued;
    if (queued > 0 && queued + f.wireBytes > this.maxQueued) {
      this.rx.dropped++;
      this.out.refusedBy('max_out_buffer');
      return;
    }
    // The time rule and the node's budget (out-buffer.ts); the relay's policy is always 'drop'.
    if (this.out.admit(true) !== 'write') {
      this.rx.dropped++;
      return;
    }
    const buffers = f.buffers;
    for (let i = 0; i < buffers.length; i++) this.out.write(buffers[i]!);
    this.rx.record(f.size, now);
  }

  /** Sends a text message outside the fan-out (the stats channel). */
  sendText(text: string): void {
    if (this.open) this.ws.send(text);
  }

  /** Stops delivery at once and closes with `code`; the peer is cut off if it does not answer. */
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    clearTimeout(this.expiryTimer);
    this.ws.close(code, closeReason(reason));
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE).unref();
  }

  /** Keepalive tick: ping, or cut off a client that did not answer the previous ping. */
  keepalive(now: number): void {
    if (!this.open) return;
    if (!this.pings.tick(now, 0)) {
      this.open = false;
      this.ws.terminate();
    }
  }

  get isOpen(): boolean {
    return this.open;
  }

  report(now: number): ConnectionReport {
    const i = this.info;
    return {
      id: this.id,
      topic: i.path,
      canRead: i.canRead,
      canWrite: i.canWrite,
      connected: new Date(this.connectedAt).toISOString(),
      ...(i.expiresAt === undefined ? {} : { expiresAt: new Date(i.expiresAt).toISOString() }),
      remoteAddr: i.remoteAddr,
      userAgent: i.userAgent,
      ...(i.scopes === undefined ? {} : { scopes: i.scopes }),
      queued: this.out.queued,
      stats: { tx: this.tx.report(now), rx: this.rx.report(now) },
    };
  }

  private armExpiry(at: number): void {
    const delay = at - Date.now();
    if (delay <= 0) {
      this.events.expired(this);
      return;
    }
    this.expiryTimer = setTimeout(() => this.armExpiry(at), Math.min(delay, MAX_TIMER));
    this.expiryTimer.unref();
  }

  private ended(code: number, reason: string): void {
    this.open = false;
    clearTimeout(this.expiryTimer);
    this.events.closed(this, code, reason);
  }
}

/**
 * ws closes on a bad frame with the bare close code (`websocket.close(err[kStatusCode])`); this
 * gives those closes a reason the client can show. Only the code-only calls are affected.
 */
function withCloseReasons(ws: WebSocket, maxMessageSize: number): void {
  const close = ws.close.bind(ws);
  const reasons: Record<number, string> = {
    [CLOSE_TOO_BIG]: `message larger than the relay's limit of ${maxMessageSize} bytes`,
    [CLOSE_INVALID_DATA]: 'invalid UTF-8 in a text message',
    [CLOSE_PROTOCOL_ERROR]: 'WebSocket protocol error',
  };
  ws.close = (code?: number, reason?: string | Buffer) => close(code, reason ?? (code === undefined ? undefined : reasons[code]));
}
