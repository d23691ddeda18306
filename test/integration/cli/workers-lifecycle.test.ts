/**
 * The lives of `xbar start --workers 2`'s workers, as the primary sees them: a worker that exits 0
 * (crossbar.shutdown from a component, which runs in worker 0) stops the whole node and the
 * primary exits 0; a worker whose event loop stops (SIGSTOP: it reads nothing, as in a busy loop)
 * misses the heartbeat, is killed and restarted, and /stats.json answered by the other worker in
 * the meantime leaves it out after a bounded wait. (A worker killed with SIGKILL: workers.test.ts.)
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli } from '../../helpers/cli.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';

interface LogLine { pid: number; msg: string; signal?: string; router_worker?: number; node?: string }
interface Report { node: string; sessions: number; workers: { index: number; pid: number | null; state: string; restarts: number; answered: boolean; sessions?: number }[] }

const linesOf = (output: string): LogLine[] => output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);

/** GET over a connection of its own (the primary hands each to the next worker); a hung worker's times out. */
function get(url: string, timeoutMs: number): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

describe('xbar start --workers 2: a worker that stops the node, a worker that hangs', { timeout: 90_000 }, () => {
  it('stops the whole node when worker 0\'s component calls crossbar.shutdown (the worker exits 0, the primary exits 0)', async () => {
    const rel = 'containers/failures/router/working';
    const root = mkdtempSync(join(tmpdir(), 'xbar-workers-'));
    const dir = join(root, rel);
    cpSync(crossbarExample(rel), dir, { recursive: true });
    const file = join(dir, '.crossbar', 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(await freePort())));
    try {
      const { child, output, exited } = await startCli(['--cbdir', join(dir, '.crossbar'), '--workers', '2', '--log-format', 'json']);
      try {
        // myapp.py waits 3 s after joining, then calls crossbar.shutdown.
        const result = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the node did not stop: ${output()}`)), 30_000))]);
        assert.equal(result.code, 0, output());
        const lines = linesOf(output());
        const primary = lines.find((l) => l.msg === 'xbar node started with worker processes')!.pid;
        assert.equal(child.pid, primary);
        // A worker's node id is w<index>.<pid>.
        const indexOf = new Map(lines.filter((l) => l.msg === 'xbar node started').map((l) => [l.pid, Number(/^w(\d+)\./.exec(l.node ?? '')?.[1])]));
        const workers = new Set(indexOf.keys());
        assert.equal(workers.size, 2);
        const asked = lines.find((l) => l.msg === 'node shutdown requested by a component (crossbar.shutdown)')!;
        assert.equal(indexOf.get(asked.pid), 0, 'worker 0 runs the component and was asked');
        assert.ok(lines.some((l) => l.pid === primary && l.msg === 'shutting down the workers' && l.signal === 'a worker stopped the node'));
        assert.ok(!lines.some((l) => l.msg.startsWith('worker died')), 'the worker that exited 0 was not restarted');
        assert.ok(!lines.some((l) => l.msg === 'xbar node started' && !workers.has(l.pid)), 'no worker started again');
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('kills and restarts a worker that stops answering the heartbeat; meanwhile the other reports the node without it', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output, exited } = await startCli(['--workers', '2', '--worker-timeout', '3', '--port', String(port), '--log-format', 'json']);
    try {
      const started = () => linesOf(output()).filter((l) => l.msg === 'xbar node started').map((l) => l.pid);
      await eventually(() => started().length === 2, 'both workers started', 20_000);
      const [p0, p1] = started() as [number, number];
      const before = JSON.parse((await get(`${base}/stats.json`, 5000)).body) as Report;
      const hung = before.workers.find((w) => w.pid === p1)!;
      process.kill(p1, 'SIGSTOP');
      // Requests handed to the stopped worker get no answer; the other's answer without it, within the gather's 1 s.
      const partial = await eventually(async () => {
        const r = await get(`${base}/stats.json`, 2500).then((x) => x, () => undefined);
        return r && (JSON.parse(r.body) as Report).workers.find((w) => w.index === hung.index)?.answered === false && r;
      }, 'a report without the stopped worker', 10_000, 2);
      assert.ok(partial.ms < 2500, `answered in ${partial.ms} ms`);
      const without = JSON.parse(partial.body) as Report;
      const live = without.workers.find((w) => w.pid === p0)!;
      assert.ok(live.answered && live.state === 'up');
      assert.equal(without.sessions, live.sessions, 'the node\'s figures are the live worker\'s');
      await eventually(() => linesOf(output()).some((l) => l.msg === 'worker hung (no heartbeat answer): killing it to restart it' && l.router_worker === hung.index), 'the primary to find the worker hung', 15_000);
      await eventually(() => started().length === 3, 'a new worker started', 20_000);
      const after = await eventually(async () => {
        const r = JSON.parse((await get(`${base}/stats.json`, 5000)).body) as Report;
        return r.workers.every((w) => w.state === 'up' && w.answered) && r;
      }, 'both workers up and answering', 10_000);
      const slot = after.workers.find((w) => w.index === hung.index)!;
      assert.equal(slot.restarts, 1);
      assert.notEqual(slot.pid, p1, 'a new process in the hung worker\'s slot');
      assert.equal(after.workers.find((w) => w.index !== hung.index)!.pid, p0, 'the answering worker was never taken for hung');
      const hungLines = linesOf(output()).filter((l) => l.msg.startsWith('worker hung'));
      assert.equal(hungLines.length, 1);
    } finally {
      child.kill('SIGTERM');
      await exited.catch(() => undefined);
    }
  });
});
