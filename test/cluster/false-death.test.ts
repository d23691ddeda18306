/**
 * A node taken for dead that was not (issue 17, point 5): node x2's process is paused (SIGSTOP)
 * longer than dead_after, so x1 reaps it — its callees leave the registry, its sessions'
 * testaments are published. When x2 runs again, its sessions are still there: its callees must be
 * callable from the other nodes again, and a testament the reaper published must not be
 * published a second time when its session really ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { startXbarProcess, type XbarProcess } from '../helpers/xbar-process.js';

const DEAD_AFTER = 1000;

describe('a node falsely taken for dead', { timeout: 90_000 }, () => {
  let nats: NatsServer[];
  let nodes: XbarProcess[];
  const clients: AutobahnClient[] = [];
  before(async () => {
    nats = await startNats(1);
    const cluster = `fd${process.pid}`;
    nodes = [];
    for (const name of ['x1', 'x2']) nodes.push(await startXbarProcess({ name, natsUrls: [nats[0]!.url], cluster, deadAfterMs: DEAD_AFTER }));
  });
  after(async () => {
    for (const n of nodes) n.child.kill('SIGCONT');
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
    await stopNats(nats);
  });

  /** Pauses x2's process until x1 has reaped it, then lets it run again. */
  async function falseDeath(): Promise<void> {
    const reaps = () => nodes[0]!.output().split('reaped the registrations of a lost node').length;
    const before = reaps();
    nodes[1]!.child.kill('SIGSTOP');
    try {
      await eventually(() => reaps() > before, 'x1 to reap x2', 10_000);
    } finally {
      nodes[1]!.child.kill('SIGCONT');
    }
    await eventually(() => nodes[0]!.output().includes('a node taken for dead is back'), 'x1 to hear x2 again', 10_000);
  }

  it('makes its callees callable from other nodes again once it runs', async () => {
    const callee = await connectAutobahn(nodes[1]!.url);
    const caller = await connectAutobahn(nodes[0]!.url);
    clients.push(callee, caller);
    await callee.session.register('com.fd.echo', (args) => `x2:${String(args[0])}`);
    await callee.session.register('com.fd.shared', () => 'x2', { invoke: 'roundrobin' });
    assert.equal(await caller.session.call('com.fd.echo', ['a']), 'x2:a');

    await falseDeath();
    const back = Date.now();
    await eventually(async () => {
      const answer = await caller.session.call('com.fd.echo', ['b']).catch((e: { error?: string }) => e.error);
      return answer === 'x2:b';
    }, 'x1 to call x2\'s callee again (it answered no_such_procedure before the fix)', 10_000);
    assert.equal(await caller.session.call('com.fd.shared'), 'x2');
    console.log(`# x2 paused past dead_after and resumed: its callee answered calls from x1 again ${Date.now() - back} ms after x1 heard it`);
    // The callee session on x2 still holds its registration there too (a local call).
    assert.equal(await callee.session.call('com.fd.echo', ['c']), 'x2:c');
  });

  it('publishes a testament the reaper published once only, also when its session ends later', async () => {
    const watcher = await connectAutobahn(nodes[0]!.url);
    const device = await connectAutobahn(nodes[1]!.url);
    clients.push(watcher);
    const got: unknown[] = [];
    await watcher.session.subscribe('com.fd.presence', (args) => void got.push(args[0]));
    await device.session.call('wamp.session.add_testament', ['com.fd.presence', ['device gone'], {}]);
    await device.session.call('wamp.session.count'); // the copy in the cluster is written by now

    await falseDeath();
    await eventually(() => got.length === 1, 'the reaper published the testament', 5000);
    await device.close();
    // A marker published after the session ended comes next: nothing in between.
    await eventually(async () => {
      await watcher.session.publish('com.fd.presence', ['marker'], {}, { acknowledge: true, exclude_me: false });
      return got.includes('marker');
    }, 'the marker');
    assert.deepEqual(got.slice(0, got.indexOf('marker')), ['device gone'], 'the testament was published once');
  });
});
