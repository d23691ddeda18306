/**
 * TLS, with certificates made by the `openssl` CLI for the test: wss:// (Autobahn|JS, wampy) and
 * RawSocket over TLS (Autobahn|Python's rss://); cryptosign with `tls-unique` channel binding over
 * TLS 1.2 on both transports, a clear refusal on TLS 1.3, and a signature that ignores the binding
 * failing; client certificates as the `tls` authmethod (and a missing or foreign one refused).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn } from '../../helpers/clients.js';
import {
  ALLOW_ALL, ed25519Pair, makeCertificates, realm, runPython, startDoc, tcp, wampyCryptosign, wampyJoin, withAuth,
  type AuthNode, type Certificates,
} from './support.js';

const device = ed25519Pair();

describe('TLS', () => {
  let certs: Certificates;
  let n: AuthNode;
  let wss: string;
  let rss: string;
  let mtls: string;
  /** RawSocket over TLS limited to TLS 1.2 by the router (`max_version`). */
  let rss12: string;
  let ca: Buffer;

  before(async () => {
    certs = makeCertificates();
    ca = readFileSync(certs.ca);
    const serverTls = { key: 'server.key', certificate: 'server.crt' };
    const auth = {
      anonymous: { type: 'static', role: 'guest' },
      ticket: { type: 'static', principals: { alice: { ticket: 'secret', role: 'guest' } } },
      cryptosign: { type: 'static', principals: { device1: { authorized_keys: [device.pub], role: 'device' } } },
    };
    n = await startDoc(
      {
        realms: [realm('realm1', { guest: [ALLOW_ALL], device: [ALLOW_ALL] })],
        transports: [
          { type: 'web', endpoint: tcp(serverTls), paths: { ws: { type: 'websocket', auth } } },
          { type: 'rawsocket', endpoint: tcp(serverTls), auth },
          {
            type: 'web',
            endpoint: tcp({ ...serverTls, ca_certificates: ['test-ca.crt'] }),
            paths: { ws: { type: 'websocket', auth: { tls: { type: 'static', principals: { client1: { 'certificate-sha1': certs.clientSha1, role: 'device' } } } } } },
          },
          { type: 'rawsocket', endpoint: tcp({ ...serverTls, max_version: 'TLSv1.2' }), auth },
        ],
      },
      { dir: certs.dir },
    );
    wss = `wss://127.0.0.1:${n.ports[0]}/ws`;
    rss = `rss://127.0.0.1:${n.ports[1]}`;
    mtls = `wss://127.0.0.1:${n.ports[2]}/ws`;
    rss12 = `rss://127.0.0.1:${n.ports[3]}`;
  });

  after(async () => {
    await n.stop();
    certs.cleanup();
  });

  describe('wss:// and RawSocket over TLS', () => {
    it('serves Autobahn|JS over wss:// with a ticket', async () => {
      // Autobahn|JS hands `agent` to ws only from a transport entry, not from the top-level url.
      const c = await connectAutobahn(wss, withAuth({
        transports: [{ type: 'websocket', url: wss, agent: new https.Agent({ ca }) }],
        authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'secret',
      }));
      assert.deepEqual([c.details.authid, c.details.authrole], ['alice', 'guest']);
      await c.session.register('com.example.tls', () => 'over TLS');
      assert.equal(await c.session.call('com.example.tls'), 'over TLS');
      await c.close();
    });

    it('serves wampy over wss://', async () => {
      const { client, details } = await wampyJoin(wss, { authmethods: ['ticket'], authid: 'alice', onChallenge: () => 'secret', wsOptions: { ca } });
      assert.equal(details.authrole, 'guest');
      await client.disconnect();
    });

    it('serves Autobahn|Python over RawSocket with TLS (rss://)', async () => {
      const r = await runPython({ url: rss, realm: 'realm1', method: 'ticket', authid: 'alice', ticket: 'secret', cafile: certs.ca });
      assert.deepEqual(r.joined, { realm: 'realm1', authid: 'alice', authrole: 'guest', authmethod: 'ticket', authprovider: 'static' });
    });
  });

  describe('cryptosign channel binding (tls-unique)', () => {
    const bound = { channel_binding: 'tls-unique' };

    it('binds the signature to the TLS 1.2 channel over wss:// (Autobahn|Python)', async () => {
      const r = await runPython({ url: wss, realm: 'realm1', method: 'cryptosign', authid: 'device1', privkey: device.seed, authextra: bound, cafile: certs.ca, tls_max: '1.2' });
      assert.equal(r.joined?.authrole, 'device', JSON.stringify(r));
      assert.equal(r.challenge?.channel_binding, 'tls-unique');
    });

    it('binds the signature to the TLS 1.2 channel over RawSocket (Autobahn|Python on Twisted)', async () => {
      // Twisted's Autobahn binds to the server's Finished message, asyncio's to the client's (RFC 5929).
      const r = await runPython({ url: rss12, realm: 'realm1', method: 'cryptosign', authid: 'device1', privkey: device.seed, authextra: bound, cafile: certs.ca });
      assert.equal(r.joined?.authrole, 'device', JSON.stringify(r));
    });

    it('refuses a signature of the bare challenge when binding was asked for (wampy-cryptosign does not bind)', async () => {
      const e = (await wampyJoin(wss, {
        authmethods: ['cryptosign'], authid: 'device1', authextra: { pubkey: device.pub, ...bound },
        onChallenge: wampyCryptosign.sign(device.seed), wsOptions: { ca, maxVersion: 'TLSv1.2' },
      }).then(() => assert.fail('accepted'), (x: unknown) => x)) as { errorUri: string; details: { message: string } };
      assert.deepEqual([e.errorUri, e.details.message], ['wamp.error.authentication_failed', 'authentication failed']);
    });

    it('refuses binding on TLS 1.3, where tls-unique does not exist, with a clear message', async () => {
      const r = await runPython({ url: wss, realm: 'realm1', method: 'cryptosign', authid: 'device1', privkey: device.seed, authextra: bound, cafile: certs.ca });
      assert.equal(r.aborted?.reason, 'wamp.error.authentication_failed');
      assert.match(String(r.aborted?.message), /not defined for TLSv1\.3.*TLS 1\.2/);
    });

    it('still authenticates without binding on TLS 1.3', async () => {
      const r = await runPython({ url: wss, realm: 'realm1', method: 'cryptosign', authid: 'device1', privkey: device.seed, cafile: certs.ca });
      assert.equal(r.joined?.authrole, 'device');
    });
  });

  describe('client certificates (tls authmethod)', () => {
    it('identifies Autobahn|JS by its certificate', async () => {
      const c = await connectAutobahn(mtls, withAuth({
        authmethods: ['tls'], tlsConfiguration: { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) },
      }));
      assert.deepEqual([c.details.authid, c.details.authrole, c.details.authmethod, c.details.authprovider], ['client1', 'device', 'tls', 'static']);
      await c.close();
    });

    it('identifies Autobahn|Python by its certificate', async () => {
      const r = await runPython({ url: mtls, realm: 'realm1', method: 'tls', cafile: certs.ca, certfile: certs.clientCert, keyfile: certs.clientKey });
      assert.equal(r.joined?.authid, 'client1');
    });

    it('refuses, in the TLS handshake, a client without a certificate or with one from another CA', async () => {
      await assert.rejects(wampyJoin(mtls, { authmethods: ['tls'], wsOptions: { ca } }));
      await assert.rejects(wampyJoin(mtls, {
        authmethods: ['tls'], wsOptions: { ca, cert: readFileSync(certs.strangerCert), key: readFileSync(certs.strangerKey) },
      }));
    });
  });
});
