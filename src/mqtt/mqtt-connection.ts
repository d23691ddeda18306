/**
 * One MQTT network connection: packet framing and parsing (`mqtt-packet`), the CONNECT that must
 * come first and only once, keep-alive (no packet for 1.5 × Keep Alive closes, MQTT-3.1.2-24),
 * MQTT 5 topic aliases from the client, and every protocol error answered as the spec says —
 * CONNACK 0x01 for an unsupported protocol level, DISCONNECT with a reason code (MQTT 5), then a
 * close — without touching any other connection. Established traffic goes to its MqttSession.
 */
import mqttPacket, { type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';
import type { Logger } from 'pino';
import { ConnectReturn, Reason } from './codes.js';
import { connectLevel, PacketFramer } from './framer.js';
import type { Link } from './link.js';
import { readSimplePublish } from './publish-parse.js';
import type { ProtocolVersion } from './publish-packet.js';

/** What the connection hands its packets to (the gateway before CONNECT, a session after). */
export interface ConnectionOwner {
  connect(conn: MqttConnection, packet: IConnectPacket): void;
}

export interface EstablishedHandler {
  packet(packet: Packet): void;
  /** The network connection is gone (by the peer or by us); `graceful`: after a DISCONNECT. */
  linkClosed(conn: MqttConnection, graceful: boolean): void;
}

/** Packets a client may send after CONNECT before CONNACK; more closes the connection. */
const MAX_EARLY_PACKETS = 64;

/** Inbound topic aliases a client may use (announced in CONNACK as Topic Alias Maximum). */
export const TOPIC_ALIAS_MAXIMUM = 64;

export class MqttConnection {
  /** Protocol level from CONNECT: 3 (3.1), 4 (3.1.1) or 5. */
  level: 3 | 4 | 5 = 4;
  private state: 'connect' | 'waiting' | 'open' | 'closed' = 'connect';
  private readonly framer: PacketFramer;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private handler: EstablishedHandler | undefined;
  private keepAliveMs = 0;
  private lastPacket = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly aliases = new Map<number, string>();
  /** A DISCONNECT arrived: the close is the client's normal end. */
  private graceful = false;
  private parsed: Packet | undefined;
  /** Packets that came after CONNECT, before the session took the connection. */
  private early: Packet[] = [];
  private parseError: string | undefined;

  constructor(
    readonly link: Link,
    private readonly owner: ConnectionOwner,
    maxPacketSize: number,
    connectTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.framer = new PacketFramer(maxPacketSize);
    this.parser.on('packet', (p: Packet) => (this.parsed = p));
    this.parser.on('error', (e: Error) => (this.parseError = e.message));
    link.onData((chunk) => this.receive(chunk));
    link.onClose(() => this.closed());
    // [MQTT-3.1.4-?]: a connection that sends no CONNECT in reasonable time is closed.
    this.timer = setTimeout(() => {
      if (this.state === 'connect' || this.state === 'waiting') this.fail('no CONNECT within the handshake timeout');
    }, connectTimeoutMs);
    this.timer.unref();
  }

  /** The protocol version outgoing PUBLISH packets are built for. */
  get version(): ProtocolVersion {
    return this.level === 5 ? 5 : 4;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastPacket = Date.now();
    const err = this.framer.push(chunk, (bytes) => this.onBytes(bytes));
    if (err && !this.isClosed) {
      this.protocolError(err.error === 'too-large' ? Reason.packetTooLarge : Reason.malformedPacket, err.message);
    }
  }

  /** One whole packet; false stops the framer (the connection is closing). */
  private onBytes(bytes: Buffer): boolean {
    if (this.state === 'closed') return false;
    if (this.state === 'connect') {
      // MQTT-3.1.0-1: the first packet must be CONNECT.
      if ((bytes[0]! >> 4) !== 1) return this.fail('the first packet must be CONNECT'), false;
      const level = connectLevel(bytes);
      if (level !== undefined && level !== 3 && level !== 4 && level !== 5) {
        // MQTT-3.1.2-2: unsupported level → CONNACK 0x01, then close (in the 3.1.1 form the client can read).
        this.link.writePacket(Buffer.from([0x20, 0x02, 0x00, ConnectReturn.unacceptableProtocolVersion]));
        return this.fail(`unsupported protocol level ${level}`), false;
      }
    } else if ((bytes[0]! >> 4) === 1) {
      // MQTT-3.1.0-2: a second CONNECT is a protocol violation.
      return this.protocolError(Reason.protocolError, 'second CONNECT'), false;
    }
    if (this.state === 'open') {
      const publish = readSimplePublish(bytes, this.level === 5);
      if (publish) {
        this.handle(publish);
        return !this.isClosed;
      }
    }
    this.parsed = undefined;
    this.parseError = undefined;
    this.parser.parse(bytes);
    const packet = this.parsed as Packet | undefined;
    if (this.parseError !== undefined || packet === undefined) {
      this.protocolError(Reason.malformedPacket, `malformed packet: ${this.parseError ?? 'incomplete'}`);
      return false;
    }
    if (this.state === 'connect') {
      this.start(packet as IConnectPacket);
      return !this.isClosed;
    }
    if (this.state === 'waiting') {
      // A client need not wait for CONNACK (MQTT 3.1.1 §3.1.4): its packets wait for the session.
      if (this.early.length >= MAX_EARLY_PACKETS) return this.fail('too many packets before CONNACK'), false;
      this.early.push(packet);
      return true;
    }
    this.handle(packet);
    return !this.isClosed;
  }

  private handle(packet: Packet): void {
    if (packet.cmd === 'publish' && !this.resolveAlias(packet)) return;
    if (packet.cmd === 'disconnect') this.graceful = true;
    try {
      this.handler?.packet(packet);
    } catch (e) {
      // A gateway bug ends this connection only, never the process (this runs in a socket callback).
      this.log.error({ err: e, remote: this.link.peer.remoteAddress }, 'internal error while handling an MQTT packet');
      this.protocolError(Reason.implementationSpecificError, 'internal error');
    }
  }

  private start(packet: IConnectPacket): void {
    this.level = (packet.protocolVersion ?? 4) as 3 | 4 | 5;
    this.state = 'waiting';
    this.keepAliveMs = (packet.keepalive ?? 0) * 1000;
    try {
      this.owner.connect(this, packet);
    } catch (e) {
      this.log.error({ err: e, remote: this.link.peer.remoteAddress }, 'internal error while handling CONNECT');
      this.protocolError(Reason.implementationSpecificError, 'internal error');
    }
  }

  /** The session took the connection: established packets go to `handler` from now on. */
  open(handler: EstablishedHandler): void {
    if (this.state === 'closed') return;
    this.handler = handler;
    this.state = 'open';
    clearTimeout(this.timer);
    const early = this.early;
    this.early = [];
    for (const p of early) if (this.isOpen) this.handle(p);
    if (this.keepAliveMs > 0 && this.isOpen) {
      const limit = this.keepAliveMs * 1.5;
      this.timer = setInterval(() => {
        if (Date.now() - this.lastPacket > limit) this.protocolError(Reason.keepAliveTimeout, 'keep-alive timeout');
      }, Math.min(limit / 4, 5000));
      this.timer.unref();
    }
  }

  /** MQTT 5 §3.3.2.3.4: a Topic Alias names the topic for the rest of this connection. */
  private resolveAlias(p: IPublishPacket): boolean {
    const alias = p.properties?.topicAlias;
    if (alias === undefined) {
      if (p.topic === '') return this.protocolError(Reason.protocolError, 'PUBLISH without a topic'), false;
      return true;
    }
    if (this.level !== 5 || alias === 0 || alias > TOPIC_ALIAS_MAXIMUM) {
      return this.protocolError(Reason.topicAliasInvalid, `topic alias ${alias} out of range`), false;
    }
    if (p.topic !== '') this.aliases.set(alias, p.topic);
    else {
      const t = this.aliases.get(alias);
      if (t === undefined) return this.protocolError(Reason.protocolError, `unknown topic alias ${alias}`), false;
      p.topic = t;
    }
    return true;
  }

  /**
   * Encodes and writes a control packet. It counts against the out-buffer bound like any write: a
   * client that keeps asking (PINGREQ, SUBSCRIBE, …) while not reading the answers is cut off.
   */
  send(packet: Packet): void {
    if (this.state === 'closed') return;
    if (this.link.admit(false) !== 'write') {
      this.log.debug({ remote: this.link.peer.remoteAddress }, 'MQTT client does not read its answers: outgoing buffer over its bound');
      this.state = 'closed';
      clearTimeout(this.timer);
      clearInterval(this.timer);
      this.link.destroy();
      this.notify();
      return;
    }
    this.link.writePacket(mqttPacket.generate(packet, { protocolVersion: this.level }));
  }

  /**
   * A protocol error: MQTT 5 says which with DISCONNECT and its reason code (MQTT-4.13.1-1), MQTT
   * 3.1.1 only closes (MQTT-4.8.0-1). Before CONNACK, 5 answers with CONNACK instead.
   */
  protocolError(reason: number, message: string): void {
    if (this.state === 'closed') return;
    if (this.level === 5) {
      if (this.state === 'open') this.send({ cmd: 'disconnect', reasonCode: reason, properties: { reasonString: message } });
      else if (this.state === 'waiting' || this.state === 'connect') {
        this.send({ cmd: 'connack', reasonCode: reason, sessionPresent: false, properties: { reasonString: message } });
      }
    }
    this.log.debug({ remote: this.link.peer.remoteAddress, message }, 'MQTT protocol error');
    this.end();
  }

  /** A server-side DISCONNECT (MQTT 5 only; 3.1.1 has none), then close. */
  disconnect(reason: number, message?: string): void {
    if (this.level === 5) this.send({ cmd: 'disconnect', reasonCode: reason, ...(message ? { properties: { reasonString: message } } : {}) });
    this.end();
  }

  private fail(message: string): void {
    this.log.debug({ remote: this.link.peer.remoteAddress, message }, 'MQTT connection refused');
    this.end();
  }

  /** Closes after what is queued (the CONNACK or DISCONNECT that says why leaves first). */
  end(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.link.end();
    this.notify();
  }

  private closed(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      clearTimeout(this.timer);
      clearInterval(this.timer);
    }
    this.notify();
  }

  private notified = false;

  private notify(): void {
    if (this.notified) return;
    this.notified = true;
    try {
      this.handler?.linkClosed(this, this.graceful);
      this.waitingAbandoned?.();
    } catch (e) {
      this.log.error({ err: e, remote: this.link.peer.remoteAddress }, 'internal error while closing an MQTT connection');
    }
  }

  /** Set by the gateway while CONNECT is being authenticated: the link went away meanwhile. */
  waitingAbandoned: (() => void) | undefined;
}
