/**
 * The hot-path counters of one realm: plain integer fields the broker and dealer bump, no
 * allocation per message. The statistics collector reads them on its own schedule.
 */
import { Histogram, LATENCY_BUCKETS_MS } from './histogram.js';
import { LatencyWindow } from './latency-window.js';
import { TopicRates } from './topic-rates.js';

/** What the broker counts. */
export interface PubSubCounters {
  /** A publication made on this node (a client's or the router's) and the EVENTs sent for it here. */
  published(topic: string, events: number): void;
  /** A publication from another node and the EVENTs sent for it here. */
  remote(topic: string, events: number): void;
  /** A publication to one of the router's own topics (meta events, statistics), here or from another node. */
  meta(events: number, remote: boolean): void;
}

/** What the dealer counts. */
export interface CallCounters {
  /** A call from a local caller started; returns its start time for `callEnded`. */
  callStarted(): number;
  /** That call ended (result, error, cancel, timeout or caller gone). */
  callEnded(started: number): void;
}

export interface CountersOptions {
  /** Topics tracked for the top-N table before new ones are lumped together. */
  readonly maxTopics: number;
  readonly topTopics: number;
}

export class RealmCounters implements PubSubCounters, CallCounters {
  publications = 0;
  remotePublications = 0;
  events = 0;
  /** The router's own publications (meta events, statistics) and their EVENTs, apart from the clients' traffic. */
  metaPublications = 0;
  metaEvents = 0;
  calls = 0;
  callsInFlight = 0;
  /** Call latency seen by the caller's node, ms: Prometheus buckets since start. */
  readonly latency = new Histogram(LATENCY_BUCKETS_MS);
  /** The same latencies, for percentiles over the last minute. */
  readonly recent = new LatencyWindow();
  readonly topics: TopicRates;

  constructor(o: CountersOptions) {
    this.topics = new TopicRates(o.maxTopics, o.topTopics);
  }

  published(topic: string, events: number): void {
    this.publications++;
    this.events += events;
    this.topics.count(topic, events);
  }

  remote(topic: string, events: number): void {
    this.remotePublications++;
    this.events += events;
    this.topics.count(topic, events);
  }

  meta(events: number, remote: boolean): void {
    if (!remote) this.metaPublications++;
    this.metaEvents += events;
  }

  callStarted(): number {
    this.calls++;
    this.callsInFlight++;
    return performance.now();
  }

  callEnded(started: number): void {
    this.callsInFlight--;
    const now = performance.now();
    this.latency.observe(now - started);
    this.recent.record(now - started, now);
  }
}
