/**
 * Guest workers as Crossbar.io runs them (crossbar/node/controller.py `_start_guest_worker`,
 * node/guest.py): started from a Crossbar.io config after the router listens, an Autobahn|JS
 * guest of ours registers and publishes on the node; its working directory, environment, stdin
 * and output follow the config; with xbar's `restart` it is restarted with back-off when it
 * crashes; it is stopped with the node. (When a guest's end stops the node: shutdown-triggers.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { FIXTURES, alive, startWorkersNode, tempProject, type WorkersNode } from './support.js';
import { eventually } from '../../helpers/eventually.js';
import { GuestWorker } from '../../../src/workers/guest.js';

const GUEST = `${FIXTURES}guest-client.mjs`;

interface Info {
  pid: number;
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  stdinEnded: boolean;
}

function guest(url: string, name: string, options: Record<string, unknown> = {}, id = `guest_${name}`) {
  return { type: 'guest', id, executable: 'node', arguments: [GUEST, url, 'realm1', name], options: { workdir: '..', ...options } };
}

/** Calls `procedure` until a guest has registered it (guests register `info` last). */
async function callWhenReady<T>(client: AutobahnClient, procedure: string, args: unknown[] = []): Promise<T> {
  return eventually(async () => {
    try {
      return (await client.session.call(procedure, args)) as T;
    } catch (e) {
      if ((e as { error?: string }).error === 'wamp.error.no_such_procedure') return undefined;
      throw e;
    }
  }, `${procedure} to be registered`, 15_000);
}

function guestOf(n: WorkersNode, id: string): GuestWorker {
  const w = n.node.workers.get(id);
  assert.ok(w instanceof GuestWorker);
  return w;
}

