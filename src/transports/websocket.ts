/**
 * WAMP over WebSocket (`ws`): subprotocol negotiation (wamp.2.json|msgpack|cbor), max message
 * size (ws closes with 1009), ping keepalive, and frame-once fan-out: an Outgoing is framed once
 * (`websocket-frame.ts`) and the same buffer is written to every socket, the writes of one tick
 * coalesced per socket (`write-batcher.ts`).
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type PerMessageDeflateOptions, type WebSocket, WebSocketServer } from 'ws';
import { InvalidUtf8Error, type Serializer } from '../serializers/serializer.js';
import { CloseCode } from '../connection/close-codes.js';
import type { Connection, ConnectionHandler } from '../connection/connection.js';
import type { WireKind } from '../connection/outgoing.js';
import type { PeerInfo } from '../connection/peer.js';
import type { CookieJar, TrackedUpgrade } from '../connection/tracking-cookie.js';
import { CloseUri } from '../wamp/errors.js';
import type { ConnectionLimits } from './limits.js';
import { SocketConnection } from './socket-connection.js';
import { withTls } from './tls.js';
import { frameHeader, frameMessage, headerSize, messageLength, writeHeader } from './websocket-frame.js';
import type { WriteBatcher } from './write-batcher.js';
import { FrameDeadline } from './frame-deadline.js';
import { holdsPartialFrame, PingKeepalive, socketOf } from './ws-socket.js';
import { readFramesDirectly } from './ws-reader.js';

export interface WebSocketServiceOptions extends ConnectionLimits {
  readonly serializers: readonly Serializer[];
  /** ms between pings; 0 disables keepalive. */
  readonly pingInterval: number;
  /** ms to wait for a pong before closing. */
  readonly pingTimeout: number;
  /** Coalesces each tick's writes per socket; default: the process's shared batcher. */
  readonly batcher?: WriteBatcher;
  /**
   * permessage-deflate as `ws` negotiates it (undefined: refused). Compressed messages from the
   * client are inflated by ws (within maxPayload); this side's frames go out uncompressed, which
   * RFC 7692 allows, so one framing still serves every receiver.
   */
  readonly perMessageDeflate?: PerMessageDeflateOptions;
  /** Cookie tracking (Crossbar.io's `cookie`): each upgrade reads or sets the tracking cookie. */
  readonly cookies?: CookieJar;
  /** Asked before each upgrade: an answer refuses it with that HTTP response (e.g. 503 from a full node). */
  readonly admit?: () => UpgradeRefusal | undefined;
}

/** An HTTP answer instead of an upgrade. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An upgrade in progress: its cookie, and (once made) its connection, which a logout elsewhere closes. */
interface Upgrade {
  tracked?: TrackedUpgrade;
  conn?: WebSocketConnection;
}

/** WebSocket framing of an Outgoing (`websocket-frame.ts`), cached on it for every WebSocket receiver. */
export const WEBSOCKET_WIRE: WireKind = {
  name: 'websocket',
  frame: (m) => (m.parts ? [frameHeader(m.length, m.binary), ...m.parts] : frameMessage(m.bytes, m.binary)),
};

const ignore = (): void => {};

/** A peer that never answers the close handshake is cut off after this long. */
const CLOSE_GRACE_MS = 2000;

export class WebSocketConnection extends SocketConnection {
  protected readonly wire = WEBSOCKET_WIRE;
  private readonly keepaliveState: PingKeepalive;

  constructor(
    private readonly ws: WebSocket,
    serializer: Serializer,
    peer: PeerInfo,
    limits: ConnectionLimits,
    batcher?: WriteBatcher,
    /** Called once the connection has closed (the service forgets it). */
    closed?: () => void,
  ) {
    const socket = socketOf(ws);
    super(socket, serializer, peer, limits, batcher);
    this.keepaliveState = new PingKeepalive(ws);
    const receive = (data: Buffer, isBinary: boolean): void => this.receive(data, isBinary);
    // Whole frames straight from the socket (ws-reader.ts); what ws still reads arrives as 'message'.
    readFramesDirectly(ws, receive);
    ws.on('message', receive);
    // The service turns ws's automatic pongs off: a pong counts against the out-buffer bound.
    ws.on('ping', (data: Buffer) => {
      if (this.mayWriteControl()) ws.pong(data);
    });
    const timeout = limits.readTimeout ?? 0;
    let partial: FrameDeadline | undefined;
    if (timeout > 0) {
      const deadline = (partial = new FrameDeadline(timeout, () => this.readTimedOut()));
      // After ws's own listener has taken the chunk: what it still holds is a partial frame.
      socket.on('data', () => (holdsPartialFrame(ws) ? deadline.started() : deadline.completed()));
    }
    // One listener for the end (ws emits 'close' once the socket has closed): per-connection
    // listeners and closures are most of what an idle session costs beyond its socket.
    ws.on('close', (code: number, reason: Buffer) => {
      partial?.stop();
      this.ended(code, reason.toString(), true);
      closed?.();
    });
    // ws emits 'close' after 'error' (e.g. 1009 max payload, 1002 bad frame); the cause is logged there.
    ws.on('error', ignore);
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (isBinary !== this.serializer.binary && this.handler && !this.closed) {
      this.handler.malformed(new Error(`${isBinary ? 'binary' : 'text'} frame on a ${this.serializer.subprotocol} connection`));
      return;
    }
    this.deliver(data);
  }

