/**
 * WebSocket, every serializer: bad input gets ABORT wamp.error.protocol_violation with a
 * human-readable details.message, then the connection closes; oversize frames get close 1009; a
 * refused subprotocol gets HTTP 400 naming the supported ones; a client that never says HELLO is
 * aborted after helloTimeout. Meanwhile a healthy Autobahn pair on the same node keeps receiving
 * every event.
 */
import { after, before, afterEach, describe, it } from 'node:test';
import { MessageType } from '../../../src/wamp/codes.js';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { type SerializerName, SERIALIZERS } from '../../helpers/clients.js';
import { type TestNode, startNode } from '../../helpers/node.js';
import { CLIENT_ROLES, Code, RawWsClient, halfOpenClient, refusedUpgrade, resetAfter } from '../../helpers/raw-wamp.js';
import { seededRandom } from '../../helpers/wamp-samples.js';
import { HealthyPair, serverConnections } from './support.js';
import { eventually } from '../../helpers/eventually.js';

const MAX_MESSAGE = 64 * 1024;
// Long enough for the healthy clients to join on a loaded machine (300 ms timed out an
// Autobahn|JS client in a suite run at load 19), short enough to wait out.
const HELLO_TIMEOUT = 2000;
const HELLO = [Code.HELLO, 'realm1', { roles: CLIENT_ROLES }];
/** Anonymous logins, and ticket ones (answered with a CHALLENGE, so the session waits for AUTHENTICATE). */
const AUTH = {
  anonymous: { type: 'static', role: 'anonymous' },
  ticket: { type: 'static', principals: new Map([['joe', { ticket: 'secret', role: 'anonymous' }]]) },
} as const;
const TICKET_HELLO = [Code.HELLO, 'realm1', { roles: CLIENT_ROLES, authmethods: ['ticket'], authid: 'joe' }];

let t: TestNode;
let healthy: HealthyPair;

before(async () => {
  t = await startNode({ session: { maxMessageSize: MAX_MESSAGE, helloTimeout: HELLO_TIMEOUT, auth: AUTH } });
  healthy = await HealthyPair.start(t.wsUrl);
  healthy.startPump();
});

// Each case ends with proof that the healthy pair still works right now.
afterEach(() => healthy.probe());

after(async () => {
  await healthy.stopPump();
  healthy.assertComplete();
  await eventually(() => t.node.router.connectionCount === 2, 'only the healthy pair to remain');
  await healthy.close();
  await t.stop();
});

async function open(serializer: SerializerName, hello = false): Promise<RawWsClient> {
  const c = await RawWsClient.open(t.wsUrl, { serializer });
  if (hello) await c.hello();
  return c;
}

/** Asserts ABORT wamp.error.protocol_violation whose message matches, then a normal close. */
async function assertAborted(c: RawWsClient, message: RegExp): Promise<void> {
  const a = await c.expectAbort();
  assert.equal(a.reason, 'wamp.error.protocol_violation');
  assert.equal(typeof a.message, 'string');
  assert.match(a.message as string, message);
  assert.equal(a.ended.code, 1000);
}

function randomBytes(seed: number, n: number): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
}

