/**
 * `anonymous`: no credentials. Static: every client gets the configured role (and authid, or a
 * random one). Dynamic: the authenticator decides from the transport details, e.g. by address.
 */
import { randomFillSync } from 'node:crypto';
import type { AnonymousAuthConfig, DynamicAuthConfig } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import type { Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { askAuthenticator, type AuthDeps } from './dynamic.js';
import { welcome } from './principal.js';

export class AnonymousAuthenticator implements Authenticator {
  readonly method = 'anonymous';
  private readonly config: AnonymousAuthConfig;

  /**
   * `config` may be just the role, for a static anonymous method. `cookieAuthid`: the authid is the
   * connection's tracking cookie when it has one (Crossbar.io's rule for a transport without `auth`).
   */
  constructor(config: AnonymousAuthConfig | string, private readonly deps?: AuthDeps, private readonly cookieAuthid = false) {
    this.config = typeof config === 'string' ? { type: 'static', role: config } : config;
  }

  begin(hello: Hello, peer: PeerInfo): AuthOutcome | Promise<AuthOutcome> {
    const c = this.config;
    if (c.type === 'static') {
      // Decided at once: the session's WELCOME goes out in the turn that read HELLO.
      return welcome(hello, { role: c.role, realm: c.realm }, {
        authmethod: 'anonymous',
        authprovider: 'static',
        // Crossbar.io ignores the authid an anonymous client asks for.
        authid: c.authid ?? (this.cookieAuthid ? peer.cookie?.id : undefined) ?? anonymousAuthid(),
      });
    }
    return this.dynamic(c, hello, peer);
  }

  private async dynamic(c: DynamicAuthConfig, hello: Hello, peer: PeerInfo): Promise<AuthOutcome> {
    const asked = await askAuthenticator(this.deps!, c, hello, peer, 'anonymous');
    if (asked.outcome) return asked.outcome;
    return welcome(hello, asked.principal, { authmethod: 'anonymous', authprovider: 'dynamic', authid: anonymousAuthid() });
  }
}

/** Crossbar.io-style random authid, e.g. "QX7M-KV9C-3RJH-…". */
export function anonymousAuthid(): string {
  // From a pool refilled 170 authids at a time: one call into the CSPRNG per session cost as much as the rest of the WELCOME.
  if (poolAt + AUTHID_BYTES > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  // Written into a buffer and read as one string: appending 29 characters made 29 strings (840 bytes per session).
  let at = 0;
  for (let i = 0; i < AUTHID_BYTES; i++) {
    if (i > 0 && i % 4 === 0) text[at++] = 0x2d; // -
    text[at++] = ALPHABET[pool[poolAt + i]! % ALPHABET.length]!;
  }
  poolAt += AUTHID_BYTES;
  return text.toString('latin1', 0, at);
}

const ALPHABET = Buffer.from('ABCDEFGHJKLMNPQRSTUVWXY3456789', 'latin1');

const AUTHID_BYTES = 24;
const pool = Buffer.alloc(AUTHID_BYTES * 170);
const text = Buffer.alloc(AUTHID_BYTES + AUTHID_BYTES / 4);
let poolAt = pool.length;
