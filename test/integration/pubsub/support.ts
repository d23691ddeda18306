/**
 * Shared pieces of the publish/subscribe integration tests: an awaitable inbox, a raw JSON WAMP
 * client for exact wire assertions, and helpers around Autobahn|JS and wampy subscriptions.
 *
 * Proving that something did NOT arrive: publish the unwanted event, then a marker from the same
 * publisher to the same receiver; WAMP orders events per publisher–subscriber pair, so when the
 * marker is the next thing the receiver sees, the unwanted event was not delivered.
 */
import type autobahn from 'autobahn';
import type { Wampy } from 'wampy';
import WebSocket from 'ws';

/**
 * Per test and hook: a router bug can leave a client's promise pending forever (Autobahn|JS never
 * settles an acknowledged publish whose session died), and that must fail the test, not hang the run.
 */
export const LIMIT = { timeout: 15_000 } as const;

/** Message codes from the spec (basic/messages.md), written out so the tests do not trust src/wamp. */
export const W = {
  HELLO: 1, WELCOME: 2, ABORT: 3, GOODBYE: 6, ERROR: 8,
  PUBLISH: 16, PUBLISHED: 17, SUBSCRIBE: 32, SUBSCRIBED: 33, UNSUBSCRIBE: 34, UNSUBSCRIBED: 35, EVENT: 36,
} as const;

/** A FIFO of received items; `next()` waits for the next one (or fails after `ms`). */
export class Inbox<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve(v: T): void; timer: NodeJS.Timeout } | undefined;

  push(v: T): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(v);
    } else {
      this.queue.push(v);
    }
  }

  next(ms = 5000, what = 'item'): Promise<T> {
    if (this.waiter) throw new Error('Inbox.next() is already waiting');
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      this.waiter = { resolve, timer };
    });
  }

  /** Items received and not yet taken. */
  get pending(): readonly T[] {
    return this.queue;
  }
}

export interface ReceivedEvent {
  args: unknown[];
  kwargs: Record<string, unknown>;
  details: Record<string, unknown>;
}

/** Subscribes an Autobahn|JS session; every event lands in the returned inbox. */
export async function autobahnInbox(
  session: autobahn.Session, topic: string, options?: autobahn.SubscribeOptions,
): Promise<{ inbox: Inbox<ReceivedEvent>; subscription: autobahn.Subscription }> {
  const inbox = new Inbox<ReceivedEvent>();
  const subscription = await session.subscribe(topic, (args, kwargs, details) => {
    inbox.push({ args, kwargs, details: { ...details } as Record<string, unknown> });
  }, options);
  return { inbox, subscription };
}

/** Subscribes a wampy client; wampy hands over EVENT.Details as they came off the wire. */
export async function wampyInbox(
  client: Wampy, topic: string, options?: { match?: 'exact' | 'prefix' | 'wildcard' },
): Promise<{ inbox: Inbox<ReceivedEvent>; subscriptionId: number }> {
  const inbox = new Inbox<ReceivedEvent>();
  const r = await client.subscribe(topic, (e) => {
    // wampy leaves absent Arguments/ArgumentsKw undefined; Autobahn gives [] and {}.
    inbox.push({ args: e.argsList ?? [], kwargs: e.argsDict ?? {}, details: e.details });
  }, options);
  return { inbox, subscriptionId: r.subscriptionId };
}

/**
 * A WAMP client written by hand over `ws` with wamp.2.json: what goes on the wire is exactly what
 * the test sends, and every message from the router is kept, in order, in `inbox`.
 */
