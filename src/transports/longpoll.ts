/**
 * WAMP over HTTP long-poll, Crossbar.io's protocol (crossbar/router/longpoll.py), on a path of a
 * web transport:
 *
 * - `POST <path>/open` with `{"protocols": [...]}` → `{"transport": ID, "protocol": P}`: a new
 *   transport (a `Connection` handed to the router, as a WebSocket upgrade is);
 * - `POST <path>/ID/send`: a body of messages (`longpoll-codec.ts`) → 204;
 * - `POST <path>/ID/receive`: answered with what waits for the client, or held until a message
 *   comes; empty (200, no body) after `request_timeout`;
 * - `POST <path>/ID/close` → 204, the session ends; `GET <path>/ID` → `{"transport", "session"}`.
 *
 * Refusals are Crossbar.io's: 400 text/plain with its sentence for a body it cannot read, 404
 * "no WAMP transport 'ID'" for an unknown transport, 405 for another method. Every answer carries
 * Crossbar.io's CORS and no-cache headers. The queue waiting for the next poll is bounded in bytes
 * and messages: over either, an event is dropped (counted as a slow consumer's) and any other
 * message closes the transport. A transport neither sending nor polling for `session_timeout` is
 * closed.
 */
import { randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode } from '../connection/close-codes.js';
import type { CloseCause, Connection, ConnectionHandler, SendResult } from '../connection/connection.js';
import type { Outgoing } from '../connection/outgoing.js';
import type { PeerInfo } from '../connection/peer.js';
import { clientAddress } from '../network/client-address.js';
import type { Serializer } from '../serializers/serializer.js';
import { nextConnectionId } from './connection-id.js';
import { joinBody, longPollProtocols, splitBody, type LongPollProtocol } from './longpoll-codec.js';

export interface LongPollOptions {
  readonly serializers: readonly Serializer[];
  /** Largest send body, bytes. */
  readonly maxMessageSize: number;
  /** ms; 0 = a poll waits until a message comes. */
  readonly requestTimeout: number;
  /** ms; 0 = transports never expire. */
  readonly sessionTimeout: number;
  readonly queueLimitBytes: number;
  /** 0 = no count limit. */
  readonly queueLimitMessages: number;
  readonly debugTransportId?: string;
  readonly countTraffic?: boolean;
  /** Whether a new transport from this address may open (the per-address connection limit). */
  readonly admit?: (address: string) => boolean;
}

/** autobahn.util's `DEFAULT_TOKEN_CHARS`, of which Crossbar.io draws 12 for a transport id. */
const TOKEN_CHARS = '345679ACEFGHJKLMNPQRSTUVWXY';
/** An open request is `{"protocols": [...]}`: a few hundred bytes. */
const MAX_OPEN_BODY = 64 * 1024;
/** How long a transport the router closed waits for a poll to collect its last messages (ABORT, GOODBYE). */
const CLOSE_GRACE_MS = 5000;

export class LongPollConnection implements Connection {
  readonly id = nextConnectionId();
  readonly serializer: Serializer;
  dropped = 0;
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  /** The WAMP session id, once joined (for `GET <path>/ID`). */
  session: number | null = null;
  /** A send or poll since the last session-timeout sweep. */
  alive = true;
  private handler: ConnectionHandler | undefined;
  private queue: Uint8Array[] = [];
  /** Bytes waiting for the next poll. */
  queuedBytes = 0;
  private poll: ServerResponse | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** The router closed the transport: what is queued still goes to the next poll. */
  private closing = false;
  /** Gone for the router; the id still answers a late `close` for a while. */
  ended = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private closedCause: CloseCause | undefined;

  constructor(
    readonly transportId: string,
    readonly protocol: LongPollProtocol,
    readonly peer: PeerInfo,
    private readonly options: LongPollOptions,
    private readonly gone: (c: LongPollConnection) => void,
  ) {
    this.serializer = protocol.serializer;
  }

