/**
 * sessions (`npm run bench -- sessions`): 100,000 idle WAMP sessions on one node (issue 18 point 4).
 *
 * A process here may hold at most 20,000 open files, so one process cannot hold 100,000 sockets:
 * the node is `xbar start --workers W` (W = XBAR_BENCH_SESSION_WORKERS, default 6, each worker
 * holding ~17,000), and the clients are K load-generator processes (bench/sessions-client.ts),
 * each joining its share from its own loopback address (127.0.0.2, 127.0.0.3, …: each address
 * has its own ~28,000 ephemeral ports). Every process of the node and every client is pinned as
 * usual (node on CPU 0, clients on CPU 1), so W workers share one core.
 *
 * Reported: the time from the first connect to the last WELCOME and joins per second; the RSS of
 * the node's processes (primary and workers) idle and with the sessions, and per session: the
 * RSS growth from the first half of the sessions to all of them, over the second half. No
 * baseline runs beside it: the bare server is one process (see the conns scenario for the
 * ratios at 9,000 sessions).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ScenarioResult, sleep, track } from './harness.js';
import { WorkersNode } from './workers.js';

const SESSIONS = Number(process.env.XBAR_BENCH_SESSIONS ?? 100_000);
const WORKERS = Number(process.env.XBAR_BENCH_SESSION_WORKERS ?? 6);
const PER_CLIENT = 17_000;
const PARALLEL = 32;
const here = path.dirname(fileURLToPath(import.meta.url));

/** Resident set of one process, bytes (0 if it is gone). */
function rssOf(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const nodeRss = (node: WorkersNode): number => node.processes().reduce((sum, pid) => sum + rssOf(pid), 0);

export async function sessions(): Promise<ScenarioResult> {
  const node = await WorkersNode.start(WORKERS);
  const clients: ChildProcess[] = [];
  try {
    await sleep(1000);
    const idle = nodeRss(node);
    const count = Math.ceil(SESSIONS / PER_CLIENT);
    const join = (i: number): Promise<{ joined: number; ms: number }> => {
      const share = Math.min(PER_CLIENT, SESSIONS - i * PER_CLIENT);
      const child = fork(path.join(here, 'sessions-client.js'), [node.url, String(share), `127.0.0.${2 + i}`, String(PARALLEL)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      track(child);
      clients.push(child);
      return new Promise((resolve, reject) => {
        child.once('message', (m) => resolve(m as { joined: number; ms: number }));
        child.once('exit', (code) => reject(new Error(`sessions client ${i} exited (${code}) before joining its ${share} sessions`)));
      });
    };
    // Two waves, RSS after each: the slope between them is what a session adds, without the heap
    // space a fresh process has already touched (a delta from the idle node's RSS counts none of it).
    const half = Math.ceil(count / 2);
    const t0 = performance.now();
    const first = await Promise.all(Array.from({ length: half }, (_, i) => join(i)));
    await sleep(2000);
    const middle = nodeRss(node);
    const t1 = performance.now();
    const second = await Promise.all(Array.from({ length: count - half }, (_, i) => join(half + i)));
    const seconds = (performance.now() - t1 + (t1 - 2000 - t0)) / 1000;
    const firstJoined = first.reduce((n, r) => n + r.joined, 0);
    const joined = firstJoined + second.reduce((n, r) => n + r.joined, 0);
    await sleep(2000);
    const after = nodeRss(node);
    const xbar = {
      sessions: joined,
      join_s: Number(seconds.toFixed(1)),
      joins_per_s: Math.round(joined / seconds),
      rss_idle_mib: Math.round(idle / 2 ** 20),
      rss_mib: Math.round(after / 2 ** 20),
      kib_per_session: Number(((after - middle) / (joined - firstJoined) / 1024).toFixed(2)),
    };
    return {
      scenario: 'sessions',
      xbar,
      baseline: {},
      ratio: {},
      target: {},
      pass: joined === SESSIONS,
      info: { workers: WORKERS, client_processes: count, parallel_handshakes_per_client: PARALLEL, serializer: 'json', machine: `node of ${WORKERS} workers and ${count} client processes on 2 cores (node pinned to CPU 0, clients to CPU 1)` },
    };
  } finally {
    for (const c of clients) c.send('close');
    await sleep(500);
    await node.stop();
  }
}
