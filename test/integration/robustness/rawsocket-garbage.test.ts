/**
 * RawSocket, every serializer: bad input gets ABORT wamp.error.protocol_violation with a
 * human-readable details.message, then the connection closes; oversize frames close the
 * connection; a bad handshake gets the spec's error octet or is cut off; PING gets PONG. Meanwhile
 * a healthy Autobahn pair on the same node keeps receiving every event.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { type SerializerName, SERIALIZERS } from '../../helpers/clients.js';
import { type TestNode, startNode } from '../../helpers/node.js';
import {
  CLIENT_ROLES, Code, RAWSOCKET_FRAME, RawSocketClient, halfOpenClient, resetAfter, tcpExchange,
} from '../../helpers/raw-wamp.js';
import { seededRandom } from '../../helpers/wamp-samples.js';
import { HealthyPair, serverConnections } from './support.js';
import { eventually } from '../../helpers/eventually.js';
import { CloseCode } from '../../../src/connection/close-codes.js';

const MAX_MESSAGE = 64 * 1024;
// Long enough for the healthy clients to join on a loaded machine (300 ms timed out an
// Autobahn|JS client in a suite run at load 19), short enough to wait out.
const HELLO_TIMEOUT = 2000;
const HELLO = [Code.HELLO, 'realm1', { roles: CLIENT_ROLES }];

let t: TestNode;
let healthy: HealthyPair;

before(async () => {
  t = await startNode({ session: { maxMessageSize: MAX_MESSAGE, helloTimeout: HELLO_TIMEOUT } });
  healthy = await HealthyPair.start(t.wsUrl);
  healthy.startPump();
});

afterEach(() => healthy.probe());

after(async () => {
  await healthy.stopPump();
  healthy.assertComplete();
  await eventually(() => t.node.router.connectionCount === 2, 'only the healthy pair to remain');
  await healthy.close();
  await t.stop();
});

async function open(serializer: SerializerName, hello = false): Promise<RawSocketClient> {
  const c = await RawSocketClient.open(t.rawPort, { serializer });
  if (hello) await c.hello();
  return c;
}

async function assertAborted(c: RawSocketClient, message: RegExp): Promise<void> {
  const a = await c.expectAbort();
  assert.equal(a.reason, 'wamp.error.protocol_violation');
  assert.equal(typeof a.message, 'string');
  assert.match(a.message as string, message);
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

for (const serializer of SERIALIZERS) {
  describe(`RawSocket ${serializer}: garbage ends only the sender's session`, () => {
    it('aborts a message of random bytes', async () => {
      const c = await open(serializer);
      const random = seededRandom(0xabc + serializer.length);
      // A first byte no decoder takes (NUL is not JSON, 0xc1 not MessagePack, 0xff not CBOR), then noise.
      const first = { json: 0x00, msgpack: 0xc1, cbor: 0xff }[serializer];
      c.sendBytes(Buffer.from([first, ...Array.from({ length: 300 }, () => Math.floor(random() * 256))]));
      await assertAborted(c, /^could not decode message: (malformed|JSON message is not valid UTF-8)/);
    });

    if (serializer === 'json') {
      it('aborts a message that is not UTF-8', async () => {
        const c = await open(serializer);
        c.sendBytes(Buffer.from([0x5b, 0x31, 0x2c, 0xff, 0xfe, 0x5d]));
        await assertAborted(c, /^could not decode message: JSON message is not valid UTF-8$/);
      });

      it('aborts text that is not JSON', async () => {
        const c = await open(serializer);
        c.sendBytes('[1, "realm1", ');
        await assertAborted(c, /^could not decode message: malformed JSON message: /);
      });
    } else {
      it('aborts a truncated message', async () => {
        const c = await open(serializer);
        const whole = c.serializer.encode([Code.HELLO, 'realm1', { roles: CLIENT_ROLES, authid: 'x'.repeat(50) }]);
        c.sendBytes(whole.subarray(0, whole.length - 7));
        await assertAborted(c, /^could not decode message: malformed (MessagePack|CBOR) message/);
      });

      it('aborts JSON text sent to a binary serializer', async () => {
        const c = await open(serializer);
        c.sendBytes(JSON.stringify(HELLO));
        await assertAborted(c, /^could not decode message: malformed (MessagePack|CBOR) message|^message must be an array/);
      });
    }

    it('aborts a message that is not a list', async () => {
      const c = await open(serializer);
      c.send('HELLO' as unknown as unknown[]);
      await assertAborted(c, /^message must be an array, got string "HELLO"$/);
    });

    it('aborts a message sent before HELLO', async () => {
      const c = await open(serializer);
      c.send([Code.PUBLISH, 1, {}, 'com.example.topic', ['x']]);
      await assertAborted(c, /^received PUBLISH before HELLO$/);
    });

    it('aborts a second HELLO, after WELCOME or before it', async () => {
      const established = await open(serializer, true);
      established.send(HELLO);
      await assertAborted(established, /^received HELLO on an established session$/);
      // Pipelined: an anonymous HELLO is answered at once (as by Crossbar.io), so the second is on an established session.
      const eager = await open(serializer);
      eager.sendTogether([HELLO, HELLO]);
      await assertAborted(eager, /^received HELLO on an established session$/);
    });

    it('aborts an unknown message type', async () => {
      const c = await open(serializer, true);
      c.send([255]);
      await assertAborted(c, /^unknown message type 255$/);
    });

    it('aborts a frame with reserved header bits set, naming them', async () => {
      const c = await open(serializer, true);
      c.sendFrame(0x40 | RAWSOCKET_FRAME.message, c.serializer.encode([Code.GOODBYE, {}, 'wamp.close.close_realm']));
      await assertAborted(c, /^could not decode message: reserved bits set in frame header \(0x40\)$/);
    });

    it('aborts a frame of unknown type', async () => {
      const c = await open(serializer, true);
      c.sendFrame(5, Buffer.from('hi'));
      await assertAborted(c, /^could not decode message: unknown frame type 5$/);
    });

    it(`closes the connection on a frame over maxMessageSize (${MAX_MESSAGE} bytes), before reading its body`, async () => {
      const c = await open(serializer, true);
      // Only the header: the router must not wait for (or buffer) the announced body.
      c.writeRaw(hex('00 010001'));
      await c.ended;
      assert.ok(!c.received.some((m) => m[0] === Code.ABORT), JSON.stringify(c.received));
    });

    it('closes the connection on a PING over 64 KiB, with close code 1002 (protocol error)', async () => {
      const c = await open(serializer);
      const id = await c.hello();
      const session = t.node.router.realm('realm1')!.sessions.get(id)!;
      c.sendFrame(RAWSOCKET_FRAME.ping, Buffer.alloc(65537));
      await c.ended;
      await eventually(() => session.closeCause, 'the session to see the close');
      assert.deepEqual(session.closeCause, { code: CloseCode.protocolError, reason: 'oversize PING/PONG', byPeer: false });
    });

    it('answers PING with a PONG of the same payload, before and after HELLO', async () => {
      const c = await open(serializer);
      const payload = Buffer.from('ping ✓ ' + 'p'.repeat(1000));
      assert.deepEqual(await c.ping(payload), payload);
      await c.hello();
      assert.deepEqual(await c.ping(Buffer.alloc(0)), Buffer.alloc(0));
      await c.goodbye();
    });
  });
}

describe("RawSocket: the client's announced maximum message length", () => {
  it('is never exceeded: a larger EVENT is dropped and counted, the session goes on', async () => {
    // 2^(9+1) = 1 KiB: room for WELCOME (~600 bytes in JSON), not for a 2 KiB event.
    const small = await RawSocketClient.open(t.rawPort, { serializer: 'json', lengthExponent: 1 });
    const id = await small.hello();
    await small.subscribe('com.example.sized');
    const publisher = await RawSocketClient.open(t.rawPort, { serializer: 'cbor' });
    await publisher.hello();
    publisher.publish('com.example.sized', ['x'.repeat(2048)]);
    publisher.publish('com.example.sized', ['small']);
    const event = await small.waitFor((m) => m[0] === Code.EVENT);
    assert.deepEqual(event[4], ['small']);
    assert.equal(t.node.router.realm('realm1')!.sessions.get(id)!.conn.dropped, 1);
    await small.goodbye();
    await publisher.goodbye();
  });

  it('closes the connection rather than send a control message over it', async () => {
    const small = await RawSocketClient.open(t.rawPort, { serializer: 'json', lengthExponent: 1 });
    await small.hello();
    // The ERROR for this CALL repeats the 1,000-byte URI: over 1 KiB.
    small.send([Code.CALL, 1, {}, `com.example.${'p'.repeat(1000)}`]);
    await small.ended;
    assert.ok(!small.received.some((m) => m[0] === Code.ERROR), JSON.stringify(small.received));
  });
});

describe('RawSocket: the opening handshake', () => {
  it('accepts each supported serializer and states the router max length (64 KiB: 0x7_)', async () => {
    for (const [serializer, id] of [['json', 1], ['msgpack', 2], ['cbor', 3]] as const) {
      const c = await RawSocketClient.open(t.rawPort, { serializer });
      assert.deepEqual(c.handshakeReply, Buffer.from([0x7f, 0x70 | id, 0, 0]));
      c.destroy();
    }
  });

  it('answers an unsupported serializer with error 1, then closes', async () => {
    for (const octet of ['f0', 'f4', 'ff', '05']) {
      assert.deepEqual(await tcpExchange(t.rawPort, hex(`7f ${octet} 00 00`)), hex('7f 10 00 00'), octet);
    }
  });

  it('answers non-zero reserved octets with error 3, then closes', async () => {
    assert.deepEqual(await tcpExchange(t.rawPort, hex('7f f1 00 01')), hex('7f 30 00 00'));
    assert.deepEqual(await tcpExchange(t.rawPort, hex('7f f1 ff 00')), hex('7f 30 00 00'));
  });

  it('closes a connection whose first octet is not 0x7F, saying nothing', async () => {
    assert.deepEqual(await tcpExchange(t.rawPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), Buffer.alloc(0));
    assert.deepEqual(await tcpExchange(t.rawPort, hex('00 00 00 00')), Buffer.alloc(0));
  });

  it(`closes a connection that sends nothing after the handshake timeout (${HELLO_TIMEOUT} ms)`, async () => {
    assert.deepEqual(await tcpExchange(t.rawPort, Buffer.alloc(0), HELLO_TIMEOUT + 5000), Buffer.alloc(0));
  });

  it('closes a connection that sends half a handshake, after the timeout', async () => {
    assert.deepEqual(await tcpExchange(t.rawPort, hex('7f f1'), HELLO_TIMEOUT + 5000), Buffer.alloc(0));
  });

  it(`aborts with wamp.error.timeout a client that never sends HELLO, after helloTimeout (${HELLO_TIMEOUT} ms)`, async () => {
    const c = await RawSocketClient.open(t.rawPort);
    const a = await c.expectAbort(HELLO_TIMEOUT + 5000);
    assert.equal(a.reason, 'wamp.error.timeout');
    assert.match(a.message as string, new RegExp(`opening handshake not completed within ${HELLO_TIMEOUT} ms`));
  });

  it('closes its side of a refused handshake itself, even if the client keeps its own open', async () => {
    const clients = [halfOpenClient(t.rawPort, hex('7f f0 00 00')), halfOpenClient(t.rawPort, hex('7f f1 00 01'))];
    for (const c of clients) await c.gotEnd;
    assert.deepEqual(clients.map((c) => Buffer.concat(c.received).toString('hex')), ['7f100000', '7f300000']);
    // Before the fix these sockets stayed half-open on the router for as long as the client liked.
    await eventually(async () => (await serverConnections(t.node, t.rawPort)) === 0, 'the router to drop both sockets');
    for (const c of clients) c.socket.destroy();
  });

  it('survives peers that reset the connection at every step (a refused handshake used to crash the process)', async () => {
    const json = Buffer.from(JSON.stringify(HELLO));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, json.length]), json]);
    const steps = [
      '', '7f', '7ff1', '7ff00000', '7ff10001', '00000000', '7ff10000',
      `7ff10000${frame.toString('hex')}`, `7ff10000${frame.subarray(0, 10).toString('hex')}`, '7ff10000ff000000',
    ];
    for (let round = 0; round < 5; round++) {
      await Promise.all(steps.map((bytes) => resetAfter(t.rawPort, hex(bytes))));
    }
    await eventually(async () => (await serverConnections(t.node, t.rawPort)) === 0, 'the router to drop every reset socket');
  });

  it('takes a handshake and a HELLO that arrive in one segment', async () => {
    const c = await RawSocketClient.open(t.rawPort);
    await c.hello();
    await c.goodbye();
    const json = Buffer.from(JSON.stringify(HELLO));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(json.length);
    // The handshake reply, then one whole frame.
    const reply = await tcpExchangeUntil(Buffer.concat([hex('7f f1 00 00'), header, json]), (b) => b.length >= 8 && b.length >= 8 + b.readUIntBE(5, 3));
    assert.deepEqual(reply.subarray(0, 4), hex('7f 71 00 00'));
    assert.match(reply.subarray(8).toString(), /^\[2,\d+,/);
  });
});

/** Writes `bytes` and resolves with what arrived once `done` holds, then drops the connection. */
function tcpExchangeUntil(bytes: Buffer, done: (b: Buffer) => boolean): Promise<Buffer> {
  const socket = net.connect(t.rawPort, '127.0.0.1');
  let got = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (done(got)) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('connect', () => socket.write(bytes));
  });
}
