/**
 * The MQTT gateway's wire kind: an EVENT is read once per gateway — from the values the router
 * made it of when the Outgoing has them (nothing encoded or decoded), else decoded from its bytes
 * (MessagePack, the gateway sessions' serializer) —, its payload mapped once, and its PUBLISH
 * packets built once per protocol version and wire (`publish-packet.ts`); every MQTT receiver of
 * the event writes the same bytes. `Outgoing.framed(wire)` caches the MqttEvent on the message.
 */
import type { Logger } from 'pino';
import type { Outgoing, WireKind } from '../connection/outgoing.js';
import type { Serializer } from '../serializers/serializer.js';
import type { Dict } from '../wamp/messages.js';
import { type PayloadMapping, PayloadError } from './payload-mapping.js';
import { type OutgoingPublish, type ProtocolVersion, type PublishProperties, PublishFrame } from './publish-packet.js';
import { TopicNamesOut, uriToTopic } from './topics.js';

/**
 * MQTT message attributes that ride with a publication: PUBLISH.Options `_mqtt` (a WAMP
 * extension key), forwarded by the broker as EVENT.Details `_mqtt`, across nodes and from the
 * retained store. A WAMP publisher may set them too (`{_mqtt: {qos: 1}}`).
 */
export interface MqttAttributes {
  /** The publisher's QoS (0 when absent). */
  readonly qos?: 0 | 1 | 2;
  /** The publisher's RETAIN flag (for subscriptions with Retain As Published). */
  readonly retain?: boolean;
  /** A retained message with an empty payload: it clears the topic's retained message (MQTT-3.3.1-10). */
  readonly clear?: boolean;
  /** ms since the epoch when the gateway received it (message expiry). */
  readonly at?: number;
  readonly props?: PublishProperties;
}

export class MqttEvent {
  private frames: PublishFrame[] | undefined;
  /** The mapped payload once known (a dynamic encoder answers later). */
  payload: Buffer | undefined;
  /** The MQTT topic name of `uri`. */
  private topic: string | undefined;

  constructor(
    readonly subscription: number,
    readonly publication: number,
    /** The WAMP topic; undefined when the gateway knows no topic for the subscription. */
    readonly uri: string | undefined,
    readonly retained: boolean,
    readonly attributes: MqttAttributes,
    /** The mapped payload, a promise of it (dynamic), or undefined: not for MQTT (no mapping, or failed). */
    readonly pending: Buffer | Promise<Buffer | undefined> | undefined,
    topic?: string,
  ) {
    this.topic = topic;
    if (Buffer.isBuffer(pending)) this.payload = pending;
    else if (pending) this.ready = pending.then((p) => void (this.payload = p));
  }

  /** Resolves once a dynamic encoder has answered (`payload` is then set, or stays undefined on failure). */
  ready: Promise<void> | undefined;

  get qos(): 0 | 1 {
    return this.attributes.qos ? 1 : 0;
  }

  /** ms since the epoch after which the message is expired; Infinity when it does not expire. */
  get expiresAt(): number {
    const s = this.attributes.props?.messageExpiryInterval;
    return s === undefined ? Infinity : (this.attributes.at ?? Date.now()) + s * 1000;
  }

  /** The packet parts for one protocol version and wire (the payload must be known). */
  frame(version: ProtocolVersion, ws: boolean, retain: boolean): PublishFrame {
    const i = (version === 5 ? 1 : 0) + (ws ? 2 : 0) + (retain ? 4 : 0);
    const frames = (this.frames ??= []);
    return (frames[i] ??= new PublishFrame(this.message(retain, Date.now()), version, ws));
  }

  /** The message as sent now (its expiry interval counts down while it waits, MQTT-3.3.2-6). */
  message(retain: boolean, now: number): OutgoingPublish {
    const props = this.attributes.props;
    const expiry = props?.messageExpiryInterval;
    const left = expiry === undefined ? undefined : Math.max(1, Math.ceil((this.expiresAt - now) / 1000));
    return {
      topic: (this.topic ??= uriToTopic(this.uri!)),
      payload: this.payload!,
      retain,
      ...(props ? { properties: left === undefined ? props : { ...props, messageExpiryInterval: left } } : {}),
    };
  }
}

/** Subscription id → WAMP topic, for exact subscriptions (their EVENTs carry no topic). */
export interface TopicBook {
  topicOf(subscription: number): string | undefined;
}

