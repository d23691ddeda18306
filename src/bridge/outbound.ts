/**
 * The outbound HTTP bridge of a node: each configured MessageForwarder and RESTCallee joined to
 * its realm with its role through an in-process session, so the router authorizes what it
 * subscribes and registers as for any session of that role.
 */
import type { Logger } from 'pino';
import { LocalClient } from '../client/local-client.js';
import { MESSAGE_FORWARDER, type OutboundComponentConfig } from '../config/normalize-outbound.js';
import type { Router } from '../router/router.js';
import type { BridgeCounts } from '../stats/bridge-counts.js';
import { MessageForwarder } from './message-forwarder.js';
import { RestCallee } from './rest-callee.js';

export class OutboundBridge {
  readonly components = new Map<string, MessageForwarder | RestCallee>();
  private readonly clients: LocalClient[] = [];

  constructor(private readonly configs: readonly OutboundComponentConfig[], private readonly router: Router, private readonly counts: BridgeCounts, private readonly log: Logger) {}

  async start(): Promise<void> {
    for (const c of this.configs) {
      const log = this.log.child({ component: c.id, classname: c.classname });
      const client = await LocalClient.join(this.router, c.realm, { authid: c.id, authrole: c.role });
      this.clients.push(client);
      const component = c.classname === MESSAGE_FORWARDER ? new MessageForwarder(c, this.counts, log) : new RestCallee(c, this.counts, log);
      await component.start(client);
      this.components.set(c.id, component);
      log.info({ realm: c.realm, role: c.role }, 'HTTP bridge component started');
    }
  }

  stop(): void {
    for (const c of this.components.values()) c.close();
    for (const client of this.clients) client.close();
  }
}
