/**
 * The WebSocket stream relay (practable crossbar compatible), mounted on a path of a web transport.
 * Clients connect to `<mount>/<topic>`, `<mount>/in/<topic>` or `<mount>/out/<topic>` (route.ts);
 * every message is relayed, unaltered and as the same frame type, to the other clients of its
 * channel (channel.ts), each through its own bounded queue (relay-connection.ts). Optional JWT access
 * control (token.ts, access-codes.ts, deny-list.ts), the HTTP access API (access-api.ts), the stats
 * channel and page (stats-page.ts) and a WAMP bridge (wamp-bridge.ts) complete it.
 *
 * Refusals before the upgrade are HTTP statuses with a text body; after it, close codes (errors.ts).
 * One client's bad input closes that client only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RelayPathConfig } from '../config/types.js';
import type { Router } from '../router/router.js';
import type { OutBudget } from '../transports/out-budget.js';
import { handleRequest, statsRefusal } from './access-api.js';
import { AccessCodes } from './access-codes.js';
import { Channel } from './channel.js';
import { DenyList } from './deny-list.js';
import { CLOSE_DENIED, CLOSE_GOING_AWAY, CLOSE_TOKEN_EXPIRED, RelayRefusal, refuseUpgrade } from './errors.js';
import { type ConnectionReport, RelayConnection } from './relay-connection.js';
import { parseRoute, type Route } from './route.js';
import { StatsChannel } from './stats-channel.js';
import { checkGrant, type Grant, TokenVerifier } from './token.js';
import { WampBridge } from './wamp-bridge.js';

/** Ping every client this often; one that has not answered by the next ping is cut off. */
const KEEPALIVE_MS = 30_000;

export interface RelayOptions {
  readonly log: Logger;
  /** The mount path ('' = the root), for the URIs the access API hands out. */
  readonly mount: string;
  /** The router, for the WAMP bridge (required when the config has `bridge`). */
  readonly router?: Router;
  /** The node's budget of all out-buffers together. */
  readonly outBudget?: OutBudget;
}

type TopicRoute = Extract<Route, { kind: 'topic' }>;

export class RelayService {
  private readonly wss: WebSocketServer;
  private readonly channels = new Map<string, Channel>();
  private readonly byBooking = new Map<string, Set<RelayConnection>>();
  private verifierValue: TokenVerifier | undefined;
  private bridge: WampBridge | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closing = false;
  readonly codes: AccessCodes<Grant>;
  readonly denied = new DenyList();
  readonly stats: StatsChannel;
  readonly log: Logger;

