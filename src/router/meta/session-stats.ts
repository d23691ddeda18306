/**
 * A realm's `stats`: Crossbar.io's per-session traffic statistics (crossbar/router/session.py,
 * `RouterSession.onJoin` and `onLeave`, over Autobahn's serializer statistics). Each joined
 * session's connection counts its messages, bytes and rated messages (ceil(bytes /
 * rated_message_size) per message) both ways, HELLO and the authentication included, and
 * `wamp.session.on_stats` is published with
 *
 *   [{realm, session, authid, authrole},
 *    {cycle, serializer, timestamp, duration, bytes, messages, rated_messages, first, last}]
 *
 * at the join (`trigger_on_join`), each time a message brings the counts to
 * `trigger_after_rated_messages` or comes `trigger_after_duration` after the last reset (the
 * counts then start again), and when the session leaves (`trigger_on_leave`). As in Autobahn, the
 * duration is checked only when a message passes: an idle session publishes nothing.
 *
 * The publication is delivered synchronously from inside a connection's send; while it is, the
 * receivers' counts go on but trigger nothing (their next message does), so statistics about
 * statistics cannot recurse.
 */
import type { Connection, TrafficObserver } from '../../connection/connection.js';
import type { SessionStatsConfig } from '../../config/types.js';
import type { Dict } from '../../wamp/messages.js';
import type { Session } from '../session.js';

/** Nanoseconds since the Unix epoch, as Python's time_ns() (a float past 2^53: µs precision). */
function nowNs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

/** Publishes one `wamp.session.on_stats` event. */
export type StatsPublisher = (args: [Dict, Dict]) => void;

class SessionTraffic implements TrafficObserver {
  private cycle = 0;
  private resetAt = nowNs();
  private bytes = 0;
  private messages = 0;
  private rated = 0;
  private published = false;

  constructor(
    private readonly stats: SessionStatistics,
    private readonly conn: Connection,
    readonly info: Dict,
  ) {}

  received(bytes: number): void {
    this.count(bytes);
    this.maybeTrigger();
  }

  sent(bytes: number): void {
    this.count(bytes);
    this.maybeTrigger();
  }

  count(bytes: number): void {
    this.bytes += bytes;
    this.messages++;
    this.rated += Math.ceil(bytes / this.stats.config.ratedMessageSize);
  }

  private maybeTrigger(): void {
    const c = this.stats.config;
    if (this.stats.publishing) return;
    if ((c.afterRatedMessages > 0 && this.rated >= c.afterRatedMessages) || (c.afterDurationMs > 0 && nowNs() - this.resetAt >= c.afterDurationMs * 1e6)) {
      this.stats.publish(this, false);
    }
  }

  /** Crossbar.io's `serializer.stats()`: the counts since the last reset, then reset. */
  take(last: boolean): Dict {
    const now = nowNs();
    const out: Dict = {
      cycle: ++this.cycle,
      serializer: this.conn.serializer.id,
      timestamp: this.resetAt,
      duration: now - this.resetAt,
      bytes: this.bytes,
      messages: this.messages,
      rated_messages: this.rated,
      first: !this.published,
      last,
    };
    this.published = true;
    this.resetAt = now;
    this.bytes = 0;
    this.messages = 0;
    this.rated = 0;
    return out;
  }
}

export class SessionStatistics {
  private readonly sessions = new Map<Session, SessionTraffic>();
  /** True while an on_stats publication is being delivered. */
  publishing = false;

  constructor(readonly config: SessionStatsConfig, private readonly publisher: StatsPublisher) {}

  /**
   * The session's WELCOME has gone out: its connection reports to a counter from now on, which
   * starts with the handshake's messages (`handshake`: their sizes, in and out, WELCOME included).
   */
  welcomed(session: Session, handshake: readonly number[]): void {
    const conn = session.conn;
    if (conn.observe === undefined) return;
    const info: Dict = { realm: session.realm!.name, session: session.id, authid: session.authid, authrole: session.authrole };
    const traffic = new SessionTraffic(this, conn, info);
    this.sessions.set(session, traffic);
    // Counted, never a trigger: Crossbar.io sets its triggers once the session has joined.
    for (const bytes of handshake) traffic.count(bytes);
    conn.observe(traffic);
    if (this.config.onJoin) this.publish(traffic, false);
  }

  /** The session left the realm: its last statistics (`trigger_on_leave`), and no more counting. */
  left(session: Session, publish: boolean): void {
    const traffic = this.sessions.get(session);
    if (traffic === undefined) return;
    this.sessions.delete(session);
    session.conn.observe?.(undefined);
    if (publish && this.config.onLeave) this.publish(traffic, true);
  }

  publish(traffic: SessionTraffic, last: boolean): void {
    const stats = traffic.take(last);
    this.publishing = true;
    try {
      this.publisher([traffic.info, stats]);
    } finally {
      this.publishing = false;
    }
  }
}
