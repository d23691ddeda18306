/**
 * The connection port: all the router knows of a peer's connection, whatever carries it. The
 * transports implement it (`transports/`), the router consumes it (`router/`); neither imports the
 * other.
 */
import type { Serializer } from '../serializers/serializer.js';
import type { Outgoing } from './outgoing.js';
import type { PeerInfo } from './peer.js';

export type SendResult = 'sent' | 'dropped' | 'closed';

/** Why a connection ended, for logs and statistics. */
export interface CloseCause {
  /** A close code (`close-codes.ts`). */
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

/**
 * Told the size of each whole message in and out, unframed (a realm's `stats`:
 * router/meta/session-stats.ts). Called synchronously; it may publish.
 */
export interface TrafficObserver {
  received(bytes: number): void;
  sent(bytes: number): void;
}

export interface Connection {
  readonly id: number;
  readonly serializer: Serializer;
  readonly peer: PeerInfo;
  /** Events dropped for this connection by the slow-consumer policy. */
  readonly dropped: number;
  /** Whole messages and their bytes each way, for statistics (zero unless counted). */
  readonly messagesIn: number;
  readonly bytesIn: number;
  readonly messagesOut: number;
  readonly bytesOut: number;
  /**
   * Bytes queued for the peer and not yet taken by its network (the out-buffer); undefined for a
   * connection without one (in-process peers).
   */
  readonly queuedBytes?: number;
  /**
   * The session `session` was joined (WELCOME follows): the connection's outgoing bound becomes
   * the session's; before, a connection gets only its handshake's (and a few frames') worth.
   */
  joined?(session: number): void;
  /**
   * Tell `observer` of every message from now on (undefined: stop). Connections without it
   * (in-process peers) have no per-session statistics.
   */
  observe?(observer: TrafficObserver | undefined): void;
  /**
   * Ask the peer to reconnect, to another node (balancing: cluster.shed), in its protocol's terms;
   * without it the connection is closed with going-away (WebSocket 1001), which stock clients
   * take as a cue to reconnect.
   */
  move?(reason: string): void;
  /** Start delivering messages to the handler (nothing is delivered before). */
  attach(handler: ConnectionHandler): void;
  /**
   * Enqueues the message. A control message (`droppable: false`, e.g. RESULT, WELCOME) is never
   * dropped: if the connection may not take it, the connection is closed instead.
   */
  send(msg: Outgoing, droppable: boolean): SendResult;
  /** Bytes this transport's frame header takes before a message of `length` bytes. */
  headroom(length: number): number;
  /**
   * Sends a control message encoded after `headroom(length)` free bytes (a serializer's
   * `encodeSpliced`): the header is written there, so the message is not copied again to be framed.
   */
  sendInPlace(framed: Buffer): SendResult;
  /** Closes after flushing what is queued, with a close code (`close-codes.ts`). */
  close(code: number, reason: string): void;
}
