/**
 * The session-side half of dynamic authorization: PUBLISH, SUBSCRIBE, CALL and REGISTER of a
 * session whose role has an authorizer wait for its decision before they reach the broker or
 * dealer. While one waits, every later message of that session waits behind it, so the session's
 * messages keep their order (the ordering guarantee of basic/security_model.md holds per session).
 * A denial is ERROR `wamp.error.not_authorized` to that request only; an authorizer that fails to
 * decide gives `wamp.error.authorization_failed`, as in Crossbar.io (`router/broker.py`).
 */
import type { Logger } from 'pino';
import type { Action } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, WampMessage } from '../wamp/messages.js';
import type { Identity } from './authenticator.js';
import type { Authorizer, Decision } from './authorizer.js';
import { transportDetails } from './dynamic.js';

/** Messages a session may queue behind a pending decision before it is cut off. */
const MAX_QUEUED = 1000;

/** What the gate needs of a session (structurally, `router/session.ts`'s Session). */
export interface GatedSession {
  readonly id: number;
  readonly isOpen: boolean;
  readonly identity: Identity | undefined;
  readonly conn: { readonly peer: PeerInfo };
  sendError(requestType: number, request: number, error: string, args?: unknown[]): void;
  abort(reason: string, message: string): void;
}

interface Request {
  readonly uri: string;
  readonly action: Action;
  readonly what: string;
  readonly requestType: number;
  readonly request: number;
  readonly options: Dict;
  /** An unacknowledged PUBLISH gets no ERROR (basic/pubsub.md, "Publishing"). */
  readonly answer: boolean;
}

function requestOf(m: WampMessage): Request | undefined {
  switch (m.type) {
    case T.PUBLISH:
      return { uri: m.topic, action: 'publish', what: 'topic', requestType: T.PUBLISH, request: m.request, options: m.rawOptions, answer: m.options.acknowledge };
    case T.SUBSCRIBE:
      return { uri: m.topic, action: 'subscribe', what: 'topic', requestType: T.SUBSCRIBE, request: m.request, options: m.rawOptions, answer: true };
    case T.CALL:
      return { uri: m.procedure, action: 'call', what: 'procedure', requestType: T.CALL, request: m.request, options: m.rawOptions, answer: true };
    case T.REGISTER:
      return { uri: m.procedure, action: 'register', what: 'procedure', requestType: T.REGISTER, request: m.request, options: m.rawOptions, answer: true };
    default:
      return undefined;
  }
}

export class AuthorizationGate {
  private readonly queue: WampMessage[] = [];
  private waiting = false;

  constructor(
    private readonly authorizer: Authorizer,
    private readonly realm: string,
    private readonly session: GatedSession,
    private readonly dispatch: (m: WampMessage) => void,
    private readonly log: Logger,
  ) {}

  submit(m: WampMessage): void {
    if (!this.waiting) return this.run(m);
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.length = 0;
      this.session.abort(ErrorUri.tooManyPending, `more than ${MAX_QUEUED} messages waiting for the dynamic authorizer`);
      return;
    }
    this.queue.push(m);
  }

  private run(m: WampMessage): void {
    const req = requestOf(m);
    if (req === undefined) return this.dispatch(m);
    const role = this.session.identity!.authrole;
    const cached = this.authorizer.cached(role, req.uri, req.action);
    if (cached !== undefined) return this.apply(m, req, role, cached);
    this.waiting = true;
    void this.authorizer.decide(this.details(), role, req.uri, req.action, req.options).then((decision) => {
      this.waiting = false;
      if (!this.session.isOpen) {
        this.queue.length = 0;
        return;
      }
      this.apply(m, req, role, decision);
      while (!this.waiting && this.queue.length > 0 && this.session.isOpen) this.run(this.queue.shift()!);
    });
  }

  private apply(m: WampMessage, req: Request, role: string, decision: Decision | 'failed'): void {
    if (decision === 'failed') return this.refuse(req, ErrorUri.authorizationFailed, `failed to authorize session to ${req.action} on ${req.what} "${req.uri}"`);
    if (!decision.allow) {
      const object = req.what === 'topic' ? 'to topic' : 'procedure';
      return this.refuse(req, ErrorUri.notAuthorized, `session is not authorized to ${req.action} ${object} "${req.uri}"`);
    }
    this.authorizer.withDecision(role, req.uri, req.action, decision, () => this.dispatch(m));
  }

  private refuse(req: Request, uri: string, message: string): void {
    if (!req.answer) {
      this.log.debug({ session: this.session.id, uri: req.uri, reason: uri }, 'unacknowledged publish refused');
      return;
    }
    this.session.sendError(req.requestType, req.request, uri, [message]);
  }

  /** The `session` argument of the authorizer: Crossbar.io's session details. */
  private details(): Dict {
    const id = this.session.identity!;
    return {
      session: this.session.id,
      realm: this.realm,
      authid: id.authid,
      authrole: id.authrole,
      authmethod: id.authmethod,
      authprovider: id.authprovider,
      authextra: id.authextra ?? null,
      transport: transportDetails(this.session.conn.peer),
    };
  }
}
