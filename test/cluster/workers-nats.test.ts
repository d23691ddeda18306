/**
 * `xbar start --workers 2` with `cluster.nats`: each worker joins the NATS cluster as a member of
 * its own (`<node>-w<i>`) and no hub runs; sessions on the two workers and on another node are one
 * router.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { XbarNode } from '../../src/node.js';
import { startCli } from '../helpers/cli.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { clusterConfig } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { testConfig } from '../helpers/node.js';
import { freePort } from '../helpers/ports.js';
import { nodeConfig } from '../helpers/xbar-process.js';

describe('xbar start --workers 2 in a NATS cluster', { timeout: 90_000 }, () => {
  let nats: NatsServer[];
  let child: ChildProcess;
  let output: () => string;
  let other: XbarNode;
  let url: string;
  const clients: AutobahnClient[] = [];
  const name = `wn${process.pid}`;

  before(async () => {
    nats = await startNats(1);
    const [webPort, rawPort] = [await freePort(), await freePort()];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'xbar-workers-nats-')), 'node.json');
    writeFileSync(file, JSON.stringify(nodeConfig(webPort, rawPort, { name: 'm', natsUrls: nats.map((s) => s.url), cluster: name })));
    url = `ws://127.0.0.1:${webPort}/ws`;
    ({ child, output } = await startCli(['--config', file, '--workers', '2', '--log-level', 'info']));
    other = new XbarNode({ ...testConfig(), cluster: clusterConfig(nats, name, { node: 'other' }) }, { logger: pino({ level: 'silent' }) });
    await other.start();
    await eventually(() => other.backplane.members().size === 3, 'the other node sees both workers as members', 20_000);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await other.stop();
    await stopNats(nats);
  });

  it('makes each worker a cluster member named after the node, and all of them one router', async () => {
    assert.deepEqual([...other.backplane.members().keys()].sort(), ['m-w0', 'm-w1', 'other']);
    assert.doesNotMatch(output(), /backplane hub/, 'no hub runs');
    const pidOf = (session: number) => output().split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { pid: number; msg: string; session?: number })
      .find((l) => l.msg === 'session joined' && l.session === session)?.pid;
    const byPid = new Map<number, AutobahnClient>();
    for (let i = 0; i < 10 && byPid.size < 2; i++) {
      const c = await connectAutobahn(url);
      clients.push(c);
      const pid = await eventually(() => pidOf(c.session.id), 'the session\'s worker');
      if (!byPid.has(pid)) byPid.set(pid, c);
    }
    assert.equal(byPid.size, 2, 'sessions on both workers');
    const [a, b] = [...byPid.values()] as [AutobahnClient, AutobahnClient];
    const elsewhere = await connectAutobahn(`ws://127.0.0.1:${other.port('web')}/ws`);
    clients.push(elsewhere);
    await a.session.register('com.wn.hi', () => 'from a worker');
    await eventually(async () => (await b.session.call('com.wn.hi').catch(() => undefined)) === 'from a worker', 'a call from the other worker');
    assert.equal(await elsewhere.session.call('com.wn.hi'), 'from a worker');
    const got: string[] = [];
    await b.session.subscribe('com.wn.ev', (args) => void got.push(args![0] as string));
    await elsewhere.session.publish('com.wn.ev', ['over nats'], {}, { acknowledge: true });
    await eventually(() => got.length === 1, 'the event on the worker');
    assert.deepEqual(got, ['over nats']);
  });
});
