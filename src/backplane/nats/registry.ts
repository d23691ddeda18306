/**
 * The cluster's registrations (design/cluster.md §4): the JetStream KV bucket
 * `xbar_<cluster>_reg` written by compare-and-set under the rules every backplane shares
 * (registry-rules.ts), and this node's replica of it, fed by a KV watch. Writes retry through a
 * JetStream leader election until the registry timeout.
 */
import type { KV, NatsConnection } from 'nats';
import type { MatchPolicy } from '../../wamp/uri.js';
import { ErrorUri } from '../../wamp/errors.js';
import type { InvokePolicy } from '../../wamp/messages.js';
import type { ClusterCallee, ClusterReg, RegisterOutcome } from '../backplane.js';
import { applyNodeLoss, applyRegister, applyUnregister } from '../registry-rules.js';
import { initialValues, type NatsLink, withTimeout } from './link.js';
import { casUpdate, type Change, RegistryReplica, registryKey } from './registry-kv.js';

const RETRY_MS = 200;

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

  constructor(
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
    changed: Change,
  ) {
    this.replica = new RegistryReplica(changed);
  }

  /** Opens the bucket and waits (bounded) for the replica's initial values. */
  async start(nc: NatsConnection): Promise<void> {
    const kv = await this.link.kv(nc, 'reg');
    this.kv = kv;
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of iter) this.replica.applyEntry(e);
    })().catch((err: unknown) => this.link.log.error({ err }, 'registry watch ended: this node no longer hears of registrations elsewhere'));
    await initialValues(initialized, 'registry watch', this.link.log);
  }

  async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    const kv = this.kv;
    if (!kv) return { error: ErrorUri.registryUnavailable, message: 'the cluster registry is not available' };
    const key = registryKey(realm, uri, match);
    const change = (current: ClusterReg | undefined): ClusterReg | Refusal => {
      const d = applyRegister(current, { realm, uri, match, invoke, callee, force });
      return 'error' in d ? d : d.next;
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
    this.replica.apply(key, outcome.revision, outcome.reg);
    return { regId: outcome.reg!.regId };
  }

  unregister(realm: string, uri: string, match: MatchPolicy, session: number): void {
    const kv = this.kv;
    if (!kv) return;
    const key = registryKey(realm, uri, match);
    const node = this.link.nodeId;
    // The local replica forgets the callee at once; the KV write follows (retried by casUpdate).
    const known = this.replica.get(key);
    if (known?.reg) {
      const next = applyUnregister(known.reg, node, session);
      if (next !== 'unchanged') this.replica.apply(key, known.revision + 0.5, next);
    }
    const before = this.leaving.get(key) ?? Promise.resolve();
    const write = before
      .then(() => casUpdate(kv, key, (current) => applyUnregister(current, node, session), never))
      .then((r) => {
        if (r !== 'unchanged') this.replica.apply(key, r.revision, r.reg);
      })
      .catch((err: unknown) => this.link.log.warn({ err, uri }, 'registry cleanup failed; the reaper will retry when this node is gone'));
    this.leaving.set(key, write);
    void this.link.track(write).finally(() => {
      if (this.leaving.get(key) === write) this.leaving.delete(key);
    });
  }

  async refresh(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const key = registryKey(realm, uri, match);
    const e = await kv.get(key).catch((err: unknown) => {
      this.link.log.warn({ err, uri }, 'registry read failed; routing by the replica as it is');
      return null;
    });
    if (e) this.replica.applyEntry(e);
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
    let failed = 0;
    await Promise.all(keys.map((key) =>
      this.link.track(casUpdate(kv, key, (current) => (current ? applyNodeLoss(current, node) : 'unchanged'), never)).catch((err: unknown) => {
        failed++;
        this.link.log.warn({ err, key, node }, 'reaping a lost node\'s registration failed: its callees stay in the registry');
      }),
    ));
    this.link.log.info({ node, keys: keys.length, failed, ms: Date.now() - started }, 'reaped the registrations of a lost node');
  }
}
