/**
 * package.json `main` names a module that exists after the build and exports what its comment
 * promises: a node started from a config text, in process, on a free loopback port.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { freePort } from '../helpers/ports.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('the package entry point', () => {
  it('is package.json main, and starts and stops a node from a config text', async () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
    const api = (await import(pathToFileURL(path.join(root, pkg.main)).href)) as typeof import('../../src/index.js');
    const port = await freePort();
    const config = api.parseConfigText(JSON.stringify({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }] }],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port } }],
      }],
    }), 'json', 'inline');
    const node = new api.XbarNode(config, { logger: pino({ level: 'silent' }) });
    await node.start();
    try {
      assert.ok(node.addresses.some((a) => a.address === `127.0.0.1:${port}`), JSON.stringify(node.addresses));
      const client = await api.LocalClient.join(node.router, 'realm1', { authid: 'me', authrole: 'anonymous' });
      await client.register('com.example.add', (args) => ({ args: [(args?.[0] as number) + (args?.[1] as number)] }));
      assert.deepEqual((await client.call('com.example.add', [2, 3])).args, [5]);
    } finally {
      await node.stop();
    }
  });
});
