/**
 * WAMP over RawSocket on TCP or a Unix socket: handshake (serializer, max length), framing,
 * PING/PONG (every PING is echoed), handshake timeout, max message size, and the same bounded
 * out-buffer, frame-once fan-out and per-tick write coalescing (`write-batcher.ts`) as WebSocket.
 */
import net from 'node:net';
import type { Serializer } from '../serializers/serializer.js';
import { CloseCode } from '../connection/close-codes.js';
import type { Connection } from '../connection/connection.js';
import type { WireKind } from '../connection/outgoing.js';
import type { PeerInfo } from '../connection/peer.js';
import type { ConnectionLimits } from './limits.js';
import { FrameDeadline } from './frame-deadline.js';
import { SocketConnection } from './socket-connection.js';
import { withTls } from './tls.js';
import { MERGE_LIMIT } from './websocket-frame.js';
import type { WriteBatcher } from './write-batcher.js';
import {
  FrameType, HandshakeError, frameHeader, handshakeError, handshakeReply, parseFrameHeader, parseHandshake, writeFrameHeader,
} from './rawsocket-codec.js';

export interface RawSocketOptions extends ConnectionLimits {
  readonly serializers: readonly Serializer[];
  /** ms to wait for the 4 handshake octets. */
  readonly handshakeTimeout: number;
  /** Coalesces each tick's writes per socket; default: the process's shared batcher. */
  readonly batcher?: WriteBatcher;
}

/**
 * RawSocket framing of an Outgoing: the 4-octet header and the message in one buffer, or the
 * header followed by the message's parts or bytes when it is large (not copied).
 */
export const RAWSOCKET_WIRE: WireKind = {
  name: 'rawsocket',
  frame: (m) => {
    if (m.parts) return [frameHeader(FrameType.message, m.length), ...m.parts];
    const bytes = m.bytes;
    const header = frameHeader(FrameType.message, bytes.length);
    return bytes.length > MERGE_LIMIT ? [header, asBuffer(bytes)] : [Buffer.concat([header, bytes])];
  },
};

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Largest PING/PONG payload accepted (larger is a protocol error). */
const MAX_PING_LENGTH = 65536;
/** A peer that never reads after we closed is cut off after this long. */
const CLOSE_GRACE_MS = 2000;

export class RawSocketConnection extends SocketConnection {
  protected readonly wire = RAWSOCKET_WIRE;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly partial: FrameDeadline;

  constructor(
    private readonly socket: net.Socket,
    serializer: Serializer,
    peer: PeerInfo,
    limits: ConnectionLimits,
    /** Largest message the peer accepts. */
    private readonly peerMaxLength: number,
    batcher?: WriteBatcher,
  ) {
    super(socket, serializer, peer, limits, batcher);
    this.partial = new FrameDeadline(limits.readTimeout ?? 0, () => this.readTimedOut());
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => {
      this.partial.stop();
      this.ended(CloseCode.abnormal, 'connection closed', true);
    });
    socket.on('error', () => {
      // 'close' follows.
    });
  }

  /** Feeds bytes that arrived with the handshake. */
  feed(rest: Buffer): void {
    if (rest.length > 0) this.receive(rest);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= 4 && !this.closed) {
      if (this.pending[0]!.length < 4) this.pending = [Buffer.concat(this.pending)];
      const header = parseFrameHeader(this.pending[0]!, 0);
      if (typeof header === 'string') {
        this.handler?.malformed(new Error(header));
        this.abort(CloseCode.protocolError, header);
        return;
      }
      if (header.type === FrameType.message && header.length > this.limits.maxMessageSize) {
        this.abort(CloseCode.tooBig, `message of ${header.length} bytes exceeds the maximum of ${this.limits.maxMessageSize}`);
        return;
      }
      if (header.type !== FrameType.message && header.length > MAX_PING_LENGTH) {
        this.abort(CloseCode.protocolError, 'oversize PING/PONG');
        return;
      }
      // Wait for the whole frame before joining chunks, so a large message is copied once.
      if (this.pendingBytes < 4 + header.length) return this.partial.started();
      const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      const body = buf.subarray(4, 4 + header.length);
      const rest = buf.subarray(4 + header.length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      this.partial.completed();
      if (header.type === FrameType.ping) {
        // In order with the messages written this tick (the copy: `body` is a view of the read chunk).
        if (this.mayWriteControl()) this.out.write(Buffer.concat([frameHeader(FrameType.pong, body.length), body]));
      } else if (header.type === FrameType.message) {
        this.deliver(body);
      }
    }
    if (this.pendingBytes > 0) this.partial.started();
  }

  headroom(): number {
    return 4;
  }

  protected inPlaceLength(framed: Buffer): number {
    return framed.length - 4;
  }

  protected writeHeader(framed: Buffer, length: number): void {
    writeFrameHeader(framed, FrameType.message, length);
  }

  /** Whether a message of `length` bytes may be written now; counts a drop, or closes. */
  protected override mayWrite(length: number, droppable: boolean): boolean {
    if (this.closed) return false;
    if (length > this.peerMaxLength) {
      // The peer said it cannot take a message this large.
      if (droppable) {
        this.dropped++;
        return false;
      }
      this.abort(CloseCode.tooBig, `message of ${length} bytes exceeds the peer's maximum of ${this.peerMaxLength}`);
      return false;
    }
    return super.mayWrite(length, droppable);
  }

  close(_code: number, _reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  abort(code: number, reason: string): void {
    if (this.closed) return;
    this.partial.stop();
    this.socket.destroy();
    this.ended(code, reason, false);
  }
}

/** Performs the RawSocket opening handshake on each accepted socket, then hands over a Connection. */
export function acceptRawSocket(
  socket: net.Socket,
  options: RawSocketOptions,
  accept: (conn: Connection) => void,
): void {
  socket.setNoDelay(true);
  let head = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), options.handshakeTimeout);
  timer.unref();
  const onError = () => clearTimeout(timer);
  socket.on('error', onError);
  socket.on('close', onError);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.length < 4) return;
    socket.off('data', onData);
    clearTimeout(timer);
    socket.off('error', onError);
    socket.off('close', onError);
    const hs = parseHandshake(head);
    if (hs === undefined) {
      socket.destroy();
      return;
    }
    if ('error' in hs) {
      refuse(socket, hs.error);
      return;
    }
    const serializer = options.serializers.find((s) => s.rawsocketId === hs.serializerId);
    if (!serializer) {
      refuse(socket, HandshakeError.serializerUnsupported);
      return;
    }
    socket.write(handshakeReply(serializer.rawsocketId, options.maxMessageSize));
    const peer: PeerInfo = {
      transport: 'rawsocket',
      remoteAddress: socket.remoteAddress ?? 'unix',
      remotePort: socket.remotePort,
      secure: 'encrypted' in socket,
      ...withTls(socket),
    };
    const conn = new RawSocketConnection(socket, serializer, peer, options, hs.maxLength, options.batcher);
    accept(conn);
    conn.feed(head.subarray(4));
  };
  socket.on('data', onData);
}

/**
 * Answers a handshake with an error reply and closes. The socket keeps an 'error' listener (a peer
 * that resets the connection made the reply's write fail with ECONNRESET, an uncaught 'error' that
 * ended the process), and is destroyed once the reply is flushed, as ws does for a refused upgrade:
 * end() only half-closes, and a peer that never closed its side held the socket forever.
 */
function refuse(socket: net.Socket, code: number): void {
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(handshakeError(code));
}
