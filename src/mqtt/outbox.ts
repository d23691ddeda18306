/**
 * A session's outgoing PUBLISH traffic: which of its filters an event is for (local checks for
 * `+`/`#` mixes, shared groups, No Local), at which QoS and RETAIN, and how it leaves — written
 * at once from the event's shared packet parts, or, for QoS 1, queued while the session is
 * offline or its in-flight window is full. In-flight QoS 1 packets are kept until PUBACK and
 * resent with DUP when the session resumes. Events with a dynamic payload wait for their encoder
 * in order, behind which later events of the session wait too.
 */
import type { SendResult } from '../connection/connection.js';
import { Reason } from './codes.js';
import type { GatewayContext } from './gateway-context.js';
import type { MqttEvent } from './event-wire.js';
import type { Link } from './link.js';
import { duplicate, packetIdBytes, PublishFrame } from './publish-packet.js';
import type { SubscriptionTable } from './subscriptions.js';

/** What the outbox needs of its session. */
export interface OutboxOwner {
  readonly conn: { readonly isOpen: boolean; readonly version: 4 | 5; readonly link: Link; disconnect(reason: number, message?: string): void } | undefined;
  readonly persistent: boolean;
  readonly subs: SubscriptionTable;
  readonly online: boolean;
  messagesOut: number;
  bytesOut: number;
}

interface Queued {
  readonly ev: MqttEvent;
  readonly retain: boolean;
  readonly size: number;
}

export class Outbox {
  dropped = 0;
  /** In-flight QoS 1 packets by packet identifier, until PUBACK. */
  private readonly inflight = new Map<number, Queued>();
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private inflightBytes = 0;
  /** Offline: what the session holds is charged to the transport's budget (`ctx.held`). */
  private charged = false;
  private nextId = 1;
  /** Receive Maximum of the current connection. */
  window: number;
  /** Events waiting for a dynamic encoder, and everything after them (in order). */
  private chain: Promise<void> | undefined;
  private chained = 0;

  constructor(private readonly owner: OutboxOwner, private readonly ctx: GatewayContext) {
    this.window = ctx.limits.maxInflight;
  }

  /** An event for one of the session's WAMP subscriptions. */
  deliver(ev: MqttEvent | undefined, droppable: boolean): SendResult {
    if (!ev || ev.uri === undefined || ev.pending === undefined) return 'sent';
    const subs = this.owner.subs.forWamp(ev.subscription);
    if (!subs) return 'sent';
    let qos = -1;
    let rap = false;
    for (const s of subs) {
      if (s.mapped.check && !s.mapped.check(ev.uri)) continue;
      if (s.share && !s.share.chosen(this.owner, ev.publication)) continue;
      if (s.noLocal && this.ctx.publishing === this.owner) continue;
      if (s.qos > qos) qos = s.qos;
      if (s.retainAsPublished) rap = true;
    }
    if (qos < 0) return 'sent';
    const q = Math.min(qos, ev.qos) as 0 | 1;
    // A retained message is sent with RETAIN; a live one only under Retain As Published (MQTT-3.3.1-12/13).
    const retain = ev.retained || (rap && ev.attributes.retain === true);
    if (ev.payload !== undefined && this.chain === undefined) return this.write(ev, q, retain, droppable);
    // Wait for the encoder (and for events queued before this one).
    const before = this.chain ?? Promise.resolve();
    this.chained++;
    this.chain = before.then(async () => {
      try {
        if (ev.payload === undefined) await ev.ready;
        if (ev.payload !== undefined) this.write(ev, q, retain, droppable);
      } catch (e) {
        this.ctx.log.error({ err: e }, 'internal error while sending an MQTT message');
      }
      if (--this.chained === 0) this.chain = undefined;
    });
    return 'sent';
  }

  private write(ev: MqttEvent, qos: 0 | 1, retain: boolean, droppable: boolean): SendResult {
    if (ev.expiresAt <= Date.now()) return 'dropped';
    const conn = this.owner.conn;
    if (!conn?.isOpen) {
      // Offline: a persistent session keeps QoS 1 messages (MQTT-3.1.2-5); QoS 0 ones may go.
      if (qos === 1 && this.owner.persistent) return this.enqueue(ev, retain);
      return 'dropped';
    }
    if (qos === 1 && this.windowFull(ev)) return this.enqueue(ev, retain);
    switch (conn.link.admit(droppable)) {
      case 'drop':
        this.dropped++;
        return 'dropped';
      case 'disconnect':
        conn.disconnect(Reason.quotaExceeded, 'slow consumer: outgoing buffer over its limit');
        return 'closed';
      case 'write':
        break;
    }
    const frame = ev.frame(conn.version, conn.link.ws, retain);
    this.send(frame, qos, ev, retain);
    return 'sent';
  }

