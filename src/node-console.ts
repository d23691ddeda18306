/**
 * What the operator console (web/console/) reads of a node: its statistics and history, its
 * sessions, and — over the backplane's scatter-gather meta queries — every other node's figures
 * and sessions. The queries are node-wide: they go to the realm name '' (no WAMP realm can have
 * it), which `answerNodeQuery` answers before the router's per-realm dispatch.
 */
import type { Backplane } from './backplane/backplane.js';
import type { NodeReport } from './multicore/node-report.js';
import type { Router } from './router/router.js';
import type { StatsCollector } from './stats/collector.js';
import type { NodeSnapshot } from './stats/snapshot.js';
import type { Dict } from './wamp/messages.js';
import type { ConsoleSource, NodeFigures, SessionList, SessionRow } from './web/console/console-source.js';

/** The realm name of node-wide meta queries. */
export const NODE_SCOPE = '';
const FIGURES = 'xbar.console.figures';
const SESSIONS = 'xbar.console.sessions';
/** Sessions one node lists at most per request, whatever is asked. */
export const MAX_SESSION_ROWS = 1000;

/** A node's figures without its realms (the console's cluster table; no topic names leave the node). */
export function figuresOf(s: NodeSnapshot): NodeFigures {
  return {
    node: s.node, time: s.time, uptime_s: s.uptime_s, enabled: s.enabled, backplane: s.backplane,
    connections: s.connections, sessions: s.sessions, realms: s.realms.length,
    totals: s.totals, rates: s.rates, call_latency: s.call_latency, process: s.process,
  };
}

export function sessionsOf(router: Router, node: string, limit: number, realm?: string): SessionList {
  const rows: SessionRow[] = [];
  let total = 0;
  for (const r of router.allRealms()) {
    if (realm !== undefined && r.name !== realm) continue;
    total += r.sessions.size;
    for (const s of r.sessions.values()) {
      if (rows.length >= limit) break;
      const c = s.conn;
      const peer = c.peer;
      rows.push({
        node, realm: r.name, session: s.id, authid: s.authid, authrole: s.authrole,
        authmethod: s.identity?.authmethod ?? '',
        transport: peer.transport,
        address: peer.remotePort === undefined ? peer.remoteAddress : `${peer.remoteAddress.includes(':') ? `[${peer.remoteAddress}]` : peer.remoteAddress}:${peer.remotePort}`,
        queued_bytes: c.queuedBytes ?? null,
        dropped: c.dropped, messages_in: c.messagesIn, messages_out: c.messagesOut, bytes_in: c.bytesIn, bytes_out: c.bytesOut,
      });
    }
  }
  return { node, total, sessions: rows };
}

/** Answers another node's node-wide console query; undefined for anything else. */
export function answerNodeQuery(router: Router, stats: StatsCollector, nodeId: string, query: Dict): Dict | undefined {
  if (query.kind === FIGURES) return figuresOf(stats.snapshot()) as unknown as Dict;
  if (query.kind === SESSIONS) {
    const limit = typeof query.limit === 'number' && Number.isInteger(query.limit) ? Math.min(Math.max(query.limit, 0), MAX_SESSION_ROWS) : 0;
    const realm = typeof query.realm === 'string' ? query.realm : undefined;
    return sessionsOf(router, nodeId, limit, realm) as unknown as Dict;
  }
  return undefined;
}

function isFigures(d: Dict): boolean {
  return typeof d.node === 'string' && typeof d.rates === 'object' && d.rates !== null && typeof d.totals === 'object' && d.totals !== null;
}

function isSessionList(d: Dict): boolean {
  return typeof d.node === 'string' && typeof d.total === 'number' && Array.isArray(d.sessions);
}

export function consoleSource(router: Router, backplane: Backplane, stats: StatsCollector, report: Pick<NodeReport, 'history'>): ConsoleSource {
  const clustered = () => backplane.health() !== 'standalone';
  return {
    clustered,
    snapshot: () => stats.snapshot(),
    history: (since) => report.history(since),
    cluster: async () => {
      const mine = figuresOf(stats.snapshot());
      if (!clustered()) return [mine];
      const others = await backplane.query(NODE_SCOPE, { kind: FIGURES });
      return [mine, ...(others.filter(isFigures) as unknown as NodeFigures[])];
    },
    sessions: async (limit, realm) => {
      const mine = sessionsOf(router, backplane.nodeId, limit, realm);
      if (!clustered()) return [mine];
      const others = await backplane.query(NODE_SCOPE, { kind: SESSIONS, limit, ...(realm !== undefined ? { realm } : {}) });
      return [mine, ...(others.filter(isSessionList) as unknown as SessionList[])];
    },
  };
}
