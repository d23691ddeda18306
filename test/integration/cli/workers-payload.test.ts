/**
 * `xbar start --workers 2`: a call between clients on two workers passes through the hub as the
 * clients' bytes — hand-made MessagePack that any re-encoding would change arrives byte for byte in
 * the callee's INVOCATION and the caller's progressive and final RESULT (issue 17 point 6).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startCli } from '../../helpers/cli.js';
import { endsWith, payload, recordBytes, values, withPayload } from '../../helpers/msgpack-payload.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { CLIENT_ROLES, Code, RawWsClient } from '../../helpers/raw-wamp.js';

const INVOCATION = 68;
const YIELD = 70;
const ROLES = { ...CLIENT_ROLES, caller: { features: { progressive_call_results: true } }, callee: { features: { progressive_call_results: true } } };

describe('xbar start --workers 2: call payload bytes between workers', { timeout: 120_000 }, () => {
  let child: ChildProcess;
  let url: string;
  const clients: RawWsClient[] = [];

  before(async () => {
    const port = await freePort();
    url = `ws://127.0.0.1:${port}/ws`;
    ({ child } = await startCli(['--workers', '2', '--port', String(port), '--log-level', 'info']));
    // Both workers up, so that the primary's round robin hands connections to each in turn (while
    // one still starts, every connection goes to the other).
    await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/health`).then((x) => x.json() as Promise<{ workers?: { state: string }[] }>, () => undefined);
      return r?.workers?.length === 2 && r.workers.every((w) => w.state === 'up');
    }, 'both workers up', 30_000, 50);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.goodbye().catch(() => undefined)));
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  /** A msgpack session and its worker's hub slot (`(id − 1) mod 1024`); retried while the workers start. */
  async function join(): Promise<{ client: RawWsClient; slot: number }> {
    for (let i = 0; ; i++) {
      try {
        const client = await RawWsClient.open(url, { serializer: 'msgpack' });
        const id = await client.hello('realm1', { roles: ROLES });
        clients.push(client);
        return { client, slot: (id - 1) % 1024 };
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  it('carries the CALL\'s bytes to the INVOCATION on the other worker and the YIELDs\' back to the RESULTs', async () => {
    const callee = await join();
    let caller = await join();
    // The primary hands connections out in turn: a few joins find the other worker.
    for (let i = 0; caller.slot === callee.slot; i++) {
      assert.ok(i < 20, 'a session on the other worker');
      caller = await join();
    }
    callee.client.send([64, 1, {}, 'com.workers.pass']);
    await callee.client.waitFor((m) => m[0] === 65);
    const inBytes = recordBytes(callee.client);
    const outBytes = recordBytes(caller.client);
    caller.client.sendBytes(withPayload([Code.CALL, 1, { receive_progress: true }, 'com.workers.pass'], payload(1)));
    const inv = await callee.client.waitFor((m) => m[0] === INVOCATION);
    assert.deepEqual(inv.slice(4), values(1));
    endsWith(inBytes, INVOCATION, payload(1), 'INVOCATION');
    callee.client.sendBytes(withPayload([YIELD, inv[1], { progress: true }], payload(2)));
    callee.client.sendBytes(withPayload([YIELD, inv[1], {}], payload(3)));
    const progress = await caller.client.waitFor((m) => m[0] === Code.RESULT);
    const final = await caller.client.waitFor((m) => m[0] === Code.RESULT);
    assert.deepEqual([progress[2], progress.slice(3), final[2], final.slice(3)], [{ progress: true }, values(2), {}, values(3)]);
    endsWith(outBytes, Code.RESULT, payload(2), 'the progressive RESULT');
    endsWith(outBytes, Code.RESULT, payload(3), 'the final RESULT');
  });
});