  protected override undecodable(error: Error, handler: ConnectionHandler): void {
    // ws leaves UTF-8 to the JSON decoder (skipUTF8Validation); the RFC's answer stays the same.
    if (error instanceof InvalidUtf8Error) this.close(CloseCode.invalidData, 'invalid UTF-8 in a text frame');
    else handler.malformed(error);
  }

  headroom(length: number): number {
    return headerSize(length);
  }

  protected inPlaceLength(framed: Buffer): number {
    return messageLength(framed.length);
  }

  protected writeHeader(framed: Buffer, length: number): void {
    writeHeader(framed, length, this.serializer.binary);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, truncateReason(reason));
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Closes without a handshake (the out-buffer is full, a close frame would queue behind it). */
  abort(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.terminate();
    this.ended(code, reason, false);
  }

  /** Keepalive tick: ping, or close if the last ping went unanswered. */
  keepalive(now: number, timeout: number): void {
    if (this.closed) return;
    if (!this.keepaliveState.tick(now, timeout)) this.abort(CloseCode.goingAway, 'ping timeout');
  }
}

/** WebSocket close reasons are limited to 123 bytes. */
function truncateReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString() + '…';
}

/**
 * A WAMP WebSocket endpoint on some path of a web transport. Upgrades with no supported WAMP
 * subprotocol are refused with HTTP 400 naming the supported ones.
 */
export class WebSocketService {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WebSocketConnection>();
  private readonly upgrades = new WeakMap<IncomingMessage, Upgrade>();
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: WebSocketServiceOptions,
    private readonly accept: (conn: Connection) => void,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: options.perMessageDeflate ?? false,
      maxPayload: options.maxMessageSize,
      clientTracking: false,
      autoPong: false,
      // Text frames carry JSON, whose decoder checks UTF-8 as it decodes (a malformed one is
      // ABORTed); a binary serializer refuses text frames. Checking twice cost ~2% of a call.
      skipUTF8Validation: true,
      handleProtocols: (offered) => this.pick([...offered])?.subprotocol ?? false,
    });
    const jar = options.cookies;
    // ws emits 'headers' once the upgrade is accepted, just before the 101 goes out: the cookie is
    // looked up or made only for connections that will exist.
    if (jar) {
      this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
        const u = this.upgrades.get(req);
        if (!u) return;
        u.tracked = jar.track(req.headers.cookie, () => u.conn?.close(CloseCode.normal, CloseUri.logout));
        if (u.tracked.setCookie) headers.push(`Set-Cookie: ${u.tracked.setCookie}`);
      });
    }
  }

  private pick(offered: readonly string[]): Serializer | undefined {
    for (const p of offered) {
      const s = this.options.serializers.find((x) => x.subprotocol === p);
      if (s) return s;
    }
    return undefined;
  }

  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refusal = this.options.admit?.();
    if (refusal) return refuseUpgrade(socket, refusal);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const serializer = this.pick(offered);
    if (!serializer) {
      const supported = this.options.serializers.map((s) => s.subprotocol).join(', ');
      const body = offered.length === 0
        ? `No WebSocket subprotocol offered; this WAMP endpoint speaks ${supported}\n`
        : `Unsupported WebSocket subprotocol ${offered.join(', ')}; this WAMP endpoint speaks ${supported}\n`;
      return refuseUpgrade(socket, { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body });
    }
    const upgrade: Upgrade = {};
    if (this.options.cookies) this.upgrades.set(req, upgrade);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const cookie = upgrade.tracked?.cookie;
      const peer: PeerInfo = {
        transport: 'websocket',
        remoteAddress: req.socket.remoteAddress ?? '',
        remotePort: req.socket.remotePort,
        userAgent: req.headers['user-agent'],
        secure: 'encrypted' in req.socket,
        ...withTls(req.socket),
        ...(cookie ? { cookie } : {}),
      };
      this.accepted(ws, serializer, peer, upgrade);
    });
  }

  /**
   * Apart from handleUpgrade so that the connection's listeners close over this function's scope,
   * not the upgrade's: the request, its headers and the head buffer are garbage once it returns.
   */
  private accepted(ws: WebSocket, serializer: Serializer, peer: PeerInfo, upgrade: Upgrade): void {
    const cookie = peer.cookie;
    const conn: WebSocketConnection = new WebSocketConnection(ws, serializer, peer, this.options, this.options.batcher, () => {
      this.connections.delete(conn);
      cookie?.release();
    });
    upgrade.conn = conn;
    this.connections.add(conn);
    this.startKeepalive();
    this.accept(conn);
  }

  private startKeepalive(): void {
    if (this.keepaliveTimer || this.options.pingInterval <= 0) return;
    this.keepaliveTimer = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.keepalive(now, this.options.pingTimeout);
    }, this.options.pingInterval);
    this.keepaliveTimer.unref();
  }

  close(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.wss.close();
  }
}

function refuseUpgrade(socket: Socket, r: UpgradeRefusal): void {
  const head = Object.entries(r.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  // Destroyed once the reply is flushed, as ws does for the upgrades it refuses: end() only
  // half-closes, and a client that never closed its side held the socket forever.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\n${head}Content-Length: ${Buffer.byteLength(r.body)}\r\nConnection: close\r\n\r\n${r.body}`);
}
