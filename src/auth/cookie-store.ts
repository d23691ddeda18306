/**
 * Crossbar.io's cookie store (crossbar/router/cookiestore.py) for one WebSocket transport or path:
 * on each upgrade the request's cookie is looked up, or a new one is made and sent with
 * Set-Cookie (`<name>=<value>;max-age=N`, then `;Secure`, `;HttpOnly` for `http_strict`,
 * `;SameSite=…`, in Crossbar.io's order). A cookie remembers the principal of the last session
 * that authenticated on a connection carrying it; the `cookie` auth method then lets a later
 * connection with it join as that principal (router/session.ts).
 *
 * Values are `length` characters of base64 from the system's CSPRNG (Autobahn's `newid`: 24 → 144
 * bits). xbar differs: a cookie is forgotten when its `max_age` has passed (the browser drops it
 * then too; Crossbar.io keeps it), and a store holds at most `maxCookies` — when full, the oldest
 * cookie that never authenticated goes first, then the least recently authenticated — so cookieless
 * clients cannot grow it without bound. The `file` store persists every change (cookie-file.ts).
 */
import { randomBytes } from 'node:crypto';
import type { CookieConfig } from '../config/types.js';
import type { CookieJar, CookiePrincipal, TrackedUpgrade, TrackingCookie } from '../connection/tracking-cookie.js';
import { COOKIE_ID, CookieFile, type CookieEntry, type CookieStatus } from './cookie-file.js';

/** Rewrite the file once it holds this many records more than twice the live cookies. */
const COMPACT_SLACK = 1000;

export class CookieStore implements CookieJar {
  /** Cookies that authenticate no one, oldest first (Map order), and those that do, least recently authenticated first. */
  private readonly unauthenticated = new Map<string, CookieEntry>();
  private readonly authenticated = new Map<string, CookieEntry>();
  /** The connections carrying each cookie, to close them at a logout. */
  private readonly holders = new Map<string, Set<Holder>>();

