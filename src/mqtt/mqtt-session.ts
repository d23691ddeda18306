/**
 * One MQTT session as a WAMP session. Towards the router it is a Connection (the router sees a
 * peer, never MQTT): the gateway speaks WAMP for the client — HELLO from CONNECT, SUBSCRIBE per
 * topic filter, PUBLISH per PUBLISH (acknowledged at QoS ≥ 1, so PUBACK means the router has
 * it), the will as a testament — and turns the router's EVENTs into PUBLISH packets built once
 * for all receivers (`event-wire.ts`).
 *
 * Delivery: in order per session; QoS 0 at most once; QoS 1 at least once: unacknowledged
 * packets are resent with DUP after a reconnect, and while a persistent session is offline its
 * QoS 1 messages wait in a queue bounded in bytes (over the bound new ones are dropped and
 * counted). At most Receive Maximum QoS 1 packets are in flight (MQTT 5 §4.9).
 */
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { CloseCode } from '../connection/close-codes.js';
import type { CloseCause, Connection, ConnectionHandler, SendResult } from '../connection/connection.js';
import { Outgoing } from '../connection/outgoing.js';
import type { PeerInfo } from '../connection/peer.js';
import { serializerById } from '../serializers/index.js';
import { nextConnectionId } from '../transports/connection-id.js';
import { MessageType as T } from '../wamp/codes.js';
import { CloseUri } from '../wamp/errors.js';
import type { Dict } from '../wamp/messages.js';
import { Reason } from './codes.js';
import type { GatewayContext } from './gateway-context.js';
import type { EstablishedHandler, MqttConnection } from './mqtt-connection.js';
import { Outbox } from './outbox.js';
import { InboundPublisher } from './inbound.js';
import { Subscriber } from './subscriber.js';
import type { SubscriptionTable } from './subscriptions.js';

const msgpack = serializerById('msgpack')!;

type Reply = (msg: unknown[]) => void;

export class MqttSession implements Connection, EstablishedHandler {
  readonly id = nextConnectionId();
  readonly serializer = msgpack;
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  /** WAMP session id, authid and authrole once welcomed. */
  session = 0;
  authid = '';
  authrole = '';
  authmethod = '';
  persistent = false;
  /** ms an offline persistent session is kept. */
  expiryMs = 0;
  conn: MqttConnection | undefined;
  readonly subscriber: Subscriber;
  readonly outbox: Outbox;
  private readonly inbound: InboundPublisher;
  private handler: ConnectionHandler | undefined;
  private lastPeer: PeerInfo;
  private state: 'hello' | 'open' | 'closed' = 'hello';
  private request = 0;
  private readonly replies = new Map<number, Reply>();
  private expiry: NodeJS.Timeout | undefined;
  /** Our GOODBYE is on its way: the router's GOODBYE is its reply. */
  private leaving = false;
  /** Why the router ended the session (its GOODBYE reason), for the DISCONNECT reason code. */
  private goodbyeReason = '';
  /** Called once when the WAMP session is over. */
  onEnded: (() => void) | undefined;
  /** The answer to HELLO: WELCOME details, or the ABORT reason. */
  onWelcome: ((details: Dict) => void) | undefined;
  onAbort: ((reason: string, message: string, details: Dict) => void) | undefined;

  constructor(readonly clientId: string, conn: MqttConnection, readonly ctx: GatewayContext) {
    this.conn = conn;
    this.lastPeer = conn.link.peer;
    this.subscriber = new Subscriber(this, ctx);
    this.outbox = new Outbox(this, ctx);
    this.inbound = new InboundPublisher(this, ctx);
  }

  get peer(): PeerInfo {
    return this.lastPeer;
  }

  get dropped(): number {
    return this.outbox.dropped;
  }

  get subs(): SubscriptionTable {
    return this.subscriber.subs;
  }

