/**
 * A client's PUBLISH packets into WAMP PUBLISH messages: the topic mapped (`topics.ts`), the
 * payload mapped (`payload-mapping.ts`), QoS ≥ 1 published with `acknowledge` so that PUBACK /
 * PUBREC follow the router's PUBLISHED (Crossbar.io does the same). QoS 2 is the spec's method A
 * (MQTT 5 §4.3.3): delivered once on PUBLISH, the packet id held until PUBREL, a repeated PUBLISH
 * with that id only acknowledged again. A PUBLISH the router refuses gets PUBACK 0x87 (MQTT 5);
 * MQTT 3.1.1 has no negative acknowledgement, so it is acknowledged and dropped, as Mosquitto does.
 * Publications leave in the order they arrived, also when a dynamic decoder answers later.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict } from '../wamp/messages.js';
import { Reason } from './codes.js';
import type { MqttAttributes } from './event-wire.js';
import type { GatewayContext } from './gateway-context.js';
import type { MqttConnection } from './mqtt-connection.js';
import { PayloadError, type WampContent } from './payload-mapping.js';
import type { PublishProperties } from './publish-packet.js';
import { isValidTopicName } from './topics.js';

export interface InboundOwner {
  /** A fresh WAMP request id. */
  nextRequest(): number;
  ask(build: (request: number) => unknown[], reply: (msg: unknown[]) => void): void;
  wamp(msg: unknown[]): void;
}

export class InboundPublisher {
  /** QoS 2 packet ids between PUBREC and PUBREL. */
  private readonly received = new Set<number>();
  private chain: Promise<void> | undefined;
  private chained = 0;

  constructor(private readonly owner: InboundOwner, private readonly ctx: GatewayContext) {}

  publish(conn: MqttConnection, p: IPublishPacket): void {
    if (!isValidTopicName(p.topic)) return conn.protocolError(Reason.topicNameInvalid, `invalid topic name ${JSON.stringify(p.topic)}`);
    const id = p.messageId ?? 0;
    if (p.qos === 2 && this.received.has(id)) return conn.send({ cmd: 'pubrec', messageId: id });
    const v5 = conn.level === 5;
    const uri = this.ctx.topicNames.uri(p.topic);
    if (uri === undefined) return this.ack(conn, p, v5 ? Reason.topicNameInvalid : Reason.success);
    const format = this.ctx.mapping.formatFor(uri);
    // No payload mapping for the topic: dropped, as Crossbar.io does.
    if (format === undefined) return this.ack(conn, p, Reason.success);
    const payload = p.payload as Buffer;
    const clear = p.retain && payload.length === 0;
    let content: WampContent | Promise<WampContent>;
    try {
      content = clear ? { args: undefined, kwargs: undefined } : this.ctx.mapping.fromMqtt(format, uri, p.topic, payload);
    } catch (e) {
      return this.refused(conn, p, e);
    }
    const attributes = attributesOf(p, clear);
    if (!(content instanceof Promise) && this.chain === undefined) return this.send(conn, p, uri, content, attributes);
    const before = this.chain ?? Promise.resolve();
    this.chained++;
    this.chain = before.then(async () => {
      try {
        this.send(conn, p, uri, await content, attributes);
      } catch (e) {
        if (e instanceof PayloadError) this.refused(conn, p, e);
        else {
          this.ctx.log.error({ err: e, topic: p.topic }, 'internal error while publishing an MQTT message');
          conn.protocolError(Reason.implementationSpecificError, 'internal error');
        }
      }
      if (--this.chained === 0) this.chain = undefined;
    });
  }

  /** PUBREL: the QoS 2 exchange ends with PUBCOMP. */
  released(conn: MqttConnection, id: number): void {
    const known = this.received.delete(id);
    conn.send({ cmd: 'pubcomp', messageId: id, ...(conn.level === 5 && !known ? { reasonCode: Reason.packetIdentifierNotFound } : {}) });
  }

