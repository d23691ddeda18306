/**
 * TLS facts about an accepted connection, read once after the handshake: protocol, the
 * `tls-unique` channel binding (RFC 5929) and the client certificate.
 */
import type { TLSSocket } from 'node:tls';
import type { PeerCertificate, TlsPeerInfo } from '../connection/peer.js';

/** The peer info of an encrypted socket; undefined for a plain one. */
export function tlsPeerInfo(socket: unknown): TlsPeerInfo | undefined {
  const s = socket as Partial<TLSSocket>;
  if (s.encrypted !== true || typeof s.getProtocol !== 'function') return undefined;
  const tls = socket as TLSSocket;
  const protocol = tls.getProtocol() ?? 'unknown';
  const peerCertificate = certificateOf(tls);
  const finished = protocol === 'TLSv1.3' ? undefined : finishedOf(tls);
  return {
    protocol,
    ...(finished === undefined ? {} : finished),
    ...(peerCertificate === undefined ? {} : { peerCertificate }),
  };
}

/** `{ tls }` for an encrypted socket, `{}` for a plain one (to spread into a PeerInfo). */
export function withTls(socket: unknown): { tls?: TlsPeerInfo } {
  const tls = tlsPeerInfo(socket);
  return tls === undefined ? {} : { tls };
}

/**
 * RFC 5929 §3.1: tls-unique is the first Finished message of the most recent handshake: the
 * client's in a full handshake (the one a server receives), the server's in an abbreviated one
 * (session resumption). The other one is kept for peers that bind to it (see `TlsPeerInfo`).
 */
function finishedOf(socket: TLSSocket): { tlsUnique: Buffer; otherFinished: Buffer } | undefined {
  const received = socket.getPeerFinished();
  const sent = socket.getFinished();
  if (received === undefined || sent === undefined) return undefined;
  return socket.isSessionReused() ? { tlsUnique: sent, otherFinished: received } : { tlsUnique: received, otherFinished: sent };
}

/** The tls-unique of a connection this process opened (the client's side of `finishedOf`); undefined on TLS 1.3. */
export function clientTlsUnique(socket: TLSSocket): Buffer | undefined {
  if (socket.getProtocol() === 'TLSv1.3') return undefined;
  return socket.isSessionReused() ? socket.getPeerFinished() : socket.getFinished();
}

function certificateOf(socket: TLSSocket): PeerCertificate | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0 || !cert.raw) return undefined;
  return {
    sha1: cert.fingerprint.replaceAll(':', '').toUpperCase(),
    sha256: cert.fingerprint256.replaceAll(':', '').toUpperCase(),
    subject: flatten(cert.subject),
    issuer: flatten(cert.issuer),
    authorized: socket.authorized,
  };
}

/** Node gives repeated name components as arrays; Crossbar.io reports one string per key. */
function flatten(name: object | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(name ?? {}) as [string, string | string[]][]) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
