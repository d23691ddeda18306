/**
 * `exclude_authid`: sessions of those authids on the remote router never get the events the link
 * forwards there (Crossbar.io passes it as PUBLISH exclude_authid), while other subscribers do.
 * The remote's WebSocket path gives every anonymous session the authid "monitor"; the link and an
 * ordinary subscriber come over its RawSocket transport.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { XbarNode } from '../../../src/node.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { client, link, linksUp, startRouter, subscribers } from './support.js';

describe('rlink exclude_authid', () => {
  let remote: XbarNode;
  let local: XbarNode;
  let remotePorts: { ws: number; raw: number };
  let localPort: number;
  const clients: AutobahnClient[] = [];

  before(async () => {
    remotePorts = { ws: await freePort(), raw: await freePort() };
    remote = await startRouter(remotePorts, [], {
      websocket: { auth: { anonymous: { type: 'static', role: 'anonymous', authid: 'monitor' } } },
    });
    localPort = await freePort();
    local = await startRouter({ ws: localPort, raw: await freePort() }, [{
      ...link({ id: 'to_remote', port: remotePorts.raw, rawsocket: true }), excludeAuthid: ['monitor'],
    }]);
    await linksUp(local);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await local.stop();
    await remote.stop();
  });

  it('keeps forwarded events from the excluded authid and gives them to everyone else', async () => {
    const monitor = await client(remotePorts.ws);
    const other = await connectAutobahn('', { rawsocketPort: remotePorts.raw });
    clients.push(monitor, other);
    assert.equal(monitor.details.authid, 'monitor');
    assert.notEqual(other.details.authid, 'monitor');
    const toMonitor: unknown[] = [];
    const toOther: unknown[] = [];
    await monitor.session.subscribe('ex.topic', (args) => void toMonitor.push(args?.[0]));
    await other.session.subscribe('ex.topic', (args) => void toOther.push(args?.[0]));
    const pub = await client(localPort);
    clients.push(pub);
    await subscribers(pub.session, 'ex.topic', 1);
    await pub.session.publish('ex.topic', ['forwarded'], {}, { acknowledge: true });
    await eventually(() => toOther.includes('forwarded'), 'the forwarded event at the other subscriber');
    // The remote router delivered 'forwarded' to all its receivers at once; a publication made
    // there afterwards reaches the monitor after anything it would have got.
    const direct = await client(remotePorts.ws);
    clients.push(direct);
    await direct.session.publish('ex.topic', ['direct'], {}, { acknowledge: true, exclude_me: true });
    await eventually(() => toMonitor.includes('direct'), 'the direct event at the monitor');
    assert.deepEqual(toMonitor, ['direct']);
  });
});
