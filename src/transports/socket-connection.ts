/**
 * The skeleton every socket transport's Connection shares (WebSocket, RawSocket; a new kind of
 * connection plugs in here): traffic counters, the handler and its attach, decode-or-malformed,
 * the end of the connection reported once, and sending through the bounded out-buffer
 * (`out-buffer.ts`) — an Outgoing framed once per wire kind, the same buffers for every socket of
 * that kind. A subclass says how its wire frames a message and how it closes.
 */
import type { Socket } from 'node:net';
import type { Serializer } from '../serializers/serializer.js';
import { CloseCode } from '../connection/close-codes.js';
import type { CloseCause, Connection, ConnectionHandler, SendResult, TrafficObserver } from '../connection/connection.js';
import type { Outgoing, WireKind } from '../connection/outgoing.js';
import type { PeerInfo } from '../connection/peer.js';
import type { ConnectionLimits } from './limits.js';
import { nextConnectionId } from './connection-id.js';
import { OutBuffer } from './out-buffer.js';
import type { WriteBatcher } from './write-batcher.js';

/** Before WELCOME: the handshake (HELLO's answers are a few KiB) and a few frames. */
export const DEFAULT_HANDSHAKE_OUT_BUFFER = 256 * 1024;

export abstract class SocketConnection implements Connection {
  readonly id = nextConnectionId();
  dropped = 0;
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  protected readonly counting: boolean;
  protected handler: ConnectionHandler | undefined;
  /** A realm's session statistics; one undefined check per message when no realm asks. */
  private observer: TrafficObserver | undefined;
  protected closed = false;
  protected readonly out: OutBuffer;

  constructor(
    socket: Socket,
    readonly serializer: Serializer,
    readonly peer: PeerInfo,
    protected readonly limits: ConnectionLimits,
    batcher: WriteBatcher | undefined,
  ) {
    this.out = new OutBuffer(socket, limits, batcher);
    this.out.bound(limits.maxHandshakeOutBuffer ?? DEFAULT_HANDSHAKE_OUT_BUFFER, 'max_handshake_out_buffer');
    this.counting = limits.countTraffic === true;
  }

  joined(): void {
    this.out.bound();
  }

  /** How this transport frames an Outgoing (cached on it for every connection of the kind). */
  protected abstract readonly wire: WireKind;

  abstract headroom(length: number): number;
  /** The length of the message in `framed`, encoded after `headroom(length)` free bytes. */
  protected abstract inPlaceLength(framed: Buffer): number;
  /** Writes the frame header of a message of `length` bytes into the headroom of `framed`. */
  protected abstract writeHeader(framed: Buffer, length: number): void;
  abstract close(code: number, reason: string): void;
  /** Closes without a handshake, discarding what is queued, and reports the end. */
  abstract abort(code: number, reason: string): void;

  /** Bytes queued for this connection and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.out.queued;
  }

  attach(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  observe(observer: TrafficObserver | undefined): void {
    this.observer = observer;
  }

  /** One whole incoming message: counted, decoded, and handed over (or reported malformed). */
  protected deliver(body: Buffer): void {
    const handler = this.handler;
    if (!handler || this.closed) return;
    if (this.counting) {
      this.messagesIn++;
      this.bytesIn += body.length;
    }
    let msg: unknown;
    try {
      msg = this.serializer.decode(body);
    } catch (e) {
      this.undecodable(e as Error, handler);
      return;
    }
    // As Autobahn's serializer statistics: counted once decoded, before the message is handled.
    this.observer?.received(body.length);
    handler.message(msg, body);
  }

  /** The serializer refused a message; a transport may answer some failures its own way. */
  protected undecodable(error: Error, handler: ConnectionHandler): void {
    handler.malformed(error);
  }

  send(msg: Outgoing, droppable: boolean): SendResult {
    const length = msg.length;
    if (!this.mayWrite(length, droppable)) return this.closed ? 'closed' : 'dropped';
    const frames = msg.framed(this.wire);
    // Corked until the end of the tick (every part of a frame too): one writev per socket.
    for (let i = 0; i < frames.length; i++) this.out.write(frames[i]!);
    if (this.counting) {
      this.messagesOut++;
      this.bytesOut += length;
    }
    this.observer?.sent(length);
    return 'sent';
  }

  sendInPlace(framed: Buffer): SendResult {
    const length = this.inPlaceLength(framed);
    if (!this.mayWrite(length, false)) return 'closed';
    this.writeHeader(framed, length);
    this.out.write(framed);
    if (this.counting) {
      this.messagesOut++;
      this.bytesOut += length;
    }
    this.observer?.sent(length);
    return 'sent';
  }

  /** Whether a message of `length` bytes may be written now; else counts a drop, or closes (1008). */
  protected mayWrite(_length: number, droppable: boolean): boolean {
    if (this.closed) return false;
    switch (this.out.admit(droppable)) {
      case 'write':
        return true;
      case 'drop':
        this.dropped++;
        return false;
      case 'disconnect':
        this.abort(CloseCode.policyViolation, this.out.refusal);
        return false;
    }
  }

  /**
   * Whether a transport's own control frame (a PONG) may be queued: it counts against the bound
   * like any write, and a peer that keeps asking for them while not reading is closed (1008).
   */
  protected mayWriteControl(): boolean {
    if (this.closed) return false;
    if (this.out.admit(false) === 'write') return true;
    this.abort(CloseCode.policyViolation, `${this.out.refusal}; the peer sends PINGs and does not read their PONGs`);
    return false;
  }

  /** A frame that started arriving did not arrive whole within `read_timeout` (1008, counted). */
  protected readTimedOut(): void {
    this.limits.outBudget?.refused('read_timeout', 'disconnect');
    this.abort(CloseCode.policyViolation, `a frame did not arrive whole within ${this.limits.readTimeout} ms (read_timeout)`);
  }

  /** The connection ended (either side): the handler hears it once, and nothing more is delivered. */
  protected ended(code: number, reason: string, byPeer: boolean): void {
    const handler = this.handler;
    this.closed = true;
    this.handler = undefined;
    this.observer = undefined;
    if (handler) {
      const cause: CloseCause = { code, reason, byPeer };
      handler.closed(cause);
    }
  }
}