for (const serializer of SERIALIZERS) {
  const binary = serializer !== 'json';

  describe(`WebSocket wamp.2.${serializer}: garbage ends only the sender's session`, () => {
    it('aborts a message of random bytes', async () => {
      const c = await open(serializer);
      // 0xc1 is never valid MessagePack and 0xff never starts a CBOR item: the bytes cannot decode.
      c.sendBytes(Buffer.concat([Buffer.from([binary ? (serializer === 'msgpack' ? 0xc1 : 0xff) : 0x00]), randomBytes(serializer.length, 200)]), true);
      await assertAborted(c, binary ? /^could not decode message: malformed (MessagePack|CBOR) message/ : /^could not decode message: binary frame on a wamp\.2\.json connection$/);
    });

    if (binary) {
      it('aborts a truncated message', async () => {
        const c = await open(serializer);
        const whole = c.serializer.encode([Code.HELLO, 'realm1', { roles: CLIENT_ROLES, authid: 'x'.repeat(50) }]);
        c.sendBytes(whole.subarray(0, Math.floor(whole.length / 2)), true);
        await assertAborted(c, /^could not decode message: malformed (MessagePack|CBOR) message/);
      });

      it('aborts a text frame', async () => {
        const c = await open(serializer);
        c.sendBytes(JSON.stringify(HELLO), false);
        await assertAborted(c, new RegExp(`^could not decode message: text frame on a wamp\\.2\\.${serializer} connection$`));
      });
    } else {
      it('aborts text that is not JSON', async () => {
        const c = await open(serializer);
        c.sendBytes('[1, "realm1", {"roles": ', false);
        await assertAborted(c, /^could not decode message: malformed JSON message: /);
      });

      it('aborts JSON with a "\\u0000" string that is not base64 (the binary rule)', async () => {
        const c = await open(serializer);
        c.sendBytes('[1, "realm1", {"roles": {"caller": {}}, "authextra": "\\u0000@@@"}]', false);
        await assertAborted(c, /^could not decode message: .*not valid base64/);
      });

      it('fails the WebSocket with close code 1007 for a text frame that is not UTF-8 (RFC 6455 §8.1)', async () => {
        const c = await open(serializer);
        c.sendBytes(Buffer.from([0x5b, 0x31, 0x2c, 0xff, 0xfe, 0x5d]), false);
        const ended = await c.ended;
        assert.equal(ended.code, 1007);
        assert.deepEqual(c.received, []);
      });
    }

    it('aborts a message that is not a list', async () => {
      const c = await open(serializer);
      c.send({ hello: 'realm1' } as unknown as unknown[]);
      await assertAborted(c, /^message must be an array, got a dict$/);
    });

    it('aborts a message sent before HELLO', async () => {
      const c = await open(serializer);
      c.send([Code.SUBSCRIBE, 1, {}, 'com.example.topic']);
      await assertAborted(c, /^received SUBSCRIBE before HELLO$/);
    });

    it('aborts a second HELLO on an established session', async () => {
      const c = await open(serializer, true);
      c.send(HELLO);
      await assertAborted(c, /^received HELLO on an established session$/);
    });

    it('answers pipelined anonymous HELLOs as Crossbar.io does: WELCOME to the first (decided at once), ABORT for the second', async () => {
      const c = await open(serializer);
      c.sendTogether([HELLO, HELLO]);
      await assertAborted(c, /^received HELLO on an established session$/);
      assert.deepEqual(c.received.map((m) => m[0]), [Code.WELCOME, Code.ABORT]);
    });

    it('aborts a second HELLO sent while a ticket login waits for AUTHENTICATE', async () => {
      const c = await open(serializer);
      c.sendTogether([TICKET_HELLO, HELLO]);
      await assertAborted(c, /^received HELLO while authenticating$/);
      assert.deepEqual(c.received.map((m) => m[0]), [MessageType.CHALLENGE, Code.ABORT]);
    });

    it('aborts an unknown message type, before and after HELLO', async () => {
      const before = await open(serializer);
      before.send([99, 1, {}]);
      await assertAborted(before, /^unknown message type 99$/);
      const afterHello = await open(serializer, true);
      afterHello.send([7, {}]);
      await assertAborted(afterHello, /^unknown message type 7$/);
    });

    it('aborts a message a client may not send (EVENT) on an established session', async () => {
      const c = await open(serializer, true);
      c.send([Code.EVENT, 1, 2, {}]);
      await assertAborted(c, /^a client may not send EVENT$/);
    });

    it('aborts a malformed message that names the field', async () => {
      const c = await open(serializer, true);
      c.send([Code.PUBLISH, 0, {}, 'com.example.topic']);
      await assertAborted(c, /^'Request' in PUBLISH: expected an integer ID in \[1, 2\^53\], got 0$/);
    });

    it(`closes with 1009 a frame over maxMessageSize (${MAX_MESSAGE} bytes)`, async () => {
      const c = await open(serializer, true);
      c.send([Code.PUBLISH, 1, {}, healthy.topic, ['x'.repeat(MAX_MESSAGE)]]);
      const ended = await c.ended;
      assert.equal(ended.code, 1009);
    });
  });
}

