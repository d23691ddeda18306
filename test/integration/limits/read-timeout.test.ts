/**
 * `read_timeout` (issue 11 item 4): a joined session may not hold a partial frame — and the
 * router's buffer for it — forever. A frame whose first bytes arrived must be whole within the
 * timeout (here 300 ms; default 60 s), else the connection is closed (1008, the reason names the
 * key) and counted in /metrics; other sessions go on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { CloseCode } from '../../../src/connection/close-codes.js';
import { eventually } from '../../helpers/eventually.js';
import { type TestNode, startNode } from '../../helpers/node.js';
import { RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import { HealthyPair } from '../robustness/support.js';

const READ_TIMEOUT = 300;
const REASON = `a frame did not arrive whole within ${READ_TIMEOUT} ms (read_timeout)`;

let t: TestNode;
let healthy: HealthyPair;

before(async () => {
  t = await startNode({ session: { readTimeout: READ_TIMEOUT } });
  healthy = await HealthyPair.start(t.wsUrl);
});

after(async () => {
  await healthy.close();
  await t.stop();
});

const timeouts = () => t.node.outBudget.refusalCounts().find((r) => r.limit === 'read_timeout')?.count ?? 0;

describe('read_timeout: a frame that started arriving must arrive whole', () => {
  it('RawSocket: a session announcing a 16 MiB message and sending 1 KiB of it is closed', async () => {
    const before = timeouts();
    const c = await RawSocketClient.open(t.rawPort);
    const session = t.node.router.realm('realm1')!.sessions.get(await c.hello())!;
    // Header: a message of 2^24 - 1 bytes; then a little of it, and nothing more.
    c.writeRaw(Buffer.concat([Buffer.from([0x00, 0xff, 0xff, 0xff]), Buffer.alloc(1024, 0x20)]));
    await c.ended;
    await eventually(() => session.closeCause, 'the session to see the close');
    assert.deepEqual(session.closeCause, { code: CloseCode.policyViolation, reason: REASON, byPeer: false });
    assert.equal(timeouts(), before + 1);
    await healthy.probe();
    healthy.assertComplete();
  });

  it('WebSocket: a session that sends part of a 1 MiB frame is closed', async () => {
    const before = timeouts();
    const c = await RawWsClient.open(t.wsUrl);
    const session = t.node.router.realm('realm1')!.sessions.get(await c.hello())!;
    // A masked text frame announcing 1 MiB (64-bit length), then 1 KiB of it.
    const header = Buffer.alloc(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(1024 * 1024), 2);
    const socket = (c as unknown as { socket: net.Socket }).socket;
    socket.write(Buffer.concat([header, Buffer.alloc(1024, 0x20)]));
    await c.ended;
    await eventually(() => session.closeCause, 'the session to see the close');
    assert.deepEqual(session.closeCause, { code: CloseCode.policyViolation, reason: REASON, byPeer: false });
    assert.equal(timeouts(), before + 1);
    await healthy.probe();
    healthy.assertComplete();
  });

  it('a session that sends whole frames is never closed by it, however long it stays', async () => {
    const c = await RawSocketClient.open(t.rawPort);
    const id = await c.hello();
    const before = timeouts();
    // Whole messages, then idle for longer than the timeout (the healthy pair's round trips measure it).
    await c.subscribe('read.timeout.idle');
    const started = Date.now();
    await eventually(async () => {
      await healthy.probe();
      return Date.now() - started > 3 * READ_TIMEOUT;
    }, 'three timeouts to pass', 10_000);
    assert.ok(t.node.router.realm('realm1')!.sessions.has(id));
    assert.equal(timeouts(), before);
    await c.goodbye();
  });
});
