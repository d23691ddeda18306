/**
 * This node's mirror of the realm's registrations (the backplane registry is the truth): by URI
 * and match policy for routing, by id for UNREGISTER and the meta API, and by local callee
 * session so a leaving session costs ∝ its own registrations. It also knows which local sessions
 * have a REGISTER in progress, and wakes whoever waits for one to settle (`settled`).
 */
import type { ClusterReg } from '../backplane/backplane.js';
import { MatchIndex } from '../match/match-index.js';
import type { MatchPolicy } from '../wamp/uri.js';
import { type Callee, Registration } from './registration.js';
import type { Session } from './session.js';

export class RegistrationTable {
  private readonly index = new MatchIndex<Registration>();
  private readonly byId = new Map<number, Registration>();
  /** Registrations each local session is a callee of. */
  private readonly bySession = new Map<Session, Set<Registration>>();
  /** REGISTERs in progress with the registry, by session id. */
  private readonly registering = new Map<number, number>();
  /** Who waits for a REGISTER of a session to settle, by session id. */
  private readonly waiters = new Map<number, Set<() => void>>();

  constructor(
    private readonly nodeId: string,
    private readonly sessions: ReadonlyMap<number, Session>,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** The registration under exactly (uri, match), with or without callees. */
  get(uri: string, match: MatchPolicy): Registration | undefined {
    return this.index.get(uri, match);
  }

  /** The registration a call to `procedure` is routed by (callees or not). */
  best(procedure: string): Registration | undefined {
    return this.index.best(procedure)?.value;
  }

  byRegistrationId(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Registration> {
    return this.byId.values();
  }

  /**
   * Mirrors the registry's registration `cr` (with callees): the local one is created if new,
   * its callees follow the cluster order. Returns it and the local callees that are no longer
   * in the registry (revoked: they did not unregister themselves).
   */
  mirror(uri: string, match: MatchPolicy, cr: ClusterReg): { reg: Registration; gone: Callee[] } {
    let reg = this.index.get(uri, match);
    if (!reg) {
      reg = new Registration(cr.regId, uri, match, cr.invoke);
      this.index.set(uri, match, reg);
      this.byId.set(reg.id, reg);
    }
    reg.invoke = cr.invoke;
    const old = new Map(reg.callees.map((c) => [`${c.node}/${c.sessionId}`, c]));
    const next: Callee[] = [];
    for (const c of cr.callees) {
      const key = `${c.node}/${c.session}`;
      let callee = old.get(key);
      if (callee) {
        old.delete(key);
      } else {
        const local = c.node === this.nodeId;
        const session = local ? this.sessions.get(c.session) : undefined;
        if (local && !session?.isOpen) continue;
        callee = {
          node: c.node, sessionId: c.session, session, registration: reg, concurrency: c.concurrency,
          discloseCaller: c.discloseCaller, inflight: 0, ready: !local,
        };
        if (session) this.track(session, reg);
      }
      next.push(callee);
    }
    reg.setCallees(next);
    return { reg, gone: [...old.values()] };
  }

  /** Forgets a registration that has no callee left. */
  remove(reg: Registration): void {
    reg.setCallees([]);
    if (this.index.get(reg.uri, reg.match) === reg) this.index.delete(reg.uri, reg.match);
    if (this.byId.get(reg.id) === reg) this.byId.delete(reg.id);
  }

  /** The registrations `session` is a local callee of. */
  of(session: Session): ReadonlySet<Registration> | undefined {
    return this.bySession.get(session);
  }

  isCallee(session: Session, reg: Registration): boolean {
    return this.bySession.get(session)?.has(reg) === true;
  }

  track(session: Session, reg: Registration): void {
    let regs = this.bySession.get(session);
    if (!regs) this.bySession.set(session, (regs = new Set()));
    regs.add(reg);
  }

  untrack(session: Session, reg: Registration): void {
    const regs = this.bySession.get(session);
    regs?.delete(reg);
    if (regs?.size === 0) this.bySession.delete(session);
  }

  /** The session left: it is no callee any more, and nobody waits for its REGISTERs. */
  forget(session: Session): void {
    this.bySession.delete(session);
    this.settle(session.id);
  }

  // ---- REGISTERs in progress ---------------------------------------------------------------

  registerStarted(sessionId: number): void {
    this.registering.set(sessionId, (this.registering.get(sessionId) ?? 0) + 1);
  }

  registerEnded(sessionId: number): void {
    const left = (this.registering.get(sessionId) ?? 1) - 1;
    if (left > 0) this.registering.set(sessionId, left);
    else this.registering.delete(sessionId);
  }

  /** The realm's session `sessionId` (a callee to be, perhaps). */
  session(sessionId: number): Session | undefined {
    return this.sessions.get(sessionId);
  }

  /** REGISTERs of `sessionId` in progress. */
  registeringCount(sessionId: number): number {
    return this.registering.get(sessionId) ?? 0;
  }

  isRegistering(sessionId: number): boolean {
    return this.registering.has(sessionId);
  }

  /**
   * Resolves when a REGISTER of `sessionId` has settled (answered, refused, or its session left),
   * or when `until` resolves, whichever comes first.
   */
  settled(sessionId: number, until: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      let waiting = this.waiters.get(sessionId);
      if (!waiting) this.waiters.set(sessionId, (waiting = new Set()));
      const list = waiting;
      const done = () => {
        list.delete(done);
        if (list.size === 0 && this.waiters.get(sessionId) === list) this.waiters.delete(sessionId);
        resolve();
      };
      list.add(done);
      void until.then(done);
    });
  }

  /** A REGISTER of `sessionId` settled: wakes whoever waits for it. */
  settle(sessionId: number): void {
    const waiting = this.waiters.get(sessionId);
    if (waiting) for (const done of [...waiting]) done();
  }
}
