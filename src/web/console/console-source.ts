/** What the operator console reads; `node-console.ts` adapts a node to it. */
import type { HistoryPoint } from '../../stats/history.js';
import type { ProcessFigures } from '../../stats/process-figures.js';
import type { NodeSnapshot, Rates, Totals, WindowLatency } from '../../stats/snapshot.js';

/** One node's figures in the cluster view: the snapshot without its realms. */
export interface NodeFigures {
  readonly node: string;
  readonly time: string;
  readonly uptime_s: number;
  readonly enabled: boolean;
  readonly backplane: NodeSnapshot['backplane'];
  readonly connections: number;
  readonly sessions: number;
  readonly realms: number;
  readonly totals: Totals;
  readonly rates: Rates;
  readonly call_latency: WindowLatency;
  readonly process: ProcessFigures;
}

export interface SessionRow {
  readonly node: string;
  readonly realm: string;
  readonly session: number;
  readonly authid: string;
  readonly authrole: string;
  readonly authmethod: string;
  readonly transport: string;
  /** address:port, `unix`, or `local:<name>` for an in-process peer. */
  readonly address: string;
  /** Bytes waiting in the connection's out-buffer; null where the transport does not say. */
  readonly queued_bytes: number | null;
  /** Events dropped for this slow consumer. */
  readonly dropped: number;
  readonly messages_in: number;
  readonly messages_out: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
}

export interface SessionList {
  readonly node: string;
  /** Sessions of the node (of the realm asked for), listed or not. */
  readonly total: number;
  readonly sessions: readonly SessionRow[];
}

export interface ConsoleSource {
  /** True when the node is one of a cluster (a backplane other than the embedded one). */
  clustered(): boolean;
  snapshot(): NodeSnapshot;
  /** The node's chart points (with `--workers N`, every worker's added up: a promise). */
  history(since?: number): HistoryPoint[] | Promise<HistoryPoint[]>;
  /** This node's figures first, then every other live node's that answered. */
  cluster(): Promise<NodeFigures[]>;
  /** At most `limit` sessions per node, this node's first. */
  sessions(limit: number, realm?: string): Promise<SessionList[]>;
}
