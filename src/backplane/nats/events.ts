/**
 * Pub/sub across nodes (design/cluster.md §3). Events are routed by subject: a node subscribes
 * only to the subjects its local subscriptions need, NATS forwards a publication once per
 * interested node and each node fans out locally. Overlapping subscriptions on one node deliver
 * copies, dropped here by (origin, seq).
 *
 * Outages (issue 17, point 4): every publication stays in the origin's buffer (replay.ts) for
 * `replay_window`, bounded by `replay_buffer` bytes. While the connection is down nothing is
 * written to nats.js (it would drop it at the reconnect); a node that reconnects asks the
 * others for what it missed (replay) until every node it knew has answered, and only then
 * resends what no NATS server confirmed (confirmations.ts) and what it published meanwhile: an
 * answer shows that its server reaches theirs again (a resumed server takes publications before
 * its routes are back, and drops them). From a disconnect until the replay has filled the gap,
 * live events are held back, so nothing that arrives first on the new server makes the replayed
 * ones look like duplicates. Receivers drop copies by (origin, seq), so a
 * frame that comes both ways, or twice, is delivered once, in the origin's order.
 */
import { ErrorCode, type Msg, type NatsConnection, RequestStrategy, type Subscription } from 'nats';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { EventOut } from '../backplane.js';
import { decodeEvent, decodeReplayAnswer, decodeReplayAsk, encodeEvent, encodeReplayAnswer, encodeReplayAsk, type ReplayAsk } from './frame.js';
import type { NatsLink } from './link.js';
import type { Membership } from './membership.js';
import { Confirmations } from './confirmations.js';
import { RecentFrames, type SentFrame } from './replay.js';

/** After a reconnect, replay rounds go on at least this long (interest propagation in NATS)… */
const SETTLE_MS = 600;
/**
 * …and until every peer answered, but never longer than this (nor the replay window): live
 * events are held back meanwhile.
 */
const REPLAY_MAX_MS = 60_000;
/** Between replay rounds. */
const ROUND_PAUSE_MS = 200;
/** Replay asks for what was published since this long before the gap. */
const REPLAY_MARGIN_MS = 1000;

export interface ReplayLimits {
  /** ms an event stays in its origin's buffer (`cluster.nats.replay_window`). */
  readonly windowMs: number;
  /** Bytes that buffer may hold (`cluster.nats.replay_buffer`). */
  readonly maxBytes: number;
}

export const REPLAY_DEFAULTS: ReplayLimits = { windowMs: 30_000, maxBytes: 64 * 1024 * 1024 };

/**
 * Where a node's event sequence starts: the start time in ms × 1,000. Receivers remember the last
 * sequence per node id, and a node restarted under its name keeps that id, so each run must
 * start above everything an earlier run stamped (it would have to publish 1,000 events per ms of
 * its life to reach the next run's start). Stays below 2^53 until the year 2255.
 */
export function sequenceBase(now = Date.now()): number {
  return now * 1000;
}

export class NatsEvents {
  /** NATS subscriptions per subject; `sub` is missing for interest taken before the connection (start() subscribes). */
  private readonly interests = new Map<string, { count: number; sub: Subscription | undefined }>();
  /** The last sequence delivered from each origin node. */
  private readonly lastSeq = new Map<string, number>();
  private readonly subjectCache = new Map<string, string>();
  /** What this node published lately, for peers that lost some of it in a reconnect. */
  private readonly recent: RecentFrames;
  private readonly confirmations: Confirmations;
  /** Publications pushed out of the buffer by its byte bound before their window ran out. */
  overflowed = 0;
  /** Live events held back while a reconnect's replay is under way. */
  private heldBack: Msg[] | undefined;
  /** Bytes of `heldBack`. */
  private heldBytes = 0;
  /** Replays started; only the latest one lets the held-back events go. */
  private replays = 0;
  /** The last sequence this node stamped; starts at `sequenceBase()`, above any earlier run of its name. */
  private seq = sequenceBase();

  constructor(
    private readonly link: NatsLink,
    private readonly membership: Membership,
    private readonly deliver: (ev: EventOut) => void,
    private readonly limits: ReplayLimits = REPLAY_DEFAULTS,
  ) {
    this.recent = new RecentFrames(limits.windowMs, limits.maxBytes, (f, early) => this.dropped(f, early));
    this.confirmations = new Confirmations(() => (this.link.isConnected ? this.link.open() : undefined), () => this.recent.expire(Date.now()), this.seq);
  }

  /** Bytes the replay buffer holds now. */
  get bufferedBytes(): number {
    return this.recent.bytes;
  }

  private dropped(f: SentFrame, early: boolean): void {
    if (early) {
      this.overflowed++;
      this.link.complaints.warn('replay-overflow', { bytes: this.limits.maxBytes, seq: f.seq, agoMs: Date.now() - f.at, windowMs: this.limits.windowMs },
        'replay buffer full (cluster.nats.replay_buffer): older events leave it before replay_window ends, and an outage now can lose them');
    }
    if (f.seq > this.confirmations.confirmed) {
      this.confirmations.lost(f.seq, early ? 'the replay buffer overflowed before NATS took the publication' : 'NATS was unreachable for longer than cluster.nats.replay_window');
    }
  }

