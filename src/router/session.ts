/**
 * One WAMP session over one connection: the opening handshake (HELLO → [CHALLENGE ↔
 * AUTHENTICATE] → WELCOME | ABORT), dispatch of established traffic to the realm's broker and
 * dealer, and the closing handshake. Every protocol error ends only this session, with ABORT.
 */
import type { Logger } from 'pino';
import type { AuthOutcome, Authenticator, AuthenticatorFactory, Identity } from '../auth/authenticator.js';
import { AuthorizationGate } from '../auth/authorization-gate.js';
import { CloseCode } from '../connection/close-codes.js';
import type { CloseCause, Connection, ConnectionHandler } from '../connection/connection.js';
import type { PeerInfo } from '../connection/peer.js';
import { Outgoing } from '../connection/outgoing.js';
import { MessageType as T } from '../wamp/codes.js';
import { decodeMessage } from '../wamp/decode.js';
import { encodeMessage, withPayload } from '../wamp/encode.js';
import { CloseUri, ErrorUri } from '../wamp/errors.js';
import type { Args, Content, Dict, Hello, Kwargs, WampMessage } from '../wamp/messages.js';
import { ProtocolViolation, RequestRejected } from '../wamp/violation.js';
import { IllFormedTextError } from '../serializers/serializer.js';
import { VIEW_PAYLOAD_MIN } from '../serializers/splice.js';
import { routerRoles } from './features.js';
import { illFormedReply } from './ill-formed.js';
import type { Realm } from './realm.js';
import { LimitKey, NO_LIMITS, overLimit, type SessionLimits } from './session-limits.js';

export interface SessionOptions {
  /** ms to complete the opening handshake. */
  readonly helloTimeout: number;
  /** Authentication methods the transport offers, by method name. */
  readonly authenticators: ReadonlyMap<string, AuthenticatorFactory>;
  /** Caps on what the session may hold; default none. */
  readonly limits?: SessionLimits;
}

export interface RealmDirectory {
  realm(name: string): Realm | undefined;
  /** Sessions in any state from the client address of `peer` (this one included). */
  sessionsFrom?(remoteAddress: string): number;
  /** Asked at each HELLO: an answer refuses the session with that ABORT (a full node). */
  admit?(peer: PeerInfo): SessionRefusal | undefined;
}

/** An ABORT that refuses a session before authentication. */
export interface SessionRefusal {
  readonly reason: string;
  readonly message: string;
  readonly details: Dict;
}

type State = 'hello' | 'authenticating' | 'open' | 'closing' | 'closed';

/** HELLO, WELCOME and a few CHALLENGE/AUTHENTICATE rounds: what a handshake's statistics keep. */
const MAX_HANDSHAKE_MESSAGES = 16;

/** How long a router-initiated GOODBYE waits for the peer's reply. */
const GOODBYE_WAIT_MS = 2000;

export class Session implements ConnectionHandler {
  id = 0;
  realm: Realm | undefined;
  identity: Identity | undefined;
  private state: State = 'hello';
  /** The features of HELLO.Details.roles the router asks about (`supports`), as bits: the roles dict is not kept. */
  private features = 0;
  private authenticator: Authenticator | undefined;
  private gate: AuthorizationGate | undefined;
  private pendingHello: Hello | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Called once when the session has fully ended (left its realm, connection closed). */
  onEnded: (() => void) | undefined;
  /** Why the connection ended, once it has (logs, tests). */
  closeCause: CloseCause | undefined;
  /** Sizes of the messages before and with WELCOME (a realm's `stats` counts them); undefined once joined. */
  private handshake: number[] | undefined = [];

  constructor(
    readonly conn: Connection,
    private readonly realms: RealmDirectory,
    private readonly options: SessionOptions,
    private readonly log: Logger,
  ) {
    // The session is its connection's handler (message, malformed, closed): no closures per session.
    conn.attach(this);
    this.timer = setTimeout(() => {
      if (this.state === 'hello' || this.state === 'authenticating') {
        this.abort(ErrorUri.timeout, `opening handshake not completed within ${options.helloTimeout} ms`);
      }
    }, options.helloTimeout);
    this.timer.unref();
  }

  /** Caps on what this session may hold (broker and dealer check them). */
  get limits(): SessionLimits {
    return this.options.limits ?? NO_LIMITS;
  }

