/**
 * The `file` cookie store's file, in Crossbar.io's format (`CookieStoreFileBacked`): one JSON
 * record per line, appended as cookies are created, authenticated and deleted —
 * `{"cbtid", "status": "created"|"modified"|"deleted", "created", "modified", "deleted", "max_age",
 * "authid", "authrole", "authmethod", "authrealm", "authextra"}` — the last record of a cookie
 * wins. Older Crossbar.io files name the cookie `"id"` and have no `status`; both are read.
 * Unlike Crossbar.io's file, which grows forever, this one is rewritten with only the live cookies
 * at start and whenever dead records outnumber them (`compact`), so it stays bounded by the store's cap.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { CookiePrincipal } from '../connection/tracking-cookie.js';
import type { Dict } from '../wamp/messages.js';

/** A stored cookie. */
export interface CookieEntry {
  readonly id: string;
  /** ms since the epoch. */
  readonly created: number;
  /** s. */
  readonly maxAge: number;
  principal: CookiePrincipal | undefined;
}

export type CookieStatus = 'created' | 'modified' | 'deleted';

/** What a cookie's value may be: Autobahn's `newid` (base64) and older Crossbar.io's URL-safe ids. */
export const COOKIE_ID = /^[A-Za-z0-9+/=_-]{1,64}$/;

export class CookieFile {
  /** Records in the file (live or not), to know when to compact. */
  private records = 0;

  constructor(readonly path: string) {}

  /** Lines written since the last rewrite. */
  get lines(): number {
    return this.records;
  }

  /** The file's cookies, last record per cookie winning; deleted ones left out. A missing file is empty. */
  load(): { readonly entries: CookieEntry[]; readonly skipped: number } {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skipped: 0 };
      throw e;
    }
    const byId = new Map<string, Dict>();
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const record = parseRecord(line);
      if (record === undefined) {
        skipped++;
        continue;
      }
      const id = (record.cbtid ?? record.id) as string;
      if (record.status === 'deleted' || (record.deleted !== undefined && record.deleted !== null)) {
        byId.delete(id);
        continue;
      }
      // Older files' "modified" records carry no "created": merged, as Crossbar.io merges them.
      byId.set(id, { ...byId.get(id), ...record });
    }
    const entries: CookieEntry[] = [];
    for (const [id, r] of byId) {
      const created = typeof r.created === 'string' ? Date.parse(r.created) : Number.NaN;
      const maxAge = r.max_age;
      if (!Number.isFinite(created) || typeof maxAge !== 'number' || !(maxAge > 0)) {
        skipped++;
        continue;
      }
      entries.push({ id, created, maxAge, principal: principalOf(r) });
    }
    entries.sort((a, b) => a.created - b.created);
    return { entries, skipped };
  }

  append(status: CookieStatus, entry: CookieEntry, at: number): void {
    appendFileSync(this.path, JSON.stringify(record(status, entry, at)) + '\n');
    this.records++;
  }

  /** Rewrites the file with `entries` only (through a temporary file, so a crash leaves the old one). */
  compact(entries: Iterable<CookieEntry>): void {
    let text = '';
    let n = 0;
    for (const e of entries) {
      text += JSON.stringify(record('created', e, e.created)) + '\n';
      n++;
    }
    const part = `${this.path}.part`;
    writeFileSync(part, text);
    renameSync(part, this.path);
    this.records = n;
  }
}

function record(status: CookieStatus, e: CookieEntry, at: number): Dict {
  const p = e.principal;
  return {
    cbtid: e.id,
    status,
    created: new Date(e.created).toISOString(),
    modified: status === 'modified' ? new Date(at).toISOString() : null,
    deleted: status === 'deleted' ? new Date(at).toISOString() : null,
    max_age: e.maxAge,
    authid: p?.authid ?? null,
    authrole: p?.authrole ?? null,
    authmethod: p?.authmethod ?? null,
    authrealm: p?.authrealm ?? null,
    authextra: p?.authextra ?? null,
  };
}

/** One line → a record with a valid cookie id, or undefined. */
function parseRecord(line: string): Dict | undefined {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return undefined;
  const d = r as Dict;
  const id = d.cbtid ?? d.id;
  if (typeof id !== 'string' || !COOKIE_ID.test(id)) return undefined;
  // Keys with null values are kept: a later null authid is a revoked authentication.
  return d;
}

function principalOf(r: Dict): CookiePrincipal | undefined {
  const { authid, authrole, authmethod, authrealm, authextra } = r;
  if (typeof authid !== 'string' || typeof authrole !== 'string' || typeof authmethod !== 'string' || typeof authrealm !== 'string') return undefined;
  const extra = typeof authextra === 'object' && authextra !== null && !Array.isArray(authextra) ? { authextra: authextra as Dict } : {};
  return { authid, authrole, authmethod, authrealm, ...extra };
}