export class RawWamp {
  readonly inbox = new Inbox<unknown[]>();
  readonly closed: Promise<{ code: number; reason: string }>;
  sessionId = 0;
  private requestId = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.inbox.push(JSON.parse(data.toString('utf8')) as unknown[]));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => {
      // 'close' follows; tests assert on that.
    });
  }

  static connect(url: string): Promise<RawWamp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['wamp.2.json']);
      ws.once('open', () => resolve(new RawWamp(ws)));
      ws.once('error', reject);
    });
  }

  /** Connects and joins `realm`; rejects with the ABORT message if the router refuses. */
  static async join(url: string, realm = 'realm1'): Promise<RawWamp> {
    const c = await RawWamp.connect(url);
    const reply = await c.hello(realm);
    if (reply[0] !== W.WELCOME) {
      await c.close();
      throw new Error(`expected WELCOME, got ${JSON.stringify(reply)}`);
    }
    c.sessionId = reply[1] as number;
    return c;
  }

  hello(realm: string): Promise<unknown[]> {
    this.send([W.HELLO, realm, { roles: { publisher: {}, subscriber: {} } }]);
    return this.next();
  }

  send(msg: unknown[]): void {
    this.ws.send(JSON.stringify(msg));
  }

  next(ms = 5000): Promise<unknown[]> {
    return this.inbox.next(ms, 'WAMP message');
  }

  request(): number {
    return ++this.requestId;
  }

  /** SUBSCRIBE and wait for the reply (SUBSCRIBED or ERROR). */
  async subscribe(topic: string, options: Record<string, unknown> = {}): Promise<unknown[]> {
    const request = this.request();
    this.send([W.SUBSCRIBE, request, options, topic]);
    return this.reply(request);
  }

  /** Subscribes and returns the subscription id, failing on anything but SUBSCRIBED. */
  async subscribed(topic: string, options: Record<string, unknown> = {}): Promise<number> {
    const reply = await this.subscribe(topic, options);
    if (reply[0] !== W.SUBSCRIBED) throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(reply)}`);
    return reply[2] as number;
  }

  async unsubscribe(subscription: number): Promise<unknown[]> {
    const request = this.request();
    this.send([W.UNSUBSCRIBE, request, subscription]);
    return this.reply(request);
  }

  /** PUBLISH; with `acknowledge` waits for PUBLISHED or ERROR and returns it. */
  async publish(topic: string, options: Record<string, unknown> = {}, args?: unknown[], kwargs?: Record<string, unknown>): Promise<unknown[] | undefined> {
    const request = this.request();
    const msg: unknown[] = [W.PUBLISH, request, options, topic];
    if (args !== undefined || kwargs !== undefined) msg.push(args ?? []);
    if (kwargs !== undefined) msg.push(kwargs);
    this.send(msg);
    return options.acknowledge === true ? this.reply(request) : undefined;
  }

  /** The next message, which must answer `request` (nothing else may be in flight). */
  private async reply(request: number): Promise<unknown[]> {
    const m = await this.next();
    const answered = m[0] === W.ERROR ? m[2] : m[1];
    if (answered !== request) throw new Error(`expected the reply to request ${request}, got ${JSON.stringify(m)}`);
    return m;
  }

  /** Closes the socket (no GOODBYE) and waits for it to be closed. */
  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await this.closed;
  }
}

/**
 * Brings a received payload to a form that compares across client libraries: BigInts become
 * numbers (msgpackr and node-cbor decode 64-bit integers as BigInt; the router writes integers
 * beyond 32 bits as int64), and Buffers become plain Uint8Arrays.
 */
export function comparable(v: unknown): unknown {
  if (typeof v === 'bigint') {
    if (v > 2n ** 53n || v < -(2n ** 53n)) throw new Error(`integer ${v} is outside ±2^53`);
    return Number(v);
  }
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(comparable);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, comparable(x)]));
  }
  return v;
}

/** WAMP's JSON form of bytes: "\0" followed by base64. */
export function jsonBytes(b: Uint8Array): string {
  return '\0' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Replaces every Uint8Array with its JSON form (what a JSON peer sends and receives). */
export function bytesAsJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return jsonBytes(v);
  if (Array.isArray(v)) return v.map(bytesAsJson);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsJson(x)]));
  }
  return v;
}

/** Replaces every Uint8Array with a Buffer (what node-cbor and msgpack5 encode as bytes). */
export function bytesAsBuffer(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(bytesAsBuffer);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsBuffer(x)]));
  }
  return v;
}