  attach(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  /** The messages of a send body, handed to the router; a string when the body does not decode. */
  received(body: Buffer): string | undefined {
    this.alive = true;
    const parts = splitBody(this.protocol, body);
    if (typeof parts === 'string') return parts;
    // Decoded before any is handed on: a bad body is refused whole, as one request.
    const decoded: unknown[] = [];
    for (const part of parts) {
      try {
        decoded.push(this.serializer.decode(part));
      } catch (e) {
        if ((e as Error).name === 'IllFormedTextError') {
          decoded.push(e);
          continue;
        }
        return (e as Error).message;
      }
    }
    decoded.forEach((msg, i) => {
      const handler = this.handler;
      if (handler === undefined || this.closing) return;
      if (this.options.countTraffic) {
        this.messagesIn++;
        this.bytesIn += parts[i]!.length;
      }
      // Ill-formed text is the router's to answer (an ERROR for the request), as on a WebSocket.
      if (msg instanceof Error) handler.malformed(msg);
      else handler.message(msg, parts[i]);
    });
    return undefined;
  }

  send(msg: Outgoing, droppable: boolean): SendResult {
    return this.enqueue(msg.bytes, droppable);
  }

  headroom(): number {
    return 0;
  }

  sendInPlace(framed: Buffer): SendResult {
    return this.enqueue(framed, false);
  }

  private enqueue(bytes: Uint8Array, droppable: boolean): SendResult {
    if (this.closing) return 'closed';
    const limits = this.options;
    const full = (limits.queueLimitMessages > 0 && this.queue.length >= limits.queueLimitMessages)
      || this.queuedBytes + bytes.length > limits.queueLimitBytes;
    if (full) {
      if (droppable) {
        this.dropped++;
        return 'dropped';
      }
      this.end({ code: CloseCode.policyViolation, reason: 'long-poll queue over its limit (the client does not poll)', byPeer: false });
      return 'closed';
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (limits.countTraffic) {
      this.messagesOut++;
      this.bytesOut += bytes.length;
    }
    this.flush();
    return 'sent';
  }

  joined(session: number): void {
    this.session = session;
  }

  /** A receive request: answered now if something waits, else held. */
  receive(res: ServerResponse): void {
    this.alive = true;
    // A second poll replaces the first, which is answered empty.
    if (this.poll !== undefined) this.answer([]);
    this.poll = res;
    res.once('close', () => {
      if (this.poll !== res) return;
      this.poll = undefined;
      clearTimeout(this.pollTimer);
    });
    this.flush();
    if (this.poll === res && this.options.requestTimeout > 0) {
      this.pollTimer = setTimeout(() => this.answer([]), this.options.requestTimeout);
      this.pollTimer.unref();
    }
  }

  /** Whether a poll is held (a client waiting counts as alive). */
  get polling(): boolean {
    return this.poll !== undefined;
  }

  private flush(): void {
    if (this.poll === undefined || this.queue.length === 0) return;
    const batch = this.protocol.batched ? this.queue : this.queue.slice(0, 1);
    this.queue = this.protocol.batched ? [] : this.queue.slice(1);
    for (const m of batch) this.queuedBytes -= m.length;
    this.answer(batch);
    if (this.closing && this.queue.length === 0) this.end(undefined);
  }

  private answer(messages: readonly Uint8Array[]): void {
    const res = this.poll;
    if (res === undefined) return;
    this.poll = undefined;
    clearTimeout(this.pollTimer);
    const body = joinBody(this.protocol, messages);
    const length = body.reduce((n, b) => n + b.length, 0);
    res.writeHead(200, { 'content-type': this.protocol.mimeType, 'content-length': length });
    for (const b of body) res.write(b);
    res.end();
  }

  /** The router closes: the queue still goes to the client's next poll, for a while. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    const cause = { code, reason, byPeer: false };
    this.closedCause = cause;
    if (this.queue.length === 0) return this.end(cause);
    this.graceTimer = setTimeout(() => this.end(cause), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  /** The transport is gone: its poll answered empty, the router told, the id forgotten. */
  end(cause: CloseCause | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.closing = true;
    clearTimeout(this.graceTimer);
    this.answer([]);
    this.queue = [];
    this.queuedBytes = 0;
    this.gone(this);
    const handler = this.handler;
    this.handler = undefined;
    handler?.closed(cause ?? this.closedCause ?? { code: CloseCode.normal, reason: 'closed', byPeer: false });
  }
}

/** The HTTP side: opens transports and routes send/receive/close to them. */
export class LongPollService {
  private readonly transports = new Map<string, LongPollConnection>();
  private readonly protocols: LongPollProtocol[];
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: LongPollOptions,
    private readonly accept: (conn: Connection) => void,
  ) {
    this.protocols = longPollProtocols(options.serializers);
    if (options.sessionTimeout > 0) {
      // Crossbar.io's killIfDead: no send or poll over a whole period ends the transport.
      this.sweeper = setInterval(() => this.sweep(), options.sessionTimeout);
      this.sweeper.unref();
    }
  }

  /** Open transports (for tests and statistics). */
  get size(): number {
    let n = 0;
    for (const c of this.transports.values()) if (!c.ended) n++;
    return n;
  }

  request(req: IncomingMessage, res: ServerResponse, segments: readonly string[]): void {
    standardHeaders(req, res);
    const [first, op] = segments;
    if (first === undefined || (segments.length === 1 && first === '')) {
      if (methods(req, res, ['GET', 'HEAD'])) res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(NOTICE);
      return;
    }
    if (first === 'open' && segments.length === 1) {
      if (methods(req, res, ['POST'])) void this.open(req, res);
      return;
    }
    const conn = this.transports.get(first);
    // A transport the router closed still answers the client's close (Autobahn|JS sends it after GOODBYE).
    if (conn?.ended === true && segments.length === 2 && op === 'close' && req.method === 'POST') return void res.writeHead(204).end();
    if (conn === undefined || conn.ended) return notFound(res, `no WAMP transport '${first}'`);
    if (segments.length === 1) {
      if (!methods(req, res, ['GET', 'HEAD'])) return;
      return void res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        .end(`{"transport": ${JSON.stringify(conn.transportId)}, "session": ${JSON.stringify(conn.session)}}`);
    }
    if (segments.length !== 2 || (op !== 'send' && op !== 'receive' && op !== 'close')) {
      return notFound(res, `invalid WAMP transport operation '${segments.slice(1).join('/')}'`);
    }
    if (!methods(req, res, ['POST'])) return;
    if (op === 'receive') {
      req.resume();
      return conn.receive(res);
    }
    if (op === 'close') {
      req.resume();
      conn.end({ code: CloseCode.normal, reason: 'session closed', byPeer: true });
      return void res.writeHead(204).end();
    }
    void readBody(req, this.options.maxMessageSize).then((body) => {
      if (body === undefined) return tooLarge(res, this.options.maxMessageSize);
      const problem = conn.received(body);
      if (problem !== undefined) return badRequest(res, 'could not unserialize WAMP message.');
      res.writeHead(204).end();
    }, () => res.destroy());
  }

  private async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_OPEN_BODY).catch(() => null);
    if (body === null) return void res.destroy();
    if (body === undefined) return tooLarge(res, MAX_OPEN_BODY);
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      return badRequest(res, 'could not parse WAMP session open request body');
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return badRequest(res, 'invalid type for WAMP session open request');
    }
    if (!('protocols' in request)) return badRequest(res, "missing attribute 'protocols' in WAMP session open request");
    const offered = (request as { protocols: unknown }).protocols;
    const protocol = Array.isArray(offered) ? offered.map((p) => this.protocols.find((x) => x.name === p)).find((p) => p !== undefined) : undefined;
    if (protocol === undefined) {
      return badRequest(res, `no common protocol to speak (I speak: ${this.protocols.map((p) => p.name).join(', ')})`);
    }
    const address = clientAddress(req) ?? '';
    if (this.options.admit?.(address) === false) {
      res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8' }).end('too many new connections from this address\n');
      return;
    }
    const id = this.options.debugTransportId ?? token();
    // A fixed debugging id opens over the transport that had it, as in Crossbar.io.
    this.transports.get(id)?.end({ code: CloseCode.normal, reason: 'replaced by a new open', byPeer: true });
    const peer: PeerInfo = {
      transport: 'longpoll',
      remoteAddress: address,
      remotePort: req.socket.remotePort,
      userAgent: req.headers['user-agent'],
      secure: 'encrypted' in req.socket,
    };
    const conn = new LongPollConnection(id, protocol, peer, this.options, (c) => {
      setTimeout(() => {
        if (this.transports.get(c.transportId) === c) this.transports.delete(c.transportId);
      }, CLOSE_GRACE_MS).unref();
    });
    this.transports.set(id, conn);
    this.accept(conn);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    // Python's json.dumps spacing, as Crossbar.io answers.
    res.end(`{"transport": ${JSON.stringify(id)}, "protocol": ${JSON.stringify(protocol.name)}}`);
  }

  private sweep(): void {
    for (const conn of [...this.transports.values()]) {
      if (conn.ended) continue;
      if (!conn.alive && !conn.polling) conn.end({ code: CloseCode.goingAway, reason: 'session inactive', byPeer: true });
      else conn.alive = false;
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const conn of [...this.transports.values()]) conn.end({ code: CloseCode.goingAway, reason: 'router shutting down', byPeer: false });
  }
}