  get online(): boolean {
    return this.conn?.isOpen === true;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  // ---- the router's side ----------------------------------------------------------------------

  attach(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  headroom(): number {
    return 0;
  }

  sendInPlace(framed: Buffer): SendResult {
    return this.control(framed);
  }

  send(msg: Outgoing, droppable: boolean): SendResult {
    if (this.state === 'closed') return 'closed';
    try {
      if (isEvent(msg)) return this.outbox.deliver(msg.framed(this.ctx.wire), droppable);
      return this.control(msg.message ?? msg.bytes);
    } catch (e) {
      // Called from the router's delivery loop: a gateway bug must not reach the publisher or
      // the other receivers.
      this.ctx.log.error({ err: e, session: this.session }, 'internal error while sending to an MQTT session');
      return 'dropped';
    }
  }

  close(code: number, reason: string): void {
    const why = this.goodbyeReason === CloseUri.systemShutdown ? Reason.serverShuttingDown
      : this.goodbyeReason === CloseUri.killed ? Reason.administrativeAction
        : code === CloseCode.goingAway ? Reason.serverShuttingDown : Reason.unspecifiedError;
    this.leave(code, reason, why);
  }

  /** MQTT 5: DISCONNECT "use another server" (0x9C); 3.1.1 has no DISCONNECT from the server: closed. */
  move(reason: string): void {
    this.leave(CloseCode.goingAway, reason, Reason.useAnotherServer);
  }

  private leave(code: number, reason: string, why: number): void {
    if (this.state === 'closed') return;
    this.ended({ code, reason, byPeer: false });
    const conn = this.conn;
    if (conn?.isOpen) conn.disconnect(why, this.goodbyeReason || reason);
    else conn?.end();
  }

  /** Hands a WAMP message to the router session. */
  wamp(msg: unknown[]): void {
    if (this.state !== 'closed') this.handler?.message(msg);
  }

  nextRequest(): number {
    return ++this.request;
  }

  /** A WAMP request whose answer (RESULT, SUBSCRIBED, PUBLISHED or ERROR) goes to `reply`. */
  ask(build: (request: number) => unknown[], reply: Reply): void {
    const request = ++this.request;
    this.replies.set(request, reply);
    this.wamp(build(request));
  }

  /** A message from the router other than an EVENT it delivers: as values, or MessagePack bytes. */
  private control(message: readonly unknown[] | Uint8Array): SendResult {
    let m: unknown = message;
    if (message instanceof Uint8Array) {
      try {
        m = msgpack.decode(message);
      } catch {
        return 'sent';
      }
    }
    if (!Array.isArray(m)) return 'sent';
    switch (m[0]) {
      case T.WELCOME: {
        this.session = Number(m[1]);
        const d = m[2] as Dict;
        this.authid = String(d.authid ?? '');
        this.authrole = String(d.authrole ?? '');
        this.authmethod = String(d.authmethod ?? '');
        this.state = 'open';
        this.onWelcome?.(d);
        break;
      }
      case T.ABORT: {
        const details = m[1] as Dict;
        this.onAbort?.(String(m[2]), String(details?.message ?? ''), details ?? {});
        break;
      }
      case T.CHALLENGE:
        // Ticket: the CONNECT's password (Crossbar.io: wamp.py process_connect).
        this.wamp([T.AUTHENTICATE, this.password ?? '', {}]);
        break;
      case T.GOODBYE:
        // The router ends the session (shutdown, kill): answer, then it closes us. (Not the
        // router's reply to our own GOODBYE.)
        if (!this.leaving) {
          // Once, and after the router's send returns (it is still sending its GOODBYE now).
          this.leaving = true;
          this.goodbyeReason = String(m[2]);
          queueMicrotask(() => this.wamp([T.GOODBYE, {}, 'wamp.close.goodbye_and_out']));
        }
        break;
      case T.EVENT:
        return this.outbox.deliver(this.ctx.wire.frame(message instanceof Uint8Array ? new Outgoing(message, true) : new Outgoing(undefined, true, message)), false);
      case T.ERROR:
        // [ERROR, REQUEST.Type, REQUEST.Request, …]
        this.answer(Number(m[2]), m);
        break;
      case T.PUBLISHED:
      case T.SUBSCRIBED:
      case T.UNSUBSCRIBED:
      case T.RESULT:
        this.answer(Number(m[1]), m);
        break;
    }
    return 'sent';
  }

  private answer(request: number, m: unknown[]): void {
    const reply = this.replies.get(request);
    if (!reply) return;
    this.replies.delete(request);
    reply(m);
  }

  // ---- the MQTT side --------------------------------------------------------------------------

  /** The CONNECT's password, answered to a ticket CHALLENGE. */
  password: string | undefined;

  /** Sends HELLO for the CONNECT (Crossbar.io: tls first when offered, then ticket or anonymous). */
  hello(packet: IConnectPacket): void {
    const methods: string[] = [];
    if (this.lastPeer.tls?.peerCertificate) methods.push('tls');
    const ticket = packet.username !== undefined && packet.password !== undefined;
    methods.push(ticket ? 'ticket' : 'anonymous');
    if (ticket) this.password = packet.password!.toString('utf8');
    const details: Dict = {
      roles: { publisher: { features: {} }, subscriber: { features: { pattern_based_subscription: true } }, caller: { features: {} } },
      authmethods: methods,
      authid: ticket ? packet.username : this.clientId,
      authextra: { mqtt: { client_id: this.clientId, will: packet.will !== undefined, will_topic: packet.will?.topic ?? null } },
    };
    this.wamp([T.HELLO, this.ctx.realm, details]);
  }

  /** The connection is this session's from now on (a new one, or a resumed persistent session's). */
  take(conn: MqttConnection): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    this.ctx.offline.delete(this);
    this.conn = conn;
    this.lastPeer = conn.link.peer;
    conn.open(this);
  }

  packet(p: Packet): void {
    const conn = this.conn!;
    this.messagesIn++;
    switch (p.cmd) {
      case 'publish':
        this.bytesIn += p.payload.length;
        return this.inbound.publish(conn, p as IPublishPacket);
      case 'puback':
        return this.outbox.acked(p.messageId ?? 0);
      case 'pubrel':
        return this.inbound.released(conn, p.messageId ?? 0);
      case 'subscribe':
        return this.subscriber.subscribe(conn, p);
      case 'unsubscribe':
        return this.subscriber.unsubscribe(conn, p);
      case 'pingreq':
        return conn.send({ cmd: 'pingresp' });
      case 'disconnect':
        // MQTT-3.14.4-3: a DISCONNECT discards the will, unless MQTT 5's 0x04 asks for it.
        if (p.reasonCode !== 0x04) this.ctx.wills.discard(this);
        conn.end();
        return;
      case 'pubrec':
      case 'pubcomp':
        // Never sent at QoS 2: nothing to acknowledge.
        return;
      default:
        return conn.protocolError(Reason.protocolError, `a client may not send ${p.cmd.toUpperCase()}`);
    }
  }

  linkClosed(conn: MqttConnection, graceful: boolean): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    if (this.state !== 'open') return this.end('connection closed');
    if (!this.persistent) {
      // The will, unless discarded, is the testament: published as the session leaves.
      return this.end(graceful ? 'disconnected' : 'connection lost');
    }
    this.ctx.wills.offline(this);
    this.outbox.wentOffline();
    if (this.expiryMs < 0xffffffff * 1000) {
      this.expiry = setTimeout(() => this.end('session expired'), this.expiryMs);
      this.expiry.unref();
    }
    this.ctx.offline.add(this);
  }

  /** Ends the WAMP session (GOODBYE): its testament, the will, is published unless discarded first. */
  end(reason: string): void {
    if (this.state === 'closed') return;
    clearTimeout(this.expiry);
    if (this.state === 'open') {
      this.leaving = true;
      this.wamp([T.GOODBYE, {}, 'wamp.close.normal']);
    }
    this.ended({ code: CloseCode.normal, reason, byPeer: true });
    this.conn?.end();
  }

  private ended(cause: CloseCause): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.expiry);
    this.ctx.offline.delete(this);
    this.subscriber.clear();
    this.replies.clear();
    this.outbox.clear();
    const handler = this.handler;
    this.handler = undefined;
    handler?.closed(cause);
    this.onEnded?.();
  }
}

/** [EVENT, …]: as values, or in MessagePack (a fixarray, then 36). */
function isEvent(msg: Outgoing): boolean {
  if (msg.message) return msg.message[0] === T.EVENT;
  const b = msg.bytes;
  return b[1] === T.EVENT && (b[0]! & 0xf0) === 0x90;
}
