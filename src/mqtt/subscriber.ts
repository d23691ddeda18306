/**
 * MQTT SUBSCRIBE / UNSUBSCRIBE as WAMP subscriptions (`topics.ts`): SUBACK once every WAMP
 * subscription of the packet is answered (retained events may come first, as the spec allows),
 * a filter that replaces one of the same text keeps the WAMP subscriptions both use, and a WAMP
 * subscription is unsubscribed with the last filter that uses it.
 */
import type { ISubscribePacket, IUnsubscribePacket } from 'mqtt-packet';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { Reason, SUBACK_FAILURE } from './codes.js';
import type { GatewayContext } from './gateway-context.js';
import type { MqttConnection } from './mqtt-connection.js';
import { type MqttSubscription, SubscriptionTable } from './subscriptions.js';
import { filterToWamp, isValidTopicFilter, sharedFilter } from './topics.js';

export interface SubscriberOwner {
  readonly online: boolean;
  ask(build: (request: number) => unknown[], reply: (msg: unknown[]) => void): void;
}

export class Subscriber {
  readonly subs = new SubscriptionTable();

  constructor(private readonly owner: SubscriberOwner, private readonly ctx: GatewayContext) {}

  subscribe(conn: MqttConnection, p: ISubscribePacket): void {
    if (p.properties?.subscriptionIdentifier !== undefined) {
      return conn.protocolError(Reason.subscriptionIdentifiersNotSupported, 'subscription identifiers are not supported');
    }
    const v5 = conn.level === 5;
    const codes: number[] = [];
    let waiting = 1;
    const done = () => {
      if (--waiting === 0) conn.send({ cmd: 'suback', messageId: p.messageId ?? 0, granted: codes });
    };
    for (const [i, s] of p.subscriptions.entries()) {
      const shared = sharedFilter(s.topic);
      const inner = shared === undefined ? s.topic : shared === 'invalid' ? '' : shared.filter;
      if (!isValidTopicFilter(inner) || (shared !== undefined && s.nl)) {
        return conn.protocolError(v5 ? Reason.topicFilterInvalid : Reason.malformedPacket, `invalid topic filter ${JSON.stringify(s.topic)}`);
      }
      const mapped = filterToWamp(inner, this.ctx.uriCheck);
      if (!mapped) {
        codes[i] = v5 ? Reason.topicFilterInvalid : SUBACK_FAILURE;
        continue;
      }
      const old = this.subs.get(s.topic);
      const stale = old ? this.removeFilter(s.topic, false) : [];
      const group = shared && shared !== 'invalid' ? this.ctx.groups.join(shared, this.owner) : undefined;
      const sub: MqttSubscription = {
        filter: s.topic, qos: s.qos >= 1 ? 1 : 0, noLocal: s.nl === true, retainAsPublished: s.rap === true, mapped,
        ...(group ? { share: group } : {}), wamp: [],
      };
      this.subs.add(sub);
      // Retained messages: never for a shared subscription (MQTT 5 §4.8.2); per Retain Handling else.
      const rh = s.rh ?? 0;
      const retained = !group && (rh === 0 || (rh === 1 && !old));
      let left = mapped.subscriptions.length;
      let failure: number | undefined;
      for (const w of mapped.subscriptions) {
        waiting++;
        this.owner.ask(
          (request) => [T.SUBSCRIBE, request, { ...(w.match === 'exact' ? {} : { match: w.match }), ...(retained ? { get_retained: true } : {}) }, w.uri],
          (reply) => {
            if (reply[0] === T.SUBSCRIBED) {
              this.ctx.topics.add(Number(reply[2]), w.uri);
              this.subs.confirm(sub, Number(reply[2]));
            } else failure = v5 && reply[4] === ErrorUri.notAuthorized ? Reason.notAuthorized : v5 ? Reason.unspecifiedError : SUBACK_FAILURE;
            if (--left === 0) {
              codes[i] = failure ?? sub.qos;
              if (failure !== undefined) this.removeFilter(s.topic, true);
              this.unsubscribeUnused(stale);
            }
            done();
          },
        );
      }
    }
    done();
  }

  unsubscribe(conn: MqttConnection, p: IUnsubscribePacket): void {
    const codes = p.unsubscriptions.map((f) => {
      if (!this.subs.get(f)) return Reason.noSubscriptionExisted;
      this.removeFilter(f, true);
      return Reason.success;
    });
    conn.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, ...(conn.level === 5 ? { granted: codes } : { granted: [] }) });
  }

  /** Drops a filter; its WAMP subscriptions no other filter uses are unsubscribed now or returned. */
  removeFilter(filter: string, now: boolean): number[] {
    const sub = this.subs.get(filter);
    if (!sub) return [];
    if (sub.share) this.ctx.groups.leave(sub.share, this.owner);
    for (const id of sub.wamp) this.ctx.topics.release(id);
    const unused = this.subs.remove(filter);
    if (now) this.unsubscribeUnused(unused);
    return unused;
  }

  private unsubscribeUnused(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.subs.forWamp(id)) continue;
      this.owner.ask((request) => [T.UNSUBSCRIBE, request, id], () => undefined);
    }
  }

  /** The session is over: every filter goes (the router drops its WAMP subscriptions itself). */
  clear(): void {
    for (const sub of [...this.subs.all()]) this.removeFilter(sub.filter, false);
  }
}
