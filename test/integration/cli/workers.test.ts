/**
 * `xbar start --workers 2`: two router processes share the node's ports and act as one router —
 * sessions on either worker call each other's procedures, get each other's events in order,
 * count as one node in the meta API — and a worker killed with SIGKILL is restarted: only its
 * clients lose their connection, its callees leave the registry, its sessions' testaments are
 * published through the other worker.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { startCli } from '../../helpers/cli.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';

interface LogLine { pid: number; msg: string; session?: number; node?: string; router_worker?: number }
interface WorkerView { index: number; pid: number; state: string; restarts: number; answered: boolean; node?: string; sessions?: number }
interface Health { status: string; reasons?: string[]; workers: { index: number; state: string }[] }
interface StatsReport { node: string; sessions: number; connections: number; realms: { name: string; sessions: number }[]; workers: WorkerView[] }

/**
 * GET over a connection of its own: the primary hands each new connection to the next worker.
 * A connection the primary handed to a worker as it was killed gets no answer: it times out.
 */
function get(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The value of one Prometheus sample line, `name{labels} value`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('xbar start --workers 2', { timeout: 120_000 }, () => {
  let child: ChildProcess;
  let output: () => string;
  let url: string;
  let base: string;
  const clients: AutobahnClient[] = [];
  const lines = (): LogLine[] => output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const startedWorkers = () => lines().filter((l) => l.msg === 'xbar node started').map((l) => l.pid);
  /** The pid of the worker a session is on, from its "session joined" line. */
  const workerOf = (session: number) => lines().find((l) => l.msg === 'session joined' && l.session === session)?.pid;
  /** Connects until a session lands on each of the two workers (the primary hands connections out in turn). */
  async function onEachWorker(pids: readonly number[]): Promise<Map<number, AutobahnClient>> {
    const by = new Map<number, AutobahnClient>();
    for (let i = 0; i < 10 && by.size < pids.length; i++) {
      const c = await connectAutobahn(url);
      clients.push(c);
      const pid = await eventually(() => workerOf(c.session.id), 'the session\'s worker');
      if (!by.has(pid)) by.set(pid, c);
    }
    assert.deepEqual([...by.keys()].sort(), [...pids].sort(), 'sessions on both workers');
    return by;
  }

  before(async () => {
    const port = await freePort();
    url = `ws://127.0.0.1:${port}/ws`;
    base = `http://127.0.0.1:${port}`;
    ({ child, output } = await startCli(['--workers', '2', '--port', String(port), '--log-level', 'info']));
    await eventually(() => startedWorkers().length === 2, 'both workers started', 20_000);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  it('keeps the hub\'s socket in a directory only its user can enter', () => {
    const line = lines().find((l) => l.msg === 'xbar node started with worker processes') as unknown as { backplane: string };
    const socket = line.backplane.replace(/^hub /, '');
    assert.equal(statSync(path.dirname(socket)).mode & 0o777, 0o700);
  });

  it('serves one port from two worker processes that act as one router', async () => {
    const [p1, p2] = startedWorkers() as [number, number];
    assert.notEqual(p1, p2);
    const by = await onEachWorker([p1, p2]);
    const [a, b] = [by.get(p1)!, by.get(p2)!];
    const where = await a.session.register('com.w.where', () => 'on a');
    assert.equal(await b.session.call('com.w.where'), 'on a', 'a call crosses workers');
    await assert.rejects(b.session.register('com.w.where', () => 'on b'), (e: autobahn.Error) => e.error === 'wamp.error.procedure_already_exists');
    const got: number[] = [];
    await a.session.subscribe('com.w.seq', (args) => void got.push(args![0] as number));
    for (let i = 0; i < 200; i++) void b.session.publish('com.w.seq', [i]);
    await b.session.publish('com.w.seq', [200], {}, { acknowledge: true });
    await eventually(() => got.length === 201, '201 events');
    assert.deepEqual(got, Array.from({ length: 201 }, (_, i) => i), 'in publisher order');
    assert.equal(await a.session.call('wamp.session.count'), clients.length, 'the meta API counts the sessions of both workers');
    await a.session.unregister(where);
  });

  it('answers /stats.json and /metrics for the whole node, whichever worker takes the request', async () => {
    const [p1, p2] = startedWorkers() as [number, number];
    const by = await onEachWorker([p1, p2]);
    const open = clients.filter((c) => c.connection.isOpen);
    const onWorker = (pid: number) => open.filter((c) => workerOf(c.session.id) === pid).length;
    assert.ok(onWorker(p1) > 0 && onWorker(p2) > 0, 'sessions on both workers');
    assert.equal(await open[0]!.session.call('wamp.session.count'), open.length);
    const answeredBy = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const s = JSON.parse((await get(`${base}/stats.json`)).body) as StatsReport;
      answeredBy.add(s.node);
      assert.equal(s.sessions, open.length, `request ${i}: the node's sessions`);
      assert.equal(s.connections, open.length, `request ${i}: the node's connections`);
      assert.equal(s.realms.find((r) => r.name === 'realm1')?.sessions, open.length);
      assert.deepEqual(s.workers.map((w) => [w.index, w.state, w.answered]), [[0, 'up', true], [1, 'up', true]]);
      for (const w of s.workers) assert.equal(w.sessions, onWorker(w.pid), `request ${i}: worker ${w.index}'s sessions`);
    }
    assert.equal(answeredBy.size, 2, 'both workers answered /stats.json');
    for (const c of [...by.values()]) {
      const report = (await c.session.call('xbar.stats.get')) as { realm: { sessions: number } };
      assert.equal(report.realm.sessions, open.length, 'xbar.stats.get: the node\'s sessions, on either worker');
    }
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(JSON.parse((await get(`${base}/health`)).body), { status: 'alive', workers: [{ index: 0, state: 'up' }, { index: 1, state: 'up' }] });
      const ready = JSON.parse((await get(`${base}/health/ready`)).body) as Health;
      assert.equal(ready.status, 'ready');
      assert.deepEqual(ready.workers, [{ index: 0, state: 'up' }, { index: 1, state: 'up' }]);
    }
    const pidOf = new Map<number, number>();
    for (let i = 0; i < 4; i++) {
      const { status, body } = await get(`${base}/metrics`);
      assert.equal(status, 200);
      assert.equal(sample(body, 'xbar_up'), 1);
      assert.equal(sample(body, 'xbar_connections'), open.length, `scrape ${i}: the node's connections`);
      assert.equal(sample(body, 'xbar_realm_sessions{realm="realm1"}'), open.length, `scrape ${i}: the node's sessions`);
      assert.equal(sample(body, 'xbar_cluster_members'), 2, 'a count every worker sees whole is not summed');
      const s = JSON.parse((await get(`${base}/stats.json`)).body) as StatsReport;
      for (const w of s.workers) pidOf.set(w.index, w.pid);
      for (const index of [0, 1]) {
        assert.equal(sample(body, `xbar_worker_realm_sessions{realm="realm1",worker="${index}"}`), onWorker(pidOf.get(index)!), `scrape ${i}: worker ${index}'s sessions`);
        assert.equal(sample(body, `xbar_worker_up{worker="${index}",state="up"}`), 1);
      }
    }
  });

  it('restarts a worker killed with SIGKILL: only its clients disconnect, its callees go, its testaments are published', async () => {
    const [p1, p2] = startedWorkers() as [number, number];
    const by = await onEachWorker([p1, p2]);
    const [survivor, doomed] = [by.get(p1)!, by.get(p2)!];
    await doomed.session.register('com.w.doomed', () => 'alive');
    await doomed.session.call('wamp.session.add_testament', ['com.w.testament', ['gone'], {}]);
    const testaments: string[] = [];
    await survivor.session.subscribe('com.w.testament', (args) => void testaments.push(args![0] as string));
    assert.equal(await survivor.session.call('com.w.doomed'), 'alive');
    const closed = new Promise<void>((r) => (doomed.connection.onclose = () => (r(), true)));
    process.kill(p2, 'SIGKILL');
    await closed;
    // Until its replacement serves, the node says it is degraded, naming the worker (the other answers).
    const degraded = await eventually(async () => {
      // A connection handed to the killed worker just before it died is reset or never answered.
      const r = await get(`${base}/health/ready`, 500).then((x) => JSON.parse(x.body) as Health, () => undefined);
      return r?.status === 'degraded' && r;
    }, 'health says degraded while a worker restarts', 10_000, 2);
    const slot = degraded.workers.find((w) => w.state !== 'up')!;
    assert.match(slot.state, /^(restarting|starting)$/);
    assert.deepEqual(degraded.reasons, [`worker ${slot.index} is ${slot.state}`]);
    await eventually(() => testaments.length === 1, 'the killed worker\'s session testament, published by the other');
    assert.deepEqual(testaments, ['gone']);
    await assert.rejects(survivor.session.call('com.w.doomed'), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure');
    assert.ok(survivor.connection.isOpen, 'the other worker\'s client stayed connected');
    await eventually(() => startedWorkers().length === 3, 'a new worker started', 20_000);
    assert.match(output(), /worker died: restarting it/);
    const p3 = startedWorkers()[2]!;
    const again = await onEachWorker([p1, p3]);
    await again.get(p3)!.session.register('com.w.back', () => 'back');
    assert.equal(await again.get(p1)!.session.call('com.w.back'), 'back', 'the new worker is part of the router');
    for (let i = 0; i < 4; i++) {
      const ready = JSON.parse((await get(`${base}/health/ready`)).body) as Health;
      assert.equal(ready.status, 'ready', 'every worker is up again');
      const s = JSON.parse((await get(`${base}/stats.json`)).body) as StatsReport;
      assert.deepEqual(s.workers.map((w) => w.restarts).sort(), [0, 1], 'the restarted slot counts its restart');
    }
  });
});
