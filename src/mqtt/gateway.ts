/**
 * The MQTT gateway of one transport: takes accepted sockets (TCP, TLS, or a WebSocket with
 * subprotocol `mqtt`; a `universal` listener hands over its MQTT sockets the same way), and turns
 * each CONNECT into a WAMP session on the transport's realm, authenticated by the transport's
 * `auth` like any WAMP session. It keeps the client-id → session table: a second connection with
 * a client id takes the session over (MQTT-3.1.4-2), and a persistent session is resumed when
 * the same authid and authrole reconnect without Clean Session / Clean Start.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { IConnectPacket } from 'mqtt-packet';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Router } from '../router/router.js';
import type { SessionOptions } from '../router/session.js';
import { serializerById } from '../serializers/index.js';
import type { ConnectionLimits } from '../transports/limits.js';
import { socketOf } from '../transports/ws-socket.js';
import type { UriCheck } from '../wamp/uri.js';
import { ConnectReturn, Reason, refusal } from './codes.js';
import { mqttWire } from './event-wire.js';
import { type GatewayContext, type GatewayLimits, SharedGroups, TopicRegistry } from './gateway-context.js';
import { TcpLink, WsLink, type Link } from './link.js';
import { MqttConnection, TOPIC_ALIAS_MAXIMUM } from './mqtt-connection.js';
import { MqttSession } from './mqtt-session.js';
import { type CodecCaller, type PayloadFormat, PayloadMapping } from './payload-mapping.js';
import { TopicNames } from './topics.js';
import { HeldBytes, OfflineSessions } from './held.js';
import { Wills } from './wills.js';

export interface MqttGatewayOptions extends ConnectionLimits, GatewayLimits {
  readonly realm: string;
  readonly uriCheck: UriCheck;
  readonly payloadMapping: ReadonlyMap<string, PayloadFormat>;
  /** Largest packet accepted, bytes (announced as Maximum Packet Size to MQTT 5 clients). */
  readonly maxPacketSize: number;
  /** ms to wait for CONNECT and its authentication. */
  readonly connectTimeout: number;
  /** Seconds an offline persistent session is kept: 3.1.1's, and the cap on MQTT 5's Session Expiry Interval. */
  readonly sessionExpiry: number;
}

export interface GatewayDeps {
  readonly router: Router;
  readonly session: SessionOptions;
  readonly codecs?: CodecCaller;
  readonly log: Logger;
}

export class MqttGateway {
  private readonly ctx: GatewayContext;
  private readonly sessions = new Map<string, MqttSession>();

  constructor(private readonly options: MqttGatewayOptions, private readonly deps: GatewayDeps) {
    const log = deps.log.child({ component: 'mqtt' });
    const mapping = new PayloadMapping(options.payloadMapping, options.realm, deps.codecs);
    const topics = new TopicRegistry();
    this.ctx = {
      realm: options.realm,
      uriCheck: options.uriCheck,
      topicNames: new TopicNames(options.uriCheck),
      mapping,
      wire: mqttWire(serializerById('msgpack')!, mapping, topics, log),
      topics,
      groups: new SharedGroups(),
      wills: new Wills({ mapping, uriCheck: options.uriCheck, log }),
      limits: {
        maxQueuedBytes: options.maxQueuedBytes, maxInflight: options.maxInflight,
        maxQueuedBytesTotal: options.maxQueuedBytesTotal, maxOfflineSessions: options.maxOfflineSessions,
      },
      held: new HeldBytes(options.maxQueuedBytesTotal),
      offline: new OfflineSessions(options.maxOfflineSessions),
      log,
      publishing: undefined,
    };
  }

  /** MQTT sessions of this transport, online or not. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Whether the session of `clientId` has a connection now; undefined when there is no such session. */
  online(clientId: string): boolean | undefined {
    return this.sessions.get(clientId)?.online;
  }

  /** An accepted TCP or TLS socket (a universal listener's too: `head` holds bytes it read already). */
  accept(socket: Socket, head?: Buffer): void {
    this.start(new TcpLink(socket, this.options));
    if (head && head.length > 0) socket.unshift(head);
  }

  /** A WebSocket accepted with subprotocol `mqtt`. */
  acceptWebSocket(ws: WebSocket, req: IncomingMessage): void {
    this.start(new WsLink(ws, socketOf(ws), this.options, req.headers['user-agent']));
  }

  private start(link: Link): void {
    new MqttConnection(link, this, this.options.maxPacketSize, this.options.connectTimeout, this.ctx.log);
  }

