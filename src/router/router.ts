/** The router: realms by name; attaches each new connection to a fresh session. */
import type { Logger } from 'pino';
import { clientKey } from '../auth/rate-limit.js';
import type { Backplane, BackplaneHandlers, CallHandle } from '../backplane/backplane.js';
import type { RealmConfig } from '../config/types.js';
import { CloseCode } from '../connection/close-codes.js';
import type { Connection } from '../connection/connection.js';
import { CloseUri } from '../wamp/errors.js';
import { Realm, type RealmOptions } from './realm.js';
import { Traffic } from '../stats/traffic.js';
import { Session, type SessionOptions, type SessionRefusal } from './session.js';
import type { PeerInfo } from '../connection/peer.js';

export class Router {
  private readonly realms = new Map<string, Realm>();
  private readonly sessions = new Set<Session>();
  /** Sessions per client key (limits.max_sessions_per_address). */
  private readonly byAddress = new Map<string, number>();
  private accepting = true;
  /** Traffic of the connections that have ended. */
  readonly retired = new Traffic();

  constructor(realms: readonly RealmConfig[], backplane: Backplane, private readonly log: Logger, options: RealmOptions = {}) {
    for (const r of realms) this.realms.set(r.name, new Realm(r, backplane, log, options));
  }

  /** After the backplane has started: realms listen for what they keep (event history). */
  async start(): Promise<void> {
    for (const realm of this.realms.values()) await realm.start();
  }

  /** Every connection with a session in any state (statistics). */
  connections(): Iterable<Connection> {
    return [...this.sessions].map((s) => s.conn);
  }

  get accepts(): boolean {
    return this.accepting;
  }

  /** How traffic from other nodes of the cluster reaches the realms. */
  backplaneHandlers(): BackplaneHandlers {
    const none: CallHandle = { chunk: () => undefined, cancel: () => undefined };
    return {
      event: (ev) => this.realms.get(ev.realm)?.broker.remoteEvent(ev),
      orphanedTestaments: (realm, testaments) => {
        const broker = this.realms.get(realm)?.broker;
        for (const t of testaments) broker?.publishInternal(t.topic, t.args, t.kwargs, t.options, t.options.retain === true);
      },
      metaQuery: (realm, query) => this.realms.get(realm)?.answerMetaQuery(query),
      invocation: (inv, port) => {
        const realm = this.realms.get(inv.realm);
        if (realm) return realm.dealer.remoteInvocation(inv, port);
        port.reject('gone');
        return none;
      },
      registryChanged: (realm, uri, match, reg) => this.realms.get(realm)?.dealer.registryChanged(uri, match, reg),
      memberDown: (node) => this.log.warn({ node }, 'cluster member down: its callees and subscriptions are gone'),
    };
  }

  realm(name: string): Realm | undefined {
    return this.realms.get(name);
  }

  allRealms(): IterableIterator<Realm> {
    return this.realms.values();
  }

  /** Number of connections with a session in any state. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Sessions in any state, the newest first. */
  newestFirst(): Session[] {
    return [...this.sessions].reverse();
  }

  /** Number of joined sessions, every realm together. */
  get sessionCount(): number {
    let n = 0;
    for (const r of this.realms.values()) n += r.sessions.size;
    return n;
  }

  attach(conn: Connection, options: SessionOptions): void {
    if (!this.accepting) {
      conn.close(CloseCode.goingAway, 'router shutting down');
      return;
    }
    const session = new Session(conn, this, options, this.log);
    this.sessions.add(session);
    const client = clientKey(conn.peer.remoteAddress);
    this.byAddress.set(client, (this.byAddress.get(client) ?? 0) + 1);
    session.onEnded = () => {
      this.sessions.delete(session);
      this.retired.add(conn);
      const left = (this.byAddress.get(client) ?? 1) - 1;
      if (left > 0) this.byAddress.set(client, left);
      else this.byAddress.delete(client);
    };
  }

  /**
   * Refuses new sessions from the network (not in-process ones: router components, bridges)
   * while it answers a refusal; set by the node (its `cluster.max_sessions`).
   */
  admission: (() => SessionRefusal | undefined) | undefined;

  admit(peer: PeerInfo): SessionRefusal | undefined {
    return peer.transport === 'native' ? undefined : this.admission?.();
  }

  /** Sessions in any state from the client behind `remoteAddress` (an IPv6 /64 counts as one). */
  sessionsFrom(remoteAddress: string): number {
    return this.byAddress.get(clientKey(remoteAddress)) ?? 0;
  }

  /**
   * Graceful shutdown: every session gets GOODBYE wamp.close.system_shutdown; resolves when all
   * connections have closed or `waitMs` has passed.
   */
  async shutdown(waitMs = 3000): Promise<void> {
    this.accepting = false;
    for (const s of this.sessions) s.goodbye(CloseUri.systemShutdown, 'router is shutting down');
    const deadline = Date.now() + waitMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
