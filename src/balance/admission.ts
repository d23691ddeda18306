/**
 * `cluster.max_sessions`: a node that holds that many sessions takes no more. A WebSocket
 * upgrade is answered 503 with Retry-After (stock clients retry, and a load balancer sends the
 * retry elsewhere); a HELLO that still arrives (RawSocket, long-poll, a connection opened before
 * the node filled) gets ABORT `xbar.error.node_full`, whose details name the less loaded nodes'
 * addresses, least loaded first, from the node directory. Both are counted for /metrics.
 */
import type { NodeEntry } from '../backplane/backplane.js';
import type { PlacementConfig } from '../config/types.js';
import { lighterThan, urlsOf } from './placement.js';

export const NODE_FULL = 'xbar.error.node_full';
const DEFAULT_RETRY_AFTER_S = 5;

export interface AbortRefusal {
  readonly reason: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

export interface UpgradeRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class Admission {
  refusedHellos = 0;
  refusedUpgrades = 0;

  constructor(
    private readonly cfg: PlacementConfig | undefined,
    private readonly sessions: () => number,
    /** The directory, this node first. */
    private readonly directory: () => readonly NodeEntry[],
  ) {}

  private full(): boolean {
    const max = this.cfg?.maxSessions;
    return max !== undefined && this.sessions() >= max;
  }

  /** What a refusal says, or undefined when the node takes the session. */
  private refusal(): { message: string; details: Record<string, unknown> } | undefined {
    if (!this.full()) return undefined;
    const [self, ...rest] = this.directory();
    const lighter = self ? lighterThan([self, ...rest], self) : [];
    const max = this.cfg!.maxSessions!;
    return {
      message: `this node is full (${max} sessions, cluster.max_sessions)${lighter.length ? `: connect to ${lighter[0]!.addresses[0]}` : ''}`,
      details: { limit: 'cluster.max_sessions', max, urls: urlsOf(lighter), nodes: lighter.map((n) => ({ node: n.node, addresses: [...n.addresses], sessions: n.load.sessions })) },
    };
  }

  /** For a HELLO. */
  hello(): AbortRefusal | undefined {
    const r = this.refusal();
    if (!r) return undefined;
    this.refusedHellos++;
    return { reason: NODE_FULL, ...r };
  }

  /** For a WebSocket upgrade. */
  upgrade(): UpgradeRefusal | undefined {
    const r = this.refusal();
    if (!r) return undefined;
    this.refusedUpgrades++;
    const retryAfter = String(this.cfg?.retryAfter ?? DEFAULT_RETRY_AFTER_S);
    return {
      status: 503,
      headers: { 'Retry-After': retryAfter, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: JSON.stringify({ error: NODE_FULL, message: r.message, ...r.details }),
    };
  }
}
