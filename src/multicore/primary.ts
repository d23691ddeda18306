/**
 * `xbar start --workers N`: the node's primary process. It runs no router; it forks N workers
 * (node:cluster, so they share every TCP listening port the config names — the primary accepts
 * and hands each connection to a worker in turn), runs the in-node backplane's hub they join
 * (backplane/hub/), and restarts a worker that dies or stops answering its heartbeat: only that
 * worker's clients lose their connection, and the hub publishes its sessions' testaments through
 * another worker. Over node:cluster's IPC channel (node-channel.ts) it tells the workers each
 * slot's state and relays their statistics to the worker answering /stats.json or /metrics.
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { BackplaneHub } from '../backplane/hub/hub.js';
import { GATHER_MS, isToPrimary, sendToWorker, type ToPrimary, type WorkerAnswer, type WorkerState, type WorkerStatus } from './node-channel.js';
import { WORKER_ENV } from './worker-env.js';

export interface PrimaryOptions {
  readonly workers: number;
  /** Whether the workers join a NATS cluster instead of this node's hub. */
  readonly nats: boolean;
  readonly log: Logger;
  /** A worker that is up and does not answer the heartbeat for this long is killed and restarted, ms. */
  readonly hungAfterMs?: number;
}

/** A worker that dies sooner than this after it started is restarted only after RESTART_BACKOFF_MS. */
const QUICK_DEATH_MS = 2000;
const RESTART_BACKOFF_MS = 1000;
/** A worker still running this long after SIGTERM is killed, ms. */
const STOP_GRACE_MS = 15_000;
/** Default of `--worker-timeout`: a worker whose event loop is blocked this long is hung, ms. */
export const HUNG_AFTER_MS = 10_000;

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  state: WorkerState;
  restarts: number;
  startedAt: number;
  /** When the worker last answered a ping (or became up). */
  heardAt: number;
}

interface OpenGather {
  readonly asker: Worker;
  readonly request: number;
  readonly waiting: Map<number, number>;
  readonly answers: WorkerAnswer[];
  readonly timer: NodeJS.Timeout;
}

export async function runPrimary(o: PrimaryOptions): Promise<void> {
  // The hub's socket in a directory only this user can enter (mkdtemp makes it 0700): a local
  // process of another user must not join the node as a worker and hear its traffic.
  const dir = o.nats ? undefined : mkdtempSync(path.join(tmpdir(), 'xbar-hub-'));
  const hub = dir === undefined ? undefined : new BackplaneHub(path.join(dir, 'hub.sock'), o.log.child({ component: 'hub' }));
  await hub?.start();
  process.once('exit', () => dir !== undefined && rmSync(dir, { recursive: true, force: true }));
  const hungAfter = o.hungAfterMs ?? HUNG_AFTER_MS;
  let stopping = false;
  const slots: Slot[] = Array.from({ length: o.workers }, (_, index) => ({ index, worker: undefined, state: 'starting', restarts: 0, startedAt: 0, heardAt: 0 }));
  const gathers = new Map<number, OpenGather>();
  let gatherSeq = 0;
  let pingSeq = 0;

  const statuses = (): WorkerStatus[] => slots.map((s) => ({ index: s.index, pid: s.worker?.process.pid ?? null, state: s.state, restarts: s.restarts }));
  const tellAll = () => {
    const message = { xbar: 'workers', workers: statuses() } as const;
    for (const s of slots) if (s.worker) sendToWorker(s.worker, message);
  };
  const setState = (s: Slot, state: WorkerState) => {
    s.state = state;
    tellAll();
  };

  const endGather = (id: number) => {
    const g = gathers.get(id);
    if (!g) return;
    gathers.delete(id);
    clearTimeout(g.timer);
    const answers = [...g.answers].sort((a, b) => a.index - b.index);
    sendToWorker(g.asker, { xbar: 'gathered', id: g.request, answers, workers: statuses() });
  };
  const startGather = (asker: Worker, request: number, kind: string) => {
    const id = ++gatherSeq;
    const targets = slots.filter((s) => s.worker && s.worker !== asker && s.state === 'up' && s.worker.isConnected());
    const waiting = new Map(targets.map((s) => [s.worker!.id, s.index]));
    gathers.set(id, { asker, request, waiting, answers: [], timer: setTimeout(() => endGather(id), GATHER_MS) });
    if (waiting.size === 0) return endGather(id);
    for (const s of targets) sendToWorker(s.worker!, { xbar: 'ask', id, kind });
  };

  const heard = (slot: Slot, w: Worker, m: ToPrimary) => {
    switch (m.xbar) {
      case 'ready':
        slot.heardAt = Date.now();
        return setState(slot, 'up');
      case 'pong':
        slot.heardAt = Date.now();
        return;
      case 'gather':
        return startGather(w, m.id, m.kind);
      case 'answer': {
        const g = gathers.get(m.id);
        const index = g?.waiting.get(w.id);
        if (!g || index === undefined) return;
        g.waiting.delete(w.id);
        g.answers.push({ index, value: m.value });
        if (g.waiting.size === 0) endGather(m.id);
      }
    }
  };

  const fork = (slot: Slot): void => {
    const w = cluster.fork({ [WORKER_ENV.index]: String(slot.index), ...(hub ? { [WORKER_ENV.hub]: hub.path } : {}) });
    slot.worker = w;
    slot.startedAt = Date.now();
    setState(slot, 'starting');
    w.on('message', (m: unknown) => isToPrimary(m) && heard(slot, w, m));
    w.on('exit', (code, signal) => {
      const lived = Date.now() - slot.startedAt;
      if (slot.worker === w) slot.worker = undefined;
      for (const [id, g] of gathers) if (g.waiting.delete(w.id) && g.waiting.size === 0) endGather(id);
      if (stopping) return;
      // A worker exits 0 only when it was asked to stop the node (crossbar.shutdown from a component).
      if (code === 0) return stop('a worker stopped the node');
      o.log.error({ router_worker: slot.index, pid: w.process.pid, code, signal }, 'worker died: restarting it (its clients reconnect)');
      slot.restarts++;
      setState(slot, 'restarting');
      setTimeout(() => !stopping && fork(slot), lived < QUICK_DEATH_MS ? RESTART_BACKOFF_MS : 0);
    });
  };
  for (const s of slots) fork(s);
  o.log.info({ workers: o.workers, backplane: hub ? `hub ${hub.path}` : 'nats' }, 'xbar node started with worker processes');

  // The heartbeat: a worker that is up answers each ping as its event loop reads it.
  const heartbeat = setInterval(() => {
    const now = Date.now();
    const ping = { xbar: 'ping', seq: ++pingSeq } as const;
    for (const s of slots) {
      const w = s.worker;
      if (!w || s.state !== 'up') continue;
      if (now - s.heardAt > hungAfter) {
        o.log.error({ router_worker: s.index, pid: w.process.pid, silent_ms: now - s.heardAt }, 'worker hung (no heartbeat answer): killing it to restart it');
        setState(s, 'unresponsive');
        w.process.kill('SIGKILL');
        continue;
      }
      sendToWorker(w, ping);
    }
  }, Math.max(50, Math.min(1000, hungAfter / 4)));
  heartbeat.unref();

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(heartbeat);
    o.log.info({ signal }, 'shutting down the workers');
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    void Promise.all(live.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      // A worker that does not stop in time (its event loop blocked, or the process stopped) is killed.
      const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
      w.once('exit', () => (clearTimeout(kill), resolve()));
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