  /** Answers a request over a cap with ERROR xbar.error.limit_exceeded naming its config key, and counts it. */
  refuseOverLimit(requestType: number, request: number, key: string, max: number, what: string): void {
    const o = overLimit(key, max, what);
    this.limits.refused?.(key);
    this.log.debug({ session: this.id, limit: key, max }, 'request refused by a limit');
    this.sendError(requestType, request, o.uri, [o.message], o.kwargs);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get authid(): string {
    return this.identity?.authid ?? '';
  }

  get authrole(): string {
    return this.identity?.authrole ?? '';
  }

  /** Whether the client announced `feature` for `role` in HELLO (one of `CLIENT_FEATURES`). */
  supports(role: ClientRole, feature: ClientFeature): boolean {
    const bit = CLIENT_FEATURES.indexOf(`${role}.${feature}` as `${ClientRole}.${ClientFeature}`);
    return bit >= 0 && (this.features & (1 << bit)) !== 0;
  }

  /** Sends a control message (never dropped by the slow-consumer policy). */
  send(msg: WampMessage): void {
    if (this.state === 'closed') return;
    const s = this.conn.serializer;
    const out = Outgoing.encodedOnDemand(s, encodeMessage(msg));
    if (this.handshake !== undefined && this.handshake.length < MAX_HANDSHAKE_MESSAGES) this.handshake.push(out.bytes.length);
    this.conn.send(out, false);
  }

  /**
   * Sends a control message given as its head (the elements before Arguments) and its content: the
   * encoded payload, when it came in this connection's serializer, is spliced in, into the buffer
   * that is also the frame; else args/kwargs are encoded. The dealer's hot path: no message object.
   * False (nothing sent) when the values had to be read from bytes from another node that do not
   * decode.
   */
  sendContent(head: unknown[], c: Content): boolean {
    if (this.state === 'closed') return true;
    const conn = this.conn;
    const s = conn.serializer;
    const payload = c.payload;
    if (payload?.serializer === s.id && s.encodeSpliced) {
      if (payload.end - payload.start > VIEW_PAYLOAD_MIN) conn.send(Outgoing.spliced(s, head, payload), false);
      else conn.sendInPlace(s.encodeSpliced(head, payload, conn));
      return true;
    }
    let message: unknown[];
    try {
      message = withPayload(head, c.args, c.kwargs);
    } catch (err) {
      // Only reading values decoded on demand (a payload from another node) can throw here.
      this.log.warn({ err, session: this.id }, 'a payload from another node does not decode; not sent');
      return false;
    }
    conn.send(Outgoing.encodedOnDemand(s, message), false);
    return true;
  }

  sendError(requestType: number, request: number, error: string, args?: Args, kwargs?: Kwargs, details: Dict = {}): void {
    this.send({ type: T.ERROR, requestType, request, details, error, args, kwargs });
  }

  /** ConnectionHandler: one decoded message from the connection. */
  message(raw: unknown, bytes?: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.handshake !== undefined && bytes !== undefined && this.handshake.length < MAX_HANDSHAKE_MESSAGES) this.handshake.push(bytes.length);
    const uriCheck = this.realm?.uriCheck ?? 'loose';
    // The encoded payload is a view of the read buffer: only for a message handled now, not one
    // that waits for a dynamic authorizer's decision.
    const m = this.gate ? decodeMessage(raw, uriCheck) : decodeMessage(raw, uriCheck, bytes, this.conn.serializer);
    if (m instanceof ProtocolViolation) return this.violation(m);
    if (m instanceof RequestRejected) return this.reject(m, raw);
    this.handle(m);
  }

  private handle(m: WampMessage): void {
    try {
      this.dispatch(m);
    } catch (e) {
      // A router bug must end this session only, never the process.
      this.log.error({ err: e, session: this.id }, 'internal error while handling a message');
      this.abort(ErrorUri.internalError, 'internal router error');
    }
  }

  private reject(m: RequestRejected, raw: unknown): void {
    if (this.state !== 'open') return this.violation(new ProtocolViolation(m.message, m.uri));
    // A refused PUBLISH is answered only when it asked for acknowledgement (basic/pubsub.md,
    // "Publishing"); Autobahn|JS takes an ERROR for an unacknowledged PUBLISH as a protocol
    // violation and drops its own session.
    if (m.requestType === T.PUBLISH && !asksAcknowledge(raw)) {
      this.log.debug({ session: this.id, uri: m.uri, message: m.message }, 'unacknowledged publish refused');
      return;
    }
    this.sendError(m.requestType, m.request, m.uri, [m.message]);
  }

