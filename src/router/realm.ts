/** A realm: its sessions, broker, dealer and authorizer. Realms are isolated from each other. */
import type { Logger } from 'pino';
import { Authorizer } from '../auth/authorizer.js';
import type { RealmConfig, UriCheck } from '../config/types.js';
import type { Backplane } from '../backplane/backplane.js';
import { Broker } from './broker.js';
import { Dealer } from './dealer.js';
import type { Session } from './session.js';
import type { Dict } from '../wamp/messages.js';

export class Realm {
  readonly name: string;
  readonly uriCheck: UriCheck;
  readonly authorizer: Authorizer;
  readonly broker: Broker;
  readonly dealer: Dealer;
  readonly sessions = new Map<number, Session>();
  private readonly metaAnswerers = new Map<string, (query: Dict) => Dict>();

  constructor(config: RealmConfig, readonly backplane: Backplane, log: Logger) {
    this.name = config.name;
    this.uriCheck = config.uriCheck;
    this.authorizer = new Authorizer(config.roles);
    const realmLog = log.child({ realm: config.name });
    this.broker = new Broker(config.name, this.authorizer, backplane, realmLog);
    this.dealer = new Dealer(config.name, this.authorizer, backplane, this.sessions, realmLog);
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
  }

  leave(session: Session): void {
    this.sessions.delete(session.id);
    this.broker.removeSession(session);
    this.dealer.removeSession(session);
    this.backplane.releaseSessionId(session.id);
  }
}
