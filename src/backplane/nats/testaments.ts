/**
 * Testaments that outlive their node (design/cluster.md §6): each node keeps a copy of its
 * sessions' testaments in the KV bucket `xbar_<cluster>_testament`, one key per session; when a
 * node dies, the reaper publishes the testaments it left and deletes them.
 *
 * The record is the right to publish (issue 17, point 5): whoever deletes it at the revision it
 * read publishes it, nobody else. The reaper deletes, then publishes; the owner, when the session
 * ends, deletes at the revision it wrote — if a reaper had deleted it (it took this node for dead
 * while the session lived on), the owner publishes nothing, so no testament goes out twice. A
 * session whose record was reaped writes no more copies (testaments it adds later are lost with it).
 */
import { createHash } from 'node:crypto';
import type { KV, NatsConnection } from 'nats';
import type { StoredTestament } from '../backplane.js';
import { decodeTestaments, encodeTestaments } from './frame.js';
import { type NatsLink, withTimeout } from './link.js';
import { isConflict } from './registry-kv.js';
import { REAP_PATIENCE_MS, RETRY_MS, retried } from './retried.js';

export class NatsTestaments {
  private kv: KV | undefined;
  /** Testaments are kept from `accept()` on (after an earlier run's were reaped at start). */
  private accepting = false;
  /** Per-session chain of writes, so the last change is the one that stays. */
  private readonly writes = new Map<number, Promise<unknown>>();
  /** The revision of each session's record as this node last wrote it. */
  private readonly written = new Map<number, number>();
  /** Sessions whose record another node deleted (and published). */
  private readonly reaped = new Set<number>();
  /**
   * Sessions whose first write went unanswered (a timeout): it may have landed, and a reaper may
   * have published and deleted it since, so the end of the session looks in the bucket.
   */
  private readonly unsure = new Set<number>();

  constructor(
    private readonly link: NatsLink,
    private readonly publish: (realm: string, testaments: readonly StoredTestament[]) => void,
  ) {}

  async start(nc: NatsConnection): Promise<void> {
    this.kv = await this.link.kv(nc, 'testament');
  }

  accept(): void {
    this.accepting = true;
  }

  keep(realm: string, session: number, testaments: readonly StoredTestament[]): void {
    const kv = this.kv;
    if (!kv || !this.accepting) return;
    const key = this.key(session);
    const write = async (): Promise<void> => {
      for (let tries = 0; tries < 2 && !this.reaped.has(session); tries++) {
        const revision = this.written.get(session);
        try {
          if (testaments.length === 0) {
            if (revision !== undefined) await kv.delete(key, { previousSeq: revision });
            this.written.delete(session);
          } else {
            const data = encodeTestaments(realm, testaments);
            this.written.set(session, revision === undefined ? await kv.create(key, data) : await kv.update(key, data, revision));
            this.unsure.delete(session);
          }
          return;
        } catch (err) {
          if (revision === undefined && !isConflict(err)) this.unsure.add(session);
          if (!isConflict(err) || !(await this.takenBy(kv, session))) throw err;
        }
      }
    };
    this.chain(session, write, (err) => this.link.log.warn({ err, session }, 'testament copy not written: it is lost if this node dies'));
  }

