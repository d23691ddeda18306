/**
 * A realm's `trace` as Crossbar.io treats it: accepted whatever its value and never read (its
 * router's `_trace_traffic` stays off). The crossbar-examples `encryption/cryptobox` node started
 * unchanged with `xbar start --cbdir` (copied to a temp folder; the test swaps port 8080 for a free
 * one in the copy of the config and of the example's clients), the example's Autobahn|Python
 * callee and an Autobahn|JS caller: it serves, says once that `trace` traces nothing, and logs
 * no message traffic; then the example's client1.py makes its end-to-end encrypted calls, errors
 * and publications (cryptobox payload transparency), which client2.py decrypts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli } from '../../helpers/cli.js';
import { connectAutobahn } from '../../helpers/clients.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { DEBIAN_PYTHON } from '../auth/python-client.js';

describe('realm trace', { timeout: 60_000 }, () => {
  it('the cryptobox example unchanged: trace accepted and ignored as by Crossbar.io, with one warning; its client2.py serves an Autobahn|JS caller and its client1.py end to end encrypted', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'xbar-trace-')), 'cryptobox');
    cpSync(crossbarExample('encryption/cryptobox'), dir, { recursive: true });
    const port = await freePort();
    for (const f of ['.crossbar/config.json', 'client1.py', 'client2.py']) {
      writeFileSync(join(dir, f), readFileSync(join(dir, f), 'utf8').replaceAll('8080', String(port)));
    }
    const { child, output, exited } = await startCli(['--cbdir', join(dir, '.crossbar'), '--log-format', 'json']);
    const callee = spawn(DEBIAN_PYTHON, ['-u', 'client2.py'], { cwd: dir });
    let calleeOut = '';
    callee.stdout.on('data', (d: Buffer) => (calleeOut += d.toString()));
    callee.stderr.on('data', (d: Buffer) => (calleeOut += d.toString()));
    try {
      const warnings = output().split('\n').filter((l) => l.includes('configuration warning'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /workers\[0\]\.realms\[0\]\.trace: accepted and ignored, as by Crossbar\.io \(which never reads it\): nothing is traced/);
      await eventually(() => calleeOut.includes('session ready!'), 'client2.py to register', 20_000);
      const caller = await connectAutobahn(`ws://127.0.0.1:${port}`);
      assert.equal(await caller.session.call('com.myapp.add2', [23, 1]), 24);
      await caller.session.publish('com.myapp.hello', ['Counter is at 1'], {}, { acknowledge: true });
      await eventually(() => calleeOut.includes('event received: msg="Counter is at 1"'), 'client2.py to get the event');
      await caller.close();
      // The example's own caller, client1.py: end-to-end encrypted calls, errors and events (cryptobox
      // payload transparency) through the router, which passes the ciphertext on unread.
      const c1 = await new Promise<string>((resolve) => {
        const p = spawn(DEBIAN_PYTHON, ['-u', 'client1.py'], { cwd: dir });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.on('exit', () => resolve(out));
      });
      assert.match(c1, /com\.myapp\.encrypted\.add2 call result: 26/, c1);
      assert.match(c1, /com\.myapp\.encrypted\.failme called with encrypted_error=True - error: ApplicationError\(error=<com\.myapp\.encrypted\.error1>, args=\[\], kwargs=\{'custom1': 23, 'custom2': 'Hello'\}, enc_algo=cryptobox/);
      assert.match(c1, /event published: Publication\(id=\d+, was_encrypted=True\)/);
      assert.match(c1, /done!/);
      await eventually(() => /event received: msg="Counter is at 3", details=EventDetails\(.*topic=<com\.myapp\.encrypted\.hello>.*enc_algo=cryptobox/.test(calleeOut), 'client2.py to decrypt the encrypted events');
      assert.doesNotMatch(output(), /com\.myapp\.(add2|hello)/, 'no message is traced in the log');
    } finally {
      callee.kill('SIGKILL');
      child.kill('SIGINT');
      await exited;
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
