/** A realm: its sessions, broker, dealer and authorizer. Realms are isolated from each other. */
import type { Logger } from 'pino';
import { Authorizer } from '../auth/authorizer.js';
import type { RealmConfig } from '../config/types.js';
import type { UriCheck } from '../wamp/uri.js';
import type { Backplane } from '../backplane/backplane.js';
import { Broker } from './broker.js';
import { Dealer } from './dealer.js';
import type { Session } from './session.js';
import type { Dict } from '../wamp/messages.js';
import { type CountersOptions, RealmCounters } from '../stats/realm-counters.js';
import { Traffic } from '../stats/traffic.js';
import { MetaApi } from './meta/meta-api.js';
import type { TestamentStore } from './meta/testaments.js';

export interface RealmOptions {
  /** Statistics counters; undefined = statistics off. */
  readonly stats?: CountersOptions;
  /** Where testaments wait (default: in memory, lost with this node). */
  readonly testaments?: TestamentStore;
  /** Byte bounds of retained events per realm and testaments per session (`limits.*`). */
  readonly limits?: { readonly maxRetainedBytes?: number | undefined; readonly maxTestamentBytes?: number | undefined };
}

/** Retained topics per realm when the realm's `store` does not say. */
export const DEFAULT_MAX_RETAINED = 10_000;

export class Realm {
  readonly name: string;
  readonly uriCheck: UriCheck;
  readonly authorizer: Authorizer;
  readonly broker: Broker;
  readonly dealer: Dealer;
  readonly sessions = new Map<number, Session>();
  private readonly metaAnswerers = new Map<string, (query: Dict) => Dict>();
  /** The meta API, retention, history and testaments. */
  readonly meta: MetaApi;
  /** Hot-path statistics counters; undefined when statistics are off. */
  readonly counters: RealmCounters | undefined;
  /** Traffic of the sessions that have left this realm. */
  readonly retired = new Traffic();

  constructor(config: RealmConfig, readonly backplane: Backplane, log: Logger, options: RealmOptions = {}) {
    this.name = config.name;
    this.uriCheck = config.uriCheck;
    this.authorizer = new Authorizer(config.roles);
    const realmLog = log.child({ realm: config.name });
    this.broker = new Broker(config.name, this.authorizer, backplane, realmLog);
    this.dealer = new Dealer(config.name, this.authorizer, backplane, this.sessions, realmLog);
    this.meta = new MetaApi(this, {
      history: config.store?.eventHistory ?? [],
      maxRetained: config.store?.maxRetained ?? DEFAULT_MAX_RETAINED,
      testaments: options.testaments,
      maxRetainedBytes: options.limits?.maxRetainedBytes,
      maxTestamentBytes: options.limits?.maxTestamentBytes,
      sessionStats: config.sessionStats,
    }, realmLog);
    this.broker.hooks = this.meta;
    this.dealer.hooks = this.meta;
    this.dealer.internal = this.meta;
    if (options.stats) {
      this.counters = new RealmCounters(options.stats);
      this.broker.counters = this.counters;
      this.dealer.counters = this.counters;
    }
  }

  /** After the backplane has started. */
  async start(): Promise<void> {
    await this.meta.start();
  }

  /**
   * Another node asks about this node's part of the realm (scatter-gather meta API). Each query
   * kind is answered by the module that owns it; unknown kinds get an empty answer.
   */
  answerMetaQuery(query: Dict): Dict {
    const handler = typeof query.kind === 'string' ? this.metaAnswerers.get(query.kind) : undefined;
    return handler ? handler(query) : {};
  }

  /** Registers the answerer for one kind of cluster meta query. */
  onMetaQuery(kind: string, answer: (query: Dict) => Dict): void {
    this.metaAnswerers.set(kind, answer);
  }

  newSessionId(): number {
    return this.backplane.newSessionId();
  }

  join(session: Session): void {
    this.sessions.set(session.id, session);
    this.meta.joined(session);
  }

  leave(session: Session): void {
    this.sessions.delete(session.id);
    this.broker.removeSession(session);
    this.dealer.removeSession(session);
    this.meta.left(session);
    this.backplane.releaseSessionId(session.id);
    this.retired.add(session.conn);
  }
}