  constructor(readonly config: RelayPathConfig, readonly options: RelayOptions) {
    this.log = options.log.child({ relay: `/${options.mount}` });
    this.codes = new AccessCodes(config.codeTtl);
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: config.maxMessageSize,
      clientTracking: false,
      // practable's upgrader offers the "null" subprotocol ("required by Chrome" for some clients).
      handleProtocols: (offered) => (offered.has('null') ? 'null' : false),
      // Pongs go through the receiver's bounded queue (relay-connection.ts).
      autoPong: false,
    });
    this.stats = new StatsChannel(() => this.reports(), config.statsInterval, config.maxConnectionsPerTopic);
  }

  /** Loads the token key and joins the bridge's realm; errors here stop the node from starting. */
  async start(): Promise<void> {
    if (this.config.tokens) this.verifierValue = await TokenVerifier.create(this.config.tokens);
    const b = this.config.bridge;
    if (b) {
      if (!this.options.router) throw new Error('relay bridge configured without a WAMP router');
      this.bridge = new WampBridge(this.options.router, b.realm, b.prefix, this, this.log);
      await this.bridge.start();
    }
  }

  get verifier(): TokenVerifier | undefined {
    return this.verifierValue;
  }

  // ---- WebSocket upgrades ----------------------------------------------------------------------

  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, rest: string): void {
    if (this.closing) return refuseUpgrade(socket, 503, 'relay shutting down');
    let route: Route;
    try {
      route = parseRoute(rest);
    } catch (e) {
      const r = e as RelayRefusal;
      return refuseUpgrade(socket, r.status, r.message);
    }
    if (route.kind === 'stats') return this.stats.upgrade(this, req, socket, head);
    if (route.kind === 'api') return refuseUpgrade(socket, 404, `"${route.path}" is the relay's HTTP access API, not a topic`);
    this.upgradeTopic(req, socket, head, route);
  }

  private upgradeTopic(req: IncomingMessage, socket: Socket, head: Buffer, route: TopicRoute): void {
    let channel = this.channels.get(route.channel);
    if (!channel) this.channels.set(route.channel, (channel = new Channel(route.channel)));
    if (channel.size >= this.config.maxConnectionsPerTopic) {
      this.dropIfEmpty(channel);
      return refuseUpgrade(socket, 503, `topic "${route.path}" is full (${this.config.maxConnectionsPerTopic} connections)`, { 'Retry-After': '10' });
    }
    // The slot is held while the token is checked, so a flood cannot overrun the limit.
    channel.reserved++;
    const ch = channel;
    this.authorize(req, route).then(
      (grant) => {
        ch.reserved--;
        if (this.closing) return refuseUpgrade(socket, 503, 'relay shutting down');
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, route, ch, grant));
      },
      (e: unknown) => {
        ch.reserved--;
        this.dropIfEmpty(ch);
        const r = e instanceof RelayRefusal ? e : new RelayRefusal(500, 'internal error');
        if (!(e instanceof RelayRefusal)) this.log.error({ err: e }, 'relay: authorization failed');
        this.log.debug({ path: route.path, status: r.status, reason: r.message }, 'relay: connection refused');
        refuseUpgrade(socket, r.status, r.message, r.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
      },
    );
  }

  /**
   * What the client may do on `route`: undefined = no token needed (open relay), or the grant of
   * its `?code=` or `Authorization: Bearer` token, checked for topic, time and deny-list.
   */
  private async authorize(req: IncomingMessage, route: TopicRoute): Promise<Grant | undefined> {
    const verifier = this.verifierValue;
    if (!verifier) return undefined;
    const code = new URL(req.url ?? '/', 'http://relay').searchParams.get('code');
    const bearer = bearerOf(req);
    let grant: Grant;
    if (code !== null) {
      const found = this.codes.take(code);
      if (!found) throw new RelayRefusal(401, 'access code unknown, already used or expired');
      grant = found;
    } else if (bearer !== undefined) {
      grant = await verifier.verify(bearer);
    } else if (this.config.tokens?.required === false) {
      return undefined;
    } else {
      throw new RelayRefusal(401, 'this relay needs a token: connect with ?code=… from POST to this path, or an Authorization: Bearer header');
    }
    checkGrant(grant, route.path, Date.now());
    if (this.denied.isDenied(grant.bookingId)) throw new RelayRefusal(403, `booking "${grant.bookingId}" is deny-listed`);
    return grant;
  }

  private accept(ws: WebSocket, req: IncomingMessage, route: TopicRoute, channel: Channel, grant: Grant | undefined): void {
    const conn = new RelayConnection(
      ws,
      {
        path: route.path,
        channel: route.channel,
        canRead: grant ? grant.read : true,
        canWrite: route.writable && (grant ? grant.write : true),
        remoteAddr: remoteAddr(req),
        userAgent: req.headers['user-agent'] ?? '',
        ...(grant ? { scopes: grant.scopes } : {}),
        ...(grant?.bookingId === undefined ? {} : { bookingId: grant.bookingId }),
        ...(grant?.expiresAt === undefined ? {} : { expiresAt: grant.expiresAt }),
      },
      this.config,
      {
        message: (from, data, binary, now) => {
          channel.publish(from, data, binary, now);
          this.bridge?.toWamp(channel.name, data, binary);
        },
        closed: (c) => this.remove(c, channel),
        expired: (c) => c.close(CLOSE_TOKEN_EXPIRED, 'token expired'),
      },
      this.options.outBudget,
    );
    channel.members.add(conn);
    const booking = conn.info.bookingId;
    if (booking !== undefined) {
      let set = this.byBooking.get(booking);
      if (!set) this.byBooking.set(booking, (set = new Set()));
      set.add(conn);
    }
    this.startKeepalive();
    this.log.debug({ id: conn.id, path: route.path, remote: conn.info.remoteAddr }, 'relay: connected');
  }

  private remove(conn: RelayConnection, channel: Channel): void {
    channel.members.delete(conn);
    this.dropIfEmpty(channel);
    const booking = conn.info.bookingId;
    if (booking !== undefined) {
      const set = this.byBooking.get(booking);
      set?.delete(conn);
      if (set?.size === 0) this.byBooking.delete(booking);
    }
  }

  private dropIfEmpty(channel: Channel): void {
    if (channel.size === 0 && this.channels.get(channel.name) === channel) this.channels.delete(channel.name);
  }

  private startKeepalive(): void {
    if (this.keepaliveTimer) return;
    this.keepaliveTimer = setInterval(() => {
      const now = Date.now();
      for (const ch of this.channels.values()) for (const c of ch.members) c.keepalive(now);
    }, KEEPALIVE_MS);
    this.keepaliveTimer.unref();
  }

  // ---- HTTP, bridge, admin ---------------------------------------------------------------------

  request(req: IncomingMessage, res: ServerResponse, rest: string): void {
    void handleRequest(this, req, res, rest);
  }

  /** Why `req` may not see the stats (used by the stats channel). */
  statsRefusal(req: IncomingMessage): Promise<{ status: number; message: string } | undefined> {
    return statsRefusal(this, req);
  }

  /** Delivers a message that came from WAMP to the clients of `channel`. */
  fromWamp(channel: string, data: Buffer, binary: boolean): void {
    this.channels.get(channel)?.publish(null, data, binary, performance.now());
  }

  /** Deny-lists a booking until `until` (ms): closes its connections now, revokes its codes. */
  deny(bookingId: string, until: number): number {
    this.denied.deny(bookingId, until);
    this.codes.revoke((g) => g.bookingId === bookingId);
    const conns = [...(this.byBooking.get(bookingId) ?? [])];
    for (const c of conns) c.close(CLOSE_DENIED, `booking "${bookingId}" was denied`);
    this.log.info({ booking: bookingId, closed: conns.length }, 'relay: booking deny-listed');
    return conns.length;
  }

  /** One report per client connection (practable's ClientReport, with counts and drops). */
  reports(): ConnectionReport[] {
    const now = performance.now();
    const out: ConnectionReport[] = [];
    for (const ch of this.channels.values()) for (const c of ch.members) out.push(c.report(now));
    return out;
  }

  /** Channels with at least one client, for tests and the bench. */
  get channelCount(): number {
    return this.channels.size;
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.keepaliveTimer);
    for (const ch of this.channels.values()) for (const c of ch.members) c.close(CLOSE_GOING_AWAY, 'relay shutting down');
    this.stats.close();
    this.bridge?.close();
    this.wss.close();
  }
}

export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : '';
}

function remoteAddr(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return `${a.includes(':') ? `[${a}]` : a}:${req.socket.remotePort ?? ''}`;
}
