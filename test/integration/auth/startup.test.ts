/**
 * Auth and TLS mistakes stop `xbar start` before it listens, with one line per problem naming its
 * key path, and exit code 2 (the CLI's code for a bad config).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.js';

describe('xbar start with a broken auth or TLS config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'xbar-auth-start-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails at start, naming every key path: unknown method, missing secret, unreadable key file', async () => {
    const file = join(dir, 'node.yaml');
    writeFileSync(file, [
      'version: 2',
      'workers:',
      '  - type: router',
      '    realms: [{name: realm1, roles: [{name: user, permissions: []}]}]',
      '    transports:',
      '      - type: websocket',
      '        endpoint: {type: tcp, port: 18443, tls: {key: keys/server.key, certificate: keys/server.crt}}',
      '        auth:',
      '          kerberos: {type: static}',
      '          wampcra: {type: static, users: {joe: {role: user}}}',
      '',
    ].join('\n'));
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    const out = r.stderr + r.stdout;
    assert.match(out, /workers\[0\]\.transports\[0\]\.auth\.kerberos: unknown key; allowed: anonymous, ticket, wampcra, cryptosign, tls/);
    assert.match(out, /workers\[0\]\.transports\[0\]\.auth\.wampcra\.users\.joe\.secret: missing; expected non-empty string/);
    // Files are read once the document is valid; fix it and the key file is the problem.
    writeFileSync(file, [
      'version: 2',
      'workers:',
      '  - type: router',
      '    realms: [{name: realm1, roles: [{name: user, permissions: []}]}]',
      '    transports:',
      '      - type: websocket',
      '        endpoint: {type: tcp, port: 18443, tls: {key: keys/server.key, certificate: keys/server.crt}}',
      '',
    ].join('\n'));
    const r2 = await runCli(['start', '--config', file]);
    assert.equal(r2.code, 2, r2.stderr + r2.stdout);
    const out2 = r2.stderr + r2.stdout;
    assert.ok(out2.includes(`workers[0].transports[0].endpoint.tls.key: cannot read "${join(dir, 'keys/server.key')}": no such file`), out2);
    assert.ok(out2.includes(`workers[0].transports[0].endpoint.tls.certificate: cannot read "${join(dir, 'keys/server.crt')}": no such file`), out2);
  });
});