  /** A CONNECT: authenticate it as a WAMP session (HELLO …), then CONNACK. */
  connect(conn: MqttConnection, p: IConnectPacket): void {
    const v5 = conn.level === 5;
    if (p.properties?.authenticationMethod !== undefined) {
      // MQTT 5 enhanced authentication (AUTH packets) is not offered.
      return this.refuse(conn, Reason.badAuthenticationMethod, 'enhanced authentication is not supported');
    }
    let clientId = p.clientId;
    let assigned = false;
    if (clientId === '') {
      // MQTT-3.1.3-8: 3.1.1 assigns an id only to a clean session.
      if (!v5 && !p.clean) return this.refuse(conn, ConnectReturn.identifierRejected, 'empty client id needs a clean session');
      clientId = `xbar-${randomBytes(8).toString('hex')}`;
      assigned = true;
    }
    const max = this.options.sessionExpiry;
    const asked = v5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean ? 0 : max;
    const expiry = Math.min(asked, max);
    const s = new MqttSession(clientId, conn, this.ctx);
    conn.waitingAbandoned = () => s.end('connection closed before CONNACK');
    s.onAbort = (reason, message, details) => {
      const hadCredentials = p.username !== undefined;
      const lighterNode = Array.isArray(details.urls) && details.urls.length > 0;
      this.refuse(conn, refusal(reason, conn.level, hadCredentials, lighterNode), message || reason);
    };
    s.onWelcome = () => {
      this.welcomed(s, conn, p, { clientId, assigned, expiry, capped: asked !== expiry }).catch((e: unknown) => {
        // Not awaited by anyone: a bug here must end this connection, not the process.
        this.ctx.log.error({ err: e, clientId }, 'internal error while accepting an MQTT connection');
        conn.protocolError(Reason.implementationSpecificError, 'internal error');
      });
    };
    this.deps.router.attach(s, this.deps.session);
    s.hello(p);
  }

  private async welcomed(
    s: MqttSession, conn: MqttConnection, p: IConnectPacket,
    id: { clientId: string; assigned: boolean; expiry: number; capped: boolean },
  ): Promise<void> {
    const v5 = conn.level === 5;
    const old = this.sessions.get(id.clientId);
    let live = s;
    let present = false;
    if (old && old !== s) {
      // MQTT-3.1.4-2: the existing connection of this client id is closed.
      if (old.online) old.conn!.disconnect(Reason.sessionTakenOver, 'another connection took this session over');
      if (!p.clean && old.persistent && old.isOpen && sameClient(old, s)) {
        // Resume: the session that authenticated this connection leaves; the persistent one goes on.
        live = old;
        present = true;
        s.conn = undefined;
        s.end('resumed a persistent session');
      } else {
        old.end('replaced by a new session of the same client id');
      }
    }
    live.persistent = id.expiry > 0;
    live.expiryMs = id.expiry * 1000;
    this.sessions.set(id.clientId, live);
    live.onEnded = () => {
      if (this.sessions.get(id.clientId) === live) this.sessions.delete(id.clientId);
      this.ctx.wills.forget(live);
    };
    conn.waitingAbandoned = present ? undefined : () => live.end('connection closed before CONNACK');
    const error = await this.ctx.wills.register(live, p.will);
    if (conn.isClosed) return;
    if (error !== undefined) {
      // CONNACK first: ending the session closes its connection.
      this.refuse(conn, v5 ? Reason.notAuthorized : ConnectReturn.notAuthorized, error);
      if (!present) live.end(error);
      return;
    }
    conn.waitingAbandoned = undefined;
    conn.send({
      cmd: 'connack',
      sessionPresent: present,
      ...(v5 ? { reasonCode: 0 } : { returnCode: 0 }),
      ...(v5 ? {
        properties: {
          topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
          maximumPacketSize: this.options.maxPacketSize,
          retainAvailable: true,
          wildcardSubscriptionAvailable: true,
          sharedSubscriptionAvailable: true,
          subscriptionIdentifiersAvailable: false,
          ...(id.assigned ? { assignedClientIdentifier: id.clientId } : {}),
          ...(id.capped ? { sessionExpiryInterval: id.expiry } : {}),
        },
      } : {}),
    });
    const window = Math.min(v5 ? (p.properties?.receiveMaximum ?? 65535) : 65535, this.options.maxInflight);
    live.take(conn);
    live.outbox.resume(window);
  }

  /** CONNACK with a refusal, then close (MQTT-3.2.2-5). */
  private refuse(conn: MqttConnection, code: number, message: string): void {
    if (conn.isClosed) return;
    if (conn.level === 5) conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: code, properties: { reasonString: message } });
    else conn.send({ cmd: 'connack', sessionPresent: false, returnCode: code });
    this.ctx.log.info({ remote: conn.link.peer.remoteAddress, code, message }, 'MQTT connection refused');
    conn.end();
  }
}

/**
 * Whether a new connection may resume `old`: the same principal (anonymous clients, whose authid
 * is random, are told apart by their client id alone) in the same role.
 */
function sameClient(old: MqttSession, s: MqttSession): boolean {
  if (old.authrole !== s.authrole || old.authmethod !== s.authmethod) return false;
  return s.authmethod === 'anonymous' || old.authid === s.authid;
}
