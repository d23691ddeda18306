/**
 * The two forwarding rules of Crossbar.io's rlink (`BridgeSession` in crossbario/crossbar
 * `worker/rlink.py`), each from a watched router to the other one:
 *
 * - events: every subscription on the watched router is also made on the other router; what it
 *   receives there is published on the watched router with `forward_for` naming the original
 *   publisher, `exclude_me`, and (towards the remote) `exclude_authid`. An event that already
 *   carries `forward_for` came over a link and is not forwarded again, so an event crosses at most
 *   one link and never comes back, however the routers are linked.
 * - calls: every registration on the watched router is also made on the other router (same match
 *   and invoke policy); an invocation there is called on the watched router with `forward_for`.
 *   A call that already carries `forward_for` is forwarded with its hops (the router refuses more
 *   than MAX_FORWARD_HOPS, so no cycle of links can pass a call around for ever); Crossbar.io
 *   answers such a call with an empty result instead.
 */
import type { Logger } from 'pino';
import { WampError, type LocalClient } from '../client/local-client.js';
import type { Dict } from '../wamp/messages.js';
import { Mirror, type MetaDetails } from './mirror.js';
import { ErrorUri } from '../wamp/errors.js';

export interface ForwardOptions {
  /** Authids excluded from the publications made on the watched router. */
  readonly excludeAuthid: readonly string[];
  readonly log: Logger;
  /** Counts what crossed the link. */
  readonly counted: (what: 'event' | 'call') => void;
}

/** The first hop of a publication or call: its disclosed origin, else the link session that received it. */
function origin(details: Dict, prefix: 'publisher' | 'caller', via: LocalClient): Dict {
  const session = details[prefix];
  if (typeof session === 'number') {
    return { session, authid: String(details[`${prefix}_authid`] ?? ''), authrole: String(details[`${prefix}_authrole`] ?? '') };
  }
  return { session: via.sessionId, authid: String(via.welcome.authid ?? ''), authrole: String(via.welcome.authrole ?? '') };
}

/** Watched router's subscriptions mirrored on `other`; their events re-published on the watched router. */
export function forwardEvents(watched: LocalClient, other: LocalClient, o: ForwardOptions): Mirror {
  return new Mirror(watched, 'subscription', {
    open: (d: MetaDetails) => other.subscribe(d.uri, (args, kwargs, details) => {
      if (details.forward_for !== undefined) return;
      const options: Dict = { forward_for: [origin(details, 'publisher', other)], exclude_me: true, disclose_me: true };
      if (o.excludeAuthid.length > 0) options.exclude_authid = o.excludeAuthid;
      const topic = typeof details.topic === 'string' ? details.topic : d.uri;
      o.counted('event');
      void watched.publish(topic, args, kwargs, options).catch(() => undefined);
    }, d.match === 'exact' ? {} : { match: d.match }),
    close: (id) => other.unsubscribe(id),
  }, o.log);
}

/** Watched router's registrations mirrored on `other`; their invocations called on the watched router. */
export function forwardCalls(watched: LocalClient, other: LocalClient, o: ForwardOptions): Mirror {
  return new Mirror(watched, 'registration', {
    open: async (d: MetaDetails, creator: number) => {
      // Our own mirror of the other router's registration: nothing to forward back.
      if (creator !== 0 && creator === watched.sessionId) return undefined;
      const options: Dict = { disclose_caller: true };
      if (d.match !== 'exact') options.match = d.match;
      if (d.invoke && d.invoke !== 'single') options.invoke = d.invoke;
      try {
        return await other.register(d.uri, async (args, kwargs, details) => {
          const forwardFor = Array.isArray(details.forward_for) ? details.forward_for : [origin(details, 'caller', other)];
          const procedure = typeof details.procedure === 'string' ? details.procedure : d.uri;
          o.counted('call');
          const r = await watched.call(procedure, args, kwargs, { forward_for: forwardFor, disclose_me: true });
          return { ...(r.args ? { args: r.args } : {}), ...(r.kwargs ? { kwargs: r.kwargs } : {}) };
        }, options);
      } catch (e) {
        // Registered there already (by a callee of its own or another link): leave it.
        if (e instanceof WampError && e.uri === ErrorUri.procedureAlreadyExists) return undefined;
        throw e;
      }
    },
    close: (id) => other.unregister(id),
  }, o.log);
}
