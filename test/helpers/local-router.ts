/**
 * A router with no sockets, for unit tests of broker, dealer and session: a real `Router` on the
 * embedded `LocalBackplane`, and peers that speak WAMP to it over in-process connection pairs
 * (src/transports/local.ts, MessagePack across the seam). Every message a peer gets is kept in
 * order; `next` takes the first that matches.
 */
import pino from 'pino';
import { AnonymousAuthenticator } from '../../src/auth/anonymous.js';
import { LocalBackplane } from '../../src/backplane/local/local-backplane.js';
import type { RealmConfig } from '../../src/config/types.js';
import type { CloseCause } from '../../src/connection/connection.js';
import type { RealmOptions } from '../../src/router/realm.js';
import { Router } from '../../src/router/router.js';
import { localConnectionPair, type LocalPeerEnd } from '../../src/transports/local.js';
import { MessageType as M } from '../../src/wamp/codes.js';
import type { Dict } from '../../src/wamp/messages.js';
import { realm as openRealm } from './node.js';

/** Every role with the advanced features a test may need. */
export const ALL_ROLES: Dict = {
  caller: { features: { progressive_call_results: true, progressive_call_invocations: true, call_canceling: true, call_timeout: true, caller_identification: true } },
  callee: { features: { progressive_call_results: true, progressive_call_invocations: true, call_canceling: true, call_timeout: true, caller_identification: true, registration_revocation: true, shared_registration: true, pattern_based_registration: true } },
  publisher: { features: { publisher_exclusion: true, publisher_identification: true, subscriber_blackwhite_listing: true } },
  subscriber: { features: { pattern_based_subscription: true, publisher_identification: true } },
};

type Message = unknown[];

/** Lets every queued microtask and promise callback run (in-process delivery is by microtask). */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

export class LocalPeer {
  /** Every message received, in order (also those `next` took). */
  readonly log: Message[] = [];
  private readonly inbox: Message[] = [];
  private readonly waiting: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  closed: CloseCause | undefined;
  session = 0;
  private lastRequest = 0;

  constructor(private readonly end: LocalPeerEnd) {
    end.onMessage((raw) => this.received(raw as Message));
    end.onClose((cause) => {
      this.closed = cause;
    });
  }

  private received(m: Message): void {
    this.log.push(m);
    const i = this.waiting.findIndex((w) => w.match(m));
    if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
    else this.inbox.push(m);
  }

  send(...message: unknown[]): void {
    this.end.send(message);
  }

  /** A fresh request id. */
  nextRequest(): number {
    return ++this.lastRequest;
  }

  /** Takes the first message (already received or to come) that matches; fails after `ms`. */
  next(match: (m: Message) => boolean = () => true, ms = 2000): Promise<Message> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const entry = { match, resolve: (m: Message) => {
        clearTimeout(timer);
        resolve(m);
      } };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(new Error(`no matching message within ${ms} ms; received ${JSON.stringify(this.log)}`));
      }, ms);
      this.waiting.push(entry);
    });
  }

  /** The next message of `type` (and with `request` as its request id, when given). */
  nextOf(type: number, request?: unknown): Promise<Message> {
    const at = type === M.ERROR ? 2 : 1;
    return this.next((m) => m[0] === type && (request === undefined || m[at] === request));
  }

  /** Messages not taken by `next` yet. */
  get unread(): readonly Message[] {
    return this.inbox;
  }

  /** HELLO → WELCOME; resolves with the WELCOME. */
  async join(realm = 'realm1', roles: Dict = ALL_ROLES): Promise<Message> {
    this.send(M.HELLO, realm, { roles });
    const welcome = await this.next((m) => m[0] === M.WELCOME || m[0] === M.ABORT);
    if (welcome[0] === M.ABORT) throw new Error(`ABORT ${JSON.stringify(welcome)}`);
    this.session = welcome[1] as number;
    return welcome;
  }

  /** REGISTER → REGISTERED; resolves with the registration id. */
  register(procedure: string, options: Dict = {}): Promise<number> {
    return this.request(M.REGISTER, M.REGISTERED, options, procedure);
  }

  /** SUBSCRIBE → SUBSCRIBED; resolves with the subscription id. */
  subscribe(topic: string, options: Dict = {}): Promise<number> {
    return this.request(M.SUBSCRIBE, M.SUBSCRIBED, options, topic);
  }

  /** Sends [type, request, options, uri] and resolves with the id its answer of type `ok` carries. */
  private async request(type: number, ok: number, options: Dict, uri: string): Promise<number> {
    const request = this.nextRequest();
    this.send(type, request, options, uri);
    const answer = await this.next((m) => (m[0] === ok && m[1] === request) || (m[0] === M.ERROR && m[2] === request));
    if (answer[0] !== ok) throw new Error(`refused: ${JSON.stringify(answer)}`);
    return answer[2] as number;
  }

  /** Sends a CALL; resolves with its request id. */
  call(procedure: string, args?: unknown[], options: Dict = {}, kwargs?: Dict): number {
    const request = this.nextRequest();
    if (kwargs) this.send(M.CALL, request, options, procedure, args ?? [], kwargs);
    else if (args) this.send(M.CALL, request, options, procedure, args);
    else this.send(M.CALL, request, options, procedure);
    return request;
  }

  close(): void {
    this.end.close();
  }
}

export interface LocalRouter {
  readonly router: Router;
  readonly backplane: LocalBackplane;
  /** A new peer, joined to `realm` unless `join` is false. */
  peer(o?: { realm?: string; roles?: Dict; join?: boolean }): Promise<LocalPeer>;
  /** Closes every peer and waits until the router has seen each session end. */
  stop(): Promise<void>;
}

export async function localRouter(
  realms: RealmConfig[] = [openRealm()], options: RealmOptions = {}, backplane: LocalBackplane = new LocalBackplane(),
): Promise<LocalRouter> {
  const router = new Router(realms, backplane, pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }), options);
  await backplane.start(router.backplaneHandlers());
  await router.start();
  const peers: LocalPeer[] = [];
  return {
    router,
    backplane,
    peer: async (o = {}) => {
      const { router: conn, client } = localConnectionPair(`peer${peers.length + 1}`);
      router.attach(conn, { helloTimeout: 10_000, authenticators: new Map([['anonymous', () => new AnonymousAuthenticator('anonymous')]]) });
      const p = new LocalPeer(client);
      peers.push(p);
      if (o.join !== false) await p.join(o.realm, o.roles);
      return p;
    },
    stop: async () => {
      for (const p of peers) p.close();
      await router.shutdown(2000);
      await backplane.stop();
    },
  };
}
