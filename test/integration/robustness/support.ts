/**
 * Shared by the robustness tests (not a test file itself): a healthy Autobahn|JS publisher and
 * subscriber whose events must keep flowing, in order and complete, while other connections
 * misbehave; many lightweight raw subscribers for fan-out; a condition wait for router-side state.
 */
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import type net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import type { XbarNode } from '../../../src/node.js';
import { type AutobahnClient, type SerializerName, connectAutobahn } from '../../helpers/clients.js';
import { type RawClient, RawWsClient } from '../../helpers/raw-wamp.js';

const PROBE_WAIT_MS = 5000;

/**
 * Two stock clients on one node: `publisher` publishes numbered events (acknowledged), `subscriber`
 * records them. `probe()` proves the path works now; `startPump()` keeps it busy in the background.
 */
export class HealthyPair {
  /** Sequence numbers the subscriber received, in arrival order. */
  readonly received: number[] = [];
  private sent = 0;
  private readonly arrivals = new Map<number, () => void>();
  private pumping: Promise<void> | undefined;
  private stopping = false;

  private constructor(
    readonly publisher: AutobahnClient,
    readonly subscriber: AutobahnClient,
    readonly topic: string,
  ) {}

  static async start(url: string, serializer: SerializerName = 'json', topic = 'healthy.events'): Promise<HealthyPair> {
    const [publisher, subscriber] = await Promise.all([connectAutobahn(url, { serializer }), connectAutobahn(url, { serializer })]);
    const pair = new HealthyPair(publisher, subscriber, topic);
    await subscriber.session.subscribe(topic, (args: unknown[] | undefined) => pair.arrived(args?.[0] as number));
    return pair;
  }

  private arrived(seq: number): void {
    this.received.push(seq);
    const done = this.arrivals.get(seq);
    this.arrivals.delete(seq);
    done?.();
  }

  /** Publishes the next event and waits until the subscriber has it. */
  async probe(): Promise<void> {
    const seq = ++this.sent;
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`healthy event ${seq} did not arrive within ${PROBE_WAIT_MS} ms`)), PROBE_WAIT_MS);
      this.arrivals.set(seq, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.publisher.session.publish(this.topic, [seq], {}, { acknowledge: true });
    await arrived;
  }

  /** Keeps publishing, one event at a time, until `stopPump`. */
  startPump(): void {
    this.stopping = false;
    this.pumping = (async () => {
      while (!this.stopping) await this.probe();
    })();
  }

  async stopPump(): Promise<void> {
    this.stopping = true;
    await this.pumping;
    this.pumping = undefined;
  }

  /** Every event published so far arrived exactly once, in order. */
  assertComplete(): void {
    assert.ok(this.sent > 0, 'no healthy event was published');
    assert.deepEqual(this.received, Array.from({ length: this.sent }, (_, i) => i + 1));
  }

  async close(): Promise<void> {
    await Promise.all([this.publisher.close(), this.subscriber.close()]);
  }
}

/**
 * Many lightweight raw WebSocket (JSON) subscribers on one topic for fan-out tests. Each checks,
 * without decoding or keeping anything, that events carry 1, 2, 3, … in order (args[0]);
 * `delivered` is the highest sequence number every subscriber has seen.
 */
export class FanoutSubscribers implements DeliveryProgress {
  readonly clients: RawWsClient[] = [];
  /** The highest N such that every subscriber received events 1..N. */
  delivered = 0;
  /** Order violations seen (first few). */
  readonly problems: string[] = [];
  onDelivered: ((delivered: number) => void) | undefined;
  private readonly expected: Int32Array;
  private arrivals: Int32Array;
  private readonly waiters: { seq: number; resolve: () => void }[] = [];

  private constructor(readonly size: number, capacity: number) {
    this.expected = new Int32Array(size).fill(1);
    this.arrivals = new Int32Array(capacity + 2);
  }

  static async connect(url: string, size: number, topic: string, capacity: number, concurrency = 50): Promise<FanoutSubscribers> {
    const f = new FanoutSubscribers(size, capacity);
    for (let start = 0; start < size; start += concurrency) {
      const batch = Array.from({ length: Math.min(concurrency, size - start) }, async (_, k) => {
        const i = start + k;
        const c = await RawWsClient.open(url);
        await c.hello();
        await c.subscribe(topic);
        c.keep = false;
        c.onRaw = (data) => f.event(i, data);
        f.clients[i] = c;
      });
      await Promise.all(batch);
    }
    return f;
  }

  private event(i: number, data: Buffer): boolean {
    // [36,Subscription,Publication,{},[Seq,"…"]]: only the head is read.
    const head = EVENT_HEAD.exec(data.toString('latin1', 0, 64));
    if (!head) return false;
    const seq = Number(head[1]);
    if (seq !== this.expected[i]) {
      if (this.problems.length < 10) this.problems.push(`subscriber ${i}: got event ${seq}, expected ${this.expected[i]}`);
      return true;
    }
    this.expected[i] = seq + 1;
    if (++this.arrivals[seq]! === this.size && seq === this.delivered + 1) {
      while (this.arrivals[this.delivered + 1] === this.size) this.delivered++;
      this.onDelivered?.(this.delivered);
      for (let w = this.waiters.length - 1; w >= 0; w--) {
        if (this.waiters[w]!.seq <= this.delivered) this.waiters.splice(w, 1)[0]!.resolve();
      }
    }
    return true;
  }