  constructor(
    private readonly config: CookieConfig,
    private readonly file?: CookieFile,
    /** A write to the file failed (the store goes on in memory). */
    private readonly writeFailed: (e: Error) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A store for `config`; the `file` store is loaded from its file and the file rewritten with
   * the live cookies (an unreadable or unwritable file throws, naming it).
   */
  static open(config: CookieConfig, writeFailed?: (e: Error) => void, now: () => number = Date.now): { store: CookieStore; loaded: number; skipped: number } {
    if (config.store.type === 'memory') return { store: new CookieStore(config, undefined, writeFailed, now), loaded: 0, skipped: 0 };
    const file = new CookieFile(config.store.file);
    const store = new CookieStore(config, undefined, writeFailed, now);
    let skipped: number;
    try {
      const loaded = file.load();
      skipped = loaded.skipped;
      for (const e of loaded.entries) if (!store.expired(e)) store.insert(e);
      file.compact(store.entries());
    } catch (e) {
      throw new Error(`cookie store ${config.store.file}: ${(e as Error).message}`, { cause: e });
    }
    return { store: new CookieStore(config, file, writeFailed, now).adopt(store), loaded: store.size, skipped };
  }

  /** Takes `other`'s cookies (loading fills a store without a file, so nothing is written twice). */
  private adopt(other: CookieStore): this {
    for (const e of other.entries()) (e.principal ? this.authenticated : this.unauthenticated).set(e.id, e);
    return this;
  }

  get size(): number {
    return this.unauthenticated.size + this.authenticated.size;
  }

  track(cookieHeader: string | undefined, kick: () => void): TrackedUpgrade {
    const sent = cookieValue(cookieHeader, this.config.name);
    const known = sent === undefined ? undefined : this.lookup(sent);
    const entry = known ?? this.create();
    const holder = new Holder(this, entry.id, kick);
    let set = this.holders.get(entry.id);
    if (!set) this.holders.set(entry.id, (set = new Set()));
    set.add(holder);
    return known ? { cookie: holder } : { cookie: holder, setCookie: this.setCookieHeader(entry) };
  }

  /** The live entry of cookie `id` (an expired one is deleted). */
  lookup(id: string): CookieEntry | undefined {
    const e = this.unauthenticated.get(id) ?? this.authenticated.get(id);
    if (e === undefined) return undefined;
    if (!this.expired(e)) return e;
    this.remove(e, 'deleted');
    return undefined;
  }

  principalOf(id: string): CookiePrincipal | undefined {
    return this.lookup(id)?.principal;
  }

  /** Sets (or with undefined, revokes) what cookie `id` authenticates; a change is persisted. */
  setPrincipal(id: string, p: CookiePrincipal | undefined): void {
    const e = this.lookup(id);
    if (e === undefined || samePrincipal(e.principal, p)) return;
    this.unauthenticated.delete(id);
    this.authenticated.delete(id);
    e.principal = p;
    (p ? this.authenticated : this.unauthenticated).set(id, e);
    this.persist('modified', e);
  }

  /** Deletes cookie `id` and closes every connection carrying it but `except`. */
  logout(id: string, except: Holder): number {
    const e = this.unauthenticated.get(id) ?? this.authenticated.get(id);
    if (e) this.remove(e, 'deleted');
    let kicked = 0;
    for (const h of [...(this.holders.get(id) ?? [])]) {
      if (h === except) continue;
      h.kick();
      kicked++;
    }
    return kicked;
  }

  release(id: string, h: Holder): void {
    const set = this.holders.get(id);
    if (!set) return;
    set.delete(h);
    if (set.size === 0) this.holders.delete(id);
  }

  private create(): CookieEntry {
    const e: CookieEntry = { id: newCookieId(this.config.length), created: this.now(), maxAge: this.config.maxAge, principal: undefined };
    this.insert(e);
    this.persist('created', e);
    return e;
  }

  private insert(e: CookieEntry): void {
    while (this.size >= this.config.maxCookies) {
      const oldest = first(this.unauthenticated) ?? first(this.authenticated);
      if (!oldest) break;
      this.remove(oldest, 'deleted');
    }
    (e.principal ? this.authenticated : this.unauthenticated).set(e.id, e);
  }

  private remove(e: CookieEntry, status: CookieStatus): void {
    this.unauthenticated.delete(e.id);
    this.authenticated.delete(e.id);
    this.persist(status, e);
  }

  private expired(e: CookieEntry): boolean {
    return e.created + e.maxAge * 1000 <= this.now();
  }

  private *entries(): Iterable<CookieEntry> {
    yield* this.unauthenticated.values();
    yield* this.authenticated.values();
  }

  private persist(status: CookieStatus, e: CookieEntry): void {
    const file = this.file;
    if (!file) return;
    try {
      file.append(status, e, this.now());
      if (file.lines > 2 * this.size + COMPACT_SLACK) file.compact(this.entries());
    } catch (err) {
      this.writeFailed(err as Error);
    }
  }

  private setCookieHeader(e: CookieEntry): string {
    const c = this.config;
    // No "Secure" by default, as Crossbar.io: it refers to the page's scheme, not the WebSocket's.
    let h = `${c.name}=${e.id};max-age=${e.maxAge}`;
    if (c.secure) h += ';Secure';
    if (c.httpStrict) h += ';HttpOnly';
    if (c.sameSite) h += `;SameSite=${c.sameSite}`;
    return h;
  }
}

/** One connection's hold on its cookie. */
class Holder implements TrackingCookie {
  constructor(
    private readonly store: CookieStore,
    readonly id: string,
    readonly kick: () => void,
  ) {}

  principal(): CookiePrincipal | undefined {
    return this.store.principalOf(this.id);
  }

  remember(p: CookiePrincipal): void {
    this.store.setPrincipal(this.id, p);
  }

  forget(): void {
    this.store.setPrincipal(this.id, undefined);
  }

  logout(): void {
    this.store.logout(this.id, this);
  }

  release(): void {
    this.store.release(this.id, this);
  }
}

/** Autobahn's `newid(length)`: base64 of random bytes, cut to `length` characters. */
export function newCookieId(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4)).toString('base64').slice(0, length);
}

/** The value of cookie `name` in a Cookie header (the first one, quotes removed), if it is a possible cookie id. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (COOKIE_ID.test(v)) return v;
  }
  return undefined;
}

function first(m: Map<string, CookieEntry>): CookieEntry | undefined {
  for (const e of m.values()) return e;
  return undefined;
}

function samePrincipal(a: CookiePrincipal | undefined, b: CookiePrincipal | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.authid === b.authid && a.authrole === b.authrole && a.authmethod === b.authmethod && a.authrealm === b.authrealm
    && JSON.stringify(a.authextra ?? null) === JSON.stringify(b.authextra ?? null);
}
