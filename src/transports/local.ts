/**
 * An in-process connection pair: the router side is an ordinary Connection, the other side is
 * handed to an in-process WAMP client (relay bridge, router components). Messages cross as
 * MessagePack bytes, so the router treats local sessions exactly like remote ones. Delivery is
 * asynchronous (queued to a microtask), as over a socket, so no handler runs re-entrantly.
 */
import { serializerById } from '../serializers/index.js';
import type { Serializer } from '../serializers/serializer.js';
import { CloseCode } from '../connection/close-codes.js';
import type { CloseCause, Connection, ConnectionHandler, SendResult } from '../connection/connection.js';
import { Outgoing } from '../connection/outgoing.js';
import type { PeerInfo } from '../connection/peer.js';
import { nextConnectionId } from './connection-id.js';

export interface LocalPeerEnd {
  send(message: readonly unknown[]): void;
  onMessage(fn: (message: unknown) => void): void;
  onClose(fn: (cause: CloseCause) => void): void;
  close(): void;
}

class LocalConnection implements Connection {
  readonly id = nextConnectionId();
  readonly serializer: Serializer = serializerById('msgpack')!;
  readonly peer: PeerInfo;
  readonly dropped = 0;
  // In-process traffic is not network traffic: not counted.
  readonly messagesIn = 0;
  readonly bytesIn = 0;
  readonly messagesOut = 0;
  readonly bytesOut = 0;
  handler: ConnectionHandler | undefined;
  closed = false;
  toClient: ((message: unknown) => void) | undefined;
  clientClosed: ((cause: CloseCause) => void) | undefined;

  constructor(name: string) {
    // In-process: no network channel, so nothing is encrypted either.
    this.peer = { transport: 'native', remoteAddress: `local:${name}`, secure: false };
  }

  attach(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  send(msg: Outgoing): SendResult {
    if (this.closed) return 'closed';
    const decoded = (msg.message && plainCopy(msg.message)) ?? this.serializer.decode(msg.bytes);
    queueMicrotask(() => this.toClient?.(decoded));
    return 'sent';
  }

  headroom(): number {
    return 0;
  }

  sendInPlace(framed: Buffer): SendResult {
    return this.send(new Outgoing(framed, this.serializer.binary));
  }

  close(code: number, reason: string): void {
    this.end({ code, reason, byPeer: false });
  }

  end(cause: CloseCause): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => {
      this.handler?.closed(cause);
      this.clientClosed?.(cause);
    });
  }
}

/**
 * A copy of a message whose elements are all integers, booleans, null or well-formed strings (the
 * PUBLISHED, SUBSCRIBED, REGISTERED… a bridge service gets per request): exactly what its
 * MessagePack round trip would decode to, without the round trip. Undefined for anything else.
 */
function plainCopy(message: readonly unknown[]): unknown[] | undefined {
  for (const v of message) {
    if (typeof v === 'number' ? !Number.isSafeInteger(v) || Object.is(v, -0) : typeof v === 'string' ? !v.isWellFormed() : typeof v !== 'boolean' && v !== null) return undefined;
  }
  return message.slice();
}

export function localConnectionPair(name: string): { router: Connection; client: LocalPeerEnd } {
  const conn = new LocalConnection(name);
  const client: LocalPeerEnd = {
    send: (message) => {
      if (conn.closed) return;
      const decoded = conn.serializer.decode(conn.serializer.encode(message));
      queueMicrotask(() => conn.handler?.message(decoded));
    },
    onMessage: (fn) => {
      conn.toClient = fn;
    },
    onClose: (fn) => {
      conn.clientClosed = fn;
    },
    close: () => conn.end({ code: CloseCode.normal, reason: 'local client closed', byPeer: true }),
  };
  return { router: conn, client };
}