  /** The bytes did not decode; a message with text no serializer can pass on is refused, not aborted. */
  /** ConnectionHandler: the connection has ended. */
  closed(cause: CloseCause): void {
    this.closeCause = cause;
    this.ended(cause.reason);
  }

  /** ConnectionHandler: bytes the serializer could not decode. */
  malformed(e: Error): void {
    const value = e instanceof IllFormedTextError ? e.value : undefined;
    const reply = value !== undefined && this.state === 'open' ? illFormedReply(value, e.message) : undefined;
    if (reply === undefined) return this.violation(new ProtocolViolation(`could not decode message: ${e.message}`));
    this.log.info({ session: this.id, remote: this.conn.peer.remoteAddress, message: e.message }, 'message with ill-formed text refused');
    if (reply instanceof RequestRejected) return this.reject(reply, value);
    this.handle(reply);
  }

  private dispatch(m: WampMessage): void {
    switch (this.state) {
      case 'hello':
        // A HELLO (or AUTHENTICATE) is with the authenticator: nothing may come before its answer.
        // A second HELLO here used to start a second authentication whose WELCOME threw, outside
        // any try (an unhandled rejection ends the process).
        if (this.pendingHello) return this.violation(new ProtocolViolation(`received ${messageName(m)} before the answer to HELLO`));
        if (m.type === T.HELLO) return void this.hello(m);
        return this.violation(new ProtocolViolation(`received ${messageName(m)} before HELLO`));
      case 'authenticating':
        if (m.type === T.AUTHENTICATE && this.authenticator?.finish) {
          const auth = this.authenticator;
          this.state = 'hello';
          void this.settle(() => auth.finish!(m.signature, m.extra));
          return;
        }
        if (m.type === T.ABORT) return this.ended('peer aborted');
        return this.violation(new ProtocolViolation(`received ${messageName(m)} while authenticating`));
      case 'closing':
        // Only the GOODBYE reply matters now.
        if (m.type === T.GOODBYE || m.type === T.ABORT) this.conn.close(CloseCode.normal, 'goodbye');
        return;
      case 'closed':
        return;
      case 'open':
        // A role with a dynamic authorizer: requests wait for its decision, in order.
        return this.gate ? this.gate.submit(m) : this.established(m);
    }
  }

  private established(m: WampMessage): void {
    const realm = this.realm!;
    switch (m.type) {
      case T.PUBLISH: return realm.broker.publish(this, m);
      case T.SUBSCRIBE: return realm.broker.subscribe(this, m);
      case T.UNSUBSCRIBE: return realm.broker.unsubscribe(this, m);
      case T.CALL: return realm.dealer.call(this, m);
      case T.REGISTER: return realm.dealer.register(this, m);
      case T.UNREGISTER: return realm.dealer.unregister(this, m);
      case T.YIELD: return realm.dealer.yieldResult(this, m);
      case T.CANCEL: return realm.dealer.cancel(this, m);
      case T.ERROR:
        if (m.requestType === T.INVOCATION) return realm.dealer.invocationError(this, m);
        return this.violation(new ProtocolViolation(`a client may send ERROR only for INVOCATION, got REQUEST.Type ${m.requestType}`));
      case T.GOODBYE:
        // Crossbar.io (RouterSession.onLeave): a logout deletes the connection's cookie and closes
        // the other connections that carry it.
        if (m.reason === CloseUri.logout) this.conn.peer.cookie?.logout();
        this.send({ type: T.GOODBYE, details: {}, reason: CloseUri.goodbyeAndOut });
        this.leaveRealm();
        this.state = 'closing';
        this.conn.close(CloseCode.normal, 'goodbye');
        return;
      case T.ABORT:
        this.conn.close(CloseCode.normal, 'abort');
        return this.ended('peer aborted');
      case T.HELLO:
        return this.violation(new ProtocolViolation('received HELLO on an established session'));
      default:
        return this.violation(new ProtocolViolation(`a client may not send ${messageName(m)}`));
    }
  }