describe('WebSocket: the opening handshake', () => {
  it('refuses an upgrade without a subprotocol with HTTP 400 naming the supported ones', async () => {
    const r = await refusedUpgrade(t.wsUrl, []);
    assert.equal(r.status, 400);
    assert.match(r.body, /No WebSocket subprotocol offered/);
    for (const s of SERIALIZERS) assert.ok(r.body.includes(`wamp.2.${s}`), r.body);
  });

  it('refuses an unknown subprotocol with HTTP 400 naming it and the supported ones', async () => {
    const r = await refusedUpgrade(t.wsUrl, ['wamp.2.ubjson', 'mqtt']);
    assert.equal(r.status, 400);
    assert.match(r.body, /Unsupported WebSocket subprotocol wamp\.2\.ubjson, mqtt/);
    for (const s of SERIALIZERS) assert.ok(r.body.includes(`wamp.2.${s}`), r.body);
  });

  it('closes its side of a refused upgrade itself, even if the client keeps its own open', async () => {
    const port = Number(new URL(t.wsUrl).port);
    await onlyHealthyConnections(port);
    const c = halfOpenClient(port, Buffer.from(upgradeRequest()));
    await c.gotEnd;
    assert.match(Buffer.concat(c.received).toString(), /^HTTP\/1\.1 400 Bad Request\r\n/);
    // Before the fix the socket stayed half-open on the router for as long as the client liked.
    await onlyHealthyConnections(port);
    c.socket.destroy();
  });

  it('survives peers that reset the connection during or right after the upgrade', async () => {
    const port = Number(new URL(t.wsUrl).port);
    const requests = [upgradeRequest(), upgradeRequest('wamp.2.json'), upgradeRequest('wamp.2.json').slice(0, 40), 'GET /nowhere HTTP/1.1\r\n\r\n'];
    for (let round = 0; round < 5; round++) {
      await Promise.all(requests.map((r) => resetAfter(port, Buffer.from(r))));
    }
    await onlyHealthyConnections(port);
  });

  it('picks the first supported subprotocol the client offers', async () => {
    const c = await RawWsClient.open(t.wsUrl, { protocols: ['wamp.2.ubjson', 'wamp.2.cbor', 'wamp.2.json'], serializer: 'cbor' });
    assert.equal(c.ws.protocol, 'wamp.2.cbor');
    await c.hello();
    await c.goodbye();
  });

  it(`aborts with wamp.error.timeout a client that never sends HELLO, after helloTimeout (${HELLO_TIMEOUT} ms)`, async () => {
    const c = await RawWsClient.open(t.wsUrl);
    const a = await c.expectAbort(HELLO_TIMEOUT + 5000);
    assert.equal(a.reason, 'wamp.error.timeout');
    assert.match(a.message as string, new RegExp(`opening handshake not completed within ${HELLO_TIMEOUT} ms`));
    assert.equal(a.ended.code, 1000);
  });
});

/** Waits until the web listener holds only the healthy pair's two sockets. */
function onlyHealthyConnections(port: number): Promise<true> {
  return eventually(async () => (await serverConnections(t.node, port)) === 2, 'the web listener to hold only the healthy pair');
}

/** A WebSocket upgrade request for /ws, offering `protocol` if given. */
function upgradeRequest(protocol?: string): string {
  return [
    'GET /ws HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13',
    ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []), '', '',
  ].join('\r\n');
}
