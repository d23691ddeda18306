/**
 * Authentication of a joining session. The session picks the first method in HELLO's
 * `authmethods` (default: anonymous) that the transport offers, then runs it: `begin` either
 * accepts at once or issues a CHALLENGE whose AUTHENTICATE goes to `finish`.
 */
import type { Dict, Hello } from '../wamp/messages.js';
import type { PeerInfo } from '../connection/peer.js';

export interface Identity {
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly authprovider: string;
  readonly authextra?: Dict;
  /** Realm to join, when the authenticator decides it (dynamic authenticators); default HELLO's. */
  readonly realm?: string;
}

export type AuthOutcome =
  | { readonly kind: 'welcome'; readonly identity: Identity }
  | { readonly kind: 'challenge'; readonly method: string; readonly extra: Dict }
  | { readonly kind: 'abort'; readonly reason: string; readonly message: string };

export interface Authenticator {
  readonly method: string;
  begin(hello: Hello, peer: PeerInfo): Promise<AuthOutcome> | AuthOutcome;
  finish?(signature: string, extra: Dict): Promise<AuthOutcome> | AuthOutcome;
  /** The session ended before the authentication had an outcome (frees what it holds). */
  cancel?(): void;
}

/** Creates a fresh authenticator per session (challenges carry per-session state). */
export type AuthenticatorFactory = () => Authenticator;
