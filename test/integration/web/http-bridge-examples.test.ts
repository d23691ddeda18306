/**
 * crossbar-examples' `rest/publisher` as it is: its config unchanged (on a free port), and its
 * own Python clients, `publish.py` and `publish_signed.py` (the `crossbarconnect` library, whose
 * signer is Crossbar.io's reference one), run with Debian's /usr/bin/python3. An Autobahn|JS
 * subscriber sees every event they publish.
 *
 * `crossbarconnect` predates Crossbar.io's current publisher: it expects status 202, and
 * Crossbar.io's `PublisherResource` answers 200 (its own tests assert 200), as xbar does; so the
 * client raises after each accepted request with the body it got. The test takes that sentence
 * as the answer: the status and the `{"id": …}` body are in it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type AutobahnClient, connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, NodeDir, startConfigNode } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';

const EXAMPLE = crossbarExample('rest/publisher');
const CROSSBARCONNECT = crossbarExample('rest/needs_cleanup/python/lib');

/** Runs one of the example's scripts against `port`; its stdout and stderr. */
function runExample(script: string, port: number): Promise<{ out: string; err: string }> {
  const source = readFileSync(`${EXAMPLE}/${script}`, 'utf8').replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', ['-c', source], { env: { ...process.env, PYTHONPATH: CROSSBARCONNECT }, timeout: 20_000 }, (_e, out, err) => resolve({ out, err }));
  });
}

describe('crossbar-examples rest/publisher with its own Python clients', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let sub: AutobahnClient;
  const events: { args: unknown[]; kwargs: Record<string, unknown> }[] = [];

  before(async () => {
    t = await startConfigNode(dir, JSON.parse(readFileSync(`${EXAMPLE}/.crossbar/config.json`, 'utf8')));
    sub = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
    await sub.session.subscribe('com.myapp.topic1', (args, kwargs) => events.push({ args: args ?? [], kwargs: kwargs ?? {} }));
  });
  after(async () => {
    await sub?.close();
    await t?.stop();
    dir.remove();
  });

  it('publish_signed.py: the reference signer\'s request is accepted and published once', async () => {
    const before = events.length;
    const { err } = await runExample('publish_signed.py', t.port);
    assert.match(err, /publication request failed 200 \[OK\] - b'\{"id":\d+\}'/);
    await eventually(() => events.length === before + 1, 'the signed event');
    assert.deepEqual(events.at(-1), { args: ['Hello, world!', 23], kwargs: {} });
  });

  it('publish_signed.py with a wrong secret is refused (401) and nothing is published', async () => {
    const before = events.length;
    const source = readFileSync(`${EXAMPLE}/publish_signed.py`, 'utf8');
    assert.ok(source.includes('secret="secret"'));
    const { err } = await new Promise<{ err: string }>((resolve) => {
      execFile('/usr/bin/python3', ['-c', source.replaceAll('127.0.0.1:8080', `127.0.0.1:${t.port}`).replace('secret="secret"', 'secret="guess"')],
        { env: { ...process.env, PYTHONPATH: CROSSBARCONNECT }, timeout: 20_000 }, (_e, _out, e) => resolve({ err: e }));
    });
    assert.match(err, /publication request failed 401 \[Unauthorized\] - b'\{"error":"REST bridge signature secret not valid\.","args":\[\],"kwargs":\{\}\}'/);
    assert.equal(events.length, before);
  });

  it('publish.py: its first, payload-less publish is accepted', async () => {
    const before = events.length;
    const { err } = await runExample('publish.py', t.port);
    // The script stops at its first publish, when the client sees 200 rather than 202.
    assert.match(err, /publication request failed 200 \[OK\] - b'\{"id":\d+\}'/);
    await eventually(() => events.length === before + 1, 'the event');
    assert.deepEqual(events.at(-1), { args: [], kwargs: {} });
  });
});