  private hello(hello: Hello): Promise<void> | void {
    const perAddress = this.limits.maxSessionsPerAddress;
    if (perAddress !== undefined && (this.realms.sessionsFrom?.(this.conn.peer.remoteAddress) ?? 0) > perAddress) {
      const o = overLimit(LimitKey.sessionsPerAddress, perAddress, 'too many sessions from this address');
      this.limits.refused?.(LimitKey.sessionsPerAddress);
      return this.abort(o.uri, o.message);
    }
    const refusal = this.realms.admit?.(this.conn.peer);
    if (refusal) return this.abort(refusal.reason, refusal.message, refusal.details);
    const requested = hello.details.authmethods;
    const methods = Array.isArray(requested) && requested.length > 0 ? requested : ['anonymous'];
    const method = this.pickMethod(methods);
    if (!method) {
      return this.abort(ErrorUri.noAuthMethod, `none of the authentication methods ${JSON.stringify(methods)} is offered on this transport`);
    }
    this.pendingHello = hello;
    const auth = this.options.authenticators.get(method)!();
    this.authenticator = auth;
    return this.settle(() => auth.begin(hello, this.conn.peer));
  }

  /**
   * The first method of HELLO's list the transport offers — but Crossbar.io's `cookie` first,
   * wherever it stands, when the connection's cookie authenticates someone, and never otherwise
   * (RouterSession.onHello). A HELLO that does not ask for the cookie revokes its authentication;
   * the session that joins now is remembered instead.
   */
  private pickMethod(methods: readonly unknown[]): string | undefined {
    const authenticators = this.options.authenticators;
    const cookie = this.conn.peer.cookie;
    if (cookie && authenticators.has('cookie') && cookie.principal()) {
      if (methods.includes('cookie')) return 'cookie';
      cookie.forget();
    }
    return methods.find((x): x is string => typeof x === 'string' && x !== 'cookie' && authenticators.has(x));
  }

  /** Acts on an authentication step's outcome: at once when the step decided synchronously (anonymous). */
  private settle(step: () => Promise<AuthOutcome> | AuthOutcome): Promise<void> | void {
    let r: Promise<AuthOutcome> | AuthOutcome;
    try {
      r = step();
    } catch (e) {
      return this.decide(this.authenticatorFailed(e));
    }
    if (r instanceof Promise) return r.then((o) => this.decide(o), (e: unknown) => this.decide(this.authenticatorFailed(e)));
    return this.decide(r);
  }

  private authenticatorFailed(e: unknown): AuthOutcome {
    this.log.warn({ err: e, peer: this.conn.peer.remoteAddress }, 'authenticator failed');
    return { kind: 'abort', reason: ErrorUri.authenticationFailed, message: 'authentication failed' };
  }

  private decide(outcome: AuthOutcome): void {
    if (this.state === 'closed') return;
    try {
      switch (outcome.kind) {
        case 'abort':
          return this.abort(outcome.reason, outcome.message);
        case 'challenge':
          this.state = 'authenticating';
          this.send({ type: T.CHALLENGE, authMethod: outcome.method, extra: outcome.extra });
          return;
        case 'welcome':
          return this.welcome(outcome.identity);
      }
    } catch (e) {
      // As in receive(): a router bug ends this session only. Nobody awaits this promise, so an
      // error escaping here would be an unhandled rejection, which ends the process.
      this.log.error({ err: e, session: this.id }, 'internal error during the opening handshake');
      this.abort(ErrorUri.internalError, 'internal router error');
    }
  }

