/**
 * Outbound WAMP transports for in-process clients: a WebSocket or RawSocket connection to another
 * router, as a `LocalPeerEnd` (message arrays in and out), so `LocalClient` speaks WAMP over it as
 * over the in-process pair. Encoding uses the router's own serializers. Each end bounds what it
 * has queued for the socket: past `maxQueuedBytes` a message is dropped and counted. Either may
 * run over TLS (`ClientTls`: the remote's certificate is verified against `hostname` and the given
 * or the platform's CAs; an optional client certificate).
 */
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import type { CloseCause } from '../connection/connection.js';
import { CloseCode } from '../connection/close-codes.js';
import type { Serializer } from '../serializers/serializer.js';
import type { LocalPeerEnd } from '../transports/local.js';
import { FrameType, MAGIC, frameHeader, parseFrameHeader } from '../transports/rawsocket-codec.js';
import { clientTlsUnique } from '../transports/tls.js';

export interface SocketPeerEnd extends LocalPeerEnd {
  /** Messages dropped because the socket's queue was full. */
  readonly dropped: number;
  /** The connection's tls-unique (RFC 5929), for cryptosign's channel binding; undefined without TLS or on TLS 1.3. */
  readonly tlsUnique: Buffer | undefined;
}

/** TLS for an outgoing connection. */
export interface ClientTls {
  /** The name the server's certificate must carry (also sent as SNI unless it is an address). */
  readonly hostname: string;
  /** PEM CAs to trust instead of the platform's. */
  readonly ca?: readonly string[];
  readonly cert?: string;
  readonly key?: string;
}

function tlsOptions(t: ClientTls): tls.ConnectionOptions {
  return {
    ...(net.isIP(t.hostname) ? {} : { servername: t.hostname }),
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(t.hostname, cert),
    rejectUnauthorized: true,
    ...(t.ca === undefined ? {} : { ca: [...t.ca] }),
    ...(t.cert === undefined ? {} : { cert: t.cert }),
    ...(t.key === undefined ? {} : { key: t.key }),
  };
}

export type RawSocketTarget = { readonly host: string; readonly port: number } | { readonly path: string };

const DEFAULT_MAX_QUEUED = 16 * 1024 * 1024;
const RAWSOCKET_MAX_LENGTH_EXPONENT = 15; // 2^24 bytes
/** The largest message a link accepts from the other router (what it announces on RawSocket). */
const MAX_MESSAGE = 2 ** 24;

abstract class PeerBase implements SocketPeerEnd {
  dropped = 0;
  tlsUnique: Buffer | undefined;
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

/** Opens a WebSocket to `url` speaking `serializer`'s subprotocol; with `secure`, over TLS whatever the URL's scheme. */
export function connectWebSocket(url: string, serializer: Serializer, timeoutMs: number, secure?: ClientTls, maxQueuedBytes = DEFAULT_MAX_QUEUED): Promise<SocketPeerEnd> {
  return new Promise((resolve, reject) => {
    const target = secure === undefined ? url : url.replace(/^ws:/, 'wss:');
    const ws = new WebSocket(target, [serializer.subprotocol], {
      handshakeTimeout: timeoutMs, perMessageDeflate: false, maxPayload: MAX_MESSAGE, ...(secure === undefined ? {} : tlsOptions(secure)),
    });
    let socket: unknown;
    ws.once('upgrade', (res) => (socket = res.socket));
    ws.once('open', () => {
      if (ws.protocol !== serializer.subprotocol) {
        ws.terminate();
        return reject(new Error(`the router at ${url} did not accept ${serializer.subprotocol}`));
      }
      ws.removeAllListeners('error');
      const peer = new WebSocketPeer(ws, serializer, maxQueuedBytes);
      if (socket instanceof tls.TLSSocket) peer.tlsUnique = clientTlsUnique(socket);
      resolve(peer);
    });
    ws.once('error', (e) => reject(e));
  });
}

/** Opens a RawSocket (TCP, TCP with TLS, or Unix socket) and completes its handshake for `serializer`. */
export function connectRawSocket(target: RawSocketTarget, serializer: Serializer, timeoutMs: number, secure?: ClientTls, maxQueuedBytes = DEFAULT_MAX_QUEUED): Promise<SocketPeerEnd> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = 'path' in target ? net.connect(target.path)
      : secure === undefined ? net.connect(target.port, target.host)
        : tls.connect({ host: target.host, port: target.port, ...tlsOptions(secure) });
    const timer = setTimeout(() => fail(new Error('RawSocket handshake timed out')), timeoutMs);
    let reply = Buffer.alloc(0);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.once('error', fail);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect',
      () => socket.write(Buffer.from([MAGIC, (RAWSOCKET_MAX_LENGTH_EXPONENT << 4) | serializer.rawsocketId, 0, 0])));
    const onData = (chunk: Buffer): void => {
      reply = Buffer.concat([reply, chunk]);
      if (reply.length < 4) return;
      socket.off('data', onData);
      if (reply[0] !== MAGIC) return fail(new Error('not a RawSocket router'));
      if ((reply[1]! & 0x0f) !== serializer.rawsocketId) return fail(new Error(`the router refused the RawSocket handshake (error ${reply[1]! >> 4})`));
      clearTimeout(timer);
      socket.off('error', fail);
      const peer = new RawSocketPeer(socket, serializer, maxQueuedBytes, reply.subarray(4));
      if (socket instanceof tls.TLSSocket) peer.tlsUnique = clientTlsUnique(socket as TLSSocket);
      resolve(peer);
    };
    socket.on('data', onData);
  });
}