function token(): string {
  let t = '';
  for (let i = 0; i < 12; i++) t += TOKEN_CHARS[randomInt(TOKEN_CHARS.length)];
  return t;
}

/** The request's body, or undefined when it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Crossbar.io's `_set_standard_headers`. */
function standardHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('access-control-allow-origin', origin === undefined || origin === 'null' ? '*' : origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('cache-control', 'no-store, no-cache, must-revalidate, max-age=0');
  const asked = req.headers['access-control-request-headers'];
  if (asked !== undefined) res.setHeader('access-control-allow-headers', asked);
}

/** Twisted's answer to a method a resource does not render: 405 with the allowed ones. */
function methods(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
  if (allowed.includes(req.method ?? '')) return true;
  req.resume();
  res.writeHead(405, { 'content-type': 'text/html; charset=utf-8', allow: allowed.join(', ') });
  res.end(errorPage(405, 'Method Not Allowed', `Your browser approached me (at ${escapeHtml(req.url ?? '')}) with the method "${escapeHtml(req.method ?? '')}". I only allow the method${allowed.length > 1 ? 's' : ''} ${allowed.join(', ')} here.`));
  return false;
}

function badRequest(res: ServerResponse, message: string): void {
  res.writeHead(400, { 'content-type': 'text/plain; charset=UTF-8' }).end(message);
}

function notFound(res: ServerResponse, detail: string): void {
  res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end(errorPage(404, 'No Such Resource', escapeHtml(detail)));
}

function tooLarge(res: ServerResponse, limit: number): void {
  // The rest of the body is not read: the connection closes after the answer.
  res.writeHead(413, { 'content-type': 'text/plain; charset=UTF-8', connection: 'close' });
  res.end(`request body larger than ${limit} bytes`);
}

/** Twisted's `ErrorPage` markup. */
function errorPage(code: number, brief: string, detail: string): string {
  return `\n<html>\n  <head><title>${code} - ${brief}</title></head>\n  <body>\n    <h1>${brief}</h1>\n    <p>${detail}</p>\n  </body>\n</html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What a browser sees at the service's own URL (Crossbar.io's `cb_lp_notice.html`, in short). */
const NOTICE = `<!DOCTYPE html>
<html>
   <head><meta charset="utf-8"><title>WAMP-over-Longpoll</title></head>
   <body>
      <h1>xbar</h1>
      <p>I am not a Web server, but a <b>WAMP-over-Longpoll</b> listening transport.</p>
   </body>
</html>
`;