  private welcome(identity: Identity): void {
    const hello = this.pendingHello!;
    // Crossbar.io (PendingAuth._assign_principal): the principal's realm overrides or defaults the
    // one in HELLO; with neither, the session has no realm to join.
    const name = identity.realm ?? hello.realm;
    if (name === undefined) return this.abort(ErrorUri.noSuchRealm, 'no realm assigned: HELLO named none, and neither did the authentication');
    const realm = this.realms.realm(name);
    if (!realm) return this.abort(ErrorUri.noSuchRealm, `no realm "${name}" on this router`);
    if (!realm.authorizer.hasRole(identity.authrole)) {
      // The authentication assigned a role the realm lacks: a config mistake, not the client's.
      this.log.warn({ authid: identity.authid, authrole: identity.authrole, realm: name, remote: this.conn.peer.remoteAddress }, 'authenticated session refused: its role does not exist on the realm');
      return this.abort(ErrorUri.noSuchRole, `role "${identity.authrole}" does not exist on realm "${name}"`);
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.identity = identity;
    this.realm = realm;
    this.features = featureBits(hello.details.roles);
    this.pendingHello = undefined;
    this.authenticator = undefined;
    this.id = realm.newSessionId();
    this.state = 'open';
    // The connection may queue a session's worth of bytes from now on (before: its handshake's).
    this.conn.joined?.(this.id);
    if (realm.authorizer.isDynamic(identity.authrole)) {
      this.gate = new AuthorizationGate(realm.authorizer, name, this, (m) => this.established(m), this.log);
    }
    realm.join(this);
    const cookie = this.conn.peer.cookie;
    if (cookie && identity.authprovider !== 'cookie') {
      cookie.remember({
        authid: identity.authid, authrole: identity.authrole, authmethod: identity.authmethod, authrealm: name,
        ...(identity.authextra ? { authextra: identity.authextra } : {}),
      });
    }
    const details: Dict = {
      realm: name,
      authid: identity.authid,
      authrole: identity.authrole,
      authmethod: identity.authmethod,
      authprovider: identity.authprovider,
      roles: routerRoles(),
      // The node that serves this session, as Crossbar.io's x_cb_node: which member of a cluster it is on.
      x_xbar_node: realm.backplane.nodeId,
    };
    if (identity.authextra) details.authextra = identity.authextra;
    this.send({ type: T.WELCOME, session: this.id, details });
    realm.meta.welcomed(this, this.handshake!);
    this.handshake = undefined;
    this.log.info(
      { session: this.id, realm: name, authid: identity.authid, authrole: identity.authrole, transport: this.conn.peer.transport, remote: this.conn.peer.remoteAddress },
      'session joined',
    );
  }

  /** Router-initiated close: GOODBYE, then wait briefly for the reply. */
  goodbye(reason: string, message?: string): void {
    if (this.state !== 'open') {
      if (this.state !== 'closed') this.conn.close(CloseCode.goingAway, reason);
      return;
    }
    this.send({ type: T.GOODBYE, details: message ? { message } : {}, reason });
    this.leaveRealm();
    this.state = 'closing';
    setTimeout(() => this.conn.close(CloseCode.goingAway, reason), GOODBYE_WAIT_MS).unref();
  }

  abort(reason: string, message: string, details?: Dict): void {
    if (this.state === 'closed') return;
    this.send({ type: T.ABORT, details: { ...details, message }, reason });
    this.conn.close(CloseCode.normal, reason);
    this.ended(message);
  }

  private violation(v: ProtocolViolation): void {
    this.log.warn({ session: this.id || undefined, remote: this.conn.peer.remoteAddress, reason: v.uri, message: v.message }, 'protocol violation');
    this.abort(v.uri, v.message);
  }

  private leaveRealm(): void {
    const realm = this.realm;
    if (!realm) return;
    this.realm = undefined;
    realm.leave(this);
    this.log.info({ session: this.id, realm: realm.name, authid: this.authid }, 'session left');
  }

  private ended(reason: string): void {
    if (this.state === 'closed') return;
    clearTimeout(this.timer);
    this.authenticator?.cancel?.();
    this.authenticator = undefined;
    this.leaveRealm();
    this.state = 'closed';
    this.log.debug({ session: this.id || undefined, reason }, 'connection ended');
    this.onEnded?.();
  }
}

/** PUBLISH.Options.acknowledge of a raw [PUBLISH, Request, Options, Topic, …] that decoded far enough to be refused. */
function asksAcknowledge(raw: unknown): boolean {
  const options: unknown = Array.isArray(raw) ? raw[2] : undefined;
  return typeof options === 'object' && options !== null && (options as Dict).acknowledge === true;
}

function messageName(m: WampMessage): string {
  return Object.entries(T).find(([, code]) => code === m.type)?.[0] ?? String(m.type);
}

/** The client features the router acts on; a session keeps only these of its HELLO's roles. */
const CLIENT_FEATURES = ['callee.call_canceling', 'callee.progressive_call_invocations', 'callee.registration_revocation'] as const;
type ClientRole = (typeof CLIENT_FEATURES)[number] extends `${infer R}.${string}` ? R : never;
type ClientFeature = (typeof CLIENT_FEATURES)[number] extends `${string}.${infer F}` ? F : never;

function featureBits(roles: unknown): number {
  let bits = 0;
  CLIENT_FEATURES.forEach((name, bit) => {
    const [role, feature] = name.split('.') as [string, string];
    const r = typeof roles === 'object' && roles !== null ? (roles as Dict)[role] : undefined;
    const f = typeof r === 'object' && r !== null ? (r as Dict).features : undefined;
    if (typeof f === 'object' && f !== null && (f as Dict)[feature] === true) bits |= 1 << bit;
  });
  return bits;
}
