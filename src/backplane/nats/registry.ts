/**
 * The cluster's registrations (design/cluster.md §4): the JetStream KV bucket
 * `xbar_<cluster>_reg` written by compare-and-set under the rules every backplane shares
 * (registry-rules.ts), and this node's replica of it, fed by a KV watch. Writes retry through a
 * JetStream leader election until the registry timeout.
 *
 * False death (issue 17, point 5): a node the others took for dead (paused, cut off from NATS)
 * finds its callees removed by the reaper while their sessions live. It keeps them in its replica
 * and writes them back under the usual rules: a single registration another node made meanwhile
 * wins, and this node's callee is revoked instead. A callee pushed out by `force_reregister` is
 * not written back (the write names it, registry-kv.ts). Each node also reads again, from the
 * bucket, the keys it dropped a node's callees from when that node is heard again: a reap that
 * never reached the bucket (the reaper was cut off itself) leaves no replica without them.
 */
import type { KV, KvEntry, NatsConnection } from 'nats';
import type { MatchPolicy } from '../../wamp/uri.js';
import { ErrorUri } from '../../wamp/errors.js';
import type { InvokePolicy } from '../../wamp/messages.js';
import type { ClusterCallee, ClusterReg, RegisterOutcome } from '../backplane.js';
import { applyNodeLoss, applyRegister, applyUnregister, type RegisterRequest, sameCallee } from '../registry-rules.js';
import { initialValues, type NatsLink, withTimeout } from './link.js';
import { REAP_PATIENCE_MS, retried } from './retried.js';
import { casUpdate, type Change, entryReg, forcedOut, RegistryReplica, registryKey, withForcedOut } from './registry-kv.js';

const RETRY_MS = 200;
/**
 * A registry request's wait for its answer. One sent as the connection dropped is lost: a short
 * wait resends it on the new connection at once (a REGISTER took 5 s with nats.js's default).
 */
const REQUEST_TIMEOUT_MS = 1500;

type Refusal = { readonly error: string; readonly message: string };
const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'error' in x;
const never = (_x: unknown): _x is never => false;

export class NatsRegistry {
  private kv: KV | undefined;
  private readonly replica: RegistryReplica;
  /**
   * This node's unregistration writes in flight, by key: a REGISTER of the same procedure waits
   * for them, so unregister-then-register from one node is seen in that order.
   */
  private readonly leaving = new Map<string, Promise<unknown>>();
  /** This node's callees as registered (force off), by key and session: what it writes back after a false death. */
  private readonly mine = new Map<string, Map<number, RegisterRequest>>();
  /** Keys this replica dropped a lost node's callees from, by node: read again if the node is heard again. */
  private readonly droppedFor = new Map<string, Set<string>>();
  /** Callees being written back, `key/session`. */
  private readonly restoring = new Set<string>();
  /**
   * The local callees whose removal this node is writing, by key: an entry written before the
   * removal (another node's change, seen meanwhile) must not bring one back into the replica.
   */
  private readonly removing = new Map<string, Map<number, number>>();

  constructor(
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
    changed: Change,
  ) {
    this.replica = new RegistryReplica(changed);
  }