describe('guest workers', () => {
  const nodes: WorkersNode[] = [];
  const clients: AutobahnClient[] = [];
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const n of nodes) await n.stop().catch(() => undefined);
  });

  async function start(...args: Parameters<typeof startWorkersNode>) {
    const n = await startWorkersNode(...args);
    nodes.push(n);
    const client = await connectAutobahn(n.url);
    clients.push(client);
    return { n, client };
  }

  it('runs a guest that registers and publishes, in the config folder\'s parent ("workdir": ".."), logging its output lines with the worker id', async () => {
    const { n, client } = await start((url) => [guest(url, 'g1')]);
    const info = await callWhenReady<Info>(client, 'com.example.g1.info');
    assert.equal(await client.session.call('com.example.g1.add2', [2, 3]), 5);
    assert.equal(info.cwd, n.project);
    assert.equal(info.env.PYTHONUNBUFFERED, '1', 'Crossbar.io sets PYTHONUNBUFFERED for every worker');
    assert.equal(info.env.PATH, process.env.PATH, 'the whole environment is inherited by default');
    const out = await eventually(() => n.logs.find((l) => l.worker === 'guest_g1' && l.stream === 'stdout' && l.msg === `guest g1 started pid ${info.pid}`), 'stdout line', 5000);
    assert.equal(out.pid, info.pid);
    await eventually(() => n.logs.some((l) => l.worker === 'guest_g1' && l.stream === 'stderr' && l.msg === 'guest g1 says hello on stderr'), 'stderr line', 5000);
  });

  it('stops every guest when the node stops (SIGTERM), and kills one that ignores SIGTERM after the grace period', async () => {
    const { n, client } = await start((url) => [guest(url, 'g2'), guest(url, 'g3', { env: { vars: { GUEST_IGNORE_TERM: '1' } } })]);
    const a = await callWhenReady<Info>(client, 'com.example.g2.info');
    const b = await callWhenReady<Info>(client, 'com.example.g3.info');
    assert.ok(alive(a.pid) && alive(b.pid));
    await client.close();
    await n.node.stop();
    assert.ok(!alive(a.pid), 'the guest is gone once node.stop() resolves');
    assert.ok(!alive(b.pid), 'the guest that ignored SIGTERM was killed');
    assert.ok(n.logs.some((l) => l.worker === 'guest_g3' && l.msg === 'worker process ignored SIGTERM; sending SIGKILL'));
    assert.ok(n.logs.some((l) => l.worker === 'guest_g3' && l.stream === 'stdout' && l.msg === 'guest g3 ignores SIGTERM'));
  });

  // No shutdown trigger, so that the node outlives the guests these tests end.
  const keepRunning = { controller: { options: { shutdown: [] } } };

  it('restarts a guest that crashed, with back-off, and leaves one that exited cleanly stopped (restart-on-failed)', async () => {
    const { n, client } = await start((url) => [guest(url, 'g4', { restart: 'restart-on-failed' })], keepRunning);
    const first = await callWhenReady<Info>(client, 'com.example.g4.info');
    const ready: number[] = [];
    await client.session.subscribe('com.example.g4.ready', ([pid]) => ready.push(pid as number));
    await client.session.call('com.example.g4.crash', [3]);
    const second = await eventually(async () => {
      const i = await (client.session.call('com.example.g4.info') as Promise<Info>).catch(() => undefined);
      return i !== undefined && i.pid !== first.pid ? i : undefined;
    }, 'the restarted guest', 15_000);
    assert.ok(!alive(first.pid));
    await eventually(() => ready.includes(second.pid), 'the restarted guest to publish', 5000);
    assert.ok(n.logs.some((l) => l.worker === 'guest_g4' && l.msg === 'worker process exited; restarting' && l.exit === 'exit code 3'));
    assert.equal(guestOf(n, 'guest_g4').supervisor.restarts, 1);

    await client.session.call('com.example.g4.crash', [0]);
    await eventually(() => n.logs.some((l) => l.worker === 'guest_g4' && l.msg === 'worker process exited; not restarted'), 'clean exit', 5000);
    assert.ok(!guestOf(n, 'guest_g4').supervisor.running);
    assert.ok(!alive(second.pid));
  });

  it('gives up on a guest that keeps crashing, and the router keeps serving', async () => {
    const { n, client } = await start(() => [
      { type: 'guest', id: 'crasher', executable: process.execPath, arguments: ['-e', 'console.log("crashing"); process.exit(7)'], options: { restart: 'restart-always' } },
    ], keepRunning);
    const crasher = guestOf(n, 'crasher');
    await eventually(() => crasher.supervisor.gaveUp, 'xbar to give up', 10_000);
    assert.equal(crasher.supervisor.restarts, 3, 'FAST_POLICY allows 3 restarts in a row');
    assert.ok(n.logs.some((l) => l.worker === 'crasher' && typeof l.msg === 'string' && l.msg.includes('not restarted again')));
    assert.equal(n.logs.filter((l) => l.worker === 'crasher' && l.msg === 'crashing').length, 4);
    // The router is untouched.
    const sub = await client.session.subscribe('com.example.still.there', () => undefined);
    assert.ok(sub.id > 0);
  });

  it('gives the guest the configured environment (inherit false or a list, vars) and stdin JSON, drops or closes its output', async () => {
    process.env.XBAR_TEST_INHERITED = 'yes';
    const { n, client } = await start((url) => [
      guest(url, 'g5', { env: { inherit: false, vars: { ONLY: 'this' } }, stdin: { type: 'json', value: { hello: ['world', 1] } }, stdout: 'drop', stderr: 'close' }),
      guest(url, 'g6', { env: { inherit: ['XBAR_TEST_INHERITED', 'NOT_SET_ANYWHERE'], vars: { PYTHONUNBUFFERED: '' } }, stdin: 'close' }),
    ]);
    const five = await callWhenReady<Info>(client, 'com.example.g5.info');
    assert.deepEqual(five.env, { ONLY: 'this', PYTHONUNBUFFERED: '1' });
    assert.deepEqual(JSON.parse(await eventually(async () => {
      const i = await (client.session.call('com.example.g5.info') as Promise<Info>);
      return i.stdinEnded ? i.stdin : undefined;
    }, 'stdin to end', 5000)), { hello: ['world', 1] });
    assert.equal(await client.session.call('com.example.g5.write', ['stderr', 'to a closed pipe']), 'EPIPE');
    assert.equal(await client.session.call('com.example.g5.write', ['stdout', 'dropped line']), null);
    const six = await callWhenReady<Info>(client, 'com.example.g6.info');
    assert.deepEqual(six.env, { XBAR_TEST_INHERITED: 'yes', PYTHONUNBUFFERED: '' });
    assert.equal((await (client.session.call('com.example.g6.info') as Promise<Info>)).stdinEnded, true, 'stdin "close" gives EOF');
    await eventually(() => n.logs.some((l) => l.worker === 'guest_g6' && l.stream === 'stdout'), 'g6 output', 5000);
    assert.ok(!n.logs.some((l) => l.worker === 'guest_g5' && (l.stream === 'stdout' || l.stream === 'stderr')), 'dropped and closed output is not logged');
  });

  it('restarts a watched guest when a file under its watched directory changes', async () => {
    const dir = tempProject();
    mkdirSync(join(dir.project, 'app'));
    const { client } = await start((url) => [guest(url, 'g7', { watch: { directories: ['../app'], action: 'restart', timeout: 0.1 } })], { dir });
    const first = await callWhenReady<Info>(client, 'com.example.g7.info');
    writeFileSync(join(dir.project, 'app', 'backend.js'), '// changed\n');
    await eventually(async () => {
      const i = await (client.session.call('com.example.g7.info') as Promise<Info>).catch(() => undefined);
      return i !== undefined && i.pid !== first.pid;
    }, 'the guest to restart after the change', 15_000);
    assert.ok(!alive(first.pid));
  });

  it('fails the start with a message naming the guest when its executable cannot be found or its working directory is missing', async () => {
    await assert.rejects(
      startWorkersNode(() => [{ type: 'guest', id: 'missing', executable: 'no-such-program-xbar', arguments: [] }]),
      /guest worker "missing": could not find an executable for "no-such-program-xbar"/,
    );
    await assert.rejects(
      startWorkersNode(() => [{ type: 'guest', executable: 'node', options: { workdir: '../nowhere' } }]),
      /guest worker "worker002": working directory ".*nowhere" does not exist/,
    );
  });
});
