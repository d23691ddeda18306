/** The backplane over TLS: nodes trust the NATS server's certificate through cluster.nats.tls.ca. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'nats';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { XbarNode } from '../../src/node.js';
import { makeCertificates, type Certificates } from '../integration/auth/support.js';
import { connectAutobahn } from '../helpers/clients.js';
import { freePort } from '../helpers/ports.js';

describe('cluster backplane over TLS', { timeout: 60_000 }, () => {
  let certs: Certificates;
  let nats: ChildProcess;
  const nodes: XbarNode[] = [];
  let port = 0;

  before(async () => {
    certs = makeCertificates();
    port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'xbar-nats-tls-'));
    nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '--tls', '--tlscert', certs.serverCert, '--tlskey', certs.serverKey], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        const nc = await connect({ servers: `nats://127.0.0.1:${port}`, tls: { caFile: certs.ca }, reconnect: false });
        await (await nc.jetstreamManager()).getAccountInfo();
        await nc.close();
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, { timeout: 30_000 });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nats?.kill('SIGKILL');
    certs?.cleanup();
  });

  it('joins two nodes through a TLS-only NATS server and routes an event between them', async () => {
    for (const name of ['t1', 't2']) {
      const [web, raw] = [await freePort(), await freePort()];
      const config = parseConfig({
        version: 2,
        cluster: { nats: { servers: [`nats://127.0.0.1:${port}`], name: `tls${process.pid}`, node: name, tls: { ca: certs.ca } } },
        workers: [{
          type: 'router',
          realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { publish: true, subscribe: true } }] }] }],
          transports: [
            { type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: web }, paths: { ws: { type: 'websocket' } } },
            { type: 'rawsocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port: raw } },
          ],
        }],
      }, 'test');
      const node = new XbarNode(config, { logger: pino({ level: 'silent' }) });
      await node.start();
      nodes.push(node);
    }
    const sub = await connectAutobahn(`ws://127.0.0.1:${nodes[1]!.port('web')}/ws`);
    const pub = await connectAutobahn(`ws://127.0.0.1:${nodes[0]!.port('web')}/ws`);
    let got!: (v: unknown) => void;
    const received = new Promise((r) => (got = r));
    await sub.session.subscribe('com.tls.hello', (args) => got(args[0]));
    await pub.session.publish('com.tls.hello', ['over tls'], {}, { acknowledge: true });
    assert.equal(await received, 'over tls');
    assert.equal(nodes[0]!.backplane.health(), 'ready');
    await Promise.all([sub.close(), pub.close()]);
  });
});
