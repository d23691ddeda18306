/**
 * Which nodes hold a subscription, cluster-wide, for the subscription meta events
 * (`wamp.subscription.on_create` / `on_delete`, design/cluster.md §4): the KV bucket
 * `xbar_<cluster>_subs`, one key per (realm, match, uri) whose value lists the nodes with local
 * subscribers. A node adds itself when its first local subscriber comes and removes itself when
 * its last leaves, by compare-and-set; the node whose write took the list from empty (created the
 * key) is the cluster's first, the one that emptied it (deleted the key) the cluster's last, so
 * each event is published once. A node's writes of one key are made one after the other.
 *
 * A lost node is taken out of every list by the reaper (no on_delete: its sessions are gone
 * without an unsubscribe); a list it leaves empty is deleted, so the next subscriber anywhere is a
 * first again.
 */
import { createHash } from 'node:crypto';
import type { KV, NatsConnection } from 'nats';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { NatsLink } from './link.js';
import { isConflict } from './registry-kv.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ATTEMPTS = 20;

function holdersKey(realm: string, uri: string, match: MatchPolicy): string {
  const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
  return `s.${h(realm)}.${match[0]}.${h(uri)}`;
}

function decodeNodes(bytes: Uint8Array): string[] {
  try {
    const v: unknown = JSON.parse(decoder.decode(bytes));
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export class SubscriptionHolders {
  private kv: KV | undefined;
  /** The last write of each key this node made or is making. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly link: NatsLink) {}

  async start(nc: NatsConnection): Promise<void> {
    this.kv = await this.link.kv(nc, 'subs');
  }

  /** This node's first local subscriber: true when no other node had one (this is the cluster's first). */
  hold(realm: string, uri: string, match: MatchPolicy): Promise<boolean> {
    const me = this.link.nodeId;
    return this.inOrder(holdersKey(realm, uri, match), (nodes) => (nodes.includes(me) ? 'unchanged' : [...nodes, me]), (before) => before.length === 0);
  }

  /** This node's last local subscriber left: true when no other node has one (this was the cluster's last). */
  release(realm: string, uri: string, match: MatchPolicy): Promise<boolean> {
    const me = this.link.nodeId;
    return this.inOrder(holdersKey(realm, uri, match), (nodes) => (nodes.includes(me) ? nodes.filter((n) => n !== me) : 'unchanged'),
      (before, after) => before.length > 0 && after.length === 0);
  }

  /** The reaper: `node` is gone; takes it out of every list. */
  async nodeLost(node: string): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const keys: string[] = [];
    try {
      for await (const key of await kv.keys('s.>')) keys.push(key);
      for (const key of keys) await this.write(kv, key, (nodes) => (nodes.includes(node) ? nodes.filter((n) => n !== node) : 'unchanged'));
    } catch (err) {
      this.link.log.warn({ err, node }, 'a lost node\'s subscriptions not all removed from the cluster\'s list: their next subscriber elsewhere gets no on_create');
    }
  }

  private inOrder(key: string, change: (nodes: string[]) => string[] | 'unchanged', decide: (before: string[], after: string[]) => boolean): Promise<boolean> {
    const kv = this.kv;
    if (!kv) return Promise.resolve(false);
    const run = async (): Promise<boolean> => {
      const outcome = await this.write(kv, key, change);
      return outcome !== 'unchanged' && decide(outcome.before, outcome.after);
    };
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(run, run).catch((err: unknown) => {
      this.link.log.warn({ err }, 'the cluster\'s subscription list not written: no subscription meta event for this change');
      return false;
    });
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return this.link.track(next);
  }

  /** Compare-and-set of one key's list, retried on conflict; an empty list deletes the key. */
  private async write(kv: KV, key: string, change: (nodes: string[]) => string[] | 'unchanged'): Promise<{ before: string[]; after: string[] } | 'unchanged'> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const entry = await kv.get(key);
      const live = entry && entry.operation === 'PUT' && entry.value.length > 0 ? entry : null;
      const before = live ? decodeNodes(live.value) : [];
      const after = change(before);
      if (after === 'unchanged') return 'unchanged';
      try {
        if (after.length === 0) {
          if (!live) return 'unchanged';
          await kv.delete(key, { previousSeq: live.revision });
        } else if (live) {
          await kv.update(key, encoder.encode(JSON.stringify(after)), live.revision);
        } else {
          await kv.create(key, encoder.encode(JSON.stringify(after)));
        }
        return { before, after };
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    throw new Error(`subscription list ${key}: too many concurrent writers`);
  }
}
