/**
 * A worker's share of the node's config. Every worker serves every transport and realm; what
 * must run once per node — guest, container and component processes, outbound HTTP bridges —
 * runs in the first worker only (its components reach the others over the backplane). With a
 * NATS cluster, each worker is a cluster member of its own, named after the node and its index.
 */
import type { NodeConfig } from '../config/types.js';

export function workerConfig(config: NodeConfig, index: number): NodeConfig {
  const cluster = config.cluster && { ...config.cluster, ...(config.cluster.node ? { node: `${config.cluster.node}-w${index}` } : {}) };
  const { workers, outbound, ...rest } = config;
  return {
    ...rest,
    ...(index === 0 && workers ? { workers } : {}),
    ...(index === 0 && outbound ? { outbound } : {}),
    ...(cluster ? { cluster } : {}),
  };
}

/** `--workers N` or `auto` (the number of cores): a count ≥ 1. */
export function parseWorkers(value: string, cores: number): number {
  if (value === 'auto') return Math.max(1, cores);
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1024) throw new Error(`--workers: expected a number 1-1024 or "auto", got ${JSON.stringify(value)}`);
  return Number(value);
}

/** `--worker-timeout S`: seconds (0.1–3600, decimals allowed) as ms. */
export function parseWorkerTimeout(value: string): number {
  const s = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(s >= 0.1 && s <= 3600)) throw new Error(`--worker-timeout: expected seconds 0.1-3600, got ${JSON.stringify(value)}`);
  return Math.round(s * 1000);
}
