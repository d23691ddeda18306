/**
 * A start that cannot happen is one line on stderr naming the cause and the key or address, and
 * an exit code other than 0 — no log record, no stack trace.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'xbar-start-errors-'));

function routerConfig(transport: object): object {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
      transports: [transport],
    }],
  };
}

function oneLine(stderr: string, stdout: string): string {
  assert.doesNotMatch(stderr + stdout, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(stderr, /"level"/, 'no JSON log record on stderr');
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0]!;
}

describe('xbar start failures', () => {
  let busy: net.Server;
  let port: number;
  before(async () => {
    busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    port = (busy.address() as net.AddressInfo).port;
  });
  after(() => busy.close());

  it('a port in use (embedded default): names the transport and address, and how to move it', async () => {
    const r = await runCli(['start', '--port', String(port)]);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr, r.stdout),
      `xbar: could not start: transport transport001 cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens there) (start it elsewhere with --port N or --listen HOST:PORT)`);
  });

  it('a port in use (config file): names the transport id and address', async () => {
    const file = path.join(dir, 'busy.json');
    writeFileSync(file, JSON.stringify(routerConfig({ type: 'websocket', id: 'ws_public', endpoint: { type: 'tcp', interface: '127.0.0.1', port } })));
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr, r.stdout), `xbar: could not start: transport ws_public cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens there)`);
  });

  it('an unreadable config file', async () => {
    const file = path.join(dir, 'missing.yaml');
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 2);
    assert.equal(oneLine(r.stderr, r.stdout), `xbar: ${file}: cannot read configuration: no such file`);
  });

  it('a TLS key file that holds no key: names its key path and file', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-subj', '/CN=localhost', '-days', '2'], { cwd: dir, stdio: 'ignore' });
    const file = path.join(dir, 'tls.json');
    writeFileSync(file, JSON.stringify(routerConfig({
      type: 'websocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 1, tls: { key: 'server.crt', certificate: 'server.crt' } },
    })));
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr, r.stdout), /^xbar: .*tls\.json: workers\[0\]\.transports\[0\]\.endpoint\.tls\.key: .*server\.crt/);
  });

  it('an unknown key: names its path', async () => {
    const file = path.join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(routerConfig({ type: 'websocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 1 }, optoins: {} })));
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr, r.stdout), /^xbar: .*key\.json: workers\[0\]\.transports\[0\]\.optoins: unknown key/);
  });

  it('--listen and --port are for the embedded default and are checked', async () => {
    const both = await runCli(['start', '--port', '1', '--listen', '127.0.0.1:2']);
    assert.equal(both.code, 2);
    assert.equal(oneLine(both.stderr, both.stdout), 'xbar: give --listen or --port, not both');
    const bad = await runCli(['start', '--port', '80a']);
    assert.equal(oneLine(bad.stderr, bad.stdout), 'xbar: --port: expected a port number 0-65535, got "80a"');
    const withConfig = await runCli(['start', '--port', '1', '--config', path.join(dir, 'x.json')]);
    assert.equal(oneLine(withConfig.stderr, withConfig.stdout), 'xbar: --listen and --port change the embedded default; with --config, set the endpoint in the file');
  });
});