/** The wire kind of one MQTT transport (its payload mapping). */
export function mqttWire(serializer: Serializer, mapping: PayloadMapping, topics: TopicBook, log: Logger): WireKind<MqttEvent | undefined> {
  const names = new TopicNamesOut();
  return {
    name: 'mqtt',
    frame(out) {
      const m = valuesOf(out, serializer);
      if (m === undefined || m.length < 4) return undefined;
      const [, subscription, publication, details, args, kwargs] = m as [number, number, number, Dict, unknown[] | undefined, Dict | undefined];
      const uri = typeof details.topic === 'string' ? details.topic : topics.topicOf(subscription);
      const attributes = attributesOf(details._mqtt);
      const retained = details.retained === true;
      let pending: MqttEvent['pending'];
      let topic: string | undefined;
      const format = uri === undefined ? undefined : mapping.formatFor(uri);
      if (uri !== undefined && format !== undefined && !(retained && attributes.clear)) {
        try {
          const p = attributes.clear ? Buffer.alloc(0) : mapping.toMqtt(format, uri, (topic = names.name(uri)), args ?? undefined, kwargs ?? undefined);
          pending = Buffer.isBuffer(p) ? p : p.catch((e: unknown) => {
            log.warn({ err: e, topic: uri }, 'MQTT payload encoder failed; event not sent to MQTT');
            return undefined;
          });
        } catch (e) {
          if (!(e instanceof PayloadError)) throw e;
          log.warn({ err: e, topic: uri }, 'event payload not mappable to MQTT; not sent');
        }
      }
      return new MqttEvent(subscription, publication, uri, retained, attributes, pending, topic);
    },
  };
}

/**
 * The EVENT's elements: the router's values as the gateway's serializer would have decoded them
 * (`undefined` is nil, bytes are Buffers), or the bytes decoded; undefined when they do not decode.
 */
function valuesOf(out: Outgoing, serializer: Serializer): readonly unknown[] | undefined {
  if (out.message) return asDecoded(out.message) as readonly unknown[];
  let m: unknown;
  try {
    m = serializer.decode(out.bytes);
  } catch {
    return undefined;
  }
  return Array.isArray(m) ? m : undefined;
}

/** Copy-on-write: what MessagePack's round trip makes of a value (the router's values are WAMP data). */
function asDecoded(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const v = asDecoded(item);
      if (v !== item) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const item = record[key];
    const v = asDecoded(item);
    if (v !== item) (copy ??= { ...record })[key] = v;
  }
  return copy ?? value;
}

/** `_mqtt` as any publisher may have set it: fields of the wrong type are ignored. */
function attributesOf(v: unknown): MqttAttributes {
  if (!isDict(v)) return NONE;
  const a: { -readonly [K in keyof MqttAttributes]: MqttAttributes[K] } = {};
  if (v.qos === 1 || v.qos === 2) a.qos = v.qos;
  if (v.retain === true) a.retain = true;
  if (v.clear === true) a.clear = true;
  if (typeof v.at === 'number') a.at = v.at;
  if (isDict(v.props)) a.props = propertiesOf(v.props);
  return a;
}

function propertiesOf(p: Dict): PublishProperties {
  const o: { -readonly [K in keyof PublishProperties]: PublishProperties[K] } = {};
  if (typeof p.payloadFormatIndicator === 'boolean') o.payloadFormatIndicator = p.payloadFormatIndicator;
  const e = p.messageExpiryInterval;
  if (typeof e === 'number' && Number.isInteger(e) && e >= 0 && e <= 0xffffffff) o.messageExpiryInterval = e;
  if (typeof p.contentType === 'string') o.contentType = p.contentType;
  if (typeof p.responseTopic === 'string') o.responseTopic = p.responseTopic;
  if (p.correlationData instanceof Uint8Array) o.correlationData = p.correlationData;
  if (isDict(p.userProperties)) {
    const u: Record<string, string | string[]> = {};
    for (const [k, x] of Object.entries(p.userProperties)) {
      if (typeof x === 'string') u[k] = x;
      else if (Array.isArray(x) && x.every((y) => typeof y === 'string')) u[k] = x as string[];
    }
    o.userProperties = u;
  }
  return o;
}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const NONE: MqttAttributes = Object.freeze({});
