/**
 * crossbar-examples' `rest/caller` and `rest/webhooks` as they are: each config unchanged (the
 * test, not the file, puts a free port where it says 8080), the caller's own backend
 * (`backend.AppSession`, a Python router component under the system's Autobahn|Python), and the
 * examples' own clients, `caller/test.py` and `webhooks/webhook.py`, run with Debian's
 * /usr/bin/python3 and python3-requests. The scripts name `http://localhost:8080`; the test points
 * that at the node's free port on 127.0.0.1 and changes nothing else.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';

interface ExampleNode {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Copies crossbar-examples' `rest/<name>` into a temp folder, moves port 8080 to a free one, starts it. */
async function startExample(name: string): Promise<ExampleNode> {
  const root = mkdtempSync(join(tmpdir(), 'xbar-rest-example-'));
  const dir = join(root, name);
  cpSync(crossbarExample(`rest/${name}`), dir, { recursive: true });
  mkdirSync(join(dir, 'web'), { recursive: true }); // the caller's static path names a folder the example lacks
  const port = await freePort();
  const file = join(dir, '.crossbar', 'config.json');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(port)));
  const node = new XbarNode(await loadConfigFile(file), { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  try {
    await node.start();
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return { port, dir, stop: async () => { await node.stop(); rmSync(root, { recursive: true, force: true }); } };
}

/** Runs the example's script with the system Python; its exit code, stdout and stderr. */
function runScript(file: string, port: number): Promise<{ code: number; out: string; err: string }> {
  const source = readFileSync(file, 'utf8');
  assert.ok(source.includes('http://localhost:8080/'), `${file} names http://localhost:8080/`);
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', ['-c', source.replaceAll('http://localhost:8080/', `http://127.0.0.1:${port}/`)], { timeout: 20_000 },
      (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

describe('crossbar-examples rest/caller: test.py (python3-requests) against the example backend', () => {
  let ex: ExampleNode;
  let probe: AutobahnClient;
  before(async () => {
    ex = await startExample('caller');
    probe = await connectAutobahn(`ws://127.0.0.1:${ex.port}/ws`);
    // backend.AppSession registers com.example.add2 once its Python process has joined.
    await eventually(async () => {
      try {
        return (await probe.session.call('com.example.add2', [1, 1])) === 2;
      } catch {
        return false;
      }
    }, 'backend.AppSession to register com.example.add2', 20_000);
  });
  after(async () => {
    await probe?.close();
    await ex?.stop();
  });

  it('prints 5: add2(2, 3) called over the caller path service, answered by the Python backend', async () => {
    const { code, out, err } = await runScript(join(ex.dir, 'test.py'), ex.port);
    assert.equal(code, 0, err);
    assert.equal(out.trim(), '5');
  });
});

describe('crossbar-examples rest/webhooks: webhook.py (python3-requests)', () => {
  let ex: ExampleNode;
  let sub: AutobahnClient;
  const events: unknown[] = [];
  before(async () => {
    ex = await startExample('webhooks');
    sub = await connectAutobahn(`ws://127.0.0.1:${ex.port}/ws`);
    await sub.session.subscribe('com.myapp.topic1', (args) => events.push(args?.[0]));
  });
  after(async () => {
    await sub?.close();
    await ex?.stop();
  });

  it('its POST becomes one event on com.myapp.topic1 with the request body and headers', async () => {
    const { code, err } = await runScript(join(ex.dir, 'webhook.py'), ex.port);
    assert.equal(code, 0, err);
    await eventually(() => events.length === 1, 'the webhook event');
    const event = events[0] as { body: string; headers: Record<string, string[]> };
    assert.equal(event.body, 'HELLO THERE!');
    assert.match(String(event.headers['User-Agent']), /python-requests\//);
    assert.deepEqual(event.headers['Content-Length'], ['12']);
  });
});
