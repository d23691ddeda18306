/**
 * The cluster's registration registry in a JetStream KV bucket (design/cluster.md §4): one key per
 * (realm, match, uri), value = the ClusterReg with callees in global registration order. Writes
 * are compare-and-set (create / update at revision), so single registrations are unique and
 * policy conflicts are caught across nodes. Every node keeps a replica fed by a KV watch.
 */
import { createHash } from 'node:crypto';
import type { KV, KvEntry } from 'nats';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { ClusterReg } from '../backplane.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function registryKey(realm: string, uri: string, match: MatchPolicy): string {
  const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
  return `r.${h(realm)}.${match[0]}.${h(uri)}`;
}

/**
 * A registration as the bucket stores it: a `force_reregister` write also names the callees it
 * pushed out (`node/session`, the latest 32, carried along by later writes), so that a node that
 * finds its callee missing can tell a forced replacement from a reap by a node that took it for dead.
 */
export type StoredReg = ClusterReg & { readonly forcedOut?: readonly string[] };

const FORCED_OUT_KEPT = 32;

/** `next` with `pushedOut` added to what forced writes pushed out of `current`. */
export function withForcedOut(current: ClusterReg | undefined, next: ClusterReg, pushedOut: readonly { node: string; session: number }[]): StoredReg {
  const earlier = (current as StoredReg | undefined)?.forcedOut ?? [];
  return { ...next, forcedOut: [...earlier, ...pushedOut.map((c) => `${c.node}/${c.session}`)].slice(-FORCED_OUT_KEPT) };
}

export function forcedOut(reg: ClusterReg | undefined, node: string, session: number): boolean {
  return (reg as StoredReg | undefined)?.forcedOut?.includes(`${node}/${session}`) === true;
}

export interface ReplicaEntry {
  readonly revision: number;
  readonly reg: ClusterReg | undefined;
}

export type Change = (before: ClusterReg | undefined, after: ClusterReg | undefined) => void;

export class RegistryReplica {
  private readonly entries = new Map<string, ReplicaEntry>();

  constructor(private readonly onChange: Change) {}

  keyed(): IterableIterator<[string, ReplicaEntry]> {
    return this.entries.entries();
  }

  get(key: string): ReplicaEntry | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<ReplicaEntry> {
    return this.entries.values();
  }

  /**
   * Applies a KV entry if it is newer than what the replica holds; `over`: also over a local
   * change made on top of the same revision (the +0.5 revisions of a callee dropped here first).
   */
  apply(key: string, revision: number, reg: ClusterReg | undefined, over = false): void {
    const known = this.entries.get(key);
    if (known && (over ? Math.floor(known.revision) > revision : known.revision >= revision)) return;
    this.entries.set(key, { revision, reg });
    this.onChange(known?.reg, reg);
  }

  applyEntry(e: KvEntry, over = false): void {
    this.apply(e.key, e.revision, entryReg(e), over);
  }
}

/** The registration a KV entry holds (undefined: deleted). */
export function entryReg(e: KvEntry): ClusterReg | undefined {
  return e.operation === 'PUT' && e.value.length > 0 ? decodeReg(e.value) : undefined;
}

export function encodeReg(reg: ClusterReg): Uint8Array {
  return encoder.encode(JSON.stringify(reg));
}

export function decodeReg(bytes: Uint8Array): ClusterReg | undefined {
  try {
    return JSON.parse(decoder.decode(bytes)) as ClusterReg;
  } catch {
    return undefined;
  }
}

/**
 * Read-modify-write of one key with compare-and-set, retried on conflict. `change` returns the
 * new value (undefined = delete), 'unchanged', or an error object that aborts the write.
 */
export async function casUpdate<E>(
  kv: KV,
  key: string,
  change: (current: ClusterReg | undefined) => ClusterReg | undefined | 'unchanged' | E,
  isError: (x: unknown) => x is E,
  attempts = 20,
): Promise<{ revision: number; reg: ClusterReg | undefined } | 'unchanged' | E> {
  for (let i = 0; i < attempts; i++) {
    const entry = await kv.get(key);
    const live = entry && entry.operation === 'PUT' && entry.value.length > 0 ? entry : null;
    const current = live ? decodeReg(live.value) : undefined;
    const next = change(current);
    if (next === 'unchanged' || isError(next)) return next;
    try {
      if (next === undefined) {
        if (!live) return 'unchanged';
        await kv.delete(key, { previousSeq: live.revision });
        const after = await kv.get(key);
        return { revision: after?.revision ?? live.revision + 1, reg: undefined };
      }
      const revision = live ? await kv.update(key, encodeReg(next), live.revision) : await kv.create(key, encodeReg(next));
      return { revision, reg: next };
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  throw new Error(`registry key ${key}: too many concurrent writers`);
}

/** A compare-and-set that lost: the key exists, or changed since it was read. */
export function isConflict(e: unknown): boolean {
  const text = String((e as Error)?.message ?? e);
  return /wrong last sequence|key exists|10071/.test(text);
}
