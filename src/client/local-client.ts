/**
 * A small WAMP client for in-process components (the relay's WAMP bridge, dynamic authenticator
 * calls): it joins a realm of this router over a local connection pair with a fixed identity and
 * speaks ordinary WAMP, so the router applies the same rules to it as to any client.
 */
import type { Identity } from '../auth/authenticator.js';
import type { Router } from '../router/router.js';
import { localConnectionPair, type LocalPeerEnd } from '../transports/local.js';
import { MessageType as T } from '../wamp/codes.js';
import { decodeMessage } from '../wamp/decode.js';
import { CloseUri, ErrorUri } from '../wamp/errors.js';
import { encodeMessage, withPayload } from '../wamp/encode.js';
import type { Args, Dict, Kwargs, WampMessage } from '../wamp/messages.js';
import { ProtocolViolation, RequestRejected } from '../wamp/violation.js';

export class WampError extends Error {
  constructor(readonly uri: string, readonly args: Args, readonly kwargs: Kwargs) {
    super(typeof args?.[0] === 'string' ? `${uri}: ${args[0]}` : uri);
    this.name = 'WampError';
  }
}

/** An event's payload and details, and its publication id. */
export type EventHandler = (args: Args, kwargs: Kwargs, details: Dict, publication: number) => void;
export type ProcedureResult = { args?: Args; kwargs?: Kwargs } | void;
export type Procedure = (args: Args, kwargs: Kwargs, details: Dict) => Promise<ProcedureResult> | ProcedureResult;

interface Waiter {
  resolve(m: WampMessage): void;
  reject(e: Error): void;
}

/** What HELLO says about the client; `onChallenge` answers a CHALLENGE with AUTHENTICATE's signature. */
export interface HelloOptions {
  readonly authid?: string;
  readonly authmethods?: readonly string[];
  readonly authextra?: Dict;
  readonly onChallenge?: (method: string, extra: Dict) => string | Promise<string>;
}

const CLIENT_ROLES = { publisher: { features: { publisher_identification: true } }, subscriber: {}, caller: {}, callee: { features: { call_canceling: true, caller_identification: true } } };

export class LocalClient {
  sessionId = 0;
  /** WELCOME.Details (authid, authrole, …). */
  welcome: Dict = {};
  private nextRequest = 1;
  private readonly waiting = new Map<number, Waiter>();
  private readonly handlers = new Map<number, Set<EventHandler>>();
  private readonly procedures = new Map<number, Procedure>();
  private welcomed: Waiter | undefined;
  private closed = false;
  onClose: (() => void) | undefined;

  private constructor(private readonly end: LocalPeerEnd) {
    end.onMessage((raw) => this.receive(raw));
    end.onClose(() => {
      this.closed = true;
      const err = new Error('local session closed');
      this.welcomed?.reject(err);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      this.onClose?.();
    });
  }

  /** Joins `realm` with the given identity (authmethod "trusted", provider "internal"). */
  static async join(router: Router, realm: string, who: { authid: string; authrole: string; authextra?: Dict }): Promise<LocalClient> {
    const { router: conn, client } = localConnectionPair(who.authid);
    const identity: Identity = { ...who, authmethod: 'trusted', authprovider: 'internal' };
    router.attach(conn, {
      helloTimeout: 10_000,
      authenticators: new Map([['anonymous', () => ({ method: 'anonymous', begin: () => ({ kind: 'welcome' as const, identity }) })]]),
    });
    return LocalClient.open(client, realm);
  }

  /**
   * Joins `realm` over any peer end (an in-process pair, or a socket to another router from
   * `socket-peer.ts`); rejects with the ABORT's reason.
   */
  static async open(end: LocalPeerEnd, realm: string, hello: HelloOptions = {}): Promise<LocalClient> {
    const c = new LocalClient(end);
    c.onChallenge = hello.onChallenge;
    const welcome = new Promise<WampMessage>((resolve, reject) => (c.welcomed = { resolve, reject }));
    const details: Dict = { roles: CLIENT_ROLES };
    if (hello.authid !== undefined) details.authid = hello.authid;
    if (hello.authmethods) details.authmethods = hello.authmethods;
    if (hello.authextra) details.authextra = hello.authextra;
    end.send([T.HELLO, realm, details]);
    const m = await welcome;
    if (m.type !== T.WELCOME) {
      end.close();
      throw new WampError(m.type === T.ABORT ? m.reason : ErrorUri.protocolViolation, m.type === T.ABORT && typeof m.details.message === 'string' ? [m.details.message] : [], undefined);
    }
    c.sessionId = m.session;
    c.welcome = m.details;
    return c;
  }

  private onChallenge: HelloOptions['onChallenge'];

  get isOpen(): boolean {
    return !this.closed;
  }