  /**
   * The session ended: true when its testaments are this node's to publish (its record deleted
   * here at the revision it wrote, or none written), false when a reaper deleted it first. While
   * JetStream does not answer it asks again, until it does or the node stops.
   */
  release(session: number): Promise<boolean> {
    return new Promise((resolve) => {
      const attempt = async (): Promise<void> => {
        const kv = this.kv;
        for (;;) {
          if (this.reaped.delete(session)) return resolve(false);
          const revision = this.written.get(session);
          if (!kv || (revision === undefined && !this.unsure.has(session))) return resolve(true);
          try {
            if (revision === undefined) {
              // A first write went unanswered: none in the bucket means it never landed (ours to
              // publish); a deletion, that a reaper published it; a record, that it landed.
              const e = await kv.get(this.key(session));
              this.unsure.delete(session);
              if (!e) return resolve(true);
              if (e.operation === 'PUT') this.written.set(session, e.revision);
              else {
                this.link.log.warn({ session }, 'another node published this session\'s testaments (it took this node for dead): they are not published again');
                this.reaped.add(session);
              }
              continue;
            }
            await kv.delete(this.key(session), { previousSeq: revision });
            this.written.delete(session);
            return resolve(true);
          } catch (err) {
            if (isConflict(err) && (await this.takenBy(kv, session).catch(() => false))) continue;
            if (this.link.isStopping) return resolve(true);
            this.link.complaints.warn('testament-release', { err: (err as Error).message }, 'the cluster\'s copy of a leaving session\'s testaments cannot be released yet: they are published once JetStream answers');
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      };
      this.chain(session, attempt, () => resolve(true));
    });
  }

  /**
   * A write at the revision this node knew conflicted: either a reaper deleted the record (it is
   * then marked reaped) or an earlier write of ours landed unanswered (its revision is adopted).
   * True when the caller should look again.
   */
  private async takenBy(kv: KV, session: number): Promise<boolean> {
    const e = await kv.get(this.key(session));
    if (e && e.operation === 'PUT') {
      this.written.set(session, e.revision);
    } else {
      this.written.delete(session);
      if (!this.reaped.has(session)) this.link.log.warn({ session }, 'another node published this session\'s testaments (it took this node for dead): they are not published again');
      this.reaped.add(session);
    }
    return true;
  }

  private key(session: number): string {
    return `t.${nodeKey(this.link.nodeId)}.${session}`;
  }

  /** Runs `step` after the session's earlier writes. */
  private chain(session: number, step: () => Promise<void>, failed: (err: unknown) => void): void {
    const previous = this.writes.get(session) ?? Promise.resolve();
    const next = previous.then(step, step).catch(failed);
    this.writes.set(session, next);
    void this.link.track(next).finally(() => {
      if (this.writes.get(session) === next) this.writes.delete(session);
    });
  }

  /** Publishes (through one node, the reaper) the testaments of a dead node's sessions. */
  async reap(node: string): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const log = this.link.log.child({ node });
    // The whole listing first: a key deleted while nats.js lists the others ends the listing early.
    // JetStream may be electing a leader (a server was lost with the node): list again until it answers.
    const deadline = Date.now() + REAP_PATIENCE_MS;
    let keys: string[] = [];
    for (;;) {
      keys = [];
      try {
        // A listing can stall, not fail, while the bucket's stream has no leader: each try is bounded.
        const listed: string[] = [];
        await withTimeout((async () => {
          for await (const key of await kv.keys(`t.${nodeKey(node)}.>`)) listed.push(key);
        })(), LIST_TIMEOUT_MS);
        keys = listed;
        break;
      } catch (err) {
        if (Date.now() < deadline && !this.link.isStopping) {
          await new Promise((r) => setTimeout(r, RETRY_MS));
          continue;
        }
        log.error({ err, listed: keys.length }, 'the testaments of a lost node could not all be listed: those not listed are not published');
        break;
      }
    }
    let published = 0;
    let failed = 0;
    for (const key of keys) {
      const n = await this.reapOne(kv, key, log, deadline);
      if (n === undefined) failed++;
      else published += n;
    }
    if (published > 0 || failed > 0) log.info({ published, sessionsFailed: failed }, 'published the testaments of a lost node');
  }

  /**
   * One session's testaments, deleted at the revision read and then published (at most once: a
   * record its owner or another reaper deleted first is theirs): how many; undefined (logged) if
   * they could not be.
   */
  private async reapOne(kv: KV, key: string, log: NatsLink['log'], deadline: number): Promise<number | undefined> {
    try {
      const e = await retried(() => kv.get(key), deadline, () => this.link.isStopping);
      if (!e || e.operation !== 'PUT') return 0;
      const record = (() => {
        try {
          return decodeTestaments(e.value);
        } catch (err) {
          log.error({ err, key }, 'a testament of a lost node could not be read or published');
          return undefined;
        }
      })();
      try {
        await retried(() => kv.delete(key, { previousSeq: e.revision }), deadline, () => this.link.isStopping);
      } catch (err) {
        if (isConflict(err)) return 0;
        throw err;
      }
      if (!record) return undefined;
      this.publish(record.realm, record.testaments);
      return record.testaments.length;
    } catch (err) {
      log.error({ err, key }, 'a testament of a lost node could not be read or published');
      return undefined;
    }
  }
}

const LIST_TIMEOUT_MS = 3000;

/** A node id as one KV key token. */
function nodeKey(node: string): string {
  return createHash('sha256').update(node).digest('hex').slice(0, 24);
}
