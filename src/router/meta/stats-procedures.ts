/**
 * Statistics over WAMP: the router-answered procedure `xbar.stats.get` and the periodic event
 * `xbar.stats.on_update`. A realm sees its own report only (realms are isolated), with this
 * node's id and backplane state (with `--workers N`, the whole node's figures). `xbar.stats.get`
 * with `cluster: true` (keyword argument) gives every backplane member's own report instead: this
 * process's, then the other nodes' (and the node's other workers') for the realm. Calling it needs `call` permission on `xbar.stats.get`, like
 * any procedure.
 */
import type { NodeSnapshot, RealmSnapshot } from '../../stats/snapshot.js';
import { ErrorUri } from '../../wamp/errors.js';
import type { Dict } from '../../wamp/messages.js';
import type { Realm } from '../realm.js';
import { describe, MetaError } from './meta-call.js';
import { STATS_TOPIC } from './meta-topics.js';

export const STATS_PROCEDURE = 'xbar.stats.get';
export { STATS_TOPIC };

export interface RealmReport {
  readonly node: string;
  readonly time: string;
  readonly interval_ms: number;
  readonly enabled: boolean;
  readonly backplane: NodeSnapshot['backplane'];
  readonly realm: RealmSnapshot | null;
}

export function realmReport(s: NodeSnapshot, realm: string): RealmReport {
  return {
    node: s.node, time: s.time, interval_ms: s.interval_ms, enabled: s.enabled, backplane: s.backplane,
    realm: s.realms.find((r) => r.name === realm) ?? null,
  };
}

/**
 * `snapshot`: this process's report (what other nodes' `cluster: true` queries get); `node`: the
 * whole node's, when it is more than this process (`--workers N`), for `xbar.stats.get` itself.
 */
export function installStats(realm: Realm, snapshot: () => NodeSnapshot, node?: () => Promise<NodeSnapshot>): void {
  realm.onMetaQuery('xbar.stats', () => realmReport(snapshot(), realm.name) as unknown as Dict);
  realm.meta.addProcedure(STATS_PROCEDURE, async (call) => {
    const cluster = call.kwargs?.cluster ?? false;
    if (typeof cluster !== 'boolean') {
      throw new MetaError(ErrorUri.invalidArgument, `${STATS_PROCEDURE}: keyword argument "cluster" must be true or false, got ${describe(cluster)}`);
    }
    if (!cluster) return { args: [realmReport(node ? await node() : snapshot(), realm.name)] };
    const mine = realmReport(snapshot(), realm.name);
    const others = await realm.backplane.query(realm.name, { kind: 'xbar.stats' });
    return { args: [mine, ...others] };
  });
}

/** Publishes each sample to the realm's `xbar.stats.on_update` subscribers, on every node. */
export function publishUpdate(realm: Realm, s: NodeSnapshot): void {
  realm.broker.publishInternal(STATS_TOPIC, [realmReport(s, realm.name)], undefined);
}
