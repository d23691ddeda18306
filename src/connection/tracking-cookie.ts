/**
 * Crossbar.io's cookie tracking, as the router and the WebSocket transport see it: a connection
 * may carry the HTTP cookie it was upgraded with (`TrackingCookie`), which remembers who last
 * authenticated on it; the transport gets one per upgrade from a `CookieJar` (auth/cookie-store.ts).
 */
import type { Dict } from '../wamp/messages.js';

/** Who a cookie authenticated: Crossbar.io's `(authid, authrole, authmethod, authrealm, authextra)`. */
export interface CookiePrincipal {
  readonly authid: string;
  readonly authrole: string;
  /** The method the session authenticated with (WELCOME of a cookie login reports it). */
  readonly authmethod: string;
  readonly authrealm: string;
  readonly authextra?: Dict;
}

/** The tracking cookie of one connection. */
export interface TrackingCookie {
  /** The cookie's value (Crossbar.io's `cbtid`). */
  readonly id: string;
  /** The principal the cookie authenticated, if it did and has not expired or been logged out. */
  principal(): CookiePrincipal | undefined;
  /** A session on this connection joined by another method: the cookie authenticates as it from now on. */
  remember(principal: CookiePrincipal): void;
  /** The cookie no longer authenticates (it still tracks). */
  forget(): void;
  /** `wamp.close.logout`: the cookie is deleted and the other connections that carry it are closed. */
  logout(): void;
  /** The connection ended. */
  release(): void;
}

export interface TrackedUpgrade {
  readonly cookie: TrackingCookie;
  /** The Set-Cookie header value for the upgrade response when the cookie is new. */
  readonly setCookie?: string;
}

export interface CookieJar {
  /**
   * On a WebSocket upgrade: the cookie named in the request's `Cookie` header when the jar knows
   * it, else a new one. `kick` closes the connection (another connection logged the cookie out).
   */
  track(cookieHeader: string | undefined, kick: () => void): TrackedUpgrade;
}
