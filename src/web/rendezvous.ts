/**
 * The `rendezvous` path service: "where should I connect?". GET answers the nodes that take
 * sessions, least loaded first (balance/placement.ts `byLoad`), as
 * `{url, transports, nodes}`: `url` is the best WebSocket URL, `transports` every advertised
 * URL in Autobahn|JS's `transports` form (`{type: "websocket", url}`, `{type: "rawsocket", host,
 * port}`), `nodes` the ranking (`{node, state, sessions, addresses}`). When no node takes
 * sessions (all full or stopping): 503 with Retry-After.
 */
import type { NodeEntry } from '../backplane/backplane.js';
import type { PathHandler } from './http-server.js';
import { notAllowed, notFound } from './stats-page.js';

export type AutobahnTransport =
  | { readonly type: 'websocket'; readonly url: string }
  | { readonly type: 'rawsocket'; readonly url: string; readonly host: string; readonly port: number; readonly tls: boolean };

/** One advertised URL as an Autobahn|JS transport; undefined for a URL it cannot use. */
export function transportOf(url: string): AutobahnTransport | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // another node's advert: bounded, but not checked as a URL
  }
  if (u.protocol === 'ws:' || u.protocol === 'wss:') return { type: 'websocket', url };
  if (u.protocol !== 'rs:' && u.protocol !== 'rss:') return undefined;
  const tls = u.protocol === 'rss:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { type: 'rawsocket', url, host, port: u.port === '' ? (tls ? 443 : 80) : Number(u.port), tls };
}

export function rendezvousHandler(ranked: () => readonly NodeEntry[], retryAfterS: number): PathHandler {
  return {
    request(req, res, rest) {
      if (rest !== '') return notFound(res, req.url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      const nodes = ranked().filter((n) => n.addresses.length > 0);
      const transports = nodes.flatMap((n) => n.addresses.flatMap((a) => transportOf(a) ?? []));
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
      let status = 200;
      let body: Record<string, unknown>;
      if (transports.length === 0) {
        status = 503;
        headers['retry-after'] = String(retryAfterS);
        body = { error: 'xbar.error.node_full', message: 'no node of the cluster takes sessions now' };
      } else {
        body = {
          url: transports.find((t) => t.type === 'websocket')?.url ?? null,
          transports,
          nodes: nodes.map((n) => ({ node: n.node, state: n.state, sessions: n.load.sessions, addresses: [...n.addresses] })),
        };
      }
      const text = `${JSON.stringify(body)}\n`;
      headers['content-length'] = String(Buffer.byteLength(text));
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : text);
    },
  };
}
