/**
 * Crossbar.io's `crossbar.bridge.rest.MessageForwarder`, natively: for each of `subscriptions`
 * (`{topic, url, match}`) it subscribes, and POSTs (or `method`s) each event to the URL as
 * `{"args": […], "kwargs": {…}}` (compact JSON, Content-Type application/json). With
 * `expectedcode`, any other status is a failure; without, any answer is delivered, as Crossbar.io
 * takes it.
 *
 * xbar adds what Crossbar.io leaves to chance (it fires one request per event and forgets it):
 * events to one URL wait in a queue bounded in bytes (`max_queue_bytes`, 4 MiB) and go out one
 * at a time in order; a failed delivery (no answer, a timeout, 5xx, 429, or not `expectedcode`) is
 * retried with back-off up to `max_attempts`; what the queue cannot take (`queue_full`), what
 * failed every attempt (`failed`) and what was waiting at stop (`stopped`) is counted in
 * `xbar_http_bridge_dropped_total`, never kept.
 */
import type { Logger } from 'pino';
import type { LocalClient } from '../client/local-client.js';
import type { ForwardedSubscription, MessageForwarderConfig } from '../config/normalize-outbound.js';
import type { BridgeCounts } from '../stats/bridge-counts.js';
import { retryDelay, sleep } from './retry.js';

class UrlQueue {
  private readonly bodies: { readonly text: string; readonly bytes: number }[] = [];
  private bytes = 0;
  private running = false;

  constructor(
    private readonly url: string,
    private readonly c: MessageForwarderConfig,
    private readonly counts: BridgeCounts,
    private readonly log: Logger,
    private readonly stopping: AbortSignal,
  ) {}

  get queuedBytes(): number {
    return this.bytes;
  }

  push(text: string): void {
    const body = { text, bytes: Buffer.byteLength(text) };
    if (this.bytes + body.bytes > this.c.maxQueueBytes) {
      this.counts.outboundDropped.inc({ component: this.c.id, reason: 'queue_full' });
      return;
    }
    this.bodies.push(body);
    this.bytes += body.bytes;
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.bodies.length > 0 && !this.stopping.aborted) {
        const body = this.bodies[0]!;
        const delivered = await this.deliver(body.text);
        this.bodies.shift();
        this.bytes -= body.bytes;
        if (!delivered && !this.stopping.aborted) this.counts.outboundDropped.inc({ component: this.c.id, reason: 'failed' });
      }
    } finally {
      this.running = false;
    }
  }

  private async deliver(body: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const problem = await this.attempt(body);
      if (problem === undefined) return true;
      if (attempt >= this.c.attempts || this.stopping.aborted) {
        this.log.warn({ url: this.url, problem, attempts: attempt }, 'MessageForwarder: event dropped');
        return false;
      }
      this.counts.outboundRetries.inc({ component: this.c.id });
      await sleep(retryDelay(this.c, attempt), this.stopping);
    }
  }

  /** undefined when delivered, else what went wrong. */
  private async attempt(body: string): Promise<string | undefined> {
    try {
      const signal = AbortSignal.any([this.stopping, AbortSignal.timeout(this.c.requestTimeout)]);
      const res = await fetch(this.url, { method: this.c.method, body, headers: { 'content-type': 'application/json' }, signal });
      await res.arrayBuffer().catch(() => undefined);
      if (this.c.expectedCode !== undefined) {
        return res.status === this.c.expectedCode ? undefined : `Request returned ${res.status}, not the expected ${this.c.expectedCode}`;
      }
      return res.status >= 500 || res.status === 429 ? `Request returned ${res.status}` : undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Counts what is still waiting as dropped (at stop). */
  discard(): void {
    for (let i = this.running ? 1 : 0; i < this.bodies.length; i++) this.counts.outboundDropped.inc({ component: this.c.id, reason: 'stopped' });
  }
}

export class MessageForwarder {
  private readonly stop = new AbortController();
  private readonly queues = new Map<string, UrlQueue>();

  constructor(private readonly c: MessageForwarderConfig, private readonly counts: BridgeCounts, private readonly log: Logger) {}

  /** Subscribes each topic on `client` (joined to the component's realm with its role). */
  async start(client: LocalClient): Promise<void> {
    for (const s of this.c.subscriptions) await client.subscribe(s.topic, (args, kwargs) => this.forward(s, args, kwargs), s.match === 'exact' ? {} : { match: s.match });
  }

  /** Bytes waiting for `url` (tests, stats). */
  queuedBytes(url: string): number {
    return this.queues.get(url)?.queuedBytes ?? 0;
  }

  private forward(s: ForwardedSubscription, args: readonly unknown[] | undefined, kwargs: Readonly<Record<string, unknown>> | undefined): void {
    let q = this.queues.get(s.url);
    if (!q) this.queues.set(s.url, (q = new UrlQueue(s.url, this.c, this.counts, this.log, this.stop.signal)));
    q.push(JSON.stringify({ args: args ?? [], kwargs: kwargs ?? {} }));
  }

  close(): void {
    for (const q of this.queues.values()) q.discard();
    this.stop.abort();
  }
}
