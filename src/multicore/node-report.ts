/**
 * A node's statistics report for /stats.json and the console: this process's own, or — in a worker
 * of `xbar start --workers N` — the whole node's, gathered from every worker through the primary
 * (node-channel.ts) and merged (stats/node-merge.ts).
 */
import type { StatsCollector } from '../stats/collector.js';
import type { HistoryPoint } from '../stats/history.js';
import { mergeHistories, mergeNodeSnapshots } from '../stats/node-merge.js';
import type { NodeSnapshot } from '../stats/snapshot.js';
import type { NodeWorkers } from './node-channel.js';

const STATS = 'xbar.stats';
const HISTORY = 'xbar.stats.history';

export class NodeReport {
  constructor(private readonly collector: StatsCollector, private readonly workers: NodeWorkers | undefined) {
    workers?.serve(STATS, () => collector.snapshot());
    workers?.serve(HISTORY, () => collector.history());
  }

  async snapshot(): Promise<NodeSnapshot> {
    const mine = this.collector.snapshot();
    if (!this.workers) return mine;
    const g = await this.workers.gather(STATS);
    const answers = new Map(g.answers.filter((a) => isSnapshot(a.value)).map((a) => [a.index, a.value as NodeSnapshot]));
    return mergeNodeSnapshots(mine, this.workers.index, answers, g.workers);
  }

  async history(since?: number): Promise<HistoryPoint[]> {
    const mine = this.collector.history(since);
    if (!this.workers) return mine;
    const g = await this.workers.gather(HISTORY);
    const others = g.answers.filter((a) => a.index !== this.workers!.index && Array.isArray(a.value)).map((a) => a.value as HistoryPoint[]);
    return mergeHistories(mine, others, this.collector.config.interval);
  }
}

function isSnapshot(v: unknown): boolean {
  const s = v as Partial<NodeSnapshot> | null;
  return typeof s === 'object' && s !== null && typeof s.node === 'string' && Array.isArray(s.realms) && typeof s.totals === 'object';
}
