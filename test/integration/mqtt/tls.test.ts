/**
 * MQTT over TLS with client certificates as the `tls` authmethod, configured as a Crossbar.io
 * document (`options.auth.tls` of the `mqtt` transport, `endpoint.tls` with `ca_certificates`):
 * mqtt.js and mosquitto_sub are identified by their certificate; a client without one is refused
 * in the TLS handshake.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { ALLOW_ALL, makeCertificates, realm, startDoc, tcp, type AuthNode, type Certificates } from '../auth/support.js';

describe('MQTT over TLS', () => {
  let certs: Certificates;
  let n: AuthNode;

  before(async () => {
    certs = makeCertificates();
    n = await startDoc(
      {
        realms: [realm('realm1', { device: [ALLOW_ALL] })],
        transports: [{
          type: 'mqtt',
          endpoint: tcp({ key: 'server.key', certificate: 'server.crt', ca_certificates: ['test-ca.crt'] }),
          options: { realm: 'realm1', auth: { tls: { type: 'static', principals: { client1: { 'certificate-sha1': certs.clientSha1, role: 'device' } } } } },
        }],
      },
      { dir: certs.dir },
    );
  });
  after(async () => {
    await n.stop();
    certs.cleanup();
  });

  const sessionOf = () => [...n.node.router.realm('realm1')!.sessions.values()].find((s) => s.conn.peer.transport === 'mqtt');

  it('identifies mqtt.js by its client certificate', async () => {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${n.ports[0]}`, {
      ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), rejectUnauthorized: false, reconnectPeriod: 0,
    });
    const s = sessionOf();
    assert.deepEqual([s?.authid, s?.authrole, s?.identity?.authmethod], ['client1', 'device', 'tls']);
    await c.endAsync();
  });

  it('identifies mosquitto_sub by its client certificate', async () => {
    const p = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(n.ports[0]), '--cafile', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey, '--insecure', '-t', 'tls/t', '-E'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    assert.equal(code, 0, err);
  });

  it('refuses a client without a certificate in the TLS handshake', async () => {
    await assert.rejects(mqtt.connectAsync(`mqtts://127.0.0.1:${n.ports[0]}`, { ca: readFileSync(certs.ca), rejectUnauthorized: false, reconnectPeriod: 0, connectTimeout: 5000 }));
    assert.equal(sessionOf(), undefined);
  });
});