  /** Opens the bucket and waits (bounded) for the replica's initial values. */
  async start(nc: NatsConnection): Promise<void> {
    const kv = await this.link.kv(nc, 'reg', {}, REQUEST_TIMEOUT_MS);
    this.kv = kv;
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of iter) this.applyEntry(e);
    })().catch((err: unknown) => this.link.log.error({ err }, 'registry watch ended: this node no longer hears of registrations elsewhere'));
    await initialValues(initialized, 'registry watch', this.link.log);
  }

  async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    const kv = this.kv;
    if (!kv) return { error: ErrorUri.registryUnavailable, message: 'the cluster registry is not available' };
    const key = registryKey(realm, uri, match);
    let retrying = false;
    const change = (current: ClusterReg | undefined): ClusterReg | Refusal => {
      // An attempt whose answer timed out may have been written: it is not refused as a duplicate.
      if (retrying && current?.callees.some((c) => sameCallee(c, callee))) return current;
      const d = applyRegister(current, { realm, uri, match, invoke, callee, force });
      if ('error' in d) return d;
      return d.revoked.length > 0 ? withForcedOut(current, d.next, d.revoked) : d.next;
    };
    // While JetStream elects a new leader (a NATS server died) writes fail for seconds: retry
    // until the deadline, then give up with registry_unavailable (design/cluster.md §5).
    const deadline = Date.now() + this.timeoutMs;
    const write = async () => {
      await this.leaving.get(key);
      for (;;) {
        try {
          return await casUpdate(kv, key, change, isRefusal);
        } catch (err) {
          if (Date.now() > deadline || this.link.isStopping) throw err;
          retrying = true;
          this.link.log.debug({ err, uri }, 'registry write failed; retrying');
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    };
    const outcome = await this.link.track(withTimeout(write(), this.timeoutMs)).catch((err: unknown) => {
      this.link.log.warn({ err, uri }, 'registry write failed');
      return { error: ErrorUri.registryUnavailable, message: 'the cluster registry did not answer in time' };
    });
    if (outcome === 'unchanged') return { error: ErrorUri.registryUnavailable, message: 'registry conflict' };
    if (isRefusal(outcome)) return outcome;
    let held = this.mine.get(key);
    if (!held) this.mine.set(key, (held = new Map()));
    held.set(callee.session, { realm, uri, match, invoke, callee, force: false });
    this.replica.apply(key, outcome.revision, outcome.reg);
    return { regId: outcome.reg!.regId };
  }

  /** Resolves whether this write removed the registration's last callee (the key is deleted). */
  unregister(realm: string, uri: string, match: MatchPolicy, session: number): Promise<boolean> {
    const kv = this.kv;
    if (!kv) return Promise.resolve(false);
    const key = registryKey(realm, uri, match);
    const node = this.link.nodeId;
    this.forget(key, session);
    // The local replica forgets the callee at once; the KV write follows (retried by casUpdate).
    const known = this.replica.get(key);
    if (known?.reg) {
      const next = applyUnregister(known.reg, node, session);
      if (next !== 'unchanged') this.replica.apply(key, known.revision + 0.5, next);
    }
    this.markRemoving(key, session, 1);
    const before = this.leaving.get(key) ?? Promise.resolve();
    const write = before
      .then(() => retried(() => casUpdate(kv, key, (current) => applyUnregister(current, node, session), never), Date.now() + this.timeoutMs, () => this.link.isStopping))
      .then((r) => {
        if (r === 'unchanged') return false;
        this.replica.apply(key, r.revision, r.reg);
        return r.reg === undefined;
      })
      .catch((err: unknown) => {
        this.link.log.warn({ err, uri }, 'registry cleanup failed; the reaper will retry when this node is gone');
        return false;
      })
      .finally(() => this.markRemoving(key, session, -1));
    this.leaving.set(key, write);
    void this.link.track(write).finally(() => {
      if (this.leaving.get(key) === write) this.leaving.delete(key);
    });
    return write;
  }

  private markRemoving(key: string, session: number, by: 1 | -1): void {
    let sessions = this.removing.get(key);
    if (!sessions) this.removing.set(key, (sessions = new Map()));
    const n = (sessions.get(session) ?? 0) + by;
    if (n > 0) sessions.set(session, n);
    else sessions.delete(session);
    if (sessions.size === 0) this.removing.delete(key);
  }

  private readonly withoutRemoved = (key: string, reg: ClusterReg | undefined): ClusterReg | undefined => {
    const sessions = this.removing.get(key);
    if (!reg || !sessions) return reg;
    const node = this.link.nodeId;
    const callees = reg.callees.filter((c) => !(c.node === node && sessions.has(c.session)));
    return callees.length === reg.callees.length ? reg : { ...reg, callees };
  };

  async refresh(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const key = registryKey(realm, uri, match);
    const e = await kv.get(key).catch((err: unknown) => {
      this.link.log.warn({ err, uri }, 'registry read failed; routing by the replica as it is');
      return null;
    });
    if (e) this.applyEntry(e);
  }

  /**
   * A bucket entry for the replica. Callees of this node that it lacks, though they never
   * unregistered and were not pushed out by force, were reaped by a node that took this one for
   * dead: the replica keeps them (as the registry rules would add them) while they are written back.
   */
  private applyEntry(e: KvEntry, over = false): void {
    const reg = this.withoutRemoved(e.key, entryReg(e));
    const held = this.mine.get(e.key);
    const self = this.link.nodeId;
    let kept = reg;
    for (const [session, r] of held ? [...held] : []) {
      if (reg?.callees.some((c) => c.node === self && c.session === session)) continue;
      if (forcedOut(reg, self, session)) {
        this.forget(e.key, session);
        continue;
      }
      const d = applyRegister(kept, r);
      if ('error' in d) {
        this.link.log.warn({ uri: r.uri, session }, 'a registration of this node was made elsewhere while this node was taken for dead: its callee here is revoked');
        this.forget(e.key, session);
        continue;
      }
      kept = d.next;
      void this.restore(e.key, r);
    }
    this.replica.apply(e.key, e.revision, kept, over);
  }

  /** Writes back a callee of this node that a reaper removed (see applyEntry). */
  private async restore(key: string, r: RegisterRequest): Promise<void> {
    const kv = this.kv;
    const id = `${key}/${r.callee.session}`;
    if (!kv || this.restoring.has(id)) return;
    this.restoring.add(id);
    const stillMine = () => this.mine.get(key)?.has(r.callee.session) === true;
    const change = (current: ClusterReg | undefined): ClusterReg | Refusal | 'unchanged' => {
      if (!stillMine() || current?.callees.some((c) => c.node === r.callee.node && c.session === r.callee.session)) return 'unchanged';
      const d = applyRegister(current, r);
      return 'error' in d ? d : d.next;
    };
    // Background work, not a client's REGISTER: as patient as a reaper (JetStream may still be settling).
    const deadline = Date.now() + REAP_PATIENCE_MS;
    try {
      for (;;) {
        try {
          const outcome = await this.link.track(casUpdate(kv, key, change, isRefusal));
          if (isRefusal(outcome)) {
            this.link.log.warn({ uri: r.uri, session: r.callee.session }, 'a registration of this node was made elsewhere while this node was taken for dead: its callee here is revoked');
            this.forget(key, r.callee.session);
            const e = await kv.get(key);
            if (e) this.applyEntry(e, true);
            else this.replica.apply(key, Math.floor(this.replica.get(key)?.revision ?? 0), undefined, true);
          } else if (outcome !== 'unchanged') {
            this.link.log.info({ uri: r.uri, session: r.callee.session }, 'registered again a callee of this node that a node which took it for dead had removed');
            this.replica.apply(key, outcome.revision, outcome.reg);
            // It unregistered while the write was under way: take it out again.
            if (!stillMine()) await casUpdate(kv, key, (current) => applyUnregister(current, r.callee.node, r.callee.session), never);
          }
          return;
        } catch (err) {
          if (Date.now() > deadline || this.link.isStopping) throw err;
          await new Promise((res) => setTimeout(res, RETRY_MS));
        }
      }
    } catch (err) {
      this.link.log.warn({ err, uri: r.uri }, 'a callee of this node removed while it was taken for dead could not be registered again: other nodes do not route to it');
    } finally {
      this.restoring.delete(id);
    }
  }

  private forget(key: string, session: number): void {
    const held = this.mine.get(key);
    if (held?.delete(session) && held.size === 0) this.mine.delete(key);
  }

  /**
   * A node taken for dead is heard again: read the keys its callees were dropped from here from
   * the bucket, over the local drop (the reap may never have reached the bucket).
   */
  async nodeBack(node: string): Promise<void> {
    const kv = this.kv;
    const keys = this.droppedFor.get(node);
    this.droppedFor.delete(node);
    if (!kv || !keys) return;
    await Promise.all([...keys].map(async (key) => {
      const e = await kv.get(key).catch((err: unknown) => {
        this.link.log.warn({ err, node }, 'registry read failed: a returning node\'s callees may stay unknown here until the key changes');
        return null;
      });
      if (e) this.applyEntry(e, true);
    }));
  }

  /**
   * A node died: its callees leave this replica at once (calls stop going there) and, if this
   * node is the reaper, the registry.
   */
  nodeLost(node: string, reaper: boolean): Promise<void> {
    const affected: string[] = [];
    for (const [key, e] of [...this.replica.keyed()]) {
      const next = e.reg ? applyNodeLoss(e.reg, node) : 'unchanged';
      if (next === 'unchanged') continue;
      affected.push(key);
      this.replica.apply(key, e.revision + 0.5, next);
    }
    if (node !== this.link.nodeId && affected.length > 0) {
      let keys = this.droppedFor.get(node);
      if (!keys) this.droppedFor.set(node, (keys = new Set()));
      for (const k of affected) keys.add(k);
    }
    return reaper ? this.reap(node, affected) : Promise.resolve();
  }

  /** Whether the registry names a callee on `node`. */
  hasCalleesOf(node: string): boolean {
    for (const [, e] of this.replica.keyed()) if (e.reg?.callees.some((c) => c.node === node)) return true;
    return false;
  }

  /** Removes a lost node's callees from the registry keys that name it (`keys`, from the replica). */
  private async reap(node: string, keys: readonly string[]): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const started = Date.now();
    const deadline = started + REAP_PATIENCE_MS;
    let failed = 0;
    const reapKey = (key: string) => casUpdate(kv, key, (current) => (current ? applyNodeLoss(current, node) : 'unchanged'), never);
    await Promise.all(keys.map((key) =>
      this.link.track(retried(() => reapKey(key), deadline, () => this.link.isStopping)).catch((err: unknown) => {
        failed++;
        this.link.log.warn({ err, key, node }, 'reaping a lost node\'s registration failed: its callees stay in the registry');
      }),
    ));
    this.link.log.info({ node, keys: keys.length, failed, ms: Date.now() - started }, 'reaped the registrations of a lost node');
  }
}
