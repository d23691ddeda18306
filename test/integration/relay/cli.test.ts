import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseListen } from '../../../src/cli/relay.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, startCli, XBAR_BIN } from '../../helpers/cli.js';
import { connectAutobahn } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';
import { Client, refusal } from './support.js';

/** Starts `xbar relay …` and resolves once it logs that it started. */
function startRelayCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; exited: Promise<number | null>; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XBAR_BIN, 'relay', ...args], { env: { ...process.env, XBAR_LISTEN: undefined, ...env } });
    let out = '';
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`xbar relay did not start within 15 s: ${out}`));
    }, 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('xbar relay started')) {
        clearTimeout(timer);
        resolve({ child, exited, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`xbar relay exited early (${code}): ${out}`));
    });
  });
}

describe('xbar relay (command line)', () => {
  it('serves the relay at the root of --listen, like practable crossbar, and stops on SIGTERM', async () => {
    const port = await freePort();
    const relay = await startRelayCli(['--listen', `127.0.0.1:${port}`]);
    try {
      assert.match(relay.output(), new RegExp(`"url":"ws://127\\.0\\.0\\.1:${port}/"`));
      const a = await Client.open(`ws://127.0.0.1:${port}/expt`);
      const b = await Client.open(`ws://127.0.0.1:${port}/expt`);
      const out = await Client.open(`ws://127.0.0.1:${port}/out/demo`);
      const inn = await Client.open(`ws://127.0.0.1:${port}/in/demo`);
      await a.send('typed in one terminal');
      await inn.send('video frame');
      assert.deepEqual((await b.waitFor(1)).map((m) => m.data.toString()), ['typed in one terminal']);
      assert.deepEqual((await out.waitFor(1)).map((m) => m.data.toString()), ['video frame']);
      const page = await fetch(`http://127.0.0.1:${port}/stats`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /xbar relay stats/);
      // No WAMP here: /ws is just a topic.
      const ws = await Client.open(`ws://127.0.0.1:${port}/ws`);
      await Promise.all([a, b, out, inn, ws].map((c) => c.close()));
    } finally {
      relay.child.kill('SIGTERM');
    }
    assert.equal(await relay.exited, 0);
  });

  it('takes the address from XBAR_LISTEN (as CROSSBAR_LISTEN), and --listen wins over it', async () => {
    const port = await freePort();
    const relay = await startRelayCli([], { XBAR_LISTEN: `127.0.0.1:${port}` });
    try {
      await (await Client.open(`ws://127.0.0.1:${port}/expt`)).close();
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
    const other = await freePort();
    const both = await startRelayCli(['--listen', `127.0.0.1:${other}`], { XBAR_LISTEN: `127.0.0.1:${port}` });
    try {
      await (await Client.open(`ws://127.0.0.1:${other}/expt`)).close();
    } finally {
      both.child.kill('SIGTERM');
      await both.exited;
    }
  });

  it('requires tokens when given a secret (XBAR_SECRET)', async () => {
    const port = await freePort();
    const relay = await startRelayCli(['--listen', `127.0.0.1:${port}`], { XBAR_SECRET: 'cli-secret-0123456789' });
    try {
      assert.equal((await refusal(`ws://127.0.0.1:${port}/expt`)).status, 401);
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
  });

  it('refuses a bad --listen with exit code 2 and a clear message, and a busy port with exit code 1', async () => {
    const bad = await runCli(['relay', '--listen', 'localhost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /listen address "localhost": expected <host>:<port>/);
    const port = await freePort();
    const first = await startRelayCli(['--listen', `127.0.0.1:${port}`]);
    try {
      const busy = await runCli(['relay', '--listen', `127.0.0.1:${port}`]);
      assert.equal(busy.code, 1);
      assert.equal(busy.stderr, `xbar relay: could not start: transport relay cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens there)\n`);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  });

  it('xbar start mounts a relay path from a YAML config beside WAMP, bridged to its realm', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'xbar-relay-cli-'));
    const file = path.join(dir, 'node.yaml');
    writeFileSync(file, [
      'version: 2',
      'workers:',
      '  - type: router',
      '    realms:',
      '      - name: lab',
      '        roles:',
      '          - name: anonymous',
      '            permissions: [{uri: "", match: prefix, allow: {publish: true, subscribe: true}}]',
      '    transports:',
      '      - type: web',
      `        endpoint: {type: tcp, interface: 127.0.0.1, port: ${port}}`,
      '        paths:',
      '          ws: {type: websocket}',
      '          relay:',
      '            type: relay',
      '            queue_messages: 64',
      '            bridge: {realm: lab, prefix: lab.relay}',
      '',
    ].join('\n'));
    const { child, exited } = await startCli(['--config', file]);
    try {
      const wamp = await connectAutobahn(`ws://127.0.0.1:${port}/ws`, { realm: 'lab' });
      const events: unknown[] = [];
      await wamp.session.subscribe('lab.relay.out.cam', (args) => void events.push(args[0]));
      const cam = await Client.open(`ws://127.0.0.1:${port}/relay/in/cam`);
      const viewer = await Client.open(`ws://127.0.0.1:${port}/relay/out/cam`);
      await cam.send('frame');
      await viewer.waitFor(1);
      await wamp.session.publish('lab.relay.in.cam', ['from wamp'], {}, { acknowledge: true });
      await viewer.waitFor(2);
      assert.deepEqual(viewer.texts(), ['frame', 'from wamp']);
      assert.deepEqual(events, ['frame']);
      await Promise.all([cam.close(), viewer.close(), wamp.close()]);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal((await exited).code, 0);
  });

  it('xbar check reports relay config problems with their key paths', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xbar-relay-check-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({
      version: 2,
      workers: [{
        type: 'router',
        transports: [{ type: 'web', endpoint: { type: 'tcp', port: 8089 }, paths: { '/': { type: 'relay', queue_lenght: 5, bridge: { realm: 'none', prefix: 'x' } } } }],
      }],
    }));
    const r = await runCli(['check', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /workers\[0\]\.transports\[0\]\.paths\["\/"\]\.queue_lenght: unknown key; allowed: type, tokens/);
  });

  it('reads listen addresses as practable does', () => {
    assert.deepEqual(parseListen('127.0.0.1:8089'), { host: '127.0.0.1', port: 8089 });
    assert.deepEqual(parseListen(':8089'), { host: '0.0.0.0', port: 8089 });
    assert.deepEqual(parseListen('[::1]:8089'), { host: '::1', port: 8089 });
    assert.deepEqual(parseListen('8089'), { host: '0.0.0.0', port: 8089 });
    assert.throws(() => parseListen('127.0.0.1:99999'), /expected <host>:<port>/);
  });
});