  private send(conn: MqttConnection, p: IPublishPacket, uri: string, content: WampContent, attributes: MqttAttributes | undefined): void {
    const options: Dict = { exclude_me: false };
    if (p.retain) options.retain = true;
    if (attributes) options._mqtt = attributes;
    const r = content.receivers;
    if (r) {
      if (r.exclude) options.exclude = r.exclude;
      if (r.excludeAuthid) options.exclude_authid = r.excludeAuthid;
      if (r.excludeAuthrole) options.exclude_authrole = r.excludeAuthrole;
      if (r.eligible) options.eligible = r.eligible;
      if (r.eligibleAuthid) options.eligible_authid = r.eligibleAuthid;
      if (r.eligibleAuthrole) options.eligible_authrole = r.eligibleAuthrole;
    }
    this.ctx.publishing = this.owner;
    try {
      if (p.qos === 0) return this.owner.wamp(publishMessage(this.owner.nextRequest(), options, uri, content));
      options.acknowledge = true;
      this.owner.ask(
        (request) => publishMessage(request, options, uri, content),
        (reply) => {
          if (reply[0] === T.PUBLISHED) return this.ack(conn, p, Reason.success);
          const denied = reply[4] === ErrorUri.notAuthorized;
          this.ack(conn, p, conn.level === 5 ? (denied ? Reason.notAuthorized : Reason.unspecifiedError) : Reason.success);
        },
      );
    } finally {
      this.ctx.publishing = undefined;
    }
  }

  private refused(conn: MqttConnection, p: IPublishPacket, e: unknown): void {
    if (!(e instanceof PayloadError)) throw e;
    this.ctx.log.debug({ topic: p.topic, err: e.message }, 'MQTT payload not mappable; dropped');
    this.ack(conn, p, conn.level === 5 ? Reason.payloadFormatInvalid : Reason.success);
  }

  private ack(conn: MqttConnection, p: IPublishPacket, reason: number): void {
    if (p.qos === 0 || !conn.isOpen) return;
    const id = p.messageId ?? 0;
    const code = conn.level === 5 && reason !== Reason.success ? { reasonCode: reason } : {};
    if (p.qos === 1) return conn.send({ cmd: 'puback', messageId: id, ...code });
    if (reason < 0x80) this.received.add(id);
    conn.send({ cmd: 'pubrec', messageId: id, ...code });
  }
}

/** [PUBLISH, Request|id, Options|dict, Topic|uri, Arguments|list?, ArgumentsKw|dict?] */
function publishMessage(request: number, options: Dict, uri: string, content: WampContent): unknown[] {
  if (content.kwargs !== undefined) return [T.PUBLISH, request, options, uri, content.args ?? [], content.kwargs];
  if (content.args !== undefined) return [T.PUBLISH, request, options, uri, content.args];
  return [T.PUBLISH, request, options, uri];
}

/** The PUBLISH's QoS, RETAIN and MQTT 5 properties as `_mqtt`; undefined when there is nothing to carry. */
function attributesOf(p: IPublishPacket, clear: boolean): MqttAttributes | undefined {
  const pr = p.properties;
  let props: PublishProperties | undefined;
  if (pr) {
    const o: { -readonly [K in keyof PublishProperties]: PublishProperties[K] } = {};
    if (pr.payloadFormatIndicator !== undefined) o.payloadFormatIndicator = pr.payloadFormatIndicator;
    if (pr.messageExpiryInterval !== undefined) o.messageExpiryInterval = pr.messageExpiryInterval;
    if (pr.contentType !== undefined) o.contentType = pr.contentType;
    if (pr.responseTopic !== undefined) o.responseTopic = pr.responseTopic;
    if (pr.correlationData !== undefined) o.correlationData = pr.correlationData;
    if (pr.userProperties !== undefined) o.userProperties = pr.userProperties;
    if (Object.keys(o).length > 0) props = o;
  }
  if (p.qos === 0 && !p.retain && !props) return undefined;
  return {
    ...(p.qos > 0 ? { qos: p.qos } : {}),
    ...(p.retain ? { retain: true } : {}),
    ...(clear ? { clear: true } : {}),
    ...(props?.messageExpiryInterval !== undefined ? { at: Date.now() } : {}),
    ...(props ? { props } : {}),
  };
}