  start(nc: NatsConnection): void {
    this.link.subscribe(nc, `${this.link.subjects.prefix}.replay`, (msg) => this.answerReplay(msg));
    // Local sessions may have subscribed while the node waited for NATS.
    for (const [subject, known] of this.interests) known.sub ??= this.link.subscribe(nc, subject, (msg) => this.received(msg));
  }

  async addInterest(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    const nc = this.link.open();
    const subject = this.link.subjects.interest(realm, uri, match);
    const known = this.interests.get(subject);
    if (known) {
      known.count++;
      return;
    }
    if (!nc) {
      this.interests.set(subject, { count: 1, sub: undefined });
      return;
    }
    const sub = this.link.subscribe(nc, subject, (msg) => this.received(msg));
    this.interests.set(subject, { count: 1, sub });
    // Resolves once the server has the subscription; a reconnect sends it again.
    await nc.flush().catch((err: unknown) => this.link.log.debug({ err, subject }, 'interest not confirmed by NATS yet (reconnecting?)'));
  }

  removeInterest(realm: string, uri: string, match: MatchPolicy): void {
    const subject = this.link.subjects.interest(realm, uri, match);
    const known = this.interests.get(subject);
    if (!known) return;
    if (--known.count === 0) {
      this.interests.delete(subject);
      known.sub?.unsubscribe();
    }
  }

  publish(ev: EventOut): 'sent' | 'local-only' | 'unavailable' {
    const nc = this.link.open();
    if (!nc) return 'unavailable';
    const now = Date.now();
    // Alone in the cluster: nobody else can want it (a node that joins later starts from now),
    // unless a node left within the window: it may come back and ask for what it missed.
    if (this.membership.alone(now, this.limits.windowMs)) return 'local-only';
    const subject = this.eventSubject(ev.realm, ev.topic);
    const seq = ++this.seq;
    const data = encodeEvent(this.link.nodeId, seq, ev);
    this.recent.add({ seq, subject, at: now, data });
    // Kept, and resent once the reconnect's replay shows the others hear us (not into a server without its routes).
    if (!this.link.isConnected || this.heldBack) return 'unavailable';
    nc.publish(subject, data);
    this.confirmations.handedOver(seq);
    return 'sent';
  }

  /** Subjects of recently published topics (building one escapes every component). */
  private eventSubject(realm: string, topic: string): string {
    const key = `${realm}\u0000${topic}`;
    let subject = this.subjectCache.get(key);
    if (subject === undefined) {
      if (this.subjectCache.size >= 10_000) this.subjectCache.clear();
      subject = this.link.subjects.event(realm, topic);
      this.subjectCache.set(key, subject);
    }
    return subject;
  }

  /**
   * Resolves once every publication so far reached a NATS server — after a reconnect if need be,
   * for as long as the replay buffer keeps it.
   */
  confirm(): Promise<void> {
    if (!this.link.open()) return Promise.reject(new Error('NATS connection closed'));
    return this.confirmations.wait(this.seq);
  }

  /** The node stops: acknowledgements still waiting fail. */
  close(): void {
    this.confirmations.close();
  }

  private received(msg: Msg): void {
    if (this.heldBack) {
      this.heldBack.push(msg);
      this.heldBytes += msg.data.byteLength;
    } else this.deliverFrame(msg.data);
  }

  private deliverFrame(data: Uint8Array): void {
    const f = decodeEvent(data);
    // One origin's copies arrive in publish order on our one connection; later copies are duplicates.
    if (f.seq <= (this.lastSeq.get(f.origin) ?? 0)) return;
    this.lastSeq.set(f.origin, f.seq);
    this.deliver(f.event);
  }

  /** The connection is lost: hold live events from now until the reconnect's replay is done. */
  holdBack(): void {
    this.heldBack ??= [];
    this.confirmations.disconnected();
  }

  /**
   * At the end of a reconnect's replay: write again, in order, what no server confirmed (nats.js
   * dropped what was written while it reconnected), what was published during the replay, and
   * what was published since `since` (our server may have taken it while it had lost its routes:
   * receivers drop what they have), then confirm it. Not sooner: a server that was cut off takes
   * our publications as soon as we reconnect and drops them while its routes are not back.
   */
  private resend(since: number): void {
    const nc = this.link.open();
    if (!nc) return;
    let n = 0;
    for (const f of this.recent.after(this.confirmations.confirmed, since)) {
      nc.publish(f.subject, f.data);
      this.confirmations.handedOver(f.seq);
      n++;
    }
    if (n > 0) this.link.log.info({ resent: n }, 'resent the events published since this node last heard the cluster or not confirmed by a NATS server');
    this.confirmations.kick();
  }

