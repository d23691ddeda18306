/**
 * The `rendezvous` path service (issue 17, point 2) on two nodes over a real nats-server: it
 * answers "where should I connect?" with the least loaded node first, in the form of Autobahn|JS's
 * `transports` list, which a stock Autobahn|JS client takes as it is and joins the lighter node;
 * a full node leaves the list, and with every node full the answer is 503 with Retry-After.
 */
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import { after, before, describe, it } from 'node:test';
import type { TransportConfig } from '../../src/config/types.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';

const OPS: TransportConfig = { type: 'web', id: 'ops', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, paths: new Map([['cluster', { type: 'rendezvous' }]]) };

interface Answer {
  url: string;
  transports: { type: string; url: string; host?: string; port?: number }[];
  nodes: { node: string; state: string; sessions: number; addresses: string[] }[];
}

describe('rendezvous path service on a 2-node cluster', { timeout: 60_000 }, () => {
  let c: TestCluster;
  const open: AutobahnClient[] = [];
  const ask = async (i: number, init?: RequestInit) => fetch(`http://127.0.0.1:${c.nodes[i]!.addresses.find((a) => a.transport === 'ops')!.port}/cluster`, init);

  before(async () => {
    c = await startCluster(2, { extraTransports: [OPS], placement: { maxSessions: 2, retryAfter: 3 } });
    await eventually(() => c.nodes.every((n) => n.backplane.directory().length === 2), 'both nodes in both directories');
  });
  after(async () => {
    await Promise.all(open.map((x) => x.close()));
    await c.stop();
  });

  it('names the least loaded node first, in a form Autobahn|JS connects with', async () => {
    const [x1, x2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    open.push(await connectAutobahn(c.urls[0]!));
    await eventually(() => x2.backplane.directory().find((n) => n.node === 'x1')?.load.sessions === 1, 'x2 to hear x1 has a session');
    const res = await ask(0);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const a = (await res.json()) as Answer;
    assert.deepEqual(a.nodes.map((n) => [n.node, n.sessions]), [['x2', 0], ['x1', 1]]);
    assert.equal(a.url, `ws://127.0.0.1:${x2.port('web')}/ws`);
    assert.deepEqual(a.transports, [
      { type: 'websocket', url: `ws://127.0.0.1:${x2.port('web')}/ws` },
      { type: 'rawsocket', url: `rs://127.0.0.1:${x2.port('rawsocket')}`, host: '127.0.0.1', port: x2.port('rawsocket'), tls: false },
      { type: 'websocket', url: `ws://127.0.0.1:${x1.port('web')}/ws` },
      { type: 'rawsocket', url: `rs://127.0.0.1:${x1.port('rawsocket')}`, host: '127.0.0.1', port: x1.port('rawsocket'), tls: false },
    ]);
    // A stock client takes the list as its transports and joins the first: the lighter node.
    const joined = await new Promise<autobahn.Connection>((resolve, reject) => {
      const conn = new autobahn.Connection({ realm: 'realm1', max_retries: 0, transports: a.transports });
      conn.onopen = () => resolve(conn);
      conn.onclose = (reason) => {
        reject(new Error(reason));
        return true;
      };
      conn.open();
    });
    assert.equal(x2.router.sessionCount, 1);
    joined.close();
    await eventually(() => x2.router.sessionCount === 0, 'x2 empty again');

    assert.equal((await ask(1, { method: 'POST' })).status, 405);
  });

  it('leaves a full node out, and answers 503 with Retry-After when every node is full', async () => {
    const [x1, x2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    open.push(await connectAutobahn(c.urls[0]!));
    await eventually(async () => ((await (await ask(1)).json()) as Answer).nodes.map((n) => n.node).join() === 'x2', 'x1 (full) out of the list');
    open.push(await connectAutobahn(c.urls[1]!), await connectAutobahn(c.urls[1]!));
    assert.equal(x1.router.sessionCount + x2.router.sessionCount, 4);
    const res = await eventually(async () => {
      const r = await ask(0);
      return r.status === 503 ? r : undefined;
    }, 'a 503 once both are full');
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal(((await res.json()) as { error: string }).error, 'xbar.error.node_full');
  });
});