  private request(msg: unknown[], expect: number): Promise<WampMessage> {
    if (this.closed) return Promise.reject(new Error('local session closed'));
    const id = msg[1] as number;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (m) => (m.type === expect ? resolve(m) : reject(asError(m))),
        reject,
      });
      this.end.send(msg);
    });
  }

  async subscribe(topic: string, handler: EventHandler, options: Dict = {}): Promise<number> {
    const m = await this.request([T.SUBSCRIBE, this.nextRequest++, options, topic], T.SUBSCRIBED);
    const id = (m as { subscription: number }).subscription;
    let set = this.handlers.get(id);
    if (!set) this.handlers.set(id, (set = new Set()));
    set.add(handler);
    return id;
  }

  async unsubscribe(subscription: number): Promise<void> {
    this.handlers.delete(subscription);
    await this.request([T.UNSUBSCRIBE, this.nextRequest++, subscription], T.UNSUBSCRIBED);
  }

  /** Publishes; with `acknowledge` resolves with the publication id on PUBLISHED (or rejects on ERROR). */
  async publish(topic: string, args?: Args, kwargs?: Kwargs, options: Dict = {}): Promise<number | undefined> {
    const msg = withPayload([T.PUBLISH, this.nextRequest++, options, topic], args, kwargs);
    if (options.acknowledge === true) {
      return (await this.request(msg, T.PUBLISHED) as { publication: number }).publication;
    } else if (!this.closed) {
      this.end.send(msg);
    }
    return undefined;
  }

  async call(procedure: string, args?: Args, kwargs?: Kwargs, options: Dict = {}): Promise<{ args: Args; kwargs: Kwargs }> {
    const m = await this.request(withPayload([T.CALL, this.nextRequest++, options, procedure], args, kwargs), T.RESULT);
    return { args: (m as { args: Args }).args, kwargs: (m as { kwargs: Kwargs }).kwargs };
  }

  async register(procedure: string, fn: Procedure, options: Dict = {}): Promise<number> {
    const m = await this.request([T.REGISTER, this.nextRequest++, options, procedure], T.REGISTERED);
    const id = (m as { registration: number }).registration;
    this.procedures.set(id, fn);
    return id;
  }

  async unregister(registration: number): Promise<void> {
    this.procedures.delete(registration);
    await this.request([T.UNREGISTER, this.nextRequest++, registration], T.UNREGISTERED);
  }

  close(): void {
    if (this.closed) return;
    this.end.send(encodeMessage({ type: T.GOODBYE, details: {}, reason: CloseUri.normal }));
    this.end.close();
  }

  private receive(raw: unknown): void {
    const m = decodeMessage(raw, 'loose');
    if (m instanceof ProtocolViolation || m instanceof RequestRejected) return;
    switch (m.type) {
      case T.CHALLENGE:
        return void this.answerChallenge(m.authMethod, m.extra);
      case T.WELCOME:
      case T.ABORT:
        this.welcomed?.resolve(m);
        this.welcomed = undefined;
        return;
      case T.EVENT:
        for (const h of this.handlers.get(m.subscription) ?? []) h(m.args, m.kwargs, m.details, m.publication);
        return;
      case T.INVOCATION:
        return void this.invoke(m.request, m.registration, m.args, m.kwargs, m.details);
      case T.ERROR:
      case T.SUBSCRIBED:
      case T.UNSUBSCRIBED:
      case T.PUBLISHED:
      case T.RESULT:
      case T.REGISTERED:
      case T.UNREGISTERED: {
        const w = this.waiting.get(m.request);
        if (!w) return;
        this.waiting.delete(m.request);
        w.resolve(m);
        return;
      }
      default:
        return;
    }
  }

  private async answerChallenge(method: string, extra: Dict): Promise<void> {
    try {
      if (!this.onChallenge) throw new Error(`no answer to a ${method} challenge`);
      this.end.send([T.AUTHENTICATE, await this.onChallenge(method, extra), {}]);
    } catch {
      this.end.send(encodeMessage({ type: T.ABORT, details: {}, reason: ErrorUri.authenticationFailed }));
      this.end.close();
    }
  }

  private async invoke(request: number, registration: number, args: Args, kwargs: Kwargs, details: Dict): Promise<void> {
    const fn = this.procedures.get(registration);
    try {
      if (!fn) throw new WampError(ErrorUri.noSuchRegistration, [], undefined);
      const r = (await fn(args, kwargs, details)) ?? {};
      this.end.send(withPayload([T.YIELD, request, {}], r.args, r.kwargs));
    } catch (e) {
      const err = e instanceof WampError ? e : new WampError(ErrorUri.runtimeError, [(e as Error).message], undefined);
      this.end.send(withPayload([T.ERROR, T.INVOCATION, request, {}, err.uri], err.args, err.kwargs));
    }
  }
}

function asError(m: WampMessage): Error {
  return m.type === T.ERROR ? new WampError(m.error, m.args, m.kwargs) : new Error(`unexpected message type ${m.type}`);
}