  /**
   * After a reconnect: fetch what the others published since shortly before `gapStart` (when this
   * node last heard them). Asks in rounds while holding live events back: a publisher that was on
   * the same dead server may be reconnecting too, our new subscriptions take a moment to reach
   * every server of the NATS cluster (what is published meanwhile is dropped there), and a server
   * that was cut off (paused, partitioned) may take seconds to get its routes back, during which
   * nobody answers (no responders). Rounds go on until every peer that was live at the reconnect
   * has answered (or left), at least SETTLE_MS and until one brings nothing new — never longer
   * than the replay window (past it the others no longer keep what we missed) nor REPLAY_MAX_MS,
   * nor once the held-back events pass the replay buffer's bytes.
   */
  async replay(gapStart: number): Promise<void> {
    const nc = this.link.open();
    const self = this.link.nodeId;
    const waitingFor = new Set([...this.membership.live().keys()].filter((n) => n !== self));
    const generation = ++this.replays;
    this.heldBack ??= [];
    try {
      if (!nc || waitingFor.size === 0) return;
      await nc.flush(); // our subscriptions are back on the new server before we ask
      const started = Date.now();
      const patience = Math.min(this.limits.windowMs, REPLAY_MAX_MS);
      let replayed = 0;
      let rounds = 0;
      for (;; rounds++) {
        if (rounds > 0) await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
        if (this.link.isStopping || generation !== this.replays) return; // a later reconnect's replay takes over
        const live = this.membership.live();
        for (const n of waitingFor) if (!live.has(n)) waitingFor.delete(n);
        const ask = { since: gapStart - REPLAY_MARGIN_MS, filters: [...this.interests.keys()], after: Object.fromEntries(this.lastSeq) };
        const got = await this.replayRound(nc, ask, Math.max(1, live.size - 1), waitingFor);
        replayed += got;
        const elapsed = Date.now() - started;
        if (waitingFor.size === 0 && got === 0 && elapsed >= SETTLE_MS) break;
        if (elapsed >= patience || this.heldBytes > this.limits.maxBytes) {
          this.link.log.warn({ waited_ms: elapsed, unanswered: [...waitingFor], held_back_bytes: this.heldBytes },
            'replay after reconnect ended before every node answered: events they published meanwhile may be missing');
          break;
        }
      }
      this.link.log.info({ replayed, rounds: rounds + 1, ms: Date.now() - started }, 'replayed the events published while this node reconnected');
    } catch (err) {
      this.link.log.warn({ err }, 'replay after reconnect failed: events published meanwhile may be missing');
    } finally {
      if (generation === this.replays) {
        this.resend(gapStart - REPLAY_MARGIN_MS);
        const held = this.heldBack ?? [];
        this.heldBack = undefined;
        this.heldBytes = 0;
        for (const msg of held) this.deliverSafely(msg.data, 'held-back event');
      }
    }
  }

  /** One replay round: delivers the answers' frames, strikes the answering nodes off `waitingFor`; the frames delivered. */
  private async replayRound(nc: NatsConnection, ask: ReplayAsk, peers: number, waitingFor: Set<string>): Promise<number> {
    let got = 0;
    try {
      const replies = await nc.requestMany(`${this.link.subjects.prefix}.replay`, encodeReplayAsk(ask), {
        maxWait: 500, maxMessages: peers, strategy: RequestStrategy.Count,
      });
      for await (const m of replies) got += this.deliverReplayed(m.data, waitingFor);
    } catch (err) {
      // No responders: our server does not reach the others yet (its routes are not back).
      if ((err as { code?: string }).code !== ErrorCode.NoResponders) throw err;
    }
    return got;
  }

  /** Delivers one replay answer's frames; a bad answer or frame is logged and skipped. */
  private deliverReplayed(answer: Uint8Array, waitingFor: Set<string>): number {
    let decoded: { origin: string; frames: Uint8Array[] };
    try {
      decoded = decodeReplayAnswer(answer);
    } catch (err) {
      this.link.complaints.warn('replay-answer', { why: (err as Error).message }, 'malformed replay answer dropped');
      return 0;
    }
    waitingFor.delete(decoded.origin);
    for (const data of decoded.frames) this.deliverSafely(data, 'replayed event');
    return decoded.frames.length;
  }

  private deliverSafely(data: Uint8Array, what: string): void {
    try {
      this.deliverFrame(data);
    } catch (err) {
      this.link.complaints.warn(what, { err }, `${what} could not be delivered`);
    }
  }

  /** Another node reconnected and asks what it missed of ours. */
  private answerReplay(msg: Msg): void {
    if (!msg.reply) return;
    const ask = decodeReplayAsk(msg.data);
    const frames = this.recent.select(ask.since, ask.after[this.link.nodeId] ?? 0, ask.filters);
    msg.respond(encodeReplayAnswer(this.link.nodeId, frames));
  }
}
