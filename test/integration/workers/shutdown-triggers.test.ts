/**
 * `controller.options.shutdown` with real guest workers (our Autobahn|JS guest, stopped on
 * command with the exit code asked for): the node stops when a worker's end meets a trigger, as
 * Crossbar.io's node does, exiting 1 when that worker failed; otherwise it keeps serving. A guest
 * with xbar's `restart` that is started again has not ended.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startCli, type CliResult } from '../../helpers/cli.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { ALLOW_ALL_REALM, FIXTURES, startWorkersNode, tempProject, type Doc } from './support.js';

const GUEST = `${FIXTURES}guest-client.mjs`;
const guest = (url: string, name: string, options: Doc = {}) => ({ type: 'guest', id: name, executable: 'node', arguments: [GUEST, url, 'realm1', name], options });

/** Calls `procedure` once a guest has registered it. */
async function callWhenReady(client: AutobahnClient, procedure: string, args: unknown[] = []): Promise<unknown> {
  return eventually(async () => {
    try {
      return await client.session.call(procedure, args);
    } catch (e) {
      if ((e as { error?: string }).error === 'wamp.error.no_such_procedure') return undefined;
      throw e;
    }
  }, `${procedure} to be registered`, 15_000);
}

/** `xbar start --config` of a router (realm1 on a free port) plus `workers`, as a child process. */
async function startNode(controller: Doc | undefined, workers: (url: string) => Doc[]) {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/ws`;
  const dir = tempProject();
  const file = join(dir.cbdir, 'config.json');
  writeFileSync(file, JSON.stringify({
    version: 2,
    ...(controller ? { controller } : {}),
    workers: [
      { type: 'router', realms: [ALLOW_ALL_REALM], transports: [{ type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port }, paths: { ws: { type: 'websocket' } } }] },
      ...workers(url),
    ],
  }));
  const cli = await startCli(['--config', file, '--log-format', 'json']);
  const client = await connectAutobahn(url);
  const lines = () => cli.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const within = (ms: number) => Promise.race([cli.exited, new Promise<CliResult>((_, reject) => setTimeout(() => reject(new Error(`the node did not stop: ${cli.output()}`)), ms))]);
  return { ...cli, url, client, lines, within, done: () => { cli.child.kill('SIGKILL'); rmSync(dir.project, { recursive: true, force: true }); } };
}

describe('controller.options.shutdown: when a worker\'s end stops the node', { timeout: 60_000 }, () => {
  const cleanups: (() => void)[] = [];
  after(() => cleanups.forEach((c) => c()));

  it('without the key (Crossbar.io\'s default, shutdown_on_worker_exit): a guest that exits 0 stops the node, which exits 0; the guest is not restarted', async () => {
    const n = await startNode(undefined, (url) => [guest(url, 'solo')]);
    cleanups.push(n.done);
    await callWhenReady(n.client, 'com.example.solo.crash', [0]);
    const r = await n.within(15_000);
    assert.equal(r.code, 0, n.output());
    const lines = n.lines();
    assert.ok(lines.some((l) => l.msg === 'worker ended: stopping the node (controller.options.shutdown)' && l.worker === 'solo' && l.trigger === 'shutdown_on_worker_exit'));
    assert.ok(lines.some((l) => l.msg === 'shutting down: GOODBYE wamp.close.system_shutdown to every session' && l.why === 'shutdown_on_worker_exit (worker solo)'));
    assert.ok(!lines.some((l) => l.msg === 'worker process exited; restarting'));
  });

  it('shutdown_on_worker_exit_with_error: a clean exit leaves the node serving; a failed one stops it with exit code 1', async () => {
    const n = await startNode({ options: { shutdown: ['shutdown_on_worker_exit_with_error'] } }, (url) => [guest(url, 'calm'), guest(url, 'faulty')]);
    cleanups.push(n.done);
    await callWhenReady(n.client, 'com.example.faulty.info');
    await callWhenReady(n.client, 'com.example.calm.crash', [0]);
    await eventually(() => n.lines().some((l) => l.msg === 'worker ended; no shutdown trigger applies: the node keeps running' && l.worker === 'calm'), 'the clean end to be judged', 10_000);
    assert.equal(await n.client.session.call('com.example.faulty.add2', [20, 22]), 42, 'the node and the other guest still serve');
    await n.client.session.call('com.example.faulty.crash', [5]);
    const r = await n.within(15_000);
    assert.equal(r.code, 1, n.output());
    assert.ok(n.lines().some((l) => l.trigger === 'shutdown_on_worker_exit_with_error' && l.worker === 'faulty'));
  });

  it('a guest with xbar\'s restart-on-failed that crashes is started again, which is no end; its clean exit then stops the node (default triggers)', async () => {
    // In process: the node stops itself (XbarNode's default) when a trigger applies.
    const n = await startWorkersNode((url) => [guest(url, 'phoenix', { restart: 'restart-on-failed' })]);
    cleanups.push(() => void n.stop());
    const client = await connectAutobahn(n.url);
    const first = (await callWhenReady(client, 'com.example.phoenix.info')) as { pid: number };
    await client.session.call('com.example.phoenix.crash', [3]);
    await eventually(async () => {
      const i = (await client.session.call('com.example.phoenix.info').catch(() => undefined)) as { pid: number } | undefined;
      return i !== undefined && i.pid !== first.pid;
    }, 'the restarted guest', 15_000);
    assert.ok(!n.logs.some((l) => l.msg === 'worker ended: stopping the node (controller.options.shutdown)'), 'a restart is not an end');
    await client.session.call('com.example.phoenix.crash', [0]);
    await eventually(() => n.logs.find((l) => l.msg === 'worker ended: stopping the node (controller.options.shutdown)'), 'the node to stop', 10_000);
    await eventually(() => !n.node.router.accepts, 'the router to stop accepting', 10_000);
    await client.close().catch(() => undefined);
  });

  it('shutdown_on_last_worker_exit as one string: guests ending one by one leave the node serving, since the router worker still runs (and options.title is the process title)', async () => {
    const n = await startNode({ options: { shutdown: 'shutdown_on_last_worker_exit', title: 'xbar-edge-7' } }, (url) => [guest(url, 'one'), guest(url, 'two')]);
    assert.match(readFileSync(`/proc/${n.child.pid}/cmdline`, 'utf8'), /^xbar-edge-7/);
    cleanups.push(n.done);
    await callWhenReady(n.client, 'com.example.one.crash', [0]);
    await callWhenReady(n.client, 'com.example.two.crash', [2]);
    await eventually(() => n.lines().filter((l) => l.msg === 'worker ended; no shutdown trigger applies: the node keeps running').length === 2, 'both ends to be judged', 10_000);
    const sub = await n.client.session.subscribe('com.example.still.here', () => undefined);
    assert.ok(sub.id > 0);
    assert.equal(n.child.exitCode, null, 'the node still runs');
  });
});
