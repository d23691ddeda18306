/**
 * Joining a cluster, as an operator meets it: a node started before NATS waits for it (a log line
 * per attempt, local clients served, /health/ready 503 until it joins), gives up after
 * `cluster.nats.connect_timeout` with the URL and the fix, refuses a NATS without JetStream, and
 * is called by its configured name — refusing to join where a live node has that name. Real
 * nats-server and xbar processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, XBAR_BIN } from '../helpers/cli.js';
import { connectAutobahn } from '../helpers/clients.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { freePort } from '../helpers/ports.js';
import { spawnGroup } from '../helpers/process-group.js';
import { nodeConfig } from '../helpers/xbar-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'xbar-startup-'));
let files = 0;

/** A node config file joining `cluster` at `natsUrl` as `name`, and its ports. */
async function nodeFile(name: string, natsUrl: string, cluster: string, extra: Record<string, unknown> = {}): Promise<{ file: string; web: number }> {
  const [web, raw] = [await freePort(), await freePort()];
  const doc = nodeConfig(web, raw, { name, natsUrls: [natsUrl], cluster }) as { cluster: { nats: Record<string, unknown> } };
  Object.assign(doc.cluster.nats, extra);
  const file = path.join(dir, `node${++files}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return { file, web };
}

const startNode = (file: string) => spawnGroup(process.execPath, [XBAR_BIN, 'start', '--config', file]);

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /^\s+at /m);
  return lines[0]!;
}

describe('joining a cluster', { timeout: 120_000 }, () => {
  const servers: NatsServer[] = [];
  after(() => stopNats(servers));

  it('started before NATS: retries with a log line per attempt, serves local clients with /health/ready 503, joins when NATS comes', async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const { file, web } = await nodeFile('early', url, `s${process.pid}a`);
    const node = startNode(file);
    try {
      await node.waitFor(new RegExp(`"servers":\\["nats://127\\.0\\.0\\.1:${port}"\\],"attempt":1,"why":"connection refused","retry_in_ms":1000,"msg":"NATS not reachable yet; retrying"`));
      // Meanwhile the listeners serve: local pub/sub works, and readiness says why it is not ready.
      const ready = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${web}/health/ready`).catch(() => undefined);
        return res && { status: res.status, body: await res.text() };
      }, 'the node to answer HTTP while waiting for NATS', 20_000, 50);
      assert.equal(ready.status, 503);
      assert.match(ready.body, new RegExp(`waiting for the NATS backplane \\(nats://127\\.0\\.0\\.1:${port}\\)`));
      const client = await connectAutobahn(`ws://127.0.0.1:${web}/ws`, { realm: 'realm1' });
      let got!: (a: unknown[]) => void;
      const event = new Promise<unknown[]>((r) => (got = r));
      await client.session.subscribe('com.local', (args) => got(args));
      // (Not acknowledged: an acknowledgement says the other nodes have it too, which cannot be yet.)
      await client.session.publish('com.local', [1], {}, { exclude_me: false });
      assert.deepEqual(await event, [1]);
      servers.push(...(await startNats(1, { port })));
      await node.waitFor(/"msg":"xbar node started"/);
      assert.match(node.output(), /"msg":"NATS reached"/);
      await eventually(async () => (await fetch(`http://127.0.0.1:${web}/health/ready`)).status === 200, '/health/ready 200 once joined', 20_000, 50);
      await client.close();
    } finally {
      await node.stop('SIGKILL');
    }
  });

  it('gives up after cluster.nats.connect_timeout with one line naming the URL and the fix', async () => {
    const port = await freePort();
    const { file } = await nodeFile('late', `nats://127.0.0.1:${port}`, `s${process.pid}b`, { connect_timeout: 1500 });
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), `xbar: could not start: no NATS server answers at nats://127.0.0.1:${port} (connection refused), for 2 s: start nats-server -js there, or point cluster.nats.servers (or --cluster) at a running one; cluster.nats.connect_timeout says how long to keep trying`);
    assert.match(r.stdout, /"attempt":1,"why":"connection refused"/);
  });

  it('refuses a NATS server without JetStream, saying to start it with -js', async () => {
    const plain = await startNats(1, { jetstream: false });
    servers.push(...plain);
    const { file } = await nodeFile('nojs', plain[0]!.url, `s${process.pid}c`);
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^xbar: could not start: NATS at 127\.0\.0\.1:\d+ has no JetStream: start nats-server with -js/);
  });

  it('is called by its configured name, refuses a second live node of that name, and takes over from one killed -9', async () => {
    const nats = (await startNats(1))[0]!;
    servers.push(nats);
    const cluster = `s${process.pid}d`;
    const first = await nodeFile('x1', nats.url, cluster);
    const a = startNode(first.file);
    try {
      await a.waitFor(/"node":"x1","config":.*"msg":"xbar node started"/);
      const client = await connectAutobahn(`ws://127.0.0.1:${first.web}/ws`, { realm: 'realm1' });
      await client.close();

      const twin = await nodeFile('x1', nats.url, cluster);
      const r = await runCli(['start', '--config', twin.file]);
      assert.equal(r.code, 1);
      assert.equal(oneLine(r.stderr), `xbar: could not start: another live node in cluster "${cluster}" on 127.0.0.1:${nats.port} is named "x1": give each node its own name (cluster.nats.node or --node-name)`);
      assert.equal((await fetch(`http://127.0.0.1:${first.web}/health/ready`)).status, 200, 'the live x1 goes on');

      await a.stop('SIGKILL');
      const again = startNode(twin.file);
      try {
        await again.waitFor(/"node":"x1","config":.*"msg":"xbar node started"/);
        assert.match(again.output(), /the previous node of this name did not leave cleanly/);
      } finally {
        await again.stop('SIGTERM');
      }
    } finally {
      await a.stop('SIGKILL');
    }
  });
});
