/**
 * `cryptosign` (wamp-proto advanced/authentication_cryptosign.md): the client announces its
 * Ed25519 public key in HELLO.Details.authextra.pubkey; the router sends 32 random bytes; the
 * client answers with the signature (64 bytes) followed by the signed message (32 bytes), hex.
 * Ed25519 is Node's own (`crypto.verify`).
 *
 * Channel binding: when authextra.channel_binding is "tls-unique", the signed message is the
 * challenge XOR SHA-256(tls-unique), Autobahn's channel id, so a signature captured on one TLS
 * connection is worthless on another. Autobahn disagrees with itself on which Finished message
 * tls-unique is (see `TlsPeerInfo.otherFinished`), so either of this connection's is accepted. tls-unique exists only up to TLS 1.2 (RFC 8446, appendix
 * C.5), so on TLS 1.3 a request for it is refused with a clear ABORT. Without TLS there is no
 * channel to bind to: as Crossbar.io (whose rlinks always ask for tls-unique), the bare challenge
 * is signed and the CHALLENGE says channel_binding null.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import type { CryptosignPrincipal, DynamicAuthConfig } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { askAuthenticator, channelId, type AuthDeps } from './dynamic.js';
import { FAILED, abort, helloAuthextra, helloAuthid, welcome, type Principal } from './principal.js';
import { secretsEqual } from './secrets.js';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** A raw 32-byte Ed25519 public key as a KeyObject. */
export function ed25519Key(hex: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * The message the client must sign, given the transport: the challenge itself, or XORed with
 * the channel id. A string is why the requested binding cannot be had (sent in ABORT).
 */
function binding(requested: unknown, peer: PeerInfo): { type: 'tls-unique' | null; channels: Buffer[] } | string {
  if (requested === undefined || requested === null) return { type: null, channels: [] };
  if (requested !== 'tls-unique') return `channel binding ${JSON.stringify(requested)} is not supported; the only binding is "tls-unique"`;
  // Crossbar.io binds to nothing when the connection has no channel, and its rlinks ask for the
  // binding on every connection: without TLS the bare challenge is signed, as there.
  if (peer.tls === undefined) return { type: null, channels: [] };
  if (peer.tls.tlsUnique === undefined) {
    return `channel binding "tls-unique" is not defined for ${peer.tls.protocol} (RFC 8446, appendix C.5); ` +
      'connect with TLS 1.2 or leave out channel_binding';
  }
  const channels = [channelId(peer.tls.tlsUnique)];
  if (peer.tls.otherFinished !== undefined) channels.push(channelId(peer.tls.otherFinished));
  return { type: 'tls-unique', channels };
}

interface Pending {
  /** What the client may have signed: the challenge, or it XOR one of the connection's channel ids. */
  readonly messages: readonly Buffer[];
  readonly key: KeyObject | undefined;
  readonly principal: Principal | undefined;
  readonly authprovider: string;
}

abstract class CryptosignBase implements Authenticator {
  readonly method = 'cryptosign';
  protected hello: Hello | undefined;
  protected pending: Pending | undefined;

  abstract begin(hello: Hello, peer: PeerInfo): AuthOutcome | Promise<AuthOutcome>;

  /** Checks HELLO and prepares the challenge; a string is the ABORT message. */
  protected prepare(hello: Hello, peer: PeerInfo): { pubkey: string; challenge: Buffer; bound: 'tls-unique' | null; messages: Buffer[] } | AuthOutcome {
    const extra = helloAuthextra(hello);
    const pubkey = extra.pubkey;
    if (typeof pubkey !== 'string' || !HEX_KEY.test(pubkey)) {
      return abort(ErrorUri.authenticationFailed, 'cryptosign authentication needs HELLO.Details.authextra.pubkey (64 hex digits)');
    }
    const b = binding(extra.channel_binding, peer);
    if (typeof b === 'string') return abort(ErrorUri.authenticationFailed, b);
    const challenge = randomBytes(32);
    const messages = b.channels.length === 0 ? [challenge] : b.channels.map((c) => xor(challenge, c));
    return { pubkey: pubkey.toLowerCase(), challenge, bound: b.type, messages };
  }

  protected challenge(challenge: Buffer, bound: 'tls-unique' | null): AuthOutcome {
    return { kind: 'challenge', method: 'cryptosign', extra: { challenge: challenge.toString('hex'), channel_binding: bound } };
  }

  finish(signature: string): AuthOutcome {
    const p = this.pending!;
    if (typeof signature !== 'string' || !HEX.test(signature) || (signature.length !== 128 && signature.length !== 192)) return FAILED;
    const bytes = Buffer.from(signature, 'hex');
    const sig = bytes.subarray(0, 64);
    const valid = p.messages.some((message) => {
      // The 96-byte form repeats the signed message after the signature; it must be ours.
      const echoed = bytes.length === 96 ? secretsEqual(bytes.subarray(64), message) : true;
      return p.key !== undefined && verify(null, message, p.key, sig) && echoed;
    });
    if (!valid || p.principal === undefined) return FAILED;
    return welcome(this.hello!, p.principal, { authmethod: 'cryptosign', authprovider: p.authprovider });
  }
}

/** pubkey → authid per principal table (built once); a key listed for several authids identifies none. */
const keyIndexes = new WeakMap<ReadonlyMap<string, CryptosignPrincipal>, Map<string, string | null>>();

function keyIndex(principals: ReadonlyMap<string, CryptosignPrincipal>): Map<string, string | null> {
  let index = keyIndexes.get(principals);
  if (index === undefined) {
    index = new Map();
    for (const [authid, p] of principals) {
      for (const k of p.authorizedKeys) index.set(k, index.has(k) && index.get(k) !== authid ? null : authid);
    }
    keyIndexes.set(principals, index);
  }
  return index;
}

export class StaticCryptosignAuthenticator extends CryptosignBase {
  private readonly byKey: Map<string, string | null>;

  constructor(private readonly principals: ReadonlyMap<string, CryptosignPrincipal>) {
    super();
    this.byKey = keyIndex(principals);
  }

  begin(hello: Hello, peer: PeerInfo): AuthOutcome {
    const prep = this.prepare(hello, peer);
    if ('kind' in prep) return prep;
    this.hello = hello;
    const authid = helloAuthid(hello) ?? this.byKey.get(prep.pubkey) ?? undefined;
    const p = authid === undefined ? undefined : this.principals.get(authid);
    const known = p !== undefined && p.authorizedKeys.includes(prep.pubkey);
    // An unknown key is challenged like a known one and fails at AUTHENTICATE.
    this.pending = {
      messages: prep.messages,
      key: known ? ed25519Key(prep.pubkey) : undefined,
      principal: known ? { role: p.role, realm: p.realm, authid } : undefined,
      authprovider: 'static',
    };
    return this.challenge(prep.challenge, prep.bound);
  }
}

export class DynamicCryptosignAuthenticator extends CryptosignBase {
  constructor(private readonly config: DynamicAuthConfig, private readonly deps: AuthDeps) {
    super();
  }

  async begin(hello: Hello, peer: PeerInfo): Promise<AuthOutcome> {
    const prep = this.prepare(hello, peer);
    if ('kind' in prep) return prep;
    this.hello = hello;
    const asked = await askAuthenticator(this.deps, this.config, hello, peer, 'cryptosign');
    if (asked.outcome) return asked.outcome;
    const p = asked.principal;
    // Crossbar.io verifies with the key the authenticator returns; it must be the client's.
    const returned = typeof p.pubkey === 'string' ? p.pubkey.toLowerCase() : prep.pubkey;
    if (!HEX_KEY.test(returned)) {
      this.deps.log.warn({ authenticator: this.config.authenticator }, 'dynamic cryptosign authenticator returned an invalid "pubkey"');
      return FAILED;
    }
    this.pending = { messages: prep.messages, key: ed25519Key(returned), principal: p as Principal & Dict, authprovider: 'dynamic' };
    return this.challenge(prep.challenge, prep.bound);
  }
}
