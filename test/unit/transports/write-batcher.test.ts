/**
 * Per-tick write coalescing, on real loopback sockets: the writes of one tick leave in one writev,
 * in order, and a socket's later writes in the same turn of the event loop in one more; corked bytes count in writableLength (the out-buffer guard reads it); end() flushes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { BatchedSocket, WriteBatcher } from '../../../src/transports/write-batcher.js';

interface Pair { client: net.Socket; received: () => Promise<Buffer> }

describe('write batcher', () => {
  let server: net.Server;
  const accepted: net.Socket[] = [];

  before(async () => {
    server = net.createServer((s) => accepted.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((r) => server.close(r));
  });

  /** A connected client socket; `received()` resolves with all the server side read until EOF. */
  async function pair(): Promise<Pair> {
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    const [peer] = (await Promise.all([once(server, 'connection'), once(client, 'connect')]))[0] as [net.Socket];
    const chunks: Buffer[] = [];
    peer.on('data', (c: Buffer) => chunks.push(c));
    const ended = once(peer, 'end');
    return { client, received: async () => (await ended, Buffer.concat(chunks)) };
  }

  /** Counts the system-level writes the stream makes (a single write or a writev each). */
  function countWrites(s: net.Socket): () => number {
    let n = 0;
    const internal = s as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
    for (const k of ['_write', '_writev'] as const) {
      const orig = internal[k].bind(s);
      internal[k] = (...a: unknown[]) => {
        n++;
        orig(...a);
      };
    }
    return () => n;
  }

  it('sends the messages written to a socket in one tick in one writev, in order', async () => {
    const { client, received } = await pair();
    const writes = countWrites(client);
    const batcher = new WriteBatcher();
    const out = new BatchedSocket(client);
    for (let i = 0; i < 100; i++) batcher.write(out, Buffer.from(`${i},`));
    assert.equal(writes(), 0, 'nothing leaves before the end of the tick');
    await new Promise((r) => setImmediate(r));
    assert.equal(writes(), 1);
    client.end();
    assert.equal((await received()).toString(), Array.from({ length: 100 }, (_, i) => `${i},`).join(''));
  });

  it('gives a socket flushed once in a turn of the event loop the rest of that turn\'s writes in one writev at its end', async () => {
    const { client, received } = await pair();
    const writes = countWrites(client);
    const batcher = new WriteBatcher();
    const out = new BatchedSocket(client);
    batcher.write(out, Buffer.from('a'));
    await new Promise((r) => process.nextTick(r));
    assert.equal(writes(), 1, 'the first message leaves at the end of its callback');
    // Later callbacks of the same turn (as reads of other sockets would be).
    for (const c of 'bcd') {
      batcher.write(out, Buffer.from(c));
      await new Promise((r) => process.nextTick(r));
    }
    assert.equal(writes(), 1, 'the rest wait for the end of the turn');
    await new Promise((r) => setImmediate(r));
    assert.equal(writes(), 2);
    // A new turn: its first message leaves at once again.
    batcher.write(out, Buffer.from('e'));
    await new Promise((r) => process.nextTick(r));
    assert.equal(writes(), 3);
    client.end();
    assert.equal((await received()).toString(), 'abcde');
  });

  it('counts corked bytes in writableLength, so the out-buffer guard sees them', async () => {
    const { client, received } = await pair();
    const batcher = new WriteBatcher();
    const out = new BatchedSocket(client);
    batcher.write(out, Buffer.alloc(1000));
    batcher.write(out, Buffer.alloc(500));
    assert.equal(client.writableLength, 1500);
    client.end();
    assert.equal((await received()).length, 1500);
  });

  it('flushes every socket it corked in the tick, and uncorks each once', async () => {
    const a = await pair();
    const b = await pair();
    const batcher = new WriteBatcher();
    const outs = [new BatchedSocket(a.client), new BatchedSocket(b.client)];
    for (let i = 0; i < 10; i++) for (const o of outs) batcher.write(o, Buffer.from('x'));
    assert.deepEqual(outs.map((o) => o.socket.writableCorked), [1, 1]);
    await new Promise((r) => process.nextTick(r));
    assert.deepEqual(outs.map((o) => [o.corked, o.socket.writableCorked]), [[false, 0], [false, 0]]);
    for (const o of outs) o.socket.end();
    assert.deepEqual((await Promise.all([a.received(), b.received()])).map((x) => x.toString()), ['x'.repeat(10), 'x'.repeat(10)]);
  });

  it('lets end() in the same tick flush what is corked (a close sends what was queued first)', async () => {
    const { client, received } = await pair();
    const batcher = new WriteBatcher();
    const out = new BatchedSocket(client);
    batcher.write(out, Buffer.from('goodbye'));
    client.end(Buffer.from('|close'));
    assert.equal((await received()).toString(), 'goodbye|close');
  });

  it("keeps a direct write made meanwhile (ws's ping and close frames) in order", async () => {
    const { client, received } = await pair();
    const batcher = new WriteBatcher('immediate');
    const out = new BatchedSocket(client);
    batcher.write(out, Buffer.from('a'));
    client.write(Buffer.from('b'));
    batcher.write(out, Buffer.from('c'));
    await new Promise((r) => setImmediate(r));
    client.end();
    assert.equal((await received()).toString(), 'abc');
  });
});
