/**
 * The will message (MQTT 3.1.1 §3.1.2.5, MQTT 5 §3.1.3.2) as a WAMP testament
 * (`wamp.session.add_testament`), as Crossbar.io registers it: published by the router when the
 * session leaves without a DISCONNECT — the connection lost, the keep-alive missed, a protocol
 * error, the node gone (a cluster publishes a dead node's testaments) — and flushed by a
 * DISCONNECT. A persistent session outlives its connection, so when its connection is lost the
 * gateway publishes the will itself (after MQTT 5's Will Delay Interval, cancelled if the
 * session resumes first) and flushes the testament.
 */
import type { IConnectPacket } from 'mqtt-packet';
import { MessageType as T } from '../wamp/codes.js';
import type { Dict } from '../wamp/messages.js';
import type { MqttAttributes } from './event-wire.js';
import type { GatewayContext } from './gateway-context.js';
import { PayloadError, type WampContent } from './payload-mapping.js';
import { topicToUri } from './topics.js';

interface Will {
  readonly uri: string;
  readonly content: WampContent;
  readonly options: Dict;
  readonly delayMs: number;
}

export interface WillOwner {
  readonly session: number;
  readonly isOpen: boolean;
  ask(build: (request: number) => unknown[], reply: (msg: unknown[]) => void): void;
  nextRequest(): number;
  wamp(msg: unknown[]): void;
}

export class Wills {
  private readonly wills = new Map<WillOwner, Will>();
  private readonly timers = new Map<WillOwner, NodeJS.Timeout>();

  constructor(private readonly ctx: Pick<GatewayContext, 'mapping' | 'uriCheck' | 'log'>) {}

  /**
   * Registers the CONNECT's will as the session's testament; resolves to an error message when it
   * cannot be (topic not mappable or not allowed), undefined when done or when there is no will.
   */
  async register(owner: WillOwner, will: IConnectPacket['will']): Promise<string | undefined> {
    this.cancel(owner);
    if (!will) return undefined;
    const uri = topicToUri(will.topic, this.ctx.uriCheck);
    if (uri === undefined) return `will topic ${JSON.stringify(will.topic)} is not a WAMP URI`;
    const format = this.ctx.mapping.formatFor(uri);
    if (format === undefined) return undefined;
    let content: WampContent;
    try {
      content = await this.ctx.mapping.fromMqtt(format, uri, will.topic, Buffer.from(will.payload));
    } catch (e) {
      if (e instanceof PayloadError) return `will payload: ${e.message}`;
      throw e;
    }
    const p = will.properties;
    const attributes: MqttAttributes = {
      ...(will.qos ? { qos: will.qos } : {}),
      ...(will.retain ? { retain: true } : {}),
      ...(p && Object.keys(p).some((k) => k !== 'willDelayInterval')
        ? { props: withoutDelay(p), ...(p.messageExpiryInterval !== undefined ? { at: Date.now() } : {}) }
        : {}),
    };
    const options: Dict = { ...(will.retain ? { retain: true } : {}), ...(Object.keys(attributes).length > 0 ? { _mqtt: attributes } : {}) };
    const r = content.receivers;
    if (r?.excludeAuthid) options.exclude_authid = r.excludeAuthid;
    if (r?.eligibleAuthid) options.eligible_authid = r.eligibleAuthid;
    const error = await new Promise<string | undefined>((resolve) => {
      owner.ask(
        (request) => [T.CALL, request, {}, 'wamp.session.add_testament', [uri, content.args ?? [], content.kwargs ?? {}], { publish_options: options }],
        (reply) => resolve(reply[0] === T.RESULT ? undefined : `the will could not be registered: ${String(reply[4])}`),
      );
    });
    if (error === undefined) this.wills.set(owner, { uri, content, options, delayMs: (p?.willDelayInterval ?? 0) * 1000 });
    return error;
  }

  /** A DISCONNECT without will (or a session that resumes): no will any more. */
  discard(owner: WillOwner): void {
    this.cancel(owner);
    if (this.wills.delete(owner)) this.flush(owner);
  }

  /** A persistent session lost its connection: the will goes out now or after its delay. */
  offline(owner: WillOwner): void {
    const will = this.wills.get(owner);
    if (!will) return;
    this.wills.delete(owner);
    this.flush(owner);
    const publish = () => {
      this.timers.delete(owner);
      if (!owner.isOpen) return;
      const { args, kwargs } = will.content;
      const tail = kwargs !== undefined ? [args ?? [], kwargs] : args !== undefined ? [args] : [];
      owner.wamp([T.PUBLISH, owner.nextRequest(), { ...will.options, exclude_me: false }, will.uri, ...tail]);
    };
    if (will.delayMs <= 0) return publish();
    const timer = setTimeout(publish, will.delayMs);
    timer.unref();
    this.timers.set(owner, timer);
  }

  /** The session resumed before its will's delay ran out: the will is not sent (MQTT 5 §3.1.3.2.2). */
  cancel(owner: WillOwner): void {
    clearTimeout(this.timers.get(owner));
    this.timers.delete(owner);
  }

  /** The session is over. */
  forget(owner: WillOwner): void {
    this.cancel(owner);
    this.wills.delete(owner);
  }

  private flush(owner: WillOwner): void {
    if (owner.isOpen) owner.ask((request) => [T.CALL, request, {}, 'wamp.session.flush_testaments', [], {}], () => undefined);
  }
}

function withoutDelay(p: NonNullable<NonNullable<IConnectPacket['will']>['properties']>): Dict {
  const { willDelayInterval: _, ...rest } = p;
  return rest;
}
