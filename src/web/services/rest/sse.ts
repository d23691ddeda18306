/**
 * xbar's `sse` path service: `GET <path>?topic=URI[&match=exact|prefix|wildcard]` answers a
 * Server-Sent Events stream (text/event-stream) of that subscription, so a browser's EventSource
 * or `curl -N` follows events with no WAMP client. Each event is
 *
 *     id: <publication id>
 *     data: {"topic": "<uri>", "args": [...], "kwargs": {...}}
 *
 * The service's session (its realm and role) subscribes, so the router authorizes the
 * subscription as it would a WAMP subscriber's of that role: refused is 403 with the WAMP error
 * (`{"error", "args", "kwargs"}`), an invalid URI or match 400.
 *
 * Streams of the same topic and match share one subscription; an event is encoded once and the
 * same bytes are written to each of them. A stream whose unsent bytes would pass `max_out_buffer`
 * misses the event (`slow_consumer: drop`, counted) or is closed (`disconnect`); a client that
 * never reads holds at most that much memory. A comment every `keepalive` keeps proxies from
 * closing a quiet stream.
 */
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { WampError } from '../../../client/local-client.js';
import type { Args, Dict, Kwargs } from '../../../wamp/messages.js';
import type { SsePathConfig } from '../../../config/types-web.js';
import { bridgeNetworkList } from '../../../network/bridge-networks.js';
import { clientAddress } from '../../../network/client-address.js';
import type { NetworkList } from '../../../network/networks.js';
import type { Router } from '../../../router/router.js';
import type { LabeledCount } from '../../../network/refusals.js';
import type { PathHandler, RequestPath } from '../../http-server.js';
import { queryArgs, setCrossOriginHeaders } from '../http-util.js';
import { ServiceSession } from '../service-session.js';
import { ErrorUri } from '../../../wamp/errors.js';

const MATCHES = new Set(['exact', 'prefix', 'wildcard']);
const KEEPALIVE = Buffer.from(':\n\n');

interface Feed {
  readonly topic: string;
  readonly match: string;
  readonly streams: Set<http.ServerResponse>;
  /** The subscription, once the router confirmed it. */
  subscribed: Promise<number>;
}

export interface SseCounts {
  /** Events a stream missed (slow_consumer drop) or streams closed for it, per path and reason. */
  readonly sseDropped: LabeledCount<'path' | 'reason'>;
}

export class SseService implements PathHandler {
  private readonly session: ServiceSession;
  private readonly feeds = new Map<string, Feed>();
  private readonly networks: NetworkList | undefined;
  private readonly keepalive: NodeJS.Timeout | undefined;
  private streams = 0;
  private closed = false;

  constructor(
    private readonly c: SsePathConfig,
    router: Router,
    private readonly path: string,
    private readonly counts: SseCounts,
    private readonly log: Logger,
  ) {
    this.session = new ServiceSession(router, c.realm, c.role, 'xbar-sse');
    this.networks = c.requireIp && bridgeNetworkList(c.requireIp);
    if (c.keepalive > 0) {
      this.keepalive = setInterval(() => this.ping(), c.keepalive);
      this.keepalive.unref();
    }
  }

  /** Open streams (tests, stats). */
  get streamCount(): number {
    return this.streams;
  }

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    setCrossOriginHeaders(req, res);
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return answer(res, 405, { error: `method ${req.method ?? ''} not allowed, only GET` });
    }
    if (this.networks && !this.networks.contains(clientAddress(req))) return answer(res, 403, { error: 'request denied based on IP address' });
    if (this.c.requireTls && (req.socket as TLSSocket).encrypted !== true) return answer(res, 403, { error: 'request denied because not using TLS' });
    const q = queryArgs(at.query);
    const topic = q.get('topic');
    const match = q.get('match') ?? 'exact';
    if (topic === undefined) return answer(res, 400, { error: 'the query needs "topic" (a topic URI)' });
    if (!MATCHES.has(match)) return answer(res, 400, { error: `"match" is exact, prefix or wildcard, not ${JSON.stringify(match)}` });
    if (this.streams >= this.c.maxClients) return answer(res, 503, { error: 'too many event streams on this path' });
    this.streams++;
    res.once('close', () => this.streams--);
    this.open(req, res, topic, match).catch((e: unknown) => {
      if (e instanceof WampError) {
        const status = e.uri === ErrorUri.notAuthorized ? 403 : e.uri === ErrorUri.invalidUri || e.uri === ErrorUri.invalidArgument ? 400 : 500;
        return answer(res, status, { error: e.uri, args: e.args ?? [], kwargs: e.kwargs ?? {} });
      }
      this.log.warn({ err: e, topic }, 'sse: subscribing failed');
      answer(res, 500, { error: ErrorUri.runtimeError, args: [(e as Error).message], kwargs: {} });
    });
  }

  private async open(req: http.IncomingMessage, res: http.ServerResponse, topic: string, match: string): Promise<void> {
    const feed = this.feed(topic, match);
    feed.streams.add(res);
    const leave = () => this.leave(feed, res);
    res.once('close', leave);
    try {
      await feed.subscribed;
    } catch (e) {
      leave();
      throw e;
    }
    if (res.destroyed) return;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // A first comment, so that the client sees the stream open before the first event.
    res.write(KEEPALIVE);
    req.socket.setNoDelay(true);
  }

  private feed(topic: string, match: string): Feed {
    const key = `${match} ${topic}`;
    const existing = this.feeds.get(key);
    if (existing) return existing;
    const feed: Feed = { topic, match, streams: new Set(), subscribed: Promise.resolve(0) };
    feed.subscribed = this.session.client().then((client) =>
      client.subscribe(topic, (args, kwargs, details, publication) => this.deliver(feed, args, kwargs, details, publication),
        match === 'exact' ? {} : { match }),
    );
    // A failed subscription is forgotten at once, so the next request tries again.
    feed.subscribed.catch(() => {
      if (this.feeds.get(key) === feed) this.feeds.delete(key);
    });
    this.feeds.set(key, feed);
    return feed;
  }

  private leave(feed: Feed, res: http.ServerResponse): void {
    if (!feed.streams.delete(res) || feed.streams.size > 0) return;
    const key = `${feed.match} ${feed.topic}`;
    if (this.feeds.get(key) === feed) this.feeds.delete(key);
    void feed.subscribed.then(
      async (id) => (await this.session.client()).unsubscribe(id),
      () => undefined,
    ).catch(() => undefined);
  }

  private deliver(feed: Feed, args: Args, kwargs: Kwargs, details: Dict, publication: number): void {
    const topic = typeof details.topic === 'string' ? details.topic : feed.topic;
    const frame = Buffer.from(`id: ${publication}\ndata: ${JSON.stringify({ topic, args: args ?? [], kwargs: kwargs ?? {} })}\n\n`);
    for (const res of feed.streams) {
      if (!res.headersSent || res.destroyed) continue;
      if (res.writableLength + frame.length > this.c.maxOutBuffer) {
        this.counts.sseDropped.inc({ path: this.path, reason: this.c.slowConsumer === 'drop' ? 'event' : 'stream' });
        if (this.c.slowConsumer === 'disconnect') res.destroy();
        continue;
      }
      res.write(frame);
    }
  }

  private ping(): void {
    for (const feed of this.feeds.values()) {
      for (const res of feed.streams) if (res.headersSent && !res.destroyed && res.writableLength === 0) res.write(KEEPALIVE);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    for (const feed of this.feeds.values()) for (const res of feed.streams) res.end();
    this.feeds.clear();
    this.session.close();
  }
}

function answer(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store' });
  res.end(bytes);
}