  /** Resolves when every subscriber has events 1..seq. */
  waitDelivered(seq: number, ms = 10_000): Promise<void> {
    if (this.delivered >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const behind = Array.from(this.expected).filter((e) => e <= seq).length;
        reject(new Error(`event ${seq} not delivered to all within ${ms} ms: ${behind} subscribers behind; ${this.problems.join('; ')}`));
      }, ms);
      this.waiters.push({ seq, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  closeAll(): void {
    for (const c of this.clients) c?.destroy();
  }
}

const EVENT_HEAD = /^\[36,\d+,\d+,\{\},\[(\d+),/;

/** What the publisher paces against. */
export interface DeliveryProgress {
  readonly delivered: number;
  waitDelivered(seq: number, ms?: number): Promise<void>;
}

/**
 * Publishes events 1..total on `topic` (args [seq, payload]), never more than `window` ahead of
 * the slowest healthy subscriber (they share this machine's two cores with the router, so they
 * must not be mistaken for slow consumers), calling `between(seq)` after each; resolves when every
 * healthy subscriber has them all.
 */
export async function publishPaced(
  progress: DeliveryProgress, publisher: RawClient, topic: string, total: number, payload: string, window: number,
  between?: (seq: number) => void,
): Promise<void> {
  for (let seq = 1; seq <= total; seq++) {
    if (seq - progress.delivered > window) await progress.waitDelivered(seq - window);
    publisher.publish(topic, [seq, payload]);
    between?.(seq);
  }
  await progress.waitDelivered(total);
}

/**
 * FanoutSubscribers in a worker thread: their reads run on the second core, and the main thread's
 * heap holds the router (and the few clients of the test itself) only.
 */
export class FanoutWorker implements DeliveryProgress {
  delivered = 0;
  private readonly waiters: { seq: number; resolve: () => void }[] = [];
  private result: ((r: { problems: string[]; delivered: number }) => void) | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { delivered?: number; problems?: string[] }) => {
      if (m.problems) {
        this.result?.({ problems: m.problems, delivered: m.delivered ?? 0 });
        return;
      }
      if (m.delivered === undefined) return;
      this.delivered = m.delivered;
      for (let w = this.waiters.length - 1; w >= 0; w--) {
        if (this.waiters[w]!.seq <= this.delivered) this.waiters.splice(w, 1)[0]!.resolve();
      }
    });
  }

  static async start(url: string, size: number, topic: string, capacity: number): Promise<FanoutWorker> {
    const self = new URL(import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(self)}).then((m) => m.fanoutWorkerMain()).catch((e) => { console.error(e); process.exit(1); });`,
      { eval: true, workerData: { url, size, topic, capacity } },
    );
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`fan-out worker exited with ${code}`)));
    });
    return new FanoutWorker(worker);
  }

  waitDelivered(seq: number, ms = 10_000): Promise<void> {
    if (this.delivered >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`event ${seq} not delivered to every healthy subscriber within ${ms} ms (all have 1..${this.delivered})`)), ms);
      this.waiters.push({ seq, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  /** Closes the worker's clients; returns the order problems they saw and the final count. */
  async finish(): Promise<{ problems: string[]; delivered: number }> {
    const result = new Promise<{ problems: string[]; delivered: number }>((resolve) => (this.result = resolve));
    this.worker.postMessage('finish');
    const r = await result;
    await this.worker.terminate();
    return r;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/** The worker side of FanoutWorker. */
export async function fanoutWorkerMain(): Promise<void> {
  const port = parentPort!;
  const { url, size, topic, capacity } = workerData as { url: string; size: number; topic: string; capacity: number };
  const subs = await FanoutSubscribers.connect(url, size, topic, capacity);
  subs.onDelivered = (delivered) => port.postMessage({ delivered });
  port.on('message', (m) => {
    if (m !== 'finish') return;
    subs.closeAll();
    port.postMessage({ problems: subs.problems, delivered: subs.delivered });
  });
  port.postMessage({ ready: true });
}

/** A gc() to measure retained memory; node:test runs without --expose-gc. */
export function exposedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Open TCP connections on the node's listener at `port`, as the server counts them (sockets the
 * router holds, whether or not they carry a session). Reads XbarNode's private listener list.
 */
export function serverConnections(node: XbarNode, port: number): Promise<number> {
  const servers = (node as unknown as { servers: net.Server[] }).servers;
  const server = servers.find((s) => (s.address() as net.AddressInfo | null)?.port === port);
  if (!server) throw new Error(`no listener on port ${port}`);
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

