/**
 * What the sessions of one MQTT transport share: its realm and payload mapping, its wire kind
 * (the EVENT → PUBLISH cache), the topics of its exact subscriptions, its shared-subscription
 * groups and its limits.
 */
import type { Logger } from 'pino';
import type { WireKind } from '../connection/outgoing.js';
import type { UriCheck } from '../wamp/uri.js';
import type { MqttEvent, TopicBook } from './event-wire.js';
import type { PayloadMapping } from './payload-mapping.js';
import type { Expirable, HeldBytes, OfflineSessions } from './held.js';
import { SharedGroup } from './subscriptions.js';
import type { SharedFilter, TopicNames } from './topics.js';
import type { Wills } from './wills.js';

export interface GatewayLimits {
  /** Bytes of QoS 1 messages an offline persistent session keeps (and that wait for the in-flight window). */
  readonly maxQueuedBytes: number;
  /** QoS 1 packets in flight per session when the client names no Receive Maximum. */
  readonly maxInflight: number;
  /** Bytes of QoS 1 messages the transport's sessions hold together, queued or in flight. */
  readonly maxQueuedBytesTotal: number;
  /** Offline persistent sessions the transport keeps. */
  readonly maxOfflineSessions: number;
}


export interface GatewayContext {
  readonly realm: string;
  readonly uriCheck: UriCheck;
  /** The WAMP URIs of the topic names clients publish to. */
  readonly topicNames: TopicNames;
  readonly mapping: PayloadMapping;
  readonly wire: WireKind<MqttEvent | undefined>;
  readonly topics: TopicRegistry;
  readonly groups: SharedGroups;
  readonly wills: Wills;
  readonly limits: GatewayLimits;
  /** The byte budget `limits.maxQueuedBytesTotal` of every session's held QoS 1 messages. */
  readonly held: HeldBytes;
  readonly offline: OfflineSessions<Expirable>;
  readonly log: Logger;
  /** The session whose PUBLISH the router is delivering now (MQTT 5 No Local). */
  publishing: object | undefined;
}

/** Subscription id → topic, counted: an id is forgotten with the last session filter using it. */
export class TopicRegistry implements TopicBook {
  private readonly topics = new Map<number, { uri: string; refs: number }>();

  add(id: number, uri: string): void {
    const t = this.topics.get(id);
    if (t) t.refs++;
    else this.topics.set(id, { uri, refs: 1 });
  }

  release(id: number): void {
    const t = this.topics.get(id);
    if (t && --t.refs === 0) this.topics.delete(id);
  }

  topicOf(id: number): string | undefined {
    return this.topics.get(id)?.uri;
  }

  get size(): number {
    return this.topics.size;
  }
}

export class SharedGroups {
  private readonly groups = new Map<string, SharedGroup>();

  join(shared: SharedFilter, member: { readonly online: boolean }): SharedGroup {
    const key = `${shared.group}\u0000${shared.filter}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = new SharedGroup(key)));
    g.members.push(member);
    return g;
  }

  leave(group: SharedGroup, member: object): void {
    const i = group.members.indexOf(member as { readonly online: boolean });
    if (i >= 0) group.members.splice(i, 1);
    if (group.members.length === 0) this.groups.delete(group.key);
  }
}
