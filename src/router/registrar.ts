/**
 * REGISTER and UNREGISTER, and this node's mirror of the registry (`registryChanged`): a
 * registration is made in the backplane registry (cluster-wide order and uniqueness) and answered
 * with REGISTERED once this node has mirrored it; a local callee that disappears from the
 * registry without having unregistered was revoked (registration_revocation), and a registration
 * left without callees takes the calls that waited for it along.
 */
import type { Logger } from 'pino';
import type { Authorizer } from '../auth/authorizer.js';
import type { Backplane, ClusterReg } from '../backplane/backplane.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { textContent, type Register, type Unregister } from '../wamp/messages.js';
import { isReservedUri, type MatchPolicy } from '../wamp/uri.js';
import type { DealerHooks } from './dealer.js';
import type { PendingCalls } from './pending-calls.js';
import type { Callee, Registration } from './registration.js';
import type { RegistrationTable } from './registration-table.js';
import type { Session } from './session.js';
import { LimitKey } from './session-limits.js';

export class Registrar {
  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
    private readonly backplane: Backplane,
    private readonly table: RegistrationTable,
    private readonly calls: PendingCalls,
    private readonly hooks: () => DealerHooks | undefined,
    /** Lets waiting calls of a registration go to callees with room. */
    private readonly drain: (reg: Registration) => void,
    private readonly log: Logger,
  ) {}

  register(session: Session, m: Register): void {
    const { procedure, options } = m;
    const refuse = (error: string, message: string) => session.sendError(T.REGISTER, m.request, error, [message]);
    // Crossbar.io answers invalid_uri for a restricted procedure URI.
    if (isReservedUri(procedure)) return refuse(ErrorUri.invalidUri, `procedure "${procedure}" is reserved for the router (wamp.*)`);
    if (!this.authorizer.authorize(session.authrole, procedure, 'register').allow) {
      return refuse(ErrorUri.notAuthorized, `session is not authorized to register procedure "${procedure}"`);
    }
    const max = session.limits.maxRegistrations;
    if (max !== undefined && (this.table.of(session)?.size ?? 0) + this.table.registeringCount(session.id) >= max) {
      return session.refuseOverLimit(T.REGISTER, m.request, LimitKey.registrations, max, 'this session has the most registrations it may have');
    }
    const callee = {
      node: this.backplane.nodeId, session: session.id, authid: session.authid, authrole: session.authrole,
      concurrency: options.concurrency, discloseCaller: options.discloseCaller,
    };
    this.table.registerStarted(session.id);
    this.backplane
      .register(this.realm, procedure, options.match, options.invoke, callee, options.forceReregister)
      .finally(() => this.table.registerEnded(session.id))
      .then((outcome) => {
        if (!session.isOpen) {
          // The session left while the registry answered: take the registration back.
          if (!('error' in outcome)) this.backplane.unregister(this.realm, procedure, options.match, session.id);
          return;
        }
        if ('error' in outcome) return refuse(outcome.error, outcome.message);
        const reg = this.table.get(procedure, options.match);
        const mine = reg?.calleeOf(session);
        if (!reg || !mine) return refuse(ErrorUri.registryUnavailable, 'the registration was lost while it was being made');
        mine.ready = true;
        session.send({ type: T.REGISTERED, request: m.request, registration: reg.id });
        this.hooks()?.registered(session, reg, reg.callees.length === 1);
        // A new callee of a shared registration takes waiting calls at once (after its REGISTERED).
        this.drain(reg);
      })
      .catch((err: unknown) => {
        this.log.error({ err, procedure }, 'register failed');
        if (session.isOpen) refuse(ErrorUri.registryUnavailable, 'the registry failed');
      })
      // Invocations from other nodes that waited for this REGISTER may go now.
      .finally(() => this.table.settle(session.id));
  }

  unregister(session: Session, m: Unregister): void {
    const reg = this.table.byRegistrationId(m.registration);
    const last = reg ? this.removeLocalCallee(reg, session) : undefined;
    if (!reg || last === undefined) {
      return session.sendError(T.UNREGISTER, m.request, ErrorUri.noSuchRegistration, [
        `session has no registration ${m.registration}`,
      ]);
    }
    // Invocations already sent stay valid: the callee may still answer them.
    session.send({ type: T.UNREGISTERED, request: m.request });
    this.hooks()?.unregistered(session, reg, last);
    this.afterCalleeRemoved(reg);
  }

  /**
   * The registry changed (here or on another node): mirror the registration's callees in their
   * cluster order. A local callee that disappears without having unregistered was revoked.
   */
  registryChanged(uri: string, match: MatchPolicy, cr: ClusterReg | undefined): void {
    if (!cr || cr.callees.length === 0) {
      const reg = this.table.get(uri, match);
      if (reg) this.dropRegistration(reg, `procedure "${uri}" was removed`);
      return;
    }
    const { reg, gone } = this.table.mirror(uri, match, cr);
    for (const c of gone) this.revoked(reg, c, `procedure "${uri}" was registered by another session (force_reregister, or a single registration made while this node was cut off)`);
    if (reg.callees.length === 0) this.dropRegistration(reg, `procedure "${uri}" was removed`);
    else this.drain(reg);
  }

  /**
   * Registration revocation (registration_revocation): the router removes this node's callees
   * of `reg`, telling those that announced the feature with UNREGISTERED [67, 0, {registration,
   * reason}]. Invocations already sent stay valid, as after UNREGISTER.
   */
  revoke(reg: Registration, reason: string): void {
    for (const c of [...reg.callees]) {
      const last = c.session ? this.removeLocalCallee(reg, c.session) : undefined;
      if (c.session && last !== undefined) {
        this.tellRevoked(c.session, reg, reason);
        this.hooks()?.unregistered(c.session, reg, last);
      }
    }
    this.afterCalleeRemoved(reg);
  }

  private revoked(reg: Registration, callee: Callee, reason: string): void {
    const session = callee.session;
    if (!session || !this.table.isCallee(session, reg)) return; // it unregistered itself
    this.table.untrack(session, reg);
    this.tellRevoked(session, reg, reason);
    this.hooks()?.unregistered(session, reg, false);
  }

  private tellRevoked(session: Session, reg: Registration, reason: string): void {
    if (session.supports('callee', 'registration_revocation')) {
      session.send({ type: T.UNREGISTERED, request: 0, details: { registration: reg.id, reason } });
    }
  }

  /**
   * Removes a local callee here and from the registry: undefined if it was none, else whether the
   * registry has no callee left anywhere (at once on one node, once written in a cluster).
   */
  private removeLocalCallee(reg: Registration, session: Session): boolean | Promise<boolean> | undefined {
    if (!reg.remove(session)) return undefined;
    this.table.untrack(session, reg);
    return this.backplane.unregister(this.realm, reg.uri, reg.match, session.id);
  }

  /** A registration without callees is gone, and so are the calls that waited for it. */
  private afterCalleeRemoved(reg: Registration): void {
    if (reg.callees.length > 0) return this.drain(reg);
    this.dropRegistration(reg, `procedure "${reg.uri}" was unregistered`);
  }

  private dropRegistration(reg: Registration, reason: string): void {
    for (const c of [...reg.callees]) this.revoked(reg, c, reason);
    this.table.remove(reg);
    for (const p of this.calls.dropQueue(reg)) {
      if (!this.calls.finish(p)) continue;
      p.answer.error(p, ErrorUri.canceled, textContent(`procedure "${reg.uri}" was unregistered while the call waited`), {});
    }
  }

  /** A session leaves: it is a callee of nothing any more. */
  removeCallee(session: Session): void {
    const regs = this.table.of(session);
    for (const reg of regs ? [...regs] : []) {
      const last = this.removeLocalCallee(reg, session);
      if (last === undefined) continue;
      this.hooks()?.unregistered(session, reg, last);
      this.afterCalleeRemoved(reg);
    }
    this.table.forget(session);
  }
}
