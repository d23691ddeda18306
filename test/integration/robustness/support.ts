/**
 * Shared by the robustness tests (not a test file itself): a healthy Autobahn|JS publisher and
 * subscriber whose events must keep flowing, in order and complete, while other connections
 * misbehave; and a condition wait for router-side state.
 */
import assert from 'node:assert/strict';
import { type AutobahnClient, type SerializerName, connectAutobahn } from '../../helpers/clients.js';

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
 * Resolves once `condition()` holds, checking after each turn of the event loop and then every
 * 10 ms; rejects with `what` after `ms`. For router-side state no event announces (e.g. a count
 * of connections after the peer has seen its close).
 */
export async function eventually(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
