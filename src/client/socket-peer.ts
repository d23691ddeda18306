/**
 * Outbound WAMP transports for in-process clients: a WebSocket or RawSocket connection to another
 * router, as a `LocalPeerEnd` (message arrays in and out), so `LocalClient` speaks WAMP over it as
 * over the in-process pair. Encoding uses the router's own serializers. Each end bounds what it
 * has queued for the socket: past `maxQueuedBytes` a message is dropped and counted.
 */
import net from 'node:net';
import WebSocket from 'ws';
import type { CloseCause } from '../connection/connection.js';
import { CloseCode } from '../connection/close-codes.js';
import type { Serializer } from '../serializers/serializer.js';
import type { LocalPeerEnd } from '../transports/local.js';
import { FrameType, MAGIC, frameHeader, parseFrameHeader } from '../transports/rawsocket-codec.js';

export interface SocketPeerEnd extends LocalPeerEnd {
  /** Messages dropped because the socket's queue was full. */
  readonly dropped: number;
}

export type RawSocketTarget = { readonly host: string; readonly port: number } | { readonly path: string };

const DEFAULT_MAX_QUEUED = 16 * 1024 * 1024;
const RAWSOCKET_MAX_LENGTH_EXPONENT = 15; // 2^24 bytes
/** The largest message a link accepts from the other router (what it announces on RawSocket). */
const MAX_MESSAGE = 2 ** 24;

abstract class PeerBase implements SocketPeerEnd {
  dropped = 0;
  private messageFn: ((m: unknown) => void) | undefined;
  private closeFn: ((c: CloseCause) => void) | undefined;
  private ended = false;

  constructor(protected readonly serializer: Serializer, protected readonly maxQueuedBytes: number) {}

  abstract send(message: readonly unknown[]): void;
  abstract close(): void;

  onMessage(fn: (message: unknown) => void): void {
    this.messageFn = fn;
  }

  onClose(fn: (cause: CloseCause) => void): void {
    this.closeFn = fn;
  }

  protected received(bytes: Uint8Array): void {
    let m: unknown;
    try {
      m = this.serializer.decode(bytes);
    } catch {
      this.close();
      return;
    }
    this.messageFn?.(m);
  }

  protected ended_(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.closeFn?.({ code, reason, byPeer: true });
  }
}

class WebSocketPeer extends PeerBase {
  constructor(private readonly ws: WebSocket, serializer: Serializer, maxQueuedBytes: number) {
    super(serializer, maxQueuedBytes);
    ws.on('message', (data: Buffer) => this.received(data));
    ws.on('close', (code, reason) => this.ended_(code, reason.toString()));
    ws.on('error', () => ws.terminate());
  }

  send(message: readonly unknown[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.maxQueuedBytes) {
      this.dropped++;
      return;
    }
    this.ws.send(this.serializer.encode(message), { binary: this.serializer.binary });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }
}

class RawSocketPeer extends PeerBase {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly socket: net.Socket, serializer: Serializer, maxQueuedBytes: number, rest: Buffer) {
    super(serializer, maxQueuedBytes);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('close', () => this.ended_(CloseCode.abnormal, 'connection closed'));
    socket.on('error', () => socket.destroy());
    if (rest.length > 0) queueMicrotask(() => this.data(rest));
  }

  private data(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const h = parseFrameHeader(this.buffered, 0);
      if (typeof h === 'string') return void this.socket.destroy();
      if (this.buffered.length < 4 + h.length) return;
      const body = this.buffered.subarray(4, 4 + h.length);
      this.buffered = this.buffered.subarray(4 + h.length);
      if (h.type === FrameType.message) this.received(body);
      else if (h.type === FrameType.ping) this.socket.write(Buffer.concat([frameHeader(FrameType.pong, body.length), body]));
    }
  }

  send(message: readonly unknown[]): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength > this.maxQueuedBytes) {
      this.dropped++;
      return;
    }
    const bytes = this.serializer.encode(message);
    this.socket.write(Buffer.concat([frameHeader(FrameType.message, bytes.length), bytes]));
  }

  close(): void {
    this.socket.end();
  }
}

/** Opens a WebSocket to `url` speaking `serializer`'s subprotocol. */
export function connectWebSocket(url: string, serializer: Serializer, timeoutMs: number, maxQueuedBytes = DEFAULT_MAX_QUEUED): Promise<SocketPeerEnd> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [serializer.subprotocol], { handshakeTimeout: timeoutMs, perMessageDeflate: false, maxPayload: MAX_MESSAGE });
    ws.once('open', () => {
      if (ws.protocol !== serializer.subprotocol) {
        ws.terminate();
        return reject(new Error(`the router at ${url} did not accept ${serializer.subprotocol}`));
      }
      ws.removeAllListeners('error');
      resolve(new WebSocketPeer(ws, serializer, maxQueuedBytes));
    });
    ws.once('error', (e) => reject(e));
  });
}

/** Opens a RawSocket (TCP or Unix socket) and completes its handshake for `serializer`. */
export function connectRawSocket(target: RawSocketTarget, serializer: Serializer, timeoutMs: number, maxQueuedBytes = DEFAULT_MAX_QUEUED): Promise<SocketPeerEnd> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    const timer = setTimeout(() => fail(new Error('RawSocket handshake timed out')), timeoutMs);
    let reply = Buffer.alloc(0);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.once('error', fail);
    socket.once('connect', () => socket.write(Buffer.from([MAGIC, (RAWSOCKET_MAX_LENGTH_EXPONENT << 4) | serializer.rawsocketId, 0, 0])));
    const onData = (chunk: Buffer): void => {
      reply = Buffer.concat([reply, chunk]);
      if (reply.length < 4) return;
      socket.off('data', onData);
      if (reply[0] !== MAGIC) return fail(new Error('not a RawSocket router'));
      if ((reply[1]! & 0x0f) !== serializer.rawsocketId) return fail(new Error(`the router refused the RawSocket handshake (error ${reply[1]! >> 4})`));
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(new RawSocketPeer(socket, serializer, maxQueuedBytes, reply.subarray(4)));
    };
    socket.on('data', onData);
  });
}
