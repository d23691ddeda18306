/**
 * examples/cluster/run.sh as written, on free ports: a copy of the folder with every port of its
 * files replaced. "cluster up" comes only once every node answers /health/ready and HAProxy
 * serves, a client then works through HAProxy, and Ctrl-C stops every process.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { connectAutobahn } from '../helpers/clients.js';
import { freePort } from '../helpers/ports.js';
import { spawnGroup } from '../helpers/process-group.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE_PORTS = [14222, 8080, 18081, 18082, 18083, 18091, 18092, 18093, 18101, 18102, 18103];

/** The example folder at `<tmp>/examples/cluster` with its ports moved, beside a link to bin/. */
async function exampleOnFreePorts(): Promise<{ dir: string; port: (example: number) => number }> {
  const top = mkdtempSync(path.join(tmpdir(), 'xbar-example-'));
  const dir = path.join(top, 'examples', 'cluster');
  mkdirSync(dir, { recursive: true });
  symlinkSync(path.join(root, 'bin'), path.join(top, 'bin'));
  const ports = new Map<number, number>();
  for (const p of EXAMPLE_PORTS) ports.set(p, await freePort());
  const source = path.join(root, 'examples', 'cluster');
  for (const name of readdirSync(source)) {
    cpSync(path.join(source, name), path.join(dir, name));
    const text = readFileSync(path.join(dir, name), 'utf8').replace(/\b\d{4,5}\b/g, (p) => String(ports.get(Number(p)) ?? p));
    writeFileSync(path.join(dir, name), text);
  }
  return { dir, port: (p) => ports.get(p)! };
}

describe('examples/cluster/run.sh', { timeout: 120_000 }, () => {
  it('says "cluster up" only when every node is ready and HAProxy serves; Ctrl-C stops it all', async () => {
    const { dir, port } = await exampleOnFreePorts();
    const run = spawnGroup('bash', [path.join(dir, 'run.sh')]);
    try {
      await run.waitFor(/cluster up: /, 90_000);
      for (const ops of [18101, 18102, 18103]) {
        const res = await fetch(`http://127.0.0.1:${port(ops)}/health/ready`);
        assert.equal(res.status, 200, `node at ${ops} is ready when "cluster up" is printed`);
      }
      const client = await connectAutobahn(`ws://127.0.0.1:${port(8080)}/ws`, { realm: 'realm1' });
      assert.ok(Number(await client.session.call('wamp.session.count')) >= 1);
      await client.close();
      // Ctrl-C: the terminal signals the whole foreground group.
      await run.stop('SIGINT');
      for (const ops of [18101, 18102, 18103]) {
        await assert.rejects(fetch(`http://127.0.0.1:${port(ops)}/health`), `node at ${ops} stopped`);
      }
    } finally {
      await run.stop('SIGKILL');
    }
  });
});
