/**
 * `xbar start --workers N`: the node's primary process. It runs no router; it forks N workers
 * (node:cluster, so they share every TCP listening port the config names — the primary accepts
 * and hands each connection to a worker in turn), runs the in-node backplane's hub they join
 * (backplane/hub/), and restarts a worker that dies: only that worker's clients lose their
 * connection, and the hub publishes its sessions' testaments through another worker.
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { BackplaneHub } from '../backplane/hub/hub.js';
import { WORKER_ENV } from './worker-env.js';

export interface PrimaryOptions {
  readonly workers: number;
  /** Whether the workers join a NATS cluster instead of this node's hub. */
  readonly nats: boolean;
  readonly log: Logger;
}

/** A worker that dies sooner than this after it started is restarted only after RESTART_BACKOFF_MS. */
const QUICK_DEATH_MS = 2000;
const RESTART_BACKOFF_MS = 1000;

export async function runPrimary(o: PrimaryOptions): Promise<void> {
  // The hub's socket in a directory only this user can enter (mkdtemp makes it 0700): a local
  // process of another user must not join the node as a worker and hear its traffic.
  const dir = o.nats ? undefined : mkdtempSync(path.join(tmpdir(), 'xbar-hub-'));
  const hub = dir === undefined ? undefined : new BackplaneHub(path.join(dir, 'hub.sock'), o.log.child({ component: 'hub' }));
  await hub?.start();
  process.once('exit', () => dir !== undefined && rmSync(dir, { recursive: true, force: true }));
  let stopping = false;
  const started = new Map<number, number>();
  const fork = (index: number): Worker => {
    const w = cluster.fork({ [WORKER_ENV.index]: String(index), ...(hub ? { [WORKER_ENV.hub]: hub.path } : {}) });
    started.set(w.id, Date.now());
    w.on('exit', (code, signal) => {
      const lived = Date.now() - (started.get(w.id) ?? 0);
      started.delete(w.id);
      if (stopping) return;
      // A worker exits 0 only when it was asked to stop the node (crossbar.shutdown from a component).
      if (code === 0) return stop('a worker stopped the node');
      o.log.error({ worker: index, pid: w.process.pid, code, signal }, 'worker died: restarting it (its clients reconnect)');
      setTimeout(() => !stopping && fork(index), lived < QUICK_DEATH_MS ? RESTART_BACKOFF_MS : 0);
    });
    return w;
  };
  for (let i = 0; i < o.workers; i++) fork(i);
  o.log.info({ workers: o.workers, backplane: hub ? `hub ${hub.path}` : 'nats' }, 'xbar node started with worker processes');

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    o.log.info({ signal }, 'shutting down the workers');
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    void Promise.all(live.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    }))).then(async () => {
      await hub?.stop();
      o.log.info('stopped');
      o.log.flush?.();
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