  private send(frame: PublishFrame, qos: 0 | 1, ev: MqttEvent, retain: boolean): void {
    const link = this.owner.conn!.link;
    this.owner.messagesOut++;
    this.owner.bytesOut += ev.payload!.length;
    if (qos === 0) return link.writeRaw(frame.qos0());
    const id = this.packetId();
    const { head, tail } = frame.qos1();
    link.writeRaw(head);
    link.writeRaw(packetIdBytes(id));
    link.writeRaw(tail);
    const size = head.length + tail.length + 2;
    this.inflight.set(id, { ev, retain, size });
    this.inflightBytes += size;
  }

  /**
   * No room for one more QoS 1 packet in flight: the window's count, or its bytes (the session's
   * `max_queued_bytes` again), though one packet may always be in flight whatever its size.
   */
  private windowFull(ev: MqttEvent): boolean {
    if (this.inflight.size >= this.window) return true;
    return this.inflight.size > 0 && this.inflightBytes + ev.payload!.length > this.ctx.limits.maxQueuedBytes;
  }

  private enqueue(ev: MqttEvent, retain: boolean): SendResult {
    const size = ev.payload!.length + ev.uri!.length + 16;
    if (this.queuedBytes + size > this.ctx.limits.maxQueuedBytes || (this.charged && !this.ctx.held.take(size))) {
      this.dropped++;
      return 'dropped';
    }
    this.queue.push({ ev, retain, size });
    this.queuedBytes += size;
    return 'sent';
  }

  /** PUBACK: the packet is delivered; the window has room for a queued one. */
  acked(id: number): void {
    const item = this.inflight.get(id);
    if (!item) return;
    this.inflight.delete(id);
    this.inflightBytes -= item.size;
    this.flush();
  }

  /** Queued messages into the in-flight window, re-encoded now (their expiry counts down). */
  flush(): void {
    const conn = this.owner.conn;
    while (this.queue.length > 0 && conn?.isOpen && !this.windowFull(this.queue[0]!.ev)) {
      const item = this.queue.shift()!;
      this.queuedBytes -= item.size;
      const now = Date.now();
      if (item.ev.expiresAt <= now) continue;
      this.send(new PublishFrame(item.ev.message(item.retain, now), conn.version, conn.link.ws), 1, item.ev, item.retain);
    }
  }

  /** A resumed session: resend what was in flight (DUP, MQTT-4.4.0-1), then the queue. */
  resume(window: number): void {
    this.window = window;
    this.uncharge();
    const conn = this.owner.conn;
    if (!conn?.isOpen) return;
    const now = Date.now();
    for (const [id, item] of this.inflight) {
      if (item.ev.expiresAt <= now) {
        this.inflight.delete(id);
        this.inflightBytes -= item.size;
        continue;
      }
      for (const b of duplicate(item.ev.message(item.retain, now), conn.version, conn.link.ws, id)) conn.link.writeRaw(b);
    }
    this.flush();
  }

  /**
   * The session went offline: what it holds is charged to the transport's budget from now on. What
   * does not fit is dropped (counted), the queue before the packets in flight.
   */
  wentOffline(): void {
    if (this.charged) return;
    this.charged = true;
    if (this.ctx.held.take(this.queuedBytes + this.inflightBytes)) return;
    this.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.ctx.held.take(this.inflightBytes)) return;
    this.dropped += this.inflight.size;
    this.inflight.clear();
    this.inflightBytes = 0;
  }

  private uncharge(): void {
    if (!this.charged) return;
    this.charged = false;
    this.ctx.held.give(this.queuedBytes + this.inflightBytes);
  }

  /** A new connection without the old session's state. */
  clear(): void {
    this.uncharge();
    this.inflight.clear();
    this.queue = [];
    this.queuedBytes = 0;
    this.inflightBytes = 0;
  }

  private packetId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }
}
