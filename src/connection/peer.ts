/** What the router (and its authenticators) may know of the peer behind a connection. */
import type { TrackingCookie } from './tracking-cookie.js';

/**
 * How the peer's messages are framed: a network transport (`longpoll`: WAMP over HTTP requests; `mqtt`: a session the MQTT gateway
 * speaks for, whatever carries its packets), or `native` for an in-process peer
 * (a router component, the relay's WAMP bridge), as Crossbar.io's TransportDetails names the
 * framing of its router-embedded sessions (CHANNEL_FRAMING_NATIVE).
 */
export type PeerFraming = 'websocket' | 'rawsocket' | 'longpoll' | 'mqtt' | 'native';

export interface PeerInfo {
  readonly transport: PeerFraming;
  /** The peer's IP address, `unix` on a Unix socket, `local:<name>` for an in-process peer. */
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly userAgent?: string;
  /** TLS when the connection is encrypted. */
  readonly secure: boolean;
  /** What the TLS handshake established (encrypted TCP connections only; see `transports/tls.ts`). */
  readonly tls?: TlsPeerInfo;
  /**
   * The cookie a WebSocket connection was upgraded with, when its transport tracks cookies
   * (Crossbar.io's TransportDetails.http_cbtid is its id).
   */
  readonly cookie?: TrackingCookie;
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
