import type { Serializer } from '../serializers/serializer.js';

/** What the router may know of the peer behind a connection. */
export interface PeerInfo {
  readonly transport: 'websocket' | 'rawsocket';
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly userAgent?: string;
  /** TLS when the connection is encrypted. */
  readonly secure: boolean;
  /** What the TLS handshake established (encrypted TCP connections only; see `tls.ts`). */
  readonly tls?: TlsPeerInfo;
}

/** A client certificate as the router sees it after the TLS handshake. */
export interface PeerCertificate {
  /** Fingerprints as uppercase hex without colons. */
  readonly sha1: string;
  readonly sha256: string;
  readonly subject: Readonly<Record<string, string>>;
  readonly issuer: Readonly<Record<string, string>>;
  /** Verified against the endpoint's `ca_certificates`. */
  readonly authorized: boolean;
}

export interface TlsPeerInfo {
  /** Negotiated protocol, e.g. "TLSv1.2" or "TLSv1.3". */
  readonly protocol: string;
  /**
   * RFC 5929 `tls-unique`: the first Finished message of the handshake. Undefined on TLS 1.3,
   * which does not define it (RFC 8446, appendix C.5).
   */
  readonly tlsUnique?: Buffer;
  /**
   * The other Finished message of the handshake (TLS 1.2). Autobahn|Python on Twisted, and
   * Crossbar.io as a router, take the server's Finished message as tls-unique where the RFC (and
   * Python's ssl module, under Autobahn's asyncio flavour) take the client's; both are unique to
   * this connection, so a binding to either still pins a signature to it.
   */
  readonly otherFinished?: Buffer;
  readonly peerCertificate?: PeerCertificate;
}

/**
 * Bytes to send, with a cache of their transport framing, so that the same message sent to many
 * connections is framed once per transport kind and the same buffers are written to every socket.
 */
export class Outgoing {
  /** Framing caches, one per transport kind, filled by the first connection of that kind that sends it. */
  websocketFrames: readonly Buffer[] | undefined = undefined;
  rawsocketFrames: readonly Buffer[] | undefined = undefined;
  constructor(readonly bytes: Uint8Array, readonly binary: boolean) {}
}

export type SendResult = 'sent' | 'dropped' | 'closed';

/** Why a connection ended, for logs and statistics. */
export interface CloseCause {
  readonly code: number;
  readonly reason: string;
  /** True when the peer went away (or the socket failed) rather than the router closing it. */
  readonly byPeer: boolean;
}

export interface ConnectionHandler {
  /**
   * One decoded message (not yet validated) and the bytes it was decoded from, valid only during
   * this call (they may be a view of the transport's read buffer).
   */
  message(msg: unknown, bytes?: Uint8Array): void;
  /** The bytes could not be decoded by the serializer. */
  malformed(error: Error): void;
  closed(cause: CloseCause): void;
}

/** All the router knows of a socket. */
export interface Connection {
  readonly id: number;
  readonly serializer: Serializer;
  readonly peer: PeerInfo;
  /** Events dropped for this connection by the slow-consumer policy. */
  readonly dropped: number;
  /** Whole messages and their bytes each way, for statistics (zero unless `countTraffic`). */
  readonly messagesIn: number;
  readonly bytesIn: number;
  readonly messagesOut: number;
  readonly bytesOut: number;
  /** Start delivering messages to the handler (nothing is delivered before). */
  attach(handler: ConnectionHandler): void;
  /**
   * Enqueues the message. A control message (`droppable: false`, e.g. RESULT, WELCOME) is never
   * dropped: if the buffer is over its limit the connection is closed instead.
   */
  send(msg: Outgoing, droppable: boolean): SendResult;
  /** Bytes this transport's frame header takes before a message of `length` bytes. */
  headroom(length: number): number;
  /**
   * Sends a control message encoded after `headroom(length)` free bytes (a serializer's
   * `encodeSpliced`): the header is written there, so the message is not copied again to be framed.
   */
  sendInPlace(framed: Buffer): SendResult;
  /** Closes after flushing what is queued; `code` is a WebSocket close code (mapped for RawSocket). */
  close(code: number, reason: string): void;
}

export type SlowConsumerPolicy = 'drop' | 'disconnect';

export interface ConnectionLimits {
  /** Largest incoming message in bytes. */
  readonly maxMessageSize: number;
  /** High-water mark of the outgoing buffer in bytes. */
  readonly maxOutBuffer: number;
  readonly slowConsumer: SlowConsumerPolicy;
  /** Count messages and bytes each way (statistics on); two integer additions per message. */
  readonly countTraffic?: boolean;
}
