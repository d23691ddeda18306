/**
 * RawSocket PINGs cannot take the router's memory (issue 11 items 1 and 2): a PONG counts against
 * the out-buffer bound like any write, and a peer that keeps sending PINGs while not reading its
 * PONGs is closed once they pass the bound — `max_out_buffer` for a joined session,
 * `max_handshake_out_buffer` (256 KiB) before WELCOME. The flooder is a child process
 * (ping-flooder.ts), so this process's RSS is the router's; a healthy Autobahn|JS pair keeps
 * every event meanwhile.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type TestNode, startNode } from '../../helpers/node.js';
import { HealthyPair } from './support.js';

const MiB = 1024 * 1024;
const MAX_OUT_BUFFER = 8 * MiB;
const FLOOD = 128 * MiB;
const FLOODER = fileURLToPath(new URL('./ping-flooder.js', import.meta.url));

let t: TestNode;
let healthy: HealthyPair;

before(async () => {
  t = await startNode({ session: { maxOutBuffer: MAX_OUT_BUFFER } });
  healthy = await HealthyPair.start(t.wsUrl);
});

after(async () => {
  await healthy.close();
  await t.stop();
});

/** Runs the flooder while the healthy pair publishes; returns its report and the RSS growth seen. */
async function flood(mode: 'joined' | 'unjoined'): Promise<{ closed: boolean; pingBytes: number; growth: number }> {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  healthy.startPump();
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [FLOODER, String(t.rawPort), mode, String(FLOOD)], { timeout: 60_000 });
    const r = JSON.parse(stdout) as { closed: boolean; pingBytes: number };
    return { ...r, growth: Math.max(peak, process.memoryUsage().rss) - rss0 };
  } finally {
    clearInterval(sampler);
    await healthy.stopPump();
  }
}

function disconnects(limit: string): number {
  return t.node.outBudget.refusalCounts().find((r) => r.limit === limit && r.action === 'disconnect')?.count ?? 0;
}

describe('RawSocket PING flood', () => {
  it(`a joined session that sends 64 KiB PINGs and never reads is closed at max_out_buffer (${MAX_OUT_BUFFER / MiB} MiB); RSS stays bounded`, { timeout: 90_000 }, async (ctx) => {
    const before = disconnects('max_out_buffer');
    const r = await flood('joined');
    ctx.diagnostic(`closed after ${(r.pingBytes / MiB).toFixed(1)} MiB of PINGs; router RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`);
    assert.ok(r.closed, 'the router closed the flooder');
    assert.ok(r.pingBytes < FLOOD, `closed before the flood was written (${r.pingBytes} bytes)`);
    assert.equal(disconnects('max_out_buffer'), before + 1, 'closed by the out-buffer bound');
    assert.ok(r.growth < MAX_OUT_BUFFER + 48 * MiB, `RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`);
    healthy.assertComplete();
  });

  it('before HELLO the budget is the handshake\'s (256 KiB): the same flood is closed at once', { timeout: 90_000 }, async (ctx) => {
    const before = disconnects('max_handshake_out_buffer');
    const r = await flood('unjoined');
    ctx.diagnostic(`closed after ${(r.pingBytes / MiB).toFixed(1)} MiB of PINGs; router RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`);
    assert.ok(r.closed, 'the router closed the flooder');
    assert.ok(r.pingBytes < 32 * MiB, `closed after ${r.pingBytes} bytes`);
    assert.equal(disconnects('max_handshake_out_buffer'), before + 1, 'closed by the handshake budget');
    assert.ok(r.growth < 48 * MiB, `RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`);
    healthy.assertComplete();
  });
});
