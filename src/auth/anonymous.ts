import { randomBytes } from 'node:crypto';
import type { Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';

/** `anonymous`: everyone is let in with the configured role and a random authid. */
export class AnonymousAuthenticator implements Authenticator {
  readonly method = 'anonymous';
  constructor(private readonly role: string) {}

  begin(_hello: Hello): AuthOutcome {
    return {
      kind: 'welcome',
      identity: {
        authid: anonymousAuthid(),
        authrole: this.role,
        authmethod: 'anonymous',
        authprovider: 'static',
      },
    };
  }
}

/** Crossbar.io-style random authid, e.g. "QX7M-KV9C-3RJH-…". */
function anonymousAuthid(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXY3456789';
  const bytes = randomBytes(24);
  let s = '';
  for (let i = 0; i < 24; i++) {
    if (i > 0 && i % 4 === 0) s += '-';
    s += alphabet[bytes[i]! % alphabet.length];
  }
  return s;
}
