/**
 * Event history cluster-wide (design/cluster.md §4, History/retained): one JetStream stream per
 * (realm, history rule), `xbar_<cluster>_hist_<h>` on subject `<P>.hist.<h>`, limited as the rule
 * is (`max_msgs` = its limit, `max_age` = its age, the oldest discarded). The node a publication
 * was made through appends it once per matching rule; every node follows each rule's stream with
 * an ordered consumer from its first message on, into the router's ring, so every node's
 * `get_events` answers from the same log — also for what was published before it started, or on
 * a node that has died since.
 */
import { createHash } from 'node:crypto';
import { DiscardPolicy, nanos, StorageType, type ConsumerMessages, type JetStreamClient, type NatsConnection, type StreamConfig } from 'nats';
import type { HistoryBounds, HistoryLog, StoredEntry } from '../backplane.js';
import { decodeStoredEvent, encodeStoredEvent } from './frame.js';
import { initialValues, type NatsLink, withTimeout } from './link.js';

/** How long a get_events waits for this node's copy to catch up with the stream, ms. */
const SYNC_MS = 2000;

interface Follow {
  readonly realm: string;
  readonly id: number;
  readonly bounds: HistoryBounds;
  readonly deliver: (entry: StoredEntry) => void;
}

/** A followed stream: the last sequence delivered, and who waits for one. */
interface Followed {
  seen: number;
  readonly waiters: { readonly seq: number; readonly wake: () => void }[];
}

export class NatsHistory implements HistoryLog {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  /** Rules asked for before the connection came (a node that listens while it joins). */
  private readonly waiting: Follow[] = [];
  private readonly running = new Set<ConsumerMessages>();
  private readonly followed = new Map<string, Followed>();

  constructor(private readonly link: NatsLink, private readonly cluster: string) {}

  async start(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    this.js = nc.jetstream();
    for (const f of this.waiting.splice(0)) await this.open(f);
  }

  follow(realm: string, id: number, bounds: HistoryBounds, deliver: (entry: StoredEntry) => void): Promise<void> {
    const f = { realm, id, bounds, deliver };
    if (!this.nc) {
      this.waiting.push(f);
      return Promise.resolve();
    }
    return this.open(f);
  }

  append(realm: string, id: number, entry: StoredEntry): Promise<void> {
    const js = this.js;
    if (!js) {
      this.link.complaints.warn('history:append', { realm }, 'event history not written: the cluster is not joined yet');
      return Promise.resolve();
    }
    return this.link.track(js.publish(this.subject(realm, id), encodeStoredEvent(entry))).then(
      () => undefined,
      (err: unknown) => this.link.complaints.warn('history:append', { err, realm, topic: entry.event.topic }, 'publication not written to the event history'),
    );
  }

  async sync(realm: string, id: number): Promise<void> {
    const name = this.streamName(realm, id);
    const f = this.followed.get(name);
    const nc = this.nc;
    if (!f || !nc) return;
    const state = (await (await nc.jetstreamManager()).streams.info(name)).state;
    if (state.messages === 0 || f.seen >= state.last_seq) return;
    await withTimeout(new Promise<void>((wake) => f.waiters.push({ seq: state.last_seq, wake })), SYNC_MS).catch(() =>
      this.link.log.warn({ realm }, `event history: this node's copy still behind after ${SYNC_MS} ms; answering from it`));
  }

  /** Stops following (the connection is about to close). */
  close(): void {
    for (const m of this.running) m.stop();
    this.running.clear();
  }

  private async open(f: Follow): Promise<void> {
    const nc = this.nc!;
    const name = this.streamName(f.realm, f.id);
    const last = await this.ensureStream(nc, name, this.subject(f.realm, f.id), f.bounds);
    const consumer = await this.js!.consumers.get(name);
    const followed: Followed = { seen: 0, waiters: [] };
    this.followed.set(name, followed);
    const caughtUp = new Promise<void>((wake) => (last === 0 ? wake() : followed.waiters.push({ seq: last, wake })));
    const messages = await consumer.consume({
      callback: (m) => {
        try {
          f.deliver(decodeStoredEvent(m.data));
        } catch (err) {
          this.link.complaints.warn('history:read', { realm: f.realm, why: (err as Error).message }, 'malformed event history entry ignored');
        }
        followed.seen = m.seq;
        for (let i = followed.waiters.length - 1; i >= 0; i--) {
          const w = followed.waiters[i]!;
          if (w.seq <= m.seq) {
            followed.waiters.splice(i, 1);
            w.wake();
          }
        }
      },
    });
    this.running.add(messages);
    await initialValues(caughtUp, 'event history', this.link.log);
  }

  /** Creates the rule's stream or brings its limits to the rule's; the last sequence it holds. */
  private async ensureStream(nc: NatsConnection, name: string, subject: string, bounds: HistoryBounds): Promise<number> {
    const jsm = await nc.jetstreamManager();
    const config: Partial<StreamConfig> = {
      name, subjects: [subject], max_msgs: bounds.limit, max_age: nanos(bounds.maxAgeMs ?? 0), discard: DiscardPolicy.Old,
      storage: StorageType.File, num_replicas: this.link.replicas(nc),
    };
    const lastHeld = (state: { messages: number; last_seq: number }) => (state.messages === 0 ? 0 : state.last_seq);
    try {
      return lastHeld((await jsm.streams.add(config)).state);
    } catch (err) {
      // Another node's configuration had other limits: the one starting last sets them.
      if (!/already in use/i.test((err as Error).message)) throw err;
      return lastHeld((await jsm.streams.update(name, config)).state);
    }
  }

  private hash(realm: string, id: number): string {
    return createHash('sha256').update(`${realm}\u0000${id}`).digest('hex').slice(0, 24);
  }

  private streamName(realm: string, id: number): string {
    return `xbar_${this.cluster.replace(/[^A-Za-z0-9_-]/g, '_')}_hist_${this.hash(realm, id)}`;
  }

  private subject(realm: string, id: number): string {
    return `${this.link.subjects.prefix}.hist.${this.hash(realm, id)}`;
  }
}
